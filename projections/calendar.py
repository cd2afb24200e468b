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

    __slots__ = ("tz", "early_start", "day_start", "day_end", "late_end", "cutoff", "day_start_time", "_last")
    _KEPT = __slots__[:-1]  # `_last` is a cache, not state

    def __init__(self, policy: Policy):
        self._last = (None, None)
        self.tz = ZoneInfo(policy.timezone)
        self.early_start = _minutes(policy.early_start)
        self.day_start = _minutes(policy.day_start)
        self.day_end = _minutes(policy.day_end)
        self.late_end = _minutes(policy.late_end)
        self.cutoff = policy.week_cutoff
        self.day_start_time = policy.day_start

    def __getstate__(self):
        return {name: getattr(self, name) for name in self._KEPT}

    def __setstate__(self, data):
        self._last = (None, None)
        for name, value in data.items():
            setattr(self, name, value)

    def local(self, at: dt.datetime) -> dt.datetime:
        last = self._last  # the rules of one event ask for the local time of its `at` several times
        if last[0] is at:
            return last[1]
        local = at.astimezone(self.tz)
        self._last = (at, local)
        return local

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


# -- §10: a team's zones over time ---------------------------------------------------------------
#
# A later `PolicyAdopted` with another `timezone` applies from its own time on: dates, weeks and
# months after it are local to the new zone. `zones` is the team's [(since, zone)] in replay
# order; the first zone also reads the time before its adoption. The date D of a query begins
# at `date_start(zones, D)`: the end of the last stretch of time whose local date (in the zone
# then in force) is before D. In one zone that is D 00:00; after a zone ahead of the old one it
# may be the adoption itself (the new zone is already on D); after a zone behind it, the later
# 00:00 of D in the new zone (the new zone goes back to the day before D).


def zones_of(policies) -> list[tuple[dt.datetime, dt.tzinfo]]:
    """[(since, zone)] of a policy timeline [(since, Policy)] (`TeamState.policies`)."""
    return [(since, ZoneInfo(policy.timezone)) for since, policy in policies]


def zone_at(zones, at: dt.datetime, default: dt.tzinfo | None = None) -> dt.tzinfo:
    """The zone in force at `at` (an adoption at `at` itself governs it)."""
    found = zones[0][1] if zones else default
    for since, zone in zones:
        if since <= at:
            found = zone
        else:
            break
    return found


def local_date(zones, at: dt.datetime, default: dt.tzinfo | None = None) -> dt.date:
    return at.astimezone(zone_at(zones, at, default)).date()


def date_start(zones, date: dt.date, default: dt.tzinfo | None = None) -> dt.datetime:
    """The instant the local date `date` begins (see above); monotonic in `date`."""
    if not zones:
        return dt.datetime.combine(date, dt.time(0), tzinfo=default)
    best = None
    for index, (since, zone) in enumerate(zones):
        midnight = dt.datetime.combine(date, dt.time(0), tzinfo=zone)
        if index and midnight <= since:
            continue  # this zone was on `date` or later from its adoption on
        end = zones[index + 1][0] if index + 1 < len(zones) else None
        moment = midnight if end is None or midnight < end else end
        if best is None or moment > best:
            best = moment
    return best


def month_start(zones, year: int, month: int, default: dt.tzinfo | None = None) -> dt.datetime:
    return date_start(zones, dt.date(year, month, 1), default)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + month // 12, month % 12 + 1)


def month_containing(zones, at: dt.datetime, default: dt.tzinfo | None = None) -> tuple[int, int]:
    """The month whose [start, next start) holds `at` (its local month but where a zone change
    moved a boundary across it)."""
    date = local_date(zones, at, default)
    year, month = date.year, date.month
    while at >= month_start(zones, *next_month(year, month), default):
        year, month = next_month(year, month)
    while at < month_start(zones, year, month, default):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return year, month
