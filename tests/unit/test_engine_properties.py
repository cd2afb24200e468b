"""Invariants of the fold over generated histories (hypothesis).

The strategy builds valid histories: a policy, consultants, presence changes, shifts, leads on
random channels/times/phones (a small phone pool so duplicates happen), follow-ups, claims,
rulings, contracts, payments, refunds, penalties and lifts, leaves, joins, adjacent swaps and
links -- some of them recorded late (back-dated).
"""
from __future__ import annotations

import datetime as dt
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.events import Recorded, parse_event
from projections import queries
from projections.engine import TeamState, apply, dump_checkpoint, load_checkpoint, replay

TZ = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=TZ)
CHANNELS = ["hotline", "online", "hq_referral", "internal_referral", "walk_in", "marketing", "conference",
            "customer_referral", "outbound"]
PHONES = [f"1390000{i:04d}" for i in range(8)]


@st.composite
def histories(draw):
    preset = draw(st.sampled_from(["campus", "realty", "fitness"]))
    events = [{"type": "PolicyAdopted", "at": T0, "preset": preset}]
    seats = {}
    n = draw(st.integers(2, 5))
    for i in range(1, n + 1):
        seats[f"c{i}"] = i
        events.append({"type": "ConsultantJoined", "at": T0, "consultant": f"c{i}", "name": f"C{i}", "seat": i})
    active = list(seats)
    leads, contracts, penalties = [], [], []
    t = T0
    for step in range(draw(st.integers(1, 35))):
        t = t + dt.timedelta(minutes=draw(st.integers(0, 900)))
        # a few events are back-dated (recorded late)
        at = t - dt.timedelta(minutes=draw(st.sampled_from([0, 0, 0, 0, 0, 0, 90])))
        kind = draw(st.sampled_from(["lead"] * 6 + ["followup"] * 2 + ["presence"] * 2 + [
            "shift", "claim", "ruling", "contract", "payment", "refund", "penalty", "lift", "leave", "join",
            "swap", "link", "visit", "invite", "complaint", "grade", "target", "loan", "cancel", "erase",
            "policy"]))
        who = draw(st.sampled_from(active))
        e = None
        if kind == "lead":
            channel = draw(st.sampled_from(CHANNELS))
            lid = f"L{len(leads)}"
            e = {"type": "LeadArrived", "at": at, "lead": lid, "channel": channel}
            phone = draw(st.sampled_from(PHONES + [None]))
            if phone:
                e["phone"] = phone
            if channel == "outbound":
                e["maker"] = who
            if channel == "customer_referral":
                e["referrer_phone"] = draw(st.sampled_from(PHONES))
            extra = draw(st.sampled_from(["", "", "", "named", "taken_by", "callback"]))
            if extra == "named":
                e["named"] = draw(st.sampled_from(active))
            elif extra == "taken_by":
                e["taken_by"] = draw(st.sampled_from(active))
            elif extra == "callback":
                e["callback_on"] = (at + dt.timedelta(days=2)).date().isoformat()
            leads.append((lid, at))
        elif kind == "complaint":
            e = {"type": "ComplaintVerified", "at": at, "consultant": who, "reason": "complaint"}
        elif kind == "target":
            e = {"type": "TargetSet", "at": at, "consultant": who, "month": at.strftime("%Y-%m"),
                 "red": "1000.00", "green": "500.00"}
        elif kind == "erase":
            e = {"type": "CustomerErased", "at": at, "phone": draw(st.sampled_from(PHONES))}
        elif kind == "policy":
            e = {"type": "PolicyAdopted", "at": at, "preset": draw(st.sampled_from(["campus", "realty", "fitness"]))}
            override = draw(st.sampled_from([None, {"day_end": "17:00"}, {"tracking_days": 1},
                                             {"orders": {"walk_in": "ranking", "online": "weighted"}}]))
            if override:
                e["overrides"] = override
        elif kind in ("loan", "cancel") and contracts:
            kid, signed = draw(st.sampled_from(contracts))
            e = ({"type": "LoanDisbursed", "at": max(at, signed), "contract": kid, "amount": "100.00"} if kind == "loan"
                 else {"type": "ContractCancelled", "at": max(at, signed), "contract": kid})
        elif kind in ("followup", "claim", "ruling", "contract", "link", "visit", "invite", "grade") and leads:
            lid, arrived = draw(st.sampled_from(leads))
            at = max(at, arrived)
            if kind == "followup":
                e = {"type": "FollowUpLogged", "at": at, "lead": lid, "consultant": who,
                     "direction": draw(st.sampled_from(["inbound", "outbound"]))}
            elif kind == "claim":
                e = {"type": "ClaimMade", "at": at, "lead": lid, "consultant": who, "reason": "mine"}
            elif kind == "ruling":
                e = {"type": "RulingMade", "at": at, "lead": lid, "owner": who, "reason": "ruled"}
            elif kind == "visit":
                e = {"type": "VisitRecorded", "at": at, "lead": lid, "consultant": who}
            elif kind == "invite":
                e = {"type": "InvitationRecorded", "at": at, "lead": lid, "consultant": who}
            elif kind == "grade":
                e = {"type": draw(st.sampled_from(["GradeProposed", "GradeConfirmed"])), "at": at, "lead": lid,
                     "grade": draw(st.sampled_from(["A", "B", "C"]))}
            elif kind == "link":
                other, other_at = draw(st.sampled_from(leads))
                if other != lid:
                    e = {"type": draw(st.sampled_from(["CustomersLinked", "CustomersUnlinked"])),
                         "at": max(at, other_at), "lead": lid, "other": other}
            else:
                kid = f"K{len(contracts)}"
                e = {"type": "ContractSigned", "at": at, "contract": kid, "lead": lid,
                     "amount": draw(st.sampled_from(["1000.00", "5000.00"])), "deposit": draw(st.booleans())}
                contracts.append((kid, at))
        elif kind in ("payment", "refund") and contracts:
            kid, signed = draw(st.sampled_from(contracts))
            e = {"type": "PaymentReceived" if kind == "payment" else "ContractRefunded", "at": max(at, signed),
                 "contract": kid, "amount": "300.00"}
        elif kind == "presence":
            e = {"type": "PresenceChanged", "at": at, "consultant": who,
                 "presence": draw(st.sampled_from(["on_post", "on_post", "away", "leave", "busy_new", "busy_old"]))}
        elif kind == "shift":
            e = {"type": "ShiftAssigned", "at": at, "consultant": who,
                 "date": (at + dt.timedelta(days=draw(st.integers(0, 1)))).date().isoformat(),
                 "shift": draw(st.sampled_from(["early", "late", "overtime"]))}
        elif kind == "penalty":
            pid = f"P{len(penalties)}"
            pk = draw(st.sampled_from(["suspend", "skip", "throttle"]))
            e = {"type": "PenaltyImposed", "at": at, "penalty": pid, "consultant": who, "kind": pk,
                 "channels": [draw(st.sampled_from(["*", "walk_in", "hotline", "marketing"]))],
                 "rule": "R-SA-1", "reason": "test"}
            if pk == "suspend":
                e["until"] = at + dt.timedelta(hours=draw(st.integers(1, 48)))
            elif pk == "skip":
                e["turns"] = draw(st.integers(1, 2))
            else:
                e["take"], e["of"] = 1, draw(st.integers(2, 3))
            penalties.append(pid)
        elif kind == "lift" and penalties:
            e = {"type": "PenaltyLifted", "at": at, "penalty": draw(st.sampled_from(penalties))}
        elif kind == "leave" and len(active) > 1 and at == t:
            active.remove(who)
            e = {"type": "ConsultantLeft", "at": at, "consultant": who}
        elif kind == "join" and at == t:
            cid = f"c{len(seats) + 1}"
            seats[cid] = max(seats.values()) + 1
            active.append(cid)
            e = {"type": "ConsultantJoined", "at": at, "consultant": cid, "name": cid, "seat": seats[cid]}
        elif kind == "swap" and len(active) > 1 and at == t:
            order = sorted(active, key=lambda c: seats[c])
            i = draw(st.integers(0, len(order) - 2))
            a, b = order[i], order[i + 1]
            seats[a], seats[b] = seats[b], seats[a]
            e = {"type": "SeatsSwapped", "at": at, "a": a, "b": b}
        if e is not None:
            events.append(e)
    for e in events:
        e["team"] = "t"
        for key in ("at", "until"):
            if key in e:
                e[key] = e[key].isoformat()
    return [Recorded(i + 1, parse_event(e)) for i, e in enumerate(events)]


