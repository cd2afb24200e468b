"""Corrections and the two clocks (RULEBOOK §11, R-CO-1 … R-CO-5), through real stores and the CLI.

The two properties the rulebook asks for are checked against a second store built the plain way:
a void answers exactly as a store that never held the voided event, and `--as-recorded T`
answers exactly as a store that holds only what was recorded by T.
"""
from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from click.testing import CliRunner
from exports import event_lines

from cli import main
from commands.importing import import_file
from fixtures.generate import generate
from ledger.errors import LineError
from ledger.events import Recorded, parse_event
from ledger.store import open_store
from projections.catalog import void_refusal

SH = dt.timezone(dt.timedelta(hours=8))
TEAM = "xq"


def run(url: str, *args: str, code: int = 0):
    result = CliRunner().invoke(main, [*args, "--db", url])
    assert result.exit_code == code, (args, result.output, result.stderr)
    return result


def answer(url: str, *args: str):
    return json.loads(run(url, *args, "--json").stdout)


def at(day: int, hour: int, minute: int = 0) -> str:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH).isoformat()


def ev(kind: str, when: str, **keys) -> dict:
    return {"type": kind, "team": TEAM, "at": when, **keys}


def roster() -> list[dict]:
    return [ev("PolicyAdopted", at(1, 8), preset="campus"),
            *[ev("ConsultantJoined", at(1, 8), consultant=f"c{n}", name=f"顾问{n}", seat=n) for n in (1, 2, 3)]]


def imported(url: str, events: list[dict], **options) -> None:
    with open_store(url) as store:
        import_file(store, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), "t.jsonl", **options)


def head(url: str) -> int:
    with open_store(url) as store:
        return store.head(TEAM)


# -- R-CO-1 recording time ---------------------------------------------------------------------------


def test_R_CO_1_every_event_carries_its_recording_time_and_an_export_keeps_it_across_stores(store_url, new_store_url):
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    imported(store_url, roster())
    lines = event_lines(run(store_url, "export", "--team", TEAM).stdout)
    stamps = [dt.datetime.fromisoformat(json.loads(line)["recorded"]) for line in lines]
    assert stamps == sorted(stamps) and all(before <= s <= dt.datetime.now(dt.timezone.utc) for s in stamps)
    assert all(s.utcoffset() == dt.timedelta(hours=8) for s in stamps)  # the team's zone, to the second
    other = new_store_url()
    imported(other, [json.loads(line) for line in lines])
    assert event_lines(run(other, "export", "--team", TEAM).stdout) == lines
    assert answer(other, "event", "#2")["recorded"] == lines[1].split('"recorded":"')[1][:-2]


def test_R_CO_1_an_imported_recording_time_before_the_teams_latest_or_after_the_clock_is_refused(store_url):
    events = roster()
    for number, event in enumerate(events):
        event["recorded"] = at(1, 8, number)
    imported(store_url, events)
    with pytest.raises(LineError, match=r"t.jsonl:1: recorded: R-CO-1: expected a recording time at or after"):
        imported(store_url, [ev("PresenceChanged", at(1, 9), consultant="c1", presence="away", recorded=at(1, 8, 1))])
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat()
    with pytest.raises(LineError, match=r"recorded: R-CO-1: expected a recording time not after the importing clock"):
        imported(store_url, [ev("PresenceChanged", at(1, 9), consultant="c1", presence="away", recorded=future)])
    assert head(store_url) == 4  # nothing stored; the numbers stay consecutive
    imported(store_url, [ev("PresenceChanged", at(1, 9), consultant="c1", presence="away")])
    assert answer(store_url, "event", "#5")["seq"] == 5


