"""Kept pages (issue #13, speed): a rendered page is kept per team position, moment, language and
visitor (`web.app.render_kept`); the CSRF token is each session's own, the ETag answers 304, and a
new event drops what was kept. A real `ledger serve` on the demo store, one for the module."""
from __future__ import annotations

import json
import re

import pytest
from desk_server import csrf, ledger, login, serving

TEAM, LEAD = "renda", "L1116-X2"
AT = "2026-11-16T20:30:00+08:00"
SUPERVISOR, CONSULTANT = "wang_zhuren", "li_na"


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    users = [(SUPERVISOR, TEAM, "supervisor"), (CONSULTANT, TEAM, "consultant", "c2")]
    with serving(tmp_path_factory.mktemp("kept"), users) as served:
        yield served


def test_two_sessions_of_one_user_each_get_their_own_csrf_token_in_a_kept_page(desk):
    first, second = login(desk, SUPERVISOR), login(desk, SUPERVISOR)
    pages = [c.get(f"/{TEAM}/disputes/{LEAD}", params={"at": AT}) for c in (first, second, first)]
    tokens = [csrf(page.text) for page in pages]
    assert tokens[0] == tokens[2] != tokens[1]
    assert all("csrf-slot-" not in page.text for page in pages)
    assert pages[0].text.replace(tokens[0], "") == pages[1].text.replace(tokens[1], "")
    assert pages[0].headers["etag"] != pages[1].headers["etag"]


def test_a_supervisor_and_a_consultant_at_the_same_moment_do_not_share_a_page(desk):
    supervisor, consultant = login(desk, SUPERVISOR), login(desk, CONSULTANT)
    ruling_form = f"/{TEAM}/disputes/{LEAD}/ruling"
    assert ruling_form in supervisor.get(f"/{TEAM}/disputes/{LEAD}", params={"at": AT}).text
    theirs = consultant.get(f"/{TEAM}/disputes/{LEAD}", params={"at": AT})
    assert theirs.status_code == 200 and ruling_form not in theirs.text and CONSULTANT in theirs.text
    assert SUPERVISOR not in theirs.text


def test_the_etag_answers_304_for_the_same_bytes_and_a_new_event_drops_what_was_kept(desk):
    supervisor = login(desk, SUPERVISOR)
    page = supervisor.get(f"/{TEAM}/board", params={"at": AT})
    etag = page.headers["etag"]
    assert page.headers["cache-control"] == "private, no-cache"
    again = supervisor.get(f"/{TEAM}/board", params={"at": AT}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = login(desk, SUPERVISOR).get(f"/{TEAM}/board", params={"at": AT}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and csrf(other.text) != csrf(page.text)  # another session: its own token
    live = supervisor.get(f"/{TEAM}/disputes/{LEAD}")
    assert "复核后归刘洋" not in live.text
    head = re.search(r'data-head="([0-9]+)"', supervisor.get(f"/{TEAM}/board").text).group(1)
    done = supervisor.post(f"/{TEAM}/disputes/{LEAD}/ruling",
                           data={"csrf": csrf(page.text), "owner": "c4", "reason": "复核后归刘洋"})
    assert done.status_code == 303, done.text
    assert json.loads(ledger(desk["db"], "owner", LEAD, "--team", TEAM, "--json").stdout)["owner"] == "c4"
    assert "复核后归刘洋" in supervisor.get(f"/{TEAM}/disputes/{LEAD}").text  # nothing kept from before it
    assert re.search(r'data-head="([0-9]+)"', supervisor.get(f"/{TEAM}/board").text).group(1) != head
    # the board at AT, before the ruling, is the same bytes: the same ETag still answers 304
    assert supervisor.get(f"/{TEAM}/board", params={"at": AT}, headers={"If-None-Match": etag}).status_code == 304
