"""Storing conversations: inbound messages exactly once, replies, escalations, audit.

The order that makes "exactly once" hold:

    store_inbound()        own transaction: the message exists, status "received"
    ...crash here: the message waits, nothing was done...
    claim + effects + replies + mark "handled"   one transaction (bot.conversations)

A redelivered message (same channel and external id) is refused by the unique
constraint and reported as a duplicate; a crash before "handled" leaves the
message "received", and the next start handles it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.db.conversation_schema import (
    audit_log,
    conversations,
    escalations,
    link_tokens,
    messages,
)
from adapters.db.schema import debtor_emails
from adapters.db.sqlite_driver import begin_writing

PRIORITY = {
    "insolvency": 1,
    "dispute": 2,
    "angry": 2,
    "human_asked": 2,
    "plan_outside_policy": 3,
    "hardship": 3,
    "wrong_recipient": 3,
    "unknown_sender": 3,
    "bounce": 3,
    "stop_contact": 3,
    "low_confidence": 4,
}


def _now() -> datetime:
    return datetime.now(UTC)


# The statements of a conversation turn, built once: a statement object that is
# executed again keeps its compiled form and cache key, where one built per call
# costs more Python than SQLite takes to run it.  The columns an INSERT or UPDATE
# sets are the keys of the parameters it is executed with.
_CONVERSATION_OF = select(conversations.c.id).where(
    conversations.c.channel == bindparam("channel"),
    conversations.c.channel_key == bindparam("channel_key"),
)
_NEW_CONVERSATION = insert(conversations).returning(conversations.c.id)
_NEW_MESSAGE = insert(messages).returning(messages.c.id)
_UPDATE_MESSAGE = update(messages).where(messages.c.id == bindparam("where_id"))
_UPDATE_CONVERSATION = update(conversations).where(conversations.c.id == bindparam("where_id"))
_TOUCH_CONVERSATION = _UPDATE_CONVERSATION.returning(*conversations.c)
_CONVERSATION = select(conversations).where(conversations.c.id == bindparam("where_id"))
# The message and its conversation in one statement (the conversation's columns
# prefixed ``c_``); PostgreSQL locks only the message row.
_RECEIVED = (
    select(messages, *(c.label(f"c_{c.name}") for c in conversations.c))
    .join(conversations, conversations.c.id == messages.c.conversation_id)
    .where(messages.c.id == bindparam("where_id"), messages.c.status == "received")
)
_RECEIVED_LOCKED = _RECEIVED.with_for_update(of=messages, skip_locked=True)
_AUDIT = insert(audit_log)


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    duplicate: bool


async def conversation_for(
    conn: AsyncConnection, channel: str, channel_key: str, language: str | None = None
) -> int:
    """The conversation of this identity on this channel, created on first contact."""
    found = (
        await conn.execute(_CONVERSATION_OF, {"channel": channel, "channel_key": channel_key})
    ).scalar_one_or_none()
    if found is not None:
        return int(found)
    now = _now()
    result = await conn.execute(
        _NEW_CONVERSATION,
        {
            "channel": channel,
            "channel_key": channel_key,
            "language": language,
            "handler": "bot",
            "state": "{}",
            "created_at": now,
            "updated_at": now,
        },
    )
    return int(result.scalar_one())


async def store_inbound(
    engine: AsyncEngine,
    *,
    channel: str,
    channel_key: str,
    external_id: str,
    text: str,
    kind: str = "message",
    meta: dict[str, Any] | None = None,
    received_at: datetime | None = None,
    known: dict[tuple[str, str], int] | None = None,
) -> StoredMessage:
    """Store an inbound message in its own committed transaction.

    Returns ``duplicate=True`` (and the earlier message's id) when the same
    channel + external id was stored before: a redelivery, to be ignored.  The
    unique constraint decides (no look-up first: redeliveries are rare, and one
    transaction per message is what keeps intake fast); a conflict on a
    conversation created at the same moment by another process is retried.

    ``known`` is the caller's memory of conversation ids by (channel, channel
    key), read and filled here: a conversation is never re-keyed or deleted, so
    a long-running service looks each one up once.
    """
    key = (channel, channel_key)
    for attempt in range(3):
        try:
            async with engine.begin() as conn:
                await begin_writing(conn)
                conversation_id = known.get(key) if known is not None else None
                if conversation_id is None:
                    conversation_id = await conversation_for(conn, channel, channel_key)
                message_id, _conversation = await add_inbound(
                    conn,
                    conversation_id=conversation_id,
                    channel=channel,
                    external_id=external_id,
                    text=text,
                    kind=kind,
                    meta=meta,
                    received_at=received_at,
                )
            if known is not None:
                if len(known) >= 100_000:
                    known.clear()
                known[key] = conversation_id
            return StoredMessage(message_id, conversation_id, False)
        except IntegrityError:
            if known is not None:
                known.pop(key, None)
            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(messages.c.id, messages.c.conversation_id).where(
                            messages.c.channel == channel, messages.c.external_id == external_id
                        )
                    )
                ).first()
            if row is not None:
                return StoredMessage(row.id, row.conversation_id, True)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def add_inbound(
    conn: AsyncConnection,
    *,
    conversation_id: int,
    channel: str,
    external_id: str,
    text: str,
    kind: str = "message",
    meta: dict[str, Any] | None = None,
    received_at: datetime | None = None,
) -> tuple[int, Any]:
    """An inbound message, "received", inside the caller's transaction: its id and
    its conversation as it is now (read in the same statement that notes the new
    message on it).  A repeat of the same channel + external id raises
    IntegrityError."""
    now = _now()
    result = await conn.execute(
        _NEW_MESSAGE,
        {
            "conversation_id": conversation_id,
            "direction": "in",
            "channel": channel,
            "external_id": external_id,
            "author": "debtor",
            "text": text,
            "kind": kind,
            "meta": json.dumps(meta or {}, default=str),
            "status": "received",
            "created_at": received_at or now,
        },
    )
    message_id = int(result.scalar_one())
    conversation = (
        await conn.execute(
            _TOUCH_CONVERSATION,
            {"where_id": conversation_id, "last_message_at": now, "updated_at": now},
        )
    ).one()
    return message_id, conversation


async def claim_received(conn: AsyncConnection, message_id: int) -> tuple[Any, Any] | None:
    """Lock an inbound message that still waits to be handled, and read its
    conversation: ``(message, conversation)``, or None if it does not wait."""
    query = _RECEIVED_LOCKED if conn.dialect.name == "postgresql" else _RECEIVED
    row = (await conn.execute(query, {"where_id": message_id})).first()
    if row is None:
        return None
    fields = row._mapping
    message = SimpleNamespace(**{c.name: fields[c.name] for c in messages.c})
    conversation = SimpleNamespace(**{c.name: fields[f"c_{c.name}"] for c in conversations.c})
    return message, conversation


async def pending_message_ids(engine: AsyncEngine, limit: int = 1000) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(messages.c.id)
            .where(messages.c.status == "received", messages.c.direction == "in")
            .order_by(messages.c.id)
            .limit(limit)
        )
        return [int(r[0]) for r in rows]


async def mark_handled(
    conn: AsyncConnection,
    message_id: int,
    *,
    status: str = "handled",
    intent: str | None = None,
    confidence: float | None = None,
    entities: Sequence[dict[str, Any]] | None = None,
) -> None:
    await conn.execute(
        _UPDATE_MESSAGE,
        {
            "where_id": message_id,
            "status": status,
            "intent": intent,
            "confidence": confidence,
            "entities": json.dumps(list(entities or []), ensure_ascii=False),
            "handled_at": _now(),
        },
    )


_WEBCHAT_QUEUE = (
    select(messages.c.id, messages.c.text, messages.c.meta)
    .join(conversations, conversations.c.id == messages.c.conversation_id)
    .where(
        conversations.c.channel == "webchat",
        conversations.c.channel_key == bindparam("session"),
        messages.c.direction == "out",
        messages.c.status == "queued",
    )
    .order_by(messages.c.id)
)


async def take_webchat_queue(engine: AsyncEngine, session: str) -> list[Any]:
    """The web-chat session's messages waiting for its page (a staff reply, a plan
    decision), oldest first, now marked sent: the page shows them once.

    Looked up on every web-chat message and poll, so first a read alone (no write
    lock); only when something waits, a write that takes exactly those still
    queued (two pages of one session cannot both show a message)."""
    async with engine.connect() as conn:
        waiting = (await conn.execute(_WEBCHAT_QUEUE, {"session": session})).all()
    if not waiting:
        return []
    async with engine.begin() as conn:
        taken = (
            (
                await conn.execute(
                    update(messages)
                    .where(
                        messages.c.id.in_([row.id for row in waiting]),
                        messages.c.status == "queued",
                    )
                    .values(status="sent", handled_at=_now())
                    .returning(messages.c.id)
                )
            )
            .scalars()
            .all()
        )
    return [row for row in waiting if row.id in set(taken)]


async def webchat_history(engine: AsyncEngine, session: str, limit: int = 40) -> list[Any]:
    """The web-chat session's last ``limit`` messages, oldest first (direction, text):
    what the debtor's page shows again after a reload.  The link command is left
    out, and replies still queued (``take_webchat_queue`` delivers those)."""
    query = (
        select(messages.c.direction, messages.c.text)
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(
            conversations.c.channel == "webchat",
            conversations.c.channel_key == session,
            messages.c.status != "queued",
            ~messages.c.text.startswith("/start "),
        )
        .order_by(messages.c.id.desc())
        .limit(limit)
    )
    async with engine.connect() as conn:
        return list(reversed((await conn.execute(query)).all()))


async def add_outbound_many(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Several replies of one turn in one statement: ``add_outbound``'s keyword
    arguments per row (their ids are not returned)."""
    if not rows:
        return
    now = _now()
    await conn.execute(
        insert(messages),
        [
            {
                "conversation_id": row["conversation_id"],
                "direction": "out",
                "channel": row["channel"],
                "external_id": f"out:{secrets.token_hex(12)}",
                "author": row["author"],
                "text": row["text"],
                "kind": "message",
                "meta": json.dumps(row.get("meta") or {}, default=str, ensure_ascii=False),
                "status": row["status"],
                "outbox_id": row.get("outbox_id"),
                "created_at": now,
                "handled_at": now,
            }
            for row in rows
        ],
    )


