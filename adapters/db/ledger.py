"""The receivables ledger in the database: importing invoices and debtors.

Import, in one transaction, all or nothing:

    for each checked batch of 5,000 documents (adapters.imports.pipeline)
        insert the batch's new debtors, update the changed ones
        look its invoice numbers up in one query (skipped on SQLite when the
            ledger had no invoice as the import began)
        insert the new invoices (a generated OGM when the file gave no reference),
        update the changed ones (the old values go to invoice_history),
        count the unchanged ones
    then apply credit notes to the invoices they name
    a single problem anywhere -> every problem is reported, the transaction rolls back

New rows go to the driver as plain tuples (sqlite3 ``executemany``, asyncpg
``COPY``), without SQLAlchemy's per-row parameter processing, which costs several
times what SQLite itself spends on an insert.

On SQLite the import takes the write lock at once (``BEGIN IMMEDIATE``).  Into an
empty invoices table it drops the table's secondary indexes inside its
transaction and creates them again just before committing: sorting a million
rows once per index costs a third of keeping four indexes up to date row by row
at random places (measured: 4 µs against 11 µs an invoice).  Readers meanwhile
see the last committed ledger, indexes included, and a refused import rolls the
indexes back with everything else.

Open amounts are kept by ``adapters.db.allocations``.  An accounting export's own
open amount becomes an ``opening`` allocation of what the source system saw paid that Relance
did not record itself, so a payment both systems know is not counted twice.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.collector import collector_paused
from adapters.db.allocations import apply_allocations, refresh_open_amounts
from adapters.db.schema import (
    allocations,
    counters,
    debtor_emails,
    debtor_ibans,
    debtors,
    invoice_history,
    invoices,
)
from adapters.db.sql import batched, one_of
from adapters.imports.pipeline import (
    BATCH,
    FRESH_SQLITE,
    MAX_PROBLEMS,
    ROWS,
    BackgroundReader,
    Batch,
    LedgerRow,
    check_batches,
)
from adapters.imports.records import (
    DebtorRecord,
    DocumentRow,
    ParsedDocument,
    from_cents,
    language_from_address,
)
from adapters.memo import Memo
from bot.errors import ImportRefused, Problem
from domain.invoice import InvoiceKind, InvoiceStatus
from domain.money import ZERO
from domain.reference import ogm_for_sequence

__all__ = ["BATCH", "ImportSummary", "import_batches", "import_invoices", "upsert_debtor"]

# Enum members are looked up through a descriptor on every access (Python 3.11):
# plain strings on the hot path of a million-row import.
_INVOICE = InvoiceKind.INVOICE.value
_CREDIT_NOTE = InvoiceKind.CREDIT_NOTE.value
_OPEN = InvoiceStatus.OPEN.value
# A first batch of at least this many new invoices into an empty SQLite table
# drops and later rebuilds the table's indexes (see the module docstring).
BULK_ROWS = 1000
BUILD_CACHE_KIB = 256 * 1024  # SQLite page cache while rebuilding them
BULK_CACHE_KIB = 32 * 1024  # and while the file is read


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------- import


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    credit_notes: int = 0
    # What was imported but deserves a look (not part of the contract's object).
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "credit_notes": self.credit_notes,
        }


@dataclass
class _CreditNote:
    number: str
    credited_invoice: str
    source: str


@dataclass
class _ImportState:
    token: str
    now: datetime
    summary: ImportSummary = field(default_factory=ImportSummary)
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0
    credit_notes: list[_CreditNote] = field(default_factory=list)

    def problem(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1


async def import_invoices(
    engine: AsyncEngine,
    sources: Sequence[tuple[str, Iterable[ParsedDocument | DocumentRow | Problem]]],
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import documents from ``(source name, documents)`` pairs, all or nothing.

    Raises ``ImportRefused`` with every problem found (up to 1,000 listed) and
    leaves the ledger untouched when anything is wrong.
    """
    return await import_batches(engine, check_batches(sources), progress)


