"""What the law allows a creditor to claim on a late invoice, as dated data.

Belgium, consumers (Book XIX of the Code of Economic Law, law of 4 May 2023):
    principal 150.00 -> penalty at most 20.00
    principal 400.00 -> penalty at most 30.00 + 10 % of 250.00 = 55.00
    principal 900.00 -> penalty at most 65.00 + 5 % of 400.00 = 85.00
    principal 50000  -> penalty at most 2,000.00 (the cap)
    e-mail reminder sent on 2026-03-02 -> waiting period 03-03 .. 03-16,
                                          costs claimable from 2026-03-17

Belgium, businesses (law of 2 August 2002):
    rate 2025 H2 = 10.5 %; 1,000.00 late 30 days inside 2025 H2
        -> 1,000.00 x 10.5 % x 30 / 365 = 8.63, plus a flat 40.00 per invoice

Netherlands (WIK, Besluit vergoeding voor buitengerechtelijke incassokosten):
    principal 1,000.00 -> 15 % = 150.00;  principal 100.00 -> minimum 40.00

Every rule is a value valid from a date (``Dated``), never a bare constant, so a
new half-year's rate or a changed scale is one more row, and old invoices keep
the rule of their time.  Published rates are re-checked each January and July.

Day count for interest: actual/365 ("ACT/365 fixed").  The law of 2 August 2002
gives an annual rate without a day-count convention; counting the real days late
over a fixed 365 keeps one day's interest the same all year (also in leap years),
is what Belgian interest calculators of courts and bailiffs use, and never claims
more than ACT/ACT would in a leap year.  Interest is simple (never compounded), on
the principal only, from the day after the due date; a period that spans several
half-years uses each half-year's rate for its days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

T = TypeVar("T")

DAYS_IN_YEAR = Decimal(365)


class NoRuleForDate(LookupError):
    """The dated table has no rule for the asked date (e.g. a rate not yet published)."""


@dataclass(frozen=True, slots=True)
class Dated(Generic[T]):
    """A rule valid from ``since`` (inclusive) until the next row of its table."""

    since: date
    value: T
    source: str = ""


def rule_on(table: Sequence[Dated[T]], day: date, what: str) -> Dated[T]:
    """The row of ``table`` (sorted by ``since``) that applies on ``day``."""
    found: Dated[T] | None = None
    for row in table:
        if row.since <= day:
            found = row
        else:
            break
    if found is None:
        raise NoRuleForDate(f"no {what} known for {day.isoformat()}")
    return found


# --- Belgium, business debts: law of 2 August 2002 -------------------------------------

# ECB main refinancing rate + 8 points, rounded up to the next half point, published each
# half-year by the Minister of Finance (art. 5).  Percent per year.  Sources: FACTS.md §4b.
BE_B2B_RATES: tuple[Dated[Decimal], ...] = (
    Dated(date(2023, 1, 1), Decimal("10.5"), "FPS Finance notice, Belgian Gazette 17-03-2023"),
    Dated(date(2023, 7, 1), Decimal("12"), "2023 H2 (crivitspersyn, Oct 2023)"),
    Dated(date(2024, 1, 1), Decimal("12.5"), "2024 H1 (medenam.be; Schoups)"),
    Dated(date(2024, 7, 1), Decimal("12.5"), "2024 H2 (forumforthefuture.be)"),
    Dated(date(2025, 1, 1), Decimal("11.5"), "2025 H1 (Schoups)"),
    Dated(date(2025, 7, 1), Decimal("10.5"), "2025 H2 (embuild)"),
    Dated(date(2026, 1, 1), Decimal("10.5"), "2026 H1, announced unchanged (embuild)"),
)

# Art. 6: a flat compensation for recovery costs, per invoice, due without a reminder.
BE_B2B_FLAT_COMPENSATION: tuple[Dated[Decimal], ...] = (
    Dated(date(2013, 3, 16), Decimal("40.00"), "law of 2 August 2002, art. 6"),
)


def be_b2b_rate(day: date) -> Decimal:
    """The legal late-payment rate (percent per year) that applies to ``day``."""
    return rule_on(BE_B2B_RATES, day, "Belgian late-payment rate").value


def last_published_day() -> date:
    """The last day covered by a published rate (the end of the table's last half-year)."""
    return half_year_end(BE_B2B_RATES[-1].since)


def half_year_end(day: date) -> date:
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


# --- Belgium, consumer debts: Book XIX CEL --------------------------------------------


@dataclass(frozen=True, slots=True)
class PenaltyBracket:
    """Above ``above`` (and up to the next bracket): ``base`` + ``percent`` of the
    part above ``above``."""

    above: Decimal
    base: Decimal
    percent: Decimal


@dataclass(frozen=True, slots=True)
class ConsumerPenaltyScale:
    brackets: tuple[PenaltyBracket, ...]
    maximum: Decimal


# Art. XIX.4: caps on the penalty clause, on the outstanding principal.
BE_CONSUMER_PENALTY_SCALE: tuple[Dated[ConsumerPenaltyScale], ...] = (
    Dated(
        date(2023, 9, 1),
        ConsumerPenaltyScale(
            brackets=(
                PenaltyBracket(Decimal("0"), Decimal("20.00"), Decimal("0")),
                PenaltyBracket(Decimal("150.00"), Decimal("30.00"), Decimal("10")),
                PenaltyBracket(Decimal("500.00"), Decimal("65.00"), Decimal("5")),
            ),
            maximum=Decimal("2000.00"),
        ),
        "CEL art. XIX.4 (law of 4 May 2023)",
    ),
)

# The waiting period after the first (free) reminder, in calendar days, and how many
# working days after posting a paper reminder the period starts.
BE_CONSUMER_WAITING_DAYS: tuple[Dated[int], ...] = (Dated(date(2023, 9, 1), 14, "CEL art. XIX.2"),)
BE_CONSUMER_POSTAL_START_WORKING_DAYS = 3

# Book XIX applies to arrears under contracts made from 1 September 2023, and to all
# arrears from 1 December 2023.
BE_BOOK_XIX_IN_FORCE = date(2023, 12, 1)


def be_consumer_penalty_scale(day: date) -> ConsumerPenaltyScale:
    return rule_on(BE_CONSUMER_PENALTY_SCALE, day, "Book XIX penalty scale").value


# --- Netherlands: WIK scale ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WikScale:
    """(slice size or None for the rest, percent), applied in order; min and max."""

    slices: tuple[tuple[Decimal | None, Decimal], ...]
    minimum: Decimal
    maximum: Decimal


NL_WIK_SCALE: tuple[Dated[WikScale], ...] = (
    Dated(
        date(2012, 7, 1),
        WikScale(
            slices=(
                (Decimal("2500"), Decimal("15")),
                (Decimal("2500"), Decimal("10")),
                (Decimal("5000"), Decimal("5")),
                (Decimal("190000"), Decimal("1")),
                (None, Decimal("0.5")),
            ),
            minimum=Decimal("40.00"),
            maximum=Decimal("6775.00"),
        ),
        "Besluit vergoeding voor buitengerechtelijke incassokosten, Stb. 2012, 141, art. 2",
    ),
)

# Art. 6:96(6) BW: the "14-day letter" gives 14 days starting the day after receipt.
NL_LETTER_DAYS = 14


def nl_wik_scale(day: date) -> WikScale:
    return rule_on(NL_WIK_SCALE, day, "WIK scale").value


# --- Dates -----------------------------------------------------------------------------


def days_between(start_exclusive: date, end_inclusive: date) -> int:
    return max(0, (end_inclusive - start_exclusive).days)


def split_by_half_year(first_day: date, last_day: date) -> list[tuple[date, date]]:
    """Split the inclusive period [first_day, last_day] at half-year boundaries."""
    parts: list[tuple[date, date]] = []
    start = first_day
    while start <= last_day:
        end = min(half_year_end(start), last_day)
        parts.append((start, end))
        start = end + timedelta(days=1)
    return parts


__all__ = [
    "BE_B2B_FLAT_COMPENSATION",
    "BE_B2B_RATES",
    "BE_BOOK_XIX_IN_FORCE",
    "BE_CONSUMER_PENALTY_SCALE",
    "BE_CONSUMER_POSTAL_START_WORKING_DAYS",
    "BE_CONSUMER_WAITING_DAYS",
    "DAYS_IN_YEAR",
    "NL_LETTER_DAYS",
    "NL_WIK_SCALE",
    "ConsumerPenaltyScale",
    "Dated",
    "NoRuleForDate",
    "PenaltyBracket",
    "WikScale",
    "be_b2b_rate",
    "be_consumer_penalty_scale",
    "days_between",
    "half_year_end",
    "last_published_day",
    "nl_wik_scale",
    "rule_on",
    "split_by_half_year",
]
