"""The web desk end to end (issue #13, phase 1): a real `ledger serve` process on 127.0.0.1 over
the demo store, driven with httpx. One server for the module; the users are made by the CLI."""
from __future__ import annotations

import json
import os
import re
import subprocess

import httpx
import pytest
from desk_server import LEDGER, PASSWORD, ROOT, ledger, login, serving
from desk_server import csrf as _csrf
from exports import event_lines

TEAM, LEAD = "renda", "L1116-X2"
BEFORE_RULING = "2026-11-16T20:30:00+08:00"
SUPERVISOR, CONSULTANT, OUTSIDER, CRM = "wang_zhuren", "li_na", "other_boss", "crm"


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    users = [(SUPERVISOR, TEAM, "supervisor"), (CONSULTANT, TEAM, "consultant"), (OUTSIDER, "jiuzhou", "supervisor"),
             (CRM, TEAM, "viewer"), ("front1", TEAM, "reception")]
    with serving(tmp_path_factory.mktemp("desk"), users) as served:
        yield {"db": served["db"], "base": served["base"], "token": served["tokens"][CRM],
               "front_token": served["tokens"]["front1"]}


def test_a_visitor_is_sent_to_login_and_a_user_logs_in_to_a_chinese_board_with_signed_httponly_cookies(desk):
    anonymous = httpx.Client(base_url=desk["base"], timeout=30)
    first = anonymous.get(f"/{TEAM}/board")
    assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
    client = httpx.Client(base_url=desk["base"], timeout=30)
    token = _csrf(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "name": SUPERVISOR, "password": PASSWORD,
                                           "next": f"/{TEAM}/board"})
    assert response.status_code == 303 and response.headers["location"] == f"/{TEAM}/board"
    cookie = response.headers["set-cookie"].lower()
    assert "ledger_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    board = client.get(f"/{TEAM}/board", params={"at": BEFORE_RULING})
    assert board.status_code == 200
    assert "轮值看板" in board.text and "2026-11-16T20:30:00+08:00" in board.text
    english = client.get(f"/{TEAM}/board", params={"at": BEFORE_RULING}, headers={"Accept-Language": "en-US,en"})
    assert "Rotation board" in english.text
    assert "Rotation board" in client.get(f"/{TEAM}/board", params={"lang": "en"}).text
    assert "Rotation board" in client.get(f"/{TEAM}/disputes").text  # the switch is kept in a cookie
    assert "轮值看板" in client.get(f"/{TEAM}/board", params={"lang": "zh"}).text


def test_a_post_without_the_csrf_token_is_refused(desk):
    client = httpx.Client(base_url=desk["base"], timeout=30)
    client.get("/login")
    assert client.post("/login", data={"name": SUPERVISOR, "password": PASSWORD}).status_code == 403
    supervisor = login(desk, SUPERVISOR)
    refused = supervisor.post(f"/{TEAM}/disputes/{LEAD}/ruling", data={"owner": "c2", "reason": "无令牌"})
    assert refused.status_code == 403
    assert ledger(desk["db"], "export", "--team", TEAM).stdout.count("无令牌") == 0


def test_five_failed_logins_throttle_the_name_with_429(desk):
    client = httpx.Client(base_url=desk["base"], timeout=30)
    token = _csrf(client.get("/login").text)
    codes = [client.post("/login", data={"csrf": token, "name": "front1", "password": "wrong guess!"}).status_code
             for _ in range(5)]
    assert codes == [401] * 5
    blocked = client.post("/login", data={"csrf": token, "name": "front1", "password": PASSWORD})
    assert blocked.status_code == 429 and "15" in blocked.text


def test_a_consultant_gets_403_on_the_ruling_and_on_another_team(desk):
    consultant = login(desk, CONSULTANT)
    page = consultant.get(f"/{TEAM}/disputes/{LEAD}", params={"at": BEFORE_RULING})
    assert page.status_code == 200 and "/ruling" not in page.text
    token = _csrf(page.text)
    refused = consultant.post(f"/{TEAM}/disputes/{LEAD}/ruling", data={"csrf": token, "owner": "c4", "reason": "我的"})
    assert refused.status_code == 403
    assert consultant.get("/jiuzhou/board").status_code == 403
    assert login(desk, OUTSIDER).get(f"/{TEAM}/disputes").status_code == 403


