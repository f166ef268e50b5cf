"""Bank tables: statements, their transactions, match candidates and debtor credits.

bank_statements        one row per statement file (or zip member) imported
bank_transactions      one row per booked movement; ``identity`` (unique) is the
                       line's stable key, so the same movement is never stored
                       twice; status, method, confidence and reason say what
                       reconciliation decided
bank_match_candidates  the ranked candidates of a line waiting for staff
debtor_credits         overpayments: money of a debtor we hold, to refund (pain.001)
                       or set against a later invoice
bank_invoice_keys      invoice numbers in the loose forms payers type them
                       ("INV|2026|42", "2026|42", "20260042"), kept in step with
                       ``invoices.number`` by the reconciliation, looked up in batches
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from adapters.db.schema import Cents, allocations, invoices, metadata
from domain.reconciliation import Outcome

bank_statements = Table(
    "bank_statements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(300), nullable=False),
    Column("format", String(16), nullable=False),
    Column("account_iban", String(34), nullable=False),
    Column("statement", String(64), nullable=False),
    Column("new_lines", Integer, nullable=False),
    Column("duplicate_lines", Integer, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

# The condition of ``ix_bank_transactions_to_review``, which the queries it serves
# repeat: a database uses a partial index only where a query implies its condition.
TO_REVIEW = f"status = '{Outcome.TO_REVIEW.value}'"

bank_transactions = Table(
    "bank_transactions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("identity", String(32), nullable=False, unique=True),
    Column("statement_id", ForeignKey("bank_statements.id", ondelete="CASCADE"), nullable=False),
    Column("account_iban", String(34), nullable=False),
    Column("statement", String(64), nullable=False),
    Column("booking_date", Date, nullable=False),
    Column("value_date", Date, nullable=False),
    Column("amount", Cents, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("counterparty_name", String(200), nullable=False),
    Column("counterparty_iban", String(34)),
    Column("counterparty_bic", String(11), nullable=False, server_default=""),
    Column("structured_reference", String(25)),
    Column("free_text", Text, nullable=False),
    Column("bank_reference", String(64), nullable=False),
    Column("sequence", String(16), nullable=False),
    Column("end_to_end_id", String(64), nullable=False, server_default=""),
    Column("transaction_code", String(32), nullable=False, server_default=""),
    Column("reversal", Boolean, nullable=False, server_default="0"),
    Column("source", String(300), nullable=False),
    # matched | partially_matched | to_review | not_a_payment | reversed | reversal
    Column("status", String(20), nullable=False),
    Column("method", String(24)),
    Column("confidence", Float, nullable=False, server_default="0"),
    Column("reason", Text, nullable=False, server_default=""),
    Column("debtor_id", ForeignKey("debtors.id")),
    Column("allocated", Cents, nullable=False, server_default="0"),
    Column("overpayment", Cents, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Staff's list of lines to review (``transactions_to_review``) is the one
    # look-up by status: a few lines of every statement, in order (migration 0010).
    Index(
        "ix_bank_transactions_to_review",
        "id",
        sqlite_where=text(TO_REVIEW),
        postgresql_where=text(TO_REVIEW),
    ),
)

bank_match_candidates = Table(
    "bank_match_candidates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "transaction_id",
        ForeignKey("bank_transactions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("rank", Integer, nullable=False),
    Column("invoice_ids", String(500), nullable=False),  # "12,15": ids in allocation order
    Column("invoice_numbers", Text, nullable=False),
    Column("method", String(24), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("reason", Text, nullable=False),
)

debtor_credits = Table(
    "debtor_credits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("debtor_id", ForeignKey("debtors.id"), nullable=False, index=True),
    Column(
        "transaction_id", ForeignKey("bank_transactions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("amount", Cents, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("iban", String(34)),
    Column("bic", String(11), nullable=False, server_default=""),
    Column("name", String(200), nullable=False),
    # open (a refund is proposed) | exported (in a pain.001 file) | refunded (the bank
    # statement shows it paid back) | cancelled (reversed)
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("exported_at", DateTime(timezone=True)),
)

bank_invoice_keys = Table(
    "bank_invoice_keys",
    metadata,
    Column("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(80), primary_key=True),
    Column("number", String(64), nullable=False),
    Index("ix_bank_invoice_keys_key", "key"),
)

# Amount matching ("which open invoices are of 150.50?") looks invoices up by open
# amount, a batch of amounts at a time: without this index that is a full scan.
# Partial: paid invoices (most of a ledger) are not in it, so paying one removes
# an entry rather than moving it (migration 0008).
Index(
    "ix_bank_invoices_open_amount",
    invoices.c.open_amount,
    sqlite_where=invoices.c.open_amount > 0,
    postgresql_where=invoices.c.open_amount > 0,
)

# Reversing a bank payment finds its allocations by source (``reverse_allocations``),
# and refreshing open amounts sums a credit note's allocations by source: without
# this index both scan every allocation, which on PostgreSQL made reconciling
# 5,000 lines take 10 s instead of 0.7 s.
Index("ix_bank_allocations_source", allocations.c.source_kind, allocations.c.source_id)
