"""Refunds of overpayments as a SEPA credit transfer file (pain.001.001.03).

    refund_file(creditor, [Refund(amount=Decimal("25.00"), iban="BE71…", ...)], day)
      -> the XML the creditor uploads to its bank, validated against the XSD

``sepaxml`` (MIT) writes and validates the document; ``schwifty`` checks every
IBAN and BIC first, so a wrong account is refused with the debtor it belongs to
rather than deep inside the bank's upload screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol


class RefundError(ValueError):
    """A refund cannot be written: which one and why."""


class _Payer(Protocol):
    name: str
    iban: str
    bic: str


class _Refund(Protocol):
    credit_id: int
    amount: Decimal
    currency: str
    name: str
    iban: str
    bic: str
    debtor_code: str


def _checked_iban(value: str, whose: str) -> str:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise RefundError(f"{whose}: IBAN {value!r} is not valid: {exc}") from None


def _checked_bic(value: str, whose: str) -> str:
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    if not value:
        return ""
    try:
        return str(BIC(value).compact)
    except SchwiftyException as exc:
        raise RefundError(f"{whose}: BIC {value!r} is not valid: {exc}") from None


def refund_file(payer: _Payer, refunds: Sequence[_Refund], execution_date: date) -> bytes:
    """One pain.001 document paying every refund from the creditor's account."""
    from sepaxml import SepaTransfer

    if not refunds:
        raise RefundError("no refund to write")
    config: dict[str, Any] = {
        "name": payer.name[:70],
        "IBAN": _checked_iban(payer.iban, "the creditor"),
        "BIC": _checked_bic(payer.bic, "the creditor"),
        "batch": True,
        "currency": "EUR",
    }
    transfer = SepaTransfer(config, clean=True)
    for refund in refunds:
        whose = f"refund {refund.credit_id} (debtor {refund.debtor_code})"
        if refund.currency != "EUR":
            raise RefundError(f"{whose}: SEPA transfers are in EUR, not {refund.currency}")
        if refund.amount <= 0:
            raise RefundError(f"{whose}: nothing to refund ({refund.amount})")
        payment: dict[str, Any] = {
            "name": refund.name[:70] or refund.debtor_code,
            "IBAN": _checked_iban(refund.iban, whose),
            "amount": int(refund.amount * 100),  # sepaxml counts in cents
            "execution_date": execution_date,
            "description": f"Refund of overpayment, credit {refund.credit_id}",
            "endtoend_id": f"REFUND-{refund.credit_id}",
        }
        bic = _checked_bic(refund.bic, whose)
        if bic:
            payment["BIC"] = bic
        transfer.add_payment(payment)
    document: bytes = transfer.export(validate=True)
    return document