async def import_batches(
    engine: AsyncEngine,
    batches: Iterable[Batch],
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """``import_invoices`` of batches already checked (``adapters.imports.pipeline``),
    e.g. by a ``BackgroundReader`` in a second process."""
    state = _ImportState(token=uuid.uuid4().hex, now=_now())
    # The import's state only grows (every debtor's id) and makes no reference
    # cycles; the cyclic GC would re-scan it ever more often (-10 % time).
    with collector_paused():
        await _run_import(engine, batches, state, progress)
    return state.summary


async def _run_import(
    engine: AsyncEngine,
    batches: Iterable[Batch],
    state: _ImportState,
    progress: Callable[[int], None] | None,
) -> None:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        writer: _Writer | None = None
        try:
            writer = await _Writer.start(conn, state)
            if isinstance(batches, BackgroundReader):
                batches.ask_for(FRESH_SQLITE if writer.takes_params() else ROWS)
            for batch in batches:
                for problem in batch.problems:
                    state.problem(problem)
                state.more_problems += batch.more_problems
                if not state.problems and batch.count:
                    await writer.write(batch)
                if progress:
                    progress(batch.read)

            if not state.problems:
                await _apply_credit_notes(conn, state)
            if state.problems:
                raise ImportRefused(state.problems, state.more_problems)
            await writer.finish()
            await transaction.commit()
        except BaseException:
            await transaction.rollback()
            raise
        finally:
            if writer is not None and not conn.closed and not conn.invalidated:
                await writer.restore()


def _driver_values(process: Callable[[Any], Any] | None) -> Memo:
    """A column type's bind processing, memoised: dates repeat a lot in a batch
    (the import's own timestamp is on every row) and SQLite's date processors are
    slow.  Without a processor (asyncpg takes dates as they are) values pass as is."""
    if process is None:
        return Memo(lambda value: value)
    return Memo(lambda value: None if value is None else process(value))


class _Writer:
    """Writes one import's batches on one connection, inside its transaction."""

    def __init__(self, conn: AsyncConnection, state: _ImportState) -> None:
        self.conn = conn
        self.state = state
        self.sqlite = conn.dialect.name == "sqlite"
        # Tables that were empty as the import began (SQLite only: the write lock
        # keeps them so); no need to look up what a batch brings.
        self.fresh: set[str] = set()
        self.debtor_ids: dict[str, int] = {}
        self.dropped_indexes: list[str] = []  # CREATE INDEX statements to run again
        self.decided_indexes = False
        self.next_debtor_id = 0
        self.params_base: int | None = None  # the first debtor id (takes_params)
        self.cache_before: int | None = None  # PRAGMA cache_size, when changed
        dialect = conn.dialect
        self.dates = _driver_values(invoices.c.issue_date.type._cached_bind_processor(dialect))
        self.now = _driver_values(invoices.c.created_at.type._cached_bind_processor(dialect))[
            state.now
        ]

    @classmethod
    async def start(cls, conn: AsyncConnection, state: _ImportState) -> _Writer:
        writer = cls(conn, state)
        if writer.sqlite:
            driver = (await conn.get_raw_connection()).driver_connection
            if driver is not None and not driver.in_transaction:
                # The write lock now rather than at the first insert: no other
                # writer can fill a table this import saw empty, or take an id.
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            for table in _BULK_TABLES:
                found = await conn.execute(select(table.c.id).limit(1))
                if found.first() is None:
                    writer.fresh.add(table.name)
            last = await conn.execute(select(func.max(debtors.c.id)))
            writer.next_debtor_id = (last.scalar_one() or 0) + 1
            if {"debtors", "invoices"} <= writer.fresh:
                writer.params_base = writer.next_debtor_id
        return writer

    def _allocate_debtor_ids(self, count: int) -> int:
        """The first of ``count`` new debtor ids (SQLite, under the write lock):
        inserting them explicitly saves reading them back."""
        first = self.next_debtor_id
        self.next_debtor_id += count
        return first

    async def write(self, batch: Batch) -> None:
        if not self.decided_indexes:
            self.decided_indexes = True
            if batch.count >= BULK_ROWS:
                if self.sqlite:
                    # While the file is read, the reading process holds a few
                    # hundred MB; a smaller page cache keeps the two under 500 MB
                    # (a 1,000,000-invoice import was no slower for it).
                    await self._set_cache(BULK_CACHE_KIB)
                for table in _BULK_TABLES:
                    if table.name in self.fresh and table is not debtors:
                        await self._drop_indexes(table.name)
        if batch.debtors:
            self.debtor_ids.update(
                await _upsert_debtors(
                    self.conn,
                    self.state,
                    batch.debtors,
                    known=self.debtor_ids,
                    fresh="debtors" in self.fresh,
                    allocate=self._allocate_debtor_ids if self.sqlite else None,
                )
            )
        if batch.params:
            await self._insert_params(batch)
        else:
            await self._invoices(batch.rows)

    def takes_params(self) -> bool:
        """Whether batches may come as ``Batch.params``: into an empty SQLite
        ledger, where this import gives every debtor its id, in the order the
        debtors first appear, from ``params_base`` on."""
        return self.params_base is not None

    async def _insert_params(self, batch: Batch) -> None:
        """A batch of plain new invoices, its rows bound as the reading process
        made them (see ``pipeline._params``): the writer does no work per row.

        A debtor's id is the first free id plus its ordinal, and an invoice
        without a reference gets the next OGM of the ledger's counter in SQL.
        Why: building the parameter rows here, and unpickling the dates and
        ``None``s they were made from, took the writer as long as SQLite's own
        inserting, while the reading process has the other core.
        """
        base = self.params_base
        if base is None or self.next_debtor_id != base + len(self.debtor_ids):
            raise RuntimeError("debtor ids were not given in the order the reader counted them")
        before = 0
        if batch.unreferenced:
            before = await _reserve_range(self.conn, batch.unreferenced) - 1
        sql = _INSERT_PARAMS.format(
            base=int(base),
            before=int(before),
            status=_sqlite_literal(_OPEN),
            token=_sqlite_literal(self.state.token),
            now=_sqlite_literal(self.now),
        )
        await self.conn.exec_driver_sql(sql, batch.params)
        self.state.summary.created += len(batch.params)

    async def _invoices(self, rows: list[LedgerRow]) -> None:
        conn, state = self.conn, self.state
        summary = state.summary
        existing: dict[str, tuple[int, str]] = {}
        if "invoices" not in self.fresh:
            result = await conn.execute(
                select(invoices.c.number, invoices.c.id, invoices.c.content_hash).where(
                    one_of(invoices.c.number, [r[0] for r in rows], conn.dialect.name)
                )
            )
            existing = {number: (invoice_id, digest) for number, invoice_id, digest in result}
        for row in rows:
            if row[2] == _CREDIT_NOTE:
                summary.credit_notes += 1
                if row[10]:
                    state.credit_notes.append(_CreditNote(row[0], row[10], row[12]))
        new: list[LedgerRow] = rows
        changed: list[tuple[LedgerRow, int]] = []
        if existing:
            new = []
            for row in rows:
                found = existing.get(row[0])
                if found is None:
                    new.append(row)
                elif found[1] == row[11]:
                    summary.unchanged += 1
                else:
                    changed.append((row, found[0]))

        opening = [(r[0], from_cents(r[7])) for r in new if r[7] is not None and r[7] < r[6]]
        if new:
            await self._insert_invoices(new)
            summary.created += len(new)
        if changed:
            await _update_changed(conn, state, changed, self.debtor_ids)
            opening += [(r[0], from_cents(r[7])) for r, _id in changed if r[7] is not None]
        if opening:
            await _apply_opening_balances(conn, opening)

    async def _insert_invoices(self, new: list[LedgerRow]) -> None:
        state = self.state
        # Invoices without a reference get a fresh OGM; credit notes are not paid
        # by the debtor, so they get none.
        wanted = sum(1 for r in new if r[8] is None and r[2] == _INVOICE)
        references = iter(await _reserve_references(self.conn, wanted))
        ids, dates = self.debtor_ids, self.dates
        values = [
            (
                number,
                ids[code],
                kind,
                dates[issue],
                dates[due],
                currency,
                amount,
                amount,
                reference or (next(references) if kind == _INVOICE else ""),
                description,
                credited,
                content_hash,
                source[-300:],
            )
            for (
                number,
                code,
                kind,
                issue,
                due,
                currency,
                amount,
                _open_amount,
                reference,
                description,
                credited,
                content_hash,
                source,
            ) in new
        ]
        # What every new invoice of this import shares goes into the statement
        # once instead of with each row.
        await _insert_rows(
            self.conn,
            invoices,
            _NEW_INVOICE_COLUMNS,
            values,
            {
                "status": _OPEN,
                "import_token": state.token,
                "created_at": self.now,
                "updated_at": self.now,
            },
        )

    async def _drop_indexes(self, table: str) -> None:
        result = await self.conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = :table AND sql IS NOT NULL"
            ),
            {"table": table},
        )
        for name, sql in result.all():
            if name in _APPENDED_INDEXES:
                continue
            await self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
            self.dropped_indexes.append(sql)

    async def finish(self) -> None:
        """Before the commit: the indexes dropped for the bulk insert, built again."""
        if not self.dropped_indexes:
            return
        # Each CREATE INDEX reads the whole table: with room for it in the page
        # cache (the reading process has ended, its memory is free) only the
        # first one reads it back from the file (-20 % time at 1,000,000 rows).
        # SQLite's sorter may use helper threads (stock builds allow up to 8): the
        # reading process has ended, so the other cores are free (-10 % time for
        # the whole first import of 1,000,000 rows on 2 cores).
        helpers = min(8, os.cpu_count() or 1)
        await self._set_cache(BUILD_CACHE_KIB)
        await self.conn.exec_driver_sql(f"PRAGMA threads = {helpers}")
        try:
            for sql in self.dropped_indexes:
                await self.conn.exec_driver_sql(sql)
        finally:
            await self.conn.exec_driver_sql("PRAGMA threads = 0")
        self.dropped_indexes = []

    async def _set_cache(self, kib: int) -> None:
        if self.cache_before is None:
            found = await self.conn.exec_driver_sql("PRAGMA cache_size")
            self.cache_before = int(found.scalar_one())
        await self.conn.exec_driver_sql(f"PRAGMA cache_size = {-kib}")

    async def restore(self) -> None:
        """The connection's page cache as it was (it goes back to the pool)."""
        if self.cache_before is not None:
            await self.conn.exec_driver_sql(f"PRAGMA cache_size = {self.cache_before}")
            self.cache_before = None