async def add_outbound(
    conn: AsyncConnection,
    *,
    conversation_id: int,
    channel: str,
    text: str,
    author: str,
    status: str,
    outbox_id: int | None = None,
    meta: dict[str, Any] | None = None,
) -> int:
    now = _now()
    result = await conn.execute(
        _NEW_MESSAGE,
        {
            "conversation_id": conversation_id,
            "direction": "out",
            "channel": channel,
            "external_id": f"out:{secrets.token_hex(12)}",
            "author": author,
            "text": text,
            "kind": "message",
            "meta": json.dumps(meta or {}, default=str, ensure_ascii=False),
            "status": status,
            "outbox_id": outbox_id,
            "created_at": now,
            "handled_at": now,
        },
    )
    return int(result.scalar_one())


async def load_conversation(conn: AsyncConnection, conversation_id: int) -> Any:
    return (await conn.execute(_CONVERSATION, {"where_id": conversation_id})).one()


async def save_conversation(
    conn: AsyncConnection,
    conversation_id: int,
    *,
    state: dict[str, Any] | None = None,
    debtor_id: int | None = None,
    language: str | None = None,
    handler: str | None = None,
    assigned_to: str | None = None,
) -> None:
    values: dict[str, Any] = {"where_id": conversation_id, "updated_at": _now()}
    if state is not None:
        values["state"] = json.dumps(state, default=str, ensure_ascii=False)
    if debtor_id is not None:
        values["debtor_id"] = debtor_id
    if language is not None:
        values["language"] = language
    if handler is not None:
        values["handler"] = handler
        values["assigned_to"] = assigned_to
    await conn.execute(_UPDATE_CONVERSATION, values)


