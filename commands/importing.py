"""`ledger import FILE`: validate a JSON Lines event file, then append it all or nothing.

Every bad line is reported (line number, key, what was expected) and nothing is stored. Events
carrying an `id` already stored with identical content are skipped (idempotent re-import); the
same id with different content is an error. A racing writer makes the append fail as a whole;
the file is then validated again against the new state and retried.
"""
from __future__ import annotations

import codecs
import datetime as dt
import gc
import json
import pickle
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from orjson import loads as _orjson_loads

from ledger.codec import accept_event
from ledger.errors import ConcurrencyConflict, InputError, LineError
from ledger.events import FUTURE, MAX_DEPTH, EntryVoided, Event, EventProblems, parse_event
from ledger.phone import mask_numbers
from ledger.store import Store
from projections import catalog as C
from projections.catalog import Catalog

from . import voiding
from .exporting import Seal

MAX_ATTEMPTS = 5
# `LEDGER_IMPORT_PAUSE_AT=imported` stops an import after its commit, before its read models are
# built (printing `paused at imported`), so a test can kill it there.
IMPORT_PAUSE_ENV = "LEDGER_IMPORT_PAUSE_AT"


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


_PLAIN = (str, int, bool, type(None))


def _parse_line(text: str) -> Event:
    """One stripped, non-comment line as an event. Raises ValueError (not JSON) or EventProblems.

    Fast path: orjson, and `ledger.codec.accept_event` for plainly valid events. Whatever
    orjson would read differently from `json.loads(parse_float=Decimal)` (floats, big numbers,
    nested values, NaN, lone surrogates, errors) takes the json path, so messages are the same."""
    try:
        data = _orjson_loads(text)
    except ValueError:
        data = None
    if type(data) is dict and all(type(value) in _PLAIN for value in data.values()):
        event = accept_event(data)
        return event if event is not None else parse_event(data)
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    except RecursionError:
        raise EventProblems([("", "expected one JSON object per line, nested at most "
                                  f"{MAX_DEPTH} levels deep")]) from None
    return parse_event(data)


def _parsed(lines: Iterable[str]) -> Iterator[tuple[int, Event | None, list[tuple[int, str, str]]]]:
    seal = Seal()  # an export's seal line checks the event lines above it (commands.exporting)
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            problem = seal.check(text)
            if problem is not None:
                yield number, None, [(number, "(seal)", problem)]
            continue
        seal.add(text.encode("utf-8"))
        try:
            yield number, _parse_line(text), []
        except EventProblems as error:
            yield number, None, [(number, key or "(line)", message) for key, message in error.problems]
        except ValueError:
            try:  # the message of the json module, as before the fast path
                json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
            except ValueError as json_error:
                error = json_error
            except RecursionError:
                pass
            yield number, None, [(number, "(line)", f"expected one JSON object per line: {mask_numbers(str(error)[:200])}")]


def iter_lines(text: str) -> Iterator[str]:
    """Lines of a JSON Lines text, one at a time: only \\n ends a line (JSON strings may hold U+2028 etc.)."""
    start = 0
    find = text.find
    while True:
        end = find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


# Lines validated and appended at a time: memory stays bounded whatever the file's size.
CHUNK = 4000


class FileLines:
    """The lines of a UTF-8 JSON Lines file (a leading BOM dropped), read one at a time each time
    it is iterated (an import retried after a racing writer reads the file again). Text that
    is not UTF-8 raises `InputError` naming the line and the byte offset in the file."""

    def __init__(self, path: str, name: str | None = None):
        self.path, self.name = path, name or path

    def __iter__(self) -> Iterator[str]:
        try:
            handle = open(self.path, "rb")
        except OSError as error:
            raise InputError(f"cannot read {self.name}: {error.strerror}") from None
        with handle:
            offset = 0
            for number, raw in enumerate(handle, start=1):
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw, offset = raw[len(codecs.BOM_UTF8):], len(codecs.BOM_UTF8)
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise InputError(f"{self.name}:{number}: expected UTF-8 text "
                                     f"({error.reason} at byte {offset + error.start})") from None
                offset += len(raw)
                yield line[:-1] if line.endswith("\n") else line


def import_file(store: Store, source: str | Iterable[str], source_name: str = "input", *,
                now: dt.datetime | None = None, allow_future: bool = False) -> ImportSummary:
    """Import one event file: all or nothing, across teams. Raises `LineError` (exit 2).

    `now` is the importing clock (R-CO-1, R-CO-5: a given `recorded` may not be later, an `at`
    not more than 5 minutes after its `recorded`; `allow_future` lifts the latter only); None:
    the machine's clock.

    The file is read, validated and appended a chunk at a time inside ONE transaction that holds
    the appenders' lock from the start (`Store.import_session`): any bad line rolls it all back."""
    if iter(source) is source:
        source = list(source)  # an iterator: kept, to read again if a racing writer makes us retry
    for attempt in range(1, MAX_ATTEMPTS + 1):
        lines = iter_lines(source) if isinstance(source, str) else source
        try:
            clock = now or dt.datetime.now(dt.timezone.utc)
            summary, appended = _import(store, lines, source_name, Clock(clock, allow_future))
        except ConcurrencyConflict:
            if attempt == MAX_ATTEMPTS:
                raise ConcurrencyConflict(
                    f"{source_name}: other writers kept appending to the same teams; "
                    f"gave up after {MAX_ATTEMPTS} attempts, nothing stored") from None
            continue
        if appended:
            from .rebuild import pause

            pause("imported", IMPORT_PAUSE_ENV)  # crash tests: committed, models not yet built
        from .read_models import maintain_quietly  # the read models (issue 6)

        # every team of the file, not only those appended to: a re-import after a kill between
        # an earlier import's commit and its models repairs them
        maintain_quietly(store, appended or summary.heads)
        return summary
    raise AssertionError("unreachable")


@dataclass
class _Team:
    start: int  # head before the import
    head: int  # head including this import's chunks so far
    lines: array = field(default_factory=lambda: array("q"))  # line of each appended event
    recorded: dt.datetime | None = None  # the latest `recorded`, stored or given so far (R-CO-1)


@dataclass(frozen=True)
class Clock:
    now: dt.datetime
    allow_future: bool = False

    def problems(self, event: Event, latest: dt.datetime | None) -> list[tuple[str, str]]:
        """R-CO-1 and R-CO-5 for one event; `latest` is the team's latest `recorded` so far."""
        shown = event.recorded.isoformat() if event.recorded is not None else None
        if event.recorded is not None and latest is not None and event.recorded < latest:
            return [("recorded", f"R-CO-1: expected a recording time at or after the team's latest "
                                 f"({latest.isoformat(timespec='seconds')}), got {shown}")]
        if event.recorded is not None and event.recorded > self.now:
            return [("recorded", f"R-CO-1: expected a recording time not after the importing clock "
                                 f"({self.now.isoformat(timespec='seconds')}), got {shown}")]
        recorded = event.recorded or self.now
        if not self.allow_future and event.at > recorded + FUTURE:
            return [("at", f"R-CO-5: expected a time at most 5 minutes after it was recorded "
                           f"({recorded.isoformat(timespec='seconds')}), got {event.at.isoformat()}; "
                           "`ledger import --allow-future` accepts it (simulations, tests)")]
        return []


def _import(store: Store, lines: Iterable[str], source_name: str, clock: Clock) -> tuple[ImportSummary, list[str]]:
    summary = ImportSummary(source_name)
    problems: list[tuple[int, str, str]] = []
    catalog = Catalog()
    teams: dict[str, _Team] = {}
    appended: dict[str, int] = {}  # team -> events appended, in order of the first one
    # (team, id) -> (line, canonical) of ids not appended: this chunk's, and rejected lines'
    seen: dict[tuple[str, str], tuple[int, bytes]] = {}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of acyclic objects: the cyclic GC would rescan them again and again
    try:
        with store.import_session() as session:
            parsed = _parsed(lines)
            while True:
                chunk = list(islice(parsed, CHUNK))
                if not chunk:
                    break
                events = []
                for number, event, found in chunk:
                    if event is None:
                        problems.extend(found)
                        continue
                    events.append((number, event))
                    if event.team not in teams:
                        head = _load_catalog(session, catalog, event.team)
                        teams[event.team] = _Team(head, head, recorded=session.latest_recorded(event.team))
                if events:
                    _check_chunk(session, store, catalog, teams, events, seen, problems, appended, summary, clock)
            if problems:
                raise LineError(sorted(problems, key=lambda p: p[0]), source_name)  # rolls back
            summary.heads = {team: t.start for team, t in teams.items()}
            if not appended:
                return summary, []
            for team in appended:
                t = teams[team]
                if t.head - t.start >= CATALOG_EVERY:
                    session.put_catalog(team, t.head, pickle.dumps(
                        catalog.team(team), protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        if gc_was_enabled:
            gc.enable()
    summary.appended = dict(appended)
    summary.heads = {team: teams[team].head for team in appended}
    return summary, list(appended)


def _check_chunk(session, store: Store, catalog: Catalog, teams: dict[str, _Team],
                 events: list[tuple[int, Event]], seen: dict, problems: list, appended: dict,
                 summary: ImportSummary, clock: Clock) -> None:
    """Check one chunk's events in file order against the state so far, then append the good ones.

    A void (R-CO-2) is checked against everything before it, the chunk's earlier lines included:
    those are appended first, then the void, and the team's catalog is read anew without the
    voided event (a void is rare; R-CO-3 needs the whole history)."""
    known = _stored_ids(session, teams, events)
    batches: dict[str, tuple[int, list[Event]]] = {}
    local: list[tuple[str, str]] = []

    def flush() -> None:
        heads = session.append(batches)
        for team, (_, items) in batches.items():
            teams[team].head = heads[team]
            appended[team] = appended.get(team, 0) + len(items)
        batches.clear()
        for key in local:  # appended: found by find_ids from now on
            del seen[key]
        local.clear()

    for number, event in events:
        team = event.team
        if event.id is not None:
            canonical = store.stored_form(event)[1]
            if _repeated(number, event, canonical, known, seen, teams[team], summary, problems):
                continue
            seen[(team, event.id)] = (number, canonical)
        found = clock.problems(event, teams[team].recorded) or catalog.check(event)
        if isinstance(event, EntryVoided) and not found:
            flush()
            found = voiding.problems(session, team, event)
        if found:
            problems.extend((number, key, message) for key, message in found)
            continue
        teams[team].recorded = event.recorded or max(clock.now, teams[team].recorded or clock.now)
        if event.id is not None:
            local.append((team, event.id))
        batch = batches.get(team)
        if batch is None:
            batch = batches[team] = (teams[team].head, [])
        batch[1].append(event)
        teams[team].lines.append(number)
        if isinstance(event, EntryVoided):
            flush()
            catalog.teams.pop(team, None)
            _load_catalog(session, catalog, team)

    flush()


def _stored_ids(session, teams: dict[str, _Team], events: list[tuple[int, Event]]) -> dict[str, dict]:
    """team -> {id: (seq, canonical)} of the chunk's event ids already stored for the team."""
    wanted: dict[str, list[str]] = {}
    for _, event in events:
        if event.id is not None:
            wanted.setdefault(event.team, []).append(event.id)
    return {team: session.find_ids(team, ids) for team, ids in wanted.items()
            if teams[team].head > 0}  # a team with no events yet has no ids


def _repeated(number: int, event: Event, canonical: bytes, known: dict[str, dict], seen: dict, t: _Team,
              summary: ImportSummary, problems: list) -> bool:
    """True when the event's id was stored before the import or used on an earlier line, and the
    event is not to be appended: the identical event is skipped (counted in `summary.skipped`),
    one with different content is a problem."""
    stored = known.get(event.team, {}).get(event.id)
    if stored is not None and stored[0] <= t.start:
        if stored[1] == canonical:
            summary.skipped += 1
            return True
        problems.append((number, "id", f"id {event.id!r} is already stored (event {stored[0]} "
                                       "of the team) with different content; expected the "
                                       "identical event or a new id"))
        return True
    earlier = seen.get((event.team, event.id))
    if earlier is None and stored is not None:  # appended from an earlier chunk
        earlier = (t.lines[stored[0] - t.start - 1], stored[1])
    if earlier is not None:
        if earlier[1] == canonical:
            summary.skipped += 1
            return True
        problems.append((number, "id", f"id {event.id!r} is already used on line {earlier[0]} "
                                       "with different content; expected a new id"))
        return True
    return False


# Keep the catalog once this many events were read past the kept one.
CATALOG_EVERY = 2000


def _load_catalog(session, catalog: Catalog, team: str) -> int:
    """Load the team's catalog: the kept one plus the events recorded after it. Returns the head."""
    kept = session.get_catalog(team)
    after = 0
    if kept is not None:
        kept_catalog = pickle.loads(kept[1])
        if hasattr(kept_catalog, "roster"):  # one kept before the roster timeline: read it all
            after = kept[0]
            catalog.teams[team] = kept_catalog
    history = session.read(team, after_seq=after)
    C.load_unvoided(catalog, history, session.voided(team))
    head = history[-1].seq if history else after
    if len(history) >= CATALOG_EVERY:
        session.put_catalog(team, head, pickle.dumps(catalog.team(team), protocol=pickle.HIGHEST_PROTOCOL))
    return head
