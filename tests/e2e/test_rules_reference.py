"""The rules reference the product carries itself (issue #11 item 6): `ledger/rules_reference.json`
through `ledger.rules` and `ledger rules [ID]`. Every rule id the code cites exists in it, and
every rule in it is cited by the code and by the tests (exceptions listed below, with a reason).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from ledger import rules

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
REFERENCE = ROOT / "ledger" / "rules_reference.json"
THIS = Path(__file__).resolve()

# R-RT-2, R-OW-3b, R-T-4 in code and text; R_OW_3b in test names.
CITED = re.compile(r"(?<![A-Za-z0-9])R([-_])([A-Z]{1,2})\1(\d+)([a-z]?)(?![0-9a-z])")

# Rules no code cites by id, and why. Each is still pinned by a test that names it.
NOT_IN_CODE = {
    "R-CH-2": "an invalid lead (a wrong number) is an ordinary arrival: nothing in the fold tells it "
              "apart, so no code branches on it; test_R_CH_2_a_wrong_number_still_consumes_the_turn "
              "pins the behaviour",
}
# Rules no test cites by id, and why (none today).
NOT_IN_TESTS: dict[str, str] = {}


def cited_ids(paths) -> dict[str, set[str]]:
    """{rule id: the files citing it} over `paths`, `R_OW_3b` read as `R-OW-3b`."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for match in CITED.finditer(path.read_text(encoding="utf-8")):
            _, family, number, letter = match.groups()
            found.setdefault(f"R-{family}-{number}{letter}", set()).add(str(path.relative_to(ROOT)))
    return found


def code_files():
    files = []
    for package in ("cli", "ledger", "projections", "commands"):
        files += sorted(p for p in (ROOT / package).rglob("*") if p.suffix in {".py", ".json"} and p != REFERENCE)
    return files


def the_test_files():
    return sorted(p for p in (ROOT / "tests").rglob("*.py") if p.resolve() != THIS)


def ids() -> set[str]:
    return {r.id for r in rules.all_rules()}


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(main, ["rules", *args])
    assert result.exit_code == code, (args, result.output)
    return result


# -- the reference and the code -----------------------------------------------------------------


def test_every_rule_id_cited_in_the_code_exists_in_the_reference():
    unknown = {rule_id: sorted(files) for rule_id, files in cited_ids(code_files()).items() if rule_id not in ids()}
    assert not unknown, f"rule ids cited in the code but missing from ledger/rules_reference.json: {unknown}"


def test_every_rule_in_the_reference_is_cited_by_the_code_unless_listed_with_a_reason():
    uncited = ids() - set(cited_ids(code_files())) - set(NOT_IN_CODE)
    assert not uncited, f"rules no code cites (cite them, or add them to NOT_IN_CODE with a reason): {sorted(uncited)}"


def test_every_rule_in_the_reference_is_cited_by_a_test_unless_listed_with_a_reason():
    uncited = ids() - set(cited_ids(the_test_files())) - set(NOT_IN_TESTS)
    assert not uncited, f"rules no test names (add one, or list it in NOT_IN_TESTS with a reason): {sorted(uncited)}"


def test_the_listed_exceptions_are_real_rules_that_really_go_uncited():
    in_code, in_tests = set(cited_ids(code_files())), set(cited_ids(the_test_files()))
    for listed, cited in ((NOT_IN_CODE, in_code), (NOT_IN_TESTS, in_tests)):
        assert set(listed) <= ids()
        assert not set(listed) & cited, f"cited now, drop the exception: {sorted(set(listed) & cited)}"
    assert not set(NOT_IN_CODE) & set(NOT_IN_TESTS), "a rule must be pinned by the code or by a test"


def test_the_id_pattern_of_the_package_matches_every_id_of_the_reference():
    assert all(rules.RULE_ID.fullmatch(rule_id) for rule_id in ids())


# -- the reference as data ----------------------------------------------------------------------


def test_every_rule_has_a_title_and_a_statement_in_chinese_and_in_english_and_a_known_section():
    cjk = re.compile(r"[\u4e00-\u9fff]")
    presets = set(rules.house_rules())
    for item in rules.all_rules():
        for field in (item.title, item.statement):
            assert set(field) == {"zh", "en"}, item.id
            assert cjk.search(field["zh"]), item.id
            assert field["en"].strip() and not cjk.search(field["en"]), item.id
        assert item.section in rules.sections(), item.id
        assert set(item.applies_to) <= presets, item.id


