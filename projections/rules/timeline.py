"""The customer's timeline (R-OW-6), which every rule writes to: `add_entry` appends one
`Entry` (and tells an observer, `TeamState.touched`); `fmt` is the local time shown in summaries."""
from __future__ import annotations

import datetime as dt

from ..state import Customer, Entry, TeamState


def add_entry(state: TeamState, cust: Customer, at: dt.datetime, seq: int | None, kind: str, summary: str,
              rule: str | None, lead: str | None = None, rests=(), candidates=()) -> None:
    if state.touched is not None:
        state.touched.add(cust.id)
    state.changed.add(cust.id)  # projections.indexes
    # tuple.__new__: Entry's own __new__ is a Python function around it (the fold's hot path)
    cust.timeline.append(_new(Entry, (at, seq, kind, summary, cust.owner, rule, lead, tuple(rests), tuple(candidates))))


_new = tuple.__new__


def fmt(state: TeamState, at: dt.datetime) -> str:
    return state.cal.local(at).isoformat(timespec="seconds")
