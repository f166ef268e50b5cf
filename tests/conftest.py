"""Shared fixtures: databases (SQLite and a real PostgreSQL server), closed network.

PostgreSQL: the session starts a private cluster in a temporary folder as the
``postgres`` user (the server refuses to run as root) on a free loopback port,
and stops it at the end.  ``db_url`` is parametrised over both databases, so
every storage test runs on SQLite and on PostgreSQL.  Set RELANCE_TEST_PG_URL to
use a server you run yourself instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import create_engine
from adapters.db.migrate import upgrade
from tests.pgserver import PostgresServer
from tests.support.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The base URL of a running PostgreSQL server (database ``postgres``)."""
    external = os.environ.get("RELANCE_TEST_PG_URL")
    if external:
        yield external
        return
    server = PostgresServer()
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()


async def _fresh_pg_database(base_url: str) -> str:
    import asyncpg

    name = "t_" + uuid.uuid4().hex[:12]
    dsn = base_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return base_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database: once SQLite, once PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'relance.db'}"
    base = request.getfixturevalue("pg_server")
    return await _fresh_pg_database(base)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a freshly migrated database (both kinds, see ``db_url``)."""
    eng = create_engine(db_url)
    await upgrade(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
async def make_engine(
    request: pytest.FixtureRequest, tmp_path: Path, db_url: str
) -> AsyncIterator[Callable[[], Awaitable[AsyncEngine]]]:
    """More fresh, migrated databases of the kind ``engine`` is on, for a test
    that compares two runs from the same start."""
    base = None if db_url.startswith("sqlite") else request.getfixturevalue("pg_server")
    made: list[AsyncEngine] = []

    async def make() -> AsyncEngine:
        if base is None:
            url = f"sqlite+aiosqlite:///{tmp_path / f'more-{len(made)}.db'}"
        else:
            url = await _fresh_pg_database(base)
        eng = create_engine(url)
        await upgrade(eng)
        made.append(eng)
        return eng

    try:
        yield make
    finally:
        for eng in made:
            await eng.dispose()


@pytest.fixture(autouse=True)
def _closed_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests reach loopback only: any other address fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and address:
            host = str(address[0])
            if not (host.startswith("127.") or host in ("::1", "localhost", "0.0.0.0")):
                raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Telegram Bot API on loopback (``tests.support.fake_telegram``), for
    python-telegram-bot pointed at it with ``base_url``."""
    server = FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