@pytest.mark.slow
def test_R_CO_1_a_store_without_recording_times_upgrades_in_place_and_keeps_every_answer(store_url):
    url = store_url
    lines = [json.dumps(e, ensure_ascii=False) for e in generate(3, teams=1, days=6, start=dt.date(2026, 10, 5))]
    with open_store(url) as store:
        import_file(store, "\n".join(lines), "g.jsonl")
        team = store.teams()[0]
        leads = [json.loads(x)["lead"] for x in lines if '"LeadArrived"' in x][::25]
    questions = [("owner", lead) for lead in leads] + [("turns", "--from", "2026-10-05", "--to", "2026-10-11"),
                                                        ("commission", "--month", "2026-10"), ("followups",)]
    before = [answer(url, *q, "--team", team) for q in questions]
    with open_store(url) as store, store._cursor(commit=True) as cur:  # the tables before §11
        for statement in ("DROP INDEX ledger_policy_events", "DROP INDEX ledger_index_by_recorded",
                          "DROP TABLE ledger_voids", "ALTER TABLE ledger_index DROP COLUMN rec_us"):
            cur.execute(statement)
    assert [answer(url, *q, "--team", team) for q in questions] == before
    exported = [json.loads(x) for x in event_lines(run(url, "export", "--team", team).stdout)]
    stamps = [dt.datetime.fromisoformat(x["recorded"]) for x in exported]
    assert stamps == sorted(stamps)  # R-CO-1: in recording order
    # the latest `at` recorded so far: never before the event itself
    assert all(s >= dt.datetime.fromisoformat(x["at"]).replace(microsecond=0) for s, x in zip(stamps, exported))


# -- R-CO-2 / R-CO-3 voids ---------------------------------------------------------------------------


def _history(seed: int) -> list[dict]:
    return list(generate(seed, teams=1, days=8, start=dt.date(2026, 10, 5), leads_per_day=30))


def _questions(events: list[dict]) -> list[tuple[str, ...]]:
    leads = [e["lead"] for e in events if e["type"] == "LeadArrived"]
    team = events[0]["team"]
    end = "2026-10-13T23:00:00+08:00"
    return ([("owner", lead, "--at", end) for lead in leads]
            + [("turns", "--from", "2026-10-05", "--to", "2026-10-12"), ("commission", "--month", "2026-10"),
               ("followups", "--at", end), ("sanctions", "--at", end), ("disputes", "--at", end),
               ("next", "hotline", "--at", end)]), team


def _renumbered(value, move):
    """`value` with every recording number (`seq`, `rests_on`) passed through `move`."""
    if isinstance(value, dict):
        return {k: ([move(s) for s in v] if k == "rests_on" else move(v) if k == "seq" and isinstance(v, int)
                    else _renumbered(v, move)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_renumbered(v, move) for v in value)
    return value


def _answers(url: str, questions, team: str) -> list:
    out = []
    for q in questions:
        result = CliRunner().invoke(main, [*q, "--team", team, "--db", url, "--json"])
        out.append((result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else None))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [5, 9])
def test_R_CO_2_a_void_answers_every_query_as_if_the_voided_event_had_never_been_recorded(tmp_path, seed):
    events = _history(seed)
    records = [Recorded(n, parse_event(e)) for n, e in enumerate(events, 1)]
    rng = random.Random(seed)
    voidable = [r.seq for r in records if void_refusal(records, {}, r.seq)[0] is None]
    assert len(voidable) > 50
    questions, team = _questions(events)
    for target in rng.sample(voidable, 3):
        voided, plain = f"sqlite:///{tmp_path}/v{target}.db", f"sqlite:///{tmp_path}/p{target}.db"
        imported(voided, events)
        imported(voided, [{"type": "EntryVoided", "team": team, "at": "2026-11-20T10:00:00+08:00",
                           "event": f"#{target}", "reason": "录错了", "by": "主任"}])
        imported(plain, [e for n, e in enumerate(events, 1) if n != target])
        # recording numbers after the voided one are one higher in the store that holds it
        renumbered = _renumbered(_answers(voided, questions, team), lambda seq: seq - (seq > target))
        assert renumbered == _answers(plain, questions, team), events[target - 1]
        assert " 0 drift item(s)" in run(voided, "verify", "--team", team).stdout  # models == replay