def snapshot(state: TeamState) -> dict:
    """Every answer that matters, comparable."""
    leads = [lid for lid, lead in state.leads.items()]
    out = {
        "owners": {lid: queries.owner(state, lid) for lid in leads},
        "counts": {k: tuple(v) for k, v in state.counts.items() if v != [0, 0]},
        "sanctions": queries.sanctions(state),
        "disputes": queries.disputes(state),
        "followups": queries.followups(state),
        "credits": {k: c.credits for k, c in state.money.contracts.items()},
        "explain": {lid: queries.explain(state, lid) for lid in leads[:5]},
        "next": {ch: queries.next_owner(state, ch, state.clock) for ch in ("hotline", "walk_in", "marketing")}
        if state.clock else None,
    }
    return out


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@SETTINGS
@given(histories())
def test_replay_is_deterministic(records):
    assert snapshot(replay(records)) == snapshot(replay(list(reversed(records))))


@pytest.mark.slow
@SETTINGS
@given(histories(), st.data())
def test_every_prefix_folds_and_an_answer_at_t_only_sees_events_up_to_t(records, data):
    cut = data.draw(st.integers(1, len(records)))
    replay(records[:cut])  # any recording prefix folds
    at = data.draw(st.sampled_from([r.event.at for r in records])) + dt.timedelta(minutes=data.draw(st.integers(0, 600)))
    full = replay(records, until=at)
    only = replay([r for r in records if r.event.at <= at], until=at)
    assert snapshot(full) == snapshot(only)


