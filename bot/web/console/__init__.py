"""The credit staff console, on the one aiohttp application under ``/console``.

Server-rendered pages (``templates/console``) with a little JavaScript
(``static/console.js``: live updates over server-sent events, confirmations),
no CDN: everything is served from ``/console/static``.

    auth.py      sign-in, sessions, CSRF, roles
    views.py     pages and actions
    actions.py   what staff do, each with its audit entry
    queries.py   what the pages read
    charts.py    inline SVG charts
    events.py    server-sent events for live pages
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web.console import auth, events, views
from bot.web.console.auth import Handler
from bot.web.console.render import SECURITY_HEADERS

STATIC = Path(__file__).resolve().parent / "static"


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/console"):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    for name, value in SECURITY_HEADERS.items():
        if name == "Cache-Control" and request.path.startswith("/console/static/"):
            continue
        response.headers.setdefault(name, value)
    return response


def setup(app: web.Application) -> None:
    # Headers outermost, so refusals by the guard carry them too.
    app.middlewares.append(security_headers)
    app.middlewares.append(auth.console_guard)
    auth.setup_routes(app)
    events.setup_routes(app)
    views.setup_routes(app)
    app.router.add_static("/console/static/", STATIC, name="console_static")