def test_R_CO_3_a_refused_void_names_its_dependents_and_stores_nothing(store_url):
    imported(store_url, roster() + [
        ev("LeadArrived", at(2, 10), lead="L1", channel="walk_in", phone="13800000001"),
        ev("FollowUpLogged", at(2, 11), lead="L1", consultant="c1", direction="outbound"),
        ev("ContractSigned", at(3, 11), contract="K1", lead="L1", amount="1000.00"),
        ev("PaymentReceived", at(3, 12), contract="K1", amount="500.00")])
    result = run(store_url, "void", "#5", "--reason", "录错了", "--team", TEAM, code=2)
    assert ("R-CO-3: cannot void #5" in result.stderr and "#6 FollowUpLogged lead=L1 consultant=c1" in result.stderr
            and "#7 ContractSigned" in result.stderr and "#8 PaymentReceived" in result.stderr)
    assert "Traceback" not in result.output and head(store_url) == 8
    for ref, why in (("#1", "first PolicyAdopted"), ("#99", "unknown event")):
        assert why in run(store_url, "void", ref, "--reason", "x", "--team", TEAM, code=2).stderr
    run(store_url, "void", "#8", "--reason", "付款录重了", "--by", "主任", "--team", TEAM)
    assert "already voided" in run(store_url, "void", "#8", "--reason", "x", "--team", TEAM, code=2).stderr
    assert "a void cannot be voided" in run(store_url, "void", "#9", "--reason", "x", "--team", TEAM, code=2).stderr
    assert head(store_url) == 9
    with pytest.raises(LineError, match="R-CO-3: cannot void #5"):  # the same check on import
        imported(store_url, [ev("EntryVoided", at(4, 9), event="#5", reason="x")])
    assert head(store_url) == 9


def test_R_CO_2_a_voided_arrival_is_unknown_but_explained_and_its_lead_id_stays_taken(store_url):
    imported(store_url, roster() + [ev("LeadArrived", at(2, 10), lead="L1", channel="walk_in", phone="13800000001",
                                       id="a1"),
                                    ev("LeadArrived", at(2, 10, 5), lead="L2", channel="walk_in")])
    assert answer(store_url, "owner", "L2")["owner"] == "c2"
    run(store_url, "void", "a1", "--reason", "来电号码录错", "--by", "主任", "--team", TEAM)
    assert answer(store_url, "owner", "L2")["owner"] == "c1"  # re-decided as if L1 never came
    run(store_url, "owner", "L1", "--json", code=2)
    assert answer(store_url, "find", "--phone", "13800000001")["leads"] == []
    explained = answer(store_url, "explain", "L1")
    assert explained["owner"] is None
    assert explained["timeline"][0]["voided"] == {"by": "主任", "recorded": explained["timeline"][0]["voided"]["recorded"],
                                                  "reason": "来电号码录错", "seq": 7}
    shown = answer(store_url, "event", "#5")
    assert shown["voided"]["seq"] == 7 and shown["event"]["phone"] == "*******0001" and shown["id"] == "a1"
    assert "13800000001" not in run(store_url, "event", "#5").stdout
    result = run(store_url, "arrive", "walk_in", "--lead", "L1", "--team", TEAM, code=2)
    assert "belongs to a voided arrival" in result.stderr
    assert answer(store_url, "explain", "L2")["timeline"][0]["changed_by"][0]["seq"] == 7


def test_an_amend_voids_and_records_the_correction_in_one_append(store_url):
    imported(store_url, roster() + [ev("LeadArrived", at(2, 10), lead="L1", channel="walk_in")])
    out = answer(store_url, "arrive", "hotline", "--lead", "L1b", "--amend", "#5", "--amend-reason", "渠道录错",
                 "--at", at(2, 10), "--team", TEAM)
    assert [e["type"] for e in out["events"]] == ["EntryVoided", "LeadArrived"]
    assert answer(store_url, "event", "#5")["voided"]["reason"] == "渠道录错"
    assert answer(store_url, "owner", "L1b")["owner"] is not None


