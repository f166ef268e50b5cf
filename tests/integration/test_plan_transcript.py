"""Payment plans as transcripts: what the debtor says, what Relance answers, what
changed in the ledger.

The main transcript runs on Telegram (python-telegram-bot against the channel
engineer's fake Bot API server) inside the real app, with the real Mollie client
against the fake Mollie server: "je veux payer en 3 fois" -> a proposal -> the
button -> the schedule and the first pay link -> the checkout -> the webhook says
paid -> the instalment is recorded -> the reminder before the next one reaches the
chat.  The other transcripts (counter-offers, a broken plan resuming dunning) go
through the web chat channel with ``Conversations.receive`` on a fixed day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import conversation_repo as repo
from adapters.db.conversation_schema import escalations
from adapters.db.dunning_schema import dunning_holds, outbox
from adapters.db.ledger import import_invoices
from adapters.db.plan_schema import payment_plans, plan_instalments
from adapters.db.schema import allocations, debtors, invoices
from adapters.holidays_be import belgian_holidays
from adapters.imports import read_invoice_file
from bot.channels.base import InboundMessage
from bot.config import Settings, load_settings
from bot.conversations import Conversations
from bot.dunning import DunningSetup, preview
from bot.plans import check_plans
from bot.workers import ChannelOptions
from domain.calendar import ContactRules
from domain.dunning import DEFAULT_POLICY, DunningLine
from tests.support.app import free_port, serving
from tests.support.fake_mollie import FakeMollie
from tests.support.fake_telegram import TOKEN, FakeTelegram

CHAT = 5151
SECRET = "t" * 40


@pytest.fixture
def mollie() -> Iterator[FakeMollie]:
    with FakeMollie() as fake:
        yield fake


@pytest.fixture
def telegram(fake: FakeTelegram) -> FakeTelegram:
    return fake  # the fake Bot API of tests/conftest.py


async def _ledger(engine: AsyncEngine, tmp_path: Path, today: date) -> None:
    issue, due = today - timedelta(days=60), today - timedelta(days=30)
    path = tmp_path / "ledger.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;issue_date;"
        "due_date;amount\n"
        f"INV-1;C1;Boulangerie Dupont;business;fr;compta@dupont.be;{issue};{due};400,00\n"
        f"INV-2;C1;Boulangerie Dupont;business;fr;compta@dupont.be;{issue};{due};200,00\n"
        f"F-9;P1;Jan Peeters;consumer;nl;jan@peeters.be;{issue};{due};1200,00\n"
    )
    await import_invoices(engine, [(path.name, read_invoice_file(path))])


async def _debtor(engine: AsyncEngine, code: str) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(select(debtors.c.id).where(debtors.c.code == code))).scalar_one()
        )


async def _count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(table)
        for condition in where:
            query = query.where(condition)
        return int((await conn.execute(query)).scalar_one())


def _buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [row[0]["callback_data"] for row in markup.get("inline_keyboard", [])]


async def test_telegram_plan_from_request_to_paid_instalment_and_next_reminder(
    engine: AsyncEngine, tmp_path: Path, telegram: FakeTelegram, mollie: FakeMollie
) -> None:
    # The creditor's day (Brussels), as the bot counts it: not UTC's near midnight.
    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    await _ledger(engine, tmp_path, today)
    port = free_port()
    settings = load_settings(
        {
            "DATABASE_URL": "sqlite://",
            "RELANCE_PORT": str(port),
            "RELANCE_SECRET_KEY": SECRET,
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": telegram.base_url,
            "MOLLIE_API_KEY": mollie.api_key,
            "MOLLIE_API_ENDPOINT": mollie.url,
        }
    )
    async with engine.begin() as conn:
        token = await repo.create_link_token(conn, await _debtor(engine, "C1"), "telegram")
    options = ChannelOptions(outbox_interval_seconds=0.05, recover_interval_seconds=3600)
    async with serving(settings, engine, options), aiohttp.ClientSession() as http:
        await telegram.push(telegram.text_update(CHAT, f"/start {token}"))
        assert "Boulangerie Dupont" in (await telegram.wait_sent(1))[0]["text"]

        # Debtor: "I want to pay in 3 instalments" -> one plan within the policy.
        await telegram.push(telegram.text_update(CHAT, "Bonjour, je veux payer en 3 fois"))
        proposal = (await telegram.wait_sent(2))[1]
        assert "600,00" in proposal["text"]
        assert "3 mensualités" in proposal["text"]
        assert _buttons(proposal) == ['/plan_choice{"option": 1}']

        # The debtor presses the button: the plan is agreed, with its exact schedule.
        await telegram.push(telegram.callback_update(CHAT, '/plan_choice{"option": 1}'))
        accepted = (await telegram.wait_sent(3))[2]["text"]
        first_due = today + timedelta(days=7)
        assert "200,00" in accepted
        pay_link = re.search(r"(http://127\.0\.0\.1:\d+/pay/instalment/\S+)", accepted)
        assert pay_link, accepted
        assert "/schedule.ics" in accepted

        async with engine.connect() as conn:
            plan = (await conn.execute(select(payment_plans))).one()
            schedule = (
                await conn.execute(select(plan_instalments).order_by(plan_instalments.c.number))
            ).all()
            held = (
                await conn.execute(
                    select(func.count())
                    .select_from(dunning_holds)
                    .where(dunning_holds.c.reason == "plan", dunning_holds.c.released_at.is_(None))
                )
            ).scalar_one()
        assert plan.state == "active"
        assert [(s.due_date, s.amount) for s in schedule] == [
            (first_due, Decimal("200.00")),
            (_months(first_due, 1), Decimal("200.00")),
            (_months(first_due, 2), Decimal("200.00")),
        ]
        assert held == 2  # both invoices are out of dunning while the plan runs

        # The pay link opens a Mollie checkout for the first instalment.
        async with http.get(pay_link.group(1), allow_redirects=False) as response:
            assert response.status == 303
            checkout = response.headers["Location"]
        payment_id = checkout.rsplit("/", 1)[1]
        assert mollie.payments[payment_id]["amount"] == {"currency": "EUR", "value": "200.00"}
        # Opening the link again reuses the open payment instead of creating another.
        async with http.get(pay_link.group(1), allow_redirects=False) as response:
            assert response.headers["Location"] == checkout
        assert len(mollie.payments) == 1

        # The debtor pays; Mollie calls the webhook with the id only.
        mollie.set_status(payment_id, "paid")
        webhook = f"http://127.0.0.1:{port}/webhooks/mollie"
        async with http.post(webhook, data={"id": payment_id}) as response:
            assert response.status == 200
        async with http.post(webhook, data={"id": payment_id}) as response:  # a retry
            assert response.status == 200

        async with engine.connect() as conn:
            paid = (
                await conn.execute(
                    select(plan_instalments.c.number, plan_instalments.c.paid).order_by(
                        plan_instalments.c.number
                    )
                )
            ).all()
            moved = (
                await conn.execute(
                    select(allocations.c.amount).where(allocations.c.source_id == payment_id)
                )
            ).scalars()
            still_open = (
                await conn.execute(
                    select(func.sum(invoices.c.open_amount)).where(
                        invoices.c.debtor_id == plan.debtor_id
                    )
                )
            ).scalar_one()
        assert paid == [(1, Decimal("200.00")), (2, Decimal("0.00")), (3, Decimal("0.00"))]
        # The debtor hears that the money arrived and when the next instalment is due
        # (once, although the webhook came twice).
        thanks = (await telegram.wait_sent(4))[3]["text"]
        assert "nous avons bien reçu 200,00" in thanks
        assert "mensualité 2 sur 3" in thanks
        assert sum(moved) == Decimal("200.00")
        assert still_open == Decimal("400.00")

        # Three days before the second instalment, the daily check reminds the debtor
        # on Telegram (through the outbox), once.
        service = Conversations(engine, settings)
        before_second = _months(first_due, 1) - timedelta(days=2)
        # (Run as at 10:00 on a Tuesday: the reminder may go out at once; at night
        # it would wait in the outbox for 08:00.)
        daytime = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))
        summary = await check_plans(engine, service, settings, before_second, daytime)
        again = await check_plans(engine, service, settings, before_second, daytime)
        assert (summary.reminded, again.reminded) == (1, 0)
        reminder = (await telegram.wait_sent(5))[4]["text"]
        assert len(telegram.sent) == 5
        assert "mensualité 2 sur 3" in reminder
        assert "/pay/instalment/" in reminder
    assert await _count(engine, outbox, outbox.c.channel == "telegram") >= 1


def _body(payload: bytes) -> str:
    from email import message_from_bytes
    from email import policy as email_policy

    message = message_from_bytes(payload, policy=email_policy.default)
    return str(message.get_content())  # type: ignore[attr-defined]


def _months(day: date, months: int) -> date:
    from domain.payment_plan import add_months

    return add_months(day, months)


# ------------------------------------------------------------------- web chat, fixed day

TODAY = date(2026, 3, 10)


class FixedDay(Conversations):
    def today(self) -> date:
        return TODAY


def _webchat_settings() -> Settings:
    return load_settings({"DATABASE_URL": "sqlite://", "RELANCE_SECRET_KEY": SECRET})


class Chat:
    def __init__(self, service: Conversations, session: str) -> None:
        self.service, self.session, self.n = service, session, 0

    async def say(self, text: str, day: date = TODAY) -> list[Any]:
        self.n += 1
        return await self.service.receive(
            InboundMessage(
                "webchat",
                self.session,
                f"{self.session}:{self.n}",
                text,
                datetime.now(UTC),
                reference_date=day,
            )
        )


async def _linked_chat(engine: AsyncEngine, code: str) -> Chat:
    chat = Chat(FixedDay(engine, _webchat_settings()), f"web-{code}")
    async with engine.begin() as conn:
        token = await repo.create_link_token(conn, await _debtor(engine, code), "portal")
    await chat.say(f"/start {token}")
    return chat


async def test_consumer_asking_too_little_a_month_gets_a_counter_offer_then_staff(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _ledger(engine, tmp_path, TODAY)
    chat = await _linked_chat(engine, "P1")
    # 1200.00 at 50 a month would be 24 instalments; the consumer policy allows 12.
    counter = await chat.say("Kan ik 50 euro per maand betalen?")
    assert "1.200,00" in counter[0].text
    assert "geen afbetalingen van €\xa050,00" in counter[0].text
    assert "12 afbetalingen van €\xa0100,00" in counter[0].text
    payloads = [c.payload for c in counter[0].choices]
    assert payloads[-1] == "/talk_to_human"
    assert payloads[0] == '/plan_choice{"option": 1}'

    declined = await chat.say("nee")
    assert "medewerker" in declined[0].text
    async with engine.connect() as conn:
        reason = (await conn.execute(select(escalations.c.reason))).scalar_one()
    assert reason == "plan_outside_policy"
    assert await _count(engine, payment_plans) == 0


async def test_until_a_month_is_understood_and_a_typed_number_chooses(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _ledger(engine, tmp_path, TODAY)
    chat = await _linked_chat(engine, "P1")
    offer = await chat.say("Ich möchte bis Juni in Raten zahlen")
    # 17 March, April, May and June: four instalments of 300.00 within the policy.
    assert "4 Raten" in offer[0].text
    assert "300,00" in offer[0].text
    accepted = await chat.say("1")
    assert "Ratenplan ist vereinbart" in accepted[0].text
    async with engine.connect() as conn:
        amounts = (await conn.execute(select(plan_instalments.c.amount))).scalars().all()
    assert amounts == [Decimal("300.00")] * 4


async def test_a_broken_plan_releases_the_plan_hold_and_dunning_resumes(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _ledger(engine, tmp_path, TODAY)
    chat = await _linked_chat(engine, "C1")
    offer = await chat.say("Je voudrais payer en plusieurs fois")
    assert len(offer[0].choices) == 3  # no number asked: three plans to choose from
    await chat.say('/plan_choice{"option": 1}')
    setup = DunningSetup(
        policy=replace(DEFAULT_POLICY), contact=ContactRules(holidays=belgian_holidays(2026))
    )

    async def lines(day: date) -> dict[str, Any]:
        found = {d.invoice: d async for d in preview(engine, day, setup)}
        return {k: v for k, v in found.items() if k in ("INV-1", "INV-2")}

    during = await lines(date(2026, 3, 20))
    assert set(during) == {"INV-1", "INV-2"}
    assert not any(isinstance(d, DunningLine) for d in during.values())
    assert all("plan" in str(d) for d in during.values())

    settings = _webchat_settings()
    service = FixedDay(engine, settings)
    # First instalment due 17 March, grace 7 days: still fine on the 24th ...
    assert (await check_plans(engine, service, settings, date(2026, 3, 24))).broken == 0
    # ... broken on the 25th: the debtor is told (by e-mail, the web chat being closed),
    # not at night: run at 23:30, the mail waits for 08:00 the next morning.
    late = datetime(2026, 3, 25, 23, 30, tzinfo=ZoneInfo("Europe/Brussels"))
    summary = await check_plans(engine, service, settings, date(2026, 3, 25), late)
    assert summary.broken == 1
    async with engine.connect() as conn:
        state = (await conn.execute(select(payment_plans.c.state))).scalar_one()
        holds = (
            await conn.execute(
                select(func.count())
                .select_from(dunning_holds)
                .where(dunning_holds.c.reason == "plan", dunning_holds.c.released_at.is_(None))
            )
        ).scalar_one()
        mail = (await conn.execute(select(outbox).where(outbox.c.channel == "email"))).one()
    assert state == "broken"
    assert holds == 0
    assert mail.recipient == "compta@dupont.be"
    assert mail.kind == "notice"  # ours, not an answer: the sender keeps it out of the night
    morning = datetime(2026, 3, 26, 8, 0, tzinfo=ZoneInfo("Europe/Brussels"))
    assert mail.not_before.replace(tzinfo=mail.not_before.tzinfo or UTC) == morning
    assert "le plan de paiement a donc pris fin" in _body(mail.payload)
    after = await lines(date(2026, 3, 26))
    assert after
    assert all(isinstance(d, DunningLine) for d in after.values())


async def test_a_completed_plan_is_confirmed_and_releases_its_holds(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    from adapters.db.allocations import apply_allocations

    await _ledger(engine, tmp_path, TODAY)
    chat = await _linked_chat(engine, "C1")
    await chat.say("je veux payer en 2 fois")
    await chat.say("oui")
    async with engine.begin() as conn:
        rows = (
            await conn.execute(
                select(invoices.c.id, invoices.c.open_amount).where(
                    invoices.c.number.in_(["INV-1", "INV-2"])
                )
            )
        ).all()
        # A bank transfer for everything, reconciled the usual way: it counts too.
        await apply_allocations(conn, [(r.id, "bank", "stmt-1", r.open_amount) for r in rows])
    settings = _webchat_settings()
    summary = await check_plans(engine, FixedDay(engine, settings), settings, TODAY)
    assert summary.completed == 1
    async with engine.connect() as conn:
        state = (await conn.execute(select(payment_plans.c.state))).scalar_one()
        mail = (await conn.execute(select(outbox.c.payload))).scalar_one()
    assert state == "completed"
    assert "est entièrement réglé" in _body(mail)


async def test_a_business_plan_fee_is_collected_with_the_first_instalment(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    from adapters.db import plan_repo
    from adapters.payments.mollie import ProviderPayment
    from bot.dialogue.policy import ConversationPolicy
    from bot.plans import record_payment
    from domain.payment_plan import default_policies

    await _ledger(engine, tmp_path, TODAY)
    policies = default_policies()
    policies["business"] = replace(policies["business"], fee=Decimal("15.00"))
    service = FixedDay(
        engine, _webchat_settings(), policy=ConversationPolicy(plan_policies=policies)
    )
    chat = Chat(service, "web-fee")
    async with engine.begin() as conn:
        token = await repo.create_link_token(conn, await _debtor(engine, "C1"), "portal")
    await chat.say(f"/start {token}")
    offer = await chat.say("je veux payer en 3 fois")
    assert "frais de dossier de 15,00" in offer[0].text
    await chat.say("oui")
    async with engine.begin() as conn:
        plan_id = (await conn.execute(select(payment_plans.c.id))).scalar_one()
        plan = await plan_repo.load_plan(conn, plan_id)
        assert plan is not None
        assert [i.amount for i in plan.instalments] == [
            Decimal("215.00"),
            Decimal("200.00"),
            Decimal("200.00"),
        ]
        await plan_repo.add_payment(
            conn,
            provider="mollie",
            provider_id="tr_fee1",
            debtor_id=plan.debtor_id,
            invoice_ids=plan.invoice_ids,
            amount=Decimal("215.00"),
            currency="EUR",
            status="open",
            checkout_url="",
            plan_id=plan_id,
            instalment_id=plan.instalment_ids[0],
        )
        paid = ProviderPayment("tr_fee1", "paid", Decimal("215.00"), "EUR")
        assert await record_payment(conn, paid, TODAY, service) == "recorded"
    async with engine.connect() as conn:
        steps = (
            (
                await conn.execute(
                    select(plan_instalments.c.paid).order_by(plan_instalments.c.number)
                )
            )
            .scalars()
            .all()
        )
        allocated = (await conn.execute(select(func.sum(allocations.c.amount)))).scalar_one()
    # 200.00 reached the invoices; the 15.00 fee is the plan's, and instalment 1 is paid.
    assert allocated == Decimal("200.00")
    assert steps == [Decimal("215.00"), Decimal("0.00"), Decimal("0.00")]