def test_the_dispute_page_shows_the_claim_the_rule_and_masked_phones(desk):
    supervisor = login(desk, SUPERVISOR)
    listing = supervisor.get(f"/{TEAM}/disputes", params={"at": BEFORE_RULING})
    assert LEAD in listing.text
    page = supervisor.get(f"/{TEAM}/disputes/{LEAD}", params={"at": BEFORE_RULING})
    assert page.status_code == 200
    assert "R-OW-3b" in page.text and "12日已约试听" in page.text and "李娜" in page.text
    assert "2026-11-16T20:30:00+08:00" in page.text
    # the engine's sentences in Chinese (projections.sentences), in English with the switch
    assert "L1116-X2 经热线到达;归 c4 (R-OW-3b),从 c2 处转来" in page.text and "晚班值班人 (R-SH-2)" in page.text
    english = supervisor.get(f"/{TEAM}/disputes/{LEAD}", params={"at": BEFORE_RULING, "lang": "en"}).text
    assert "L1116-X2 arrived by hotline; owner c4 (R-OW-3b), taken from c2" in english
    supervisor.get(f"/{TEAM}/board", params={"lang": "zh"})
    for html in (page.text, supervisor.get(f"/{TEAM}/board").text,
                 supervisor.get(f"/{TEAM}/lookup", params={"lead": LEAD}).text):
        assert not re.search(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9])", html)
    overdue = supervisor.get(f"/{TEAM}/board", params={"at": BEFORE_RULING}).text
    assert re.search(r"\*{7}[0-9]{4}", overdue)  # the overdue follow-ups' phones, masked to the last 4


def test_a_supervisor_records_a_ruling_by_the_same_path_as_the_cli_with_by_the_user(desk):
    supervisor = login(desk, SUPERVISOR)
    page = supervisor.get(f"/{TEAM}/disputes/{LEAD}")
    done = supervisor.post(f"/{TEAM}/disputes/{LEAD}/ruling",
                           data={"csrf": _csrf(page.text), "owner": "c4", "reason": "网页裁定:复核后归刘洋"})
    assert done.status_code == 303, done.text
    last = [json.loads(line) for line in event_lines(ledger(desk["db"], "export", "--team", TEAM).stdout)][-1]
    assert (last["type"], last["owner"], last["by"], last["reason"]) == ("RulingMade", "c4", SUPERVISOR,
                                                                         "网页裁定:复核后归刘洋")
    assert json.loads(ledger(desk["db"], "owner", LEAD, "--team", TEAM, "--json").stdout)["owner"] == "c4"
    bad = supervisor.post(f"/{TEAM}/disputes/{LEAD}/ruling", data={"csrf": _csrf(page.text), "owner": "c99",
                                                                   "reason": "无此人"})
    assert bad.status_code == 422 and "c99" in bad.text


@pytest.mark.parametrize("path, cli", [
    (f"owner/{LEAD}", ["owner", LEAD]),
    (f"explain/{LEAD}", ["explain", LEAD]),
    ("sanctions", ["sanctions"]),
    ("disputes", ["disputes"]),
    ("followups", ["followups"]),
])
@pytest.mark.parametrize("at", [BEFORE_RULING, "2026-11-25T12:00:00+08:00"])
def test_each_api_query_answers_the_cli_json_bytes(desk, path, cli, at):
    response = httpx.get(f"{desk['base']}/api/{TEAM}/{path}", params={"at": at},
                         headers={"Authorization": f"Bearer {desk['token']}"}, timeout=30)
    assert response.status_code == 200, response.text
    expected = ledger(desk["db"], *cli, "--team", TEAM, "--at", at, "--json").stdout
    assert response.content == expected.encode()