# Tables a large import fills: when empty at its start, their secondary indexes
# are built once at the end (not the debtors': only its unique code index, which
# SQLite cannot drop and the import needs).
_BULK_TABLES = (debtors, invoices, debtor_emails, debtor_ibans)
# Kept up to date row by row even then: new invoices mostly get the next OGMs of
# the ledger's counter, so their entries go at the end of this index, cheaper
# than building it again (and the time is spent while the file is still read).
_APPENDED_INDEXES = {
    index.name
    for index in invoices.indexes
    if [column.name for column in index.columns] == ["structured_reference"]
}

# ``_Writer._insert_params``: the parameters are ``pipeline._params``'s (number,
# debtor ordinal, issue date, due date, currency, amount, reference or "", k,
# description, content hash, source).  The k-th invoice without a reference gets
# the OGM of the counter's value ``before`` the batch + k: ogm_for_sequence's
# arithmetic (a test compares them).
_INSERT_PARAMS = (
    "INSERT INTO invoices (number, debtor_id, kind, issue_date, due_date, currency,"
    " amount, open_amount, structured_reference, description, credited_invoice,"
    " content_hash, source_line, status, import_token, created_at, updated_at)"
    " VALUES (?1, {base} + ?2, '" + _INVOICE + "', ?3, ?4, ?5, ?6, ?6,"
    " CASE ?8 WHEN 0 THEN ?7 ELSE"
    " printf('%010d%02d', {before} + ?8, coalesce(nullif(({before} + ?8) % 97, 0), 97)) END,"
    " ?9, NULL, ?10, ?11, {status}, {token}, {now}, {now})"
)

