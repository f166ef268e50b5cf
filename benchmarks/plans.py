"""Payment plan benchmark: the daily check over many active plans (SQLite).

    python benchmarks/plans.py                 # 10,000 plans of 6 instalments
    python benchmarks/plans.py --plans 500     # a quick run

Fills a fresh SQLite database with debtors (each with an e-mail address), one open
invoice per debtor and one active 6-instalment plan per invoice (through
``plan_repo.create_plan``, so holds are real), pays a third of the first
instalments through the ledger, then runs ``check_plans`` three times: two days
before the first instalments are due (reminders), the day after (a quiet day:
nothing to do, the common case), and past their grace (broken plans for the unpaid
ones).  Prints one JSON line per check: time, plans/s, and the process's peak memory.
All active plans are read in three queries; a transaction is opened only for a plan
with something to do (a crash loses at most that plan's work), so a quiet day costs
little and a busy one grows with the plans that need a message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 3, 9)


async def fill(url: str, plans: int) -> None:
    from sqlalchemy import insert

    from adapters.db import plan_repo
    from adapters.db.allocations import apply_allocations
    from adapters.db.engine import create_engine
    from adapters.db.migrate import upgrade
    from adapters.db.schema import debtor_emails, debtors, invoices
    from domain.payment_plan import schedule

    engine = create_engine(url)
    await upgrade(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    stamp = {"content_hash": "x", "created_at": now, "updated_at": now}
    async with engine.begin() as conn:
        await conn.execute(
            insert(debtors),
            [
                {
                    "id": d,
                    "code": f"D{d:07d}",
                    "name": f"Debtor {d}",
                    "kind": "business",
                    "language": "fr",
                    **stamp,
                }
                for d in range(1, plans + 1)
            ],
        )
        await conn.execute(
            insert(debtor_emails),
            [{"debtor_id": d, "email": f"d{d}@example.be"} for d in range(1, plans + 1)],
        )
        await conn.execute(
            insert(invoices),
            [
                {
                    "id": d,
                    "number": f"INV-{d:07d}",
                    "debtor_id": d,
                    "kind": "invoice",
                    "issue_date": TODAY - timedelta(days=60),
                    "due_date": TODAY - timedelta(days=30),
                    "currency": "EUR",
                    "amount": Decimal("600.00"),
                    "open_amount": Decimal("600.00"),
                    "status": "open",
                    "structured_reference": "",
                    **stamp,
                }
                for d in range(1, plans + 1)
            ],
        )
        steps = schedule(Decimal("600.00"), 6, TODAY + timedelta(days=7))
        for d in range(1, plans + 1):
            await plan_repo.create_plan(
                conn,
                debtor_id=d,
                segment="business",
                currency="EUR",
                invoices_open=[(d, Decimal("600.00"))],
                instalments=steps,
                grace_days=7,
                remind_days_before=3,
            )
        await apply_allocations(
            conn, [(d, "bank", f"b{d}", Decimal("100.00")) for d in range(1, plans + 1, 3)]
        )
    await engine.dispose()


async def check(url: str, day: date) -> dict[str, object]:
    from adapters.db.engine import create_engine
    from bot.config import load_settings
    from bot.conversations import Conversations
    from bot.plans import check_plans

    settings = load_settings({"DATABASE_URL": url, "RELANCE_SECRET_KEY": "bench" * 8})
    engine = create_engine(url)
    started = time.perf_counter()
    summary = await check_plans(engine, Conversations(engine, settings), settings, day)
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return {
        "day": day.isoformat(),
        "reminded": summary.reminded,
        "broken": summary.broken,
        "completed": summary.completed,
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'plans.db'}"
        started = time.perf_counter()
        asyncio.run(fill(url, args.plans))
        filled = time.perf_counter() - started
        print(json.dumps({"plans": args.plans, "fill_seconds": round(filled, 2)}))
        # reminders due; a quiet day (nothing to do: the common case); broken plans
        for day in (
            TODAY + timedelta(days=5),
            TODAY + timedelta(days=6),
            TODAY + timedelta(days=15),
        ):
            result = asyncio.run(check(url, day))
            seconds = float(result["seconds"])  # type: ignore[arg-type]
            result["plans_per_second"] = round(args.plans / seconds) if seconds else None
            result["peak_memory_mb"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            )
            print(json.dumps(result))


if __name__ == "__main__":
    main()
