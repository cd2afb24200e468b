"""R-ID-*, R-OW-*: customer identity, tracking and the ownership precedence."""
from __future__ import annotations

from decimal import Decimal

from rules_kit import Story

from ledger.phone import make_key
from projections import queries

PHONE = "13911110001"


def test_R_ID_1_normalized_numbers_are_one_customer():
    s = Story("campus", consultants=4)
    s.lead("A", "11-02 10:00", "hq_referral", phone=PHONE)
    s.lead("B", "11-02 10:10", "hq_referral", phone="+86 139-1111-0001")
    s.lead("C", "11-02 10:20", "hq_referral", phone="0086 13911110001")
    s.lead("D", "11-02 10:30", "hq_referral", phone="8613911110001")
    assert s.owners("A", "B", "C", "D") == ["c1"] * 4
    assert s.rules("B", "C", "D") == ["R-OW-3"] * 3


def test_R_ID_1_an_explicit_link_re_decides_the_later_lead_from_its_arrival_on():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00", phone="13911110001").lead("L2", "11-02 11:00", phone="13922220002")
    s.lead("L3", "11-02 12:00")
    s.add("CustomersLinked", "11-02 15:00", lead="L1", other="L2")
    assert s.owners("L1", "L2", "L3", at="11-02 14:00") == ["c1", "c2", "c3"]  # before the link
    assert s.owners("L1", "L2", "L3") == ["c1", "c1", "c3"]
    assert s.rules("L2") == ["R-OW-3"]
    s.add("CustomersUnlinked", "11-02 16:00", lead="L1", other="L2")
    assert s.owners("L1", "L2") == ["c1", "c2"]


def test_R_ID_1_unlinking_leads_with_one_number_splits_the_later_one_off():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00", phone=PHONE).lead("L2", "11-02 11:00", phone=PHONE)
    assert s.owners("L2") == ["c1"]
    s.add("CustomersUnlinked", "11-02 12:00", lead="L1", other="L2")
    assert s.owners("L1", "L2") == ["c1", "c2"]


def test_R_ID_2_stored_phone_keys_match_like_numbers_and_never_show_them():
    secret = b"k"
    s = Story("fitness")
    s.lead("L1", "11-02 10:00", phone=make_key("+86 139 1111 0001", secret))
    s.lead("L2", "11-02 11:00", phone=make_key(PHONE, secret))
    assert s.owners("L1", "L2") == ["c1", "c1"]
    text = str(queries.explain(s.state(), "L2")) + str(queries.owner(s.state(), "L2"))
    assert PHONE not in text and "h:" not in text  # neither the number nor its key is printed


def test_R_ID_3_tracking_lapses_after_30_days_without_a_touch():
    s = Story("campus")
    s.lead("L1", "11-02 10:00", phone=PHONE)
    s.lead("L2", "12-02 10:01", phone=PHONE)  # 30 days and a minute later: untracked
    assert s.owners("L2") == ["c2"] and s.rules("L2") == ["R-RT-2"]
    t = Story("campus")
    t.lead("L1", "11-02 10:00", phone=PHONE).followup("L1", "11-20 10:00", "c1")
    t.lead("L2", "12-02 10:01", phone=PHONE)  # the follow-up touched it
    assert t.owners("L2") == ["c1"] and t.rules("L2") == ["R-OW-3"]


def test_R_OW_0_a_ruling_decides_and_new_leads_follow_it_passing_the_holder():
    s = Story("campus")
    s.lead("L1", "11-02 10:00", phone=PHONE)
    s.add("RulingMade", "11-02 11:00", lead="L1", owner="c3", reason="主任裁定")
    s.lead("L2", "11-02 12:00", "walk_in", phone=PHONE)
    assert s.owners("L1", "L2") == ["c3", "c3"]
    assert s.rules("L1", "L2") == ["R-OW-0", "R-OW-0"]
    assert s.turns("11-02")[("c2", "walk_in")] == (1, 0)


def test_R_OW_1_a_signed_customer_returns_to_the_contract_consultant_uncounted():
    s = Story("campus")
    s.lead("L1", "11-02 10:00", phone=PHONE).contract("K1", "L1", "11-02 11:00")
    s.lead("L2", "12-20 10:00", "walk_in", phone=PHONE)  # untracked but signed
    assert s.owners("L2") == ["c1"] and s.rules("L2") == ["R-OW-1"]
    assert s.turns("12-20") == {}
    s.add("ContractCancelled", "12-21 10:00", contract="K1")
    s.lead("L3", "12-22 10:00", "walk_in", phone=PHONE)
    assert s.rules("L3") == ["R-OW-3"]  # tracked again since L2, no live contract


