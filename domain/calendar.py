"""Working days and the hours when a debtor may be contacted.

    Friday 2026-03-06, posted -> 3rd working day after: Wednesday 2026-03-11
    Easter Monday 2026-04-06 is not a working day (given the Belgian holiday set)
    Sunday 10:00        -> no contact; next allowed: Monday 08:00
    Tuesday 22:30       -> quiet hours (22:00-08:00); next allowed: Wednesday 08:00

Pure: public holidays are passed in as a set of dates (``adapters.holidays_be``
builds it from the ``holidays`` library); nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

SATURDAY, SUNDAY = 5, 6


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    """Monday to Friday and not a public holiday."""
    return day.weekday() < SATURDAY and day not in holidays


def nth_working_day_after(day: date, n: int, holidays: Collection[date]) -> date:
    """The ``n``-th working day strictly after ``day`` (n >= 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    current, found = day, 0
    while found < n:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            found += 1
    return current


def working_days_between(
    start_exclusive: date, end_inclusive: date, holidays: Collection[date]
) -> int:
    count, current = 0, start_exclusive
    while current < end_inclusive:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class ContactRules:
    """When a reminder may reach a debtor.

    Quiet hours follow the old law of 20 December 2002 (no calls or visits between
    22:00 and 08:00), kept as a hard rule for every channel; Sundays and public
    holidays are off by default.
    """

    quiet_from: time = time(22, 0)
    quiet_until: time = time(8, 0)
    sundays: bool = False
    saturdays: bool = True
    public_holidays: bool = False
    holidays: frozenset[date] = field(default_factory=frozenset)

    def is_contact_day(self, day: date) -> bool:
        if day.weekday() == SUNDAY and not self.sundays:
            return False
        if day.weekday() == SATURDAY and not self.saturdays:
            return False
        return not (day in self.holidays and not self.public_holidays)

    def is_quiet(self, moment: time) -> bool:
        if self.quiet_from > self.quiet_until:  # the window crosses midnight
            return moment >= self.quiet_from or moment < self.quiet_until
        return self.quiet_from <= moment < self.quiet_until

    def may_contact(self, moment: datetime) -> bool:
        return self.is_contact_day(moment.date()) and not self.is_quiet(moment.time())

    def next_contact_day(self, day: date) -> date:
        """``day`` itself if contact is allowed that day, else the next such day."""
        current = day
        for _ in range(366):
            if self.is_contact_day(current):
                return current
            current += timedelta(days=1)
        raise ValueError("no contact day within a year: check the contact rules")

    def next_contact_time(self, moment: datetime) -> datetime:
        """``moment`` if contact is allowed then, else the first allowed moment after it
        (keeps the time zone of ``moment``)."""
        if self.may_contact(moment):
            return moment
        day = moment.date()
        if self.is_contact_day(day) and moment.time() < self.quiet_until:
            return datetime.combine(day, self.quiet_until, moment.tzinfo)
        day = self.next_contact_day(day + timedelta(days=1))
        return datetime.combine(day, self.quiet_until, moment.tzinfo)


__all__ = [
    "ContactRules",
    "is_working_day",
    "nth_working_day_after",
    "working_days_between",
]
