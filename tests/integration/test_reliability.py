"""Issue 17, defect by defect: what a reliability audit broke, on SQLite and PostgreSQL.

Each test here failed on the main of 2026-11-28: a year-9999 event committed and then poisoned
the team; deep JSON, 64-bit overflows and lone surrogates gave tracebacks; lenient parsing
stored wrong facts; a key-shaped phone was trusted; messages echoed numbers and megabytes; a
killed import left PostgreSQL teams without read models; a dead rebuild worker hung the run.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from exports import event_lines
from test_input_fuzz import tables_digest

from cli import main
from commands import importing, rebuild
from fixtures.generate import generate
from ledger import models_store as M
from ledger.store import open_store

ROOT = Path(__file__).resolve().parents[2]
TEAM = "renda"
SETUP = [
    {"type": "PolicyAdopted", "team": TEAM, "at": "2026-11-01T08:00:00+08:00", "preset": "campus"},
    {"type": "ConsultantJoined", "team": TEAM, "at": "2026-11-01T08:00:00+08:00", "consultant": "c1",
     "name": "王芳", "seat": 1},
    {"type": "ConsultantJoined", "team": TEAM, "at": "2026-11-01T08:00:00+08:00", "consultant": "c2",
     "name": "李娜", "seat": 2},
    {"type": "LeadArrived", "team": TEAM, "at": "2026-11-02T10:00:00+08:00", "lead": "L1", "channel": "hotline",
     "phone": "13911110001"},
    {"type": "ContractSigned", "team": TEAM, "at": "2026-11-03T10:00:00+08:00", "contract": "K1", "lead": "L1",
     "amount": "1000.00"},
    {"type": "PenaltyImposed", "team": TEAM, "at": "2026-11-03T10:00:00+08:00", "penalty": "P1",
     "consultant": "c2", "kind": "suspend", "channels": ["walk_in"], "rule": "R-SA-1", "reason": "迟到"},
]
LATER = "2026-11-04T10:00:00+08:00"


def run(url: str, *args: str, code: int | None = None, stdin: str | None = None):
    result = CliRunner().invoke(main, [*args, "--db", url], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    if code is not None:
        assert result.exit_code == code, (args, result.output)
    return result


@pytest.fixture
def team(store_url, tmp_path):
    path = tmp_path / "setup.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in SETUP), encoding="utf-8")
    run(store_url, "import", str(path), code=0)
    return store_url


def refused_whole(url: str, tmp_path, *lines: str, via_stdin: bool = False) -> str:
    """Import `lines`; assert exit 2, one message line per bad line, no table changed."""
    before = tables_digest(url)
    text = "".join(line + "\n" for line in lines)
    if via_stdin:
        result = run(url, "import", "-", stdin=text)
    else:
        path = tmp_path / "bad.jsonl"
        path.write_text(text, encoding="utf-8")
        result = run(url, "import", str(path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr and all(len(line) <= 500 for line in result.stderr.splitlines())
    assert tables_digest(url) == before
    return result.stderr


def event(event_type: str, /, **keys) -> str:
    return json.dumps({"type": event_type, "team": TEAM, "at": LATER, **keys}, ensure_ascii=False)


# -- 1. times beyond the calendar ------------------------------------------------------------


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+00:00",
                                "2100-01-01T00:00:00+08:00", "1999-12-31T23:59:59+08:00"])
def test_an_event_dated_outside_2000_to_2099_is_refused_and_the_team_still_answers(team, tmp_path, at):
    message = refused_whole(team, tmp_path, json.dumps({**SETUP[1], "at": at, "consultant": "c9", "seat": 9}),
                            json.dumps({"type": "PresenceChanged", "team": TEAM, "at": at, "consultant": "c1",
                                        "presence": "away"}))
    assert "2000-01-01 to 2099-12-31" in message
    run(team, "owner", "L1", "--json", code=0)
    run(team, "verify", "--json", code=0)


@pytest.mark.parametrize("args", [
    ["arrive", "hotline", "--at", "9999-12-31T23:59:59+14:00"], ["presence", "c1", "away", "--at", "0001-01-01T00:00:00"],
    ["owner", "L1", "--at", "9999-12-31T23:59:59+14:00"], ["sanctions", "--at", "0001-01-01T00:00:00+00:00"],
    ["turns", "--from", "9999-12-30", "--to", "9999-12-31"], ["commission", "--month", "9999-12"],
    ["commission", "--month", "2026-13"], ["next", "hotline", "--at", "9999-12-31T23:59:59-12:00"],
    ["penalize", "c1", "--suspend", "--channels", "*", "--rule", "R-SA-1", "--reason", "x",
     "--until", "9999-12-31T00:00:00+08:00"],
    ["shift", "c1", "9999-12-31", "early"], ["target", "c1", "9999-12", "1", "2"],
])
def test_a_time_or_date_outside_the_range_on_the_command_line_exits_2_in_one_line(team, args):
    before = tables_digest(team)
    result = run(team, *args, "--team", TEAM, code=2)
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert tables_digest(team) == before


# -- 2. tracebacks instead of exit 2 ---------------------------------------------------------


def test_json_nested_1100_levels_is_refused_in_a_file_and_on_standard_input(team, tmp_path):
    for line in ("[" * 1100 + "]" * 1100, "{\"a\":" * 1100 + "1" + "}" * 1100,
                 event("PolicyAdopted", preset="campus")[:-1] + ', "overrides": ' + "{\"a\":" * 1100 + "1" + "}" * 1101):
        assert "nested" in refused_whole(team, tmp_path, line)
        assert "nested" in refused_whole(team, tmp_path, line, via_stdin=True)


def test_whole_numbers_beyond_64_bits_are_refused_in_files_and_options(team, tmp_path):
    big = 10**30
    refused_whole(team, tmp_path, event("ConsultantJoined", consultant="c9", name="x", seat=big))
    refused_whole(team, tmp_path, event("PenaltyImposed", penalty="P9", consultant="c1", kind="skip", channels=["*"],
                                        turns=big, rule="R-SA-2", reason="x"))
    refused_whole(team, tmp_path, event("PenaltyImposed", penalty="P9", consultant="c1", kind="throttle",
                                        channels=["*"], take=1, of=big, rule="R-SA-3", reason="x"))
    refused_whole(team, tmp_path, event("PolicyAdopted", preset="campus", overrides={"tracking_days": big}))
    for args in (["join", "c9", "--name", "x", "--seat", str(big)],
                 ["penalize", "c1", "--skip", str(big), "--channels", "*", "--rule", "R-SA-2", "--reason", "x"],
                 ["penalize", "c1", "--throttle", f"1/{big}", "--channels", "*", "--rule", "R-SA-3", "--reason", "x"],
                 ["penalize", "c1", "--throttle", "1/²", "--channels", "*", "--rule", "R-SA-3", "--reason", "x"]):
        result = run(team, *args, "--team", TEAM, "--at", LATER, code=2)
        assert len(result.stderr.splitlines()) == 1, result.stderr


def test_a_lone_surrogate_is_refused_in_every_text_key_and_option(team, tmp_path):
    for line in (event("FollowUpLogged", lead="L1", consultant="c1", direction="outbound", note="\ud800"),
                 event("ConsultantJoined", consultant="c9", name="a\udfff", seat=9),
                 event("ComplaintVerified", consultant="c1", reason="x", by="\ud800"),
                 event("LeadArrived", lead="L9", channel="walk_in", phone="139\ud8001111"),
                 event("PolicyAdopted", preset="campus", overrides={"\ud800": 1})):
        assert "surrogate" in refused_whole(team, tmp_path, json.dumps(json.loads(line)))  # escaped as \ud800
    result = run(team, "followup", "L1", "--by", "c1", "--note", "bad \udcff byte", "--team", TEAM, "--at", LATER, code=2)
    assert "argument 6 is not valid UTF-8" in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_page_size_that_is_not_a_number_is_refused(team, monkeypatch):
    monkeypatch.setenv(rebuild.PAGE_ENV, "lots")
    for command in ("rebuild", "verify"):
        result = run(team, command, "--json", code=2)
        assert rebuild.PAGE_ENV in result.stderr and len(result.stderr.splitlines()) == 1


# -- 3. lenient parsing that stored wrong facts ----------------------------------------------


@pytest.mark.parametrize("amount", ["1e3", "1_000", "０１００", ".5", "+100", "-0", "-0.00", " 100", "100.001", "1,000"])
def test_an_amount_not_written_plainly_is_refused(team, tmp_path, amount):
    refused_whole(team, tmp_path, event("PaymentReceived", contract="K1", amount=amount))


def test_an_amount_written_as_a_json_number_is_read_from_its_digits(team, tmp_path):
    refused_whole(team, tmp_path, '{"type":"PaymentReceived","team":"renda","at":"%s","contract":"K1","amount":1e3}' % LATER)
    path = tmp_path / "ok.jsonl"
    path.write_text('{"type":"PaymentReceived","team":"renda","at":"%s","contract":"K1","amount":100.5}\n' % LATER)
    run(team, "import", str(path), code=0)
    exported = event_lines(run(team, "export", "--team", TEAM, code=0).stdout)
    assert json.loads(exported[-1])["amount"] == "100.50"


@pytest.mark.parametrize("at", ["2026-11-04T10:00:00.1234567+08:00", "2026-11-04T10:00:00+08:00:30",
                                "2026-11-04T10:00:00+15:00", "2026-W45-3T10:00:00+08:00", "20261104T100000+0800"])
def test_a_time_python_would_bend_is_refused(team, tmp_path, at):
    refused_whole(team, tmp_path, json.dumps({"type": "PresenceChanged", "team": TEAM, "at": at, "consultant": "c1",
                                              "presence": "away"}))


def test_a_python_field_name_is_not_a_key_and_policy_values_are_read_strictly(team, tmp_path):
    message = refused_whole(team, tmp_path, event("PenaltyImposed", penalty="P9", consultant="c1", kind="suspend",
                                                  channels=["*"], from_=LATER, rule="R-SA-1", reason="x"))
    assert "from_: unknown key" in message
    for overrides in ({"day_start": 900}, {"commission_rate": True}, {"tracking_days": "15"},
                      {"commission_rate": "2"}, {"tracking_days": 0}, {"marketing_min_weight": "10/1"}):
        refused_whole(team, tmp_path, event("PolicyAdopted", preset="campus", overrides=overrides))


# -- 4. and 5. phones and what messages echo --------------------------------------------------


def test_a_phone_shaped_like_a_stored_key_is_refused_and_an_erased_key_from_an_export_is_kept(team, tmp_path):
    assert "R-CO-5" in refused_whole(team, tmp_path, event("LeadArrived", lead="L9", channel="hotline",
                                                           phone="h:13955556666"))
    path = tmp_path / "key.jsonl"
    key = "h:" + "0" * 32 + ":6666"  # what `export` writes for an erased number
    path.write_text(event("LeadArrived", lead="L9", channel="hotline", phone=key) + "\n")
    run(team, "import", str(path), code=0)


def test_messages_never_echo_a_phone_number_nor_megabytes_of_input(team, tmp_path):
    message = refused_whole(team, tmp_path, event("LeadArrived", lead="L9", channel="hotline", phone=13911112222),
                            event("LeadArrived", lead="L8", channel="hotline", named=13911113333),
                            event("LeadArrived", lead="x" * 10_000_000, channel="hotline"))
    assert "13911112222" not in message and "13911113333" not in message and "2222" in message
    assert len(message) < 2000
    result = run(team, "arrive", "hotline", "--phone", "139-abc-2222", "--team", TEAM, "--at", LATER, code=2)
    assert "139-abc" not in result.stderr and len(result.stderr.splitlines()) == 1


# -- 6. a killed import ----------------------------------------------------------------------


def _history(tmp_path, days: int = 6) -> tuple[Path, int]:
    events = list(generate(11, teams=1, days=days, start=dt.date(2026, 9, 1)))
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return path, len(events)


def _ledger(url: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli", *args, "--db", url], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_an_import_killed_after_its_commit_leaves_models_the_next_command_repairs(store_url, tmp_path):
    path, count = _history(tmp_path)
    proc = _ledger(store_url, "import", str(path), env={importing.IMPORT_PAUSE_ENV: "imported"})
    assert proc.stderr.readline().startswith("paused at imported")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close(), proc.stderr.close()
    with open_store(store_url) as store:
        team = store.teams()[0]
        assert store.head(team) == count and M.live(store, team) is None  # stored; no model yet
    verified = run(store_url, "verify", "--json", code=0)  # no manual rebuild needed
    assert json.loads(verified.stdout)["drift"] == []
    with open_store(store_url) as store:
        assert M.live(store, team).position == count


def test_a_re_import_that_appends_nothing_brings_the_models_up_to_date(store_url, tmp_path):
    path, count = _history(tmp_path, days=3)
    run(store_url, "import", str(path), code=0)
    with open_store(store_url) as store:
        team = store.teams()[0]
        M.clear_generation(store, team, M.live(store, team).gen)
        with store._cursor(commit=True) as cur:
            cur.execute("DELETE FROM ledger_model_gens")
    run(store_url, "import", str(path), code=0)  # every event already stored
    with open_store(store_url) as store:
        assert M.live(store, team).position == count


@pytest.mark.slow
def test_an_import_killed_at_random_points_stores_all_or_nothing_and_verifies_clean(new_store_url, tmp_path):
    path, count = _history(tmp_path, days=10)
    chance = random.Random(17)
    for attempt in range(4):
        url = new_store_url()
        proc = _ledger(url, "import", str(path))
        time.sleep(chance.uniform(0.3, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close(), proc.stderr.close()
        with open_store(url) as store:
            heads = [store.head(team) for team in store.teams()]
        assert heads in ([], [count]), heads  # all or nothing
        verified = run(url, "verify", "--json", code=0)  # no manual rebuild, whatever was killed
        assert json.loads(verified.stdout)["drift"] == []


# -- 7. a dead rebuild worker -----------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
def test_a_rebuild_whose_worker_dies_ends_with_exit_1_and_leaves_the_live_models(store_url, tmp_path):
    events = list(generate(5, teams=2, days=4, start=dt.date(2026, 9, 1)))
    path = tmp_path / "two.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    run(store_url, "import", str(path), code=0)
    with open_store(store_url) as store:
        before = {team: M.dump(store, team, M.live(store, team).gen) for team in store.teams()}
    proc = _ledger(store_url, "rebuild", "--jobs", "2", "--json",
                   env={rebuild.PAUSE_ENV: "fold", rebuild.PAGE_ENV: "200"})
    assert proc.stderr.readline().startswith("paused at fold")
    workers = [pid for pid in _children(proc.pid)
               if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()]
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    try:
        code = proc.wait(timeout=60)  # it used to wait for the dead worker forever
    finally:
        for pid in [proc.pid, *workers]:
            if proc.poll() is None or pid != proc.pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    stderr = proc.stderr.read()
    proc.stdout.close(), proc.stderr.close()
    assert code == 1 and "worker process died" in stderr, stderr
    assert len([line for line in stderr.splitlines() if line.startswith("ledger:")]) == 1
    with open_store(store_url) as store:
        assert {team: M.dump(store, team, M.live(store, team).gen) for team in store.teams()} == before


# -- found by the fuzz test ----------------------------------------------------------------------


def test_a_link_recorded_later_re_folds_the_models_of_the_earlier_leads_R_ID_1(store_url, tmp_path):
    from test_input_fuzz import TEAM as FZ
    from test_input_fuzz import prepare

    prepare(store_url, tmp_path)  # L1 (hotline) and L2 (walk_in) arrive on 11-02
    path = tmp_path / "link.jsonl"
    path.write_text(json.dumps({"type": "CustomersLinked", "team": FZ, "at": "2026-11-04T10:00:00+08:00",
                                "lead": "L1", "other": "L2"}) + "\n", encoding="utf-8")
    run(store_url, "import", str(path), code=0)  # a later import: the models had L2 as a customer of its own
    verified = run(store_url, "verify", "--json", code=0)  # they kept L2's lead count of 11-02
    assert json.loads(verified.stdout)["drift"] == []
    run(store_url, "unlink", "L1", "L2", "--team", FZ, "--at", "2026-11-04T11:00:00+08:00", code=0)
    assert json.loads(run(store_url, "verify", "--json", code=0).stdout)["drift"] == []
    run(store_url, "link", "L1", "L2", "--team", FZ, "--at", "2026-11-04T12:00:00+08:00", code=0)
    assert json.loads(run(store_url, "verify", "--json", code=0).stdout)["drift"] == []
