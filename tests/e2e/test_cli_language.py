"""The command line reads Chinese first (issue #14 phase 1): the language rule, the queries'
human output under `zh` and `en` on the demo store, errors a receptionist meets, and `--json`
the same bytes whatever the language (INTERCHANGE)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from ledger import i18n

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo-campus-month.jsonl"
TEAM, LEAD = "renda", "L1116-X2"
AT = "2026-11-16T21:00:00+08:00"  # after the claim on L1116-X2, before the ruling
LATER = "2026-11-25T12:00:00+08:00"
# An environment that says nothing about the language: LEDGER_LANG unset, the C locale.
SILENT = {"LEDGER_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}
EVENT_TYPES = re.compile(r"\b(PolicyAdopted|ConsultantJoined|LeadArrived|FollowUpLogged|ClaimMade|RulingMade|"
                         r"ContractSigned|PaymentReceived|Reassigned|DeferredAllocated|PresenceChanged)\b")


def run(db: str, *args: str, env: dict | None = None, code: int = 0):
    result = CliRunner().invoke(main, [*args, "--db", db], env=env or SILENT, prog_name="ledger")
    assert result.exit_code == code, (args, result.output)
    return result


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('language')}/demo.db"
    result = CliRunner().invoke(main, ["import", "--allow-future", str(DEMO), "--db", url])
    assert result.exit_code == 0, result.output
    return url


def zh(db: str, *args: str) -> str:
    return run(db, *args, "--team", TEAM).stdout


def en(db: str, *args: str) -> str:
    return run(db, "--lang", "en", *args, "--team", TEAM).stdout


def test_chinese_unless_lang_then_ledger_lang_then_an_english_locale_says_otherwise():
    assert i18n.choose(None, {}) == "zh"
    assert i18n.choose(None, {"LANG": "C.UTF-8"}) == "zh"
    assert i18n.choose(None, {"LANG": "POSIX"}) == "zh"
    assert i18n.choose(None, {"LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.choose(None, {"LANG": "en_US.UTF-8"}) == "en"
    assert i18n.choose(None, {"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert i18n.choose(None, {"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}) == "zh"
    assert i18n.choose(None, {"LEDGER_LANG": "zh", "LANG": "en_US.UTF-8"}) == "zh"
    assert i18n.choose(None, {"LEDGER_LANG": "en", "LANG": "zh_CN.UTF-8"}) == "en"
    assert i18n.choose("zh", {"LEDGER_LANG": "en", "LC_ALL": "en_US.UTF-8"}) == "zh"
    assert i18n.choose("en", {}) == "en"


def test_the_flag_beats_the_environment_and_the_environment_the_default(db):
    chinese, english = "归 刘洋 (c4)", "刘洋 (c4) by R-OW-3b"
    assert chinese in run(db, "owner", LEAD, "--team", TEAM, "--at", AT).stdout
    assert english in run(db, "owner", LEAD, "--team", TEAM, "--at", AT, env={**SILENT, "LANG": "en_US.UTF-8"}).stdout
    assert english in run(db, "owner", LEAD, "--team", TEAM, "--at", AT, env={**SILENT, "LEDGER_LANG": "en"}).stdout
    assert chinese in run(db, "--lang", "zh", "owner", LEAD, "--team", TEAM, "--at", AT,
                          env={**SILENT, "LEDGER_LANG": "en"}).stdout


def test_owner_says_who_by_which_rule_and_the_claim_in_chinese(db):
    text = zh(db, "owner", LEAD, "--at", AT)
    assert "L1116-X2:归 刘洋 (c4),依据 R-OW-3b" in text and "有争议 (R-OW-7)" in text
    assert "李娜 (c2) 于 2026-11-16T20:10:00+08:00 申诉" in text
    assert " by " not in text and "claim" not in text and "disputed" not in text


def test_explain_has_chinese_headings_and_event_types_and_keeps_the_rule_ids(db):
    text = zh(db, "explain", LEAD, "--at", AT)
    for heading in ("时间线", "时间", "事件", "经过", "归属人", "规则", "依据记录", "线索到达", "跟进记录", "归属申诉"):
        assert heading in text, heading
    assert "R-OW-3b" in text and "#1097" in text and "规则(ledger rules 规则编号):R-SH-2 早晚班时段归值班人; R-OW-3b 跟踪后打热线" in text
    assert not EVENT_TYPES.search(text), EVENT_TYPES.findall(text)
    assert "Timeline" not in text and "rests on" not in text and "Hotline after tracking" not in text


def test_board_names_channels_presences_and_shifts_in_chinese(db):
    text = zh(db, "board", "--at", AT)
    for word in ("热线", "网络", "总部转介", "到访", "市场活动", "座位", "咨询师", "状态", "在岗", "下一位", "排名",
                 "值班", "早班", "晚班", "逾期未跟进 (20)", "时段: 晚班后"):
        assert word in text, word
    for english in ("hotline", "walk_in", "on_post", "NEXT", "shifts", "window", "overdue follow-ups"):
        assert english not in text, english


def test_followups_and_disputes_have_chinese_headings_and_channels(db):
    text = zh(db, "followups", "--at", AT)
    assert "逾期未跟进" in text and "线索" in text and "截止" in text and "各咨询师逾期数:李娜 (c2) 6" in text
    assert "Overdue" not in text and "owner" not in text
    text = zh(db, "disputes", "--at", AT)
    for heading in ("争议", "推定归属人", "申诉人", "理由", "L1116-X2", "12日已约试听"):
        assert heading in text, heading
    assert "Disputes" not in text and "derived owner" not in text
    text = zh(db, "turns", "--from", "2026-11-01", "--to", "2026-11-30")
    assert "热线" in text and "到访" in text and "轮次" in text and "walk_in" not in text


def test_english_reads_as_before(db):
    text = en(db, "owner", LEAD, "--at", AT)
    assert text.startswith("L1116-X2: 刘洋 (c4) by R-OW-3b  disputed (R-OW-7)\n  claim by 李娜 (c2) at ")
    text = en(db, "explain", LEAD, "--at", AT)
    assert "Timeline" in text and "rests on" in text and "LeadArrived" in text and "时间线" not in text
    assert "规则 rules (ledger rules ID): R-SH-2 早晚班时段归值班人 Window leads go to the shift holder" in text
    text = en(db, "board", "--at", AT)
    assert "hotline" in text and "int_ref" in text and "on_post" in text and "NEXT" in text
    assert "shifts 2026-11-16  early c1 王芳  late c4 刘洋  overtime —" in text and "热线" not in text
    assert "Overdue follow-ups" in en(db, "followups", "--at", AT)
    assert "derived owner" in en(db, "disputes", "--at", AT)


QUERIES = [
    ("owner", LEAD, "--at", AT), ("owner", LEAD, "--at", LATER), ("explain", LEAD, "--at", AT),
    ("explain", LEAD, "--at", LATER), ("board", "--at", AT), ("board", "--at", LATER), ("followups", "--at", AT),
    ("disputes", "--at", AT), ("sanctions", "--at", LATER), ("next", "hotline", "--at", AT),
    ("turns", "--from", "2026-11-01", "--to", "2026-11-30"), ("commission", "--month", "2026-11"),
    ("find", "--phone", "0086 13911100001", "--at", LATER), ("event", "#1101"),
]


@pytest.mark.parametrize("args", QUERIES, ids=lambda args: "-".join(args[:2]))
def test_json_is_the_same_bytes_in_both_languages(db, args):
    assert zh(db, *args, "--json") == en(db, *args, "--json")


def test_errors_a_receptionist_meets_come_in_chinese_with_the_same_exit_status(db):
    result = run(db, "owner", "NOPE", "--team", TEAM, "--at", AT, code=2)
    assert result.stderr == "ledger: 没有线索 'NOPE' (截至 2026-11-16T21:00:00+08:00 尚未到达)\n"
    result = run(db, "--lang", "en", "owner", "NOPE", "--team", TEAM, "--at", AT, code=2)
    assert result.stderr == "ledger: unknown lead 'NOPE' (not arrived by 2026-11-16T21:00:00+08:00)\n"
    result = run(db, "owner", LEAD, "--team", TEAM, "--at", "2026-13-01", code=2)
    assert result.stderr == "ledger: --at: 应为真实存在的日期和时间(ISO 8601),收到的是 '2026-13-01'(参见 'ledger owner -h')\n"
    result = run(db, "--lang", "en", "owner", LEAD, "--team", TEAM, "--at", "2026-13-01", code=2)
    assert result.stderr == "ledger: --at: expected a real date and time (ISO 8601), got '2026-13-01' (see 'ledger owner -h')\n"
    result = run(db, "owner", LEAD, "--team", "nobody", code=2)
    assert result.stderr == "ledger: 没有团队 'nobody';台账中的团队:renda\n"


def test_an_unknown_consultant_gets_did_you_mean_in_chinese(db):
    args = ("presence", "王芳x", "away", "--team", TEAM, "--at", "2026-11-30T23:00")
    result = run(db, *args, code=2)
    assert "没有咨询师 '王芳x'" in result.stderr and "您要找的是不是" in result.stderr, result.stderr
    assert "unknown consultant" not in result.stderr and "did you mean" not in result.stderr
    english = run(db, "--lang", "en", *args, code=2)
    assert "unknown consultant '王芳x'" in english.stderr and "did you mean" in english.stderr
