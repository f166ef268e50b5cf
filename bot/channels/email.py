"""Email: replies arrive in an IMAP folder; answers leave through the outbox (SMTP).

    ImapWatcher.run_forever()
      connect, LOGIN, SELECT folder            (UIDVALIDITY read from the answer)
      loop:
        UID SEARCH UID <last+1>:*               what arrived since the last UID handled
        UID FETCH n (UID BODY.PEEK[])           one message at a time
          analyse(raw)  -> InboundMessage(channel="email", sender=<from, lower-case>,
                                          external_id=<Message-ID or sha256 of the bytes>)
          Conversations.receive()              stored once, understood, answered
          attachments -> message_attachments
          mailbox_state.last_uid = n           committed: a restart starts after n
          UID STORE n +FLAGS (\\Seen)           for the people who read the folder too
        IDLE until the server pushes EXISTS (renewed every 25 minutes, under the
        29 RFC 9051 allows), or sleep and poll when the server has no IDLE

Exactly once: the UID is recorded only after the message is stored, so a crash
fetches it again; fetching it again is harmless because the message store is
unique on (channel, Message-ID).  The same mail delivered twice (two UIDs, one
Message-ID) is answered once for the same reason.

``EmailChannel`` is the email ``OutputChannel``: it queues complete RFC 5322
messages in the outbox; choices become a numbered list the debtor answers by
writing the option's words.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any

import aioimaplib
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import dunning_repo
from adapters.db.channel_schema import mailbox_state, message_attachments
from adapters.db.conversation_schema import messages
from adapters.mail.parse import InboundEmail, NotAnEmail, analyse
from bot.channels.base import Choice, InboundMessage, OutgoingMessage, choices_as_text
from bot.config import Settings
from bot.conversations import Conversations

log = logging.getLogger(__name__)

IDLE_RENEW_SECONDS = 25 * 60  # RFC 9051 6.3.13: re-issue IDLE at least every 29 minutes
FETCH_BATCH = 50  # UIDs asked for per SEARCH round; each message is fetched alone
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_FETCH_UID = re.compile(rb"UID (\d+)")


class ImapError(Exception):
    """The IMAP server refused a command we need (login, select, fetch)."""


@dataclass(frozen=True)
class ImapOptions:
    host: str
    port: int = 143
    user: str = ""
    password: str = ""
    folder: str = "INBOX"
    use_ssl: bool = False  # implicit TLS (port 993)
    idle: bool = True  # use IDLE when the server offers it
    poll_seconds: float = 60.0  # without IDLE: how often to look
    idle_renew_seconds: float = IDLE_RENEW_SECONDS
    timeout: float = 30.0

    @property
    def mailbox_key(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"[:300]


def inbound_from_email(mail: InboundEmail, raw: bytes, received_at: datetime) -> InboundMessage:
    """The conversation's view of one analysed email."""
    external_id = mail.message_id or f"sha256:{hashlib.sha256(raw).hexdigest()}"
    kind = {"reply": "message", "auto_reply": "auto_reply", "bounce": "bounce"}[mail.kind]
    meta: dict[str, Any] = {
        "message_id": mail.message_id,
        "in_reply_to": mail.in_reply_to,
        "references": list(mail.references),
        "subject": mail.subject,
        "case_hint": mail.case_hint,
        "attachments": [
            {"name": a.filename, "type": a.content_type, "size": a.size} for a in mail.attachments
        ],
    }
    if mail.out_of_office_until:
        meta["out_of_office_until"] = mail.out_of_office_until.isoformat()
    if mail.bounce is not None:
        meta["failed_recipients"] = list(mail.bounce.failed_recipients)
        meta["permanent"] = mail.bounce.permanent
    return InboundMessage(
        channel="email",
        sender=mail.from_address.strip().lower(),
        external_id=external_id[:255],
        text=mail.new_text,
        received_at=received_at,
        reference_date=mail.local_date,
        kind=kind,
        meta=meta,
    )


