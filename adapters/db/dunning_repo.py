"""Storage for dunning: holds, promises, the situations a run decides on, lines, outbox.

The API other parts call (conversations, console, payment plans):

    hold_id = await add_hold(conn, debtor_id=7, reason="out_of_office", until=date(2026, 3, 25))
    await release_hold(conn, hold_id=hold_id, released_by="staff:anne")
    await record_promise(conn, [42, 43], Decimal("250.00"), date(2026, 3, 15), "email")

``stream_situations`` reads every open, late invoice with what the domain needs
(last level sent, holds, promises, the debtor's payment history), ordered by debtor
so a run can group a debtor's invoices into one message without holding the whole
ledger in memory.  Histories are aggregated by the database, per debtor.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from adapters.db.bank_schema import debtor_credits
from adapters.db.conversation_schema import conversations
from adapters.db.dunning_schema import (
    dunning_holds,
    dunning_lines,
    dunning_runs,
    outbox,
    payment_promises,
    promise_invoices,
)
from adapters.db.schema import allocations, debtor_emails, debtors, invoices
from domain.dunning import (
    Channel,
    DunningLine,
    Hold,
    HoldReason,
    InvoiceSituation,
    LineState,
    PaymentHistory,
    Promise,
)
from domain.fees import FirstReminder
from domain.invoice import InvoiceKind


class HoldError(ValueError):
    """A hold was asked for nothing or for something unknown."""


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    """Timestamps are stored and compared in UTC: SQLite compares them as text, so
    one offset for all is what makes "not_before <= now" mean what it says."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return moment.astimezone(UTC)


# --- Holds and promises: the API of other parts ----------------------------------------------


# Built once: written by conversation turns (see adapters.db.conversation_repo).
_NEW_HOLD = insert(dunning_holds).returning(dunning_holds.c.id)
_NEW_PROMISE = insert(payment_promises).returning(payment_promises.c.id)
_PROMISED_INVOICES = select(invoices.c.id, invoices.c.debtor_id, invoices.c.currency).where(
    invoices.c.id.in_(bindparam("ids", expanding=True))
)


async def add_hold(
    conn: AsyncConnection,
    *,
    debtor_id: int | None = None,
    invoice_id: int | None = None,
    reason: str | HoldReason,
    until: date | None = None,
    note: str = "",
    created_by: str = "relance",
) -> int:
    """Stop reminding one invoice, or every invoice of a debtor, until ``until``
    (contact resumes that day) or for good (None).  Returns the hold's id."""
    if (debtor_id is None) == (invoice_id is None):
        raise HoldError("a hold is on exactly one debtor or one invoice")
    try:
        reason = HoldReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in HoldReason)
        raise HoldError(f"unknown hold reason {reason!r} (one of {known})") from None
    # The same hold again (a debtor asking twice in one chat) is the one in force.
    h = dunning_holds.c
    same = (
        await conn.execute(
            select(h.id)
            .where(
                h.released_at.is_(None),
                h.reason == reason.value,
                h.debtor_id.is_(None) if debtor_id is None else h.debtor_id == debtor_id,
                h.invoice_id.is_(None) if invoice_id is None else h.invoice_id == invoice_id,
                h.until.is_(None) if until is None else h.until == until,
            )
            .limit(1)
        )
    ).scalar_one_or_none()
    if same is not None:
        return int(same)
    result = await conn.execute(
        _NEW_HOLD,
        {
            "debtor_id": debtor_id,
            "invoice_id": invoice_id,
            "reason": reason.value,
            "until": until,
            "note": note,
            "created_by": created_by,
            "created_at": _now(),
        },
    )
    return int(result.scalar_one())