_NEW_INVOICE_COLUMNS = (
    "number",
    "debtor_id",
    "kind",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "open_amount",
    "structured_reference",
    "description",
    "credited_invoice",
    "content_hash",
    "source_line",
)


async def _insert_rows(
    conn: AsyncConnection,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    same: dict[str, Any] | None = None,
) -> None:
    """INSERT rows given as tuples of driver values in ``columns`` order, and the
    driver values ``same`` on every row.

    Why not ``conn.execute(insert(table), dicts)``: for every row SQLAlchemy builds
    and processes a parameter dict, which costs more than the database's own work.
    PostgreSQL gets the rows by COPY (asyncpg's ``copy_records_to_table``), several
    times faster than even a prepared INSERT, in the same transaction.
    """
    if not rows:
        return
    same = same or {}
    if conn.dialect.name == "postgresql":
        # SQLAlchemy begins the asyncpg transaction at its first statement; make
        # sure there was one, or COPY would commit on its own.
        await conn.exec_driver_sql("SELECT 1")
        driver = (await conn.get_raw_connection()).driver_connection
        if driver is None or not driver.is_in_transaction():
            raise RuntimeError("COPY outside the import's transaction")
        if same:
            constants = tuple(same.values())
            rows = [row + constants for row in rows]
        await driver.copy_records_to_table(table.name, records=rows, columns=[*columns, *same])
        return
    # SQLite: the shared values as literals in the statement (bound once per
    # batch; sqlite3 would bind them again for every row).
    literals = [_sqlite_literal(value) for value in same.values()]
    marks = ", ".join(["?"] * len(columns) + literals)
    await conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join([*columns, *same])}) VALUES ({marks})", rows
    )


