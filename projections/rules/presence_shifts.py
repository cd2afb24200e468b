"""Presence (R-PR-*) and shifts (R-SH-1..R-SH-5): who is on post, the day's shift holders, and
the route of a shift channel's lead outside the day window (`shift_route`: the holder, the
rotation when the holder is absent, the overtime queue, or deferral to the next morning)."""
from __future__ import annotations

import datetime as dt

from ledger import events as E

from .. import sentences as S
from ..calendar import DAY, EARLY, LATE, OFF_EARLY
from ..state import Route, TeamState
from . import rotation


def on_presence(state: TeamState, rec) -> None:
    ev = rec.event
    c = state.consultants.get(ev.consultant)
    if c is not None:
        c.presence = ev.presence.value
        c.presence_seq = rec.seq


def on_shift(state: TeamState, rec) -> None:
    """R-SH-1: one early and one late holder a day (later replaces), several overtime."""
    ev = rec.event
    day = state.shifts.setdefault(ev.date, {"early": None, "late": None, "overtime": [], "seqs": {}})
    if ev.shift is E.Shift.overtime:
        if ev.consultant not in day["overtime"]:
            day["overtime"].append(ev.consultant)
    else:
        day[ev.shift.value] = ev.consultant
    day["seqs"][(ev.shift.value, ev.consultant)] = rec.seq


def on_post(state: TeamState, cid: str) -> bool:
    c = state.consultants.get(cid)
    return c is not None and c.left_at is None and c.presence == "on_post"


def presence(state: TeamState, cid: str) -> str:
    c = state.consultants.get(cid)
    return "left" if c is None or c.left_at is not None else c.presence


def shift_route(state: TeamState, path: str, at: dt.datetime, local: dt.datetime) -> Route | None:
    """R-SH-2..R-SH-5: the route of a shift channel's lead outside the day window (`path`: the
    queue its rotation would use); None inside the day window, where the rotation decides."""
    window = state.cal.window(local)
    if window == DAY:
        return None
    day = state.shifts.get(local.date())
    shift = window if window in (EARLY, LATE) else ("early" if window == OFF_EARLY else "late")
    holder = day and day[shift]
    if holder and on_post(state, holder):
        route = Route("shift", "R-SH-2" if shift == window else "R-SH-4", holder, date=local.date())
        route.rests = [day["seqs"].get((shift, holder))]
        route.candidates.append((holder, "holder", S.SHIFT_HOLDER.format(shift=shift, rule=route.rule)))
        return route
    gone = "R-SH-3" if shift == window else "R-SH-4"
    absent = ([(holder, "passed", S.SHIFT_ABSENT.format(shift=shift, presence=presence(state, holder), rule=gone))]
              if holder else [])
    if shift == window:  # R-SH-3
        route = rotation.queue_route(state, path, at, local, "R-SH-3")
        route.candidates[:0] = absent
        return route
    route = _overtime(state, path, local, day, absent)  # R-SH-4 off hours
    if route is not None:
        return route
    return Route("deferred", "R-SH-5", None, queue=path, date=local.date(), candidates=absent)


def _overtime(state: TeamState, channel: str, local: dt.datetime, day, candidates: list) -> Route | None:
    """R-SH-4: the day's overtime holders on post, in ranking order, a queue per channel and day."""
    if not day or not day["overtime"]:
        return None
    holders = [cid for cid in state.rank_order if cid in day["overtime"]]
    if not holders:
        return None
    date = local.date()
    qdate, up = state.ot_queues.get(channel, (None, None))
    if qdate != date or up not in holders:
        start = 0
    else:
        start = holders.index(up)
    n = len(holders)
    for i in range(n):
        cid = holders[(start + i) % n]
        if on_post(state, cid):
            route = Route("overtime", "R-SH-4", cid, queue=channel, date=date, candidates=candidates)
            route.ot_key = (channel, date, holders[(start + i + 1) % n])
            route.rests = [day["seqs"].get(("overtime", cid))]
            candidates.append((cid, "received", S.OVERTIME))
            return route
        candidates.append((cid, "passed", S.OVERTIME_ABSENT.format(presence=presence(state, cid))))
    return None