async def release_hold(
    conn: AsyncConnection,
    *,
    hold_id: int | None = None,
    debtor_id: int | None = None,
    invoice_id: int | None = None,
    reason: str | HoldReason | None = None,
    released_by: str = "relance",
) -> int:
    """Release one hold by id, or every open hold on a debtor/invoice (optionally of
    one reason).  Returns how many were released."""
    conditions: list[ColumnElement[bool]] = [dunning_holds.c.released_at.is_(None)]
    if hold_id is not None:
        conditions.append(dunning_holds.c.id == hold_id)
    elif debtor_id is not None or invoice_id is not None:
        if debtor_id is not None:
            conditions.append(dunning_holds.c.debtor_id == debtor_id)
        if invoice_id is not None:
            conditions.append(dunning_holds.c.invoice_id == invoice_id)
    else:
        raise HoldError("say which hold to release: hold_id, debtor_id or invoice_id")
    if reason is not None:
        conditions.append(dunning_holds.c.reason == HoldReason(reason).value)
    result = await conn.execute(
        update(dunning_holds).where(*conditions).values(released_at=_now(), released_by=released_by)
    )
    return int(result.rowcount or 0)


async def record_promise(
    conn: AsyncConnection,
    invoice_ids: Sequence[int],
    amount: Decimal,
    promised_date: date,
    channel: str,
) -> int:
    """A promise to pay ``amount`` by ``promised_date`` for these invoices (all of one
    debtor).  Reminders for them wait until the date plus the policy's grace days."""
    if not invoice_ids:
        raise ValueError("a promise names at least one invoice")
    rows = (await conn.execute(_PROMISED_INVOICES, {"ids": list(invoice_ids)})).all()
    if len(rows) != len(set(invoice_ids)):
        missing = set(invoice_ids) - {r.id for r in rows}
        raise ValueError(f"unknown invoices: {sorted(missing)}")
    debtor_ids = {r.debtor_id for r in rows}
    if len(debtor_ids) != 1:
        raise ValueError("a promise covers invoices of one debtor")
    await supersede_promises(conn, invoice_ids)
    result = await conn.execute(
        _NEW_PROMISE,
        {
            "debtor_id": debtor_ids.pop(),
            "amount": amount,
            "currency": rows[0].currency,
            "promised_date": promised_date,
            "channel": channel,
            "status": "open",
            "created_at": _now(),
        },
    )
    promise_id = int(result.scalar_one())
    await conn.execute(
        insert(promise_invoices),
        [{"promise_id": promise_id, "invoice_id": i} for i in sorted(set(invoice_ids))],
    )
    return promise_id


async def supersede_promises(conn: AsyncConnection, invoice_ids: Sequence[int]) -> int:
    """Cancel the open promises on any of these invoices: a new promise (another
    date) or a payment plan replaces them, so they can neither be broken nor count
    as money expected. Returns how many were cancelled."""
    covering = select(promise_invoices.c.promise_id).where(
        promise_invoices.c.invoice_id.in_(sorted(set(invoice_ids)))
    )
    result = await conn.execute(
        update(payment_promises)
        .where(payment_promises.c.status == "open", payment_promises.c.id.in_(covering))
        .values(status="cancelled", resolved_at=_now())
    )
    return int(result.rowcount or 0)


async def resolve_promise(conn: AsyncConnection, promise_id: int, status: str) -> None:
    """Close a promise as kept, broken or cancelled (its history shapes the tone)."""
    if status not in ("kept", "broken", "cancelled"):
        raise ValueError(f"a promise is resolved as kept, broken or cancelled, not {status!r}")
    await conn.execute(
        update(payment_promises)
        .where(payment_promises.c.id == promise_id)
        .values(status=status, resolved_at=_now())
    )


async def settle_promises(conn: AsyncConnection, today: date, grace_days: int) -> dict[str, int]:
    """Close the open promises whose date plus grace has passed: kept when the money
    came (every invoice paid, or at least the promised amount allocated to them since
    the promise), broken otherwise.  Returns how many of each."""
    expired = (
        await conn.execute(
            select(
                payment_promises.c.id,
                payment_promises.c.amount,
                payment_promises.c.created_at,
                payment_promises.c.promised_date,
            ).where(payment_promises.c.status == "open")
        )
    ).all()
    counts = {"kept": 0, "broken": 0}
    for promise in expired:
        if today <= promise.promised_date + timedelta(days=grace_days):
            continue
        invoice_ids = select(promise_invoices.c.invoice_id).where(
            promise_invoices.c.promise_id == promise.id
        )
        still_open = await conn.scalar(
            select(func.coalesce(func.sum(invoices.c.open_amount), 0)).where(
                invoices.c.id.in_(invoice_ids)
            )
        )
        paid_since = await conn.scalar(
            select(func.coalesce(func.sum(allocations.c.amount), 0)).where(
                allocations.c.invoice_id.in_(invoice_ids),
                allocations.c.created_at >= promise.created_at,
            )
        )
        kept = not still_open or Decimal(paid_since or 0) >= promise.amount
        status = "kept" if kept else "broken"
        await resolve_promise(conn, promise.id, status)
        counts[status] += 1
    return counts


