"""Dunning use cases: preview a day's run, run it (lines + outbox in one transaction).

    async for decision in preview(engine, today, setup): ...   # nothing written
    report = await run_dunning(engine, today, setup, now)      # lines + messages queued

A run streams the open late invoices ordered by debtor, decides each one with
``domain.dunning.decide``, and when a debtor's invoices are all decided turns its
lines into one message per level and channel: rendered from the templates,
an EPC QR code inline, a stable Message-ID, queued in the outbox in the same
transaction as the lines.  ``bot.outbox`` delivers the messages later.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.db import dunning_repo
from adapters.db.dunning_repo import InvoiceFacts, OutgoingMessage
from bot.config import Creditor, Settings, env_flag
from bot.errors import UserError
from bot.templating import environment
from domain import legal
from domain.calendar import ContactRules
from domain.dunning import (
    DEFAULT_POLICY,
    Channel,
    DunningLine,
    DunningPolicy,
    Skip,
    decide,
    group_lines,
    message_tone,
)
from domain.fees import (
    CreditorTerms,
    FirstReminder,
    Jurisdiction,
    consumer_fees,
    consumer_waiting_period,
    nl_collection_costs,
    nl_letter_period,
)
from domain.reference import format_ogm, is_valid_ogm

PAY_DAYS = 14  # days given to pay in every reminder (Book XIX's minimum for consumers)


@dataclass(frozen=True)
class DunningSetup:
    """Everything a run needs besides the database, built once at the edge."""

    policy: DunningPolicy = DEFAULT_POLICY
    contact: ContactRules = field(default_factory=ContactRules)
    creditor: Creditor = field(default_factory=Creditor)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Brussels"))
    mail_from: str = "Relance <credit@relance.example>"
    reply_to: str = "credit@relance.example"
    pay_url: str | None = None  # one link for every message (tests, demos)
    # A signed link to the debtor's pay page (``bot.paylinks.portal_url``), when a
    # secret key is configured: the "pay online" line of every reminder.
    pay_link: Callable[[int], str] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, today: date, env: Mapping[str, str] | None = None
    ) -> DunningSetup:
        from adapters.holidays_be import holidays_around

        env = os.environ if env is None else env
        raw = env.get("RELANCE_JURISDICTION", "BE").strip().upper() or "BE"
        try:
            jurisdiction = Jurisdiction(raw)
        except ValueError:
            raise UserError(f"RELANCE_JURISDICTION must be BE or NL, not {raw!r}") from None
        policy = replace(DEFAULT_POLICY, terms=terms_from_env(env), jurisdiction=jurisdiction)
        # Working days and contact days follow the creditor's country's public holidays.
        contact = ContactRules(holidays=holidays_around(jurisdiction.value, today))
        pay_link = None
        if settings.secret_key:
            from bot.paylinks import portal_url

            pay_link = partial(portal_url, settings)
        return cls(
            policy=policy,
            pay_link=pay_link,
            contact=contact,
            creditor=settings.creditor,
            timezone=settings.timezone,
            mail_from=settings.mail_from,
            reply_to=settings.creditor.email,
        )


def _decimal(env: Mapping[str, str], name: str) -> Decimal | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise UserError(f"{name} must be a number, not {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise UserError(f"{name} must be a positive number, not {raw!r}")
    return value


def terms_from_env(env: Mapping[str, str]) -> CreditorTerms:
    """The creditor's late-payment terms, from the environment (README, "Dunning").

    RELANCE_INTEREST_RATE=8            percent per year agreed in the terms
    RELANCE_LEGAL_INTEREST=true        businesses: statutory rate when none is agreed
    RELANCE_PENALTY_PERCENT=10         the penalty clause ...
    RELANCE_PENALTY_MINIMUM=50         ... and its minimum
    RELANCE_FLAT_COMPENSATION=true     businesses: the 40.00 of the law of 2 August 2002
    """
    return CreditorTerms(
        interest_rate=_decimal(env, "RELANCE_INTEREST_RATE"),
        legal_interest=env_flag(env, "RELANCE_LEGAL_INTEREST", True),
        penalty_percent=_decimal(env, "RELANCE_PENALTY_PERCENT"),
        penalty_minimum=_decimal(env, "RELANCE_PENALTY_MINIMUM") or Decimal("0.00"),
        flat_compensation=env_flag(env, "RELANCE_FLAT_COMPENSATION", True),
    )


# --- Deciding -------------------------------------------------------------------------------


async def decisions(
    conn: AsyncConnection, today: date, setup: DunningSetup
) -> AsyncIterator[tuple[DunningLine | Skip, InvoiceFacts]]:
    """Every line or skip of a run on ``today``, ordered by debtor (streamed)."""
    async for situation, history, facts in dunning_repo.stream_situations(conn, today):
        decision = decide(situation, history, setup.policy, today, setup.contact)
        if decision is not None:
            yield decision, facts


async def preview(
    engine: AsyncEngine, today: date, setup: DunningSetup
) -> AsyncIterator[DunningLine | Skip]:
    async with engine.connect() as conn:
        async for decision, _facts in decisions(conn, today, setup):
            yield decision


# --- Messages --------------------------------------------------------------------------------


def template_name(language: str, level: int, tone: str, channel: Channel, part: str) -> str:
    """``dunning/fr/level1/friendly.email.txt``; letters print the e-mail text."""
    kind = "telegram" if channel is Channel.TELEGRAM else "email"
    return f"dunning/{language}/level{level}/{tone}.{kind}.{part}"


def stable_message_id(lines: Sequence[DunningLine], domain: str) -> str:
    """The same lines always give the same Message-ID: a level is sent once per
    invoice, so (debtor, level, day, invoices) names the message for good.  The
    day is in it for a reminder that missed its day and is written again for a
    later one (``bot.outbox``): another text, another message."""
    first = lines[0]
    key = f"{first.debtor_id}:{first.level.number}:{first.send_on.isoformat()}:" + ",".join(
        str(i) for i in sorted(line.invoice_id for line in lines)
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f"<dunning.{first.level.number}.{digest}@{domain}>"


def payment_reference(
    facts: Sequence[InvoiceFacts], numbers: Sequence[str]
) -> tuple[str, str | None]:
    """(what the debtor types, the structured reference for the QR or None)."""
    if len(facts) == 1 and facts[0].structured_reference:
        ref = facts[0].structured_reference
        if is_valid_ogm(ref):
            return format_ogm(ref), ref
        return ref, ref
    return ", ".join(numbers), None


def epc_qr_png(*, name: str, iban: str, amount: Decimal, reference: str | None, text: str) -> bytes:
    """An EPC069-12 QR code (segno: error level M, version <= 13) as PNG bytes.

    A Belgian OGM goes in the structured remittance line as its 12 digits
    (FACTS.md §3.2 marks the choice as to be confirmed with the banks' apps); with
    several invoices the unstructured line lists their numbers."""
    import segno.helpers

    qr = segno.helpers.make_epc_qr(
        name=name[:70],
        iban=iban.replace(" ", ""),
        amount=amount,
        reference=reference,
        text=None if reference else text[:140],
    )
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=4, border=2)
    return buffer.getvalue()


def message_context(
    lines: Sequence[DunningLine],
    facts: Sequence[InvoiceFacts],
    setup: DunningSetup,
    debtor_name: str,
    consumer: bool,
    qr_cid: str | None,
) -> dict[str, Any]:
    first = lines[0]
    level, send_on = first.level, first.send_on
    terms: CreditorTerms = setup.policy.terms
    principal = sum((line.claim.principal for line in lines), Decimal(0))
    fees = sum((line.claim.fees.value for line in lines), Decimal(0))
    interest = sum((line.claim.interest.value for line in lines), Decimal(0))
    belgian = setup.policy.jurisdiction is Jurisdiction.BE
    first_notice = consumer and level.number == 1 and belgian
    dutch_letter = consumer and level.number == 1 and not belgian
    reminder = FirstReminder(send_on, first.channel.medium)
    wik: dict[str, Decimal] | None = None
    if first_notice:
        _start, pay_by = consumer_waiting_period(reminder, setup.contact.holidays)
    elif dutch_letter:
        # The Dutch 14-day letter states the exact collection costs (art. 6:96(6) BW).
        _start, pay_by = nl_letter_period(reminder, setup.contact.holidays)
        costs = sum(
            (nl_collection_costs(line.claim.principal, terms, pay_by).value for line in lines),
            Decimal(0),
        )
        wik = {"costs": costs}
    else:
        pay_by = send_on + timedelta(days=PAY_DAYS)
    announced_fees = Decimal(0)
    if first_notice:
        announced_fees = sum(
            (consumer_fees(line.claim.principal, terms, pay_by).value for line in lines),
            Decimal(0),
        )
    business_rate: Decimal | None = None
    if not consumer and belgian and (terms.interest_rate is not None or terms.legal_interest):
        business_rate = legal.be_b2b_rate(send_on)
        if terms.interest_rate is not None:
            business_rate = min(business_rate, terms.interest_rate)
    business_flat = None
    if not consumer and belgian and terms.flat_compensation:
        business_flat = legal.rule_on(legal.BE_B2B_FLAT_COMPENSATION, send_on, "flat").value
    numbers = [line.invoice for line in lines]
    reference, _structured = payment_reference(facts, numbers)
    consumer_rate = None
    if terms.interest_rate is not None:
        consumer_rate = min(terms.interest_rate, legal.be_b2b_rate(send_on))
    return {
        "language": first.language,
        "currency": first.currency,
        "tone": message_tone(lines).label,
        "level": level.number,
        "level_name": level.name,
        "channel": first.channel.value,
        "many": len(lines) > 1,
        "refs": ", ".join(numbers),
        "debtor": {"name": debtor_name, "consumer": consumer},
        "invoices": [
            {
                "number": line.invoice,
                "issue_date": fact.issue_date,
                "due_date": fact.due_date,
                "description": fact.description,
                "open_amount": line.claim.principal,
            }
            for line, fact in zip(lines, facts, strict=True)
        ],
        "totals": {
            "principal": principal,
            "fees": fees,
            "interest": interest,
            "total": principal + fees + interest,
        },
        "pay_by": pay_by,
        "first_reminder_notice": first_notice,
        "wik": wik,
        "announced": {"fees": announced_fees, "interest_rate": consumer_rate},
        "business": {"rate": business_rate, "flat": business_flat},
        "payment": {
            "beneficiary": setup.creditor.name,
            "iban": setup.creditor.iban,
            "bic": setup.creditor.bic,
            "reference": reference,
            "qr_cid": qr_cid,
            "pay_url": setup.pay_link(first.debtor_id) if setup.pay_link else setup.pay_url,
        },
        "creditor": {
            "name": setup.creditor.name,
            "enterprise_number": setup.creditor.enterprise_number,
            "address": setup.creditor.address,
            "email": setup.creditor.email,
        },
    }


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def render_message(context: dict[str, Any], channel: Channel) -> Rendered:
    env = environment()
    language, level, tone = context["language"], context["level"], context["tone"]
    text_template = env.get_template(template_name(language, level, tone, channel, "txt"))
    subject = "".join(text_template.blocks["subject"](text_template.new_context(context)))
    text = text_template.render(context)
    html = None
    if channel is Channel.EMAIL:
        html_template = env.get_template(template_name(language, level, tone, channel, "html"))
        html = html_template.render({**context, "subject": subject})
    return Rendered(subject.strip(), text, html)


def compose_email(
    *,
    message_id: str,
    sender: str,
    reply_to: str,
    recipient: str,
    rendered: Rendered,
    qr_png: bytes | None,
    qr_cid: str | None,
    when: datetime,
) -> bytes:
    """The whole RFC 5322 message, as it will be handed to the SMTP server."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Reply-To"] = reply_to
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(when.timestamp(), localtime=False)
    message["Message-ID"] = message_id
    # Ask Exchange and other responders not to answer automatically (MS-OXCMAIL), and
    # say this mail is automatic (RFC 3834) so well-behaved auto-responders stay quiet.
    message["X-Auto-Response-Suppress"] = "All"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    if rendered.html is not None:
        message.add_alternative(rendered.html, subtype="html")
        if qr_png is not None and qr_cid is not None:
            html_part = message.get_payload()[1]  # type: ignore[index]
            html_part.add_related(qr_png, "image", "png", cid=f"<{qr_cid}>", filename="qr.png")
    return bytes(message)


