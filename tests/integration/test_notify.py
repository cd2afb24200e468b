"""`ledger notify` (issue #16) against a real HTTP receiver on 127.0.0.1: one message per fact of
the demo month in each target format, retries while the receiver fails, a `kill -9` of
`ledger notify --follow` and a restart, and a correction after a back-dated presence change."""
from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "fixtures" / "demo-campus-month.jsonl")
NOW = "2026-12-04T20:00:00+08:00"  # the notifier's clock: four days after the demo month
DEMO_COUNTS = {"allocated": 510, "moved": 28, "disputed": 1, "sanction": 2, "lifted": 1, "missed": 40, "summary": 30}
DEMO_TOTAL = sum(DEMO_COUNTS.values())
SECRET = "SECtest-secret"


class Receiver:
    """A robot/webhook endpoint: records every request; answers `fail_status` to the first
    `fail_first` requests (or while `failing` is set), else 200 with `{"errcode": 0}`."""

    def __init__(self, fail_first: int = 0, fail_status: int = 500, delay: float = 0.0, hold_at: int | None = None):
        self.requests: list[tuple[str, dict, bytes, int]] = []
        self.fail_first, self.fail_status, self.delay = fail_first, fail_status, delay
        self.failing = False  # while set, every request is answered `fail_status`
        self.times: list[float] = []  # the arrival of each request (time.time())
        # The request number `hold_at` (0-based) is recorded as accepted, then not answered until
        # `release` is set: a message the receiver has, whose success the sender does not know yet.
        self.hold_at, self.held, self.release = hold_at, threading.Event(), threading.Event()
        self.lock = threading.Lock()
        self.on_accept = None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    failing = receiver.failing or len(receiver.requests) < receiver.fail_first
                    status = receiver.fail_status if failing else 200
                    hold = len(receiver.requests) == receiver.hold_at
                    receiver.requests.append((self.path, dict(self.headers), body, status))
                    receiver.times.append(time.time())
                if hold:
                    receiver.held.set()
                    receiver.release.wait(60)
                answer = b'{"errcode": 0, "errmsg": "ok"}' if status == 200 else b"down"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                if status == 200 and receiver.on_accept is not None:
                    receiver.on_accept(receiver)

            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the notifier was killed while this request was in flight

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def accepted(self) -> list[tuple[str, dict, bytes, int]]:
        with self.lock:
            return [r for r in self.requests if r[3] == 200]

    def keys(self) -> collections.Counter:
        return collections.Counter(r[1]["Idempotency-Key"] for r in self.accepted())

    def last_key(self) -> str:
        with self.lock:
            return self.requests[-1][1]["Idempotency-Key"]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


def run(db: str, *args: str, code: int = 0):
    if args[:2] == ("notify", "--once") and "--now" not in args:
        args = (*args, "--now", NOW)
    result = CliRunner().invoke(main, ["--lang", "zh", *args, "--db", db])
    assert result.exit_code == code, (args, result.output)
    return result


def demo_with_target(db: str, kind: str, url: str, secret: str | None = None, paced: bool = False) -> None:
    """The demo month and one target; unpaced unless `paced` (a robot's default is 20 a minute)."""
    run(db, "import", DEMO)
    extra = ["--secret", secret] if secret else []
    run(db, "notify", "add-target", f"t-{kind}", "--kind", kind, "--url", url, "--team", "renda", *extra)
    if not paced:
        run(db, "notify", "rate", f"t-{kind}", "none")


def kind_of(key: str) -> str:
    return key.split("/")[1]


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "webhook"])
def test_each_target_format_gets_one_message_per_fact_of_the_demo_month(store_url, receiver, kind):
    r = receiver()
    path = "/robot/send?access_token=tok" if kind == "dingtalk" else "/hook"
    demo_with_target(store_url, kind, r.url + path, None if kind == "wecom" else SECRET)
    answer = json.loads(run(store_url, "notify", "--once", "--team", "renda", "--json").stdout)
    assert answer["teams"][0]["new"] == DEMO_COUNTS
    keys = r.keys()
    assert len(keys) == DEMO_TOTAL and set(keys.values()) == {1}
    assert collections.Counter(kind_of(k) for k in keys) == collections.Counter(DEMO_COUNTS)
    for path_sent, headers, body, _ in r.accepted():
        message = json.loads(body)
        text = _check_format(kind, path_sent, headers, body, message)
        assert headers["Idempotency-Key"] in text  # the key is in the body too
        assert not re.search(r"(?<![A-Za-z0-9_])[0-9]{7,}(?![A-Za-z0-9_])", body.decode())  # phones masked
    first = json.loads(r.accepted()[0][2])
    assert "分配给 王芳 (c1)" in _text(kind, first)
    again = json.loads(run(store_url, "notify", "--once", "--team", "renda", "--json").stdout)
    assert again["teams"][0]["new"] == {} and len(r.accepted()) == DEMO_TOTAL  # nothing twice