# --- What a run decides on --------------------------------------------------------------------


def _days_late(dialect: str) -> ColumnElement[Any]:
    """Days between an invoice's due date and its last allocation (its payment)."""
    paid_at = func.max(allocations.c.created_at)
    if dialect == "sqlite":
        return func.julianday(func.date(paid_at)) - func.julianday(invoices.c.due_date)
    return cast(func.date(paid_at), type_=invoices.c.due_date.type) - invoices.c.due_date


def _history_subquery(dialect: str) -> Any:
    paid = (
        select(
            invoices.c.debtor_id.label("debtor_id"),
            _days_late(dialect).label("days_late"),
        )
        .join(allocations, allocations.c.invoice_id == invoices.c.id)
        .where(invoices.c.open_amount == 0, invoices.c.kind == InvoiceKind.INVOICE.value)
        .group_by(invoices.c.id, invoices.c.debtor_id, invoices.c.due_date)
        .subquery("paid")
    )
    return (
        select(
            paid.c.debtor_id,
            func.count().label("paid_invoices"),
            func.avg(case((paid.c.days_late > 0, paid.c.days_late), else_=0)).label("avg_late"),
        )
        .group_by(paid.c.debtor_id)
        .subquery("history")
    )


def _promise_subquery() -> Any:
    return (
        select(
            payment_promises.c.debtor_id,
            func.sum(case((payment_promises.c.status == "kept", 1), else_=0)).label("kept"),
            func.sum(case((payment_promises.c.status == "broken", 1), else_=0)).label("broken"),
        )
        .group_by(payment_promises.c.debtor_id)
        .subquery("promise_history")
    )


def _lines_subquery() -> Any:
    """Per invoice: the highest level recorded, when each was sent, and whether one
    could not be delivered.  An ignored line (dropped by staff) counts as done on its
    planned day, so the cadence goes on."""
    first = dunning_lines.c.level == 1
    done_on = func.coalesce(
        dunning_lines.c.sent_on,
        case((dunning_lines.c.state == LineState.IGNORED.value, dunning_lines.c.send_on)),
    )
    failed = dunning_lines.c.state == LineState.ERROR.value
    return (
        select(
            dunning_lines.c.invoice_id,
            func.max(dunning_lines.c.level).label("last_level"),
            func.count(done_on).label("sent_count"),
            func.max(done_on).label("last_sent_on"),
            func.max(case((first, dunning_lines.c.sent_on))).label("first_sent_on"),
            func.max(case((first, dunning_lines.c.channel))).label("first_channel"),
            func.sum(case((failed, 1), else_=0)).label("failed"),
        )
        .group_by(dunning_lines.c.invoice_id)
        .subquery("last_line")
    )


def _emails_subquery() -> Any:
    return (
        select(debtor_emails.c.debtor_id, func.min(debtor_emails.c.email).label("email"))
        .where(debtor_emails.c.failing.is_(False))
        .group_by(debtor_emails.c.debtor_id)
        .subquery("email")
    )


def _telegram_subquery() -> Any:
    """Per debtor: the Telegram chat they linked last (``/start`` from the pay page),
    to remind them there when they have no e-mail address."""
    latest = (
        select(conversations.c.debtor_id, func.max(conversations.c.id).label("id"))
        .where(conversations.c.channel == "telegram", conversations.c.debtor_id.is_not(None))
        .group_by(conversations.c.debtor_id)
        .subquery("latest_chat")
    )
    return (
        select(latest.c.debtor_id, conversations.c.channel_key.label("chat"))
        .join(conversations, conversations.c.id == latest.c.id)
        .subquery("telegram")
    )


