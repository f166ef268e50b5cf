"""Allocating a payment over open invoices conserves every cent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.allocation import AllocationOrder, OpenItem, allocate
from domain.invoice import InvoiceStatus, open_amount_of, status_of

cents = st.decimals(min_value=0, max_value=100_000, places=2)
items_strategy = st.lists(
    st.tuples(cents, st.integers(min_value=0, max_value=400)), min_size=0, max_size=12
)


def _items(raw: list[tuple[Decimal, int]]) -> list[OpenItem]:
    start = date(2026, 1, 1)
    return [
        OpenItem(f"INV-{i}", amount, start + timedelta(days=d), start + timedelta(days=d - 30))
        for i, (amount, d) in enumerate(raw)
    ]


@given(cents, items_strategy, st.sampled_from(list(AllocationOrder)))
def test_allocation_conserves_the_payment(
    payment: Decimal, raw: list[tuple[Decimal, int]], order: AllocationOrder
) -> None:
    items = _items(raw)
    result = allocate(payment, items, order, today=date(2026, 6, 1))
    assert result.allocated + result.overpayment == payment
    open_by_key = {i.key: i.open_amount for i in items}
    for allocation in result.allocations:
        assert Decimal(0) < allocation.amount <= open_by_key[allocation.key]
    assert result.overpayment >= 0
    if result.overpayment > 0:
        assert result.allocated == sum(open_by_key.values())


@given(cents, cents)
def test_open_amount_never_below_zero_without_an_overpayment(
    amount: Decimal, paid: Decimal
) -> None:
    open_amount = open_amount_of(amount, paid)
    assert open_amount >= 0
    overpayment = max(Decimal(0), paid - amount)
    assert open_amount + paid - overpayment == amount
    status = status_of(amount, open_amount)
    if open_amount == 0:
        assert status is InvoiceStatus.PAID
    elif open_amount < amount:
        assert status is InvoiceStatus.PARTIALLY_PAID


def test_orders() -> None:
    items = [
        OpenItem("old-small", Decimal("100.00"), date(2026, 1, 10), date(2025, 12, 10)),
        OpenItem("new-big", Decimal("900.00"), date(2026, 7, 1), date(2026, 6, 1)),
        OpenItem("mid", Decimal("300.00"), date(2026, 3, 1), date(2026, 2, 1)),
    ]
    today = date(2026, 4, 1)
    oldest = allocate(Decimal("250.00"), items, AllocationOrder.OLDEST_FIRST, today)
    assert [(a.key, str(a.amount)) for a in oldest.allocations] == [
        ("old-small", "100.00"),
        ("mid", "150.00"),
    ]
    largest = allocate(Decimal("250.00"), items, AllocationOrder.LARGEST_FIRST, today)
    assert [a.key for a in largest.allocations] == ["new-big"]
    overdue = allocate(Decimal("1500.00"), items, AllocationOrder.OVERDUE_FIRST, today)
    assert [a.key for a in overdue.allocations] == ["old-small", "mid", "new-big"]
    assert overdue.overpayment == Decimal("200.00")
