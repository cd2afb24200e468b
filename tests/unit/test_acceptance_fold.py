"""The acceptance scenarios (../shared/acceptance/*.json) folded through the engine directly.

Every owner/next/turns/sanctions/explain/disputes check is answered by `projections.queries`
on `replay(..., until=at)` and matched with the acceptance runner's own `match`. Without the
folder beside the checkout (a lone clone) they are skipped, under `CI=true` failed:
`conftest.acceptance_folder`.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import json

import pytest
from conftest import ACCEPTANCE, acceptance_folder, acceptance_params

from ledger.errors import UnknownLead
from ledger.events import Recorded, parse_event
from projections import queries
from projections.engine import replay

QUERIES = ("owner", "next", "turns", "sanctions", "explain", "disputes", "followups")


def _runner():
    spec = importlib.util.spec_from_file_location("acceptance_run", acceptance_folder() / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _options(args):
    positional, options, i = [], {}, 0
    while i < len(args):
        if args[i] == "--json":
            i += 1
        elif args[i].startswith("--"):
            options[args[i][2:]] = args[i + 1]
            i += 2
        else:
            positional.append(args[i])
            i += 1
    return positional, options


def answer(records, args):
    """Answer one CLI query from the records, as the CLI would: (exit status, json)."""
    command, *rest = args
    positional, options = _options(rest)
    if "at" in options:
        at = dt.datetime.fromisoformat(options["at"])
    elif command == "turns":
        zone_probe = replay(records)
        end = dt.date.fromisoformat(options["to"]) + dt.timedelta(days=1)
        at = dt.datetime.combine(end, dt.time(0), tzinfo=zone_probe.tz) - dt.timedelta(microseconds=1)
    else:
        at = max(r.event.at for r in records)
    state = replay(records, until=at)
    try:
        if command == "owner":
            return 0, queries.owner(state, positional[0])
        if command == "explain":
            return 0, queries.explain(state, positional[0])
        if command == "next":
            return 0, queries.next_owner(state, positional[0], at)
        if command == "turns":
            return 0, queries.turns(state, dt.date.fromisoformat(options["from"]), dt.date.fromisoformat(options["to"]))
        if command == "sanctions":
            return 0, queries.sanctions(state)
        if command == "disputes":
            return 0, queries.disputes(state)
        if command == "followups":
            return 0, queries.followups(state)
    except UnknownLead:
        return 2, None
    raise AssertionError(command)


def _cases():
    for path in sorted(ACCEPTANCE.glob("*.json")):
        scenario = json.loads(path.read_text(encoding="utf-8"))
        events = scenario.get("events", [])
        if not events:
            continue  # bad_input: import/CLI behaviour, not the fold
        records = [Recorded(i + 1, parse_event(e)) for i, e in enumerate(events)]
        for number, check in enumerate(scenario.get("checks", [])):
            if "import" in check:
                if check.get("exit", 0) == 0:
                    records = records + [Recorded(len(records) + i + 1, parse_event(e)) for i, e in enumerate(check["import"])]
                continue
            if "run" not in check or check["run"][0] not in QUERIES:
                continue
            yield pytest.param(list(records), check, id=f"{path.stem}#{number}")


def test_the_acceptance_scenarios_are_found_beside_the_checkout():
    """Without them the parametrized checks below would silently be none."""
    folder = acceptance_folder()
    assert len(list(folder.glob("*.json"))) >= 7, folder


@pytest.mark.parametrize("records,check", acceptance_params(list(_cases()), 2))
def test_acceptance_check(records, check):
    match = _runner().match
    status, got = answer(records, check["run"])
    assert status == check.get("exit", 0), got
    if "expect" in check:
        problem = match(check["expect"], got, check.get("unordered", False))
        assert problem is None, f"{check.get('note', '')}: {problem}\n{json.dumps(got, ensure_ascii=False, indent=1)[:3000]}"


def _commission_cases():
    for path in sorted(ACCEPTANCE.glob("*.json")):
        scenario = json.loads(path.read_text(encoding="utf-8"))
        records = [Recorded(i + 1, parse_event(e)) for i, e in enumerate(scenario.get("events", []))]
        for number, check in enumerate(scenario.get("checks", [])):
            if "run" in check and check["run"][0] == "commission":
                yield pytest.param(records, check, id=f"{path.stem}#{number}")


@pytest.mark.parametrize("records,check", acceptance_params(list(_commission_cases()), 2))
def test_acceptance_commission_reads_the_engines_money_facts(records, check):
    acceptance_folder()
    commission = pytest.importorskip("projections.commission")
    _, options = _options(check["run"][1:])
    state = replay(records)
    got = commission.statements(state.money, state.policies, state.tz, options["month"])
    problem = _runner().match(check["expect"], got, check.get("unordered", False))
    assert problem is None, problem
