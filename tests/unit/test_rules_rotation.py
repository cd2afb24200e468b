"""R-RT-1..9: rotation queues, pointer semantics, bonus, counts and weighted marketing."""
from __future__ import annotations

from fractions import Fraction

from rules_kit import Story


def ranked_story(amounts, consultants=3, **policy):
    """Campus with revenue per consultant in the window of week 11-09 (everyone has a contract)."""
    s = Story("campus", consultants=consultants, **policy)
    for i in range(1, consultants + 1):
        s.lead(f"W{i}", f"11-02 1{i}:00")
    for i in range(1, consultants + 1):
        s.contract(f"K{i}", f"W{i}", "11-03 10:00")
        if amounts[i - 1]:
            s.pay(f"K{i}", "11-04 10:00", amounts[i - 1])
    return s


def test_R_RT_1_ranking_order_is_last_weeks_revenue_then_seat():
    s = ranked_story(["100.00", None, "900.00", None], consultants=4, overrides={"bonus_channels": []})
    for i in range(1, 5):
        s.lead(f"H{i}", f"11-09 10:0{i}", "hotline")
    assert s.owners("H1", "H2", "H3", "H4") == ["c3", "c1", "c2", "c4"]


def test_R_RT_2_the_walk_starts_at_the_pointer_and_moves_past_the_holder():
    s = Story("fitness", consultants=4)
    s.lead("L1", "11-02 10:00")
    s.presence("c2", "11-02 10:30", "leave").presence("c3", "11-02 10:30", "busy_new")
    s.lead("L2", "11-02 11:00")
    s.presence("c2", "11-02 11:30", "on_post").presence("c3", "11-02 11:30", "on_post")
    s.lead("L3", "11-02 12:00")
    assert s.owners("L1", "L2", "L3") == ["c1", "c4", "c1"]
    assert s.turns("11-02")[("c3", "walk_in")] == (1, 0)


def test_R_RT_3_seat_mode_carries_the_pointer_over_days():
    s = Story("realty")
    s.lead("L1", "11-02 10:00").lead("L2", "11-02 11:00").lead("L3", "11-03 10:00")
    assert s.owners("L1", "L2", "L3") == ["c1", "c2", "c3"]


def test_R_RT_3_ranking_mode_restarts_at_rank_1_each_week():
    s = Story("realty", overrides={"orders": {"online": "ranking"}})
    s.lead("O1", "11-03 10:00", "online").lead("O2", "11-03 10:10", "online")
    s.lead("O3", "11-04 10:00", "online")  # carries over within the week
    s.lead("O4", "11-09 10:00", "online")  # new week: rank 1 again
    assert s.owners("O1", "O2", "O3", "O4") == ["c1", "c2", "c3", "c1"]


def test_R_RT_4_top_earner_takes_two_leads_per_turn_each_counted():
    s = ranked_story([None, "500.00", None])
    s.lead("H1", "11-09 10:00", "hotline").lead("H2", "11-09 10:10", "hotline").lead("H3", "11-09 10:20", "hotline")
    s.lead("H4", "11-09 10:30", "hotline").lead("H5", "11-09 10:40", "hotline").lead("H6", "11-09 10:50", "hotline")
    assert s.owners("H1", "H2", "H3", "H4", "H5", "H6") == ["c2", "c2", "c1", "c3", "c2", "c2"]
    assert s.rules("H1", "H2") == ["R-RT-2", "R-RT-4"]
    assert s.turns("11-09")[("c2", "hotline")] == (4, 4)


def test_R_RT_4_bonus_leads_per_turn_sets_how_many_the_top_earner_takes_in_a_row():
    s = ranked_story([None, "500.00", None], overrides={"bonus_leads_per_turn": 3})
    for i in range(1, 7):
        s.lead(f"H{i}", f"11-09 10:{i:02d}", "hotline")
    assert s.owners("H1", "H2", "H3", "H4", "H5", "H6") == ["c2", "c2", "c2", "c1", "c3", "c2"]
    assert s.rules("H1", "H2", "H3") == ["R-RT-2", "R-RT-4", "R-RT-4"]
    assert s.turns("11-09")[("c2", "hotline")] == (4, 4)