def test_R_OW_1b_a_customer_referral_goes_to_the_referrers_owner_where_the_policy_says_so():
    s = Story("campus")
    s.lead("L1", "11-02 10:00", phone=PHONE).lead("L2", "11-02 10:10")
    s.lead("R1", "11-02 11:00", "customer_referral", phone="13955550001", referrer_phone="+8613911110001")
    assert s.owners("R1") == ["c1"] and s.rules("R1") == ["R-OW-1b"]
    assert s.turns("11-02")[("c1", "customer_referral")] == (0, 1)
    r = Story("realty")
    r.lead("L1", "11-02 10:00", phone=PHONE)
    r.lead("R1", "11-02 11:00", "customer_referral", phone="13955550001", referrer_phone=PHONE)
    assert r.owners("R1") == ["c2"] and r.rules("R1") == ["R-RT-2"]  # by the walk_in rotation


def test_R_OW_2_a_named_or_prior_contact_consultant_owns_the_lead():
    s = Story("campus")
    s.lead("L1", "11-02 10:00", named="c3").lead("L2", "11-02 10:10", prior_contact="c3")
    s.presence("c3", "11-02 10:20", "away").lead("L3", "11-02 10:30", named="c3", taken_by="c1")
    assert s.owners("L1", "L2", "L3") == ["c3", "c3", "c3"]
    assert s.rules("L1", "L2", "L3") == ["R-OW-2", "R-OW-2", "R-OW-2"]


def test_R_OW_2a_realty_named_but_absent_splits_the_credit_with_the_receiver():
    s = Story("realty")
    s.presence("c2", "11-02 09:00", "away")
    s.lead("W1", "11-02 10:00", named="c2", taken_by="c1").contract("K1", "W1", "11-03 10:00", amount="400000.00")
    answer = s.owner("W1")
    assert (answer["owner"], answer["rule"], answer["disputed"]) == ("c2", "R-OW-2a", False)
    credits = s.state().money.contracts["K1"].credits
    assert [(c.consultant, c.share, c.rule) for c in credits] == [("c2", Decimal("0.5"), "R-OW-2a"), ("c1", Decimal("0.5"), "R-OW-2a")]


def test_R_OW_3_first_keeps_in_fitness_and_new_wins_in_realty():
    f = Story("fitness")
    f.lead("L1", "11-02 10:00", phone=PHONE).lead("L2", "11-02 11:00", "online", phone=PHONE)
    assert f.owners("L2") == ["c1"] and f.rules("L2") == ["R-OW-3"]
    assert f.turns("11-02")[("c1", "online")] == (1, 0)  # the turn holder passed normally
    r = Story("realty")
    r.lead("L1", "11-02 10:00", phone=PHONE).lead("L2", "11-02 11:00", phone=PHONE)
    assert r.owners("L1", "L2") == ["c2", "c2"] and r.rules("L2") == ["R-OW-3"]
    assert r.turns("11-02")[("c2", "walk_in")] == (1, 1)


def test_R_OW_3b_same_day_inbound_contact_before_the_hotline_keeps_the_customer():
    s = Story("campus")
    s.lead("D1", "11-02 10:00", "hq_referral", phone=PHONE).followup("D1", "11-02 11:00", "c1")
    s.lead("H0", "11-03 09:10", "hotline")
    s.followup("D1", "11-03 09:30", "c1", "inbound")
    s.lead("H1", "11-03 10:00", "hotline", phone=PHONE)
    assert s.owners("D1", "H1") == ["c1", "c1"] and s.rules("H1") == ["R-OW-3b"]
    assert s.turns("11-03")[("c2", "hotline")] == (1, 0)  # the hotline's holder passed normally


def test_R_OW_3b_hotline_after_tracking_takes_the_customer_then_evidence_gives_it_back():
    s = Story("campus")
    s.lead("D1", "11-02 10:00", "hq_referral", phone=PHONE).followup("D1", "11-02 11:00", "c1")
    s.lead("H0", "11-03 09:50", "hotline")
    s.lead("H1", "11-03 10:00", "hotline", phone=PHONE)
    assert s.owners("H1", at="11-03 11:00") == ["c2"] and s.rules("H1", at="11-03 11:00") == ["R-OW-3b"]
    assert s.turns("11-03", at="11-03 11:00")[("c2", "hotline")] == (1, 1)
    s.followup("D1", "11-03 15:00", "c1", "inbound")
    assert s.owners("H1") == ["c1"] and s.rules("H1") == ["R-OW-3b"]
    assert s.turns("11-03")[("c2", "hotline")] == (1, 0)  # counted as a pass
    t = Story("campus")
    t.lead("D1", "11-02 10:00", "hq_referral", phone=PHONE).followup("D1", "11-02 11:00", "c1")
    t.lead("H0", "11-03 09:50", "hotline").lead("H1", "11-03 10:00", "hotline", phone=PHONE)
    t.followup("D1", "11-04 09:00", "c1", "inbound")  # not the same day: no evidence
    assert t.owners("H1") == ["c2"] and t.rules("H1") == ["R-OW-3b"]