def situation_query(today: date, dialect: str) -> Any:
    history, promises, lines, emails, telegram = (
        _history_subquery(dialect),
        _promise_subquery(),
        _lines_subquery(),
        _emails_subquery(),
        _telegram_subquery(),
    )
    return (
        select(
            invoices.c.id,
            invoices.c.number,
            invoices.c.debtor_id,
            invoices.c.issue_date,
            invoices.c.due_date,
            invoices.c.currency,
            invoices.c.amount,
            invoices.c.open_amount,
            invoices.c.disputed,
            invoices.c.structured_reference,
            invoices.c.description,
            debtors.c.code.label("debtor_code"),
            debtors.c.name.label("debtor_name"),
            debtors.c.kind.label("debtor_kind"),
            debtors.c.language,
            emails.c.email,
            telegram.c.chat,
            lines.c.last_level,
            lines.c.sent_count,
            lines.c.last_sent_on,
            lines.c.first_sent_on,
            lines.c.first_channel,
            lines.c.failed,
            history.c.paid_invoices,
            history.c.avg_late,
            promises.c.kept,
            promises.c.broken,
        )
        .join(debtors, debtors.c.id == invoices.c.debtor_id)
        .outerjoin(emails, emails.c.debtor_id == invoices.c.debtor_id)
        .outerjoin(telegram, telegram.c.debtor_id == invoices.c.debtor_id)
        .outerjoin(lines, lines.c.invoice_id == invoices.c.id)
        .outerjoin(history, history.c.debtor_id == invoices.c.debtor_id)
        .outerjoin(promises, promises.c.debtor_id == invoices.c.debtor_id)
        .where(
            invoices.c.kind == InvoiceKind.INVOICE.value,
            invoices.c.open_amount > 0,
            invoices.c.written_off.is_(False),
            invoices.c.due_date < today,
        )
        .order_by(invoices.c.debtor_id, invoices.c.due_date, invoices.c.id)
    )


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """What a message about the invoice shows beyond the decision."""

    issue_date: date
    due_date: date
    amount: Decimal
    structured_reference: str
    description: str
    email: str | None
    telegram_chat: str | None = None  # the chat id of the debtor's linked Telegram chat


async def _active_holds(
    conn: AsyncConnection, today: date
) -> tuple[dict[int, list[Hold]], dict[int, list[Hold]]]:
    """Holds in force today, by debtor and by invoice.  An insolvency stops every
    invoice of the debtor, even when it was recorded on one invoice."""
    rows = await conn.execute(
        select(dunning_holds, invoices.c.debtor_id.label("invoice_debtor_id"))
        .outerjoin(invoices, invoices.c.id == dunning_holds.c.invoice_id)
        .where(
            dunning_holds.c.released_at.is_(None),
            or_(dunning_holds.c.until.is_(None), dunning_holds.c.until > today),
        )
    )
    by_debtor: dict[int, list[Hold]] = defaultdict(list)
    by_invoice: dict[int, list[Hold]] = defaultdict(list)
    for row in rows:
        reason = HoldReason(row.reason)
        debtor_id = row.debtor_id
        if debtor_id is None and reason is HoldReason.INSOLVENCY:
            debtor_id = row.invoice_debtor_id
        hold = Hold(reason, row.until, debtor_id is not None, row.note)
        if debtor_id is not None:
            by_debtor[debtor_id].append(hold)
        else:
            by_invoice[row.invoice_id].append(hold)
    return by_debtor, by_invoice


async def _open_promises(conn: AsyncConnection) -> dict[int, list[Promise]]:
    rows = await conn.execute(
        select(
            promise_invoices.c.invoice_id,
            payment_promises.c.promised_date,
            payment_promises.c.amount,
        )
        .join(payment_promises, payment_promises.c.id == promise_invoices.c.promise_id)
        .where(payment_promises.c.status == "open")
    )
    found: dict[int, list[Promise]] = defaultdict(list)
    for row in rows:
        found[row.invoice_id].append(Promise(row.promised_date, row.amount))
    return found


