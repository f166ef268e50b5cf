"""What staff do from the console, each with its audit entry.

    await take_over(service, engine, conversation_id, user)      agent
    await staff_reply(service, engine, conversation_id, user, "...")
    await hand_back(service, engine, conversation_id, user)
    await pause_dunning(engine, user, debtor_id=7, reason="paused", until=...)
    await resolve_dispute(engine, user, invoice_id, "partial", Decimal("120.00"), note, today)
    await write_off(engine, user, invoice_id, note)              manager
    await apply_bank_line(engine, user, transaction_id, rank, today)
    await set_credit_against(engine, user, credit_id, today)      manager
    await approve_refund(engine, user, credit_id)                 manager

Roles are checked by the web layer before these run (``bot.web.console.auth``);
refusals of the request itself (a wrong amount, a conversation not taken over)
raise ``UserError`` and change nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.db import conversation_repo, dunning_repo
from adapters.db.allocations import refresh_open_amounts
from adapters.db.conversation_schema import conversations, escalations
from adapters.db.dunning_schema import dunning_holds
from adapters.db.ledger import import_invoices
from adapters.db.schema import debtors, invoices
from adapters.db.staff_repo import StaffUser
from adapters.imports.records import DebtorRecord, InvoiceRecord, ParsedDocument
from bot.conversations import Conversations
from bot.errors import NotAllowed, NotFound, UserError
from domain.invoice import InvoiceKind
from domain.money import parse_decimal


def _now() -> datetime:
    return datetime.now(UTC)


def parse_amount(text: str, field: str = "amount") -> Decimal:
    try:
        amount = parse_decimal(text.strip())
    except (ValueError, InvalidOperation):
        raise UserError(f"{field}: not an amount: {text!r}") from None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise UserError(f"{field}: must be positive with at most two decimals")
    return amount


# ----------------------------------------------------------------------- conversations


async def _conversation(engine: AsyncEngine, conversation_id: int) -> Any:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(conversations).where(conversations.c.id == conversation_id))
        ).first()
    if row is None:
        raise NotFound(f"no conversation {conversation_id}")
    return row


async def take_over(
    service: Conversations, engine: AsyncEngine, conversation_id: int, user: StaffUser
) -> None:
    """The bot stops answering this conversation; its open escalations become ours.

    A conversation a colleague already answers is not taken from them silently."""
    conv = await _conversation(engine, conversation_id)
    if conv.handler == "staff" and conv.assigned_to not in (None, user.actor):
        raise UserError(f"{conv.assigned_to} already answers this conversation")
    await service.take_over(conversation_id, user.actor)
    async with engine.begin() as conn:
        await conn.execute(
            update(escalations)
            .where(escalations.c.conversation_id == conversation_id)
            .where(escalations.c.status == "open")
            .values(status="taken", taken_by=user.actor)
        )


async def hand_back(
    service: Conversations, engine: AsyncEngine, conversation_id: int, user: StaffUser
) -> None:
    """The bot answers again; what we had taken is resolved."""
    await _conversation(engine, conversation_id)
    await service.hand_back(conversation_id, user.actor)
    async with engine.begin() as conn:
        await conn.execute(
            update(escalations)
            .where(escalations.c.conversation_id == conversation_id)
            .where(escalations.c.status == "taken")
            .values(status="resolved", resolved_at=_now())
        )


async def staff_reply(
    service: Conversations, engine: AsyncEngine, conversation_id: int, user: StaffUser, text: str
) -> None:
    text = text.strip()
    if not text:
        raise UserError("reply: write something to send")
    if len(text) > 4000:
        raise UserError("reply: at most 4,000 characters")
    conv = await _conversation(engine, conversation_id)
    if conv.handler != "staff":
        raise UserError("take the conversation over before answering (the bot is answering)")
    await service.staff_reply(conversation_id, user.actor, text)


async def resolve_escalation(engine: AsyncEngine, user: StaffUser, escalation_id: int) -> None:
    async with engine.begin() as conn:
        row = (
            await conn.execute(select(escalations).where(escalations.c.id == escalation_id))
        ).first()
        if row is None:
            raise NotFound(f"no escalation {escalation_id}")
        if row.status == "resolved":
            return
        await conn.execute(
            update(escalations)
            .where(escalations.c.id == escalation_id)
            .values(status="resolved", resolved_at=_now(), taken_by=row.taken_by or user.actor)
        )
        await conversation_repo.audit(
            conn,
            user.actor,
            "escalation_resolved",
            conversation_id=row.conversation_id,
            debtor_id=row.debtor_id,
            escalation_id=escalation_id,
            reason=row.reason,
        )


# ------------------------------------------------------------------------------- holds


async def pause_dunning(
    engine: AsyncEngine,
    user: StaffUser,
    *,
    debtor_id: int | None = None,
    invoice_id: int | None = None,
    reason: str = "paused",
    until: date | None = None,
    note: str = "",
    today: date | None = None,
) -> int:
    """Pause (until a day, after ``today``) or stop (for good) reminders to a debtor
    or for one invoice."""
    if reason not in ("paused", "stopped"):
        raise UserError("reason: paused or stopped")
    if reason == "stopped":
        until = None
    if until is not None and today is not None and until <= today:
        raise UserError(f"until: {until.isoformat()} is not after today ({today.isoformat()})")
    async with engine.begin() as conn:
        if invoice_id is not None:
            found = (
                await conn.execute(select(invoices.c.debtor_id).where(invoices.c.id == invoice_id))
            ).first()
            if found is None:
                raise NotFound(f"no invoice {invoice_id}")
            audit_debtor = int(found[0])
        else:
            exists = (
                await conn.execute(select(debtors.c.id).where(debtors.c.id == debtor_id))
            ).first()
            if exists is None:
                raise NotFound(f"no debtor {debtor_id}")
            audit_debtor = int(exists[0])
        hold_id = await dunning_repo.add_hold(
            conn,
            debtor_id=debtor_id if invoice_id is None else None,
            invoice_id=invoice_id,
            reason=reason,
            until=until,
            note=note[:500],
            created_by=user.actor,
        )
        await conversation_repo.audit(
            conn,
            user.actor,
            "dunning_stopped" if reason == "stopped" else "dunning_paused",
            debtor_id=audit_debtor,
            invoice_id=invoice_id,
            hold_id=hold_id,
            until=until.isoformat() if until else None,
            note=note[:500],
        )
    return hold_id


# Holds that stand for a manager's decision still to take: a dispute to resolve, a
# plan to approve, an insolvency.  An agent lifting one would restart reminders on
# a question nobody settled.
MANAGER_HOLDS = frozenset(("dispute", "plan", "insolvency"))


async def release_hold(engine: AsyncEngine, user: StaffUser, hold_id: int) -> None:
    async with engine.begin() as conn:
        hold = (
            await conn.execute(select(dunning_holds).where(dunning_holds.c.id == hold_id))
        ).first()
        if hold is None:
            raise NotFound(f"no hold {hold_id}")
        if hold.reason in MANAGER_HOLDS and not user.may("manager"):
            await conversation_repo.audit(
                conn, user.actor, "refused", hold_id=hold_id, reason=hold.reason, needed="manager"
            )
            raise NotAllowed(
                f"a {hold.reason} hold is lifted by a manager's decision, not by an agent"
            )
        released = await dunning_repo.release_hold(conn, hold_id=hold_id, released_by=user.actor)
        if released:
            debtor_id = hold.debtor_id
            if debtor_id is None:
                debtor_id = (
                    await conn.execute(
                        select(invoices.c.debtor_id).where(invoices.c.id == hold.invoice_id)
                    )
                ).scalar_one_or_none()
            await conversation_repo.audit(
                conn,
                user.actor,
                "hold_released",
                debtor_id=debtor_id,
                invoice_id=hold.invoice_id,
                hold_id=hold_id,
                reason=hold.reason,
            )


# ----------------------------------------------------------------------------- disputes


async def _credit_note_number(engine: AsyncEngine, number: str) -> str:
    """``INV-1-CN1``, ``INV-1-CN2``...: the first number not in the ledger."""
    async with engine.connect() as conn:
        taken = set(
            (
                await conn.execute(
                    select(invoices.c.number).where(invoices.c.number.like(f"{number}-CN%"))
                )
            ).scalars()
        )
    n = 1
    while f"{number}-CN{n}" in taken:
        n += 1
    return f"{number}-CN{n}"


async def resolve_dispute(
    engine: AsyncEngine,
    user: StaffUser,
    invoice_id: int,
    outcome: str,
    amount: Decimal | None,
    note: str,
    today: date,
) -> str | None:
    """Decide a disputed invoice; returns the credit note's number if one was made.

    ``full``     the debtor is right: a credit note for everything still open
    ``partial``  a credit note for ``amount``; the rest stays due
    ``reject``   nothing is credited
    In every case the invoice is no longer disputed, the "dispute" hold is released
    (reminders resume for what is still open) and the dispute escalations close.
    The credit note goes through the ledger importer, so it obeys the same rules as
    one from the accounting export (same debtor, allocated at most what is open).
    """
    if outcome not in ("full", "partial", "reject"):
        raise UserError("outcome: full, partial or reject")
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(invoices, debtors.c.code, debtors.c.name.label("debtor_name"))
                .join(debtors, debtors.c.id == invoices.c.debtor_id)
                .where(invoices.c.id == invoice_id)
            )
        ).first()
    if row is None:
        raise NotFound(f"no invoice {invoice_id}")
    if not row.disputed:
        raise UserError(f"invoice {row.number} is not disputed")
    credit_number = None
    credit = None
    if outcome == "full":
        credit = row.open_amount
    elif outcome == "partial":
        if amount is None:
            raise UserError("amount: say how much to credit")
        if amount >= row.open_amount:
            raise UserError(
                f"amount: {amount:.2f} is not less than the open {row.open_amount:.2f}; "
                "accept the dispute fully instead"
            )
        credit = amount
    if credit is not None and credit > 0:
        credit_number = await _credit_note_number(engine, row.number)
        record = InvoiceRecord(
            number=credit_number,
            kind=InvoiceKind.CREDIT_NOTE,
            issue_date=today,
            due_date=today,
            currency=row.currency,
            amount=credit,
            description=f"Dispute on {row.number}: {note}"[:500],
            credited_invoice=row.number,
        )
        document = ParsedDocument(
            f"console:{user.actor}", DebtorRecord(code=row.code, name=row.debtor_name), record
        )
        await import_invoices(engine, [("console", [document])])
    async with engine.begin() as conn:
        await _close_dispute(conn, user, invoice_id, row.debtor_id)
        await refresh_open_amounts(conn, [invoice_id])
        await conversation_repo.audit(
            conn,
            user.actor,
            "dispute_resolved",
            debtor_id=row.debtor_id,
            invoice_id=invoice_id,
            outcome=outcome,
            credit_note=credit_number,
            credited=f"{credit:.2f}" if credit is not None else None,
            note=note[:500],
        )
    return credit_number


async def _close_dispute(
    conn: AsyncConnection, user: StaffUser, invoice_id: int, debtor_id: int
) -> None:
    """The invoice is no longer disputed: its "dispute" hold is released, and the
    debtor's dispute escalations close once no other invoice of theirs is disputed."""
    await conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice_id)
        .values(disputed=False, updated_at=_now())
    )
    await dunning_repo.release_hold(
        conn, invoice_id=invoice_id, reason="dispute", released_by=user.actor
    )
    still_disputed = (
        await conn.execute(
            select(func.count()).where(
                invoices.c.debtor_id == debtor_id,
                invoices.c.disputed.is_(True),
                invoices.c.open_amount > 0,
                invoices.c.written_off.is_(False),
            )
        )
    ).scalar_one()
    if not still_disputed:
        await conn.execute(
            update(escalations)
            .where(
                escalations.c.debtor_id == debtor_id,
                escalations.c.reason == "dispute",
                escalations.c.status != "resolved",
            )
            .values(status="resolved", resolved_at=_now())
        )


