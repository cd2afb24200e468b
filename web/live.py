"""Each team's state held in memory by the desk's process (issue #13, item 5), advanced from the
store by position as events arrive, so that a page does not replay history.

One `Team` per team: the state folded from the store up to stream position `position` (every
event with seq <= position), its clock at the latest event folded or a timer fired since. On each
read the store's head for the team is compared with the position (one cheap query); only the
records after it are read (`store.read(after_seq=...)`, whoever appended them: this process, a
CLI, another server) and folded with `engine.apply`, in replay order. A new record the state
cannot simply fold on top re-folds from the nearest checkpoint (`commands.history.load`, as the
CLI does): a back-dated one (its `at` before the state's clock or last key, R-T-5), a void
(R-CO-2: replay never sees a void or what it voided), a link or unlink (R-ID-1 re-decides earlier
leads). The loaded state is at the team's latest `at`.

A read at `at` uses the held state when `at` is at or after its clock and not beyond the default
moment (the later of now and the latest folded `at`): the timers due by `at` are fired on the
held state itself (what a later event would fire first anyway), then the state is read with its
clock set to `at` and put back after the block: with no timer due in between, `engine.advance`
would change nothing else. An `at` before the clock (time travel into the past) or in the future
folds from the nearest checkpoint, as the CLI does, and leaves the held state alone.

An answer computed at a position and a moment is remembered (`remember`) until the position
moves: many screens polling the live board in the same second are answered once. So is a
rendered page (`page`), per visitor (name, role) and language, the CSRF token left out and put
in per request (`web.app.render_kept`).

Thread safety: one lock per team, held for the whole read (the state is mutated by catching up
and by the temporary clock); the desk's process lock (`web.app.Desk.lock`) still serialises the
store's one connection, which a state restored from a checkpoint reads lazily.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from commands import history
from ledger.errors import UnknownTeam
from ledger.events import CustomersLinked, CustomersUnlinked, EntryVoided, Recorded
from ledger.store import Store
from projections import engine

# What a held state never folds on top: a void, a link, an unlink (see the module's docstring).
REFOLDS = (EntryVoided, CustomersLinked, CustomersUnlinked)
# Answers remembered per team at one position (the live board's pollers ask the same second).
MEMO = 64
# Rendered pages remembered per team at one position, least recently used dropped first.
PAGES = 256


@dataclass
class Team:
    lock: threading.Lock = field(default_factory=threading.Lock)
    state: engine.TeamState | None = None
    position: int = 0  # the stream head folded into `state`
    loads: int = 0  # times loaded from a checkpoint (for tests and the bench)
    folded: int = 0  # records folded on top of the held state
    answers: dict = field(default_factory=dict)  # (what, moment, ...) -> answer, at `position`
    pages: OrderedDict = field(default_factory=OrderedDict)  # (page, moment, visitor, ...) -> bytes, at `position`


class LiveStates:
    """The held states of one process, by team."""

    def __init__(self, store: Store):
        self.store = store
        self._teams: dict[str, Team] = {}
        self._guard = threading.Lock()

    def team(self, team: str) -> Team:
        with self._guard:
            return self._teams.setdefault(team, Team())

    @contextlib.contextmanager
    def reading(self, team: str, at: dt.datetime, now: dt.datetime) -> Iterator[engine.TeamState]:
        """The team's state with every event with `at <= at` folded and every timer `<= at`
        fired, to be read inside the block only (never kept, never mutated)."""
        held = self.team(team)
        with held.lock:
            state = self._caught_up(team, held)
            if state.clock is None or at < state.clock or at > max(now, state.last_key[0] if state.last_key else now):
                yield history.state_at(self.store, team, at)
                return
            while state.timers and state.timers[0][0] <= at:
                engine.advance(state, state.timers[0][0])
            kept = state.clock
            state.clock = at
            try:
                yield state
            finally:
                state.clock = kept

    def remember(self, team: str, key: tuple, compute: Callable[[], Any]) -> Any:
        """`compute()`, kept while the team's position stays the same: an answer is a function
        of the events folded and the moment, so `key` holds the moment and what is asked. Call
        it inside `reading` (the team's lock); never mutate what it returns."""
        kept = self.team(team).answers
        if key not in kept:
            if len(kept) >= MEMO:
                kept.clear()
            kept[key] = compute()
        return kept[key]

    def page(self, team: str, key: tuple, render: Callable[[], Any]) -> Any:
        """`render()` (a page's bytes), kept while the team's position stays the same, like
        `remember`; `key` must hold all the page depends on besides the events: the moment, the
        language, what is asked and who asks (their name and role). Call it inside `reading`."""
        kept = self.team(team).pages
        found = kept.get(key)
        if found is None:
            found = kept[key] = render()
            if len(kept) > PAGES:
                kept.popitem(last=False)
        else:
            kept.move_to_end(key)
        return found

    def _caught_up(self, team: str, held: Team) -> engine.TeamState:
        head = self.store.head(team)
        if head == 0:
            raise UnknownTeam(f"unknown team {team!r}: no events recorded for it")
        if held.state is not None and head == held.position:
            return held.state
        held.answers.clear()
        held.pages.clear()
        if held.state is not None and head > held.position:
            records = self.store.read(team, after_seq=held.position)
            if records and self._fold_on_top(held, records):
                return held.state
        self._load(team, held, head)
        return held.state

    def _fold_on_top(self, held: Team, records: list[Recorded]) -> bool:
        """Fold the new `records` on the held state; False (the state to be reloaded) when one of
        them is back-dated, a void, a link or an unlink."""
        state = held.state
        position = max(held.position, max(rec.seq for rec in records))
        records = sorted((rec for rec in records if rec.seq not in state.seen), key=lambda rec: rec.key)
        if not records:  # folded already by the load that read past its head
            held.position = position
            return True
        first = records[0]
        if (state.last_key is not None and first.key < state.last_key) or (
                state.clock is not None and first.event.at < state.clock):
            return False
        if any(isinstance(rec.event, REFOLDS) for rec in records):
            return False
        try:
            for rec in records:
                state = engine.apply(state, rec)
        except engine.NeedsFullReplay:
            return False
        held.state, held.position = state, position
        held.folded += len(records)
        return True

    def _load(self, team: str, held: Team, head: int) -> None:
        """From the nearest checkpoint at the team's latest `at`, as the CLI folds."""
        loaded = history.load(self.store, team, history.latest_at(self.store, team), head=head)
        held.state, held.position = loaded.state, head
        held.loads += 1
