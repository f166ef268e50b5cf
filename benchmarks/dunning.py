"""Dunning benchmark: deciding a day's run over a large ledger, SQLite beside PostgreSQL.

    python benchmarks/dunning.py                           # 1,000,000 invoices, 200,000 debtors
    python benchmarks/dunning.py --invoices 50000 --debtors 10000    # a quick run

Fills a fresh database directly with bulk inserts (debtors, e-mail addresses, open
invoices with due dates spread over a year, a tenth of them paid with allocations so
that payment histories exist, some holds and promises), then runs, in a separate
process so that its peak memory (ru_maxrss) is its own, what ``relance dunning
preview`` does: stream every open late invoice and decide level, tone, channel and
claim.  Prints one JSON line per database with the time and the peak memory.
Target: <= 60 s for 1,000,000 invoices, memory bounded (the decisions stream).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 3, 9)
LANGUAGES = ("fr", "nl", "en", "de")


def debtor_rows(count: int) -> Iterator[tuple[object, ...]]:
    for d in range(1, count + 1):
        kind = "consumer" if d % 3 == 0 else "business"
        yield (d, f"D{d:07d}", f"Debtor {d}", kind, LANGUAGES[d % 4])


def invoice_rows(count: int, debtors: int, seed: int = 11) -> Iterator[tuple[object, ...]]:
    """(id, number, debtor_id, issue, due, cents, open_cents, status)."""
    rng = random.Random(seed)
    for n in range(1, count + 1):
        debtor = rng.randrange(1, debtors + 1)
        due = TODAY - timedelta(days=rng.randrange(-30, 365))
        cents = rng.randrange(1_000, 500_000)
        paid = n % 10 == 0
        yield (
            n,
            f"INV-{n:08d}",
            debtor,
            due - timedelta(days=30),
            due,
            cents,
            0 if paid else cents,
            "paid" if paid else "open",
        )


def populate_sqlite(path: Path, invoices: int, debtors: int) -> None:
    import sqlite3

    now = datetime(2026, 1, 1, tzinfo=UTC).isoformat(sep=" ")
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    db.executemany(
        "INSERT INTO debtors (id, code, name, kind, language, street, postcode, city, country,"
        " content_hash, created_at, updated_at) VALUES (?,?,?,?,?,'','','','BE','x',?,?)",
        ((*row, now, now) for row in debtor_rows(debtors)),
    )
    db.executemany(
        "INSERT INTO debtor_emails (debtor_id, email, failing) VALUES (?,?,0)",
        ((d, f"d{d}@example.be") for d in range(1, debtors + 1) if d % 5),
    )
    db.executemany(
        "INSERT INTO invoices (id, number, debtor_id, kind, issue_date, due_date, currency,"
        " amount, open_amount, status, structured_reference, description, disputed,"
        " written_off, content_hash, created_at, updated_at)"
        " VALUES (?,?,?,'invoice',?,?,'EUR',?,?,?,'','',0,0,'x',?,?)",
        (
            (n, number, d, issue.isoformat(), due.isoformat(), c, o, s, now, now)
            for n, number, d, issue, due, c, o, s in invoice_rows(invoices, debtors)
        ),
    )
    db.executemany(
        "INSERT INTO allocations (invoice_id, source_kind, source_id, amount, created_at)"
        " VALUES (?,'payment',?,?,?)",
        (
            (n, f"p{n}", c, (due + timedelta(days=n % 40)).isoformat() + " 00:00:00.000000")
            for n, _num, _d, _i, due, c, o, _s in invoice_rows(invoices, debtors)
            if o == 0
        ),
    )
    db.executemany(
        "INSERT INTO dunning_holds (debtor_id, reason, until, note, created_by, created_at)"
        " VALUES (?, 'paused', ?, '', 'bench', ?)",
        ((d, "2026-04-01", now) for d in range(7, debtors + 1, 97)),
    )
    db.commit()
    db.close()


async def populate_postgres(url: str, invoices: int, debtors: int) -> None:
    import asyncpg

    now = datetime(2026, 1, 1, tzinfo=UTC)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.copy_records_to_table(
            "debtors",
            records=[(*row, "", "", "", "BE", "x", now, now) for row in debtor_rows(debtors)],
            columns=[
                "id",
                "code",
                "name",
                "kind",
                "language",
                "street",
                "postcode",
                "city",
                "country",
                "content_hash",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "debtor_emails",
            records=[(d, f"d{d}@example.be", False) for d in range(1, debtors + 1) if d % 5],
            columns=["debtor_id", "email", "failing"],
        )
        rows = list(invoice_rows(invoices, debtors))
        await conn.copy_records_to_table(
            "invoices",
            records=[
                (n, num, d, "invoice", i, due, "EUR", c, o, s, "", "", False, False, "x", now, now)
                for n, num, d, i, due, c, o, s in rows
            ],
            columns=[
                "id",
                "number",
                "debtor_id",
                "kind",
                "issue_date",
                "due_date",
                "currency",
                "amount",
                "open_amount",
                "status",
                "structured_reference",
                "description",
                "disputed",
                "written_off",
                "content_hash",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "allocations",
            records=[
                (
                    n,
                    "payment",
                    f"p{n}",
                    c,
                    datetime.combine(due, datetime.min.time(), UTC) + timedelta(days=n % 40),
                )
                for n, _num, _d, _i, due, c, o, _s in rows
                if o == 0
            ],
            columns=["invoice_id", "source_kind", "source_id", "amount", "created_at"],
        )
        del rows
        await conn.copy_records_to_table(
            "dunning_holds",
            records=[
                (d, "paused", date(2026, 4, 1), "", "bench", now) for d in range(7, debtors + 1, 97)
            ],
            columns=["debtor_id", "reason", "until", "note", "created_by", "created_at"],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def migrate(url: str) -> None:
    from adapters.db.engine import create_engine
    from adapters.db.migrate import upgrade

    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()


async def decide_all(url: str) -> dict[str, object]:
    """Child process: what ``relance dunning preview`` does, counted instead of printed."""
    from adapters.db.engine import create_engine
    from adapters.holidays_be import holidays_around
    from bot.dunning import DunningSetup, preview
    from domain.calendar import ContactRules
    from domain.dunning import DunningLine

    setup_value = DunningSetup(contact=ContactRules(holidays=holidays_around("BE", TODAY)))
    engine = create_engine(url)
    lines = skips = 0
    started = time.perf_counter()
    async for decision in preview(engine, TODAY, setup_value):
        if isinstance(decision, DunningLine):
            lines += 1
        else:
            skips += 1
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return {"lines": lines, "skips": skips, "seconds": round(elapsed, 2)}


def child(url: str) -> None:
    figures = asyncio.run(decide_all(url))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # CPU time of this process: the figure that does not depend on what else runs on
    # the machine (the database server's own work is not in it).
    figures["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    figures["peak_mb"] = round(usage.ru_maxrss / 1024, 1)
    print(json.dumps(figures))


def populate(url: str, invoices: int, debtors: int) -> None:
    """Child process: migrate and fill the database."""
    asyncio.run(migrate(url))
    if url.startswith("sqlite"):
        populate_sqlite(Path(url.split(":///", 1)[1]), invoices, debtors)
    else:
        asyncio.run(populate_postgres(url, invoices, debtors))


def measure(name: str, url: str, invoices: int, debtors: int) -> dict[str, object]:
    # Both steps run in their own processes: Linux carries a parent's peak memory
    # over into the ru_maxrss of the children it forks, so a parent that had filled
    # the database would inflate the figure of the decision run.
    started = time.perf_counter()
    filled = subprocess.run(
        [
            sys.executable,
            __file__,
            "--populate",
            url,
            "--invoices",
            str(invoices),
            "--debtors",
            str(debtors),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    if filled.returncode != 0:
        raise SystemExit(f"{name}: populating failed:\n{filled.stderr}")
    populated = time.perf_counter() - started
    done = subprocess.run(
        [sys.executable, __file__, "--child", url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    if done.returncode != 0:
        raise SystemExit(f"{name}: decision run failed:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "database": name,
        "invoices": invoices,
        "debtors": debtors,
        "populate_seconds": round(populated, 1),
        **figures,
        "invoices_per_second": round(invoices / max(figures["seconds"], 1e-9)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--debtors", type=int, default=200_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--populate", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.populate:
        populate(args.populate, args.invoices, args.debtors)
        return
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory(prefix="relance-bench-") as folder:
        if args.only in (None, "sqlite"):
            url = f"sqlite+aiosqlite:///{folder}/dunning.db"
            print(json.dumps(measure("sqlite", url, args.invoices, args.debtors)), flush=True)
        if args.only in (None, "postgresql"):
            from tests.pgserver import PostgresServer

            server = PostgresServer()
            server.start()
            try:
                url = server.url()
                print(
                    json.dumps(measure("postgresql", url, args.invoices, args.debtors)),
                    flush=True,
                )
            finally:
                server.stop()


if __name__ == "__main__":
    main()
