"""`ledger rebuild` / `ledger verify` (issue 6): drift is named, rebuilds are repeatable, and a
rebuild killed at any point leaves the live models untouched and the next run completes."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from commands import rebuild
from commands.importing import import_file
from fixtures.generate import generate
from ledger import models_store as M
from ledger.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def _import(url: str, seed: int = 2, teams: int = 2, days: int = 8) -> list[str]:
    lines = [json.dumps(e, ensure_ascii=False) for e in generate(seed, teams=teams, days=days, start=dt.date(2026, 9, 1))]
    with open_store(url) as store:
        import_file(store, "\n".join(lines))
        return store.teams()


def _snapshot(url: str) -> dict:
    """Every team's live generation number and rows."""
    with open_store(url) as store:
        out = {}
        for team in store.teams():
            g = M.live(store, team)
            out[team] = (g.gen, g.position, M.dump(store, team, g.gen)) if g else None
        return out


def _checksum(url: str) -> str:
    rows = {team: value[2] for team, value in _snapshot(url).items()}
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


@pytest.mark.slow
def test_rebuild_twice_gives_identical_models_and_no_drift(store_url):
    _import(store_url)
    first = _checksum(store_url)
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["rebuild", "--db", store_url, "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert summary["drift"] == [] and len(summary["swapped"]) == 2
        assert summary["events"] > 0 and summary["events_per_second"] > 0
        assert _checksum(store_url) == first
    with open_store(store_url) as store:  # only the live generation is left
        assert [len(M.generations(store, team)) for team in store.teams()] == [1, 1]


@pytest.mark.slow
def test_verify_names_a_corrupted_owner_row_and_a_count_and_exits_1(store_url):
    teams = _import(store_url)
    team = teams[1]
    with open_store(store_url) as store:
        g = M.live(store, team)
        lead, at_us, owner, rule, *_ = M.dump(store, team, g.gen)["owners"][40]
        day, consultant, channel, turns, leads = M.dump(store, team, g.gen)["counts"][5]
        with store._cursor(commit=True) as cur:
            sql = store.recorder.sql
            cur.execute(sql("UPDATE ledger_model_owners SET owner = 'zz-nobody' WHERE team = ? AND gen = ? "
                            "AND lead = ? AND valid_from_us = ?"), (team, g.gen, lead, at_us))
            cur.execute(sql("UPDATE ledger_model_counts SET turns = turns + 3 WHERE team = ? AND gen = ? AND day = ? "
                            "AND consultant = ? AND channel = ?"), (team, g.gen, day, consultant, channel))
    result = CliRunner().invoke(main, ["verify", "--db", store_url, "--json"])
    assert result.exit_code == 1
    drift = json.loads(result.stdout)["drift"]
    owner_items = [d for d in drift if d["model"] == "owner"]
    assert owner_items == [{"team": team, "model": "owner", "key": lead, "at": owner_items[0]["at"],
                            "live": {"owner": "zz-nobody", "rule": rule, "disputed": owner_items[0]["live"]["disputed"]},
                            "rebuilt": {"owner": owner, "rule": rule, "disputed": owner_items[0]["live"]["disputed"]},
                            "rule": rule}]
    count_items = [d for d in drift if d["model"] == "turns"]
    assert count_items == [{"team": team, "model": "turns", "key": {"date": day, "consultant": consultant, "channel": channel},
                            "at": day, "live": {"turns": turns + 3, "leads": leads}, "rebuilt": {"turns": turns, "leads": leads},
                            "rule": "R-RT-7"}]
    # verify swaps nothing; rebuild repairs it
    assert CliRunner().invoke(main, ["verify", "--db", store_url, "--json", "--team", teams[0]]).exit_code == 0
    assert CliRunner().invoke(main, ["rebuild", "--db", store_url, "--json", "--team", team]).exit_code == 0
    assert CliRunner().invoke(main, ["verify", "--db", store_url, "--json"]).exit_code == 0


def test_shards_split_the_teams_stably():
    teams = [f"team-{k}" for k in range(40)]
    parts = [rebuild.select_teams(teams, (), (i, 3)) for i in range(3)]
    assert sorted(sum(parts, [])) == sorted(teams) and all(parts)
    assert rebuild.shard_of("team-7", 3) == rebuild.shard_of("team-7", 3)


def _run_until_paused(url: str, phase: str) -> subprocess.Popen:
    env = dict(os.environ, **{rebuild.PAUSE_ENV: phase, rebuild.PAGE_ENV: "300", "PYTHONPATH": str(ROOT)})
    proc = subprocess.Popen([sys.executable, "-m", "cli", "rebuild", "--db", url, "--json"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith(f"paused at {phase}") or not line:
            break
    assert line.startswith(f"paused at {phase}"), (line, proc.poll())
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["start", "fold", "write", "swap"])
def test_a_rebuild_killed_at_any_point_leaves_the_live_models_and_the_next_run_completes(store_url, phase):
    _import(store_url, days=5)
    before = _snapshot(store_url)
    proc = _run_until_paused(store_url, phase)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()
    assert _snapshot(store_url) == before  # the live generations and their rows, untouched
    summary = rebuild.run(store_url, sorted(before), swap=True)
    assert summary.drift == [] and sorted(summary.swapped) == sorted(before)
    after = _snapshot(store_url)
    assert {t: v[1:] for t, v in after.items()} == {t: v[1:] for t, v in before.items()}  # = a clean rebuild
    with open_store(store_url) as store:  # the killed run's shadow is gone
        assert all(len(M.generations(store, team)) == 1 for team in before)


@pytest.mark.slow
def test_verify_with_two_worker_processes_and_two_shards_covers_every_team_once(store_url):
    teams = _import(store_url, teams=3, days=3)
    seen = []
    for shard in ("0/2", "1/2"):
        result = CliRunner().invoke(main, ["verify", "--db", store_url, "--json", "--jobs", "2", "--shard", shard])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert summary["drift"] == [] and summary["swapped"] == []
        seen += summary["teams"]
    assert sorted(seen) == sorted(teams)
    bad = CliRunner().invoke(main, ["verify", "--db", store_url, "--shard", "2/2"])
    assert bad.exit_code == 2 and "0 <= I < N" in bad.output
