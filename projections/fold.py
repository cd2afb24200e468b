"""The fold: `apply` one event, `advance` the timers, `replay` a history (RULEBOOK §3-9).

    state = replay(records, until=at)      # sort by (at, seq), fold, fire timers <= at
    state = apply(state, rec)              # one more event (a late one re-folds)
    state = advance(state, until)          # fire timers <= until

Timers (the week start, deferred allocation at the first minute after `day_start`, follow-up
deadlines at 24:00, the monthly list swap) fire at their instant T before any event with
`at >= T`; at one instant: deadlines, then the month start, then the week start (priorities in
`projections.state`, pushed by `state.schedule`).

Each event type is handled by one function of a rule module (`HANDLERS`), each timer kind by one
(`TIMERS`): a new rule adds its handler to its module and, for a new event type, a line here.
`apply` may return a new state object (a late event or a new link re-folds from the records
kept in the state); always use the returned one.
"""
from __future__ import annotations

import bisect
import datetime as dt
import heapq
from typing import Iterable

from ledger import events as E

from . import checkpoint  # noqa: F401 -- registers how the state classes pickle
from .lazy import no_gc
from .rules import followups, identity, money, ownership, periods, presence_shifts, roster, sanctions
from .state import TeamState


def apply(state: TeamState, rec: E.Recorded) -> TeamState:
    """Fold one event; records must come in `rec.key` order (an earlier one re-folds, R-T-5)."""
    seq = rec.seq
    if seq in state.seen:
        return state
    at = rec.event.at
    last_key, clock = state.last_key, state.clock
    if last_key is not None and (at < last_key[0] or (at == last_key[0] and seq < last_key[1])
                                 or (clock is not None and at < clock)):
        return _refold(state, rec)
    kind = type(rec.event)
    if kind is E.CustomersLinked or kind is E.CustomersUnlinked:
        if identity.link_fact(rec) not in state.link_plan:
            return _refold(state, rec)
    _step(state, rec)
    return state


def _step(state: TeamState, rec: E.Recorded) -> None:
    """Fold one event known to come after every folded one (new seq, later key, in the link plan)."""
    seq = rec.seq
    event = rec.event
    at = event.at
    timers = state.timers
    if timers and timers[0][0] <= at:
        _fire(state, at)
    if state.team is None:
        state.team = event.team
    state._records.append(rec)
    state.seen.add(seq)
    unlate = state.unlate
    if unlate and unlate[-1] > seq:  # R-T-5: folded events recorded after this one are late
        cut = bisect.bisect_right(unlate, seq)
        state.late_seqs.update(unlate[cut:])
        del unlate[cut:]
    unlate.append(seq)
    state.last_key = (at, seq)
    handler = HANDLERS.get(type(event))
    if handler is not None:
        handler(state, rec)
    clock = state.clock
    if clock is None or at > clock:
        state.clock = at


def _refold(state: TeamState, rec: E.Recorded) -> TeamState:
    """A late event or a new link: fold every record again, then catch up with the clock."""
    clock = state.clock
    fresh = _fold(state.records + [rec], None)
    if clock is not None and fresh.clock is not None and clock > fresh.clock:
        advance(fresh, clock)
    return fresh


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
            with no_gc():
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
    with no_gc(freeze=True):  # the fold makes many long-lived objects and no cycles worth collecting
        return _fold_all(records)


def _fold_all(records: list) -> TeamState:
    ordered, link_plan = _order(records)
    state = TeamState()
    state.link_plan = link_plan
    identity.build_identity(state, ordered)
    seen = state.seen
    for rec in ordered:  # in key order, every link in the plan: no re-fold
        if rec.seq not in seen:  # a record given twice folds once
            _step(state, rec)
    return state


_LINKS = (E.CustomersLinked, E.CustomersUnlinked)


def _order(records: list) -> tuple[list, tuple]:
    """The records by key (the store reads them so: then no re-sort) and the link facts in that
    order, in one pass."""
    previous = None
    links = []
    for rec in records:
        key = (rec.event.at, rec.seq)
        if previous is not None and key <= previous:
            ordered = sorted(records, key=_key)
            return ordered, tuple(identity.link_fact(r) for r in ordered if type(r.event) in _LINKS)
        previous = key
        if type(rec.event) in _LINKS:
            links.append(identity.link_fact(rec))
    return records, tuple(links)


def _fire(state: TeamState, until: dt.datetime) -> None:
    timers = state.timers
    while timers and timers[0][0] <= until:
        instant, _, _, kind, payload = heapq.heappop(timers)
        if state.clock is None or instant > state.clock:
            state.clock = instant
        TIMERS[kind](state, instant, payload)


HANDLERS = {
    E.PolicyAdopted: periods.on_policy,
    E.ConsultantJoined: roster.on_joined,
    E.ConsultantLeft: roster.on_left,
    E.SeatsSwapped: roster.on_swap,
    E.ShiftAssigned: presence_shifts.on_shift,
    E.PresenceChanged: presence_shifts.on_presence,
    E.LeadArrived: ownership.on_lead,
    E.FollowUpLogged: followups.on_followup,
    E.ClaimMade: ownership.on_claim,
    E.RulingMade: ownership.on_ruling,
    E.CustomersLinked: identity.on_link,
    E.CustomersUnlinked: identity.on_link,
    E.PenaltyImposed: sanctions.on_penalty,
    E.PenaltyLifted: sanctions.on_lift,
    E.InvitationRecorded: sanctions.on_activity,
    E.VisitRecorded: sanctions.on_activity,
    E.ComplaintVerified: sanctions.on_complaint,
    E.GradeProposed: followups.on_grade,
    E.GradeConfirmed: followups.on_grade,
    E.ContractSigned: money.on_contract,
    E.PaymentReceived: money.on_movement,
    E.LoanDisbursed: money.on_movement,
    E.ContractRefunded: money.on_movement,
    E.ContractCancelled: money.on_movement,
    E.TargetSet: money.on_target,
}

TIMERS = {"week": periods.on_week, "month": periods.on_month, "deadline": followups.on_deadline,
          "defer": ownership.on_defer}
