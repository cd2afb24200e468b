"""Follow-ups (R-FU-1..R-FU-5): deadlines (R-FU-1) and the reassignment at them (R-FU-2), the
marketing follow-up hold following the customer (R-FU-3), the monthly list swap (R-FU-4),
grades (R-FU-5), and a follow-up's effects (touch, R-OW-3b give-back)."""
from __future__ import annotations

import datetime as dt

from ledger import events as E

from .. import indexes
from .. import sentences as S
from ..calendar import month_of
from ..sentences import N_, phrase
from ..state import P_DEADLINE, ZERO, Customer, Lead, TeamState, lead_customer, schedule
from . import money, ownership
from .timeline import add_entry, fmt

_FOLLOWED = N_("{who} followed up {lead} ({direction})")
_GIVEN_BACK = N_("; same-day inbound contact gives the customer back to {who} ({rule})")


def schedule_deadline(state: TeamState, lead: Lead, date: dt.date) -> None:
    """R-FU-1: end of the day, or of `callback_on`; R-FU-2 reassigns at it."""
    day = date
    if lead.callback_on is not None and lead.callback_on > day:
        day = lead.callback_on
    lead.deadline = state.cal.end_of_day(day)
    indexes.mark(state, lead.customer)
    if lead.channel in state.policy.followup_reassign_channels and lead.owner is not None:
        schedule(state, lead.deadline, P_DEADLINE, "deadline", lead.id)


def on_deadline(state: TeamState, instant: dt.datetime, lead_id: str) -> None:
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
        candidates.append((cid, "scored", S.TOP_EARNER.format(amount=amount)))
        if best is None or amount > best:
            best, target = amount, cid
    if target is None:
        return
    previous = cust.owner
    cust.moved_at = instant
    ownership.set_owner(state, cust, target, "R-FU-2", instant, via=cust.via)
    candidates = [(c, "received" if c == target else o, w) for c, o, w in candidates]
    add_entry(state, cust, instant, None, "Reassigned",
              phrase(N_("{lead}: no follow-up by {previous} by {at}; to the month's top earner {target} (R-FU-2)"),
                     lead=lead.id, previous=previous, at=fmt(state, instant), target=target),
              "R-FU-2", lead=lead.id, rests=(lead.seq, state.policy_seq, *movements.get(target, ())),
              candidates=candidates)  # rests on the lead and the payments that made the top earner


def list_swap(state: TeamState, instant: dt.datetime) -> None:
    """R-FU-4: release untracked customers without a contract and deal them over the seats."""
    horizon = dt.timedelta(days=state.policy.tracking_days)
    released = []
    for cust in state.customers.values():
        if cust.owner is None or cust.ruling is not None or money.live_contract(state, cust) is not None:
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
                ownership.set_owner(state, cust, cid, "R-FU-4", instant, via=cust.via)
                said = phrase(N_("untracked since {since}: released by {previous} and dealt to {to} (R-FU-4)"),
                              since=fmt(state, touched), previous=previous, to=cid) if touched else \
                    phrase(N_("untracked since ever: released by {previous} and dealt to {to} (R-FU-4)"),
                           previous=previous, to=cid)
                add_entry(state, cust, instant, None, "ListSwapped", said,
                          "R-FU-4", lead=cust.leads[-1], rests=(state.leads[cust.leads[-1]].seq,))
                position = (position + step + 1) % len(order)
                break


def hand_over_marketing(state: TeamState, cust: Customer, old: str | None, new: str | None) -> None:
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


def on_followup(state: TeamState, rec) -> None:
    """R-FU-1 (duty), R-ID-3 (touch), R-OW-3b (same-day inbound evidence), R-FU-3."""
    ev = rec.event
    lead, cust = lead_customer(state, ev.lead)
    if cust is None:
        return
    who = ev.consultant
    rule = None
    rests = (rec.seq,)
    if ev.direction is E.Direction.inbound:
        cust.inbound[who] = ev.at
        given = ownership.on_inbound(state, cust, who, ev.at)  # the R-OW order at this contact
        if given is not None:
            rule = given.rule
            rests = (rec.seq, *given.rests_on)
    if who == cust.owner:
        cust.last_owner_fu = ev.at
        cust.last_touch = ev.at
    cust.followed[who] = ev.at
    c = state.consultants.get(who)
    if c is not None and c.mkt_pending:
        for lid in cust.leads:
            c.mkt_pending.pop(lid, None)
    said = (_followup_phrases, (who, ev.lead, ev.direction, rule))  # rule: the customer given back by
    add_entry(state, cust, ev.at, rec.seq, "FollowUpLogged", said, rule, lead=ev.lead, rests=rests)


def _followup_phrases(who: str, lead: str, direction: E.Direction, given_rule: str | None) -> tuple:
    said = ((_FOLLOWED, {"who": who, "lead": lead, "direction": direction.value}),)
    return said + ((_GIVEN_BACK, {"who": who, "rule": given_rule}),) if given_rule else said


def on_grade(state: TeamState, rec) -> None:
    """R-FU-5: a proposal shows; a confirmation takes effect."""
    ev = rec.event
    lead, cust = lead_customer(state, ev.lead)
    if cust is None:
        return
    if isinstance(ev, E.GradeConfirmed):
        cust.grade = ev.grade.value
        cust.grade_at = ev.at
        text = phrase(N_("grade {grade} confirmed (R-FU-5)"), grade=ev.grade.value)
    else:
        text = phrase(N_("grade {grade} proposed (R-FU-5)"), grade=ev.grade.value)
    add_entry(state, cust, ev.at, rec.seq, ev.type, text, "R-FU-5", lead=ev.lead, rests=(rec.seq,))
