"""The --json answers of INTERCHANGE.md, read off a folded `TeamState` (pure, no mutation).

Extra keys beyond the documented ones: `owner` adds `customer_since`, `claims`; `next` adds
`candidates`; `explain` adds `disputed`, and its entries add `seq`, `lead`, `rests_on`,
`candidates`, `recorded_late` (R-T-5) and, for a decision resting on a late event,
`changed_by_late`; `sanctions` rows add `penalty` (the id a lift names), `reason`, `derived`
and the skip/throttle parameters; `followups` rows add `rule` and `grade`.

Orders: `turns` rows by seat then channel; `sanctions` by start, seat; `disputes` by the lead's
arrival; `followups` by due time. `followups` lists one row per customer whose duty is
overdue at the clock: the un-followed lead with the earliest due time (R-FU-1: the end of its
day or callback day; a customer moved to a new owner after that gives them until the end of
the day of the move), or the confirmed grade's cadence (R-FU-5: due at 24:00 of the local day 1, 7
or 30 days after the current owner's own last follow-up, or after the confirmation if they logged
none since), whichever is due first. Days are local to the zone in force (§10). A lead
is followed once whoever owned the customer at the time logged a follow-up since its arrival
(R-FU-2's test): a customer moving on does not reopen a duty already met.
"""
from __future__ import annotations

import datetime as dt

from ledger.errors import UnknownLead

from . import indexes, sentences
from .engine import Customer, TeamState, route_for


def _time(state: TeamState, at: dt.datetime | None) -> str | None:
    if at is None:
        return None
    return at.astimezone(state.tz).isoformat(timespec="seconds")


def _lead(state: TeamState, lead: str):
    found = state.leads.get(lead)
    if found is None or (state.clock is not None and found.at > state.clock):
        raise UnknownLead(f"unknown lead {lead!r} (not arrived by {_time(state, state.clock)})")
    return found


def _rule(state: TeamState, lead) -> str | None:
    """The rule of the decision that gave the customer its current owner (R-RT-7 table)."""
    cust = state.customers[lead.customer]
    if lead.owner == cust.owner and lead.tick >= cust.tick:
        return lead.rule
    return cust.rule


def disputed(cust: Customer) -> bool:
    """R-OW-7 / R-OW-8: a disagreeing claim or a taken lead since the last ruling."""
    return indexes.is_disputed(cust)


def owner(state: TeamState, lead: str) -> dict:
    # The read models recompute this answer only when what it reads changes: every field read
    # here (and in `_rule`, `disputed`) is listed in `projections.models._owner_inputs`.
    found = _lead(state, lead)
    cust = state.customers[found.customer]
    return {
        "lead": lead,
        "owner": cust.owner,
        "rule": _rule(state, found),
        "disputed": disputed(cust),
        "customer_since": _time(state, cust.owner_since),
        "claims": [{"consultant": c, "at": _time(state, at), "reason": r} for _, c, at, r, _ in cust.claims],
    }


def owner_and_rule(state: TeamState, lead: str) -> tuple[str | None, str | None]:
    """`owner`'s `owner` and `rule` alone (a what-if reads them for every lead)."""
    found = _lead(state, lead)
    return state.customers[found.customer].owner, _rule(state, found)


def next_owner(state: TeamState, channel: str, at: dt.datetime) -> dict:
    """Who would own a lead of CHANNEL from a new customer naming nobody arriving at `at`."""
    route = route_for(state, channel, at)
    return {
        "channel": channel,
        "at": _time(state, at),
        "next": route.receiver,
        "rule": route.rule,
        "candidates": [{"consultant": c, "outcome": o, "why": w} for c, o, w in route.candidates],
    }


def turns(state: TeamState, date_from: dt.date, date_to: dt.date) -> dict:
    """R-RT-7: turn and lead counts per consultant and channel over local allocation dates."""
    totals: dict[tuple[str, str], list[int]] = {}
    for (cid, channel, date), (t, n) in state.counts.items():
        if date_from <= date <= date_to:
            row = totals.setdefault((cid, channel), [0, 0])
            row[0] += t
            row[1] += n
    seat = {cid: c.seat for cid, c in state.consultants.items()}
    rows = [
        {"consultant": cid, "channel": channel, "turns": t, "leads": n}
        for (cid, channel), (t, n) in sorted(totals.items(), key=lambda kv: (seat.get(kv[0][0], 0), kv[0][0], kv[0][1]))
        if t or n
    ]
    return {"rows": rows}


