"""Live updates for open console pages: server-sent events.

    GET /console/events   ->  event: change
                              data: {"messages": 41, "escalations": 7, "audit": 120}

Each connected page gets its own loop that looks at the newest message,
escalation and audit ids once a second (three primary-key lookups) and sends an
event when one moved; the page's script then reloads its live parts.  Polling
the tables rather than a bus in memory means a message stored by another process
(the mail watcher, a second web worker) shows up too.  A comment line every
15 seconds keeps proxies from closing an idle stream; the loops end when the
application shuts down or the session ends (checked every 30 seconds, without
counting as activity: an open page alone does not keep a session alive).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from aiohttp import web

from adapters.db import staff_repo
from bot.web.console.auth import COOKIE
from bot.web.console.queries import latest_ids
from bot.web.keys import ENGINE

STOPPING = web.AppKey("console_events_stopping", asyncio.Event)
POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
SESSION_CHECK_SECONDS = 30.0


async def lifecycle(app: web.Application) -> AsyncIterator[None]:
    app[STOPPING] = asyncio.Event()
    yield


async def _stop(app: web.Application) -> None:
    # on_shutdown runs before the server waits for handlers: open streams end now.
    if STOPPING in app:
        app[STOPPING].set()


def setup_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(_stop)
    app.router.add_get("/console/events", events)


async def events(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    stopping = request.app[STOPPING]
    engine = request.app[ENGINE]
    async with engine.connect() as conn:
        last = await latest_ids(conn)
    await response.write(b"retry: 3000\n\n")
    quiet = 0.0
    since_check = 0.0
    token = request.cookies.get(COOKIE, "")
    try:
        while not stopping.is_set():
            try:
                await asyncio.wait_for(stopping.wait(), timeout=POLL_SECONDS)
                break
            except TimeoutError:
                pass
            since_check += POLL_SECONDS
            async with engine.connect() as conn:
                if since_check >= SESSION_CHECK_SECONDS:
                    since_check = 0.0
                    if not await staff_repo.is_live(conn, token):
                        break  # signed out or idle: the stream ends with the session
                now = await latest_ids(conn)
            if now != last:
                last = now
                quiet = 0.0
                data = json.dumps(dict(zip(("messages", "escalations", "audit"), now, strict=True)))
                await response.write(f"event: change\ndata: {data}\n\n".encode())
            else:
                quiet += POLL_SECONDS
                if quiet >= KEEPALIVE_SECONDS:
                    quiet = 0.0
                    await response.write(b": keep-alive\n\n")
    except ConnectionResetError:  # the page was closed
        pass
    return response
