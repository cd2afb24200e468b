"""The rules engine: a pure fold of one team's ordered history into `TeamState` (RULEBOOK §3-9).

    state = replay(records, until=at)      # sort by (at, seq), fold, fire timers <= at
    state = apply(state, rec)              # one more event (a late one re-folds)
    state = advance(state, until)          # fire timers <= until

Timers (the week start, deferred allocation at the first minute after `day_start`, follow-up
deadlines at 24:00, the monthly list swap) fire at their instant T before any event with
`at >= T`; at one instant: deadlines, then the month start, then the week start.

Decisions taken where the rulebook is silent (a supervisor's reading):

- Weekly metrics (R-SA-4/7/8): `contracts` and `deals` both count every `ContractSigned`
  credited to the consultant (a split contract counts for both halves), deposits included;
  cancellations later do not un-count it. `invitations` = `InvitationRecorded`, `visits` =
  `VisitRecorded`, by their `consultant`. An event counts in the window holding its `at`.
- Revenue (R-MO-2) = payments - refunds; loan disbursements and cancellations are not revenue.
- `owner LEAD` reports the rule of the lead's own decision while that decision still stands
  (a duplicate kept by P answers R-OW-3), and the rule of the later change otherwise.
- Counts (R-RT-7) are filed under the lead's own channel; a `customer_referral` lead not given
  to the referrer's owner is allocated by the `walk_in` queue (R-OW-1b; no shift rules, as
  `customer_referral` is no shift channel) but counted as `customer_referral`. R-OW-1b applies
  only to a customer nobody tracks (R-ID-3): a tracked customer's referral is an R-OW-3 duplicate.
- §10: a later adoption with another `timezone` moves the coming week and month starts to the
  new zone (one the new zone has already passed starts at the adoption); a week or month is
  never started twice. Dates already decided (counts, deadlines) keep the zone of their time.
- A reach that a skip (R-SA-2) passes still counts as a reach for a throttle (R-SA-3): reaches
  count whenever step 1 let the consultant through. A skip naming several channels has one
  shared count.
- A lapsed bonus second lead (R-RT-4) uses no skip and counts no throttle reach.
- A consultant who has left neither tracks customers (R-ID-3, so a duplicate of their customer
  is allocated as new), nor is returned to by R-OW-1/R-OW-1b, nor owns a naming (R-OW-2).
- A takeover (R-OW-3 new_wins, R-OW-3b, R-OW-3c) whose allocation would be deferred or unowned
  leaves the customer with P (rule R-OW-3).
- A deferred lead whose customer got an owner after its arrival and before 09:01 (another
  lead allocated meanwhile) joins that owner (R-OW-3; R-OW-0 under a ruling) and consumes no
  turn; otherwise it is allocated as new. Its follow-up deadline is the end of the allocation
  day.
- R-FU-2 fires once per lead; when several leads of one customer fall due at the same
  instant, the customer moves once. Unowned leads are not reassigned.
- R-FU-4 releases customers that have an owner, no live contract, no ruling, and are
  untracked; the deal walks the seat order of consultants who have not left.
- R-OW-8: a lead taken by someone other than its derived owner is disputed; R-SA-5 applies when
  the R-SH-2 holder was on post and someone else took the lead. For a deferred lead the taker
  is compared with the owner at allocation.
- R-FU-5: a confirmed grade's next follow-up is due at the end of the local day `cadence`
  days after the current owner's own last follow-up (or the confirmation, if none since);
  `Customer.followed` keeps each consultant's latest, `queries.followups` reads it.
- R-RT-8 weight: a marketing lead counts as converted when its customer signed a contract at or
  after the lead's arrival.
- A claim that disagreed with the derived owner when it was made keeps the customer disputed
  until a ruling, even if the owner later becomes the claimant (R-OW-7).
- A stored seat swap that a late event made non-adjacent is ignored on replay (imports reject
  non-adjacent swaps up front; `check_swap` is the R-RO-2 check they share).
- Overtime (R-SH-4) and shift holders (R-SH-2) are not subject to skips or throttles either.
- Weighted marketing (R-RT-8) treats `busy_new` as eligible (R-RT-2 step 1 lets it through).
- CustomersLinked merges the two leads' customers (their phone identities too);
  CustomersUnlinked removes an explicit link, or splits the later lead into a customer of its
  own when the two matched by number. Either re-folds the history so far (R-ID-1).

State notes: `apply` may return a new state object (a late event or a new link re-folds from
the records kept in the state); always use the returned one. Pickled states keep their records
in JSON form and unpickle with the cyclic GC paused, so checkpoints load fast.
"""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import heapq
from fractions import Fraction
from typing import Iterable

from ledger import events as E
from ledger.errors import RuleViolation
from ledger.phone import identity
from ledger.policy import Policy, policy_of

from .calendar import (
    DAY, EARLY, LATE, OFF_EARLY, ONE_DAY, ONE_WEEK, Calendar, month_of,
)
from .checkpoint import CHECKPOINT_FORMAT, StaleCheckpoint, dump_checkpoint, load_checkpoint
from .facts import ContractFacts, Credit, Movement, ProviderReward, ReferralSource, Target
from .lazy import Fetch, LazyDict, lazy_dict as _lazy_dict, no_gc as _no_gc
from .state import (
    HALF, ONE, P_DEADLINE, P_DEFER, P_MONTH, P_WEEK, ZERO, ContractState, Consultant, Customer, Entry, Lead,
    NeedsFullReplay, Queue, Route, Sanction, TeamState, Violation, lead_customer as _lead_customer,
    schedule as _push,
)

__all__ = [
    "CHECKPOINT_FORMAT", "Fetch", "LazyDict", "NeedsFullReplay", "StaleCheckpoint", "dump_checkpoint",
    "load_checkpoint", "Consultant", "Customer", "Entry", "Lead", "Queue", "Route", "Sanction", "TeamState",
    "Violation", "_lazy_dict", "apply", "advance", "replay", "route_for", "check_swap", "derived_id", "INELIGIBLE",
]

SHIFT_REFERRAL_CHANNELS = ("hotline", "hq_referral", "internal_referral")  # R-OW-3c
INELIGIBLE = ("away", "leave", "busy_old")  # R-PR-2


# ----------------------------------------------------------------------------- public API

def apply(state: TeamState, rec: E.Recorded) -> TeamState:
    """Fold one event; records must come in `rec.key` order (an earlier one re-folds, R-T-5)."""
    if rec.seq in state.seen:
        return state
    event = rec.event
    if state.last_key is not None and (rec.key < state.last_key or (state.clock is not None and event.at < state.clock)):
        clock = state.clock
        fresh = _fold(state.records + [rec], None)
        if clock is not None and fresh.clock is not None and clock > fresh.clock:
            advance(fresh, clock)
        return fresh
    if isinstance(event, (E.CustomersLinked, E.CustomersUnlinked)):
        fact = _link_fact(rec)
        if fact not in state.link_plan:
            clock = state.clock
            fresh = _fold(state.records + [rec], None)
            if clock is not None and fresh.clock is not None and clock > fresh.clock:
                advance(fresh, clock)
            return fresh
    _fire(state, event.at)
    if state.team is None:
        state.team = event.team
    state._records.append(rec)
    state.seen.add(rec.seq)
    unlate = state.unlate
    if unlate and unlate[-1] > rec.seq:  # R-T-5: folded events recorded after this one are late
        cut = bisect.bisect_right(unlate, rec.seq)
        state.late_seqs.update(unlate[cut:])
        del unlate[cut:]
    unlate.append(rec.seq)
    state.last_key = rec.key
    handler = _HANDLERS.get(type(event))
    if handler is not None:
        handler(state, rec)
    if state.clock is None or event.at > state.clock:
        state.clock = event.at
    return state


