"""R-SH-1..5: shift windows, off-hours overtime queues and deferral."""
from __future__ import annotations

from rules_kit import Story


def test_R_SH_1_a_later_early_assignment_replaces_the_earlier_and_overtime_has_several():
    s = Story("campus")
    s.shift("c1", "11-02 12:00", "11-03", "early").shift("c3", "11-02 13:00", "11-03", "early")
    s.shift("c1", "11-02 12:00", "11-03", "overtime").shift("c2", "11-02 12:00", "11-03", "overtime")
    s.lead("E1", "11-03 08:30", "hotline")
    assert (s.owner("E1")["owner"], s.owner("E1")["rule"]) == ("c3", "R-SH-2")
    state = s.state()
    assert state.shifts[__import__("datetime").date(2026, 11, 3)]["overtime"] == ["c1", "c2"]


def test_R_SH_2_window_leads_go_to_the_holder_without_a_turn():
    s = Story("campus")
    s.shift("c2", "11-02 12:00", "11-03", "early").shift("c3", "11-02 12:00", "11-03", "late")
    s.lead("A", "11-03 08:10", "hq_referral").lead("B", "11-03 08:20", "walk_in")
    s.lead("C", "11-03 18:30", "internal_referral").lead("D", "11-03 10:00", "hq_referral")
    s.lead("M", "11-03 08:30", "online")  # not a shift channel in campus
    assert s.owners("A", "B", "C", "D", "M", at="11-03 20:00") == ["c2", "c2", "c3", "c1", "c1"]
    turns = s.turns("11-03", at="11-03 23:00")
    assert turns[("c2", "hq_referral")] == (0, 1) and turns[("c3", "internal_referral")] == (0, 1)
    assert turns[("c1", "hq_referral")] == (1, 1)  # the rotation was not moved by the window lead


def test_R_SH_2_realty_shift_channel_is_walk_in_only():
    s = Story("realty")
    s.shift("c3", "11-02 12:00", "11-03", "early")
    s.lead("W", "11-03 08:30", "walk_in").lead("H", "11-03 08:31", "hotline")
    assert s.rules("W", "H") == ["R-SH-2", "R-RT-2"]
    assert s.owners("W", "H") == ["c3", "c1"]


def test_R_SH_3_a_window_without_a_holder_on_post_goes_to_rotation_and_counts():
    s = Story("campus")
    s.shift("c1", "11-02 12:00", "11-03", "early").presence("c1", "11-03 07:00", "busy_new")
    s.lead("A", "11-03 08:30", "walk_in")  # early holder busy: not on post
    s.lead("B", "11-03 19:00", "walk_in")  # no late holder at all
    assert s.rules("A", "B") == ["R-SH-3", "R-SH-3"]
    assert s.owners("A", "B") == ["c2", "c3"]
    turns = s.turns("11-03")
    assert turns[("c1", "walk_in")] == (1, 0) and turns[("c2", "walk_in")] == (1, 1)


def test_R_SH_4_off_hours_go_to_the_window_holder_then_the_overtime_queue_in_ranking_order():
    s = Story("campus", consultants=4)
    s.shift("c4", "11-02 12:00", "11-03", "overtime").shift("c2", "11-02 12:00", "11-03", "overtime")
    s.shift("c3", "11-02 12:00", "11-03", "overtime").presence("c3", "11-02 12:00", "away")
    s.shift("c1", "11-02 12:00", "11-04", "overtime")
    s.lead("N1", "11-03 06:00", "hotline").lead("N2", "11-03 06:10", "hotline").lead("N3", "11-03 06:20", "hotline")
    s.lead("W1", "11-03 06:30", "walk_in")  # its own overtime queue: starts again at the first
    s.lead("N4", "11-03 22:00", "hotline")
    s.lead("N5", "11-04 06:00", "hotline")  # a new day: that date's overtime holders
    assert s.owners("N1", "N2", "N3", "W1", "N4", "N5") == ["c2", "c4", "c2", "c2", "c4", "c1"]
    assert set(s.rules("N1", "N5")) == {"R-SH-4"}
    turns = s.turns("11-03")
    assert turns[("c2", "hotline")] == (0, 2) and ("c1", "hotline") not in turns


def test_R_SH_4_the_day_is_the_leads_own_local_date():
    s = Story("campus")
    s.shift("c1", "11-02 12:00", "11-02", "late").shift("c2", "11-02 12:00", "11-03", "early")
    s.lead("N1", "11-03 07:00", "hotline")
    assert (s.owner("N1")["owner"], s.owner("N1")["rule"]) == ("c2", "R-SH-4")


def test_R_SH_5_deferred_leads_are_allocated_at_0901_in_arrival_order_before_later_leads():
    s = Story("campus")
    s.lead("N1", "11-02 22:00", "hotline").lead("N2", "11-02 23:00", "walk_in").lead("N3", "11-03 06:00", "hotline")
    s.lead("L1", "11-03 09:01", "hotline")
    assert s.owners("N1", "N3", at="11-03 09:00:59") == [None, None]
    assert s.rules("N1", at="11-03 09:00:59") == ["R-SH-5"]
    assert s.owners("N1", "N3", "L1", "N2", at="11-03 12:00") == ["c1", "c2", "c3", "c1"]
    assert s.rules("N1", "N3", "L1", at="11-03 12:00") == ["R-SH-5", "R-SH-5", "R-RT-2"]
    turns = s.turns("11-02", "11-03")
    assert turns[("c1", "hotline")] == (1, 1) and turns[("c1", "walk_in")] == (1, 1)
    assert s.turns("11-02") == {}  # counted on the allocation date


def test_R_SH_5_next_answers_null_while_nobody_would_take_it():
    s = Story("campus")
    got = s.next("hotline", "11-02 22:30")
    assert (got["next"], got["rule"]) == (None, "R-SH-5")


def test_R_SH_4_realty_walk_in_overtime_queue_then_deferral_when_nobody_is_on_post():
    s = Story("realty", consultants=4)
    s.shift("c3", "11-02 12:00", "11-03", "overtime").shift("c4", "11-02 12:00", "11-03", "overtime")
    s.lead("N1", "11-03 06:00", "walk_in").lead("N2", "11-03 06:30", "walk_in")
    s.lead("H1", "11-03 06:40", "hotline")  # not a realty shift channel: plain rotation
    s.presence("c3", "11-03 21:30", "away").presence("c4", "11-03 21:30", "away")
    s.lead("N3", "11-03 22:00", "walk_in").lead("L1", "11-04 09:01", "walk_in")
    assert s.owners("N1", "N2", "H1", "N3", "L1", at="11-04 12:00") == ["c3", "c4", "c1", "c1", "c2"]
    assert s.rules("N1", "N2", "H1", "N3", "L1", at="11-04 12:00") == ["R-SH-4", "R-SH-4", "R-RT-2", "R-SH-5", "R-RT-2"]
    assert s.turns("11-03", "11-04", at="11-04 12:00") == {
        ("c1", "hotline"): (1, 1), ("c1", "walk_in"): (1, 1), ("c2", "walk_in"): (1, 1),
        ("c3", "walk_in"): (0, 1), ("c4", "walk_in"): (0, 1)}
