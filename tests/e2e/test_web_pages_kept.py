"""Kept pages (issue #13, speed): a rendered page is kept per team position, moment, language and
visitor (`web.app.render_kept`); the CSRF token is each session's own, the ETag answers 304, and a
new event drops what was kept. And the event page `/{team}/event/{n}` each `#N` of a timeline
opens. A real `ledger serve` on the demo store, one for the module."""
from __future__ import annotations

import json
import re

import httpx
import pytest
from desk_server import csrf, ledger, login, serving

TEAM, LEAD = "renda", "L1116-X2"
AT = "2026-11-16T20:30:00+08:00"
SUPERVISOR, CONSULTANT, OUTSIDER = "wang_zhuren", "li_na", "other_boss"
CLEAR_PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9])")


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    users = [(SUPERVISOR, TEAM, "supervisor"), (CONSULTANT, TEAM, "consultant", "c2"), (OUTSIDER, "jiuzhou", "supervisor")]
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


def test_each_event_of_a_dispute_timeline_opens_its_event_page_at_the_same_moment(desk):
    supervisor = login(desk, SUPERVISOR)
    page = supervisor.get(f"/{TEAM}/disputes/{LEAD}", params={"at": AT}).text
    links = re.findall(r'href="(/renda/event/([0-9]+)\?at=([^"]+))"', page)
    assert links and {at for _, _, at in links} == {"2026-11-16T20%3A30%3A00%2B08%3A00"}
    arrival = json.loads(ledger(desk["db"], "event", "e0001098", "--team", TEAM, "--json").stdout)  # the lead's
    assert arrival["event"]["type"] == "LeadArrived" and str(arrival["seq"]) in {n for _, n, _ in links}
    opened = supervisor.get(f"/{TEAM}/event/{arrival['seq']}", params={"at": AT})
    assert opened.status_code == 200
    assert f"事件 #{arrival['seq']} · 线索到达" in opened.text and arrival["recorded"] in opened.text
    assert AT in opened.text and "e0001098" in opened.text and LEAD in opened.text
    assert not CLEAR_PHONE.search(opened.text) and arrival["event"]["phone"] in opened.text  # masked, as the CLI
    assert f'href="/{TEAM}/disputes/{LEAD}?at=' in opened.text  # back to the timeline at the same moment
    assert "在此时刻之后" not in opened.text


def test_an_event_page_marks_an_event_after_its_moment_and_shows_its_void(desk):
    supervisor = login(desk, SUPERVISOR)
    head = int(re.search(r'data-head="([0-9]+)"', supervisor.get(f"/{TEAM}/board").text).group(1))
    later = supervisor.get(f"/{TEAM}/event/{head}", params={"at": AT})
    assert later.status_code == 200 and "发生在此时刻之后" in later.text
    token = ledger(desk["db"], "user", "token", SUPERVISOR).stdout.strip()
    void = json.dumps({"type": "EntryVoided", "team": TEAM, "at": "2026-12-01T09:00:00+08:00", "event": f"#{head}",
                       "reason": "录错了"}, ensure_ascii=False)
    done = httpx.post(f"{desk['base']}/api/{TEAM}/events", content=void.encode(),
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert done.status_code == 201, done.text
    voided = supervisor.get(f"/{TEAM}/event/{head}").text
    assert f'作废于 <a href="/{TEAM}/event/{head + 1}">#{head + 1}</a>' in voided and "录错了" in voided
    assert "在此时刻之后" not in voided  # at the default moment: nothing after it


def test_an_unknown_event_is_404_and_another_teams_event_403(desk):
    supervisor = login(desk, SUPERVISOR)
    for ref in ("999999", "0", "abc", "%231"):
        missing = supervisor.get(f"/{TEAM}/event/{ref}")
        assert missing.status_code == 404 and "#1" in missing.text, ref
    assert login(desk, OUTSIDER).get(f"/{TEAM}/event/1").status_code == 403
    assert supervisor.get(f"/{TEAM}/event/1", params={"at": "yesterday"}).status_code == 422
