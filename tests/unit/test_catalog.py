"""The import-validation fold (projections.catalog): pure, no database."""
from __future__ import annotations

import pytest

from ledger.events import EventProblems, parse_event
from projections.catalog import Catalog


def e(event_type: str, when: str = "2026-11-01T09:00:00+08:00", team: str = "xq", **keys):
    return parse_event({"type": event_type, "team": team, "at": when, **keys})


def with_roster(*seats: int, team: str = "xq") -> Catalog:
    catalog = Catalog()
    assert catalog.check(e("PolicyAdopted", team=team, preset="campus")) == []
    for number, seat in enumerate(seats, 1):
        assert catalog.check(e("ConsultantJoined", team=team, consultant=f"c{number}", name="N", seat=seat)) == []
    return catalog


def test_a_team_without_a_policy_adoption_accepts_nothing_else():
    problems = Catalog().check(e("ConsultantJoined", consultant="c1", name="A", seat=1))
    assert problems[0][0] == "team" and "PolicyAdopted" in problems[0][1]


def test_an_event_before_the_first_policy_adoption_is_rejected_but_the_same_moment_is_fine():
    catalog = with_roster(1)
    assert catalog.check(e("ConsultantLeft", when="2026-11-01T08:59:59+08:00", consultant="c1"))[0][0] == "at"
    assert catalog.check(e("ConsultantLeft", when="2026-11-01T01:00:00+00:00", consultant="c1")) == []


def test_teams_do_not_share_state():
    catalog = with_roster(1, team="a")
    assert catalog.check(e("PresenceChanged", team="b", consultant="c1", presence="away"))[0][0] == "team"


def test_policy_overrides_are_validated_through_the_policy_builder():
    problems = Catalog().check(e("PolicyAdopted", preset="campus", overrides={"no_such_parameter": 1}))
    assert problems and problems[0][0] == "overrides" and "no_such_parameter" in problems[0][1]
    assert Catalog().check(e("PolicyAdopted", preset="campus", overrides={"day_end": "17:00"})) == []


def test_joining_twice_or_on_a_taken_seat_is_an_error_but_a_seat_left_free_can_be_taken():
    catalog = with_roster(1, 2)
    assert [k for k, _ in catalog.check(e("ConsultantJoined", consultant="c1", name="A", seat=1))] == ["consultant", "seat"]
    assert catalog.check(e("ConsultantJoined", consultant="c9", name="Z", seat=2)) == [("seat", "R-RO-1: seat 2 is taken by c2; expected a free seat")]
    assert catalog.check(e("ConsultantLeft", consultant="c2")) == []
    assert catalog.check(e("ConsultantJoined", consultant="c9", name="Z", seat=2)) == []
    assert catalog.check(e("ConsultantLeft", consultant="c2"))[0][1] == "consultant 'c2' has already left"


def test_only_adjacent_seats_swap_and_the_first_and_last_are_not_adjacent():
    catalog = with_roster(1, 2, 3)
    assert catalog.check(e("SeatsSwapped", a="c1", b="c3")) == [("b", "R-RO-2: c1 and c3 are not adjacent (seats 1 and 3)")]
    assert catalog.check(e("SeatsSwapped", a="c3", b="c1"))[0][1].startswith("R-RO-2: c3 and c1 are not adjacent")
    assert catalog.check(e("SeatsSwapped", a="c1", b="c2")) == []
    # c2 now sits in seat 1, c1 in seat 2: c1 and c3 are neighbours now
    assert catalog.check(e("SeatsSwapped", a="c1", b="c3")) == []


def test_adjacency_skips_empty_seats_and_consultants_who_have_left():
    catalog = with_roster(1, 5, 9)
    assert catalog.check(e("SeatsSwapped", a="c1", b="c2")) == []  # seats 1 and 5: neighbours in the order
    assert catalog.check(e("ConsultantLeft", consultant="c1")) == []
    assert catalog.check(e("SeatsSwapped", a="c2", b="c3")) == []  # c2 (seat 1) and c3 (seat 9)
    assert "has left" in catalog.check(e("SeatsSwapped", a="c1", b="c2"))[0][1]


