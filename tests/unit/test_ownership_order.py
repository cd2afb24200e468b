"""The R-OW order as data (`projections.rules.ownership.ORDER`): its rule ids are the rulebook's
precedence, and each rule's function returns None when its rule does not apply (and a Decision
when it does), at each moment the order is asked (arrival, the 09:01 deferral, an inbound contact)."""
from __future__ import annotations

import datetime as dt

import pytest
from rules_kit import Story, T

from ledger import rules
from projections.rules import identity
from projections.rules import ownership as own
from projections.state import Customer, Lead

PHONE = "13911110001"
OTHER = "13911110002"

# §7: R-OW-0, 1, 1b, 2 (2a inside), the R-OW-3 exceptions before the R-OW-3 default (3c before 3b:
# a weak referral has "no evidence exception"), then R-OW-4 (R-OW-5: allocated as new).
RULEBOOK_ORDER = ("R-OW-0", "R-OW-1", "R-OW-1b", "R-OW-2", "R-OW-3d", "R-OW-3c", "R-OW-3b", "R-OW-3", "R-OW-4")


def ask(story: Story, channel: str, at: str, phone: str = PHONE, moment: str = own.ARRIVAL, arrived: str | None = None,
        **facts) -> own.Ask:
    """The question the order answers at `at` for a lead of `channel` (arrived then, or at `arrived`),
    after the story so far."""
    state = story.state()
    when = dt.datetime.fromisoformat(T(at))
    came = dt.datetime.fromisoformat(T(arrived)) if arrived else when
    cid = identity.customer_key(state, "NEW", phone)
    cust = state.customers.get(cid) or Customer(cid)
    local = state.cal.local(when)
    lead = Lead("NEW", channel, came, 999, cid, state.cal.local(came).date(), phone, facts.get("taken_by"), None)
    return own.Ask(state, cust, lead, when, local, moment, **facts)


def tracked_by_c1(preset: str = "campus", channel: str = "hq_referral") -> Story:
    s = Story(preset)
    s.lead("D1", "11-02 10:00", channel, phone=PHONE).followup("D1", "11-02 11:00", "c1")
    return s


def test_the_table_is_the_rulebook_order():
    assert tuple(rule_id for rule_id, _ in own.ORDER) == RULEBOOK_ORDER
    assert len({rule_id for rule_id, _ in own.ORDER}) == len(own.ORDER)
    known = {r.id for r in rules.all_rules()}
    assert set(RULEBOOK_ORDER) <= known
    reference = [r.id for r in rules.all_rules() if r.id in RULEBOOK_ORDER]
    majors = [reference.index(rule_id.rstrip("bcd")) for rule_id in RULEBOOK_ORDER]
    assert majors == sorted(majors)  # an exception sits with its rule, never before an earlier one


def test_decide_takes_the_first_rule_that_applies():
    s = tracked_by_c1()
    s.add("RulingMade", "11-02 12:00", lead="D1", owner="c3", reason="test")
    decision = own.decide(ask(s, "hotline", "11-03 10:00", named="c2"))  # R-OW-0 beats R-OW-2 and R-OW-3b
    assert (decision.owner, decision.rule, decision.take) == ("c3", "R-OW-0", False)
    with pytest.raises(AttributeError):
        decision.owner = "c1"  # frozen


def test_R_OW_0_applies_only_under_a_ruling():
    s = tracked_by_c1()
    assert own.ruled(ask(s, "walk_in", "11-03 10:00")) is None
    s.add("RulingMade", "11-02 12:00", lead="D1", owner="c2", reason="test")
    for moment in (own.ARRIVAL, own.DEFERRAL, own.INBOUND):
        assert own.ruled(ask(s, "walk_in", "11-03 10:00", moment=moment)).owner == "c2"
    assert own.ruled(ask(s, "walk_in", "11-03 10:00", moment=own.DEFERRAL)).route is None


def test_R_OW_1_applies_only_to_a_live_contract_at_arrival():
    s = tracked_by_c1()
    assert own.signed_customer(ask(s, "walk_in", "11-03 10:00")) is None  # no contract
    s.contract("K1", "D1", "11-02 12:00")
    decision = own.signed_customer(ask(s, "walk_in", "11-03 10:00"))
    assert (decision.owner, decision.rule, decision.route) == ("c1", "R-OW-1", None)
    assert own.signed_customer(ask(s, "walk_in", "11-03 10:00", moment=own.DEFERRAL)) is None
    s.add("ContractCancelled", "11-02 13:00", contract="K1")
    assert own.signed_customer(ask(s, "walk_in", "11-03 10:00")) is None


def test_R_OW_1b_and_R_OW_2_apply_only_with_their_consultant():
    s = Story("campus")
    assert own.referred(ask(s, "customer_referral", "11-02 10:00")) is None
    assert own.named_consultant(ask(s, "walk_in", "11-02 10:00")) is None
    decision = own.referred(ask(s, "customer_referral", "11-02 10:00", referrer="c3"))
    assert (decision.owner, decision.rule, decision.take, decision.counted) == ("c3", "R-OW-1b", True, True)
    decision = own.named_consultant(ask(s, "walk_in", "11-02 10:00", named="c2"))
    assert (decision.owner, decision.rule, decision.split) == ("c2", "R-OW-2", None)


