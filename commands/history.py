"""The team's derived state at a moment, from the store: nearest checkpoint + the events after it.

This is the imperative shell around the pure fold (`projections.engine`). A checkpoint is the
pickled `TeamState` after folding every event with `at <= state.clock`; it is stored under the key
`(clock, CHECKPOINT_SEQ)`, so that any event appended later with `at <= clock` (a late,
back-dated event, R-T-5) sorts before it and the store drops it. A query or an append therefore
folds only the events recorded after the nearest checkpoint, whatever the length of the history.
"""
from __future__ import annotations

import datetime as dt
import gc
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ledger.errors import UnknownTeam
from ledger.events import Recorded
from ledger.store import Store
from projections import engine

# Sorts after every real recording order: a checkpoint at `clock` holds all events with at <= clock.
CHECKPOINT_SEQ = 2**62
# In a long fold, a checkpoint every this many events.
CHECKPOINT_EVERY = 4000
# The one threshold of the shell: a state that folded this many events since its checkpoint is
# left behind as a checkpoint (by a query here, by a recording command after its append).
# Folding a few hundred events takes milliseconds; writing a checkpoint costs more.
SAVE_AFTER = 256


def default_moment(store: Store, team: str, now: dt.datetime, as_recorded: dt.datetime | None = None) -> dt.datetime:
    """The moment a query answers at without `--at` (INTERCHANGE.md): the later of now and the
    team's latest recorded `at`; with `--as-recorded T`, the later of T and the latest `at`
    recorded by T (the ledger's "now" then)."""
    if as_recorded is not None:
        return max([as_recorded, *filter(None, [store.latest_at(team, as_recorded)])])
    return max(now, latest_at(store, team))


def zone_now(store: Store, team: str, moment: dt.datetime) -> ZoneInfo:
    """The team's zone in force at `moment` (R-T-1, §10), for times typed without an offset; the
    default zone for a team being started."""
    if store.head(team) == 0:
        return ZoneInfo("Asia/Shanghai")
    return zone_at(team_zones(store, team), moment)


def latest_at(store: Store, team: str) -> dt.datetime:
    """The latest `at` recorded for the team (the default moment of a query)."""
    latest = store.latest_at(team)
    if latest is None:
        raise UnknownTeam(f"unknown team {team!r}: no events recorded for it")
    return latest


def team_zones(store: Store, team: str, as_recorded: dt.datetime | None = None) -> list[tuple[dt.datetime, ZoneInfo]]:
    """The team's time zones over time, [(since, zone)] in replay order (R-T-1; §10: a later
    PolicyAdopted's `timezone` applies from its own time on), for turning the dates and months
    people ask about into moments (`day_start`, `month_start`); with `as_recorded`, from the
    adoptions (and voids) recorded by then (R-CO-4)."""
    adopted = store.adoptions(team, as_recorded)
    if not adopted:
        if store.head(team) == 0:
            raise UnknownTeam(f"unknown team {team!r}: no events recorded for it")
        return []
    return [(rec.event.at, ZoneInfo(build_policy_zone(rec.event))) for rec in adopted]


def build_policy_zone(event) -> str:
    from ledger.events import PolicyAdopted
    from ledger.policy import policy_of

    return policy_of(event).timezone if isinstance(event, PolicyAdopted) else "Asia/Shanghai"


def zone_at(zones: list, moment: dt.datetime) -> ZoneInfo:
    """The team's zone in force at `moment` (§10), from `team_zones`."""
    zone = zones[0][1] if zones else ZoneInfo("Asia/Shanghai")
    for since, found in zones:
        if since <= moment:
            zone = found
    return zone


def day_start(zones: list, date: dt.date) -> dt.datetime:
    """When the team's local date `date` begins, in the zone in force then (§10;
    `projections.calendar.date_start`): the end of the day before is one microsecond earlier."""
    from projections.calendar import date_start

    return date_start(zones, date, ZoneInfo("Asia/Shanghai"))


def month_start(zones: list, year: int, month: int) -> dt.datetime:
    """When the team's local month begins, in the zone in force then (§10)."""
    return day_start(zones, dt.date(year, month, 1))


@dataclass
class Loaded:
    state: engine.TeamState
    head: int  # the stream head read before the state
    folded: int  # events folded since the last checkpoint