_NO_CREDIT = Decimal("0.00")


async def _open_credits(conn: AsyncConnection) -> dict[tuple[int, str], Decimal]:
    """Per (debtor, currency): open credit notes (not, or not wholly, set against an
    invoice) and payments above what was due that are not refunded yet."""
    cents = type_coerce(invoices.c.open_amount, BigInteger)
    notes = await conn.execute(
        select(invoices.c.debtor_id, invoices.c.currency, func.sum(cents))
        .where(
            invoices.c.kind == InvoiceKind.CREDIT_NOTE.value,
            invoices.c.open_amount > literal_column("0"),
        )
        .group_by(invoices.c.debtor_id, invoices.c.currency)
    )
    paid = await conn.execute(
        select(
            debtor_credits.c.debtor_id,
            debtor_credits.c.currency,
            func.sum(type_coerce(debtor_credits.c.amount, BigInteger)),
        )
        .where(debtor_credits.c.status == "open")
        .group_by(debtor_credits.c.debtor_id, debtor_credits.c.currency)
    )
    found: dict[tuple[int, str], Decimal] = defaultdict(lambda: Decimal("0.00"))
    for debtor_id, currency, total in [*notes, *paid]:
        found[(int(debtor_id), str(currency))] += Decimal(int(total or 0)).scaleb(-2)
    return dict(found)


_CHANNELS = {
    (True, True): (Channel.EMAIL, Channel.TELEGRAM, Channel.LETTER),
    (True, False): (Channel.EMAIL, Channel.LETTER),
    (False, True): (Channel.TELEGRAM, Channel.LETTER),
    (False, False): (Channel.LETTER,),
}


def _channels(email: str | None, chat: str | None) -> tuple[Channel, ...]:
    """How the debtor can be reached; the policy's order picks (``domain.dunning``)."""
    return _CHANNELS[(bool(email), bool(chat))]


async def stream_situations(
    conn: AsyncConnection, today: date, batch: int = 5000
) -> AsyncIterator[tuple[InvoiceSituation, PaymentHistory, InvoiceFacts]]:
    """Every open late invoice with what a run decides on, ordered by debtor."""
    holds_by_debtor, holds_by_invoice = await _active_holds(conn, today)
    promises = await _open_promises(conn)
    credits = await _open_credits(conn)
    query = situation_query(today, conn.dialect.name).execution_options(yield_per=batch)
    result = await conn.stream(query)
    no_history = PaymentHistory()
    empty: tuple[Hold, ...] = ()
    history, history_of = no_history, -1
    # Partitions rather than rows: one hop into the database driver per batch, not
    # per invoice (it halves the time of a million-invoice run).
    async for partition in result.partitions(batch):
        for row in partition:
            (
                invoice_id, number, debtor_id, issue_date, due_date, currency, amount,
                open_amount, disputed, reference, description, debtor_code, debtor_name,
                debtor_kind, language, email, chat, last_level, sent_count, last_sent_on,
                first_sent_on, first_channel, failed, paid_invoices, avg_late, kept, broken,
            ) = row  # fmt: skip
            first: FirstReminder | None = None
            if first_sent_on is not None:
                first = FirstReminder(first_sent_on, Channel(first_channel).medium)
            last_level = int(last_level or 0)
            debtor_holds = holds_by_debtor.get(debtor_id)
            invoice_holds = holds_by_invoice.get(invoice_id)
            holds = empty
            if debtor_holds or invoice_holds:
                holds = (*(debtor_holds or ()), *(invoice_holds or ()))
            situation = InvoiceSituation(
                invoice_id=invoice_id,
                number=number,
                debtor_id=debtor_id,
                debtor_code=debtor_code,
                debtor_name=debtor_name,
                consumer=debtor_kind == "consumer",
                language=language,
                due_date=due_date,
                open_amount=open_amount,
                currency=currency,
                channels=_channels(email, chat),
                disputed=bool(disputed),
                last_level=last_level,
                last_sent_on=last_sent_on if (sent_count or 0) >= last_level else None,
                first_reminder=first,
                holds=holds,
                promises=tuple(promises[invoice_id]) if invoice_id in promises else (),
                delivery_failed=bool(failed),
                credit=credits.get((debtor_id, currency), _NO_CREDIT) if credits else _NO_CREDIT,
            )
            if debtor_id != history_of:
                history_of = debtor_id
                history = no_history
                if paid_invoices or kept or broken:
                    history = PaymentHistory(
                        paid_invoices=int(paid_invoices or 0),
                        average_days_late=Decimal(str(avg_late or 0)),
                        promises_kept=int(kept or 0),
                        promises_broken=int(broken or 0),
                    )
            facts = InvoiceFacts(issue_date, due_date, amount, reference, description, email, chat)
            yield situation, history, facts


