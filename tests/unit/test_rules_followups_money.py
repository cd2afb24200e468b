"""R-FU-1..5 follow-up duties and R-MO-1..3 revenue and credit."""
from __future__ import annotations

from decimal import Decimal

from rules_kit import Story

from projections import queries

PHONE = "13911110001"


def overdue(story, at):
    return [(r["lead"], r["owner"], r["due"], r["rule"]) for r in queries.followups(story.state(at))["overdue"]]


def test_R_FU_1_every_lead_is_due_a_follow_up_by_its_owner_by_the_end_of_the_day_or_callback_day():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00").lead("L2", "11-02 10:10", callback_on="2026-11-05").lead("L3", "11-02 10:20")
    s.followup("L1", "11-02 11:00", "c3")  # not the owner: does not count
    s.followup("L3", "11-02 11:00", "c3")
    assert overdue(s, "11-02 23:59") == []
    assert overdue(s, "11-03 00:00") == [("L1", "c1", "2026-11-03T00:00:00+08:00", "R-FU-1")]
    assert ("L2", "c2", "2026-11-06T00:00:00+08:00", "R-FU-1") in overdue(s, "11-06 00:00")


def test_R_FU_1_a_lead_followed_up_by_its_then_owner_is_done_even_after_the_customer_moves():
    """The customer moves to c2 with a later hotline lead (R-OW-3b): L1's duty was met by c1,
    its owner at the follow-up; H1's is c2's, and `followups` names H1, not L1."""
    s = Story("campus")
    s.lead("L1", "11-02 10:00", phone=PHONE).followup("L1", "11-02 10:30", "c1")
    s.lead("H0", "11-02 10:40", "hotline", phone="13911110009").followup("H0", "11-02 10:45", "c1")
    s.lead("H1", "11-02 11:00", "hotline", phone=PHONE)
    assert s.owners("L1", "H1", at="11-02 12:00") == ["c2", "c2"]
    assert overdue(s, "11-03 00:00:01") == [("H1", "c2", "2026-11-03T00:00:00+08:00", "R-FU-1")]


def test_R_FU_2_unfollowed_leads_go_to_the_months_top_earner_excluding_owner_and_leavers():
    s = Story("campus", consultants=4)
    for i, c in ((1, "c2"), (2, "c3"), (3, "c4")):
        s.lead(f"X{i}", f"11-02 10:0{i}", "outbound", maker=c).contract(f"K{i}", f"X{i}", "11-02 11:00")
    s.pay("K1", "11-02 12:00", "1000.00").pay("K2", "11-02 12:00", "5000.00").pay("K3", "11-02 12:00", "1000.00")
    s.add("ConsultantLeft", "11-03 09:00", consultant="c3")
    s.lead("O1", "11-03 10:00", "online").lead("O2", "11-03 10:10", "online")
    s.add("RulingMade", "11-03 11:00", lead="O2", owner="c4", reason="主任")
    s.lead("O3", "11-03 10:20", "online").followup("O3", "11-03 20:00", "c4")
    assert s.owners("O1", "O2", "O3", at="11-03 23:59") == ["c1", "c4", "c4"]
    got = s.state("11-04 00:00")
    assert [queries.owner(got, x)["owner"] for x in ("O1", "O2", "O3")] == ["c2", "c4", "c4"]  # c2 and c4 tie: seat
    assert [queries.owner(got, x)["rule"] for x in ("O1", "O2", "O3")] == ["R-FU-2", "R-OW-0", "R-RT-2"]
    # R-OW-6: the reassignment rests on the lead and on the payment that made c2 the top earner
    seq = {(e["type"], e.get("lead") or e.get("contract")): i for i, e in enumerate(s.events, 1)}
    moved, = [e for e in queries.explain(got, "O1")["timeline"] if e["type"] == "Reassigned"]
    assert seq[("LeadArrived", "O1")] in moved["rests_on"] and seq[("PaymentReceived", "K1")] in moved["rests_on"]
    assert seq[("PaymentReceived", "K3")] not in moved["rests_on"]


def test_R_FU_2_applies_once_per_lead():
    s = Story("campus")
    s.lead("O1", "11-03 10:00", "online")
    assert s.owners("O1", at="11-05 12:00") == ["c2"]  # reassigned once, not again the next midnight


def test_R_FU_3_a_marketing_lead_unfollowed_for_48_hours_holds_further_marketing_leads():
    s = Story("campus")
    s.lead("M1", "11-02 10:00", "marketing").lead("M2", "11-02 10:05", "marketing").lead("M3", "11-02 10:10", "marketing")
    s.followup("M2", "11-02 12:00", "c2").followup("M3", "11-02 12:00", "c3")
    s.lead("M4", "11-04 10:01", "marketing")
    s.followup("M1", "11-04 11:00", "c1")  # late, but it lifts the hold
    s.lead("M5", "11-04 12:00", "marketing")
    state = s.state()
    m4 = [e for e in queries.explain(state, "M4")["timeline"] if e["type"] == "LeadArrived"][0]
    assert {"consultant": "c1", "outcome": "passed", "why": "no follow-up within 48 hours (R-FU-3)"} in m4["candidates"]
    assert queries.owner(state, "M4")["owner"] != "c1"
    m5 = [e for e in queries.explain(state, "M5")["timeline"] if e["type"] == "LeadArrived"][0]
    assert all(c["outcome"] != "passed" for c in m5["candidates"])