def _sqlite_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQLite literal for {value!r}")


_TRACKED = (
    "debtor_id",
    "kind",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "structured_reference",
    "description",
    "credited_invoice",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, Decimal)):
        return str(value)
    return value


_KIND_NAMES = {
    InvoiceKind.INVOICE.value: "an invoice",
    InvoiceKind.CREDIT_NOTE.value: "a credit note",
}


async def _update_changed(
    conn: AsyncConnection,
    state: _ImportState,
    changed: list[tuple[LedgerRow, int]],
    debtor_ids: dict[str, int],
) -> None:
    rows = await conn.execute(
        select(invoices.c.id, *(invoices.c[key] for key in _TRACKED)).where(
            one_of(invoices.c.id, [invoice_id for _row, invoice_id in changed], conn.dialect.name)
        )
    )
    before = {row.id: row for row in rows}
    history = []
    ids = []
    for row, invoice_id in changed:
        (
            number,
            code,
            kind,
            issue,
            due,
            currency,
            amount,
            _open_amount,
            reference,
            description,
            credited,
            content_hash,
            source,
        ) = row
        old = before[invoice_id]
        if old.kind != kind:
            # Invoices and credit notes share one series of numbers here (a credit
            # note names the invoice it credits by number): an invoice does not
            # silently become a credit note, or the other way round.
            state.problem(
                Problem(
                    source,
                    "number",
                    f"{number!r} is {_KIND_NAMES.get(old.kind, old.kind)} in the ledger and "
                    f"{_KIND_NAMES.get(kind, kind)} in this file: give the "
                    f"{_KIND_NAMES.get(kind, kind).partition(' ')[2]} a number of its own",
                )
            )
            continue
        new = {
            "debtor_id": debtor_ids[code],
            "kind": kind,
            "issue_date": issue,
            "due_date": due,
            "currency": currency,
            "amount": from_cents(amount),
            "structured_reference": reference or old.structured_reference,
            "description": description,
            "credited_invoice": credited,
        }
        diff = {
            key: [_jsonable(getattr(old, key)), _jsonable(new[key])]
            for key in _TRACKED
            if getattr(old, key) != new[key]
        }
        await conn.execute(
            update(invoices)
            .where(invoices.c.id == invoice_id)
            .values(
                **new,
                content_hash=content_hash,
                import_token=state.token,
                source_line=source[-300:],
                updated_at=state.now,
            )
        )
        ids.append(invoice_id)
        history.append(
            {
                "invoice_id": invoice_id,
                "changed_at": state.now,
                "source": source[-300:],
                "changes": json.dumps(diff, sort_keys=True),
            }
        )
    if history:
        await conn.execute(insert(invoice_history), history)
        await refresh_open_amounts(conn, ids)
    state.summary.updated += len(ids)


