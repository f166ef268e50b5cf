"""A dunning run on SQLite and PostgreSQL: lines and outbox in one transaction,
holds and promises through the repository API, history-driven tone, sending."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import dunning_repo
from adapters.db.dunning_schema import dunning_lines, outbox
from adapters.db.schema import allocations, debtor_emails, debtors, invoices
from adapters.holidays_be import belgian_holidays
from adapters.mail.smtp import MemoryMailer
from bot.dunning import DunningSetup, preview, run_dunning
from bot.outbox import resend, send_pending
from domain.calendar import ContactRules
from domain.dunning import DEFAULT_POLICY, DunningLine, Skip
from domain.fees import CreditorTerms

D = Decimal
NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
SETUP = DunningSetup(
    policy=replace(
        DEFAULT_POLICY, terms=CreditorTerms(penalty_percent=D("15"), penalty_minimum=D("50"))
    ),
    contact=ContactRules(holidays=belgian_holidays(2026)),
)


async def seed(engine: AsyncEngine) -> dict[str, int]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    stamp = {"content_hash": "x", "created_at": now, "updated_at": now}
    ids: dict[str, int] = {}
    async with engine.begin() as conn:
        for code, name, kind, lang, email in [
            ("C1", "Jan Peeters", "consumer", "nl", "jan@example.be"),
            ("C2", "Dupont SRL", "business", "fr", "compta@dupont.example"),
            ("C3", "Late Payer BV", "business", "nl", "ap@late.example"),
        ]:
            result = await conn.execute(
                insert(debtors)
                .values(code=code, name=name, kind=kind, language=lang, **stamp)
                .returning(debtors.c.id)
            )
            ids[code] = int(result.scalar_one())
            await conn.execute(insert(debtor_emails).values(debtor_id=ids[code], email=email))
        rows: list[tuple[str, str, str, str, str, str]] = [
            # number, debtor, due, amount, open, ogm
            ("INV-1", "C1", "2026-03-01", "400.00", "400.00", "090933755493"),
            ("INV-2", "C1", "2026-02-20", "150.00", "150.00", ""),
            ("INV-3", "C2", "2026-03-01", "1000.00", "1000.00", ""),
            ("INV-4", "C2", "2026-04-01", "50.00", "50.00", ""),  # not due yet
            ("INV-5", "C3", "2026-03-01", "300.00", "300.00", ""),
            ("OLD-1", "C3", "2025-10-01", "100.00", "0.00", ""),  # paid 61 days late
            ("OLD-2", "C3", "2025-11-01", "100.00", "0.00", ""),
        ]
        for number, debtor, due, amount, open_amount, ogm in rows:
            due_date = date.fromisoformat(due)
            result = await conn.execute(
                insert(invoices)
                .values(
                    number=number,
                    debtor_id=ids[debtor],
                    kind="invoice",
                    issue_date=due_date - timedelta(days=30),
                    due_date=due_date,
                    currency="EUR",
                    amount=D(amount),
                    open_amount=D(open_amount),
                    status="open" if D(open_amount) else "paid",
                    structured_reference=ogm,
                    description=f"Services {number}",
                    **stamp,
                )
                .returning(invoices.c.id)
            )
            ids[number] = int(result.scalar_one())
            if not D(open_amount):
                await conn.execute(
                    insert(allocations).values(
                        invoice_id=ids[number],
                        source_kind="payment",
                        source_id=f"p-{number}",
                        amount=D(amount),
                        created_at=datetime.combine(
                            due_date + timedelta(days=61), datetime.min.time(), UTC
                        ),
                    )
                )
    return ids


async def decisions(engine: AsyncEngine, today: date) -> dict[str, Any]:
    return {d.invoice: d async for d in preview(engine, today, SETUP)}


async def test_preview_writes_nothing_and_run_queues_one_message_per_debtor(
    engine: AsyncEngine,
) -> None:
    await seed(engine)
    planned = await decisions(engine, date(2026, 3, 9))
    assert sorted(planned) == ["INV-1", "INV-2", "INV-3", "INV-5"]
    assert all(isinstance(d, DunningLine) and d.level.number == 1 for d in planned.values())
    # C3 paid its two old invoices 61 days late: the firm tone
    assert planned["INV-5"].tone.label == "firm"
    assert planned["INV-1"].tone.label == "friendly"
    async with engine.connect() as conn:
        assert (await conn.execute(select(dunning_lines))).first() is None

    report = await run_dunning(engine, date(2026, 3, 9), SETUP, NOW)
    assert (report.lines, report.messages) == (4, 3)
    again = await run_dunning(engine, date(2026, 3, 9), SETUP, NOW)
    assert (again.lines, again.messages) == (0, 0)  # a level goes once per invoice

    async with engine.connect() as conn:
        lines = (await conn.execute(select(dunning_lines))).all()
        messages = (await conn.execute(select(outbox).order_by(outbox.c.id))).all()
    assert {line.state for line in lines} == {"queued"}
    assert len({m.message_id for m in messages}) == 3
    jan = next(m for m in messages if m.recipient == "jan@example.be")
    mail = message_from_bytes(jan.payload, policy=policy.default)
    assert "INV-1" in mail["Subject"]
    assert "INV-2" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # Book XIX first reminder: free, and it announces the penalty (15 % capped)
    assert "kosteloos" in body
    # 150.00 -> terms 50.00 capped to 20.00; 400.00 -> terms 60.00 capped to 55.00
    assert "schadevergoeding van € 75,00" in body.replace("\xa0", " ")


async def test_sending_marks_lines_sent_and_the_next_level_follows(engine: AsyncEngine) -> None:
    await seed(engine)
    await run_dunning(engine, date(2026, 3, 9), SETUP, NOW)
    mailer = MemoryMailer(refuse={"ap@late.example"})
    report = await send_pending(
        engine,
        mailer,
        envelope_from="credit@relance.example",
        timezone=SETUP.timezone,
        clock=lambda: NOW,
    )
    assert (report.sent, report.failed) == (2, 1)
    async with engine.connect() as conn:
        states = {
            row.invoice_id: (row.state, row.sent_on)
            for row in await conn.execute(select(dunning_lines))
        }
    assert sorted(s for s, _d in states.values()) == ["error", "sent", "sent", "sent"]
    # Level 2 comes 15 days after level 1 was sent (on 2026-03-09): not on 03-23
    assert "INV-1" not in {
        k
        for k, v in (await decisions(engine, date(2026, 3, 23))).items()
        if isinstance(v, DunningLine)
    }
    later = await decisions(engine, date(2026, 3, 24))
    assert later["INV-1"].level.number == 2
    assert later["INV-1"].claim.fees.value == D("55.00")
    assert later["INV-3"].claim.fees.value == D("150.00")  # business: 15 % of 1,000
    assert later["INV-3"].claim.interest.value > 0
    # its first reminder was refused: staff must look, nothing is sent twice
    assert isinstance(later["INV-5"], Skip)
    assert later["INV-5"].reason.startswith("a reminder could not be delivered")
    assert (await run_dunning(engine, date(2026, 3, 24), SETUP, NOW)).lines == 3


async def test_holds_and_promises_through_the_repository_api(engine: AsyncEngine) -> None:
    ids = await seed(engine)
    async with engine.begin() as conn:
        hold = await dunning_repo.add_hold(
            conn, debtor_id=ids["C2"], reason="out_of_office", until=date(2026, 3, 20)
        )
        await dunning_repo.add_hold(conn, invoice_id=ids["INV-5"], reason="dispute", note="quality")
        await dunning_repo.record_promise(
            conn, [ids["INV-1"], ids["INV-2"]], D("550.00"), date(2026, 3, 12), "email"
        )
        with pytest.raises(dunning_repo.HoldError):
            await dunning_repo.add_hold(conn, reason="paused")
        with pytest.raises(dunning_repo.HoldError):
            await dunning_repo.add_hold(conn, debtor_id=ids["C1"], reason="holiday")
        with pytest.raises(ValueError, match="one debtor"):
            await dunning_repo.record_promise(
                conn, [ids["INV-1"], ids["INV-3"]], D("1"), date(2026, 3, 12), "email"
            )
    found = await decisions(engine, date(2026, 3, 9))
    assert all(isinstance(d, Skip) for d in found.values())
    assert found["INV-3"].reason == "hold (debtor): out_of_office until 2026-03-20"
    assert found["INV-5"].reason == "hold (invoice): dispute"
    assert found["INV-1"].reason == "promise to pay by 2026-03-12"
    assert json.loads(json.dumps(found["INV-1"].to_json()))["level"] is None
    # The hold ends on its date; the promise after its grace days.
    after = await decisions(engine, date(2026, 3, 20))
    assert isinstance(after["INV-3"], DunningLine)
    assert isinstance(after["INV-1"], DunningLine)
    async with engine.begin() as conn:
        assert await dunning_repo.release_hold(conn, hold_id=hold) == 1
        assert await dunning_repo.release_hold(conn, hold_id=hold) == 0
    assert isinstance((await decisions(engine, date(2026, 3, 9)))["INV-3"], DunningLine)


async def test_a_new_promise_or_a_plan_replaces_the_open_promises_on_its_invoices(
    engine: AsyncEngine,
) -> None:
    """A blind chat probe moved a promised date three times: three open promises,
    two of which would later count as broken and harden the tone."""
    from adapters.db.dunning_schema import dunning_holds, payment_promises
    from adapters.db.plan_repo import create_plan
    from domain.payment_plan import Instalment

    ids = await seed(engine)
    async with engine.begin() as conn:
        first = await dunning_repo.record_promise(
            conn, [ids["INV-1"], ids["INV-2"]], D("550.00"), date(2026, 3, 12), "webchat"
        )
        moved = await dunning_repo.record_promise(
            conn, [ids["INV-1"]], D("400.00"), date(2026, 3, 20), "webchat"
        )
        other = await dunning_repo.record_promise(
            conn, [ids["INV-5"]], D("300.00"), date(2026, 3, 20), "webchat"
        )
        assert await dunning_repo.supersede_promises(conn, [ids["INV-4"]]) == 0
        before_plan = dict(
            (await conn.execute(select(payment_promises.c.id, payment_promises.c.status))).all()
        )
        await create_plan(
            conn,
            debtor_id=ids["C1"],
            segment="consumer",
            currency="EUR",
            invoices_open=[(ids["INV-1"], D("400.00"))],
            instalments=[Instalment(1, date(2026, 4, 1), D("400.00"))],
            grace_days=3,
            remind_days_before=2,
        )
        # the same pause asked twice is one hold
        until = date(2026, 3, 25)
        holds = [
            await dunning_repo.add_hold(conn, invoice_id=ids["INV-5"], reason="paused", until=until)
            for _ in range(2)
        ]
        statuses = dict(
            (await conn.execute(select(payment_promises.c.id, payment_promises.c.status))).all()
        )
        paused = (
            (
                await conn.execute(
                    select(dunning_holds.c.id).where(dunning_holds.c.reason == "paused")
                )
            )
            .scalars()
            .all()
        )
    assert before_plan == {first: "cancelled", moved: "open", other: "open"}
    assert statuses == {first: "cancelled", moved: "cancelled", other: "open"}
    assert holds[0] == holds[1]
    assert paused == [holds[0]]


async def test_a_failed_run_leaves_neither_lines_nor_messages(engine: AsyncEngine) -> None:
    await seed(engine)
    broken = replace(SETUP, creditor=replace(SETUP.creditor, iban="X" * 40))  # QR refuses it
    with pytest.raises(ValueError):  # noqa: PT011 - segno's message is its own
        await run_dunning(engine, date(2026, 3, 9), broken, NOW)
    async with engine.connect() as conn:
        assert (await conn.execute(select(dunning_lines))).first() is None
        assert (await conn.execute(select(outbox))).first() is None


async def test_a_run_settles_expired_promises_and_broken_ones_harden_the_tone(
    engine: AsyncEngine,
) -> None:
    from sqlalchemy import update

    from adapters.db.dunning_schema import payment_promises

    ids = await seed(engine)
    async with engine.begin() as conn:
        kept = await dunning_repo.record_promise(
            conn, [ids["INV-3"]], D("1000.00"), date(2026, 3, 5), "email"
        )
        broken_1 = await dunning_repo.record_promise(
            conn, [ids["INV-1"]], D("400.00"), date(2026, 3, 2), "email"
        )
        broken_2 = await dunning_repo.record_promise(
            conn, [ids["INV-2"]], D("150.00"), date(2026, 3, 3), "telegram"
        )
        later = await dunning_repo.record_promise(
            conn, [ids["INV-5"]], D("300.00"), date(2026, 3, 8), "email"
        )
        # INV-3 is paid after the promise
        await conn.execute(
            update(invoices).where(invoices.c.id == ids["INV-3"]).values(open_amount=D("0"))
        )
        await conn.execute(
            insert(allocations).values(
                invoice_id=ids["INV-3"],
                source_kind="payment",
                source_id="p-late",
                amount=D("1000.00"),
                created_at=datetime.now(UTC),
            )
        )
    await run_dunning(engine, date(2026, 3, 9), SETUP, NOW)
    async with engine.connect() as conn:
        status = {
            row.id: row.status
            for row in await conn.execute(select(payment_promises.c.id, payment_promises.c.status))
        }
        tones = {
            row.invoice_id: row.tone
            for row in await conn.execute(select(dunning_lines.c.invoice_id, dunning_lines.c.tone))
        }
    assert status == {kept: "kept", broken_1: "broken", broken_2: "broken", later: "open"}
    # two broken promises, none kept: Jan Peeters gets the firm tone
    assert tones[ids["INV-1"]] == "firm"
    assert ids["INV-5"] not in tones  # its promise (08 March + 3 days) still runs


async def test_insolvency_on_one_invoice_stops_the_whole_debtor(engine: AsyncEngine) -> None:
    ids = await seed(engine)
    async with engine.begin() as conn:
        await dunning_repo.add_hold(conn, invoice_id=ids["INV-1"], reason="insolvency")
    found = await decisions(engine, date(2026, 3, 9))
    assert found["INV-1"].reason == "hold (debtor): insolvency"
    assert found["INV-2"].reason == "hold (debtor): insolvency"
    assert isinstance(found["INV-3"], DunningLine)  # another debtor


class FlakyMailer(MemoryMailer):
    """Refuses its first message for now (a 4xx), then accepts everything."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    async def send(self, sender: str, recipient: str, message: bytes) -> None:
        from adapters.mail.smtp import TemporaryFailure

        if self.failures == 0:
            self.failures += 1
            raise TemporaryFailure("451 try again later")
        await super().send(sender, recipient, message)


