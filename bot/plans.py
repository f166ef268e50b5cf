"""Payment plan use cases: accept, pay, check every day, and the calendar file.

    accept_plan(conn, debtor_id, invoice_ids, instalments, policy, ...)
        -> the plan stored, its invoices held from dunning (hold reason "plan")
    pay_instalment(conn, provider, settings, instalment_id)
        -> a Mollie payment for what is left of the instalment (its checkout URL)
    record_payment(conn, provider_payment, today)       (the Mollie webhook)
        paid     -> allocated over the invoices once (a second webhook changes nothing),
                    the plan's progress refreshed, completed if all is paid
        failed / expired / canceled -> status kept; the instalment stays due
    check_plans(engine, conversations, settings, today)  (daily, ``relance plans check``)
        a reminder before each instalment  -> on the plan's conversation channel
        an instalment unpaid past its grace -> plan broken, "plan" holds released
                                               (dunning resumes), the debtor is told
        everything paid                     -> plan completed, the debtor is thanked

Progress comes from the ledger (``plan_repo.paid_since_start``): a bank transfer
reconciled to a plan invoice counts as much as a Mollie payment.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.db import conversation_repo, plan_repo
from adapters.db.allocations import apply_allocations, reverse_allocations
from adapters.db.schema import debtor_emails, invoices
from bot.config import Settings
from bot.dialogue.policy import Reply
from bot.paylinks import calendar_url, instalment_url
from domain.allocation import OpenItem, allocate
from domain.money import ZERO
from domain.payment_plan import (
    Instalment,
    PaymentPlanPolicy,
    PlanState,
    next_due,
    plan_state,
    progress,
)

if TYPE_CHECKING:
    from adapters.payments.mollie import PaymentProvider, ProviderPayment
    from bot.conversations import Conversations

log = logging.getLogger(__name__)


class PlanRefused(ValueError):
    """The plan no longer matches the ledger (invoices paid or changed meanwhile)."""


@dataclass(frozen=True)
class AcceptedPlan:
    plan_id: int
    instalment_ids: tuple[int, ...]


@dataclass
class CheckSummary:
    reminded: int = 0
    completed: int = 0
    broken: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


async def _open_amounts(conn: AsyncConnection, invoice_ids: Sequence[int]) -> list[Any]:
    return list(
        (
            await conn.execute(
                select(
                    invoices.c.id,
                    invoices.c.debtor_id,
                    invoices.c.open_amount,
                    invoices.c.currency,
                    invoices.c.due_date,
                    invoices.c.issue_date,
                    invoices.c.number,
                ).where(invoices.c.id.in_(list(invoice_ids)))
            )
        ).all()
    )


async def accept_plan(
    conn: AsyncConnection,
    *,
    debtor_id: int,
    invoice_ids: Sequence[int],
    instalments: Sequence[Instalment],
    policy: PaymentPlanPolicy,
    conversation_id: int | None = None,
    channel: str = "",
    accepted_by: str = "bot",
    today: date,
) -> AcceptedPlan:
    """Store the plan the debtor accepted, if the ledger still says what it showed."""
    rows = await _open_amounts(conn, invoice_ids)
    if len(rows) != len(set(invoice_ids)) or any(r.debtor_id != debtor_id for r in rows):
        raise PlanRefused("the plan names invoices of another debtor or unknown invoices")
    total = sum((r.open_amount for r in rows), ZERO)
    scheduled = sum((i.amount for i in instalments), ZERO) - policy.fee
    if total != scheduled or total <= ZERO:
        raise PlanRefused(f"open balance {total} differs from the plan's {scheduled}")
    for previous in await plan_repo.active_plan_ids(conn, debtor_id):
        # A new agreement replaces the running one (the debtor renegotiated): the
        # old plan is cancelled and its holds released before the new ones are set.
        old = await plan_repo.load_plan(conn, previous)
        if old is not None and await plan_repo.end_plan(conn, old, PlanState.CANCELLED, today):
            await conversation_repo.audit(
                conn, accepted_by, "plan_replaced", debtor_id=debtor_id, plan_id=previous
            )
    plan_id, instalment_ids = await plan_repo.create_plan(
        conn,
        debtor_id=debtor_id,
        segment=policy.segment,
        currency=rows[0].currency,
        invoices_open=[(r.id, r.open_amount) for r in sorted(rows, key=lambda r: r.due_date)],
        instalments=instalments,
        fee=policy.fee,
        grace_days=policy.grace_days,
        remind_days_before=policy.remind_days_before,
        conversation_id=conversation_id,
        channel=channel,
        created_by=accepted_by,
    )
    await conversation_repo.audit(
        conn,
        accepted_by,
        "plan_accepted",
        debtor_id=debtor_id,
        conversation_id=conversation_id,
        plan_id=plan_id,
        instalments=[[i.due_date.isoformat(), str(i.amount)] for i in instalments],
    )
    return AcceptedPlan(plan_id, tuple(instalment_ids))


async def refresh_plan(conn: AsyncConnection, plan_id: int, today: date) -> PlanState | None:
    """Bring the instalments' paid amounts up to date; complete the plan when all is paid.
    Returns the plan's state after (None for an unknown plan)."""
    plan = await plan_repo.load_plan(conn, plan_id)
    if plan is None:
        return None
    if plan.state is not PlanState.ACTIVE:
        return plan.state
    paid = await plan_repo.paid_since_start(conn, plan_id)
    await plan_repo.save_progress(conn, plan, progress(plan.instalments, paid), today)
    if plan_state(plan.instalments, paid, today, plan.grace_days) is PlanState.COMPLETED:
        await plan_repo.end_plan(conn, plan, PlanState.COMPLETED, today)
        await conversation_repo.audit(
            conn, "bot", "plan_completed", debtor_id=plan.debtor_id, plan_id=plan_id
        )
        return PlanState.COMPLETED
    return PlanState.ACTIVE


