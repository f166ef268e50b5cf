"""Opening the database: SQLite by default, PostgreSQL with ``DATABASE_URL``.

    sqlite+aiosqlite:////home/me/.local/share/relance/relance.db   (default)
    postgresql+asyncpg://relance@127.0.0.1:5432/relance            (production)

SQLite gets WAL journaling (readers do not block the writer), foreign keys on and
a busy timeout, set on every new connection because they are per-connection
settings in SQLite, and ``adapters.db.sqlite_driver`` (one trip to aiosqlite's
thread a statement).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.db import sqlite_driver


def default_database_url() -> str:
    folder = Path(user_data_dir("relance"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{folder / 'relance.db'}"


def database_url_from_env() -> str:
    return os.environ.get("DATABASE_URL") or default_database_url()


def normalise_url(url: str) -> str:
    """Accept the URL shapes people paste and give SQLAlchemy its async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///") or url == "sqlite://":
        url = "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str | None = None, *, checkpoint_in_background: bool = False, **kwargs: Any
) -> AsyncEngine:
    """``checkpoint_in_background`` (SQLite, a long-running server): commits never
    copy the WAL into the database themselves; ``checkpoint_forever`` does it.
    Why: a commit made on the event loop's thread (``sqlite_driver.begin_writing``)
    that happens to trigger SQLite's automatic checkpoint would hold the loop for
    the checkpoint's writes and fsyncs (measured: up to 27 ms)."""
    url = normalise_url(url or database_url_from_env())
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if "module" not in kwargs and (module := sqlite_driver.dbapi()) is not None:
            kwargs["module"] = module  # one trip to aiosqlite's thread a statement
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA cache_size=-65536")
            if checkpoint_in_background:
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


async def checkpoint_forever(engine: AsyncEngine, every: float = 1.0) -> None:
    """Copy SQLite's WAL into the database every ``every`` seconds, on a pooled
    connection's own thread, for an engine made with ``checkpoint_in_background``.
    Runs until cancelled.

    First a PASSIVE checkpoint, which waits for no reader or writer and copies
    nearly everything; then a RESTART one, which copies the few pages written
    meanwhile and has the next writer start the WAL file over.  Why both: under
    steady writes a PASSIVE checkpoint alone is never complete when the next
    writer comes, so the WAL is never restarted and grows without end (measured:
    380 MB after 6,000 web-chat messages).  The RESTART holds writers back while it
    runs, so it may wait for readers only briefly (busy timeout 20 ms; if readers
    are in the way it gives up, and the next round tries again)."""
    import asyncio
    import logging

    from sqlalchemy import text

    while True:
        await asyncio.sleep(every)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
                (timeout,) = (await conn.execute(text("PRAGMA busy_timeout"))).one()
                await conn.execute(text("PRAGMA busy_timeout=20"))
                try:
                    await conn.execute(text("PRAGMA wal_checkpoint(RESTART)"))
                finally:
                    await conn.execute(text(f"PRAGMA busy_timeout={int(timeout)}"))
        except Exception:  # a busy or closing database: the next round tries again
            logging.getLogger(__name__).warning("WAL checkpoint failed", exc_info=True)
