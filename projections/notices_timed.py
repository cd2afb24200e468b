"""Notices that fall due with the clock, not with an event (issue #16), pure: the notifier passes
the moment (the core has no clock).

    found = deadlines(state, moment, hours)     # due-soon / missed follow-ups at `moment`
    days = summary_days(state, since, moment, at)   # the local dates whose 日报 is due by `moment`
    notice = summary(state, date, at)           # the 日报 of `date`, read off the state at `at`
    wake = next_wake(state, moment, hours, at)  # the next moment one of these falls due

- `due-soon` / `missed`: the customer's open duty (R-FU-1, R-FU-5: `projections.indexes`, one
  per customer) due within `hours` of the moment / due by it; to its owner. Key
  `team/due-soon/LEAD/<due>` and `team/missed/LEAD/<due>`: once per (lead, due).
- `summary`: per team and local date (§10 zone), at the local time `at`: each consultant's leads
  and turns of the day (R-RT-7), overdue follow-ups per owner, open disputes (R-OW-7/8) and the
  sanctions starting the next local day. Key `team/summary/YYYY-MM-DD`.
"""
from __future__ import annotations

import datetime as dt

from . import indexes, queries
from .calendar import date_start, local_date, zone_at, zones_of
from .notices import Notice, _person, stamp
from .state import TeamState

DEADLINE_KINDS = ("due-soon", "missed")


def deadlines(state: TeamState, moment: dt.datetime, hours: float) -> list[Notice]:
    """R-FU-1 / R-FU-5: a notice for each open duty due by `moment + hours` (missed if by `moment`)."""
    indexes.refresh(state)
    team = state.team or "-"
    soon = dt.timedelta(hours=hours)
    found = []
    for due, lead, rule, owner, grade, _shown in state.duties.values():
        if due <= moment:
            kind, at = "missed", due
        elif due - soon <= moment:
            kind, at = "due-soon", due - soon
        else:
            continue
        key = f"{team}/{kind}/{lead}/{stamp(due)}"
        facts = {"team": team, "lead": lead, "owner": _person(state, owner), "rule": rule, "grade": grade,
                 "due": due.isoformat(), "hours": hours, "to": "owner"}
        found.append(Notice(key, kind, key, owner, at, facts))
    return found


def _zones(state: TeamState):
    return zones_of(state.policies), state.tz


def summary_moment(state: TeamState, date: dt.date, at: dt.time) -> dt.datetime:
    """`at` o'clock local on `date`, in the zone in force that day (§10)."""
    zones, tz = _zones(state)
    zone = zone_at(zones, date_start(zones, date, tz), tz)
    return dt.datetime.combine(date, at, tzinfo=zone)


def summary_days(state: TeamState, since: dt.datetime | None, moment: dt.datetime,
                 at: dt.time) -> list[tuple[dt.date, dt.datetime]]:
    """(date, its summary moment) for each local date from the team's first (or `since`'s, the
    last round's moment) to its latest event's whose summary moment is by `moment`: a day after
    the last recorded event gets no summary (a team gone quiet is not told so every day)."""
    if not state.policies or state.last_key is None:
        return []
    zones, tz = _zones(state)
    first = local_date(zones, since if since is not None else state.policies[0][0], tz)
    last = local_date(zones, min(state.last_key[0], moment), tz)
    days = []
    date = first
    while date <= last:
        when = summary_moment(state, date, at)
        if when <= moment:
            days.append((date, when))
        date += dt.timedelta(days=1)
    return days


