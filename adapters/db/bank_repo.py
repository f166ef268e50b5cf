"""Storing bank statements and reconciling them with the ledger, in one transaction.

    import_statements(engine, parsed, today)
      1. every line gets its identity; lines already stored (or twice in this
         import: overlapping statements, a camt.054 then its camt.053) are duplicates
      2. the invoice-number keys are brought up to date (new or renumbered invoices)
      3. credits are matched a batch at a time: the invoices, debtor IBANs and
         amounts a batch may concern are loaded in a few queries, then each line is
         decided in memory (``domain.reconciliation.match_line``); what is applied
         goes to ``adapters.db.ledger.apply_allocations`` once per batch
      4. the transactions are stored with their decision; candidates of the lines
         left to staff, and overpayments as debtor credits, beside them
      5. a reversed credit (camt RvslInd, CODA R-transaction) finds the payment it
         undoes and reopens what that payment had paid

A problem anywhere rolls the whole import back: all or nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.db.allocations import apply_allocations, reverse_allocations
from adapters.db.bank_schema import (
    bank_invoice_keys,
    bank_match_candidates,
    bank_statements,
    bank_transactions,
    debtor_credits,
)
from adapters.db.schema import debtor_ibans, debtors, invoices
from adapters.db.sql import batched
from domain.allocation import OpenItem, allocate
from domain.events import PaymentMatched
from domain.invoice import InvoiceKind
from domain.money import ZERO
from domain.reconciliation import (
    InvoiceIndex,
    Match,
    OpenInvoice,
    Outcome,
    Policy,
    SearchKeys,
    Similarity,
    match_line,
    number_key,
    search_keys,
    weak_keys,
)
from domain.statement import ParsedStatement, StatementLine

log = logging.getLogger(__name__)
SOURCE_KIND = "bank"
BATCH = 5000
_IN_CHUNK = 900  # bound parameters per IN (...) list: well under SQLite's limits


def rapidfuzz_similarity() -> Similarity:
    """Name similarity 0-100 by rapidfuzz, word order and repeats ignored."""
    from rapidfuzz import fuzz

    def similarity(a: str, b: str) -> float:
        return float(fuzz.token_set_ratio(a, b))

    return similarity


@dataclass
class ImportResult:
    transactions: int = 0
    duplicates: int = 0
    matched: int = 0
    partially_matched: int = 0
    to_review: int = 0
    not_payments: int = 0
    reversals: int = 0
    events: list[PaymentMatched] = field(default_factory=list)
    decisions: dict[str, Match] = field(default_factory=dict)  # by line identity

    def summary(self) -> dict[str, int]:
        """The object ``relance bank import`` prints (shared/contracts/cli.md)."""
        return {
            "transactions": self.transactions,
            "duplicates": self.duplicates,
            "matched": self.matched,
            "partially_matched": self.partially_matched,
            "to_review": self.to_review,
        }


def _now() -> datetime:
    return datetime.now(UTC)


async def import_statements(
    engine: AsyncEngine,
    statements: Sequence[ParsedStatement],
    today: date,
    policy: Policy | None = None,
    similarity: Similarity | None = None,
) -> ImportResult:
    # Two imports of the same movements at once (the inbox and an upload) both find
    # them new; the second to write then fails on the identity's unique index
    # (PostgreSQL) or on SQLite's write lock.  Everything it did is rolled back, so
    # running it once more, now seeing the first one's lines as duplicates, is safe.
    for attempt in range(3):
        try:
            async with engine.begin() as conn:
                return await import_statements_in(conn, statements, today, policy, similarity)
        except (IntegrityError, OperationalError) as exc:
            if attempt == 2 or not _is_race(exc):
                raise
            log.info("bank import raced another one; trying again (%s)", type(exc.orig).__name__)
    raise AssertionError("unreachable")  # pragma: no cover


def _is_race(exc: IntegrityError | OperationalError) -> bool:
    if isinstance(exc, IntegrityError):
        text = str(exc.orig)
        return any(name in text for name in ("bank_", "uq_allocations_source", "identity"))
    return "locked" in str(exc.orig)


async def import_statements_in(
    conn: AsyncConnection,
    statements: Sequence[ParsedStatement],
    today: date,
    policy: Policy | None = None,
    similarity: Similarity | None = None,
) -> ImportResult:
    policy = policy or Policy()
    similarity = similarity or rapidfuzz_similarity()
    result = ImportResult()
    now = _now()

    # 1. identities and duplicates
    seen: set[str] = set()
    candidates: list[tuple[int, StatementLine, str]] = []
    per_statement_dups = [0] * len(statements)
    for n, statement in enumerate(statements):
        for line in statement.lines:
            identity = line.identity
            if identity in seen:
                per_statement_dups[n] += 1
                continue
            seen.add(identity)
            candidates.append((n, line, identity))
    stored: set[str] = set()
    for chunk in batched(sorted(seen), _IN_CHUNK):
        rows = await conn.execute(
            select(bank_transactions.c.identity).where(bank_transactions.c.identity.in_(chunk))
        )
        stored.update(r[0] for r in rows)
    new: list[tuple[int, StatementLine, str]] = []
    for n, line, identity in candidates:
        if identity in stored:
            per_statement_dups[n] += 1
        else:
            new.append((n, line, identity))
    result.duplicates = sum(per_statement_dups)
    result.transactions = len(new)

    new_per_statement = Counter(n for n, _, _ in new)
    statement_ids: list[int] = []
    for n, statement in enumerate(statements):
        first = statement.lines[0] if statement.lines else None
        row = await conn.execute(
            insert(bank_statements).returning(bank_statements.c.id),
            {
                "source": statement.source[-300:],
                "format": statement.format,
                "account_iban": first.account_iban if first else "",
                "statement": (first.statement if first else "")[:64],
                "new_lines": new_per_statement[n],
                "duplicate_lines": per_statement_dups[n],
                "imported_at": now,
            },
        )
        statement_ids.append(int(row.scalar_one()))
    if not new:
        return result

    # 2. invoice-number keys
    await sync_invoice_keys(conn)

    # 3. match credits, a batch at a time
    credits = [(line, identity) for _, line, identity in new if line.amount > 0]
    for batch in batched(credits, BATCH):
        lines = [line for line, _ in batch]
        keys = [search_keys(line) for line in lines]
        index = await load_index(conn, lines, keys)
        items: list[tuple[int, str, str, Decimal]] = []
        for (line, identity), key in zip(batch, keys, strict=True):
            decision = match_line(line, index, policy, today, similarity, key)
            result.decisions[identity] = decision
            if decision.chosen is None:
                continue
            for allocation in decision.allocations:
                invoice = index.invoices[int(allocation.key)]
                after = invoice.paid(allocation.amount)
                index.update(after)
                items.append((invoice.id, SOURCE_KIND, identity, allocation.amount))
                result.events.append(
                    PaymentMatched(
                        invoice_number=invoice.number,
                        debtor_code=invoice.debtor_code,
                        amount=allocation.amount,
                        open_amount=after.open_amount,
                        booking_date=line.booking_date,
                        confidence=decision.confidence,
                        reason=decision.reason,
                    )
                )
        # The statistics first: the ledger's look-ups of existing allocations are
        # planned on them, and on PostgreSQL a table still thought empty is scanned
        # whole for each of them (quadratic over a large import).
        if len(items) > 1000:
            await _analyze(conn, "allocations")
        await apply_allocations(conn, items)

    # 4. store the transactions with their decisions
    rows = []
    for n, line, identity in new:
        decision = result.decisions.get(identity)
        rows.append(_transaction_row(statement_ids[n], line, identity, decision, now))
        status = rows[-1]["status"]
        if status == Outcome.MATCHED:
            result.matched += 1
        elif status == Outcome.PARTIALLY_MATCHED:
            result.partially_matched += 1
        elif status == Outcome.TO_REVIEW:
            result.to_review += 1
        else:
            result.not_payments += 1
    # A plain executemany (no RETURNING) is the drivers' fastest insert; the ids
    # are then read back only for the few lines that need them.
    for chunk in batched(rows, 10_000):
        await conn.execute(insert(bank_transactions), chunk)
    needed = [
        identity
        for _, line, identity in new
        if (d := result.decisions.get(identity)) is not None
        and (d.outcome is Outcome.TO_REVIEW or (d.chosen is not None and d.overpayment > 0))
    ] + [identity for _, line, identity in new if line.reversal and line.amount < 0]
    ids: dict[str, int] = {}
    for chunk in batched(needed, _IN_CHUNK):
        found = await conn.execute(
            select(bank_transactions.c.identity, bank_transactions.c.id).where(
                bank_transactions.c.identity.in_(chunk)
            )
        )
        ids.update((r[0], int(r[1])) for r in found)
    await _store_candidates_and_credits(conn, new, result.decisions, ids, now)

    # 5. reversals
    for _, line, identity in new:
        if line.amount < 0 and line.reversal:
            await _reverse(conn, line, ids[identity], result)
    if len(new) > 1000:
        await _analyze(conn, "bank_transactions", "allocations")
    return result


def _transaction_row(
    statement_id: int, line: StatementLine, identity: str, decision: Match | None, now: datetime
) -> dict[str, Any]:
    if decision is None:
        status, method, confidence, reason = Outcome.NOT_A_PAYMENT.value, None, 0.0, ""
        if line.amount < 0:
            reason = "a debit: money leaving the account"
    else:
        status = decision.outcome.value
        best = decision.chosen or (decision.candidates[0] if decision.candidates else None)
        method = best.method.value if best else None
        confidence, reason = decision.confidence, decision.reason
    debtor_id = None
    if decision is not None and decision.chosen is not None:
        debtor_id = decision.chosen.invoices[0].debtor_id
    allocated = sum((a.amount for a in decision.allocations), ZERO) if decision else ZERO
    return {
        "identity": identity,
        "statement_id": statement_id,
        "account_iban": line.account_iban[:34],
        "statement": line.statement[:64],
        "booking_date": line.booking_date,
        "value_date": line.value_date,
        "amount": line.amount,
        "currency": line.currency,
        "counterparty_name": line.counterparty_name[:200],
        "counterparty_iban": (line.counterparty_iban or None) and line.counterparty_iban[:34],
        "counterparty_bic": line.counterparty_bic[:11],
        "structured_reference": line.structured_reference,
        "free_text": line.free_text,
        "bank_reference": line.bank_reference[:64],
        "sequence": line.sequence[:16],
        "end_to_end_id": line.end_to_end_id[:64],
        "transaction_code": line.transaction_code[:32],
        "reversal": line.reversal,
        "source": line.source[-300:],
        "status": status,
        "method": method,
        "confidence": confidence,
        "reason": reason,
        "debtor_id": debtor_id,
        "allocated": allocated,
        "overpayment": decision.overpayment if decision and decision.chosen else ZERO,
        "created_at": now,
    }


async def _store_candidates_and_credits(
    conn: AsyncConnection,
    new: Sequence[tuple[int, StatementLine, str]],
    decisions: dict[str, Match],
    ids: dict[str, int],
    now: datetime,
) -> None:
    candidate_rows: list[dict[str, Any]] = []
    credit_rows: list[dict[str, Any]] = []
    for _, line, identity in new:
        decision = decisions.get(identity)
        if decision is None:
            continue
        if decision.outcome is Outcome.TO_REVIEW:
            for rank, candidate in enumerate(decision.candidates, start=1):
                candidate_rows.append(
                    {
                        "transaction_id": ids[identity],
                        "rank": rank,
                        "invoice_ids": ",".join(str(i.id) for i in candidate.invoices)[:500],
                        "invoice_numbers": ", ".join(i.number for i in candidate.invoices),
                        "method": candidate.method.value,
                        "confidence": candidate.confidence,
                        "reason": candidate.reason,
                    }
                )
        elif decision.chosen is not None and decision.overpayment > 0:
            credit_rows.append(
                _credit_row(
                    decision.chosen.invoices[0].debtor_id,
                    ids[identity],
                    line,
                    decision.overpayment,
                    now,
                )
            )
    for chunk in batched(candidate_rows, 5000):
        await conn.execute(insert(bank_match_candidates), chunk)
    for chunk in batched(credit_rows, 5000):
        await conn.execute(insert(debtor_credits), chunk)


def _credit_row(
    debtor_id: int, transaction_id: int, line: StatementLine, amount: Decimal, now: datetime
) -> dict[str, Any]:
    return {
        "debtor_id": debtor_id,
        "transaction_id": transaction_id,
        "amount": amount,
        "currency": line.currency,
        "iban": line.counterparty_iban,
        "bic": line.counterparty_bic[:11],
        "name": line.counterparty_name[:200],
        "status": "open",
        "created_at": now,
    }


async def _reverse(
    conn: AsyncConnection, line: StatementLine, transaction_id: int, result: ImportResult
) -> None:
    """Find the credit a reversal undoes and reopen what it paid."""
    t = bank_transactions
    same_payer = []
    if line.end_to_end_id:
        same_payer.append(t.c.end_to_end_id == line.end_to_end_id)
    if line.counterparty_iban:
        same_payer.append(t.c.counterparty_iban == line.counterparty_iban)
    if line.structured_reference:
        same_payer.append(t.c.structured_reference == line.structured_reference)
    if not same_payer:
        same_payer.append(t.c.bank_reference == line.bank_reference)
    row = (
        await conn.execute(
            select(t.c.id, t.c.identity)
            .where(
                t.c.account_iban == line.account_iban,
                t.c.amount == -line.amount,
                t.c.booking_date <= line.booking_date,
                t.c.status.in_([Outcome.MATCHED.value, Outcome.PARTIALLY_MATCHED.value]),
                or_(*same_payer),
            )
            .order_by(t.c.booking_date.desc(), t.c.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        await conn.execute(
            update(t)
            .where(t.c.id == transaction_id)
            .values(
                status=Outcome.TO_REVIEW.value,
                reason="a reversal whose original payment was not found",
            )
        )
        result.not_payments -= 1
        result.to_review += 1
        return
    original_id, original_identity = int(row[0]), str(row[1])
    reopened = await reverse_allocations(conn, SOURCE_KIND, original_identity)
    await conn.execute(
        update(t)
        .where(t.c.id == original_id)
        .values(status="reversed", reason=f"reversed by bank transaction {transaction_id}")
    )
    await conn.execute(
        update(debtor_credits)
        .where(debtor_credits.c.transaction_id == original_id, debtor_credits.c.status == "open")
        .values(status="cancelled")
    )
    await conn.execute(
        update(t)
        .where(t.c.id == transaction_id)
        .values(
            status="reversal",
            reason=f"reverses bank transaction {original_id}; reopened invoices {reopened}",
        )
    )
    result.reversals += 1


# ------------------------------------------------------------------ candidate lookups


async def sync_invoice_keys(conn: AsyncConnection) -> int:
    """Key the invoices that are new or renumbered since the last reconciliation."""
    k = bank_invoice_keys
    stale = (
        await conn.execute(
            select(invoices.c.id, invoices.c.number).where(
                ~exists().where(k.c.invoice_id == invoices.c.id, k.c.number == invoices.c.number)
            )
        )
    ).all()
    if not stale:
        return 0
    # Renumbered invoices lose their old keys; new ones have none to lose.
    for chunk in batched(sorted({int(r[0]) for r in stale}), _IN_CHUNK):
        await conn.execute(delete(k).where(k.c.invoice_id.in_(chunk)))
    rows = []
    for invoice_id, number in stale:
        for key in {number_key(number), *weak_keys(number)}:
            rows.append({"invoice_id": int(invoice_id), "key": key[:80], "number": number})
    for chunk in batched(rows, 20_000):
        await conn.execute(insert(k), chunk)
    if len(rows) > 1000:
        await _analyze(conn, "bank_invoice_keys")
    return len(stale)


async def _analyze(conn: AsyncConnection, *tables: str) -> None:
    """Refresh PostgreSQL's statistics after a large write.

    Autovacuum does it eventually, but a second import right after a first large
    one would otherwise be planned on "this table is empty": a nested loop over
    150,000 invoice keys took minutes where the hash join takes a second.
    """
    if conn.dialect.name == "postgresql":
        for table in tables:
            await conn.exec_driver_sql(f"ANALYZE {table}")


_COLUMNS = (
    invoices.c.id,
    invoices.c.number,
    invoices.c.debtor_id,
    debtors.c.name,
    debtors.c.code,
    invoices.c.structured_reference,
    invoices.c.amount,
    invoices.c.open_amount,
    invoices.c.due_date,
    invoices.c.issue_date,
    invoices.c.currency,
)


def _open_invoice(row: Any) -> OpenInvoice:
    return OpenInvoice(
        id=int(row[0]),
        number=row[1],
        debtor_id=int(row[2]),
        debtor_name=row[3],
        debtor_code=row[4],
        structured_reference=row[5],
        amount=row[6],
        open_amount=row[7],
        due_date=row[8],
        issue_date=row[9],
        currency=row[10],
    )


def _select_invoices(*conditions: Any) -> Any:
    return (
        select(*_COLUMNS)
        .select_from(invoices.join(debtors, debtors.c.id == invoices.c.debtor_id))
        .where(invoices.c.kind == InvoiceKind.INVOICE.value, *conditions)
    )


def _payable() -> Any:
    return and_(invoices.c.open_amount > 0, invoices.c.written_off.is_(False))


async def _fetch(
    conn: AsyncConnection, column: Any, values: Iterable[Any], *conditions: Any
) -> list[OpenInvoice]:
    found: list[OpenInvoice] = []
    for chunk in batched(sorted(set(values)), _IN_CHUNK):
        rows = await conn.execute(_select_invoices(column.in_(chunk), *conditions))
        found.extend(_open_invoice(r) for r in rows)
    return found


async def load_index(
    conn: AsyncConnection, lines: Sequence[StatementLine], keys: Sequence[SearchKeys]
) -> InvoiceIndex:
    """The invoices a batch of lines may concern, in a few queries for the whole batch.

    References and invoice numbers first; the debtors of known IBANs and the open
    amounts only for the lines those leave unexplained, as a line that names its
    invoice needs neither (and a debtor's every open invoice is a lot to load).
    """
    index = InvoiceIndex()
    references = {r for k in keys for r in k.references}
    numbers = {n for k in keys for n in (*k.strict_numbers, *k.weak_numbers)}

    for invoice in await _fetch(conn, invoices.c.structured_reference, references):
        index.add(invoice)
    invoice_ids: set[int] = set()
    for chunk in batched(sorted(numbers), _IN_CHUNK):
        rows = await conn.execute(
            select(bank_invoice_keys.c.invoice_id).where(bank_invoice_keys.c.key.in_(chunk))
        )
        invoice_ids.update(int(r[0]) for r in rows)
    known = {i for i in invoice_ids if i in index.invoices}
    for invoice_id in known:
        index.add_numbered(index.invoices[invoice_id])
    for invoice in await _fetch(conn, invoices.c.id, invoice_ids - known):
        index.add_numbered(invoice)

    unexplained = [
        (line, key)
        for line, key in zip(lines, keys, strict=True)
        if line.amount > 0
        and not any(index.by_reference.get(r) for r in key.references)
        and not any(index.by_strict_number.get(n) for n in key.strict_numbers)
    ]
    ibans = {key.iban for _, key in unexplained if key.iban}
    debtor_ids: set[int] = set()
    for chunk in batched(sorted(ibans), _IN_CHUNK):
        rows = await conn.execute(
            select(debtor_ibans.c.iban, debtor_ibans.c.debtor_id).where(
                debtor_ibans.c.iban.in_(chunk)
            )
        )
        for iban, debtor_id in rows:
            index.add_iban(iban, int(debtor_id))
            debtor_ids.add(int(debtor_id))
    for invoice in await _fetch(conn, invoices.c.debtor_id, debtor_ids, _payable()):
        index.add_debtor_open(invoice)
    amounts = {
        line.amount
        for line, key in unexplained
        if line.counterparty_name and not (key.iban and key.iban in index.debtors_by_iban)
    }
    for invoice in await _fetch(conn, invoices.c.open_amount, amounts, _payable()):
        index.add_amount_open(invoice)
    return index


# --------------------------------------------------------------------- staff and refunds


async def transactions_to_review(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Lines waiting for staff, each with its ranked candidates."""
    t, c = bank_transactions, bank_match_candidates
    async with engine.connect() as conn:
        lines = (
            await conn.execute(
                select(t).where(t.c.status == Outcome.TO_REVIEW.value).order_by(t.c.id)
            )
        ).all()
        out = []
        for line in lines:
            cands = await conn.execute(
                select(c).where(c.c.transaction_id == line.id).order_by(c.c.rank)
            )
            out.append(
                {
                    "id": line.id,
                    "booking_date": line.booking_date.isoformat(),
                    "amount": f"{line.amount:.2f}",
                    "counterparty_name": line.counterparty_name,
                    "counterparty_iban": line.counterparty_iban,
                    "free_text": line.free_text,
                    "reason": line.reason,
                    "candidates": [
                        {
                            "rank": cand.rank,
                            "invoices": cand.invoice_numbers,
                            "method": cand.method,
                            "confidence": round(cand.confidence, 2),
                            "reason": cand.reason,
                        }
                        for cand in cands
                    ],
                }
            )
        return out


async def accept_candidate(
    engine: AsyncEngine, transaction_id: int, rank: int, today: date, policy: Policy | None = None
) -> list[PaymentMatched]:
    """Staff chose candidate ``rank`` of a line waiting for review: apply it."""
    policy = policy or Policy()
    t, c = bank_transactions, bank_match_candidates
    async with engine.begin() as conn:
        line = (await conn.execute(select(t).where(t.c.id == transaction_id))).first()
        if line is None or line.status != Outcome.TO_REVIEW.value:
            raise LookupError(f"bank transaction {transaction_id} is not waiting for review")
        cand = (
            await conn.execute(
                select(c).where(c.c.transaction_id == transaction_id, c.c.rank == rank)
            )
        ).first()
        if cand is None:
            raise LookupError(f"bank transaction {transaction_id} has no candidate {rank}")
        wanted = [int(i) for i in cand.invoice_ids.split(",") if i]
        found = {i.id: i for i in await _fetch(conn, invoices.c.id, wanted)}
        chosen = [found[i] for i in wanted if i in found]
        items = [
            OpenItem(str(i.id), i.open_amount, i.due_date, i.issue_date)
            for i in chosen
            if i.open_amount > 0
        ]
        result = allocate(line.amount, items, policy.order, today)
        await apply_allocations(
            conn,
            [(int(a.key), SOURCE_KIND, line.identity, a.amount) for a in result.allocations],
        )
        partial = any(
            i.open_amount > next((a.amount for a in result.allocations if a.key == str(i.id)), 0)
            for i in chosen
        )
        status = Outcome.PARTIALLY_MATCHED if partial else Outcome.MATCHED
        await conn.execute(
            update(t)
            .where(t.c.id == transaction_id)
            .values(
                status=status.value,
                method=cand.method,
                confidence=1.0,
                reason=f"chosen by staff: {cand.reason}",
                debtor_id=chosen[0].debtor_id if chosen else None,
                allocated=result.allocated,
                overpayment=result.overpayment,
            )
        )
        if result.overpayment > 0 and chosen:
            line_obj = _line_of(line)
            await conn.execute(
                insert(debtor_credits),
                _credit_row(
                    chosen[0].debtor_id, transaction_id, line_obj, result.overpayment, _now()
                ),
            )
        by_id = {i.id: i for i in chosen}
        return [
            PaymentMatched(
                invoice_number=by_id[int(a.key)].number,
                debtor_code=by_id[int(a.key)].debtor_code,
                amount=a.amount,
                open_amount=by_id[int(a.key)].open_amount - a.amount,
                booking_date=line.booking_date,
                confidence=1.0,
                reason=f"chosen by staff: {cand.reason}",
            )
            for a in result.allocations
        ]


def _line_of(row: Any) -> StatementLine:
    return StatementLine(
        account_iban=row.account_iban,
        statement=row.statement,
        booking_date=row.booking_date,
        value_date=row.value_date,
        amount=row.amount,
        currency=row.currency,
        counterparty_name=row.counterparty_name,
        counterparty_iban=row.counterparty_iban,
        structured_reference=row.structured_reference,
        free_text=row.free_text,
        bank_reference=row.bank_reference,
        counterparty_bic=row.counterparty_bic,
    )


@dataclass(frozen=True, slots=True)
class Refund:
    credit_id: int
    amount: Decimal
    currency: str
    name: str
    iban: str
    bic: str
    debtor_code: str


@dataclass
class RefundsDue:
    payable: list[Refund] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.payable or self.skipped)


