"""The web desk's held states (issue #13, item 5; `web.live`): each team's state kept in memory
and advanced from the store by position answers exactly what a fold from the nearest checkpoint
answers (`commands.history.state_at`), whoever appended the new events, on SQLite and PostgreSQL:
events in order are folded on top, a back-dated arrival, a void or a link re-fold from a
checkpoint, a moment in the past or the future is folded apart and leaves the held state alone."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from commands import history
from commands import record as R
from commands.answers import dumps
from commands.importing import import_file
from ledger.store import open_store
from projections import queries
from projections.board import board
from web.live import LiveStates

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo-campus-month.jsonl"
TEAM, LEAD = "renda", "L1116-X2"
CST = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 5, 3, 30, tzinfo=CST)


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


@pytest.fixture
def stores(store_url):
    """Two connections on one store: the desk's (with its held states) and another process's."""
    with open_store(store_url) as desk, open_store(store_url) as other:
        import_file(desk, DEMO.read_text(encoding="utf-8"), "demo", now=NOW)
        yield LiveStates(desk), other


def _answers(state, at: dt.datetime, leads: list[str]) -> str:
    return dumps({"board": board(state, at), "disputes": queries.disputes(state),
                  "sanctions": queries.sanctions(state), "followups": queries.followups(state),
                  "owners": {lead: queries.owner(state, lead) for lead in leads},
                  "explain": queries.explain(state, LEAD)})


def _same(live: LiveStates, at: dt.datetime, leads: list[str] = ()) -> None:
    with live.reading(TEAM, at, NOW) as state:
        held = _answers(state, at, list(leads))
    assert held == _answers(history.state_at(live.store, TEAM, at), at, list(leads))


def test_events_another_process_appends_in_order_are_folded_on_the_held_state(stores):
    live, other = stores
    _same(live, NOW)
    held = live.team(TEAM)
    assert (held.loads, held.folded) == (1, 0)
    first = R.arrive(other, TEAM, "hotline", at=_at("2026-12-01T15:00"), now=NOW, phone="13800138000")
    second = R.arrive(other, TEAM, "online", at=_at("2026-12-01T15:05"), now=NOW)
    lead1, lead2 = first.to_json_dict()["lead"], second.to_json_dict()["lead"]
    _same(live, NOW, [lead1, lead2])
    assert (held.loads, held.folded, held.position) == (1, 2, other.head(TEAM))
    assert held.state.clock < NOW  # the held clock is put back after the read


def test_a_back_dated_arrival_refolds_from_a_checkpoint_and_moves_the_later_leads_owner(stores):
    live, other = stores
    first = R.arrive(other, TEAM, "online", at=_at("2026-12-01T15:00"), now=NOW).to_json_dict()
    _same(live, NOW, [first["lead"]])
    loads = live.team(TEAM).loads
    earlier = R.arrive(other, TEAM, "online", at=_at("2026-12-01T14:00"), now=NOW).to_json_dict()
    with live.reading(TEAM, NOW, NOW) as state:
        moved = queries.owner(state, first["lead"])["owner"]
    assert earlier["owner"] == first["owner"] and moved != first["owner"]  # its turn was taken first
    assert live.team(TEAM).loads == loads + 1
    _same(live, NOW, [first["lead"], earlier["lead"]])


def test_a_void_and_a_link_refold_from_a_checkpoint(stores):
    live, other = stores
    one = R.arrive(other, TEAM, "hotline", at=_at("2026-12-01T15:00"), now=NOW, phone="13800138001").to_json_dict()
    two = R.arrive(other, TEAM, "online", at=_at("2026-12-01T15:10"), now=NOW, phone="13800138002").to_json_dict()
    _same(live, NOW, [one["lead"], two["lead"]])
    loads = live.team(TEAM).loads
    R.void(other, TEAM, f"#{other.head(TEAM)}", "entered twice", at=_at("2026-12-01T16:00"), now=NOW)
    _same(live, NOW, [one["lead"]])
    assert live.team(TEAM).loads == loads + 1
    R.link(other, TEAM, one["lead"], LEAD, at=_at("2026-12-01T16:30"), now=NOW)
    _same(live, NOW, [one["lead"]])
    assert live.team(TEAM).loads == loads + 2


def test_a_moment_in_the_past_or_beyond_now_is_folded_apart_and_a_later_one_fires_the_timers(stores):
    live, _ = stores
    _same(live, _at("2026-11-30T23:00"))  # after the last event, before the night's timers
    held = live.team(TEAM)
    clock = held.state.clock
    _same(live, _at("2026-11-16T20:30"), [LEAD])  # before the demo's ruling: R-OW-3b, disputed
    _same(live, NOW + dt.timedelta(days=40))  # the future: folded apart
    assert held.state.clock == clock and held.loads == 1
    _same(live, _at("2026-12-03T12:00"))  # deadlines and the month's start fired on the held state
    assert held.state.clock > clock and held.loads == 1
    _same(live, NOW)


def test_an_answer_remembered_at_a_position_is_forgotten_when_the_position_moves(stores):
    live, other = stores
    with live.reading(TEAM, NOW, NOW):
        assert live.remember(TEAM, ("board", NOW), lambda: "first") == "first"
        assert live.remember(TEAM, ("board", NOW), lambda: "second") == "first"
    R.arrive(other, TEAM, "online", at=_at("2026-12-01T15:00"), now=NOW)
    with live.reading(TEAM, NOW, NOW):
        assert live.remember(TEAM, ("board", NOW), lambda: "after") == "after"
