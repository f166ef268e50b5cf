"""SQLAlchemy's aiosqlite adapter, with one trip to the database thread a statement.

aiosqlite runs every sqlite3 call on the connection's own thread.  SQLAlchemy's
adapter makes four such calls for one statement (open a cursor, execute, fetch,
close it), and the pool's reset on return makes a rollback call even after a
commit.  Each trip costs the event loop a future, a thread-safe callback and a
wake-up, about 100 µs of CPU: more than SQLite itself needs for the point
queries and single-row writes a conversation turn makes (measured: a one-row
INSERT costs 257 µs on the event loop's thread through the stock adapter, 121 µs
through this one).

Here a statement is one trip: the cursor is opened, executed, read to the end and
closed on the database thread, and the caller gets the description, rows,
rowcount and lastrowid back.  ``commit`` and ``rollback`` skip the trip when
SQLite has no transaction open on the connection.
Server-side cursors (``conn.stream``) keep SQLAlchemy's own adapter.

``begin_writing(conn)`` goes further for short write transactions (a conversation
turn): once the transaction holds SQLite's write lock, its statements run on the
event loop's thread, with no trip at all; see its docstring for why that is safe.

Why not simply the stock adapter: the conversation service makes a dozen
statements a message, and on a 2-core machine those trips were a third of its
time.  Why not sqlite3 on the event loop's thread: a writer from another process
(an import) would block the whole server for as long as SQLite's busy timeout.
This module uses aiosqlite's ``Connection._execute`` (run a function on the
connection's thread), which is what aiosqlite's own methods are built on; if a
future aiosqlite drops it, ``dbapi()`` returns None and the stock adapter is used.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util import EMPTY_DICT, await_only


def _run(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Any, list[Any], int, int | None]:
    """On the database thread: the whole statement, from cursor to close."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


async def _run_here(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Any, list[Any], int, int | None]:
    return _run(connection, operation, parameters, many)


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement runs in one trip; its rows are held here."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # a _Connection
        # No aiosqlite cursor is opened: _run opens and closes its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _async_soft_close(self) -> None:
        return None  # nothing is open on the database thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._go(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._go(operation, seq_of_parameters, many=True)

    def _go(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapt = self._adapt_connection
        try:
            if adapt._inline:  # type: ignore[attr-defined]
                # Still through await_only: SQLAlchemy checks that an async
                # driver awaited; the coroutine finishes without yielding.
                description, rows, rowcount, lastrowid = await_only(
                    _run_here(self._connection._conn, operation, parameters, many)
                )
            else:
                description, rows, rowcount, lastrowid = await_only(
                    self._connection._execute(
                        _run, self._connection._conn, operation, parameters, many
                    )
                )
        except Exception as error:
            adapt._handle_exception(error)
        self._description = description
        self._rows = collections.deque(rows)
        self._rowcount = rowcount
        self._lastrowid = lastrowid


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_inline",)
    _cursor_cls = _Cursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._inline = False  # see begin_writing()

    def _in_transaction(self) -> bool:
        """Whether SQLite has a transaction open on this connection, asked of SQLite
        itself (``sqlite3_get_autocommit``, safe from any thread) rather than
        tracked here, so statements run on the driver connection directly count."""
        try:
            return bool(self._connection._conn.in_transaction)
        except Exception:  # closed, or not connected: let the real call report it
            return True

    def commit(self) -> None:
        if self._end_inline("commit") is None and self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._end_inline("rollback") is None and self._in_transaction():
            super().rollback()

    def _end_inline(self, how: str) -> bool | None:
        """End a begin_writing() transaction here and now: True; None when the
        transaction is not one (the caller goes through aiosqlite's thread)."""
        if not self._inline:
            return None
        self._inline = False
        try:
            getattr(self._connection._conn, how)()
        except Exception as error:
            self._handle_exception(error)
        return True


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        # A write transaction runs on the event loop's thread (begin_writing), the
        # rest on aiosqlite's; never both at once, as SQLAlchemy hands a
        # connection to one task at a time and every trip is awaited.
        kw["check_same_thread"] = False
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter does
        return _Connection(self, await_only(connection))


def dbapi() -> _DBAPI | None:
    """The DBAPI module to give ``create_async_engine(module=...)``, or None to keep
    SQLAlchemy's adapter when this aiosqlite lacks what the fast path needs."""
    import aiosqlite

    if not hasattr(aiosqlite.Connection, "_execute") or not hasattr(aiosqlite.Connection, "_conn"):
        return None
    return _DBAPI(aiosqlite, sqlite3)


async def begin_writing(conn: AsyncConnection) -> None:
    """Start a short write transaction: SQLite's write lock is taken at once
    (``BEGIN IMMEDIATE``: on the event loop's thread when the lock is free, else
    on aiosqlite's thread, where waiting for another connection's lock blocks
    nobody), and from then on, until the commit or rollback,
    the transaction's statements run on the event loop's thread, without a trip.

    Why it is safe: a connection that holds the write lock in WAL mode waits for no
    other connection (readers never block it), so its statements take only
    SQLite's own time, microseconds for the point reads and single-row writes of a
    conversation turn.  Why it matters: a trip to aiosqlite's thread waits for the
    GIL behind whatever the event loop runs for other requests, and the write lock
    is held all that time, so every other writer waits too.  Only for transactions
    of a few small statements; on PostgreSQL (or another SQLite adapter) it does
    nothing.  Call it first, before any statement of the transaction.
    """
    if conn.dialect.name != "sqlite":
        return
    raw = await conn.get_raw_connection()
    adapted = raw.dbapi_connection
    if not isinstance(adapted, _Connection) or adapted._in_transaction():
        return
    if not _try_begin_immediate(adapted._connection._conn):
        await conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits, on aiosqlite's thread
    adapted._inline = True


def _try_begin_immediate(connection: sqlite3.Connection) -> bool:
    """BEGIN IMMEDIATE here and now if the write lock is free (no wait: the busy
    timeout is 0 meanwhile); False if another connection holds it."""
    (timeout,) = connection.execute("PRAGMA busy_timeout").fetchone()
    connection.execute("PRAGMA busy_timeout=0")
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if connection.in_transaction or "locked" not in str(error).lower():
            raise
        return False
    finally:
        connection.execute(f"PRAGMA busy_timeout={int(timeout)}")
    return True