def _text(kind: str, message: dict) -> str:
    if kind == "wecom":
        return message["markdown"]["content"]
    if kind == "dingtalk":
        return message["markdown"]["text"]
    return message["text"]


def _check_format(kind: str, path: str, headers: dict, body: bytes, message: dict) -> str:
    if kind == "wecom":
        assert message["msgtype"] == "markdown"
    elif kind == "dingtalk":
        assert message["msgtype"] == "markdown" and message["markdown"]["title"] == "线索台账通知"
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        stamp = query["timestamp"][0]
        expected = base64.b64encode(hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest())
        assert query["access_token"] == ["tok"] and query["sign"][0] == expected.decode()
    else:
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Ledger-Signature"] == signature and message["key"] == headers["Idempotency-Key"]
    return _text(kind, message)


def _follow(db: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "LEDGER_DB": db, "LEDGER_LANG": "zh"}
    return subprocess.Popen([sys.executable, "-m", "cli", "notify", "--follow", "--team", "renda", "--backoff", "0.05",
                             "--max-backoff", "0.2", "--now", NOW, *extra], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(predicate, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, process.stderr.read()


def _outbox_order(db: str, target: str) -> list[str]:
    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return [k for (k,) in conn.execute("SELECT key FROM ledger_notify_outbox WHERE target = ? ORDER BY ordinal",
                                           (target,))]


def test_a_receiver_failing_with_500_then_recovering_gets_every_notice_once_in_order(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook", SECRET)
    process = _follow(db)
    try:
        _wait(lambda: len(r.accepted()) >= 100)
        r.failing = True  # down for a while, mid-batch
        _wait(lambda: len(r.requests) - len(r.accepted()) >= 6)
        down_at = len(r.accepted())
        time.sleep(0.5)
        assert len(r.accepted()) == down_at  # nothing was taken while it was down ...
        r.failing = False
        _wait(lambda: len(r.keys()) == DEMO_TOTAL)
        time.sleep(0.5)
    finally:
        _stop(process)
    refused = {q[1]["Idempotency-Key"] for q in r.requests if q[3] == 500}
    assert len([q for q in r.requests if q[3] == 500]) >= 6 and len(refused) == 1  # ... the oldest was retried
    keys = r.keys()
    assert len(keys) == DEMO_TOTAL and set(keys.values()) == {1}  # every notice arrived, none twice
    order = [q[1]["Idempotency-Key"] for q in r.accepted()]
    assert order == _outbox_order(db, "t-webhook")  # and in the order noticed
    assert refused == {order[down_at]}


def _kill_9(process: subprocess.Popen, r: Receiver) -> str:
    """SIGKILL, and the key of the message in flight then (one target: the sender's last request)."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    time.sleep(0.5)  # a request written before the kill may still be in the receiver's socket buffer
    return r.last_key()


@pytest.mark.slow
def test_kill_9_of_follow_mid_batch_and_restarts_deliver_every_key_repeating_only_the_one_in_flight(tmp_path, receiver):
    """At least once, with the key for dedup: a message the receiver has but whose success was not
    recorded when the notifier died is sent again after the restart, with the same key; nothing
    else is repeated, and nothing is lost."""
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver(delay=0.002, hold_at=150)
    demo_with_target(db, "wecom", r.url + "/w")
    in_flight = []
    process = _follow(db)
    assert r.held.wait(90)  # the 151st message is at the receiver, not answered: kill now
    in_flight.append(_kill_9(process, r))
    r.release.set()
    for at_least in (300, 450):  # twice more, wherever the kill lands (answered, or not yet)
        process = _follow(db)
        _wait(lambda: len(r.accepted()) >= at_least)
        in_flight.append(_kill_9(process, r))
    assert len(r.accepted()) < DEMO_TOTAL  # each kill was mid-batch
    process = _follow(db)
    try:
        _wait(lambda: len(r.keys()) == DEMO_TOTAL)
        time.sleep(0.5)
    finally:
        _stop(process)
    keys = r.keys()
    assert set(keys) == set(_outbox_order(db, "t-wecom")) and len(keys) == DEMO_TOTAL  # every key arrived
    assert keys[in_flight[0]] == 2  # the held one: the receiver had it, the notifier did not know
    repeated = {k: n for k, n in keys.items() if n > 1}
    assert set(repeated) <= set(in_flight), (repeated, in_flight)  # only messages in flight at a kill
    assert all(n <= 1 + in_flight.count(k) for k, n in repeated.items())
    bodies = collections.defaultdict(set)
    for _, headers, body, _ in r.accepted():
        bodies[headers["Idempotency-Key"]].add(body)
    assert all(len(b) == 1 for b in bodies.values())  # a repeat is the same message, key and body


def test_a_back_dated_presence_change_that_moves_an_earlier_lead_gives_a_correction(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    run(db, "notify", "--once", "--team", "renda")
    late = tmp_path / "late.jsonl"
    late.write_text(json.dumps({"type": "PresenceChanged", "team": "renda", "at": "2026-11-01T09:40:00+08:00",
                                "consultant": "c1", "presence": "away", "id": "late-away-c1"}) + "\n")
    run(db, "import", str(late))
    answer = json.loads(run(db, "notify", "--once", "--team", "renda", "--json").stdout)
    assert answer["teams"][0]["new"].get("corrected", 0) >= 1
    bodies = [json.loads(q[2]) for q in r.accepted()]
    corrections = {b["facts"]["lead"]: b for b in bodies if b["kind"] == "corrected"}
    l1 = corrections["L000001"]
    assert l1["key"] == "renda/corrected/L000001/1"
    assert l1["facts"]["previous"] == {"id": "c1", "name": "王芳"} and l1["facts"]["owner"]["id"] != "c1"
    assert "王芳 (c1)" in l1["text"] and l1["facts"]["owner"]["name"] in l1["text"] and "更正" in l1["text"]
    keys = r.keys()
    assert set(keys.values()) == {1}


def _notices(r: Receiver) -> dict[str, dict]:
    return {json.loads(q[2])["key"]: json.loads(q[2]) for q in r.accepted()}


def test_the_daily_summary_of_2026_11_16_reads_right_in_chinese_and_is_sent_once(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    run(db, "notify", "--once", "--team", "renda")
    summaries = sorted(k for k in r.keys() if kind_of(k) == "summary")
    assert summaries == [f"renda/summary/2026-11-{day:02d}" for day in range(1, 31)]  # none after the last event
    day = _notices(r)["renda/summary/2026-11-16"]
    lines = day["text"].splitlines()
    assert lines[0] == "日报：renda 团队 2026-11-16（截至 20:00）"
    assert "李娜 (c2)：线索 3 条，轮次 4，逾期跟进 6" in lines
    assert "王芳 (c1)：线索 0 条，轮次 1，逾期跟进 2" in lines
    assert "逾期跟进合计：20" in lines and "未决争议：0" in lines  # 李娜's claim on L1116-X2 is at 20:10
    assert "明日开始的处罚：0" in lines and lines[-1] == "通知编号：renda/summary/2026-11-16"
    assert day["facts"]["moment"] == "2026-11-16T20:00:00+08:00" and len(day["facts"]["consultants"]) == 6
    later = json.loads(run(db, "notify", "--once", "--team", "renda", "--json", "--now", "2026-12-05T21:00:00+08:00").stdout)
    assert "summary" not in later["teams"][0]["new"]  # (deadlines of the next day are missed meanwhile)
    assert r.keys()["renda/summary/2026-11-16"] == 1 and set(r.keys().values()) == {1}


def test_the_summary_time_is_the_teams_local_time_and_the_summary_of_that_moment(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    run(db, "notify", "--once", "--team", "renda", "--summary-at", "21:00")
    day = _notices(r)["renda/summary/2026-11-16"]
    assert day["facts"]["moment"] == "2026-11-16T21:00:00+08:00"
    assert "未决争议：1" in day["text"] and "线索 L1116-X2，由 刘洋 (c4) 持有" in day["text"]  # the claim at 20:10
    run(db, "notify", "--once", "--team", "renda", "--summary-at", "25:00", code=2)


def test_a_lead_left_without_follow_up_is_noticed_due_soon_then_missed_to_its_owner(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    run(db, "notify", "--once", "--team", "renda", "--now", "2026-11-30T23:00:00+08:00")
    soon = _notices(r)["renda/due-soon/L000494/20261130T160000.000000Z"]  # L000494 arrived 11-30, not followed
    assert soon["kind"] == "due-soon" and soon["facts"]["owner"] == {"id": "c2", "name": "李娜"}
    assert "跟进即将到期" in soon["text"] and "2026-12-01 00:00" in soon["text"] and "李娜 (c2)" in soon["text"]
    # at 24:00 R-FU-2 moves it to 王芳, who has until the end of 12-01; she does not follow it up either
    run(db, "notify", "--once", "--team", "renda", "--now", "2026-12-02T00:30:00+08:00")
    found = _notices(r)
    assert "renda/moved/L000494/20261130T160000.000000Z/R-FU-2" in found
    missed = found["renda/missed/L000494/20261201T160000.000000Z"]
    assert missed["facts"]["owner"] == {"id": "c1", "name": "王芳"} and missed["facts"]["rule"] == "R-FU-1"
    assert "跟进已逾期" in missed["text"] and "王芳 (c1)" in missed["text"] and "2026-12-02 00:00" in missed["text"]
    assert "renda/due-soon/L000494/20261201T160000.000000Z" not in found  # first seen past due: missed only
    again = json.loads(run(db, "notify", "--once", "--team", "renda", "--json", "--now", "2026-12-02T00:31:00+08:00").stdout)
    assert again["teams"][0]["new"] == {} and set(r.keys().values()) == {1}


def test_since_notes_the_history_before_it_without_sending_it(tmp_path, receiver):
    """A first run on a team with a history behind it: `--since` sends only the facts from then
    on; the earlier ones are noted, so a later run without it does not send them either."""
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    answer = json.loads(run(db, "notify", "--once", "--team", "renda", "--json", "--since",
                            "2026-11-25T00:00:00+08:00").stdout)
    assert answer["teams"][0]["new"] == DEMO_COUNTS  # every fact is noticed ...
    keys = r.keys()
    assert 0 < len(keys) < DEMO_TOTAL  # ... but only the late ones are sent
    assert sorted(k for k in keys if kind_of(k) == "summary") == [f"renda/summary/2026-11-{d}" for d in range(25, 31)]
    for _, _, body, _ in r.accepted():
        facts = json.loads(body)["facts"]
        assert (facts.get("at") or facts.get("moment") or facts["due"]) >= "2026-11-25", facts
    again = json.loads(run(db, "notify", "--once", "--team", "renda", "--json").stdout)
    assert again["teams"][0]["new"] == {} and r.keys() == keys


def test_voiding_the_event_that_moved_an_allocation_gives_a_correction_back_to_the_old_owner(tmp_path, receiver):
    """RULEBOOK §11 (R-CO-2): a void re-folds the history as if the entry had never been recorded;
    the lead it had moved goes back, and a second correction names both owners."""
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    run(db, "notify", "--once", "--team", "renda")
    late = tmp_path / "late.jsonl"
    late.write_text(json.dumps({"type": "PresenceChanged", "team": "renda", "at": "2026-11-01T09:40:00+08:00",
                                "consultant": "c1", "presence": "away", "id": "late-away-c1"}) + "\n")
    run(db, "import", str(late))
    run(db, "notify", "--once", "--team", "renda")
    first = _notices(r)["renda/corrected/L000001/1"]
    interim = first["facts"]["owner"]
    run(db, "void", "late-away-c1", "--team", "renda", "--reason", "录错了", "--at", "2026-12-04T19:00:00+08:00")
    answer = json.loads(run(db, "notify", "--once", "--team", "renda", "--json").stdout)
    assert answer["teams"][0]["new"].get("corrected", 0) >= 1
    back = _notices(r)["renda/corrected/L000001/2"]
    assert back["facts"]["previous"] == interim and back["facts"]["owner"] == {"id": "c1", "name": "王芳"}
    assert f"{interim['name']} ({interim['id']})" in back["text"] and "王芳 (c1)" in back["text"]
    assert set(r.keys().values()) == {1}


def test_voiding_a_leads_arrival_gives_a_correction_that_it_no_longer_goes_to_its_owner(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    demo_with_target(db, "webhook", r.url + "/hook")
    run(db, "notify", "--once", "--team", "renda")
    owner = _notices(r)["renda/allocated/L000499"]["facts"]["owner"]
    run(db, "void", "#2197", "--team", "renda", "--reason", "跟进录错了", "--at", "2026-12-04T19:00:00+08:00")
    run(db, "void", "e0002194", "--team", "renda", "--reason", "线索录错了", "--at", "2026-12-04T19:01:00+08:00")
    answer = json.loads(run(db, "notify", "--once", "--team", "renda", "--json").stdout)
    assert answer["teams"][0]["new"] == {"corrected": 1}
    gone = _notices(r)["renda/corrected/L000499/1"]
    assert gone["facts"]["previous"] == owner and gone["facts"]["owner"] is None and gone["facts"]["withdrawn"]
    assert gone["text"].splitlines()[0] == f"更正：线索 L000499 已撤销（其录入已作废，R-CO-2），不再归 {owner['name']} ({owner['id']})。"
    again = json.loads(run(db, "notify", "--once", "--team", "renda", "--json").stdout)
    assert again["teams"][0]["new"] == {} and set(r.keys().values()) == {1}