def test_R_OW_3c_a_customer_referral_loses_to_a_referral_channel_naming_nobody():
    s = Story("campus")
    s.lead("X", "11-02 09:30", "outbound", phone="13922220001", maker="c3")
    s.lead("R1", "11-02 10:00", "customer_referral", phone=PHONE, referrer_phone="13922220001")
    s.lead("Q1", "11-02 11:00", "internal_referral", phone=PHONE)
    assert s.owners("R1", at="11-02 10:30") == ["c3"]
    assert s.owners("Q1") == ["c1"] and s.rules("Q1") == ["R-OW-3c"]


def test_R_OW_3d_a_conference_duplicate_stays_and_rewards_its_provider():
    s = Story("campus")
    s.lead("L1", "11-02 10:00", phone=PHONE)
    s.lead("C1", "11-02 11:00", "conference", phone=PHONE, taken_by="c2")
    answer = s.owner("C1")
    assert (answer["owner"], answer["rule"], answer["disputed"]) == ("c1", "R-OW-3d", False)
    reward, = s.state().money.provider_rewards
    assert (reward.consultant, reward.lead) == ("c2", "C1")


def test_R_OW_4_otherwise_the_lead_goes_by_its_channel():
    s = Story("campus")
    s.lead("X", "11-02 10:00", "outbound", maker="c2").lead("N", "11-02 22:00", "hq_referral")
    s.lead("O", "11-02 22:00", "online")  # online has no shift rules in campus
    assert s.rules("X", "N", "O", at="11-02 23:00") == ["R-CH-3", "R-SH-5", "R-RT-2"]


def test_R_OW_5_an_untracked_customer_whose_owner_left_is_allocated_as_new():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00", phone=PHONE)
    s.add("ConsultantLeft", "11-03 10:00", consultant="c1")
    assert s.owners("L1") == ["c1"]  # R-RO-3: stays theirs
    s.lead("L2", "11-04 10:00", phone=PHONE)
    assert s.owners("L1", "L2") == ["c2", "c2"] and s.rules("L2") == ["R-RT-2"]


def test_R_OW_6_explain_gives_each_decision_its_rule_candidates_and_grounds():
    s = Story("fitness")
    s.presence("c1", "11-02 09:00", "away")
    s.lead("L1", "11-02 10:00", phone=PHONE).followup("L1", "11-02 11:00", "c2")
    s.lead("L2", "11-02 12:00", phone=PHONE)
    out = queries.explain(s.state(), "L1")
    first = out["timeline"][0]
    assert first["rule"] == "R-RT-2" and first["owner"] == "c2"
    assert {"consultant": "c1", "outcome": "passed", "why": "away (R-PR-2)"} in first["candidates"]
    assert first["seq"] in first["rests_on"] and 5 in first["rests_on"]  # the presence change
    assert [e["type"] for e in out["timeline"]] == ["LeadArrived", "FollowUpLogged", "LeadArrived"]
    assert out["timeline"][2]["rule"] == "R-OW-3"


def test_R_OW_7_a_claim_disputes_only_when_it_disagrees():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00").add("ClaimMade", "11-02 11:00", lead="L1", consultant="c1", reason="mine")
    assert s.owner("L1")["disputed"] is False
    s.add("ClaimMade", "11-02 12:00", lead="L1", consultant="c2", reason="I called first")
    assert s.owner("L1")["disputed"] is True
    entry, = queries.disputes(s.state())["disputes"]
    assert entry["lead"] == "L1" and entry["owner"] == "c1" and len(entry["claims"]) == 2


def test_R_OW_8_a_taken_lead_stays_with_its_rule_owner_and_is_disputed_until_ruled():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00", taken_by="c3")
    answer = s.owner("L1")
    assert (answer["owner"], answer["disputed"]) == ("c1", True)
    entry, = queries.disputes(s.state())["disputes"]
    assert entry["claims"][0]["consultant"] == "c3"
    s.add("RulingMade", "11-02 11:00", lead="L1", owner="c3", reason="ok")
    assert s.owner("L1")["disputed"] is False and s.owner("L1")["owner"] == "c3"
