"""What may be claimed on a late invoice, each amount with how it was computed.

    Belgian consumer, principal 400.00, penalty clause 15 % min 50.00,
    first reminder e-mailed 2026-03-02, today 2026-03-20
        -> fees 55.00  ("terms 60.00; Book XIX cap 30.00 + 10 % of 250.00 = 55.00")
    Belgian consumer, same invoice, today 2026-03-10 (inside the waiting period)
        -> fees 0.00   ("waiting period until 2026-03-16: nothing may be claimed yet")
    Belgian business, 1,000.00 due 2025-12-01, today 2026-01-10
        -> interest 1,000.00 x 10.5 % x 30/365 (2025 H2) + x 10.5 % x 10/365 (2026 H1)
           = 11.51, fees 40.00 (flat compensation, law of 2 August 2002 art. 6)

The creditor's own terms (``CreditorTerms``) decide what is claimed; the law
(``domain.legal``) caps it.  Relance never claims more than the law allows, even
where a judge might uphold more: a claim that cannot be lost in court.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from domain import legal
from domain.calendar import nth_working_day_after
from domain.money import ROUND_DOWN, ZERO, to_cents

HUNDRED = Decimal(100)


class Jurisdiction(StrEnum):
    BE = "BE"
    NL = "NL"


class Medium(StrEnum):
    """How a reminder reached the debtor: it decides when a waiting period starts."""

    ELECTRONIC = "electronic"  # e-mail, Telegram, web: durable medium, sent the same day
    POSTAL = "postal"


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount and the human-readable steps that produced it."""

    value: Decimal
    breakdown: tuple[str, ...] = ()

    @classmethod
    def nothing(cls, why: str) -> Amount:
        return cls(ZERO, (why,))

    def explain(self) -> str:
        return "; ".join(self.breakdown)


@dataclass(frozen=True, slots=True)
class CreditorTerms:
    """What the creditor's general terms provide for late payment.

    ``interest_rate``: the agreed late-payment rate, percent per year; None when the
    terms name none (businesses then owe the statutory rate if ``legal_interest``;
    consumers owe no interest at all).  ``penalty_percent`` / ``penalty_minimum``:
    the penalty clause ("10 % with a minimum of 50.00"); None when there is none.
    ``flat_compensation``: claim the 40.00 of the law of 2 August 2002 from businesses.
    """

    interest_rate: Decimal | None = None
    legal_interest: bool = True
    penalty_percent: Decimal | None = None
    penalty_minimum: Decimal = ZERO
    flat_compensation: bool = True


NO_TERMS = CreditorTerms(legal_interest=False, flat_compensation=False)


@dataclass(frozen=True, slots=True)
class FirstReminder:
    sent_on: date
    medium: Medium = Medium.ELECTRONIC


@dataclass(frozen=True, slots=True)
class Claim:
    principal: Decimal
    fees: Amount
    interest: Amount
    fees_claimable_from: date | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> Decimal:
        return self.principal + self.fees.value + self.interest.value


def _money(value: Decimal) -> str:
    return f"{to_cents(value):,.2f}"


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f} %"


# --- Penalty caps and scales -----------------------------------------------------------


def consumer_penalty_cap(principal: Decimal, day: date | None = None) -> Amount:
    """The Book XIX cap on a consumer penalty clause for ``principal`` outstanding
    (the scale in force on ``day``; without a day, the latest one)."""
    scale = (
        legal.be_consumer_penalty_scale(day)
        if day is not None
        else legal.BE_CONSUMER_PENALTY_SCALE[-1].value
    )
    bracket = scale.brackets[0]
    for candidate in scale.brackets:
        if principal > candidate.above:
            bracket = candidate
    excess = principal - bracket.above
    raw = bracket.base + (excess * bracket.percent / HUNDRED if bracket.percent else ZERO)
    # A maximum: a half cent above it is not allowed (30.005 allows 30.00, not 30.01).
    value = to_cents(raw, ROUND_DOWN)
    if bracket.percent:
        step = (
            f"Book XIX cap: {_money(bracket.base)} + {_pct(bracket.percent)} of "
            f"{_money(excess)} above {_money(bracket.above)} = {_money(value)}"
        )
    else:
        step = (
            f"Book XIX cap: {_money(value)} for a principal up to {_money(scale.brackets[1].above)}"
        )
    if value > scale.maximum:
        value = scale.maximum
        step += f", limited to the maximum of {_money(scale.maximum)}"
    return Amount(value, (step,))


