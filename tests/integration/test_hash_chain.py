"""The hash chain per team (issue #18 item 1), on SQLite and PostgreSQL: every stored event is
linked in its append transaction; `verify` names a hand-edited, a re-timed or a deleted row by
its #N and prints each team's head hash; `rebuild` refuses a broken history; an older store is
linked once when opened; concurrent writers never fork a chain."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing

import orjson
import pytest
from click.testing import CliRunner
from test_store import _append_with_retries  # the store tests' spawned appender

from cli import main
from commands.importing import import_file
from fixtures.generate import generate
from ledger import models_store as M
from ledger.events import parse_event
from ledger.store import open_store
from ledger.store.chain import genesis

SH = dt.timezone(dt.timedelta(hours=8))


def _import(url: str, days: int = 3) -> list[str]:
    lines = [json.dumps(e, ensure_ascii=False) for e in generate(2, teams=2, days=days, start=dt.date(2026, 9, 1))]
    with open_store(url) as store:
        import_file(store, "\n".join(lines))
        return store.teams()


def _verify(url: str, *args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(main, [*args, "--db", url, "--json"])
    return result.exit_code, json.loads(result.stdout), result.stderr


def _seq_of_first(store, team: str, event_type: str) -> int:
    return next(r.seq for r in store.read(team) if r.event.type == event_type)


def _execute(store, statement: str, params: tuple) -> None:
    """Tamper as someone with the tables' owner's rights would: lift the append-only guards
    (ledger.store.guards), change the rows, put the guards back."""
    from ledger.store.guards import RECORD_TABLES

    with store._cursor(commit=True) as cur:
        for table in RECORD_TABLES:
            for drop in store.recorder.unguard_statements(table):
                cur.execute(drop)
        cur.execute(store.recorder.sql(statement), params)
        if not statement.startswith("DROP TABLE"):
            for guard in store.recorder.guard_statements():
                cur.execute(guard)


def _live_models(url: str) -> dict:
    with open_store(url) as store:
        return {team: (g.gen, g.position, M.dump(store, team, g.gen))
                for team in store.teams() if (g := M.live(store, team)) is not None}


def test_an_import_verifies_intact_and_both_commands_print_each_teams_head_hash(store_url):
    teams = _import(store_url)
    code, summary, _ = _verify(store_url, "verify")
    assert code == 0 and summary["drift"] == []
    with open_store(store_url) as store:
        heads = {team: store.head(team) for team in teams}
    assert {c["team"]: (c["head"], c["intact"], c["problems"]) for c in summary["chains"]} == {
        team: (heads[team], True, []) for team in teams}
    hashes = {c["team"]: c["hash"] for c in summary["chains"]}
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes.values())
    assert len(set(hashes.values())) == 2  # each team its own chain
    code, rebuilt, _ = _verify(store_url, "rebuild")
    assert code == 0 and {c["team"]: c["hash"] for c in rebuilt["chains"]} == hashes
    assert sorted(rebuilt["swapped"]) == sorted(teams) and rebuilt["refused"] == []


def test_the_head_hash_is_the_documented_formula_over_the_stored_events(store_url):
    _import(store_url, days=1)
    with open_store(store_url) as store:
        team = store.teams()[0]
        rows = store._rows("SELECT e.originator_version, e.state, i.rec_us FROM stored_events e JOIN ledger_index i "
                           "ON i.team = ? AND i.seq = e.originator_version WHERE e.originator_id = ? "
                           "ORDER BY e.originator_version", (team, store._sid(team)))
        report = store.check_chain(team)
    link = hashlib.sha256(b"lead-ledger chain v1\x00" + team.encode()).digest()
    assert link == genesis(team)
    for seq, state, rec_us in rows:
        content = orjson.dumps(orjson.loads(bytes(state)), option=orjson.OPT_SORT_KEYS)
        link = hashlib.sha256(link + f"{seq}\n{rec_us}\n".encode() + content).digest()
    assert report.intact and report.head == len(rows) and report.hash == link.hex()


def test_a_hand_edited_amount_is_named_by_its_seq_and_rebuild_refuses_it(store_url):
    teams = _import(store_url)
    team = teams[1]
    with open_store(store_url) as store:
        seq = _seq_of_first(store, team, "ContractSigned")
        state = store._rows("SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = ?",
                            (store._sid(team), seq))[0][0]
        data = orjson.loads(bytes(state))
        data["amount"] = "99999.00"
        _execute(store, "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
                 (orjson.dumps(data), store._sid(team), seq))
    code, summary, stderr = _verify(store_url, "verify")
    assert code == 1
    broken = {c["team"]: c for c in summary["chains"]}[team]
    assert not broken["intact"] and broken["problems"] == [
        {"team": team, "seq": seq, "problem": "changed", "detail": f"#{seq}: its content differs from what was recorded"}]
    assert {c["team"]: c["intact"] for c in summary["chains"]}[teams[0]] is True
    assert f"team {team}: #{seq}" in stderr
    before = _live_models(store_url)
    code, rebuilt, stderr = _verify(store_url, "rebuild")
    assert code == 1 and rebuilt["refused"] == [team] and team not in rebuilt["swapped"]
    assert "not rebuilt (nothing swapped)" in stderr and f"#{seq}" in stderr
    assert _live_models(store_url)[team] == before[team]


def test_a_deleted_event_row_is_named_as_a_hole_and_nothing_else(store_url):
    team = _import(store_url)[0]
    with open_store(store_url) as store:
        seq = store.head(team) // 2
        _execute(store, "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = ?",
                 (store._sid(team), seq))
        last = store.head(team)
        _execute(store, "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = ?",
                 (store._sid(team), last))
    code, summary, stderr = _verify(store_url, "verify", "--team", team)
    assert code == 1
    [chain] = summary["chains"]
    assert [(p["seq"], p["problem"]) for p in chain["problems"]] == [(seq, "missing"), (last, "missing")]
    assert f"no stored event #{seq}" in stderr


def test_a_changed_recording_time_and_an_event_slipped_in_are_named(store_url):
    team = _import(store_url)[0]
    with open_store(store_url) as store:
        seq = 7
        _execute(store, "UPDATE ledger_index SET rec_us = rec_us + 1000000 WHERE team = ? AND seq = ?", (team, seq))
        head = store.head(team)
        _execute(store, "DELETE FROM ledger_chain WHERE team = ? AND seq = ?", (team, head))
        report = store.check_chain(team)
    assert [(p["seq"], p["problem"], p["detail"]) for p in report.problems] == [
        (seq, "changed", f"#{seq}: its recording time or its chain link differs"),
        (head, "unlinked", f"#{head} has no chain link (written outside the ledger?)")]


def test_a_store_made_before_the_chain_is_linked_once_when_opened_with_the_same_hashes(store_url):
    teams = _import(store_url)
    with open_store(store_url) as store:
        hashes = {team: store.check_chain(team).hash for team in teams}
        _execute(store, "DROP TABLE ledger_chain", ())
    with open_store(store_url) as store:
        assert {team: store.check_chain(team).to_json_dict()["hash"] for team in teams} == hashes
        assert all(store.check_chain(team).intact for team in teams)
        store.append({teams[0]: (store.head(teams[0]), [parse_event(
            {"type": "PresenceChanged", "team": teams[0], "at": "2026-09-04T10:00:00+08:00",
             "consultant": "c01", "presence": "away"})])})
        assert store.check_chain(teams[0]).intact


# -- concurrency -------------------------------------------------------------------------------




@pytest.mark.slow
def test_concurrent_appenders_leave_one_intact_chain_without_forks(store, store_url):
    store.append({"t1": (0, [parse_event({"type": "PolicyAdopted", "team": "t1", "at": "2026-11-01T09:00:00+08:00",
                                          "preset": "campus"}),
                             parse_event({"type": "ConsultantJoined", "team": "t1", "at": "2026-11-01T09:00:00+08:00",
                                          "consultant": "c1", "name": "C1", "seat": 1})])})
    workers, batches = 4, 15
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.starmap(_append_with_retries, [(store_url, w, batches) for w in range(workers)])
    head = store.head("t1")
    assert head == 2 + sum(1 + b % 3 for b in range(batches)) * workers
    report = store.check_chain("t1")
    assert report.intact and report.head == head and report.events == head
    links = store._rows("SELECT seq, hash FROM ledger_chain WHERE team = ? ORDER BY seq", ("t1",))
    assert [seq for seq, _ in links] == list(range(1, head + 1))  # one link per #N: no fork
    assert len({bytes(h) for _, h in links}) == head