def advance(state: TeamState, until: dt.datetime) -> TeamState:
    """Fire every timer whose instant is <= until; the clock moves to `until`."""
    _fire(state, until)
    if state.clock is None or until > state.clock:
        state.clock = until
    return state


def replay(records: Iterable[E.Recorded], until: dt.datetime | None = None, state: TeamState | None = None) -> TeamState:
    """Sort by key, fold the events with `at <= until`, then advance to `until`."""
    chosen = [r for r in records if until is None or r.event.at <= until]
    if state is not None and until is not None and state.clock is not None and state.clock > until:
        # a checkpoint beyond the asked moment: start again from its records
        known = {r.seq for r in chosen}
        chosen += [r for r in state.records if r.event.at <= until and r.seq not in known]
        state = None
    if state is not None:
        chosen = [r for r in chosen if r.seq not in state.seen]
        chosen.sort(key=_key)
        if chosen and state.last_key is not None and (
                chosen[0].key < state.last_key or (state.clock is not None and chosen[0].event.at < state.clock)):
            state = _fold(state.records + chosen, None)  # late records: one re-fold, not one per record
        else:
            with _no_gc():
                for rec in chosen:
                    state = apply(state, rec)
    else:
        state = _fold(chosen, until)
    if until is not None:
        advance(state, until)
    elif state.last_key is not None:
        advance(state, state.last_key[0])
    return state


def _key(rec):
    return rec.key


def _fold(records: list, until: dt.datetime | None) -> TeamState:
    with _no_gc():  # the fold makes many long-lived objects and no cycles worth collecting
        return _fold_all(records)


def _fold_all(records: list) -> TeamState:
    ordered = sorted(records, key=_key)
    state = TeamState()
    state.link_plan = tuple(_link_fact(r) for r in ordered if isinstance(r.event, (E.CustomersLinked, E.CustomersUnlinked)))
    _build_identity(state, ordered)
    for rec in ordered:
        state = apply(state, rec)
    return state


# ----------------------------------------------------------------------------- identity (R-ID-1)

def _link_fact(rec) -> tuple:
    ev = rec.event
    return (ev.type, ev.lead, ev.other, rec.seq)


def _build_identity(state: TeamState, ordered: list) -> None:
    """Turn the link plan into identity aliases and split-off leads."""
    if not state.link_plan:
        return
    phones, arrival = {}, {}
    for rec in ordered:
        ev = rec.event
        if isinstance(ev, E.LeadArrived):
            phones[ev.lead] = ev.phone
            arrival[ev.lead] = rec.key
    edges: list[tuple[str, str]] = []
    split: set[str] = set()
    for kind, a, b, _ in state.link_plan:
        if kind == "CustomersLinked":
            edges.append((a, b))
        else:
            pair = {(a, b), (b, a)}
            kept = [e for e in edges if e not in pair]
            if len(kept) == len(edges):
                later = max((a, b), key=lambda x: arrival.get(x, (dt.datetime.max.replace(tzinfo=dt.timezone.utc), 0)))
                split.add(later)
            edges = kept

    def base(lead):
        if lead in split:
            return "lead:" + lead
        return identity(phones.get(lead)) or "lead:" + lead

    parent: dict[str, str] = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(base(a)), find(base(b))
        if ra == rb:
            continue
        # the root is the identity of the earlier lead
        first = a if arrival.get(a, (dt.datetime.max.replace(tzinfo=dt.timezone.utc), 0)) <= arrival.get(b, (dt.datetime.max.replace(tzinfo=dt.timezone.utc), 0)) else b
        root = ra if first == a else rb
        other = rb if root == ra else ra
        parent[other] = root
    state.alias = {k: find(k) for k in parent}
    state.split_off = split


def _customer_key(state: TeamState, lead: str, phone: str | None) -> str:
    if lead in state.split_off:
        key = "lead:" + lead
    else:
        key = identity(phone) or "lead:" + lead
    return state.alias.get(key, key)


# ----------------------------------------------------------------------------- timers

def _fire(state: TeamState, until: dt.datetime) -> None:
    timers = state.timers
    while timers and timers[0][0] <= until:
        instant, _, _, kind, payload = heapq.heappop(timers)
        if state.clock is None or instant > state.clock:
            state.clock = instant
        _TIMERS[kind](state, instant, payload)


def _on_week(state: TeamState, instant: dt.datetime, _payload) -> None:
    """R-T-3, R-RT-3, R-RT-4, R-SA-4/7/8: a week starts at Monday 00:00."""
    cal = state.cal
    date = cal.local(instant).date()
    monday = date - dt.timedelta(days=date.weekday())
    if state.week_monday is None or monday > state.week_monday:  # not twice across a zone change (§10)
        _start_week(state, monday)
        _weekly_sanctions(state, monday)
    _push(state, cal.at(monday + ONE_WEEK), P_WEEK, "week", None)


def _start_week(state: TeamState, monday: dt.date) -> None:
    key, _, _ = state.cal.window_of_week(monday)
    state.week_monday = monday
    state.rank_rev = dict(state.rev_window.get(key, {}))
    best = max(state.rank_rev.values(), default=ZERO)
    tops = [cid for cid, amount in state.rank_rev.items() if amount == best]
    top = tops[0] if best > 0 and len(tops) == 1 else None
    state.top_earner = top
    _reorder(state)
    first = state.rank_order[0] if state.rank_order else None
    for channel, mode in state.policy.orders.items():
        if mode == "ranking":
            queue = state.queues.get(channel.value)
            if queue is not None:
                queue.up = first  # R-RT-3: restart at rank 1 (a later join does not take it)
                queue.bonus_for = None


def _weekly_sanctions(state: TeamState, monday: dt.date) -> None:
    """R-SA-4, R-SA-7, R-SA-8, with the exemption for consultants not joined by the window start."""
    cal = state.cal
    key, start, _ = cal.window_of_week(monday)
    week_start, week_end = cal.at(monday), cal.at(monday + ONE_WEEK)
    for index, rule in enumerate(state.policy.weekly_sanctions):
        counts = state.metrics.get((key, rule.metric), {})
        for cid in state.seat_order:
            c = state.consultants[cid]
            if c.joined_at > start:
                continue
            if counts.get(cid, 0) >= rule.minimum:
                continue
            sid = derived_id(rule.rule, monday.isoformat(), index, cid)
            _add_sanction(state, Sanction(
                id=sid, consultant=cid, kind=rule.kind.value, channels=tuple(ch.value for ch in rule.channels),
                rule=rule.rule, start=week_start, until=week_end, seq=None, derived=True,
                reason=f"{rule.metric} in the window below {rule.minimum}",
                take=rule.take or 0, of=rule.of or 0,
            ))


def _on_month(state: TeamState, instant: dt.datetime, _payload) -> None:
    cal = state.cal
    month = _month_key(cal.local(instant).date())
    if state.list_swap_last is None or month > state.list_swap_last:  # not twice across a zone change
        state.list_swap_last = month
        if state.policy.list_swap:
            _list_swap(state, instant)
    _push(state, cal.next_month_start(instant), P_MONTH, "month", None)