async def _apply_opening_balances(
    conn: AsyncConnection, opening: list[tuple[str, Decimal]]
) -> None:
    """Turn a source system's open amount into an ``opening`` allocation.

    opening = (amount - open in the file) - what Relance itself allocated, never
    below zero: a payment that Relance matched and the accounting system booked
    too is counted once.
    """
    by_number = dict(opening)
    rows = await conn.execute(
        select(invoices.c.id, invoices.c.number, invoices.c.amount).where(
            invoices.c.number.in_(list(by_number))
        )
    )
    targets = {r.number: (r.id, r.amount) for r in rows}
    ids = [i for i, _ in targets.values()]
    other = dict(
        (
            await conn.execute(
                select(allocations.c.invoice_id, func.sum(allocations.c.amount))
                .where(allocations.c.invoice_id.in_(ids), allocations.c.source_kind != "opening")
                .group_by(allocations.c.invoice_id)
            )
        ).all()
    )
    await conn.execute(
        delete(allocations).where(
            allocations.c.invoice_id.in_(ids), allocations.c.source_kind == "opening"
        )
    )
    items = []
    for number, file_open in by_number.items():
        invoice_id, amount = targets[number]
        already = other.get(invoice_id) or ZERO
        part = max(ZERO, amount - file_open - already)
        if part > 0:
            items.append((invoice_id, "opening", number, part))
    await apply_allocations(conn, items)
    await refresh_open_amounts(conn, ids)


async def _apply_credit_notes(conn: AsyncConnection, state: _ImportState) -> None:
    """A credit note that names an invoice lowers that invoice's open amount.

    It allocates at most what the invoice still has open (besides this credit
    note); the rest stays open on the credit note, a credit for the debtor.
    """
    for chunk in batched(state.credit_notes, 1000):
        numbers = {c.number for c in chunk} | {c.credited_invoice for c in chunk}
        rows = await conn.execute(
            select(
                invoices.c.id,
                invoices.c.number,
                invoices.c.kind,
                invoices.c.amount,
                invoices.c.debtor_id,
            ).where(invoices.c.number.in_(numbers))
        )
        found = {r.number: r for r in rows}
        items = []
        for note in chunk:
            target = found.get(note.credited_invoice)
            credit = found[note.number]
            if target is None:
                # An invoice from before the ledger began (Peppol does not require the
                # receiver to know it): the note stays a credit for the debtor.
                state.summary.warnings.append(
                    f"{note.source}: credit note {note.number!r} refers to "
                    f"{note.credited_invoice!r}, which is not in the ledger: it stays a "
                    "credit for the debtor"
                )
                continue
            if target.kind != InvoiceKind.INVOICE.value:
                state.problem(
                    Problem(
                        note.source,
                        "credited invoice",
                        f"credit note {note.number!r} refers to {note.credited_invoice!r}, "
                        "which is a credit note, not an invoice",
                    )
                )
                continue
            if target.debtor_id != credit.debtor_id:
                state.problem(
                    Problem(
                        note.source,
                        "credited invoice",
                        f"credit note {note.number!r} and invoice {note.credited_invoice!r} "
                        "belong to different debtors",
                    )
                )
                continue
            # Re-applying: drop this note's earlier allocation, then allocate afresh.
            await conn.execute(
                delete(allocations).where(
                    allocations.c.source_kind == "credit_note",
                    allocations.c.source_id == note.number,
                )
            )
            already = (
                await conn.execute(
                    select(func.sum(allocations.c.amount)).where(
                        allocations.c.invoice_id == target.id
                    )
                )
            ).scalar_one() or ZERO
            part = min(credit.amount, max(ZERO, target.amount - already))
            items.append((target.id, "credit_note", note.number, part))
        await apply_allocations(conn, items)
        await refresh_open_amounts(conn, [found[c.number].id for c in chunk if c.number in found])


