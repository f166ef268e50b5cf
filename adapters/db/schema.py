"""The ledger's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Money columns are integer cents (``Cents``): SQLite has no exact decimal type
(SQLAlchemy's Numeric goes through float there), and integers compare and sum
exactly on both databases.  Python code only ever sees ``Decimal``.

Other parts of the system declare their tables on the same ``metadata`` in their
own modules; ``adapters.db.tables`` imports them all for Alembic.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class Cents(TypeDecorator[Decimal]):
    """A Decimal amount with two decimals, stored as a whole number of cents."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            if isinstance(value, float):
                raise TypeError("amounts are Decimal, never float")
            value = Decimal(value)
        cents = value * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"amount has more than two decimals: {value}")
        return int(cents)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2)


def _timestamps() -> list[Column[Any]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    ]


debtors = Table(
    "debtors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("language", String(2), nullable=False),
    Column("enterprise_number", String(10)),
    Column("phone", String(40)),
    Column("street", String(200), nullable=False, server_default=""),
    Column("postcode", String(20), nullable=False, server_default=""),
    Column("city", String(100), nullable=False, server_default=""),
    Column("country", String(2), nullable=False, server_default="BE"),
    Column("content_hash", String(32), nullable=False),
    Column("import_token", String(32)),
    Column("source_line", String(300)),
    *_timestamps(),
)

debtor_emails = Table(
    "debtor_emails",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("debtor_id", ForeignKey("debtors.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("failing", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("debtor_id", "email", name="uq_debtor_emails_debtor_email"),
    Index("ix_debtor_emails_email", "email"),
)

debtor_ibans = Table(
    "debtor_ibans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("debtor_id", ForeignKey("debtors.id", ondelete="CASCADE"), nullable=False),
    Column("iban", String(34), nullable=False),
    UniqueConstraint("debtor_id", "iban", name="uq_debtor_ibans_debtor_iban"),
    Index("ix_debtor_ibans_iban", "iban"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(64), nullable=False, unique=True),
    Column("debtor_id", ForeignKey("debtors.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", Cents, nullable=False),
    Column("open_amount", Cents, nullable=False),
    Column("status", String(16), nullable=False),
    Column("structured_reference", String(25), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("credited_invoice", String(64)),
    Column("disputed", Boolean, nullable=False, server_default="0"),
    Column("written_off", Boolean, nullable=False, server_default="0"),
    Column("content_hash", String(32), nullable=False),
    Column("import_token", String(32)),
    Column("source_line", String(300)),
    *_timestamps(),
    Index("ix_invoices_structured_reference", "structured_reference"),
    Index("ix_invoices_status_due", "status", "due_date"),
)

invoice_history = Table(
    "invoice_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("source", String(300), nullable=False),
    Column("changes", Text, nullable=False),  # JSON: {"field": [old, new], ...}
)

# What lowers an invoice's open amount: a payment, a credit note or a write-off.
# ``source_kind`` + ``source_id`` name it; the unique constraint makes applying the
# same source to the same invoice twice impossible.
allocations = Table(
    "allocations",
    metadata,
    Column("id", Integer, primary_key=True),
    # No index of its own: uq_allocations_source leads with it (migration 0009).
    Column("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False),
    Column("source_kind", String(16), nullable=False),
    Column("source_id", String(64), nullable=False),
    Column("amount", Cents, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("invoice_id", "source_kind", "source_id", name="uq_allocations_source"),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
