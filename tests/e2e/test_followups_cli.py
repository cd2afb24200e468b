"""`ledger followups` (issue #19): the whole answer as --json, a page a person can read by
default, and --owner / --since / --limit to narrow it; on the demo store."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo-campus-month.jsonl"
AT = "2026-11-30T20:00:00+08:00"


def run(db: str, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, [*args, "--db", db])
    assert result.exit_code == code, (args, result.output)
    return result.stdout


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('followups')}/demo.db"
    run(url, "import", "--allow-future", str(DEMO))
    return url


def overdue(db: str, *args: str) -> list[dict]:
    return json.loads(run(db, "followups", "--team", "renda", "--at", AT, "--json", *args))["overdue"]


def test_json_keeps_the_whole_answer_and_the_options_narrow_it(db):
    rows = overdue(db)
    assert len(rows) >= 3 and rows == sorted(rows, key=lambda r: (r["due"], r["lead"]))
    assert overdue(db, "--limit", "2") == rows[:2]
    owner = rows[0]["owner"]
    assert overdue(db, "--owner", owner) == [r for r in rows if r["owner"] == owner]
    day = rows[len(rows) // 2]["due"][:10]
    assert overdue(db, "--since", day) == [r for r in rows if r["due"][:10] >= day]


def test_a_person_sees_the_most_overdue_first_and_how_many_are_left_out(db):
    rows = overdue(db)
    text = run(db, "followups", "--team", "renda", "--at", AT, "--limit", "1")
    assert rows[0]["lead"] in text and rows[-1]["lead"] not in text
    assert f"1 of {len(rows)} shown" in text and "Overdue per consultant" in text
    everything = run(db, "followups", "--team", "renda", "--at", AT, "--limit", "0")
    assert "shown, the most overdue first" not in everything and all(r["lead"] in everything for r in rows)


def test_a_bad_since_is_refused_with_what_was_expected(db):
    result = CliRunner().invoke(main, ["followups", "--team", "renda", "--since", "2026-13-01", "--db", db])
    assert result.exit_code != 0 and "--since" in result.output and "YYYY-MM-DD" in result.output


def test_the_board_shows_the_most_overdue_and_a_count_per_consultant(db):
    rows = overdue(db)
    board = json.loads(run(db, "board", "--team", "renda", "--at", AT, "--json"))
    assert [o["lead"] for o in board["overdue"]] == [r["lead"] for r in rows[:10]]
    assert board["overdue_total"] == len(rows) == sum(c["count"] for c in board["overdue_by_consultant"])
    counts = [c["count"] for c in board["overdue_by_consultant"]]
    assert counts == sorted(counts, reverse=True)
    assert all(o["phone"] is None or o["phone"].startswith("*") for o in board["overdue"])
    human = run(db, "board", "--team", "renda", "--at", AT)
    assert f"overdue follow-ups ({len(rows)})" in human


def test_a_person_sees_the_disputes_waiting_longest_and_how_many_are_left_out(tmp_path):
    """`ledger disputes` (issue #19): the N leads waiting longest for a ruling, with a count of
    the rest; --json and --limit 0 keep them all."""
    import datetime as dt

    from fixtures.generate import generate, write_jsonl

    history = tmp_path / "month.jsonl"
    write_jsonl(generate(3, teams=1, days=20, start=dt.date(2026, 9, 1), preset="campus", leads_per_day=45),
                str(history))
    url = f"sqlite:///{tmp_path / 'month.db'}"
    run(url, "import", "--allow-future", str(history))
    team = json.loads(history.read_text(encoding="utf-8").splitlines()[0])["team"]
    leads = [d["lead"] for d in json.loads(run(url, "disputes", "--team", team, "--json"))["disputes"]]
    assert len(leads) >= 3
    text = run(url, "disputes", "--team", team, "--limit", "2")
    assert leads[0] in text and leads[1] in text and leads[-1] not in text
    assert f"2 of {len(leads)} disputed leads shown" in text
    everything = run(url, "disputes", "--team", team, "--limit", "0")
    assert "disputed leads shown" not in everything and all(lead in everything for lead in leads)
