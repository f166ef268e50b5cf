"""Allocations: what paid which invoice, and the open amounts that follow.

``open_amount = max(0, amount - allocated)``, recomputed in SQL for the invoices
an allocation touches.  A credit note's open amount is the credit it still has.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.schema import allocations, invoices
from adapters.db.sql import batched, one_of
from domain.invoice import InvoiceKind, InvoiceStatus

_INVOICE = InvoiceKind.INVOICE.value
_CREDIT_NOTE = InvoiceKind.CREDIT_NOTE.value


def _now() -> datetime:
    return datetime.now(UTC)


async def apply_allocations(
    conn: AsyncConnection, items: Sequence[tuple[int, str, str, Decimal]]
) -> None:
    """Record allocations ``(invoice_id, source_kind, source_id, amount)`` and
    refresh the open amount and status of the invoices they touch.

    Applying the same source to the same invoice again changes nothing (the
    first one stands: the unique constraint ignores the repeat), so a replayed
    import or webhook cannot pay twice.
    """
    if not items:
        return
    now = _now()
    fresh: dict[tuple[int, str, str], Decimal] = {}
    for invoice_id, kind, source_id, amount in items:
        if amount != 0:
            fresh.setdefault((invoice_id, kind, source_id), amount)
    if fresh:
        await conn.execute(
            _insert_ignoring_repeats(conn),
            [
                {
                    "invoice_id": invoice_id,
                    "source_kind": kind,
                    "source_id": source_id,
                    "amount": amount,
                    "created_at": now,
                }
                for (invoice_id, kind, source_id), amount in fresh.items()
            ],
        )
    await refresh_open_amounts(conn, sorted({i for i, *_ in items}))


def _insert_ignoring_repeats(conn: AsyncConnection) -> Any:
    """INSERT that skips a row its unique constraint already holds (no read first)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(allocations).on_conflict_do_nothing(constraint="uq_allocations_source")
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(allocations).on_conflict_do_nothing()


async def reverse_allocations(conn: AsyncConnection, source_kind: str, source_id: str) -> list[int]:
    """Remove what one source allocated (a reversed payment); returns the invoices reopened."""
    rows = await conn.execute(
        delete(allocations)
        .where(allocations.c.source_kind == source_kind, allocations.c.source_id == source_id)
        .returning(allocations.c.invoice_id)
    )
    invoice_ids = sorted({r[0] for r in rows})
    await refresh_open_amounts(conn, invoice_ids)
    return invoice_ids


def _status_expression(open_amount: Any) -> Any:
    return case(
        (invoices.c.written_off, InvoiceStatus.WRITTEN_OFF.value),
        (and_(invoices.c.disputed, open_amount > 0), InvoiceStatus.DISPUTED.value),
        (open_amount <= 0, InvoiceStatus.PAID.value),
        (open_amount < invoices.c.amount, InvoiceStatus.PARTIALLY_PAID.value),
        else_=InvoiceStatus.OPEN.value,
    )


async def refresh_open_amounts(conn: AsyncConnection, invoice_ids: Sequence[int]) -> None:
    """``open_amount = max(0, amount - allocated)`` and the status that follows.

    For a credit note, what it allocated to invoices is subtracted instead: its
    open amount is the credit still available to the debtor.  Two statements per
    kind: the open amount (one correlated sum per row), then the status from the
    stored open amount (a status expression over the sum would re-run it).
    """
    dialect = conn.dialect.name
    larger = func.greatest if dialect == "postgresql" else func.max
    received = (
        select(func.coalesce(func.sum(allocations.c.amount), 0))
        .where(allocations.c.invoice_id == invoices.c.id)
        .scalar_subquery()
    )
    given = (
        select(func.coalesce(func.sum(allocations.c.amount), 0))
        .where(
            allocations.c.source_kind == "credit_note",
            allocations.c.source_id == invoices.c.number,
        )
        .scalar_subquery()
    )
    for chunk in batched(invoice_ids, 5000):
        chosen = one_of(invoices.c.id, chunk, dialect)
        for kind, used in ((_INVOICE, received), (_CREDIT_NOTE, given)):
            await conn.execute(
                update(invoices)
                .where(chosen, invoices.c.kind == kind)
                .values(open_amount=larger(0, invoices.c.amount - used))
                .execution_options(synchronize_session=False)
            )
        await conn.execute(
            update(invoices)
            .where(chosen)
            .values(status=_status_expression(invoices.c.open_amount))
            .execution_options(synchronize_session=False)
        )