def state_at(store: Store, team: str, at: dt.datetime, as_recorded: dt.datetime | None = None) -> engine.TeamState:
    """The team's state with every event with `at <= at` folded and every timer `<= at` fired;
    with `as_recorded`, only the events (voids included) recorded by then (R-CO-4)."""
    return load(store, team, at, as_recorded=as_recorded).state


def load(store: Store, team: str, at: dt.datetime, *, head: int | None = None,
         as_recorded: dt.datetime | None = None, keep: bool = True) -> Loaded:
    """`state_at`, with the stream head it was read at and how much it had to fold.

    With `as_recorded` (R-CO-4) the nearest checkpoint before the earliest `at` recorded after
    that moment is used (it holds nothing recorded later), and no checkpoint is left behind;
    nor with `keep=False` (a what-if stores nothing, R-WI-1).

    The cyclic garbage collector is paused while the checkpoint is loaded and folded, and the
    loaded objects are then frozen (`gc.freeze`): the state holds no reference cycles, and a full
    collection scanning a year of state would cost a command a fifth of a second for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        if head is None:  # a query; a recording command passes the head it read (0: a new team)
            head = store.head(team)
            if head == 0:
                raise UnknownTeam(f"unknown team {team!r}: no events recorded for it")
        before = at
        if as_recorded is not None:
            changed = store.earliest_at_recorded_after(team, as_recorded)
            if changed is not None and changed <= at:
                before = changed - dt.timedelta(microseconds=1)
        found = store.get_checkpoint(team, before=(before, CHECKPOINT_SEQ))
        state, after = None, None
        if found is not None:
            try:
                state = engine.load_checkpoint(found[1], fetch_items(store, team))
                after = found[0]
            except engine.StaleCheckpoint:  # another engine version wrote it: fold from the events
                pass
        records = store.read_by_time(team, after_key=after, until=at, as_recorded=as_recorded)
        keep = keep and as_recorded is None
        try:
            return _fold(store, team, state, records, at, head, keep=keep)
        except engine.NeedsFullReplay:  # a link re-decides earlier leads (R-ID-1): from scratch
            records = store.read_by_time(team, after_key=None, until=at, as_recorded=as_recorded)
            return _fold(store, team, None, records, at, head, keep=keep)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _fold(store: Store, team: str, state, records: list[Recorded], at: dt.datetime, head: int, *,
          keep: bool = True):
    folded = 0
    for start in range(0, len(records), CHECKPOINT_EVERY):
        chunk = records[start : start + CHECKPOINT_EVERY]
        last_at = chunk[-1].event.at
        state = engine.replay(chunk, until=last_at, state=state)
        folded += len(chunk)
        if len(chunk) == CHECKPOINT_EVERY and start + CHECKPOINT_EVERY < len(records):
            # Only at an instant with no later event of the same `at` still to fold.
            if keep and records[start + CHECKPOINT_EVERY].event.at > last_at:
                _save(store, team, state, head)
                folded = 0
    if state is None:  # nothing recorded by `at`: the empty history
        return Loaded(engine.replay([], until=at), head, 0)
    if keep and folded >= SAVE_AFTER:
        # At the last folded event, not at `at`: a checkpoint at a later moment (say "now") would
        # be dropped by the next event appended before that moment.
        _save(store, team, state, head)
        folded = 0
    return Loaded(engine.advance(state, at), head, folded)


def _save(store: Store, team: str, state: engine.TeamState, head: int) -> None:
    """Leave a checkpoint, unless an event recorded after `head` already made it stale."""
    save(store, team, state, (state.clock, CHECKPOINT_SEQ), head)


def save(store: Store, team: str, state: engine.TeamState, key: tuple, head: int) -> bool:
    """Keep `state` as the checkpoint at `key`, with the values it keeps apart."""
    blob, items = engine.dump_checkpoint(state)
    return store.put_checkpoint(team, key, blob, items=items, head=head)


def fetch_items(store: Store, team: str) -> engine.Fetch:
    """How a restored state reads the values its checkpoint kept apart (on first use)."""
    return lambda digests: store.checkpoint_items(team, digests)


def records_until(store: Store, team: str, at: dt.datetime) -> list[Recorded]:
    """Every event of the team with `at <= at`, in replay order (for from-scratch checks)."""
    return store.read_by_time(team, after_key=None, until=at)