# ------------------------------------------------------------------------------ paying


async def pay_instalment(
    conn: AsyncConnection,
    provider: PaymentProvider,
    settings: Settings,
    instalment_id: int,
    today: date,
) -> str | None:
    """The checkout URL for what is left of an instalment (None when nothing is left or
    the plan has ended).  An open payment for it is reused rather than doubled."""
    plan_id = await plan_repo.plan_of_instalment(conn, instalment_id)
    plan = await plan_repo.load_plan(conn, plan_id) if plan_id is not None else None
    if plan is None or plan.state is not PlanState.ACTIVE:
        return None
    paid = await plan_repo.paid_since_start(conn, plan.id)
    steps = dict(zip(plan.instalment_ids, progress(plan.instalments, paid), strict=True))
    step = steps[instalment_id]
    if step.settled:
        return None
    existing = await plan_repo.open_payment_for_instalment(conn, instalment_id)
    if existing is not None and existing.amount == step.remaining and existing.checkout_url:
        return str(existing.checkout_url)
    number = step.instalment.number
    payment = await provider.create_payment(
        step.remaining,
        plan.currency,
        f"{settings.creditor.name}: instalment {number}/{len(plan.instalments)}",
        redirect_url=f"{settings.public_url}/pay/done",
        metadata={"plan": plan.id, "instalment": number},
    )
    await plan_repo.add_payment(
        conn,
        provider="mollie",
        provider_id=payment.id,
        debtor_id=plan.debtor_id,
        invoice_ids=plan.invoice_ids,
        amount=step.remaining,
        currency=plan.currency,
        status=payment.status,
        checkout_url=payment.checkout_url,
        plan_id=plan.id,
        instalment_id=instalment_id,
    )
    return payment.checkout_url


