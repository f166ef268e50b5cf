"""The web chat channel, in the shape of Rasa's REST channel.

    POST /webhooks/rest/webhook
    {"sender": "<session id>", "message": "Je paierai vendredi",
     "metadata": {"message_id": "<client id, makes a retry harmless>"}}
    -> [{"recipient_id": "<session id>", "text": "...",
         "buttons": [{"title": "...", "payload": "/request_payment_plan"}]}]

A session is tied to a debtor by ``/start <token>`` (the pay page does it with the
token of its signed link); until then the agent says nothing about any debt.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.channels.base import InboundMessage
from bot.conversations import Conversations
from bot.errors import UserError
from bot.web.keys import ENGINE, SETTINGS

CONVERSATIONS = web.AppKey("conversations", Conversations)
MAX_TEXT = 4000


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_service)
    app.router.add_post("/webhooks/rest/webhook", rest_webhook)
    app.router.add_post("/webhooks/rest/waiting", waiting)
    app.router.add_post("/webhooks/rest/history", history)


async def _service(app: web.Application) -> AsyncIterator[None]:
    # After the database context (registered earlier), before anything that talks.
    service = Conversations(app[ENGINE], app[SETTINGS])
    app[CONVERSATIONS] = service
    await service.recover()
    yield


async def rest_webhook(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="the body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    sender = str(body.get("sender") or "").strip()
    text = str(body.get("message") or "").strip()
    if not sender or not text:
        raise web.HTTPBadRequest(text="sender and message are required")
    if len(sender) > 128 or len(text) > MAX_TEXT:
        raise web.HTTPBadRequest(text="sender or message too long")
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    message_id = str(body.get("message_id") or metadata.get("message_id") or uuid.uuid4().hex)
    inbound = InboundMessage(
        channel="webchat",
        sender=sender,
        external_id=f"{sender}:{message_id}"[:255],
        text=text,
        received_at=datetime.now(UTC),
    )
    try:
        replies = await request.app[CONVERSATIONS].receive(inbound)
    except UserError as exc:
        raise web.HTTPBadRequest(text=exc.message) from None
    answers = [
        _shaped(
            sender, reply.text, [{"title": c.title, "payload": c.payload} for c in reply.choices]
        )
        for reply in replies
    ]
    # What waited for this session (a staff reply written meanwhile) comes first.
    return web.json_response([*await _waiting(request, sender), *answers])


async def waiting(request: web.Request) -> web.Response:
    """``POST /webhooks/rest/waiting {"sender": "<session id>"}``: what staff (or a
    plan decision) wrote to this web-chat session since the page last asked, in
    the webhook's answer shape; the page asks every few seconds."""
    return web.json_response(await _waiting(request, await _session_of(request)))


async def history(request: web.Request) -> web.Response:
    """``POST /webhooks/rest/history {"sender": "<session id>"}``: the session's last
    messages, oldest first, as ``{"from": "debtor" | "bot", "text": ...}``; a
    reloaded page shows them again (the session id is the page's own secret)."""
    from adapters.db.conversation_repo import webchat_history

    rows = await webchat_history(request.app[ENGINE], await _session_of(request))
    return web.json_response(
        [{"from": "debtor" if r.direction == "in" else "bot", "text": r.text} for r in rows]
    )


async def _session_of(request: web.Request) -> str:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="the body must be JSON") from None
    sender = str(body.get("sender") or "").strip() if isinstance(body, dict) else ""
    if not sender or len(sender) > 128:
        raise web.HTTPBadRequest(text="sender is required")
    return sender


async def _waiting(request: web.Request, sender: str) -> list[dict[str, Any]]:
    from adapters.db.conversation_repo import take_webchat_queue

    rows = await take_webchat_queue(request.app[ENGINE], sender)
    return [_shaped(sender, row.text, json.loads(row.meta or "{}").get("buttons")) for row in rows]


def _shaped(sender: str, text: str, buttons: list[dict[str, str]] | None) -> dict[str, Any]:
    return {"recipient_id": sender, "text": text, **({"buttons": buttons} if buttons else {})}