async def _reserve_references(conn: AsyncConnection, count: int) -> list[str]:
    """``count`` fresh OGMs from the ledger's counter (row-locked until commit)."""
    if count == 0:
        return []
    first = await _reserve_range(conn, count)
    # ogm_for_sequence's arithmetic written out: a call per invoice costs a
    # third more (tests/unit compare both over a range).
    return [f"{n:010d}{n % 97 or 97:02d}" for n in range(first, first + count)]


async def _reserve_range(conn: AsyncConnection, count: int) -> int:
    """The first of ``count`` (> 0) numbers taken from the ledger's OGM counter
    (row-locked until commit)."""
    result = await conn.execute(
        update(counters)
        .where(counters.c.name == "ogm")
        .values(value=counters.c.value + count)
        .returning(counters.c.value)
    )
    last = result.scalar_one_or_none()
    if last is None:
        await conn.execute(insert(counters).values(name="ogm", value=count))
        last = count
    first = int(last) - count + 1
    ogm_for_sequence(first), ogm_for_sequence(int(last))  # the range check, once a block
    return first


async def upsert_debtor(conn: AsyncConnection, record: DebtorRecord) -> int:
    """Create or update one debtor (by code) outside a file import; returns its id."""
    state = _ImportState(token=uuid.uuid4().hex, now=_now())
    ids = await _upsert_debtors(conn, state, {record.code: record})
    return ids[record.code]


_NEW_DEBTOR_COLUMNS = (
    "code",
    "name",
    "kind",
    "language",
    "enterprise_number",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
)


async def _upsert_debtors(
    conn: AsyncConnection,
    state: _ImportState,
    records: dict[str, DebtorRecord],
    known: dict[str, int] | None = None,
    fresh: bool = False,
    allocate: Callable[[int], int] | None = None,
) -> dict[str, int]:
    """Create or update debtors by code (``records`` as the import describes them
    so far); returns their ids.

    ``known``: codes this import wrote already (their ids); ``fresh``: the table
    was empty when the import began, so a code not in ``known`` is new;
    ``allocate(n)``: the first of n ids for new debtors, else the database picks
    them and they are read back.
    """
    known = known or {}
    lookup = list(records) if not fresh else [code for code in records if code in known]
    if not lookup and fresh and allocate is not None:
        return await _insert_new_debtors(conn, state, records, allocate)
    existing = {}
    if lookup:
        existing = {
            row.code: row
            for row in await conn.execute(
                select(debtors).where(one_of(debtors.c.code, lookup, conn.dialect.name))
            )
        }
    ids = {code: row.id for code, row in existing.items()}
    new_rows = []
    token = state.token
    now = _driver_values(debtors.c.created_at.type._cached_bind_processor(conn.dialect))[state.now]
    for code, record in records.items():
        row = existing.get(code)
        if row is None:
            # The fields as given, defaults for the rest (record.given() written
            # out: this runs for every new debtor of a large import).
            new_rows.append(
                (
                    code,
                    record.name,
                    record.kind or ("business" if record.enterprise_number else "consumer"),
                    record.language
                    or language_from_address(record.country, record.postcode)
                    or "fr",
                    record.enterprise_number,
                    record.phone,
                    record.street or "",
                    record.postcode or "",
                    record.city or "",
                    record.country or "BE",
                )
            )
        else:
            changes = {k: v for k, v in record.given().items() if getattr(row, k) != v}
            if changes:
                await conn.execute(
                    update(debtors)
                    .where(debtors.c.id == row.id)
                    .values(**changes, import_token=token, updated_at=state.now)
                )
    created: set[str] = set()
    if new_rows:
        created = {r[0] for r in new_rows}
        same = {
            "content_hash": "",
            "import_token": token,
            "source_line": "",
            "created_at": now,
            "updated_at": now,
        }
        if allocate is not None:
            first = allocate(len(new_rows))
            await _insert_rows(
                conn,
                debtors,
                ("id", *_NEW_DEBTOR_COLUMNS),
                [(first + i, *r) for i, r in enumerate(new_rows)],
                same,
            )
            ids.update((r[0], first + i) for i, r in enumerate(new_rows))
        else:
            # No RETURNING: through aiosqlite it fetches row by row across threads;
            # one SELECT afterwards is much faster on both databases.
            await _insert_rows(conn, debtors, _NEW_DEBTOR_COLUMNS, new_rows, same)
            result = await conn.execute(
                select(debtors.c.id, debtors.c.code).where(
                    one_of(debtors.c.code, list(created), conn.dialect.name)
                )
            )
            ids.update({code: debtor_id for debtor_id, code in result.all()})
    await _add_contacts(conn, records, ids, created)
    return ids


