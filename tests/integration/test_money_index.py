"""projections.facts.MoneyIndex (issue #19): the contracts, movements and R-CM-4 referral chain
the fold keeps in time order equal the index built from the facts at once (`MoneyIndex.of`),
whichever way the state came to be -- restored from a checkpoint at the end or mid-history, or
folded whole -- on generated histories with late events, for each preset."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from commands import history
from commands.importing import import_file
from fixtures.generate import generate
from ledger.store import open_store
from projections import engine
from projections.facts import MoneyIndex

FIELDS = ("signed_at", "signed", "position", "moved_at", "moved", "referrals", "sources", "referred", "waiting",
          "waiting_by_customer", "paired")


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["campus", "realty", "fitness"])
def test_the_kept_money_index_equals_the_one_built_from_the_facts(tmp_path, preset):
    text = "\n".join(json.dumps(e, ensure_ascii=False)
                     for e in generate(3, 1, 75, dt.date(2026, 3, 1), preset=preset, leads_per_day=30))
    with open_store(f"sqlite:///{tmp_path / 'money.db'}") as store:
        import_file(store, text, "generated", allow_future=True)
        team = store.teams()[0]
        records = store.read_by_time(team)
        states = {"restored": history.state_at(store, team, records[-1].event.at),
                  "restored mid-history": history.state_at(store, team, records[len(records) // 2].event.at),
                  "folded": engine.replay(records)}
        assert states["folded"].late_seqs, "the history should hold late events"
        for name, state in states.items():
            kept, built = state.money.index, MoneyIndex.of(state.money)
            assert kept.signed, name
            assert {f: getattr(kept, f) for f in FIELDS} == {f: getattr(built, f) for f in FIELDS}, name
        if preset == "fitness":
            assert states["folded"].money.index.referrals, "fitness histories pay referral rewards (R-CM-4)"
