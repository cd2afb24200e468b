"""`ledger whatif` and `ledger fairness` (RULEBOOK R-WI-1): the team's recorded history folded
as adopted and under an alternative policy in force from the start of `--from`. Nothing is
stored: no event, no checkpoint, no read model.

Both replays share the history before `--from`: the actual one is read as any query reads it
(the nearest checkpoint, then the events after it); the alternative one starts from the same
prefix state, loaded again, and folds `projections.whatif.alternative_history` of what follows.
A link after `--from` that needs the whole history again (R-ID-1) folds the alternative from
the first event instead.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
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

    reader = _Reader(store, team, head, as_recorded)
    actual = _side(reader, period, lead, None)
    alternative = _side(reader, alt_period, lead, Recorded(head + 1, adoption))
    return Outcome(period, adoption, actual, alternative)


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
    """The store as both replays read it: the team's history as recorded by `as_recorded`."""

    store: Store
    team: str
    head: int
    as_recorded: dt.datetime | None

    def load(self, at: dt.datetime) -> engine.TeamState:
        return history.load(self.store, self.team, at, head=self.head, as_recorded=self.as_recorded,
                            keep=False).state

    def events(self, after: dt.datetime | None, until: dt.datetime) -> list[Recorded]:
        """The events replay folds with `after < at <= until`."""
        key = (after, history.CHECKPOINT_SEQ) if after is not None else None
        return self.store.read_by_time(self.team, after_key=key, until=until, as_recorded=self.as_recorded)


def _side(reader: _Reader, period: Period, lead: str | None, adoption: Recorded | None) -> whatif.Side:
    """One replay observed at the end of the period, then folded on to the end of its last
    month for the commission; `adoption` None is the history as adopted."""
    until = max(period.end, period.months_end)
    if adoption is None:
        state = reader.load(period.end)
        later = reader.events(period.end, until)
    else:
        state, later = _alternative(reader, period, adoption, until)
    side = whatif.observe(state, period.date_from, period.date_to, period.start, period.end, lead)
    if until > period.end:
        try:
            state = engine.replay(later, until=until, state=state)
        except engine.NeedsFullReplay:  # a link re-decides earlier leads (R-ID-1)
            state = _full(reader, period, adoption, until)
    commission = statements_of_months(state.money, state.policies, state.tz, period.months)
    return dataclasses.replace(side, commission=commission)


def _alternative(reader: _Reader, period: Period, adoption: Recorded,
                 until: dt.datetime) -> tuple[engine.TeamState, list[Recorded]]:
    """The alternative state at the end of the period (from the shared prefix) and the
    alternative events after it up to `until`."""
    prefix_end = period.start - ONE_US
    events = whatif.alternative_history(reader.events(prefix_end, until), period.start, adoption)
    now = [rec for rec in events if rec.event.at <= period.end]
    later = [rec for rec in events if rec.event.at > period.end]
    try:
        return engine.replay(now, until=period.end, state=reader.load(prefix_end)), later
    except engine.NeedsFullReplay:  # a link after --from re-decides earlier leads (R-ID-1)
        return _full(reader, period, adoption, period.end), later


def _full(reader: _Reader, period: Period, adoption: Recorded | None, until: dt.datetime) -> engine.TeamState:
    """A replay from the first event to `until`, as adopted or under the alternative."""
    if adoption is None:
        return reader.load(until)
    records = whatif.alternative_history(reader.events(None, until), period.start, adoption)
    return engine.replay(records, until=until)


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
    return period, whatif.observe(state, date_from, date_to, period.start, period.end, None)
