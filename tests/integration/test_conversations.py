"""Conversations end to end on the database: identity, actions, replies, exactly once.

The NLU here is the real embedded one (``nlu.api``); what the debtor says, what
Relance answers and what changed in the ledger are checked together.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import conversation_repo as repo
from adapters.db.conversation_schema import escalations, messages
from adapters.db.dunning_schema import dunning_holds, outbox, payment_promises
from adapters.db.ledger import import_invoices
from adapters.db.schema import debtors, invoices
from adapters.imports import read_invoice_file
from bot import conversations as conversations_module
from bot.channels.base import InboundMessage
from bot.config import load_settings
from bot.conversations import Conversations

TODAY = date(2026, 3, 10)


class FixedDay(Conversations):
    def today(self) -> date:
        return TODAY


@pytest.fixture
async def ledger(engine: AsyncEngine, tmp_path: Path) -> AsyncEngine:
    path = tmp_path / "ledger.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;issue_date;"
        "due_date;amount\n"
        "INV-1;C1;Boulangerie Dupont;business;fr;compta@dupont.be;2026-01-10;2026-02-09;400,00\n"
        "INV-2;C1;Boulangerie Dupont;business;fr;compta@dupont.be;2026-02-01;2026-03-03;100,00\n"
        "F-9;P1;Jan Peeters;consumer;nl;jan@peeters.be;2026-02-01;2026-02-15;250,00\n"
    )
    await import_invoices(engine, [(path.name, read_invoice_file(path))])
    return engine


def _service(engine: AsyncEngine) -> Conversations:
    return FixedDay(engine, load_settings({"DATABASE_URL": "sqlite://"}))


def webchat(sender: str, text: str, n: int) -> InboundMessage:
    return InboundMessage(
        "webchat", sender, f"{sender}:{n}", text, datetime.now(UTC), reference_date=TODAY
    )


def email(sender: str, text: str, message_id: str, subject: str = "Re: Rappel") -> InboundMessage:
    return InboundMessage(
        "email",
        sender,
        message_id,
        text,
        datetime.now(UTC),
        reference_date=TODAY,
        meta={"message_id": message_id, "subject": subject, "references": []},
    )


async def _debtor_id(engine: AsyncEngine, code: str) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(select(debtors.c.id).where(debtors.c.code == code))).scalar_one()
        )


async def _link_token(engine: AsyncEngine, code: str) -> str:
    async with engine.begin() as conn:
        return await repo.create_link_token(conn, await _debtor_id(engine, code), "portal")


async def _count(engine: AsyncEngine, table: object, *where: object) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        for condition in where:
            query = query.where(condition)  # type: ignore[arg-type]
        return int((await conn.execute(query)).scalar_one())


async def test_webchat_says_nothing_before_linking_then_records_a_promise(
    ledger: AsyncEngine,
) -> None:
    service = _service(ledger)
    before = await service.receive(webchat("s1", "Combien je dois encore ?", 1))
    assert len(before) == 1
    assert "400" not in before[0].text
    assert "INV-1" not in before[0].text
    assert "lien personnel" in before[0].text

    async with ledger.begin() as conn:
        token = await repo.create_link_token(conn, await _debtor_id(ledger, "C1"), "portal")
    linked = await service.receive(webchat("s1", f"/start {token}", 2))
    assert "Boulangerie Dupont" in linked[0].text

    answer = await service.receive(webchat("s1", "Je paierai 250 euros vendredi prochain", 3))
    assert "250,00" in answer[0].text
    assert "13 mars 2026" in answer[0].text
    async with ledger.connect() as conn:
        promise = (await conn.execute(select(payment_promises))).one()
    assert (promise.amount, promise.promised_date) == (Decimal("250.00"), date(2026, 3, 13))
    # The same token cannot link another session.
    other = await service.receive(webchat("s2", f"/start {token}", 1))
    assert "plus valable" in other[0].text


async def test_a_dispute_naming_no_invoice_asks_which_then_marks_the_answer(
    ledger: AsyncEngine,
) -> None:
    service = _service(ledger)
    token = await _link_token(ledger, "C1")  # INV-1 and INV-2 open
    await service.receive(webchat("s7", f"/start {token}", 1))
    asked = await service.receive(webchat("s7", "Je conteste le montant facturé.", 2))
    assert "Quelle facture contestez-vous" in asked[0].text
    assert [c.title for c in asked[0].choices] == ["Facture INV-1", "Facture INV-2"]
    debtor_hold = (dunning_holds.c.reason == "dispute") & dunning_holds.c.debtor_id.isnot(None)
    assert (
        await _count(ledger, dunning_holds, debtor_hold, dunning_holds.c.released_at.is_(None)) == 1
    )
    assert await _count(ledger, invoices, invoices.c.disputed.is_(True)) == 0
    assert await _count(ledger, escalations, escalations.c.reason == "dispute") == 1

    answered = await service.receive(webchat("s7", asked[0].choices[1].payload, 3))
    assert "INV-2" in answered[0].text
    async with ledger.connect() as conn:
        status = dict((await conn.execute(select(invoices.c.number, invoices.c.status))).all())
    assert status == {"INV-1": "open", "INV-2": "disputed", "F-9": "open"}
    # INV-1's reminders need not wait any more; INV-2's wait for the dispute.
    assert (
        await _count(ledger, dunning_holds, debtor_hold, dunning_holds.c.released_at.is_(None)) == 0
    )
    invoice_hold = (dunning_holds.c.reason == "dispute") & dunning_holds.c.invoice_id.isnot(None)
    assert await _count(ledger, dunning_holds, invoice_hold) == 1
    assert await _count(ledger, escalations, escalations.c.reason == "dispute") == 1


async def test_email_reply_from_known_address_dispute_is_recorded_and_escalated(
    ledger: AsyncEngine,
) -> None:
    service = _service(ledger)
    replies = await service.receive(
        email(
            "compta@dupont.be",
            "Bonjour, nous contestons la facture INV-1 : la marchandise n'a jamais été livrée.",
            "<m1@dupont.be>",
        )
    )
    assert len(replies) == 1
    assert "INV-1" in replies[0].text
    assert replies[0].meta["in_reply_to"] == "<m1@dupont.be>"
    async with ledger.connect() as conn:
        disputed = dict((await conn.execute(select(invoices.c.number, invoices.c.status))).all())
        mail = (await conn.execute(select(outbox))).one()
        reason = (await conn.execute(select(escalations.c.reason))).scalar_one()
    assert disputed == {"INV-1": "disputed", "INV-2": "open", "F-9": "open"}
    assert reason == "dispute"
    assert b"In-Reply-To: <m1@dupont.be>" in mail.payload
    assert b"Subject: Re: Rappel" in mail.payload
    assert await _count(ledger, dunning_holds, dunning_holds.c.reason == "dispute") == 1


async def test_email_from_unknown_address_gets_no_details(ledger: AsyncEngine) -> None:
    service = _service(ledger)
    replies = await service.receive(
        email("someone@else.be", "Hoeveel moet ik nog betalen voor F-9?", "<x1@else.be>")
    )
    assert "F-9" not in replies[0].text
    assert "250" not in replies[0].text
    async with ledger.connect() as conn:
        reason = (await conn.execute(select(escalations.c.reason))).scalar_one()
    assert reason == "unknown_sender"


async def test_redelivered_message_is_handled_once(ledger: AsyncEngine) -> None:
    service = _service(ledger)
    message = email("jan@peeters.be", "Ik betaal op 20 maart", "<p1@peeters.be>")
    first = await service.receive(message)
    again = await service.receive(message)
    assert len(first) == 1
    assert again == []
    assert await _count(ledger, payment_promises) == 1
    assert await _count(ledger, outbox) == 1


async def test_webchat_repeat_of_the_same_message_is_answered_once(ledger: AsyncEngine) -> None:
    service = _service(ledger)
    token = await _link_token(ledger, "P1")
    await service.receive(webchat("s9", f"/start {token}", 1))
    first = await service.receive(webchat("s9", "Ik betaal op 20 maart", 2))
    again = await service.receive(webchat("s9", "Ik betaal op 20 maart", 2))  # a client retry
    assert first
    assert again == []
    assert await _count(ledger, payment_promises) == 1
    assert await _count(ledger, messages, messages.c.direction == "in") == 2


async def test_webchat_failure_keeps_nothing_of_the_answer_but_keeps_the_message(
    ledger: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored and answered in one transaction: a failure in the middle rolls the
    whole answer back (no promise, no reply), and the message itself is still kept
    "received" for staff and for recover(), which answers it once."""
    service = _service(ledger)
    token = await _link_token(ledger, "P1")
    await service.receive(webchat("s8", f"/start {token}", 1))

    class Broken(RuntimeError):
        pass

    async def failing_send(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Broken("the reply could not be written")

    with monkeypatch.context() as patched:
        patched.setattr(conversations_module._Turn, "send", failing_send)
        with pytest.raises(Broken):
            await service.receive(webchat("s8", "Ik betaal op 20 maart", 2))
    assert await _count(ledger, payment_promises) == 0
    assert await _count(ledger, messages, messages.c.direction == "out") == 1  # link_ok only
    assert await _count(ledger, messages, messages.c.status == "received") == 1
    assert await service.recover() == 1
    assert await _count(ledger, payment_promises) == 1
    assert await _count(ledger, messages, messages.c.status == "received") == 0


async def test_crash_between_storing_and_answering_is_recovered_once(ledger: AsyncEngine) -> None:
    service = _service(ledger)
    stored = await repo.store_inbound(
        ledger,
        channel="email",
        channel_key="jan@peeters.be",
        external_id="<p2@peeters.be>",
        text="Ik heb gisteren betaald",
        meta={"message_id": "<p2@peeters.be>", "reference_date": TODAY.isoformat()},
    )
    assert not stored.duplicate
    # ...the process died here; the next start recovers:
    assert await service.recover() == 1
    assert await service.recover() == 0
    assert await _count(ledger, outbox) == 1
    assert await _count(ledger, dunning_holds, dunning_holds.c.reason == "paused") == 1
    async with ledger.connect() as conn:
        status = (
            await conn.execute(select(messages.c.status).where(messages.c.id == stored.id))
        ).scalar_one()
    assert status == "handled"


async def test_auto_reply_postpones_and_is_not_answered(ledger: AsyncEngine) -> None:
    service = _service(ledger)
    auto = InboundMessage(
        "email",
        "jan@peeters.be",
        "<ooo@peeters.be>",
        "Ik ben afwezig tot 20 maart.",
        datetime.now(UTC),
        reference_date=TODAY,
        kind="auto_reply",
        meta={"out_of_office_until": "2026-03-20"},
    )
    assert await service.receive(auto) == []
    assert await _count(ledger, outbox) == 0
    async with ledger.connect() as conn:
        hold = (await conn.execute(select(dunning_holds))).one()
    assert (hold.reason, hold.until) == ("out_of_office", date(2026, 3, 20))


async def test_staff_takeover_silences_the_bot_and_staff_reply_goes_out(
    ledger: AsyncEngine,
) -> None:
    service = _service(ledger)
    await service.receive(email("jan@peeters.be", "Ik wil iemand spreken", "<h1@peeters.be>"))
    async with ledger.connect() as conn:
        conversation_id = (
            await conn.execute(select(messages.c.conversation_id).limit(1))
        ).scalar_one()
    await service.take_over(conversation_id, "staff:anna")
    (told,) = await service.receive(
        email("jan@peeters.be", "Hallo? Is er iemand?", "<h2@peeters.be>")
    )
    assert "volgt uw gesprek op" in told.text  # once: a person has it
    assert await service.receive(email("jan@peeters.be", "Hallo??", "<h2b@peeters.be>")) == []
    sent = await service.staff_reply(conversation_id, "staff:anna", "Dag Jan, ik bel u morgen.")
    assert sent.text == "Dag Jan, ik bel u morgen."
    await service.hand_back(conversation_id, "staff:anna")
    back = await service.receive(
        email("jan@peeters.be", "Hoeveel moet ik nog betalen?", "<h3@peeters.be>")
    )
    assert "250,00" in back[0].text
    async with ledger.connect() as conn:
        mails = (await conn.execute(select(outbox.c.payload).order_by(outbox.c.id))).scalars().all()
    assert len(mails) == 4
    assert b"Dag Jan, ik bel u morgen." in mails[2]


async def test_after_declaring_bankruptcy_a_promise_is_not_recorded(ledger: AsyncEngine) -> None:
    """Found by a blind chat probe: the bot stopped collection on "declared bankrupt",
    then recorded a promise two messages later.  The insolvency hold (on the
    debtor, from the database) now keeps every arrangement for staff."""
    service = _service(ledger)
    token = await _link_token(ledger, "C1")
    await service.receive(webchat("s1", f"/start {token}", 1))
    stopped = await service.receive(
        webchat("s1", "Nous avons été déclarés en faillite la semaine passée", 2)
    )
    assert "curateur" in stopped[0].text
    assert await _count(ledger, dunning_holds, dunning_holds.c.reason == "insolvency") == 1
    later = await service.receive(webchat("s1", "Je paierai 400 euros vendredi prochain", 3))
    assert "procédure d'insolvabilité" in later[0].text
    assert await _count(ledger, payment_promises) == 0


async def test_after_a_plan_is_agreed_the_balance_speaks_of_its_next_instalment(
    ledger: AsyncEngine,
) -> None:
    service = _service(ledger)
    token = await _link_token(ledger, "C1")
    for n, text in enumerate([f"/start {token}", "je veux payer en 2 fois INV-1", "oui"]):
        await service.receive(webchat("s1", text, n))
    balance = await service.receive(webchat("s1", "Combien je dois encore ?", 9))
    texts = [reply.text for reply in balance]
    assert "Votre plan de paiement est en cours : la mensualité 1 sur 2" in texts[0]
    assert "200,00" in texts[0]
    # The invoice outside the plan is still asked for as usual, the plan's not.
    assert "INV-2" in texts[1]
    assert "INV-1" not in texts[1]


async def test_a_message_not_understood_keeps_the_conversation_s_language(
    ledger: AsyncEngine,
) -> None:
    """A blind probe's keyboard mash from an English-writing debtor was answered in
    Dutch: the language changes only with a message understood."""
    service = _service(ledger)
    token = await _link_token(ledger, "C1")
    await service.receive(webchat("s7", f"/start {token}", 1))
    english = await service.receive(webchat("s7", "How much do I still owe you?", 2))
    assert "invoice" in english[0].text
    mash = await service.receive(webchat("s7", "kjhsdf qwoeiru zxmcnv asdlkj", 3))
    assert mash[0].text.startswith("I'm not sure I understood")
    dutch = await service.receive(webchat("s7", "Hoeveel moet ik nog betalen?", 4))
    assert "factuur" in dutch[0].text


async def test_a_message_not_understood_in_another_language_switches_to_it(
    ledger: AsyncEngine,
) -> None:
    """A Dutch-speaking debtor writing an angry French sentence the bot does not
    understand is answered in French: its words are French, unlike a keyboard mash."""
    service = _service(ledger)
    token = await _link_token(ledger, "P1")  # Jan Peeters, nl
    await service.receive(webchat("s8", f"/start {token}", 1))
    angry = await service.receive(
        webchat("s8", "C'est la troisième lettre que je reçois, vous êtes des incapables", 2)
    )
    assert not angry[0].text.startswith("Ik ")
    assert "vous" in angry[0].text or "Je " in angry[0].text
