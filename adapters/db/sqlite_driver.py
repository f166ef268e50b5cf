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


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement runs in one trip; its rows are held here."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: _Connection) -> None:
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
            description, rows, rowcount, lastrowid = await_only(
                self._connection._execute(_run, self._connection._conn, operation, parameters, many)
            )
        except Exception as error:
            adapt._handle_exception(error)
        self._description = description
        self._rows = collections.deque(rows)
        self._rowcount = rowcount
        self._lastrowid = lastrowid


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _Cursor

    def _in_transaction(self) -> bool:
        """Whether SQLite has a transaction open on this connection, asked of SQLite
        itself (``sqlite3_get_autocommit``, safe from any thread) rather than
        tracked here, so statements run on the driver connection directly count."""
        try:
            return bool(self._connection._conn.in_transaction)
        except Exception:  # closed, or not connected: let the real call report it
            return True

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _Connection:
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