# --- Runs, lines and the outbox -------------------------------------------------------------


async def start_run(conn: AsyncConnection, run_date: date, policy: str) -> int:
    result = await conn.execute(
        insert(dunning_runs)
        .values(run_date=run_date, policy=policy, created_at=_now())
        .returning(dunning_runs.c.id)
    )
    return int(result.scalar_one())


async def finish_run(conn: AsyncConnection, run_id: int, lines: int, messages: int) -> None:
    await conn.execute(
        update(dunning_runs)
        .where(dunning_runs.c.id == run_id)
        .values(lines=lines, messages=messages)
    )


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    message_id: str
    channel: str
    recipient: str
    subject: str
    payload: bytes
    not_before: datetime
    kind: str = "dunning"


async def enqueue(conn: AsyncConnection, message: OutgoingMessage) -> int:
    """Put a message in the outbox (in the caller's transaction)."""
    result = await conn.execute(
        insert(outbox)
        .values(
            message_id=message.message_id,
            kind=message.kind,
            channel=message.channel,
            recipient=message.recipient,
            subject=message.subject,
            payload=message.payload,
            state="pending",
            attempts=0,
            not_before=_utc(message.not_before),
            created_at=_now(),
        )
        .returning(outbox.c.id)
    )
    return int(result.scalar_one())


async def save_lines(
    conn: AsyncConnection, run_id: int, lines: Iterable[DunningLine], outbox_id: int | None
) -> int:
    now = _now()
    state = LineState.QUEUED if outbox_id is not None else LineState.DRAFT
    rows = [
        {
            "run_id": run_id,
            "invoice_id": line.invoice_id,
            "debtor_id": line.debtor_id,
            "level": line.level.number,
            "level_name": line.level.name,
            "tone": line.tone.label,
            "channel": line.channel.value,
            "language": line.language,
            "state": state.value,
            "send_on": line.send_on,
            "principal": line.claim.principal,
            "fees": line.claim.fees.value,
            "interest": line.claim.interest.value,
            "total": line.claim.total,
            "breakdown": json.dumps(
                {"fees": line.claim.fees.breakdown, "interest": line.claim.interest.breakdown}
            ),
            "outbox_id": outbox_id,
            "created_at": now,
            "updated_at": now,
        }
        for line in lines
    ]
    if rows:
        await conn.execute(insert(dunning_lines), rows)
    return len(rows)


async def set_line_state(
    conn: AsyncConnection,
    *,
    outbox_id: int,
    state: LineState,
    sent_on: date | None = None,
    error: str | None = None,
) -> None:
    """Move every line of one outbox message to ``state``."""
    values: dict[str, Any] = {"state": state.value, "updated_at": _now()}
    if sent_on is not None:
        values["sent_on"] = sent_on
    if error is not None:
        values["error"] = error
    await conn.execute(
        update(dunning_lines).where(dunning_lines.c.outbox_id == outbox_id).values(**values)
    )


