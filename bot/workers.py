"""The background work of ``relance serve``: channels in, outbox out, all on one loop.

Started and stopped by the aiohttp application's lifecycle (``cleanup_ctx``), after
the database and the conversation service, and stopped before them:

    SMTP_HOST set        outbox sender: due e-mails (dunning and replies) every few s
    TELEGRAM_TOKEN set   Telegram: setWebhook (TELEGRAM_MODE=webhook, answered at
                         POST /webhooks/telegram) or getUpdates long polling; and the
                         outbox sender for Telegram replies
    IMAP_HOST set        IMAP watcher (IDLE, or polling when the server has no IDLE)
    always               recovery: a message stored but not handled for a while (the
                         handler failed, or another process died) is handled again

Extra settings read here, once, at start (the rest come from ``bot.config``):

    TELEGRAM_MODE            polling (default) | webhook
    TELEGRAM_WEBHOOK_URL     default RELANCE_PUBLIC_URL + /webhooks/telegram
    TELEGRAM_WEBHOOK_SECRET  default derived from RELANCE_SECRET_KEY (HMAC), else random
    IMAP_FOLDER (INBOX), IMAP_SSL (0/1), IMAP_IDLE (1), IMAP_POLL_SECONDS (60)
    OUTBOX_INTERVAL_SECONDS (2)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.conversation_schema import messages
from adapters.db.dunning_schema import outbox
from bot.config import Settings, env_flag
from bot.errors import UserError
from bot.web.keys import ENGINE, SETTINGS

log = logging.getLogger(__name__)

GRACE_SECONDS = 30.0  # at shutdown, how long senders may take to finish


@dataclass(frozen=True)
class ChannelOptions:
    telegram_mode: str = "polling"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    imap_folder: str = "INBOX"
    imap_ssl: bool = False
    imap_idle: bool = True
    imap_poll_seconds: float = 60.0
    imap_idle_renew_seconds: float = 25 * 60
    outbox_interval_seconds: float = 2.0
    recover_after_seconds: float = 120.0
    recover_interval_seconds: float = 60.0


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise UserError(f"{name} must be more than 0, not {raw!r}")
    return value


def load_channel_options(env: Mapping[str, str] | None = None) -> ChannelOptions:
    env = os.environ if env is None else env
    mode = env.get("TELEGRAM_MODE", "polling").strip().lower() or "polling"
    if mode not in ("polling", "webhook"):
        raise UserError(f"TELEGRAM_MODE must be polling or webhook, not {mode!r}")
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
    if secret and (
        len(secret) > 256 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret)
    ):
        raise UserError("TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z a-z 0-9 _ -")
    return ChannelOptions(
        telegram_mode=mode,
        telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL", ""),
        telegram_webhook_secret=secret,
        imap_folder=env.get("IMAP_FOLDER", "INBOX") or "INBOX",
        imap_ssl=env_flag(env, "IMAP_SSL", False),
        imap_idle=env_flag(env, "IMAP_IDLE", True),
        imap_poll_seconds=_number(env, "IMAP_POLL_SECONDS", 60.0),
        outbox_interval_seconds=_number(env, "OUTBOX_INTERVAL_SECONDS", 2.0),
    )


CHANNEL_OPTIONS = web.AppKey("channel_options", ChannelOptions)


def setup(app: web.Application) -> None:
    # The route exists in every configuration (routes cannot be added once the app
    # runs); it answers 404 unless Telegram runs in webhook mode.
    app.router.add_post("/webhooks/telegram", telegram_webhook)
    app.cleanup_ctx.append(_workers)


async def telegram_webhook(request: web.Request) -> web.Response:
    from bot.channels.telegram import TelegramChannel

    channel = request.app.get(TELEGRAM)
    if not isinstance(channel, TelegramChannel) or channel.options.mode != "webhook":
        raise web.HTTPNotFound(text="Telegram webhook not enabled")
    return await channel.handle_webhook(request)


# Set while they run (typed loosely: their modules are imported lazily).
TELEGRAM: web.AppKey[object] = web.AppKey("telegram", object)
IMAP_WATCHER: web.AppKey[object] = web.AppKey("imap_watcher", object)


def webhook_secret(settings: Settings, options: ChannelOptions) -> str:
    """The secret Telegram must send back: configured, or derived from the app's
    secret key (stable across restarts and processes), or random for this run."""
    if options.telegram_webhook_secret:
        return options.telegram_webhook_secret
    key = settings.secret_key.get()
    if key:
        return hmac.new(key.encode(), b"telegram-webhook", hashlib.sha256).hexdigest()
    return secrets.token_urlsafe(32)


async def _workers(app: web.Application) -> AsyncIterator[None]:
    from bot.web.webchat import CONVERSATIONS

    settings = app[SETTINGS]
    engine = app[ENGINE]
    conversations = app[CONVERSATIONS]
    options = app.get(CHANNEL_OPTIONS) or load_channel_options()
    tasks: list[asyncio.Task[None]] = []  # cancelled at shutdown
    graceful: list[asyncio.Task[None]] = []  # asked to stop, then waited for
    stop = asyncio.Event()
    telegram = None

    def spawn(name: str, job: Callable[[], Awaitable[None]], *, cancel: bool = True) -> None:
        task = asyncio.create_task(job(), name=f"relance:{name}")  # type: ignore[arg-type]
        (tasks if cancel else graceful).append(task)

    try:
        if settings.nlu_backend == "embedded":
            # Load the model now, off the event loop, rather than inside the first
            # debtor's message (it would block every request for seconds).
            await asyncio.to_thread(_warm_up_nlu, datetime.now(settings.timezone).date())
        if settings.smtp_host:
            spawn(
                "outbox-email",
                lambda: _email_outbox_loop(engine, settings, options, stop),
                cancel=False,
            )
        if settings.telegram_token:
            from bot.channels.telegram import TelegramChannel, TelegramOptions

            telegram = TelegramChannel(
                TelegramOptions(
                    token=settings.telegram_token.get(),
                    base_url=settings.telegram_base_url,
                    mode=options.telegram_mode,
                    webhook_url=options.telegram_webhook_url
                    or f"{settings.public_url}/webhooks/telegram",
                    secret_token=webhook_secret(settings, options),
                ),
                conversations,
                settings.timezone,
            )
            app[TELEGRAM] = telegram
            spawn("telegram", telegram.run_forever)
            spawn(
                "outbox-telegram",
                lambda: _telegram_outbox_loop(engine, settings, telegram, options, stop),
                cancel=False,
            )
        if settings.imap_host:
            from bot.channels.email import EmailIntake, ImapOptions, ImapWatcher

            watcher = ImapWatcher(
                ImapOptions(
                    host=settings.imap_host,
                    port=settings.imap_port,
                    user=settings.imap_user,
                    password=settings.imap_password.get(),
                    folder=options.imap_folder,
                    use_ssl=options.imap_ssl,
                    idle=options.imap_idle,
                    poll_seconds=options.imap_poll_seconds,
                    idle_renew_seconds=options.imap_idle_renew_seconds,
                ),
                EmailIntake(
                    engine,
                    conversations,
                    settings.timezone,
                    own_addresses=(parseaddr(settings.mail_from)[1],),
                ),
            )
            app[IMAP_WATCHER] = watcher
            spawn("imap", watcher.run_forever)
        spawn("recover", lambda: _recover_loop(app, options, stop), cancel=False)
        yield
    finally:
        # Stop the loops first (they use the bot and the database), then the bot.
        # Intake stops at once: what it stored but did not handle is recovered at
        # the next start.  Senders finish the message in hand.
        for task in tasks:
            task.cancel()
        stop.set()
        if graceful:
            await asyncio.wait(graceful, timeout=GRACE_SECONDS)
        for task in graceful:
            task.cancel()
        await asyncio.gather(*tasks, *graceful, return_exceptions=True)
        if telegram is not None:
            await telegram.stop()


def _warm_up_nlu(today: date) -> None:
    from nlu.api import parse

    parse("bonjour", today)


async def _every(
    seconds: float, name: str, job: Callable[[], Awaitable[object]], stop: asyncio.Event
) -> None:
    """Run ``job`` every ``seconds`` until ``stop`` is set; a job under way finishes
    first (an outbox message half-sent at shutdown would be left "unknown")."""
    while not stop.is_set():
        try:
            await job()
        except Exception:
            log.exception("%s failed; trying again in %.0f s", name, seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def _email_outbox_loop(
    engine: AsyncEngine, settings: Settings, options: ChannelOptions, stop: asyncio.Event
) -> None:
    from adapters.mail.smtp import SmtpMailer
    from bot.outbox import send_pending

    mailer = SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        username=settings.smtp_user,
        password=settings.smtp_password.get(),
    )
    envelope_from = parseaddr(settings.mail_from)[1]

    async def once() -> None:
        from bot.dunning import DunningSetup

        today = datetime.now(settings.timezone).date()
        report = await send_pending(
            engine,
            mailer,
            envelope_from=envelope_from,
            timezone=settings.timezone,
            contact=DunningSetup.from_settings(settings, today).contact,
        )
        if report.sent or report.failed:
            await sync_outbound_status(engine)

    await _every(options.outbox_interval_seconds, "email outbox", once, stop)


async def _telegram_outbox_loop(
    engine: AsyncEngine,
    settings: Settings,
    telegram: object,
    options: ChannelOptions,
    stop: asyncio.Event,
) -> None:
    from bot.channels.telegram import TelegramChannel, send_pending_telegram
    from bot.dunning import DunningSetup

    assert isinstance(telegram, TelegramChannel)

    async def once() -> None:
        today = datetime.now(settings.timezone).date()
        contact = DunningSetup.from_settings(settings, today).contact
        await send_pending_telegram(engine, telegram, contact=contact)

    await _every(options.outbox_interval_seconds, "telegram outbox", once, stop)


async def sync_outbound_status(engine: AsyncEngine) -> int:
    """Copy the outbox's outcome onto the conversation's outgoing messages (queued ->
    sent | failed), so the conversation shows what the debtor really received."""
    changed = 0
    async with engine.begin() as conn:
        for state in ("sent", "failed"):
            done = await conn.execute(
                update(messages)
                .where(
                    messages.c.direction == "out",
                    messages.c.status == "queued",
                    messages.c.outbox_id.in_(select(outbox.c.id).where(outbox.c.state == state)),
                )
                .values(status=state)
            )
            changed += int(done.rowcount or 0)
    return changed


async def stale_message_ids(engine: AsyncEngine, older_than: datetime) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(messages.c.id)
            .where(
                messages.c.direction == "in",
                messages.c.status == "received",
                messages.c.created_at < older_than,
            )
            .order_by(messages.c.id)
            .limit(100)
        )
        return [int(r[0]) for r in rows]


async def _recover_loop(app: web.Application, options: ChannelOptions, stop: asyncio.Event) -> None:
    """Messages left "received" (a handler raised, a process died) are handled again.

    Only messages older than ``recover_after_seconds``: a younger one may still be in
    the hands of the request that stored it."""
    from bot.web.webchat import CONVERSATIONS

    engine = app[ENGINE]
    conversations = app[CONVERSATIONS]

    async def once() -> None:
        cutoff = datetime.now(UTC) - timedelta(seconds=options.recover_after_seconds)
        for message_id in await stale_message_ids(engine, cutoff):
            try:
                await conversations.process(message_id)
            except Exception:
                log.exception("message %s still cannot be handled", message_id)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), options.recover_interval_seconds)
    await _every(options.recover_interval_seconds, "recovery", once, stop)
