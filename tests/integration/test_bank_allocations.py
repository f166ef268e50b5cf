"""``apply_allocations`` with ``open_before`` (the bank import's fast path) gives the
same open amounts and statuses as summing every allocation, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.allocations import apply_allocations, refresh_open_amounts
from adapters.db.schema import allocations, invoices
from tests.integration.bank_fixtures import Inv, invoice_state, seed

NAMES = {"D1": "Dupont", "D2": "Peeters"}
ITEMS = [
    Inv("I-1", "D1", "400.00", "000000100131"),
    Inv("I-2", "D1", "100.00", "000000100232"),
    Inv("I-3", "D2", "250.00", "000000100333"),
    Inv("I-4", "D2", "80.00", "000000100434"),
]


async def _ids(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(invoices.c.number, invoices.c.id))
        return {r[0]: int(r[1]) for r in rows}


async def _open(engine: AsyncEngine) -> dict[int, Decimal]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(invoices.c.id, invoices.c.open_amount))
        return {int(r[0]): r[1] for r in rows}


async def _same_as_full_recompute(engine: AsyncEngine) -> None:
    """What the incremental path wrote equals what summing every allocation gives."""
    before = await invoice_state(engine)
    async with engine.begin() as conn:
        await refresh_open_amounts(conn, sorted((await _ids(engine)).values()))
    assert await invoice_state(engine) == before


async def test_new_allocations_lower_the_open_amounts(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, {}, ITEMS)
    ids = await _ids(engine)
    async with engine.begin() as conn:
        await apply_allocations(
            conn,
            [
                (ids["I-1"], "bank", "tx-1", Decimal("150.00")),
                (ids["I-2"], "bank", "tx-1", Decimal("100.00")),
                (ids["I-3"], "bank", "tx-2", Decimal("250.00")),
            ],
            open_before=await _open(engine),
        )
    state = await invoice_state(engine)
    assert state["I-1"] == ("250.00", "partially_paid")
    assert state["I-2"] == ("0.00", "paid")
    assert state["I-3"] == ("0.00", "paid")
    assert state["I-4"] == ("80.00", "open")
    await _same_as_full_recompute(engine)


async def test_a_repeat_is_not_subtracted_twice(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, {}, ITEMS)
    ids = await _ids(engine)
    async with engine.begin() as conn:
        await apply_allocations(conn, [(ids["I-1"], "bank", "tx-1", Decimal("150.00"))])
    async with engine.begin() as conn:
        # tx-1 again (ignored by the unique constraint) and tx-2, new.
        await apply_allocations(
            conn,
            [
                (ids["I-1"], "bank", "tx-1", Decimal("150.00")),
                (ids["I-1"], "bank", "tx-2", Decimal("50.00")),
                (ids["I-2"], "bank", "tx-1", Decimal("30.00")),
            ],
            open_before=await _open(engine),
        )
    state = await invoice_state(engine)
    assert state["I-1"] == ("200.00", "partially_paid")
    assert state["I-2"] == ("70.00", "partially_paid")
    async with engine.connect() as conn:
        count = len((await conn.execute(select(allocations.c.id))).all())
    assert count == 3
    await _same_as_full_recompute(engine)


async def test_written_off_and_disputed_keep_their_status(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, {}, ITEMS)
    ids = await _ids(engine)
    async with engine.begin() as conn:
        await conn.execute(
            update(invoices)
            .where(invoices.c.id == ids["I-1"])
            .values(written_off=True, status="written_off")
        )
        await conn.execute(
            update(invoices)
            .where(invoices.c.id.in_([ids["I-2"], ids["I-3"]]))
            .values(disputed=True)
        )
    async with engine.begin() as conn:
        await apply_allocations(
            conn,
            [
                (ids["I-1"], "bank", "tx-1", Decimal("100.00")),
                (ids["I-2"], "bank", "tx-1", Decimal("40.00")),
                (ids["I-3"], "bank", "tx-1", Decimal("250.00")),
            ],
            open_before=await _open(engine),
        )
    state = await invoice_state(engine)
    assert state["I-1"] == ("300.00", "written_off")
    assert state["I-2"] == ("60.00", "disputed")
    assert state["I-3"] == ("0.00", "paid")  # nothing left to dispute
    await _same_as_full_recompute(engine)


async def test_a_stale_or_clamped_open_amount_is_recomputed_in_full(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, {}, ITEMS)
    ids = await _ids(engine)
    stale = await _open(engine)
    async with engine.begin() as conn:
        # Another writer paid I-3 meanwhile: what the caller read is stale.
        await apply_allocations(conn, [(ids["I-3"], "mollie", "p-1", Decimal("50.00"))])
        # I-4 was overpaid (clamped at 0): what it had received is not in open_before.
        await apply_allocations(conn, [(ids["I-4"], "mollie", "p-2", Decimal("100.00"))])
    async with engine.begin() as conn:
        await apply_allocations(
            conn,
            [
                (ids["I-3"], "bank", "tx-1", Decimal("100.00")),
                (ids["I-4"], "bank", "tx-1", Decimal("-30.00")),
            ],
            open_before={**stale, ids["I-4"]: Decimal("0.00")},
        )
    state = await invoice_state(engine)
    assert state["I-3"] == ("100.00", "partially_paid")  # 250 - 50 - 100, not 250 - 100
    assert state["I-4"] == ("10.00", "partially_paid")  # 80 - (100 - 30)
    await _same_as_full_recompute(engine)


async def test_a_credit_note_is_recomputed_in_full(engine: AsyncEngine) -> None:
    await seed(engine, NAMES, {}, ITEMS)
    ids = await _ids(engine)
    async with engine.begin() as conn:
        await conn.execute(
            update(invoices).where(invoices.c.id == ids["I-2"]).values(kind="credit_note")
        )
    async with engine.begin() as conn:
        # The credit note I-2 gives 60.00 to I-1; then a bank line "pays" I-2 itself.
        await apply_allocations(
            conn,
            [
                (ids["I-1"], "credit_note", "I-2", Decimal("60.00")),
                (ids["I-2"], "bank", "tx-9", Decimal("10.00")),
            ],
            open_before=await _open(engine),
        )
        await refresh_open_amounts(conn, [ids["I-2"]])
    state = await invoice_state(engine)
    assert state["I-1"] == ("340.00", "partially_paid")
    assert state["I-2"][0] == "40.00"  # a credit note's open amount: the credit it has left
    await _same_as_full_recompute(engine)