def test_references_to_unknown_consultants_leads_contracts_and_penalties_are_errors():
    catalog = with_roster(1)
    checks = {
        "named": e("LeadArrived", lead="L1", channel="walk_in", named="ghost"),
        "maker": e("LeadArrived", lead="L2", channel="outbound", maker="ghost"),
        "lead": e("FollowUpLogged", lead="nope", consultant="c1", direction="inbound"),
        "owner": e("RulingMade", lead="nope", owner="ghost", reason="r"),
        "contract": e("PaymentReceived", contract="K", amount="1.00"),
        "penalty": e("PenaltyLifted", penalty="P1"),
        "other": e("CustomersLinked", lead="nope", other="nope2"),
        "consultant": e("TargetSet", consultant="ghost", month="2026-11", red="1.00", green="2.00"),
    }
    for key, event in checks.items():
        assert key in [k for k, _ in catalog.check(event)], key
    assert [k for k, _ in catalog.check(e("RulingMade", lead="nope", owner="ghost", reason="r"))] == ["lead", "owner"]


def test_lead_contract_and_penalty_ids_are_unique_within_a_team():
    catalog = with_roster(1)
    assert catalog.check(e("LeadArrived", lead="L1", channel="walk_in")) == []
    assert catalog.check(e("LeadArrived", lead="L1", channel="online"))[0][0] == "lead"
    assert catalog.check(e("ContractSigned", contract="K", lead="L1", amount="10.00")) == []
    assert catalog.check(e("ContractSigned", contract="K", lead="L1", amount="10.00"))[0][0] == "contract"
    penalty = dict(consultant="c1", kind="suspend", channels=["*"], rule="R-SA-6", reason="r")
    assert catalog.check(e("PenaltyImposed", penalty="P", **penalty)) == []
    assert catalog.check(e("PenaltyImposed", penalty="P", **penalty))[0][0] == "penalty"
    assert catalog.check(e("PenaltyLifted", penalty="P")) == []


def test_a_phone_number_with_letters_or_too_few_digits_is_not_an_event_R_CO_5():
    for phone in ("n/a", "139-abc", "123", "h:13955556666", "１３９１１１１２２２２"):
        with pytest.raises(EventProblems) as refused:
            e("LeadArrived", lead="L1", channel="walk_in", phone=phone)
        assert refused.value.problems[0][0] == "phone" and "R-CO-5" in refused.value.problems[0][1]
    with pytest.raises(EventProblems):
        e("CustomerErased", phone="---")
    for phone in ("13911112222", "+86 139-1111-2222", "(010) 6275.1234", "h:" + "0" * 32 + ":2222"):
        assert e("LeadArrived", lead="L1", channel="walk_in", phone=phone).phone == phone


def test_a_rejected_event_is_not_applied_so_later_lines_see_the_state_without_it():
    catalog = with_roster(1)
    assert catalog.check(e("LeadArrived", lead="L1", channel="walk_in", named="ghost"))
    assert catalog.check(e("FollowUpLogged", lead="L1", consultant="c1", direction="inbound"))[0][0] == "lead"


def test_loading_stored_history_applies_it_without_checking():
    catalog = Catalog().load([
        e("PolicyAdopted", preset="campus"),
        e("ConsultantJoined", consultant="c1", name="A", seat=1),
        e("LeadArrived", lead="L1", channel="walk_in"),
    ])
    assert catalog.check(e("FollowUpLogged", lead="L1", consultant="c1", direction="inbound")) == []


