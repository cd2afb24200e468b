"""R-T-*, R-RO-*, R-PR-*, R-CH-*: calendar, roster, presence and channels."""
from __future__ import annotations

import pytest
from rules_kit import Story

from ledger.errors import RuleViolation
from projections import queries
from projections.engine import check_swap


def test_R_T_1_times_are_read_in_the_team_time_zone_and_answered_with_its_offset():
    s = Story("campus")
    s.shift("c3", "11-02 12:00", "11-03", "early")
    s.add("LeadArrived", "2026-11-03T00:30:00+00:00", lead="E1", channel="hotline", phone="13700000001")  # 08:30 local
    answer = s.owner("E1", at="11-03 12:00")
    assert (answer["owner"], answer["rule"]) == ("c3", "R-SH-2")
    assert answer["customer_since"] == "2026-11-03T08:30:00+08:00"


def test_R_T_1_a_policy_time_zone_moves_the_day_windows():
    s = Story("campus", timezone="Europe/Berlin")
    s.shift("c3", "11-02 12:00", "11-03", "early")
    s.add("LeadArrived", "2026-11-03T08:30:00+01:00", lead="E1", channel="hotline", phone="13700000001")
    answer = s.owner("E1", at="11-03 23:00")
    assert (answer["owner"], answer["rule"]) == ("c3", "R-SH-2")


def test_R_T_2_weekly_sanctions_run_monday_to_monday():
    s = Story("campus")
    rows = s.sanctions("11-09 00:00")
    assert {(r["consultant"], r["from"], r["until"]) for r in rows} == {
        (c, "2026-11-09T00:00:00+08:00", "2026-11-16T00:00:00+08:00") for c in ("c1", "c2", "c3")}
    assert s.sanctions("11-08 23:59") == []


def test_R_T_3_ranking_window_ends_at_the_sunday_cut_off():
    s = Story("campus")
    for i, c in enumerate(("W1", "W2", "W3")):
        s.lead(c, f"11-02 1{i}:00")
    for i, c in enumerate(("K1", "K2", "K3")):
        s.contract(c, f"W{i + 1}", "11-03 10:00")
    s.pay("K2", "11-08 19:59:59", "100.00")  # inside the window of week 11-09
    s.pay("K3", "11-08 20:00", "5000.00")  # after the cut-off: next week's window
    s.lead("H1", "11-09 10:00", "hotline").lead("H2", "11-09 10:10", "hotline").lead("H3", "11-09 10:20", "hotline")
    assert s.owners("H1", "H2", "H3") == ["c2", "c2", "c1"]


def test_R_T_4_day_windows_are_decided_by_the_minute():
    s = Story("campus")
    s.shift("c3", "11-02 12:00", "11-03", "early").shift("c2", "11-02 12:00", "11-03", "late")
    s.lead("A", "11-03 09:00:59", "hotline")  # early: the minute 09:00
    s.lead("B", "11-03 18:00:59", "hotline")  # day: the minute 18:00
    s.lead("C", "11-03 20:59:59", "hotline")  # late
    s.lead("D", "11-03 21:00:00", "hotline")  # off hours -> late holder on post (R-SH-4)
    s.lead("E", "11-03 07:59:59", "hotline")  # off hours -> early holder (R-SH-4)
    got = {lead: (r["owner"], r["rule"]) for lead in "ABCDE" for r in [s.owner(lead, at="11-03 22:00")]}
    assert got == {"A": ("c3", "R-SH-2"), "B": ("c1", "R-RT-2"), "C": ("c2", "R-SH-2"),
                   "D": ("c2", "R-SH-4"), "E": ("c3", "R-SH-4")}


def test_R_T_5_a_late_recorded_event_changes_results_from_its_time_and_explain_marks_it():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00").lead("L2", "11-02 11:00")
    assert s.owners("L1", "L2") == ["c1", "c2"]
    s.presence("c2", "11-02 10:30", "away")  # recorded after L2, back-dated
    assert s.owners("L1", "L2") == ["c1", "c3"]
    timeline = queries.explain(s.state(), "L2")["timeline"]
    late = [e for e in queries.explain(s.state(), "L2")["timeline"] if e["type"] == "LeadArrived"]
    assert late[0]["changed_by_late"] == [len(s.events)]
    assert all(e["recorded_late"] is False for e in timeline)


def test_R_T_5_folding_events_one_by_one_equals_replaying_them_sorted():
    from projections.engine import TeamState, apply
    s = Story("fitness")
    s.lead("L1", "11-02 10:00").lead("L2", "11-02 11:00").presence("c2", "11-02 10:30", "away")
    state = TeamState()
    for rec in s.records():
        state = apply(state, rec)
    assert queries.owner(state, "L2")["owner"] == "c3"


