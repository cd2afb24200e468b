"""Eligibility (R-RT-2 steps 1-4 with R-RO-3, R-PR-2/3, R-SA-1/2/3 and the R-FU-3 hold): `reach`,
what a queue finds when it reaches a consultant. The one copy of the check: the rotation walks
(and so the shift routing that falls back on them, R-SH-3), `next` and the board all read it.

`reach` changes nothing. What a real reach does -- a skip used up (R-SA-2), a throttle reach
counted (R-SA-3) -- comes back as `effects`, which the walk puts into its `Route` and
`rotation.commit` applies when the fold takes the route; the board ignores them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .. import sentences as S
from ..state import Consultant, TeamState
from . import sanctions

INELIGIBLE = ("away", "leave", "busy_old")  # R-PR-2
TAKES = ("eligible", "busy_new")  # outcomes that step 1-3 let through (busy_new: R-PR-3 step 4)


@dataclass(frozen=True, slots=True)
class Reach:
    """The outcome of one reach: `eligible`, `busy_new` (passes, counted as a turn), `left`,
    `away` / `leave` / `busy_old`, `suspended`, `held`, `skip` or `throttled` (the board's
    status codes); `why` as the route's candidates say it ("" when eligible); `rests_on` the
    seqs the outcome rests on beyond the consultant's presence record (R-OW-6); `effects`
    ("skip" | "reach", sanction, channel) to apply if the route is taken; `by` what decided
    (the sanction, or the id of the lead that holds them)."""

    outcome: str
    why: str
    rests_on: tuple = ()
    effects: tuple = ()
    by: Any = None


ELIGIBLE = Reach("eligible", "")
BUSY_NEW = Reach("busy_new", S.BUSY_NEW)
LEFT = Reach("left", S.LEFT)
_ABSENT = {p: Reach(p, S.ABSENT.format(presence=p)) for p in INELIGIBLE}
HELD_WHY = S.HELD


def reach(state: TeamState, c: Consultant, channel: str, at: dt.datetime) -> Reach:
    """R-RT-2 for queue `channel` reaching `c` at `at`: step 1 (left, R-PR-2, R-SA-1), the R-FU-3
    hold (weighted queues), step 2 (R-SA-2 skip), step 3 (R-SA-3 throttle), step 4 (R-PR-3).
    Every reach step 1 lets through counts for a throttle, also one a skip then passes."""
    if c.left_at is not None:
        return LEFT
    presence = c.presence
    if presence in INELIGIBLE:
        return _ABSENT[presence]
    live = sanctions.live_sanctions(c, at)
    for s in live:
        if s.kind == "suspend" and s.covers(channel):
            return Reach("suspended", S.SUSPENDED.format(rule=s.rule), (s.seq,), (), s)
    if c.mkt_pending:
        policy = state.policy
        if policy.marketing_followup_hold and policy.orders.get(channel) == "weighted":
            lid = held(state, c, at)
            if lid is not None:
                return Reach("held", HELD_WHY, (), (), lid)
    if not live:
        return BUSY_NEW if presence == "busy_new" else ELIGIBLE
    passed = None
    effects = []
    for s in live:
        if s.kind == "skip" and s.covers(channel):
            effects.append(("skip", s, channel))
            passed = Reach("skip", S.SKIP.format(rule=s.rule), (s.seq,), (), s)
            break
    for s in live:
        if s.kind == "throttle" and s.covers(channel):
            effects.append(("reach", s, channel))
            if passed is None and s.reaches.get(channel, 0) % s.of >= s.take:
                passed = Reach("throttled", S.THROTTLED.format(take=s.take, of=s.of, rule=s.rule), (s.seq,), (), s)
    if passed is None:
        passed = BUSY_NEW if presence == "busy_new" else ELIGIBLE
    if not effects:
        return passed
    return Reach(passed.outcome, passed.why, passed.rests_on, tuple(effects), passed.by)


def held(state: TeamState, c: Consultant, at: dt.datetime) -> str | None:
    """R-FU-3: the first marketing lead `c` still owns, unanswered for more than the policy's
    hours, or None."""
    limit = dt.timedelta(hours=state.policy.marketing_followup_hours)
    for lid, arrived in c.mkt_pending.items():
        lead = state.leads.get(lid)
        if lead is None or state.customers[lead.customer].owner != c.id:
            continue  # handed over (R-FU-3 follows the customer)
        if at - arrived > limit:
            return lid
    return None
