"""Indexes the fold keeps for the questions that would otherwise read every customer of the
history: the open follow-up duty of each customer (R-FU-1, R-FU-5: `followups`, the board's
overdue section), the disputed customers (R-OW-7, R-OW-8: `disputes`) and the deferred leads
(R-SH-5: the board). A query then costs what its answer weighs, not what the history weighs.

The rules that change a customer mark it (`mark`: every timeline entry, owner change and
deadline does); `refresh` brings the indexes up to date for the customers marked since, reading
them and their leads without opening the rest (`LazyDict.peek_many`: one batch from a restored
checkpoint, and a value parked by a checkpoint stays parked). A change of policy (zone, grade
cadence) or identity marks every customer. A checkpoint is taken after a `refresh`
(`checkpoint.dump_checkpoint`), so a restored state's indexes are current but for what it
folds after.

A duty is (due, lead, rule, owner, grade, due as the team's local time): the earliest moment the customer's owner is overdue,
and by which rule -- the same reading `queries.followups` gave when it scanned every customer.
"""
from __future__ import annotations

import datetime as dt

from .calendar import date_start, local_date, zones_of
from .state import Customer, TeamState


def mark(state: TeamState, cid: str) -> None:
    """The customer `cid` changed: its index entries are recomputed at the next `refresh`."""
    state.changed.add(cid)


def mark_all(state: TeamState) -> None:
    """Something every customer's entries depend on changed (the policy, the identity mapping)."""
    state.changed_all = True


def refresh(state: TeamState) -> None:
    """Recompute the entries of every customer marked since the last refresh."""
    if state.changed_all:
        wanted = list(state.customers)
    elif state.changed:
        wanted = list(state.changed)
    else:
        return
    customers = state.customers.peek_many(wanted)
    leads = state.leads.peek_many([lid for cust in customers.values() for lid in cust.leads])
    zones, tz = zones_of(state.policies), state.tz
    cadence = state.policy.grade_cadence_days
    duties, disputed, deferred = state.duties, state.disputed, state.deferred
    for cid in wanted:
        cust = customers.get(cid)
        if cust is None:
            duties.pop(cid, None)
            disputed.discard(cid)
            deferred.pop(cid, None)
            continue
        found = _duty(cust, leads, zones, tz, cadence)
        if found is None:
            duties.pop(cid, None)
        else:
            duties[cid] = found
        if is_disputed(cust):
            disputed.add(cid)
        else:
            disputed.discard(cid)
        waiting = tuple(lid for lid in cust.leads if leads[lid].deferred)
        if waiting:
            deferred[cid] = waiting
        else:
            deferred.pop(cid, None)
    state.changed = set()
    state.changed_all = False


def overdue(state: TeamState, now: dt.datetime) -> list[tuple]:
    """The duties due by `now` (see the module), in no particular order."""
    refresh(state)
    return [duty for duty in state.duties.values() if duty[0] <= now]


def disputed_customers(state: TeamState) -> list[Customer]:
    refresh(state)
    return list(state.customers.peek_many(sorted(state.disputed)).values())


def deferred_leads(state: TeamState) -> list:
    refresh(state)
    return list(state.leads.peek_many([lid for lids in state.deferred.values() for lid in lids]).values())


def is_disputed(cust: Customer) -> bool:
    """R-OW-7 / R-OW-8: a disagreeing claim or a taken lead since the last ruling."""
    if cust.violations or cust.contested:
        return True
    return any(consultant != cust.owner for _, consultant, _, _, _ in cust.claims)


def _duty(cust: Customer, leads: dict, zones, tz, cadence) -> tuple | None:
    """R-FU-1 / R-FU-5: when the customer's owner is first overdue, whatever the moment asked."""
    if cust.owner is None:  # a leaver's neglected customers stay listed for the supervisor
        return None

    def end_of_day(date: dt.date) -> dt.datetime:  # 24:00 of a local date (§10)
        return date_start(zones, date + dt.timedelta(days=1), tz)

    done = cust.last_owner_fu
    best = None
    since = cust.owner_since
    for lid in cust.leads:
        lead = leads[lid]
        if lead.deadline is None or lead.deferred:
            continue
        if done is not None and done >= lead.at:  # by whoever owned the customer then (R-FU-2)
            continue
        due = lead.deadline
        if since is not None and since >= due:  # a new owner has until the end of that day
            due = end_of_day(local_date(zones, since, tz))
        if best is None or due < best[0]:
            best = (due, lid, "R-FU-1")
    if cust.grade is not None and cust.grade_at is not None:
        # R-FU-5: from the owner's own last follow-up, or the confirmation if none since
        # (a follow-up by anyone else, a previous owner included, does not count)
        followed = cust.followed.get(cust.owner)
        base = cust.grade_at if followed is None or followed < cust.grade_at else followed
        due = end_of_day(local_date(zones, base, tz) + dt.timedelta(days=cadence.get(cust.grade, 30)))
        if best is None or due < best[0]:
            best = (due, cust.leads[-1], "R-FU-5")
    if best is None:
        return None
    return (*best, cust.owner, cust.grade, best[0].astimezone(tz).isoformat(timespec="seconds"))
