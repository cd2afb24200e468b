"""The fast decoder of stored events (ledger.codec) gives exactly what pydantic's
`model_validate_json` gives: same values and types, same field order, same fields set."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import orjson
import pytest

from fixtures.generate import generate
from ledger import codec
from ledger.events import EVENT_TYPES, parse_event


def _stored(data: dict) -> tuple[str, bytes]:
    event = parse_event(json.loads(json.dumps(data), parse_float=Decimal))
    return event.type, orjson.dumps(event.to_json_dict())


def _same(fast, slow) -> None:
    assert type(fast) is type(slow)
    assert list(fast.__dict__) == list(slow.__dict__)
    for name, value in slow.__dict__.items():
        assert type(fast.__dict__[name]) is type(value), name
        assert fast.__dict__[name] == value, name
        if isinstance(value, dt.datetime):
            assert fast.__dict__[name].utcoffset() == value.utcoffset(), name
        if isinstance(value, Decimal):
            assert str(fast.__dict__[name]) == str(value), name
    assert fast.model_fields_set == slow.model_fields_set
    assert fast == slow
    assert fast.model_dump_json(by_alias=True, exclude_none=True) == slow.model_dump_json(
        by_alias=True, exclude_none=True)
    assert hash(fast.model_dump_json()) == hash(slow.model_dump_json())


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["campus", "realty", "fitness"])
def test_fast_decode_equals_validated_decode_for_every_generated_event(preset):
    seen: set[str] = set()
    for data in generate(7, 2, 45, dt.date(2026, 3, 1), preset=preset):
        topic, state = _stored(data)
        _same(codec.decode_event(topic, state), EVENT_TYPES[topic].model_validate_json(state))
        seen.add(topic)
    assert {"LeadArrived", "FollowUpLogged", "PresenceChanged", "ContractSigned"} <= seen


SAMPLES = [
    {"type": "PolicyAdopted", "team": "t", "at": "2026-01-01T00:00:00+08:00", "preset": "campus",
     "overrides": {"rotation": {"bonus": 2}, "x": 1.5}, "timezone": "Asia/Shanghai"},
    {"type": "ConsultantJoined", "team": "t", "at": "2026-01-01T00:00:00+08:00", "consultant": "c1",
     "name": "王芳", "seat": 3, "by": "主任", "id": "e1"},
    {"type": "ShiftAssigned", "team": "t", "at": "2026-01-01T00:00:00Z", "consultant": "c1",
     "date": "2026-01-02", "shift": "late"},
    {"type": "LeadArrived", "team": "t", "at": "2026-01-01T09:00:00.123456-05:30", "lead": "L1",
     "channel": "outbound", "maker": "c1", "phone": "13900000000", "callback_on": "2026-01-03"},
    {"type": "LeadArrived", "team": "t", "at": "2026-01-01T09:00:00+08:00", "lead": "L2",
     "channel": "customer_referral", "referrer_phone": "13900000001", "named": "c2"},
    {"type": "PenaltyImposed", "team": "t", "at": "2026-01-01T09:00:00+08:00", "penalty": "p1",
     "consultant": "c1", "kind": "throttle", "channels": ["hotline", "walk_in"], "take": 1, "of": 2,
     "from": "2026-01-01T00:00:00+08:00", "until": "2026-01-08T00:00:00+08:00", "rule": "R-SA-3",
     "reason": "回访率低"},
    {"type": "PenaltyImposed", "team": "t", "at": "2026-01-01T09:00:00+08:00", "penalty": "p2",
     "consultant": "c1", "kind": "skip", "channels": ["*"], "turns": 2, "rule": "R-SA-2", "reason": "x"},
    {"type": "ContractSigned", "team": "t", "at": "2026-01-01T09:00:00+08:00", "contract": "k1",
     "lead": "L1", "amount": 12000, "kind": "renewal", "deposit": False},
    {"type": "TargetSet", "team": "t", "at": "2026-01-01T09:00:00+08:00", "consultant": "c1",
     "month": "2026-01", "red": "100000.5", "green": "0"},
    {"type": "GradeConfirmed", "team": "t", "at": "2026-01-01T09:00:00+08:00", "lead": "L1", "grade": "A"},
    {"type": "CustomerErased", "team": "t", "at": "2026-01-01T09:00:00+08:00", "phone": "13900000002"},
]


@pytest.mark.parametrize("data", SAMPLES, ids=[d["type"] for d in SAMPLES])
def test_fast_decode_equals_validated_decode_for_optional_and_aliased_keys(data):
    topic, state = _stored(data)
    _same(codec.decode_event(topic, state), EVENT_TYPES[topic].model_validate_json(state))


def test_every_event_type_has_a_fast_decoder_or_is_validated():
    assert set(codec._DECODERS) | codec._VALIDATED == set(EVENT_TYPES)


@pytest.mark.parametrize("state", [
    b'{"type":"ConsultantLeft","team":"t","at":"2026-01-01T09:00:00+08:00","consultant":"c1","extra":1}',
    b'{"type":"ConsultantLeft","team":"t","at":"2026-01-01T09:00:00","consultant":"c1"}',
    b'{"type":"ConsultantLeft","team":"t","at":"2026-01-01T09:00:00+08:00"}',
    b'{"type":"PaymentReceived","team":"t","at":"2026-01-01T09:00:00+08:00","contract":"k","amount":"1.234"}',
    b'{"type":"LeadArrived","team":"t","at":"2026-01-01T09:00:00+08:00","lead":"L","channel":"outbound"}',
])
def test_a_state_the_fast_path_does_not_trust_is_validated_and_fails_alike(state):
    topic = orjson.loads(state)["type"]
    with pytest.raises(Exception) as slow:
        EVENT_TYPES[topic].model_validate_json(state)
    with pytest.raises(type(slow.value)):
        codec.decode_event(topic, state)


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["campus", "realty", "fitness"])
def test_fast_accept_and_encode_equal_pydantic_for_every_generated_event(preset):
    for data in generate(11, 2, 30, dt.date(2026, 5, 1), preset=preset):
        slow = parse_event(json.loads(json.dumps(data), parse_float=Decimal))
        fast = codec.accept_event(orjson.loads(json.dumps(data)))
        if fast is not None:
            _same(fast, slow)
        assert codec.encode_event(slow) == orjson.dumps(slow.to_json_dict())


@pytest.mark.parametrize("data", SAMPLES, ids=[d["type"] for d in SAMPLES])
def test_fast_accept_and_encode_equal_pydantic_for_optional_keys(data):
    slow = parse_event(json.loads(json.dumps(data), parse_float=Decimal))
    fast = codec.accept_event(orjson.loads(json.dumps(data)))
    if fast is not None:
        _same(fast, slow)
    assert codec.encode_event(slow) == orjson.dumps(slow.to_json_dict())


@pytest.mark.parametrize("data", [
    {"type": "ConsultantJoined", "team": "t", "at": "2026-01-01T00:00:00+08:00", "consultant": "c1", "name": "", "seat": 1},
    {"type": "ConsultantJoined", "team": "t", "at": "2026-01-01T00:00:00+08:00", "consultant": "c 1", "name": "N", "seat": 1},
    {"type": "ConsultantJoined", "team": "t", "at": "2026-01-01T00:00:00+08:00", "consultant": "c1", "name": "N", "seat": True},
    {"type": "ConsultantJoined", "team": "t", "at": "2026-01-01T00:00:00", "consultant": "c1", "name": "N", "seat": 1},
    {"type": "ConsultantJoined", "team": "t", "at": "2026-01-01T00:00:00+08:00", "consultant": "c1", "name": "N"},
    {"type": "ConsultantJoined", "team": "t", "at": "2026-01-01T00:00:00+08:00", "consultant": "c1", "name": "N", "seat": 1, "x": 1},
    {"type": "ConsultantJoined", "team": None, "at": "2026-01-01T00:00:00+08:00", "consultant": "c1", "name": "N", "seat": 1},
    {"type": "LeadArrived", "team": "t", "at": "2026-01-01T00:00:00+08:00", "lead": "L", "channel": "outbound"},
    {"type": "LeadArrived", "team": "t", "at": "2026-01-01T00:00:00+08:00", "lead": "L", "channel": "walk_in", "maker": "c1"},
    {"type": "LeadArrived", "team": "t", "at": "2026-01-01T00:00:00+08:00", "lead": "L", "channel": "nope"},
    {"type": "LeadArrived", "team": "t", "at": "2026-01-01T00:00:00+08:00", "lead": "L", "channel": "walk_in", "callback_on": "2026-1-1"},
    {"type": "ContractSigned", "team": "t", "at": "2026-01-01T00:00:00+08:00", "contract": "k", "lead": "L", "amount": "1.234"},
    {"type": "ContractSigned", "team": "t", "at": "2026-01-01T00:00:00+08:00", "contract": "k", "lead": "L", "amount": -1},
    {"type": "ContractSigned", "team": "t", "at": "2026-01-01T00:00:00+08:00", "contract": "k", "lead": "L", "amount": "1", "deposit": 1},
    {"type": "TargetSet", "team": "t", "at": "2026-01-01T00:00:00+08:00", "consultant": "c", "month": "2026-13", "red": "1", "green": "2"},
    {"type": "PolicyAdopted", "team": "t", "at": "2026-01-01T00:00:00+08:00", "preset": "campus"},
])
def test_fast_accept_leaves_anything_pydantic_rejects_or_must_decide_to_pydantic(data):
    assert codec.accept_event(data) is None or parse_event(data) == codec.accept_event(data)
    if data["type"] != "PolicyAdopted":
        from ledger.events import EventProblems

        with pytest.raises(EventProblems):
            parse_event(data)


def _old_parse(text: str):
    """The import's parse before the fast path: json (decimals for numbers), then pydantic."""
    from commands.importing import _no_constants
    from ledger.events import EventProblems

    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    except ValueError as error:
        return ("json", str(error))
    try:
        return ("event", parse_event(data))
    except EventProblems as error:
        return ("problems", error.problems)
    except Exception as error:  # e.g. decimal.InvalidOperation for a 27-digit amount (events._amount)
        return ("error", type(error).__name__)


