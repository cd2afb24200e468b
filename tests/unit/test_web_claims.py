"""web.pages.lead_claims: a dispute page's claims are the lead's entry of `queries.disputes`
(which lists the whole team's), at every point of the demo month's replay."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from fixtures.generate import generate
from ledger.events import Recorded, parse_event
from projections import queries
from projections.engine import TeamState, advance, apply
from web.pages import lead_claims

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo-campus-month.jsonl"


def demo() -> list[dict]:
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def generated() -> list[dict]:
    return list(generate(7, teams=1, days=20, start=dt.date(2025, 11, 3), preset="campus", leads_per_day=45))


@pytest.mark.parametrize("history", [demo, generated])
def test_a_leads_claims_are_its_entry_of_the_teams_disputes_throughout_a_history(history):
    events = history()
    teams: dict[str, list[dict]] = {}
    for ev in events:
        teams.setdefault(ev["team"], []).append(ev)
    compared = disputed = 0
    for mine in teams.values():
        records = sorted((Recorded(seq, parse_event(ev)) for seq, ev in enumerate(mine, 1)), key=lambda r: r.key)
        state = TeamState()
        for n, rec in enumerate(records, 1):
            state = apply(advance(state, rec.event.at), rec)
            listed = {d["lead"]: d["claims"] for d in queries.disputes(state)["disputes"]}
            others = list(state.leads)[-40:] if n % 53 == 0 or n == len(records) else []
            for lead in others + list(listed):
                assert lead_claims(state, lead) == listed.get(lead, []), (lead, n)
                compared += 1
            disputed += len(listed)
    assert compared > 1000 and disputed > 10, (compared, disputed)
