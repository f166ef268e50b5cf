"""Money: an immutable amount of one currency, in Decimal.

    Money("12.30", "EUR") + Money("0.70", "EUR") -> Money("13.00", "EUR")
    Money("10", "EUR") + Money("1", "USD")       -> CurrencyMismatch
    Money("100.00", "EUR").split(3)              -> 33.34, 33.33, 33.33
                                                    (the remainder cents go to the first parts)

Amounts are kept at the currency's minor unit (cents for EUR) by ``to_cents``
rounding, which is always named: ``ROUND_HALF_UP`` (the commercial rounding that
invoices and Belgian legal computations use) unless a caller says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class CurrencyMismatch(ValueError):
    """Two amounts of different currencies were combined."""


def to_cents(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to two decimals with an explicit rounding mode."""
    return value.quantize(CENT, rounding=rounding)


def parse_decimal(text: str) -> Decimal:
    """Read an amount as accounting exports write it.

        "1234.56" "1234,56" "1.234,56" "1,234.56" "1 234,56" "-12" "€ 12,50" -> Decimal

    With both ``.`` and ``,`` present, the last one is the decimal separator.  A
    separator that appears once alone is decimal (``1,234`` is 1.234 as Belgian
    exports write it); one that repeats groups thousands.  Thousands are grouped
    by three digits with one separator (``.``, ``,``, a space or an apostrophe):
    ``12,3,4`` or ``1.23.4,00`` is a typing error, not 1234.  Raises ``ValueError``
    with the reason when the text is not an amount.
    """
    raw = text
    s = text.replace("\u00a0", " ").replace("\u202f", " ").replace("’", "'")
    s = s.replace("€", "").replace("EUR", "").replace("eur", "").strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    if s.endswith("-"):
        negative, s = True, s[:-1].strip()
    if s.startswith("-"):
        negative, s = not negative, s[1:].strip()
    elif s.startswith("+"):
        s = s[1:].strip()
    if not s:
        raise ValueError(f"not an amount: {raw!r}")
    last_dot, last_comma = s.rfind("."), s.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
    elif last_comma >= 0:
        # "1,234" with a single comma and three digits is ambiguous; in Belgium and
        # the Netherlands the comma is the decimal separator, so it stays decimal
        # unless several commas show it groups thousands.
        decimal_sep = "," if s.count(",") == 1 else ""
    elif last_dot >= 0:
        decimal_sep = "." if s.count(".") == 1 else ""
    else:
        decimal_sep = ""
    whole, fraction = s.rsplit(decimal_sep, 1) if decimal_sep else (s, "")
    if decimal_sep and not fraction.isdigit():
        raise ValueError(f"not an amount: {raw!r}")
    if not whole.isdigit():
        grouped = _GROUPED.fullmatch(whole)
        if whole and (grouped is None or grouped["sep"] == decimal_sep):
            typed = set(whole) <= set("0123456789.,' ")
            why = " (thousands are grouped by three digits)" if typed and not grouped else ""
            raise ValueError(f"not an amount: {raw!r}{why}")
        whole = "".join(c for c in whole if c.isdigit()) or "0"
    value = Decimal(f"{whole}.{fraction}" if fraction else whole)
    return -value if negative else value


_GROUPED = re.compile(r"\d{1,3}(?P<sep>[.,' ])\d{3}(?:(?P=sep)\d{3})*")


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: Decimal
    currency: str = "EUR"

    def __post_init__(self) -> None:
        amount = self.amount
        if not isinstance(amount, Decimal):
            if isinstance(amount, float):
                raise TypeError("Money refuses float amounts; pass a Decimal or a string")
            amount = Decimal(amount)
            object.__setattr__(self, "amount", amount)
        if not amount.is_finite():
            raise ValueError(f"not a finite amount: {amount}")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(ZERO, currency)

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str = "EUR") -> Money:
        return cls(Decimal(amount), currency)

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.amount >= other.amount

    def times(self, factor: Decimal | int) -> Money:
        """Multiply without rounding; call ``rounded()`` when the result is final."""
        return Money(self.amount * Decimal(factor), self.currency)

    def rounded(self, rounding: str = ROUND_HALF_UP) -> Money:
        return Money(to_cents(self.amount, rounding), self.currency)

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def split(self, parts: int) -> list[Money]:
        """Split into ``parts`` amounts in cents that add up exactly.

        Remainder rule: every part gets the amount divided by ``parts`` rounded
        down to the cent; the cents left over go one each to the *first* parts, so a
        plan's early instalments are at most one cent larger than the later ones.
        """
        if parts < 1:
            raise ValueError("parts must be at least 1")
        total_cents = int(to_cents(self.amount) * 100)
        sign = -1 if total_cents < 0 else 1
        base, remainder = divmod(abs(total_cents), parts)
        cents = [base + (1 if i < remainder else 0) for i in range(parts)]
        return [Money(Decimal(sign * c) / 100, self.currency).rounded() for c in cents]

    def __str__(self) -> str:
        return f"{to_cents(self.amount)} {self.currency}"

    def to_json(self) -> str:
        """The contract's decimal string: dot, two decimals, no currency."""
        return f"{to_cents(self.amount):.2f}"


def total(amounts: Iterable[Money], currency: str = "EUR") -> Money:
    """Sum amounts of one currency; an empty sum is zero in ``currency``."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result


def same_currency(amounts: Sequence[Money]) -> str:
    currencies = {a.currency for a in amounts}
    if len(currencies) > 1:
        raise CurrencyMismatch(f"mixed currencies: {', '.join(sorted(currencies))}")
    return currencies.pop() if currencies else "EUR"


__all__ = [
    "CENT",
    "ROUND_DOWN",
    "ROUND_HALF_UP",
    "ZERO",
    "CurrencyMismatch",
    "Money",
    "parse_decimal",
    "same_currency",
    "to_cents",
    "total",
]
