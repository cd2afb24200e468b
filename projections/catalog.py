"""The light fold that validates imports against the state so far (no I/O, no clock).

It knows, per team, just enough to reject an event that can never make sense: the first
policy adoption, the consultants and their seats (R-RO-1, R-RO-2), and the ids of leads,
contracts and penalties. Ownership, rotation and the rest are the rules engine's.

The roster is checked as of each roster event's `at` (R-T-5: replay goes by `at`): a
back-dated swap must be adjacent in the seat order of its own time (R-RO-2), a back-dated leave
or swap may only name consultants who had joined by then, and a back-dated join needs a seat
free from then on (R-RO-1). Other events may name any consultant of the team, whenever joined.

`Catalog.check(event)` returns the problems of one event as [(key, message)] and applies the
event only when it has none, so one bad line does not poison the lines after it. Stored
history is loaded with `Catalog.load(events)`, which applies without checking.
"""
from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Callable, Iterable

from ledger import events as ev
from ledger.errors import PolicyError
from ledger.phone import is_key, normalize
from ledger.policy import build_policy

# The ids the rules engine gives derived sanctions (`projections.engine.derived_id`).
DERIVED_ID = re.compile(r"^(R-SA-\d+[a-z]?|complaint)\.")

Problems = list[tuple[str, str]]


@dataclass
class Consultant:
    seat: int
    left: bool = False


Roster = dict[str, Consultant]


@dataclass
class TeamCatalog:
    policy_at: dt.datetime | None = None  # the earliest PolicyAdopted
    # The roster as replay leaves it after everything recorded so far: `base` (the state a
    # recording command starts from; empty for an import) and then `roster`, the joins, leaves
    # and swaps in replay order (at, recording order).
    consultants: Roster = field(default_factory=dict)
    leads: set[str] = field(default_factory=set)
    contracts: set[str] = field(default_factory=set)
    penalties: set[str] = field(default_factory=set)
    base: Roster = field(default_factory=dict)
    roster: list[tuple[dt.datetime, int, ev.Event]] = field(default_factory=list)
    # R-CO-2: a voided arrival's lead id stays taken (a class default: older kept catalogs lack it)
    voided_leads: frozenset[str] = frozenset()

    def seat_holder(self, seat: int, roster: Roster | None = None) -> str | None:
        for name, consultant in (self.consultants if roster is None else roster).items():
            if consultant.seat == seat and not consultant.left:
                return name
        return None

    def seat_order(self, roster: Roster | None = None) -> list[str]:
        return _seat_order(self.consultants if roster is None else roster)

    def add_roster(self, event: ev.Event) -> None:
        """Apply a join, leave or swap in its replay place (a back-dated one replays the roster)."""
        entry = (event.at, len(self.roster), event)
        if not self.roster or entry[0] >= self.roster[-1][0]:
            self.roster.append(entry)
            _roster_step(self.consultants, event)
        else:
            bisect.insort(self.roster, entry)
            self.consultants = self._replay()

    def joined_at(self, consultant: str) -> dt.datetime | None:
        """When the consultant joins, in replay order (None: in `base`, or never)."""
        return next((when for when, _, event in self.roster
                     if isinstance(event, ev.ConsultantJoined) and event.consultant == consultant), None)

    def roster_at(self, at: dt.datetime) -> Roster:
        """The roster as replay reaches `at` (with every event at `at` recorded so far)."""
        if not self.roster or at >= self.roster[-1][0]:
            return self.consultants
        return self._replay(until=at)

    def holder_from(self, seat: int, at: dt.datetime) -> str | None:
        """Who holds `seat` at `at` or at any later change of the roster (None: free from `at` on)."""
        if not self.roster or at >= self.roster[-1][0]:
            return self.seat_holder(seat)
        out = copy_roster(self.base)
        reached = False
        for when, _, event in self.roster:
            if when > at and not reached:
                reached = True
                if (holder := self.seat_holder(seat, out)) is not None:
                    return holder
            _roster_step(out, event)
            if reached and (holder := self.seat_holder(seat, out)) is not None:
                return holder
        return None if reached else self.seat_holder(seat, out)

    def _replay(self, until: dt.datetime | None = None) -> Roster:
        out = copy_roster(self.base)
        for when, _, event in self.roster:
            if until is not None and when > until:
                break
            _roster_step(out, event)
        return out


def _seat_order(roster: Roster) -> list[str]:
    """R-RO-1: consultants who have not left, by ascending seat."""
    return [name for _, name in sorted((c.seat, name) for name, c in roster.items() if not c.left)]


def _adjacent(order: list[str], a: str, b: str) -> bool:
    """R-RO-2: next to each other in the seat order (the first and the last are not)."""
    return abs(order.index(a) - order.index(b)) == 1


