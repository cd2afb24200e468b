"""The recording commands' one-line answers (issue #14): Chinese under zh through the catalog,
the English sentence under en as before, and `--json`'s `summary` the English one in both."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo-campus-month.jsonl"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('record-language')}/demo.db"
    assert CliRunner().invoke(main, ["import", "--allow-future", str(DEMO), "--db", url]).exit_code == 0
    return url


def run(db: str, lang: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--lang", lang, *args, "--team", "renda", "--db", db])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_recorded_event_is_read_back_in_the_readers_language(db):
    zh = run(db, "zh", "presence", "c3", "away", "--at", "2026-11-30T10:05:00+08:00")
    assert "张伟" in zh and "现在状态" in zh and "离开" in zh and "is now" not in zh
    en = run(db, "en", "presence", "c3", "on_post", "--at", "2026-11-30T10:06:00+08:00")
    assert en.startswith("c3 (张伟) is now on_post (R-PR-1)  [renda #")
    answer = json.loads(run(db, "zh", "presence", "c3", "away", "--at", "2026-11-30T10:07:00+08:00", "--json"))
    assert answer["summary"] == "c3 (张伟) is now away (R-PR-1)"  # --json is the same whatever the language
    swap = run(db, "zh", "swap", "c3", "c4", "--at", "2026-11-30T10:08:00+08:00")
    assert "互换座次" in swap and "R-RO-2" in swap
