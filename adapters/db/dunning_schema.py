"""Dunning tables: runs and their lines, holds, promises to pay, and the outbox.

dunning_runs      one row per ``relance dunning run``
dunning_lines     one row per invoice and level: a level is sent at most once
                  (unique invoice_id + level), state draft/queued/sent/ignored/error
dunning_holds     pause/stop per invoice or per debtor, with reason and until-date
payment_promises  + promise_invoices: "I will pay 250.00 on 15 March" for invoices
outbox            every outgoing message, written in the same transaction as the
                  lines that caused it; a sender delivers it (``bot.outbox``)
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from adapters.db.schema import Cents, metadata

dunning_runs = Table(
    "dunning_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_date", Date, nullable=False, index=True),
    Column("policy", String(64), nullable=False),
    Column("lines", Integer, nullable=False, server_default="0"),
    Column("messages", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    # The Message-ID header (email) or our own stable key (other channels): a
    # message can never be queued twice.
    Column("message_id", String(255), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),  # "dunning", later "reply", ...
    Column("channel", String(16), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(300), nullable=False, server_default=""),
    Column("payload", LargeBinary, nullable=False),  # the whole RFC 5322 message, or text
    # pending -> sending -> sent | failed (permanent) | unknown (crash while sending)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("not_before", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(100)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_outbox_state_not_before", "state", "not_before"),
)

dunning_lines = Table(
    "dunning_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("dunning_runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False),
    Column("debtor_id", ForeignKey("debtors.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("level", Integer, nullable=False),
    Column("level_name", String(100), nullable=False),
    Column("tone", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("language", String(2), nullable=False),
    Column("state", String(16), nullable=False),
    Column("send_on", Date, nullable=False),
    Column("sent_on", Date),
    Column("principal", Cents, nullable=False),
    Column("fees", Cents, nullable=False),
    Column("interest", Cents, nullable=False),
    Column("total", Cents, nullable=False),
    Column("breakdown", Text, nullable=False, server_default=""),  # JSON
    Column("outbox_id", ForeignKey("outbox.id", ondelete="SET NULL"), index=True),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("invoice_id", "level", name="uq_dunning_lines_invoice_level"),
)

dunning_holds = Table(
    "dunning_holds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("debtor_id", ForeignKey("debtors.id", ondelete="CASCADE"), index=True),
    Column("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), index=True),
    Column("reason", String(16), nullable=False),
    Column("until", Date),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True)),
    Column("released_by", String(100)),
)

payment_promises = Table(
    "payment_promises",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("debtor_id", ForeignKey("debtors.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("amount", Cents, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("promised_date", Date, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # open, kept, broken, cancelled
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
)

promise_invoices = Table(
    "promise_invoices",
    metadata,
    Column(
        "promise_id",
        ForeignKey("payment_promises.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_promise_invoices_invoice_id", "invoice_id"),
)