def copy_roster(roster: Roster) -> Roster:
    return {name: Consultant(c.seat, c.left) for name, c in roster.items()}


def _roster_step(roster: Roster, event: ev.Event) -> None:
    """One join, leave or swap, as the rules engine replays it (a swap that a back-dated event
    made non-adjacent is ignored, R-RO-2)."""
    if isinstance(event, ev.ConsultantJoined):
        roster.setdefault(event.consultant, Consultant(event.seat))
    elif isinstance(event, ev.ConsultantLeft):
        if event.consultant in roster:
            roster[event.consultant].left = True
    elif isinstance(event, ev.SeatsSwapped):
        a, b = roster.get(event.a), roster.get(event.b)
        if a is None or b is None or a.left or b.left:
            return
        if _adjacent(_seat_order(roster), event.a, event.b):
            a.seat, b.seat = b.seat, a.seat


class Catalog:
    def __init__(self) -> None:
        self.teams: dict[str, TeamCatalog] = {}

    def team(self, team: str) -> TeamCatalog:
        found = self.teams.get(team)
        if found is None:
            found = self.teams[team] = TeamCatalog()
        return found

    def load(self, events: Iterable[ev.Event]) -> "Catalog":
        """Apply already stored events (trusted, in recording order)."""
        appliers = _APPLIERS
        for event in events:
            cls = type(event)
            apply = appliers.get(cls) or appliers.setdefault(cls, Catalog._apply.dispatch(cls))
            apply(event, self.team(event.team))
        return self

    def check(self, event: ev.Event) -> Problems:
        """The problems of `event` against the state so far; applies it when there are none."""
        team = self.team(event.team)
        cls = type(event)
        check = _CHECKERS.get(cls) or _CHECKERS.setdefault(cls, Catalog._check.dispatch(cls))
        problems = self._common(event, team) + check(event, team)
        if not problems:
            apply = _APPLIERS.get(cls) or _APPLIERS.setdefault(cls, Catalog._apply.dispatch(cls))
            apply(event, team)
        return problems

    # -- checks --------------------------------------------------------------------------------

    def _common(self, event: ev.Event, team: TeamCatalog) -> Problems:
        if isinstance(event, ev.PolicyAdopted):
            return []
        if team.policy_at is None:
            return [("team", f"team {event.team!r} has not adopted a policy: its first event "
                             "must be a PolicyAdopted (RULEBOOK §10)")]
        if event.at < team.policy_at:
            return [("at", f"expected a time at or after the team's first PolicyAdopted "
                           f"({team.policy_at.isoformat()}), got {event.at.isoformat()}")]
        return []

    @singledispatch
    def _check(event: ev.Event, team: TeamCatalog) -> Problems:
        return []

    @_check.register
    def _(event: ev.PolicyAdopted, team: TeamCatalog) -> Problems:
        try:
            build_policy(event.preset.value, event.overrides, event.timezone)
        except PolicyError as error:
            return [("overrides", str(error))]
        return []

    @_check.register
    def _(event: ev.ConsultantJoined, team: TeamCatalog) -> Problems:
        problems: Problems = []
        known = team.consultants.get(event.consultant)
        if known is not None:
            how = "has left" if known.left else "has already joined"
            problems.append(("consultant", f"consultant {event.consultant!r} {how}; "
                                           "expected a new consultant id"))
        holder = team.holder_from(event.seat, event.at)
        if holder is not None:
            problems.append(("seat", f"R-RO-1: seat {event.seat} is taken by {holder}; expected a free seat"))
        return problems

    @_check.register
    def _(event: ev.ConsultantLeft, team: TeamCatalog) -> Problems:
        problems = _consultants(team, event.at, consultant=event.consultant)
        if not problems and team.roster_at(event.at)[event.consultant].left:
            problems.append(("consultant", f"consultant {event.consultant!r} has already left"))
        return problems

    @_check.register
    def _(event: ev.SeatsSwapped, team: TeamCatalog) -> Problems:
        problems = _consultants(team, event.at, a=event.a, b=event.b)
        if problems:
            return problems
        roster = team.roster_at(event.at)  # R-RO-2: "the current seat order" at the swap's time
        a, b = roster[event.a], roster[event.b]
        if event.a == event.b:
            return [("b", f"expected two different consultants, got {event.a!r} twice")]
        for key, name, who in (("a", event.a, a), ("b", event.b, b)):
            if who.left:
                problems.append((key, f"R-RO-2: {name} has left and has no seat to swap"))
        if problems:
            return problems
        if not _adjacent(team.seat_order(roster), event.a, event.b):
            return [("b", f"R-RO-2: {event.a} and {event.b} are not adjacent "
                          f"(seats {a.seat} and {b.seat})")]
        return []

    @_check.register(ev.ShiftAssigned)
    @_check.register(ev.PresenceChanged)
    @_check.register(ev.ComplaintVerified)
    @_check.register(ev.TargetSet)
    def _(event: ev.Event, team: TeamCatalog) -> Problems:
        """Events that only name a consultant: it must have joined and not left."""
        return _consultants(team, consultant=event.consultant)  # type: ignore[attr-defined]

    @_check.register
    def _(event: ev.LeadArrived, team: TeamCatalog) -> Problems:
        problems: Problems = []
        if event.lead in team.leads:
            problems.append(("lead", f"lead {event.lead!r} has already arrived; "
                                     "expected a lead id unique within the team"))
        elif event.lead in team.voided_leads:
            problems.append(("lead", f"lead id {event.lead!r} belongs to a voided arrival (R-CO-2); "
                                     "expected a lead id unique within the team"))
        problems += _consultants(team, named=event.named, prior_contact=event.prior_contact,
                                 taken_by=event.taken_by, maker=event.maker)
        problems += _phones(phone=event.phone, referrer_phone=event.referrer_phone)
        return problems

    @_check.register(ev.FollowUpLogged)
    @_check.register(ev.ClaimMade)
    @_check.register(ev.InvitationRecorded)
    @_check.register(ev.VisitRecorded)
    @_check.register(ev.GradeProposed)
    @_check.register(ev.GradeConfirmed)
    def _(event: ev.Event, team: TeamCatalog) -> Problems:
        """Events about a lead by a consultant: both must be known (the consultant may be absent)."""
        return (_leads(team, lead=event.lead)  # type: ignore[attr-defined]
                + _consultants(team, consultant=event.consultant))  # type: ignore[attr-defined]

    @_check.register
    def _(event: ev.RulingMade, team: TeamCatalog) -> Problems:
        return _leads(team, lead=event.lead) + _consultants(team, owner=event.owner)

    @_check.register(ev.CustomersLinked)
    @_check.register(ev.CustomersUnlinked)
    def _(event: ev.CustomersLinked | ev.CustomersUnlinked, team: TeamCatalog) -> Problems:
        problems = _leads(team, lead=event.lead, other=event.other)
        if not problems and event.lead == event.other:
            problems.append(("other", f"expected a lead other than {event.lead!r}"))
        return problems

    @_check.register
    def _(event: ev.PenaltyImposed, team: TeamCatalog) -> Problems:
        problems = _consultants(team, consultant=event.consultant)
        if event.penalty in team.penalties:
            problems.append(("penalty", f"penalty {event.penalty!r} already exists; "
                                        "expected a penalty id unique within the team"))
        elif DERIVED_ID.match(event.penalty):
            problems.append(("penalty", f"penalty id {event.penalty!r} has the form of a derived sanction's; "
                                        "expected another id"))
        return problems

    @_check.register
    def _(event: ev.PenaltyLifted, team: TeamCatalog) -> Problems:
        # A derived sanction (R-SA-4/5/7/8) is known only to the rules engine: its id is checked
        # for its form here (`ledger lift` checks it against the folded state).
        if event.penalty not in team.penalties and not DERIVED_ID.match(event.penalty):
            return [("penalty", f"unknown penalty {event.penalty!r}; expected the id of an imposed penalty "
                                "or of a derived sanction (as `ledger sanctions` lists it)")]
        return []

    @_check.register
    def _(event: ev.ContractSigned, team: TeamCatalog) -> Problems:
        problems = _leads(team, lead=event.lead)
        if event.contract in team.contracts:
            problems.append(("contract", f"contract {event.contract!r} already exists; "
                                         "expected a contract id unique within the team"))
        return problems

    @_check.register(ev.PaymentReceived)
    @_check.register(ev.LoanDisbursed)
    @_check.register(ev.ContractRefunded)
    @_check.register(ev.ContractCancelled)
    def _(event: ev.Event, team: TeamCatalog) -> Problems:
        contract = event.contract  # type: ignore[attr-defined]
        if contract not in team.contracts:
            return [("contract", f"unknown contract {contract!r}; expected the id of a signed contract")]
        return []

    @_check.register
    def _(event: ev.CustomerErased, team: TeamCatalog) -> Problems:
        return _phones(phone=event.phone)

    # -- state ---------------------------------------------------------------------------------

    @singledispatch
    def _apply(event: ev.Event, team: TeamCatalog) -> None:
        pass

    @_apply.register
    def _(event: ev.PolicyAdopted, team: TeamCatalog) -> None:
        if team.policy_at is None or event.at < team.policy_at:
            team.policy_at = event.at

    @_apply.register(ev.ConsultantJoined)
    @_apply.register(ev.ConsultantLeft)
    @_apply.register(ev.SeatsSwapped)
    def _(event: ev.Event, team: TeamCatalog) -> None:
        team.add_roster(event)

    @_apply.register
    def _(event: ev.LeadArrived, team: TeamCatalog) -> None:
        team.leads.add(event.lead)

    @_apply.register
    def _(event: ev.PenaltyImposed, team: TeamCatalog) -> None:
        team.penalties.add(event.penalty)

    @_apply.register
    def _(event: ev.ContractSigned, team: TeamCatalog) -> None:
        team.contracts.add(event.contract)

    # plain functions dispatched on the event type (a singledispatchmethod rebinds on every call)
    _check = staticmethod(_check)
    _apply = staticmethod(_apply)