def wik_costs(principal: Decimal, day: date | None = None) -> Amount:
    """Dutch extrajudicial collection costs (WIK scale) for ``principal`` (the scale
    in force on ``day``; without a day, the latest one)."""
    scale = legal.nl_wik_scale(day) if day is not None else legal.NL_WIK_SCALE[-1].value
    remaining, raw, steps = principal, ZERO, []
    for size, percent in scale.slices:
        if remaining <= 0:
            break
        part = remaining if size is None else min(remaining, size)
        raw += part * percent / HUNDRED
        steps.append(f"{_pct(percent)} of {_money(part)}")
        remaining -= part
    value = to_cents(raw, ROUND_DOWN)  # a maximum, as the Book XIX cap
    text = f"WIK scale: {' + '.join(steps) or '0'} = {_money(value)}"
    if value < scale.minimum:
        value, text = scale.minimum, text + f", raised to the minimum of {_money(scale.minimum)}"
    if value > scale.maximum:
        value, text = scale.maximum, text + f", limited to the maximum of {_money(scale.maximum)}"
    return Amount(value, (text,))


def terms_penalty(principal: Decimal, terms: CreditorTerms) -> Amount | None:
    """The penalty clause of the creditor's terms, or None when there is none."""
    if terms.penalty_percent is None:
        return None
    raw = to_cents(principal * terms.penalty_percent / HUNDRED)
    text = f"terms: {_pct(terms.penalty_percent)} of {_money(principal)} = {_money(raw)}"
    if raw < terms.penalty_minimum:
        raw = terms.penalty_minimum
        text += f", raised to the agreed minimum of {_money(raw)}"
    return Amount(raw, (text,))


# --- Interest ----------------------------------------------------------------------------


def late_interest(
    principal: Decimal,
    first_day: date,
    last_day: date,
    terms_rate: Decimal | None,
    *,
    legal_rate_caps: bool = True,
) -> Amount:
    """Simple interest on ``principal`` for each day of [first_day, last_day], ACT/365.

    Each half-year's days use that half-year's statutory rate (``terms_rate`` when it
    is lower, never above the statutory rate).  Rounded once, half up, at the end.
    """
    if last_day < first_day or principal <= 0:
        return Amount.nothing("no interest: no day late yet")
    raw, steps = ZERO, []
    for start, end in legal.split_by_half_year(first_day, last_day):
        days = (end - start).days + 1
        legal_rate = legal.be_b2b_rate(start)
        rate = legal_rate if terms_rate is None else terms_rate
        if legal_rate_caps and rate > legal_rate:
            rate = legal_rate
        raw += principal * rate / HUNDRED * days / legal.DAYS_IN_YEAR
        step = (
            f"{_money(principal)} x {_pct(rate)} x {days}/365 "
            f"({start.isoformat()} to {end.isoformat()})"
        )
        if start > legal.last_published_day():
            step += " [rate of the last published half-year carried forward: check the table]"
        steps.append(step)
    value = to_cents(raw)
    return Amount(value, (f"interest: {' + '.join(steps)} = {_money(value)}",))


# --- Waiting periods -----------------------------------------------------------------------


def consumer_waiting_period(
    reminder: FirstReminder, holidays: Collection[date]
) -> tuple[date, date]:
    """First and last day of the Book XIX waiting period after the first reminder.

    E-mail: it starts the calendar day after sending.  Paper: the third working day
    after posting.  It lasts 14 calendar days; costs may be claimed from the day after.
    """
    days = legal.rule_on(legal.BE_CONSUMER_WAITING_DAYS, reminder.sent_on, "waiting period").value
    if reminder.medium is Medium.POSTAL:
        start = nth_working_day_after(
            reminder.sent_on, legal.BE_CONSUMER_POSTAL_START_WORKING_DAYS, holidays
        )
    else:
        start = reminder.sent_on + timedelta(days=1)
    return start, start + timedelta(days=days - 1)


def nl_letter_period(reminder: FirstReminder, holidays: Collection[date]) -> tuple[date, date]:
    """The 14 days of the Dutch "14-day letter", starting the day after receipt.

    Receipt: the day an e-mail is sent; for a posted letter we assume the second
    working day after posting (a conservative reading; the law says "receipt")."""
    received = reminder.sent_on
    if reminder.medium is Medium.POSTAL:
        received = nth_working_day_after(reminder.sent_on, 2, holidays)
    start = received + timedelta(days=1)
    return start, start + timedelta(days=legal.NL_LETTER_DAYS - 1)


# --- The claim --------------------------------------------------------------------------------


def claim(
    *,
    principal: Decimal,
    due_date: date,
    today: date,
    consumer: bool,
    terms: CreditorTerms,
    first_reminder: FirstReminder | None,
    jurisdiction: Jurisdiction = Jurisdiction.BE,
    holidays: Collection[date] = frozenset(),
) -> Claim:
    """Principal, fees and interest claimable on ``today`` for one invoice."""
    principal = to_cents(principal)
    if principal <= 0 or today <= due_date:
        why = "nothing late: no fees or interest"
        return Claim(principal, Amount.nothing(why), Amount.nothing(why))
    if jurisdiction is Jurisdiction.NL:
        return _claim_nl(principal, due_date, today, consumer, terms, first_reminder, holidays)
    if consumer:
        return _claim_be_consumer(principal, today, terms, first_reminder, holidays)
    return _claim_be_business(principal, due_date, today, terms)


