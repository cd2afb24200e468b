"""Sanctions (R-SA-*): imposed penalties, lifts (R-SA-9), verified complaints (R-SA-8), the
weekly metrics (invitations, visits; contracts are counted by `money`) and the weekly derived
sanctions (R-SA-4/7/8); `live_sanctions` is what binds a consultant at a moment."""
from __future__ import annotations

import datetime as dt
import hashlib

from ledger import events as E

from ..calendar import ONE_WEEK
from ..sentences import N_, phrase
from ..state import Consultant, Sanction, TeamState, lead_customer
from .timeline import add_entry


def add_sanction(state: TeamState, sanction: Sanction) -> None:
    state.sanctions[sanction.id] = sanction
    c = state.consultants.get(sanction.consultant)
    if c is not None:
        c.sanctions.append(sanction)


def on_penalty(state: TeamState, rec) -> None:
    ev = rec.event
    add_sanction(state, Sanction(
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


def on_lift(state: TeamState, rec) -> None:
    """R-SA-9: any sanction, imposed or derived, ends at its lift."""
    sanction = state.sanctions.get(rec.event.penalty)
    if sanction is not None and sanction.lifted_at is None:
        sanction.lifted_at = rec.event.at
        sanction.lift_seq = rec.seq


def on_complaint(state: TeamState, rec) -> None:
    """R-SA-8: a verified complaint skips the next turn(s) in the policy's channels."""
    ev = rec.event
    rule = state.policy.complaint_sanction
    if rule is None:
        return
    add_sanction(state, Sanction(
        id=derived_id("complaint", rec.seq), consultant=ev.consultant, kind="skip",
        channels=tuple(ch.value for ch in rule.channels), rule=rule.rule, start=ev.at, until=None,
        reason=ev.reason, seq=rec.seq, derived=True, turns_left=rule.turns,
    ))


def live_sanctions(c: Consultant, t: dt.datetime) -> list:
    """The sanctions binding `c` at `t`, in the order imposed (no state changed: `trim_expired`
    drops the spent ones at each week start). Do not change the list returned."""
    if not c.sanctions:
        return c.sanctions
    return [s for s in c.sanctions if s.live(t)]


def trim_expired(state: TeamState, t: dt.datetime) -> None:
    """Forget the sanctions that can bind nobody from `t` on (the fold's time only moves forward)."""
    for c in state.consultants.values():
        if c.sanctions and any(_expired(s, t) for s in c.sanctions):
            c.sanctions = [s for s in c.sanctions if not _expired(s, t)]


def _expired(s: Sanction, t: dt.datetime) -> bool:
    if s.until is not None and t >= s.until:
        return True
    if s.lifted_at is not None and s.lifted_at <= t:
        return True
    return s.kind == "skip" and s.turns_left <= 0


def weekly_sanctions(state: TeamState, monday: dt.date) -> None:
    """R-SA-4, R-SA-7, R-SA-8, with the exemption for consultants not joined by the window start."""
    cal = state.cal
    key, start, _ = cal.window_of_week(monday)
    week_start, week_end = cal.at(monday), cal.at(monday + ONE_WEEK)
    trim_expired(state, week_start)
    for index, rule in enumerate(state.policy.weekly_sanctions):
        counts = state.metrics.get((key, rule.metric), {})
        for cid in state.seat_order:
            c = state.consultants[cid]
            if c.joined_at > start:
                continue
            if counts.get(cid, 0) >= rule.minimum:
                continue
            sid = derived_id(rule.rule, monday.isoformat(), index, cid)
            add_sanction(state, Sanction(
                id=sid, consultant=cid, kind=rule.kind.value, channels=tuple(ch.value for ch in rule.channels),
                rule=rule.rule, start=week_start, until=week_end, seq=None, derived=True,
                reason=f"{rule.metric} in the window below {rule.minimum}",
                take=rule.take or 0, of=rule.of or 0,
            ))


def on_activity(state: TeamState, rec) -> None:
    """InvitationRecorded / VisitRecorded: R-SA-7, R-SA-8 metrics."""
    ev = rec.event
    metric = "invitations" if isinstance(ev, E.InvitationRecorded) else "visits"
    key = state.cal.window_key(state.cal.local(ev.at))
    bucket = state.metrics.setdefault((key, metric), {})
    bucket[ev.consultant] = bucket.get(ev.consultant, 0) + 1
    lead, cust = lead_customer(state, ev.lead)
    if cust is not None:
        said = N_("{consultant}: invitation on {lead}") if metric == "invitations" else N_("{consultant}: visit on {lead}")
        add_entry(state, cust, ev.at, rec.seq, ev.type, phrase(said, consultant=ev.consultant, lead=ev.lead), None,
                  lead=ev.lead, rests=(rec.seq,))
