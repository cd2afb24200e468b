"""`ledger export --team T`: the team's events as JSON Lines, in recording order.

Each line is the event's interchange form: compact, UTF-8 (no ASCII escapes), keys in the
model's field order, optional keys left out. Clear phone numbers are re-joined where they have
not been erased (R-ID-2); erased ones stay as their key. Export -> import into an empty store
-> export gives identical bytes.

The last line is a comment (INTERCHANGE: `#` lines are ignored) sealing the lines above it:
`# ledger-export sha256=HEX events=N`, the SHA-256 of the N event lines (each as written, with
its newline). `import` checks every seal it meets against the event lines since the previous
one and refuses the whole file when one does not match (issue #18: an export edited after it
was written does not import); a file without a seal imports as before.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from ledger.errors import UnknownTeam
from ledger.store import Store


def export_lines(store: Store, team: str) -> Iterator[bytes]:
    """The export of `team`, one newline-terminated line per event."""
    if team not in store.teams():
        known = ", ".join(store.teams()) or "none"
        raise UnknownTeam(f"unknown team {team!r}; the store holds: {known}")
    seal = Seal()
    for line in store.export_lines(team):
        seal.add(line)
        yield line + b"\n"
    yield seal.line()


SEAL = "# ledger-export"
_SEAL = re.compile(r"# ledger-export sha256=(?P<digest>[0-9a-f]{64}) events=(?P<count>[0-9]+)")


class Seal:
    """The running seal of event lines (see the module)."""

    def __init__(self) -> None:
        self.digest, self.count = hashlib.sha256(), 0

    def add(self, line: bytes) -> None:
        self.digest.update(line + b"\n")
        self.count += 1

    def line(self) -> bytes:
        return f"{SEAL} sha256={self.digest.hexdigest()} events={self.count}\n".encode()

    def check(self, text: str) -> str | None:
        """None when `text` is not a seal, or seals the lines added since the last one (then
        the count starts again); else what is wrong, to report on the seal's line."""
        found = _SEAL.fullmatch(text)
        if found is None:
            if text.startswith(SEAL):
                return f"expected a seal '{SEAL} sha256=<64 hex digits> events=<N>', got {text[:80]!r}"
            return None
        count, digest = int(found["count"]), found["digest"]
        problem = None
        if count != self.count:
            problem = (f"the export's seal counts {count} event lines above it, the file has {self.count}: "
                       "lines were added or removed after `ledger export`; nothing imported")
        elif digest != self.digest.hexdigest():
            problem = ("the export's seal (sha256) does not match the event lines above it: the file was "
                       "changed after `ledger export`; nothing imported")
        self.digest, self.count = hashlib.sha256(), 0
        return problem