# -- R-CO-4 as recorded ------------------------------------------------------------------------------


@pytest.mark.slow
def test_R_CO_4_as_recorded_answers_as_a_store_holding_only_what_was_recorded_by_then(tmp_path):
    events = _history(4)
    rng = random.Random(4)
    base = dt.datetime(2026, 10, 14, 9, 0, tzinfo=SH)
    # recorded in file order, an hour apart; a few events moved to the end: recorded late (R-T-5)
    late = set(rng.sample(range(40, len(events)), 12))
    order = [e for n, e in enumerate(events) if n not in late] + [events[n] for n in sorted(late)]
    from projections.catalog import Catalog

    catalog, kept = Catalog(), []
    for e in order:  # keep the file importable in this order
        if not catalog.check(parse_event(e)):
            kept.append(e)
    for n, e in enumerate(kept):
        e["recorded"] = (base + dt.timedelta(minutes=10 * n)).isoformat()
    records = [Recorded(n, parse_event(e)) for n, e in enumerate(kept, 1)]
    target = next(r.seq for r in records[60:] if void_refusal(records, {}, r.seq)[0] is None)
    kept.append({"type": "EntryVoided", "team": kept[0]["team"], "at": base.isoformat(), "event": f"#{target}",
                 "reason": "x", "recorded": (base + dt.timedelta(minutes=10 * len(kept))).isoformat()})
    full = f"sqlite:///{tmp_path}/full.db"
    imported(full, kept)
    questions, team = _questions(events)
    for cut in sorted(rng.sample(range(50, len(kept)), 3)) + [len(kept) - 1]:
        moment = dt.datetime.fromisoformat(kept[cut]["recorded"])
        partial = f"sqlite:///{tmp_path}/p{cut}.db"
        imported(partial, kept[:cut + 1])
        shown = moment.isoformat()
        ours = [(code, a) for code, a in _answers_as_recorded(full, questions, team, shown)]
        assert ours == _answers(partial, questions, team), cut


def _answers_as_recorded(url: str, questions, team: str, moment: str) -> list:
    return _answers(url, [(*q, "--as-recorded", moment) for q in questions], team)


def test_R_CO_4_explain_marks_only_decisions_a_later_recording_changed(store_url):
    imported(store_url, [{**e, "recorded": at(1, 8)} for e in roster()] + [
        ev("LeadArrived", at(2, 10), lead="L1", channel="walk_in", recorded=at(2, 10)),
        ev("LeadArrived", at(2, 9), lead="L0", channel="walk_in", recorded=at(2, 12)),  # late
        ev("LeadArrived", at(2, 13), lead="L2", channel="walk_in", recorded=at(2, 13))])
    l1 = answer(store_url, "explain", "L1")["timeline"][0]
    assert l1["changed_by"] == [{"seq": 6, "at": at(2, 9), "recorded": at(2, 12)}]
    l2 = answer(store_url, "explain", "L2")["timeline"][0]
    assert "changed_by" not in l2  # decided after #6 was recorded: not changed by it
    then = answer(store_url, "owner", "L1", "--as-recorded", at(2, 11))
    assert then["owner"] != answer(store_url, "owner", "L1")["owner"]
    run(store_url, "owner", "L0", "--as-recorded", at(2, 11), "--json", code=2)


# -- R-CO-5 refusals ---------------------------------------------------------------------------------


def test_R_CO_5_a_time_more_than_five_minutes_ahead_is_refused_unless_allowed(store_url):
    imported(store_url, roster())
    ahead = (dt.datetime.now(SH) + dt.timedelta(minutes=10)).replace(microsecond=0).isoformat()
    result = run(store_url, "arrive", "walk_in", "--at", ahead, "--team", TEAM, code=2)
    assert "R-CO-5" in result.stderr and head(store_url) == 4
    with pytest.raises(LineError, match="at: R-CO-5"):
        imported(store_url, [ev("LeadArrived", ahead, lead="F1", channel="walk_in")])
    run(store_url, "arrive", "walk_in", "--at", ahead, "--team", TEAM, "--allow-future")
    imported(store_url, [ev("LeadArrived", ahead, lead="F1", channel="walk_in")], allow_future=True)
    soon = (dt.datetime.now(SH) + dt.timedelta(minutes=3)).isoformat()
    imported(store_url, [ev("LeadArrived", soon, lead="F2", channel="walk_in")])  # within 5 minutes
    assert head(store_url) == 7


