"""Wiring real adapters: the one place that opens the database for a command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import create_engine
from adapters.db.migrate import upgrade
from bot.config import Settings


@asynccontextmanager
async def database(settings: Settings, migrate: bool = True) -> AsyncIterator[AsyncEngine]:
    """An engine on the configured database, migrated to head unless told not to."""
    engine = create_engine(settings.database_url)
    try:
        if migrate:
            await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
