"""A small ledger written straight into the tables, for the bank tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.schema import debtor_ibans, debtors, invoices


@dataclass(frozen=True)
class Inv:
    number: str
    debtor: str
    amount: str
    reference: str
    due: date = date(2026, 3, 1)


async def seed(
    engine: AsyncEngine,
    names: dict[str, str],
    ibans: dict[str, str],
    items: list[Inv],
) -> dict[str, int]:
    """Debtors (code -> name), their IBANs (IBAN -> code) and open invoices."""
    now = datetime.now(UTC)
    ids: dict[str, int] = {}
    async with engine.begin() as conn:
        for code, name in names.items():
            row = await conn.execute(
                insert(debtors).returning(debtors.c.id),
                {
                    "code": code,
                    "name": name,
                    "kind": "business",
                    "language": "fr",
                    "content_hash": "x",
                    "created_at": now,
                    "updated_at": now,
                },
            )
            ids[code] = int(row.scalar_one())
        for iban, code in ibans.items():
            await conn.execute(insert(debtor_ibans), {"debtor_id": ids[code], "iban": iban})
        for item in items:
            await conn.execute(
                insert(invoices),
                {
                    "number": item.number,
                    "debtor_id": ids[item.debtor],
                    "kind": "invoice",
                    "issue_date": date(2026, 2, 1),
                    "due_date": item.due,
                    "currency": "EUR",
                    "amount": Decimal(item.amount),
                    "open_amount": Decimal(item.amount),
                    "status": "open",
                    "structured_reference": item.reference,
                    "content_hash": "x",
                    "created_at": now,
                    "updated_at": now,
                },
            )
    return ids


async def invoice_state(engine: AsyncEngine) -> dict[str, tuple[str, str]]:
    """number -> (open amount, status)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(invoices.c.number, invoices.c.open_amount, invoices.c.status)
        )
        return {r[0]: (f"{r[1]:.2f}", r[2]) for r in rows}
