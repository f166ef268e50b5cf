"""Import -> match -> allocate, on SQLite and PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.bank.detect import parse_file
from adapters.db.bank_repo import (
    _open_invoice,
    _select_invoices,
    accept_candidate,
    import_statements,
    lines_to_review,
    transactions_to_review,
)
from adapters.db.bank_schema import bank_transactions, debtor_credits
from adapters.db.credits_repo import refunds_due
from adapters.db.schema import invoices
from adapters.db.sql import MAPPED_BYTES, all_rows, mapped_reads
from domain.statement import ParsedStatement, StatementLine
from tests.integration.bank_fixtures import Inv, invoice_state, seed

DATA = Path(__file__).resolve().parents[1] / "data"
TODAY = date(2026, 3, 12)

NAMES = {
    "D1": "Boulangerie Dupont SRL",
    "D2": "Jan Peeters",
    "D3": "ACME Industries GmbH",
    "D4": "Marie Dubois",
    "D5": "La Croix d'Or SPRL",
}
IBANS = {"BE71096123456769": "D1", "DE89370400440532013000": "D3"}
INVOICES = [
    Inv("INV-1001", "D1", "400.00", "000000100131"),
    Inv("INV-1002", "D2", "500.00", "000000100232"),
    Inv("INV-2026-0042", "D4", "150.50", "002026004240"),
    Inv("INV-1005", "D3", "1210.00", "RF18539007547034"),
    Inv("INV-0817", "D5", "817.56", "269021157996"),
]


async def _import(engine: AsyncEngine, *names: str) -> dict[str, int]:
    parsed = [s for name in names for s in parse_file(DATA / name)]
    return (await import_statements(engine, parsed, today=TODAY)).summary()


async def test_camt053_pays_and_partially_pays(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, IBANS, INVOICES)
    summary = await _import(engine, "camt/camt053_v02_batch.xml")
    assert summary == {
        "transactions": 4,
        "duplicates": 0,
        "matched": 2,
        "partially_matched": 1,
        "to_review": 0,
    }
    state = await invoice_state(engine)
    assert state["INV-1001"] == ("0.00", "paid")  # OGM in the structured field
    assert state["INV-1002"] == ("300.00", "partially_paid")  # +++OGM+++ typed in Ustrd
    assert state["INV-2026-0042"] == ("0.00", "paid")  # invoice number in the text
    assert state["INV-1005"] == ("1210.00", "open")


async def test_same_file_twice_and_an_overlapping_notification(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, IBANS, INVOICES)
    await _import(engine, "camt/camt053_v02_batch.xml")
    before = await invoice_state(engine)
    again = await _import(engine, "camt/camt053_v02_batch.xml")
    assert again == {
        "transactions": 0,
        "duplicates": 4,
        "matched": 0,
        "partially_matched": 0,
        "to_review": 0,
    }
    # The camt.054 of the same day repeats the 400.00 movement (same AcctSvcrRef):
    # a duplicate; its other entry names no invoice we have, so staff look at it.
    notification = await _import(engine, "camt/camt054_v04.xml")
    assert notification["duplicates"] == 1
    assert notification["transactions"] == 1
    assert notification["to_review"] == 1
    assert await invoice_state(engine) == before
    review = await transactions_to_review(engine)
    assert [r["amount"] for r in review] == ["300.00"]


async def test_reversal_reopens_what_the_payment_paid(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, IBANS, INVOICES)
    summary = await _import(engine, "camt/camt053_v08_reversal.xml")
    assert summary["transactions"] == 2
    assert summary["matched"] == 1
    state = await invoice_state(engine)
    assert state["INV-1005"] == ("1210.00", "open")
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(bank_transactions.c.amount, bank_transactions.c.status).order_by(
                bank_transactions.c.id
            )
        )
        assert [(f"{a:.2f}", s) for a, s in rows] == [
            ("1210.00", "reversed"),
            ("-1210.00", "reversal"),
        ]


async def test_real_kbc_coda_file(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, IBANS, INVOICES)
    summary = await _import(engine, "coda/tryton-CODA.txt")
    assert summary["transactions"] == 81
    state = await invoice_state(engine)
    assert state["INV-0817"] == ("0.00", "paid")  # type-101 communication 269/0211/57996
    again = await _import(engine, "coda/tryton-CODA.txt")
    assert again["transactions"] == 0
    assert again["duplicates"] == 81


async def test_overpayment_becomes_a_credit_with_a_refund(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, IBANS, [Inv("INV-1001", "D1", "350.00", "000000100131")])
    summary = await _import(engine, "camt/camt053_v02_batch.xml")
    assert summary["matched"] == 1
    state = await invoice_state(engine)
    assert state["INV-1001"] == ("0.00", "paid")
    async with engine.connect() as conn:
        credits = (await conn.execute(select(debtor_credits.c.amount))).scalars().all()
    assert [f"{c:.2f}" for c in credits] == ["50.00"]
    due = await refunds_due(engine)
    assert [(r.iban, f"{r.amount:.2f}") for r in due.payable] == [("BE71096123456769", "50.00")]


def _debit(amount: str, iban: str, reference: str) -> StatementLine:
    return StatementLine(
        account_iban="BE68539007547034",
        statement="S-2",
        booking_date=TODAY,
        value_date=TODAY,
        amount=Decimal(amount),
        currency="EUR",
        counterparty_name="Boulangerie Dupont SRL",
        counterparty_iban=iban,
        structured_reference=None,
        free_text="remboursement",
        bank_reference=reference,
    )


async def test_a_refund_seen_on_the_statement_settles_the_credit(engine: AsyncEngine) -> None:
    """A blind probe paid a credit back by hand and then found it in the next
    refund file as well: a debit to the credit's IBAN for its amount pays it back."""
    await seed(engine, NAMES, IBANS, [Inv("INV-1001", "D1", "350.00", "000000100131")])
    await _import(engine, "camt/camt053_v02_batch.xml")  # 50.00 paid too much
    assert [f"{r.amount:.2f}" for r in (await refunds_due(engine)).payable] == ["50.00"]
    statement = ParsedStatement(
        "refunds.xml",
        "camt.053",
        (
            _debit("-49.00", "BE71096123456769", "OUT-1"),  # another amount: not it
            _debit("-50.00", "DE89370400440532013000", "OUT-2"),  # another IBAN: not it
            _debit("-50.00", "BE71 0961 2345 6769", "OUT-3"),  # the refund
            _debit("-50.00", "BE71096123456769", "OUT-4"),  # once only
        ),
    )
    result = await import_statements(engine, [statement], today=TODAY)
    assert result.refunds == 1
    assert (await refunds_due(engine)).payable == []
    async with engine.connect() as conn:
        statuses = (await conn.execute(select(debtor_credits.c.status))).scalars().all()
        rows = (
            await conn.execute(
                select(bank_transactions.c.bank_reference, bank_transactions.c.reason)
                .where(bank_transactions.c.amount < 0)
                .order_by(bank_transactions.c.bank_reference)
            )
        ).all()
    assert statuses == ["refunded"]
    reasons = dict(rows)
    assert reasons["OUT-3"] == "a refund: pays back the 50.00 EUR credit of debtor D1"
    assert "refund" not in reasons["OUT-1"] + reasons["OUT-2"] + reasons["OUT-4"]