def test_R_FU_3_the_hold_follows_the_customer_to_its_new_owner_and_back():
    """R-FU-3 holds whoever owns the marketing lead: a ruling (R-OW-0) that moves the customer
    moves the hold; a follow-up by the new owner since the lead arrived lifts it; an owner who
    regains the customer without having followed it up is held again."""
    def passed(state, lead):
        entry = [e for e in queries.explain(state, lead)["timeline"] if e["type"] == "LeadArrived"][0]
        return {c["consultant"] for c in entry["candidates"]
                if c["why"] == "no follow-up within 48 hours (R-FU-3)"}

    s = Story("campus")
    s.lead("M1", "11-02 10:00", "marketing")
    owner = s.owners("M1")[0]
    other = next(c for c in ("c1", "c2", "c3") if c != owner)
    s.add("RulingMade", "11-02 11:00", lead="M1", owner=other, reason="met at the fair")
    s.lead("M2", "11-04 10:01", "marketing")
    assert passed(s.state(), "M2") == {other}  # the hold moved with the customer
    s.followup("M1", "11-04 10:30", other)
    s.lead("M3", "11-04 10:40", "marketing")
    assert passed(s.state(), "M3") == set()
    s.add("RulingMade", "11-04 11:00", lead="M1", owner=owner, reason="back to the first owner")
    s.lead("M4", "11-04 11:10", "marketing")
    assert passed(s.state(), "M4") == {owner}  # regained, never followed up: held again


def test_R_FU_4_untracked_unsigned_customers_are_dealt_again_on_the_first_of_the_month():
    s = Story("fitness", at="09-01 09:00")
    s.lead("L1", "09-02 10:00").lead("L2", "09-02 10:05").lead("L3", "09-02 10:10").lead("L4", "09-02 10:15")
    s.contract("K4", "L4", "09-03 10:00")
    s.followup("L3", "10-20 10:00", "c3")
    assert s.owners("L1", "L2", "L3", "L4", at="10-31 23:59") == ["c1", "c2", "c3", "c1"]
    got = s.state("11-01 00:00")
    assert [queries.owner(got, x)["owner"] for x in ("L1", "L2", "L3", "L4")] == ["c2", "c3", "c3", "c1"]
    assert queries.owner(got, "L1")["rule"] == "R-FU-4"


def test_R_FU_5_confirmed_grades_set_the_follow_up_cadence():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00").followup("L1", "11-02 11:00", "c1")
    s.add("GradeProposed", "11-02 11:30", lead="L1", grade="A", consultant="c1")
    assert overdue(s, "11-05 00:00") == []  # a proposal alone has no effect
    s.add("GradeConfirmed", "11-02 12:00", lead="L1", grade="A")
    assert overdue(s, "11-03 23:59") == []
    assert overdue(s, "11-04 00:00") == [("L1", "c1", "2026-11-04T00:00:00+08:00", "R-FU-5")]
    s.add("GradeConfirmed", "11-02 12:30", lead="L1", grade="C")
    assert overdue(s, "11-04 00:00") == []


def test_R_MO_1_amounts_are_exact_decimals():
    s = Story("campus")
    s.lead("L1", "11-02 10:00").contract("K1", "L1", "11-02 11:00", amount="0.10")
    s.pay("K1", "11-02 12:00", "0.10").pay("K1", "11-02 12:01", "0.20")
    state = s.state()
    facts = state.money.contracts["K1"]
    assert facts.amount == Decimal("0.10") and all(isinstance(m.amount, Decimal) for m in facts.movements)
    assert state.rev_month[(2026, 11)]["c1"] == Decimal("0.30")


def test_R_MO_2_revenue_is_payments_minus_refunds_by_their_time():
    s = Story("campus", overrides={"bonus_channels": []})
    s.lead("W1", "11-02 10:00").lead("W2", "11-02 10:10").lead("W3", "11-02 10:20")
    for i in (1, 2, 3):
        s.contract(f"K{i}", f"W{i}", "11-02 11:00")
    s.pay("K1", "11-03 10:00", "1000.00").pay("K2", "11-03 10:00", "700.00")
    s.add("ContractRefunded", "11-04 10:00", contract="K2", amount="400.00")
    s.add("ContractRefunded", "11-09 10:00", contract="K1", amount="900.00")  # after the window
    s.lead("H1", "11-09 11:00", "hotline").lead("H2", "11-09 11:10", "hotline")
    assert s.owners("H1", "H2") == ["c1", "c2"]
    assert s.state().rev_month[(2026, 11)] == {"c1": Decimal("100.00"), "c2": Decimal("300.00")}


def test_R_MO_3_a_contract_credits_the_owner_at_signing_and_its_money_follows_that_credit():
    s = Story("campus")
    s.lead("L1", "11-02 10:00", phone=PHONE).contract("K1", "L1", "11-02 11:00")
    s.add("RulingMade", "11-02 12:00", lead="L1", owner="c2", reason="主任")
    s.pay("K1", "11-02 13:00", "500.00").contract("K2", "L1", "11-02 14:00")
    state = s.state()
    assert [c.consultant for c in state.money.contracts["K1"].credits] == ["c1"]
    assert [c.consultant for c in state.money.contracts["K2"].credits] == ["c2"]
    assert state.rev_month[(2026, 11)] == {"c1": Decimal("500.00")}
