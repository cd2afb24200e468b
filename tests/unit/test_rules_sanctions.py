"""R-SA-1..9: suspensions, skips, throttles, automatic weekly sanctions and lifts."""
from __future__ import annotations

from rules_kit import Story

from projections import queries


def test_R_SA_1_suspension_holds_in_its_channels_for_from_until():
    s = Story("fitness")
    s.penalty("P1", "c1", "11-02 09:00", "suspend", ["walk_in"], from_="11-02 10:00", until="11-02 12:00")
    s.lead("L1", "11-02 11:00").lead("O1", "11-02 11:00", "online")
    s.lead("L2", "11-02 12:00").lead("L3", "11-02 12:01")
    assert s.owners("L1", "O1", "L2", "L3") == ["c2", "c1", "c3", "c1"]
    assert ("c1", "walk_in") not in s.turns("11-02", at="11-02 11:30")
    row, = s.sanctions("11-02 11:00")
    assert (row["kind"], row["from"], row["until"]) == ("suspend", "2026-11-02T10:00:00+08:00", "2026-11-02T12:00:00+08:00")
    # R-OW-6: L1's owner rests on the penalty that passed c1; L2 (after it ended) does not
    penalty = next(i for i, e in enumerate(s.events, 1) if e["type"] == "PenaltyImposed")
    arrived = {e["lead"]: e for e in queries.explain(s.state(), "L1")["timeline"] if e["type"] == "LeadArrived"}
    assert penalty in arrived["L1"]["rests_on"]
    later = {e["lead"]: e for e in queries.explain(s.state(), "L2")["timeline"] if e["type"] == "LeadArrived"}
    assert penalty not in later["L2"]["rests_on"]


def test_R_SA_2_skip_passes_the_next_reaches_while_eligible_and_lasts_until_used():
    s = Story("fitness")
    s.penalty("P1", "c1", "11-02 09:00", "skip", ["walk_in"], turns=2, rule="R-SA-2")
    s.presence("c1", "11-02 09:00", "away")
    s.lead("L0", "11-02 09:30")  # c1 away: passed as away, the skip is not used
    s.presence("c1", "11-02 09:45", "on_post")
    for i in range(1, 6):
        s.lead(f"L{i}", f"11-02 1{i}:00")
    s.lead("L6", "11-02 16:00")
    assert s.owners("L0", "L1", "L2", "L3", "L4", "L5", "L6") == ["c2", "c3", "c2", "c3", "c2", "c3", "c1"]
    row, = s.sanctions("11-02 12:30")
    assert (row["kind"], row["until"], row["turns_left"]) == ("skip", None, 1)
    assert s.sanctions("11-02 14:30") == []
    assert s.turns("11-02", at="11-02 14:30").get(("c1", "walk_in")) is None


def test_R_SA_3_throttle_takes_k_of_every_n_reaches_counted_from_its_start():
    s = Story("fitness")
    s.penalty("P1", "c1", "11-02 09:00", "throttle", ["walk_in"], take=1, of=2, rule="R-SA-3")
    for i in range(1, 7):
        s.lead(f"L{i}", f"11-02 1{i - 1}:00")
    assert s.owners("L1", "L2", "L3", "L4", "L5", "L6") == ["c1", "c2", "c3", "c2", "c3", "c1"]
    s.add("PenaltyLifted", "11-02 16:00", penalty="P1")
    s.penalty("P2", "c1", "11-02 16:00", "throttle", ["walk_in"], take=1, of=2, rule="R-SA-3")
    s.lead("L7", "11-02 17:00").lead("L8", "11-02 17:01")  # c2, c3; then c1's first reach of P2: taken
    s.lead("L9", "11-02 17:02")
    assert s.owners("L7", "L8", "L9") == ["c2", "c3", "c1"]


def test_R_SA_4_zero_contracts_suspend_hotline_for_the_week_but_shift_leads_still_reach():
    s = Story("campus")
    s.join("c4", "11-05 09:00", 4)  # joined after the window start: exempt
    s.lead("W1", "11-02 10:00").contract("K1", "W1", "11-03 10:00")
    s.shift("c2", "11-08 12:00", "11-09", "early")
    s.lead("E1", "11-09 08:30", "hotline")
    s.lead("H1", "11-09 10:00", "hotline").lead("H2", "11-09 10:10", "hotline").lead("H3", "11-09 10:20", "hotline")
    s.lead("L1", "11-09 10:30", "walk_in")
    assert s.rules("E1") == ["R-SH-2"] and s.owners("E1") == ["c2"]
    assert s.owners("H1", "H2", "H3") == ["c1", "c4", "c1"]
    rows = s.sanctions("11-09 12:00")
    assert {(r["consultant"], r["rule"], tuple(r["channels"])) for r in rows} == {
        ("c2", "R-SA-4", ("hotline",)), ("c3", "R-SA-4", ("hotline",))}
    assert {r["until"] for r in rows} == {"2026-11-16T00:00:00+08:00"}


def test_R_SA_5_taking_a_shift_window_lead_suspends_the_taker_next_day():
    s = Story("campus")
    s.shift("c3", "11-02 12:00", "11-03", "early")
    s.lead("E1", "11-03 08:30", "hotline", taken_by="c1")
    s.lead("H1", "11-04 10:00", "hotline").lead("H2", "11-04 10:05", "hotline")
    answer = s.owner("E1", at="11-03 12:00")
    assert (answer["owner"], answer["rule"], answer["disputed"]) == ("c3", "R-SH-2", True)
    row, = s.sanctions("11-04 09:00")
    assert (row["consultant"], row["rule"], row["channels"], row["from"], row["until"]) == (
        "c1", "R-SA-5", ["hotline"], "2026-11-04T00:00:00+08:00", "2026-11-05T00:00:00+08:00")
    assert s.owners("H1", "H2") == ["c2", "c3"]