async def test_staff_accept_a_name_and_amount_candidate(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, IBANS, [Inv("X-9", "D4", "150.50", "")])
    summary = await _import(engine, "camt/camt053_v02_batch.xml")
    assert summary["to_review"] == 3  # the two others name references we do not have
    [waiting] = [r for r in await transactions_to_review(engine) if r["amount"] == "150.50"]
    [candidate] = waiting["candidates"]
    assert candidate["invoices"] == "X-9"
    assert candidate["method"] == "name_amount"
    assert "'Marie Dubois' resembles 'Marie Dubois'" in candidate["reason"]
    assert (await invoice_state(engine))["X-9"] == ("150.50", "open")
    events = await accept_candidate(engine, waiting["id"], 1, TODAY)
    assert [(e.invoice_number, e.amount, e.open_amount) for e in events] == [
        ("X-9", Decimal("150.50"), Decimal("0.00"))
    ]
    assert (await invoice_state(engine))["X-9"] == ("0.00", "paid")
    assert len(await transactions_to_review(engine)) == 2


async def test_two_imports_of_the_same_file_at_once(engine: AsyncEngine) -> None:
    import asyncio

    await seed(engine, NAMES, IBANS, INVOICES)
    parsed = parse_file(DATA / "camt/camt053_v02_batch.xml")
    first, second = await asyncio.gather(
        import_statements(engine, parsed, today=TODAY),
        import_statements(engine, parsed, today=TODAY),
    )
    assert first.transactions + second.transactions == 4
    assert first.duplicates + second.duplicates == 4
    state = await invoice_state(engine)
    assert state["INV-1002"] == ("300.00", "partially_paid")  # paid 200.00 once, not twice


