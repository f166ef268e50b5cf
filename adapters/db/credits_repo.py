"""Debtor credits (payments above what was due): set against invoices, or refunded.

An overpayment is money of the debtor that the creditor holds. What happens to it
is a decision, not an automatism:

- a debtor who still owes other invoices (in the credit's currency) usually wants
  it set against them: ``set_against`` allocates the credit to the debtor's open
  invoices, in the creditor's allocation order, or to one chosen invoice;
- a debtor who owes nothing gets it back: ``refunds_due`` proposes the refund for
  the next pain.001 file (``relance bank refunds``);
- a debtor who owes something but is to be paid back anyway (a disputed invoice, a
  customer who asks) needs a manager's ``approve_refund``.

Statuses: ``open`` (held; counts against the debtor's invoices in dunning),
``approved`` (a manager approved the refund), ``exported`` (in a pain.001 file),
``refunded`` (a later statement shows the debit), ``applied`` (wholly set against
invoices), ``cancelled`` (the payment was reversed). A credit partly set against
invoices stays ``open`` for the rest: its ``amount`` is what is still held.

Each change is a conditional update on the status and amount read before it, so
two staff members deciding the same credit at once cannot both spend it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, func, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.db.allocations import apply_allocations
from adapters.db.bank_schema import bank_transactions, debtor_credits
from adapters.db.schema import debtors, invoices
from domain.allocation import OpenItem, allocate
from domain.events import PaymentMatched
from domain.invoice import InvoiceKind
from domain.money import ZERO
from domain.reconciliation import Policy

SOURCE_KIND = "credit"  # allocations.source_kind; source_id is the credit's id
HELD = ("open", "approved")  # still the debtor's money with us, not yet paid out
OWED = ("open", "approved", "exported")  # not yet seen paid back on a statement


class CreditError(LookupError):
    """A credit that cannot be used as asked (the message says why)."""


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


def _now() -> datetime:
    return datetime.now(UTC)


async def owed_by_debtor(
    conn: AsyncConnection, debtor_ids: Sequence[int]
) -> dict[tuple[int, str], tuple[int, Decimal, int]]:
    """Per (debtor, currency): how many invoices are open, their total, and how many
    of them are not disputed.

    Disputed invoices count (the creditor still claims them); written-off ones and
    credit notes do not."""
    if not debtor_ids:
        return {}
    rows = await conn.execute(
        select(
            invoices.c.debtor_id,
            invoices.c.currency,
            func.count(),
            func.sum(type_coerce(invoices.c.open_amount, BigInteger)),
            func.count().filter(invoices.c.disputed.is_(False)),
        )
        .where(
            invoices.c.debtor_id.in_(sorted(set(debtor_ids))),
            invoices.c.kind == InvoiceKind.INVOICE.value,
            invoices.c.open_amount > 0,
            invoices.c.written_off.is_(False),
        )
        .group_by(invoices.c.debtor_id, invoices.c.currency)
    )
    return {
        (int(debtor), str(currency)): (
            int(count),
            Decimal(int(total or 0)).scaleb(-2),
            int(undisputed),
        )
        for debtor, currency, count, total, undisputed in rows
    }


async def held_credits(conn: AsyncConnection, debtor_id: int | None = None) -> list[dict[str, Any]]:
    """Credits still held (open or approved for a refund), oldest first, with the
    bank line they came from and what their debtor still owes in their currency."""
    d, t = debtor_credits, bank_transactions
    query = (
        select(
            d,
            debtors.c.code,
            debtors.c.name.label("debtor_name"),
            t.c.booking_date,
            t.c.bank_reference,
            t.c.amount.label("paid"),
        )
        .select_from(
            d.join(debtors, debtors.c.id == d.c.debtor_id).join(t, t.c.id == d.c.transaction_id)
        )
        .where(d.c.status.in_(HELD))
        .order_by(d.c.id)
    )
    if debtor_id is not None:
        query = query.where(d.c.debtor_id == debtor_id)
    rows = list(await conn.execute(query))
    owed = await owed_by_debtor(conn, [r.debtor_id for r in rows])
    found = []
    for r in rows:
        count, total, undisputed = owed.get((r.debtor_id, r.currency), (0, ZERO, 0))
        found.append(
            {
                "id": r.id,
                "debtor_id": r.debtor_id,
                "debtor": r.code,
                "debtor_name": r.debtor_name,
                "amount": r.amount,
                "currency": r.currency,
                "iban": r.iban or "",
                "bic": r.bic,
                "name": r.name,
                "status": r.status,
                "booking_date": r.booking_date,
                "bank_reference": r.bank_reference,
                "paid": r.paid,
                "open_invoices": count,
                "owed": total,
                "undisputed_invoices": undisputed,
            }
        )
    return found


async def _held(conn: AsyncConnection, credit_id: int) -> Any:
    d = debtor_credits
    row = (
        await conn.execute(
            select(d, debtors.c.code, bank_transactions.c.booking_date)
            .join(debtors, debtors.c.id == d.c.debtor_id)
            .join(bank_transactions, bank_transactions.c.id == d.c.transaction_id)
            .where(d.c.id == credit_id)
        )
    ).first()
    if row is None:
        raise CreditError(f"there is no credit {credit_id}")
    if row.status not in HELD:
        raise CreditError(f"credit {credit_id} is {row.status}: it can no longer be used")
    return row


async def _spend(conn: AsyncConnection, credit: Any, used: Decimal, status: str) -> None:
    """Lower the credit by ``used`` if nobody changed it since it was read."""
    d = debtor_credits
    left = credit.amount - used
    changed = await conn.execute(
        update(d)
        .where(d.c.id == credit.id, d.c.status == credit.status, d.c.amount == credit.amount)
        .values(amount=left if left > 0 else credit.amount, status=status)
    )
    if changed.rowcount != 1:
        raise CreditError(f"credit {credit.id} was changed meanwhile: look at it again")


async def set_against(
    engine: AsyncEngine,
    credit_id: int,
    today: date,
    policy: Policy | None = None,
    invoice_number: str | None = None,
) -> list[PaymentMatched]:
    """Use a held credit to pay the debtor's open invoices in its currency.

    Without ``invoice_number``: every open invoice that is not disputed, in the
    policy's allocation order, as far as the credit goes. With it: that invoice
    only (which may be a disputed one: staff decided). What is left stays a credit;
    a credit used up becomes ``applied``. One allocation per invoice, named
    ``credit`` + the credit's id, so the debtor's history says where the money came
    from and a reversal of the payment can take it back."""
    policy = policy or Policy()
    async with engine.begin() as conn:
        credit = await _held(conn, credit_id)
        i = invoices
        conditions = [
            i.c.debtor_id == credit.debtor_id,
            i.c.kind == InvoiceKind.INVOICE.value,
            i.c.currency == credit.currency,
            i.c.open_amount > 0,
            i.c.written_off.is_(False),
        ]
        if invoice_number is not None:
            conditions.append(i.c.number == invoice_number)
        else:
            conditions.append(i.c.disputed.is_(False))
        rows = list(
            await conn.execute(
                select(i.c.id, i.c.number, i.c.open_amount, i.c.due_date, i.c.issue_date).where(
                    *conditions
                )
            )
        )
        if not rows:
            if invoice_number is not None:
                raise CreditError(
                    f"invoice {invoice_number} is not an open {credit.currency} invoice "
                    f"of debtor {credit.code}"
                )
            raise CreditError(
                f"debtor {credit.code} has no open {credit.currency} invoice "
                "to set the credit against"
            )
        result = allocate(
            credit.amount,
            [OpenItem(str(r.id), r.open_amount, r.due_date, r.issue_date) for r in rows],
            policy.order,
            today,
        )
        used = result.allocated
        await _spend(conn, credit, used, "applied" if used == credit.amount else credit.status)
        await apply_allocations(
            conn, [(int(a.key), SOURCE_KIND, str(credit.id), a.amount) for a in result.allocations]
        )
        by_id = {str(r.id): r for r in rows}
        reason = f"set against by staff: credit {credit.id} of debtor {credit.code}"
        return [
            PaymentMatched(
                invoice_number=by_id[a.key].number,
                debtor_code=credit.code,
                amount=a.amount,
                open_amount=by_id[a.key].open_amount - a.amount,
                booking_date=credit.booking_date,
                confidence=1.0,
                reason=reason,
            )
            for a in result.allocations
        ]


async def approve_refund(engine: AsyncEngine, credit_id: int) -> Decimal:
    """A manager's approval: the credit goes into the next refund file even though
    its debtor still owes invoices. Returns the amount to be refunded."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    async with engine.begin() as conn:
        credit = await _held(conn, credit_id)
        if credit.status == "approved":
            return Decimal(credit.amount)
        try:
            IBAN(credit.iban or "")
        except SchwiftyException as exc:
            raise CreditError(
                f"credit {credit_id} cannot be refunded by transfer: the payer's IBAN "
                f"{credit.iban or '(none)'} is not valid ({exc})"
            ) from None
        await _spend(conn, credit, ZERO, "approved")
        return Decimal(credit.amount)