def load_unvoided(catalog: Catalog, records: Iterable[ev.Recorded], voided: set[int] | dict[int, int]) -> Catalog:
    """`Catalog.load` of stored events as replay sees them (R-CO-2): without the voids and
    the events they voided; a voided arrival's lead id stays taken."""
    for rec in records:
        if rec.seq in voided:
            if isinstance(rec.event, ev.LeadArrived):
                team = catalog.team(rec.event.team)
                team.voided_leads = team.voided_leads | {rec.event.lead}
        elif not isinstance(rec.event, ev.EntryVoided):
            catalog.load((rec.event,))
    return catalog


def void_refusal(records: list[ev.Recorded], voided: set[int] | dict[int, int], target: int) -> tuple[str | None, list[ev.Recorded]]:
    """Why voiding the event `target` (a seq) of one team's `records` (every stored event, in
    recording order) is refused (R-CO-3), and the events that would no longer import without it
    (checked in recording order, each against the history without the target and without what
    was found invalid before it)."""
    by_seq = {rec.seq: rec for rec in records}
    found = by_seq.get(target)
    if found is None:
        return f"#{target} is not an event of the team", []
    if isinstance(found.event, ev.EntryVoided):
        return f"#{target} is a void itself; a void cannot be voided", []
    if target in voided:
        return f"#{target} is already voided (by #{voided[target]})", []
    first_policy = next((rec.seq for rec in records if rec.seq not in voided
                         and isinstance(rec.event, ev.PolicyAdopted)), None)
    if target == first_policy:
        return f"#{target} is the team's first PolicyAdopted; record a new PolicyAdopted instead", []
    catalog = Catalog()
    dependents = []
    gone = dict.fromkeys(voided, 0)
    gone[target] = 0
    before = [rec for rec in records if rec.seq < target]
    load_unvoided(catalog, before, gone)
    for rec in records:
        if rec.seq <= target or rec.seq in gone or isinstance(rec.event, ev.EntryVoided):
            continue
        if catalog.check(rec.event):
            dependents.append(rec)
    if dependents:
        return "events recorded after it would no longer be valid without it; void them first, or record a ruling", dependents
    return None, []


