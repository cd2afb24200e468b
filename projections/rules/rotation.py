"""Routing and rotation (R-OW-4, R-RT-2/4/6/7/8/9): where a lead naming nobody goes
(`route_for`, no state changed), the queues that walk the seat or ranking order (`_walk`), the
weighted marketing queue (`_weighted`), and the effects of a route once taken (`commit`, with
the counts of R-RT-7 in `count`)."""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from math import gcd

from ledger.policy import Policy

from .. import sentences as S
from ..state import Consultant, Lead, Queue, Route, TeamState
from . import eligibility, presence_shifts


def queue_mode(policy: Policy, channel: str) -> str | None:
    return policy.orders.get(channel)  # Channel is a str enum: plain names look it up


def queue_order(state: TeamState, mode: str) -> list[str]:
    return state.rank_order if mode == "ranking" else state.seat_order


def path_channel(channel: str) -> str:
    return "walk_in" if channel == "customer_referral" else channel  # R-OW-1b


def route_for(state: TeamState, channel: str, at: dt.datetime, maker: str | None = None) -> Route:
    """Where a new lead of `channel` naming nobody would go at `at` (no state is changed): the
    shift rules first (`presence_shifts.shift_route`), then the channel's rotation."""
    policy = state.policy
    local = state.cal.local(at)
    if channel == "outbound":
        return Route("maker", "R-CH-3", maker, date=local.date())
    path = path_channel(channel)
    if channel in policy.shift_channels:  # customer_referral: no shift rules, walk_in rotation
        route = presence_shifts.shift_route(state, path, at, local)
        if route is not None:
            return route
    return queue_route(state, path, at, local, "R-RT-2")


def queue_route(state: TeamState, channel: str, at: dt.datetime, local: dt.datetime, rule: str) -> Route:
    mode = queue_mode(state.policy, channel)
    if mode == "weighted":
        return _weighted(state, channel, at, local)
    if mode is None:
        return Route("none", "R-RT-9", None, queue=channel, date=local.date())
    return _walk(state, channel, at, local, rule, mode)


def _walk(state: TeamState, channel: str, at: dt.datetime, local: dt.datetime, rule: str, mode: str) -> Route:
    """R-RT-2 (with R-RT-4 and R-RT-9): walk the cycle from the pointer."""
    order = queue_order(state, mode)
    route = Route("rotation", rule, None, queue=channel, date=local.date())
    n = len(order)
    if n == 0:
        route.kind, route.rule = "none", "R-RT-9"
        return route
    queue = state.queues.get(channel)
    up = queue.up if queue else None
    start = order.index(up) if up in order else 0
    if queue and queue.last_seq is not None:
        route.rests.append(queue.last_seq)
    bonus = queue.bonus_for if queue else None
    steps = n
    route.new_bonus = None
    if bonus is not None and order[start] == bonus:
        if _bonus_lead(state, route, queue, order, start, channel, at, rule):
            return route
        start += 1  # the lapsed holder is not asked again for this lead
        steps = n - 1
    return _turn_holder(state, route, order, start, steps, channel, at)


def _bonus_lead(state: TeamState, route: Route, queue: Queue, order: list[str], start: int, channel: str,
                at: dt.datetime, rule: str) -> bool:
    """R-RT-4: the bonus holder at the pointer takes the lead as a second lead (True), or the bonus
    lapses (False: the pointer moves past the holder, and the walk goes on without them)."""
    n = len(order)
    bonus = order[start]
    c = state.consultants[bonus]
    reach = eligibility.reach(state, c, channel, at)
    route.rests.append(c.presence_seq)
    if reach.outcome == "eligible":
        take(route, reach)
        route.receiver = bonus
        route.rule = "R-RT-4" if rule in ("R-RT-2", "R-SH-3") else rule
        route.candidates.append((bonus, "holder", S.BONUS))
        left = (queue.bonus_left or 1) - 1  # policy.bonus_leads_per_turn - 1 after their turn
        if left:
            route.new_up, route.new_bonus, route.new_bonus_left = bonus, bonus, left
        else:
            route.new_up = order[(start + 1) % n]
        route.move_pointer = True
        return True
    # a lapse has no effects and rests on the presence record only; busy_new is not counted
    why = S.BUSY_NEW_LAPSE if reach.outcome == "busy_new" else reach.why
    route.candidates.append((bonus, "lapsed", S.BONUS_LAPSES.format(why=why)))
    route.move_pointer = True  # the bonus is gone even if nobody takes the lead
    route.new_up = order[(start + 1) % n]
    return False


def _turn_holder(state: TeamState, route: Route, order: list[str], start: int, steps: int, channel: str,
                 at: dt.datetime) -> Route:
    """R-RT-2: the first of `steps` consultants from `start` on who may take the lead holds the
    turn; R-RT-9 when nobody may."""
    n = len(order)
    consultants = state.consultants
    bonus_channel = channel in state.policy.bonus_channels
    for i in range(steps):
        cid = order[(start + i) % n]
        c = consultants[cid]
        route.rests.append(c.presence_seq)
        reach = eligibility.reach(state, c, channel, at)
        if reach is not eligibility.ELIGIBLE:
            take(route, reach)
            if reach.outcome != "eligible":
                if reach.outcome == "busy_new":
                    route.busy.append(cid)
                route.candidates.append((cid, "passed", reach.why))
                continue
        route.receiver = cid
        route.candidates.append((cid, "holder", S.TURN_HOLDER))
        route.move_pointer = True
        if bonus_channel and cid == state.top_earner:  # R-RT-4: the pointer stays for the bonus leads
            route.new_up = cid
            route.new_bonus = cid
            route.new_bonus_left = state.policy.bonus_leads_per_turn - 1
        else:
            route.new_up = order[(start + i + 1) % n]
        return route
    route.kind, route.rule = "none", "R-RT-9"
    # R-RT-9: the pointer stays, except that a lapsed bonus still moves it past the bonus holder
    route.move_pointer = route.new_up is not None
    return route


