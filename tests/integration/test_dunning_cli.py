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
from typing import Any

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
    shown = relance(db_url, "outbox", "show", str(letter.id), "--today", "2026-03-09")
    assert "Geachte mevrouw, geachte heer" in shown.stdout
    assert "INV-2" in shown.stdout
    assert "23 maart 2026" in shown.stdout  # pay by: 14 days from the 9th
    resolved = relance(db_url, "outbox", "resolve", str(letter.id), "--on", "2026-03-09")
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stderr == ""  # posted on its day: nothing to warn about
    async with engine.connect() as conn:
        line = (
            await conn.execute(select(dunning_lines).where(dunning_lines.c.outbox_id == letter.id))
        ).one()
    assert line.state == "sent"
    assert line.sent_on == date(2026, 3, 9)


async def test_a_letter_not_posted_on_its_day_is_withdrawn_and_written_again(
    engine: AsyncEngine, db_url: str
) -> None:
    """A letter states its pay-by date from the day it was written for; printed
    three days later it would give the debtor three days less than it says.  It
    is refused for printing, staff withdraw it, and the next run writes it anew."""
    await seed(engine)
    assert relance(db_url, "dunning", "run", "--today", "2026-03-09").returncode == 0

    async def letters() -> list[Any]:
        async with engine.connect() as conn:
            query = select(outbox).where(outbox.c.channel == "letter").order_by(outbox.c.id)
            return list((await conn.execute(query)).all())

    (old,) = await letters()
    late = relance(db_url, "outbox", "show", str(old.id), "--today", "2026-03-12")
    assert late.returncode == 2
    assert late.stdout == ""
    assert len(late.stderr.strip().splitlines()) == 1, late.stderr
    assert "states the dates of 2026-03-09" in late.stderr
    assert f"relance outbox withdraw {old.id}" in late.stderr
    early = relance(db_url, "outbox", "resolve", str(old.id), "--on", "2026-03-08")
    assert early.returncode == 2
    assert "written for 2026-03-09" in early.stderr

    taken = relance(db_url, "outbox", "withdraw", str(old.id))
    assert taken.returncode == 0, taken.stderr
    assert json.loads(taken.stdout) == {"withdrawn": old.id}
    again = relance(db_url, "outbox", "withdraw", str(old.id))
    assert again.returncode == 2
    assert relance(db_url, "outbox", "resend", str(old.id)).returncode == 2
    async with engine.connect() as conn:
        kept = (await conn.execute(select(dunning_lines.c.outbox_id))).scalars().all()
    assert old.id not in kept  # its lines are gone: the level is to write again

    assert relance(db_url, "dunning", "run", "--today", "2026-03-12").returncode == 0
    withdrawn, new = await letters()
    assert (withdrawn.id, withdrawn.state, new.state) == (old.id, "withdrawn", "pending")
    shown = relance(db_url, "outbox", "show", str(new.id), "--today", "2026-03-12")
    assert shown.returncode == 0, shown.stderr
    assert "26 maart 2026" in shown.stdout  # 14 days from the 12th
    assert "23 maart 2026" not in shown.stdout

    # Posted a day late after all: recorded (it is out), with a warning, and the
    # next level counts from the real posting.
    posted = relance(db_url, "outbox", "resolve", str(new.id), "--on", "2026-03-13")
    assert posted.returncode == 0, posted.stderr
    assert "states the dates of 2026-03-12" in posted.stderr
    assert json.loads(posted.stdout) == {"resolved": new.id}
    async with engine.connect() as conn:
        line = (
            await conn.execute(select(dunning_lines).where(dunning_lines.c.outbox_id == new.id))
        ).one()
    assert (line.state, line.sent_on) == ("sent", date(2026, 3, 13))
