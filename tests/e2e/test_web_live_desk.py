"""The desk's live state across processes (issue #13, item 5): a real `ledger serve` holds the
team's state in memory, and what another process records on the same store (`ledger arrive`
from the command line) is on the server's next page at once; a back-dated arrival recorded
there re-decides a later lead, and the page says so, as the command line does."""
from __future__ import annotations

import html
import json
import re
import time

import pytest
from desk_server import ledger, login, serving

TEAM, BOSS = "renda", "boss"
ALLOCATED = re.compile(r"arrived by online; owner (c\d+)")  # explain --json: English
PAGE_ALLOCATED = re.compile(r"经网络到达;归 (c\d+)")  # the page tells it in Chinese (projections.sentences)


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("live"), [(BOSS, TEAM, "supervisor")]) as served:
        yield served


def _arrive(desk: dict, at: str) -> dict:
    done = ledger(desk["db"], "arrive", "online", "--team", TEAM, "--at", at, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _page_owner(client, lead: str) -> str | None:
    """Whom the lookup page says the lead's arrival went to (its timeline's first decision)."""
    page = client.get(f"/{TEAM}/lookup", params={"lead": lead})
    if page.status_code != 200:
        return None
    found = PAGE_ALLOCATED.search(html.unescape(page.text))
    return found.group(1) if found else None


def _cli_owner(desk: dict, lead: str) -> str:
    done = ledger(desk["db"], "explain", lead, "--team", TEAM, "--json")
    return ALLOCATED.search(json.loads(done.stdout)["timeline"][0]["summary"]).group(1)


def _within_a_second(client, lead: str, expected: str) -> float:
    start = time.monotonic()
    while (seen := _page_owner(client, lead)) != expected:
        assert time.monotonic() - start < 1.0, f"{lead}: the page says {seen}, the store {expected}"
        time.sleep(0.02)
    return time.monotonic() - start


def test_an_arrival_recorded_by_another_process_is_on_the_next_page_and_a_back_dated_one_moves_it(desk):
    boss = login(desk, BOSS)
    assert boss.get(f"/{TEAM}/board").status_code == 200  # the server now holds the team's state
    later = _arrive(desk, "2026-12-01T15:00:00+08:00")
    _within_a_second(boss, later["lead"], later["owner"])
    head = boss.get(f"/{TEAM}/board/head").json()["head"]
    board = boss.get(f"/{TEAM}/board").text
    assert f'data-head="{head}"' in board

    earlier = _arrive(desk, "2026-12-01T14:00:00+08:00")  # back-dated: it takes the turn first (R-T-5)
    assert earlier["owner"] == later["owner"]
    now_owner = _cli_owner(desk, later["lead"])
    assert now_owner != later["owner"]
    _within_a_second(boss, later["lead"], now_owner)
    assert _page_owner(boss, earlier["lead"]) == earlier["owner"]
    assert boss.get(f"/{TEAM}/board/head").json()["head"] == head + 1
