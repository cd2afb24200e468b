"""Eligibility (R-RT-2 steps 1-3, R-PR-2/3, R-FU-3 hold): whether a consultant a queue reaches
takes the lead, and why not."""
from __future__ import annotations

import datetime as dt

from ..state import Consultant, Route, TeamState
from . import sanctions

INELIGIBLE = ("away", "leave", "busy_old")  # R-PR-2


def step1(state: TeamState, c: Consultant, channel: str, t: dt.datetime, route: Route | None = None):
    """R-RT-2 step 1: left, not on post (busy_new aside), or suspended -> the reason, else None.
    A suspension that passes them is among what the route rests on (R-OW-6)."""
    if c.left_at is not None:
        return "left (R-RO-3)"
    if c.presence in INELIGIBLE:
        return f"{c.presence} (R-PR-2)"
    for s in sanctions.live_sanctions(c, t):
        if s.kind == "suspend" and s.covers(channel):
            if route is not None:
                route.rests.append(s.seq)
            return f"suspended ({s.rule})"
    return None


def steps23(state: TeamState, c: Consultant, channel: str, t: dt.datetime, route: Route):
    """R-RT-2 steps 2-3 (R-SA-2 skip, R-SA-3 throttle); effects go into the route.

    Every reach that step 1 let through counts for a throttle, also one a skip then passes.
    """
    live = sanctions.live_sanctions(c, t)
    if not live:
        return None
    why = None
    for s in live:
        if s.kind == "skip" and s.covers(channel):
            route.skips.append(s)
            route.rests.append(s.seq)
            why = f"skip ({s.rule})"
            break
    for s in live:
        if s.kind == "throttle" and s.covers(channel):
            r = s.reaches.get(channel, 0) + 1
            route.reaches.append((s, channel))
            if (r - 1) % s.of >= s.take and why is None:
                route.rests.append(s.seq)
                why = f"throttled {s.take} of {s.of} ({s.rule})"
    return why


def would_pass(state: TeamState, c: Consultant, channel: str, t: dt.datetime):
    why = step1(state, c, channel, t)
    if why:
        return why
    for s in sanctions.live_sanctions(c, t):
        if s.kind == "skip" and s.covers(channel):
            return f"skip ({s.rule})"
        if s.kind == "throttle" and s.covers(channel):
            r = s.reaches.get(channel, 0) + 1
            if (r - 1) % s.of >= s.take:
                return f"throttled {s.take} of {s.of} ({s.rule})"
    if c.presence == "busy_new":
        return "busy_new (R-PR-3)"
    return None


def marketing_hold(state: TeamState, c: Consultant, at: dt.datetime) -> bool:
    """R-FU-3: a marketing lead owned for more than 48 hours with no follow-up by the owner."""
    if not c.mkt_pending or not state.policy.marketing_followup_hold:
        return False
    limit = dt.timedelta(hours=state.policy.marketing_followup_hours)
    stale, held = [], False
    for lid, arrived in c.mkt_pending.items():
        if state.customers[state.leads[lid].customer].owner != c.id:
            stale.append(lid)
            continue
        if at - arrived > limit:
            held = True
            break
    for lid in stale:
        del c.mkt_pending[lid]
    return held