async def _send_at(engine: AsyncEngine, mailer: MemoryMailer, moment: datetime) -> Any:
    """``send_pending`` as the sender run at ``moment`` does it, with SETUP's contact rules."""
    return await send_pending(
        engine,
        mailer,
        envelope_from="credit@relance.example",
        timezone=SETUP.timezone,
        clock=lambda: moment,
        contact=SETUP.contact,
    )


async def test_a_temporary_failure_is_retried_later_not_at_once(engine: AsyncEngine) -> None:
    await seed(engine)
    await run_dunning(engine, date(2026, 3, 9), SETUP, NOW)
    mailer = FlakyMailer()

    def send_at(moment: datetime) -> Any:
        return _send_at(engine, mailer, moment)

    first = await send_at(NOW)
    assert (first.sent, first.retry) == (2, 1)
    assert (await send_at(NOW + timedelta(minutes=4))).sent == 0
    later = await send_at(NOW + timedelta(minutes=6))
    assert later.sent == 1
    assert len(mailer.sent) == 3
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.state, outbox.c.attempts))).all()
    assert sorted(rows) == [("sent", 1), ("sent", 1), ("sent", 2)]


async def test_a_reminder_claimed_in_quiet_hours_waits_for_the_morning(
    engine: AsyncEngine,
) -> None:
    """Queued at 10:00 for the day, but the sender runs at 22:05 Brussels time: not
    at night (README, FACTS §4c).  It waits; the next morning it is a day late and
    withdrawn, to be written again with that day's dates."""
    await seed(engine)
    await run_dunning(engine, date(2026, 3, 9), SETUP, NOW)
    mailer = MemoryMailer()

    def send_at(moment: datetime) -> Any:
        return _send_at(engine, mailer, moment)

    evening = datetime(2026, 3, 9, 21, 5, tzinfo=UTC)  # 22:05 in Brussels
    report = await send_at(evening)
    assert (report.sent, report.waiting) == (0, 3)
    assert mailer.sent == []
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.state, outbox.c.not_before))).all()
    assert {state for state, _ in rows} == {"pending"}
    morning = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # 08:00 in Brussels
    assert all(_utc(not_before) == morning for _, not_before in rows)
    # Nothing is claimed before then; at 08:00 the next day it is a day late.
    assert (await send_at(morning - timedelta(minutes=1))).waiting == 0
    late = await send_at(morning)
    assert (late.sent, late.withdrawn) == (0, 3)
    # Sent in the evening before 22:00, it goes.
    await run_dunning(engine, date(2026, 3, 10), SETUP, morning)
    assert (await send_at(datetime(2026, 3, 10, 20, 55, tzinfo=UTC))).sent == 3