async def refunds_due(engine: AsyncEngine) -> RefundsDue:
    """Open debtor credits; those without a valid IBAN are listed as skipped, with why."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    d = debtor_credits
    due = RefundsDue()
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(d, debtors.c.code, debtors.c.name.label("debtor_name"))
            .select_from(d.join(debtors, debtors.c.id == d.c.debtor_id))
            .where(d.c.status == "open")
            .order_by(d.c.id)
        )
        for row in rows:
            try:
                iban = IBAN(row.iban or "").compact
            except SchwiftyException as exc:
                due.skipped.append({"credit": row.id, "debtor": row.code, "reason": str(exc)})
                continue
            due.payable.append(
                Refund(
                    credit_id=row.id,
                    amount=row.amount,
                    currency=row.currency,
                    name=row.name or row.debtor_name,
                    iban=iban,
                    bic=row.bic,
                    debtor_code=row.code,
                )
            )
    return due


async def mark_refunds_exported(engine: AsyncEngine, credit_ids: Sequence[int]) -> None:
    async with engine.begin() as conn:
        for chunk in batched(list(credit_ids), _IN_CHUNK):
            await conn.execute(
                update(debtor_credits)
                .where(debtor_credits.c.id.in_(chunk), debtor_credits.c.status == "open")
                .values(status="exported", exported_at=_now())
            )