@pytest.mark.parametrize("path, params, cli", [
    ("turns", {"from": "2026-11-02", "to": "2026-11-08"}, ["turns", "--from", "2026-11-02", "--to", "2026-11-08"]),
    ("commission", {"month": "2026-11"}, ["commission", "--month", "2026-11"]),
])
def test_period_api_queries_answer_the_cli_json_bytes(desk, path, params, cli):
    response = httpx.get(f"{desk['base']}/api/{TEAM}/{path}", params=params,
                         headers={"Authorization": f"Bearer {desk['token']}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.content == ledger(desk["db"], *cli, "--team", TEAM, "--json").stdout.encode()


def test_api_errors_are_json_with_401_403_404_422(desk):
    base, auth = desk["base"], {"Authorization": f"Bearer {desk['token']}"}
    assert httpx.get(f"{base}/api/{TEAM}/disputes").status_code == 401
    assert httpx.get(f"{base}/api/{TEAM}/disputes", headers={"Authorization": "Bearer nope"}).status_code == 401
    other = httpx.get(f"{base}/api/jiuzhou/disputes", headers=auth)
    assert other.status_code == 403 and other.json()["status"] == 403
    assert httpx.get(f"{base}/api/{TEAM}/owner/NOPE", headers=auth).status_code == 404
    assert httpx.get(f"{base}/api/{TEAM}/nonsense", headers=auth).status_code == 404
    bad = httpx.get(f"{base}/api/{TEAM}/commission", params={"month": "2026-13"}, headers=auth)
    assert bad.status_code == 422 and "--month" in bad.json()["error"]
    assert httpx.get(f"{base}/api/{TEAM}/sanctions", params={"at": "yesterday"}, headers=auth).status_code == 422


def test_a_bad_event_line_gets_the_import_message_with_422_and_nothing_is_stored(desk, tmp_path):
    base, auth = desk["base"], {"Authorization": f"Bearer {desk['front_token']}"}
    head = len(event_lines(ledger(desk["db"], "export", "--team", TEAM).stdout))
    line = json.dumps({"type": "FollowUpLogged", "team": TEAM, "at": "2026-11-20T10:00:00+08:00", "lead": "NOPE",
                       "consultant": "c2", "direction": "outbound"}, ensure_ascii=False)
    response = httpx.post(f"{base}/api/{TEAM}/events", content=line.encode(), headers=auth)
    assert response.status_code == 422
    (tmp_path / "request").write_text(line + "\n", encoding="utf-8")
    imported = subprocess.run([*LEDGER, "import", "request", "--db", desk["db"]], cwd=tmp_path, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert imported.returncode == 2
    assert response.json()["error"] == imported.stderr.strip().removeprefix("ledger: ")
    ruling = json.dumps({"type": "RulingMade", "team": TEAM, "at": "2026-11-20T10:00:00+08:00", "lead": LEAD,
                         "owner": "c2", "reason": "前台不能裁定"}, ensure_ascii=False)
    assert httpx.post(f"{base}/api/{TEAM}/events", content=ruling.encode(), headers=auth).status_code == 403
    viewer = {"Authorization": f"Bearer {desk['token']}"}
    good = json.dumps({"type": "FollowUpLogged", "team": TEAM, "at": "2026-11-20T10:00:00+08:00", "lead": LEAD,
                       "consultant": "c2", "direction": "outbound"})
    assert httpx.post(f"{base}/api/{TEAM}/events", content=good.encode(), headers=viewer).status_code == 403
    assert len(event_lines(ledger(desk["db"], "export", "--team", TEAM).stdout)) == head
    stored = httpx.post(f"{base}/api/{TEAM}/events", content=good.encode(), headers=auth)
    assert stored.status_code == 201 and stored.json()["appended"] == 1
    last = json.loads(event_lines(ledger(desk["db"], "export", "--team", TEAM).stdout)[-1])
    assert last["by"] == "front1" and last["lead"] == LEAD
