"""`ledger whatif` and `ledger fairness` (RULEBOOK R-WI-1): the team's recorded history folded
as adopted and under an alternative policy in force from the start of `--from`. Nothing is
stored: no event, no checkpoint, no read model.

Both replays share the history before `--from`: the actual one is read as any query reads it
(the nearest checkpoint, then the events after it); the alternative one starts from the state
before `--from`, read the same way, and folds `projections.whatif.alternative_history` of what
follows. A link after `--from` that needs the whole history again (R-ID-1) folds the
alternative from the first event instead.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from ledger.errors import InputError, UnknownTeam
from ledger.events import PolicyAdopted, Recorded
from ledger.policy import policy_of
from ledger.store import Store
from projections import engine, whatif
from projections.calendar import date_start
from projections.commission import statements_of_months

from . import history
from .read_models import commission_text
from .record import parse_override

ONE_US = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Period:
    """The local dates `--from` .. `--to` of one replay as instants (§10: in the zones in force)."""

    date_from: dt.date
    date_to: dt.date
    start: dt.datetime  # 00:00 of --from
    end: dt.datetime  # the last microsecond of --to
    months: tuple[str, ...]  # the months the period covers, whole
    months_end: dt.datetime  # the last microsecond of the last of them

    @classmethod
    def of(cls, zones: list, date_from: dt.date, date_to: dt.date) -> "Period":
        months, month = [], date_from.replace(day=1)
        while month <= date_to:
            months.append(month.strftime("%Y-%m"))
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return cls(date_from, date_to, _day_start(zones, date_from),
                   _day_start(zones, date_to + dt.timedelta(days=1)) - ONE_US,
                   tuple(months), _day_start(zones, month) - ONE_US)


@dataclass(frozen=True)
class Outcome:
    """Both replays observed over the period, and the adoption the alternative put in force."""

    period: Period
    adoption: PolicyAdopted
    actual: whatif.Side
    alternative: whatif.Side


def run(store: Store, team: str, date_from: dt.date, date_to: dt.date, *, preset: str | None,
        overrides: Iterable[str], lead: str | None = None, as_recorded: dt.datetime | None = None) -> Outcome:
    """Fold the team's history as adopted and under the alternative (R-WI-1); `lead` also
    keeps that lead's two timelines; `as_recorded`: the history as recorded by then (R-CO-4)."""
    if date_to < date_from:
        raise InputError(f"--to {date_to} is before --from {date_from}")
    head = store.head(team)
    if head == 0:
        raise UnknownTeam(f"unknown team {team!r}: no events recorded for it")
    zones = history.team_zones(store, team, as_recorded)
    period = Period.of(zones, date_from, date_to)
    adoption = alternative_adoption(store.adoptions(team, as_recorded), team, period.start, preset, overrides)
    alt_zones = [(since, zone) for since, zone in zones if since < period.start]
    alt_zones.append((period.start, ZoneInfo(policy_of(adoption).timezone)))
    alt_period = Period.of(alt_zones, date_from, date_to)
    reader = _Reader(store, team, head, as_recorded, period.start, Recorded(head + 1, adoption))

    # The actual replay is read as a query reads it (the nearest checkpoint before the end of
    # --to); the alternative one starts from the state before --from, read the same way.
    prefix_end = period.start - ONE_US
    until = max(period.end, period.months_end, alt_period.end, alt_period.months_end)
    after = reader.events(prefix_end, until)
    sides = (_Replay(reader, period, after, None), _Replay(reader, alt_period, after, reader.adoption))
    states = [reader.load(period.end), sides[1].fold(reader.load(prefix_end), alt_period.end)]
    observed = whatif.observe(*states, date_from, date_to, (period.start, period.end), lead)
    results = [dataclasses.replace(seen, commission=side.commission(state))
               for side, state, seen in zip(sides, states, observed)]
    return Outcome(period, adoption, *results)


def alternative_adoption(adopted: list[Recorded], team: str, start: dt.datetime, preset: str | None,
                         overrides: Iterable[str]) -> PolicyAdopted:
    """The `PolicyAdopted` the alternative puts in force at `start`: preset P with the
    overrides, in the team's zone then; or, without a preset, the overrides on top of the
    policy in force at `start` (an error before the team's first adoption)."""
    parsed = dict(parse_override(item) for item in overrides)
    before = [rec.event for rec in adopted if rec.event.at < start]
    if preset is None:
        if not parsed:
            raise InputError("expected --preset P or at least one --override KEY=VALUE")
        if not before:
            raise InputError(f"--override applies on top of the policy in force at {start.isoformat()}, "
                             "and the team had adopted none by then; name a --preset")
        base = before[-1]
        preset, parsed, zone = base.preset.value, {**(base.overrides or {}), **parsed}, base.timezone
    else:
        reference = before[-1] if before else adopted[0].event if adopted else None
        zone = policy_of(reference).timezone if reference is not None else None
    if "timezone" in parsed:
        zone = None
    event = PolicyAdopted(team=team, at=start, preset=preset, overrides=parsed or None, timezone=zone)
    policy_of(event)  # an override the policy refuses is an error here (PolicyError, exit 2)
    return event


