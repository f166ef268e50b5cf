"""Conversations with debtors, on every channel, and what staff did about them.

conversations   one per debtor identity on a channel: an email address, a Telegram
                chat, a web-chat session; ``handler`` says who answers (bot or staff)
messages        every message in and out; an inbound message is stored once
                (unique channel + external id: Message-ID, Telegram update id,
                web-chat message id) *before* anything acts on it, and marked
                handled in the transaction that writes its effects and replies
escalations     what the bot hands to staff, with reason and priority
link_tokens     single-use, expiring tokens that tie a Telegram chat or a web-chat
                session to a debtor (sent in the debtor's own reminder)
audit_log       who did what and when: bot and staff actions alike
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from adapters.db.schema import metadata

conversations = Table(
    "conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),  # email, telegram, webchat
    Column("channel_key", String(254), nullable=False),  # address, chat id, session id
    Column("debtor_id", ForeignKey("debtors.id", ondelete="SET NULL"), index=True),
    Column("language", String(2)),
    Column("handler", String(16), nullable=False, server_default="bot"),  # bot | staff
    Column("assigned_to", String(100)),
    Column("state", Text, nullable=False, server_default="{}"),  # JSON: the dialogue's memory
    Column("last_message_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("channel", "channel_key", name="uq_conversations_channel_key"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "conversation_id",
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("direction", String(3), nullable=False),  # in | out
    Column("channel", String(16), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("author", String(100), nullable=False),  # debtor | bot | staff:<login>
    Column("text", Text, nullable=False),
    Column("kind", String(16), nullable=False, server_default="message"),  # auto_reply, bounce
    Column("intent", String(40)),
    Column("confidence", Float),
    Column("entities", Text),  # JSON list in the NLU contract's shape
    Column("meta", Text, nullable=False, server_default="{}"),  # JSON: subject, threading, files
    # in: received -> handled | ignored ; out: queued -> sent
    Column("status", String(16), nullable=False),
    Column("outbox_id", ForeignKey("outbox.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("handled_at", DateTime(timezone=True)),
    UniqueConstraint("channel", "external_id", name="uq_messages_channel_external_id"),
    Index("ix_messages_status_direction", "status", "direction"),
)

escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "conversation_id",
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("debtor_id", ForeignKey("debtors.id", ondelete="SET NULL"), index=True),
    Column("message_id", ForeignKey("messages.id", ondelete="SET NULL")),
    # dispute, insolvency, human_asked, low_confidence, wrong_recipient, angry,
    # plan_outside_policy, bounce, unknown_sender, stop_contact
    Column("reason", String(32), nullable=False),
    Column("priority", Integer, nullable=False),  # 1 = most urgent
    Column("status", String(16), nullable=False),  # open, taken, resolved
    Column("note", Text, nullable=False, server_default=""),
    Column("taken_by", String(100)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Index("ix_escalations_status_priority", "status", "priority"),
)

link_tokens = Table(
    "link_tokens",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("debtor_id", ForeignKey("debtors.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("purpose", String(16), nullable=False),  # telegram, portal
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("used_by", String(254)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(100), nullable=False),  # bot | staff:<login> | system
    Column("action", String(64), nullable=False),
    Column("debtor_id", ForeignKey("debtors.id", ondelete="SET NULL"), index=True),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="SET NULL")),
    Column("invoice_id", ForeignKey("invoices.id", ondelete="SET NULL")),
    Column("details", Text, nullable=False, server_default="{}"),  # JSON
)