def test_R_SA_6_supervisor_suspension_from_all_rotations_keeps_the_star():
    s = Story("fitness")
    s.penalty("P6", "c1", "11-02 09:00", "suspend", ["*"], until="11-09 09:00", rule="R-SA-6", reason="不记不报抢接")
    s.lead("L1", "11-02 10:00").lead("O1", "11-02 10:00", "online")
    assert s.owners("L1", "O1") == ["c2", "c2"]
    row, = s.sanctions("11-03 10:00")
    assert (row["channels"], row["rule"]) == (["*"], "R-SA-6")


def test_R_SA_7_realty_zero_invitations_suspend_hotline_and_zero_deals_throttle_walk_in():
    s = Story("realty")
    s.join("c4", "11-03 09:00", 4)
    s.lead("L1", "11-02 10:00").lead("L2", "11-02 10:10")
    s.add("InvitationRecorded", "11-03 10:00", lead="L1", consultant="c1")
    s.contract("K2", "L2", "11-04 10:00", deposit=True)
    rows = s.sanctions("11-09 09:00")
    assert {(r["consultant"], r["kind"], tuple(r["channels"])) for r in rows} == {
        ("c2", "suspend", ("hotline",)), ("c3", "suspend", ("hotline",)),
        ("c1", "throttle", ("walk_in",)), ("c3", "throttle", ("walk_in",))}
    assert all(r["rule"] == "R-SA-7" for r in rows)
    s.lead("H1", "11-09 10:00", "hotline").lead("H2", "11-09 10:05", "hotline")
    assert s.owners("H1", "H2") == ["c1", "c4"]


def test_R_SA_8_fitness_few_visits_throttle_marketing_and_a_complaint_skips_walk_in():
    s = Story("fitness")
    s.lead("V", "11-02 10:00")
    for _ in range(5):
        s.add("VisitRecorded", "11-03 10:00", lead="V", consultant="c1")
    for _ in range(4):
        s.add("VisitRecorded", "11-03 10:00", lead="V", consultant="c2")
    s.add("ComplaintVerified", "11-09 08:00", consultant="c1", reason="家长投诉")
    rows = s.sanctions("11-09 09:00")
    assert {(r["consultant"], r["kind"], tuple(r["channels"]), r.get("take"), r.get("of")) for r in rows} == {
        ("c2", "throttle", ("marketing",), 4, 5), ("c3", "throttle", ("marketing",), 4, 5),
        ("c1", "skip", ("walk_in",), None, None)}
    assert all(r["rule"] == "R-SA-8" for r in rows)
    s.lead("L1", "11-09 10:00")  # pointer is on c2 (V went to c1): c2
    s.lead("L2", "11-09 10:01").lead("L3", "11-09 10:02")  # c3, then c1's skip -> c2
    assert s.owners("L1", "L2", "L3") == ["c2", "c3", "c2"]


def test_R_SA_9_a_lift_ends_the_sanction_from_its_time_on():
    s = Story("fitness")
    s.penalty("P1", "c1", "11-02 09:00", "suspend", ["walk_in"])
    s.lead("L1", "11-02 10:00")
    s.add("PenaltyLifted", "11-02 10:30", penalty="P1")
    s.lead("L2", "11-02 11:00").lead("L3", "11-02 11:01")
    assert s.owners("L1", "L2", "L3") == ["c2", "c3", "c1"]
    assert len(s.sanctions("11-02 10:29")) == 1 and s.sanctions("11-02 10:30") == []


def test_R_SA_3_fitness_weekly_throttle_takes_four_of_five_marketing_reaches():
    s = Story("fitness", consultants=2)
    s.lead("V", "11-02 10:00")
    for _ in range(5):
        s.add("VisitRecorded", "11-03 10:00", lead="V", consultant="c1")  # c2: throttled 4 of 5
    for i in range(10):
        s.lead(f"M{i}", f"11-09 10:{i:02d}", "marketing")
    owners = s.owners(*[f"M{i}" for i in range(10)])
    # c2 is reached on every other lead: reaches 1-4 taken, the 5th passed (not counted), then again
    assert owners == ["c1", "c2", "c1", "c2", "c1", "c2", "c1", "c2", "c1", "c1"]
    assert s.turns("11-09")[("c2", "marketing")] == (4, 4)


def test_R_SA_9_a_derived_sanction_is_lifted_by_the_id_sanctions_lists():
    """R-SA-9 "any sanction": a weekly R-SA-4 suspension, named by the id `sanctions` shows."""
    s = Story("campus")
    s.lead("W1", "11-02 10:00").contract("K1", "W1", "11-03 10:00")
    rows = s.sanctions("11-09 09:00")
    lifted = next(r for r in rows if r["consultant"] == "c2")
    assert lifted["derived"] and lifted["rule"] == "R-SA-4"
    s.add("PenaltyLifted", "11-09 09:30", penalty=lifted["penalty"])
    s.lead("H1", "11-09 10:00", "hotline").lead("H2", "11-09 10:10", "hotline")
    assert {r["consultant"] for r in s.sanctions("11-09 09:29")} == {r["consultant"] for r in rows}
    assert "c2" not in {r["consultant"] for r in s.sanctions("11-09 09:30")}
    assert "c2" in s.owners("H1", "H2")  # back on the hotline rotation
