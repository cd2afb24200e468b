"""The recording commands (issue #5): one event per command, validated against the state at its
time, errors a person can act on, retries under a racing writer, checkpoints, completion, help."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from exports import event_lines

import cli
from cli import main
from commands import history
from commands import record as R
from ledger.errors import ConcurrencyConflict
from ledger.events import EVENT_TYPES, Channel, Presence
from ledger.store import open_store

TEAM = "renda"
SETUP = "2026-11-01T07:30:00+08:00"


def t(hms: str, day: str = "2026-11-02") -> str:
    return f"{day}T{hms}+08:00"


def invoke(db: str, *args: str, code: int = 0):
    result = CliRunner().invoke(main, [*args, "--db", db])
    assert result.exit_code == code, (args, result.output)
    return result


def answer(db: str, *args: str) -> dict:
    return json.loads(invoke(db, *args, "--json").stdout)


def campus(db: str, consultants: int = 4) -> None:
    invoke(db, "adopt", "campus", "--team", TEAM, "--at", "2026-11-01T07:00:00+08:00")
    for n in range(1, consultants + 1):
        invoke(db, "join", f"c{n}", "--name", ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊"][n - 1],
               "--seat", str(n), "--at", SETUP)


def head(db: str) -> int:
    with open_store(db) as store:
        return store.head(TEAM)


def exported(db: str) -> list[dict]:
    return [json.loads(line) for line in event_lines(invoke(db, "export", "--team", TEAM).stdout)]


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/ledger.db"
    campus(url)
    return url


# -- one event per command -----------------------------------------------------------------------


@pytest.mark.slow
def test_every_event_type_of_the_interchange_can_be_recorded_without_writing_json(store_url):
    campus(store_url)
    steps = [
        ("ShiftAssigned", ["shift", "c2", "2026-11-02", "early"]),
        ("PresenceChanged", ["presence", "c3", "busy_new"]),
        ("LeadArrived", ["arrive", "hotline", "--lead", "L1", "--phone", "13911110001"]),
        ("LeadArrived", ["arrive", "online", "--lead", "L2", "--phone", "13911110002", "--callback-on", "2026-11-04"]),
        ("FollowUpLogged", ["followup", "L1", "--by", "c1", "--inbound", "--note", "家长来电"]),
        ("ClaimMade", ["claim", "L1", "--by", "c2", "--reason", "我先联系的"]),
        ("RulingMade", ["rule", "L1", "--owner", "c1", "--reason", "主任裁定", "--by", "主任"]),
        ("CustomersLinked", ["link", "L1", "L2"]),
        ("CustomersUnlinked", ["unlink", "L1", "L2"]),
        ("PenaltyImposed", ["penalize", "c4", "--skip", "2", "--channels", "hotline,walk_in", "--rule", "R-SA-2",
                            "--reason", "来访接待不规范", "--penalty", "P1"]),
        ("PenaltyLifted", ["lift", "P1"]),
        ("InvitationRecorded", ["invite", "L1", "--by", "c1"]),
        ("VisitRecorded", ["visit", "L1", "--by", "c1"]),
        ("ComplaintVerified", ["complaint", "c3", "--reason", "家长投诉"]),
        ("GradeProposed", ["grade", "L1", "A"]),
        ("GradeConfirmed", ["grade", "L1", "A", "--confirm"]),
        ("ContractSigned", ["sign", "K1", "--lead", "L1", "--amount", "19800", "--kind", "new", "--deposit"]),
        ("PaymentReceived", ["pay", "K1", "9800.00"]),
        ("LoanDisbursed", ["disburse", "K1", "5000"]),
        ("ContractRefunded", ["refund", "K1", "800.50"]),
        ("ContractCancelled", ["cancel", "K1"]),
        ("TargetSet", ["target", "c1", "2026-11", "--red", "300000", "--green", "200000"]),
        ("EntryVoided", ["void", "#HEAD", "--reason", "目标录错了", "--by", "主任"]),  # voids the target
        ("SeatsSwapped", ["swap", "c1", "c2"]),
        ("ConsultantLeft", ["leave", "c4"]),
        ("CustomerErased", ["erase-phone", "139 1111 0002"]),
        ("PolicyAdopted", ["adopt", "campus", "--override", "day_end=17:00", "--override", "commission_rate=0.05"]),
    ]
    minute = 0
    for kind, args in steps:
        before = head(store_url)
        minute += 1
        args = [f"#{before}" if arg == "#HEAD" else arg for arg in args]
        out = answer(store_url, *args, "--at", t(f"10:{minute:02d}:00"))
        assert [e["type"] for e in out["events"]] == [kind], args
        assert head(store_url) == before + 1
    events = exported(store_url)
    assert {e["type"] for e in events} == set(EVENT_TYPES)
    adopted = events[-1]
    assert adopted["overrides"] == {"day_end": "17:00", "commission_rate": "0.05"}
    assert not any("13911110002" in json.dumps(e) for e in events)  # R-ID-2: erased everywhere
    penalty = next(e for e in events if e["type"] == "PenaltyImposed")
    assert (penalty["kind"], penalty["turns"], penalty["channels"]) == ("skip", 2, ["hotline", "walk_in"])


def test_an_arrival_prints_the_owner_the_rule_and_who_was_passed_and_why(db):
    invoke(db, "presence", "c1", "away", "--at", t("09:30:00"))
    invoke(db, "presence", "c2", "busy_new", "--at", t("09:31:00"))
    out = answer(db, "arrive", "online", "--at", t("10:00:00"))
    assert (out["lead"], out["owner"], out["rule"]) == ("L20261102-001", "c3", "R-RT-2")
    assert [(c["consultant"], c["why"]) for c in out["candidates"] if c["outcome"] == "passed"] == [
        ("c1", "away (R-PR-2)"), ("c2", "busy_new, counted as a turn (R-PR-3)")]
    invoke(db, "presence", "c4", "away", "--at", t("10:01:00"))
    human = invoke(db, "arrive", "online", "--at", t("10:05:00")).stdout
    assert "L20261102-002" in human and "c3 张伟" in human and "R-RT-2" in human
    assert "c4  刘洋  away (R-PR-2)" in human and "c2  李娜  busy_new, counted as a turn (R-PR-3)" in human


def test_generated_lead_ids_count_the_leads_of_the_local_day_and_never_reuse_one(db):
    invoke(db, "arrive", "online", "--lead", "L20261102-002", "--at", t("10:00:00"))
    first = answer(db, "arrive", "online", "--at", t("10:01:00"))["lead"]
    second = answer(db, "arrive", "online", "--at", t("10:02:00"))["lead"]
    assert (first, second) == ("L20261102-003", "L20261102-004")
    assert answer(db, "arrive", "online", "--at", t("00:10:00", "2026-11-03"))["lead"] == "L20261103-001"
    refused = invoke(db, "arrive", "online", "--lead", first, "--at", t("10:03:00"), code=2)
    assert "already arrived" in refused.stderr


def test_a_time_without_offset_is_read_in_the_teams_time_zone(db):
    out = answer(db, "arrive", "online", "--at", "2026-11-02T10:00:00")
    assert out["at"] == "2026-11-02T10:00:00+08:00"


def test_consultants_can_be_named_by_id_or_by_name_and_a_typo_suggests_the_closest(db):
    out = answer(db, "arrive", "walk_in", "--named", "张伟", "--at", t("10:00:00"))
    assert (out["owner"], out["rule"]) == ("c3", "R-OW-2")
    typo = invoke(db, "presence", "王方", "away", code=2)
    assert "unknown consultant '王方'; did you mean c1 (王芳)" in typo.stderr
    assert invoke(db, "followup", "L20261102-001", "--by", "c33", code=2).stderr.count("did you mean c3 (张伟)")
    unknown_lead = invoke(db, "followup", "L20261102-01", "--by", "c3", code=2)
    assert "did you mean L20261102-001" in unknown_lead.stderr


def test_a_rule_violation_names_the_rule_exits_2_and_stores_nothing(db):
    before = head(db)
    swap = invoke(db, "swap", "c1", "c4", code=2)
    assert swap.stderr.strip() == "ledger: R-RO-2: c1 and c4 are not adjacent (seats 1 and 4)"
    invoke(db, "join", "c9", "--name", "赵敏", "--seat", "2", code=2)  # R-RO-1: seat taken
    invoke(db, "leave", "c4")
    left = invoke(db, "presence", "c4", "on_post", code=2)
    assert "R-RO-3" in left.stderr
    assert head(db) == before + 1


def test_the_first_and_the_last_seat_are_not_adjacent(db):
    assert "R-RO-2" in invoke(db, "swap", "c4", "c1", code=2).stderr
    assert answer(db, "swap", "c3", "c4")["summary"].endswith("swap seats (R-RO-2)")


def test_a_back_dated_swap_is_checked_against_the_seats_of_its_own_time_R_T_5(db):
    invoke(db, "leave", "c2", "--at", t("10:00:00"))
    # at 09:00 c2 still sat between c1 and c3; c1 and c2 were adjacent then
    assert "R-RO-2: c1 and c3 are not adjacent" in invoke(db, "swap", "c1", "c3", "--at", t("09:00:00"), code=2).stderr
    invoke(db, "swap", "c1", "c2", "--at", t("09:00:00"))
    assert answer(db, "arrive", "walk_in", "--at", t("09:30:00"))["owner"] == "c2"


def test_money_commands_refuse_what_cannot_happen(db):
    invoke(db, "arrive", "online", "--lead", "L1", "--at", t("10:00:00"))
    invoke(db, "sign", "K1", "--lead", "L1", "--amount", "1000", "--at", t("11:00:00"))
    assert "R-MO-2" in invoke(db, "refund", "K1", "1000.01", "--at", t("12:00:00"), code=2).stderr
    assert "two decimal places" in invoke(db, "pay", "K1", "1.001", "--at", t("12:00:00"), code=2).stderr
    assert "unknown contract 'K2'; did you mean K1" in invoke(db, "pay", "K2", "10", code=2).stderr
    early = invoke(db, "pay", "K1", "10", "--at", t("10:30:00"), code=2)
    assert "signed at 2026-11-02T11:00:00+08:00, after this event's time" in early.stderr
    invoke(db, "cancel", "K1", "--at", t("13:00:00"))
    assert "cancelled" in invoke(db, "pay", "K1", "10", "--at", t("14:00:00"), code=2).stderr


def test_a_contract_for_a_customer_nobody_owns_is_refused(db):
    out = answer(db, "arrive", "walk_in", "--at", t("22:00:00"))  # off hours, nobody on duty
    assert out["rule"] == "R-SH-5"
    refused = invoke(db, "sign", "K1", "--lead", out["lead"], "--amount", "100", "--at", t("22:30:00"), code=2)
    assert "R-MO-3" in refused.stderr


def test_penalties_take_exactly_one_kind_known_channels_and_are_lifted_once(db):
    assert "exactly one of" in invoke(db, "penalize", "c1", "--suspend", "--skip", "1", "--channels", "*",
                                      "--rule", "R-SA-6", "--reason", "x", code=2).stderr
    assert "did you mean hotline" in invoke(db, "penalize", "c1", "--suspend", "--channels", "hotlin",
                                            "--rule", "R-SA-6", "--reason", "x", code=2).stderr
    assert "K/N" in invoke(db, "penalize", "c1", "--throttle", "half", "--channels", "hotline",
                           "--rule", "R-SA-3", "--reason", "x", code=2).stderr
    out = answer(db, "penalize", "c2", "--throttle", "1/2", "--channels", "hotline", "--rule", "R-SA-3",
                 "--reason", "两轮排一轮", "--at", t("09:00:00"))
    assert out["penalty"] == "P20261102-1"
    suspended = answer(db, "penalize", "c1", "--suspend", "--channels", "*", "--from", "2026-11-03T00:00:00",
                       "--until", "2026-11-10T00:00:00", "--rule", "R-SA-6", "--reason", "不记不报",
                       "--at", t("09:05:00"))
    assert suspended["penalty"] == "P20261102-2"
    stored = [e for e in exported(db) if e["type"] == "PenaltyImposed"][-1]
    assert (stored["from"], stored["until"]) == ("2026-11-03T00:00:00+08:00", "2026-11-10T00:00:00+08:00")
    assert "did you mean P20261102-1" in invoke(db, "lift", "P20261102-9", code=2).stderr
    invoke(db, "lift", "P20261102-1", "--at", t("10:00:00"))
    assert "R-SA-9" in invoke(db, "lift", "P20261102-1", "--at", t("11:00:00"), code=2).stderr


def test_shift_dates_may_be_relative_to_the_event_day_and_a_replacement_is_noted(db):
    out = answer(db, "shift", "c1", "tomorrow", "early", "--at", t("18:00:00"))
    assert "2026-11-03" in out["summary"]
    replaced = invoke(db, "shift", "c2", "2026-11-03", "early", "--at", t("18:05:00"))
    assert "replaces c1 (王芳) as the early holder" in replaced.stderr


def test_adopt_starts_a_team_and_needs_team_when_the_store_has_none(tmp_path):
    url = f"sqlite:///{tmp_path}/new.db"
    assert "--team is required" in invoke(url, "adopt", "campus", code=2).stderr
    out = answer(url, "adopt", "realty", "--team", "office", "--timezone", "Asia/Shanghai")
    assert out["team"] == "office"
    assert "unknown policy parameter" in invoke(url, "adopt", "realty", "--override", "nonsense=1", code=2).stderr


# -- concurrency, late events and checkpoints ---------------------------------------------------


def test_a_racing_writer_makes_the_arrival_retry_and_print_the_stored_answer(store_url):
    campus(store_url)
    now = dt.datetime.fromisoformat(t("10:00:00"))
    with open_store(store_url) as mine, open_store(store_url) as theirs:
        original = mine.append
        raced = []

        def append_after_a_rival(batches):
            if not raced:  # another receptionist records an arrival between our read and our append
                raced.append(R.arrive(theirs, TEAM, "online", at=None, now=now))
            return original(batches)

        mine.append = append_after_a_rival
        outcome = R.arrive(mine, TEAM, "online", at=None, now=now)
    assert outcome.attempts == 2
    assert raced[0].answer["owner"] == "c1"
    assert (outcome.answer["owner"], outcome.answer["lead"]) == ("c2", "L20261102-002")
    assert [r.seq for r in outcome.records] == [raced[0].records[0].seq + 1]


def test_a_writer_that_keeps_losing_gives_up_with_nothing_stored(db):
    with open_store(db) as store:
        def always_conflict(batches):
            raise ConcurrencyConflict("another writer appended first")

        store.append = always_conflict
        with pytest.raises(ConcurrencyConflict, match="nothing stored"):
            R.arrive(store, TEAM, "online", at=None, now=dt.datetime.now(dt.timezone.utc), max_attempts=3,
                     sleep=lambda seconds: None)


def test_now_never_records_before_an_event_a_moment_ahead_of_it(db):
    invoke(db, "arrive", "online", "--at", t("10:00:30"))  # a receptionist whose clock is ahead
    with open_store(db) as store:
        outcome = R.arrive(store, TEAM, "online", at=None, now=dt.datetime.fromisoformat(t("10:00:00")))
    assert outcome.answer["at"] == t("10:00:30") and outcome.answer["owner"] == "c2"


def test_checkpoints_let_an_arrival_fold_only_the_events_recorded_since(db, monkeypatch):
    monkeypatch.setattr(history, "SAVE_AFTER", 8)
    for minute in range(history.SAVE_AFTER * 3 + 3):
        invoke(db, "arrive", "online", "--at", t(f"10:{minute:02d}:00"))
    with open_store(db) as store:
        loaded = R.load_state(store, TEAM, dt.datetime.fromisoformat(t("12:00:00")))
        from commands.history import records_until
        from projections import engine, queries

        scratch = engine.replay(records_until(store, TEAM, dt.datetime.fromisoformat(t("12:00:00"))),
                                until=dt.datetime.fromisoformat(t("12:00:00")))
        # (a restored state reads its leads from the store on first use: the store is still open)
        assert loaded.folded < history.SAVE_AFTER
        assert loaded.state.counts == scratch.counts
        assert [queries.owner(loaded.state, lid) for lid in scratch.leads] == [
            queries.owner(scratch, lid) for lid in scratch.leads]


def test_a_checkpoint_never_hides_an_event_recorded_later_at_the_same_instant(db, monkeypatch):
    monkeypatch.setattr(history, "SAVE_AFTER", 1)  # leave a checkpoint after every event
    first = answer(db, "arrive", "online", "--at", t("10:00:00"))
    second = answer(db, "arrive", "online", "--at", t("10:00:00"))
    third = answer(db, "arrive", "online", "--at", t("10:00:00"))
    assert [first["owner"], second["owner"], third["owner"]] == ["c1", "c2", "c3"]
    board = answer(db, "board", "--at", t("10:00:00"))
    assert next(c for c in board["channels"] if c["channel"] == "online")["next"] == "c4"


def test_a_back_dated_event_is_decided_from_the_state_at_its_own_time(db):
    invoke(db, "presence", "c1", "away", "--at", t("11:00:00"))
    late = answer(db, "arrive", "online", "--at", t("10:00:00"))  # before c1 went away
    assert late["owner"] == "c1"
    assert answer(db, "arrive", "online", "--at", t("11:30:00"))["owner"] == "c2"


# -- board ---------------------------------------------------------------------------------------


def test_the_board_agrees_with_next_and_shows_why_people_are_passed(db):
    invoke(db, "presence", "c2", "leave", "--at", t("09:10:00"))
    invoke(db, "penalize", "c3", "--skip", "1", "--channels", "online", "--rule", "R-SA-2", "--reason", "x",
           "--at", t("09:20:00"))
    invoke(db, "arrive", "online", "--at", t("09:30:00"))  # c1
    board = answer(db, "board", "--at", t("09:40:00"))
    online = next(c for c in board["channels"] if c["channel"] == "online")
    assert online["next"] == "c4" and online["up"] == "c2"
    assert [(p["consultant"], p["why"]) for p in online["passed"]] == [
        ("c2", "leave (R-PR-2)"), ("c3", "skip (R-SA-2)")]
    statuses = {r["consultant"]: r["status"] for r in online["order"]}
    assert statuses == {"c1": "eligible", "c2": "leave", "c3": "skip", "c4": "eligible"}
    from projections import queries

    with open_store(db) as store:
        state = R.load_state(store, TEAM, dt.datetime.fromisoformat(t("09:40:00"))).state
    for entry in board["channels"]:
        assert entry["next"] == queries.next_owner(state, entry["channel"],
                                                   dt.datetime.fromisoformat(t("09:40:00")))["next"]


def test_the_board_defaults_to_the_later_of_now_and_the_latest_event(db):
    invoke(db, "arrive", "online", "--at", "2099-01-01T10:00:00+08:00", "--allow-future")
    assert answer(db, "board")["at"] == "2099-01-01T10:00:00+08:00"


def test_the_human_board_lines_up_chinese_names_and_masks_numbers(db):
    invoke(db, "join", "c5", "--name", "欧阳静怡", "--at", SETUP)  # a four-character name, seat 5
    invoke(db, "join", "c66", "--name", "Ann", "--at", SETUP)
    invoke(db, "arrive", "walk_in", "--phone", "13911112222", "--at", t("22:00:00"))  # deferred (R-SH-5)
    text = invoke(db, "board", "--at", t("23:00:00")).stdout
    assert "*******2222" in text and "13911112222" not in text
    assert "deferred leads (R-SH-5)" in text
    from rich.cells import cell_len

    rows = [line for line in text.splitlines() if line.strip()[:2] in ("1 ", "2 ", "3 ", "4 ", "5 ", "6 ")]
    assert len(rows) == 6 and any("欧阳静怡" in line for line in rows)
    # the presence column starts at the same screen column whatever the width of the names
    assert len({cell_len(line[:line.index("on_post")]) for line in rows}) == 1


# -- help and completion -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_with_an_example(name):
    result = CliRunner().invoke(main, [name, "-h"])
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"ledger {name}" in result.stdout


def test_the_channel_and_presence_names_match_the_event_vocabulary():
    assert cli.RECORD_CHANNELS == tuple(Channel.__members__)
    assert cli.RECORD_PRESENCES == tuple(Presence.__members__)


def test_consultant_ids_complete_from_the_store_lazily(db):
    import click

    command = main.commands["presence"]
    ctx = click.Context(command, info_name="presence")
    ctx.params = {"db": db}
    param = next(p for p in command.params if p.name == "consultant")
    assert [item.value for item in cli.complete_consultants(ctx, param, "c")] == ["c1", "c2", "c3", "c4"]
    assert [item.help for item in cli.complete_consultants(ctx, param, "c2")] == ["李娜"]
    ctx.params = {"db": "sqlite:////nonexistent/dir/l.db"}
    assert cli.complete_consultants(ctx, param, "") == []
    assert [i.value for i in cli.complete_channel_list(ctx, param, "hotline,w")] == ["hotline,walk_in"]


def test_the_shell_completion_script_and_completions_come_from_the_installed_command(db, tmp_path):
    ledger = str(Path(sys.executable).with_name("ledger"))
    env = {**os.environ, "_LEDGER_COMPLETE": "bash_source"}
    script = subprocess.run([ledger], env=env, capture_output=True, text=True, check=True).stdout
    assert "_LEDGER_COMPLETE=bash_complete" in script
    env = {**os.environ, "_LEDGER_COMPLETE": "bash_complete", "COMP_WORDS": "ledger presence c", "COMP_CWORD": "2",
           "LEDGER_DB": db}
    lines = subprocess.run([ledger], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert [line.split(",", 1)[1] for line in lines] == ["c1", "c2", "c3", "c4"]  # "plain,c1", ...
    env.update(COMP_WORDS="ledger arr", COMP_CWORD="1")
    assert "arrive" in subprocess.run([ledger], env=env, capture_output=True, text=True).stdout
    env.update(COMP_WORDS="ledger arrive hot", COMP_CWORD="2")
    assert "hotline" in subprocess.run([ledger], env=env, capture_output=True, text=True).stdout


def test_a_derived_sanction_is_lifted_by_its_listed_id_and_no_penalty_may_take_that_form(db, tmp_path):
    """R-SA-9: any sanction. The weekly R-SA-4 suspensions (no contract in the window) carry ids
    that `lift` accepts; an imposed penalty may not borrow their form."""
    monday = "2026-11-09"
    listed = answer(db, "sanctions", "--at", t("09:00:00", monday))["sanctions"]
    derived = [row for row in listed if row["rule"] == "R-SA-4"]
    assert derived and all(row["derived"] for row in derived)
    first = derived[0]
    invoke(db, "lift", first["penalty"], "--at", t("09:30:00", monday))
    after = answer(db, "sanctions", "--at", t("09:31:00", monday))["sanctions"]
    assert first["penalty"] not in {row["penalty"] for row in after}
    assert len(after) == len(listed) - 1
    assert "R-SA-9" in invoke(db, "lift", first["penalty"], "--at", t("10:00:00", monday), code=2).stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"type": "PenaltyImposed", "team": TEAM, "at": t("11:00:00", monday),
                               "penalty": "R-SA-4.mine", "consultant": "c1", "kind": "skip", "channels": ["*"],
                               "turns": 1, "rule": "R-SA-2", "reason": "x"}) + "\n")
    before = head(db)
    assert "form of a derived sanction" in invoke(db, "import", str(bad), code=2).stderr
    assert head(db) == before
