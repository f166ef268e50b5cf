"""bank_transactions: an index of the lines to review instead of two full ones

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 08:00:00

Staff's list of lines to review is the one look-up of transactions by status, and
nothing looks them up by counterparty IBAN (a debtor's IBANs are in
``debtor_ibans``).  ``ix_bank_transactions_status`` held an entry for every line
ever imported, ``ix_bank_transactions_counterparty_iban`` one for every line with
an IBAN: two index entries written for each of a large statement's lines, for a
list of a few of them.  The partial index holds the lines to review only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TO_REVIEW = sa.text("status = 'to_review'")


def upgrade() -> None:
    op.drop_index("ix_bank_transactions_status", table_name="bank_transactions")
    op.drop_index("ix_bank_transactions_counterparty_iban", table_name="bank_transactions")
    op.create_index(
        "ix_bank_transactions_to_review",
        "bank_transactions",
        ["id"],
        sqlite_where=_TO_REVIEW,
        postgresql_where=_TO_REVIEW,
    )


def downgrade() -> None:
    op.drop_index("ix_bank_transactions_to_review", table_name="bank_transactions")
    op.create_index(
        "ix_bank_transactions_counterparty_iban", "bank_transactions", ["counterparty_iban"]
    )
    op.create_index("ix_bank_transactions_status", "bank_transactions", ["status"])