def test_R_RO_1_seat_order_is_ascending_seat_number_not_joining_order():
    s = Story("fitness", consultants=0)
    s.join("a", "11-01 09:00", 5).join("b", "11-01 09:00", 2).join("c", "11-01 09:00", 9)
    s.lead("L1", "11-02 10:00").lead("L2", "11-02 10:01").lead("L3", "11-02 10:02")
    assert s.owners("L1", "L2", "L3") == ["b", "a", "c"]


def test_R_RO_2_adjacent_seats_swap_and_others_are_rejected():
    s = Story("fitness", consultants=4)
    s.add("SeatsSwapped", "11-02 09:00", a="c2", b="c3")
    s.lead("L1", "11-02 10:00").lead("L2", "11-02 10:01").lead("L3", "11-02 10:02")
    assert s.owners("L1", "L2", "L3") == ["c1", "c3", "c2"]
    state = Story("fitness", consultants=4).state()
    for a, b in (("c1", "c3"), ("c1", "c4")):  # a jump, and first with last
        with pytest.raises(RuleViolation, match="R-RO-2"):
            check_swap(state, a, b)
    bad = Story("fitness", consultants=4)
    bad.add("SeatsSwapped", "11-02 09:00", a="c1", b="c3")  # only a late event could make it stored
    bad.lead("L1", "11-02 10:00").lead("L2", "11-02 10:01")
    assert bad.owners("L1", "L2") == ["c1", "c2"]  # ignored on replay


def test_R_RO_3_a_leaver_receives_nothing_new_but_keeps_customers():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00")
    s.add("ConsultantLeft", "11-02 11:00", consultant="c1")
    s.lead("L2", "11-02 12:00").lead("L3", "11-02 12:01").lead("L4", "11-02 12:02")
    assert s.owners("L1", "L2", "L3", "L4") == ["c1", "c2", "c3", "c2"]


def test_R_PR_1_presence_holds_until_changed_whatever_the_hour():
    s = Story("fitness")  # no shift channels: presence alone decides
    s.presence("c1", "11-02 09:00", "away").presence("c1", "11-02 23:00", "on_post")
    s.lead("L1", "11-02 12:00").lead("L2", "11-03 03:00").lead("L3", "11-03 03:01")
    assert s.owners("L1", "L2", "L3") == ["c2", "c3", "c1"]


@pytest.mark.parametrize("presence", ["away", "leave", "busy_old"])
def test_R_PR_2_away_leave_and_busy_old_are_passed_and_lose_the_turn(presence):
    s = Story("fitness")
    s.presence("c1", "11-02 09:00", presence)
    s.lead("L1", "11-02 10:00")
    s.presence("c1", "11-02 10:30", "on_post")
    s.lead("L2", "11-02 11:00")
    assert s.owners("L1", "L2") == ["c2", "c3"]
    assert ("c1", "walk_in") not in s.turns("11-02")


def test_R_PR_3_busy_new_passes_normally_and_counts_a_turn_not_a_lead():
    s = Story("fitness")
    s.presence("c1", "11-02 09:00", "busy_new")
    s.lead("L1", "11-02 10:00")
    assert s.owner("L1")["owner"] == "c2"
    assert s.turns("11-02")[("c1", "walk_in")] == (1, 0)


def test_R_CH_1_queues_are_independent_per_channel():
    s = Story("fitness")
    s.lead("W1", "11-02 10:00", "walk_in").lead("O1", "11-02 10:01", "online").lead("W2", "11-02 10:02", "walk_in")
    s.lead("O2", "11-02 10:03", "online")
    assert s.owners("W1", "O1", "W2", "O2") == ["c1", "c1", "c2", "c2"]


def test_R_CH_2_a_wrong_number_still_consumes_the_turn():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00", phone=False).lead("L2", "11-02 10:01", phone=False)
    assert s.owners("L1", "L2") == ["c1", "c2"]
    assert s.turns("11-02")[("c1", "walk_in")] == (1, 1)


def test_R_CH_3_outbound_leads_belong_to_their_maker_and_consume_no_turn():
    s = Story("campus")
    s.lead("X1", "11-02 10:00", "outbound", maker="c3")
    s.lead("L1", "11-02 10:05", "walk_in")
    assert s.rules("X1") == ["R-CH-3"]
    assert s.owners("X1", "L1") == ["c3", "c1"]
    assert s.turns("11-02")[("c3", "outbound")] == (0, 1)


def test_R_T_5_explain_marks_an_event_recorded_late():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00").lead("L2", "11-02 12:00")
    s.followup("L1", "11-02 11:00", "c1")  # recorded after L2, back-dated
    entries = queries.explain(s.state(), "L1")["timeline"]
    assert [(e["type"], e["recorded_late"]) for e in entries] == [("LeadArrived", False), ("FollowUpLogged", True)]
