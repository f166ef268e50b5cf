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


def create_engine(url: str | None = None, **kwargs: Any) -> AsyncEngine:
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
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)
