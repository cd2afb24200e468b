"""What-if (RULEBOOK R-WI-1) and fairness, through real stores and the CLI.

The property the issue asks for is checked against a second store built the plain way: the
alternative replay of a what-if from `--from` answers exactly as a store whose history holds the
alternative's `PolicyAdopted` at `--from` 00:00 instead of every adoption from then on.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random

import pytest
from click.testing import CliRunner
from test_input_fuzz import tables_digest

from cli import main
from commands import whatif
from commands.importing import import_file
from fixtures.generate import generate
from ledger import events as E
from ledger.store import open_store
from projections import whatif as W

SH = dt.timezone(dt.timedelta(hours=8))
START = dt.date(2026, 9, 1)
DAYS = 24


def run(url: str, *args: str, code: int = 0):
    result = CliRunner().invoke(main, [*args, "--db", url])
    assert result.exit_code == code, (args, result.output, result.stderr)
    return result


def answer(url: str, *args: str) -> dict:
    return json.loads(run(url, *args, "--json").stdout)


def history(seed: int, *, mid_adoption: bool = True) -> list[dict]:
    """A generated month of one campus, with (optionally) a second adoption in its middle that
    changes the day shift's end, so that a what-if has an adoption to replace."""
    events = list(generate(seed, 1, DAYS, START, leads_per_day=30))
    if mid_adoption:
        rng = random.Random(seed)
        day = START + dt.timedelta(days=rng.randrange(8, 16))
        moment = dt.datetime.combine(day, dt.time(7, 30), tzinfo=SH).isoformat()
        index = next(i for i, e in enumerate(events) if e["at"] > moment)
        events.insert(index, {"type": "PolicyAdopted", "team": events[0]["team"], "at": moment, "preset": "campus",
                              "overrides": {"day_end": "17:30"}, "id": "mid-adoption"})
    return events


def imported(url: str, events: list[dict]) -> str:
    with open_store(url) as store:
        import_file(store, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), "t.jsonl")
    return events[0]["team"]


def outcome(url: str, team: str, date_from: dt.date, date_to: dt.date, *, preset=None, overrides=(), lead=None):
    with open_store(url) as store:
        return whatif.run(store, team, date_from, date_to, preset=preset, overrides=overrides, lead=lead)


def comparable(side: W.Side) -> dict:
    """What two stores with different recording numbers must agree on: the turns rows, every
    lead's owner and rule, each consultant's commission and every statement line without the
    seqs it rests on."""
    def lines(answer: dict) -> list:
        return [(s["consultant"], s["total"], [{k: v for k, v in line.items() if k != "rests_on"} for line in s["lines"]])
                for s in answer["statements"]]

    return {"rows": side.rows, "earned": side.earned(),
            "lines": {month: lines(a) for month, a in side.commission.items()}}


def owners_at(url: str, team: str, date_to: dt.date) -> dict:
    """Every lead's (owner, rule) at the end of `date_to`, folded the plain way."""
    from commands.history import state_at
    from projections import queries

    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(0), tzinfo=SH) - dt.timedelta(microseconds=1)
    with open_store(url) as store:
        state = state_at(store, team, end)
        return {lid: (queries.owner(state, lid)["owner"], queries.owner(state, lid)["rule"])
                for lid in state.leads if state.leads[lid].at <= end}


@pytest.fixture(scope="module")
def month_store(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('whatif') / 'month.db'}"
    return url, imported(url, history(11))


# -- R-WI-1 --------------------------------------------------------------------------------------


def test_an_override_that_changes_nothing_gives_equal_pairs_and_no_changed_owner(month_store):
    url, team = month_store
    # after the mid-month adoption of day_end 17:30 (`history`): the override is what is in force
    got = answer(url, "whatif", "--team", team, "--from", "2026-09-17", "--to", "2026-09-24",
                 "--override", "day_end=17:30")
    assert got["consultants"] and got["owners_changed"] == []
    for row in got["consultants"]:
        for key in ("leads", "turns", "commission"):
            assert row[key]["actual"] == row[key]["alternative"], row


