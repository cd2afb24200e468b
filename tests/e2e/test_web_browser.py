"""The web desk in a real browser (issue #13): Debian's Chromium driven by Playwright against a
real `ledger serve` process over the demo store.

- a 主任 logs in through the form, reads the board in Chinese (with the CJK fonts installed,
  nothing renders as boxes), opens the disputed lead L1116-X2 before the demo's own ruling, reads
  R-OW-3b and 李娜's claim, records a ruling for her with the form and sees the owner change;
- a receptionist records an arrival on 前台 and reads who got it, by which rule and who was
  passed and why;
- a consultant's POST of a ruling is 403, a form posted without its CSRF token is refused, and
  another team's page is refused.

Needs `chromium` and `fonts-noto-cjk` (Debian) and the `playwright` package: skipped, saying
why, when they are absent, except under CI=true, where `.ci/run` installs them and their absence
is a failure. Screenshots of the board, the dispute page and the front desk go to
`test-screenshots/` at the repository's root (git-ignored), to be looked at."""
from __future__ import annotations

import json
import os
import re
import shutil
from urllib.parse import quote

import pytest
from desk_server import ROOT
from exports import event_lines
from test_web_desk import BEFORE_RULING, CONSULTANT, LEAD, PASSWORD, SUPERVISOR, TEAM, desk, ledger  # noqa: F401

CHROMIUM = shutil.which("chromium")
SHOTS = ROOT / "test-screenshots"
RECEPTION = "front1"


def _browser_or_skip():
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("the playwright package")
        sync_playwright = None
    if CHROMIUM is None:
        missing.append("Debian's chromium")
    if missing:
        why = f"browser tests need {' and '.join(missing)} (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return sync_playwright


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _browser_or_skip()
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def tabs(browser):
    """Opens a logged-out tab of its own (cookies apart) per call; each one's page errors kept."""
    contexts = []

    def open_tab():
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        contexts.append(context)
        tab = context.new_page()
        tab.errors = []
        tab.on("pageerror", lambda error: tab.errors.append(str(error)))
        return tab
    yield open_tab
    for context in contexts:
        context.close()


def _log_in(tab, name: str) -> None:
    tab.fill("input[name=name]", name)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")


def _logged_in(tabs, base: str, name: str):
    tab = tabs()
    tab.goto(f"{base}/login")
    _log_in(tab, name)
    tab.wait_for_url(f"**/{TEAM}/board*")
    return tab


def _owner_line(tab) -> str:
    return tab.inner_text("main p:has-text('归属人')").split("\n")[0]


def _exported(desk: dict) -> list[dict]:  # noqa: F811
    return [json.loads(line) for line in event_lines(ledger(desk["db"], "export", "--team", TEAM).stdout)]


def test_a_supervisor_reads_the_dispute_before_its_ruling_rules_for_li_na_and_sees_the_owner_change(desk, tabs):  # noqa: F811
    base, at = desk["base"], quote(BEFORE_RULING)
    page = tabs()
    page.goto(f"{base}/{TEAM}/board?at={at}")
    assert "/login" in page.url  # sent to log in first, and back afterwards
    _log_in(page, SUPERVISOR)
    page.wait_for_url(f"**/{TEAM}/board*")
    assert "轮值看板" in page.inner_text("body")
    assert "2026-11-16T20:30:00+08:00" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "board.png"), full_page=True)
    # Chinese renders with a CJK font: a line of 汉字 is as wide as its characters, not tofu boxes
    width = page.evaluate("""() => { const s = document.createElement('span'); s.textContent = '轮值看板争议查询';
        s.style.fontSize = '20px'; document.body.appendChild(s); const w = s.getBoundingClientRect().width;
        s.remove(); return w; }""")
    assert width > 100

    page.goto(f"{base}/{TEAM}/disputes/{LEAD}?at={at}")
    body = page.inner_text("body")
    assert LEAD in body and "2026-11-16T20:30:00+08:00" in body and "13911" not in body  # phones masked
    before = _owner_line(page)
    assert "刘洋 (c4)" in before and "R-OW-3b" in before and "有争议" in before
    claims = page.inner_text("main ul")
    assert "李娜 (c2)" in claims and "总部系统推荐给我" in claims  # 李娜's claim (R-OW-5)
    assert "R-OW-3b" in page.inner_text("dl.rules")  # the rule with its statement
    page.screenshot(path=str(SHOTS / "dispute.png"), full_page=True)

    page.select_option("select[name=owner]", "c2")
    page.fill("input[name=reason]", "浏览器中裁定:有通话记录")
    page.click("form.ruling button[type=submit]")
    page.wait_for_url(f"**/{TEAM}/disputes/{LEAD}?ruled=1")
    after = _owner_line(page)
    assert "李娜 (c2)" in after and "R-OW-0" in after and "有争议" not in after
    last = page.locator("table.timeline tbody tr").last.inner_text()
    assert "浏览器中裁定:有通话记录" in last and "李娜 (c2)" in last
    page.screenshot(path=str(SHOTS / "dispute-ruled.png"), full_page=True)
    page.locator("table.timeline tbody tr").last.locator("a").first.click()  # the ruling's #N
    page.wait_for_url(f"**/{TEAM}/event/*")
    event = page.inner_text("main")
    assert "浏览器中裁定:有通话记录" in event and SUPERVISOR in event and "c2" in event
    page.screenshot(path=str(SHOTS / "event.png"), full_page=True)
    assert page.errors == []
    rulings = [e for e in _exported(desk) if e["type"] == "RulingMade" and e.get("reason") == "浏览器中裁定:有通话记录"]
    assert len(rulings) == 1 and rulings[0]["owner"] == "c2" and rulings[0]["by"] == SUPERVISOR


