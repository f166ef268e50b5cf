"""Storage for payment plans and online payments (tables in ``plan_schema``).

    plan_id, instalment_ids = await create_plan(conn, debtor_id=7, ...)   holds "plan"
    plan = await load_plan(conn, plan_id)          the schedule as domain Instalments
    paid = await paid_since_start(conn, plan_id)   what the plan's invoices received
    await end_plan(conn, plan_id, PlanState.BROKEN, today)   releases the holds

A plan's progress is read from the ledger, not from the payments that reached us:
whatever lowered its invoices' open amounts since the plan began (a Mollie
payment, a bank transfer with the structured reference, a credit note) counts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db import dunning_repo
from adapters.db.plan_schema import payment_plans, payments, plan_instalments, plan_invoices
from adapters.db.schema import invoices
from domain.money import ZERO
from domain.payment_plan import Instalment, InstalmentProgress, PlanState, credited


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoredPlan:
    id: int
    debtor_id: int
    state: PlanState
    segment: str
    currency: str
    total: Decimal
    fee: Decimal
    grace_days: int
    remind_days_before: int
    conversation_id: int | None
    invoice_ids: tuple[int, ...]
    instalments: tuple[Instalment, ...]
    instalment_ids: tuple[int, ...]  # same order as ``instalments``
    reminded: tuple[date | None, ...]  # same order
    paid: tuple[Decimal, ...] = ()  # as last saved, same order


async def create_plan(
    conn: AsyncConnection,
    *,
    debtor_id: int,
    segment: str,
    currency: str,
    invoices_open: Sequence[tuple[int, Decimal]],
    instalments: Sequence[Instalment],
    fee: Decimal = ZERO,
    grace_days: int,
    remind_days_before: int,
    conversation_id: int | None = None,
    channel: str = "",
    created_by: str = "bot",
) -> tuple[int, list[int]]:
    """Store an agreed plan and hold dunning on its invoices (reason "plan")."""
    if not invoices_open or not instalments:
        raise ValueError("a plan covers at least one invoice and has instalments")
    now = _now()
    total = sum((amount for _, amount in invoices_open), ZERO)
    plan_id = int(
        (
            await conn.execute(
                insert(payment_plans)
                .values(
                    debtor_id=debtor_id,
                    state=PlanState.ACTIVE.value,
                    segment=segment,
                    currency=currency,
                    total=total,
                    fee=fee,
                    grace_days=grace_days,
                    remind_days_before=remind_days_before,
                    conversation_id=conversation_id,
                    channel=channel,
                    created_at=now,
                )
                .returning(payment_plans.c.id)
            )
        ).scalar_one()
    )
    await conn.execute(
        insert(plan_invoices),
        [
            {"plan_id": plan_id, "invoice_id": invoice_id, "open_at_start": amount}
            for invoice_id, amount in invoices_open
        ],
    )
    instalment_ids = []
    for instalment in instalments:
        result = await conn.execute(
            insert(plan_instalments)
            .values(
                plan_id=plan_id,
                number=instalment.number,
                due_date=instalment.due_date,
                amount=instalment.amount,
                paid=ZERO,
            )
            .returning(plan_instalments.c.id)
        )
        instalment_ids.append(int(result.scalar_one()))
    # The plan replaces what was promised for its invoices.
    await dunning_repo.supersede_promises(conn, [invoice_id for invoice_id, _ in invoices_open])
    for invoice_id, _ in invoices_open:
        await dunning_repo.add_hold(
            conn,
            invoice_id=invoice_id,
            reason="plan",
            note=f"payment plan {plan_id}",
            created_by=created_by,
        )
    return plan_id, instalment_ids


async def load_plan(conn: AsyncConnection, plan_id: int) -> StoredPlan | None:
    row = (await conn.execute(select(payment_plans).where(payment_plans.c.id == plan_id))).first()
    if row is None:
        return None
    invoice_ids = tuple(
        int(r[0])
        for r in await conn.execute(
            select(plan_invoices.c.invoice_id)
            .where(plan_invoices.c.plan_id == plan_id)
            .order_by(plan_invoices.c.invoice_id)
        )
    )
    rows = (
        await conn.execute(
            select(plan_instalments)
            .where(plan_instalments.c.plan_id == plan_id)
            .order_by(plan_instalments.c.number)
        )
    ).all()
    return StoredPlan(
        id=row.id,
        debtor_id=row.debtor_id,
        state=PlanState(row.state),
        segment=row.segment,
        currency=row.currency,
        total=row.total,
        fee=row.fee,
        grace_days=row.grace_days,
        remind_days_before=row.remind_days_before,
        conversation_id=row.conversation_id,
        invoice_ids=invoice_ids,
        instalments=tuple(Instalment(r.number, r.due_date, r.amount) for r in rows),
        instalment_ids=tuple(r.id for r in rows),
        reminded=tuple(r.reminded_on for r in rows),
        paid=tuple(r.paid for r in rows),
    )


async def plan_of_instalment(conn: AsyncConnection, instalment_id: int) -> int | None:
    found = (
        await conn.execute(
            select(plan_instalments.c.plan_id).where(plan_instalments.c.id == instalment_id)
        )
    ).scalar_one_or_none()
    return int(found) if found is not None else None


async def active_plan_ids(conn: AsyncConnection, debtor_id: int | None = None) -> list[int]:
    query = select(payment_plans.c.id).where(payment_plans.c.state == PlanState.ACTIVE.value)
    if debtor_id is not None:
        query = query.where(payment_plans.c.debtor_id == debtor_id)
    return [int(r[0]) for r in await conn.execute(query.order_by(payment_plans.c.id))]


@dataclass(frozen=True)
class PlanOverview:
    """What the daily check needs to tell whether a plan has anything to do today."""

    id: int
    grace_days: int
    remind_days_before: int
    instalments: tuple[Instalment, ...]
    stored_paid: tuple[Decimal, ...]
    reminded: tuple[date | None, ...]
    paid: Decimal  # since the plan began, from the ledger


async def active_overview(conn: AsyncConnection) -> list[PlanOverview]:
    """Every active plan in three queries (not three per plan): most plans have
    nothing to do on most days, and the check opens a transaction only for the others."""
    active = payment_plans.c.state == PlanState.ACTIVE.value
    heads = {
        r.id: r
        for r in await conn.execute(
            select(
                payment_plans.c.id,
                payment_plans.c.grace_days,
                payment_plans.c.remind_days_before,
                payment_plans.c.fee,
            ).where(active)
        )
    }
    steps: dict[int, list[Any]] = {plan_id: [] for plan_id in heads}
    for r in await conn.execute(
        select(plan_instalments)
        .join(payment_plans, payment_plans.c.id == plan_instalments.c.plan_id)
        .where(active)
        .order_by(plan_instalments.c.plan_id, plan_instalments.c.number)
    ):
        steps[r.plan_id].append(r)
    paid: dict[int, Decimal] = dict.fromkeys(heads, ZERO)
    for r in await conn.execute(
        select(plan_invoices.c.plan_id, plan_invoices.c.open_at_start, invoices.c.open_amount)
        .join(invoices, invoices.c.id == plan_invoices.c.invoice_id)
        .join(payment_plans, payment_plans.c.id == plan_invoices.c.plan_id)
        .where(active)
    ):
        paid[r.plan_id] += max(ZERO, r.open_at_start - r.open_amount)
    return [
        PlanOverview(
            id=plan_id,
            grace_days=head.grace_days,
            remind_days_before=head.remind_days_before,
            instalments=tuple(Instalment(r.number, r.due_date, r.amount) for r in steps[plan_id]),
            stored_paid=tuple(r.paid for r in steps[plan_id]),
            reminded=tuple(r.reminded_on for r in steps[plan_id]),
            paid=credited(
                paid[plan_id],
                [Instalment(r.number, r.due_date, r.amount) for r in steps[plan_id][:1]],
                head.fee,
            ),
        )
        for plan_id, head in sorted(heads.items())
        if steps[plan_id]
    ]


async def paid_since_start(
    conn: AsyncConnection, plan_id: int, *, credit_fee: bool = True
) -> Decimal:
    """How much counts toward the plan's schedule: what its invoices received since
    the plan began, and its fee once credited (``domain.payment_plan.credited``)."""
    rows = await conn.execute(
        select(plan_invoices.c.open_at_start, invoices.c.open_amount)
        .join(invoices, invoices.c.id == plan_invoices.c.invoice_id)
        .where(plan_invoices.c.plan_id == plan_id)
    )
    paid = sum((max(ZERO, start - now) for start, now in rows), ZERO)
    fee = (
        await conn.execute(select(payment_plans.c.fee).where(payment_plans.c.id == plan_id))
    ).scalar_one_or_none()
    if not fee or not credit_fee:
        return paid
    first = (
        await conn.execute(
            select(
                plan_instalments.c.number, plan_instalments.c.due_date, plan_instalments.c.amount
            )
            .where(plan_instalments.c.plan_id == plan_id)
            .order_by(plan_instalments.c.number)
            .limit(1)
        )
    ).first()
    return credited(paid, [Instalment(*first)] if first else [], fee)


async def save_progress(
    conn: AsyncConnection,
    plan: StoredPlan,
    steps: Sequence[InstalmentProgress],
    today: date,
) -> None:
    saved = plan.paid or (None,) * len(steps)
    for instalment_id, step, before in zip(plan.instalment_ids, steps, saved, strict=True):
        if before == step.paid:
            continue  # unchanged: no write
        await conn.execute(
            update(plan_instalments)
            .where(plan_instalments.c.id == instalment_id)
            .values(
                paid=step.paid,
                paid_on=func.coalesce(plan_instalments.c.paid_on, today) if step.settled else None,
            )
        )


async def end_plan(
    conn: AsyncConnection, plan: StoredPlan, state: PlanState, today: date, by: str = "bot"
) -> bool:
    """Close an active plan as completed, broken or cancelled and release its holds,
    so dunning resumes on what is still open.  False if it was no longer active."""
    result = await conn.execute(
        update(payment_plans)
        .where(payment_plans.c.id == plan.id, payment_plans.c.state == PlanState.ACTIVE.value)
        .values(state=state.value, ended_at=_now(), ended_on=today)
    )
    if not result.rowcount:
        return False
    for invoice_id in plan.invoice_ids:
        await dunning_repo.release_hold(conn, invoice_id=invoice_id, reason="plan", released_by=by)
    return True


async def mark_reminded(conn: AsyncConnection, instalment_id: int, today: date) -> bool:
    """Claim the reminder of one instalment: True once, False after (no double reminders)."""
    result = await conn.execute(
        update(plan_instalments)
        .where(plan_instalments.c.id == instalment_id, plan_instalments.c.reminded_on.is_(None))
        .values(reminded_on=today)
    )
    return bool(result.rowcount)


# ------------------------------------------------------------------------------ payments


async def add_payment(
    conn: AsyncConnection,
    *,
    provider: str,
    provider_id: str,
    debtor_id: int,
    invoice_ids: Sequence[int],
    amount: Decimal,
    currency: str,
    status: str,
    checkout_url: str,
    plan_id: int | None = None,
    instalment_id: int | None = None,
) -> int:
    now = _now()
    result = await conn.execute(
        insert(payments)
        .values(
            provider=provider,
            provider_id=provider_id,
            debtor_id=debtor_id,
            plan_id=plan_id,
            instalment_id=instalment_id,
            invoice_ids=json.dumps(list(invoice_ids)),
            amount=amount,
            currency=currency,
            status=status,
            checkout_url=checkout_url,
            created_at=now,
            updated_at=now,
        )
        .returning(payments.c.id)
    )
    return int(result.scalar_one())


async def payment_by_provider_id(conn: AsyncConnection, provider_id: str) -> Any | None:
    return (
        await conn.execute(select(payments).where(payments.c.provider_id == provider_id))
    ).first()


def invoice_ids_of(payment: Any) -> list[int]:
    return [int(i) for i in json.loads(payment.invoice_ids)]


async def set_payment_status(conn: AsyncConnection, payment_id: int, status: str) -> None:
    await conn.execute(
        update(payments).where(payments.c.id == payment_id).values(status=status, updated_at=_now())
    )


async def claim_allocation(conn: AsyncConnection, payment_id: int) -> bool:
    """True for the one transaction that records this payment's money; False after."""
    now = _now()
    result = await conn.execute(
        update(payments)
        .where(payments.c.id == payment_id, payments.c.allocated_at.is_(None))
        .values(allocated_at=now, updated_at=now, status="paid")
    )
    return bool(result.rowcount)


async def open_payment_for_instalment(conn: AsyncConnection, instalment_id: int) -> Any | None:
    """A payment for this instalment still open at the provider (reuse its checkout)."""
    return (
        await conn.execute(
            select(payments)
            .where(payments.c.instalment_id == instalment_id, payments.c.status == "open")
            .order_by(payments.c.id.desc())
            .limit(1)
        )
    ).first()
