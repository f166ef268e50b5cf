"""Invoices and credit notes, and how their status follows from what was allocated.

    amount 400.00, allocated 150.00            -> open 250.00, partially_paid
    amount 400.00, allocated 400.00            -> open 0.00,   paid
    amount 400.00, allocated 150.00, disputed  -> open 250.00, disputed
    issue 2026-02-01, no due date, terms 30    -> due 2026-03-03

A credit note is stored like an invoice with ``kind = credit_note`` and a positive
amount; when it names the invoice it corrects, its amount is allocated to that
invoice and lowers the invoice's open amount.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.money import ZERO


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    DISPUTED = "disputed"
    WRITTEN_OFF = "written_off"


DEFAULT_PAYMENT_TERMS_DAYS = 30  # law of 2 August 2002, art. 4: the default B2B term


@dataclass(frozen=True, slots=True)
class Invoice:
    number: str
    debtor_code: str
    issue_date: date
    due_date: date
    amount: Decimal
    open_amount: Decimal
    currency: str = "EUR"
    kind: InvoiceKind = InvoiceKind.INVOICE
    structured_reference: str = ""
    description: str = ""
    credited_invoice: str | None = None
    disputed: bool = False
    written_off: bool = False
    id: int | None = None

    @property
    def status(self) -> InvoiceStatus:
        return status_of(self.amount, self.open_amount, self.disputed, self.written_off)

    def days_overdue(self, today: date) -> int:
        return max(0, (today - self.due_date).days)

    def with_allocated(self, allocated: Decimal) -> Invoice:
        """The same invoice once ``allocated`` in total has been set against it."""
        return replace(self, open_amount=open_amount_of(self.amount, allocated))


def open_amount_of(amount: Decimal, allocated: Decimal) -> Decimal:
    """Never below zero: what is allocated beyond the amount is an overpayment,
    kept as a credit on the debtor, not a negative open amount."""
    return max(ZERO, amount - allocated)


def status_of(
    amount: Decimal, open_amount: Decimal, disputed: bool = False, written_off: bool = False
) -> InvoiceStatus:
    if written_off:
        return InvoiceStatus.WRITTEN_OFF
    if disputed and open_amount > 0:
        return InvoiceStatus.DISPUTED
    if open_amount <= 0:
        return InvoiceStatus.PAID
    if open_amount < amount:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN


def due_date_from_terms(issue_date: date, terms_days: int | None) -> date:
    days = DEFAULT_PAYMENT_TERMS_DAYS if terms_days is None else terms_days
    if days < 0:
        raise ValueError(f"payment terms cannot be negative: {days}")
    return issue_date + timedelta(days=days)