async def debtors_by_email(conn: AsyncConnection, address: str) -> list[int]:
    rows = await conn.execute(
        select(debtor_emails.c.debtor_id).where(
            func.lower(debtor_emails.c.email) == address.strip().lower()
        )
    )
    return sorted({int(r[0]) for r in rows})


async def escalate(
    conn: AsyncConnection,
    *,
    conversation_id: int,
    debtor_id: int | None,
    reason: str,
    message_id: int | None = None,
    note: str = "",
) -> int:
    """Open an escalation, or return the open one of the same reason on that conversation."""
    existing = (
        await conn.execute(
            select(escalations.c.id).where(
                escalations.c.conversation_id == conversation_id,
                escalations.c.reason == reason,
                escalations.c.status != "resolved",
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return int(existing)
    result = await conn.execute(
        insert(escalations)
        .values(
            conversation_id=conversation_id,
            debtor_id=debtor_id,
            message_id=message_id,
            reason=reason,
            priority=PRIORITY.get(reason, 4),
            status="open",
            note=note,
            created_at=_now(),
        )
        .returning(escalations.c.id)
    )
    return int(result.scalar_one())


async def audit(
    conn: AsyncConnection,
    actor: str,
    action: str,
    *,
    debtor_id: int | None = None,
    conversation_id: int | None = None,
    invoice_id: int | None = None,
    **details: Any,
) -> None:
    await conn.execute(
        _AUDIT,
        {
            "at": _now(),
            "actor": actor,
            "action": action,
            "debtor_id": debtor_id,
            "conversation_id": conversation_id,
            "invoice_id": invoice_id,
            "details": json.dumps(details, default=str, ensure_ascii=False),
        },
    )


async def create_link_token(
    conn: AsyncConnection, debtor_id: int, purpose: str, valid_for: timedelta = timedelta(days=60)
) -> str:
    """A single-use, unguessable token (32 url-safe characters, within Telegram's 64)."""
    token = secrets.token_urlsafe(24)
    now = _now()
    await conn.execute(
        insert(link_tokens).values(
            token=token,
            debtor_id=debtor_id,
            purpose=purpose,
            expires_at=now + valid_for,
            created_at=now,
        )
    )
    return token


async def use_link_token(
    conn: AsyncConnection, token: str, purpose: str, used_by: str
) -> int | None:
    """The debtor a valid token links to, consuming it; None if unknown, used or expired.

    The same identity presenting its own token again (a second /start) is accepted.
    """
    now = _now()
    row = (
        await conn.execute(
            select(link_tokens).where(
                link_tokens.c.token == token,
                link_tokens.c.purpose == purpose,
                link_tokens.c.expires_at > now,
                or_(
                    link_tokens.c.used_at.is_(None),
                    and_(link_tokens.c.used_by == used_by),
                ),
            )
        )
    ).first()
    if row is None:
        return None
    if row.used_at is None:
        await conn.execute(
            update(link_tokens)
            .where(link_tokens.c.token == token, link_tokens.c.used_at.is_(None))
            .values(used_at=now, used_by=used_by)
        )
    return int(row.debtor_id)