def test_sources_name_a_house_rule_and_quote_it_briefly():
    for item in rules.all_rules():
        for source in item.sources:
            assert source.house_rule in rules.house_rules(), item.id
            assert source.where.strip(), item.id
            assert 2 <= len(source.quote) <= 40, (item.id, source.quote)


def test_the_reference_lists_rules_by_section_in_rulebook_order_with_no_id_twice():
    listed = [r.id for r in rules.all_rules()]
    assert len(listed) == len(set(listed)) == len(json.loads(REFERENCE.read_text(encoding="utf-8"))["rules"])
    numbers = [r.section.number for r in rules.all_rules()]
    assert numbers == sorted(numbers)


def test_a_rule_is_found_whatever_the_case_or_the_separator():
    assert rules.rule("r-ow-3B").id == rules.rule(" R_OW_3b ").id == "R-OW-3b"


def test_an_unknown_rule_is_an_input_error_naming_the_nearest_ids():
    with pytest.raises(rules.UnknownRule, match=r"R-RT-1\b") as error:
        rules.rule("R-RT-10")
    assert error.value.exit_code == 2


def test_the_reference_is_package_data_so_a_non_editable_install_carries_it():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["ledger"]
    assert any(fnmatch(REFERENCE.name, pattern) for pattern in patterns)


def test_importing_cli_or_the_rules_module_does_not_read_the_reference():
    probe = ("import sys, cli; assert 'ledger.rules' not in sys.modules; "
             "from ledger import rules; assert rules._load.cache_info().currsize == 0")
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True)


# -- ledger rules -------------------------------------------------------------------------------


def test_ledger_rules_lists_every_rule_under_its_section():
    out = run().stdout
    headings = sorted((out.index(f"§{s.number} "), s) for s in rules.sections())
    for item in rules.all_rules():
        at = out.index(f"{item.id} ")
        under = [section for position, section in headings if position < at][-1]
        assert under == item.section, item.id
    assert rules.rule("R-RT-2").title["zh"] in out and rules.rule("R-RT-2").title["en"] in out


def test_ledger_rules_with_an_id_prints_chinese_then_english_then_the_source_phrase():
    out = run("R-RT-2").stdout
    rt2 = rules.rule("R-RT-2")
    zh, en, quote = (out.index(text) for text in (rt2.statement["zh"], rt2.statement["en"], rt2.sources[0].quote))
    assert out.startswith("R-RT-2 ") and zh < en < quote


def test_lang_keeps_to_one_language():
    out = run("R-OW-3b", "--lang", "en").stdout
    assert rules.rule("R-OW-3b").statement["en"] in out
    assert rules.rule("R-OW-3b").statement["zh"] not in out
    listing = run("--lang", "zh").stdout
    assert rules.rule("R-WI-1").title["zh"] in listing and rules.rule("R-WI-1").title["en"] not in listing


def test_a_rule_without_a_source_phrase_says_so():
    assert not rules.rule("R-CO-2").sources
    assert run("R-CO-2", "--lang", "en").stdout.rstrip().endswith("Source: -")


def test_json_gives_one_rule_or_all_of_them_in_both_languages():
    one = json.loads(run("R-OW-2a", "--json").stdout)
    assert one["id"] == "R-OW-2a" and one["applies_to"] == ["realty"] and one["section"]["number"] == 7
    assert set(one["statement"]) == {"zh", "en"} and one["sources"][0]["quote"]
    every = json.loads(run("--json").stdout)["rules"]
    assert [r["id"] for r in every] == [r.id for r in rules.all_rules()]


def test_an_unknown_id_exits_2_with_one_line_suggesting_the_nearest_ids():
    result = run("R-OW-3e", code=2)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("ledger: no rule 'R-OW-3e'; did you mean R-OW-3")


def test_explain_names_the_rules_its_timeline_cites_with_their_titles(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    demo = ROOT / "fixtures" / "demo-campus-month.jsonl"
    assert CliRunner().invoke(main, ["import", str(demo), "--db", url]).exit_code == 0
    shown = CliRunner().invoke(main, ["explain", "L1116-X2", "--at", "2026-11-17T12:00:00+08:00", "--db", url])
    assert shown.exit_code == 0, shown.output
    cited = json.loads(CliRunner().invoke(main, ["explain", "L1116-X2", "--at", "2026-11-17T12:00:00+08:00",
                                                 "--json", "--db", url]).stdout)
    line = next(text for text in shown.stdout.splitlines() if text.startswith("规则 rules"))
    for item in cited["timeline"]:
        if item["rule"]:
            assert f"{item['rule']} {rules.rule(item['rule']).title['zh']}" in line