async def planned_day(conn: AsyncConnection, outbox_id: int) -> date | None:
    """The day the dunning lines of an outbox message were planned for (None when
    the message is no reminder)."""
    value = (
        await conn.execute(
            select(func.min(dunning_lines.c.send_on)).where(dunning_lines.c.outbox_id == outbox_id)
        )
    ).scalar_one_or_none()
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def withdraw_stale(conn: AsyncConnection, outbox_id: int, worker: str, why: str) -> None:
    """A reminder that did not leave on its day: its message is marked "withdrawn"
    (kept for the record, with ``why``; never sent again, not even by staff's
    ``resend``) and its lines are removed, so the next dunning run writes that
    level again with the dates of its new day."""
    await mark_message(conn, outbox_id, "withdrawn", worker=worker, error=why)
    await conn.execute(delete(dunning_lines).where(dunning_lines.c.outbox_id == outbox_id))


async def claim_messages(
    conn: AsyncConnection, *, worker: str, now: datetime, limit: int, channels: Sequence[str]
) -> list[Any]:
    """Atomically reserve up to ``limit`` due pending messages ("claimed") for ``worker``.

    On PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` then an UPDATE of those rows:
    concurrent senders skip each other's rows instead of waiting.  On SQLite one
    UPDATE ... WHERE id IN (SELECT ...) takes the write lock at once, so two
    processes cannot claim the same row either.  The caller commits before sending
    anything.  A claimed message has not been handed to SMTP yet: if its sender dies
    it simply goes back to pending.
    """
    due = (
        select(outbox.c.id)
        .where(
            outbox.c.state == "pending",
            outbox.c.not_before <= _utc(now),
            outbox.c.channel.in_(list(channels)),
        )
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "sqlite":
        # One statement: SQLite takes its write lock before reading, so the subquery
        # and the update see the same rows and no other writer can slip between.
        chosen: Any = due.scalar_subquery()
    else:
        # Lock the chosen rows first (skipping rows other senders hold), then update
        # exactly those: inside "UPDATE ... WHERE id IN (subquery)" PostgreSQL may run
        # a LIMIT ... SKIP LOCKED subquery more than once and claim more than asked.
        chosen = [row.id for row in await conn.execute(due.with_for_update(skip_locked=True))]
        if not chosen:
            return []
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(chosen), outbox.c.state == "pending")
        .values(state="claimed", claimed_by=worker, claimed_at=_utc(now))
        .returning(
            outbox.c.id,
            outbox.c.message_id,
            outbox.c.kind,
            outbox.c.channel,
            outbox.c.recipient,
            outbox.c.payload,
            outbox.c.attempts,
        )
    )
    return sorted(result.all(), key=lambda row: row.id)


async def begin_sending(
    conn: AsyncConnection, message_id: int, *, worker: str, now: datetime
) -> bool:
    """claimed -> sending, committed by the caller right before the SMTP transaction."""
    result = await conn.execute(
        update(outbox)
        .where(
            outbox.c.id == message_id,
            outbox.c.state == "claimed",
            outbox.c.claimed_by == worker,
        )
        .values(state="sending", claimed_at=_utc(now), attempts=outbox.c.attempts + 1)
    )
    return bool(result.rowcount)


async def mark_message(
    conn: AsyncConnection,
    message_id: int,
    state: str,
    *,
    worker: str,
    error: str | None = None,
    now: datetime | None = None,
    retry_at: datetime | None = None,
) -> bool:
    """Record the outcome of a message ``worker`` holds (sent, failed or pending;
    a pending one is tried again from ``retry_at``)."""
    values: dict[str, Any] = {"state": state, "last_error": error}
    if state == "sent":
        values["sent_at"] = _utc(now or _now())
    if state == "pending":
        values.update(claimed_by=None, claimed_at=None)
        if retry_at is not None:
            values["not_before"] = _utc(retry_at)
    result = await conn.execute(
        update(outbox)
        .where(
            outbox.c.id == message_id,
            outbox.c.state.in_(["claimed", "sending"]),
            outbox.c.claimed_by == worker,
        )
        .values(**values)
    )
    return bool(result.rowcount)