def test_a_receptionist_records_an_arrival_and_reads_who_got_it_and_why(desk, tabs):  # noqa: F811
    page = _logged_in(tabs, desk["base"], RECEPTION)
    page.click("nav a:has-text('前台')")
    page.wait_for_url(f"**/{TEAM}/desk")
    assert page.locator("form[action$='/desk/followup']").count() == 1
    page.select_option("form[action$='/desk/arrival'] select[name=channel]", "hotline")
    page.fill("form[action$='/desk/arrival'] input[name=phone]", "13800138000")
    page.fill("form[action$='/desk/arrival'] input[name=at]", "2026-12-01T15:00")  # in office hours
    page.click("form[action$='/desk/arrival'] button[type=submit]")
    page.wait_for_selector("section.answer")
    answer = page.inner_text("section.answer")
    owner = re.search(r"归属人[::]\s*(\S+) \((c\d+)\)", answer)
    assert owner, answer
    assert re.search(r"规则[::]\s*R-[A-Z]{2}-\d", answer)
    assert "13800138000" not in page.inner_text("body") and "*8000" in answer  # masked (R-ID-2)
    page.screenshot(path=str(SHOTS / "desk-arrival.png"), full_page=True)
    assert page.errors == []
    arrivals = [e for e in _exported(desk) if e["type"] == "LeadArrived" and e.get("by") == RECEPTION]
    assert len(arrivals) == 1 and arrivals[0]["channel"] == "hotline"


def test_a_consultant_posting_a_ruling_from_the_browser_gets_403_and_nothing_is_stored(desk, tabs):  # noqa: F811
    page = _logged_in(tabs, desk["base"], CONSULTANT)
    page.goto(f"{desk['base']}/{TEAM}/disputes/{LEAD}")
    assert page.locator("form.ruling").count() == 0  # no ruling form for a consultant
    token = page.get_attribute("form[action='/logout'] input[name=csrf]", "value")
    response = page.request.post(f"{desk['base']}/{TEAM}/disputes/{LEAD}/ruling",
                                 form={"csrf": token, "owner": "c2", "reason": "顾问自己裁定"})
    assert response.status == 403 and "只有主任" in response.text()
    assert not [e for e in _exported(desk) if e.get("reason") == "顾问自己裁定"]


def test_a_form_posted_without_its_csrf_token_is_refused(desk, tabs):  # noqa: F811
    page = _logged_in(tabs, desk["base"], SUPERVISOR)
    page.goto(f"{desk['base']}/{TEAM}/disputes/{LEAD}")
    page.evaluate("() => document.querySelector('form.ruling input[name=csrf]').remove()")
    page.select_option("select[name=owner]", "c4")
    page.fill("input[name=reason]", "没有令牌的裁定")
    with page.expect_navigation() as navigation:
        page.click("form.ruling button[type=submit]")
    assert navigation.value.status == 403
    assert "表单已过期" in page.inner_text("main")
    assert not [e for e in _exported(desk) if e.get("reason") == "没有令牌的裁定"]


def test_another_teams_page_is_refused_in_the_browser(desk, tabs):  # noqa: F811
    page = _logged_in(tabs, desk["base"], SUPERVISOR)
    response = page.goto(f"{desk['base']}/jiuzhou/board")
    assert response.status == 403 and "只能查看本团队" in page.inner_text("main")
    response = page.goto(f"{desk['base']}/jiuzhou/disputes/{LEAD}")
    assert response.status == 403