def _claim_be_business(
    principal: Decimal, due_date: date, today: date, terms: CreditorTerms
) -> Claim:
    # Law of 2 August 2002: interest runs without notice from the day after the due date.
    if terms.interest_rate is None and not terms.legal_interest:
        interest = Amount.nothing("no interest: the terms do not claim it")
    else:
        interest = late_interest(
            principal, due_date + timedelta(days=1), today, terms.interest_rate
        )
    steps: list[str] = []
    fees = ZERO
    if terms.flat_compensation:
        flat = legal.rule_on(legal.BE_B2B_FLAT_COMPENSATION, due_date, "flat compensation")
        fees = flat.value
        steps.append(f"flat compensation {_money(fees)} ({flat.source})")
    penalty = terms_penalty(principal, terms)
    if penalty is not None:
        steps.extend(penalty.breakdown)
        if penalty.value > fees:
            if fees:
                steps.append(f"the penalty clause includes the {_money(fees)} flat compensation")
            fees = penalty.value
        elif fees:
            steps.append("the flat compensation is higher than the penalty clause")
    if not steps:
        steps.append("no fees: the terms claim none")
    return Claim(principal, Amount(fees, tuple(steps)), interest, due_date + timedelta(days=1))


def _claim_be_consumer(
    principal: Decimal,
    today: date,
    terms: CreditorTerms,
    first_reminder: FirstReminder | None,
    holidays: Collection[date],
) -> Claim:
    if first_reminder is None:
        why = "Book XIX: the first reminder is free; nothing may be claimed before it"
        return Claim(principal, Amount.nothing(why), Amount.nothing(why))
    start, end = consumer_waiting_period(first_reminder, holidays)
    claimable = end + timedelta(days=1)
    if today < claimable:
        why = (
            f"Book XIX waiting period {start.isoformat()} to {end.isoformat()}: "
            f"nothing may be claimed before {claimable.isoformat()}"
        )
        return Claim(principal, Amount.nothing(why), Amount.nothing(why), claimable)
    fees = consumer_fees(principal, terms, today)
    if terms.interest_rate is None:
        interest = Amount.nothing("no interest: the terms provide none (Book XIX)")
    else:
        # Conservative reading of Book XIX: interest only for days after the waiting
        # period, at the agreed rate but never above the statutory B2B rate.
        interest = late_interest(principal, claimable, today, terms.interest_rate)
    return Claim(principal, fees, interest, claimable)


def consumer_fees(principal: Decimal, terms: CreditorTerms, day: date) -> Amount:
    """The penalty claimable from a Belgian consumer: the terms' clause, capped by law.

    Also what the first reminder must announce ("the amount of the penalty clause
    that will be claimed if unpaid within 14 days")."""
    penalty = terms_penalty(principal, terms)
    if penalty is None:
        return Amount.nothing("no fees: the terms provide no penalty clause")
    cap = consumer_penalty_cap(principal, day)
    if penalty.value > cap.value:
        return Amount(cap.value, (*penalty.breakdown, *cap.breakdown, "reduced to the cap"))
    return Amount(penalty.value, (*penalty.breakdown, *cap.breakdown, "within the cap"))


def _claim_nl(
    principal: Decimal,
    due_date: date,
    today: date,
    consumer: bool,
    terms: CreditorTerms,
    first_reminder: FirstReminder | None,
    holidays: Collection[date],
) -> Claim:
    no_interest = Amount.nothing("no interest computed: Dutch statutory rates are not in the table")
    claimable: date | None = due_date + timedelta(days=1)
    if consumer:
        if first_reminder is None:
            why = "WIK: costs only after a 14-day letter"
            return Claim(principal, Amount.nothing(why), no_interest)
        start, end = nl_letter_period(first_reminder, holidays)
        claimable = end + timedelta(days=1)
        if today < claimable:
            why = f"WIK: 14-day letter period {start.isoformat()} to {end.isoformat()}"
            return Claim(principal, Amount.nothing(why), no_interest, claimable)
    return Claim(principal, nl_collection_costs(principal, terms, today), no_interest, claimable)


def nl_collection_costs(principal: Decimal, terms: CreditorTerms, day: date) -> Amount:
    """Dutch collection costs: the WIK scale, or the terms' clause when it is lower.

    Also what the Dutch "14-day letter" must announce to a consumer."""
    scale = wik_costs(principal, day)
    penalty = terms_penalty(principal, terms)
    if penalty is not None and penalty.value < scale.value:
        return Amount(penalty.value, (*penalty.breakdown, *scale.breakdown, "terms are lower"))
    return scale


__all__ = [
    "NO_TERMS",
    "Amount",
    "Claim",
    "CreditorTerms",
    "FirstReminder",
    "Jurisdiction",
    "Medium",
    "claim",
    "consumer_fees",
    "consumer_penalty_cap",
    "consumer_waiting_period",
    "late_interest",
    "nl_collection_costs",
    "nl_letter_period",
    "terms_penalty",
    "wik_costs",
]
