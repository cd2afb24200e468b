"""The persisted read models of one team, computed by folding its history (pure: no clock, no I/O).

    models = fold_models(state, records)      # state: the team just before records[0].at (or None)

`records` are the team's events in replay order (at, seq) (R-T-5) from a moment `start` on; the
state is the team's state with every event before `start` folded and every timer before it fired
(`commands.history.state_at(start - 1 µs)`), or `None` to fold the whole history. The fold
observes the state after each instant (an event's `at`, or a timer's) and records:

- `owners`: for every lead, a row each time its `owner --json` answer changes: (lead, valid_from,
  ordering, owner, rule, disputed, answer). The answer at a moment T is the latest row with
  `valid_from <= T`; a lead without one had not arrived by T. Observed after the last event too:
  a copy of the state is advanced to `horizon` (the last event's `at` + `HORIZON`), so the
  changes that timers make with no further event (R-FU-2 deadlines, R-SH-5 deferred allocation,
  weekly sanctions, R-FU-4) are rows too. Past the horizon, ask the fold.
- `seats`: the seat of every consultant each time it changes (`turns` orders its rows by seat).
- `counts`: turn and lead counts per (local date, consultant, channel) (R-RT-7), from `count_from`.
- `sanctions`: every sanction, imposed or derived, with from / until / lifted (§6).
- `commission`: the `commission --json` answer of each month from `month_from` to the month of
  the horizon (R-CM-6: a month's events decide it; R-CM-4 rewards fall due after the last event).

Each `answer` is the exact text the CLI prints for the fold-based answer, so a query reading the
model prints the same bytes.

A fold's rows replace the stored rows from `start` on (R-T-5: a late event rewrites the models
from its `at` on). An owner row is written only when the answer differs from the lead's previous
row, so a team's rows are the same whichever way they were computed (incrementally, or a rebuild).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from ledger import events as E
from ledger.errors import LedgerError

from . import engine, queries
from .calendar import month_containing, next_month, zone_at, zones_of
from .commission import statements_of_months

# How far past the last event the timers are followed (R-FU-2 deadlines run at most a few days
# after a lead, callbacks a little longer; weekly sanctions every Monday).
HORIZON = dt.timedelta(days=40)


# What `json.dumps(answer, ensure_ascii=False, default=str)` builds on every call, built once.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def dumps(answer: dict) -> str:
    """The CLI's JSON rendering of an answer (cli._emit_json), byte for byte."""
    return _ENCODER.encode(answer)


@dataclass
class OwnerRow:
    lead: str
    valid_from: dt.datetime
    ordering: int  # the last seq folded at that instant (0: a timer before any event of it)
    owner: str | None
    rule: str | None
    disputed: bool
    answer: str


@dataclass
class Models:
    team: str | None
    start: dt.datetime | None  # rows at or after it replace the stored ones (None: everything)
    position: int = 0  # the highest seq folded
    horizon: dt.datetime | None = None
    tz: str = "UTC"  # the zone of the team's first policy (dates and months: the zone in force, §10)
    owners: list[OwnerRow] = field(default_factory=list)
    seats: list[tuple[dt.datetime, int, str]] = field(default_factory=list)  # (valid_from, ordering, json)
    count_from: dt.date | None = None
    counts: list[tuple[dt.date, str, str, int, int]] = field(default_factory=list)
    sanctions: list[dict] = field(default_factory=list)
    month_from: str | None = None
    commission: dict[str, str] = field(default_factory=dict)  # month -> answer text
    events: int = 0


