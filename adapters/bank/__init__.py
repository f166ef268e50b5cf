"""Bank statement files: CODA 2.x, ISO 20022 camt.052/053/054, and pain.001 refunds.

    parse_statement_file("2026-03-10.cod")   -> ParsedStatement(format="coda", lines=...)
    parse_statement_file("statements.zip")   -> the lines of every file in the archive

Errors form one small tree:

    StatementError            a file is not a valid statement: ``source``, ``where``
                              (a line number for CODA, an element path for camt) and
                              ``reason``; nothing of that file may be imported
"""

from __future__ import annotations


class StatementError(ValueError):
    def __init__(self, source: str, where: str, reason: str) -> None:
        self.source = source
        self.where = where
        self.reason = reason
        super().__init__(f"{source}: {where}: {reason}" if where else f"{source}: {reason}")


__all__ = ["StatementError"]