def _month_key(date: dt.date) -> str:
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
    _push(state, at if started else cal.next_week_start(at), P_WEEK, "week", None)
    started = state.list_swap_last is not None and _month_key(date) > state.list_swap_last
    _push(state, at if started else cal.next_month_start(at), P_MONTH, "month", None)


def _list_swap(state: TeamState, instant: dt.datetime) -> None:
    """R-FU-4: release untracked customers without a contract and deal them over the seats."""
    horizon = dt.timedelta(days=state.policy.tracking_days)
    released = []
    for cust in state.customers.values():
        if cust.owner is None or cust.ruling is not None or _live_contract(state, cust) is not None:
            continue
        if cust.last_touch is not None and instant - cust.last_touch <= horizon and state.active(cust.owner):
            continue
        last = state.leads[cust.leads[-1]]
        released.append((last.at, last.seq, cust))
    released.sort(key=lambda item: (item[0], item[1]))
    order = state.seat_order
    if not order:
        return
    position = 0
    for _, _, cust in released:
        for step in range(len(order)):
            cid = order[(position + step) % len(order)]
            c = state.consultants[cid]
            if c.presence == "on_post" and cid != cust.owner:
                previous, touched = cust.owner, cust.last_touch
                _set_owner(state, cust, cid, "R-FU-4", instant, via=cust.via)
                since = _fmt(state, touched) if touched else "ever"
                _timeline(state, cust, instant, None, "ListSwapped",
                          f"untracked since {since}: released by {previous} and dealt to {cid} (R-FU-4)",
                          "R-FU-4", lead=cust.leads[-1], rests=(state.leads[cust.leads[-1]].seq,))
                position = (position + step + 1) % len(order)
                break


def _on_deadline(state: TeamState, instant: dt.datetime, lead_id: str) -> None:
    """R-FU-2: no follow-up by the owner by the deadline -> the month's top earner."""
    lead = state.leads.get(lead_id)
    if lead is None or lead.reassigned:
        return
    cust = state.customers[lead.customer]
    if cust.owner is None or cust.ruling is not None:
        return
    if cust.last_owner_fu is not None and cust.last_owner_fu >= lead.at:
        return
    if cust.moved_at == instant:
        return
    lead.reassigned = True
    day = state.cal.local(instant - dt.timedelta(microseconds=1)).date()
    revenue = state.rev_month.get(month_of(day), {})
    movements = state.rev_month_seqs.get(month_of(day), {})
    best, target, candidates = None, None, []
    for cid in state.seat_order:
        if cid == cust.owner:
            continue
        amount = revenue.get(cid, ZERO)
        candidates.append((cid, "scored", f"month revenue {amount} (R-FU-2)"))
        if best is None or amount > best:
            best, target = amount, cid
    if target is None:
        return
    previous = cust.owner
    cust.moved_at = instant
    _set_owner(state, cust, target, "R-FU-2", instant, via=cust.via)
    candidates = [(c, "received" if c == target else o, w) for c, o, w in candidates]
    _timeline(state, cust, instant, None, "Reassigned",
              f"{lead.id}: no follow-up by {previous} by {_fmt(state, instant)}; to the month's top earner {target} (R-FU-2)",
              "R-FU-2", lead=lead.id, rests=(lead.seq, state.policy_seq, *movements.get(target, ())),
              candidates=candidates)  # rests on the lead and the payments that made the top earner


def _on_defer(state: TeamState, instant: dt.datetime, lead_id: str) -> None:
    """R-SH-5: a deferred lead is allocated by the channel's normal rotation at 09:01."""
    lead = state.leads[lead_id]
    if not lead.deferred:
        return
    lead.deferred = False
    cust = state.customers[lead.customer]
    local = state.cal.local(instant)
    state.tick += 1
    lead.tick = state.tick
    joined = None
    if cust.ruling is not None:
        joined = "R-OW-0"
    elif cust.owner is not None and cust.owner_since is not None and cust.owner_since >= lead.at \
            and _tracked(state, cust, instant):
        joined = "R-OW-3"  # another lead of the customer was allocated meanwhile: first keeps
    if joined is not None:
        lead.owner, lead.rule = cust.owner, joined
        _touch(cust, cust.owner, instant)
        _timeline(state, cust, instant, None, "DeferredAllocated",
                  f"{lead.id}: the customer already belongs to {cust.owner} ({joined})", joined, lead=lead.id)
        _schedule_deadline(state, lead, local.date())
        return
    route = _rotation(state, _path_channel(lead.channel), instant, local, "R-SH-5")
    _commit(state, route, lead, as_pass=False)
    lead.candidates = tuple(route.candidates)
    if route.receiver is None:
        lead.owner, lead.rule = None, "R-RT-9"
        cust.rule = "R-RT-9" if cust.owner is None else cust.rule
        _timeline(state, cust, instant, None, "DeferredAllocated", f"{lead.id}: nobody eligible (R-RT-9)", "R-RT-9",
                  lead=lead.id, candidates=route.candidates)
        return
    lead.owner, lead.rule = route.receiver, "R-SH-5"
    _set_owner(state, cust, route.receiver, "R-SH-5", instant, via=lead.channel)
    lead.tick = state.tick
    _check_taken(state, lead, cust, route, instant, None)
    _timeline(state, cust, instant, None, "DeferredAllocated",
              f"{lead.id}: deferred lead allocated to {route.receiver} at {_fmt(state, instant)} (R-SH-5)", "R-SH-5",
              lead=lead.id, rests=[lead.seq, *route.rests], candidates=route.candidates)
    _schedule_deadline(state, lead, local.date())


_TIMERS = {"week": _on_week, "month": _on_month, "deadline": _on_deadline, "defer": _on_defer}


# ----------------------------------------------------------------------------- roster & presence

def _reorder(state: TeamState) -> None:
    active = [c for c in state.consultants.values() if c.left_at is None]
    active.sort(key=lambda c: c.seat)
    state.seat_order = [c.id for c in active]
    rev = state.rank_rev
    state.rank_order = [c.id for c in sorted(active, key=lambda c: (-rev.get(c.id, ZERO), c.seat))]


def _order(state: TeamState, mode: str) -> list[str]:
    return state.rank_order if mode == "ranking" else state.seat_order


def _on_policy(state: TeamState, rec) -> None:
    ev = rec.event
    policy = policy_of(ev)
    zone = state.policy.timezone
    state.policies.append((ev.at, policy))
    state.policy = policy
    state.policy_seq = rec.seq
    state.cal = Calendar(policy)
    if not state.adopted:
        state.adopted = True
        monday = state.cal.local(ev.at).date()
        state.list_swap_last = _month_key(monday)  # the month under way: its start is not to come
        monday -= dt.timedelta(days=monday.weekday())
        _start_week(state, monday)
        _push(state, state.cal.next_week_start(ev.at), P_WEEK, "week", None)
        _push(state, state.cal.next_month_start(ev.at), P_MONTH, "month", None)
    else:
        if policy.timezone != zone:
            _rezone(state, ev.at)
        _reorder(state)


def _on_joined(state: TeamState, rec) -> None:
    ev = rec.event
    if ev.consultant in state.consultants:
        return
    state.consultants[ev.consultant] = Consultant(ev.consultant, ev.name, ev.seat, ev.at, rec.seq, presence_seq=rec.seq)
    state.scores[ev.consultant] = Fraction(0)
    _reorder(state)  # R-RT-5: the pointer stays on whoever is up


