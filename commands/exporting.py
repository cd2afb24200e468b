"""`ledger export --team T`: the team's events as JSON Lines, in recording order.

Each line is the event's interchange form: compact, UTF-8 (no ASCII escapes), keys in the
model's field order, optional keys left out. Clear phone numbers are re-joined where they have
not been erased (R-ID-2); erased ones stay as their key. Export -> import into an empty store
-> export gives identical bytes.
"""
from __future__ import annotations

from collections.abc import Iterator

from ledger.errors import UnknownTeam
from ledger.store import Store


def export_lines(store: Store, team: str) -> Iterator[bytes]:
    """The export of `team`, one newline-terminated line per event."""
    if team not in store.teams():
        known = ", ".join(store.teams()) or "none"
        raise UnknownTeam(f"unknown team {team!r}; the store holds: {known}")
    for line in store.export_lines(team):
        yield line + b"\n"
