"""The refusals a receptionist meets from the recording commands (issue #14 item 1): Chinese
under zh through the catalog (`cli.app._ERROR_FRAGMENTS`), the English message under en as
raised, the exit status 2 in both, nothing on standard output, and nothing stored."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo-campus-month.jsonl"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('record-errors')}/demo.db"
    assert CliRunner().invoke(main, ["import", str(DEMO), "--db", url]).exit_code == 0
    return url


def refused(db: str, lang: str, *args: str) -> str:
    """The one line on standard error of a refused recording command."""
    result = CliRunner().invoke(main, ["--lang", lang, *args, "--team", "renda", "--db", db])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ledger: "), result.stderr
    return lines[0]


# (command line, the Chinese it says under zh, the English it says under en)
CASES = [
    (["followup", "L000499", "--by", "c6", "--at", "2099-01-01T09:00:00+08:00"],
     ["R-CO-5: --at 2099-01-01T09:00:00+08:00 比现在(", ")晚 5 分钟以上;应为已经发生的时间", "--allow-future"],
     ["R-CO-5: --at 2099-01-01T09:00:00+08:00 is more than 5 minutes after now (",
      "); expected a time that has happened (--allow-future records it anyway: simulations, tests)"]),
    (["pay", "Kx", "100.00"],
     ["ledger: CONTRACT: 没有合同 'Kx';应为已签订合同的编号"],
     ["ledger: CONTRACT: unknown contract 'Kx'; expected the id of a signed contract"]),
    (["pay", "K-001", "100.00"],
     ["没有合同 'K-001';您要找的是不是 K0000"],
     ["unknown contract 'K-001'; did you mean K0000"]),
    (["lift", "P9", "--by", "主任"],
     ["ledger: 没有处罚 'P9';当前没有生效的处罚"],
     ["ledger: unknown penalty 'P9'; penalties in force: none"]),
    (["lift", "P0001", "--by", "主任"],
     ["R-SA-9: 处罚 P0001 已于 2026-11-14T10:00:00+08:00 解除"],
     ["R-SA-9: penalty P0001 was already lifted at 2026-11-14T10:00:00+08:00"]),
    (["arrive", "hotline", "--lead", "L000499"],
     ["--lead: 线索 'L000499' 已经到达过;应使用新的线索编号(例如 L"],
     ["--lead: lead 'L000499' has already arrived; expected a new lead id (e.g. L"]),
    (["sign", "K000054", "--lead", "L000499", "--amount", "100.00"],
     ["合同 'K000054' 已存在;合同编号在本团队内应唯一"],
     ["contract 'K000054' already exists; expected a contract id unique within the team"]),
    (["cancel", "K000015"],
     ["R-MO-2: 合同 K000015 已取消,不能再记录取消"],
     ["R-MO-2: contract K000015 is cancelled; no cancellation can follow"]),
    (["refund", "K000005", "20000.00"],
     ["R-MO-2: 退费 20000.00 将超过合同 K000005 的金额 16800.00(已退费 2000.00)"],
     ["R-MO-2: a refund of 20000.00 would exceed contract K000005's amount 16800.00 (already refunded 2000.00)"]),
    (["pay", "K000032", "0"],
     ["AMOUNT: 金额应大于 0.00,实际为 0.00"],
     ["AMOUNT: expected an amount above 0.00, got 0.00"]),
    (["unlink", "L000498", "L000499"],
     ["L000498 与 L000499 不是同一客户,无需解除关联"],
     ["L000498 and L000499 are not one customer; nothing to unlink (R-ID-1)"]),
    (["erase-phone", "13900000000"],
     ["PHONE: 团队 renda 没有号码为 *******0000 的线索,无可删除"],
     ["PHONE: no lead of team renda has the number *******0000; nothing to erase"]),
]


@pytest.mark.parametrize("args,chinese,english", CASES, ids=[" ".join(case[0][:2]) for case in CASES])
def test_a_recording_refusal_reads_in_the_users_language(db, args, chinese, english):
    zh = refused(db, "zh", *args)
    assert all(part in zh for part in chinese), zh
    assert not any(word in zh for word in ("unknown", "expected", "already", "nothing to")), zh
    en = refused(db, "en", *args)
    assert all(part in en for part in english), en
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.replace("主任", "")), en


def test_a_refusal_under_json_is_the_same_line_and_stores_nothing(db):
    before = CliRunner().invoke(main, ["export", "--team", "renda", "--db", db]).stdout
    for lang in ("zh", "en"):
        line = refused(db, lang, "lift", "P9", "--json")
        assert line == refused(db, lang, "lift", "P9")
    assert CliRunner().invoke(main, ["export", "--team", "renda", "--db", db]).stdout == before