async def write_off(engine: AsyncEngine, user: StaffUser, invoice_id: int, note: str) -> None:
    """Give up what is still open on an invoice (it leaves the receivables); a
    dispute on it is over with it (its hold and escalation close)."""
    async with engine.begin() as conn:
        row = (await conn.execute(select(invoices).where(invoices.c.id == invoice_id))).first()
        if row is None:
            raise NotFound(f"no invoice {invoice_id}")
        if row.kind != InvoiceKind.INVOICE.value or row.open_amount <= 0 or row.written_off:
            raise UserError(f"invoice {row.number} has nothing open to write off")
        await conn.execute(
            update(invoices)
            .where(invoices.c.id == invoice_id)
            .values(written_off=True, updated_at=_now())
        )
        if row.disputed:
            await _close_dispute(conn, user, invoice_id, row.debtor_id)
        await refresh_open_amounts(conn, [invoice_id])
        await conversation_repo.audit(
            conn,
            user.actor,
            "written_off",
            debtor_id=row.debtor_id,
            invoice_id=invoice_id,
            amount=f"{row.open_amount:.2f}",
            note=note[:500],
        )


# ---------------------------------------------------------------------------------- bank


async def apply_bank_line(
    engine: AsyncEngine, user: StaffUser, transaction_id: int, rank: int, today: date
) -> list[str]:
    """Apply candidate ``rank`` of an unmatched bank line (the bank part's own rules)."""
    from adapters.db.bank_repo import accept_candidate

    try:
        matched = await accept_candidate(engine, transaction_id, rank, today)
    except LookupError as exc:
        raise UserError(str(exc)) from None
    async with engine.begin() as conn:
        debtor_id = None
        if matched:
            debtor_id = (
                await conn.execute(
                    select(invoices.c.debtor_id).where(
                        invoices.c.number == matched[0].invoice_number
                    )
                )
            ).scalar_one_or_none()
        await conversation_repo.audit(
            conn,
            user.actor,
            "bank_line_applied",
            debtor_id=debtor_id,
            transaction_id=transaction_id,
            rank=rank,
            invoices=[m.invoice_number for m in matched],
            amounts=[f"{m.amount:.2f}" for m in matched],
        )
    return [m.invoice_number for m in matched]


