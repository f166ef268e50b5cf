"""What may be claimed: interest per half-year, B2B flat compensation, Book XIX, WIK."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.fees import (
    NO_TERMS,
    Claim,
    CreditorTerms,
    FirstReminder,
    Jurisdiction,
    Medium,
    claim,
    consumer_fees,
    consumer_penalty_cap,
    late_interest,
    wik_costs,
)

D = Decimal
GENEROUS = CreditorTerms(interest_rate=D("12"), penalty_percent=D("15"), penalty_minimum=D("50.00"))


STANDARD = CreditorTerms()


def business(principal: str, due: date, today: date, terms: CreditorTerms = STANDARD) -> Claim:
    return claim(
        principal=D(principal),
        due_date=due,
        today=today,
        consumer=False,
        terms=terms,
        first_reminder=None,
    )


def test_b2b_interest_spanning_two_half_years_with_the_same_rate() -> None:
    # 30 days of 2025 H2 and 10 days of 2026 H1, both 10.5 %.
    result = business("1000.00", date(2025, 12, 1), date(2026, 1, 10))
    # 1000 x 10.5 % x 30/365 = 8.6301..., + 1000 x 10.5 % x 10/365 = 2.8767... -> 11.51
    assert result.interest.value == D("11.51")
    text = result.interest.explain()
    assert "x 30/365 (2025-12-02 to 2025-12-31)" in text
    assert "x 10/365 (2026-01-01 to 2026-01-10)" in text
    assert result.fees.value == D("40.00")
    assert result.total == D("1051.51")


def test_b2b_interest_uses_each_half_years_rate() -> None:
    # 10 days of 2024 H2 at 12.5 % and 10 days of 2025 H1 at 11.5 %.
    result = late_interest(D("1000.00"), date(2024, 12, 22), date(2025, 1, 10), None)
    # 3.42465... + 3.15068... = 6.5753... -> 6.58 (rounded once, at the end)
    assert result.value == D("6.58")
    assert "12.5 %" in result.explain()
    assert "11.5 %" in result.explain()


def test_b2b_interest_2023_h1_to_h2() -> None:
    result = late_interest(D("10000.00"), date(2023, 6, 21), date(2023, 7, 10), None)
    # 10 days x 10.5 % = 28.767..., 10 days x 12 % = 32.876... -> 61.64
    assert result.value == D("61.64")


def test_b2b_interest_runs_from_the_day_after_the_due_date() -> None:
    on_due = business("1000.00", date(2026, 3, 1), date(2026, 3, 1))
    assert on_due.interest.value == 0
    assert on_due.fees.value == 0
    one_day = business("1000.00", date(2026, 3, 1), date(2026, 3, 2))
    assert one_day.interest.value == D("0.29")  # 1000 x 10.5 % / 365 = 0.2877 -> 0.29


def test_terms_rate_above_the_law_is_cut_to_the_legal_rate() -> None:
    high = late_interest(D("1000.00"), date(2026, 1, 1), date(2026, 1, 10), D("15"))
    legal_rate = late_interest(D("1000.00"), date(2026, 1, 1), date(2026, 1, 10), None)
    assert high.value == legal_rate.value == D("2.88")
    low = late_interest(D("1000.00"), date(2026, 1, 1), date(2026, 1, 10), D("8"))
    assert low.value == D("2.19")  # 1000 x 8 % x 10 / 365 = 2.1918


def test_b2b_penalty_clause_includes_the_flat_compensation() -> None:
    terms = CreditorTerms(penalty_percent=D("10"), penalty_minimum=D("125.00"))
    big = business("1000.00", date(2026, 1, 1), date(2026, 2, 1), terms)
    assert big.fees.value == D("125.00")
    assert "includes the 40.00 flat compensation" in big.fees.explain()
    small = business(
        "100.00", date(2026, 1, 1), date(2026, 2, 1), CreditorTerms(penalty_percent=D("10"))
    )
    assert small.fees.value == D("40.00")


def test_b2b_without_terms_claims_nothing_extra() -> None:
    result = business("1000.00", date(2026, 1, 1), date(2026, 2, 1), NO_TERMS)
    assert result.fees.value == 0
    assert result.interest.value == 0
    assert result.total == D("1000.00")


def _consumer(principal: str, today: date, terms: CreditorTerms = GENEROUS) -> Claim:
    return claim(
        principal=D(principal),
        due_date=date(2026, 2, 1),
        today=today,
        consumer=True,
        terms=terms,
        first_reminder=FirstReminder(date(2026, 3, 2), Medium.ELECTRONIC),
    )


def test_consumer_first_reminder_is_free() -> None:
    result = claim(
        principal=D("400.00"),
        due_date=date(2026, 2, 1),
        today=date(2026, 3, 2),
        consumer=True,
        terms=GENEROUS,
        first_reminder=None,
    )
    assert result.fees.value == 0
    assert result.interest.value == 0
    assert "first reminder is free" in result.fees.explain()


def test_consumer_nothing_during_the_waiting_period() -> None:
    result = _consumer("400.00", date(2026, 3, 16))  # last day of the period
    assert result.fees.value == 0
    assert result.interest.value == 0
    assert result.fees_claimable_from == date(2026, 3, 17)
    assert "waiting period 2026-03-03 to 2026-03-16" in result.fees.explain()


@pytest.mark.parametrize(
    ("principal", "fees"),
    [
        ("100.00", "20.00"),  # terms 50.00 (minimum) -> cap 20.00
        ("150.00", "20.00"),
        ("150.01", "30.00"),
        ("400.00", "55.00"),  # terms 60.00 -> cap 55.00
        ("500.00", "65.00"),  # terms 75.00 -> cap 65.00
        ("500.01", "65.00"),
        ("1000.00", "90.00"),  # terms 150.00 -> cap 90.00
        ("50000.00", "2000.00"),  # terms 7,500.00 -> the 2,000.00 maximum
        # A cap ending in half a cent allows the cent below (a maximum, not rounded up).
        ("150.05", "30.00"),  # 30.00 + 10 % of 0.05 = 30.005
        ("500.10", "65.00"),  # 65.00 + 5 % of 0.10 = 65.005
        ("1000.10", "90.00"),  # 65.00 + 5 % of 500.10 = 90.005
    ],
)
def test_consumer_fees_are_the_terms_capped_by_book_xix(principal: str, fees: str) -> None:
    result = _consumer(principal, date(2026, 3, 17))
    assert result.fees.value == D(fees)
    assert "reduced to the cap" in result.fees.explain()


def test_consumer_fees_below_the_cap_are_kept() -> None:
    modest = CreditorTerms(penalty_percent=D("5"))
    result = _consumer("400.00", date(2026, 3, 17), modest)
    assert result.fees.value == D("20.00")
    assert "within the cap" in result.fees.explain()


def test_consumer_without_penalty_clause_or_rate_owes_neither() -> None:
    result = _consumer("400.00", date(2026, 4, 30), CreditorTerms())
    assert result.fees.value == 0
    assert result.interest.value == 0
    assert "no penalty clause" in result.fees.explain()


def test_consumer_interest_after_the_waiting_period_never_above_the_b2b_rate() -> None:
    # Terms say 12 %, the B2B rate in 2026 H1 is 10.5 %: 10.5 % for 2026-03-17..03-26.
    result = _consumer("1000.00", date(2026, 3, 26))
    assert result.interest.value == D("2.88")  # 1000 x 10.5 % x 10/365
    assert "10.5 % x 10/365 (2026-03-17 to 2026-03-26)" in result.interest.explain()


def test_consumer_announced_penalty_for_the_first_reminder() -> None:
    assert consumer_fees(D("400.00"), GENEROUS, date(2026, 3, 2)).value == D("55.00")


def test_netherlands_consumer_wik_after_the_letter() -> None:
    before = claim(
        principal=D("1000.00"),
        due_date=date(2026, 2, 1),
        today=date(2026, 3, 16),
        consumer=True,
        terms=CreditorTerms(),
        first_reminder=FirstReminder(date(2026, 3, 2)),
        jurisdiction=Jurisdiction.NL,
    )
    assert before.fees.value == 0
    after = claim(
        principal=D("1000.00"),
        due_date=date(2026, 2, 1),
        today=date(2026, 3, 17),
        consumer=True,
        terms=CreditorTerms(),
        first_reminder=FirstReminder(date(2026, 3, 2)),
        jurisdiction=Jurisdiction.NL,
    )
    assert after.fees.value == D("150.00")
    assert after.fees.explain().startswith("WIK scale: 15 % of 1,000.00")


@given(
    principal=st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2),
    percent=st.decimals(min_value=D("0"), max_value=D("100"), places=2),
    minimum=st.decimals(min_value=D("0"), max_value=D("5000"), places=2),
)
def test_consumer_fees_never_exceed_the_legal_cap(
    principal: Decimal, percent: Decimal, minimum: Decimal
) -> None:
    terms = CreditorTerms(penalty_percent=percent, penalty_minimum=minimum)
    day = date(2026, 3, 17)
    fees = consumer_fees(principal, terms, day).value
    assert 0 <= fees <= consumer_penalty_cap(principal, day).value <= D("2000.00")


def test_a_half_year_without_a_published_rate_says_so() -> None:
    result = late_interest(D("1000.00"), date(2026, 6, 21), date(2026, 7, 10), None)
    text = result.explain()
    assert "(2026-06-21 to 2026-06-30)" in text
    first, second = text.split(" + ")
    assert "carried forward" not in first
    assert "carried forward" in second
    assert result.value == D("5.75")  # 20 days x 10.5 % / 365 on 1,000.00 = 5.7534


def test_the_wik_maximum_is_not_rounded_up() -> None:
    # 15 % of 2,500.00 + 10 % of 0.05 = 375.005: at most 375.00
    assert wik_costs(D("2500.05")).value == D("375.00")
