"""Working days, quiet hours and contact days (holidays passed in)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from adapters.holidays_be import belgian_holidays
from domain.calendar import (
    ContactRules,
    is_working_day,
    nth_working_day_after,
    working_days_between,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
HOLIDAYS = belgian_holidays(2026)
RULES = ContactRules(holidays=HOLIDAYS)


def test_belgian_holidays_come_from_the_holidays_library() -> None:
    assert date(2026, 4, 6) in HOLIDAYS  # Easter Monday
    assert date(2026, 7, 21) in HOLIDAYS  # National Day
    assert date(2026, 11, 11) in HOLIDAYS  # Armistice
    assert date(2026, 3, 10) not in HOLIDAYS


def test_working_days() -> None:
    assert is_working_day(date(2026, 3, 10), HOLIDAYS)
    assert not is_working_day(date(2026, 3, 14), HOLIDAYS)  # Saturday
    assert not is_working_day(date(2026, 4, 6), HOLIDAYS)  # Easter Monday
    assert nth_working_day_after(date(2026, 3, 6), 3, HOLIDAYS) == date(2026, 3, 11)
    assert nth_working_day_after(date(2026, 4, 3), 1, HOLIDAYS) == date(2026, 4, 7)
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 8), HOLIDAYS) == 3


def test_quiet_hours_cross_midnight() -> None:
    assert RULES.is_quiet(time(22, 0))
    assert RULES.is_quiet(time(3, 0))
    assert RULES.is_quiet(time(7, 59))
    assert not RULES.is_quiet(time(8, 0))
    assert not RULES.is_quiet(time(21, 59))


def test_no_contact_on_sundays_and_public_holidays_by_default() -> None:
    assert not RULES.is_contact_day(date(2026, 3, 15))  # Sunday
    assert not RULES.is_contact_day(date(2026, 4, 6))  # Easter Monday
    assert RULES.is_contact_day(date(2026, 3, 14))  # Saturday is allowed by default
    assert RULES.next_contact_day(date(2026, 4, 5)) == date(2026, 4, 7)  # Easter Sunday+Monday
    sundays_ok = ContactRules(holidays=HOLIDAYS, sundays=True)
    assert sundays_ok.is_contact_day(date(2026, 3, 15))


def test_next_contact_time() -> None:
    sunday = datetime(2026, 3, 15, 10, 0, tzinfo=BRUSSELS)
    assert RULES.next_contact_time(sunday) == datetime(2026, 3, 16, 8, 0, tzinfo=BRUSSELS)
    late = datetime(2026, 3, 10, 22, 30, tzinfo=BRUSSELS)
    assert RULES.next_contact_time(late) == datetime(2026, 3, 11, 8, 0, tzinfo=BRUSSELS)
    early = datetime(2026, 3, 10, 6, 0, tzinfo=BRUSSELS)
    assert RULES.next_contact_time(early) == datetime(2026, 3, 10, 8, 0, tzinfo=BRUSSELS)
    fine = datetime(2026, 3, 10, 14, 0, tzinfo=BRUSSELS)
    assert RULES.next_contact_time(fine) == fine
    saturday_night = datetime(2026, 3, 14, 23, 0, tzinfo=BRUSSELS)
    assert RULES.next_contact_time(saturday_night) == datetime(2026, 3, 16, 8, 0, tzinfo=BRUSSELS)