async def recover_stale(conn: AsyncConnection, *, older_than: datetime) -> tuple[int, list[int]]:
    """Clean up after senders that died.

    "claimed" rows were never handed to SMTP: back to pending.  "sending" rows may or
    may not have reached the server: delivered-unknown ("unknown"), never resent
    automatically; staff decide with ``relance outbox resend`` (same Message-ID) or
    ``relance outbox resolve``.  Returns (released, unknown ids)."""
    released = await conn.execute(
        update(outbox)
        .where(outbox.c.state == "claimed", outbox.c.claimed_at < _utc(older_than))
        .values(state="pending", claimed_by=None, claimed_at=None)
    )
    unknown = await conn.execute(
        update(outbox)
        .where(outbox.c.state == "sending", outbox.c.claimed_at < _utc(older_than))
        .values(state="unknown", last_error="sender stopped while sending: delivery unknown")
        .returning(outbox.c.id)
    )
    return int(released.rowcount or 0), sorted(int(r.id) for r in unknown)


async def requeue(conn: AsyncConnection, message_id: int, *, from_states: Sequence[str]) -> bool:
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.state.in_(list(from_states)))
        .values(state="pending", claimed_by=None, claimed_at=None)
    )
    return bool(result.rowcount)


async def resolve_unknown(conn: AsyncConnection, message_id: int, *, sent_at: datetime) -> bool:
    """Staff say the message left: an e-mail in "unknown" (seen in the SMTP server's
    log) or a letter they printed and posted."""
    left = or_(
        outbox.c.state == "unknown",
        and_(outbox.c.channel == "letter", outbox.c.state == "pending"),
    )
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, left)
        .values(state="sent", sent_at=_utc(sent_at), last_error="marked sent by staff")
    )
    return bool(result.rowcount)


async def withdraw_pending(conn: AsyncConnection, outbox_id: int, why: str) -> bool:
    """Staff take back a reminder that has not left (a letter not posted): as
    ``withdraw_stale``, but only from "pending", so nothing a sender holds."""
    if await planned_day(conn, outbox_id) is None:
        return False  # no reminder: an answer to the debtor is not written again
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.id == outbox_id, outbox.c.state == "pending")
        .values(state="withdrawn", last_error=why, claimed_by=None, claimed_at=None)
    )
    if not result.rowcount:
        return False
    await conn.execute(delete(dunning_lines).where(dunning_lines.c.outbox_id == outbox_id))
    return True


async def message_row(conn: AsyncConnection, message_id: int) -> Any | None:
    """An outbox message's channel, state and payload (None: no such message)."""
    return (
        await conn.execute(
            select(outbox.c.id, outbox.c.channel, outbox.c.state, outbox.c.payload).where(
                outbox.c.id == message_id
            )
        )
    ).first()


async def message_payload(conn: AsyncConnection, message_id: int) -> bytes | None:
    found = await conn.scalar(select(outbox.c.payload).where(outbox.c.id == message_id))
    return bytes(found) if found is not None else None


async def list_messages(conn: AsyncConnection, state: str | None = None) -> list[Any]:
    query = select(
        outbox.c.id,
        outbox.c.message_id,
        outbox.c.channel,
        outbox.c.recipient,
        outbox.c.subject,
        outbox.c.state,
        outbox.c.attempts,
        outbox.c.last_error,
    ).order_by(outbox.c.id)
    if state is not None:
        query = query.where(outbox.c.state == state)
    return list((await conn.execute(query)).all())


async def outbox_counts(conn: AsyncConnection) -> dict[str, int]:
    rows = await conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))
    return {state: int(count) for state, count in rows}


__all__ = [
    "HoldError",
    "InvoiceFacts",
    "OutgoingMessage",
    "add_hold",
    "begin_sending",
    "claim_messages",
    "enqueue",
    "finish_run",
    "list_messages",
    "mark_message",
    "message_payload",
    "message_row",
    "outbox_counts",
    "record_promise",
    "recover_stale",
    "release_hold",
    "requeue",
    "resolve_promise",
    "resolve_unknown",
    "save_lines",
    "set_line_state",
    "settle_promises",
    "situation_query",
    "start_run",
    "stream_situations",
    "withdraw_pending",
]