def test_R_OW_2a_only_when_the_named_consultant_is_absent_and_someone_else_received():
    r = Story("realty")
    assert own.named_consultant(ask(r, "walk_in", "11-02 10:00", named="c2", taken_by="c1")).rule == "R-OW-2"
    r.presence("c2", "11-02 09:00", "away")
    decision = own.named_consultant(ask(r, "walk_in", "11-02 10:00", named="c2", taken_by="c1"))
    assert (decision.owner, decision.rule, decision.split) == ("c2", "R-OW-2a", "c1")
    assert own.named_consultant(ask(r, "walk_in", "11-02 10:00", named="c2")).rule == "R-OW-2"


def test_the_R_OW_3_rules_need_a_tracked_customer_at_arrival():
    untracked = Story("campus")
    untracked.lead("D1", "11-02 10:00", "customer_referral", phone=PHONE)
    for rule in (own.conference_stays, own.weak_referral, own.hotline_after_tracking, own.duplicate):
        for channel in ("conference", "hotline", "walk_in"):
            assert rule(ask(untracked, channel, "12-20 10:00")) is None, (rule.__name__, channel)  # 30 days on
    s = tracked_by_c1()
    for rule in (own.conference_stays, own.weak_referral, own.hotline_after_tracking):
        assert rule(ask(s, "hotline" if rule is not own.conference_stays else "conference", "11-03 10:00",
                        moment=own.DEFERRAL)) is None


def test_R_OW_3d_only_for_a_conference():
    s = tracked_by_c1()
    assert own.conference_stays(ask(s, "walk_in", "11-03 10:00")) is None
    decision = own.conference_stays(ask(s, "conference", "11-03 10:00", taken_by="c2"))
    assert (decision.owner, decision.rule, decision.provider, decision.take) == ("c1", "R-OW-3d", "c2", False)


def test_R_OW_3c_only_when_P_holds_through_a_customer_referral():
    s = tracked_by_c1()  # held through hq_referral
    assert own.weak_referral(ask(s, "internal_referral", "11-03 10:00")) is None
    t = tracked_by_c1(channel="customer_referral")
    assert own.weak_referral(ask(t, "walk_in", "11-03 10:00")) is None
    decision = own.weak_referral(ask(t, "internal_referral", "11-03 10:00"))
    assert (decision.rule, decision.take, decision.as_pass) == ("R-OW-3c", True, False)
    assert decision.owner == decision.route.receiver


def test_R_OW_3b_only_for_a_hotline_and_its_give_back_only_after_a_revocable_takeover():
    s = tracked_by_c1()
    assert own.hotline_after_tracking(ask(s, "walk_in", "11-03 10:00")) is None
    taken = own.hotline_after_tracking(ask(s, "hotline", "11-03 10:00"))
    assert (taken.rule, taken.take, taken.revocable) == ("R-OW-3b", True, True)
    assert taken.owner == taken.route.receiver
    s.followup("D1", "11-03 09:30", "c1", "inbound")
    kept = own.hotline_after_tracking(ask(s, "hotline", "11-03 10:00"))
    assert (kept.owner, kept.take, kept.revocable) == ("c1", False, False)
    # an inbound contact gives nothing back without a pending takeover
    assert own.hotline_after_tracking(ask(s, "hotline", "11-03 11:00", moment=own.INBOUND, contact="c1")) is None


def test_R_OW_3b_give_back_through_the_order():
    s = tracked_by_c1()
    s.lead("H0", "11-03 09:50", "hotline").lead("H1", "11-03 10:00", "hotline", phone=PHONE)
    s.followup("D1", "11-03 15:00", "c1", "inbound")
    state = s.state(at="11-03 14:00")
    cust = state.customer_of("H1")
    at = dt.datetime.fromisoformat(T("11-03 15:00"))
    cust.inbound["c2"] = at
    assert own.on_inbound(state, cust, "c2", at) is None  # not the previous owner
    cust.inbound["c1"] = at
    given = own.on_inbound(state, cust, "c1", at)
    assert (given.owner, given.rule, cust.owner, cust.pending_3b) == ("c1", "R-OW-3b", "c1", None)


def test_R_OW_3_at_the_deferral_only_for_an_owner_gained_after_the_lead():
    s = tracked_by_c1()
    assert own.duplicate(ask(s, "walk_in", "11-03 10:00", moment=own.DEFERRAL)) is None  # owner since before
    s.lead("N2", "11-03 10:05", "walk_in", phone=OTHER)  # a lead of another customer allocated meanwhile
    joined = own.duplicate(ask(s, "walk_in", "11-03 10:10", phone=OTHER, moment=own.DEFERRAL, arrived="11-03 10:00"))
    assert (joined.owner, joined.rule, joined.route) == (s.owners("N2")[0], "R-OW-3", None)
    assert own.duplicate(ask(s, "walk_in", "11-03 10:10", phone=OTHER, moment=own.DEFERRAL, arrived="11-03 10:06")) is None


def test_R_OW_4_decides_every_arrival_and_deferral_but_no_inbound_contact():
    s = Story("campus")
    assert own.by_channel(ask(s, "walk_in", "11-02 10:00", moment=own.INBOUND)) is None
    decision = own.by_channel(ask(s, "walk_in", "11-02 10:00"))
    assert (decision.owner, decision.rule, decision.take, decision.as_pass) == ("c1", "R-RT-2", True, False)
    assert own.decide(ask(s, "walk_in", "11-02 10:00", phone=OTHER)) == decision
