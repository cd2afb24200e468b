"""One time syntax for every `--at`, `--from`, `--until`, `--as-recorded` (and notify's `--now`,
`--since`), in queries and recording commands alike (issue #14, item 4). Pure: the moment "now"
and the team's zone are arguments; the shell reads the clock and the store.

    2026-11-02T09:00:00+08:00   ISO 8601 with an offset: that instant
    2026-11-02T09:00, 2026-11-02  without one: the team's zone (a date alone: its 00:00)
    now / 现在                  the shell's clock, to the second
    today, yesterday, tomorrow  00:00 of that local day; `today 09:30` that day at 09:30
    今天, 昨天, 明天, 前天, 后天  the same in Chinese (`今天 09:30`, `昨天18:00`)
    -2h, +30m, -3d, +1w, -90s   relative to now: s, m (minutes), h, d, w
    3 days ago, in 2 hours      the same in words (second, minute, hour, day, week; plural or not)
    3天前, 2小时后, 30分钟前      the same in Chinese (秒, 分钟/分, 小时/时, 天/日, 周/星期)

Days and weeks move the local calendar (the same wall time that many days away, in the team's
zone); seconds, minutes and hours are exact durations.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

DAY_WORDS = {"today": 0, "tomorrow": 1, "yesterday": -1,
             "今天": 0, "明天": 1, "昨天": -1, "前天": -2, "后天": 2}
NOW_WORDS = ("now", "现在")
UNITS = {
    "s": "seconds", "sec": "seconds", "second": "seconds", "秒": "seconds", "秒钟": "seconds",
    "m": "minutes", "min": "minutes", "minute": "minutes", "分": "minutes", "分钟": "minutes",
    "h": "hours", "hr": "hours", "hour": "hours", "时": "hours", "小时": "hours", "个小时": "hours",
    "d": "days", "day": "days", "天": "days", "日": "days",
    "w": "weeks", "week": "weeks", "周": "weeks", "星期": "weeks", "个星期": "weeks",
}
SYNTAX = ("ISO 8601 (2026-11-02T09:00:00+08:00; without an offset: the team's zone), now, "
          "today/yesterday/tomorrow [HH:MM], 今天/昨天/明天, or relative: -2h, +30m, 3 days ago, 3天前")

_UNIT = "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True))
_SIGNED = re.compile(rf"(?P<sign>[+-])\s*(?P<n>[0-9]{{1,6}})\s*(?P<unit>{_UNIT})", re.IGNORECASE)
_AGO = re.compile(rf"(?P<n>[0-9]{{1,6}})\s*(?P<unit>{_UNIT})s?\s+ago", re.IGNORECASE)
_IN = re.compile(rf"in\s+(?P<n>[0-9]{{1,6}})\s*(?P<unit>{_UNIT})s?", re.IGNORECASE)
_CHINESE = re.compile(rf"(?P<n>[0-9]{{1,6}})\s*(?P<unit>{_UNIT})\s*(?P<dir>以前|之前|前|以后|之后|后)")
_ISO_START = re.compile(r"[0-9]{4}-")
_DAY = re.compile(r"(?P<word>[a-z]+|[\u4e00-\u9fff]{2})\s*(?:(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2}))?)?",
                  re.IGNORECASE)


@dataclass(frozen=True)
class TimeText:
    """A time as typed, its syntax checked, read once the team (its zone) and the clock are known."""

    text: str

    def __str__(self) -> str:
        return self.text


def resolve(value: Any, now: dt.datetime, zone: dt.tzinfo) -> Any:
    """`value` read with `parse` when it is a `TimeText`; anything else unchanged."""
    return parse(value.text, now, zone) if isinstance(value, TimeText) else value


def parse(text: str, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The aware moment `text` names, with `now` the clock and `zone` the team's; ValueError (a
    message saying what was expected and what was typed) otherwise."""
    from ledger.events import TIME_RANGE, check_moment, parse_time_text, shown

    typed = " ".join(text.split())
    if _ISO_START.match(typed):
        try:
            parsed = parse_time_text(typed, offset=False)
        except ValueError as error:
            if "with a UTC offset" not in str(error):  # a date that does not exist, out of range
                raise
            raise ValueError(f"expected a time: {SYNTAX}; got {shown(text)}") from None
        return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed
    local = now.astimezone(zone).replace(microsecond=0)
    try:
        moment = _relative(typed, local) or _day(typed, local)
    except OverflowError:
        raise ValueError(f"expected a time from {TIME_RANGE}, got {shown(text)}") from None
    if moment is None:
        raise ValueError(f"expected a time: {SYNTAX}; got {shown(text)}")
    return check_moment(moment, text)


def _relative(typed: str, local: dt.datetime) -> dt.datetime | None:
    if typed.lower() in NOW_WORDS:
        return local
    for pattern in (_SIGNED, _AGO, _IN, _CHINESE):
        found = pattern.fullmatch(typed)
        if found is None:
            continue
        unit = UNITS[found["unit"].lower()]
        backwards = found.groupdict().get("sign") == "-" or pattern is _AGO \
            or (pattern is _CHINESE and found["dir"].endswith("前"))
        step = dt.timedelta(**{unit: int(found["n"])})
        step = -step if backwards else step
        if unit in ("days", "weeks"):  # the local calendar: the same wall time that many days away
            wall = local.replace(tzinfo=None) + step
            return wall.replace(tzinfo=local.tzinfo)
        return (local.astimezone(dt.timezone.utc) + step).astimezone(local.tzinfo)
    return None


def _day(typed: str, local: dt.datetime) -> dt.datetime | None:
    found = _DAY.fullmatch(typed)
    if found is None or found["word"].lower() not in DAY_WORDS:
        return None
    hour, minute, second = int(found["h"] or 0), int(found["m"] or 0), int(found["s"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    day = local.date() + dt.timedelta(days=DAY_WORDS[found["word"].lower()])
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=local.tzinfo)


def check(text: str) -> TimeText:
    """`text` as a `TimeText` once its syntax is right (read against a fixed clock in UTC: no
    clock here); ValueError otherwise."""
    parse(text, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), dt.timezone.utc)
    return TimeText(text)