class EmailIntake:
    """Turns raw emails into handled conversation messages (no IMAP here)."""

    def __init__(
        self,
        engine: AsyncEngine,
        conversations: Conversations,
        timezone: tzinfo,
        own_addresses: tuple[str, ...] = (),
    ) -> None:
        self.engine = engine
        self.conversations = conversations
        self.timezone = timezone
        self.own_addresses = {a.strip().lower() for a in own_addresses if a}

    async def handle_raw(self, raw: bytes) -> list[OutgoingMessage] | None:
        """Store, answer and keep the attachments of one email; [] for our own message
        coming back; None for what cannot be read (left unread for a person)."""
        try:
            mail = analyse(raw, self.timezone)
        except NotAnEmail:
            log.warning("skipped %d bytes that are not an email", len(raw))
            return None
        except Exception:
            # A mail our parser cannot read must not stop the folder behind it; it
            # stays in the folder for a person (logged with its size, not its words).
            log.exception("could not read an email of %d bytes; left for staff", len(raw))
            return None
        if mail.from_address.strip().lower() in self.own_addresses and mail.kind != "bounce":
            log.info("skipped our own message %s", mail.message_id)
            return []
        inbound = inbound_from_email(mail, raw, datetime.now(UTC))
        replies = await self.conversations.receive(inbound)
        if mail.attachments:
            await self._keep_attachments(inbound.external_id, mail)
        return replies

    async def _keep_attachments(self, external_id: str, mail: InboundEmail) -> None:
        """Idempotent: a refetched email finds its files already there."""
        async with self.engine.begin() as conn:
            message_id = (
                await conn.execute(
                    select(messages.c.id).where(
                        messages.c.channel == "email", messages.c.external_id == external_id
                    )
                )
            ).scalar_one_or_none()
            if message_id is None:
                return
            present = set(
                (
                    await conn.execute(
                        select(message_attachments.c.position).where(
                            message_attachments.c.message_id == message_id
                        )
                    )
                ).scalars()
            )
            rows = [
                {
                    "message_id": message_id,
                    "position": position,
                    "filename": (a.filename or f"attachment-{position}")[:255],
                    "content_type": a.content_type[:127],
                    "size": a.size,
                    "data": a.data,
                    "created_at": datetime.now(UTC),
                }
                for position, a in enumerate(mail.attachments)
                if position not in present
            ]
            if rows:
                try:
                    await conn.execute(insert(message_attachments), rows)
                except IntegrityError:
                    log.info("attachments of %s stored meanwhile by another worker", external_id)


class ImapWatcher:
    """Watches one IMAP folder and hands each new email to ``EmailIntake``."""

    def __init__(self, options: ImapOptions, intake: EmailIntake) -> None:
        self.options = options
        self.intake = intake
        self.engine = intake.engine
        self.used_idle = False  # for tests and logs: did the last session idle?
        self.idle_renewals = 0

    async def run_forever(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.session()
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("IMAP %s: %s; reconnecting in %.0f s", self.options.host, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300.0)

    async def connect(self) -> aioimaplib.IMAP4:
        options = self.options
        client: aioimaplib.IMAP4
        if options.use_ssl:
            client = aioimaplib.IMAP4_SSL(
                host=options.host,
                port=options.port,
                timeout=options.timeout,
                ssl_context=ssl.create_default_context(),
            )
        else:
            client = aioimaplib.IMAP4(host=options.host, port=options.port, timeout=options.timeout)
        await client.wait_hello_from_server()
        _ok(await client.login(options.user, options.password), "LOGIN")
        return client

    async def session(self, *, once: bool = False) -> int:
        """One connection: fetch what is new, then wait for more (``once``: fetch only).
        Returns how many messages were handled."""
        client = await self.connect()
        handled = 0
        try:
            selected = _ok(await client.select(self.options.folder), "SELECT")
            uidvalidity = _uidvalidity(selected.lines)
            handled += await self.fetch_new(client, uidvalidity)
            if once:
                return handled
            idle = self.options.idle and client.has_capability("IDLE")
            self.used_idle = idle
            while True:
                if idle:
                    await self._idle(client)
                else:
                    await asyncio.sleep(self.options.poll_seconds)
                handled += await self.fetch_new(client, uidvalidity)
        finally:
            await _close(client)

    async def _idle(self, client: aioimaplib.IMAP4) -> None:
        """Wait in IDLE until the server reports new mail or it is time to renew."""
        renew = self.options.idle_renew_seconds
        idle = await client.idle_start(timeout=renew)
        while client.has_pending_idle():
            try:
                push = await client.wait_server_push(timeout=renew + 60)
            except TimeoutError:
                push = aioimaplib.STOP_WAIT_SERVER_PUSH
            renew_now = push == aioimaplib.STOP_WAIT_SERVER_PUSH
            if renew_now or any(
                isinstance(line, bytes | bytearray) and line.endswith(b"EXISTS") for line in push
            ):
                client.idle_done()
                await asyncio.wait_for(idle, self.options.timeout)
                self.idle_renewals += renew_now
                return

    async def fetch_new(self, client: aioimaplib.IMAP4, uidvalidity: int) -> int:
        handled = 0
        last = await self._last_uid(uidvalidity)
        while True:
            found = _ok(await client.uid_search(f"UID {last + 1}:*", charset=None), "UID SEARCH")
            # "n:*" always matches the highest UID, even below n: keep only newer ones.
            uids = sorted(u for u in _search_uids(found.lines) if u > last)[:FETCH_BATCH]
            if not uids:
                return handled
            for uid in uids:
                raw = await self._fetch(client, uid)
                read = raw is not None and await self.intake.handle_raw(raw) is not None
                await self._save_last_uid(uidvalidity, uid)
                last = uid
                if read:
                    handled += 1
                    await client.uid("store", str(uid), "+FLAGS.SILENT (\\Seen)")

    async def _fetch(self, client: aioimaplib.IMAP4, uid: int) -> bytes | None:
        response = _ok(await client.uid("fetch", str(uid), "(UID BODY.PEEK[])"), "UID FETCH")
        lines = response.lines
        for index, line in enumerate(lines):
            if isinstance(line, bytearray):
                header = lines[index - 1] if index else b""
                matched = _FETCH_UID.search(bytes(header))
                if matched is None or int(matched.group(1)) == uid:
                    return bytes(line)
        log.warning("IMAP UID %s vanished before it could be fetched", uid)
        return None

    async def _last_uid(self, uidvalidity: int) -> int:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(mailbox_state).where(mailbox_state.c.mailbox == self.options.mailbox_key)
                )
            ).first()
        if row is None:
            return 0
        if int(row.uidvalidity) != uidvalidity:
            log.warning(
                "IMAP folder %s was rebuilt (UIDVALIDITY %s -> %s): reading it again",
                self.options.mailbox_key,
                row.uidvalidity,
                uidvalidity,
            )
            return 0
        return int(row.last_uid)

    async def _save_last_uid(self, uidvalidity: int, uid: int) -> None:
        key = self.options.mailbox_key
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(mailbox_state)
                .where(mailbox_state.c.mailbox == key)
                .values(uidvalidity=uidvalidity, last_uid=uid, updated_at=now)
            )
            if not done.rowcount:
                await conn.execute(
                    insert(mailbox_state).values(
                        mailbox=key, uidvalidity=uidvalidity, last_uid=uid, updated_at=now
                    )
                )


