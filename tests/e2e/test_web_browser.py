"""The web desk in a real browser (issue #13): Debian's Chromium driven by Playwright against a
real `ledger serve` process over the demo store. A 主任 logs in through the form, reads the board
in Chinese (with the CJK fonts installed, nothing renders as boxes), opens the disputed lead and
records a ruling with the form; the ledger then holds it `by` that user.

Needs `chromium` and `fonts-noto-cjk` (Debian) and the `playwright` package: skipped, saying
why, when they are absent, except under CI=true, where `.ci/run` installs them and their absence
is a failure. Screenshots go to the test's temporary folder, never into the repository."""
from __future__ import annotations

import json
import os
import shutil
from urllib.parse import quote

import pytest
from test_web_desk import BEFORE_RULING, LEAD, PASSWORD, SUPERVISOR, TEAM, desk, ledger  # noqa: F401

CHROMIUM = shutil.which("chromium")


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
def page():
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(locale="zh-CN")
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.errors = errors
        yield tab
        browser.close()


def test_a_supervisor_logs_in_reads_the_board_in_chinese_and_records_a_ruling(desk, page, tmp_path):  # noqa: F811
    base, at = desk["base"], quote(BEFORE_RULING)
    page.goto(f"{base}/{TEAM}/board?at={at}")
    assert "/login" in page.url  # sent to log in first, and back afterwards
    page.fill("input[name=name]", SUPERVISOR)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/{TEAM}/board*")
    assert "轮值看板" in page.inner_text("body")
    assert "2026-11-16T20:30:00+08:00" in page.inner_text("body")
    page.screenshot(path=str(tmp_path / "board.png"), full_page=True)
    # Chinese renders with a CJK font: a line of 汉字 is as wide as its characters, not tofu boxes
    width = page.evaluate("""() => { const s = document.createElement('span'); s.textContent = '轮值看板争议查询';
        s.style.fontSize = '20px'; document.body.appendChild(s); const w = s.getBoundingClientRect().width;
        s.remove(); return w; }""")
    assert width > 100

    page.goto(f"{base}/{TEAM}/disputes/{LEAD}?at={at}")
    body = page.inner_text("body")
    assert LEAD in body and "R-OW-3b" in body and "13911" not in body  # phones masked
    page.select_option("select[name=owner]", "c2")
    page.fill("input[name=reason]", "浏览器中裁定:有通话记录")
    page.click("form.ruling button[type=submit]")
    page.wait_for_load_state()
    assert page.errors == []
    exported = [json.loads(line) for line in ledger(desk["db"], "export", "--team", TEAM).stdout.splitlines()]
    rulings = [e for e in exported if e["type"] == "RulingMade" and e.get("reason") == "浏览器中裁定:有通话记录"]
    assert len(rulings) == 1 and rulings[0]["owner"] == "c2" and rulings[0]["by"] == SUPERVISOR