class _Observer:
    """Fold records one at a time, firing timers instant by instant, and note what changed."""

    def __init__(self, state: engine.TeamState | None, models: Models):
        self.state = state if state is not None else engine.TeamState()
        self.models = models
        self.last: dict[str, str] = {}  # lead -> answer of its latest row (this fold)
        self.inputs: dict[str, tuple] = {}  # lead -> what `last` was computed from (`_owner_inputs`)
        self.instant: dt.datetime | None = None
        self.ordering = 0
        self.everything = False  # a re-fold or a new policy: look at every lead
        self.seats = self._seats()
        self.money = False  # whether an event folded may change the money facts (commission)
        self.roster = False  # whether seats may have changed since the last flush
        self.state.touched = set()

    def _seats(self) -> str:
        return json.dumps({cid: c.seat for cid, c in self.state.consultants.items()}, sort_keys=True)

    def _at(self, instant: dt.datetime) -> None:
        if self.instant is not None and instant > self.instant:
            self.flush()
        self.instant = instant if self.instant is None or instant > self.instant else self.instant

    def flush(self) -> None:
        state = self.state
        instant = self.instant
        if instant is None:
            return
        touched = state.touched
        if not touched and not self.everything and not self.roster:  # nothing at this instant changed
            self.ordering = 0
            return
        if self.everything:
            leads = list(state.leads)
        else:
            leads = []
            for cid in touched:
                cust = state.customers.get(cid)
                if cust is not None:
                    leads.extend(cust.leads)
        known = state.leads
        clock = state.clock
        for lead in leads:
            found = known.get(lead)
            if found is None or (clock is not None and found.at > clock):
                continue  # not arrived by now: no answer (queries.owner raises UnknownLead)
            inputs = _owner_inputs(state, found)
            if self.inputs.get(lead) == inputs:
                continue  # the same answer as the lead's latest row
            try:
                answer = queries.owner(state, lead)
            except LedgerError:
                continue
            text = dumps(answer)
            self.inputs[lead] = inputs
            if self.last.get(lead) != text:
                self.last[lead] = text
                self.models.owners.append(OwnerRow(lead, instant, self.ordering, answer["owner"], answer["rule"],
                                                   bool(answer["disputed"]), text))
        touched.clear()
        if self.everything or self.roster:
            seats = self._seats()
            if seats != self.seats:
                self.seats = seats
                self.models.seats.append((instant, self.ordering, seats))
        self.everything = self.roster = False
        self.ordering = 0

    def fire_until(self, until: dt.datetime, *, inclusive: bool) -> None:
        """Fire the timers before `until` (or at it, when `inclusive`), one instant at a time."""
        state = self.state
        timers = state.timers
        while timers and (timers[0][0] < until or (inclusive and timers[0][0] == until)):
            instant = timers[0][0]
            self._at(instant)
            engine.advance(state, instant)

    def apply(self, rec: E.Recorded) -> None:
        at = rec.event.at
        self.fire_until(at, inclusive=False)
        self._at(at)
        before = self.state
        after = engine.apply(before, rec)
        if after is not before:  # a re-fold (R-ID-1 link, R-T-5): anything may have changed
            after.touched = set()
            self.state = after
            self.everything = True
        self.note(rec)

    def note(self, rec: E.Recorded) -> None:
        """What folding `rec` (already applied to the state) means for the flush and the finish."""
        if isinstance(rec.event, E.PolicyAdopted):  # the zone answers are written in may change
            self.everything = True
        if self.everything or _moves_money(rec.event):
            self.money = True
        if isinstance(rec.event, _ROSTER_EVENTS):
            self.roster = True
        self.ordering = rec.seq
        self.models.position = max(self.models.position, rec.seq)
        self.models.events += 1


def _owner_inputs(state: engine.TeamState, lead: engine.Lead) -> tuple:
    """Everything `queries.owner` reads for this lead: equal inputs give the same answer text."""
    cust = state.customers[lead.customer]
    return (lead.customer, lead.owner, lead.tick, lead.rule, cust.owner, cust.tick, cust.rule, cust.owner_since,
            bool(cust.violations), cust.contested, tuple(cust.claims), state.tz)


