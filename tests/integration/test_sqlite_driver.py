"""The one-trip aiosqlite adapter behaves as a DBAPI driver must."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from adapters.db import sqlite_driver
from adapters.db.engine import create_engine


@pytest.fixture
async def sqlite(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_the_engine_uses_it(sqlite) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(sqlite.sync_engine.dialect.dbapi, sqlite_driver._DBAPI)


async def test_rows_rowcount_and_lastrowid(sqlite) -> None:  # type: ignore[no-untyped-def]
    async with sqlite.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        returned = await conn.execute(text("INSERT INTO t (name) VALUES ('d') RETURNING id"))
        assert returned.scalar_one() == 4
    async with sqlite.connect() as conn:
        rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [(1, "a"), (2, "b!"), (3, "c!"), (4, "d")]


async def test_a_rolled_back_transaction_leaves_nothing(sqlite) -> None:  # type: ignore[no-untyped-def]
    async def crash() -> None:
        async with sqlite.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('gone')"))
            raise RuntimeError("crash inside the transaction")

    with pytest.raises(RuntimeError):
        await crash()
    async with sqlite.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_a_failed_first_statement_releases_the_write_lock(sqlite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The failing INSERT began a transaction: its rollback must reach SQLite, or the
    connection would go back to the pool holding the write lock."""
    async with sqlite.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))

    async def repeat() -> None:
        async with sqlite.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))

    with pytest.raises(IntegrityError):
        await repeat()
    other = create_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}",
        connect_args={"timeout": 0.5},
    )
    try:
        async with other.begin() as conn:
            await conn.execute(text("PRAGMA busy_timeout=500"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('y')"))
    finally:
        await other.dispose()
    async with sqlite.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["x", "y"]


async def test_writes_on_the_driver_connection_are_committed(sqlite) -> None:  # type: ignore[no-untyped-def]
    """A bulk path may write through aiosqlite itself; SQLAlchemy's commit must still
    reach SQLite (the adapter asks SQLite whether a transaction is open)."""
    async with sqlite.begin() as conn:
        await conn.execute(text("SELECT count(*) FROM t"))  # no transaction open yet
        raw = await conn.get_raw_connection()
        await raw.driver_connection.executemany("INSERT INTO t (name) VALUES (?)", [("r",)])
    other = create_engine(str(sqlite.url))
    try:
        async with other.connect() as conn:
            names = (await conn.execute(text("SELECT name FROM t"))).scalars().all()
    finally:
        await other.dispose()
    assert names == ["r"]


async def test_begin_writing_holds_the_write_lock_until_the_commit(sqlite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")

    async def write_elsewhere() -> None:
        async with other.begin() as blocked:
            await blocked.execute(text("PRAGMA busy_timeout=0"))
            await blocked.execute(text("INSERT INTO t (name) VALUES ('theirs')"))

    try:
        async with sqlite.begin() as conn:
            await sqlite_driver.begin_writing(conn)
            await conn.execute(text("INSERT INTO t (name) VALUES ('mine')"))
            with pytest.raises(OperationalError, match="locked"):
                await write_elsewhere()
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
        async with other.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('theirs')"))
            names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    finally:
        await other.dispose()
    assert names == ["mine", "theirs"]


async def test_begin_writing_rolls_back_on_error(sqlite) -> None:  # type: ignore[no-untyped-def]
    async def fail() -> None:
        async with sqlite.begin() as conn:
            await sqlite_driver.begin_writing(conn)
            await conn.execute(text("INSERT INTO t (name) VALUES ('gone')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('gone')"))  # unique

    with pytest.raises(IntegrityError):
        await fail()
    async with sqlite.begin() as conn:  # the lock was released: writing works at once
        await sqlite_driver.begin_writing(conn)
        await conn.execute(text("INSERT INTO t (name) VALUES ('kept')"))
    async with sqlite.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM t"))).scalars().all() == ["kept"]


async def test_begin_writing_waits_for_another_writer_without_blocking_the_loop(
    sqlite, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """While another connection holds the write lock, begin_writing waits on
    aiosqlite's thread: the event loop goes on, so the other writer can finish
    (were the loop blocked, neither could move until the busy timeout)."""
    import asyncio

    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    holding = asyncio.Event()

    async def first_writer() -> None:
        async with other.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('first')"))
            holding.set()
            await asyncio.sleep(0.3)

    async def second_writer() -> None:
        await holding.wait()
        async with sqlite.begin() as conn:
            await sqlite_driver.begin_writing(conn)
            await conn.execute(text("INSERT INTO t (name) VALUES ('second')"))

    try:
        await asyncio.wait_for(asyncio.gather(first_writer(), second_writer()), timeout=10)
    finally:
        await other.dispose()
    async with sqlite.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["first", "second"]


async def test_begin_writing_does_nothing_on_postgresql(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await sqlite_driver.begin_writing(conn)
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1


async def test_background_checkpoints_copy_the_wal_into_the_database(tmp_path: Path) -> None:
    """With checkpoint_in_background, commits leave the WAL alone and
    checkpoint_forever copies it into the database file on its own."""
    import asyncio
    import contextlib
    import shutil
    import sqlite3

    from adapters.db.engine import checkpoint_forever

    path = tmp_path / "wal.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}", checkpoint_in_background=True)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one() == 0
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
        async with engine.begin() as conn:
            await sqlite_driver.begin_writing(conn)
            await conn.execute(text("INSERT INTO t (name) VALUES ('in the wal')"))

        def main_file_rows() -> list[str]:
            alone = tmp_path / "alone.db"  # the database file without its WAL
            shutil.copyfile(path, alone)
            with sqlite3.connect(alone) as copy:
                try:
                    return [r[0] for r in copy.execute("SELECT name FROM t")]
                except sqlite3.OperationalError:  # not even the table yet
                    return []

        assert main_file_rows() == []
        task = asyncio.create_task(checkpoint_forever(engine, every=0.05))
        await asyncio.sleep(0.5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert main_file_rows() == ["in the wal"]
    finally:
        await engine.dispose()
