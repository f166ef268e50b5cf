"""Reminders on Telegram, on SQLite and PostgreSQL: a debtor without an e-mail
address who linked a Telegram chat is reminded there, through the outbox's
Telegram sender and python-telegram-bot pointed at a fake Bot API on loopback.

A consumer's first reminder still goes on paper (Book XIX wants a durable
medium); a reminder is sent on its day and not at night, and one a day late is
withdrawn for the next run to write again, as by e-mail."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.conversation_schema import conversations
from adapters.db.dunning_schema import dunning_lines, outbox
from adapters.db.schema import debtor_emails, debtors, invoices
from adapters.holidays_be import belgian_holidays
from bot.channels.telegram import TelegramChannel, TelegramOptions, send_pending_telegram
from bot.dunning import DunningSetup, preview, run_dunning
from domain.calendar import ContactRules
from domain.dunning import DEFAULT_POLICY, DunningLine, Skip
from tests.support.fake_telegram import TOKEN, FakeTelegram

DAY = date(2026, 3, 9)  # a Monday
RUN_AT = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # 09:00 in Brussels
SETUP = DunningSetup(policy=DEFAULT_POLICY, contact=ContactRules(holidays=belgian_holidays(2026)))
CHAT = "4242"


async def seed(engine: AsyncEngine) -> None:
    """B1, a business with only a Telegram chat; P1, a consumer with only a chat;
    E1, a business with both an e-mail address and a chat."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    stamp = {"created_at": now, "updated_at": now}
    async with engine.begin() as conn:
        for n, (code, name, kind, chat, email) in enumerate(
            [
                ("B1", "Bakkerij Janssens BV", "business", CHAT, None),
                ("P1", "Piet Peeters", "consumer", "5151", None),
                ("E1", "Dupont SRL", "business", "6161", "compta@dupont.example"),
            ],
            start=1,
        ):
            await conn.execute(
                insert(debtors).values(
                    id=n, code=code, name=name, kind=kind, language="nl", content_hash="x", **stamp
                )
            )
            if email:
                await conn.execute(insert(debtor_emails).values(debtor_id=n, email=email))
            # An older chat of B1's first: the one linked last is used.
            if code == "B1":
                await conn.execute(
                    insert(conversations).values(
                        channel="telegram", channel_key="1111", debtor_id=n, **stamp
                    )
                )
            await conn.execute(
                insert(conversations).values(
                    channel="telegram", channel_key=chat, debtor_id=n, **stamp
                )
            )
            await conn.execute(
                insert(invoices).values(
                    number=f"F-{code}",
                    debtor_id=n,
                    kind="invoice",
                    issue_date=date(2026, 1, 30),
                    due_date=date(2026, 3, 1),
                    currency="EUR",
                    amount=Decimal("250.00"),
                    open_amount=Decimal("250.00"),
                    status="open",
                    structured_reference="",
                    content_hash="x",
                    **stamp,
                )
            )


@pytest.fixture
async def channel(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    sender = TelegramChannel(
        TelegramOptions(TOKEN, base_url=fake.base_url),
        None,  # type: ignore[arg-type]  # nothing is received here
        ZoneInfo("Europe/Brussels"),
    )
    await sender.start()
    try:
        yield sender
    finally:
        await sender.stop()


async def _send_at(engine: AsyncEngine, channel: TelegramChannel, moment: datetime) -> Any:
    return await send_pending_telegram(engine, channel, contact=SETUP.contact, clock=lambda: moment)


async def test_a_debtor_with_only_a_telegram_chat_is_reminded_there(
    engine: AsyncEngine, fake: FakeTelegram, channel: TelegramChannel
) -> None:
    await seed(engine)
    planned = {
        item.invoice: item.channel.value
        async for item in preview(engine, DAY, SETUP)
        if isinstance(item, DunningLine)
    }
    # E-mail first when there is one; a consumer's first reminder on paper.
    assert planned == {"F-B1": "telegram", "F-P1": "letter", "F-E1": "email"}

    report = await run_dunning(engine, DAY, SETUP, RUN_AT)
    assert report.messages == 3
    async with engine.connect() as conn:
        row = (await conn.execute(select(outbox).where(outbox.c.channel == "telegram"))).one()
    assert row.recipient == CHAT
    payload = json.loads(row.payload)
    assert payload["chat_id"] == CHAT

    sent = await _send_at(engine, channel, RUN_AT + timedelta(minutes=5))
    assert sent.sent == 1
    (message,) = fake.sent
    assert str(message["chat"]["id"]) == CHAT
    assert "F-B1" in message["text"]
    assert "23 maart 2026" in message["text"]  # pay by: 14 days from the 9th
    assert "{{" not in message["text"]
    async with engine.connect() as conn:
        line = (
            await conn.execute(select(dunning_lines).where(dunning_lines.c.outbox_id == row.id))
        ).one()
    assert (line.state, line.sent_on) == ("sent", DAY)


async def test_a_telegram_reminder_waits_out_the_night_and_is_withdrawn_a_day_late(
    engine: AsyncEngine, fake: FakeTelegram, channel: TelegramChannel
) -> None:
    await seed(engine)
    await run_dunning(engine, DAY, SETUP, RUN_AT)
    night = datetime(2026, 3, 9, 21, 30, tzinfo=UTC)  # 22:30 in Brussels
    at_night = await _send_at(engine, channel, night)
    assert (at_night.sent, at_night.waiting) == (0, 1)
    next_morning = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # 08:00, a day late
    late = await _send_at(engine, channel, next_morning)
    assert (late.sent, late.withdrawn) == (0, 1)
    assert fake.sent == []
    async with engine.connect() as conn:
        state = (
            await conn.execute(select(outbox.c.state).where(outbox.c.channel == "telegram"))
        ).scalar_one()
        kept = (await conn.execute(select(dunning_lines.c.invoice_id))).scalars().all()
    assert state == "withdrawn"
    assert 1 not in kept  # B1's line is gone: the next run writes it for its own day

    again = await run_dunning(engine, date(2026, 3, 10), SETUP, next_morning)
    assert again.messages == 1
    assert (await _send_at(engine, channel, next_morning + timedelta(hours=1))).sent == 1
    assert "24 maart 2026" in fake.sent[0]["text"]


async def test_a_blocked_chat_puts_the_reminder_in_error_for_staff(
    engine: AsyncEngine, fake: FakeTelegram, channel: TelegramChannel
) -> None:
    await seed(engine)
    await run_dunning(engine, DAY, SETUP, RUN_AT)
    fake.blocked.add(int(CHAT))
    report = await _send_at(engine, channel, RUN_AT + timedelta(minutes=5))
    assert report.failed == 1
    async with engine.connect() as conn:
        line = (
            await conn.execute(select(dunning_lines).where(dunning_lines.c.invoice_id == 1))
        ).one()
    assert line.state == "error"
    # The next run does not go on reminding a chat that cannot be reached.
    skipped = [
        item
        async for item in preview(engine, date(2026, 3, 30), SETUP)
        if isinstance(item, Skip) and item.invoice == "F-B1"
    ]
    assert [s.reason for s in skipped] == [
        "a reminder could not be delivered: check the address, then resend"
    ]
