"""The shortcuts that make `ledger rebuild` fast give the answers of the plain computation: the
owner answers of a lead whose inputs did not change are not recomputed, the months' statements
share one calculator, and two generations are compared in the database before being dumped."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from commands.importing import import_file
from commands.rebuild import compare
from fixtures.generate import generate
from ledger import models_store as M
from ledger.events import Recorded, parse_event
from ledger.store import open_store
from projections import engine, models
from projections.commission import statements, statements_of_months

START = dt.date(2026, 9, 1)


def _records(preset: str, seed: int = 3, days: int = 75) -> dict[str, list[Recorded]]:
    by_team: dict[str, list[Recorded]] = {}
    for data in generate(seed, teams=1, days=days, start=START, preset=preset, leads_per_day=25):
        event = parse_event(data)
        team = by_team.setdefault(event.team, [])
        team.append(Recorded(len(team) + 1, event))
    return by_team


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["campus", "fitness", "realty"])
def test_statements_of_several_months_are_each_months_own_statements(preset):
    for records in _records(preset).values():
        state = engine.replay(records, until=records[-1].event.at + dt.timedelta(days=120))
        months = [f"{year}-{month:02d}" for year, month in
                  [(2026, 8), (2026, 9), (2026, 10), (2026, 11), (2026, 12), (2027, 1), (2027, 2)]]
        together = statements_of_months(state.money, state.policies, state.tz, months)
        assert list(together) == months
        for month in months:
            assert together[month] == statements(state.money, state.policies, state.tz, month), month


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["campus", "fitness", "realty"])
def test_owner_rows_are_the_same_when_every_lead_is_asked_at_every_instant(preset, monkeypatch):
    for records in _records(preset, days=40).values():
        fast = models.fold_models(None, records)
        monkeypatch.setattr(models, "_owner_inputs", lambda state, lead: object())  # never the same
        plain = models.fold_models(None, records)
        monkeypatch.undo()
        assert fast.owners == plain.owners
        assert fast.commission == plain.commission


def test_generations_with_one_different_row_in_any_table_are_not_the_same(store_url):
    lines = [json.dumps(e, ensure_ascii=False) for e in generate(5, teams=1, days=6, start=START)]
    with open_store(store_url) as store:
        import_file(store, "\n".join(lines))
        team = store.teams()[0]
        live = M.live(store, team)
        rows = M.dump(store, team, live.gen)
        copy = live.gen + 1
        M.create_generation(store, team, copy, live=False)
        with store._cursor(commit=True) as cur:
            for table in M.ROW_TABLES:
                columns = [c for c in _columns(store, cur, table) if c != "gen"]
                names = ", ".join(columns)
                cur.execute(store.recorder.sql(f"INSERT INTO {table} (gen, {names}) SELECT ?, {names} FROM {table} "
                                               "WHERE team = ? AND gen = ?"), (copy, team, live.gen))
        assert M.same_rows(store, team, live.gen, copy)
        assert compare(store, team, live.gen, copy) == []
        changes = {
            "ledger_model_owners": ("answer", "lead = ? AND valid_from_us = ?", rows["owners"][0][:2]),
            "ledger_model_seats": ("seats", "valid_from_us = ?", rows["seats"][0][:1]),
            "ledger_model_counts": ("turns", "day = ? AND consultant = ? AND channel = ?", rows["counts"][0][:3]),
            "ledger_model_sanctions": ("body", "penalty = ?", rows["sanctions"][0][:1]),
            "ledger_model_commission": ("answer", "month = ?", rows["commission"][0][:1]),
        }
        for table, (column, where, key) in changes.items():
            with store._cursor(commit=True) as cur:
                cur.execute(store.recorder.sql(f"SELECT {column} FROM {table} WHERE team = ? AND gen = ? AND {where}"),
                            (team, copy, *key))
                before = cur.fetchone()[0]
                cur.execute(store.recorder.sql(f"UPDATE {table} SET {column} = ? WHERE team = ? AND gen = ? AND {where}"),
                            (before + 1 if column == "turns" else before + " ", team, copy, *key))
            assert not M.same_rows(store, team, live.gen, copy), table
            assert compare(store, team, live.gen, copy), table
            with store._cursor(commit=True) as cur:
                cur.execute(store.recorder.sql(f"UPDATE {table} SET {column} = ? WHERE team = ? AND gen = ? AND {where}"),
                            (before, team, copy, *key))
            assert M.same_rows(store, team, live.gen, copy), table


def _columns(store, cur, table: str) -> list[str]:
    cur.execute(f"SELECT * FROM {table} LIMIT 0")
    return [d[0] for d in getattr(cur, "sqlite_cursor", cur).description]
