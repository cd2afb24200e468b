"""`explain` and the board tell the engine's sentences in the output language (issue #14, item 1:
projections.sentences): the timeline's summaries and the candidates' reasons read Chinese under
`zh`, English under `en`, and `--json` keeps the English of INTERCHANGE."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo-campus-month.jsonl"
AT = "2026-11-16T21:00:00+08:00"  # after the claim on L1116-X2, before the ruling


def run(db: str, lang: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--lang", lang, *args, "--team", "renda", "--db", db], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sentences')}/demo.db"
    result = CliRunner().invoke(main, ["import", "--allow-future", str(DEMO), "--db", url])
    assert result.exit_code == 0, result.output
    return url


def test_explain_tells_the_timeline_and_the_candidates_in_chinese(db):
    text = run(db, "zh", "explain", "L1116-X2", "--at", AT)
    assert "L1116-X2 经热线到达" in text and "从 c2 处转来" in text  # R-OW-3b, taken from c2
    assert "对推定归属有异议" in text and "晚班值班人 (R-SH-2)" in text and "跟进 L1116-X2" in text
    assert "arrived by" not in text and "shift holder" not in text and "followed up" not in text


def test_explain_in_english_and_json_say_what_they_said(db):
    text = run(db, "en", "explain", "L1116-X2", "--at", AT)
    assert "L1116-X2 arrived by hotline" in text and "late shift holder (R-SH-2)" in text
    answer = json.loads(run(db, "zh", "explain", "L1116-X2", "--at", AT, "--json"))
    summaries = [item["summary"] for item in answer["timeline"]]
    assert any(s.startswith("L1116-X2 arrived by hotline; owner c4 (R-OW-3b), taken from c2") for s in summaries)
    assert all("经" not in s for s in summaries)
