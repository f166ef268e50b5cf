"""Public holidays for ``domain.calendar``, from the ``holidays`` library.

    belgian_holidays(2026) -> {2026-01-01, 2026-04-06 (Easter Monday), ..., 2026-12-25}

The ``holidays`` package (MIT) keeps the national calendars, movable feasts
included; the domain receives a plain frozenset of dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _country_years(country: str, years: tuple[int, ...]) -> frozenset[date]:
    calendar = holidays.country_holidays(country, years=list(years))
    return frozenset(calendar.keys())


def public_holidays(country: str, years: Iterable[int]) -> frozenset[date]:
    """National public holidays of ``country`` (ISO code) in ``years``."""
    return _country_years(country.upper(), tuple(sorted(set(years))))


def belgian_holidays(*years: int) -> frozenset[date]:
    return public_holidays("BE", years)


def holidays_around(country: str, today: date) -> frozenset[date]:
    """Enough years around ``today`` for every waiting period a run computes."""
    return public_holidays(country, range(today.year - 1, today.year + 2))
