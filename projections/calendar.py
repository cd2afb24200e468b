"""The team's calendar (RULEBOOK §3): local dates, day windows by minute, weeks, ranking windows.

All instants the rules compare are aware datetimes; everything calendar-shaped (dates, days,
weeks, months, windows) is computed in the team's time zone (R-T-1).
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ledger.policy import Policy

EARLY = "early"
DAY = "day"
LATE = "late"
OFF_EARLY = "off_early"  # before early_start
OFF_LATE = "off_late"  # from late_end on

ONE_DAY = dt.timedelta(days=1)
ONE_WEEK = dt.timedelta(days=7)
ONE_MINUTE = dt.timedelta(minutes=1)


def _minutes(value: dt.time) -> int:
    return value.hour * 60 + value.minute


class Calendar:
    """The calendar of one policy; plain and picklable (the zone pickles by its key)."""

    __slots__ = ("tz", "early_start", "day_start", "day_end", "late_end", "cutoff", "day_start_time")

    def __init__(self, policy: Policy):
        self.tz = ZoneInfo(policy.timezone)
        self.early_start = _minutes(policy.early_start)
        self.day_start = _minutes(policy.day_start)
        self.day_end = _minutes(policy.day_end)
        self.late_end = _minutes(policy.late_end)
        self.cutoff = policy.week_cutoff
        self.day_start_time = policy.day_start

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, data):
        for name, value in data.items():
            setattr(self, name, value)

    def local(self, at: dt.datetime) -> dt.datetime:
        return at.astimezone(self.tz)

    def window(self, local: dt.datetime) -> str:
        """R-T-4, by minute: 09:00:40 is early (整9点归早班), 18:00:10 is day (整18点归正常班)."""
        minute = local.hour * 60 + local.minute
        if minute < self.early_start:
            return OFF_EARLY
        if minute <= self.day_start:
            return EARLY
        if minute <= self.day_end:
            return DAY
        if minute < self.late_end:
            return LATE
        return OFF_LATE

    def at(self, date: dt.date, time: dt.time = dt.time(0)) -> dt.datetime:
        return dt.datetime.combine(date, time, tzinfo=self.tz)

    def end_of_day(self, date: dt.date) -> dt.datetime:
        """24:00 of a local date (R-FU-1 deadlines)."""
        return self.at(date + ONE_DAY)

    def next_week_start(self, at: dt.datetime) -> dt.datetime:
        """The first Monday 00:00 strictly after `at` (R-T-2)."""
        date = self.local(at).date()
        monday = date - dt.timedelta(days=date.weekday()) + ONE_WEEK
        return self.at(monday)

    def next_month_start(self, at: dt.datetime) -> dt.datetime:
        date = self.local(at).date()
        first = dt.date(date.year + (date.month == 12), date.month % 12 + 1, 1)
        return self.at(first)

    def window_key(self, local: dt.datetime) -> dt.date:
        """R-T-3: the Sunday whose cut-off ends the ranking window holding `local`."""
        date = local.date()
        sunday = date + dt.timedelta(days=6 - date.weekday())
        if date == sunday and local.time() >= self.cutoff:
            sunday += ONE_WEEK
        return sunday

    def window_of_week(self, monday: dt.date) -> tuple[dt.date, dt.datetime, dt.datetime]:
        """R-T-3: (key, start, end) of the ranking window of the week starting `monday`."""
        sunday = monday - ONE_DAY
        return sunday, self.at(sunday - ONE_WEEK, self.cutoff), self.at(sunday, self.cutoff)

    def deferral_instant(self, local: dt.datetime) -> dt.datetime:
        """R-SH-5: the next first minute after `day_start` that follows `local` (09:01:00)."""
        first = dt.datetime.combine(local.date(), self.day_start_time, tzinfo=self.tz) + ONE_MINUTE
        if local < first:
            return first
        return dt.datetime.combine(local.date() + ONE_DAY, self.day_start_time, tzinfo=self.tz) + ONE_MINUTE


def month_of(date: dt.date) -> tuple[int, int]:
    return (date.year, date.month)
