"""Storing bank statements and reconciling them with the ledger, in one transaction.

    import_statements(engine, parsed, today)
      1. every line gets its identity; lines already stored (or twice in this
         import: overlapping statements, a camt.054 then its camt.053) are duplicates
      2. the invoice-number keys are brought up to date (new or renumbered invoices)
      3. the invoices, debtor IBANs and amounts the whole statement may concern are
         loaded in a few set-based queries (``load_index``: each chunk of up to
         50,000 values bound as one parameter), then each credit is decided in
         memory, in statement order (``domain.reconciliation.match_line``)
      4. what is applied goes to ``adapters.db.allocations.apply_allocations`` in
         one go, with the open amounts read in step 3 (no sums re-read), while the
         transaction rows are built; they are then bound straight to the driver
         (``executemany`` on SQLite, ``COPY`` on PostgreSQL); candidates of the
         lines left to staff, and overpayments as debtor credits, beside them
      5. a reversed credit (camt RvslInd, CODA R-transaction) finds the payment it
         undoes and reopens what that payment had paid

A problem anywhere rolls the whole import back: all or nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.collector import collector_paused
from adapters.db import credits_repo
from adapters.db.allocations import apply_allocations, reverse_allocations
from adapters.db.bank_schema import (
    TO_REVIEW,
    bank_invoice_keys,
    bank_match_candidates,
    bank_statements,
    bank_transactions,
    debtor_credits,
)
from adapters.db.credits_repo import OWED
from adapters.db.schema import debtor_ibans, debtors, invoices
from adapters.db.sql import all_rows, batched, mapped_reads, one_of
from domain.allocation import OpenItem, allocate
from domain.events import PaymentMatched
from domain.invoice import InvoiceKind
from domain.money import ZERO
from domain.reconciliation import (
    InvoiceIndex,
    Match,
    NotLoaded,
    OpenInvoice,
    Outcome,
    Policy,
    SearchKeys,
    Similarity,
    compact_iban,
    match_line,
    number_key,
    search_keys,
    weak_keys,
)
from domain.statement import ParsedStatement, StatementLine

log = logging.getLogger(__name__)
SOURCE_KIND = "bank"
_CHUNK = 50_000  # values bound as ONE parameter (``one_of``) per look-up or insert
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
    refunds: int = 0  # debits that paid a debtor's credit back
    events: list[PaymentMatched] = field(default_factory=list)
    decisions: dict[str, Match] = field(default_factory=dict)  # by line identity
    # Seconds spent in each step, for the benchmark's "where the time goes".
    timings: dict[str, float] = field(default_factory=dict)

    def _lap(self, step: str, started: float) -> float:
        now = time.perf_counter()
        self.timings[step] = self.timings.get(step, 0.0) + now - started
        return now

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
            with collector_paused():
                async with engine.begin() as conn, mapped_reads(conn):
                    result = await import_statements_in(conn, statements, today, policy, similarity)
                    committing = time.perf_counter()
                result._lap("commit", committing)
                return result
        except (IntegrityError, OperationalError) as exc:
            if attempt == 2 or not _is_race(exc):
                raise
            log.info("bank import raced another one; trying again (%s)", type(exc.orig).__name__)
    raise AssertionError("unreachable")  # pragma: no cover


BACKGROUND_BYTES = 2 * 1024 * 1024  # files at least this large are read in a second process


async def import_statement_files(
    engine: AsyncEngine,
    paths: Sequence[str | Path],
    today: date,
    policy: Policy | None = None,
    similarity: Similarity | None = None,
    background: bool | None = None,
    part: int | None = None,
    names: Sequence[str] | None = None,
) -> ImportResult:
    """``import_statements`` of the statement files at ``paths``.

    Large files (``background``: together at least ``BACKGROUND_BYTES``, unless
    said) are read in a second process while the parts already read are matched
    (``adapters.bank.background``, ``part`` lines at a time); smaller ones are
    read here first.  Either way a file that is not a valid statement raises its
    ``StatementError`` and nothing is imported.  ``names``: what the files go by
    in lines and errors (their paths if None).
    """
    from adapters.bank.detect import parse_named_file

    names = list(names) if names is not None else [str(p) for p in paths]
    if background is None:
        background = sum(_size(p) for p in paths) >= BACKGROUND_BYTES
    if not background:
        parsed = [
            s for p, name in zip(paths, names, strict=True) for s in parse_named_file(p, name)
        ]
        return await import_statements(engine, parsed, today, policy, similarity)
    from adapters.bank.background import PART, BackgroundStatements, End, Forget

    got = _Received()  # every statement read, should the import have to start again
    with BackgroundStatements(paths, part or PART, names) as reader:
        try:
            with collector_paused():
                async with engine.begin() as conn, mapped_reads(conn):
                    reconciliation = Reconciliation(conn, today, policy, similarity)
                    result = reconciliation.result
                    await reconciliation.prepare()  # while the reader starts
                    waiting = time.perf_counter()
                    while (event := await reader.next()) is not None:
                        result._lap("waiting for the reading process", waiting)
                        if isinstance(event, Forget):
                            raise _ReadAgain
                        got.take(event)
                        if isinstance(event, End):
                            reconciliation.end_statement(event.source, event.format)
                        else:
                            await reconciliation.add(event.lines, event.keys)
                        waiting = time.perf_counter()
                    await reconciliation.finish()
                    committing = time.perf_counter()
                result._lap("commit", committing)
                return result
        except _ReadAgain:
            got.take(Forget())
        except (IntegrityError, OperationalError) as exc:
            if not _is_race(exc):
                raise
        # Rolled back: the rest is read, then imported the certain way.
        while (event := await reader.next()) is not None:
            got.take(event)
    return await import_statements(engine, got.statements, today, policy, similarity)


class _Received:
    """The statements a reading process sent, put together again."""

    def __init__(self) -> None:
        self.statements: list[ParsedStatement] = []
        self._current: list[StatementLine] = []

    def take(self, event: Any) -> None:
        from adapters.bank.background import End, Forget

        if isinstance(event, Forget):
            self._current = []  # the statement comes again, whole
        elif isinstance(event, End):
            self.statements.append(ParsedStatement(event.source, event.format, (*self._current,)))
            self._current = []
        else:
            self._current.extend(event.lines)


class _ReadAgain(Exception):
    """The reading process will send a statement again, whole."""


def _size(path: str | Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0  # read in this process, which says what is wrong with it


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
    part: int | None = None,
) -> ImportResult:
    """``import_statements`` inside the caller's transaction.

    ``part``: lines matched at a time (default: each statement at once), as when
    a large statement is matched while it is still being read.
    """
    reconciliation = Reconciliation(conn, today, policy, similarity)
    for statement in statements:
        for lines in batched(statement.lines, part or len(statement.lines) or 1):
            await reconciliation.add(lines)
        reconciliation.end_statement(statement.source, statement.format)
    return await reconciliation.finish()


class Reconciliation:
    """One import, fed statement by statement and part by part, in one transaction.

        reconciliation = Reconciliation(conn, today)
        await reconciliation.add(lines)           # the lines of the current statement,
        await reconciliation.add(more_lines)      # in order, as they are read
        reconciliation.end_statement(source, "camt.053")
        ...                                       # the next statement
        result = await reconciliation.finish()    # allocations and rows written

    Each part is checked for duplicates, its invoices loaded into the one index
    (added to what earlier parts loaded, with the open amounts they left) and its
    credits decided in statement order, so parts give the decisions the whole
    would; the writing waits for ``finish``.
    """

    def __init__(
        self,
        conn: AsyncConnection,
        today: date,
        policy: Policy | None = None,
        similarity: Similarity | None = None,
    ) -> None:
        self.conn = conn
        self.today = today
        self.policy = policy or Policy()
        self.similarity = similarity or rapidfuzz_similarity()
        self.result = ImportResult()
        self.now = _now()
        self.statements: list[tuple[str, str]] = []  # (source, format) of each ended one
        self._first: list[StatementLine | None] = [None]  # of each statement
        self._duplicates = [0]
        self._seen: set[str] = set()
        self._new: list[tuple[int, StatementLine, str]] = []  # (statement, line, identity)
        self._keyed = False
        self._index = InvoiceIndex(partial=True)
        self._loaded = _Loaded()
        self._items: list[tuple[int, str, str, Decimal]] = []
        self._open_before: dict[int, Decimal] = {}

    async def prepare(self) -> None:
        """Bring the invoice-number keys up to date now rather than with the first
        new line (what ``add`` does otherwise): while the first lines are read."""
        if not self._keyed:
            lap = time.perf_counter()
            await sync_invoice_keys(self.conn)
            self._keyed = True
            self.result._lap("invoice keys", lap)

    def end_statement(self, source: str, fmt: str) -> None:
        """The statement the lines so far belong to ends here."""
        self.statements.append((source, fmt))
        self._first.append(None)
        self._duplicates.append(0)

    async def add(
        self, lines: Sequence[StatementLine], keys: Sequence[SearchKeys | None] | None = None
    ) -> None:
        """The next lines of the current statement; ``keys``: their ``search_keys``
        (None for a debit), when the reader computed them already."""
        result, conn = self.result, self.conn
        n = len(self.statements)
        if lines and self._first[n] is None:
            self._first[n] = lines[0]

        # 1. identities and duplicates: stored, or twice in this import
        lap = time.perf_counter()
        candidates: list[tuple[StatementLine, str, SearchKeys | None]] = []
        for i, line in enumerate(lines):
            identity = line.identity
            if identity in self._seen:
                self._duplicates[n] += 1
                continue
            self._seen.add(identity)
            candidates.append((line, identity, keys[i] if keys is not None else None))
        stored: set[str] = set()
        dialect = conn.dialect.name
        for chunk in batched(sorted(identity for _, identity, _ in candidates), _CHUNK):
            rows = await conn.execute(
                select(bank_transactions.c.identity).where(
                    one_of(bank_transactions.c.identity, chunk, dialect)
                )
            )
            stored.update(r[0] for r in rows)
        new: list[tuple[StatementLine, str, SearchKeys | None]] = []
        for line, identity, key in candidates:
            if identity in stored:
                self._duplicates[n] += 1
            else:
                new.append((line, identity, key))
                self._new.append((n, line, identity))
        lap = result._lap("duplicates", lap)
        if not new:
            return

        # 2. invoice-number keys, once an import
        await self.prepare()
        lap = time.perf_counter()

        # 3. match the credits, in statement order, against the invoices they may
        # concern (loaded in a few set-based queries, added to what earlier parts
        # loaded).  Applying a line updates the index, so a later line sees what
        # is still open.
        credits = [(line, identity, key) for line, identity, key in new if line.amount > 0]
        found = [key or search_keys(line) for line, _, key in credits]
        lap = result._lap("search keys", lap)
        index = self._index
        await load_index(conn, [line for line, _, _ in credits], found, index, self._loaded)
        lap = result._lap("loading candidates", lap)
        for (line, identity, _), key in zip(credits, found, strict=True):
            while True:
                try:
                    decision = match_line(
                        line, index, self.policy, self.today, self.similarity, key
                    )
                    break
                except NotLoaded as missing:  # rare: what the line needs, then again
                    await _load_missing(conn, index, missing, self._loaded)
            result.decisions[identity] = decision
            if decision.chosen is None:
                continue
            confidence, reason = decision.confidence, decision.reason
            for allocation in decision.allocations:
                invoice = index.invoices[int(allocation.key)]
                self._open_before.setdefault(invoice.id, invoice.open_amount)
                after = invoice.paid(allocation.amount)
                index.update(after)
                self._items.append((invoice.id, SOURCE_KIND, identity, allocation.amount))
                result.events.append(
                    PaymentMatched(
                        invoice_number=invoice.number,
                        debtor_code=invoice.debtor_code,
                        amount=allocation.amount,
                        open_amount=after.open_amount,
                        booking_date=line.booking_date,
                        confidence=confidence,
                        reason=reason,
                    )
                )
        result._lap("matching", lap)

    async def finish(self) -> ImportResult:
        """Store the statements, their transactions and what they paid."""
        result, conn, new = self.result, self.conn, self._new
        if self._first[-1] is not None:  # the current statement has lines, no end
            raise ValueError("lines were added after the last end_statement")
        lap = time.perf_counter()
        result.duplicates = sum(self._duplicates)
        result.transactions = len(new)
        new_per_statement = Counter(n for n, _, _ in new)
        statement_ids: list[int] = []
        for n, (source, fmt) in enumerate(self.statements):
            first = self._first[n]
            row = await conn.execute(
                insert(bank_statements).returning(bank_statements.c.id),
                {
                    "source": source[-300:],
                    "format": fmt,
                    "account_iban": first.account_iban if first else "",
                    "statement": (first.statement if first else "")[:64],
                    "new_lines": new_per_statement[n],
                    "duplicate_lines": self._duplicates[n],
                    "imported_at": self.now,
                },
            )
            statement_ids.append(int(row.scalar_one()))
        if not new:
            return result

        # 4. allocate, and store the transactions with their decisions.  The open
        # amounts were read in this transaction and nothing deleted an allocation
        # since: each is lowered by what is inserted, no sums re-read.  The database
        # does that work in its own thread (SQLite) or server (PostgreSQL) while
        # Python builds the transaction rows, rather than one after the other.
        refunds = await _refunds_seen(conn, new)
        allocating = asyncio.ensure_future(
            apply_allocations(conn, self._items, open_before=self._open_before)
        )
        try:
            rows = await _transaction_rows(conn, new, statement_ids, result, self.now, refunds)
        except BaseException:
            await asyncio.wait([allocating])
            raise
        await allocating
        lap = result._lap("allocating (and building the rows)", lap)
        await _insert_rows(conn, bank_transactions.name, _TRANSACTION_COLUMNS, rows)
        for chunk in batched(sorted(r.credit_id for r in refunds.values()), _IN_CHUNK):
            await conn.execute(
                update(debtor_credits)
                .where(debtor_credits.c.id.in_(chunk), debtor_credits.c.status.in_(OWED))
                .values(status="refunded")
            )
        result.refunds = len(refunds)
        needed = [
            identity
            for _, line, identity in new
            if (d := result.decisions.get(identity)) is not None
            and (d.outcome is Outcome.TO_REVIEW or (d.chosen is not None and d.overpayment > 0))
        ] + [identity for _, line, identity in new if line.reversal and line.amount < 0]
        ids: dict[str, int] = {}
        dialect = conn.dialect.name
        for chunk in batched(needed, _CHUNK):
            found = await conn.execute(
                select(bank_transactions.c.identity, bank_transactions.c.id).where(
                    one_of(bank_transactions.c.identity, chunk, dialect)
                )
            )
            ids.update((r[0], int(r[1])) for r in found)
        await _store_candidates_and_credits(conn, new, result.decisions, ids, self.now)
        lap = result._lap("storing transactions", lap)

        # 5. reversals
        for _, line, identity in new:
            if line.amount < 0 and line.reversal:
                await _reverse(conn, line, ids[identity], result)
        if len(new) > 1000:
            await _analyze(conn, "bank_transactions", "allocations")
        result._lap("reversals", lap)
        return result


@dataclass
class _Loaded:
    """What earlier parts of an import already looked up (``load_index``)."""

    references: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    ibans: set[str] = field(default_factory=set)
    debtors: set[int] = field(default_factory=set)  # every open invoice
    summarised: set[int] = field(default_factory=set)
    pairs: set[tuple[int, int]] = field(default_factory=set)  # (debtor, cents)
    amounts: set[int] = field(default_factory=set)  # cents


# The columns of a stored transaction, in the order ``_transaction_row`` gives them.
_TRANSACTION_COLUMNS = (
    "identity", "statement_id", "account_iban", "statement", "booking_date", "value_date",
    "amount", "currency", "counterparty_name", "counterparty_iban", "counterparty_bic",
    "structured_reference", "free_text", "bank_reference", "sequence", "end_to_end_id",
    "transaction_code", "reversal", "source", "status", "method", "confidence", "reason",
    "debtor_id", "allocated", "overpayment", "created_at",
)  # fmt: skip
_STATUS = _TRANSACTION_COLUMNS.index("status")


def _cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))


def _bound(dialect: Dialect, column: Any) -> Callable[[Any], Any]:
    """A value as SQLAlchemy itself would bind it into ``column`` (dates are ISO
    text on SQLite), cached: a statement holds few distinct dates."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda value: value
    return functools.lru_cache(maxsize=4096)(process)