@dataclass(frozen=True)
class _Reader:
    """The store as both replays read it: the team's history as recorded by `as_recorded`, and
    the alternative's adoption at `start`."""

    store: Store
    team: str
    head: int
    as_recorded: dt.datetime | None
    start: dt.datetime
    adoption: Recorded

    def load(self, at: dt.datetime) -> engine.TeamState:
        return history.load(self.store, self.team, at, head=self.head, as_recorded=self.as_recorded,
                            keep=False).state

    def events(self, after: dt.datetime | None, until: dt.datetime) -> list[Recorded]:
        """The events replay folds with `after < at <= until`."""
        key = (after, history.CHECKPOINT_SEQ) if after is not None else None
        return self.store.read_by_time(self.team, after_key=key, until=until, as_recorded=self.as_recorded)


class _Replay:
    """One of the two replays: the history as adopted (`adoption` None) or the alternative."""

    def __init__(self, reader: _Reader, period: Period, after: list[Recorded], adoption: Recorded | None):
        self.reader, self.period, self.adoption = reader, period, adoption
        self.after = after if adoption is None else whatif.alternative_history(after, reader.start, adoption)

    def commission(self, state: engine.TeamState) -> dict[str, dict]:
        """`commission --json` of each month the period covers: as adopted, from the read models
        when they are current (as the query reads them), else folded on to the last month's end."""
        months = self.period.months
        if self.adoption is None and self.reader.as_recorded is None:
            texts = [commission_text(self.reader.store, self.reader.team, month) for month in months]
            if all(text is not None for text in texts):
                return {month: json.loads(text) for month, text in zip(months, texts)}
        state = self.fold(state, self.period.months_end)
        return statements_of_months(state.money, state.policies, state.tz, months)

    def fold(self, state: engine.TeamState, until: dt.datetime) -> engine.TeamState:
        """`state` folded on to `until` with this replay's events; from the first event when a
        link re-decides earlier leads (R-ID-1) on a state that holds no records."""
        if state.clock is not None and until <= state.clock:
            return state
        try:
            return engine.replay([rec for rec in self.after if rec.event.at <= until], until=until, state=state)
        except engine.NeedsFullReplay:
            if self.adoption is None:
                return self.reader.load(until)
            records = self.reader.events(None, until)
            return engine.replay(whatif.alternative_history(records, self.reader.start, self.adoption), until=until)


def _day_start(zones: list, date: dt.date) -> dt.datetime:
    return date_start(zones, date, ZoneInfo("Asia/Shanghai"))


def answer(outcome: Outcome) -> dict[str, Any]:
    """`whatif --json` (INTERCHANGE.md), with the alternative adoption and the months."""
    period = outcome.period
    event = outcome.adoption
    return {
        "from": period.date_from.isoformat(), "to": period.date_to.isoformat(),
        "months": list(period.months),
        "alternative": {"preset": event.preset.value, "overrides": event.overrides or {},
                        "timezone": policy_of(event).timezone},
        **whatif.compare(outcome.actual, outcome.alternative),
    }


def fairness_answer(outcome: Outcome | None, actual: whatif.Side | None = None,
                    period: Period | None = None) -> dict[str, Any]:
    """`fairness --json`: per channel, shares against the equal share, in the actual replay
    and (with what-if options) in the alternative."""
    if outcome is not None:
        actual, period = outcome.actual, outcome.period
    assert actual is not None and period is not None
    out: dict[str, Any] = {"from": period.date_from.isoformat(), "to": period.date_to.isoformat(),
                           "actual": whatif.fairness(actual), "alternative": None}
    if outcome is not None:
        out["alternative"] = whatif.fairness(outcome.alternative)
    return out


def observed(store: Store, team: str, date_from: dt.date, date_to: dt.date,
             as_recorded: dt.datetime | None = None) -> tuple[Period, whatif.Side]:
    """The actual replay alone, observed over the period (`fairness` without what-if options)."""
    if date_to < date_from:
        raise InputError(f"--to {date_to} is before --from {date_from}")
    period = Period.of(history.team_zones(store, team, as_recorded), date_from, date_to)
    state = history.load(store, team, period.end, as_recorded=as_recorded, keep=False).state
    return period, whatif.side_of(state, set(), date_from, date_to, (period.start, period.end))
