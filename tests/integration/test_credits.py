"""Overpayments held for debtors: set against their invoices, refunded, reversed.
Both databases (the ``engine`` fixture)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.allocations import refresh_open_amounts
from adapters.db.bank_repo import import_statements
from adapters.db.bank_schema import debtor_credits
from adapters.db.credits_repo import (
    CreditError,
    approve_refund,
    held_credits,
    mark_refunds_exported,
    refunds_due,
    set_against,
)
from adapters.db.schema import invoices
from domain.allocation import AllocationOrder
from domain.reconciliation import Policy
from domain.statement import ParsedStatement, StatementLine
from tests.integration.bank_fixtures import Inv, invoice_state, seed

TODAY = date(2026, 3, 12)
IBAN = "BE71096123456769"
NAMES = {"D1": "Boulangerie Dupont SRL", "D2": "Jan Peeters"}
LEDGER = [
    Inv("INV-1001", "D1", "350.00", "000000100131", due=date(2026, 3, 1)),
    Inv("INV-0990", "D1", "30.00", "", due=date(2026, 2, 1)),
    Inv("INV-1010", "D1", "100.00", "", due=date(2026, 3, 5)),
    Inv("INV-2001", "D2", "80.00", "", due=date(2026, 2, 1)),
]


def _line(amount: str, reference: str, bank_reference: str, **extra: object) -> StatementLine:
    return StatementLine(
        account_iban="BE68539007547034",
        statement="S-1",
        booking_date=TODAY,
        value_date=TODAY,
        amount=Decimal(amount),
        currency="EUR",
        counterparty_name="Boulangerie Dupont SRL",
        counterparty_iban=IBAN,
        structured_reference=reference or None,
        free_text="",
        bank_reference=bank_reference,
        **extra,  # type: ignore[arg-type]
    )


async def _pay(engine: AsyncEngine, *lines: StatementLine) -> None:
    statement = ParsedStatement("s.xml", "camt.053", tuple(lines))
    await import_statements(engine, [statement], today=TODAY)


async def _overpaid(engine: AsyncEngine) -> int:
    """D1 pays 400.00 for INV-1001 (350.00): a credit of 50.00, D1 still owing 130.00."""
    await seed(engine, NAMES, {IBAN: "D1"}, LEDGER)
    await _pay(engine, _line("400.00", "000000100131", "PAY-1"))
    [credit] = await _held(engine)
    assert (credit["amount"], credit["status"]) == (Decimal("50.00"), "open")
    assert (credit["open_invoices"], credit["owed"]) == (2, Decimal("130.00"))
    return int(credit["id"])


async def _held(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        return await held_credits(conn)


async def test_a_debtor_who_still_owes_is_not_refunded_without_a_decision(
    engine: AsyncEngine,
) -> None:
    credit_id = await _overpaid(engine)
    due = await refunds_due(engine)
    assert due.payable == []
    [skipped] = due.skipped
    assert skipped["credit"] == credit_id
    assert "still owes 130.00 EUR on 2 open invoice(s)" in skipped["reason"]


async def test_the_credit_pays_the_oldest_invoices_and_is_used_up(engine: AsyncEngine) -> None:
    credit_id = await _overpaid(engine)
    events = await set_against(engine, credit_id, TODAY)
    assert [(e.invoice_number, e.amount, e.open_amount) for e in events] == [
        ("INV-0990", Decimal("30.00"), Decimal("0.00")),
        ("INV-1010", Decimal("20.00"), Decimal("80.00")),
    ]
    state = await invoice_state(engine)
    assert state["INV-0990"] == ("0.00", "paid")
    assert state["INV-1010"] == ("80.00", "partially_paid")
    assert state["INV-2001"] == ("80.00", "open")  # another debtor's: untouched
    assert await _held(engine) == []
    assert not await refunds_due(engine)
    # Open amounts recomputed from every allocation agree with the ones lowered.
    async with engine.begin() as conn:
        ids = list((await conn.execute(select(invoices.c.id))).scalars())
        await conn.execute(update(invoices).values(open_amount=Decimal("1.00")))
        await refresh_open_amounts(conn, ids)
    assert await invoice_state(engine) == state
    with pytest.raises(CreditError, match="is applied"):
        await set_against(engine, credit_id, TODAY)


async def test_what_is_left_stays_a_credit_and_is_refunded_once_nothing_is_owed(
    engine: AsyncEngine,
) -> None:
    credit_id = await _overpaid(engine)
    await set_against(engine, credit_id, TODAY, invoice_number="INV-0990")
    [credit] = await _held(engine)
    assert (credit["amount"], credit["status"], credit["owed"]) == (
        Decimal("20.00"),
        "open",
        Decimal("100.00"),
    )
    async with engine.begin() as conn:  # INV-1010 written off: D1 owes nothing now
        await conn.execute(
            update(invoices).where(invoices.c.number == "INV-1010").values(written_off=True)
        )
    due = await refunds_due(engine)
    assert [(r.credit_id, r.amount, r.iban) for r in due.payable] == [
        (credit_id, Decimal("20.00"), IBAN)
    ]


async def test_one_invoice_of_another_debtor_or_currency_is_refused(engine: AsyncEngine) -> None:
    credit_id = await _overpaid(engine)
    with pytest.raises(CreditError, match="INV-2001 is not an open EUR invoice of debtor D1"):
        await set_against(engine, credit_id, TODAY, invoice_number="INV-2001")
    with pytest.raises(CreditError, match="there is no credit 999"):
        await set_against(engine, 999, TODAY)
    assert [c["amount"] for c in await _held(engine)] == [Decimal("50.00")]


async def test_allocation_order_is_the_creditors(engine: AsyncEngine) -> None:
    credit_id = await _overpaid(engine)
    policy = Policy(order=AllocationOrder.LARGEST_FIRST)
    events = await set_against(engine, credit_id, TODAY, policy)
    assert [(e.invoice_number, e.amount) for e in events] == [("INV-1010", Decimal("50.00"))]


async def test_a_manager_approves_a_refund_although_the_debtor_owes(engine: AsyncEngine) -> None:
    credit_id = await _overpaid(engine)
    assert await approve_refund(engine, credit_id) == Decimal("50.00")
    assert await approve_refund(engine, credit_id) == Decimal("50.00")  # once is enough
    due = await refunds_due(engine)
    assert [(r.credit_id, r.amount) for r in due.payable] == [(credit_id, Decimal("50.00"))]
    assert due.skipped == []
    await mark_refunds_exported(engine, [credit_id])
    assert not await refunds_due(engine)
    with pytest.raises(CreditError, match="is exported"):
        await set_against(engine, credit_id, TODAY)


async def test_no_refund_is_approved_to_an_invalid_iban(engine: AsyncEngine) -> None:
    credit_id = await _overpaid(engine)
    async with engine.begin() as conn:
        await conn.execute(update(debtor_credits).values(iban="BE00123"))
    with pytest.raises(CreditError, match="IBAN BE00123 is not valid"):
        await approve_refund(engine, credit_id)
    assert [c["status"] for c in await _held(engine)] == ["open"]


async def test_a_credit_changed_meanwhile_is_not_spent_twice(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two managers decide the same credit at once: the second one's read is stale."""
    from adapters.db import credits_repo

    credit_id = await _overpaid(engine)
    real_held = credits_repo._held

    async def read_then_someone_else_spends(conn, credit_id):  # type: ignore[no-untyped-def]
        row = await real_held(conn, credit_id)
        await conn.execute(
            update(debtor_credits)
            .where(debtor_credits.c.id == credit_id)
            .values(amount=Decimal("10.00"))
        )
        return row

    monkeypatch.setattr(credits_repo, "_held", read_then_someone_else_spends)
    with pytest.raises(CreditError, match="changed meanwhile"):
        await set_against(engine, credit_id, TODAY)
    monkeypatch.undo()
    # The failed attempt rolled back: nothing allocated, the credit as it was.
    assert (await invoice_state(engine))["INV-0990"] == ("30.00", "open")
    assert [c["amount"] for c in await _held(engine)] == [Decimal("50.00")]


