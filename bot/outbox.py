"""Delivering the outbox: claim, then send, then mark — never twice, never lost.

A dunning run writes its lines and their messages in one transaction (``bot.dunning``);
this sender delivers them:

    pending --claim (commit)--> claimed --(commit)--> sending --SMTP--> sent (commit)
                                   |                     |
              sender died: back to pending     sender died: unknown (staff decide)

Why this design.  SMTP offers no way to ask a server "did you already accept
Message-ID X?", so after a crash between the server's "250 OK" and our "sent"
commit nobody can know whether the mail left.  Resending automatically could give
the debtor two reminders; flagging could lose none but needs a person.  We flag:
a stale "sending" row becomes ``unknown``, is never resent by itself, and staff
either resolve it (``relance outbox resolve ID --sent``) or resend it
(``relance outbox resend ID``) with the *same* bytes and Message-ID, so a mailbox
that already has it can recognise the duplicate.  The window is kept as small as
possible: a message enters "sending" in its own committed transaction just before
its SMTP transaction, one message at a time, and is marked "sent" in its own commit
right after; messages merely *claimed* by a dead sender were never handed to SMTP
and go back to pending automatically.  So a crash can leave at most one message
per sender in ``unknown``, and none is ever sent twice by the machine.

Several senders share the work: claiming is one UPDATE over a
``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL), so no message is claimed twice.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import dunning_repo
from adapters.mail.smtp import Mailer, PermanentFailure, TemporaryFailure
from domain.calendar import ContactRules
from domain.dunning import LineState

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=5)  # a 4xx or a lost connection: try again later
STALE_AFTER = timedelta(minutes=15)  # well above the SMTP timeout of one message


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retry: int = 0
    released: int = 0
    unknown: list[int] = field(default_factory=list)
    withdrawn: int = 0  # reminders past their day, left for the next run to write again
    waiting: int = 0  # reminders claimed in quiet hours, pending until they end


async def send_pending(
    engine: AsyncEngine,
    mailer: Mailer,
    *,
    envelope_from: str,
    timezone: ZoneInfo,
    worker: str | None = None,
    batch: int = 10,
    stale_after: timedelta = STALE_AFTER,
    clock: Callable[[], datetime] = _utc_now,
    max_messages: int | None = None,
    contact: ContactRules | None = None,
) -> SendReport:
    """Deliver every due e-mail of the outbox; return what happened.

    ``contact``: when a reminder may reach a debtor (the dunning setup's rules;
    quiet hours and Sundays without it).  A reminder or a notice we start
    ourselves (kind "notice") due earlier but claimed in quiet hours (a run late
    in the evening) waits for the next allowed moment; answers to what a debtor
    wrote go at once."""
    worker = worker or worker_name()
    report = SendReport()
    async with engine.begin() as conn:
        released, unknown = await dunning_repo.recover_stale(conn, older_than=clock() - stale_after)
    report.released, report.unknown = released, unknown
    for message_id in unknown:
        log.warning("outbox message %s: sender died while sending; left for staff", message_id)
    while max_messages is None or report.sent + report.failed < max_messages:
        async with engine.begin() as conn:
            claimed = await dunning_repo.claim_messages(
                conn, worker=worker, now=clock(), limit=batch, channels=["email"]
            )
        if not claimed:
            break
        for row in claimed:
            await _deliver(
                engine, mailer, row, envelope_from, timezone, worker, clock, report, contact
            )
    return report


async def _deliver(
    engine: AsyncEngine,
    mailer: Mailer,
    row: Any,
    envelope_from: str,
    timezone: ZoneInfo,
    worker: str,
    clock: Callable[[], datetime],
    report: SendReport,
    contact: ContactRules | None = None,
) -> None:
    outbox_id = int(row.id)
    async with engine.begin() as conn:
        # A reminder states dates from its planned day (pay by, the end of the
        # waiting period); sent a day later (after an outage) they would tell the
        # debtor less time than the law counts from the real sending.  Not sent:
        # the next run writes it again from its own day.
        planned = await dunning_repo.planned_day(conn, outbox_id)
        today = clock().astimezone(timezone).date()
        if planned is not None and planned < today:
            why = f"not sent on {planned.isoformat()}, the day its dates were written for"
            await dunning_repo.withdraw_stale(conn, outbox_id, worker, why)
            log.warning("outbox message %s: %s; withdrawn for the next run", outbox_id, why)
            report.withdrawn += 1
            return
        local = clock().astimezone(timezone)
        ours = planned is not None or row.kind == "notice"  # not an answer to the debtor
        if ours and not (rules := contact or ContactRules()).may_contact(local):
            # Due since the morning, but the sender runs at 22:30: not at night.
            # Back to pending until the next allowed moment (a reminder is then a
            # day late: the check above withdraws it, to be written again with that
            # day's dates; a notice, a plan's reminder say, simply goes).
            later = rules.next_contact_time(local)
            await dunning_repo.mark_message(
                conn, outbox_id, "pending", worker=worker, error="quiet hours", retry_at=later
            )
            report.waiting += 1
            return
        if not await dunning_repo.begin_sending(conn, outbox_id, worker=worker, now=clock()):
            return  # recovered by someone else meanwhile: not ours any more
    try:
        await mailer.send(envelope_from, row.recipient, row.payload)
    except PermanentFailure as exc:
        async with engine.begin() as conn:
            await dunning_repo.mark_message(
                conn, outbox_id, "failed", worker=worker, error=str(exc)
            )
            await dunning_repo.set_line_state(
                conn, outbox_id=outbox_id, state=LineState.ERROR, error=str(exc)
            )
        report.failed += 1
        return
    except TemporaryFailure as exc:
        attempts = int(row.attempts) + 1
        state = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        retry_at = clock() + RETRY_AFTER * attempts  # 5, 10, 15 ... minutes
        async with engine.begin() as conn:
            await dunning_repo.mark_message(
                conn, outbox_id, state, worker=worker, error=str(exc), retry_at=retry_at
            )
            if state == "failed":
                await dunning_repo.set_line_state(
                    conn, outbox_id=outbox_id, state=LineState.ERROR, error=str(exc)
                )
        if state == "failed":
            report.failed += 1
        else:
            report.retry += 1
        return
    now = clock()
    async with engine.begin() as conn:
        await dunning_repo.mark_message(conn, outbox_id, "sent", worker=worker, now=now)
        await dunning_repo.set_line_state(
            conn, outbox_id=outbox_id, state=LineState.SENT, sent_on=now.astimezone(timezone).date()
        )
    report.sent += 1


async def resend(engine: AsyncEngine, outbox_id: int) -> bool:
    """Staff decided a message in ``unknown`` or ``failed`` must go (again): same
    bytes, same Message-ID."""
    async with engine.begin() as conn:
        return await dunning_repo.requeue(conn, outbox_id, from_states=["unknown", "failed"])


class OutboxError(ValueError):
    """What staff asked of a message does not fit its state; the text says why."""


@dataclass(frozen=True)
class Resolution:
    resolved: bool
    written_for: date | None = None  # a reminder's day, when it left later than that


async def resolve_sent(engine: AsyncEngine, outbox_id: int, left_on: datetime) -> Resolution:
    """Staff say a message left on ``left_on``: an ``unknown`` e-mail they found in
    the SMTP server's log, or a letter they posted.  The reminder's lines count as
    sent that day, so the waiting periods and fees run from the real sending.

    A reminder cannot have left before the day it was written for.  One that left
    later states dates that are too early (it was printed on its day and posted
    after): it is recorded all the same, since it is out, and ``written_for`` says
    so, for the caller to warn."""
    day = left_on.date()
    async with engine.begin() as conn:
        planned = await dunning_repo.planned_day(conn, outbox_id)
        if planned is not None and day < planned:
            raise OutboxError(
                f"message {outbox_id} was written for {planned.isoformat()}: "
                f"it cannot have left on {day.isoformat()}"
            )
        done = await dunning_repo.resolve_unknown(conn, outbox_id, sent_at=left_on)
        if done:
            await dunning_repo.set_line_state(
                conn, outbox_id=outbox_id, state=LineState.SENT, sent_on=day
            )
    late = planned if done and planned is not None and planned < day else None
    return Resolution(done, late)


async def letter_to_post(engine: AsyncEngine, outbox_id: int, today: date) -> bytes:
    """A message's text to print (a letter) or read (an e-mail's source).

    A letter still to post whose day has passed is refused: it states the pay-by
    date and the waiting period from that day, and posted now it would give the
    debtor less time than the law counts from the posting (Book XIX: 14 days from
    the third working day after posting).  Staff withdraw it (``withdraw``) and
    the next dunning run writes it again for its own day."""
    async with engine.connect() as conn:
        row = await dunning_repo.message_row(conn, outbox_id)
        if row is None:
            raise OutboxError(f"no message with id {outbox_id}")
        planned = await dunning_repo.planned_day(conn, outbox_id)
    stale = planned is not None and planned < today
    if row.channel == "letter" and row.state == "pending" and stale:
        raise OutboxError(
            f"letter {outbox_id} states the dates of {planned}, and posted from "
            f"{today.isoformat()} it would give the debtor less time than they have: "
            f"withdraw it (relance outbox withdraw {outbox_id}) and the next "
            "dunning run writes it again"
        )
    return bytes(row.payload)


async def withdraw(engine: AsyncEngine, outbox_id: int) -> bool:
    """Staff take back a reminder that has not left (a letter not posted in time):
    kept as "withdrawn", its lines removed, so the next run writes that level again.
    False when the message is no reminder or is no longer pending."""
    async with engine.begin() as conn:
        return await dunning_repo.withdraw_pending(conn, outbox_id, "withdrawn by staff")