async def test_a_notice_claimed_in_quiet_hours_waits_and_an_answer_goes(
    engine: AsyncEngine,
) -> None:
    """A message we start ourselves (a plan's notice) is kept out of the night like
    a reminder, but goes the next morning; an answer to the debtor goes at once."""
    morning = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # 08:00 in Brussels
    async with engine.begin() as conn:
        for kind in ("notice", "reply"):
            await dunning_repo.enqueue(
                conn,
                dunning_repo.OutgoingMessage(
                    message_id=f"<{kind}@relance.example>",
                    channel="email",
                    recipient=f"{kind}@example.be",
                    subject=kind,
                    payload=b"Subject: x\r\n\r\nx\r\n",
                    not_before=morning,
                    kind=kind,
                ),
            )
    mailer = MemoryMailer()
    night = await _send_at(engine, mailer, datetime(2026, 3, 9, 21, 30, tzinfo=UTC))
    assert (night.sent, night.waiting) == (1, 1)
    assert [recipient for _, recipient, _ in mailer.sent] == ["reply@example.be"]
    next_morning = await _send_at(engine, mailer, datetime(2026, 3, 10, 7, 0, tzinfo=UTC))
    assert (next_morning.sent, next_morning.withdrawn) == (1, 0)
    assert [recipient for _, recipient, _ in mailer.sent][1:] == ["notice@example.be"]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def test_a_reminder_that_misses_its_day_is_written_again_not_sent_with_old_dates(
    engine: AsyncEngine,
) -> None:
    """A first reminder says until when the debtor may pay (Book XIX: 14 days from
    the day after it is sent).  One that could not leave on its day (an outage
    overnight) would tell less time than the law counts from its real sending: it
    is withdrawn, and the next run writes that level again from its own day."""
    await seed(engine)
    await run_dunning(engine, date(2026, 3, 9), SETUP, NOW)

    def body(message: Any) -> str:
        mail = message_from_bytes(message.payload, policy=policy.default)
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        return str(text)

    async with engine.connect() as conn:
        first = (
            await conn.execute(select(outbox).where(outbox.c.recipient == "jan@example.be"))
        ).one()
    assert "23 maart 2026" in body(first)  # 10 to 23 March: sent on the 9th

    mailer = MemoryMailer()

    def send_next_day() -> Any:
        return _send_at(engine, mailer, NOW + timedelta(days=1))

    report = await send_next_day()
    assert (report.sent, report.withdrawn) == (0, 3)
    assert mailer.sent == []
    async with engine.connect() as conn:
        states = {row.state for row in await conn.execute(select(outbox))}
        left = (await conn.execute(select(dunning_lines))).all()
    assert states == {"withdrawn"}
    assert left == []
    # Not even staff can send it again: the run below writes it anew.
    assert not await resend(engine, first.id)

    again = await run_dunning(engine, date(2026, 3, 10), SETUP, NOW + timedelta(days=1))
    assert (again.lines, again.messages) == (4, 3)
    async with engine.connect() as conn:
        rewritten = (
            await conn.execute(
                select(outbox).where(
                    outbox.c.recipient == "jan@example.be", outbox.c.state == "pending"
                )
            )
        ).one()
    assert "24 maart 2026" in body(rewritten)  # 11 to 24 March: sent on the 10th
    assert (await send_next_day()).sent == 3


async def test_an_open_credit_note_that_covers_an_invoice_stops_its_reminder(
    engine: AsyncEngine,
) -> None:
    ids = await seed(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.execute(
            insert(invoices).values(
                number="CN-1",
                debtor_id=ids["C1"],
                kind="credit_note",
                issue_date=date(2026, 2, 25),
                due_date=date(2026, 2, 25),
                currency="EUR",
                amount=D("150.00"),
                open_amount=D("150.00"),  # set against no invoice: the debtor's credit
                status="open",
                structured_reference="",
                content_hash="x",
                created_at=now,
                updated_at=now,
            )
        )
    planned = await decisions(engine, date(2026, 3, 9))
    assert isinstance(planned["INV-2"], Skip)  # 150.00, covered by the credit note
    assert "credit of 150.00 EUR" in planned["INV-2"].reason
    assert isinstance(planned["INV-1"], DunningLine)  # 400.00: still owed in part
