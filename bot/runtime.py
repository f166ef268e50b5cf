"""Wiring real adapters: the one place that opens the database for a command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import checkpoint_forever, create_engine, is_sqlite, normalise_url
from adapters.db.migrate import upgrade
from bot.config import Settings


@asynccontextmanager
async def database(
    settings: Settings, migrate: bool = True, server: bool = False
) -> AsyncIterator[AsyncEngine]:
    """An engine on the configured database, migrated to head unless told not to.
    A ``server`` on SQLite checkpoints the WAL in the background (see
    ``adapters.db.engine.create_engine``)."""
    background = server and is_sqlite(normalise_url(settings.database_url))
    engine = create_engine(settings.database_url, checkpoint_in_background=background)
    checkpoints: asyncio.Task[None] | None = None
    try:
        if migrate:
            await upgrade(engine)
        if background:
            checkpoints = asyncio.create_task(checkpoint_forever(engine))
        yield engine
    finally:
        if checkpoints is not None:
            checkpoints.cancel()
            with suppress(asyncio.CancelledError):
                await checkpoints
        await engine.dispose()
