"""Notices derived from the fold (issue #16): who should be told what, pure (no clock, no I/O).

    found = derive(state)                      # every notice the state holds, in (at, key) order
    found = derive(state, customers={...})     # only those of these customers (and every sanction)
    new = plan(found, known, noticed)          # what is not noticed yet, corrections included

A notice is a fact of the history, not of the command that was typed:

- `allocated`: a lead's own decision (R-OW-*, R-RT-*, R-SH-*): its owner, rule and who was
  passed and why. Subject `lead:<id>`, value its owner.
- `corrected`: the lead's decision is no longer the one noticed (a back-dated event re-folded
  it, R-T-5): names the old and the new owner. Same subject; each correction is a new revision.
- `moved`: a customer's owner changed away from a consultant after it had one: a takeover
  (R-OW-3, 3b, 3c), R-FU-2, R-FU-4, a ruling (R-OW-0).
- `disputed`: a claim disagreeing with the derived owner (R-OW-7): to the supervisors.
- `sanction` / `lifted`: a sanction imposed or derived (§6) / lifted (R-SA-9).

Each notice has a stable key made of the facts only (team, kind, lead or sanction id, the entry's
instant and rule), so replaying the same history gives the same keys whoever folds it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import sentences
from .state import Customer, Sanction, TeamState

ALLOCATING = ("LeadArrived", "DeferredAllocated")


@dataclass(frozen=True)
class Notice:
    key: str
    kind: str  # allocated | corrected | moved | disputed | sanction | lifted
    subject: str  # what a later notice is compared with (a lead's decision); else the key
    value: str | None  # what was noticed of the subject (an allocation: the owner)
    at: dt.datetime
    facts: dict = field(default_factory=dict)  # JSON-able: ids, rules, names; never a phone

    @property
    def order(self) -> tuple:
        return (self.at, self.key)


def stamp(at: dt.datetime) -> str:
    """An instant in a key: UTC to the microsecond, never a bare run of digits (which the
    phone masking would hide)."""
    return at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def _person(state: TeamState, cid: str | None) -> dict | None:
    if cid is None:
        return None
    c = state.consultants.get(cid)
    return {"id": cid, "name": c.name if c is not None else cid}


def derive(state: TeamState, customers: Iterable[str] | None = None) -> list[Notice]:
    """Every notice of the state (or of `customers` only; sanctions always), in (at, key) order."""
    team = state.team or "-"
    ids = list(state.customers) if customers is None else [c for c in customers if c in state.customers]
    found: list[Notice] = []
    for cid in ids:
        cust = state.customers[cid]
        found.extend(_of_customer(state, team, cust))
    for sanction in state.sanctions.values():
        found.extend(_of_sanction(state, team, sanction))
    found.sort(key=lambda n: n.order)
    return found


def _of_customer(state: TeamState, team: str, cust: Customer) -> list[Notice]:
    found: list[Notice] = []
    allocated_at: dict[str, dt.datetime] = {}
    previous = None
    for entry in cust.timeline:
        if entry.type in ALLOCATING and entry.lead is not None:
            allocated_at[entry.lead] = entry.at
        if entry.type == "ClaimMade" and entry.lead is not None:
            claimant = sentences.value(entry.summary, "consultant") or sentences.english(entry.summary).split(" ", 1)[0]
            if claimant != entry.owner:  # R-OW-7: disagrees with the derived owner
                found.append(_disputed(state, team, entry, claimant))
        if previous is not None and entry.owner != previous:
            found.append(_moved(state, team, cust, entry, previous))
        previous = entry.owner
    for lid in cust.leads:
        lead = state.leads.get(lid)
        if lead is None or lead.deferred or lid not in allocated_at:
            continue  # a deferred lead is noticed when it is allocated (R-SH-5)
        passed = [{"consultant": _person(state, c), "outcome": o, "why": w}
                  for c, o, w in lead.candidates if o.startswith("passed")]
        facts = {"team": team, "lead": lid, "channel": lead.channel, "owner": _person(state, lead.owner),
                 "rule": lead.rule, "passed": passed, "at": allocated_at[lid].isoformat()}
        found.append(Notice(f"{team}/allocated/{lid}", "allocated", f"lead:{lid}", lead.owner or "",
                            allocated_at[lid], facts))
    return found


def _moved(state: TeamState, team: str, cust: Customer, entry, previous: str) -> Notice:
    lead = entry.lead or (cust.leads[-1] if cust.leads else "-")
    key = f"{team}/moved/{lead}/{stamp(entry.at)}/{entry.rule or entry.type}"
    facts = {"team": team, "lead": lead, "from": _person(state, previous), "to": _person(state, entry.owner),
             "rule": entry.rule, "event": entry.type, "at": entry.at.isoformat()}
    return Notice(key, "moved", key, entry.owner or "", entry.at, facts)


def _disputed(state: TeamState, team: str, entry, claimant: str) -> Notice:
    key = f"{team}/disputed/{entry.lead}/{stamp(entry.at)}/#{entry.seq}"
    facts = {"team": team, "lead": entry.lead, "claimant": _person(state, claimant),
             "owner": _person(state, entry.owner), "rule": "R-OW-7", "at": entry.at.isoformat(),
             "to": "supervisors"}
    return Notice(key, "disputed", key, claimant, entry.at, facts)


def _of_sanction(state: TeamState, team: str, s: Sanction) -> list[Notice]:
    facts = {"team": team, "sanction": s.id, "consultant": _person(state, s.consultant), "kind": s.kind,
             "channels": list(s.channels), "rule": s.rule, "reason": s.reason, "from": s.start.isoformat(),
             "until": s.until.isoformat() if s.until is not None else None}
    key = f"{team}/sanction/{s.id}"
    found = [Notice(key, "sanction", key, s.consultant, s.start, facts)]
    if s.lifted_at is not None:
        lifted = f"{team}/lifted/{s.id}"
        found.append(Notice(lifted, "lifted", lifted, s.consultant, s.lifted_at,
                            {**facts, "lifted": s.lifted_at.isoformat()}))
    return found


def plan(found: Iterable[Notice], known: set[str] | frozenset[str],
         noticed: Mapping[str, tuple[str | None, int]], names: Mapping[str, str] | None = None) -> list[Notice]:
    """The notices to send: those whose key is not `known`, and a correction for every subject
    whose value differs from the latest noticed one (`noticed`: subject -> (value, revision))."""
    new: list[Notice] = []
    for notice in found:
        seen = noticed.get(notice.subject)
        if notice.kind == "allocated" and seen is not None and notice.key in known:
            value, revision = seen
            if value != notice.value:
                new.append(_correction(notice, value, revision + 1, names or {}))
            continue
        if notice.key not in known:
            new.append(notice)
    return new


def _correction(notice: Notice, old: str | None, revision: int, names: Mapping[str, str]) -> Notice:
    team, lead = notice.facts["team"], notice.facts["lead"]
    key = f"{team}/corrected/{lead}/{revision}"
    facts = {**notice.facts, "previous": {"id": old, "name": names.get(old, old)} if old else None, "revision": revision}
    return Notice(key, "corrected", notice.subject, notice.value, notice.at, facts)


def _ids(*people: dict | None) -> tuple[str, ...]:
    found: list[str] = []
    for person in people:
        if person and person.get("id") and person["id"] not in found:
            found.append(person["id"])
    return tuple(found)


def concerns(notice: Notice) -> tuple[str, ...]:
    """The consultants a notice is about, to be @-mentioned and sent it at their own target: a
    lead's owner (and the previous one of a correction), both ends of a move, the consultant of a
    sanction, the owner of a follow-up falling due. A dispute and the 日报 name nobody."""
    f = notice.facts
    if notice.kind == "allocated":
        return _ids(f.get("owner"))
    if notice.kind == "corrected":
        return _ids(f.get("owner"), f.get("previous"))
    if notice.kind == "moved":
        return _ids(f.get("from"), f.get("to"))
    if notice.kind in ("sanction", "lifted"):
        return _ids(f.get("consultant"))
    if notice.kind in ("due-soon", "missed"):
        return _ids(f.get("owner"))
    return ()


def audience(notice: Notice) -> str:
    """`supervisors` for a dispute (R-OW-7) and a lead nobody could take; else `team`."""
    if notice.kind == "disputed" or (notice.kind == "allocated" and not notice.facts.get("owner")):
        return "supervisors"
    return "team"


def withdrawn(state: TeamState, noticed: Mapping[str, tuple[str | None, int]],
              names: Mapping[str, str] | None = None) -> list[Notice]:
    """A correction for each lead whose allocation was noticed but which the state no longer holds
    (its arrival voided, R-CO-2): it names the owner noticed before and no new one (value None)."""
    team = state.team or "-"
    found = []
    for subject, (value, revision) in sorted(noticed.items()):
        lid = subject[5:] if subject.startswith("lead:") else None
        if lid is None or value is None or lid in state.leads:
            continue
        previous = {"id": value, "name": (names or {}).get(value, value)} if value else None
        facts = {"team": team, "lead": lid, "owner": None, "previous": previous, "rule": "R-CO-2",
                 "withdrawn": True, "revision": revision + 1}
        at = state.clock or state.last_key[0]
        found.append(Notice(f"{team}/corrected/{lid}/{revision + 1}", "corrected", subject, None, at, facts))
    return found