def domain_of(address: str) -> str:
    _name, email = parseaddr(address)
    return email.rsplit("@", 1)[-1] if "@" in email else "relance.invalid"


def not_before(send_on: date, now: datetime, setup: DunningSetup) -> datetime:
    """The first moment the message may go out: its day, outside quiet hours."""
    start = datetime.combine(send_on, setup.contact.quiet_until, setup.timezone)
    moment = max(start, now.astimezone(setup.timezone))
    return setup.contact.next_contact_time(moment)


def build_message(
    lines: Sequence[DunningLine],
    facts: Sequence[InvoiceFacts],
    setup: DunningSetup,
    debtor_name: str,
    consumer: bool,
    now: datetime,
) -> OutgoingMessage:
    first = lines[0]
    message_id = stable_message_id(lines, domain_of(setup.reply_to))
    qr_cid = None
    qr_png = None
    if first.channel is Channel.EMAIL and first.currency == "EUR":
        qr_cid = message_id.strip("<>").replace("dunning.", "qr.", 1)
    context = message_context(lines, facts, setup, debtor_name, consumer, qr_cid)
    rendered = render_message(context, first.channel)
    if qr_cid is not None:
        total = context["totals"]["total"]
        _display, structured = payment_reference(facts, context["refs"].split(", "))
        qr_png = epc_qr_png(
            name=setup.creditor.name,
            iban=setup.creditor.iban,
            amount=total,
            reference=structured,
            text=context["refs"],
        )
    recipient = facts[0].email or ""
    when = not_before(first.send_on, now, setup)
    if first.channel is Channel.TELEGRAM:
        # The Telegram sender's payload (``bot.channels.telegram``): the text, with
        # the pay link in it, to the chat the debtor linked.
        recipient = facts[0].telegram_chat or ""
        text = rendered.text.strip()
        payload = json.dumps({"chat_id": recipient, "text": text, "buttons": []}).encode()
    elif first.channel is Channel.EMAIL:
        payload = compose_email(
            message_id=message_id,
            sender=setup.mail_from,
            reply_to=setup.reply_to,
            recipient=recipient,
            rendered=rendered,
            qr_png=qr_png,
            qr_cid=qr_cid,
            when=when,
        )
    else:
        payload = rendered.text.encode()
    return OutgoingMessage(
        message_id=message_id,
        channel=first.channel.value,
        recipient=recipient,
        subject=rendered.subject[:300],
        payload=payload,
        not_before=when,
    )