def test_every_event_naming_a_consultant_or_a_lead_checks_both_exist():
    catalog = with_roster(1)
    assert not catalog.check(e("LeadArrived", lead="L1", channel="walk_in", phone="13800000001"))
    about_lead = {"FollowUpLogged": {"direction": "outbound"}, "ClaimMade": {"reason": "mine"},
                  "InvitationRecorded": {}, "VisitRecorded": {}, "GradeProposed": {"grade": "A"},
                  "GradeConfirmed": {"grade": "A"}}
    for kind, extra in about_lead.items():
        assert [key for key, _ in catalog.check(e(kind, lead="L1", consultant="ghost", **extra))] == ["consultant"]
        assert [key for key, _ in catalog.check(e(kind, lead="L9", consultant="c1", **extra))] == ["lead"]
    only_consultant = {"ShiftAssigned": {"date": "2026-11-02", "shift": "early"},
                       "PresenceChanged": {"presence": "away"}, "ComplaintVerified": {"reason": "x"},
                       "TargetSet": {"month": "2026-11", "red": "1.00", "green": "1.00"}}
    for kind, extra in only_consultant.items():
        assert [key for key, _ in catalog.check(e(kind, consultant="ghost", **extra))] == ["consultant"]
        assert catalog.check(e(kind, consultant="c1", **extra)) == []


# -- R-T-5: the roster as of a back-dated roster event's own time ---------------------------------

D2 = "2026-11-02T{}:00+08:00"


def test_R_RO_2_a_back_dated_swap_must_be_adjacent_in_the_seat_order_of_its_own_time():
    catalog = with_roster(1, 2, 3, 4)
    assert catalog.check(e("ConsultantLeft", when=D2.format("10:00"), consultant="c2")) == []
    # at 09:00 c2 still sat between c1 and c3
    assert catalog.check(e("SeatsSwapped", when=D2.format("09:00"), a="c1", b="c3")) == [
        ("b", "R-RO-2: c1 and c3 are not adjacent (seats 1 and 3)")]
    # c1 and c2 were adjacent then, though c2 has left since
    assert catalog.check(e("SeatsSwapped", when=D2.format("09:00"), a="c1", b="c2")) == []
    # and after c2's leave, c1 and c3 are adjacent (c1 now holds seat 2)
    assert catalog.check(e("SeatsSwapped", when=D2.format("11:00"), a="c1", b="c3")) == []
    assert catalog.team("xq").seat_order() == ["c3", "c1", "c4"]


def test_a_back_dated_leave_or_swap_names_only_consultants_who_had_joined_by_then():
    catalog = with_roster(1, 2)
    assert catalog.check(e("ConsultantJoined", when="2026-11-03T09:00:00+08:00", consultant="c5", name="E", seat=5)) == []
    left = catalog.check(e("ConsultantLeft", when=D2.format("10:00"), consultant="c5"))
    assert left[0][0] == "consultant" and "joins only at 2026-11-03T09:00:00+08:00" in left[0][1]
    swapped = catalog.check(e("SeatsSwapped", when=D2.format("10:00"), a="c2", b="c5"))
    assert swapped[0][0] == "b" and "joins only at" in swapped[0][1]
    # other events may name a consultant before their join (a shift planned the day before)
    assert catalog.check(e("ShiftAssigned", when=D2.format("17:00"), consultant="c5", date="2026-11-03", shift="early")) == []


def test_R_RO_1_a_back_dated_join_needs_a_seat_free_from_its_time_on():
    catalog = with_roster(1)
    assert catalog.check(e("ConsultantJoined", when="2026-11-03T09:00:00+08:00", consultant="c7", name="G", seat=7)) == []
    # seat 7 was free on 11-02, but c7 takes it on 11-03
    assert catalog.check(e("ConsultantJoined", when=D2.format("09:00"), consultant="c9", name="Z", seat=7)) == [
        ("seat", "R-RO-1: seat 7 is taken by c7; expected a free seat")]
    assert catalog.check(e("ConsultantJoined", when=D2.format("09:00"), consultant="c9", name="Z", seat=8)) == []