def _on_left(state: TeamState, rec) -> None:
    ev = rec.event
    c = state.consultants.get(ev.consultant)
    if c is None or c.left_at is not None:
        return
    # R-RT-5: a queue whose pointer is on the leaver moves to the next one after them
    for channel, queue in state.queues.items():
        if queue.bonus_for == c.id:
            queue.bonus_for = None
        if queue.up == c.id:
            order = _order(state, _mode(state.policy, channel))
            if c.id in order and len(order) > 1:
                queue.up = order[(order.index(c.id) + 1) % len(order)]
            else:
                queue.up = None
    for channel, (date, up) in list(state.ot_queues.items()):
        if up == c.id:
            state.ot_queues[channel] = (date, None)
    c.left_at = ev.at
    _reorder(state)


def _on_swap(state: TeamState, rec) -> None:
    """R-RO-2: only two consultants adjacent in the current seat order may swap."""
    ev = rec.event
    try:
        check_swap(state, ev.a, ev.b)
    except RuleViolation:
        # imports reject such a swap (catalog); a late event can still make a stored swap
        # non-adjacent on replay: it is then ignored rather than failing every answer
        return
    a, b = state.consultants[ev.a], state.consultants[ev.b]
    a.seat, b.seat = b.seat, a.seat
    _reorder(state)


def check_swap(state: TeamState, a: str, b: str) -> None:
    order = state.seat_order
    if a not in order or b not in order or a == b:
        raise RuleViolation(f"R-RO-2: {a} and {b} must both be current consultants")
    if abs(order.index(a) - order.index(b)) != 1:
        raise RuleViolation(f"R-RO-2: {a} and {b} are not adjacent in the seat order {order}")


def _on_presence(state: TeamState, rec) -> None:
    ev = rec.event
    c = state.consultants.get(ev.consultant)
    if c is not None:
        c.presence = ev.presence.value
        c.presence_seq = rec.seq


def _on_shift(state: TeamState, rec) -> None:
    """R-SH-1: one early and one late holder a day (later replaces), several overtime."""
    ev = rec.event
    day = state.shifts.setdefault(ev.date, {"early": None, "late": None, "overtime": [], "seqs": {}})
    if ev.shift is E.Shift.overtime:
        if ev.consultant not in day["overtime"]:
            day["overtime"].append(ev.consultant)
    else:
        day[ev.shift.value] = ev.consultant
    day["seqs"][(ev.shift.value, ev.consultant)] = rec.seq


# ----------------------------------------------------------------------------- sanctions

def _add_sanction(state: TeamState, sanction: Sanction) -> None:
    state.sanctions[sanction.id] = sanction
    c = state.consultants.get(sanction.consultant)
    if c is not None:
        c.sanctions.append(sanction)


def _on_penalty(state: TeamState, rec) -> None:
    ev = rec.event
    _add_sanction(state, Sanction(
        id=ev.penalty, consultant=ev.consultant, kind=ev.kind.value, channels=tuple(ev.channels), rule=ev.rule,
        start=ev.from_ or ev.at, until=ev.until, reason=ev.reason, seq=rec.seq,
        turns_left=ev.turns or 0, take=ev.take or 0, of=ev.of or 0,
    ))


def derived_id(*parts) -> str:
    """The id of a derived sanction: its parts joined by dots, a valid event id (at most 64
    characters, shortened by a digest when longer), so a `PenaltyLifted` can name it (R-SA-9)."""
    sid = ".".join(str(part) for part in parts)
    if len(sid) > 64:
        sid = f"{sid[:47]}.{hashlib.blake2b(sid.encode(), digest_size=8).hexdigest()}"
    return sid


def _on_lift(state: TeamState, rec) -> None:
    """R-SA-9: any sanction, imposed or derived, ends at its lift."""
    sanction = state.sanctions.get(rec.event.penalty)
    if sanction is not None and sanction.lifted_at is None:
        sanction.lifted_at = rec.event.at
        sanction.lift_seq = rec.seq


def _on_complaint(state: TeamState, rec) -> None:
    """R-SA-8: a verified complaint skips the next turn(s) in the policy's channels."""
    ev = rec.event
    rule = state.policy.complaint_sanction
    if rule is None:
        return
    _add_sanction(state, Sanction(
        id=derived_id("complaint", rec.seq), consultant=ev.consultant, kind="skip",
        channels=tuple(ch.value for ch in rule.channels), rule=rule.rule, start=ev.at, until=None,
        reason=ev.reason, seq=rec.seq, derived=True, turns_left=rule.turns,
    ))


def _live_sanctions(c: Consultant, t: dt.datetime) -> list:
    if not c.sanctions:
        return c.sanctions
    kept = [s for s in c.sanctions if not _expired(s, t)]
    if len(kept) != len(c.sanctions):
        c.sanctions = kept
    return [s for s in kept if s.live(t)]


def _expired(s: Sanction, t: dt.datetime) -> bool:
    if s.until is not None and t >= s.until:
        return True
    if s.lifted_at is not None and s.lifted_at <= t:
        return True
    return s.kind == "skip" and s.turns_left <= 0


# ----------------------------------------------------------------------------- routing (R-OW-4)

def _mode(policy: Policy, channel: str) -> str | None:
    return policy.orders.get(channel)  # Channel is a str enum: plain names look it up


def _path_channel(channel: str) -> str:
    return "walk_in" if channel == "customer_referral" else channel  # R-OW-1b


def route_for(state: TeamState, channel: str, at: dt.datetime, maker: str | None = None) -> Route:
    """Where a new lead of `channel` naming nobody would go at `at` (no state is changed)."""
    policy = state.policy
    local = state.cal.local(at)
    if channel == "outbound":
        return Route("maker", "R-CH-3", maker, date=local.date())
    path = _path_channel(channel)
    if channel in policy.shift_channels:  # customer_referral: no shift rules, walk_in rotation
        window = state.cal.window(local)
        if window != DAY:
            day = state.shifts.get(local.date())
            shift = window if window in (EARLY, LATE) else ("early" if window == OFF_EARLY else "late")
            holder = day and day[shift]
            if holder and _on_post(state, holder):
                route = Route("shift", "R-SH-2" if shift == window else "R-SH-4", holder, date=local.date())
                route.rests = [day["seqs"].get((shift, holder))]
                route.candidates.append((holder, "holder", f"{shift} shift holder ({route.rule})"))
                return route
            gone = "R-SH-3" if shift == window else "R-SH-4"
            absent = ([(holder, "passed", f"{shift} shift holder not on post: {_presence(state, holder)} ({gone})")]
                      if holder else [])
            if shift == window:  # R-SH-3
                route = _rotation(state, path, at, local, "R-SH-3")
                route.candidates[:0] = absent
                return route
            route = _overtime(state, path, local, day, absent)  # R-SH-4 off hours
            if route is not None:
                return route
            return Route("deferred", "R-SH-5", None, queue=path, date=local.date(), candidates=absent)
    return _rotation(state, path, at, local, "R-RT-2")


def _on_post(state: TeamState, cid: str) -> bool:
    c = state.consultants.get(cid)
    return c is not None and c.left_at is None and c.presence == "on_post"


def _presence(state: TeamState, cid: str) -> str:
    c = state.consultants.get(cid)
    return "left" if c is None or c.left_at is not None else c.presence


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
        if _on_post(state, cid):
            route = Route("overtime", "R-SH-4", cid, queue=channel, date=date, candidates=candidates)
            route.ot_key = (channel, date, holders[(start + i + 1) % n])
            route.rests = [day["seqs"].get(("overtime", cid))]
            candidates.append((cid, "received", "overtime queue (R-SH-4)"))
            return route
        candidates.append((cid, "passed", f"overtime holder not on post: {_presence(state, cid)} (R-SH-4)"))
    return None