# --- Running ---------------------------------------------------------------------------------


@dataclass
class RunReport:
    run_id: int = 0
    lines: int = 0
    messages: int = 0
    skipped: int = 0


async def run_dunning(
    engine: AsyncEngine, today: date, setup: DunningSetup, now: datetime
) -> RunReport:
    """Decide, write the lines and queue their messages, all in one transaction:
    either the whole day's run is recorded with its outbox, or nothing is."""
    report = RunReport()
    async with engine.begin() as conn:
        # Promises whose day has passed become kept or broken first: the debtor's
        # history (and so the tone) of today's reminders counts them.
        await dunning_repo.settle_promises(conn, today, setup.policy.promise_grace_days)
        report.run_id = await dunning_repo.start_run(conn, today, setup.policy.name)
        pending: list[tuple[DunningLine, InvoiceFacts]] = []
        names: dict[int, tuple[str, bool]] = {}

        async def flush() -> None:
            if not pending:
                return
            by_line = {line.invoice_id: fact for line, fact in pending}
            for group in group_lines(line for line, _fact in pending).values():
                group_facts = [by_line[line.invoice_id] for line in group]
                name, consumer = names[group[0].debtor_id]
                message = build_message(group, group_facts, setup, name, consumer, now)
                outbox_id = await dunning_repo.enqueue(conn, message)
                report.lines += await dunning_repo.save_lines(conn, report.run_id, group, outbox_id)
                report.messages += 1
            pending.clear()
            names.clear()

        async for situation, history, facts in dunning_repo.stream_situations(conn, today):
            decision = decide(situation, history, setup.policy, today, setup.contact)
            if isinstance(decision, Skip):
                report.skipped += 1
                continue
            if decision is None:
                continue
            if pending and pending[0][0].debtor_id != decision.debtor_id:
                await flush()
            names[decision.debtor_id] = (situation.debtor_name, situation.consumer)
            pending.append((decision, facts))
        await flush()
        await dunning_repo.finish_run(conn, report.run_id, report.lines, report.messages)
    return report


__all__ = [
    "DunningSetup",
    "Rendered",
    "RunReport",
    "build_message",
    "compose_email",
    "decisions",
    "epc_qr_png",
    "message_context",
    "preview",
    "render_message",
    "run_dunning",
    "stable_message_id",
    "template_name",
]
