"""allocations: one index leading with the invoice, not two

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 06:00:00

``uq_allocations_source`` (invoice_id, source_kind, source_id) already serves every
look-up by invoice (its first column) and the cascade from a deleted invoice;
``ix_allocations_invoice_id`` repeated its first column and cost an index entry for
every allocation written (190,000 for a large bank statement).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_allocations_invoice_id", table_name="allocations")


def downgrade() -> None:
    op.create_index("ix_allocations_invoice_id", "allocations", ["invoice_id"])