# ------------------------------------------------------------------------------- credits


async def set_credit_against(
    engine: AsyncEngine,
    user: StaffUser,
    credit_id: int,
    today: date,
    invoice_number: str | None = None,
) -> list[str]:
    """A debtor's overpayment pays its other open invoices (``credits_repo.set_against``)."""
    from adapters.db import credits_repo

    try:
        matched = await credits_repo.set_against(
            engine, credit_id, today, invoice_number=invoice_number or None
        )
    except credits_repo.CreditError as exc:
        raise UserError(str(exc)) from None
    await _audit_credit(
        engine,
        user,
        credit_id,
        "credit_set_against",
        invoices=[m.invoice_number for m in matched],
        amounts=[f"{m.amount:.2f}" for m in matched],
    )
    return [m.invoice_number for m in matched]


async def approve_refund(engine: AsyncEngine, user: StaffUser, credit_id: int) -> None:
    """A manager lets a credit be paid back although its debtor still owes."""
    from adapters.db import credits_repo

    try:
        amount = await credits_repo.approve_refund(engine, credit_id)
    except credits_repo.CreditError as exc:
        raise UserError(str(exc)) from None
    await _audit_credit(engine, user, credit_id, "refund_approved", amount=f"{amount:.2f}")


async def _audit_credit(
    engine: AsyncEngine, user: StaffUser, credit_id: int, action: str, **details: Any
) -> None:
    """The audit entry of a decision on a credit, filed under its debtor."""
    from adapters.db.bank_schema import debtor_credits

    async with engine.begin() as conn:
        debtor_id = (
            await conn.execute(
                select(debtor_credits.c.debtor_id).where(debtor_credits.c.id == credit_id)
            )
        ).scalar_one()
        await conversation_repo.audit(
            conn, user.actor, action, debtor_id=debtor_id, credit=credit_id, **details
        )