async def pay_invoices(
    conn: AsyncConnection,
    provider: PaymentProvider,
    settings: Settings,
    debtor_id: int,
    invoice_ids: Sequence[int],
) -> tuple[str, Decimal]:
    """A payment for the open invoices the debtor chose on the pay page."""
    rows = [
        r
        for r in await _open_amounts(conn, invoice_ids)
        if r.debtor_id == debtor_id and r.open_amount > 0
    ]
    if not rows or len(rows) != len(set(invoice_ids)):
        raise PlanRefused("choose open invoices of your own")
    rows.sort(key=lambda r: (r.due_date, r.number))
    total = sum((r.open_amount for r in rows), ZERO)
    numbers = ", ".join(r.number for r in rows)
    payment = await provider.create_payment(
        total,
        rows[0].currency,
        f"{settings.creditor.name}: {numbers}",
        redirect_url=f"{settings.public_url}/pay/done",
        metadata={"invoices": [r.number for r in rows]},
    )
    await plan_repo.add_payment(
        conn,
        provider="mollie",
        provider_id=payment.id,
        debtor_id=debtor_id,
        invoice_ids=[r.id for r in rows],
        amount=total,
        currency=rows[0].currency,
        status=payment.status,
        checkout_url=payment.checkout_url,
    )
    return payment.checkout_url, total


async def record_payment(
    conn: AsyncConnection,
    fetched: ProviderPayment,
    today: date,
    conversations: Conversations | None = None,
) -> str:
    """What a webhook's payment means for the ledger; returns what was done:
    ``recorded``, ``duplicate``, ``unknown`` or the new status.

    With ``conversations``, a plan's debtor is told in the same transaction: the
    instalment was received (and when the next one is due), or the plan is complete.
    """
    row = await plan_repo.payment_by_provider_id(conn, fetched.id)
    if row is None:
        return "unknown"
    if fetched.charged_back > ZERO:
        return await _charged_back(conn, row, fetched, today)
    if not fetched.paid:
        if row.allocated_at is None and row.status != fetched.status:
            await plan_repo.set_payment_status(conn, row.id, fetched.status)
        return fetched.status
    if not await plan_repo.claim_allocation(conn, row.id):
        return "duplicate"
    fee = await _fee_part(conn, row.plan_id, fetched.amount)
    items = [
        OpenItem(str(r.id), r.open_amount, r.due_date, r.issue_date)
        for r in await _open_amounts(conn, plan_repo.invoice_ids_of(row))
    ]
    result = allocate(fetched.amount - fee, items, today=today)
    await apply_allocations(
        conn, [(int(a.key), "mollie", fetched.id, a.amount) for a in result.allocations]
    )
    await conversation_repo.audit(
        conn,
        "mollie",
        "payment_recorded",
        debtor_id=row.debtor_id,
        payment=fetched.id,
        amount=str(fetched.amount),
        overpayment=str(result.overpayment),
        plan_fee=str(fee),
        plan_id=row.plan_id,
    )
    if row.plan_id is not None:
        state = await refresh_plan(conn, row.plan_id, today)
        plan = await plan_repo.load_plan(conn, row.plan_id)
        if conversations is not None and plan is not None:
            await _tell(
                conn,
                conversations,
                plan,
                _paid_reply(
                    plan, state, fetched.amount, await plan_repo.paid_since_start(conn, plan.id)
                ),
                today,
            )
    return "recorded"


async def _fee_part(conn: AsyncConnection, plan_id: int | None, amount: Decimal) -> Decimal:
    """The part of a plan payment that is the plan's fee, not money for the invoices:
    the fee rides on the first instalment and is kept out of the ledger until the
    rest of that instalment is paid (``domain.payment_plan.credited``).  A plan paid
    by bank transfer reaches the ledger whole, and its fee is then not collected."""
    if plan_id is None:
        return ZERO
    plan = await plan_repo.load_plan(conn, plan_id)
    if plan is None or plan.fee <= ZERO or not plan.instalments:
        return ZERO
    paid = await plan_repo.paid_since_start(conn, plan_id, credit_fee=False)
    if paid >= plan.instalments[0].amount - plan.fee:
        return ZERO  # already counted as collected
    return min(plan.fee, amount)


