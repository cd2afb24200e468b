"""The one time syntax (commands.moments): pure, the clock and the zone passed in."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from commands import moments

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 2, 1, 30, 15, 999, tzinfo=dt.timezone.utc)  # 09:30:15 in Shanghai


def at(text: str, zone=SHANGHAI) -> str:
    return moments.parse(text, NOW, zone).isoformat()


@pytest.mark.parametrize("text, expected", [
    ("2026-11-02T09:00:00+08:00", "2026-11-02T09:00:00+08:00"),
    ("2026-11-02T01:00:00Z", "2026-11-02T01:00:00+00:00"),
    ("2026-11-02T09:00:00", "2026-11-02T09:00:00+08:00"),
    ("2026-11-02T09:00", "2026-11-02T09:00:00+08:00"),
    ("2026-11-02 09:00", "2026-11-02T09:00:00+08:00"),
    ("2026-11-02", "2026-11-02T00:00:00+08:00"),
    ("now", "2026-11-02T09:30:15+08:00"),
    ("现在", "2026-11-02T09:30:15+08:00"),
    ("today", "2026-11-02T00:00:00+08:00"),
    ("Yesterday", "2026-11-01T00:00:00+08:00"),
    ("tomorrow 18:30", "2026-11-03T18:30:00+08:00"),
    ("今天 09:30", "2026-11-02T09:30:00+08:00"),
    ("昨天18:00", "2026-11-01T18:00:00+08:00"),
    ("明天", "2026-11-03T00:00:00+08:00"),
    ("前天", "2026-10-31T00:00:00+08:00"),
    ("-2h", "2026-11-02T07:30:15+08:00"),
    ("+30m", "2026-11-02T10:00:15+08:00"),
    ("-90s", "2026-11-02T09:28:45+08:00"),
    ("-1w", "2026-10-26T09:30:15+08:00"),
    ("3 days ago", "2026-10-30T09:30:15+08:00"),
    ("1 hour ago", "2026-11-02T08:30:15+08:00"),
    ("in 2 hours", "2026-11-02T11:30:15+08:00"),
    ("3天前", "2026-10-30T09:30:15+08:00"),
    ("2小时后", "2026-11-02T11:30:15+08:00"),
    ("30分钟前", "2026-11-02T09:00:15+08:00"),
])
def test_every_form_names_one_moment_in_the_teams_zone(text, expected):
    assert at(text) == expected


def test_the_zone_decides_the_local_day_and_a_time_without_offset():
    assert at("today", dt.timezone.utc) == "2026-11-02T00:00:00+00:00"
    assert at("2026-11-02T09:00", ZoneInfo("Europe/Berlin")) == "2026-11-02T09:00:00+01:00"


def test_days_move_the_local_calendar_and_hours_the_clock_across_a_summer_time_change():
    berlin = ZoneInfo("Europe/Berlin")
    now = dt.datetime(2026, 3, 29, 10, 0, tzinfo=dt.timezone.utc)  # 12:00 CEST, the day of the change
    assert moments.parse("1 day ago", now, berlin).isoformat() == "2026-03-28T12:00:00+01:00"
    assert moments.parse("-24h", now, berlin).isoformat() == "2026-03-28T11:00:00+01:00"


@pytest.mark.parametrize("text", ["yesterdya", "3 parsecs ago", "2026-11-02T25:00", "2026-02-30", "today 24:00",
                                  "-2", "", "1000-01-01T00:00:00+08:00", "-999999w"])
def test_anything_else_is_refused_with_what_was_expected_and_what_was_typed(text):
    with pytest.raises(ValueError, match="expected a"):
        moments.parse(text, NOW, SHANGHAI)


def test_check_keeps_the_text_to_read_later_and_resolve_reads_only_typed_times():
    typed = moments.check("yesterday")
    assert str(typed) == "yesterday"
    assert moments.resolve(typed, NOW, SHANGHAI).isoformat() == "2026-11-01T00:00:00+08:00"
    assert moments.resolve(None, NOW, SHANGHAI) is None
    assert moments.resolve(NOW, NOW, SHANGHAI) is NOW
