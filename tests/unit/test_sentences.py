"""projections.sentences (issue #14, item 1): the engine's summaries are phrases whose English is
what --json has always said, and every candidate's reason is written from a template that reads
back, so a person reads both in Chinese."""
from __future__ import annotations

import datetime as dt

import pytest

from fixtures.generate import generate
from ledger.events import Recorded, parse_event
from ledger.i18n import translations
from projections import board, queries, sentences
from projections.engine import replay


@pytest.fixture(scope="module")
def state():
    events = list(generate(5, teams=1, days=40, start=dt.date(2026, 9, 1), preset="campus", leads_per_day=45))
    return replay([Recorded(i + 1, parse_event(e)) for i, e in enumerate(events)])


def chinese(template: str, **values) -> str:
    text = translations("zh").gettext(template)
    return text.format(**values) if values else text


def test_every_summary_is_phrases_and_every_reason_reads_back(state):
    kinds, reasons = set(), set()
    for cust in state.customers.values():
        for entry in cust.timeline:
            assert type(entry.summary) is tuple, entry
            kinds.add(entry.type)
            for _, _, why in entry.candidates:
                reasons.add(why)
    assert {"LeadArrived", "FollowUpLogged", "ContractSigned", "PaymentReceived"} <= kinds
    unread = [why for why in reasons if type(sentences.reason(why)) is not tuple]
    assert reasons and unread == []


def test_the_english_is_the_template_filled_and_chinese_comes_from_the_catalog(state):
    lead = next(lid for lid, lead in state.leads.items() if lead.owner is not None)
    english = queries.explain(state, lead)
    told = queries.explain(state, lead, lambda summary: sentences.say(summary, chinese, lambda code: code))
    first, said = english["timeline"][0], told["timeline"][0]
    assert first["summary"].startswith(f"{lead} arrived by ")
    assert said["summary"].startswith(f"{lead} 经") and "到达" in said["summary"]
    assert [i["seq"] for i in told["timeline"]] == [i["seq"] for i in english["timeline"]]


def test_a_reason_is_read_back_with_its_values_and_a_nested_reason_too():
    assert sentences.reason("throttled 1 of 3 (R-SA-3)") == ((sentences.THROTTLED, {"take": "1", "of": "3", "rule": "R-SA-3"}),)
    text = sentences.BONUS_LAPSES.format(why=sentences.ABSENT.format(presence="away"))
    assert sentences.say(sentences.reason(text), chinese, lambda code: {"away": "离岗"}.get(code, code)) \
        == "离岗 (R-PR-2);第二条奖励线索作废 (R-RT-4)"
    assert sentences.reason("no template wrote this") == "no template wrote this"


def test_the_board_reasons_read_back_too(state):
    answer = board.board(state, state.clock)
    reasons = [p["why"] for channel in answer["channels"] for p in channel["passed"]]
    assert reasons and all(type(sentences.reason(why)) is tuple for why in reasons)
