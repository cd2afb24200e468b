"""A small story builder for the per-rule unit tests (no tests here).

    s = Story("campus", consultants=3)          # policy + c1..c3 (seats 1..3) on Sunday 2026-11-01 09:00
    s.lead("L1", "11-02 10:00", "walk_in")      # local times "MM-DD HH:MM[:SS]" in +08:00, 2026
    s.owner("L1")                               # queries.owner at the latest event (or at=...)
"""
from __future__ import annotations

import datetime as dt

from ledger.events import Recorded, parse_event
from projections import queries
from projections.engine import replay

TEAM = "t"


def T(text: str) -> str:
    """'11-02 10:00' -> '2026-11-02T10:00:00+08:00' (full ISO passes through)."""
    if "T" in text:
        return text
    day, clock = text.split(" ")
    if clock.count(":") == 1:
        clock += ":00"
    return f"2026-{day}T{clock}+08:00"


class Story:
    def __init__(self, preset: str = "campus", consultants: int = 3, at: str = "11-01 09:00", overrides=None, **policy):
        self.events: list[dict] = []
        self.phones = 0
        self.add("PolicyAdopted", at, preset=preset, **({"overrides": overrides} if overrides else {}), **policy)
        for i in range(1, consultants + 1):
            self.join(f"c{i}", at, seat=i)

    def add(self, type: str, at: str, **keys) -> "Story":
        self.events.append({"type": type, "team": TEAM, "at": T(at), **keys})
        return self

    def join(self, cid, at, seat):
        return self.add("ConsultantJoined", at, consultant=cid, name=cid.upper(), seat=seat)

    def presence(self, cid, at, presence):
        return self.add("PresenceChanged", at, consultant=cid, presence=presence)

    def lead(self, lead, at, channel="walk_in", phone=None, **keys):
        if phone is None:
            self.phones += 1
            phone = f"1390000{self.phones:04d}"
        if phone is not False:
            keys["phone"] = phone
        return self.add("LeadArrived", at, lead=lead, channel=channel, **keys)

    def shift(self, cid, at, date, shift):
        return self.add("ShiftAssigned", at, consultant=cid, date=f"2026-{date}", shift=shift)

    def followup(self, lead, at, cid, direction="outbound"):
        return self.add("FollowUpLogged", at, lead=lead, consultant=cid, direction=direction)

    def contract(self, contract, lead, at, amount="10000.00", **keys):
        return self.add("ContractSigned", at, contract=contract, lead=lead, amount=amount, **keys)

    def pay(self, contract, at, amount):
        return self.add("PaymentReceived", at, contract=contract, amount=amount)

    def penalty(self, pid, cid, at, kind, channels, rule="R-SA-1", reason="test", **keys):
        if "from_" in keys:
            keys["from"] = T(keys.pop("from_"))
        if "until" in keys:
            keys["until"] = T(keys["until"])
        return self.add("PenaltyImposed", at, penalty=pid, consultant=cid, kind=kind, channels=channels,
                        rule=rule, reason=reason, **keys)

    def records(self):
        return [Recorded(i + 1, parse_event(e)) for i, e in enumerate(self.events)]

    def state(self, at: str | None = None):
        return replay(self.records(), until=dt.datetime.fromisoformat(T(at)) if at else None)

    def owner(self, lead, at=None):
        return queries.owner(self.state(at), lead)

    def owners(self, *leads, at=None):
        state = self.state(at)
        return [queries.owner(state, lead)["owner"] for lead in leads]

    def rules(self, *leads, at=None):
        state = self.state(at)
        return [queries.owner(state, lead)["rule"] for lead in leads]

    def next(self, channel, at):
        return queries.next_owner(self.state(at), channel, dt.datetime.fromisoformat(T(at)))

    def turns(self, day_from, day_to=None, at=None):
        state = self.state(at)
        rows = queries.turns(state, dt.date.fromisoformat(f"2026-{day_from}"), dt.date.fromisoformat(f"2026-{day_to or day_from}"))
        return {(r["consultant"], r["channel"]): (r["turns"], r["leads"]) for r in rows["rows"]}

    def sanctions(self, at):
        return queries.sanctions(self.state(at))["sanctions"]
