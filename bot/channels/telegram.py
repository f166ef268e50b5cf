"""Telegram: debtors write to the creditor's bot; the bot answers with inline buttons.

    update (webhook POST or getUpdates)
      -> InboundMessage(channel="telegram", sender=str(chat_id),
                        external_id=f"update:{update_id}", text=...)
      -> Conversations.receive()              stores it once, answers into the outbox
    outbox rows of channel "telegram"
      -> send_pending_telegram()              sendMessage + InlineKeyboardMarkup

python-telegram-bot (v22) builds the bot (``ApplicationBuilder().token(...)
.base_url(...)``, so tests point it at a fake Bot API server on loopback), parses
updates (``Update.de_json``), and makes every call (``getUpdates``, ``sendMessage``,
``answerCallbackQuery``, ``setWebhook``).  Two choices differ from PTB's defaults,
both for "exactly once":

* Updates are not dispatched through PTB's handler machinery: its
  ``process_update`` swallows a handler's exception, so a message we failed to
  store would still be confirmed to Telegram and lost.  ``handle_update`` lets the
  failure through instead: the webhook answers 500 and Telegram delivers again.
* Long polling is our own loop over ``bot.get_updates``: PTB's ``Updater`` confirms
  an update (by asking for the next offset) as soon as it is queued, before any
  handler ran.  Ours asks for ``update_id + 1`` only once the message is stored,
  so a crash re-reads it, and the message store (unique channel + external id)
  makes the second reading harmless.

Only private chats are answered: in a group, a reply would tell a debt to others.
Webhook requests must carry the secret given to ``setWebhook`` in
``X-Telegram-Bot-Api-Secret-Token``; anything else is refused with 403.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from aiohttp import web
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder

from adapters.db import dunning_repo
from adapters.db.conversation_schema import messages
from adapters.db.dunning_schema import outbox
from bot.channels.base import Choice, InboundMessage, OutgoingMessage, choices_as_text
from bot.conversations import Conversations
from bot.outbox import SendReport, worker_name
from domain.calendar import ContactRules
from domain.dunning import LineState

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query")
CALLBACK_DATA_MAX = 64  # bytes, Bot API limit for an inline button's callback_data
TEXT_MAX = 4096  # characters of one Telegram message
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class TelegramOptions:
    token: str
    base_url: str = ""  # "" = api.telegram.org; e.g. "http://127.0.0.1:8081/bot"
    mode: str = "polling"  # polling | webhook
    webhook_url: str = ""  # public https URL of POST /webhooks/telegram
    secret_token: str = ""  # 1-256 of A-Z a-z 0-9 _ -
    poll_timeout: int = 25  # seconds a getUpdates call may wait for news


class DeliveryFailed(Exception):
    def __init__(self, message: str, permanent: bool, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


def inbound_from_update(update: Update, timezone: tzinfo) -> InboundMessage | None:
    """The message a debtor sent, or None for what the bot does not answer
    (edits, group chats, stickers without words)."""
    external_id = f"update:{update.update_id}"
    if update.callback_query is not None:
        query = update.callback_query
        if not query.data:
            return None
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return None
        chat_id = chat.id if chat is not None else query.from_user.id
        now = datetime.now(UTC)
        return InboundMessage(
            channel="telegram",
            sender=str(chat_id),
            external_id=external_id,
            text=str(query.data),
            received_at=now,
            reference_date=now.astimezone(timezone).date(),
            meta={"callback_query_id": query.id, "button": True},
        )
    message = update.message
    if message is None or message.chat.type != "private":
        return None
    text = (message.text or message.caption or "").strip()
    if not text:
        return None
    sent = message.date if message.date.tzinfo else message.date.replace(tzinfo=UTC)
    return InboundMessage(
        channel="telegram",
        sender=str(message.chat.id),
        external_id=external_id,
        text=text[:TEXT_MAX],
        received_at=datetime.now(UTC),
        reference_date=sent.astimezone(timezone).date(),
        meta={"telegram_message_id": message.message_id},
    )


def keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup | None:
    """One button per row (titles are sentences); a payload too long for Telegram
    is left out rather than cut, since a cut payload would mean something else."""
    rows = [
        [InlineKeyboardButton(c.title, callback_data=c.payload)]
        for c in choices
        if len(c.payload.encode()) <= CALLBACK_DATA_MAX
    ]
    return InlineKeyboardMarkup(rows) if rows else None


class TelegramChannel:
    """The bot: intake (webhook or polling) and the Telegram ``OutputChannel``."""

    def __init__(
        self, options: TelegramOptions, conversations: Conversations, timezone: tzinfo
    ) -> None:
        self.options = options
        self.conversations = conversations
        self.timezone = timezone
        builder = ApplicationBuilder().token(options.token).updater(None)
        if options.base_url:
            builder = builder.base_url(options.base_url)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.offset: int | None = None
        self.started = asyncio.Event()

    @property
    def bot(self) -> Bot:
        return self.application.bot

    async def start(self) -> None:
        """getMe, then tell Telegram how updates reach us (a webhook, or none for polling)."""
        await self.application.initialize()
        if self.options.mode == "webhook":
            await self.bot.set_webhook(
                self.options.webhook_url,
                secret_token=self.options.secret_token,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        else:
            # Telegram refuses getUpdates while a webhook is set.
            await self.bot.delete_webhook(drop_pending_updates=False)
        self.started.set()

    async def run_forever(self) -> None:
        """Start (retrying: Telegram out of reach must not keep the rest of the app
        from serving), then poll when in polling mode."""
        delay = 1.0
        while not self.started.is_set():
            try:
                await self.start()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("telegram: cannot start (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300.0)
        if self.options.mode == "polling":
            await self.poll_forever()

    async def stop(self) -> None:
        await self.application.shutdown()

    # ---------------------------------------------------------------- intake

    async def handle_update(self, update: Update) -> list[OutgoingMessage]:
        """Store and answer one update; raises if it could not be stored."""
        inbound = inbound_from_update(update, self.timezone)
        if inbound is None:
            return []
        replies = await self.conversations.receive(inbound)
        query_id = inbound.meta.get("callback_query_id")
        if query_id:
            # Stops the spinner on the pressed button; the answer itself comes
            # through the outbox like every other reply.
            try:
                await self.bot.answer_callback_query(query_id)
            except TelegramError as exc:
                log.info("callback query %s not acknowledged: %s", query_id, exc)
        return replies

    async def handle_webhook(self, request: web.Request) -> web.Response:
        if not self.started.is_set():
            raise web.HTTPServiceUnavailable(text="starting")  # Telegram tries again
        given = request.headers.get(SECRET_HEADER, "")
        if not self.options.secret_token or not hmac.compare_digest(
            given.encode(), self.options.secret_token.encode()
        ):
            raise web.HTTPForbidden(text="wrong or missing secret token")
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="the body must be JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise web.HTTPBadRequest(text="not a Telegram update")
        update = Update.de_json(data, self.bot)
        await self.handle_update(update)
        return web.Response(text="ok")

    async def poll_once(self) -> int:
        """One getUpdates call; returns how many updates were stored."""
        updates = await self.bot.get_updates(
            offset=self.offset,
            timeout=self.options.poll_timeout,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        for item in updates:
            await self.handle_update(item)
            # Confirmed to Telegram by the next call, only now that it is stored.
            self.offset = item.update_id + 1
        return len(updates)

    async def poll_forever(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.poll_once()
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("telegram polling failed; retrying in %.0f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    # ---------------------------------------------------------------- output

    async def send_text(self, recipient: str, text: str) -> None:
        await self._send(recipient, text, [])

    async def send_choices(self, recipient: str, text: str, choices: list[Choice]) -> None:
        await self._send(recipient, text, choices)

    async def send_document(
        self, recipient: str, filename: str, data: bytes, caption: str = ""
    ) -> None:
        try:
            await self.bot.send_document(
                chat_id=recipient, document=data, filename=filename, caption=caption or None
            )
        except TelegramError as exc:
            raise _failure(exc) from exc

    async def _send(self, recipient: str, text: str, choices: Sequence[Choice]) -> None:
        markup = keyboard(choices)
        skipped = [c for c in choices if len(c.payload.encode()) > CALLBACK_DATA_MAX]
        if skipped:
            text = choices_as_text(text, skipped)
        try:
            await self.bot.send_message(
                chat_id=recipient, text=text[:TEXT_MAX], reply_markup=markup
            )
        except TelegramError as exc:
            raise _failure(exc) from exc


def _failure(exc: TelegramError) -> DeliveryFailed:
    """Blocked bot, unknown chat, bad token: retrying cannot help.  Flood control and
    network trouble: try again later."""
    if isinstance(exc, RetryAfter):
        seconds = exc.retry_after
        wait = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        return DeliveryFailed(f"flood control: {exc}", permanent=False, retry_after=wait)
    permanent = isinstance(exc, Forbidden | BadRequest | ChatMigrated | InvalidToken)
    permanent = permanent or isinstance(exc, EndPointNotFound)
    return DeliveryFailed(f"{type(exc).__name__}: {exc}", permanent=permanent)


async def send_pending_telegram(
    engine: AsyncEngine,
    channel: TelegramChannel,
    *,
    worker: str | None = None,
    batch: int = 20,
    contact: ContactRules | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SendReport:
    """Deliver the outbox's due Telegram messages, with the e-mail sender's states
    (claimed -> sending -> sent | failed; a sender dying mid-call leaves "sending",
    which the outbox's recovery turns into "unknown" for staff).

    A message we start ourselves (a reminder, a notice) claimed in quiet hours
    waits for the next allowed moment of ``contact`` (quiet hours and Sundays
    without it), as with the e-mail sender; answers go at once.  A reminder goes
    only on the day it was written for (its text counts the days to pay from it):
    one a day late is withdrawn for the next dunning run to write again, and the
    reminder's lines are marked sent (or in error) with the message."""
    worker = worker or worker_name()
    report = SendReport()
    if not channel.started.is_set():
        return report
    while True:
        async with engine.begin() as conn:
            claimed = await dunning_repo.claim_messages(
                conn, worker=worker, now=clock(), limit=batch, channels=["telegram"]
            )
        if not claimed:
            return report
        for row in claimed:
            local = clock().astimezone(channel.timezone)
            rules = contact or ContactRules()
            async with engine.connect() as conn:
                planned = await dunning_repo.planned_day(conn, int(row.id))
            if planned is not None and planned < local.date():
                why = f"not sent on {planned.isoformat()}, the day its dates were written for"
                async with engine.begin() as conn:
                    await dunning_repo.withdraw_stale(conn, int(row.id), worker, why)
                log.warning("telegram message %s: %s; withdrawn for the next run", row.id, why)
                report.withdrawn += 1
                continue
            ours = planned is not None or row.kind == "notice"  # not an answer
            if ours and not rules.may_contact(local):
                async with engine.begin() as conn:
                    await dunning_repo.mark_message(
                        conn,
                        int(row.id),
                        "pending",
                        worker=worker,
                        error="quiet hours",
                        retry_at=rules.next_contact_time(local),
                    )
                report.waiting += 1
                continue
            await _deliver(engine, channel, row, worker, report, local.date())


async def _deliver(
    engine: AsyncEngine,
    channel: TelegramChannel,
    row: Any,
    worker: str,
    report: SendReport,
    today: date,
) -> None:
    outbox_id = int(row.id)
    async with engine.begin() as conn:
        if not await dunning_repo.begin_sending(
            conn, outbox_id, worker=worker, now=datetime.now(UTC)
        ):
            return
    try:
        payload = json.loads(bytes(row.payload).decode("utf-8"))
        choices = [Choice(b["title"], b["payload"]) for b in payload.get("buttons") or []]
        await channel.send_choices(str(payload["chat_id"]), str(payload["text"]), choices)
    except (ValueError, KeyError, TypeError) as exc:
        error: DeliveryFailed | None = DeliveryFailed(f"unreadable payload: {exc}", True)
    except DeliveryFailed as exc:
        error = exc
    else:
        error = None
    async with engine.begin() as conn:
        if error is None:
            await dunning_repo.mark_message(conn, outbox_id, "sent", worker=worker)
            await _mark_conversation_message(conn, outbox_id, "sent")
            await dunning_repo.set_line_state(
                conn, outbox_id=outbox_id, state=LineState.SENT, sent_on=today
            )
            report.sent += 1
            return
        attempts = int(row.attempts) + 1
        state = "failed" if error.permanent or attempts >= MAX_ATTEMPTS else "pending"
        await dunning_repo.mark_message(conn, outbox_id, state, worker=worker, error=str(error))
        if state == "failed":
            await _mark_conversation_message(conn, outbox_id, "failed")
            await dunning_repo.set_line_state(
                conn, outbox_id=outbox_id, state=LineState.ERROR, error=str(error)
            )
            report.failed += 1
            log.warning("telegram message %s failed: %s", outbox_id, error)
        else:
            # Not before a pause that grows with each attempt (or what flood control asked).
            wait = error.retry_after or 30 * 2 ** (attempts - 1)
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(not_before=datetime.now(UTC) + timedelta(seconds=wait))
            )
            report.retry += 1


async def _mark_conversation_message(conn: Any, outbox_id: int, status: str) -> None:
    await conn.execute(
        update(messages)
        .where(messages.c.outbox_id == outbox_id, messages.c.direction == "out")
        .values(status=status)
    )
