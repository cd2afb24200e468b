"""Issue #14 items 3-5, end to end through the `ledger` command on real SQLite stores, in Chinese
and in English: click's usage errors as one line with "did you mean"; one time syntax for every
--at/--from/--until/--as-recorded; the payroll CSV a spreadsheet sums right."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo-campus-month.jsonl"
TEAM = "renda"
SILENT = {"LEDGER_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}
LANGS = ["zh", "en"]


def run(db: str, lang: str, *args: str, code: int = 0):
    result = CliRunner().invoke(main, ["--lang", lang, *args], env={**SILENT, "LEDGER_DB": db}, prog_name="ledger")
    assert result.exit_code == code, (args, result.output)
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('newcomer')}/demo.db"
    result = CliRunner().invoke(main, ["import", "--allow-future", str(DEMO), "--db", url])
    assert result.exit_code == 0, result.output
    return url


def export(db: str) -> str:
    return run(db, "en", "export", "--team", TEAM).stdout


# -- item 3: click's own usage errors, one line, did you mean ------------------------------------

USAGE = {  # args -> (Chinese, English): the whole line after `ledger: `
    ("arrive", "hotlin"): (
        "CHANNEL:'hotlin' 不是可选值之一(hotline, online, hq_referral, internal_referral, walk_in, marketing, "
        "conference, customer_referral, outbound);您要找的是不是 hotline(热线) 或 online(网络)?(参见 'ledger arrive -h')",
        "CHANNEL: 'hotlin' is not one of hotline, online, hq_referral, internal_referral, walk_in, marketing, "
        "conference, customer_referral, outbound; did you mean hotline or online? (see 'ledger arrive -h')"),
    ("ownr", "L1"): ("no such command 'ownr';您要找的是不是 owner?(参见 'ledger -h')".replace("no such command", "没有命令"),
                     "no such command 'ownr'; did you mean owner? (see 'ledger -h')"),
    ("owner", "L1", "--tam", "x"): ("没有选项 --tam;您要找的是不是 --team 或 --at?(参见 'ledger owner -h')",
                                    "no such option --tam; did you mean --team or --at? (see 'ledger owner -h')"),
    ("owner",): ("缺少 LEAD(参见 'ledger owner -h')", "missing LEAD (see 'ledger owner -h')"),
    ("owner", "L1", "L2"): ("多余的参数:L2(参见 'ledger owner -h')",
                            "unexpected extra argument(s): L2 (see 'ledger owner -h')"),
    ("owner", "L1", "--team", TEAM, "--at"): ("--at 需要一个值(参见 'ledger owner -h')", "--at needs a value (see 'ledger owner -h')"),
    ("penalize", "c1", "--skip", "two", "--channels", "*", "--rule", "R-SA-2", "--reason", "x"): (
        "--skip: 应为整数,收到的是 'two'(参见 'ledger penalize -h')",
        "--skip: expected a whole number, got 'two' (see 'ledger penalize -h')"),
    ("commission", "--month", "2026-13"): ("--month: 应为 YYYY-MM 格式的月份,收到的是 '2026-13'",
                                           "--month: expected a month YYYY-MM, got '2026-13'"),
    ("notify", "add-targt"): ("没有命令 'add-targt';您要找的是不是 add-target?(参见 'ledger notify -h')",
                              "no such command 'add-targt'; did you mean add-target? (see 'ledger notify -h')"),
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("args", list(USAGE), ids=lambda args: "-".join(args[:2]))
def test_a_usage_error_is_one_line_in_the_language_with_did_you_mean_and_exit_status_2(demo, lang, args):
    before = export(demo)
    result = run(demo, lang, *args, code=2)
    expected = USAGE[args][LANGS.index(lang)]
    assert result.stderr == f"ledger: {expected}\n" and result.stdout == ""
    assert export(demo) == before  # nothing stored


# -- item 4: one time syntax ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_queries_take_a_time_without_offset_in_the_teams_zone_as_recording_commands_do(demo, lang):
    naive = run(demo, lang, "next", "hotline", "--team", TEAM, "--at", "2026-12-01T08:30:00", "--json").stdout
    aware = run(demo, lang, "next", "hotline", "--team", TEAM, "--at", "2026-12-01T08:30:00+08:00", "--json").stdout
    utc = run(demo, lang, "next", "hotline", "--team", TEAM, "--at", "2026-12-01T00:30:00Z", "--json").stdout
    assert naive == aware == utc and json.loads(naive)["at"] == "2026-12-01T08:30:00+08:00"
    human = run(demo, lang, "next", "hotline", "--team", TEAM, "--at", "2026-12-01 08:30").stdout
    assert "2026-12-01T08:30:00+08:00" in human and ("热线" in human) == (lang == "zh")
    later = {"zh": "明天", "en": "tomorrow"}[lang]  # recorded by tomorrow: the whole store
    same = run(demo, lang, "owner", "L1116-X2", "--team", TEAM, "--at", "2026-11-16T21:00", "--as-recorded",
               later, "--json").stdout
    assert same == run(demo, lang, "owner", "L1116-X2", "--team", TEAM, "--at", "2026-11-16T21:00:00+08:00",
                       "--json").stdout


@pytest.mark.parametrize("lang", LANGS)
def test_a_bad_time_is_refused_on_one_line_naming_the_option_and_the_forms(demo, lang):
    result = run(demo, lang, "sanctions", "--team", TEAM, "--at", "yesterdya", code=2)
    assert len(result.stderr.splitlines()) == 1 and "--at" in result.stderr and "'yesterdya'" in result.stderr
    assert ("3天前" in result.stderr) and (("应为时间" in result.stderr) == (lang == "zh"))


def local_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))


@pytest.mark.parametrize("lang", LANGS)
def test_recording_and_queries_read_words_and_relative_times_against_the_clock(tmp_path, lang):
    db = f"sqlite:///{tmp_path}/words.db"
    run(db, lang, "adopt", "campus", "--team", "t", "--at", "-1w")
    run(db, lang, "join", "c1", "--name", "王芳", "--at", "6 days ago" if lang == "en" else "6天前")
    run(db, lang, "presence", "c1", "on_post", "--at", "-6d")
    word = {"zh": "昨天 09:30", "en": "yesterday 09:30"}[lang]
    arrived = json.loads(run(db, lang, "arrive", "walk_in", "--at", word, "--json").stdout)
    assert arrived["at"] == f"{(local_now() - dt.timedelta(days=1)).date()}T09:30:00+08:00"
    before = local_now().replace(microsecond=0)
    run(db, lang, "penalize", "c1", "--suspend", "--channels", "*", "--from", "-2h", "--until",
        {"zh": "明天", "en": "tomorrow"}[lang], "--rule", "R-SA-6", "--reason", "x")
    (sanction,) = json.loads(run(db, lang, "sanctions", "--at", "now", "--json").stdout)["sanctions"]
    start = dt.datetime.fromisoformat(sanction["from"])
    assert before - dt.timedelta(hours=2, seconds=5) <= start <= local_now() - dt.timedelta(hours=2)
    assert sanction["until"] == f"{(start + dt.timedelta(hours=2)).date() + dt.timedelta(days=1)}T00:00:00+08:00"
    lead = arrived["lead"]
    assert json.loads(run(db, lang, "owner", lead, "--at", "now", "--json").stdout)["owner"] == "c1"
    run(db, lang, "owner", lead, "--at", "3 days ago" if lang == "en" else "3天前", code=2)  # not arrived then
    refused = run(db, lang, "arrive", "walk_in", "--at", "in 2 hours" if lang == "en" else "2小时后", code=2)
    assert "R-CO-5" in refused.stderr and len(refused.stderr.splitlines()) == 1


# -- item 5: the payroll CSV -----------------------------------------------------------------------


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("lang", LANGS)
def test_commission_csv_has_one_row_per_line_and_sums_to_the_months_payout(demo, lang):
    month = ("--month", "2026-11", "--team", TEAM)
    answer = json.loads(run(demo, lang, "commission", *month, "--json").stdout)
    payout = sum(Decimal(s["total"]) for s in answer["statements"])
    rows = read_csv(run(demo, lang, "commission", *month, "--csv").stdout_bytes)
    header = {"zh": ["团队", "月份", "咨询师", "姓名", "规则", "合同", "基数", "比例", "金额"],
              "en": ["team", "month", "consultant", "name", "rule", "contract", "basis", "rate", "amount"]}[lang]
    assert rows[0] == header
    assert len(rows) - 1 == sum(len(s["lines"]) for s in answer["statements"])
    assert sum(Decimal(row[-1]) for row in rows[1:]) == payout == Decimal("30766.00")
    assert {tuple(row[:4]) for row in rows[1:]} >= {(TEAM, "2026-11", "c1", "王芳"), (TEAM, "2026-11", "c2", "李娜")}
    assert all(row[4].startswith("R-CM-") for row in rows[1:])


@pytest.mark.parametrize("lang", LANGS)
def test_commission_totals_come_apart_one_row_per_consultant(demo, lang):
    month = ("--month", "2026-11", "--team", TEAM)
    answer = json.loads(run(demo, lang, "commission", *month, "--json").stdout)
    rows = read_csv(run(demo, lang, "commission", *month, "--csv", "--totals").stdout_bytes)
    assert rows[0] == {"zh": ["团队", "月份", "咨询师", "姓名", "明细条数", "合计"],
                       "en": ["team", "month", "consultant", "name", "lines", "total"]}[lang]
    assert [(row[2], row[4], row[5]) for row in rows[1:]] == [
        (s["consultant"], str(len(s["lines"])), s["total"]) for s in answer["statements"]]
    assert sum(Decimal(row[-1]) for row in rows[1:]) == Decimal("30766.00")
    assert run(demo, lang, "commission", *month, "--totals").stdout_bytes == rows_bytes(demo, lang, month)


def rows_bytes(demo: str, lang: str, month: tuple) -> bytes:
    return run(demo, lang, "commission", *month, "--csv", "--totals").stdout_bytes


def test_the_json_of_commission_is_the_same_bytes_in_both_languages(demo):
    args = ("commission", "--month", "2026-11", "--team", TEAM, "--json")
    assert run(demo, "zh", *args).stdout == run(demo, "en", *args).stdout
