"""The one aiohttp application that serves everything on one event loop.

Each area adds its routes from its own module (``ROUTE_MODULES``, each with
``setup(app)``) and opens what it needs in ``app.cleanup_ctx`` so start and stop
happen in a known order: the database first, everything that uses it after.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.runtime import database
from bot.web.keys import ENGINE, SETTINGS

ROUTE_MODULES: tuple[str, ...] = (
    "bot.web.api",
    "bot.web.bank_api",
    "bot.web.nlu_api",
    "bot.web.webchat",
    "bot.web.mollie_webhook",
    "bot.web.portal",  # after mollie_webhook: the pay page uses its payment provider
    "bot.workers",  # after webchat: the channel loops use its conversation service
    "bot.web.console",  # after webchat: staff actions use its conversation service
    "bot.web.home",
)


def create_app(settings: Settings, engine: AsyncEngine | None = None) -> web.Application:
    """The application; with ``engine`` given (tests), it is used as is and not closed."""
    app = web.Application(client_max_size=50 * 1024 * 1024)
    app[SETTINGS] = settings

    async def open_database(app: web.Application) -> AsyncIterator[None]:
        if engine is not None:
            app[ENGINE] = engine
            yield
            return
        async with database(settings, server=True) as opened:
            app[ENGINE] = opened
            yield

    app.cleanup_ctx.append(open_database)
    app.router.add_get("/health", health)
    for name in ROUTE_MODULES:
        importlib.import_module(name).setup(app)
    return app


def event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux, macOS): the same asyncio API with its
    network and scheduling in C, less CPU for each request; asyncio's own loop
    elsewhere, or when ``RELANCE_EVENT_LOOP=asyncio`` asks for it."""
    import os

    if os.environ.get("RELANCE_EVENT_LOOP", "").strip().lower() != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(settings: Settings, **options: Any) -> None:
    """Serve the application until interrupted (``relance serve``); ``options`` go
    to aiohttp's ``run_app``."""
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        loop=event_loop(),
        **options,
    )


async def health(request: web.Request) -> web.Response:
    from sqlalchemy import text

    async with request.app[ENGINE].connect() as connection:
        await connection.execute(text("SELECT 1"))
    return web.json_response({"status": "ok"})
