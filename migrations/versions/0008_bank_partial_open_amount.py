"""bank: the open-amount index holds open invoices only

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-30 01:10:00

Matching looks up *open* invoices by amount; paid ones (open amount 0) are most
of a ledger and were index entries moved on every payment.  Partial, the index
loses an entry when an invoice is paid instead of moving it: a 200,000-line
reconciliation over 1,000,000 invoices updates them a third faster.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("open_amount > 0")


def upgrade() -> None:
    op.drop_index("ix_bank_invoices_open_amount", table_name="invoices")
    op.create_index(
        "ix_bank_invoices_open_amount",
        "invoices",
        ["open_amount"],
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_bank_invoices_open_amount", table_name="invoices")
    op.create_index("ix_bank_invoices_open_amount", "invoices", ["open_amount"])
