"""Legal rules as dated data: the published rates, the Book XIX and WIK scales, periods."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters.holidays_be import belgian_holidays
from domain import legal
from domain.fees import (
    FirstReminder,
    Medium,
    consumer_penalty_cap,
    consumer_waiting_period,
    nl_letter_period,
    wik_costs,
)

D = Decimal
HOLIDAYS = belgian_holidays(2025, 2026)


@pytest.mark.parametrize(
    ("day", "rate"),
    [
        (date(2023, 1, 1), "10.5"),
        (date(2023, 6, 30), "10.5"),
        (date(2023, 7, 1), "12"),
        (date(2024, 1, 1), "12.5"),
        (date(2024, 12, 31), "12.5"),
        (date(2025, 1, 1), "11.5"),
        (date(2025, 7, 1), "10.5"),
        (date(2026, 3, 10), "10.5"),
    ],
)
def test_published_b2b_rates_per_half_year(day: date, rate: str) -> None:
    assert legal.be_b2b_rate(day) == D(rate)


def test_a_date_before_the_table_has_no_rate() -> None:
    with pytest.raises(legal.NoRuleForDate, match="2022-12-31"):
        legal.be_b2b_rate(date(2022, 12, 31))


def test_rate_table_is_sorted_and_on_half_year_starts() -> None:
    starts = [row.since for row in legal.BE_B2B_RATES]
    assert starts == sorted(starts)
    assert all(d.day == 1 and d.month in (1, 7) for d in starts)
    assert all(row.source for row in legal.BE_B2B_RATES)


def test_split_by_half_year() -> None:
    assert legal.split_by_half_year(date(2025, 6, 25), date(2026, 1, 3)) == [
        (date(2025, 6, 25), date(2025, 6, 30)),
        (date(2025, 7, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 3)),
    ]


@pytest.mark.parametrize(
    ("principal", "cap"),
    [
        ("0.01", "20.00"),
        ("120.00", "20.00"),
        ("150.00", "20.00"),  # last cent of the first bracket
        ("150.01", "30.00"),  # 30 + 10 % of 0.01 = 30.001 -> 30.00
        ("400.00", "55.00"),  # FACTS.md worked figure: 30 + 10 % of 250
        ("500.00", "65.00"),  # 30 + 10 % of 350
        ("500.01", "65.00"),  # 65 + 5 % of 0.01
        ("900.00", "85.00"),  # 65 + 5 % of 400
        ("39200.00", "2000.00"),  # 65 + 5 % of 38,700 = 2,000 exactly
        ("39200.20", "2000.00"),  # would be 2,000.01: the maximum applies
        ("100000.00", "2000.00"),
    ],
)
def test_book_xix_cap_at_every_boundary(principal: str, cap: str) -> None:
    amount = consumer_penalty_cap(D(principal), date(2026, 3, 1))
    assert amount.value == D(cap)
    assert amount.breakdown
    assert "Book XIX" in amount.breakdown[0]


def test_book_xix_cap_breakdown_says_how() -> None:
    amount = consumer_penalty_cap(D("400.00"), date(2026, 3, 1))
    assert amount.explain() == "Book XIX cap: 30.00 + 10 % of 250.00 above 150.00 = 55.00"
    capped = consumer_penalty_cap(D("100000.00"), date(2026, 3, 1))
    assert "limited to the maximum of 2,000.00" in capped.explain()


def test_book_xix_scale_is_not_known_before_the_law() -> None:
    with pytest.raises(legal.NoRuleForDate):
        consumer_penalty_cap(D("100"), date(2023, 8, 31))


@pytest.mark.parametrize(
    ("principal", "costs"),
    [
        ("100.00", "40.00"),  # 15 % = 15.00, raised to the minimum
        ("266.67", "40.00"),  # 15 % = 40.0005 -> 40.00
        ("1000.00", "150.00"),
        ("2500.00", "375.00"),
        ("5000.00", "625.00"),  # 375 + 10 % of 2,500
        ("10000.00", "875.00"),  # + 5 % of 5,000
        ("200000.00", "2775.00"),  # + 1 % of 190,000
        ("400000.00", "3775.00"),  # + 0.5 % of 200,000
        ("1000000.00", "6775.00"),  # 2,775 + 0.5 % of 800,000 = 6,775 exactly
        ("5000000.00", "6775.00"),  # the maximum
    ],
)
def test_wik_scale(principal: str, costs: str) -> None:
    assert wik_costs(D(principal), date(2026, 3, 1)).value == D(costs)


def test_waiting_period_after_an_email_starts_the_next_day() -> None:
    start, end = consumer_waiting_period(FirstReminder(date(2026, 3, 2)), HOLIDAYS)
    assert (start, end) == (date(2026, 3, 3), date(2026, 3, 16))


def test_waiting_period_after_a_letter_starts_on_the_third_working_day() -> None:
    # Posted Friday 6 March 2026: Mon 9 (1), Tue 10 (2), Wed 11 (3).
    start, end = consumer_waiting_period(FirstReminder(date(2026, 3, 6), Medium.POSTAL), HOLIDAYS)
    assert (start, end) == (date(2026, 3, 11), date(2026, 3, 24))


def test_waiting_period_after_a_letter_skips_easter_monday() -> None:
    # Posted Thursday 2 April 2026: Fri 3 (1), Easter Monday 6 is a holiday, Tue 7 (2), Wed 8 (3).
    start, _end = consumer_waiting_period(FirstReminder(date(2026, 4, 2), Medium.POSTAL), HOLIDAYS)
    assert start == date(2026, 4, 8)


def test_dutch_fourteen_day_letter() -> None:
    start, end = nl_letter_period(FirstReminder(date(2026, 3, 2)), frozenset())
    assert (start, end) == (date(2026, 3, 3), date(2026, 3, 16))


def test_without_a_day_the_latest_scales_apply() -> None:
    assert consumer_penalty_cap(D("400.00")).value == D("55.00")
    assert wik_costs(D("1000.00")).value == D("150.00")