async def _insert_new_debtors(
    conn: AsyncConnection,
    state: _ImportState,
    records: dict[str, DebtorRecord],
    allocate: Callable[[int], int],
) -> dict[str, int]:
    """``_upsert_debtors`` when all of them are new and their ids ours to give (a
    bulk import into an empty SQLite ledger): no look-up, no comparison."""
    first = allocate(len(records))
    now = _driver_values(debtors.c.created_at.type._cached_bind_processor(conn.dialect))[state.now]
    ids = {code: first + i for i, code in enumerate(records)}
    rows = [
        (
            first + i,
            code,
            record.name,
            record.kind or ("business" if record.enterprise_number else "consumer"),
            record.language or language_from_address(record.country, record.postcode) or "fr",
            record.enterprise_number,
            record.phone,
            record.street or "",
            record.postcode or "",
            record.city or "",
            record.country or "BE",
        )
        for i, (code, record) in enumerate(records.items())
    ]
    same = {
        "content_hash": "",
        "import_token": state.token,
        "source_line": "",
        "created_at": now,
        "updated_at": now,
    }
    await _insert_rows(conn, debtors, ("id", *_NEW_DEBTOR_COLUMNS), rows, same)
    for table, attr in ((debtor_emails, "emails"), (debtor_ibans, "ibans")):
        contacts = [
            (ids[code], value)
            for code, record in records.items()
            for value in dict.fromkeys(getattr(record, attr))
        ]
        await _insert_rows(conn, table, ("debtor_id", attr[:-1]), contacts)
    return ids


async def _add_contacts(
    conn: AsyncConnection,
    records: dict[str, DebtorRecord],
    ids: dict[str, int],
    created: set[str],
) -> None:
    """Add emails and IBANs the ledger does not know yet; an import never removes one
    (an address learnt from a conversation must survive the next export).  Debtors
    ``created`` just now have none to look up."""
    for table, column, attr in (
        (debtor_emails, debtor_emails.c.email, "emails"),
        (debtor_ibans, debtor_ibans.c.iban, "ibans"),
    ):
        wanted = {
            (ids[code], value)
            for code, record in records.items()
            for value in getattr(record, attr)
        }
        if not wanted:
            continue
        older = {ids[code] for code, record in records.items() if code not in created}
        have: set[tuple[int, str]] = set()
        if older & {debtor_id for debtor_id, _ in wanted}:
            have = {
                (r[0], r[1])
                for r in await conn.execute(
                    select(table.c.debtor_id, column).where(
                        one_of(table.c.debtor_id, older, conn.dialect.name)
                    )
                )
            }
        missing = sorted(wanted - have)
        if missing:
            await _insert_rows(conn, table, ("debtor_id", column.key), missing)
