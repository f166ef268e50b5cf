"""Money: exact, one currency at a time, explicit rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import CurrencyMismatch, Money, parse_decimal, total

amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False)
currencies = st.sampled_from(["EUR", "USD", "GBP", "CHF"])


@given(amounts, currencies, amounts, currencies)
def test_money_never_mixes_currencies(a: Decimal, ca: str, b: Decimal, cb: str) -> None:
    left, right = Money(a, ca), Money(b, cb)
    if ca == cb:
        assert (left + right).amount == a + b
        assert (left - right).currency == ca
    else:
        with pytest.raises(CurrencyMismatch):
            left + right
        with pytest.raises(CurrencyMismatch):
            left - right
        with pytest.raises(CurrencyMismatch):
            _ = left < right


@given(st.decimals(min_value=0, max_value=10**7, places=2), st.integers(min_value=1, max_value=60))
def test_split_adds_up_to_the_cent_and_front_loads_the_remainder(
    amount: Decimal, parts: int
) -> None:
    pieces = Money(amount).split(parts)
    assert len(pieces) == parts
    assert total(pieces).amount == amount
    values = [p.amount for p in pieces]
    assert max(values) - min(values) <= Decimal("0.01")
    assert values == sorted(values, reverse=True)


def test_split_example_from_the_docstring() -> None:
    assert [str(p.amount) for p in Money(Decimal("100.00")).split(3)] == ["33.34", "33.33", "33.33"]


def test_money_refuses_float() -> None:
    with pytest.raises(TypeError):
        Money(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"),
        ("€ 12,50", "12.50"),
        ("12,50 EUR", "12.50"),
        ("-12", "-12"),
        ("12-", "-12"),
        ("(12,00)", "-12.00"),
        ("1.234.567", "1234567"),
        ("1,5", "1.5"),
        ("1 234 567,89", "1234567.89"),
        ("1'234.50", "1234.50"),
        ("1,234,567.00", "1234567.00"),
        ("- 12,00", "-12.00"),
        (",5", "0.5"),
    ],
)
def test_parse_decimal_reads_accounting_exports(text: str, expected: str) -> None:
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "12,3,4.5x", "€", "1.2.3,4,5", "12,3,4", "12 3 4", "1.23.4,00", "1.234.5", "12."],
)
def test_parse_decimal_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        parse_decimal(text)
