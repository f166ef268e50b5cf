"""Small SQL helpers shared by the repositories.

``one_of(column, values)`` is ``column IN (values)`` with the whole list bound as
ONE parameter: a JSON array read by ``json_each`` on SQLite, an array compared
with ``= ANY`` on PostgreSQL.  Why: ``column.in_(list)`` renders one bind per
value, so a statement over 5,000 keys is compiled again for every batch and its
parameters are processed one by one; with a single parameter the statement is
compiled once and cached.  Used on the bulk paths (imports, reconciliation).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Integer, String, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
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