def _weight(state: TeamState, c: Consultant, at: dt.datetime) -> tuple[int, int]:
    """R-RT-8: conversion of the marketing leads received in the last 30 days, at least 1/10, as
    a reduced (numerator, denominator)."""
    horizon = at - dt.timedelta(days=state.policy.marketing_window_days)
    history = c.mkt_history
    while history and history[0][0] <= horizon:
        history.popleft()
    if not history:
        return 1, 1
    leads = state.leads
    won, n = sum(1 for _, lid in history if leads[lid].converted), len(history)
    least = state.policy.marketing_min_weight
    if won * least.denominator < least.numerator * n:
        return least.numerator, least.denominator
    g = gcd(won, n)
    return won // g, n // g


def _weighted(state: TeamState, channel: str, at: dt.datetime, local: dt.datetime) -> Route:
    """R-RT-8: smooth weighted round-robin with exact fractions (as reduced integer pairs here,
    Fractions in the state: the same values, several times faster than Fraction arithmetic)."""
    route = Route("weighted", "R-RT-8", None, queue=channel, date=local.date())
    eligible = []
    for cid in state.seat_order:
        c = state.consultants[cid]
        route.rests.append(c.presence_seq)
        reach = eligibility.reach(state, c, channel, at)
        if reach is not eligibility.ELIGIBLE:
            take(route, reach)
            if reach.outcome not in eligibility.TAKES:  # R-PR-3's busy_new is a rotation rule, not R-RT-8's
                route.candidates.append((cid, "passed", reach.why))
                continue
        eligible.append((cid, _weight(state, c, at)))
    if not eligible:
        route.kind, route.rule = "none", "R-RT-9"
        return route
    scores: dict[str, tuple[int, int]] = {}
    total = (0, 1)
    best = None
    for cid, weight in eligible:
        old = state.scores.get(cid)
        score = scores[cid] = _add((old.numerator, old.denominator) if old is not None else (0, 1), weight)
        total = _add(total, weight)
        if best is None or score[0] * scores[best][1] > scores[best][0] * score[1]:
            best = cid
    scores[best] = _add(scores[best], (-total[0], total[1]))
    route.scores = {cid: Fraction(n, d) for cid, (n, d) in scores.items()}
    route.receiver = best
    for cid, weight in eligible:
        outcome = "holder" if cid == best else "scored"
        route.candidates.append((cid, outcome, S.WEIGHTED.format(weight=_text(weight), score=_text(scores[cid]))))
    return route


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    n, d = a[0] * b[1] + b[0] * a[1], a[1] * b[1]
    g = gcd(n, d)
    return n // g, d // g


def _text(value: tuple[int, int]) -> str:
    """As `str(Fraction)`: `n` or `n/d`."""
    return str(value[0]) if value[1] == 1 else f"{value[0]}/{value[1]}"


def take(route: Route, reach: eligibility.Reach) -> None:
    """Put what `reach` rests on and its effects into the route (applied by `commit`)."""
    route.rests.extend(reach.rests_on)
    for kind, s, channel in reach.effects:
        if kind == "skip":
            route.skips.append(s)
        else:
            route.reaches.append((s, channel))


def count(state: TeamState, cid: str, channel: str, date: dt.date, turns: int = 0, leads: int = 0) -> None:
    key = (cid, channel, date)
    row = state.counts.get(key)
    if row is None:
        state.counts[key] = [turns, leads]
    else:
        row[0] += turns
        row[1] += leads


def commit(state: TeamState, route: Route, lead: Lead, as_pass: bool) -> None:
    """Apply a route's effects; `as_pass`: the receiver passes normally (R-RT-6)."""
    channel = lead.channel
    for s in route.skips:
        s.turns_left -= 1
    for s, ch in route.reaches:
        s.reaches[ch] = s.reaches.get(ch, 0) + 1
    for cid in route.busy:
        count(state, cid, channel, route.date, turns=1)
    kind = route.kind
    if kind == "rotation" or (kind == "none" and route.move_pointer):
        if route.move_pointer:
            queue = state.queues.get(route.queue)
            if queue is None:
                queue = state.queues[route.queue] = Queue()
            queue.up = route.new_up
            queue.bonus_for = route.new_bonus
            queue.bonus_left = route.new_bonus_left
            queue.last_seq = lead.seq
        if route.receiver is not None:
            count(state, route.receiver, channel, route.date, turns=1, leads=0 if as_pass else 1)
    elif kind == "weighted":
        state.scores.update(route.scores)
        count(state, route.receiver, channel, route.date, turns=1, leads=0 if as_pass else 1)
        if not as_pass:
            c = state.consultants[route.receiver]
            c.mkt_history.append((lead.at, lead.id))
    elif kind == "shift":
        if not as_pass:
            count(state, route.receiver, channel, route.date, leads=1)
    elif kind == "overtime":
        ch, date, nxt = route.ot_key
        state.ot_queues[ch] = (date, nxt)
        if not as_pass:
            count(state, route.receiver, channel, route.date, leads=1)
    elif kind == "maker":
        if not as_pass and route.receiver is not None:
            count(state, route.receiver, channel, route.date, leads=1)
    if not as_pass and route.receiver is not None and kind in ("rotation", "weighted", "shift", "overtime", "maker"):
        lead.counted_lead = (route.receiver, channel, route.date)
