"""R-RT-2 eligibility in one place (issue #11 item 3): `eligibility.reach`, one outcome per step,
no state changed, and the board's statuses agree with what the rotation walk does."""
from __future__ import annotations

import datetime as dt

import pytest
from rules_kit import Story, T

from projections import board
from projections.rules import eligibility, rotation
from projections.state import Queue


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(T(text))


def reach(state, cid, channel, when):
    return eligibility.reach(state, state.consultants[cid], channel, at(when))


def test_R_RT_2_an_eligible_reach_is_the_shared_constant_with_nothing_to_apply():
    state = Story("fitness").state("11-02 10:00")
    r = reach(state, "c1", "walk_in", "11-02 10:00")
    assert r is eligibility.ELIGIBLE
    assert (r.outcome, r.why, r.rests_on, r.effects) == ("eligible", "", (), ())


def test_R_RO_3_a_leaver_is_passed_as_left():
    s = Story("fitness")
    s.add("ConsultantLeft", "11-02 09:30", consultant="c2")
    r = reach(s.state("11-02 10:00"), "c2", "walk_in", "11-02 10:00")
    assert (r.outcome, r.why) == ("left", "left (R-RO-3)")


@pytest.mark.parametrize("presence", ["away", "leave", "busy_old"])
def test_R_PR_2_not_on_post_passes(presence):
    s = Story("fitness").presence("c1", "11-02 09:30", presence)
    r = reach(s.state("11-02 10:00"), "c1", "walk_in", "11-02 10:00")
    assert (r.outcome, r.why, r.effects) == (presence, f"{presence} (R-PR-2)", ())


def test_R_PR_3_busy_new_passes_counted_as_a_turn():
    s = Story("fitness").presence("c1", "11-02 09:30", "busy_new")
    r = reach(s.state("11-02 10:00"), "c1", "walk_in", "11-02 10:00")
    assert r is eligibility.BUSY_NEW
    assert (r.outcome, r.why) == ("busy_new", "busy_new, counted as a turn (R-PR-3)")


def test_R_SA_1_a_suspension_passes_in_its_channels_only_and_rests_on_the_penalty():
    s = Story("fitness").penalty("P1", "c1", "11-02 09:00", "suspend", ["walk_in"], until="11-03 09:00")
    state = s.state("11-02 10:00")
    r = reach(state, "c1", "walk_in", "11-02 10:00")
    assert (r.outcome, r.why, r.rests_on, r.effects, r.by.id) == ("suspended", "suspended (R-SA-1)", (5,), (), "P1")
    assert reach(state, "c1", "online", "11-02 10:00") is eligibility.ELIGIBLE
    assert reach(state, "c1", "walk_in", "11-03 09:00") is eligibility.ELIGIBLE  # until is exclusive


def test_R_SA_2_a_skip_passes_and_is_used_up_only_when_the_route_is_taken():
    s = Story("fitness").penalty("P1", "c1", "11-02 09:00", "skip", ["walk_in"], turns=2, rule="R-SA-2")
    state = s.state("11-02 10:00")
    sanction = state.sanctions["P1"]
    r = reach(state, "c1", "walk_in", "11-02 10:00")
    assert (r.outcome, r.why, r.by) == ("skip", "skip (R-SA-2)", sanction)
    assert r.effects == (("skip", sanction, "walk_in"),)
    reach(state, "c1", "walk_in", "11-02 10:00")
    assert sanction.turns_left == 2  # reach changes nothing
    s.lead("L1", "11-02 10:00")
    assert s.state("11-02 10:00").sanctions["P1"].turns_left == 1  # the fold applied it


def test_R_SA_3_a_throttle_counts_every_reach_and_passes_the_ones_beyond_k_of_n():
    s = Story("fitness").penalty("P1", "c1", "11-02 09:00", "throttle", ["walk_in"], take=1, of=2, rule="R-SA-3")
    state = s.state("11-02 10:00")
    first = reach(state, "c1", "walk_in", "11-02 10:00")
    assert first.outcome == "eligible" and first.effects == (("reach", state.sanctions["P1"], "walk_in"),)
    s.lead("L1", "11-02 10:00")  # c1 takes it: reach 1 counted
    state = s.state("11-02 10:05")
    second = reach(state, "c1", "walk_in", "11-02 10:05")
    assert (second.outcome, second.why, second.rests_on) == ("throttled", "throttled 1 of 2 (R-SA-3)", (5,))
    assert second.effects == (("reach", state.sanctions["P1"], "walk_in"),)  # a passed reach counts too


def test_R_SA_2_3_a_skip_decides_but_the_throttle_still_counts_the_reach():
    s = Story("fitness")
    s.penalty("P1", "c1", "11-02 09:00", "throttle", ["walk_in"], take=1, of=2, rule="R-SA-3")
    s.penalty("P2", "c1", "11-02 09:00", "skip", ["walk_in"], turns=1, rule="R-SA-2")
    state = s.state("11-02 10:00")
    r = reach(state, "c1", "walk_in", "11-02 10:00")
    assert (r.outcome, r.by.id) == ("skip", "P2")
    assert {(kind, sanction.id) for kind, sanction, _ in r.effects} == {("skip", "P2"), ("reach", "P1")}