async def _charged_back(
    conn: AsyncConnection, row: Any, fetched: ProviderPayment, today: date
) -> str:
    """The debtor's bank took the money back: what it paid is no longer paid.  The
    allocations are removed (the invoices reopen, dunning sees them again) and a
    plan's progress falls back; staff find it in the audit log."""
    if row.status == "charged_back":
        return "duplicate"
    await plan_repo.set_payment_status(conn, row.id, "charged_back")
    reopened = await reverse_allocations(conn, "mollie", fetched.id)
    await conversation_repo.audit(
        conn,
        "mollie",
        "payment_charged_back",
        debtor_id=row.debtor_id,
        payment=fetched.id,
        amount=str(fetched.charged_back),
        invoices=reopened,
        plan_id=row.plan_id,
    )
    if row.plan_id is not None:
        await refresh_plan(conn, row.plan_id, today)
    return "charged_back"


def _paid_reply(
    plan: plan_repo.StoredPlan, state: PlanState | None, amount: Decimal, paid: Decimal
) -> Reply:
    if state is PlanState.COMPLETED:
        return Reply("plan_completed", {"plan_total": plan.total + plan.fee})
    upcoming = next_due(plan.instalments, paid)
    return Reply(
        "plan_instalment_paid",
        {
            "amount": amount,
            "instalment": _instalment_params(
                upcoming.instalment, upcoming.remaining, len(plan.instalments)
            )
            if upcoming
            else None,
        },
    )


async def _tell(
    conn: AsyncConnection,
    conversations: Conversations,
    plan: plan_repo.StoredPlan,
    reply: Reply,
    today: date,
    not_before: datetime | None = None,
) -> None:
    conversation_id = await _debtor_conversation(conn, plan)
    if conversation_id is not None:
        await conversations.tell(conn, conversation_id, [reply], today, not_before)


def contact_time(settings: Settings, now: datetime) -> datetime:
    """When a message we start ourselves may go out: now, or the next contact time
    outside quiet hours (22:00-08:00), Sundays and public holidays (FACTS.md §4c)."""
    from adapters.holidays_be import belgian_holidays
    from domain.calendar import ContactRules

    local = now.astimezone(settings.timezone)
    rules = ContactRules(holidays=belgian_holidays(local.year, local.year + 1))
    return rules.next_contact_time(local).astimezone(UTC)


# ------------------------------------------------------------------------ daily check


