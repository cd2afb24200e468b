"""Event models (INTERCHANGE.md): strict parsing with a clear problem per bad key."""
from decimal import Decimal

import pytest

from ledger.events import EventProblems, parse_event

BASE = {"team": "t", "at": "2026-11-02T10:00:00+08:00"}


def problems_of(data: dict) -> dict[str, str]:
    with pytest.raises(EventProblems) as caught:
        parse_event({**BASE, **data})
    return dict(caught.value.problems)


def test_an_amount_beyond_decimal_precision_is_a_problem_not_a_crash():
    found = problems_of({"type": "PaymentReceived", "contract": "K", "amount": "123456789012345678901234567"})
    assert "below" in found["amount"]


def test_a_float_amount_is_refused_because_money_is_never_a_float():
    found = problems_of({"type": "PaymentReceived", "contract": "K", "amount": 12.5})
    assert "decimal" in found["amount"]


def test_an_exact_number_amount_reads_as_a_decimal_to_the_fen():
    event = parse_event({**BASE, "type": "PaymentReceived", "contract": "K", "amount": Decimal("12.5")})
    assert event.amount == Decimal("12.50") and event.to_json_dict()["amount"] == "12.50"


def test_a_time_without_utc_offset_and_an_unknown_key_are_both_reported():
    found = problems_of({"type": "LeadArrived", "lead": "L1", "channel": "walk_in",
                         "at": "2026-11-02T10:00:00", "colour": "red"})
    assert "UTC offset" in found["at"] and "unknown key" in found["colour"]


def test_an_outbound_lead_needs_its_maker_R_CH_3():
    found = problems_of({"type": "LeadArrived", "lead": "L1", "channel": "outbound"})
    assert any("R-CH-3" in message for message in found.values())
