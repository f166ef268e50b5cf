"""The receivables ledger in the database: importing invoices and debtors.

Import, in one transaction, all or nothing:

    for each batch of 5,000 documents read from the files
        look the batch's debtors and invoices up in one query each
        insert the new ones (a generated OGM when the file gave no reference),
        update the changed ones (the old values go to invoice_history),
        count the unchanged ones
    then apply credit notes to the invoices they name
    a single problem anywhere -> every problem is reported, the transaction rolls back

Open amounts are kept by ``adapters.db.allocations``.  An accounting export's own
open amount becomes an ``opening`` allocation of what the source system saw paid that Relance
did not record itself, so a payment both systems know is not counted twice.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
from adapters.imports.records import DebtorRecord, ParsedDocument, language_from_address
from bot.errors import ImportRefused, Problem
from domain.invoice import InvoiceKind, InvoiceStatus
from domain.money import ZERO
from domain.reference import ogm_for_sequence

BATCH = 5000
# Enum members are looked up through a descriptor on every access (Python 3.11):
# plain strings on the hot path of a million-row import.
_INVOICE = InvoiceKind.INVOICE.value
_CREDIT_NOTE = InvoiceKind.CREDIT_NOTE.value
_OPEN = InvoiceStatus.OPEN.value
MAX_PROBLEMS = 1000
T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------- import


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    credit_notes: int = 0

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
    # Seen in this import: document numbers; debtor code -> (first place, merged data).
    # Kept compact: a 1,000,000-invoice import holds these in memory.
    numbers: set[str] = field(default_factory=set)
    debtors: dict[str, tuple[str, DebtorRecord]] = field(default_factory=dict)
    credit_notes: list[_CreditNote] = field(default_factory=list)

    def problem(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1


async def import_invoices(
    engine: AsyncEngine,
    sources: Sequence[tuple[str, Iterable[ParsedDocument | Problem]]],
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import documents from ``(source name, documents)`` pairs, all or nothing.

    Raises ``ImportRefused`` with every problem found (up to 1,000 listed) and
    leaves the ledger untouched when anything is wrong.
    """
    import uuid

    state = _ImportState(token=uuid.uuid4().hex, now=_now())
    # The import's state only grows (a million numbers, every debtor) and makes no
    # reference cycles; the cyclic GC would re-scan it ever more often (-10 % time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        await _run_import(engine, sources, state, progress)
    finally:
        if collecting:
            gc.enable()
    return state.summary


async def _run_import(
    engine: AsyncEngine,
    sources: Sequence[tuple[str, Iterable[ParsedDocument | Problem]]],
    state: _ImportState,
    progress: Callable[[int], None] | None,
) -> None:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            for _name, documents in sources:
                for chunk in batched(documents, BATCH):
                    good: list[ParsedDocument] = []
                    for item in chunk:
                        if isinstance(item, Problem):
                            state.problem(item)
                        else:
                            good.append(item)
                    good = _check_duplicates(state, good)
                    if not state.problems and good:
                        await _write_batch(conn, state, good)
                    if progress:
                        progress(len(chunk))

            if not state.problems:
                await _apply_credit_notes(conn, state)
            if state.problems:
                raise ImportRefused(state.problems, state.more_problems)
            await transaction.commit()
        except BaseException:
            await transaction.rollback()
            raise


def _check_duplicates(state: _ImportState, documents: list[ParsedDocument]) -> list[ParsedDocument]:
    """Refuse a document number seen before in this import, and debtor data that
    contradicts an earlier line; merge what later lines add about a debtor."""
    good = []
    for doc in documents:
        number = doc.invoice.number
        if number in state.numbers:
            state.problem(
                Problem(doc.source, "number", f"document {number!r} appears twice in this import")
            )
            continue
        state.numbers.add(number)
        record = doc.debtor
        seen = state.debtors.get(record.code)
        if seen is None:
            state.debtors[record.code] = (doc.source, record)
        elif seen[1] != record:
            where, known = seen
            fields, given = known.given(), record.given()
            conflict = next((k for k, v in given.items() if k in fields and fields[k] != v), None)
            if conflict is not None:
                state.problem(
                    Problem(
                        doc.source,
                        f"debtor {record.code}",
                        f"{conflict} is {given[conflict]!r} here "
                        f"but {fields[conflict]!r} at {where}",
                    )
                )
                continue
            additions = {k: v for k, v in given.items() if k not in fields}
            emails = tuple(dict.fromkeys(known.emails + record.emails))
            ibans = tuple(dict.fromkeys(known.ibans + record.ibans))
            state.debtors[record.code] = (
                where,
                replace(known, **additions, emails=emails, ibans=ibans),
            )
        good.append(doc)
    return good


