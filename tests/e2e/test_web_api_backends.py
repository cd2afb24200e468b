"""The desk's JSON API on both backends (issue #13): a real `ledger serve` on the demo store in a
SQLite file and in a PostgreSQL database answers each INTERCHANGE query with exactly the bytes of
the CLI's `--json` on the same store; and two server processes on one PostgreSQL store see each
other's writes within a second (each one's live state follows the store by position).
One server (two for PostgreSQL) per backend for the module."""
from __future__ import annotations

import datetime as dt
import json
import os
import time

import httpx
import pytest
from desk_server import ledger, login, serving, start, stop

TEAM, LEAD = "renda", "L1116-X2"
AT = "2026-11-16T20:30:00+08:00"  # the demo's dispute open, before its ruling
SUPERVISOR, CRM = "wang_zhuren", "crm"

# (API path, query parameters, the CLI's arguments), each at AT where the query takes --at.
QUERIES = [
    (f"owner/{LEAD}", {"at": AT}, ["owner", LEAD, "--at", AT]),
    (f"owner/{LEAD}", {}, ["owner", LEAD]),
    (f"explain/{LEAD}", {"at": AT}, ["explain", LEAD, "--at", AT]),
    (f"explain/{LEAD}", {}, ["explain", LEAD]),
    ("next/hotline", {"at": AT}, ["next", "hotline", "--at", AT]),
    ("find", {"phone": "13911100001", "at": AT}, ["find", "--phone", "13911100001", "--at", AT]),
    ("event/%231098", {}, ["event", "#1098"]),
    ("board", {"at": AT}, ["board", "--at", AT]),
    ("sanctions", {"at": AT}, ["sanctions", "--at", AT]),
    ("disputes", {"at": AT}, ["disputes", "--at", AT]),
    ("followups", {"at": AT}, ["followups", "--at", AT]),
    ("turns", {"from": "2026-11-02", "to": "2026-11-08"}, ["turns", "--from", "2026-11-02", "--to", "2026-11-08"]),
    ("commission", {"month": "2026-11"}, ["commission", "--month", "2026-11"]),
]


# Asked at a moment just past (after every event, before the server's now): answered from the
# server's live state (`web.live`), which the CLI folds from the nearest checkpoint.
PRESENT = [
    ("board", {}, ["board"]),
    ("next/online", {}, ["next", "online"]),
    ("find", {"phone": "13911100001"}, ["find", "--phone", "13911100001"]),
    ("sanctions", {}, ["sanctions"]),
    ("disputes", {}, ["disputes"]),
    ("followups", {"limit": "5"}, ["followups", "--limit", "5"]),
    (f"explain/{LEAD}", {}, ["explain", LEAD]),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def desk(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"api-{request.param}")
    db, server = None, None
    before = os.environ.get("LEDGER_SECRET_FILE")
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        os.environ["LEDGER_SECRET_FILE"] = server.key_file  # a PostgreSQL store's key file (R-ID-2)
        name = f"desk_api_{os.getpid()}"
        server.drop_database(name)
        db = server.create_database(name)
    try:
        with serving(folder, [(SUPERVISOR, TEAM, "supervisor"), (CRM, TEAM, "viewer")], db=db) as served:
            yield {**served, "kind": request.param}
    finally:
        if server is not None:
            server.drop_database(name)
        if before is None:
            os.environ.pop("LEDGER_SECRET_FILE", None)
        else:
            os.environ["LEDGER_SECRET_FILE"] = before


@pytest.mark.parametrize("path, params, cli", QUERIES, ids=[f"{q[0]}{'@at' if 'at' in q[1] else ''}" for q in QUERIES])
def test_each_api_query_answers_the_cli_json_bytes_on_both_backends(desk, path, params, cli):
    response = httpx.get(f"{desk['base']}/api/{TEAM}/{path}", params=params,
                         headers={"Authorization": f"Bearer {desk['tokens'][CRM]}"}, timeout=30)
    assert response.status_code == 200, response.text
    done = ledger(desk["db"], *cli, "--team", TEAM, "--json")
    assert done.returncode == 0, done.stderr
    assert response.content == done.stdout.encode()


@pytest.mark.parametrize("path, params, cli", PRESENT, ids=[q[0] for q in PRESENT])
def test_each_api_query_at_the_present_answers_the_cli_json_bytes_from_the_live_state(desk, path, params, cli):
    at = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    at = at.replace(microsecond=0).isoformat()
    response = httpx.get(f"{desk['base']}/api/{TEAM}/{path}", params={**params, "at": at},
                         headers={"Authorization": f"Bearer {desk['tokens'][CRM]}"}, timeout=30)
    assert response.status_code == 200, response.text
    done = ledger(desk["db"], *cli, "--at", at, "--team", TEAM, "--json")
    assert done.returncode == 0, done.stderr
    assert response.content == done.stdout.encode()


@pytest.mark.slow
@pytest.mark.parametrize("desk", ["postgresql"], indirect=True)  # several servers on one store want PostgreSQL
def test_a_write_through_one_server_is_seen_by_another_on_the_same_postgresql_store_within_a_second(desk):
    assert desk["db"].startswith("postgresql")
    other, other_base = start(desk["db"])
    try:
        auth = {"Authorization": f"Bearer {desk['tokens'][SUPERVISOR]}"}
        watcher = login({"base": other_base}, SUPERVISOR)
        owner_url = f"{other_base}/api/{TEAM}/owner/{LEAD}"
        before = httpx.get(owner_url, headers=auth, timeout=30).json()
        head = watcher.get(f"/{TEAM}/board/head").json()["head"]
        board = watcher.get(f"/{TEAM}/disputes/{LEAD}").text  # the other's live state, loaded
        assert "两台服务器" not in board
        new_owner = "c4" if before["owner"] != "c4" else "c2"
        line = json.dumps({"type": "RulingMade", "team": TEAM, "at": "2026-12-01T10:00:00+08:00", "lead": LEAD,
                           "owner": new_owner, "reason": "两台服务器"}, ensure_ascii=False)
        written = httpx.post(f"{desk['base']}/api/{TEAM}/events", content=line.encode(), headers=auth, timeout=30)
        assert written.status_code == 201, written.text
        started = time.monotonic()
        while True:
            seen = httpx.get(owner_url, headers=auth, timeout=30).json()["owner"]
            page = watcher.get(f"/{TEAM}/disputes/{LEAD}").text
            if seen == new_owner and "两台服务器" in page:
                break
            assert time.monotonic() - started < 1.0, (seen, "两台服务器" in page)
            time.sleep(0.05)
        assert watcher.get(f"/{TEAM}/board/head").json()["head"] == head + 1 == written.json()["head"]
    finally:
        stop(other)
