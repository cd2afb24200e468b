"""Quiet hours per team and a pace per target (issue #16): what falls in quiet hours is held and
sent when they end, a robot gets at most 20 messages a minute, and nothing is lost, against a
real receiver on 127.0.0.1, with the notifier's clock moved by `--now`."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import test_notify
from test_notify import DEMO_COUNTS, DEMO_TOTAL, _follow, _stop, _wait, demo_with_target, run

receiver = test_notify.receiver  # the fixture: a real HTTP receiver on 127.0.0.1


def _once(db: str, now: str) -> dict:
    return json.loads(run(db, "notify", "--once", "--team", "renda", "--json", "--now", now).stdout)["teams"][0]


def test_notices_falling_in_quiet_hours_are_held_and_all_sent_when_they_end(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    run(db, "notify", "quiet", "22:00-08:00", "--team", "renda")
    night = _once(db, "2026-12-04T23:00:00+08:00")
    noticed = sum(night["new"].values())
    assert noticed >= DEMO_TOTAL and night["sent"] == {} and r.requests == []  # noticed, held
    assert night["held_until"] == "2026-12-05T08:00:00+08:00"
    dawn = _once(db, "2026-12-05T07:59:59+08:00")
    assert dawn["sent"] == {} and r.requests == [] and dawn["held_until"] == "2026-12-05T08:00:00+08:00"
    morning = _once(db, "2026-12-05T08:00:00+08:00")
    assert morning["held_until"] is None and morning["sent"] == {
        "t-webhook": sum(sum(x["new"].values()) for x in (night, dawn, morning))}
    keys = r.keys()
    assert len(keys) == morning["sent"]["t-webhook"] and set(keys.values()) == {1}  # none dropped, none twice, the 日报 too
    assert sum(1 for k in keys if k.split("/")[1] == "summary") == DEMO_COUNTS["summary"]
    run(db, "notify", "quiet", "--off", "--team", "renda")
    assert _once(db, "2026-12-05T23:00:00+08:00")["held_until"] is None


def test_a_daytime_quiet_window_holds_only_inside_it(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    run(db, "notify", "quiet", "12:00-13:30", "--team", "renda")
    noon = _once(db, "2026-12-05T12:10:00+08:00")
    assert noon["held_until"] == "2026-12-05T13:30:00+08:00" and r.requests == []
    after = _once(db, "2026-12-05T13:30:00+08:00")
    assert after["sent"] == {"t-webhook": sum(noon["new"].values()) + sum(after["new"].values())}


@pytest.mark.parametrize("bad", ["25:00-08:00", "22:00-22:00", "22:00", "10pm-8am", "22:00-08:00-09:00"])
def test_bad_quiet_hours_are_one_line_and_store_nothing(tmp_path, receiver, bad):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    result = run(db, "notify", "quiet", bad, "--team", "renda", code=2)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "expected HH:MM-HH:MM" in lines[0] and "Traceback" not in result.output
    assert _once(db, "2026-12-04T20:00:00+08:00")["sent"] == {"t-webhook": DEMO_TOTAL}  # no quiet hours stored


def test_a_robot_is_paced_at_20_a_minute_by_the_notifiers_clock_and_loses_nothing(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "wecom", r.url + "/w", paced=True)  # WeCom's default pace: 20/60
    listed = json.loads(run(db, "notify", "list-targets", "--json").stdout)["targets"]
    assert listed[0]["rate"] == "20/60"
    start = dt.datetime.fromisoformat("2026-12-04T20:00:00+08:00")
    per_run = []
    for seconds in (0, 30, 59, 60, 61, 120):
        before = len(r.accepted())
        answer = _once(db, (start + dt.timedelta(seconds=seconds)).isoformat())
        per_run.append(len(r.accepted()) - before)
        assert answer["sent"] == {"t-wecom": per_run[-1]}
    assert per_run == [20, 0, 0, 20, 0, 20]  # at most 20 in any minute of the notifier's clock
    assert _once(db, "2026-12-04T20:03:00+08:00")["next"] == "2026-12-04T20:04:00+08:00"
    run(db, "notify", "rate", "t-wecom", "none")  # the rest at once: nothing was lost meanwhile
    assert _once(db, "2026-12-04T20:03:00+08:00")["sent"] == {"t-wecom": DEMO_TOTAL - 80}
    keys = r.keys()
    assert len(keys) == DEMO_TOTAL and set(keys.values()) == {1}


@pytest.mark.parametrize("args, says", [(["nosuch", "20/60"], "unknown target 'nosuch'"),
                                        (["t-wecom", "0/60"], "expected N/SECONDS"),
                                        (["t-wecom", "20/0"], "expected N/SECONDS"),
                                        (["t-wecom", "fast"], "expected N/SECONDS")])
def test_a_bad_rate_is_one_line_and_stores_nothing(tmp_path, receiver, args, says):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "wecom", r.url + "/w", paced=True)
    result = run(db, "notify", "rate", *args, code=2)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in result.output
    assert json.loads(run(db, "notify", "list-targets", "--json").stdout)["targets"][0]["rate"] == "20/60"


@pytest.mark.slow
def test_follow_paces_a_target_in_real_time_and_delivers_every_notice(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    run(db, "notify", "rate", "t-webhook", "150/1")
    process = _follow(db)
    try:
        _wait(lambda: len(r.keys()) == DEMO_TOTAL)
    finally:
        _stop(process)
    times = r.times
    assert all(times[i + 150] - times[i] >= 1.0 for i in range(len(times) - 150))  # no 151 within a second
    assert times[-1] - times[0] >= DEMO_TOTAL // 150 - 1
    assert set(r.keys().values()) == {1}
