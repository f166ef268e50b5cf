"""A conversion computed once per distinct value.

    iso = Memo(date.isoformat)
    iso[date(2026, 3, 10)]          # "2026-03-10", converted the first time only

A bulk import converts millions of fields that take a few hundred distinct values
(dates, the import's own timestamp); a dict look-up costs a fraction of the
conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Memo(dict[Any, Any]):
    def __init__(self, convert: Callable[[Any], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.convert(key)
        return value
