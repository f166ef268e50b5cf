"""Email end to end with real servers: a debtor's reply is delivered (IMAP APPEND)
into a real Dovecot mailbox; the running app picks it up (IDLE, or polling),
records the promise and answers through a real SMTP server (aiosmtpd), threaded.

Also: the same email delivered twice, the folder read again from the start, a
restart, and a crash between storing and answering — each email handled once.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.channel_schema import mailbox_state, message_attachments
from adapters.db.conversation_schema import escalations, messages
from adapters.db.dunning_schema import dunning_holds, outbox, payment_promises
from adapters.db.ledger import import_invoices
from adapters.db.schema import debtor_emails
from adapters.imports import read_invoice_file
from bot.channels.email import EmailIntake, ImapOptions, ImapWatcher
from bot.config import Settings, load_settings
from bot.conversations import Conversations
from bot.workers import IMAP_WATCHER, ChannelOptions
from tests.support.app import free_port, serving
from tests.support.dovecot import DovecotServer
from tests.support.smtp import SmtpRecorder

REMINDER_ID = "<dun-1@relance.example>"
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "email"
PDF = b"%PDF-1.4\n% proof of payment\n%%EOF\n"


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    server = DovecotServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpRecorder]:
    with SmtpRecorder() as recorder:
        yield recorder


@pytest.fixture
async def ledger(engine: AsyncEngine, tmp_path: Path) -> AsyncEngine:
    today = datetime.now(UTC).date()
    issue, due = today - timedelta(days=60), today - timedelta(days=30)
    path = tmp_path / "ledger.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;issue_date;"
        "due_date;amount\n"
        f"INV-1;C1;Boulangerie Dupont;business;fr;compta@dupont.be;{issue};{due};400,00\n"
    )
    await import_invoices(engine, [(path.name, read_invoice_file(path))])
    return engine


def _settings(dovecot: DovecotServer, smtp: SmtpRecorder) -> Settings:
    return load_settings(
        {
            "DATABASE_URL": "sqlite://",
            "RELANCE_PORT": str(free_port()),
            "IMAP_HOST": "127.0.0.1",
            "IMAP_PORT": str(dovecot.port),
            "IMAP_USER": dovecot.user,
            "IMAP_PASSWORD": dovecot.password,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "MAIL_FROM": "Relance Demo <credit@relance.example>",
        }
    )


def _options(idle: bool = True, renew: float = 25 * 60) -> ChannelOptions:
    return ChannelOptions(
        imap_idle=idle,
        imap_idle_renew_seconds=renew,
        imap_poll_seconds=0.2,
        outbox_interval_seconds=0.1,
        recover_interval_seconds=3600,
    )


def debtor_mail(message_id: str, body: str, *, attachment: bool = False) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Marie Dupont <Compta@Dupont.be>"
    mail["To"] = "credit@relance.example"
    mail["Subject"] = "Re: Rappel facture INV-1"
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id
    mail["In-Reply-To"] = REMINDER_ID
    mail["References"] = REMINDER_ID
    mail.set_content(
        f"{body}\n\nCordialement,\nMarie Dupont\n\n"
        "Le 2 mars, Relance Demo a écrit :\n> Bonjour, la facture INV-1 de 400,00 EUR est échue.\n"
    )
    if attachment:
        mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="preuve.pdf")
    return mail.as_bytes()


async def wait_for(check: Any, what: str, within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(table)
        for condition in where:
            query = query.where(condition)
        return int((await conn.execute(query)).scalar_one())


def _next_friday(today: date) -> date:
    return today + timedelta(days=(4 - today.weekday()) % 7 or 7)


async def test_reply_in_the_mailbox_records_the_promise_and_is_answered_threaded(
    ledger: AsyncEngine, dovecot: DovecotServer, smtp: SmtpRecorder
) -> None:
    settings = _settings(dovecot, smtp)
    promise = debtor_mail(
        "<reply-1@dupont.be>",
        "Bonjour,\n\nNous paierons la facture INV-1 vendredi prochain.",
        attachment=True,
    )
    async with serving(settings, ledger, _options(idle=True, renew=0.3)) as app:
        watcher = app[IMAP_WATCHER]
        assert isinstance(watcher, ImapWatcher)
        # The watcher idles on the empty folder, renewing IDLE (here every 0.3 s).
        await wait_for(lambda: watcher.idle_renewals >= 2, "IDLE to be renewed")
        await asyncio.to_thread(dovecot.deliver, promise)
        await wait_for(lambda: smtp.messages, "the answer by SMTP")

        # The same mail delivered a second time (a new UID, the same Message-ID),
        # then a new one: only the new one is answered.
        await asyncio.to_thread(dovecot.deliver, promise)
        await asyncio.to_thread(
            dovecot.deliver, debtor_mail("<reply-2@dupont.be>", "Merci beaucoup !")
        )
        await wait_for(lambda: len(smtp.messages) >= 2, "the second answer")
        await asyncio.sleep(0.5)
        assert watcher.used_idle

    sent = smtp.parsed()
    assert len(sent) == 2
    answer = sent[0]
    assert answer["To"] == "compta@dupont.be"
    assert answer["In-Reply-To"] == "<reply-1@dupont.be>"
    assert answer["References"].split() == [REMINDER_ID, "<reply-1@dupont.be>"]
    assert answer["Subject"] == "Re: Rappel facture INV-1"
    assert answer["Auto-Submitted"] == "auto-replied"
    body = answer.get_content()
    assert "400,00" in body
    assert smtp.messages[0][0] == "credit@relance.example"  # envelope sender

    friday = _next_friday(datetime.now(settings.timezone).date())
    async with ledger.connect() as conn:
        promise_row = (await conn.execute(select(payment_promises))).one()
        attachment = (await conn.execute(select(message_attachments))).one()
        state = (await conn.execute(select(mailbox_state))).one()
        outgoing = (
            await conn.execute(select(messages.c.status).where(messages.c.direction == "out"))
        ).scalars()
        inbound = (
            await conn.execute(
                select(messages.c.external_id, messages.c.intent, messages.c.channel)
                .where(messages.c.direction == "in")
                .order_by(messages.c.id)
            )
        ).all()
    assert (promise_row.amount, promise_row.promised_date) == (Decimal("400.00"), friday)
    assert promise_row.channel == "email"
    assert (attachment.filename, attachment.content_type, attachment.data) == (
        "preuve.pdf",
        "application/pdf",
        PDF,
    )
    assert state.last_uid == 3
    assert set(outgoing) == {"sent"}
    assert [tuple(r) for r in inbound] == [
        ("<reply-1@dupont.be>", "promise_to_pay", "email"),
        ("<reply-2@dupont.be>", "thank", "email"),
    ]


async def test_restart_polling_and_rereading_the_folder_answer_nothing_twice(
    ledger: AsyncEngine, dovecot: DovecotServer, smtp: SmtpRecorder
) -> None:
    settings = _settings(dovecot, smtp)
    await asyncio.to_thread(
        dovecot.deliver, debtor_mail("<p1@dupont.be>", "Combien dois-je encore payer ?")
    )
    async with serving(settings, ledger, _options(idle=False)):
        await wait_for(lambda: smtp.messages, "the first answer")
    # Restart: the folder still holds the mail; mailbox_state says it was handled.
    async with serving(settings, ledger, _options(idle=False)):
        await asyncio.to_thread(
            dovecot.deliver,
            debtor_mail("<p2@dupont.be>", "Je conteste la facture INV-1, rien n'a été livré."),
        )
        await wait_for(lambda: len(smtp.messages) >= 2, "the answer after the restart")
        await asyncio.sleep(0.5)
    assert len(smtp.messages) == 2

    # The remembered UID is lost (or the folder rebuilt): everything is read again,
    # nothing is answered again.
    async with ledger.begin() as conn:
        await conn.execute(delete(mailbox_state))
    service = Conversations(ledger, settings)
    watcher = ImapWatcher(
        ImapOptions("127.0.0.1", dovecot.port, dovecot.user, dovecot.password),
        EmailIntake(ledger, service, settings.timezone),
    )
    assert await watcher.session(once=True) == 2
    assert await _count(ledger, outbox) == 2
    assert await _count(ledger, messages, messages.c.direction == "in") == 2


async def test_crash_between_storing_and_answering_is_answered_once(
    ledger: AsyncEngine, dovecot: DovecotServer, smtp: SmtpRecorder
) -> None:
    settings = _settings(dovecot, smtp)
    await asyncio.to_thread(
        dovecot.deliver, debtor_mail("<c1@dupont.be>", "Bonjour, je paierai demain.")
    )

    def crash(text: str, reference: date) -> dict[str, Any]:
        raise RuntimeError("the process died while understanding the message")

    dying = Conversations(ledger, settings, understand=crash)
    watcher = ImapWatcher(
        ImapOptions("127.0.0.1", dovecot.port, dovecot.user, dovecot.password),
        EmailIntake(ledger, dying, settings.timezone),
    )
    with pytest.raises(RuntimeError):
        await watcher.session(once=True)
    async with ledger.connect() as conn:
        status = (await conn.execute(select(messages.c.status))).scalar_one()
        remembered = (await conn.execute(select(func.count()).select_from(mailbox_state))).scalar()
    assert status == "received"  # stored, not handled
    assert remembered == 0  # the UID was not recorded: the mail will be read again

    # The next start: the stored message is handled, the mail read again is a duplicate.
    async with serving(settings, ledger, _options(idle=True)):
        await wait_for(lambda: smtp.messages, "the answer")
        await wait_for(lambda: _count(ledger, mailbox_state), "the folder to be read")
        await asyncio.sleep(0.5)
    assert len(smtp.messages) == 1
    assert await _count(ledger, payment_promises) == 1
    assert await _count(ledger, messages, messages.c.direction == "in") == 1


async def test_out_of_office_postpones_and_a_bounce_goes_to_staff_without_answers(
    engine: AsyncEngine, dovecot: DovecotServer, smtp: SmtpRecorder, tmp_path: Path
) -> None:
    """Two samples from tests/data/email: a Gmail vacation reply and a Postfix bounce."""
    path = tmp_path / "ledger.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;issue_date;"
        "due_date;amount\n"
        "INV-2026-0170;W1;Wilson Studio;business;en;emma.wilson@gmail.com;2026-01-05;"
        "2026-02-04;120,00\n"
        "INV-2026-0210;L1;Entreprise Leroy;business;fr;g.leroy@entreprise-leroy.be;2026-01-05;"
        "2026-02-04;80,00\n"
    )
    await import_invoices(engine, [(path.name, read_invoice_file(path))])
    for name in ("autoreply_gmail_vacation_en.eml", "bounce_postfix_dsn.eml"):
        await asyncio.to_thread(dovecot.deliver, (SAMPLES / name).read_bytes())

    async def folder_read() -> bool:
        async with engine.connect() as conn:
            last = (await conn.execute(select(mailbox_state.c.last_uid))).scalar()
        return last == 2

    async with serving(_settings(dovecot, smtp), engine, _options(idle=False)):
        await wait_for(folder_read, "both mails to be read")
        await asyncio.sleep(0.3)

    assert smtp.messages == []  # neither an auto-reply nor a bounce is answered
    async with engine.connect() as conn:
        holds = (await conn.execute(select(dunning_holds.c.reason, dunning_holds.c.until))).all()
        failing = dict(
            (await conn.execute(select(debtor_emails.c.email, debtor_emails.c.failing))).all()
        )
        raised = (await conn.execute(select(escalations.c.reason))).scalars().all()
        handled = (
            await conn.execute(select(messages.c.kind, messages.c.status).order_by(messages.c.id))
        ).all()
    assert [tuple(h) for h in holds] == [("out_of_office", date(2026, 3, 23))]
    assert failing == {"emma.wilson@gmail.com": False, "g.leroy@entreprise-leroy.be": True}
    assert raised == ["bounce"]
    assert [tuple(h) for h in handled] == [("auto_reply", "ignored"), ("bounce", "ignored")]


async def test_the_email_output_channel_queues_messages_the_sender_delivers(
    engine: AsyncEngine, smtp: SmtpRecorder
) -> None:
    from adapters.mail.smtp import SmtpMailer
    from bot.channels.base import Choice
    from bot.channels.email import EmailChannel
    from bot.outbox import send_pending

    settings = load_settings(
        {"DATABASE_URL": "sqlite://", "MAIL_FROM": "Relance Demo <credit@relance.example>"}
    )
    channel = EmailChannel(engine, settings, subject="Uw factuur F-9")
    await channel.send_choices(
        "jan@peeters.be",
        "Wat kan ik voor u doen?",
        [Choice("Ik heb al betaald", "/already_paid"), Choice("Afbetalingsplan", "/plan")],
    )
    await channel.send_document("jan@peeters.be", "F-9.pdf", PDF, "Uw factuur in bijlage.")
    report = await send_pending(
        engine,
        SmtpMailer("127.0.0.1", smtp.port),
        envelope_from="credit@relance.example",
        timezone=settings.timezone,
    )
    assert report.sent == 2
    choices, document = smtp.parsed()
    assert choices["Subject"] == "Uw factuur F-9"
    assert "1. Ik heb al betaald\n2. Afbetalingsplan" in choices.get_content().replace("\r\n", "\n")
    attached = next(document.iter_attachments())
    assert (attached.get_filename(), attached.get_content()) == ("F-9.pdf", PDF)


async def test_what_cannot_be_read_is_left_unread_and_does_not_block_the_folder(
    ledger: AsyncEngine, dovecot: DovecotServer, smtp: SmtpRecorder
) -> None:
    import imaplib

    settings = _settings(dovecot, smtp)
    await asyncio.to_thread(dovecot.deliver, b"\x00\x01 not a mail at all \xff\r\n")
    await asyncio.to_thread(
        dovecot.deliver, debtor_mail("<after@dupont.be>", "Combien dois-je encore ?")
    )
    watcher = ImapWatcher(
        ImapOptions("127.0.0.1", dovecot.port, dovecot.user, dovecot.password, idle=False),
        EmailIntake(ledger, Conversations(ledger, settings), settings.timezone),
    )
    assert await watcher.session(once=True) == 1
    assert await _count(ledger, messages, messages.c.direction == "in") == 1

    def unseen() -> bytes:
        client = imaplib.IMAP4("127.0.0.1", dovecot.port)
        try:
            client.login(dovecot.user, dovecot.password)
            client.select("INBOX", readonly=True)
            return bytes(client.uid("search", None, "UNSEEN")[1][0])
        finally:
            client.logout()

    assert await asyncio.to_thread(unseen) == b"1"  # left for a person to look at