def fold_models(state: engine.TeamState | None, records: Iterable[E.Recorded], *,
                start: dt.datetime | None = None, last_at: dt.datetime | None = None,
                covered: dt.datetime | None = None, keep=None, keep_every: int | None = None,
                keep_from: dt.datetime | None = None) -> Models:
    """Fold `records` (replay order, all with at >= start) from `state` and compute the models.

    `last_at`: the team's latest `at` overall (default: the last record's); the horizon follows it.
    `covered`: the horizon of the stored models; when no event folded moves money, only the
    months past it are computed (the others' statements cannot have changed).
    `keep(state)`: called with the state after the last event, before the timers are followed
    past it (the caller may leave a checkpoint; it must not keep the object); with `keep_every`,
    also every that many events from `keep_from` on, at the end of an instant (a long fold leaves
    checkpoints near its end: `--as-recorded` and `--at` a few days back start from one)."""
    models = Models(team=state.team if state is not None else None, start=start)
    observer = _Observer(state, models)
    since = 0
    for rec in records:
        if keep_every is not None and since >= keep_every:
            last = observer.state.last_key if observer.state is not None else None
            if last is not None and rec.event.at > last[0] and (keep_from is None or last[0] >= keep_from):
                _keep(observer.state, keep)
                since = 0
        observer.apply(rec)
        since += 1
    return _close(observer, start, last_at, covered, keep)


def _keep(state: engine.TeamState, keep) -> None:
    touched, state.touched = state.touched, None
    keep(state)
    state.touched = touched


# Events after which `models_after` cannot tell what changed from the state after them alone.
_ROSTER_EVENTS = (E.ConsultantJoined, E.SeatsSwapped)
_NOT_AFTER = _ROSTER_EVENTS + (E.PolicyAdopted, E.CustomersLinked, E.CustomersUnlinked, E.EntryVoided)


def can_follow(events: Iterable[E.Event]) -> bool:
    """Whether `models_after` may fold `events` onto the state they were decided on: they share
    one instant, and none re-decides the past or changes the seats or the zone (those need
    `fold_models`)."""
    events = list(events)
    if not events or any(isinstance(event, _NOT_AFTER) for event in events):
        return False
    return all(event.at == events[0].at for event in events)


def models_after(state: engine.TeamState, stored: list[E.Recorded], *, covered: dt.datetime | None = None,
                 changed: Iterable[str] = ()) -> Models:
    """`fold_models(before, stored, start=at)` without loading `before` (the team just before the
    instant `at` of `stored`) a second time. `state` is the team AT that instant -- every event
    and timer of it folded -- with `stored` applied after (`engine.apply`) while `state.touched`
    (a set) collected the customers they changed, and `can_follow` held; nothing is recorded
    after `at`. `changed`: the customers whose leads have rows at `at` already (what the events
    and timers of `at` before `stored` changed): their answers at `at` are written again, as the
    full fold from `at` would. A recording command's case: it holds the state it decided on.
    The state is advanced to the models' horizon."""
    at = stored[0].event.at
    models = Models(team=state.team, start=at)
    touched = state.touched
    touched.update(changed)
    observer = _Observer(state, models)
    state.touched = touched
    observer.instant = at
    for rec in stored:
        observer.note(rec)
    return _close(observer, at, None, covered, None)


def _close(observer: "_Observer", start: dt.datetime | None, last_at: dt.datetime | None,
           covered: dt.datetime | None, keep) -> Models:
    """Follow the timers to the horizon, flush the last instant and compute the rest."""
    models = observer.models
    state = observer.state
    models.team = state.team
    latest = max((t for t in (last_at, state.last_key[0] if state.last_key else None, start) if t is not None),
                 default=None)
    if keep is not None and state.last_key is not None:
        _keep(state, keep)
    if latest is not None:
        models.horizon = latest + HORIZON
        observer.fire_until(models.horizon, inclusive=True)
        observer._at(models.horizon)
        engine.advance(state, models.horizon)
    observer.flush()
    state.touched = None
    _finish(state, models, start, money=observer.money or start is None, covered=covered)
    return models


_MONEY_EVENTS = (E.ContractSigned, E.PaymentReceived, E.LoanDisbursed, E.ContractRefunded, E.ContractCancelled,
                 E.TargetSet, E.PolicyAdopted, E.CustomersLinked, E.CustomersUnlinked, E.CustomerErased)


