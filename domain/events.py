"""Business outcomes that other parts react to.

    PaymentMatched(invoice_number="INV-1", amount=Decimal("100.00"), ...)
      -> dunning stops reminding that invoice, the conversation thanks the debtor.

Events are plain frozen dataclasses; handlers subscribe by type (see
``bot.bus``).  Genuine refusals are exceptions, not events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Event:
    pass


@dataclass(frozen=True, slots=True)
class InvoiceImported(Event):
    invoice_number: str
    debtor_code: str
    created: bool


@dataclass(frozen=True, slots=True)
class PaymentMatched(Event):
    invoice_number: str
    debtor_code: str
    amount: Decimal
    open_amount: Decimal
    booking_date: date
    confidence: float
    reason: str
