"""Large statement files read in a second process, part by part, while the first
parts are matched (``adapters.db.bank_repo.import_statement_files``).

    with BackgroundStatements(["2026-03-12.xml"]) as reader:
        while (event := await reader.next()) is not None:
            Part(lines, keys)        the next lines of the current statement
            End(source, fmt)         the current statement ends here
            Forget()                 forget the current statement's parts: all its
                                     lines come again (camt.parse_camt's sink)

A file that is not a valid statement raises its ``StatementError`` from ``next``
once the reading process has found it (at the end of that file, as in-process).

Why: reading a 200,000-entry camt.053 costs as much CPU as matching and storing
it; on two cores the two run side by side.  The reading process also computes
each credit's ``search_keys``.  Lines travel as plain tuples (amounts in cents,
dates as ordinals): a pickled dataclass costs several times more to send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.bank import StatementError
from adapters.memo import Memo
from adapters.pipe import Child, serve
from domain.reconciliation import SearchKeys, search_keys
from domain.statement import ParsedStatement, StatementLine

PART = 5000  # lines a message


@dataclass(frozen=True, slots=True)
class Part:
    lines: list[StatementLine]
    keys: list[SearchKeys | None]  # a credit's search keys; None for a debit


@dataclass(frozen=True, slots=True)
class End:
    source: str
    format: str


@dataclass(frozen=True, slots=True)
class Forget:
    pass


Event = Part | End | Forget


def _pack(line: StatementLine) -> tuple[Any, ...]:
    return (
        line.account_iban,
        line.statement,
        line.booking_date.toordinal(),
        line.value_date.toordinal(),
        int(line.amount.scaleb(2)),
        line.currency,
        line.counterparty_name,
        line.counterparty_iban,
        line.structured_reference,
        line.free_text,
        line.bank_reference,
        line.sequence,
        line.counterparty_bic,
        line.end_to_end_id,
        line.transaction_code,
        line.reversal,
        line.source,
        line.identity,
        search_keys(line) if line.amount > 0 else None,
    )


class _Unpack:
    """Packed tuples back into lines, the few distinct dates made once."""

    def __init__(self) -> None:
        self._day = Memo(date.fromordinal)

    def __call__(self, packed: Sequence[tuple[Any, ...]]) -> Part:
        day = self._day
        lines, keys = [], []
        for p in packed:
            line = StatementLine(
                p[0], p[1], day[p[2]], day[p[3]], Decimal(p[4]).scaleb(-2), *p[5:17]
            )
            object.__setattr__(line, "_identity", p[17])  # computed by the reader already
            lines.append(line)
            keys.append(p[18])
        return Part(lines, keys)


def _serve(argv: list[str]) -> None:
    """The reading process: ("part", packed lines) | ("end", source, format) |
    ("forget",) | ("refused", source, where, reason), then None.

    ``argv``: the part size, then each file's path and the name it goes by."""
    from adapters.bank.detect import parse_named_file

    size, *files = argv

    def work(ask: Callable[[], str], send: Callable[[object], None]) -> None:
        part = int(size)

        class Sender:
            def part(self, source: str, lines: Sequence[StatementLine]) -> None:
                send(("part", [_pack(line) for line in lines]))

            def forget(self, source: str) -> None:
                send(("forget",))

            def end(self, statement: ParsedStatement) -> None:
                for start in range(0, len(statement.lines), part):
                    self.part(statement.source, statement.lines[start : start + part])
                send(("end", statement.source, statement.format))

        for path, name in zip(files[::2], files[1::2], strict=True):
            try:
                parse_named_file(path, name, Sender(), part)
            except StatementError as exc:
                send(("refused", exc.source, exc.where, exc.reason))
                return

    serve(work)


class BackgroundStatements(Child):
    """The events of reading ``paths`` in a second process (see the module docstring)."""

    def __init__(
        self,
        paths: Sequence[str | Path],
        part: int = PART,
        names: Sequence[str] | None = None,
    ) -> None:
        """``names``: what the files go by in lines and errors (their paths if None;
        an upload's own file names, say)."""
        named = zip(paths, names or [str(p) for p in paths], strict=True)
        super().__init__(
            __name__,
            [str(part), *(item for path, name in named for item in (str(path), name))],
            what="bank statement reading process",
        )
        self._unpack = _Unpack()

    async def next(self) -> Event | None:
        blob = await asyncio.to_thread(self.receive)
        message: Any = self.load(blob)
        if message is None:
            return None
        kind = message[0]
        if kind == "part":
            return self._unpack(message[1])
        if kind == "end":
            return End(message[1], message[2])
        if kind == "forget":
            return Forget()
        if kind == "refused":
            raise StatementError(*message[1:])
        raise RuntimeError(f"the bank statement reading process sent {kind!r}")
