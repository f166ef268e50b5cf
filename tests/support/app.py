"""The real aiohttp application, served on a free loopback port for a test."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.web.app import create_app
from bot.workers import CHANNEL_OPTIONS, ChannelOptions


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(
    settings: Settings,
    engine: AsyncEngine,
    options: ChannelOptions | None = None,
    port: int | None = None,
) -> AsyncIterator[web.Application]:
    """Start the app (its lifecycle starts the channel workers) and stop it after."""
    port = port or settings.port
    app = create_app(settings, engine=engine)
    app[CHANNEL_OPTIONS] = options or ChannelOptions()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield app
    finally:
        await runner.cleanup()