def _step1(state: TeamState, c: Consultant, channel: str, t: dt.datetime, route: Route | None = None):
    """R-RT-2 step 1: left, not on post (busy_new aside), or suspended -> the reason, else None.
    A suspension that passes them is among what the route rests on (R-OW-6)."""
    if c.left_at is not None:
        return "left (R-RO-3)"
    if c.presence in INELIGIBLE:
        return f"{c.presence} (R-PR-2)"
    for s in _live_sanctions(c, t):
        if s.kind == "suspend" and s.covers(channel):
            if route is not None:
                route.rests.append(s.seq)
            return f"suspended ({s.rule})"
    return None


def _steps23(state: TeamState, c: Consultant, channel: str, t: dt.datetime, route: Route):
    """R-RT-2 steps 2-3 (R-SA-2 skip, R-SA-3 throttle); effects go into the route.

    Every reach that step 1 let through counts for a throttle, also one a skip then passes.
    """
    live = _live_sanctions(c, t)
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


def _would_pass(state: TeamState, c: Consultant, channel: str, t: dt.datetime):
    why = _step1(state, c, channel, t)
    if why:
        return why
    for s in _live_sanctions(c, t):
        if s.kind == "skip" and s.covers(channel):
            return f"skip ({s.rule})"
        if s.kind == "throttle" and s.covers(channel):
            r = s.reaches.get(channel, 0) + 1
            if (r - 1) % s.of >= s.take:
                return f"throttled {s.take} of {s.of} ({s.rule})"
    if c.presence == "busy_new":
        return "busy_new (R-PR-3)"
    return None


def _rotation(state: TeamState, channel: str, at: dt.datetime, local: dt.datetime, rule: str) -> Route:
    mode = _mode(state.policy, channel)
    if mode == "weighted":
        return _weighted(state, channel, at, local)
    if mode is None:
        return Route("none", "R-RT-9", None, queue=channel, date=local.date())
    return _walk(state, channel, at, local, rule, mode)


def _walk(state: TeamState, channel: str, at: dt.datetime, local: dt.datetime, rule: str, mode: str) -> Route:
    """R-RT-2 (with R-RT-4 and R-RT-9): walk the cycle from the pointer."""
    order = _order(state, mode)
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
    consultants = state.consultants
    bonus = queue.bonus_for if queue else None
    steps = n
    route.new_bonus = None
    if bonus is not None and order[start] == bonus:
        c = consultants[bonus]
        why = _would_pass(state, c, channel, at)
        route.rests.append(c.presence_seq)
        if why is None:
            for s in _live_sanctions(c, at):
                if s.kind == "throttle" and s.covers(channel):
                    route.reaches.append((s, channel))
            route.receiver = bonus
            route.rule = "R-RT-4" if rule in ("R-RT-2", "R-SH-3") else rule
            route.candidates.append((bonus, "holder", "bonus second lead (R-RT-4)"))
            route.new_up = order[(start + 1) % n]
            route.move_pointer = True
            return route
        route.candidates.append((bonus, "lapsed", f"{why}; bonus second lead lapses (R-RT-4)"))
        route.move_pointer = True  # the bonus is gone even if nobody takes the lead
        route.new_up = order[(start + 1) % n]
        start += 1
        steps = n - 1
    bonus_channel = channel in state.policy.bonus_channels
    for i in range(steps):
        cid = order[(start + i) % n]
        c = consultants[cid]
        route.rests.append(c.presence_seq)
        why = _step1(state, c, channel, at, route)
        if why:
            route.candidates.append((cid, "passed", why))
            continue
        why = _steps23(state, c, channel, at, route)
        if why:
            route.candidates.append((cid, "passed", why))
            continue
        if c.presence == "busy_new":
            route.busy.append(cid)
            route.candidates.append((cid, "passed", "busy_new, counted as a turn (R-PR-3)"))
            continue
        route.receiver = cid
        route.candidates.append((cid, "holder", "turn holder (R-RT-2)"))
        route.move_pointer = True
        if bonus_channel and cid == state.top_earner:
            route.new_up = cid
            route.new_bonus = cid
        else:
            route.new_up = order[(start + i + 1) % n]
        return route
    route.kind, route.rule = "none", "R-RT-9"
    # R-RT-9: the pointer stays, except that a lapsed bonus still moves it past the bonus holder
    route.move_pointer = route.new_up is not None
    return route


def _weight(state: TeamState, c: Consultant, at: dt.datetime) -> Fraction:
    """R-RT-8: conversion of the marketing leads received in the last 30 days, at least 1/10."""
    horizon = at - dt.timedelta(days=state.policy.marketing_window_days)
    history = c.mkt_history
    while history and history[0][0] <= horizon:
        history.popleft()
    if not history:
        return Fraction(1)
    won = sum(1 for _, lid in history if state.leads[lid].converted)
    return max(state.policy.marketing_min_weight, Fraction(won, len(history)))


def _held(state: TeamState, c: Consultant, at: dt.datetime) -> bool:
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


def _weighted(state: TeamState, channel: str, at: dt.datetime, local: dt.datetime) -> Route:
    """R-RT-8: smooth weighted round-robin with exact fractions."""
    route = Route("weighted", "R-RT-8", None, queue=channel, date=local.date())
    eligible = []
    for cid in state.seat_order:
        c = state.consultants[cid]
        route.rests.append(c.presence_seq)
        why = _step1(state, c, channel, at, route)
        if why is None and _held(state, c, at):
            why = "no follow-up within 48 hours (R-FU-3)"
        if why is None:
            why = _steps23(state, c, channel, at, route)
        if why:
            route.candidates.append((cid, "passed", why))
            continue
        eligible.append((cid, _weight(state, c, at)))
    if not eligible:
        route.kind, route.rule = "none", "R-RT-9"
        return route
    scores = {}
    total = Fraction(0)
    best = None
    for cid, weight in eligible:
        scores[cid] = state.scores.get(cid, Fraction(0)) + weight
        total += weight
        if best is None or scores[cid] > scores[best]:
            best = cid
    scores[best] -= total
    route.scores = scores
    route.receiver = best
    for cid, weight in eligible:
        outcome = "holder" if cid == best else "scored"
        route.candidates.append((cid, outcome, f"weight {weight}, score {scores[cid]} (R-RT-8)"))
    return route


def _count(state: TeamState, cid: str, channel: str, date: dt.date, turns: int = 0, leads: int = 0) -> None:
    key = (cid, channel, date)
    row = state.counts.get(key)
    if row is None:
        state.counts[key] = [turns, leads]
    else:
        row[0] += turns
        row[1] += leads


