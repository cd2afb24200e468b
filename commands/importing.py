"""`ledger import FILE`: validate a JSON Lines event file, then append it all or nothing.

Every bad line is reported (line number, key, what was expected) and nothing is stored. Events
carrying an `id` already stored with identical content are skipped (idempotent re-import); the
same id with different content is an error. A racing writer makes the append fail as a whole;
the file is then validated again against the new state and retried.
"""
from __future__ import annotations

import json
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ledger.errors import ConcurrencyConflict, LineError
from ledger.events import Event, EventProblems, parse_event
from ledger.store import Store
from projections.catalog import Catalog

MAX_ATTEMPTS = 5


@dataclass
class ImportSummary:
    source: str
    appended: dict[str, int] = field(default_factory=dict)  # team -> events appended
    skipped: int = 0  # events whose id was already stored with identical content
    heads: dict[str, int] = field(default_factory=dict)  # team -> head seq after the import

    @property
    def total(self) -> int:
        return sum(self.appended.values())

    def to_json_dict(self) -> dict:
        return {"source": self.source, "appended": self.appended, "skipped": self.skipped,
                "heads": self.heads}


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not a number; expected finite JSON numbers")


def parse_lines(lines: Iterable[str]) -> tuple[list[tuple[int, Event]], list[tuple[int, str, str]]]:
    """The valid events with their line numbers, and the problems of the other lines."""
    events: list[tuple[int, Event]] = []
    problems: list[tuple[int, str, str]] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            data = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
        except ValueError as error:
            problems.append((number, "(line)", f"expected one JSON object per line: {error}"))
            continue
        try:
            events.append((number, parse_event(data)))
        except EventProblems as error:
            problems.extend((number, key or "(line)", message) for key, message in error.problems)
    return events, problems


def split_lines(text: str) -> list[str]:
    """Lines of a JSON Lines text: only \\n ends a line (JSON strings may hold U+2028 etc.)."""
    return text.split("\n")


def import_file(store: Store, source: str | Iterable[str], source_name: str = "input") -> ImportSummary:
    """Import one event file: all or nothing, across teams. Raises `LineError` (exit 2)."""
    lines = split_lines(source) if isinstance(source, str) else source
    events, problems = parse_lines(lines)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        summary, batches, check_problems = _plan(store, events, source_name)
        all_problems = sorted(problems + check_problems, key=lambda p: p[0])
        if all_problems:
            raise LineError(all_problems, source_name)
        if not batches:
            return summary
        try:
            recorded = store.append(batches)
        except ConcurrencyConflict:
            if attempt == MAX_ATTEMPTS:
                raise ConcurrencyConflict(
                    f"{source_name}: other writers kept appending to the same teams; "
                    f"gave up after {MAX_ATTEMPTS} attempts, nothing stored") from None
            continue
        summary.appended = {team: len(items) for team, items in recorded.items()}
        summary.heads = {team: items[-1].seq for team, items in recorded.items() if items}
        return summary
    raise AssertionError("unreachable")


# Keep the catalog once this many events were read past the kept one.
CATALOG_EVERY = 2000


def _load_catalog(store: Store, catalog: Catalog, team: str) -> int:
    """Load the team's catalog: the kept one plus the events recorded after it. Returns the head."""
    kept = store.get_catalog(team)
    after = 0
    if kept is not None:
        after, blob = kept
        catalog.teams[team] = pickle.loads(blob)
    history = store.read(team, after_seq=after)
    catalog.load(recorded.event for recorded in history)
    head = history[-1].seq if history else after
    if len(history) >= CATALOG_EVERY:
        store.put_catalog(team, head, pickle.dumps(catalog.team(team), protocol=pickle.HIGHEST_PROTOCOL))
    return head


def _plan(store: Store, events: list[tuple[int, Event]], source_name: str):
    """Validate the file's events against the stored state: (summary, batches, problems)."""
    summary = ImportSummary(source_name)
    problems: list[tuple[int, str, str]] = []
    teams = list(dict.fromkeys(event.team for _, event in events))
    catalog = Catalog()
    heads: dict[str, int] = {}
    stored_ids: dict[str, dict[str, tuple[int, str]]] = {}
    for team in teams:
        heads[team] = _load_catalog(store, catalog, team)
        ids = [event.id for _, event in events if event.team == team and event.id is not None]
        stored_ids[team] = store.find_ids(team, ids) if ids else {}
    summary.heads = dict(heads)
    seen: dict[tuple[str, str], tuple[int, str]] = {}  # (team, id) -> (line, canonical)
    batches: dict[str, tuple[int, list[Event]]] = {}
    for number, event in events:
        if event.id is not None:
            canonical = store.stored_form(event)[1].decode()
            stored = stored_ids[event.team].get(event.id)
            if stored is not None:
                if stored[1] == canonical:
                    summary.skipped += 1
                    continue
                problems.append((number, "id", f"id {event.id!r} is already stored (event {stored[0]} "
                                               "of the team) with different content; expected the "
                                               "identical event or a new id"))
                continue
            earlier = seen.get((event.team, event.id))
            if earlier is not None:
                if earlier[1] == canonical:
                    summary.skipped += 1
                    continue
                problems.append((number, "id", f"id {event.id!r} is already used on line {earlier[0]} "
                                               "with different content; expected a new id"))
                continue
            seen[(event.team, event.id)] = (number, canonical)
        found = catalog.check(event)
        if found:
            problems.extend((number, key, message) for key, message in found)
            continue
        batches.setdefault(event.team, (heads[event.team], []))[1].append(event)
    return summary, batches, problems