def test_R_RT_4_a_lapsed_bonus_drops_the_rest_of_the_bonus_leads():
    s = ranked_story([None, "500.00", None], overrides={"bonus_leads_per_turn": 3})
    s.lead("H1", "11-09 10:00", "hotline").lead("H2", "11-09 10:10", "hotline")
    s.presence("c2", "11-09 10:15", "away")
    s.lead("H3", "11-09 10:20", "hotline")
    s.presence("c2", "11-09 10:25", "on_post")
    s.lead("H4", "11-09 10:30", "hotline")
    assert s.owners("H1", "H2", "H3", "H4") == ["c2", "c2", "c1", "c3"]


def test_R_RT_4_bonus_second_lead_lapses_when_top_earner_is_away():
    s = ranked_story([None, "500.00", None])
    s.lead("H1", "11-09 10:00", "hotline")
    s.presence("c2", "11-09 10:05", "away")
    s.lead("H2", "11-09 10:10", "hotline")
    s.presence("c2", "11-09 10:15", "on_post")
    s.lead("H3", "11-09 10:20", "hotline")
    assert s.owners("H1", "H2", "H3") == ["c2", "c1", "c3"]
    assert s.rules("H2") == ["R-RT-2"]
    assert s.turns("11-09")[("c2", "hotline")] == (1, 1)


def test_R_RT_4_no_bonus_on_a_tie_for_the_top():
    s = ranked_story(["500.00", "500.00", None])
    s.lead("H1", "11-09 10:00", "hotline").lead("H2", "11-09 10:10", "hotline")
    assert s.owners("H1", "H2") == ["c1", "c2"]


def test_R_RT_5_joins_enter_at_their_seat_and_a_leaver_hands_the_pointer_on():
    s = Story("fitness", consultants=0)
    s.join("c1", "11-01 09:00", 1).join("c3", "11-01 09:00", 3).join("c5", "11-01 09:00", 5)
    s.lead("L1", "11-02 10:00")  # c1; pointer on c3
    s.join("c2", "11-02 10:30", 2).join("c4", "11-02 10:30", 4)
    s.lead("L2", "11-02 11:00")  # c3 is still up
    s.add("ConsultantLeft", "11-02 11:30", consultant="c4")  # c4 was up: pointer to c5
    s.lead("L3", "11-02 12:00").lead("L4", "11-02 12:01")
    assert s.owners("L1", "L2", "L3", "L4") == ["c1", "c3", "c5", "c1"]


def test_R_RT_5_a_seat_swap_does_not_move_the_pointer_off_who_is_up():
    s = Story("fitness", consultants=4)
    s.lead("L1", "11-02 10:00")  # c1, pointer on c2
    s.add("SeatsSwapped", "11-02 10:30", a="c2", b="c3")  # order c1 c3 c2 c4
    s.lead("L2", "11-02 11:00").lead("L3", "11-02 11:01").lead("L4", "11-02 11:02")
    assert s.owners("L2", "L3", "L4") == ["c2", "c4", "c1"]


def test_R_RT_6_a_named_lead_passes_the_turn_holder_normally():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00", named="c3").lead("L2", "11-02 10:10")
    assert s.owners("L1", "L2") == ["c3", "c2"]
    turns = s.turns("11-02")
    assert turns[("c1", "walk_in")] == (1, 0) and turns[("c3", "walk_in")] == (0, 1)