def _commit(state: TeamState, route: Route, lead: Lead, as_pass: bool) -> None:
    """Apply a route's effects; `as_pass`: the receiver passes normally (R-RT-6)."""
    channel = lead.channel
    for s in route.skips:
        s.turns_left -= 1
    for s, ch in route.reaches:
        s.reaches[ch] = s.reaches.get(ch, 0) + 1
    for cid in route.busy:
        _count(state, cid, channel, route.date, turns=1)
    kind = route.kind
    if kind == "rotation" or (kind == "none" and route.move_pointer):
        if route.move_pointer:
            queue = state.queues.get(route.queue)
            if queue is None:
                queue = state.queues[route.queue] = Queue()
            queue.up = route.new_up
            queue.bonus_for = route.new_bonus
            queue.last_seq = lead.seq
        if route.receiver is not None:
            _count(state, route.receiver, channel, route.date, turns=1, leads=0 if as_pass else 1)
    elif kind == "weighted":
        state.scores.update(route.scores)
        _count(state, route.receiver, channel, route.date, turns=1, leads=0 if as_pass else 1)
        if not as_pass:
            c = state.consultants[route.receiver]
            c.mkt_history.append((lead.at, lead.id))
    elif kind == "shift":
        if not as_pass:
            _count(state, route.receiver, channel, route.date, leads=1)
    elif kind == "overtime":
        ch, date, nxt = route.ot_key
        state.ot_queues[ch] = (date, nxt)
        if not as_pass:
            _count(state, route.receiver, channel, route.date, leads=1)
    elif kind == "maker":
        if not as_pass and route.receiver is not None:
            _count(state, route.receiver, channel, route.date, leads=1)
    if not as_pass and route.receiver is not None and kind in ("rotation", "weighted", "shift", "overtime", "maker"):
        lead.counted_lead = (route.receiver, channel, route.date)


# ----------------------------------------------------------------------------- ownership (§7)

def _set_owner(state: TeamState, cust: Customer, owner: str | None, rule: str, at: dt.datetime,
               via: str | None = None, split: str | None = None) -> None:
    state.tick += 1
    if owner != cust.owner:
        cust.owner_since = at
        if state.policy.marketing_followup_hold:
            _hand_over_marketing(state, cust, cust.owner, owner)
    cust.owner, cust.rule, cust.tick = owner, rule, state.tick
    cust.via = via
    cust.split_with = split
    cust.pending_3b = None
    if owner is not None:
        cust.last_touch = at


def _hand_over_marketing(state: TeamState, cust: Customer, old: str | None, new: str | None) -> None:
    """R-FU-3 follows the customer: its marketing leads stop holding the previous owner and hold
    the new one unless they followed the customer up since the lead arrived."""
    for lid in cust.leads:
        lead = state.leads[lid]
        if lead.channel != "marketing":
            continue
        if old in state.consultants:
            state.consultants[old].mkt_pending.pop(lid, None)
        followed = cust.followed.get(new)
        if new in state.consultants and (followed is None or followed < lead.at):
            state.consultants[new].mkt_pending[lid] = lead.at


def _touch(cust: Customer, cid: str | None, at: dt.datetime) -> None:
    if cid is not None and cid == cust.owner:
        cust.last_touch = at


def _tracked(state: TeamState, cust: Customer, at: dt.datetime) -> bool:
    """R-ID-3."""
    if cust.owner is None or cust.last_touch is None or not state.active(cust.owner):
        return False
    return at - cust.last_touch <= dt.timedelta(days=state.policy.tracking_days)


def _live_contract(state: TeamState, cust: Customer) -> str | None:
    """R-OW-1: the latest contract neither cancelled nor fully refunded."""
    for kid in reversed(cust.contracts):
        k = state.contracts[kid]
        facts = state.money.contracts[kid]
        if not k.cancelled and k.refunded < facts.amount and k.owner is not None:
            return kid
    return None


def _on_lead(state: TeamState, rec) -> None:
    ev = rec.event
    if ev.lead in state.leads:
        return
    at = ev.at
    policy = state.policy
    cal = state.cal
    local = cal.local(at)
    channel = ev.channel.value
    cid = _customer_key(state, ev.lead, ev.phone)
    cust = state.customers.get(cid)
    if cust is None:
        cust = state.customers[cid] = Customer(cid)
    lead = Lead(ev.lead, channel, at, rec.seq, cid, local.date(), ev.phone, ev.taken_by, ev.callback_on)
    state.leads[ev.lead] = lead
    cust.leads.append(ev.lead)
    rests = [rec.seq]
    if state.policy_seq is not None:
        rests.append(state.policy_seq)
    route: Route | None = None
    owner, rule, take, via, split = None, None, False, channel, None
    as_pass = True
    named = ev.named or ev.prior_contact
    if named is not None and not state.active(named):
        named = None
    referrer = None
    if (channel == "customer_referral" and ev.referrer_phone and policy.referral_to_referrer_owner
            and not _tracked(state, cust, at)):  # R-OW-1b: only a customer nobody tracks (R-ID-3)
        rkey = identity(ev.referrer_phone)
        rcust = state.customers.get(state.alias.get(rkey, rkey)) if rkey else None
        if rcust is not None and rcust.owner is not None and state.active(rcust.owner):
            referrer = rcust.owner
            if rcust.timeline:
                rests.append(rcust.timeline[-1].seq or rec.seq)
    if channel == "customer_referral" and ev.referrer_phone:
        state.money.referral_sources[ev.lead] = ReferralSource(ev.lead, ev.referrer_phone, at, rec.seq)
    live_contract = _live_contract(state, cust) if cust.contracts else None

    if cust.ruling is not None:  # R-OW-0
        route = route_for(state, channel, at, ev.maker)
        owner, rule = cust.ruling, "R-OW-0"
    elif live_contract is not None and state.active(state.contracts[live_contract].owner):  # R-OW-1
        owner, rule = state.contracts[live_contract].owner, "R-OW-1"
        take = owner != cust.owner
        via = cust.via if not take else channel
    elif referrer is not None:  # R-OW-1b (a tracked customer's referral is a duplicate: R-OW-3)
        owner, rule, take = referrer, "R-OW-1b", True
        _count(state, referrer, channel, local.date(), leads=1)
        lead.counted_lead = (referrer, channel, local.date())
    elif named is not None:  # R-OW-2
        route = route_for(state, channel, at, ev.maker)
        owner, take = named, True
        rule = "R-OW-2"
        if policy.named_absent == "split_half" and not _on_post(state, named) and ev.taken_by and ev.taken_by != named:
            rule, split = "R-OW-2a", ev.taken_by
        _count(state, named, channel, local.date(), leads=1)
        lead.counted_lead = (named, channel, local.date())
    elif _tracked(state, cust, at):  # R-OW-3
        keeper = cust.owner
        rests.extend(e.seq for e in cust.timeline[-3:] if e.seq is not None)
        route = route_for(state, channel, at, ev.maker)
        if channel == "conference" and policy.conference_stays:  # R-OW-3d
            owner, rule = keeper, "R-OW-3d"
            provider = ev.taken_by or (ev.by if ev.by in state.consultants else None)
            if provider is not None:
                state.money.provider_rewards.append(ProviderReward(provider, ev.lead, at, rec.seq))
        elif (policy.weak_customer_referral and cust.via == "customer_referral"
              and channel in SHIFT_REFERRAL_CHANNELS and route.receiver is not None):  # R-OW-3c
            owner, rule, take, as_pass = route.receiver, "R-OW-3c", True, False
        elif channel == "hotline" and policy.hotline_after_tracking and route.receiver is not None:  # R-OW-3b
            evidence = cust.inbound.get(keeper)
            if evidence is not None and evidence <= at and cal.local(evidence).date() == local.date():
                owner, rule = keeper, "R-OW-3b"
            else:
                owner, rule, take, as_pass = route.receiver, "R-OW-3b", True, False
        elif policy.duplicate_default == "new_wins" and route.receiver is not None:
            owner, rule, take, as_pass = route.receiver, "R-OW-3", True, False
        else:
            owner, rule = keeper, "R-OW-3"
        via = cust.via if not take else channel
    else:  # R-OW-4 / R-OW-5: as new
        route = route_for(state, channel, at, ev.maker)
        as_pass = False
        if route.kind == "deferred":
            lead.deferred = True
            rule = "R-SH-5"
        else:
            owner, rule, take = route.receiver, route.rule, True
            if owner is None:
                take = cust.owner is not None
    if route is not None:
        rests.extend(s for s in route.rests if s is not None)
        if route.kind != "deferred" or not as_pass:
            _commit(state, route, lead, as_pass)
        candidates = route.candidates
        if as_pass and route.receiver is not None and route.receiver != owner:
            why = (f"turn consumed, the lead goes to {owner} (R-RT-6)" if route.kind in ("rotation", "weighted")
                   else f"the lead goes to {owner} ({rule})")
            candidates = [(c, "passed normally", why) if c == route.receiver and o == "holder" else (c, o, w)
                          for c, o, w in candidates]
        lead.candidates = tuple(candidates)
    if cust.owner is None and owner is None and not take:
        cust.rule = rule
        state.tick += 1
        cust.tick = state.tick
    lead.rests_on = tuple(dict.fromkeys(rests))
    previous = cust.owner
    if rule == "R-OW-3b" and take:
        pending = (local.date(), previous, lead.id, owner)
    else:
        pending = None
    if take:
        _set_owner(state, cust, owner, rule, at, via=via, split=split)
    else:
        _touch(cust, owner, at)
    if pending is not None:
        cust.pending_3b = pending
    lead.owner, lead.rule = owner, rule
    lead.tick = state.tick
    if lead.deferred:
        _push(state, cal.deferral_instant(local), P_DEFER, "defer", lead.id)
    if not lead.deferred and route is not None:
        _check_taken(state, lead, cust, route, at, rule)
    elif route is None and ev.taken_by and ev.taken_by != owner:
        cust.violations.append(Violation(lead.id, ev.taken_by, at, rec.seq))
    if channel == "marketing" and owner is not None and owner in state.consultants:
        state.consultants[owner].mkt_pending[lead.id] = at  # R-FU-3
    summary = _lead_summary(state, ev, owner, rule, previous, route)
    _timeline(state, cust, at, rec.seq, "LeadArrived", summary, rule, lead=lead.id,
              rests=lead.rests_on, candidates=lead.candidates)
    if not lead.deferred:
        _schedule_deadline(state, lead, local.date())


