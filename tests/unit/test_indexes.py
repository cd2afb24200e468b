"""projections.indexes: the follow-up duties, disputed customers and deferred leads the fold
keeps answer exactly what a scan of every customer answered (the scan is kept here as the
reference), whichever way the state came to be: one replay, folded in chunks with light
checkpoints on the way, or restored from one."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_engine_properties import SETTINGS, histories

from projections import indexes, queries
from projections.board import board
from projections.calendar import date_start, local_date, zones_of
from projections.engine import dump_checkpoint, load_checkpoint, replay


def scanned_followups(state) -> dict:
    """`queries.followups` before the index: every customer, every lead."""
    now = state.clock
    out = []
    zones, tz = zones_of(state.policies), state.tz
    cadence = state.policy.grade_cadence_days

    def end_of_day(date):
        return date_start(zones, date + dt.timedelta(days=1), tz)

    for cust in state.customers.values():
        if cust.owner is None:
            continue
        done, best, since = cust.last_owner_fu, None, cust.owner_since
        for lid in cust.leads:
            lead = state.leads[lid]
            if lead.deadline is None or lead.deferred or (done is not None and done >= lead.at):
                continue
            due = lead.deadline
            if since is not None and since >= due:
                due = end_of_day(local_date(zones, since, tz))
            if due <= now and (best is None or due < best[1]):
                best = (lid, due, "R-FU-1")
        if cust.grade is not None and cust.grade_at is not None:
            followed = cust.followed.get(cust.owner)
            base = cust.grade_at if followed is None or followed < cust.grade_at else followed
            due = end_of_day(local_date(zones, base, tz) + dt.timedelta(days=cadence.get(cust.grade, 30)))
            if due <= now and (best is None or due < best[1]):
                best = (cust.leads[-1], due, "R-FU-5")
        if best is not None:
            out.append({"lead": best[0], "owner": cust.owner, "due": queries._time(state, best[1]),
                        "rule": best[2], "grade": cust.grade})
    out.sort(key=lambda r: (r["due"], r["lead"]))
    return {"overdue": out}


def scanned(state) -> tuple:
    disputed = sorted(c.id for c in state.customers.values() if (c.claims or c.violations) and indexes.is_disputed(c))
    deferred = sorted(lead.id for lead in state.leads.values() if lead.deferred)
    return scanned_followups(state), disputed, deferred


def indexed(state) -> tuple:
    disputes = queries.disputes(state)["disputes"]
    disputed = sorted({state.leads[d["lead"]].customer for d in disputes})
    return queries.followups(state), disputed, sorted(lead.id for lead in indexes.deferred_leads(state))


@pytest.mark.slow
@SETTINGS
@given(histories(), st.data())
def test_the_indexes_answer_what_a_scan_of_every_customer_answers(records, data):
    ordered = sorted(records, key=lambda r: r.key)
    at = ordered[-1].event.at + dt.timedelta(days=data.draw(st.integers(0, 40)))
    size = data.draw(st.integers(1, 10))
    kept: dict = {}
    state = blob = None
    for start in range(0, len(ordered), size):
        chunk = ordered[start:start + size]
        state = replay(chunk, until=chunk[-1].event.at, state=state)
        if data.draw(st.booleans()):
            indexed(state)  # a query between chunks refreshes the indexes
        blob, items = dump_checkpoint(state)
        kept.update(items)
    restored = load_checkpoint(blob, lambda wanted: {d: kept[d] for d in wanted})
    whole = replay(records, until=at)
    expected = scanned(whole)
    assert indexed(whole) == expected
    assert indexed(replay([], until=at, state=state)) == expected
    assert indexed(replay([], until=at, state=restored)) == expected


def test_the_deferred_leads_are_those_waiting_for_0901_and_leave_the_index_when_allocated():
    from rules_kit import Story

    s = Story("campus")
    s.lead("N1", "11-02 22:00", "hotline").lead("N2", "11-02 23:00", "walk_in").lead("L1", "11-03 10:00", "hotline")
    night = s.state("11-03 08:00")
    assert sorted(lead.id for lead in indexes.deferred_leads(night)) == ["N1", "N2"] == scanned(night)[2]
    assert [d["lead"] for d in board(night, night.clock)["deferred"]] == ["N1", "N2"]
    morning = s.state("11-03 12:00")
    assert indexes.deferred_leads(morning) == [] and scanned(morning)[2] == []