def sanctions(state: TeamState) -> dict:
    """§6: sanctions in force at the state's clock (not lifted, not used up)."""
    now = state.clock
    rows = []
    for s in state.sanctions.values():
        if now is None or not s.live(now):
            continue
        row = {
            "consultant": s.consultant,
            "kind": s.kind,
            "channels": list(s.channels),
            "rule": s.rule,
            "from": _time(state, s.start),
            "until": None if s.kind == "skip" else _time(state, s.until),
            "penalty": s.id,
            "reason": s.reason,
            "derived": s.derived,
        }
        if s.kind == "skip":
            row["turns_left"] = s.turns_left
        if s.kind == "throttle":
            row["take"], row["of"] = s.take, s.of
        rows.append(row)
    seat = {cid: c.seat for cid, c in state.consultants.items()}
    rows.sort(key=lambda r: (state.sanctions[r["penalty"]].start, seat.get(r["consultant"], 0), r["consultant"],
                             r["rule"], r["penalty"]))
    return {"sanctions": rows}


def explain(state: TeamState, lead: str, say=sentences.english) -> dict:
    """R-OW-6: the customer's timeline, each decision with its rule and what it rested on; each
    entry's summary as `say` tells it (English, as INTERCHANGE has it, unless the shell asks)."""
    found = _lead(state, lead)
    cust = state.customers[found.customer]
    late = state.late_seqs
    timeline = []
    for entry in cust.timeline:
        item = {
            "at": _time(state, entry.at),
            "type": entry.type,
            "summary": say(entry.summary),
            "owner": entry.owner,
            "rule": entry.rule,
            "seq": entry.seq,
            "lead": entry.lead,
            "rests_on": [s for s in entry.rests_on if s is not None],
            "candidates": [{"consultant": c, "outcome": o, "why": w} for c, o, w in entry.candidates],
            "recorded_late": entry.seq in late,
        }
        changed = sorted(s for s in entry.rests_on if s in late and s != entry.seq)
        if changed:
            item["changed_by_late"] = changed
        timeline.append(item)
    return {
        "lead": lead,
        "owner": cust.owner,
        "rule": _rule(state, found),
        "disputed": disputed(cust),
        "timeline": timeline,
    }


def disputes(state: TeamState) -> dict:
    """R-OW-7, R-OW-8: one entry per claimed or contested lead of a disputed customer."""
    out = []
    for cust in indexes.disputed_customers(state):
        if not (cust.claims or cust.violations):
            continue
        by_lead: dict[str, list] = {}
        for lead, consultant, at, reason, seq in cust.claims:
            by_lead.setdefault(lead, []).append((at, seq, consultant, reason))
        for v in cust.violations:
            by_lead.setdefault(v.lead, []).append((v.at, v.seq, v.consultant, "took the lead (R-OW-8)"))
        for lead, claims in by_lead.items():
            claims.sort(key=lambda c: (c[0], c[1]))
            out.append({
                "lead": lead,
                "owner": cust.owner,
                "claims": [{"consultant": c, "at": _time(state, at), "reason": r} for at, _, c, r in claims],
            })
    leads = state.leads.peek_many([d["lead"] for d in out])
    out.sort(key=lambda d: (leads[d["lead"]].at, leads[d["lead"]].seq))
    return {"disputes": out}


def followups(state: TeamState) -> dict:
    """R-FU-1 / R-FU-5: customers whose follow-up is overdue at the clock (`projections.indexes`)."""
    now = state.clock
    if now is None:
        return {"overdue": []}
    out = [{"lead": lead, "owner": owner, "due": shown, "rule": rule, "grade": grade}
           for _, lead, rule, owner, grade, shown in indexes.overdue(state, now)]
    out.sort(key=lambda r: (r["due"], r["lead"]))
    return {"overdue": out}