def _check_taken(state: TeamState, lead: Lead, cust: Customer, route: Route, at: dt.datetime, rule: str | None) -> None:
    """R-OW-8 (and R-SA-5 for a shift window lead taken from its holder)."""
    taker = lead.taken_by
    owner = lead.owner
    if not taker or taker == owner or lead.rule in ("R-OW-2a", "R-OW-3d"):
        return
    cust.violations.append(Violation(lead.id, taker, at, lead.seq))
    sanction = state.policy.shift_violation_sanction
    if sanction is not None and route.kind == "shift" and route.rule == "R-SH-2" and taker != route.receiver:
        if lead.channel in state.policy.shift_channels:
            start = state.cal.at(lead.date + ONE_DAY)
            _add_sanction(state, Sanction(
                id=derived_id(sanction.rule, lead.id), consultant=taker, kind="suspend",
                channels=tuple(ch.value for ch in sanction.channels), rule=sanction.rule, start=start,
                until=start + dt.timedelta(days=sanction.days), seq=lead.seq, derived=True,
                reason=f"took shift lead {lead.id} from {route.receiver}",
            ))


def _schedule_deadline(state: TeamState, lead: Lead, date: dt.date) -> None:
    """R-FU-1: end of the day, or of `callback_on`; R-FU-2 reassigns at it."""
    day = date
    if lead.callback_on is not None and lead.callback_on > day:
        day = lead.callback_on
    lead.deadline = state.cal.end_of_day(day)
    if lead.channel in state.policy.followup_reassign_channels and lead.owner is not None:
        _push(state, lead.deadline, P_DEADLINE, "deadline", lead.id)


def _lead_summary(state, ev, owner, rule, previous, route) -> str:
    text = f"{ev.lead} arrived by {ev.channel.value}"
    if ev.named:
        text += f" naming {ev.named}"
    if ev.prior_contact:
        text += f" (prior contact {ev.prior_contact})"
    if ev.taken_by:
        text += f", taken by {ev.taken_by}"
    if rule == "R-SH-5" and owner is None:
        return text + "; off hours with nobody on duty: deferred (R-SH-5)"
    if owner is None:
        return text + f"; nobody eligible ({rule})"
    text += f"; owner {owner} ({rule})"
    if previous is not None and previous != owner:
        text += f", taken from {previous}"
    if route is not None and route.receiver is not None and route.receiver != owner and route.kind in ("rotation", "weighted"):
        text += f"; turn holder {route.receiver} passes normally (R-RT-6)"
    return text


def _timeline(state: TeamState, cust: Customer, at: dt.datetime, seq: int | None, kind: str, summary: str,
              rule: str | None, lead: str | None = None, rests=(), candidates=()) -> None:
    if state.touched is not None:
        state.touched.add(cust.id)
    cust.timeline.append(Entry(at, seq, kind, summary, cust.owner, rule, lead, tuple(rests), tuple(candidates)))


# ----------------------------------------------------------------------------- other lead events


def _on_followup(state: TeamState, rec) -> None:
    """R-FU-1 (duty), R-ID-3 (touch), R-OW-3b (same-day inbound evidence), R-FU-3."""
    ev = rec.event
    lead, cust = _lead_customer(state, ev.lead)
    if cust is None:
        return
    who = ev.consultant
    rule = None
    rests = (rec.seq,)
    summary = f"{who} followed up {ev.lead} ({ev.direction.value})"
    if ev.direction is E.Direction.inbound:
        cust.inbound[who] = ev.at
        pending = cust.pending_3b
        if (pending is not None and pending[1] == who and cust.owner == pending[3] and cust.ruling is None
                and state.cal.local(ev.at).date() == pending[0]):
            taken = state.leads[pending[2]]
            if taken.counted_lead is not None:
                _count(state, taken.counted_lead[0], taken.counted_lead[1], taken.counted_lead[2], leads=-1)
                taken.counted_lead = None
            _set_owner(state, cust, who, "R-OW-3b", ev.at, via=cust.via)
            rule = "R-OW-3b"
            rests = (rec.seq, taken.seq)
            summary += f"; same-day inbound contact gives the customer back to {who} (R-OW-3b)"
    if who == cust.owner:
        cust.last_owner_fu = ev.at
        cust.last_touch = ev.at
    cust.followed[who] = ev.at
    c = state.consultants.get(who)
    if c is not None and c.mkt_pending:
        for lid in cust.leads:
            c.mkt_pending.pop(lid, None)
    _timeline(state, cust, ev.at, rec.seq, "FollowUpLogged", summary, rule, lead=ev.lead, rests=rests)


def _on_claim(state: TeamState, rec) -> None:
    """R-OW-7: a claim is shown, never an override."""
    ev = rec.event
    lead, cust = _lead_customer(state, ev.lead)
    if cust is None:
        return
    cust.claims.append((ev.lead, ev.consultant, ev.at, ev.reason, rec.seq))
    if ev.consultant != cust.owner:
        cust.contested = True  # disputed until a ruling, even if the owner later agrees
    agree = "agrees with" if ev.consultant == cust.owner else "disputes"
    _timeline(state, cust, ev.at, rec.seq, "ClaimMade", f"{ev.consultant} claims {ev.lead}: {ev.reason} ({agree} the derived owner, R-OW-7)",
              "R-OW-7", lead=ev.lead, rests=(rec.seq,))