@pytest.mark.parametrize("phone", ["139-abc", "123", "１３９００００００００"])
def test_R_CO_5_a_malformed_or_short_phone_is_refused_everywhere(store_url, phone):
    imported(store_url, roster())
    assert "phone" in run(store_url, "arrive", "walk_in", "--phone", phone, "--team", TEAM, code=2).stderr
    with pytest.raises(LineError, match="phone"):
        imported(store_url, [ev("LeadArrived", at(2, 10), lead="L1", channel="walk_in", phone=phone)])
    assert "--phone" in run(store_url, "find", "--phone", phone, "--json", code=2).stderr
    assert head(store_url) == 4


def test_find_answers_the_customer_of_a_number_with_every_lead_in_arrival_order(store_url):
    imported(store_url, roster() + [
        ev("LeadArrived", at(2, 10), lead="L1", channel="walk_in", phone="138 0000 0001"),
        ev("LeadArrived", at(3, 10), lead="L2", channel="hotline", phone="13800000001")])
    found = answer(store_url, "find", "--phone", "+86 138-0000-0001")
    assert found == {"phone": "*******0001", "leads": ["L1", "L2"], "owner": found["owner"], "rule": found["rule"],
                     "disputed": False}
    assert found["owner"] == answer(store_url, "owner", "L2")["owner"]
    assert answer(store_url, "find", "--phone", "13800000001", "--at", at(2, 12))["leads"] == ["L1"]
    assert answer(store_url, "find", "--phone", "13900000009") == {
        "phone": "*******0009", "leads": [], "owner": None, "rule": None, "disputed": False}


def test_R_CO_2_a_voided_entry_typed_as_2030_no_longer_sets_the_boards_moment(store_url):
    imported(store_url, roster())
    run(store_url, "arrive", "walk_in", "--lead", "X1", "--at", "2030-01-01T10:00:00+08:00", "--allow-future",
        "--team", TEAM)
    assert answer(store_url, "board")["at"] == "2030-01-01T10:00:00+08:00"
    run(store_url, "void", "#5", "--reason", "年份录错", "--by", "主任", "--team", TEAM)
    assert answer(store_url, "board")["at"] < "2027"  # now again, not 2030
    assert answer(store_url, "turns", "--from", "2030-01-01", "--to", "2030-01-01") == {"rows": []}


def test_R_CO_2_a_voided_link_re_decides_the_leads_it_had_merged_in_the_models_too(store_url, new_store_url):
    base = roster() + [ev("LeadArrived", at(2, 10), lead="L1", channel="walk_in", phone="13800000001"),
                       ev("LeadArrived", at(3, 10), lead="L2", channel="walk_in", phone="13900000002")]
    imported(store_url, base)
    plain = new_store_url()
    imported(plain, base)
    run(store_url, "link", "L1", "L2", "--at", at(4, 10), "--team", TEAM)
    assert answer(store_url, "owner", "L2")["owner"] == answer(store_url, "owner", "L1")["owner"]
    run(store_url, "void", "#7", "--reason", "不是同一位家长", "--team", TEAM)
    questions = [("owner", "L1"), ("owner", "L2"), ("owner", "L2", "--at", at(3, 12)),
                 ("turns", "--from", "2026-11-01", "--to", "2026-11-05")]
    assert [answer(store_url, *q, "--team", TEAM) for q in questions] == \
        [answer(plain, *q, "--team", TEAM) for q in questions]
    assert " 0 drift item(s)" in run(store_url, "verify", "--team", TEAM).stdout
