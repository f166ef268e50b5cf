"""Dunning decisions: levels and their timing, tone from history, holds, promises."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from adapters.holidays_be import belgian_holidays
from domain.calendar import ContactRules
from domain.dunning import (
    DEFAULT_POLICY,
    Channel,
    DunningLevel,
    DunningLine,
    DunningPolicy,
    Hold,
    HoldReason,
    InvoiceSituation,
    PaymentHistory,
    Promise,
    Skip,
    Tone,
    decide,
    group_lines,
    run,
    tone_for,
)
from domain.fees import CreditorTerms, FirstReminder

D = Decimal
CONTACT = ContactRules(holidays=belgian_holidays(2026))
POLICY = replace(
    DEFAULT_POLICY, terms=CreditorTerms(penalty_percent=D("15"), penalty_minimum=D("50"))
)
DUE = date(2026, 3, 2)  # a Monday
GOOD = PaymentHistory()


def situation(**changes: object) -> InvoiceSituation:
    base = InvoiceSituation(
        invoice_id=1,
        number="INV-1",
        debtor_id=10,
        debtor_code="C10",
        debtor_name="Jan Peeters",
        consumer=True,
        language="nl",
        due_date=DUE,
        open_amount=D("400.00"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_nothing_before_the_first_level_is_due() -> None:
    assert decide(situation(), GOOD, POLICY, DUE, CONTACT) is None
    assert decide(situation(), GOOD, POLICY, DUE + timedelta(days=6), CONTACT) is None


def test_first_level_seven_days_after_due_is_free() -> None:
    line = decide(situation(), GOOD, POLICY, date(2026, 3, 9), CONTACT)
    assert isinstance(line, DunningLine)
    assert line.level.number == 1
    assert line.tone is Tone.FRIENDLY
    assert line.channel is Channel.EMAIL
    assert line.claim.fees.value == 0
    assert line.claim.total == D("400.00")
    assert line.to_json() == {
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


def test_send_on_moves_past_sunday_and_holidays() -> None:
    line = decide(situation(), GOOD, POLICY, date(2026, 4, 5), CONTACT)  # Easter Sunday
    assert isinstance(line, DunningLine)
    assert line.send_on == date(2026, 4, 7)


def test_consumer_second_level_waits_for_the_end_of_the_waiting_period() -> None:
    sent = date(2026, 3, 9)
    after_first = situation(last_level=1, last_sent_on=sent, first_reminder=FirstReminder(sent))
    # Level 2 is 15 days after level 1: 2026-03-24, the first day after the period.
    assert decide(after_first, GOOD, POLICY, date(2026, 3, 23), CONTACT) is None
    line = decide(after_first, GOOD, POLICY, date(2026, 3, 24), CONTACT)
    assert isinstance(line, DunningLine)
    assert line.level.number == 2
    assert line.claim.fees.value == D("55.00")  # terms 60.00, Book XIX cap 55.00
    assert line.claim.total == D("455.00")


def test_a_policy_sending_level_two_too_early_gets_a_waiting_period_skip() -> None:
    hasty = DunningPolicy(
        "hasty",
        (DunningLevel(1, "Reminder", 1), DunningLevel(2, "Second", 5, claims_fees=True)),
        terms=POLICY.terms,
    )
    sent = date(2026, 3, 9)
    s = situation(last_level=1, last_sent_on=sent, first_reminder=FirstReminder(sent))
    skip = decide(s, GOOD, hasty, date(2026, 3, 16), CONTACT)
    assert isinstance(skip, Skip)
    assert skip.reason == "waiting period until 2026-03-23"
    assert skip.to_json()["level"] is None


def test_business_second_level_claims_interest_and_flat_fee() -> None:
    sent = date(2026, 3, 9)
    s = situation(
        consumer=False, last_level=1, last_sent_on=sent, first_reminder=FirstReminder(sent)
    )
    line = decide(s, GOOD, POLICY, date(2026, 3, 24), CONTACT)
    assert isinstance(line, DunningLine)
    assert line.claim.fees.value == D("60.00")  # 15 % of 400 includes the 40.00 flat
    # 22 days (03-03..03-24) x 10.5 % on 400.00 = 2.5315 -> 2.53
    assert line.claim.interest.value == D("2.53")


def test_previous_level_still_on_its_way() -> None:
    s = situation(last_level=1, last_sent_on=None)
    skip = decide(s, GOOD, POLICY, date(2026, 5, 1), CONTACT)
    assert isinstance(skip, Skip)
    assert skip.reason == "level 1 is in the outbox, not sent yet"


def test_after_the_last_level_staff_decide() -> None:
    s = situation(last_level=3, last_sent_on=date(2026, 4, 1))
    skip = decide(s, GOOD, POLICY, date(2026, 6, 1), CONTACT)
    assert isinstance(skip, Skip)
    assert "all levels sent" in skip.reason


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"disputed": True}, "dispute open"),
        (
            {"holds": (Hold(HoldReason.INSOLVENCY, None, debtor_wide=True),)},
            "hold (debtor): insolvency",
        ),
        ({"holds": (Hold(HoldReason.TAKEOVER),)}, "hold (invoice): takeover"),
        ({"holds": (Hold(HoldReason.PLAN),)}, "hold (invoice): plan"),
        (
            {"holds": (Hold(HoldReason.OUT_OF_OFFICE, date(2026, 4, 20), True),)},
            "hold (debtor): out_of_office until 2026-04-20",
        ),
        (
            {"promises": (Promise(date(2026, 4, 12), D("400.00")),)},
            "promise to pay by 2026-04-12",
        ),
        ({"open_amount": D("2.00")}, "open amount below 5.00"),
        (
            {"delivery_failed": True},
            "a reminder could not be delivered: check the address, then resend",
        ),
    ],
)
def test_stop_conditions(changes: dict[str, object], reason: str) -> None:
    skip = decide(situation(**changes), GOOD, POLICY, date(2026, 4, 14), CONTACT)
    assert isinstance(skip, Skip)
    assert skip.reason == reason


def test_insolvency_outranks_a_promise_and_other_holds() -> None:
    s = situation(
        holds=(
            Hold(HoldReason.PAUSED, date(2026, 5, 1)),
            Hold(HoldReason.INSOLVENCY, None, True),
        ),
        promises=(Promise(date(2026, 4, 20), D("10")),),
    )
    skip = decide(s, GOOD, POLICY, date(2026, 4, 14), CONTACT)
    assert isinstance(skip, Skip)
    assert "insolvency" in skip.reason


def test_holds_end_on_their_until_date_and_promises_after_grace() -> None:
    held = situation(holds=(Hold(HoldReason.OUT_OF_OFFICE, date(2026, 4, 20), True),))
    assert isinstance(decide(held, GOOD, POLICY, date(2026, 4, 20), CONTACT), DunningLine)
    promised = situation(promises=(Promise(date(2026, 4, 10), D("400")),))
    # grace of 3 days: quiet until 2026-04-13 inclusive
    assert isinstance(decide(promised, GOOD, POLICY, date(2026, 4, 13), CONTACT), Skip)
    assert isinstance(decide(promised, GOOD, POLICY, date(2026, 4, 14), CONTACT), DunningLine)


def test_paid_and_written_off_invoices_get_nothing() -> None:
    assert decide(situation(open_amount=D("0")), GOOD, POLICY, date(2026, 4, 1), CONTACT) is None
    assert decide(situation(written_off=True), GOOD, POLICY, date(2026, 4, 1), CONTACT) is None


@pytest.mark.parametrize(
    ("history", "tone"),
    [
        (PaymentHistory(), Tone.FRIENDLY),
        (PaymentHistory(paid_invoices=5, average_days_late=D("3")), Tone.FRIENDLY),
        (PaymentHistory(paid_invoices=5, average_days_late=D("12")), Tone.NEUTRAL),
        (PaymentHistory(paid_invoices=5, average_days_late=D("45")), Tone.FIRM),
        (PaymentHistory(promises_broken=1, promises_kept=3), Tone.NEUTRAL),
        (PaymentHistory(promises_broken=2, promises_kept=0), Tone.FIRM),
        (PaymentHistory(promises_broken=2, promises_kept=5), Tone.NEUTRAL),
    ],
)
def test_tone_from_history(history: PaymentHistory, tone: Tone) -> None:
    assert tone_for(history, DEFAULT_POLICY.levels[0]) is tone


def test_final_level_is_never_friendly() -> None:
    assert tone_for(PaymentHistory(), DEFAULT_POLICY.levels[2]) is Tone.NEUTRAL


def test_without_email_the_reminder_goes_by_letter() -> None:
    line = decide(situation(channels=()), GOOD, POLICY, date(2026, 3, 9), CONTACT)
    assert isinstance(line, DunningLine)
    assert line.channel is Channel.LETTER


def test_a_run_groups_a_debtors_invoices_into_one_message() -> None:
    situations = [
        (situation(invoice_id=1, number="INV-1"), GOOD),
        (situation(invoice_id=2, number="INV-2"), GOOD),
        (situation(invoice_id=3, number="INV-3", debtor_id=11, debtor_name="Other"), GOOD),
        (situation(invoice_id=4, number="INV-4", disputed=True), GOOD),
    ]
    result = run(situations, POLICY, date(2026, 3, 9), CONTACT)
    assert [line.invoice for line in result.lines] == ["INV-1", "INV-2", "INV-3"]
    assert [skip.invoice for skip in result.skips] == ["INV-4"]
    groups = group_lines(result.lines)
    assert sorted(len(g) for g in groups.values()) == [1, 2]


def test_levels_must_be_numbered_in_order() -> None:
    with pytest.raises(ValueError, match="numbered"):
        DunningPolicy("bad", (DunningLevel(2, "x", 1),))


def test_a_consumers_first_reminder_goes_on_a_durable_medium_not_telegram() -> None:
    chat_first = replace(POLICY, channels=(Channel.TELEGRAM, Channel.EMAIL, Channel.LETTER))
    both = situation(channels=(Channel.TELEGRAM, Channel.EMAIL))
    line = decide(both, GOOD, chat_first, date(2026, 3, 9), CONTACT)
    assert isinstance(line, DunningLine)
    assert line.channel is Channel.EMAIL
    business = decide(replace(both, consumer=False), GOOD, chat_first, date(2026, 3, 9), CONTACT)
    assert isinstance(business, DunningLine)
    assert business.channel is Channel.TELEGRAM


def test_a_credit_that_covers_the_invoice_stops_its_reminders() -> None:
    """A debtor holding a credit note (or an overpayment) worth the invoice is not
    reminded of it: staff set the one against the other, or refund."""
    late = DUE + timedelta(days=7)
    covered = decide(situation(credit=D("400.00")), GOOD, POLICY, late, CONTACT)
    assert isinstance(covered, Skip)
    assert covered.reason.startswith("the debtor holds a credit of 400.00 EUR")
    # A smaller credit leaves the reminder (a part is still owed).
    partial = decide(situation(credit=D("100.00")), GOOD, POLICY, late, CONTACT)
    assert isinstance(partial, DunningLine)
    assert partial.level.number == 1