# --------------------------------------------------------------------------------- plans


async def decide_plan(
    engine: AsyncEngine,
    user: StaffUser,
    escalation_id: int,
    approve: bool,
    *,
    instalments: int = 0,
    first_due: date | None = None,
    note: str = "",
    today: date,
    service: Any | None = None,
) -> int | None:
    """A manager's answer to a plan the bot could not agree alone.

    approve: the debtor's open, undisputed invoices are spread over ``instalments``
             monthly instalments from ``first_due`` (``bot.plans.accept_plan``: the
             plan holds its invoices from dunning, ``check_plans`` follows it up)
    reject:  the bot's "payment plan requested" pause ends, so reminders resume
    Either way the escalation is resolved and the debtor is told on the channel they
    asked on (``service``, the conversation service: the plan's schedule and links,
    or that reminders resume); returns the new plan's id.
    """
    from adapters.db.plan_schema import payment_plans  # noqa: F401  (tables exist)
    from bot.plans import PlanRefused, accept_plan
    from bot.web.console.queries import plan_requests
    from domain.payment_plan import PaymentPlanPolicy, schedule

    async with engine.connect() as conn:
        request = next(
            (r for r in await plan_requests(conn) if r["escalation"].id == escalation_id), None
        )
    if request is None:
        raise NotFound(f"no open plan request {escalation_id}")
    escalation = request["escalation"]
    plan_id = None
    async with engine.begin() as conn:
        if approve:
            if not 1 <= instalments <= 36:
                raise UserError("instalments: between 1 and 36")
            first = first_due or today
            if first < today:
                raise UserError("first due date: not in the past")
            if request["total"] <= 0:
                raise UserError("nothing is open to spread over a plan")
            segment = "consumer" if escalation.kind == "consumer" else "business"
            policy = PaymentPlanPolicy(segment=segment, max_instalments=max(instalments, 2))
            steps = schedule(request["total"], instalments, first)
            try:
                accepted = await accept_plan(
                    conn,
                    debtor_id=escalation.debtor_id,
                    invoice_ids=[i.id for i in request["invoices"]],
                    instalments=steps,
                    policy=policy,
                    conversation_id=escalation.conversation_id,
                    accepted_by=user.actor,
                    today=today,
                )
            except PlanRefused as exc:
                raise UserError(str(exc)) from None
            plan_id = accepted.plan_id
        if service is not None and escalation.conversation_id is not None:
            await _tell_plan_decision(
                conn, service, escalation, request, today, accepted if approve else None
            )
        for invoice in request["invoices"]:
            await dunning_repo.release_hold(
                conn, invoice_id=invoice.id, reason="paused", released_by=user.actor
            )
        await conn.execute(
            update(escalations)
            .where(escalations.c.id == escalation_id)
            .values(status="resolved", resolved_at=_now(), taken_by=user.actor)
        )
        await conversation_repo.audit(
            conn,
            user.actor,
            "plan_approved" if approve else "plan_rejected",
            debtor_id=escalation.debtor_id,
            conversation_id=escalation.conversation_id,
            plan_id=plan_id,
            instalments=instalments if approve else None,
            note=note[:500],
        )
    return plan_id


