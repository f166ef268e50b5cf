"""The small parts of the Telegram channel and of the channel settings, without servers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from telegram import Update

from bot.channels.base import Choice
from bot.channels.telegram import inbound_from_update, keyboard
from bot.config import load_settings
from bot.errors import UserError
from bot.workers import ChannelOptions, load_channel_options, webhook_secret
from tests.support.fake_telegram import FakeTelegram

BRUSSELS = ZoneInfo("Europe/Brussels")


def test_a_text_message_becomes_an_inbound_message_keyed_by_update_id() -> None:
    fake = FakeTelegram()
    data = fake.text_update(77, "  Ik betaal vrijdag  ")
    inbound = inbound_from_update(Update.de_json(data, None), BRUSSELS)
    assert inbound is not None
    assert (inbound.channel, inbound.sender, inbound.text) == (
        "telegram",
        "77",
        "Ik betaal vrijdag",
    )
    assert inbound.external_id == f"update:{data['update_id']}"
    assert inbound.reference_date is not None


def test_a_button_press_carries_its_payload_as_the_text() -> None:
    fake = FakeTelegram()
    data = fake.callback_update(77, "/request_payment_details")
    inbound = inbound_from_update(Update.de_json(data, None), BRUSSELS)
    assert inbound is not None
    assert (inbound.sender, inbound.text) == ("77", "/request_payment_details")
    assert inbound.meta["callback_query_id"] == data["callback_query"]["id"]


def test_groups_edits_and_wordless_messages_are_not_answered() -> None:
    fake = FakeTelegram()
    group = fake.text_update(-100, "Hoeveel moet ik betalen?", chat_type="group")
    edited = fake.text_update(77, "Hallo")
    edited["edited_message"] = edited.pop("message")
    sticker = fake.text_update(77, "x")
    del sticker["message"]["text"]
    for data in (group, edited, sticker):
        assert inbound_from_update(Update.de_json(data, None), BRUSSELS) is None


def test_keyboard_one_button_per_row_and_no_cut_payloads() -> None:
    markup = keyboard(
        [Choice("Ik heb al betaald", "/already_paid"), Choice("Te lang", "/" + "x" * 70)]
    )
    assert markup is not None
    rows = markup.to_dict()["inline_keyboard"]
    assert rows == [[{"text": "Ik heb al betaald", "callback_data": "/already_paid"}]]
    assert keyboard([]) is None


def test_channel_settings_are_checked_once_at_start() -> None:
    options = load_channel_options(
        {"TELEGRAM_MODE": "webhook", "IMAP_IDLE": "0", "IMAP_POLL_SECONDS": "30"}
    )
    assert (options.telegram_mode, options.imap_idle, options.imap_poll_seconds) == (
        "webhook",
        False,
        30.0,
    )
    for env, says in [
        ({"TELEGRAM_MODE": "push"}, "TELEGRAM_MODE"),
        ({"IMAP_POLL_SECONDS": "soon"}, "IMAP_POLL_SECONDS"),
        ({"IMAP_SSL": "maybe"}, "IMAP_SSL"),
        ({"TELEGRAM_WEBHOOK_SECRET": "has spaces"}, "TELEGRAM_WEBHOOK_SECRET"),
    ]:
        with pytest.raises(UserError, match=says):
            load_channel_options(env)


def test_webhook_secret_is_stable_per_secret_key_and_valid_for_telegram() -> None:
    settings = load_settings({"DATABASE_URL": "sqlite://", "RELANCE_SECRET_KEY": "k1"})
    first = webhook_secret(settings, ChannelOptions())
    assert first == webhook_secret(settings, ChannelOptions())
    assert 1 <= len(first) <= 256
    assert all(c.isalnum() or c in "_-" for c in first)
    other = load_settings({"DATABASE_URL": "sqlite://", "RELANCE_SECRET_KEY": "k2"})
    assert webhook_secret(other, ChannelOptions()) != first
    given = ChannelOptions(telegram_webhook_secret="mine")
    assert webhook_secret(settings, given) == "mine"
