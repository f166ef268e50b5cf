"""From read documents to checked batches, in this process or in a second one.

    files --csv_invoices / ubl--> DocumentRow | ParsedDocument | Problem
          --Checker-->            Batch(rows, debtors, problems)     (no database)
          --adapters.db.ledger--> the ledger, in one transaction

The checks that need the whole import but no database happen here: a document
number seen twice, and debtor data that contradicts an earlier line (what a later
line adds about a debtor is merged in).  A ``Batch`` carries each document as a
plain ``LedgerRow`` tuple and, once, the debtor records that are new or changed
since the previous batch.

A large import reads and checks its files in a second process
(``BackgroundReader``): reading and checking a CSV line costs about half the CPU
of writing it, and with two cores the two run side by side.  Batches travel
pickled through a pipe (``adapters.pipe``): the reader is never more than a batch
or two ahead of the writer, so memory stays bounded however large the file.

Once it has opened the ledger, the writer tells the reader which form it wants
(``ask_for``): into an empty SQLite ledger, batches of plain invoices come as the
INSERT's own parameters (``Batch.params``), so the writer does no work per row.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from adapters.imports.records import DebtorRecord, DocumentRow, ParsedDocument
from adapters.memo import Memo
from adapters.pipe import Child, serve
from bot.errors import Problem
from domain.invoice import InvoiceKind

BATCH = 5000
MAX_PROBLEMS = 1000

# LedgerRow: one document as the ledger writes it, a plain tuple (cheap to build
# and to pickle by the million):
#   (number, debtor_code, kind, issue_date, due_date, currency, amount_cents,
#    open_amount_cents | None, structured_reference | None, description,
#    credited_invoice | None, content_hash, source)
LedgerRow = tuple[Any, ...]


@dataclass(slots=True)
class Batch:
    rows: list[LedgerRow] = field(default_factory=list)
    # The debtors of ``rows`` as the import describes them so far (lines merged),
    # when new or changed since an earlier batch carried them.
    debtors: dict[str, DebtorRecord] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0  # problems past MAX_PROBLEMS, counted only
    read: int = 0  # documents and problems consumed (for a progress bar)
    # Instead of ``rows``, when the writer asked for them (``FRESH_SQLITE``) and
    # every row is a plain invoice (no credit note, no credited invoice, no
    # opening balance below its amount): the rows as the parameters of
    # ``adapters.db.ledger``'s INSERT into an empty SQLite ledger, see ``_params``.
    params: list[tuple[Any, ...]] = field(default_factory=list)
    unreferenced: int = 0  # rows of ``params`` without a reference of their own

    @property
    def count(self) -> int:
        return len(self.rows) or len(self.params)

    def __reduce__(self) -> tuple[Any, ...]:
        # Debtor records travel as plain tuples: pickling a NamedTuple goes
        # through Python code for each one (200,000 in a large import).
        debtors = {code: tuple(record) for code, record in self.debtors.items()}
        return (
            _batch,
            (
                self.rows, debtors, self.problems, self.more_problems, self.read,
                self.params, self.unreferenced,
            ),
        )  # fmt: skip


def _batch(
    rows: list[LedgerRow],
    debtors: dict[str, tuple[Any, ...]],
    problems: list[Problem],
    more_problems: int,
    read: int,
    params: list[tuple[Any, ...]],
    unreferenced: int,
) -> Batch:
    records = {code: tuple.__new__(DebtorRecord, fields) for code, fields in debtors.items()}
    return Batch(rows, records, problems, more_problems, read, params, unreferenced)


# What the writer may ask the reading process for (``BackgroundReader.ask_for``).
ROWS = "rows"
FRESH_SQLITE = "fresh-sqlite"


def _params(batch: Batch, checker: Checker, iso: Memo) -> None:
    """Turn a batch's rows into ``params`` if they are all plain invoices.

    A row's parameters are all text or integers, which sqlite3 binds without
    looking for an adapter (a ``None`` or a ``date`` goes through one first):

        (number, debtor ordinal, issue date, due date, currency, amount cents,
         reference or "", k, description, content hash, source)

    The debtor ordinal counts the import's distinct debtors in the order they
    first appear (0, 1, ...), the order in which the writer gives new debtors
    their ids; k is 1, 2, ... for the batch's rows without a reference (the k-th
    takes the k-th OGM the writer reserves for the batch) and 0 for the others.
    """
    rows = batch.rows
    for r in rows:
        if r[2] != _INVOICE or r[10] is not None or (r[7] is not None and r[7] < r[6]):
            return
    debtors, k = checker.debtors, itertools.count(1)
    batch.params = [
        (
            r[0], debtors[r[1]][3], iso[r[3]], iso[r[4]], r[5], r[6],
            r[8] or "", 0 if r[8] else next(k), r[9], r[11], r[12][-300:],
        )
        for r in rows
    ]  # fmt: skip
    batch.unreferenced, batch.rows = next(k) - 1, []


_INVOICE = InvoiceKind.INVOICE.value


class Checker:
    """Duplicate numbers and debtor merges across all the batches of one import."""

    def __init__(self) -> None:
        # Kept compact: a 1,000,000-invoice import holds these in memory.
        self.numbers: set[str] = set()
        # debtor code -> (first place, merged record, the line's record merged
        # last: the next line usually repeats it and then needs no work, and the
        # debtor's ordinal: 0, 1, ... in the order debtors first appear).
        self.debtors: dict[str, tuple[str, DebtorRecord, DebtorRecord, int]] = {}
        self.problem_count = 0

    def _problem(self, batch: Batch, problem: Problem) -> None:
        self.problem_count += 1
        if self.problem_count <= MAX_PROBLEMS:
            batch.problems.append(problem)
        else:
            batch.more_problems += 1

    def check(self, items: Sequence[DocumentRow | ParsedDocument | Problem]) -> Batch:
        batch = Batch(read=len(items))
        rows, send = batch.rows, batch.debtors
        numbers, debtors = self.numbers, self.debtors
        for item in items:
            if type(item) is not DocumentRow:
                if isinstance(item, Problem):
                    self._problem(batch, item)
                    continue
                item = DocumentRow.from_document(item)  # type: ignore[arg-type]
            number = item[0]
            if number in numbers:
                source, where = _place(item[12], "invoice_number", "cbc:ID")
                self._problem(
                    batch,
                    Problem(source, where, f"document {number!r} appears twice in this import"),
                )
                continue
            numbers.add(number)
            code, record = item[1], item[13]
            seen = debtors.get(code)
            if seen is None:
                debtors[code] = (item[12], record, record, len(debtors))
                send[code] = record
            elif seen[2] is not record and seen[1] != record:
                merged = _merge(debtors, seen, item[12], record)
                if isinstance(merged, Problem):
                    self._problem(batch, merged)
                    continue
                if merged is not None:
                    send[code] = merged
            if not self.problem_count:
                rows.append(item[:13])
        if self.problem_count:
            # Nothing will be written any more: later batches only look for problems.
            batch.rows, batch.debtors = [], {}
        return batch


def _place(source: str, column: str, element: str) -> tuple[str, str]:
    """A document's ``source`` ("invoices.csv:12" or "invoice.xml") as a Problem's
    file and place: "line 12, column debtor_code" as the CSV reader says it, or
    the UBL element."""
    name, colon, line = source.rpartition(":")
    if colon and line.isdigit():
        return name, f"line {line}, column {column}"
    return source, element


def _merge(
    debtors: dict[str, tuple[str, DebtorRecord, DebtorRecord, int]],
    seen: tuple[str, DebtorRecord, DebtorRecord, int],
    source: str,
    record: DebtorRecord,
) -> Problem | DebtorRecord | None:
    """Merge what ``record`` adds to the debtor seen before: the new merged record,
    None if it adds nothing, or a Problem if it contradicts."""
    where, known, _last, ordinal = seen
    fields, given = known.given(), record.given()
    conflict = next((k for k, v in given.items() if k in fields and fields[k] != v), None)
    if conflict is not None:
        column = {"name": "debtor_name", "kind": "debtor_kind"}.get(conflict, conflict)
        name, place = _place(source, column, "cac:AccountingCustomerParty")
        return Problem(
            name,
            place,
            f"debtor {record.code}: {conflict} is {given[conflict]!r} here "
            f"but {fields[conflict]!r} at {where}",
        )
    additions = {k: v for k, v in given.items() if k not in fields}
    emails = tuple(dict.fromkeys(known.emails + record.emails))
    ibans = tuple(dict.fromkeys(known.ibans + record.ibans))
    merged = known._replace(**additions, emails=emails, ibans=ibans)
    if merged == known:
        debtors[record.code] = (where, known, record, ordinal)
        return None
    debtors[record.code] = (where, merged, record, ordinal)
    return merged


def check_batches(
    sources: Iterable[tuple[str, Iterable[DocumentRow | ParsedDocument | Problem]]],
    size: int = BATCH,
    checker: Checker | None = None,
) -> Iterator[Batch]:
    """The documents of all sources in checked batches of ``size``."""
    checker = checker or Checker()
    for _name, documents in sources:
        iterator = iter(documents)
        while chunk := list(islice(iterator, size)):
            yield checker.check(chunk)


# ------------------------------------------------------------------ a second process


def _serve(argv: list[str]) -> None:
    """The reading process (``adapters.pipe``): checked batches, then None."""
    from adapters.imports import read_invoice_rows

    payment_terms_days, size, *paths = argv

    def batches(ask: Callable[[], str], send: Callable[[object], None]) -> None:
        sources = [(p, read_invoice_rows(Path(p), int(payment_terms_days))) for p in paths]
        checker, form, iso = Checker(), "", Memo(date.isoformat)
        for batch in check_batches(sources, int(size), checker):
            # The writer says which form it wants once it has opened the ledger;
            # the first batch is read meanwhile.
            form = form or ask() or ROWS
            if form == FRESH_SQLITE and not batch.problems and not checker.problem_count:
                _params(batch, checker, iso)
            send(batch)

    serve(batches)


class BackgroundReader(Child):
    """``check_batches`` over invoice files, computed in a second process.

        with BackgroundReader(paths, 30) as batches:
            for batch in batches: ...

    Leaving the block stops the process if it is still running.
    """

    def __init__(self, paths: Sequence[Path], payment_terms_days: int, size: int = BATCH) -> None:
        super().__init__(
            __name__,
            [str(payment_terms_days), str(size), *(str(p) for p in paths)],
            what="import's reading process",
            failed="reading the import files failed",
        )

    def ask_for(self, form: str) -> None:
        """The form the batches should take (``ROWS`` unless said otherwise);
        said once, before the first batch is read."""
        self.tell(form)

    def __iter__(self) -> Iterator[Batch]:  # type: ignore[override]
        self.ask_for(ROWS)
        yield from super().__iter__()  # type: ignore[misc]