async def refunds_due(engine: AsyncEngine) -> RefundsDue:
    """The credits to pay back now: approved ones, and open ones whose debtor owes
    nothing in their currency. The others are listed as skipped, with why."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    due = RefundsDue()
    async with engine.connect() as conn:
        for credit in await held_credits(conn):
            where = {"credit": credit["id"], "debtor": credit["debtor"]}
            if credit["status"] == "open" and credit["open_invoices"]:
                due.skipped.append(
                    where
                    | {
                        "reason": (
                            f"debtor {credit['debtor']} still owes "
                            f"{credit['owed']:.2f} {credit['currency']} on "
                            f"{credit['open_invoices']} open invoice(s): set the credit "
                            "against them, or have a manager approve the refund"
                        )
                    }
                )
                continue
            try:
                iban = IBAN(credit["iban"]).compact
            except SchwiftyException as exc:
                due.skipped.append(where | {"reason": str(exc)})
                continue
            due.payable.append(
                Refund(
                    credit_id=credit["id"],
                    amount=credit["amount"],
                    currency=credit["currency"],
                    name=credit["name"] or credit["debtor_name"],
                    iban=iban,
                    bic=credit["bic"],
                    debtor_code=credit["debtor"],
                )
            )
    return due


async def mark_refunds_exported(engine: AsyncEngine, credit_ids: Sequence[int]) -> None:
    from adapters.db.sql import batched

    async with engine.begin() as conn:
        for chunk in batched(list(credit_ids), 900):
            await conn.execute(
                update(debtor_credits)
                .where(debtor_credits.c.id.in_(chunk), debtor_credits.c.status.in_(HELD))
                .values(status="exported", exported_at=_now())
            )
