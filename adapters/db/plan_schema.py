"""Payment plan tables: plans, their invoices and instalments, and online payments.

payment_plans      one row per agreed plan: state active/completed/broken/cancelled
plan_invoices      the invoices a plan covers (held from dunning with reason "plan")
plan_instalments   the exact schedule in cents; ``reminded_on`` makes the reminder
                   before each instalment go out once
payments           online payments at a provider (Mollie): for one instalment or for
                   invoices the debtor chose on the pay page; ``allocated_at`` is set
                   in the transaction that records the money, so a repeated webhook
                   changes nothing
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from adapters.db.schema import Cents, metadata

payment_plans = Table(
    "payment_plans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("debtor_id", ForeignKey("debtors.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("segment", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", Cents, nullable=False),  # the balance the plan covers
    Column("fee", Cents, nullable=False),
    Column("grace_days", Integer, nullable=False),
    Column("remind_days_before", Integer, nullable=False),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="SET NULL")),
    Column("channel", String(16), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("ended_on", Date),
    Index("ix_payment_plans_state", "state"),
)

plan_invoices = Table(
    "plan_invoices",
    metadata,
    Column("plan_id", ForeignKey("payment_plans.id", ondelete="CASCADE"), primary_key=True),
    Column("invoice_id", ForeignKey("invoices.id"), primary_key=True),
    # The invoice's open amount when the plan began: what was paid since is the
    # drop from here (a payment from any source -- bank, Mollie -- counts).
    Column("open_at_start", Cents, nullable=False),
)

plan_instalments = Table(
    "plan_instalments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", ForeignKey("payment_plans.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("amount", Cents, nullable=False),
    Column("paid", Cents, nullable=False, server_default="0"),
    Column("paid_on", Date),
    Column("reminded_on", Date),
    UniqueConstraint("plan_id", "number", name="uq_plan_instalments_plan_number"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("provider", String(16), nullable=False),
    Column("provider_id", String(64), nullable=False, unique=True),
    Column("debtor_id", ForeignKey("debtors.id"), nullable=False, index=True),
    Column("plan_id", ForeignKey("payment_plans.id", ondelete="SET NULL")),
    Column("instalment_id", ForeignKey("plan_instalments.id", ondelete="SET NULL")),
    Column("invoice_ids", Text, nullable=False),  # JSON list, in allocation order
    Column("amount", Cents, nullable=False),
    Column("currency", String(3), nullable=False),
    # open | pending | authorized | paid | failed | expired | canceled (Mollie's words)
    Column("status", String(16), nullable=False),
    Column("checkout_url", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("allocated_at", DateTime(timezone=True)),
)