async def test_the_list_to_review_reads_the_partial_index(engine: AsyncEngine) -> None:
    """Only the lines to review are indexed by status (migration 0010): the list's
    query must imply the index's condition for the database to use it."""
    query = lines_to_review().compile(dialect=engine.dialect)
    explain = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # On a table this small a scan is cheaper: ask whether the index can serve.
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = await conn.exec_driver_sql(f"{explain} {query}", tuple(query.params.values()))
        plan = " ".join(str(r[-1]) for r in rows)
    assert "ix_bank_transactions_to_review" in plan


async def test_invoices_read_as_json_rows_equal_the_driver_rows(engine: AsyncEngine) -> None:
    """``all_rows`` (one JSON array on SQLite) gives the invoices ``.all()`` gives."""
    await seed(engine, NAMES, IBANS, INVOICES)
    async with engine.begin() as conn:
        await conn.execute(
            update(invoices).where(invoices.c.number == "INV-0817").values(written_off=True)
        )
        query = _select_invoices()
        packed = await all_rows(conn, query)
        plain = (await conn.execute(query)).all()
    assert len(packed) == len(INVOICES)
    assert sorted(map(_open_invoice, packed)) == sorted(map(_open_invoice, plain))
    assert sorted(bool(r[11]) for r in packed) == [False] * 4 + [True]


async def test_sqlite_reads_through_a_map_only_while_an_import_runs(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mapped_reads``: the import's connection maps the file, then no longer."""
    await seed(engine, NAMES, IBANS, INVOICES)
    sqlite = engine.dialect.name == "sqlite"
    seen: list[int] = []
    real = mapped_reads

    @contextlib.asynccontextmanager
    async def watched(conn: AsyncConnection, size: int = MAPPED_BYTES) -> AsyncIterator[None]:
        async with real(conn, size):
            if sqlite:
                seen.append((await conn.exec_driver_sql("PRAGMA mmap_size")).scalar_one())
            else:
                seen.append(size)
            yield
        if sqlite:
            assert (await conn.exec_driver_sql("PRAGMA mmap_size")).scalar_one() == 0

    monkeypatch.setattr("adapters.db.bank_repo.mapped_reads", watched)
    summary = await _import(engine, "camt/camt053_v02_batch.xml")
    assert summary["matched"] == 2
    assert seen == [MAPPED_BYTES]

    # An import that fails half way leaves the connection unmapped too.
    async with engine.connect() as conn:
        with pytest.raises(ZeroDivisionError):
            async with real(conn):
                1 / 0  # noqa: B018
        if sqlite:
            assert (await conn.exec_driver_sql("PRAGMA mmap_size")).scalar_one() == 0


async def test_transactions_store_their_time_as_the_statement_does(engine: AsyncEngine) -> None:
    """The bulk insert binds values as SQLAlchemy does: on SQLite the same text
    for the same instant (it once stored the driver's own "…+00:00" form)."""
    await seed(engine, NAMES, IBANS, INVOICES)
    await _import(engine, "camt/camt053_v02_batch.xml")
    async with engine.connect() as conn:
        rows = (
            await conn.exec_driver_sql(
                "SELECT DISTINCT t.created_at, s.imported_at"
                " FROM bank_transactions t JOIN bank_statements s ON s.id = t.statement_id"
            )
        ).all()
        days = (await conn.exec_driver_sql("SELECT booking_date FROM bank_transactions")).all()
    assert len(rows) == 1
    created, imported = rows[0]
    assert created == imported
    if engine.dialect.name == "sqlite":
        assert "+" not in created
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) for (day,) in days)


async def test_a_returned_direct_debit_reopens_what_its_collection_paid(
    engine: AsyncEngine,
) -> None:
    """The collection of RE-2026-0311 and, on the same statement, its return by the
    debtor's bank (RtrInf MD06): the invoice is open again, the credit reversed."""
    await seed(
        engine,
        {"W1": "Weber Elektro OHG"},
        {"DE74500105175407324100": "W1"},
        [Inv("RE-2026-0311", "W1", "1570.00", "")],
    )
    summary = await _import(engine, "camt/camt053_v04_returned_direct_debit.xml")
    assert summary["matched"] == 1
    assert (await invoice_state(engine))["RE-2026-0311"] == ("1570.00", "open")
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(bank_transactions.c.amount, bank_transactions.c.status)
            .where(bank_transactions.c.counterparty_iban == "DE74500105175407324100")
            .order_by(bank_transactions.c.id)
        )
        assert [(f"{a:.2f}", s) for a, s in rows] == [
            ("1570.00", "reversed"),
            ("-1570.00", "reversal"),
        ]
