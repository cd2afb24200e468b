"""A whole campus day recorded through the recording commands only (issue #5), on SQLite and
PostgreSQL, with the board and explain answers checked against the rulebook.

Team renda, preset campus, Monday 2026-11-02 (Asia/Shanghai). 王芳 c1, 李娜 c2, 张伟 c3, 刘洋 c4,
陈静 c5 at seats 1-5; 李娜 holds the early shift, 刘洋 the late one. Nobody has revenue yet, so
the hotline's ranking order is the seat order (R-RT-1) and nobody takes two per turn (R-RT-4).
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from cli import main

TEAM = "renda"
NAMES = ["王芳", "李娜", "张伟", "刘洋", "陈静"]


def t(hms: str, day: str = "2026-11-02") -> str:
    return f"{day}T{hms}+08:00"


class Day:
    """Drives the CLI in-process against one store."""

    def __init__(self, db: str):
        self.db = db
        self.runner = CliRunner()

    def run(self, *args: str, code: int = 0):
        result = self.runner.invoke(main, [*args, "--db", self.db])
        assert result.exit_code == code, (args, result.output)
        return result

    def json(self, *args: str) -> dict:
        return json.loads(self.run(*args, "--json").stdout)

    def arrive(self, channel: str, hms: str, *extra: str) -> dict:
        return self.json("arrive", channel, "--at", t(hms), *extra)

    def board(self, at: str) -> dict:
        return self.json("board", "--at", at)

    def query(self, name: str, *args: str, at: str | None = None) -> dict:
        """A query's --json answer: the CLI's when the command exists, else the same projection."""
        when = ["--at", at] if at else []
        if name in main.commands:
            return self.json(name, *args, "--team", TEAM, *when)
        from commands.history import default_moment
        from commands.record import load_state
        from ledger.store import open_store
        from projections import queries

        with open_store(self.db) as store:
            moment = dt.datetime.fromisoformat(at) if at else default_moment(store, TEAM, dt.datetime.now(dt.timezone.utc))
            state = load_state(store, TEAM, moment).state
        if name == "turns":
            return queries.turns(state, dt.date.fromisoformat(args[1]), dt.date.fromisoformat(args[3]))
        if name == "next":
            return queries.next_owner(state, args[0], moment)
        return getattr(queries, name)(state, *args)

    def head(self) -> int:
        from ledger.store import open_store

        with open_store(self.db) as store:
            return store.head(TEAM)


def passed(answer: dict) -> dict[str, str]:
    return {c["consultant"]: c["why"] for c in answer["candidates"] if c["outcome"] != "holder"}


def channel(board: dict, name: str) -> dict:
    return next(c for c in board["channels"] if c["channel"] == name)


def row(board: dict, name: str, consultant: str) -> dict:
    return next(r for r in channel(board, name)["order"] if r["consultant"] == consultant)


@pytest.mark.slow
def test_a_campus_day_recorded_from_the_command_line_follows_the_rulebook(store_url):
    day = Day(store_url)
    day.run("adopt", "campus", "--team", TEAM, "--at", "2026-11-01T07:00:00+08:00")
    for n, name in enumerate(NAMES, 1):
        day.run("join", f"c{n}", "--name", name, "--seat", str(n), "--at", "2026-11-01T07:30:00+08:00")
    day.run("shift", "c2", "2026-11-02", "early", "--at", "2026-11-01T20:00:00+08:00")
    day.run("shift", "c4", "2026-11-02", "late", "--at", "2026-11-01T20:00:00+08:00")

    # R-SH-2: early-window leads of the shift channels go to the early holder, no turn.
    first = day.arrive("hotline", "08:10:00", "--phone", "13911110001")
    assert (first["lead"], first["owner"], first["rule"]) == ("L20261102-001", "c2", "R-SH-2")
    assert first["phone"] == "*******0001"  # R-ID-2: never printed in full
    assert day.arrive("walk_in", "08:40:00", "--phone", "13911110002")[("owner")] == "c2"
    # online is not a shift channel (campus): rotation from the lowest seat, R-RT-2 / R-RT-3.
    assert day.arrive("online", "08:50:00")["owner"] == "c1"

    board = day.board(t("08:55:00"))
    assert board["window"] == "early" and board["shifts"]["early"]["consultant"] == "c2"
    assert channel(board, "hotline")["next"] == "c2" and channel(board, "hotline")["rule"] == "R-SH-2"

    # The hand-over at 09:00 (R-T-4): 09:00:30 is still early (整9点归早班); 09:01 is rotation.
    handover = day.arrive("hotline", "09:00:30")
    assert (handover["owner"], handover["rule"]) == ("c2", "R-SH-2")
    after = day.arrive("hotline", "09:01:00")
    assert (after["owner"], after["rule"]) == ("c1", "R-RT-2")

    # R-PR-2: a consultant on leave (请假) is passed and the turn is lost.
    day.run("presence", "c3", "leave", "--at", t("09:05:00"))
    assert day.arrive("hotline", "09:10:00")["owner"] == "c2"
    passed_c3 = day.arrive("hotline", "09:20:00")
    assert passed_c3["owner"] == "c4" and passed(passed_c3) == {"c3": "leave (R-PR-2)"}

    # R-RT-5: the consultant who is up leaves; the pointer moves to the next one (R-RO-3).
    day.run("leave", "c5", "--at", t("09:30:00"))
    assert day.arrive("hotline", "09:40:00")["owner"] == "c1"

    # R-OW-2 / R-RT-6: a named consultant owns it; the walk_in turn holder passes normally.
    named = day.arrive("walk_in", "10:00:00", "--named", "刘洋", "--phone", "13911110003")
    assert (named["owner"], named["rule"], named["turn_holder"]) == ("c4", "R-OW-2", "c1")

    # R-OW-3 (first keeps, campus): the same parent (+86 form, R-ID-1) comes back by hq_referral.
    dup = day.arrive("hq_referral", "10:30:00", "--phone", "+86 139-1111-0002")
    assert (dup["owner"], dup["rule"], dup["turn_holder"]) == ("c2", "R-OW-3", "c1")

    # R-OW-7: a claim is shown, never an override; the customer is disputed until a ruling.
    claim = day.json("claim", dup["lead"], "--by", "c1", "--reason", "家长上周就是我联系的", "--at", t("11:00:00"))
    assert (claim["owner"], claim["disputed"]) == ("c2", True)
    assert day.query("owner", dup["lead"], at=t("11:10:00"))["disputed"] is True
    # R-OW-0: the supervisor's ruling decides.
    ruling = day.json("rule", dup["lead"], "--owner", "c1", "--reason", "主任裁定:有通话记录为证", "--by", "主任",
                      "--at", t("11:30:00"))
    assert (ruling["owner"], ruling["rule"], ruling["disputed"]) == ("c1", "R-OW-0", False)
    explain = day.query("explain", dup["lead"], at=t("11:40:00"))
    assert [(e["type"], e["rule"]) for e in explain["timeline"]] == [
        ("LeadArrived", "R-SH-2"), ("LeadArrived", "R-OW-3"), ("ClaimMade", "R-OW-7"), ("RulingMade", "R-OW-0")]
    assert explain["owner"] == "c1" and explain["rule"] == "R-OW-0"

    # R-SA-1 / R-SA-6: a supervisor's suspension from the hotline.
    penalty = day.json("penalize", "c4", "--suspend", "--channels", "hotline", "--rule", "R-SA-6",
                       "--reason", "不记不报抢接电话", "--penalty", "P1", "--by", "主任", "--at", t("12:00:00"))
    assert penalty["penalty"] == "P1"
    assert day.arrive("hotline", "12:10:00")["owner"] == "c2"
    walked = day.arrive("hotline", "12:20:00")
    assert walked["owner"] == "c1"
    assert passed(walked) == {"c3": "leave (R-PR-2)", "c4": "suspended (R-SA-6)"}
    board = day.board(t("12:30:00"))
    assert row(board, "hotline", "c4")["status"] == "suspended"
    assert row(board, "online", "c4")["status"] == "eligible"  # R-CH-1: only the named channel
    assert row(board, "hotline", "c3")["status"] == "leave"
    assert [s["rule"] for s in board["sanctions"]] == ["R-SA-6"]
    assert channel(board, "hotline")["next"] == day.query("next", "hotline", at=t("12:30:00"))["next"] == "c2"
    assert day.arrive("hotline", "13:00:00")["owner"] == "c2"

    # R-SA-9: the lift ends it; the hotline reaches c4 again.
    day.run("lift", "P1", "--by", "主任", "--at", t("14:00:00"))
    board = day.board(t("14:05:00"))
    assert board["sanctions"] == [] and row(board, "hotline", "c4")["status"] == "eligible"
    back = day.arrive("hotline", "14:10:00")
    assert (back["owner"], passed(back)) == ("c4", {"c3": "leave (R-PR-2)"})

    # R-MO-2 / R-MO-3: a contract credited to the owner, and a payment.
    signed = day.json("sign", "K1", "--lead", first["lead"], "--amount", "19800", "--kind", "new",
                      "--at", t("15:00:00"))
    assert [c["consultant"] for c in signed["credits"]] == ["c2"]
    day.run("pay", "K1", "9800.00", "--at", t("15:30:00"))

    # R-OW-1: the signed customer returns (0086 form); R-OW-1b: a referral to the referrer's owner.
    again = day.arrive("hotline", "16:00:00", "--phone", "0086 13911110001")
    assert (again["owner"], again["rule"]) == ("c2", "R-OW-1")
    referral = day.arrive("customer_referral", "16:10:00", "--referrer-phone", "13911110001")
    assert (referral["owner"], referral["rule"]) == ("c2", "R-OW-1b")
    assert day.arrive("internal_referral", "16:20:00")["rule"] == "R-RT-2"
    marketing = day.arrive("marketing", "16:30:00")
    assert (marketing["owner"], marketing["rule"]) == ("c1", "R-RT-8")  # equal scores: by seat
    assert day.arrive("conference", "16:40:00")["owner"] == "c1"
    outbound = day.arrive("outbound", "16:50:00", "--maker", "c3")
    assert (outbound["owner"], outbound["rule"]) == ("c3", "R-CH-3")  # theirs, even on leave
    day.run("followup", "L20261102-007", "--by", "c4", "--note", "已约周六试听", "--at", t("17:00:00"))

    # R-SH-2 in the late window; R-SH-4/R-SH-5 off hours with nobody on duty: deferred.
    late = day.arrive("hotline", "18:30:00")
    assert (late["owner"], late["rule"]) == ("c4", "R-SH-2")
    day.run("presence", "c4", "away", "--at", t("21:10:00"))
    deferred = day.arrive("walk_in", "21:30:00")
    assert (deferred["owner"], deferred["rule"]) == (None, "R-SH-5")
    assert deferred["deferred_until"] == t("09:01:00", "2026-11-03")

    # Mistakes are refused with the rule or a suggestion, exit status 2, nothing stored.
    head = day.head()
    refused = day.run("swap", "c1", "c3", "--at", t("21:40:00"), code=2)
    assert "R-RO-2: c1 and c3 are not adjacent (seats 1 and 3)" in refused.stderr
    typo = day.run("presence", "c44", "on_post", "--at", t("21:40:00"), code=2)
    assert "did you mean c4 (刘洋)" in typo.stderr
    assert day.run("arrive", "walk_in", "--named", "c5", "--taken-by", "c9", "--at", t("21:41:00"), code=2)
    assert day.head() == head

    # The board after midnight: the deferred lead, overdue follow-ups (R-FU-1), masked numbers.
    board = day.board(t("00:30:00", "2026-11-03"))
    assert [d["lead"] for d in board["deferred"]] == [deferred["lead"]]
    assert board["deferred"][0]["allocate_at"] == t("09:01:00", "2026-11-03")
    overdue = {o["lead"]: o for o in board["overdue"]}
    assert overdue["L20261102-001"]["owner"] == "c2" and overdue["L20261102-001"]["phone"] == "*******0001"
    assert "L20261102-007" not in overdue  # followed up by its owner the same day
    assert all(o["rule"] == "R-FU-1" for o in board["overdue"])
    assert "1391111" not in json.dumps(board)
    assert channel(board, "walk_in")["next"] is None and channel(board, "walk_in")["rule"] == "R-SH-5"
    human = day.run("board", "--at", t("00:30:00", "2026-11-03")).stdout
    assert "李娜" in human and "*******0001" in human and "13911110001" not in human

    # R-SH-5: the deferred lead is allocated by the walk_in rotation at 09:01 the next day.
    allocated = day.query("owner", deferred["lead"], at=t("09:05:00", "2026-11-03"))
    assert (allocated["owner"], allocated["rule"]) == ("c2", "R-SH-5")
    assert day.board(t("09:05:00", "2026-11-03"))["deferred"] == []

    # R-RT-7: turns and leads of the day's hotline, as recorded above.
    rows = day.query("turns", "--from", "2026-11-02", "--to", "2026-11-02")["rows"]
    hotline = {r["consultant"]: (r["turns"], r["leads"]) for r in rows if r["channel"] == "hotline"}
    # c1: 09:01, 09:40, 12:20; c2: 09:10, 12:10, 13:00 + two early-shift leads (leads only);
    # c4: 09:20, 14:10 + the late-shift lead; R-OW-1's returning customer counts for nobody.
    assert hotline == {"c1": (3, 3), "c2": (3, 5), "c4": (2, 3)}
    walk_in = {r["consultant"]: (r["turns"], r["leads"]) for r in rows if r["channel"] == "walk_in"}
    assert walk_in == {"c1": (1, 0), "c2": (0, 1), "c4": (0, 1)}  # R-RT-6: c1 passed normally


@pytest.mark.parametrize("command", ["arrive hotline", "presence c1 away"])
def test_a_recording_command_on_an_empty_store_says_how_to_start_a_team(tmp_path, command):
    result = CliRunner().invoke(main, [*command.split(), "--db", f"sqlite:///{tmp_path}/l.db"])
    assert result.exit_code == 2 and "no team" in result.stderr