async def _insert_rows(
    conn: AsyncConnection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert many rows through the driver itself, inside the current transaction.

    Why not ``conn.execute(insert(table), dicts)``: SQLAlchemy processes every value
    of every row in Python (12 µs a transaction row), which for a 200,000-line
    statement was a tenth of the import.  The rows here are already in the
    driver's types: cents as integers, dates as the dialect stores them.
    """
    if not rows:
        return
    raw = (await conn.get_raw_connection()).driver_connection
    statement = f"COPY {table}"
    try:
        if conn.dialect.name == "postgresql":
            await raw.copy_records_to_table(table, records=rows, columns=list(columns))  # type: ignore[union-attr]
            return
        marks = ", ".join("?" * len(columns))
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        for chunk in batched(rows, _CHUNK):
            await raw.executemany(statement, chunk)  # type: ignore[union-attr]
    except (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError) as exc:
        # As SQLAlchemy would have raised it: ``import_statements`` retries a race.
        raise IntegrityError(statement, None, exc) from exc
    except sqlite3.OperationalError as exc:
        raise OperationalError(statement, None, exc) from exc


@dataclass(frozen=True)
class _Refund:
    credit_id: int
    debtor_id: int
    reason: str


async def _refunds_seen(
    conn: AsyncConnection, new: Sequence[tuple[int, StatementLine, str]]
) -> dict[str, _Refund]:
    """Debits that pay a debtor's credit back (by the line's identity): to the
    credit's IBAN, for its amount and currency, each credit once, oldest first.

    Whether the refund went out in a pain.001 file (``relance bank refunds``) or
    by hand: once the bank shows it, the credit is no longer owed, so it is not
    proposed for a refund again nor counted against the debtor's invoices."""
    debits = [
        (line, identity)
        for _, line, identity in new
        if line.amount < 0 and not line.reversal and line.counterparty_iban
    ]
    if not debits:
        return {}
    d = debtor_credits
    ibans = sorted({compact_iban(line.counterparty_iban or "") for line, _ in debits})
    rows = await conn.execute(
        select(d.c.id, d.c.debtor_id, d.c.iban, d.c.amount, d.c.currency, debtors.c.code)
        .select_from(d.join(debtors, debtors.c.id == d.c.debtor_id))
        .where(d.c.status.in_(OWED), one_of(d.c.iban, ibans, conn.dialect.name))
        .order_by(d.c.id)
    )
    owed = list(rows)
    seen: dict[str, _Refund] = {}
    for line, identity in debits:
        iban = compact_iban(line.counterparty_iban or "")
        for credit in owed:
            if (
                compact_iban(credit.iban or "") == iban
                and credit.amount == -line.amount
                and credit.currency == line.currency
            ):
                owed.remove(credit)
                seen[identity] = _Refund(
                    credit.id,
                    credit.debtor_id,
                    f"a refund: pays back the {credit.amount:.2f} {credit.currency} credit "
                    f"of debtor {credit.code}",
                )
                break
    return seen