async def _close(client: aioimaplib.IMAP4) -> None:
    """Leave politely (DONE, LOGOUT) but never hang a shutdown on a dead server."""
    with contextlib.suppress(Exception):
        if client.has_pending_idle():
            client.idle_done()
        await asyncio.wait_for(client.logout(), 2)
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        transport.close()


def _ok(response: Any, command: str) -> Any:
    if response.result != "OK":
        detail = b" ".join(bytes(x) for x in response.lines[-1:]).decode(errors="replace")
        raise ImapError(f"{command} refused: {response.result} {detail}")
    return response


def _uidvalidity(lines: list[Any]) -> int:
    for line in lines:
        found = _UIDVALIDITY.search(bytes(line))
        if found:
            return int(found.group(1))
    raise ImapError("SELECT gave no UIDVALIDITY")


def _search_uids(lines: list[Any]) -> list[int]:
    uids: list[int] = []
    for line in lines:
        words = bytes(line).split()
        if words and words[0].upper() == b"SEARCH":
            words = words[1:]
        if words and all(w.isdigit() for w in words):
            uids.extend(int(w) for w in words)
    return uids


class EmailChannel:
    """The email ``OutputChannel``: messages queued in the outbox for the SMTP sender."""

    def __init__(self, engine: AsyncEngine, settings: Settings, subject: str = "") -> None:
        self.engine = engine
        self.settings = settings
        self.subject = subject or settings.creditor.name

    def _message(self, recipient: str, text: str) -> EmailMessage:
        name, address = parseaddr(self.settings.mail_from)
        mail = EmailMessage()
        mail["From"] = formataddr((name, address))
        mail["To"] = recipient
        mail["Subject"] = self.subject
        mail["Message-ID"] = make_msgid(domain=address.rsplit("@", 1)[-1] or "relance.invalid")
        mail["Auto-Submitted"] = "auto-replied"
        mail.set_content(text)
        return mail

    async def _enqueue(self, recipient: str, mail: EmailMessage) -> None:
        async with self.engine.begin() as conn:
            await dunning_repo.enqueue(
                conn,
                dunning_repo.OutgoingMessage(
                    message_id=str(mail["Message-ID"]),
                    channel="email",
                    recipient=recipient,
                    subject=str(mail["Subject"]),
                    payload=mail.as_bytes(policy=SMTP),
                    not_before=datetime.now(UTC),
                    kind="reply",
                ),
            )

    async def send_text(self, recipient: str, text: str) -> None:
        await self._enqueue(recipient, self._message(recipient, text))

    async def send_choices(self, recipient: str, text: str, choices: list[Choice]) -> None:
        await self.send_text(recipient, choices_as_text(text, choices))

    async def send_document(
        self, recipient: str, filename: str, data: bytes, caption: str = ""
    ) -> None:
        mail = self._message(recipient, caption or filename)
        maintype, _, subtype = _content_type(filename).partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        await self._enqueue(recipient, mail)


def _content_type(filename: str) -> str:
    import mimetypes

    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