async def _debtor_conversation(conn: AsyncConnection, plan: plan_repo.StoredPlan) -> int | None:
    """Where to write to the debtor about a plan: its conversation, except a web chat
    (nobody reads a closed browser tab) when the debtor has an email address."""
    from adapters.db.conversation_schema import conversations

    channel = None
    if plan.conversation_id is not None:
        channel = (
            await conn.execute(
                select(conversations.c.channel).where(conversations.c.id == plan.conversation_id)
            )
        ).scalar_one_or_none()
        if channel in ("email", "telegram"):
            return plan.conversation_id
    address = (
        await conn.execute(
            select(debtor_emails.c.email)
            .where(debtor_emails.c.debtor_id == plan.debtor_id, debtor_emails.c.failing.is_(False))
            .order_by(debtor_emails.c.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if address is None:
        return plan.conversation_id
    conversation_id = await conversation_repo.conversation_for(conn, "email", address)
    await conversation_repo.save_conversation(conn, conversation_id, debtor_id=plan.debtor_id)
    return conversation_id


def _due_work(plan: plan_repo.PlanOverview, today: date) -> bool:
    """Whether the check has anything to do for this plan today: its progress
    changed, it is complete or broken, or a reminder is due and not yet sent."""
    steps = progress(plan.instalments, plan.paid)
    if tuple(s.paid for s in steps) != plan.stored_paid:
        return True
    if plan_state(plan.instalments, plan.paid, today, plan.grace_days) is not PlanState.ACTIVE:
        return True
    upcoming = next_due(plan.instalments, plan.paid)
    if upcoming is None:
        return True
    index = plan.instalments.index(upcoming.instalment)
    window = (upcoming.instalment.due_date - today).days
    return 0 <= window <= plan.remind_days_before and plan.reminded[index] is None


async def check_plans(
    engine: AsyncEngine,
    conversations: Conversations,
    settings: Settings,
    today: date,
    now: datetime | None = None,
) -> CheckSummary:
    """Reminders, broken and completed plans for ``today``; one transaction per plan.
    The messages wait in the outbox for a contact time after ``now`` (never at night)."""
    summary = CheckSummary()
    send_from = contact_time(settings, now or datetime.now(UTC))
    async with engine.connect() as conn:
        plan_ids = [p.id for p in await plan_repo.active_overview(conn) if _due_work(p, today)]
    for plan_id in plan_ids:
        async with engine.begin() as conn:
            plan = await plan_repo.load_plan(conn, plan_id)
            if plan is None or plan.state is not PlanState.ACTIVE:
                continue
            state = await refresh_plan(conn, plan_id, today)
            paid = await plan_repo.paid_since_start(conn, plan_id)
            reply: Reply
            if state is PlanState.COMPLETED:
                summary.completed += 1
                reply = Reply("plan_completed", {"plan_total": plan.total + plan.fee})
                event = "completed"
            elif plan_state(plan.instalments, paid, today, plan.grace_days) is PlanState.BROKEN:
                await plan_repo.end_plan(conn, plan, PlanState.BROKEN, today)
                await conversation_repo.audit(
                    conn,
                    "bot",
                    "plan_broken",
                    debtor_id=plan.debtor_id,
                    plan_id=plan_id,
                    paid=str(paid),
                )
                missed = next_due(plan.instalments, paid)
                summary.broken += 1
                reply = Reply(
                    "plan_broken",
                    {
                        "instalment": _instalment_params(missed.instalment, missed.remaining)
                        if missed
                        else None,
                        "plan_remaining": plan.total + plan.fee - paid,
                    },
                )
                event = "broken"
            else:
                upcoming = next_due(plan.instalments, paid)
                if upcoming is None:
                    continue
                index = plan.instalments.index(upcoming.instalment)
                due = upcoming.instalment.due_date
                window = (due - today).days
                if not 0 <= window <= plan.remind_days_before:
                    continue
                if not await plan_repo.mark_reminded(conn, plan.instalment_ids[index], today):
                    continue
                summary.reminded += 1
                reply = Reply(
                    "plan_reminder",
                    {
                        "instalment": _instalment_params(
                            upcoming.instalment, upcoming.remaining, len(plan.instalments)
                        ),
                        "plan_pay_url": instalment_url(settings, plan.instalment_ids[index]),
                    },
                )
                event = "reminded"
            summary.events.append({"plan": plan_id, "debtor_id": plan.debtor_id, "event": event})
            await _tell(conn, conversations, plan, reply, today, send_from)
    return summary


def _instalment_params(
    instalment: Instalment, remaining: Decimal, count: int | None = None
) -> dict[str, Any]:
    return {
        "number": instalment.number,
        "count": count,
        "due_date": instalment.due_date,
        "amount": instalment.amount,
        "remaining": remaining,
    }


# ----------------------------------------------------------------------- calendar file


def _ics_text(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT escaping."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 5545 §3.1: lines of at most 75 octets, continued with CRLF + space."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while start < len(raw):
        end = min(start + limit, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # not inside a UTF-8 character
            end -= 1
        parts.append(raw[start:end].decode())
        start, limit = end, 74  # continuation lines begin with one space
    return "\r\n ".join(parts)


def schedule_ics(
    *,
    plan_id: int,
    instalments: Sequence[Instalment],
    titles: Sequence[str],
    description: str,
    host: str,
    stamp: datetime,
) -> bytes:
    """The plan's schedule as an iCalendar file: one all-day event per instalment,
    titled by ``titles`` (same order).

    Written by hand (RFC 5545): the whole file is a dozen fixed lines per event, and
    the ``icalendar`` package would be a dependency for that alone.  UIDs are stable
    per plan and instalment, so importing the file again updates the same events.
    """
    if len(titles) != len(instalments):
        raise ValueError("one title per instalment")
    stamp_text = stamp.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Relance//Payment plan//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    for instalment, title in zip(instalments, titles, strict=True):
        day = instalment.due_date
        lines += [
            "BEGIN:VEVENT",
            f"UID:plan-{plan_id}-{instalment.number}@{host}",
            f"DTSTAMP:{stamp_text}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{date.fromordinal(day.toordinal() + 1):%Y%m%d}",
            f"SUMMARY:{_ics_text(title)}",
            f"DESCRIPTION:{_ics_text(description)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()


def plan_links(settings: Settings, accepted: AcceptedPlan) -> dict[str, str | None]:
    """The reply parameters of an accepted plan: first pay link and calendar file."""
    if not settings.secret_key:
        return {"plan_pay_url": None, "plan_ics_url": None}
    return {
        "plan_pay_url": instalment_url(settings, accepted.instalment_ids[0]),
        "plan_ics_url": calendar_url(settings, accepted.plan_id),
    }


_DECIMALS = ("min_instalment", "down_payment_percent", "fee", "max_auto_total")
_INTEGERS = (
    "min_instalments",
    "max_instalments",
    "max_duration_days",
    "first_due_days",
    "interval_months",
    "grace_days",
    "remind_days_before",
)


def load_plan_policies(path: str | None) -> dict[str, PaymentPlanPolicy]:
    """The creditor's plan policies from a YAML file (RELANCE_PLAN_POLICY), over the
    defaults; without a file, the defaults.  ::

        consumer:
          max_instalments: 10
          min_instalment: "30.00"
        business:
          down_payment_percent: 20

    Bad input names the file, the segment and the setting, and nothing is used.
    """
    from dataclasses import replace
    from pathlib import Path

    import yaml

    from bot.errors import UserError
    from domain.payment_plan import default_policies

    policies = default_policies()
    if not path:
        return policies
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read the plan policy: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if raw is None:
        return policies
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected segments (business, consumer) at the top")
    for segment, values in raw.items():
        if segment not in policies:
            raise UserError(f"{path}: {segment}: unknown segment (business or consumer)")
        if not isinstance(values, dict):
            raise UserError(f"{path}: {segment}: expected settings under the segment")
        changes: dict[str, Any] = {}
        for key, value in values.items():
            where = f"{path}: {segment}.{key}"
            if key in _DECIMALS:
                try:
                    changes[key] = Decimal(str(value))
                except ArithmeticError:
                    raise UserError(f"{where}: not an amount: {value!r}") from None
                if not changes[key].is_finite():
                    raise UserError(f"{where}: not an amount: {value!r}")
            elif key in _INTEGERS:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise UserError(f"{where}: not a whole number: {value!r}")
                changes[key] = value
            else:
                known = ", ".join(_INTEGERS + _DECIMALS)
                raise UserError(f"{where}: unknown setting (one of {known})")
        try:
            policies[segment] = replace(policies[segment], **changes)
        except ValueError as exc:
            raise UserError(f"{path}: {segment}: {exc}") from None
    return policies


def provider_from_settings(settings: Settings) -> PaymentProvider | None:
    """Mollie when MOLLIE_API_KEY is set, else None (transfers and EPC QR only)."""
    if not settings.mollie_api_key:
        return None
    from adapters.payments.mollie import MolliePayments

    return MolliePayments(
        settings.mollie_api_key,
        settings.mollie_api_endpoint,
        f"{settings.public_url}/webhooks/mollie",
    )


def now_utc() -> datetime:
    return datetime.now(UTC)