async def _transaction_rows(
    conn: AsyncConnection,
    new: Sequence[tuple[int, StatementLine, str]],
    statement_ids: Sequence[int],
    result: ImportResult,
    now: datetime,
    refunds: dict[str, _Refund] | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of ``bank_transactions``, counted into ``result`` by outcome.

    It hands the event loop back every few thousand rows, so that the statements
    running meanwhile (``apply_allocations``) go on to their next one.
    """
    rows = []
    day = _bound(conn.dialect, bank_transactions.c.booking_date)
    created_at = _bound(conn.dialect, bank_transactions.c.created_at)(now)
    for n, line, identity in new:
        decision = result.decisions.get(identity)
        row = _transaction_row(statement_ids[n], line, identity, decision, created_at, day)
        if refunds and (refund := refunds.get(identity)) is not None:
            row = _with_refund(row, refund)
        rows.append(row)
        status = row[_STATUS]
        if status == Outcome.MATCHED:
            result.matched += 1
        elif status == Outcome.PARTIALLY_MATCHED:
            result.partially_matched += 1
        elif status == Outcome.TO_REVIEW:
            result.to_review += 1
        else:
            result.not_payments += 1
        if len(rows) % 5000 == 0:
            await asyncio.sleep(0)
    return rows


def _transaction_row(
    statement_id: int,
    line: StatementLine,
    identity: str,
    decision: Match | None,
    created_at: Any,
    day: Callable[[date], Any],
) -> tuple[Any, ...]:
    if decision is None:
        status, method, confidence, reason = Outcome.NOT_A_PAYMENT.value, None, 0.0, ""
        if line.amount < 0:
            reason = "a debit: money leaving the account"
        debtor_id, allocated, overpayment = None, 0, 0
    else:
        status = decision.outcome.value
        best = decision.chosen or (decision.candidates[0] if decision.candidates else None)
        method = best.method.value if best else None
        confidence, reason = decision.confidence, decision.reason
        debtor_id, allocated, overpayment = None, 0, 0
        if decision.chosen is not None:
            debtor_id = decision.chosen.invoices[0].debtor_id
            overpayment = _cents(decision.overpayment)
        if decision.allocations:
            allocated = _cents(sum((a.amount for a in decision.allocations), ZERO))
    return (
        identity,
        statement_id,
        line.account_iban[:34],
        line.statement[:64],
        day(line.booking_date),
        day(line.value_date),
        _cents(line.amount),
        line.currency,
        line.counterparty_name[:200],
        (line.counterparty_iban or None) and line.counterparty_iban[:34],
        line.counterparty_bic[:11],
        line.structured_reference,
        line.free_text,
        line.bank_reference[:64],
        line.sequence[:16],
        line.end_to_end_id[:64],
        line.transaction_code[:32],
        line.reversal,
        line.source[-300:],
        status,
        method,
        confidence,
        reason,
        debtor_id,
        allocated,
        overpayment,
        created_at,
    )


def _with_refund(row: tuple[Any, ...], refund: _Refund) -> tuple[Any, ...]:
    """A debit's row that says which credit it paid back, and whose."""
    values = list(row)
    values[_TRANSACTION_COLUMNS.index("reason")] = refund.reason
    values[_TRANSACTION_COLUMNS.index("debtor_id")] = refund.debtor_id
    return tuple(values)


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
    # What the payment paid above the invoices goes too: a credit still held is
    # cancelled, and what staff had set against other invoices is taken back.
    credits = (
        await conn.execute(
            update(debtor_credits)
            .where(
                debtor_credits.c.transaction_id == original_id,
                debtor_credits.c.status.in_((*credits_repo.HELD, "applied")),
            )
            .values(status="cancelled")
            .returning(debtor_credits.c.id)
        )
    ).scalars()
    for credit_id in sorted(credits):
        reopened += await reverse_allocations(conn, credits_repo.SOURCE_KIND, str(credit_id))
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


# The columns of an ``OpenInvoice``, read without SQLAlchemy's per-value result
# processing (``type_coerce``): cents arrive as integers, dates as the driver gives
# them (ISO text on SQLite, ``date`` on PostgreSQL).  400,000 invoice rows were 2 s
# of Python that way.
_COLUMNS = (
    invoices.c.id,
    invoices.c.number,
    invoices.c.debtor_id,
    debtors.c.name,
    debtors.c.code,
    invoices.c.structured_reference,
    type_coerce(invoices.c.amount, BigInteger),
    type_coerce(invoices.c.open_amount, BigInteger),
    type_coerce(invoices.c.due_date, String),
    type_coerce(invoices.c.issue_date, String),
    invoices.c.currency,
    type_coerce(invoices.c.written_off, Integer),
)


@functools.lru_cache(maxsize=8192)
def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _open_invoice(row: Any) -> OpenInvoice:
    return OpenInvoice(
        row[0], row[1], row[2], row[3], row[5], _money(row[6]), _money(row[7]),
        _day(row[8]), _day(row[9]), row[10], row[4],
    )  # fmt: skip


def _select_invoices(*conditions: Any) -> Any:
    return (
        select(*_COLUMNS)
        .select_from(invoices.join(debtors, debtors.c.id == invoices.c.debtor_id))
        .where(invoices.c.kind == InvoiceKind.INVOICE.value, *conditions)
    )


def _payable() -> Any:
    # ``> 0`` written out, not bound: only then may SQLite use the partial index
    # ``ix_bank_invoices_open_amount`` (open invoices only).
    return and_(invoices.c.open_amount > literal_column("0"), invoices.c.written_off.is_(False))


async def _fetch(
    conn: AsyncConnection,
    column: Any,
    values: Iterable[Any],
    *conditions: Any,
    index: InvoiceIndex | None = None,
) -> list[OpenInvoice]:
    """The invoices whose ``column`` is one of ``values``, ``_CHUNK`` values a query.

    With ``index``, invoices written off are noted in it as not payable.
    """
    found: list[OpenInvoice] = []
    dialect = conn.dialect.name
    for chunk in batched(sorted(set(values)), _CHUNK):
        rows = await all_rows(conn, _select_invoices(one_of(column, chunk, dialect), *conditions))
        found.extend(map(_open_invoice, rows))
        if index is not None:
            index.not_payable.update(int(row[0]) for row in rows if row[11])
    return found


async def load_index(
    conn: AsyncConnection,
    lines: Sequence[StatementLine],
    keys: Sequence[SearchKeys],
    index: InvoiceIndex | None = None,
    loaded: _Loaded | None = None,
) -> InvoiceIndex:
    """The invoices the lines of a statement may concern, in a few set-based queries.

    References and invoice numbers first; the debtors of known IBANs and the open
    amounts only for the lines those leave unexplained, as a line that names its
    invoice needs neither (and a debtor's every open invoice is a lot to load).

    Given the ``index`` of earlier parts of the same import and what they looked
    up (``loaded``), it adds to them what these lines need and they did not: an
    invoice already there keeps the open amount earlier lines left it.
    """
    index = index if index is not None else InvoiceIndex()
    loaded = loaded if loaded is not None else _Loaded()
    dialect = conn.dialect.name
    references = {r.reference for k in keys for r in k.found} - loaded.references
    numbers = {n for k in keys for m in k.mentions for n in (m.strict, *m.weak)} - loaded.numbers
    loaded.references |= references
    loaded.numbers |= numbers

    for invoice in await _fetch(conn, invoices.c.structured_reference, references, index=index):
        index.add(invoice)
    # Invoice numbers: their keys joined to the invoices, one query per chunk.
    k = bank_invoice_keys
    for chunk in batched(sorted(numbers), _CHUNK):
        rows = await all_rows(
            conn,
            select(*_COLUMNS)
            .select_from(
                k.join(invoices, invoices.c.id == k.c.invoice_id).join(
                    debtors, debtors.c.id == invoices.c.debtor_id
                )
            )
            .where(one_of(k.c.key, chunk, dialect), invoices.c.kind == InvoiceKind.INVOICE.value),
        )
        for row in rows:
            if row[11]:
                index.not_payable.add(int(row[0]))
            known = index.invoices.get(int(row[0]))
            index.add_numbered(known or _open_invoice(row))

    unexplained = [
        (line, key)
        for line, key in zip(lines, keys, strict=True)
        if line.amount > 0 and not _explained(line, key, index)
    ]
    await _load_ibans(conn, index, loaded, {key.iban for _, key in unexplained if key.iban})
    await _load_debtors(conn, index, loaded, unexplained)
    amounts = {
        line.amount
        for line, key in unexplained
        if line.counterparty_name and not (key.iban and key.iban in index.debtors_by_iban)
    }
    await _load_amounts(conn, index, loaded, amounts)
    return index


def _explained(line: StatementLine, key: SearchKeys, index: InvoiceIndex) -> bool:
    """Whether a line names its invoices well enough that it needs no amount
    looked up: a reference or invoice number found (for what they have open, or
    with no IBAN to weigh against them), or a number without its
    prefix whose invoices, of one debtor, are open for the amount.  Only a guess
    of what to load: a line that needs more after all gets it (``NotLoaded``)."""
    named = {i for r in key.found for i in index.by_reference.get(r.reference, ())}
    named |= {i for m in key.mentions for i in index.by_strict_number.get(m.strict, ())}
    if named:
        # For another amount than they have open, the payer's IBAN is weighed too.
        return not key.iban or sum((index.invoices[i].open_amount for i in named), ZERO) == (
            line.amount
        )
    weak = {i for m in key.mentions for n in m.weak for i in index.by_weak_number.get(n, ())}
    found = [index.invoices[i] for i in weak]
    return (
        bool(found)
        and len({i.debtor_id for i in found}) == 1
        and sum((i.open_amount for i in found), ZERO) == line.amount
    )


async def _load_debtors(
    conn: AsyncConnection,
    index: InvoiceIndex,
    loaded: _Loaded,
    unexplained: Sequence[tuple[StatementLine, SearchKeys]],
) -> None:
    """For lines paying from a debtor's IBAN: the debtor's invoices open for the
    line's amount, and how many are open and their total; every open invoice
    only of a debtor none of whose invoices is open for the amount (the line is
    then for their sum, or for staff with all of them)."""
    dialect = conn.dialect.name
    pairs = {
        (debtor_id, cents)
        for line, key in unexplained
        if key.iban and (cents := _cents(line.amount)) < 2**31
        for debtor_id in index.debtors_by_iban.get(key.iban, ())
    }
    pairs = {(d, c) for d, c in pairs if d not in loaded.debtors} - loaded.pairs
    loaded.pairs |= pairs
    wanted = {d for d, _ in pairs}
    found: dict[tuple[int, int], list[OpenInvoice]] = {p: [] for p in pairs}
    amounts = {c for _, c in pairs}
    for chunk in batched(sorted(wanted), _CHUNK):
        for invoice in await _fetch(
            conn,
            invoices.c.debtor_id,
            chunk,
            _payable(),
            one_of(type_coerce(invoices.c.open_amount, BigInteger), sorted(amounts), dialect),
        ):
            pair = (invoice.debtor_id, _cents(invoice.open_amount))
            if pair in found:
                found[pair].append(invoice)
    whole = {d for (d, _), got in found.items() if not got}
    await _load_debtors_whole(conn, index, loaded, whole)
    summarise = sorted(wanted - loaded.debtors - loaded.summarised)
    loaded.summarised.update(summarise)
    for chunk in batched(summarise, _CHUNK):
        rows = await all_rows(
            conn,
            select(
                invoices.c.debtor_id,
                func.count(),
                func.sum(type_coerce(invoices.c.open_amount, BigInteger)),
            )
            .where(
                one_of(invoices.c.debtor_id, chunk, dialect),
                invoices.c.kind == InvoiceKind.INVOICE.value,
                _payable(),
            )
            .group_by(invoices.c.debtor_id),
        )
        counted = {int(r[0]): (int(r[1]), _money(int(r[2]))) for r in rows}
        for debtor_id in chunk:
            index.summarise_debtor(debtor_id, *counted.get(debtor_id, (0, ZERO)))
    for (debtor_id, cents), got in found.items():
        if debtor_id not in loaded.debtors:
            index.add_debtor_amount(
                debtor_id, _money(cents), (index.invoices.get(i.id, i) for i in got)
            )


async def _load_debtors_whole(
    conn: AsyncConnection, index: InvoiceIndex, loaded: _Loaded, debtor_ids: set[int]
) -> None:
    """Every open invoice of these debtors."""
    debtor_ids = debtor_ids - loaded.debtors
    loaded.debtors |= debtor_ids
    for invoice in await _fetch(conn, invoices.c.debtor_id, debtor_ids, _payable()):
        index.add_debtor_open(index.invoices.get(invoice.id, invoice))
    for debtor_id in debtor_ids:
        index.complete_debtor(debtor_id)


async def _load_amounts(
    conn: AsyncConnection, index: InvoiceIndex, loaded: _Loaded, amounts: set[Decimal]
) -> None:
    """Every payable invoice open for one of these amounts."""
    # ``one_of`` binds integers as 32-bit on PostgreSQL; no invoice is open for more.
    cents = {c for a in amounts if (c := _cents(a)) < 2**31} - loaded.amounts
    loaded.amounts |= cents
    for invoice in await _fetch(
        conn, type_coerce(invoices.c.open_amount, BigInteger), cents, _payable()
    ):
        index.add_amount_open(index.invoices.get(invoice.id, invoice))
    index.watch_amounts(amounts)


async def _load_ibans(
    conn: AsyncConnection, index: InvoiceIndex, loaded: _Loaded, ibans: set[str]
) -> None:
    """The debtors of these IBANs."""
    ibans = ibans - loaded.ibans
    loaded.ibans |= ibans
    for chunk in batched(sorted(ibans), _CHUNK):
        rows = await conn.execute(
            select(debtor_ibans.c.iban, debtor_ibans.c.debtor_id).where(
                one_of(debtor_ibans.c.iban, chunk, conn.dialect.name)
            )
        )
        for iban, debtor_id in rows:
            index.add_iban(iban, int(debtor_id))
    index.looked_up_ibans(ibans)


async def _load_missing(
    conn: AsyncConnection, index: InvoiceIndex, missing: NotLoaded, loaded: _Loaded
) -> None:
    if missing.kind == "iban":
        assert isinstance(missing.key, str)
        await _load_ibans(conn, index, loaded, {missing.key})
    elif missing.kind == "debtor":
        assert isinstance(missing.key, int)
        await _load_debtors_whole(conn, index, loaded, {missing.key})
    else:
        assert isinstance(missing.key, Decimal)
        await _load_amounts(conn, index, loaded, {missing.key})


# --------------------------------------------------------------------- staff and refunds


def lines_to_review() -> Any:
    """The query of the lines waiting for staff, in order (by the partial index
    ``ix_bank_transactions_to_review``, whose condition it repeats)."""
    t = bank_transactions
    return select(t).where(text(TO_REVIEW)).order_by(t.c.id)


async def transactions_to_review(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Lines waiting for staff, each with its ranked candidates."""
    c = bank_match_candidates
    async with engine.connect() as conn:
        lines = (await conn.execute(lines_to_review())).all()
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
