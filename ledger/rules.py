"""The rules reference (issue #11 item 6): every rule id of the ledger with a title and a
statement in Chinese and English and the house-rule phrase it comes from.

The text is data, in one place: `ledger/rules_reference.json` (package data). This module reads
it on first use only, so importing it (or `cli`) costs nothing. `rule("R-RT-2")` answers one rule
and `all_rules()` every rule in reference order (by section, then by number).
"""
from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from typing import Any

from ledger.errors import InputError

# A rule id as cited in code, tests, policies and `explain`: R-RT-2, R-OW-3b, R-T-4.
RULE_ID = re.compile(r"R-[A-Z]{1,2}-\d+[a-z]?")


class UnknownRule(InputError):
    """No rule has this id (exit status 2); the message names the nearest ids."""


@dataclass(frozen=True)
class Section:
    id: str
    number: int
    title: dict[str, str]  # {"zh": ..., "en": ...}


@dataclass(frozen=True)
class Source:
    house_rule: str  # the preset whose house rule it is: campus, fitness, grades, realty
    where: str  # the place in that house rule (its own numbering)
    quote: str  # a short citation of the original phrase


@dataclass(frozen=True)
class Rule:
    id: str
    section: Section
    applies_to: tuple[str, ...]  # the presets it is specific to; empty: every preset
    title: dict[str, str]
    statement: dict[str, str]
    sources: tuple[Source, ...]

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": {"number": self.section.number, "id": self.section.id, "title": dict(self.section.title)},
            "applies_to": list(self.applies_to),
            "title": dict(self.title),
            "statement": dict(self.statement),
            "sources": [{"house_rule": s.house_rule, "house_rule_title": house_rules()[s.house_rule],
                         "where": s.where, "quote": s.quote} for s in self.sources],
        }


@functools.cache
def _load() -> dict[str, Any]:
    import json
    from importlib import resources

    text = resources.files("ledger").joinpath("rules_reference.json").read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def _index() -> dict[str, Rule]:
    data = _load()
    sections = {s["id"]: Section(s["id"], s["number"], s["title"]) for s in data["sections"]}
    rules = [Rule(r["id"], sections[r["section"]], tuple(r["applies_to"]), r["title"], r["statement"],
                  tuple(Source(**s) for s in r["sources"])) for r in data["rules"]]
    return {r.id: r for r in rules}


def all_rules() -> tuple[Rule, ...]:
    """Every rule, in reference order."""
    return tuple(_index().values())


def sections() -> tuple[Section, ...]:
    """The rulebook's sections that hold rules, in order."""
    return tuple(Section(s["id"], s["number"], s["title"]) for s in _load()["sections"])


def house_rules() -> dict[str, dict[str, str]]:
    """The four house rules the rules come from, by preset: {"campus": {"zh": ..., "en": ...}}."""
    return _load()["house_rules"]


def normalize(text: str) -> str:
    """`r-ow-3B`, ` R_OW_3b ` -> `R-OW-3b` (the letter suffix lower case, the rest upper)."""
    text = text.strip().replace("_", "-").upper()
    match = re.fullmatch(r"(R-[A-Z]{1,2}-\d+)([A-Z]?)", text)
    return match.group(1) + match.group(2).lower() if match else text


def nearest(text: str, n: int = 3) -> list[str]:
    """The ids closest to `text` (difflib), best first."""
    return difflib.get_close_matches(normalize(text), list(_index()), n=n, cutoff=0.5)


def rule(rule_id: str) -> Rule:
    """The rule with this id (case and `_` for `-` forgiven); `UnknownRule` otherwise."""
    found = _index().get(normalize(rule_id))
    if found is None:
        close = nearest(rule_id)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `ledger rules` lists them all"
        raise UnknownRule(f"no rule {rule_id.strip()!r}{hint}")
    return found