# type -> the singledispatch implementation (the dispatcher's own cache is a slower weak dict)
_CHECKERS: dict[type, Callable] = {}
_APPLIERS: dict[type, Callable] = {}


def _consultants(team: TeamCatalog, at: dt.datetime | None = None, **refs: str | None) -> Problems:
    """Each named consultant must have joined the team; with `at` (a leave or a swap, which
    change the roster), by then (R-T-5: in replay order). Other events may name a consultant
    before their join (a shift planned for a new hire's first day)."""
    problems: Problems = []
    roster = None
    for key, name in refs.items():
        if name is None:
            continue
        if name not in team.consultants:
            problems.append((key, f"unknown consultant {name!r}; expected a consultant who has joined the team"))
            continue
        if at is None:
            continue
        roster = team.roster_at(at) if roster is None else roster
        if name not in roster:
            joined = team.joined_at(name)
            when = f"joins only at {joined.isoformat()}" if joined is not None else "had not joined then"
            problems.append((key, f"consultant {name!r} {when}; "
                                  f"expected a consultant who had joined by {at.isoformat()}"))
    return problems


def _leads(team: TeamCatalog, **refs: str) -> Problems:
    return [(key, f"lead {name!r} was voided (R-CO-2); expected a lead that has arrived in the team"
             if name in team.voided_leads else
             f"unknown lead {name!r}; expected a lead that has arrived in the team")
            for key, name in refs.items() if name not in team.leads]


def _phones(**numbers: str | None) -> Problems:
    return [(key, f"expected a phone number with digits, got {value!r}")
            for key, value in numbers.items()
            if value is not None and not is_key(value) and not normalize(value)]