def _on_ruling(state: TeamState, rec) -> None:
    """R-OW-0."""
    ev = rec.event
    lead, cust = _lead_customer(state, ev.lead)
    if cust is None:
        return
    _set_owner(state, cust, ev.owner, "R-OW-0", ev.at, via=cust.via)
    cust.ruling = ev.owner
    cust.ruling_at = ev.at
    cust.claims = []
    cust.contested = False
    cust.violations = []
    _timeline(state, cust, ev.at, rec.seq, "RulingMade", f"ruling: {ev.lead} belongs to {ev.owner}: {ev.reason} (R-OW-0)",
              "R-OW-0", lead=ev.lead, rests=(rec.seq,))


def _on_link(state: TeamState, rec) -> None:
    ev = rec.event
    state.link_facts.append(_link_fact(rec))
    lead, cust = _lead_customer(state, ev.lead)
    if cust is not None:
        verb = "linked to" if isinstance(ev, E.CustomersLinked) else "unlinked from"
        _timeline(state, cust, ev.at, rec.seq, ev.type, f"{ev.lead} {verb} {ev.other} (R-ID-1)", "R-ID-1",
                  lead=ev.lead, rests=(rec.seq,))


def _on_activity(state: TeamState, rec) -> None:
    """InvitationRecorded / VisitRecorded: R-SA-7, R-SA-8 metrics."""
    ev = rec.event
    metric = "invitations" if isinstance(ev, E.InvitationRecorded) else "visits"
    key = state.cal.window_key(state.cal.local(ev.at))
    bucket = state.metrics.setdefault((key, metric), {})
    bucket[ev.consultant] = bucket.get(ev.consultant, 0) + 1
    lead, cust = _lead_customer(state, ev.lead)
    if cust is not None:
        _timeline(state, cust, ev.at, rec.seq, ev.type, f"{ev.consultant}: {metric[:-1]} on {ev.lead}", None,
                  lead=ev.lead, rests=(rec.seq,))


def _on_grade(state: TeamState, rec) -> None:
    """R-FU-5: a proposal shows; a confirmation takes effect."""
    ev = rec.event
    lead, cust = _lead_customer(state, ev.lead)
    if cust is None:
        return
    if isinstance(ev, E.GradeConfirmed):
        cust.grade = ev.grade.value
        cust.grade_at = ev.at
        text = f"grade {ev.grade.value} confirmed (R-FU-5)"
    else:
        text = f"grade {ev.grade.value} proposed (R-FU-5)"
    _timeline(state, cust, ev.at, rec.seq, ev.type, text, "R-FU-5", lead=ev.lead, rests=(rec.seq,))


# ----------------------------------------------------------------------------- money (R-MO-*)

def _on_contract(state: TeamState, rec) -> None:
    """R-MO-3: credit the customer's owner at signing, or the halves of R-OW-2a."""
    ev = rec.event
    lead, cust = _lead_customer(state, ev.lead)
    if cust is None or ev.contract in state.money.contracts:
        return
    owner = cust.owner
    if owner is None:
        credits: tuple = ()
    elif cust.split_with and cust.split_with != owner:
        credits = (Credit(owner, HALF, "R-OW-2a"), Credit(cust.split_with, HALF, "R-OW-2a"))
    else:
        credits = (Credit(owner, ONE, cust.rule or "R-RT-2"),)
    state.money.contracts[ev.contract] = ContractFacts(
        contract=ev.contract, lead=ev.lead, customer=cust.id, amount=ev.amount, signed_at=ev.at, seq=rec.seq,
        kind=ev.kind.value if ev.kind else None, deposit=bool(ev.deposit), credits=credits,
    )
    state.contracts[ev.contract] = ContractState(owner)
    cust.contracts.append(ev.contract)
    key = state.cal.window_key(state.cal.local(ev.at))
    for metric in ("contracts", "deals"):
        bucket = state.metrics.setdefault((key, metric), {})
        for credit in credits:
            bucket[credit.consultant] = bucket.get(credit.consultant, 0) + 1
    for lid in cust.leads:
        other = state.leads[lid]
        if other.channel == "marketing" and other.at <= ev.at:
            other.converted = True
    _timeline(state, cust, ev.at, rec.seq, "ContractSigned",
              f"contract {ev.contract} ({ev.amount}) credited to " + ", ".join(f"{c.consultant}×{c.share}" for c in credits) + " (R-MO-3)",
              "R-MO-3", lead=ev.lead, rests=(rec.seq,))


def _on_movement(state: TeamState, rec) -> None:
    """R-MO-2: revenue = payments - refunds, by time, following the contract's credit."""
    ev = rec.event
    facts = state.money.contracts.get(ev.contract)
    if facts is None:
        return
    amount = getattr(ev, "amount", ZERO)
    facts.movements.append(Movement(ev.type, ev.at, rec.seq, amount))
    k = state.contracts[ev.contract]
    sign = 0
    if isinstance(ev, E.PaymentReceived):
        sign = 1
    elif isinstance(ev, E.ContractRefunded):
        sign = -1
        k.refunded += amount
    elif isinstance(ev, E.ContractCancelled):
        k.cancelled = True
    if sign:
        local = state.cal.local(ev.at)
        wkey = state.cal.window_key(local)
        mkey = month_of(local.date())
        wb = state.rev_window.setdefault(wkey, {})
        mb = state.rev_month.setdefault(mkey, {})
        ms = state.rev_month_seqs.setdefault(mkey, {})
        for credit in facts.credits:
            value = amount * credit.share * sign
            wb[credit.consultant] = wb.get(credit.consultant, ZERO) + value
            mb[credit.consultant] = mb.get(credit.consultant, ZERO) + value
            ms.setdefault(credit.consultant, []).append(rec.seq)
    cust = state.customers.get(facts.customer)
    if cust is not None:
        _timeline(state, cust, ev.at, rec.seq, ev.type, f"{ev.type} {ev.contract} {amount}", "R-MO-2",
                  lead=facts.lead, rests=(rec.seq, facts.seq))


def _on_target(state: TeamState, rec) -> None:
    ev = rec.event
    state.money.targets[(ev.consultant, ev.month)] = Target(ev.consultant, ev.month, ev.red, ev.green, ev.at, rec.seq)


_HANDLERS = {
    E.PolicyAdopted: _on_policy,
    E.ConsultantJoined: _on_joined,
    E.ConsultantLeft: _on_left,
    E.SeatsSwapped: _on_swap,
    E.ShiftAssigned: _on_shift,
    E.PresenceChanged: _on_presence,
    E.LeadArrived: _on_lead,
    E.FollowUpLogged: _on_followup,
    E.ClaimMade: _on_claim,
    E.RulingMade: _on_ruling,
    E.CustomersLinked: _on_link,
    E.CustomersUnlinked: _on_link,
    E.PenaltyImposed: _on_penalty,
    E.PenaltyLifted: _on_lift,
    E.InvitationRecorded: _on_activity,
    E.VisitRecorded: _on_activity,
    E.ComplaintVerified: _on_complaint,
    E.GradeProposed: _on_grade,
    E.GradeConfirmed: _on_grade,
    E.ContractSigned: _on_contract,
    E.PaymentReceived: _on_movement,
    E.LoanDisbursed: _on_movement,
    E.ContractRefunded: _on_movement,
    E.ContractCancelled: _on_movement,
    E.TargetSet: _on_target,
}


def _fmt(state: TeamState, at: dt.datetime) -> str:
    return state.cal.local(at).isoformat(timespec="seconds")
