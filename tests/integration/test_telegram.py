"""Telegram end to end: python-telegram-bot, pointed (``base_url``) at a fake Bot API
server on loopback, inside the real aiohttp app, on SQLite and PostgreSQL.

A debtor links the chat with ``/start <token>``, promises to pay, presses an inline
button; redelivered updates and a crash between storing and answering are each
handled exactly once; webhook requests without the secret are refused.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import conversation_repo as repo
from adapters.db.conversation_schema import escalations, messages
from adapters.db.dunning_schema import outbox, payment_promises
from adapters.db.ledger import import_invoices
from adapters.db.schema import debtors
from adapters.imports import read_invoice_file
from bot.config import Settings, load_settings
from bot.workers import ChannelOptions
from tests.support.app import free_port, serving
from tests.support.fake_telegram import TOKEN, FakeTelegram

CHAT = 4242


@pytest.fixture
async def ledger(engine: AsyncEngine, tmp_path: Path) -> AsyncEngine:
    today = datetime.now(UTC).date()
    issue, due = today - timedelta(days=60), today - timedelta(days=30)
    path = tmp_path / "ledger.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;issue_date;"
        "due_date;amount\n"
        f"F-9;P1;Jan Peeters;consumer;nl;jan@peeters.be;{issue};{due};250,00\n"
    )
    await import_invoices(engine, [(path.name, read_invoice_file(path))])
    return engine


def _settings(fake: FakeTelegram, port: int) -> Settings:
    return load_settings(
        {
            "DATABASE_URL": "sqlite://",
            "RELANCE_PORT": str(port),
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": fake.base_url,
        }
    )


def _options(mode: str = "polling", secret: str = "") -> ChannelOptions:
    return ChannelOptions(
        telegram_mode=mode,
        telegram_webhook_secret=secret,
        outbox_interval_seconds=0.05,
        recover_interval_seconds=3600,
    )


async def _token(engine: AsyncEngine) -> str:
    async with engine.begin() as conn:
        debtor_id = (
            await conn.execute(select(debtors.c.id).where(debtors.c.code == "P1"))
        ).scalar_one()
        return await repo.create_link_token(conn, debtor_id, "telegram")


async def _count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(table)
        for condition in where:
            query = query.where(condition)
        return int((await conn.execute(query)).scalar_one())


async def _started(app: Any) -> None:
    from bot.workers import TELEGRAM

    await asyncio.wait_for(app[TELEGRAM].started.wait(), 30)


def _buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [row[0]["callback_data"] for row in markup.get("inline_keyboard", [])]


async def test_polling_conversation_links_records_a_promise_and_answers_buttons(
    ledger: AsyncEngine, fake: FakeTelegram
) -> None:
    port = free_port()
    token = await _token(ledger)
    async with serving(_settings(fake, port), ledger, _options()):
        assert fake.webhook is None
        await fake.push(fake.text_update(CHAT, f"/start {token}"))
        linked = await fake.wait_sent(1)
        assert "Jan Peeters" in linked[0]["text"]

        await fake.push(fake.text_update(CHAT, "Ik betaal de 250 euro volgende vrijdag"))
        answer = await fake.wait_sent(3)  # promise_ack, then the payment details
        assert "250,00" in answer[1]["text"]
        assert "BE68" in answer[2]["text"].replace(" ", "")

        await fake.push(fake.text_update(CHAT, "ik snap het niet, blablabla"))
        menu = (await fake.wait_sent(4))[3]
        assert "/request_payment_details" in _buttons(menu)

        pressed = fake.callback_update(CHAT, "/request_payment_details")
        await fake.push(pressed)
        details = (await fake.wait_sent(5))[4]
        assert "F-9" in details["text"]
        await fake.wait_confirmed()
        for _ in range(50):
            if fake.answered:
                break
            await asyncio.sleep(0.02)
        assert fake.answered == [pressed["callback_query"]["id"]]

    async with ledger.connect() as conn:
        promise = (await conn.execute(select(payment_promises))).one()
        states = (await conn.execute(select(outbox.c.state))).scalars().all()
        out = (
            await conn.execute(select(messages.c.status).where(messages.c.direction == "out"))
        ).scalars()
        intents = (
            await conn.execute(
                select(messages.c.intent)
                .where(messages.c.direction == "in")
                .order_by(messages.c.id)
            )
        ).scalars()
    assert promise.amount == Decimal("250.00")
    assert promise.promised_date.weekday() == 4  # a Friday
    assert promise.promised_date > datetime.now(UTC).date() - timedelta(days=1)
    assert set(states) == {"sent"}
    assert set(out) == {"sent"}
    assert list(intents)[1:] == ["promise_to_pay", "out_of_scope", "request_payment_details"]


async def test_polling_update_read_twice_is_handled_once(
    ledger: AsyncEngine, fake: FakeTelegram
) -> None:
    """As after a crash before the offset was confirmed: Telegram serves the same
    update again; the message store knows it."""
    port = free_port()
    token = await _token(ledger)
    update = fake.text_update(CHAT, f"/start {token}")
    async with serving(_settings(fake, port), ledger, _options()):
        await fake.push(update)
        await fake.wait_sent(1)
        await fake.wait_confirmed()
    async with serving(_settings(fake, port), ledger, _options()):
        await fake.push(update)  # the same update_id, again
        await fake.push(fake.text_update(CHAT, "Hoeveel moet ik nog betalen?"))
        await fake.wait_sent(3)  # balance + payment details, nothing for the repeat
        await fake.wait_confirmed()
        await asyncio.sleep(0.2)
    assert len(fake.sent) == 3
    assert await _count(ledger, messages, messages.c.direction == "in") == 2


async def test_webhook_checks_the_secret_and_handles_a_redelivery_once(
    ledger: AsyncEngine, fake: FakeTelegram
) -> None:
    port = free_port()
    secret = "s3cret_Token-for-tests"
    url = f"http://127.0.0.1:{port}/webhooks/telegram"
    token = await _token(ledger)
    async with serving(_settings(fake, port), ledger, _options("webhook", secret)) as app:
        await _started(app)
        assert fake.webhook == {"url": url, "secret_token": secret}
        update = fake.text_update(CHAT, f"/start {token}")
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=update) as missing:
                assert missing.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with session.post(url, json=update, headers=headers) as wrong:
                assert wrong.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with session.post(url, data=b"not json", headers=headers) as bad:
                assert bad.status == 400
        assert await _count(ledger, messages) == 0

        assert await fake.push(update) == 200
        assert await fake.push(update) == 200  # Telegram retried: same update_id
        await fake.wait_sent(1)
        await asyncio.sleep(0.3)
    assert len(fake.sent) == 1
    assert await _count(ledger, messages, messages.c.direction == "in") == 1


async def test_crash_between_storing_and_answering_is_answered_once_at_restart(
    ledger: AsyncEngine, fake: FakeTelegram
) -> None:
    port = free_port()
    token = await _token(ledger)
    async with serving(_settings(fake, port), ledger, _options()):
        await fake.push(fake.text_update(CHAT, f"/start {token}"))
        await fake.wait_sent(1)
    # The process stored this message, then died before handling it:
    await repo.store_inbound(
        ledger,
        channel="telegram",
        channel_key=str(CHAT),
        external_id="update:77",
        text="Ik heb gisteren alles betaald",
    )
    async with serving(_settings(fake, port), ledger, _options()):
        await fake.wait_sent(2)
        # Telegram did not confirm update 77 either: it arrives again, harmlessly.
        again = fake.text_update(CHAT, "Ik heb gisteren alles betaald")
        again["update_id"] = 77
        await fake.push(again)
        await fake.wait_confirmed()
        await asyncio.sleep(0.3)
    assert len(fake.sent) == 2
    assert "betaald" in fake.sent[1]["text"] or "betaling" in fake.sent[1]["text"]
    async with ledger.connect() as conn:
        statuses = (
            await conn.execute(select(messages.c.status).where(messages.c.direction == "in"))
        ).scalars()
    assert sorted(statuses) == ["handled", "handled"]


async def test_group_chats_are_not_answered_and_blocked_chats_fail_for_staff(
    ledger: AsyncEngine, fake: FakeTelegram
) -> None:
    port = free_port()
    fake.blocked.add(CHAT)
    async with serving(_settings(fake, port), ledger, _options()):
        await fake.push(fake.text_update(-100, "Hoeveel moet ik betalen?", chat_type="group"))
        await fake.push(fake.text_update(CHAT, "Hallo"))
        await fake.wait_confirmed()
        for _ in range(100):
            if await _count(ledger, outbox, outbox.c.state == "failed"):
                break
            await asyncio.sleep(0.05)
    async with ledger.connect() as conn:
        row = (await conn.execute(select(outbox.c.state, outbox.c.last_error))).one()
        out = (
            await conn.execute(select(messages.c.status).where(messages.c.direction == "out"))
        ).scalar_one()
    assert row.state == "failed"
    assert "blocked" in row.last_error
    assert out == "failed"
    assert fake.sent == []
    assert await _count(ledger, messages, messages.c.direction == "in") == 1
    assert await _count(ledger, escalations) == 0


def _output_channel(fake: FakeTelegram) -> Any:
    """A Telegram channel that only sends, to the fake Bot API."""
    from zoneinfo import ZoneInfo

    from bot.channels.telegram import TelegramChannel, TelegramOptions

    return TelegramChannel(
        TelegramOptions(TOKEN, base_url=fake.base_url),
        None,  # type: ignore[arg-type]  # nothing is received here
        ZoneInfo("Europe/Brussels"),
    )


async def test_the_output_channel_sends_text_buttons_and_documents(fake: FakeTelegram) -> None:

    from bot.channels.base import Choice
    from bot.channels.telegram import DeliveryFailed

    channel = _output_channel(fake)
    await channel.start()
    try:
        await channel.send_text(str(CHAT), "Goeiedag")
        await channel.send_choices(
            str(CHAT), "Wat kan ik voor u doen?", [Choice("Ik heb al betaald", "/already_paid")]
        )
        await channel.send_document(str(CHAT), "factuur-F-9.pdf", b"%PDF-1.4\n", "Uw factuur")
        fake.blocked.add(CHAT)
        with pytest.raises(DeliveryFailed) as refused:
            await channel.send_text(str(CHAT), "Hallo?")
        assert refused.value.permanent
    finally:
        await channel.stop()
    text, choices, document = fake.sent
    assert text["text"] == "Goeiedag"
    assert "reply_markup" not in text
    assert _buttons(choices) == ["/already_paid"]
    assert (document["caption"], document["document"]["file_name"]) == (
        "Uw factuur",
        "factuur-F-9.pdf",
    )
    assert fake.calls[:2] == ["getMe", "deleteWebhook"]


async def test_a_notice_waits_out_quiet_hours_and_an_answer_goes(
    fake: FakeTelegram, ledger: AsyncEngine
) -> None:
    """As with e-mail: a message we start ourselves is not sent at 22:30 Brussels
    time but at 08:00; an answer to the debtor goes at once."""
    import json

    from adapters.db import dunning_repo
    from bot.channels.telegram import send_pending_telegram

    morning = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # 08:00 in Brussels
    async with ledger.begin() as conn:
        for kind in ("notice", "reply"):
            await dunning_repo.enqueue(
                conn,
                dunning_repo.OutgoingMessage(
                    message_id=f"telegram:{kind}",
                    channel="telegram",
                    recipient=str(CHAT),
                    subject="",
                    payload=json.dumps({"chat_id": CHAT, "text": kind, "buttons": []}).encode(),
                    not_before=morning,
                    kind=kind,
                ),
            )
    channel = _output_channel(fake)
    await channel.start()
    try:
        night = datetime(2026, 3, 9, 21, 30, tzinfo=UTC)
        at_night = await send_pending_telegram(ledger, channel, clock=lambda: night)
        assert (at_night.sent, at_night.waiting) == (1, 1)
        assert [m["text"] for m in fake.sent] == ["reply"]
        next_morning = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
        later = await send_pending_telegram(ledger, channel, clock=lambda: next_morning)
        assert later.sent == 1
        assert [m["text"] for m in fake.sent] == ["reply", "notice"]
    finally:
        await channel.stop()


async def test_webhook_answers_500_when_the_update_cannot_be_stored_and_the_retry_works(
    ledger: AsyncEngine, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.db import conversation_repo

    port = free_port()
    secret = "another_secret"
    real_store = conversation_repo.store_inbound
    failures = [RuntimeError("database unavailable")]

    async def flaky_store(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await real_store(*args, **kwargs)

    monkeypatch.setattr(conversation_repo, "store_inbound", flaky_store)
    token = await _token(ledger)
    async with serving(_settings(fake, port), ledger, _options("webhook", secret)) as app:
        await _started(app)
        update = fake.text_update(CHAT, f"/start {token}")
        assert await fake.push(update) == 500  # Telegram keeps it and tries again
        assert await _count(ledger, messages) == 0
        assert await fake.push(update) == 200
        await fake.wait_sent(1)
    assert await _count(ledger, messages, messages.c.direction == "in") == 1


async def test_a_message_left_unhandled_while_running_is_handled_by_the_recovery_loop(
    ledger: AsyncEngine, fake: FakeTelegram
) -> None:
    port = free_port()
    token = await _token(ledger)
    options = ChannelOptions(
        outbox_interval_seconds=0.05, recover_after_seconds=0.2, recover_interval_seconds=0.1
    )
    async with serving(_settings(fake, port), ledger, options):
        await fake.push(fake.text_update(CHAT, f"/start {token}"))
        await fake.wait_sent(1)
        # Stored by a handler that then failed (the app keeps running):
        await repo.store_inbound(
            ledger,
            channel="telegram",
            channel_key=str(CHAT),
            external_id="update:5000",
            text="Hoeveel moet ik nog betalen?",
        )
        await fake.wait_sent(3)  # the balance, then the payment details
        await asyncio.sleep(0.5)
    assert len(fake.sent) == 3
    assert "250,00" in fake.sent[1]["text"]


async def test_the_app_serves_while_telegram_is_out_of_reach(ledger: AsyncEngine) -> None:
    port = free_port()
    settings = load_settings(
        {
            "DATABASE_URL": "sqlite://",
            "RELANCE_PORT": str(port),
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": f"http://127.0.0.1:{free_port()}/bot",  # nobody listens
        }
    )
    async with serving(settings, ledger, _options()) as app:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/health") as health,
        ):
            assert health.status == 200
        from bot.workers import TELEGRAM

        assert not app[TELEGRAM].started.is_set()  # still trying, in the background


def _page_settings(port: int, **extra: str) -> Settings:
    return load_settings(
        {
            "DATABASE_URL": "sqlite://",
            "RELANCE_PORT": str(port),
            "RELANCE_SECRET_KEY": "k" * 32,
            **extra,
        }
    )


async def _pay_page(engine: AsyncEngine, settings: Settings, port: int) -> str:
    """The pay page of debtor P1, as served."""
    from urllib.parse import urlsplit

    from bot.paylinks import portal_url

    async with engine.connect() as conn:
        debtor_id = (
            await conn.execute(select(debtors.c.id).where(debtors.c.code == "P1"))
        ).scalar_one()
    path = urlsplit(portal_url(settings, int(debtor_id))).path
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        assert response.status == 200
        return await response.text()


async def test_the_pay_page_links_to_the_bot_and_its_link_names_the_debtor(
    ledger: AsyncEngine, fake: FakeTelegram
) -> None:
    """The pay page's "Continue on Telegram" opens the bot with a start token
    (t.me/<bot>?start=<token>); Telegram then sends "/start <token>", which links
    the chat to the debtor of that page."""
    import re

    port = free_port()
    settings = _page_settings(port, TELEGRAM_TOKEN=TOKEN, TELEGRAM_BASE_URL=fake.base_url)
    async with serving(settings, ledger, _options()) as app:
        await _started(app)  # the bot's name comes from getMe
        html = await _pay_page(ledger, settings, port)
        link = re.search(r'href="https://t\.me/relance_test_bot\?start=([A-Za-z0-9_-]+)"', html)
        assert link is not None
        assert "Ga verder op Telegram" in html  # the debtor's language (nl)

        await fake.push(fake.text_update(CHAT, f"/start {link.group(1)}"))
        linked = await fake.wait_sent(1)
        assert "Jan Peeters" in linked[0]["text"]
        await fake.push(fake.text_update(CHAT, "Hoeveel moet ik nog betalen?"))
        answer = await fake.wait_sent(2)
        assert "250" in answer[1]["text"]


@pytest.mark.parametrize(
    ("configured", "shown"), [("", None), ("@relance_be_bot", "relance_be_bot")]
)
async def test_the_pay_page_names_the_configured_bot_or_none(
    ledger: AsyncEngine, configured: str, shown: str | None
) -> None:
    """TELEGRAM_BOT_USERNAME names the bot (a bot run by another process); without
    it and without a running bot, no Telegram link is shown."""
    port = free_port()
    settings = _page_settings(port, TELEGRAM_BOT_USERNAME=configured)
    async with serving(settings, ledger, _options()):
        html = await _pay_page(ledger, settings, port)
    if shown is None:
        assert "t.me/" not in html
    else:
        assert f'href="https://t.me/{shown}?start=' in html
