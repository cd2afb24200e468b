"""Policies and periods: `PolicyAdopted` (the calendar, §10 zone changes), the week start
(R-T-3; R-RT-3 ranking restart; weekly sanctions) and the month start (R-FU-4 list swap).
A week or month is never started twice across a zone change."""
from __future__ import annotations

import datetime as dt
import heapq

from ledger.policy import policy_of

from .. import indexes
from ..calendar import ONE_WEEK, Calendar
from ..state import P_MONTH, P_WEEK, ZERO, TeamState, schedule
from . import followups, roster, sanctions


def on_policy(state: TeamState, rec) -> None:
    ev = rec.event
    policy = policy_of(ev)
    zone = state.policy.timezone
    state.policies.append((ev.at, policy))
    indexes.mark_all(state)  # zones and grade cadence: every follow-up duty
    state.policy = policy
    state.policy_seq = rec.seq
    state.cal = Calendar(policy)
    if not state.adopted:
        state.adopted = True
        monday = state.cal.local(ev.at).date()
        state.list_swap_last = month_key(monday)  # the month under way: its start is not to come
        monday -= dt.timedelta(days=monday.weekday())
        start_week(state, monday)
        schedule(state, state.cal.next_week_start(ev.at), P_WEEK, "week", None)
        schedule(state, state.cal.next_month_start(ev.at), P_MONTH, "month", None)
    else:
        if policy.timezone != zone:
            _rezone(state, ev.at)
        roster.reorder(state)


def on_week(state: TeamState, instant: dt.datetime, _payload) -> None:
    """R-T-3, R-RT-3, R-RT-4, R-SA-4/7/8: a week starts at Monday 00:00."""
    cal = state.cal
    date = cal.local(instant).date()
    monday = date - dt.timedelta(days=date.weekday())
    if state.week_monday is None or monday > state.week_monday:  # not twice across a zone change (§10)
        start_week(state, monday)
        sanctions.weekly_sanctions(state, monday)
    schedule(state, cal.at(monday + ONE_WEEK), P_WEEK, "week", None)


def start_week(state: TeamState, monday: dt.date) -> None:
    key, _, _ = state.cal.window_of_week(monday)
    state.week_monday = monday
    state.rank_rev = dict(state.rev_window.get(key, {}))
    best = max(state.rank_rev.values(), default=ZERO)
    tops = [cid for cid, amount in state.rank_rev.items() if amount == best]
    top = tops[0] if best > 0 and len(tops) == 1 else None
    state.top_earner = top
    roster.reorder(state)
    first = state.rank_order[0] if state.rank_order else None
    for channel, mode in state.policy.orders.items():
        if mode == "ranking":
            queue = state.queues.get(channel.value)
            if queue is not None:
                queue.up = first  # R-RT-3: restart at rank 1 (a later join does not take it)
                queue.bonus_for = None


def on_month(state: TeamState, instant: dt.datetime, _payload) -> None:
    cal = state.cal
    month = month_key(cal.local(instant).date())
    if state.list_swap_last is None or month > state.list_swap_last:  # not twice across a zone change
        state.list_swap_last = month
        if state.policy.list_swap:
            followups.list_swap(state, instant)
    schedule(state, cal.next_month_start(instant), P_MONTH, "month", None)


def month_key(date: dt.date) -> str:
    return f"{date.year:04d}-{date.month:02d}"


def _rezone(state: TeamState, at: dt.datetime) -> None:
    """§10: a later adoption's zone applies from its own time on, so the coming week and month
    starts are the new zone's; one the new zone has passed already (it is ahead) starts at once."""
    state.timers[:] = [t for t in state.timers if t[3] not in ("week", "month")]
    heapq.heapify(state.timers)
    cal = state.cal
    date = cal.local(at).date()
    monday = date - dt.timedelta(days=date.weekday())
    started = state.week_monday is not None and monday > state.week_monday
    schedule(state, at if started else cal.next_week_start(at), P_WEEK, "week", None)
    started = state.list_swap_last is not None and month_key(date) > state.list_swap_last
    schedule(state, at if started else cal.next_month_start(at), P_MONTH, "month", None)