def summary(state: TeamState, date: dt.date, at: dt.datetime) -> Notice:
    """The 日报 of `date`, read off `state` folded to `at`."""
    team = state.team or "-"
    overdue: dict[str, int] = {}
    for _, _, _, owner, _, _ in indexes.overdue(state, at):
        overdue[owner] = overdue.get(owner, 0) + 1
    counted: dict[str, list[int]] = {}
    for row in queries.turns(state, date, date)["rows"]:
        tally = counted.setdefault(row["consultant"], [0, 0])
        tally[0] += row["leads"]
        tally[1] += row["turns"]
    ids = [cid for cid, c in sorted(state.consultants.items(), key=lambda kv: (kv[1].seat, kv[0]))
           if c.left_at is None or c.left_at > at or cid in counted or cid in overdue]
    people = [{"consultant": _person(state, cid), "leads": counted.get(cid, [0, 0])[0],
               "turns": counted.get(cid, [0, 0])[1], "overdue": overdue.get(cid, 0)} for cid in ids]
    disputes = [{"lead": d["lead"], "owner": _person(state, d["owner"])}
                for d in queries.disputes(state)["disputes"]]
    facts = {"team": team, "date": date.isoformat(), "moment": at.isoformat(), "consultants": people,
             "overdue": sum(overdue.values()), "disputes": disputes, "tomorrow": _tomorrow(state, date),
             "to": "team"}
    key = f"{team}/summary/{date.isoformat()}"
    return Notice(key, "summary", key, None, at, facts)


def _tomorrow(state: TeamState, date: dt.date) -> list[dict]:
    """§6: the sanctions starting on the local day after `date` (not lifted before they start)."""
    zones, tz = _zones(state)
    start, end = date_start(zones, date + dt.timedelta(days=1), tz), date_start(zones, date + dt.timedelta(days=2), tz)
    found = [s for s in state.sanctions.values()
             if start <= s.start < end and (s.lifted_at is None or s.lifted_at > s.start)]
    found.sort(key=lambda s: (s.start, s.consultant, s.id))
    return [{"sanction": s.id, "consultant": _person(state, s.consultant), "kind": s.kind,
             "channels": list(s.channels), "rule": s.rule, "from": s.start.isoformat(),
             "until": s.until.isoformat() if s.until is not None else None} for s in found]


def next_wake(state: TeamState, moment: dt.datetime, hours: float, at: dt.time) -> dt.datetime | None:
    """The first instant after `moment` at which `deadlines` or a summary would find something new."""
    soon = dt.timedelta(hours=hours)
    later = [t for duty in state.duties.values() for t in (duty[0] - soon, duty[0]) if t > moment]
    if state.policies:
        zones, tz = _zones(state)
        today = local_date(zones, moment, tz)
        later += [w for w in (summary_moment(state, today, at),
                              summary_moment(state, today + dt.timedelta(days=1), at)) if w > moment]
    return min(later) if later else None


def parse_quiet(text: str) -> tuple[dt.time, dt.time] | None:
    """`22:00-08:00` -> (start, end); None if it is not two distinct local times HH:MM-HH:MM."""
    parts = text.strip().split("-")
    if len(parts) != 2:
        return None
    try:
        start, end = (dt.time.fromisoformat(p) for p in parts)
    except ValueError:
        return None
    if len(parts[0]) != 5 or len(parts[1]) != 5 or start == end:
        return None
    return start, end


def quiet_end(window: tuple[dt.time, dt.time], local: dt.datetime) -> dt.datetime | None:
    """The end of the quiet period `local` (aware, in the team's zone) falls in, or None. A window
    whose start is after its end spans midnight (22:00-08:00); the start is in it, the end not."""
    start, end = window
    now = local.time().replace(tzinfo=None)
    if start < end:
        inside, day = start <= now < end, local.date()
    else:
        inside = now >= start or now < end
        day = local.date() + dt.timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return dt.datetime.combine(day, end, tzinfo=local.tzinfo)


def parse_rate(text: str) -> tuple[int, float] | None:
    """`20/60` -> (20 messages, per 60 seconds); None if it is not N/SECONDS with N, SECONDS > 0."""
    parts = text.strip().split("/")
    if len(parts) != 2 or not parts[0].isdigit():
        return None
    try:
        seconds = float(parts[1])
    except ValueError:
        return None
    if int(parts[0]) < 1 or not 0 < seconds <= 86400:
        return None
    return int(parts[0]), seconds


def rate_free(sent: list[dt.datetime], limit: tuple[int, float], now: dt.datetime) -> dt.datetime | None:
    """None if one more message may go at `now` (fewer than N of `sent`, ascending, within the last
    SECONDS); else the moment the oldest of them leaves the window."""
    count, seconds = limit
    window = dt.timedelta(seconds=seconds)
    recent = [t for t in sent if t > now - window]
    if len(recent) < count:
        return None
    return recent[-count] + window