@pytest.mark.slow
@SETTINGS
@given(histories())
def test_folding_in_recording_order_equals_replaying_sorted(records):
    state = TeamState()
    for rec in records:  # late ones re-fold
        state = apply(state, rec)
    expected = replay(records)
    state = replay([], until=expected.clock, state=state)
    assert snapshot(state) == snapshot(expected)


@pytest.mark.slow
@SETTINGS
@given(histories(), st.data())
def test_a_pickled_checkpoint_continues_like_a_full_replay(records, data):
    ordered = sorted(records, key=lambda r: r.key)
    cut = data.draw(st.integers(1, len(ordered)))
    checkpoint = pickle.loads(pickle.dumps(replay(ordered[:cut])))
    assert snapshot(replay(ordered, state=checkpoint)) == snapshot(replay(ordered))


@pytest.mark.slow
@SETTINGS
@given(histories())
def test_one_owner_per_customer_joined_owners_and_no_negative_counts(records):
    state = replay(records)
    by_customer = {}
    for lid, lead in state.leads.items():
        answer = queries.owner(state, lid)
        by_customer.setdefault(lead.customer, set()).add(answer["owner"])
        assert answer["owner"] is None or answer["owner"] in state.consultants
        assert answer["rule"] is None or answer["rule"].startswith("R-")
    assert all(len(owners) == 1 for owners in by_customer.values())
    assert all(t >= 0 and n >= 0 for t, n in state.counts.values())


@pytest.mark.slow
@SETTINGS
@given(histories(), st.data())
def test_a_checkpoint_later_than_the_asked_moment_is_not_trusted(records, data):
    at = data.draw(st.sampled_from([r.event.at for r in records]))
    later = replay(records)
    assert snapshot(replay(records, until=at, state=later)) == snapshot(replay(records, until=at))