def _moves_money(event: E.Event) -> bool:
    """Whether folding this event may change the money facts that statements read: contracts and
    their movements, targets, policies, identities, and the referral (R-CM-4) and conference
    (R-CM-5) leads. Any other event leaves every month's statements as they were: a contract's
    credit is decided when the contract itself is folded."""
    if isinstance(event, _MONEY_EVENTS):
        return True
    return isinstance(event, E.LeadArrived) and event.channel.value in ("customer_referral", "conference")


def _first_zone(state: engine.TeamState) -> str:
    if state.policies:
        return state.policies[0][1].timezone
    return state.policy.timezone


def _finish(state: engine.TeamState, models: Models, start: dt.datetime | None, *, money: bool = True,
            covered: dt.datetime | None = None) -> None:
    """Counts, sanctions and statements, read off the state advanced to the horizon."""
    models.tz = _first_zone(state)
    zones = zones_of(state.policies)  # §10: dates and months local to the zone in force
    # R-RT-7: a date's counts change only on that local date (in the zone then: the earliest of
    # the zones in force from `start` on); a day of margin.
    models.count_from = None if start is None else min(
        start.astimezone(zone).date() for zone in _zones_from(zones, start, state.tz)) - dt.timedelta(days=1)
    models.counts = sorted(
        (date, cid, channel, t, n) for (cid, channel, date), (t, n) in state.counts.items()
        if models.count_from is None or date >= models.count_from)
    models.sanctions = [sanction_row(state, s) for s in state.sanctions.values()]
    if money or covered is None:
        months = _months(state, zones, start)
    else:  # statements are a function of the money facts: only months the horizon newly reaches
        done = _month_text(month_containing(zones, covered, state.tz))
        months = [m for m in _months(state, zones, start) if m > done]
    if months:
        models.month_from = months[0]
        for month, answer in statements_of_months(state.money, state.policies, state.tz, months).items():
            models.commission[month] = dumps(answer)


def _months(state: engine.TeamState, zones, start: dt.datetime | None) -> list[str]:
    """The months from the month holding `start` to the horizon's (local to the zone in force, §10)."""
    if state.last_key is None:
        return []
    last = month_containing(zones, max(state.clock or state.last_key[0], state.last_key[0]), state.tz)
    if start is None:
        start = min((at for at, _ in state.policies), default=state.last_key[0])
    month = month_containing(zones, start, state.tz)
    out = []
    while month <= last:
        out.append(_month_text(month))
        month = next_month(*month)
    return out


def _month_text(month: tuple[int, int]) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


def _zones_from(zones, start: dt.datetime, default) -> list:
    """The zones in force at `start` or later."""
    found = [zone_at(zones, start, default)]
    return found + [zone for since, zone in zones if since > start]


def _iso(at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(dt.timezone.utc).isoformat()


def sanction_row(state: engine.TeamState, s: engine.Sanction) -> dict:
    """A sanction as the model keeps it (times in UTC ISO): what `sanctions` answers are made of."""
    return {
        "penalty": s.id, "consultant": s.consultant, "kind": s.kind, "channels": list(s.channels),
        "rule": s.rule, "from": _iso(s.start), "until": _iso(s.until), "lifted": _iso(s.lifted_at),
        "reason": s.reason, "derived": s.derived, "turns_left": s.turns_left, "take": s.take, "of": s.of,
    }


def turns_answer(counts: Iterable[tuple[str, str, int, int]], seats: dict[str, int]) -> dict:
    """`queries.turns` from model rows: (consultant, channel, turns, leads) of the dates asked."""
    totals: dict[tuple[str, str], list[int]] = {}
    for cid, channel, t, n in counts:
        row = totals.setdefault((cid, channel), [0, 0])
        row[0] += t
        row[1] += n
    rows = [
        {"consultant": cid, "channel": channel, "turns": t, "leads": n}
        for (cid, channel), (t, n) in sorted(totals.items(), key=lambda kv: (seats.get(kv[0][0], 0), kv[0][0], kv[0][1]))
        if t or n
    ]
    return {"rows": rows}