def test_R_FU_3_an_unanswered_marketing_lead_holds_its_owner_in_the_weighted_queue_only():
    s = Story("campus")
    s.lead("M1", "11-02 10:00", "marketing")
    state = s.state("11-04 10:01")
    owner = state.customers[state.leads["M1"].customer].owner
    pending = dict(state.consultants[owner].mkt_pending)
    r = reach(state, owner, "marketing", "11-04 10:01")
    assert (r.outcome, r.why, r.by) == ("held", "no follow-up within 48 hours (R-FU-3)", "M1")
    assert reach(state, owner, "walk_in", "11-04 10:01") is eligibility.ELIGIBLE
    assert reach(state, owner, "marketing", "11-04 09:59") is eligibility.ELIGIBLE  # within 48 hours
    assert state.consultants[owner].mkt_pending == pending


# -- the board and the rotation read the same reach ----------------------------------------------


def fitness_mixed():
    s = Story("fitness", consultants=6)
    s.presence("c2", "11-02 09:10", "leave").presence("c3", "11-02 09:10", "busy_new")
    s.penalty("P1", "c4", "11-02 09:00", "suspend", ["walk_in", "marketing"], until="11-03 09:00")
    s.penalty("P2", "c5", "11-02 09:00", "skip", ["*"], turns=9, rule="R-SA-2")
    s.penalty("P3", "c6", "11-02 09:00", "throttle", ["walk_in"], take=1, of=3, rule="R-SA-3")
    s.lead("L1", "11-02 09:30").lead("L2", "11-02 09:40")
    return s, "11-02 10:00"


def campus_held():
    s = Story("campus", consultants=4)
    s.lead("M1", "11-02 10:00", "marketing").lead("M2", "11-02 10:05", "marketing")
    s.followup("M2", "11-02 11:00", "c2")
    s.presence("c4", "11-04 09:00", "away")
    return s, "11-04 10:30"


def realty_weekly():
    s = Story("realty")
    s.join("c4", "11-03 09:00", 4)
    s.lead("L1", "11-02 10:00").lead("L2", "11-02 10:10")
    s.add("InvitationRecorded", "11-03 10:00", lead="L1", consultant="c1")
    s.contract("K2", "L2", "11-04 10:00", deposit=True)
    s.lead("W1", "11-09 10:00").lead("W2", "11-09 10:05")
    return s, "11-09 11:00"


def walk_outcomes(state, channel, when):
    """{consultant: (outcome, why)} as the rotation walk finds each, the pointer put on each in
    turn (weighted: one route reaches everyone)."""
    local = state.cal.local(when)
    mode = rotation.queue_mode(state.policy, channel)
    order = rotation.queue_order(state, mode)
    if mode == "weighted":
        route = rotation.queue_route(state, channel, when, local, "R-RT-2")
        return {cid: (outcome, why) for cid, outcome, why in route.candidates}
    queue = state.queues.setdefault(channel, Queue())
    found = {}
    for cid in order:
        queue.up, queue.bonus_for = cid, None
        route = rotation.queue_route(state, channel, when, local, "R-RT-2")
        found[cid] = route.candidates[0][1:]
    return found


@pytest.mark.parametrize("story", [fitness_mixed, campus_held, realty_weekly])
def test_the_board_status_and_the_rotation_agree_for_every_consultant_and_channel(story):
    s, when = story()
    state = s.state(when)
    moment = at(when)
    seen = set()
    for channel, mode in state.policy.orders.items():
        if mode is None:
            continue
        queue = rotation.path_channel(channel)
        codes = {cid: board.status(state, cid, queue, moment) for cid in rotation.queue_order(state, mode)}
        for cid, (outcome, why) in walk_outcomes(state, queue, moment).items():
            code, board_why = codes[cid]
            seen.add(code)
            if mode == "weighted":  # R-RT-8 has no step 4: busy_new is scored
                assert (outcome in ("holder", "scored")) == (code in eligibility.TAKES), (channel, cid, code, why)
            elif code == "eligible":
                assert outcome == "holder", (channel, cid, why)
            else:
                assert outcome == "passed", (channel, cid, code)
                assert why == eligibility.reach(state, state.consultants[cid], queue, moment).why
            if outcome == "passed":
                assert why.rsplit("(", 1)[1] == board_why.rsplit("(", 1)[1], (channel, cid)  # same rule id
    assert len(seen) >= 2


def test_R_FU_3_any_unanswered_lead_holds_also_one_handed_over_after_a_newer_one():
    """The board once read only the first lead still owned (insertion order): a customer handed
    over later with an older marketing lead showed `eligible` while the rotation passed them."""
    s = Story("campus")
    s.lead("M0", "11-02 10:00", "marketing").lead("M1", "11-03 10:00", "marketing")
    first, second = s.owners("M0", "M1")
    assert first != second
    s.add("RulingMade", "11-03 11:00", lead="M0", owner=second, reason="met at the fair")
    state = s.state("11-04 10:30")
    assert list(state.consultants[second].mkt_pending) == ["M1", "M0"]
    moment = at("11-04 10:30")
    assert board.status(state, second, "marketing", moment) == (
        "held", "no follow-up of M0 within 48 hours (R-FU-3)")
    assert walk_outcomes(state, "marketing", moment)[second] == ("passed", "no follow-up within 48 hours (R-FU-3)")