@pytest.mark.slow
@SETTINGS
@given(histories(), st.data())
def test_folding_in_chunks_like_the_store_equals_one_replay(records, data):
    ordered = sorted(records, key=lambda r: r.key)
    size = data.draw(st.integers(1, 6))
    state = None
    for start in range(0, len(ordered), size):
        chunk = ordered[start:start + size]
        state = pickle.loads(pickle.dumps(replay(chunk, until=chunk[-1].event.at, state=state)))
    at = ordered[-1].event.at + dt.timedelta(days=data.draw(st.integers(0, 3)))
    assert snapshot(replay([], until=at, state=state)) == snapshot(replay(records, until=at))


def test_a_lazy_dict_opens_a_kept_value_once_on_first_read_whatever_reads_it():
    """projections.lazy.LazyDict: the values a checkpoint kept apart come back through `fetch`
    on first use -- by key, get, pop, values or items -- and a checkpoint of it keeps only the
    values opened since (the others stay the digests they were)."""
    from projections.lazy import LazyDict
    from projections.lazy import lazy_dict as _lazy_dict

    source = LazyDict({"a": ["alpha"], "b": ["beta"], "c": ["gamma"], "d": ["delta"]})
    kept: dict = {}
    digests = source.digests(kept)
    asked = []

    def fetch(wanted):
        asked.extend(wanted)
        return {digest: kept[digest] for digest in wanted}

    lazy = _lazy_dict(digests, fetch)
    assert asked == [] and len(lazy) == 4 and "a" in lazy
    assert lazy["a"] == ["alpha"] and lazy.get("b") == ["beta"] and lazy.get("zz", 0) == 0
    assert lazy.pop("c") == ["gamma"] and lazy.pop("c", None) is None and len(asked) == 3
    again: dict = {}
    assert lazy.digests(again) == {key: digests[key] for key in ("a", "b", "d")}
    assert sorted(again) == sorted(digests[key] for key in ("a", "b"))  # "d" was never opened
    assert sorted(lazy.items()) == [("a", ["alpha"]), ("b", ["beta"]), ("d", ["delta"])]
    assert len(asked) == 4
    assert pickle.loads(pickle.dumps(lazy)) == {"a": ["alpha"], "b": ["beta"], "d": ["delta"]}


@pytest.mark.slow
@SETTINGS
@given(histories(), st.data())
def test_a_fold_that_leaves_light_checkpoints_on_the_way_answers_like_one_that_does_not(records, data):
    """`dump_checkpoint` parks the values it pickled (`LazyDict.digests(park=True)`): the fold
    goes on as if nothing happened, each later checkpoint pickles only the values read since,
    and the last one restores to the same answers."""
    ordered = sorted(records, key=lambda r: r.key)
    size = data.draw(st.integers(1, 8))
    kept: dict = {}
    state, blob = None, None
    for start in range(0, len(ordered), size):
        chunk = ordered[start:start + size]
        state = replay(chunk, until=chunk[-1].event.at, state=state)
        blob, items = dump_checkpoint(state)
        kept.update(items)
    at = ordered[-1].event.at + dt.timedelta(days=data.draw(st.integers(0, 3)))
    expected = snapshot(replay(records, until=at))
    restored = load_checkpoint(blob, lambda wanted: {d: kept[d] for d in wanted})
    assert snapshot(replay([], until=at, state=restored)) == expected
    assert snapshot(replay([], until=at, state=state)) == expected


def test_a_parked_value_comes_back_as_the_same_object_and_only_read_values_are_pickled_again():
    from projections.lazy import LazyDict

    lazy = LazyDict({"a": ["alpha"], "b": ["beta"]})
    alpha = lazy["a"]
    first: dict = {}
    digests = lazy.digests(first, park=True)
    assert len(first) == 2 and all(type(dict.__getitem__(lazy, k)) is bytes for k in "ab")
    assert lazy["a"] is alpha  # from `kept`, not unpickled: a fold goes on with the same object
    alpha.append("changed")
    second: dict = {}
    again = lazy.digests(second, park=True)
    assert again["b"] == digests["b"] and again["a"] != digests["a"] and len(second) == 1
    assert sorted(lazy.items()) == [("a", ["alpha", "changed"]), ("b", ["beta"])]
