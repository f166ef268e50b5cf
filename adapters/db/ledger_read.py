"""Reading the ledger: invoices and debtors as plain dicts for the CLI and the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.schema import debtor_emails, debtor_ibans, debtors, invoices
from domain.invoice import InvoiceKind


def invoice_json(row: Any) -> dict[str, Any]:
    """One invoice in the shape of ``relance invoices list --json`` (cli.md).

    A credit note (listed only with ``--credit-notes``) says so in an added
    ``"kind": "credit_note"``; its open amount is the credit not yet used."""
    found = {
        "number": row.number,
        "debtor": row.debtor_name,
        "debtor_kind": row.debtor_kind,
        "issue_date": row.issue_date.isoformat(),
        "due_date": row.due_date.isoformat(),
        "currency": row.currency,
        "amount": f"{row.amount:.2f}",
        "open_amount": f"{row.open_amount:.2f}",
        "structured_reference": row.structured_reference or None,
        "status": row.status,
    }
    if row.kind == InvoiceKind.CREDIT_NOTE.value:
        found["kind"] = row.kind
    return found


def invoice_query(include_credit_notes: bool = False) -> Select[Any]:
    query = (
        select(
            invoices,
            debtors.c.name.label("debtor_name"),
            debtors.c.kind.label("debtor_kind"),
            debtors.c.code.label("debtor_code"),
        )
        .join(debtors, debtors.c.id == invoices.c.debtor_id)
        .order_by(invoices.c.id)
    )
    if not include_credit_notes:
        query = query.where(invoices.c.kind == InvoiceKind.INVOICE.value)
    return query


async def stream_invoices(
    conn: AsyncConnection, query: Select[Any] | None = None
) -> AsyncIterator[Any]:
    result = await conn.stream(
        (query if query is not None else invoice_query()).execution_options(yield_per=2000)
    )
    async for row in result:
        yield row


async def debtor_json(conn: AsyncConnection, code: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(debtors).where(debtors.c.code == code))).first()
    if row is None:
        return None
    emails = (
        await conn.execute(select(debtor_emails.c.email).where(debtor_emails.c.debtor_id == row.id))
    ).scalars()
    ibans = (
        await conn.execute(select(debtor_ibans.c.iban).where(debtor_ibans.c.debtor_id == row.id))
    ).scalars()
    return {
        "code": row.code,
        "name": row.name,
        "kind": row.kind,
        "language": row.language,
        "enterprise_number": row.enterprise_number,
        "phone": row.phone,
        "emails": sorted(emails),
        "ibans": sorted(ibans),
        "address": {
            "street": row.street,
            "postcode": row.postcode,
            "city": row.city,
            "country": row.country,
        },
    }
