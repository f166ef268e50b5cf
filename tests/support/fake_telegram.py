"""A fake Telegram Bot API server on loopback, following the published HTTP contract.

    POST /bot<token>/<method>      form or JSON parameters
    -> {"ok": true, "result": ...} | {"ok": false, "error_code": 4xx, "description": ...}

Methods: getMe, getUpdates (long polling with offset confirmation), setWebhook,
deleteWebhook, getWebhookInfo, sendMessage, sendDocument, answerCallbackQuery.
python-telegram-bot talks to it through ``base_url`` exactly as it would to
api.telegram.org.

The test side plays Telegram's users:

    fake.text_update(chat_id, "Ik betaal vrijdag")   an update as Telegram would send
    await fake.push(update)                          queued for getUpdates, or POSTed to
                                                     the webhook with its secret header
    await fake.wait_sent(1)                          what the bot sent, in order

As on Telegram: an update stays queued until getUpdates is called with a higher
offset; getUpdates fails with 409 while a webhook is set; a chat in ``blocked``
gets 403 "bot was blocked by the user".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "123456789:TEST-token_for-the-fake-server"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Relance",
    "username": "relance_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "offset",
    "limit",
    "timeout",
    "chat_id",
    "drop_pending_updates",
    "show_alert",
    "max_connections",
}


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.pending: list[dict[str, Any]] = []  # updates not yet confirmed
        self.sent: list[dict[str, Any]] = []  # sendMessage / sendDocument calls
        self.answered: list[str] = []  # callback query ids acknowledged
        self.calls: list[str] = []  # every method called, in order
        self.webhook: dict[str, Any] | None = None
        self.blocked: set[int] = set()
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --------------------------------------------------------------- server

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def stop(self) -> None:
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if not isinstance(value, str):
                params[key] = value  # a file
            elif key in _JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
            else:
                params[key] = value
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls.append(method)
        params = await self._params(request)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        secret = params.get("secret_token")
        if secret is not None and not (1 <= len(str(secret)) <= 256):
            return _error(400, "Bad Request: secret token is invalid")
        self.webhook = {"url": params["url"], "secret_token": secret}
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self.pending.clear()
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending),
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = params.get("offset")
        if offset is not None:
            # Asking from ``offset`` confirms every update below it: Telegram forgets them.
            self.pending = [u for u in self.pending if u["update_id"] >= int(offset)]
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if not self.pending and timeout > 0:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)
        return self.pending[:limit]

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        message = self._bot_message(chat_id, text=str(params["text"]))
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.sent.append(message)
        async with self._changed:
            self._changed.notify_all()
        return message

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        document = params.get("document")
        message = self._bot_message(chat_id, caption=str(params.get("caption") or ""))
        message["document"] = {
            "file_id": f"doc{len(self.sent)}",
            "file_unique_id": f"u{len(self.sent)}",
            "file_name": getattr(document, "filename", "document"),
        }
        self.sent.append(message)
        async with self._changed:
            self._changed.notify_all()
        return message

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self.answered.append(str(params["callback_query_id"]))
        return True

    def _bot_message(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Debtor"},
            "from": BOT_USER,
            **fields,
        }

    # ---------------------------------------------------------- test side

    def text_update(self, chat_id: int, text: str, chat_type: str = "private") -> dict[str, Any]:
        user = {"id": chat_id, "is_bot": False, "first_name": "Debtor", "language_code": "nl"}
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, "first_name": "Debtor"},
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._update_ids), "message": message}

    def callback_update(self, chat_id: int, data: str) -> dict[str, Any]:
        user = {"id": chat_id, "is_bot": False, "first_name": "Debtor"}
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": f"cq{next(self._message_ids)}",
                "from": user,
                "chat_instance": f"ci{chat_id}",
                "data": data,
                "message": self._bot_message(chat_id, text="(the bot's earlier message)"),
            },
        }

    async def push(self, update: dict[str, Any]) -> int:
        """Deliver an update: to the webhook if one is set (returns the HTTP status),
        else into the getUpdates queue (returns 200)."""
        if self.webhook is None:
            self.pending.append(update)
            async with self._changed:
                self._changed.notify_all()
            return 200
        headers = {}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook["url"], json=update, headers=headers) as response,
        ):
            return response.status

    async def wait_sent(self, count: int, within: float = 60.0) -> list[dict[str, Any]]:
        """Wait until the bot has sent ``count`` messages in all; return them."""
        deadline = time.monotonic() + within
        while len(self.sent) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the bot sent {len(self.sent)} messages, expected {count}: "
                    f"{[m.get('text') for m in self.sent]}"
                )
            await asyncio.sleep(0.02)
        return self.sent[:count]

    async def wait_confirmed(self, within: float = 15.0) -> None:
        """Wait until the bot has confirmed (by a later offset) every queued update."""
        deadline = time.monotonic() + within
        while self.pending:
            if time.monotonic() > deadline:
                raise AssertionError(f"updates never confirmed: {self.pending}")
            await asyncio.sleep(0.02)


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )
