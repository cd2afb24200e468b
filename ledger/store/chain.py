"""The hash chain of each team's record (issue #18 item 1): evidence that no stored event was
changed, removed or slipped in after it was recorded.

Each stored event #N of a team has one row in `ledger_chain (team, seq, body, hash)`, written
in the transaction that appends the event, after the appenders' lock is taken (SQLite: the
write lock; PostgreSQL: the appenders' advisory lock), so the previous link read there is
the team's head and two writers cannot fork the chain:

    canonical_N = b"<N>\\n<recorded in UTC microseconds>\\n" + the event's stored JSON with sorted keys
    body_N      = sha256(the event's stored JSON with sorted keys)
    hash_N      = sha256(hash_(N-1) || canonical_N),   hash_0 = `genesis(team)`

The stored JSON is the event as the store keeps it (phone numbers as keys, R-ID-2; no
`recorded`, which is `ledger_index.rec_us`), re-serialised with sorted keys and UTF-8, so the
chain depends on the event's content, not on the byte layout a writer happened to use.
`body` only tells `verify` *what* differs (the event's content, or its recording time / link);
the proof is `hash`. A rewrite of a whole chain from some #N on is consistent in itself: it
shows only against a head hash kept elsewhere (`ledger verify --json` prints them).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

_SHA = hashlib.sha256
# How many problems one team's report lists (the count is always complete).
MAX_PROBLEMS = 50


def genesis(team: str) -> bytes:
    """The link before a team's first event: fixed per team."""
    return _SHA(b"lead-ledger chain v1\x00" + team.encode("utf-8")).digest()


def canonical_json(state: bytes) -> bytes:
    """The canonical bytes of a stored event: its JSON with sorted keys, compact, UTF-8."""
    return orjson.dumps(orjson.loads(state), option=orjson.OPT_SORT_KEYS)


def link(previous: bytes, state: bytes, seq: int, rec_us: int) -> tuple[bytes, bytes]:
    """(body, hash) of event #`seq` recorded at `rec_us` after the link `previous`."""
    content = canonical_json(state)
    digest = _SHA(previous)
    digest.update(b"%d\n%d\n" % (seq, rec_us))
    digest.update(content)
    return _SHA(content).digest(), digest.digest()


def links(previous: dict[str, bytes], rows: Iterator[tuple[str, int, bytes, int]]) -> list[tuple]:
    """The chain rows (team, seq, body, hash) of appended events (team, seq, state, rec_us) in
    seq order per team, each team continuing from `previous[team]` (updated in place)."""
    out = []
    for team, seq, state, rec_us in rows:
        body, digest = link(previous[team], state, seq, rec_us)
        previous[team] = digest
        out.append((team, seq, body, digest))
    return out


@dataclass
class ChainReport:
    """One team's chain as `verify` found it."""

    team: str
    head: int = 0  # the last #N stored
    hash: str | None = None  # hex of the head's stored link (None: no event, or no link)
    events: int = 0
    problems: list[dict] = field(default_factory=list)
    count: int = 0  # problems found (only the first MAX_PROBLEMS are listed)

    @property
    def intact(self) -> bool:
        return self.count == 0

    def add(self, seq: int, problem: str, detail: str) -> None:
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"team": self.team, "seq": seq, "problem": problem, "detail": detail})

    def to_json_dict(self) -> dict:
        return {"team": self.team, "head": self.head, "hash": self.hash, "intact": self.intact,
                "problems": self.problems, "problem_count": self.count}


def check(team: str, pages: Iterator[list[tuple[int, Any, Any, Any, Any]]],
          last_link: int | None, stored_link: Callable[[int], bytes | None]) -> ChainReport:
    """Walk a team's stored events (seq, state, rec_us, body, hash) in seq order, `pages` of
    them, against their links; `last_link` is the highest seq with a link (None: none), and
    `stored_link(seq)` the link kept for a seq (read after a hole).

    Names each event whose link no longer matches (recomputing from the previous stored link,
    so each changed event is named, not everything after it), each missing #N (a hole, or
    links past the last event: its last events deleted) and each event without a link."""
    report = ChainReport(team)
    previous = genesis(team)
    expected = 1
    for page in pages:
        for seq, state, rec_us, body, stored in page:
            if seq > expected:
                for gap in range(expected, seq):
                    report.add(gap, "missing", f"no stored event #{gap} (deleted?)")
                kept = stored_link(seq - 1)  # the hole's own link, when only the event went
                previous = bytes(kept) if kept is not None else previous
            expected = seq + 1
            report.events += 1
            report.head, report.hash = seq, None
            stored = bytes(stored) if stored is not None else None
            if stored is None:
                report.add(seq, "unlinked", f"#{seq} has no chain link (written outside the ledger?)")
                continue
            if rec_us is None:
                report.add(seq, "changed", f"#{seq} has no recording time (its index row was deleted)")
            else:
                detail = _difference(previous, state, seq, rec_us, bytes(body), stored)
                if detail is not None:
                    report.add(seq, "changed", f"#{seq}: {detail}")
            previous = stored
            report.hash = stored.hex()
    if last_link is not None:
        for gap in range(expected, last_link + 1):
            report.add(gap, "missing", f"no stored event #{gap}, though the chain has its link (deleted?)")
    return report


def _difference(previous: bytes, state: Any, seq: int, rec_us: int, body: bytes, stored: bytes) -> str | None:
    """What differs between event #`seq` as stored and its link (None: nothing)."""
    content = state.encode("utf-8") if isinstance(state, str) else bytes(state)  # a blob rewritten as text
    try:
        actual_body, actual = link(previous, content, seq, rec_us)
    except orjson.JSONDecodeError:
        return "its content is no longer an event (not JSON)"
    if actual == stored:
        return None
    if actual_body != body:
        return "its content differs from what was recorded"
    return "its recording time or its chain link differs"
