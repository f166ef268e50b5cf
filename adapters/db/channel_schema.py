"""What the debtor channels remember between restarts.

mailbox_state        per watched IMAP folder: its UIDVALIDITY and the highest UID
                     already handed to the conversations, so a restart fetches only
                     what is new (a changed UIDVALIDITY means the folder was rebuilt:
                     start again from the beginning; the message store's uniqueness
                     on Message-ID keeps that harmless)
message_attachments  the files a debtor sent with an email (proofs of payment,
                     disputed delivery notes), kept with the message they came with
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from adapters.db.schema import metadata

mailbox_state = Table(
    "mailbox_state",
    metadata,
    Column("mailbox", String(300), primary_key=True),  # user@host:port/folder
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

message_attachments = Table(
    "message_attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "message_id",
        ForeignKey("messages.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("position", Integer, nullable=False),  # order within the email
    Column("filename", String(255), nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("message_id", "position", name="uq_message_attachments_message_position"),
)