async def _tell_plan_decision(
    conn: AsyncConnection,
    service: Any,
    escalation: Any,
    request: dict[str, Any],
    today: date,
    accepted: Any | None,
) -> None:
    """The debtor hears the decision where they asked (found by a blind probe: an
    approved plan was never told, and a refused one restarted reminders in silence)."""
    from bot.dialogue.context import load_debtor_context
    from bot.dialogue.policy import Reply, _summary
    from bot.plans import plan_links

    context = await load_debtor_context(conn, escalation.debtor_id, service.settings)
    chosen = {i.id for i in request["invoices"]}
    invoices = tuple(i for i in (context.invoices if context else ()) if i.id in chosen)
    if accepted is None:
        await service.tell(
            conn, escalation.conversation_id, [Reply("plan_refused", _summary(invoices))], today
        )
        return
    plan = await _load_plan(conn, accepted.plan_id)
    schedule = [
        {"number": i.number, "due_date": i.due_date, "amount": i.amount} for i in plan.instalments
    ]
    params = _summary(invoices) | {
        "schedule": schedule,
        "grace_days": plan.grace_days,
        "consumer": escalation.kind == "consumer",
        "plan_fee": plan.fee,
    }
    await service.tell(
        conn,
        escalation.conversation_id,
        [Reply("plan_accepted", params)],
        today,
        extra=dict(plan_links(service.settings, accepted)),
    )


async def _load_plan(conn: AsyncConnection, plan_id: int) -> Any:
    from adapters.db import plan_repo

    plan = await plan_repo.load_plan(conn, plan_id)
    assert plan is not None  # created in this transaction
    return plan


async def link_debtor(
    engine: AsyncEngine, user: StaffUser, conversation_id: int, debtor_code: str
) -> int:
    """Tie an unidentified conversation (an unknown e-mail sender) to a debtor.

    For e-mail the address joins the debtor's addresses, so the next message from it
    is recognised by the bot; the "unknown_sender" escalation closes.
    """
    from sqlalchemy import func as sql_func
    from sqlalchemy import insert

    from adapters.db.schema import debtor_emails

    conv = await _conversation(engine, conversation_id)
    if conv.debtor_id is not None:
        raise UserError("this conversation already belongs to a debtor")
    async with engine.begin() as conn:
        debtor_id = (
            await conn.execute(select(debtors.c.id).where(debtors.c.code == debtor_code.strip()))
        ).scalar_one_or_none()
        if debtor_id is None:
            raise UserError(f"debtor code: no debtor {debtor_code.strip()!r}")
        await conversation_repo.save_conversation(conn, conversation_id, debtor_id=debtor_id)
        if conv.channel == "email":
            address = conv.channel_key.strip().lower()
            known = (
                await conn.execute(
                    select(debtor_emails.c.id).where(
                        debtor_emails.c.debtor_id == debtor_id,
                        sql_func.lower(debtor_emails.c.email) == address,
                    )
                )
            ).first()
            if known is None:
                await conn.execute(insert(debtor_emails).values(debtor_id=debtor_id, email=address))
        await conn.execute(
            update(escalations)
            .where(
                escalations.c.conversation_id == conversation_id,
                escalations.c.reason == "unknown_sender",
                escalations.c.status != "resolved",
            )
            .values(status="resolved", resolved_at=_now(), debtor_id=debtor_id)
        )
        await conversation_repo.audit(
            conn,
            user.actor,
            "linked_by_staff",
            conversation_id=conversation_id,
            debtor_id=debtor_id,
            channel=conv.channel,
        )
    return int(debtor_id)
