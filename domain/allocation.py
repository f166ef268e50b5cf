"""Allocating a payment over open invoices.

    payment 500.00 over A (open 300.00, due 01-02) and B (open 400.00, due 01-03),
    oldest first -> A 300.00, B 200.00, overpayment 0.00
    payment 800.00, same invoices                -> A 300.00, B 400.00, overpayment 100.00

The allocations plus the overpayment always add up to the payment: nothing is lost
and nothing is invented.  An overpayment stays a credit on the debtor (a refund
can be proposed); it never drives an open amount below zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.money import ZERO


class AllocationOrder(StrEnum):
    OLDEST_FIRST = "oldest_first"  # by due date, then issue date, then number
    OVERDUE_FIRST = "overdue_first"  # overdue invoices (oldest first), then the others
    LARGEST_FIRST = "largest_first"  # by open amount, largest first


@dataclass(frozen=True, slots=True)
class OpenItem:
    """What allocation needs to know of an invoice."""

    key: str
    open_amount: Decimal
    due_date: date
    issue_date: date


@dataclass(frozen=True, slots=True)
class Allocation:
    key: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AllocationResult:
    allocations: tuple[Allocation, ...]
    overpayment: Decimal

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)


def order_items(items: Sequence[OpenItem], order: AllocationOrder, today: date) -> list[OpenItem]:
    def oldest(item: OpenItem) -> tuple[date, date, str]:
        return (item.due_date, item.issue_date, item.key)

    if order is AllocationOrder.OLDEST_FIRST:
        return sorted(items, key=oldest)
    if order is AllocationOrder.OVERDUE_FIRST:
        return sorted(items, key=lambda i: (i.due_date >= today, *oldest(i)))
    return sorted(items, key=lambda i: (-i.open_amount, *oldest(i)))


def allocate(
    amount: Decimal,
    items: Sequence[OpenItem],
    order: AllocationOrder = AllocationOrder.OLDEST_FIRST,
    today: date | None = None,
) -> AllocationResult:
    """Spread a positive ``amount`` over ``items`` in ``order``."""
    if amount < 0:
        raise ValueError("only a positive payment can be allocated")
    reference_day = today or date.min
    remaining = amount
    allocations: list[Allocation] = []
    for item in order_items(items, order, reference_day):
        if remaining <= 0:
            break
        if item.open_amount <= 0:
            continue
        part = min(remaining, item.open_amount)
        allocations.append(Allocation(item.key, part))
        remaining -= part
    return AllocationResult(tuple(allocations), remaining)
