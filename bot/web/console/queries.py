"""What the console reads: the inbox, a conversation's timeline, a debtor, the overview.

Every function takes an open connection and returns plain values (rows, dicts,
Decimals) for the templates; nothing here writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.conversation_schema import audit_log, conversations, escalations, messages
from adapters.db.credits_repo import held_credits
from adapters.db.dunning_schema import (
    dunning_holds,
    dunning_lines,
    payment_promises,
    promise_invoices,
)
from adapters.db.schema import allocations, debtor_emails, debtors, invoices
from domain.invoice import InvoiceKind
from domain.money import ZERO

REASONS = {
    "dispute": "Dispute",
    "insolvency": "Insolvency",
    "human_asked": "Asked for a person",
    "low_confidence": "Not understood",
    "wrong_recipient": "Wrong recipient",
    "angry": "Angry",
    "plan_outside_policy": "Plan outside policy",
    "bounce": "Bounce",
    "unknown_sender": "Unknown sender",
    "stop_contact": "Asked to stop contact",
    "hardship": "Financial hardship",
    "document_asked": "Document asked for",
}
BUCKETS = ("not due", "1-30", "31-60", "61-90", ">90")


def aware(moment: datetime | None) -> datetime | None:
    """SQLite gives timestamps back without their zone (they are stored in UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# ------------------------------------------------------------------------------ inbox


async def inbox(conn: AsyncConnection, status: str = "active", reason: str = "") -> list[Any]:
    """Escalations, most urgent first: open and taken ones (``active``), or all."""
    last_in = (
        select(messages.c.text)
        .where(messages.c.conversation_id == escalations.c.conversation_id)
        .where(messages.c.direction == "in")
        .order_by(messages.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            escalations,
            debtors.c.name.label("debtor_name"),
            debtors.c.code.label("debtor_code"),
            conversations.c.channel,
            conversations.c.channel_key,
            conversations.c.handler,
            conversations.c.assigned_to,
            last_in.label("last_text"),
        )
        .join(conversations, conversations.c.id == escalations.c.conversation_id)
        .outerjoin(debtors, debtors.c.id == escalations.c.debtor_id)
        .order_by(
            case((escalations.c.status == "resolved", 1), else_=0),
            escalations.c.priority,
            escalations.c.created_at,
        )
        .limit(500)
    )
    if status == "active":
        query = query.where(escalations.c.status != "resolved")
    elif status in ("open", "taken", "resolved"):
        query = query.where(escalations.c.status == status)
    if reason:
        query = query.where(escalations.c.reason == reason)
    return list((await conn.execute(query)).all())


async def counts(conn: AsyncConnection) -> dict[str, int]:
    """Badges for the navigation bar."""
    open_escalations = (
        await conn.execute(
            select(func.count()).select_from(escalations).where(escalations.c.status == "open")
        )
    ).scalar_one()
    disputed = (
        await conn.execute(
            select(func.count())
            .select_from(invoices)
            .where(invoices.c.disputed.is_(True), invoices.c.open_amount > 0)
        )
    ).scalar_one()
    return {"open": int(open_escalations), "disputed": int(disputed)}


# ----------------------------------------------------------------------- conversation


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # in | out | audit | ledger
    author: str
    text: str
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""
    channel: str = ""
    details: dict[str, Any] = field(default_factory=dict)


async def conversation(conn: AsyncConnection, conversation_id: int) -> Any | None:
    return (
        await conn.execute(
            select(conversations, debtors.c.name.label("debtor_name"), debtors.c.code)
            .outerjoin(debtors, debtors.c.id == conversations.c.debtor_id)
            .where(conversations.c.id == conversation_id)
        )
    ).first()


async def timeline(conn: AsyncConnection, conv: Any) -> list[TimelineEntry]:
    """Messages in and out, the bot's and staff's actions (audit log) and the ledger's
    changes (allocations) of this debtor since the conversation began, in time order."""
    entries: list[TimelineEntry] = []
    rows = await conn.execute(
        select(messages).where(messages.c.conversation_id == conv.id).order_by(messages.c.id)
    )
    for m in rows:
        entries.append(
            TimelineEntry(
                at=aware(m.created_at) or datetime.now(UTC),
                kind=m.direction,
                author=m.author,
                text=m.text,
                intent=m.intent,
                confidence=m.confidence,
                entities=json.loads(m.entities or "[]"),
                status=m.status,
                channel=m.channel,
            )
        )
    since = aware(conv.created_at) or datetime.now(UTC)
    where = [audit_log.c.conversation_id == conv.id]
    if conv.debtor_id is not None:
        where.append(and_(audit_log.c.debtor_id == conv.debtor_id, audit_log.c.at >= since))
    for a in await conn.execute(select(audit_log).where(or_(*where)).order_by(audit_log.c.id)):
        if a.action == "answered" or (a.action == "staff_reply"):
            continue  # the message itself is in the timeline
        entries.append(
            TimelineEntry(
                at=aware(a.at) or since,
                kind="audit",
                author=a.actor,
                text=a.action.replace("_", " "),
                details=json.loads(a.details or "{}"),
            )
        )
    if conv.debtor_id is not None:
        ledger = await conn.execute(
            select(allocations, invoices.c.number)
            .join(invoices, invoices.c.id == allocations.c.invoice_id)
            .where(invoices.c.debtor_id == conv.debtor_id, allocations.c.created_at >= since)
            .order_by(allocations.c.id)
        )
        for al in ledger:
            entries.append(
                TimelineEntry(
                    at=aware(al.created_at) or since,
                    kind="ledger",
                    author="ledger",
                    text=f"{al.source_kind.replace('_', ' ')} {al.source_id}",
                    details={"invoice": al.number, "amount": f"{al.amount:.2f}"},
                )
            )
    entries.sort(key=lambda e: e.at)
    return entries


async def conversations_of(conn: AsyncConnection, debtor_id: int) -> list[Any]:
    return list(
        (
            await conn.execute(
                select(conversations)
                .where(conversations.c.debtor_id == debtor_id)
                .order_by(conversations.c.last_message_at.desc())
            )
        ).all()
    )


async def recent_conversations(conn: AsyncConnection, limit: int = 50) -> list[Any]:
    return list(
        (
            await conn.execute(
                select(conversations, debtors.c.name.label("debtor_name"))
                .outerjoin(debtors, debtors.c.id == conversations.c.debtor_id)
                .order_by(conversations.c.last_message_at.desc(), conversations.c.id.desc())
                .limit(limit)
            )
        ).all()
    )


async def escalations_of(conn: AsyncConnection, conversation_id: int) -> list[Any]:
    return list(
        (
            await conn.execute(
                select(escalations)
                .where(escalations.c.conversation_id == conversation_id)
                .order_by(escalations.c.id)
            )
        ).all()
    )


# ---------------------------------------------------------------------------- debtors


async def find_debtors(conn: AsyncConnection, term: str = "", limit: int = 100) -> list[Any]:
    open_total = func.coalesce(
        func.sum(
            case(
                (
                    and_(
                        invoices.c.kind == InvoiceKind.INVOICE.value,
                        invoices.c.written_off.is_(False),
                    ),
                    invoices.c.open_amount,
                ),
                else_=0,
            )
        ),
        0,
    )
    query = (
        select(debtors.c.id, debtors.c.code, debtors.c.name, open_total.label("open_cents"))
        .outerjoin(invoices, invoices.c.debtor_id == debtors.c.id)
        .group_by(debtors.c.id, debtors.c.code, debtors.c.name)
        .order_by(open_total.desc(), debtors.c.name)
        .limit(limit)
    )
    if term:
        like = f"%{term.lower()}%"
        query = query.where(
            or_(func.lower(debtors.c.name).like(like), func.lower(debtors.c.code).like(like))
        )
    return [
        {"id": r.id, "code": r.code, "name": r.name, "open": _cents(r.open_cents)}
        for r in await conn.execute(query)
    ]


async def debtor_page(conn: AsyncConnection, debtor_id: int) -> dict[str, Any] | None:
    debtor = (await conn.execute(select(debtors).where(debtors.c.id == debtor_id))).first()
    if debtor is None:
        return None
    emails = list(
        (
            await conn.execute(
                select(debtor_emails.c.email).where(debtor_emails.c.debtor_id == debtor_id)
            )
        ).scalars()
    )
    invoice_rows = list(
        (
            await conn.execute(
                select(invoices)
                .where(invoices.c.debtor_id == debtor_id)
                .order_by(invoices.c.due_date, invoices.c.id)
            )
        ).all()
    )
    allocation_rows = list(
        (
            await conn.execute(
                select(allocations, invoices.c.number)
                .join(invoices, invoices.c.id == allocations.c.invoice_id)
                .where(invoices.c.debtor_id == debtor_id)
                .order_by(allocations.c.id.desc())
            )
        ).all()
    )
    promises = []
    for p in await conn.execute(
        select(payment_promises)
        .where(payment_promises.c.debtor_id == debtor_id)
        .order_by(payment_promises.c.promised_date.desc())
    ):
        numbers = (
            await conn.execute(
                select(invoices.c.number)
                .join(promise_invoices, promise_invoices.c.invoice_id == invoices.c.id)
                .where(promise_invoices.c.promise_id == p.id)
            )
        ).scalars()
        promises.append({"row": p, "invoices": sorted(numbers)})
    invoice_ids = [i.id for i in invoice_rows]
    holds = list(
        (
            await conn.execute(
                select(dunning_holds, invoices.c.number)
                .outerjoin(invoices, invoices.c.id == dunning_holds.c.invoice_id)
                .where(
                    or_(
                        dunning_holds.c.debtor_id == debtor_id,
                        dunning_holds.c.invoice_id.in_(invoice_ids or [-1]),
                    )
                )
                .order_by(dunning_holds.c.released_at.is_not(None), dunning_holds.c.id.desc())
            )
        ).all()
    )
    reminders = list(
        (
            await conn.execute(
                select(dunning_lines, invoices.c.number)
                .join(invoices, invoices.c.id == dunning_lines.c.invoice_id)
                .where(dunning_lines.c.debtor_id == debtor_id)
                .order_by(dunning_lines.c.send_on.desc(), dunning_lines.c.id.desc())
            )
        ).all()
    )
    return {
        "debtor": debtor,
        "emails": sorted(emails),
        "invoices": invoice_rows,
        "allocations": allocation_rows,
        "promises": promises,
        "holds": holds,
        "reminders": reminders,
        "conversations": await conversations_of(conn, debtor_id),
        "plans": await plans_of(conn, debtor_id),
        "credits": await held_credits(conn, debtor_id),
    }


async def plans_of(conn: AsyncConnection, debtor_id: int) -> list[dict[str, Any]]:
    """The debtor's payment plans with their instalments, newest first."""
    from adapters.db.plan_schema import payment_plans, plan_instalments

    plans = []
    for plan in await conn.execute(
        select(payment_plans)
        .where(payment_plans.c.debtor_id == debtor_id)
        .order_by(payment_plans.c.id.desc())
    ):
        steps = (
            await conn.execute(
                select(plan_instalments)
                .where(plan_instalments.c.plan_id == plan.id)
                .order_by(plan_instalments.c.number)
            )
        ).all()
        plans.append({"row": plan, "instalments": list(steps)})
    return plans


async def plan_requests(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Plans the bot could not agree alone (escalated "plan_outside_policy"), with
    what the debtor still owes."""
    rows = (
        await conn.execute(
            select(escalations, debtors.c.name.label("debtor_name"), debtors.c.kind)
            .join(debtors, debtors.c.id == escalations.c.debtor_id)
            .where(
                escalations.c.reason == "plan_outside_policy",
                escalations.c.status != "resolved",
            )
            .order_by(escalations.c.created_at)
        )
    ).all()
    out = []
    for row in rows:
        open_invoices = (
            await conn.execute(
                select(invoices.c.id, invoices.c.number, invoices.c.open_amount)
                .where(
                    invoices.c.debtor_id == row.debtor_id,
                    invoices.c.kind == InvoiceKind.INVOICE.value,
                    invoices.c.open_amount > 0,
                    invoices.c.written_off.is_(False),
                    invoices.c.disputed.is_(False),
                )
                .order_by(invoices.c.due_date)
            )
        ).all()
        out.append(
            {
                "escalation": row,
                "invoices": open_invoices,
                "total": sum((i.open_amount for i in open_invoices), ZERO),
            }
        )
    return out


# ---------------------------------------------------------------------------- decisions


async def disputed_invoices(conn: AsyncConnection) -> list[Any]:
    return list(
        (
            await conn.execute(
                select(invoices, debtors.c.name.label("debtor_name"))
                .join(debtors, debtors.c.id == invoices.c.debtor_id)
                .where(invoices.c.disputed.is_(True), invoices.c.open_amount > 0)
                .order_by(invoices.c.due_date)
            )
        ).all()
    )


async def active_holds(conn: AsyncConnection, today: date) -> list[Any]:
    return list(
        (
            await conn.execute(
                select(
                    dunning_holds,
                    invoices.c.number,
                    func.coalesce(debtors.c.name, "").label("debtor_name"),
                )
                .outerjoin(invoices, invoices.c.id == dunning_holds.c.invoice_id)
                .outerjoin(
                    debtors,
                    debtors.c.id == func.coalesce(dunning_holds.c.debtor_id, invoices.c.debtor_id),
                )
                .where(
                    dunning_holds.c.released_at.is_(None),
                    or_(dunning_holds.c.until.is_(None), dunning_holds.c.until > today),
                )
                .order_by(dunning_holds.c.id.desc())
                .limit(300)
            )
        ).all()
    )


# ----------------------------------------------------------------------------- overview


@dataclass
class Overview:
    today: date
    open_total: Decimal
    dso: Decimal | None
    ageing: list[tuple[str, Decimal]]
    promises: dict[str, int]
    promises_kept_share: Decimal | None
    expected: list[tuple[str, Decimal]]
    expected_total: Decimal
    conversations_total: int
    conversations_by_bot: int

    @property
    def bot_share(self) -> Decimal | None:
        if not self.conversations_total:
            return None
        return (Decimal(self.conversations_by_bot) * 100 / self.conversations_total).quantize(
            Decimal("1")
        )


def bucket_of(due: date, today: date) -> str:
    """The ageing bucket of an open invoice on ``today``.

    due 2026-03-10, today 2026-03-10 -> "not due"; today 2026-04-09 -> "1-30"
    """
    late = (today - due).days
    if late <= 0:
        return "not due"
    if late <= 30:
        return "1-30"
    if late <= 60:
        return "31-60"
    if late <= 90:
        return "61-90"
    return ">90"


def _cents(value: Any) -> Decimal:
    """A sum over a ``Cents`` column: SQLAlchemy keeps the column's type through
    ``sum``/``coalesce`` and hands back a Decimal; a bare integer is cents."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return Decimal(int(value)).scaleb(-2)


async def overview(conn: AsyncConnection, today: date, weeks: int = 8) -> Overview:
    receivable = and_(
        invoices.c.kind == InvoiceKind.INVOICE.value,
        invoices.c.written_off.is_(False),
        invoices.c.open_amount > 0,
    )
    ageing = dict.fromkeys(BUCKETS, ZERO)
    for due, cents in await conn.execute(
        select(invoices.c.due_date, func.sum(invoices.c.open_amount))
        .where(receivable)
        .group_by(invoices.c.due_date)
    ):
        ageing[bucket_of(due, today)] += _cents(cents)
    open_total = sum(ageing.values(), ZERO)

    # Days sales outstanding, count-back over 90 days: what is open, in days of the
    # sales of the last 90 days.
    sales = _cents(
        (
            await conn.execute(
                select(func.sum(invoices.c.amount)).where(
                    invoices.c.kind == InvoiceKind.INVOICE.value,
                    invoices.c.issue_date > today - timedelta(days=90),
                    invoices.c.issue_date <= today,
                )
            )
        ).scalar_one()
    )
    dso = (open_total * 90 / sales).quantize(Decimal("1")) if sales > 0 else None

    promises = {
        status: int(n)
        for status, n in await conn.execute(
            select(payment_promises.c.status, func.count()).group_by(payment_promises.c.status)
        )
    }
    resolved = promises.get("kept", 0) + promises.get("broken", 0)
    kept_share = (
        (Decimal(promises.get("kept", 0)) * 100 / resolved).quantize(Decimal("1"))
        if resolved
        else None
    )

    # Cash expected: open promises by the week they fall in (late ones in this week),
    # and plan instalments once the plans part stores them.
    start = today - timedelta(days=today.weekday())
    expected = {start + timedelta(weeks=i): ZERO for i in range(weeks)}
    horizon = start + timedelta(weeks=weeks)
    for day, cents in await conn.execute(
        select(payment_promises.c.promised_date, func.sum(payment_promises.c.amount))
        .where(payment_promises.c.status == "open", payment_promises.c.promised_date < horizon)
        .group_by(payment_promises.c.promised_date)
    ):
        week = max(start, day - timedelta(days=day.weekday()))
        expected[week] += _cents(cents)
    for day, amount in await _plan_instalments(conn, horizon):
        week = max(start, day - timedelta(days=day.weekday()))
        expected[week] += amount
    expected_list = [(w.strftime("%d %b"), v) for w, v in expected.items()]

    # A conversation the bot closed alone: the debtor wrote, and it was never
    # escalated nor answered by staff.
    talked = select(messages.c.conversation_id).where(messages.c.direction == "in").distinct()
    total = (await conn.execute(select(func.count()).select_from(talked.subquery()))).scalar_one()
    staff_touched = (
        select(escalations.c.conversation_id)
        .union(select(messages.c.conversation_id).where(messages.c.author.like("staff:%")))
        .subquery()
    )
    touched = (
        await conn.execute(
            select(func.count(distinct(messages.c.conversation_id))).where(
                messages.c.direction == "in",
                messages.c.conversation_id.in_(select(staff_touched.c[0])),
            )
        )
    ).scalar_one()
    return Overview(
        today=today,
        open_total=open_total,
        dso=dso,
        ageing=list(ageing.items()),
        promises=promises,
        promises_kept_share=kept_share,
        expected=expected_list,
        expected_total=sum(expected.values(), ZERO),
        conversations_total=int(total),
        conversations_by_bot=int(total) - int(touched),
    )


async def _plan_instalments(conn: AsyncConnection, horizon: date) -> list[tuple[date, Decimal]]:
    """What is still unpaid of active plans' instalments due before ``horizon``."""
    from adapters.db.plan_schema import payment_plans, plan_instalments

    rows = await conn.execute(
        select(plan_instalments.c.due_date, plan_instalments.c.amount, plan_instalments.c.paid)
        .join(payment_plans, payment_plans.c.id == plan_instalments.c.plan_id)
        .where(
            payment_plans.c.state == "active",
            plan_instalments.c.due_date < horizon,
            plan_instalments.c.paid < plan_instalments.c.amount,
        )
    )
    return [(r.due_date, r.amount - r.paid) for r in rows]


# -------------------------------------------------------------------------------- audit


async def audit_entries(
    conn: AsyncConnection,
    *,
    actor: str = "",
    action: str = "",
    debtor_id: int | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[Any]:
    query = (
        select(audit_log, debtors.c.name.label("debtor_name"), invoices.c.number)
        .outerjoin(debtors, debtors.c.id == audit_log.c.debtor_id)
        .outerjoin(invoices, invoices.c.id == audit_log.c.invoice_id)
        .order_by(audit_log.c.id.desc())
        .limit(limit)
    )
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        query = query.where(audit_log.c.action == action)
    if debtor_id is not None:
        query = query.where(audit_log.c.debtor_id == debtor_id)
    if before is not None:
        query = query.where(audit_log.c.id < before)
    return list((await conn.execute(query)).all())


async def audit_actions(conn: AsyncConnection) -> list[str]:
    return sorted((await conn.execute(select(audit_log.c.action).distinct())).scalars())


async def latest_ids(conn: AsyncConnection) -> tuple[int, int, int]:
    """The newest message, escalation and audit ids: what live pages watch."""
    row = (
        await conn.execute(
            select(
                select(func.coalesce(func.max(messages.c.id), 0)).scalar_subquery(),
                select(func.coalesce(func.max(escalations.c.id), 0)).scalar_subquery(),
                select(func.coalesce(func.max(audit_log.c.id), 0)).scalar_subquery(),
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])
