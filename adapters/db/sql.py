"""Small SQL helpers shared by the repositories.

``one_of(column, values)`` is ``column IN (values)`` with the whole list bound as
ONE parameter: a JSON array read by ``json_each`` on SQLite, an array compared
with ``= ANY`` on PostgreSQL.  Why: ``column.in_(list)`` renders one bind per
value, so a statement over 5,000 keys is compiled again for every batch and its
parameters are processed one by one; with a single parameter the statement is
compiled once and cached.  Used on the bulk paths (imports, reconciliation).

``all_rows(conn, select)`` is ``(await conn.execute(select)).all()``, except that
on SQLite the rows come back as one JSON array built by the database.  Why: the
sqlite3 module steps a query row by row, taking Python's lock again for each row
and building its tuple, all while the event loop waits; ``json_group_array`` does
the whole query in one step, without the lock, and ``json.loads`` makes the rows
in C.  5,000 invoices looked up by reference come back a fifth faster, and a
query no longer stalls behind Python code running on another thread.

``mapped_reads(conn)``: for a bulk job on SQLite (a bank import), the database
file is read through a memory map rather than a ``read`` call a page.  Why: an
import of 200,000 lines looks up a quarter of a million invoices scattered over
the file; mapped, SQLite reads those pages in place instead of copying each into
its page cache (measured: loading the candidates took 4.1-4.4 s instead of
5.4-5.9 s).  Only for the job's own connection and only while it runs: a mapped
file that shrinks under another process, or a disk read error, would end the
process with SIGBUS instead of an error (https://sqlite.org/mmap.html), which a
long-running server should not risk for its short statements.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Integer, Select, String, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")


def one_of(column: Any, values: Collection[Any], dialect: str) -> ColumnElement[bool]:
    items = list(values)
    integer = isinstance(column.type, Integer)
    if dialect == "postgresql":
        array = ARRAY(Integer if integer else String)
        return column == any_(bindparam(None, items, type_=array))  # type: ignore[no-any-return]
    encoded = json.dumps([int(v) for v in items] if integer else [str(v) for v in items])
    values_table = func.json_each(bindparam(None, encoded, type_=String))
    return column.in_(select(literal_column("value")).select_from(values_table))  # type: ignore[no-any-return]


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


async def all_rows(conn: AsyncConnection, statement: Select[Any]) -> list[Sequence[Any]]:
    """The rows of ``statement``, as sequences of the values the driver gives.

    On SQLite the values are those of JSON: integers, text, null (dates as the
    ISO text SQLite stores, booleans as 0 or 1); a real number would lose
    nothing either.  See the module docstring.
    """
    if conn.dialect.name != "sqlite":
        return list((await conn.execute(statement)).all())
    inner = statement.subquery()
    packed = select(func.json_group_array(func.json_array(*inner.c)))
    return json.loads((await conn.execute(packed)).scalar_one())  # type: ignore[no-any-return]


MAPPED_BYTES = 1 << 30  # the first GiB of the file; SQLite caps it at about 2 GiB


@asynccontextmanager
async def mapped_reads(conn: AsyncConnection, size: int = MAPPED_BYTES) -> AsyncIterator[None]:
    """SQLite reads ``conn``'s database through a memory map while the block runs
    (see the module docstring); nothing on other databases."""
    if conn.dialect.name != "sqlite":
        yield
        return
    await conn.exec_driver_sql(f"PRAGMA mmap_size={int(size)}")
    try:
        yield
    finally:
        if not conn.closed and not conn.invalidated:
            await conn.exec_driver_sql("PRAGMA mmap_size=0")
