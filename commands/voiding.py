"""Voids (R-CO-2, R-CO-3): which stored event an `EntryVoided` names, and whether it may go.

The check is the import's own (`projections.catalog.void_refusal`): the team's history without
the voided event must still import. It reads the team's whole history, in recording order: a
void is rare, and only this answers "what would no longer be valid" exactly. `reader` is the
store or an import session (which sees what the import appended so far).
"""
from __future__ import annotations

from typing import Any

from ledger.events import EntryVoided, Event
from projections import catalog as C

SHOWN = 20  # dependent events named in a refusal


def resolve(reader: Any, team: str, ref: str) -> int | None:
    """The recording number `ref` (`#N` or an event id) names in the team, if any."""
    return reader.seq_of(team, ref)


def problems(reader: Any, team: str, void: EntryVoided) -> list[tuple[str, str]]:
    """[(key, message)] why `void` is refused (R-CO-3); empty when it may be appended."""
    seq = resolve(reader, team, void.event)
    if seq is None:
        return [("event", f"unknown event {void.event!r} in team {team!r}; expected #N (a recording "
                          "number, as `ledger explain` and `ledger event` show it) or an event id")]
    why, dependents = C.void_refusal(reader.read(team), reader.voided(team), seq)
    if why is None:
        return []
    if dependents:
        listed = "; ".join(f"#{rec.seq} {rec.event.type} {summary(rec.event)}" for rec in dependents[:SHOWN])
        more = f" (and {len(dependents) - SHOWN} more)" if len(dependents) > SHOWN else ""
        why = f"{why}: {listed}{more}"
    return [("event", f"R-CO-3: cannot void #{seq}: {why}")]


_KEYS = ("lead", "consultant", "contract", "penalty", "a", "b", "owner", "other", "channel", "amount")


def summary(event: Event) -> str:
    """The keys that name what an event is about (phones never), e.g. `lead=L1 consultant=c2`."""
    data = event.to_json_dict()
    return " ".join(f"{key}={data[key]}" for key in _KEYS if key in data) or data["at"]