@pytest.mark.parametrize("text", [
    '{"type": "PaymentReceived", "team": "t", "at": "2026-01-05T10:00:00+08:00", "contract": "k", "amount": 1.5}',
    '{"type": "PaymentReceived", "team": "t", "at": "2026-01-05T10:00:00+08:00", "contract": "k", "amount": 12}',
    '{"type": "PaymentReceived", "team": "t", "at": "2026-01-05T10:00:00+08:00", "contract": "k", "amount": 1e3}',
    '{"type": "PaymentReceived", "team": "t", "at": "2026-01-05T10:00:00+08:00", "contract": "k", "amount": 123456789012345678901234567}',
    '{"type": "PaymentReceived", "team": "t", "at": "2026-01-05T10:00:00+08:00", "contract": "k", "amount": NaN}',
    '{"type": "PaymentReceived", "team": "t", "at": "2026-01-05T10:00:00+08:00", "contract": ["k", 1.5], "amount": "1"}',
    '{"type": "ConsultantJoined", "team": "t", "at": "2026-01-05T10:00:00+08:00", "consultant": "c", "name": "\\ud800", "seat": 1}',
    '{"type": "ConsultantJoined", "team": "t", "at": "2026-01-05T10:00:00+08:00", "consultant": "c", "name": "N", "seat": 2.0}',
    '{"type": "ConsultantJoined", "team": "t", "at": "2026-01-05T10:00:00+08:00", "consultant": "c", "name": "N", "seat": 1, "seat": 2}',
    '{"type": "PenaltyImposed", "team": "t", "at": "2026-01-05T10:00:00+08:00", "penalty": "p", "consultant": "c", "kind": "skip", "channels": ["*"], "turns": 1.0, "rule": "R-SA-2", "reason": "r"}',
    '{"type": "PolicyAdopted", "team": "t", "at": "2026-01-05T10:00:00+08:00", "preset": "campus", "overrides": {"x": 0.1}}',
    '[1.5]', '1.5', '"x"', '{"type": 1}', '{"type": "LeadArrived"}', '{"a": 1', 'nul',
])
def test_the_import_fast_parse_reads_every_line_as_the_json_module_and_pydantic_do(text):
    from commands.importing import _parse_line
    from ledger.events import EventProblems

    try:
        got = ("event", _parse_line(text))
    except EventProblems as error:
        got = ("problems", error.problems)
    except ValueError as error:
        got = ("json", str(error))
    except Exception as error:
        got = ("error", type(error).__name__)
    expected = _old_parse(text)
    if got[0] == "event" and expected[0] == "event":
        assert type(got[1]) is type(expected[1]) and got[1] == expected[1]
        assert list(got[1].__dict__) == list(expected[1].__dict__)
        assert got[1].model_fields_set == expected[1].model_fields_set
    elif got[0] == "json" and expected[0] == "json":
        pass  # the message itself comes from the json module (commands.importing._parsed)
    else:
        assert got == expected