def test_R_RT_7_counts_follow_the_table_for_each_path():
    s = Story("campus")
    s.shift("c3", "11-02 12:00", "11-03", "early")
    s.lead("X1", "11-03 07:00", "outbound", phone="13911112222", maker="c2")  # R-CH-3: lead for the maker
    s.contract("KX", "X1", "11-03 07:10")
    s.lead("S1", "11-03 08:30", "walk_in")  # R-SH-2: lead for c3, no turn
    s.lead("R1", "11-03 10:00", "walk_in")  # R-RT-2: c1 turn and lead
    s.lead("X2", "11-03 10:30", "walk_in", phone="13911112222")  # R-OW-1: nothing counted
    s.lead("N1", "11-03 11:00", "walk_in", named="c1")  # R-OW-2: holder c2 turn, lead for c1
    assert s.rules("X2", "N1") == ["R-OW-1", "R-OW-2"]
    assert s.turns("11-03") == {("c2", "outbound"): (0, 1), ("c3", "walk_in"): (0, 1), ("c1", "walk_in"): (1, 2),
                                ("c2", "walk_in"): (1, 0)}


def test_R_RT_7_reassignment_moves_the_customer_not_the_counts():
    s = Story("campus")
    s.lead("X", "11-02 10:00", "outbound", maker="c3").contract("KX", "X", "11-02 10:10").pay("KX", "11-02 10:20", "10.00")
    s.lead("O1", "11-03 10:00", "online")
    assert s.owner("O1", at="11-04 00:00")["owner"] == "c3"
    assert s.turns("11-03", "11-04") == {("c1", "online"): (1, 1)}


def test_R_RT_8_marketing_is_a_smooth_weighted_round_robin_in_exact_fractions():
    s = Story("campus")
    for i in range(1, 4):
        s.lead(f"M{i}", f"11-02 10:0{i}", "marketing")
    s.contract("K1", "M1", "11-02 11:00")  # c1 converts 1 of 1; c2 and c3 0 of 1 -> weight 1/10
    for i in range(4, 7):
        s.lead(f"M{i}", f"11-02 12:0{i}", "marketing")
    # weights: 1 with no marketing lead in 30 days, else converted/received, at least 1/10
    # M1 (1,1,1) -> c1; M2 c1 1/10 -> c2 (tie with c3 by seat); M3 -> c3; K1 makes c1's weight 1:
    # M4 (-4/5, 1/10, 19/10) -> c3; M5 (1/5, 1/5, 4/5) -> c3; M6 (6/5, 3/10, -3/10) -> c1
    assert s.owners("M1", "M2", "M3", "M4", "M5", "M6") == ["c1", "c2", "c3", "c3", "c3", "c1"]
    assert s.rules("M4") == ["R-RT-8"]
    scores = s.state().scores
    assert all(isinstance(v, Fraction) for v in scores.values())
    assert scores == {"c1": Fraction(0), "c2": Fraction(3, 10), "c3": Fraction(-3, 10)}


def test_R_RT_9_nobody_eligible_leaves_the_lead_unowned_and_the_pointer_still():
    s = Story("fitness")
    for c in ("c1", "c2", "c3"):
        s.presence(c, "11-02 09:00", "away")
    s.lead("L1", "11-02 10:00")
    s.presence("c2", "11-02 10:30", "on_post").presence("c1", "11-02 10:30", "on_post")
    s.lead("L2", "11-02 11:00")
    assert s.owner("L1")["owner"] is None and s.rules("L1") == ["R-RT-9"]
    assert s.owners("L2") == ["c1"]


def test_R_RT_4_a_bonus_holder_who_leaves_hands_the_pointer_to_the_next():
    s = ranked_story([None, "500.00", None])
    s.lead("H1", "11-09 10:00", "hotline")  # c2, the pointer stays on c2 for the bonus
    s.add("ConsultantLeft", "11-09 10:05", consultant="c2")
    s.lead("H2", "11-09 10:10", "hotline")
    assert s.owners("H2") == ["c1"] and s.rules("H2") == ["R-RT-2"]


def test_R_RT_5_a_consultant_joining_mid_week_enters_the_ranking_at_zero_revenue():
    s = ranked_story([None, "500.00", "100.00"], overrides={"bonus_channels": []})
    s.join("c0", "11-09 09:00", 0)  # lowest seat, no revenue: after c2 and c3, before c1
    for i in range(1, 6):
        s.lead(f"H{i}", f"11-09 10:0{i}", "hotline")
    assert s.owners("H1", "H2", "H3", "H4", "H5") == ["c2", "c3", "c0", "c1", "c2"]