def test_the_adopted_policy_as_the_alternative_replays_exactly_as_adopted(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    team = imported(url, history(5, mid_adoption=False))
    done = outcome(url, team, dt.date(2026, 9, 3), dt.date(2026, 9, 17), preset="campus")
    assert comparable(done.actual) == comparable(done.alternative)
    assert json.dumps(W.compare(done.actual, done.alternative)["owners_changed"]) == "[]"


def test_the_actual_side_answers_as_turns_commission_and_owner_do(month_store):
    url, team = month_store
    got = answer(url, "whatif", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20",
                 "--override", "day_end=16:00")
    turns = answer(url, "turns", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20")["rows"]
    earned = {s["consultant"]: s["total"]
              for s in answer(url, "commission", "--team", team, "--month", "2026-09")["statements"]}
    for row in got["consultants"]:
        mine = [r for r in turns if r["consultant"] == row["consultant"]]
        assert row["turns"]["actual"] == sum(r["turns"] for r in mine)
        assert row["leads"]["actual"] == sum(r["leads"] for r in mine)
        assert row["commission"]["actual"] == earned.get(row["consultant"], "0.00")
    assert got["owners_changed"], "a shorter day moves some leads"
    for item in got["owners_changed"][:5]:
        at_end = answer(url, "owner", item["lead"], "--team", team, "--at", "2026-09-20T23:59:59+08:00")
        assert (at_end["owner"], at_end["rule"]) == (item["actual"], item["rule"]["actual"])


@pytest.mark.slow
@pytest.mark.parametrize("seed, alternative", [
    (21, {"overrides": ("day_end=16:30",)}),
    (22, {"preset": "realty"}),
    (23, {"overrides": ("bonus_channels=[]", "tracking_days=10")}),
    (24, {"preset": "campus", "overrides": ("duplicate_default=new_wins",)}),
])
def test_the_alternative_replays_as_a_store_that_adopted_it_at_the_start_of_from(tmp_path, seed, alternative):
    events = history(seed)
    url = f"sqlite:///{tmp_path / 'actual.db'}"
    team = imported(url, events)
    rng = random.Random(seed)
    date_from = START + dt.timedelta(days=rng.randrange(2, 14))
    date_to = date_from + dt.timedelta(days=rng.randrange(3, 9))
    done = outcome(url, team, date_from, date_to, **alternative)

    start = dt.datetime.combine(date_from, dt.time(0), tzinfo=SH)
    assert not any(E.parse_event(e).at == start for e in events), "an event at 00:00 would make the order matter"
    adoption = {**done.adoption.to_json_dict(), "id": "alternative"}
    plain = [e for e in events if not (e["type"] == "PolicyAdopted" and E.parse_event(e).at >= start)] + [adoption]
    other = f"sqlite:///{tmp_path / 'adopted.db'}"
    imported(other, plain)
    again = outcome(other, team, date_from, date_to, overrides=("tracking_days=30",) if "preset" not in alternative
                    else (), preset=alternative.get("preset"))
    assert comparable(done.alternative) == comparable(again.actual)
    # every lead: the owner in the adopting store is the actual one unless the what-if says it changes
    moved = W.compare(done.actual, done.alternative)["owners_changed"]
    assert moved, "the alternative moves some customers"
    actual, adopted = owners_at(url, team, date_to), owners_at(other, team, date_to)
    changed = {c["lead"]: c["alternative"] for c in moved}
    assert {lid: changed.get(lid, actual[lid][0]) for lid in actual} == {lid: o for lid, (o, _) in adopted.items()}
    assert all(adopted[c["lead"]][1] == c["rule"]["alternative"] for c in moved)


@pytest.mark.slow
def test_the_history_is_replayed_with_its_voids_in_both_replays(tmp_path):
    events = history(31, mid_adoption=False)
    url = f"sqlite:///{tmp_path / 'voids.db'}"
    team = imported(url, events)
    lead = next(e["lead"] for e in events if e["type"] == "LeadArrived" and e["at"] > "2026-09-10")
    done = outcome(url, team, dt.date(2026, 9, 8), dt.date(2026, 9, 20), overrides=("day_end=16:00",))
    assert lead in owners_at(url, team, dt.date(2026, 9, 20))
    dependents = [e for e in events if e.get("lead") == lead and e["type"] != "LeadArrived"]
    for event in reversed(dependents):  # R-CO-3: its dependents first
        run(url, "void", event["id"], "--team", team, "--reason", "entered in error")
    run(url, "void", next(e["id"] for e in events if e.get("lead") == lead and e["type"] == "LeadArrived"),
        "--team", team, "--reason", "entered in error")
    again = outcome(url, team, dt.date(2026, 9, 8), dt.date(2026, 9, 20), overrides=("day_end=16:00",))
    assert lead not in owners_at(url, team, dt.date(2026, 9, 20))
    assert lead not in again.actual.owners and lead not in again.alternative.owners
    assert again.actual.rows != done.actual.rows or again.actual.commission != done.actual.commission


@pytest.mark.slow
def test_a_what_if_stores_nothing(store_url):
    team = imported(store_url, history(41))
    before = tables_digest(store_url)
    run(store_url, "whatif", "--team", team, "--from", "2026-09-04", "--to", "2026-09-22", "--preset", "realty")
    run(store_url, "whatif", "--team", team, "--from", "2026-09-01", "--to", "2026-09-24", "--override",
        "day_end=16:00", "--lead", "L000100", "--json")
    run(store_url, "fairness", "--team", team, "--from", "2026-09-04", "--to", "2026-09-22", "--override",
        "bonus_channels=[]")
    assert tables_digest(store_url) == before


def test_from_before_the_first_adoption_needs_a_preset(month_store):
    url, team = month_store
    refused = run(url, "whatif", "--team", team, "--from", "2026-08-20", "--to", "2026-09-10",
                  "--override", "day_end=16:00", code=2)
    assert "adopted none" in refused.stderr and "--preset" in refused.stderr
    got = answer(url, "whatif", "--team", team, "--from", "2026-08-20", "--to", "2026-09-10", "--preset", "campus")
    assert got["owners_changed"] == []  # the same preset from before the start: the same history


@pytest.mark.parametrize("args, said", [
    (["--from", "2026-09-10", "--to", "2026-09-05", "--preset", "realty"], "before --from"),
    (["--from", "2026-09-10", "--to", "2026-09-12"], "--preset P or at least one --override"),
    (["--from", "2026-09-10", "--to", "2026-09-12", "--override", "no_such=1"], "unknown policy parameter"),
    (["--from", "2026-09-10", "--to", "2026-09-12", "--override", "day_end=25:00"], "day_end"),
    (["--from", "2026-9-10", "--to", "2026-09-12", "--preset", "realty"], "--from"),
])
def test_bad_what_if_options_are_refused_with_what_was_expected(month_store, args, said):
    url, team = month_store
    refused = run(url, "whatif", "--team", team, *args, code=2)
    assert said in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.slow
def test_one_lead_shows_both_timelines_and_its_changed_owner(month_store):
    url, team = month_store
    summary = answer(url, "whatif", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20",
                     "--override", "day_end=16:00")
    moved = summary["owners_changed"][0]
    got = answer(url, "whatif", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20",
                 "--override", "day_end=16:00", "--lead", moved["lead"])
    assert got["actual"]["owner"] == moved["actual"] and got["alternative"]["owner"] == moved["alternative"]
    assert got["actual"]["timeline"] and got["alternative"]["timeline"]
    said = {lang: run(url, "--lang", lang, "whatif", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20",
                      "--override", "day_end=16:00", "--lead", moved["lead"]).stdout for lang in ("zh", "en")}
    assert "实际" in said["zh"] and "假设" in said["zh"] and "actual" not in said["zh"]
    assert "actual" in said["en"] and "alternative" in said["en"] and "实际" not in said["en"]


def test_the_human_table_reads_in_the_output_language_with_each_difference(month_store):
    url, team = month_store
    said = {lang: run(url, "--lang", lang, "whatif", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20",
                      "--override", "day_end=16:00").stdout for lang in ("zh", "en")}
    assert "顾问" in said["zh"] and "佣金" in said["zh"] and "→" in said["zh"] and "归属改变" in said["zh"]
    assert "consultant" not in said["zh"] and "commission" not in said["zh"].replace("commission_rate", "")
    assert "consultant" in said["en"] and "Owners that change" in said["en"] and "归属" not in said["en"]


# -- fairness ------------------------------------------------------------------------------------


def test_gini_is_zero_for_equal_counts_and_grows_as_one_consultant_takes_more():
    side = W.Side(rows=[{"consultant": c, "channel": "hotline", "turns": t, "leads": t} for c, t in
                        (("a", 5), ("b", 5), ("c", 5))],
                  owners={}, seats={}, names={}, eligible={"hotline": ["a", "b", "c", "d"]})
    (channel,) = W.fairness(side)
    assert channel["eligible"] == 4 and channel["equal_share"] == 0.25
    assert [c["consultant"] for c in channel["consultants"]] == ["a", "b", "c", "d"]
    assert channel["spread"]["turns"] == pytest.approx(1 / 3, abs=1e-4)
    assert channel["gini"]["turns"] == 0.25  # one of four had nothing
    equal = dataclasses.replace(side, eligible={"hotline": ["a", "b", "c"]})
    assert W.fairness(equal)[0]["gini"] == {"turns": 0.0, "leads": 0.0}
    hog = dataclasses.replace(side, rows=[{"consultant": "a", "channel": "hotline", "turns": 9, "leads": 9}])
    assert W.fairness(hog)[0]["gini"]["turns"] == 0.75  # (n-1)/n: one takes all


def test_fairness_counts_as_turns_does_and_compares_with_the_alternative(month_store):
    url, team = month_store
    plain = answer(url, "fairness", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20")
    assert plain["alternative"] is None
    turns = answer(url, "turns", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20")["rows"]
    for channel in plain["actual"]:
        mine = {r["consultant"]: r["turns"] for r in turns if r["channel"] == channel["channel"]}
        assert {c["consultant"]: c["turns"] for c in channel["consultants"] if c["turns"]} == \
            {k: v for k, v in mine.items() if v}
        assert sum(c["turn_share"] for c in channel["consultants"]) == pytest.approx(1, abs=1e-3) or not any(mine.values())
    both = answer(url, "fairness", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20",
                  "--override", "bonus_channels=[]")
    assert both["actual"] == plain["actual"] and both["alternative"]
    assert "基尼系数" in run(url, "--lang", "zh", "fairness", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20").stdout
    assert "Gini" in run(url, "--lang", "en", "fairness", "--team", team, "--from", "2026-09-05", "--to", "2026-09-20").stdout


def test_alternative_history_replaces_every_adoption_from_the_start_on():
    def adopted(seq, day):
        return E.Recorded(seq, E.parse_event({"type": "PolicyAdopted", "team": "t", "preset": "campus",
                                              "at": f"2026-09-{day:02d}T08:00:00+08:00"}))

    start = dt.datetime(2026, 9, 10, tzinfo=SH)
    new = E.Recorded(99, E.parse_event({"type": "PolicyAdopted", "team": "t", "preset": "realty",
                                        "at": start.isoformat()}))
    got = W.alternative_history([adopted(1, 1), adopted(2, 10), adopted(3, 20)], start, new)
    assert [r.seq for r in got] == [1, 99]
