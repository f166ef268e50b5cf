"""The outbox against a real SMTP server (aiosmtpd on loopback): a sender killed
after the server took a message and before it recorded it never causes a second
copy, and two senders at once deliver every message exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, date, datetime, time
from decimal import Decimal
from email import message_from_bytes
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.dunning_schema import dunning_lines, outbox
from adapters.db.schema import debtor_emails, debtors, invoices
from bot.dunning import DunningSetup, run_dunning
from domain.calendar import ContactRules
from tests.pgserver import free_port

ROOT = Path(__file__).resolve().parents[2]
# The senders run on the real clock, and a reminder goes only on the day it was
# written for (``bot.outbox``): the run is for today, at any hour of any day.
RUN_NOW = datetime.now(UTC)
RUN_DAY = RUN_NOW.astimezone(ZoneInfo("Europe/Brussels")).date()
ANY_TIME = ContactRules(
    quiet_from=time(0, 0), quiet_until=time(0, 0), sundays=True, public_holidays=True
)


class Recorder:
    """An SMTP server's side: keeps every message it accepted, by Message-ID.

    ``kill_on`` makes it kill the sending process while handling that message's
    DATA, after the message is stored on the server and before the client hears
    "250": the worst moment for the sender."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.lock = threading.Lock()
        self.kill_on: int | None = None
        self.victim: int | None = None
        self.rendezvous = False
        self.in_flight = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        if self.rendezvous:
            # Hold the first message until a second sender is delivering too, so the
            # test shows two senders at work at once whatever the machine's load.
            self.in_flight += 1
            waited = 0.0
            while self.rendezvous and self.in_flight < 2 and waited < 30:
                await asyncio.sleep(0.05)
                waited += 0.05
            self.rendezvous = False
            self.in_flight -= 1
        with self.lock:
            self.received.append(str(message["Message-ID"]))
            count = len(self.received)
        if self.kill_on is not None and count == self.kill_on and self.victim:
            os.kill(self.victim, signal.SIGKILL)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Any:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


async def seed(engine: AsyncEngine, debtor_count: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    stamp = {"content_hash": "x", "created_at": now, "updated_at": now}
    async with engine.begin() as conn:
        await conn.execute(
            insert(debtors),
            [
                {
                    "code": f"D{i}",
                    "name": f"Debtor {i}",
                    "kind": "business",
                    "language": "en",
                    **stamp,
                }
                for i in range(debtor_count)
            ],
        )
        ids = {row.code: row.id for row in await conn.execute(select(debtors.c.id, debtors.c.code))}
        await conn.execute(
            insert(debtor_emails),
            [
                {"debtor_id": ids[f"D{i}"], "email": f"d{i}@example.com"}
                for i in range(debtor_count)
            ],
        )
        await conn.execute(
            insert(invoices),
            [
                {
                    "number": f"INV-{i}",
                    "debtor_id": ids[f"D{i}"],
                    "kind": "invoice",
                    "issue_date": date(2026, 1, 1),
                    "due_date": date(2026, 2, 1),
                    "currency": "EUR",
                    "amount": Decimal("100.00"),
                    "open_amount": Decimal("100.00"),
                    "status": "open",
                    "structured_reference": "",
                    **stamp,
                }
                for i in range(debtor_count)
            ],
        )
    report = await run_dunning(engine, RUN_DAY, DunningSetup(contact=ANY_TIME), RUN_NOW)
    assert report.messages == debtor_count


def sender(db_url: str, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "MAIL_FROM": "Relance <credit@relance.example>",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "outbox", "send", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def states(engine: AsyncEngine) -> Counter[str]:
    async with engine.connect() as conn:
        return Counter(row.state for row in await conn.execute(select(outbox.c.state)))


@pytest.mark.slow
async def test_a_sender_killed_mid_delivery_never_sends_twice(
    engine: AsyncEngine, db_url: str, smtp: Any
) -> None:
    recorder, port = smtp
    await seed(engine, 6)
    recorder.kill_on = 2  # killed while the server takes the second message
    first = sender(db_url, port, "--batch", "3")
    recorder.victim = first.pid
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    # message 1 sent; message 2 on the server but recorded as "sending"; message 3
    # claimed but never handed to SMTP; 4-6 pending
    assert await states(engine) == Counter({"sent": 1, "sending": 1, "claimed": 1, "pending": 3})

    second = sender(db_url, port, "--stale-after", "0")
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    report = json.loads(out)
    assert report["sent"] == 4  # 3 and 4-6
    assert report["released"] == 1  # the claimed one went back to pending
    assert len(report["unknown"]) == 1  # the one in flight: left for staff

    assert len(recorder.received) == 6
    assert Counter(recorder.received).most_common(1)[0][1] == 1  # exactly one copy each
    assert await states(engine) == Counter({"sent": 5, "unknown": 1})
    async with engine.connect() as conn:
        unknown = (await conn.execute(select(outbox).where(outbox.c.state == "unknown"))).one()
        line_states = Counter(
            row.state for row in await conn.execute(select(dunning_lines.c.state))
        )
    assert unknown.message_id in recorder.received  # it did reach the server, once
    assert line_states == Counter({"sent": 5, "queued": 1})

    # A third start changes nothing: the unknown message is never resent by itself.
    third = sender(db_url, port, "--stale-after", "0")
    out, err = third.communicate(timeout=60)
    assert third.returncode == 0, err
    assert json.loads(out)["sent"] == 0
    assert len(recorder.received) == 6


@pytest.mark.slow
async def test_two_senders_deliver_each_message_once(
    engine: AsyncEngine, db_url: str, smtp: Any
) -> None:
    recorder, port = smtp
    await seed(engine, 40)
    recorder.rendezvous = True
    senders = [sender(db_url, port, "--batch", "2") for _ in range(2)]
    reports = []
    for process in senders:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        reports.append(json.loads(out))
    assert sum(r["sent"] for r in reports) == 40
    assert len(recorder.received) == 40
    assert len(set(recorder.received)) == 40
    assert await states(engine) == Counter({"sent": 40})
    async with engine.connect() as conn:
        workers = {row.claimed_by for row in await conn.execute(select(outbox.c.claimed_by))}
    assert len(workers) == 2, "both senders should have taken a share of the work"