async def test_a_reversed_payment_takes_back_what_its_credit_paid(engine: AsyncEngine) -> None:
    credit_id = await _overpaid(engine)
    await set_against(engine, credit_id, TODAY)
    await _pay(engine, _line("-400.00", "000000100131", "REV-1", reversal=True))
    state = await invoice_state(engine)
    assert state["INV-1001"] == ("350.00", "open")
    assert state["INV-0990"] == ("30.00", "open")
    assert state["INV-1010"] == ("100.00", "open")
    async with engine.connect() as conn:
        statuses = (await conn.execute(select(debtor_credits.c.status))).scalars().all()
    assert statuses == ["cancelled"]


async def test_disputed_invoices_are_paid_from_a_credit_only_when_staff_name_one(
    engine: AsyncEngine,
) -> None:
    credit_id = await _overpaid(engine)
    async with engine.begin() as conn:
        await conn.execute(
            update(invoices)
            .where(invoices.c.number.in_(["INV-0990", "INV-1010"]))
            .values(disputed=True, status="disputed")
        )
    [credit] = await _held(engine)
    assert (credit["open_invoices"], credit["undisputed_invoices"]) == (2, 0)
    with pytest.raises(CreditError, match="debtor D1 has no open EUR invoice"):
        await set_against(engine, credit_id, TODAY)
    events = await set_against(engine, credit_id, TODAY, invoice_number="INV-1010")
    assert [(e.invoice_number, e.amount) for e in events] == [("INV-1010", Decimal("50.00"))]
