"""``relance dunning preview --json`` exactly as cli.md shows it, and the other
dunning and outbox commands, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.dunning_schema import dunning_lines, outbox
from adapters.db.schema import debtor_emails, debtors, invoices

ROOT = Path(__file__).resolve().parents[2]
KEYS = [
    "invoice",
    "debtor",
    "level",
    "level_name",
    "channel",
    "language",
    "tone",
    "send_on",
    "principal",
    "fees",
    "interest",
    "total_claimed",
]


def relance(db_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def seed(engine: AsyncEngine) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    stamp = {"content_hash": "x", "created_at": now, "updated_at": now}
    async with engine.begin() as conn:
        for n, (code, name, kind, email) in enumerate(
            [
                ("C1", "Jan Peeters", "consumer", "jan@example.be"),
                ("C2", "Dupont SRL", "business", ""),
            ],
            start=1,
        ):
            await conn.execute(
                insert(debtors).values(
                    id=n, code=code, name=name, kind=kind, language="nl", **stamp
                )
            )
            if email:
                await conn.execute(insert(debtor_emails).values(debtor_id=n, email=email))
        for number, debtor, amount in [("INV-1", 1, "400.00"), ("INV-2", 2, "1000.00")]:
            await conn.execute(
                insert(invoices).values(
                    number=number,
                    debtor_id=debtor,
                    kind="invoice",
                    issue_date=date(2026, 1, 30),
                    due_date=date(2026, 3, 1),
                    currency="EUR",
                    amount=Decimal(amount),
                    open_amount=Decimal(amount),
                    status="open",
                    structured_reference="",
                    **stamp,
                )
            )


async def test_preview_json_follows_the_contract(engine: AsyncEngine, db_url: str) -> None:
    await seed(engine)
    done = relance(db_url, "dunning", "preview", "--today", "2026-03-09", "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [list(row) for row in rows] == [KEYS, KEYS]
    assert rows[0] == {
        "invoice": "INV-1",
        "debtor": "Jan Peeters",
        "level": 1,
        "level_name": "Reminder",
        "channel": "email",
        "language": "nl",
        "tone": "friendly",
        "send_on": "2026-03-09",
        "principal": "400.00",
        "fees": "0.00",
        "interest": "0.00",
        "total_claimed": "400.00",
    }
    assert rows[1]["channel"] == "letter"  # no e-mail address
    async with engine.connect() as conn:  # a preview writes nothing
        assert (await conn.execute(select(dunning_lines))).first() is None


async def test_held_invoices_are_listed_with_a_reason(engine: AsyncEngine, db_url: str) -> None:
    await seed(engine)
    added = relance(db_url, "dunning", "hold", "add", "--invoice", "INV-2", "--reason", "takeover")
    assert added.returncode == 0, added.stderr
    done = relance(db_url, "dunning", "preview", "--today", "2026-03-09", "--json")
    rows = {row["invoice"]: row for row in map(json.loads, done.stdout.splitlines())}
    assert rows["INV-2"] == {
        "invoice": "INV-2",
        "debtor": "Dupont SRL",
        "level": None,
        "reason": "hold (invoice): takeover",
    }
    planned = relance(
        db_url, "dunning", "preview", "--today", "2026-03-09", "--json", "--planned-only"
    )
    assert [json.loads(x)["invoice"] for x in planned.stdout.splitlines()] == ["INV-1"]


async def test_bad_input_is_one_line_and_changes_nothing(engine: AsyncEngine, db_url: str) -> None:
    await seed(engine)
    for args in (
        ("dunning", "preview", "--today", "09/03/2026", "--json"),
        ("dunning", "run", "--today", "2026-02-30"),
        ("dunning", "hold", "add", "--debtor", "NOPE", "--reason", "paused"),
        ("dunning", "hold", "add", "--debtor", "C1", "--reason", "holiday"),
        ("outbox", "send"),
    ):
        done = relance(db_url, *args, SMTP_HOST="")
        assert done.returncode == 2, args
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stderr.startswith("relance: ")
        assert "Traceback" not in done.stderr
    bad_terms = relance(
        db_url, "dunning", "run", "--today", "2026-03-09", RELANCE_PENALTY_PERCENT="ten"
    )
    assert bad_terms.returncode == 2
    assert "RELANCE_PENALTY_PERCENT" in bad_terms.stderr
    async with engine.connect() as conn:
        assert (await conn.execute(select(dunning_lines))).first() is None


async def test_run_then_letters_are_resolved_by_staff(engine: AsyncEngine, db_url: str) -> None:
    await seed(engine)
    done = relance(db_url, "dunning", "run", "--today", "2026-03-09")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"run": 1, "lines": 2, "messages": 2, "skipped": 0}
    async with engine.connect() as conn:
        letter = (await conn.execute(select(outbox).where(outbox.c.channel == "letter"))).one()
    shown = relance(db_url, "outbox", "show", str(letter.id))
    assert "Geachte mevrouw, geachte heer" in shown.stdout
    assert "INV-2" in shown.stdout
    resolved = relance(db_url, "outbox", "resolve", str(letter.id))
    assert resolved.returncode == 0, resolved.stderr
    async with engine.connect() as conn:
        line = (
            await conn.execute(select(dunning_lines).where(dunning_lines.c.outbox_id == letter.id))
        ).one()
    assert line.state == "sent"
    assert line.sent_on is not None
