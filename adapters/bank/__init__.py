"""Bank statement files: CODA 2.x, ISO 20022 camt.052/053/054, and pain.001 refunds.

    parse_statement_file("2026-03-10.cod")   -> ParsedStatement(format="coda", lines=...)
    parse_statement_file("statements.zip")   -> the lines of every file in the archive

Errors form one small tree:

    StatementError            a file is not a valid statement: ``source``, ``where``
                              (a line number for CODA, an element path for camt) and
                              ``reason``; nothing of that file may be imported
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


class StatementError(ValueError):
    def __init__(self, source: str, where: str, reason: str) -> None:
        self.source = source
        self.where = where
        self.reason = reason
        super().__init__(f"{source}: {where}: {reason}" if where else f"{source}: {reason}")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a statement is read or imported.

    A 200,000-line statement makes a few million objects (lines, invoices,
    decisions, events) and no reference cycle; the collector, set off by the
    allocations alone, walked them again and again: 9 s of a 40 s import.
    Reference counting still frees everything, and the collector is back on after
    (unless it was already off when the outermost of nested pauses began).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


__all__ = ["StatementError", "collector_paused"]
