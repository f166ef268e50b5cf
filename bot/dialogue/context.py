"""What the agent may know of a debtor when it answers: open invoices and payment details."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.schema import debtors, invoices
from bot.config import Settings
from bot.dialogue.policy import DebtorContext, OpenInvoice
from domain.invoice import InvoiceKind


async def load_debtor_context(
    conn: AsyncConnection, debtor_id: int, settings: Settings, pay_url: str | None = None
) -> DebtorContext | None:
    debtor = (await conn.execute(select(debtors).where(debtors.c.id == debtor_id))).first()
    if debtor is None:
        return None
    rows = await conn.execute(
        select(invoices)
        .where(
            invoices.c.debtor_id == debtor_id,
            invoices.c.kind == InvoiceKind.INVOICE.value,
            invoices.c.open_amount > 0,
            invoices.c.written_off.is_(False),
        )
        .order_by(invoices.c.due_date, invoices.c.number)
    )
    open_invoices = tuple(
        OpenInvoice(
            id=r.id,
            number=r.number,
            issue_date=r.issue_date,
            due_date=r.due_date,
            amount=r.amount,
            open_amount=r.open_amount,
            currency=r.currency,
            reference=r.structured_reference,
            description=r.description,
            disputed=bool(r.disputed),
        )
        for r in rows
    )
    creditor = settings.creditor
    return DebtorContext(
        debtor_id=debtor.id,
        code=debtor.code,
        name=debtor.name,
        kind=debtor.kind,
        language=debtor.language,
        invoices=open_invoices,
        creditor_name=creditor.name,
        creditor_iban=creditor.iban,
        creditor_bic=creditor.bic,
        pay_url=pay_url,
    )