async def _write_batch(
    conn: AsyncConnection, state: _ImportState, documents: list[ParsedDocument]
) -> None:
    # The debtor as the whole import describes it so far (lines merged).
    records = {
        doc.debtor.code: state.debtors.get(doc.debtor.code, ("", doc.debtor))[1]
        for doc in documents
    }
    debtor_ids = await _upsert_debtors(conn, state, records)
    numbers = [d.invoice.number for d in documents]
    existing = {
        row.number: row
        for row in await conn.execute(
            select(
                invoices.c.id,
                invoices.c.number,
                invoices.c.content_hash,
                invoices.c.debtor_id,
                invoices.c.kind,
                invoices.c.issue_date,
                invoices.c.due_date,
                invoices.c.currency,
                invoices.c.amount,
                invoices.c.structured_reference,
                invoices.c.description,
                invoices.c.credited_invoice,
            ).where(one_of(invoices.c.number, numbers, conn.dialect.name))
        )
    }
    new_docs: list[ParsedDocument] = []
    changed: list[tuple[ParsedDocument, Any]] = []
    for doc in documents:
        if doc.invoice.kind == _CREDIT_NOTE:
            state.summary.credit_notes += 1
            if doc.invoice.credited_invoice:
                state.credit_notes.append(
                    _CreditNote(doc.invoice.number, doc.invoice.credited_invoice, doc.source)
                )
        row = existing.get(doc.invoice.number)
        if row is None:
            new_docs.append(doc)
        elif row.content_hash == doc.invoice.content_hash(doc.debtor.code):
            state.summary.unchanged += 1
        else:
            changed.append((doc, row))

    # Invoices without a reference get a fresh OGM; credit notes are not paid by
    # the debtor, so they get none.
    needs_reference = [
        d for d in new_docs if not d.invoice.structured_reference and d.invoice.kind == _INVOICE
    ]
    references = await _reserve_references(conn, len(needs_reference))
    opening: list[tuple[str, Decimal]] = []
    rows = []
    for doc in new_docs:
        inv = doc.invoice
        reference = inv.structured_reference or (next(references) if inv.kind == _INVOICE else "")
        rows.append(
            (
                inv.number,
                debtor_ids[doc.debtor.code],
                str(inv.kind),
                inv.issue_date,
                inv.due_date,
                inv.currency,
                inv.amount,
                inv.amount,
                _OPEN,
                reference,
                inv.description,
                inv.credited_invoice,
                inv.content_hash(doc.debtor.code),
                state.token,
                doc.source[-300:],
                state.now,
                state.now,
            )
        )
        if inv.open_amount is not None and inv.open_amount < inv.amount:
            opening.append((inv.number, inv.open_amount))
    if rows:
        await bulk_insert(conn, invoices, _NEW_INVOICE_COLUMNS, rows)
        state.summary.created += len(rows)

    if changed:
        await _update_changed(conn, state, changed, debtor_ids)
        for doc, _row in changed:
            if doc.invoice.open_amount is not None:
                opening.append((doc.invoice.number, doc.invoice.open_amount))
    if opening:
        await _apply_opening_balances(conn, opening)


_NEW_INVOICE_COLUMNS = (
    "number",
    "debtor_id",
    "kind",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "open_amount",
    "status",
    "structured_reference",
    "description",
    "credited_invoice",
    "content_hash",
    "import_token",
    "source_line",
    "created_at",
    "updated_at",
)


async def bulk_insert(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT many rows given as tuples in ``columns`` order, straight to the driver.

    Why not ``conn.execute(insert(table), dicts)``: for every row SQLAlchemy builds
    and processes a parameter dict, which costs four times what SQLite itself
    spends on the insert; here the statement is compiled once, the column types'
    own bind processors (Cents, dates on SQLite) are applied in a tight loop and
    the driver's executemany does the rest.
    """
    if not rows:
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(columns))
    processors = {name: table.c[name].type._cached_bind_processor(conn.dialect) for name in columns}
    # Column by column: one list comprehension per typed column is several times
    # faster than a generator per row.
    by_column = list(zip(*rows, strict=True))
    ordered = []
    for name in compiled.positiontup or ():
        values = by_column[columns.index(name)]
        process = processors[name]
        if process is not None:
            # Memoised: dates and timestamps repeat a lot in a batch (the import's
            # own timestamp is on every row), and SQLite's date processors are slow.
            memo: dict[Any, Any] = {None: None}
            values = tuple(memo[v] if v in memo else memo.setdefault(v, process(v)) for v in values)
        ordered.append(values)
    await conn.exec_driver_sql(str(compiled), list(zip(*ordered, strict=True)))


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


async def _update_changed(
    conn: AsyncConnection,
    state: _ImportState,
    changed: list[tuple[ParsedDocument, Any]],
    debtor_ids: dict[str, int],
) -> None:
    history = []
    ids = []
    for doc, row in changed:
        inv = doc.invoice
        new = {
            "debtor_id": debtor_ids[doc.debtor.code],
            "kind": inv.kind.value,
            "issue_date": inv.issue_date,
            "due_date": inv.due_date,
            "currency": inv.currency,
            "amount": inv.amount,
            "structured_reference": inv.structured_reference or row.structured_reference,
            "description": inv.description,
            "credited_invoice": inv.credited_invoice,
        }
        diff = {
            key: [_jsonable(getattr(row, key)), _jsonable(new[key])]
            for key in _TRACKED
            if getattr(row, key) != new[key]
        }
        await conn.execute(
            update(invoices)
            .where(invoices.c.id == row.id)
            .values(
                **new,
                content_hash=inv.content_hash(doc.debtor.code),
                import_token=state.token,
                source_line=doc.source[-300:],
                updated_at=state.now,
            )
        )
        ids.append(row.id)
        history.append(
            {
                "invoice_id": row.id,
                "changed_at": state.now,
                "source": doc.source[-300:],
                "changes": json.dumps(diff, sort_keys=True),
            }
        )
    await conn.execute(insert(invoice_history), history)
    await refresh_open_amounts(conn, ids)
    state.summary.updated += len(changed)


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
            if target is None or target.kind != InvoiceKind.INVOICE.value:
                state.problem(
                    Problem(
                        note.source,
                        "credited invoice",
                        f"credit note {note.number!r} refers to {note.credited_invoice!r}, "
                        "which is not an invoice in the ledger or this import",
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


async def _reserve_references(conn: AsyncConnection, count: int) -> Iterator[str]:
    """``count`` fresh OGMs from the ledger's counter (row-locked until commit)."""
    if count == 0:
        return iter(())
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
    return (ogm_for_sequence(n) for n in range(first, int(last) + 1))


async def upsert_debtor(conn: AsyncConnection, record: DebtorRecord) -> int:
    """Create or update one debtor (by code) outside a file import; returns its id."""
    import uuid

    state = _ImportState(token=uuid.uuid4().hex, now=_now())
    state.debtors[record.code] = ("api", record)
    ids = await _upsert_debtors(conn, state, {record.code: record})
    return ids[record.code]


async def _upsert_debtors(
    conn: AsyncConnection, state: _ImportState, records: dict[str, DebtorRecord]
) -> dict[str, int]:
    codes = list(records)
    existing = {
        row.code: row
        for row in await conn.execute(
            select(debtors).where(one_of(debtors.c.code, codes, conn.dialect.name))
        )
    }
    ids = {code: row.id for code, row in existing.items()}
    new_rows = []
    for code, record in records.items():
        # The fields the whole import gave this debtor so far (first occurrence wins).
        given = state.debtors.get(code, ("", record))[1].given()
        row = existing.get(code)
        if row is None:
            language = given.get("language") or language_from_address(
                given.get("country"), given.get("postcode")
            )
            kind = given.get("kind") or (
                "business" if given.get("enterprise_number") else "consumer"
            )
            values = {
                "code": code,
                "name": given["name"],
                "kind": kind,
                "language": language or "fr",
                "enterprise_number": given.get("enterprise_number"),
                "phone": given.get("phone"),
                "street": given.get("street", ""),
                "postcode": given.get("postcode", ""),
                "city": given.get("city", ""),
                "country": given.get("country") or "BE",
            }
            new_rows.append(
                values
                | {
                    "content_hash": "",
                    "import_token": state.token,
                    "source_line": "",
                    "created_at": state.now,
                    "updated_at": state.now,
                }
            )
        else:
            changes = {k: v for k, v in given.items() if getattr(row, k) != v}
            if changes:
                await conn.execute(
                    update(debtors)
                    .where(debtors.c.id == row.id)
                    .values(**changes, import_token=state.token, updated_at=state.now)
                )
    if new_rows:
        # No RETURNING: through aiosqlite it fetches row by row across threads;
        # one SELECT afterwards is much faster on both databases.
        await conn.execute(insert(debtors), new_rows)
        result = await conn.execute(
            select(debtors.c.id, debtors.c.code).where(
                one_of(debtors.c.code, [r["code"] for r in new_rows], conn.dialect.name)
            )
        )
        ids.update({code: debtor_id for debtor_id, code in result.all()})
    await _add_contacts(conn, records, ids)
    return ids


async def _add_contacts(
    conn: AsyncConnection, records: dict[str, DebtorRecord], ids: dict[str, int]
) -> None:
    """Add emails and IBANs the ledger does not know yet; an import never removes one
    (an address learnt from a conversation must survive the next export)."""
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
        have = {
            (r[0], r[1])
            for r in await conn.execute(
                select(table.c.debtor_id, column).where(
                    one_of(
                        table.c.debtor_id,
                        {debtor_id for debtor_id, _ in wanted},
                        conn.dialect.name,
                    )
                )
            )
        }
        missing = sorted(wanted - have)
        if missing:
            await conn.execute(insert(table), [{"debtor_id": d, column.key: v} for d, v in missing])
