"""Five readings the rulebook settled (R-OW-1b, R-FU-5, R-CM-4, §10 time zones, R-CM-3): the pure
fold, and the CLI's --json answer through a real SQLite store, read from the models and folded
(both print the same bytes)."""
from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from rules_kit import TEAM, Story, T

from cli import main
from commands import read_models
from commands.importing import import_file
from ledger import models_store as M
from ledger.store import open_store
from projections import queries
from projections.calendar import date_start, month_containing
from projections.commission import statements

PHONE = "13911110001"
REFERRER = "13922220002"
SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(T(text))


def store_of(tmp_path, story: Story) -> str:
    """A SQLite store holding the story's events (its read models built by the import)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_store(url) as store:
        import_file(store, "\n".join(json.dumps(e, ensure_ascii=False) for e in story.events), allow_future=True)
        assert read_models.current(store, TEAM) is not None
    return url


def ask_both_ways(url: str, monkeypatch, *commands: list[str]) -> list[dict]:
    """Each command's --json answer from the read models, checked byte for byte against the
    answer folded from the events once the models are gone."""
    runner = CliRunner()
    with_models = [runner.invoke(main, [*c, "--team", TEAM, "--db", url, "--json"]) for c in commands]
    with open_store(url) as store:
        M.clear_generation(store, TEAM, M.live(store, TEAM).gen)
        with store._cursor(commit=True) as cur:
            cur.execute("DELETE FROM ledger_model_gens")
    monkeypatch.setattr(read_models, "AUTO_BUILD_LIMIT", 0)  # no model built again: every query folds
    folded = [runner.invoke(main, [*c, "--team", TEAM, "--db", url, "--json"]) for c in commands]
    for command, a, b in zip(commands, with_models, folded):
        assert a.exit_code == 0, (command, a.output)
        assert (a.exit_code, a.stdout) == (b.exit_code, b.stdout), command
    return [json.loads(a.stdout) for a in with_models]


def ask(url: str, *command: str) -> dict:
    result = CliRunner().invoke(main, [*command, "--team", TEAM, "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def turn_rows(answer: dict) -> dict:
    return {(r["consultant"], r["channel"]): (r["turns"], r["leads"]) for r in answer["rows"]}


def totals(answer: dict) -> dict:
    return {s["consultant"]: s["total"] for s in answer["statements"]}


# ------------------------------------------------------------------ 1. R-OW-1b only for an untracked customer


def tracked_referral() -> Story:
    """c1 tracks PHONE (a walk-in at 10:00); the referring customer REFERRER belongs to c2; then
    PHONE comes back as a customer referral naming REFERRER."""
    s = Story("campus")
    s.lead("L1", "11-02 10:00", phone=PHONE).lead("X1", "11-02 10:10", phone=REFERRER)
    s.lead("R1", "11-02 11:00", "customer_referral", phone=PHONE, referrer_phone=REFERRER)
    return s


def test_R_OW_1b_a_customer_referral_of_a_tracked_customer_is_an_R_OW_3_duplicate_not_the_referrers_owners():
    s = tracked_referral()
    assert s.owners("L1", "X1", "R1") == ["c1", "c2", "c1"]
    assert s.rules("R1") == ["R-OW-3"]
    # first keeps (campus): the walk_in rotation's turn holder passes normally, counted under customer_referral
    assert s.turns("11-02") == {("c1", "walk_in"): (1, 1), ("c2", "walk_in"): (1, 1), ("c3", "customer_referral"): (1, 0)}


def test_R_OW_1b_still_gives_an_untracked_customers_referral_to_the_referrers_owner():
    """R-ID-3: 30 days and more without a touch, nobody tracks PHONE any more."""
    s = Story("campus")
    s.lead("L1", "11-02 10:00", phone=PHONE).lead("X1", "11-02 10:10", phone=REFERRER)
    s.lead("R1", "12-03 11:00", "customer_referral", phone=PHONE, referrer_phone=REFERRER)
    assert s.owners("R1") == ["c2"] and s.rules("R1") == ["R-OW-1b"]
    assert s.turns("12-03") == {("c2", "customer_referral"): (0, 1)}  # no turn consumed


def test_R_OW_1b_a_referrer_whose_owner_left_gives_nothing_and_the_walk_in_rotation_counts_under_customer_referral():
    s = Story("campus")
    s.lead("X1", "11-02 10:00", phone=REFERRER)  # c1's customer
    s.add("ConsultantLeft", "11-02 10:30", consultant="c1")
    s.lead("R1", "11-02 11:00", "customer_referral", phone=PHONE, referrer_phone=REFERRER)
    s.lead("W1", "11-02 11:30", "walk_in")
    assert s.owners("R1", "W1") == ["c2", "c3"]  # the walk_in queue moved on past c2
    assert s.rules("R1") == ["R-RT-2"]
    turns = s.turns("11-02")
    assert turns[("c2", "customer_referral")] == (1, 1) and ("c2", "walk_in") not in turns


def test_R_OW_1b_the_cli_answers_a_tracked_customers_referral_as_a_duplicate(tmp_path, monkeypatch):
    url = store_of(tmp_path, tracked_referral())
    owner, turns = ask_both_ways(url, monkeypatch, ["owner", "R1", "--at", T("11-02 12:00")],
                                 ["turns", "--from", "2026-11-02", "--to", "2026-11-02"])
    assert (owner["owner"], owner["rule"]) == ("c1", "R-OW-3")
    assert turn_rows(turns)[("c3", "customer_referral")] == (1, 0)


# ------------------------------------------------------------------ 2. R-FU-5 cadence


def overdue(story: Story, when: str) -> list[tuple]:
    return [(r["lead"], r["owner"], r["due"], r["rule"]) for r in queries.followups(story.state(when))["overdue"]]


def test_R_FU_5_a_graded_customer_is_overdue_from_24_00_of_the_day_cadence_days_after_the_owners_last_follow_up():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00").followup("L1", "11-02 11:00", "c1")
    s.add("GradeConfirmed", "11-02 12:00", lead="L1", grade="B")
    assert overdue(s, "11-09 23:59:59") == []
    assert overdue(s, "11-10 00:00") == [("L1", "c1", "2026-11-10T00:00:00+08:00", "R-FU-5")]  # 11-02 + 7 days
    s.followup("L1", "11-04 15:00", "c1")  # the owner's follow-up since the confirmation
    assert overdue(s, "11-11 23:59:59") == []
    assert overdue(s, "11-12 00:00") == [("L1", "c1", "2026-11-12T00:00:00+08:00", "R-FU-5")]  # 11-04 + 7 days


def test_R_FU_5_a_follow_up_by_anyone_but_the_owner_does_not_count():
    s = Story("fitness")
    s.lead("L1", "11-02 10:00").followup("L1", "11-02 11:00", "c1")
    s.add("GradeConfirmed", "11-02 12:00", lead="L1", grade="A")
    s.followup("L1", "11-03 10:00", "c2")  # not the owner
    assert overdue(s, "11-04 00:00") == [("L1", "c1", "2026-11-04T00:00:00+08:00", "R-FU-5")]


def test_R_FU_5_counts_the_current_owners_follow_ups_not_a_previous_owners():
    """c1 followed the C-graded customer up on 11-20, then a ruling gave it to c2 on 11-25: c2 has
    logged nothing, so the cadence runs from the confirmation (11-02 + 30 days)."""
    s = Story("fitness")
    s.lead("L1", "11-02 10:00").followup("L1", "11-02 11:00", "c1")
    s.add("GradeConfirmed", "11-02 12:00", lead="L1", grade="C")
    s.followup("L1", "11-20 10:00", "c1")
    s.add("RulingMade", "11-25 10:00", lead="L1", owner="c2", reason="主任")
    assert overdue(s, "12-02 23:59:59") == []
    assert overdue(s, "12-03 00:00") == [("L1", "c2", "2026-12-03T00:00:00+08:00", "R-FU-5")]
    s.followup("L1", "11-26 09:00", "c2")
    assert overdue(s, "12-26 23:59:59") == []
    assert overdue(s, "12-27 00:00") == [("L1", "c2", "2026-12-27T00:00:00+08:00", "R-FU-5")]


def test_R_FU_5_the_cli_lists_the_overdue_graded_customer(tmp_path):
    s = Story("fitness")
    s.lead("L1", "11-02 10:00").followup("L1", "11-02 11:00", "c1")
    s.add("GradeConfirmed", "11-02 12:00", lead="L1", grade="A").followup("L1", "11-03 09:00", "c1")
    url = store_of(tmp_path, s)
    assert ask(url, "followups", "--at", T("11-04 23:59:59"))["overdue"] == []
    row, = ask(url, "followups", "--at", T("11-05 00:00"))["overdue"]
    assert (row["lead"], row["owner"], row["due"], row["rule"]) == ("L1", "c1", "2026-11-05T00:00:00+08:00", "R-FU-5")


# ------------------------------------------------------------------ 3. R-CM-4 customer rewards in commission --json


def referral_reward() -> Story:
    s = Story("fitness", at="09-01 09:00")
    s.lead("X1", "09-01 10:00", phone=REFERRER)
    s.lead("R1", "09-02 10:00", "customer_referral", phone=PHONE, referrer_phone=REFERRER)
    s.contract("K1", "R1", "09-03 10:00", amount="8000.00", kind="new")
    return s


def test_R_CM_4_the_referring_customers_reward_is_due_two_months_after_the_referred_contract():
    s = referral_reward()
    state = s.state("11-30 23:59")
    november = statements(state.money, state.policies, state.tz, "2026-11")
    reward, = november["customer_rewards"]
    assert (reward["customer"], reward["total"]) == ("*******0002", "300.00")
    assert [(l["rule"], l["lead"], l["referred_contract"]) for l in reward["lines"]] == [("R-CM-4", "R1", "K1")]
    assert statements(state.money, state.policies, state.tz, "2026-10")["customer_rewards"] == []


def test_R_CM_4_commission_json_answers_customer_rewards_masked(tmp_path, monkeypatch):
    url = store_of(tmp_path, referral_reward())
    october, november = ask_both_ways(url, monkeypatch, ["commission", "--month", "2026-10"],
                                      ["commission", "--month", "2026-11"])
    assert october["customer_rewards"] == []
    reward, = november["customer_rewards"]
    assert set(reward) == {"customer", "total", "lines"}
    assert (reward["customer"], reward["total"]) == ("*******0002", "300.00")
    assert [(l["rule"], l["amount"], l["contract"], l["lead"]) for l in reward["lines"]] == [("R-CM-4", "300.00", None, "R1")]
    assert REFERRER not in json.dumps(november) and "h:" not in json.dumps(november)  # R-ID-2


# ------------------------------------------------------------------ 4. §10 a later adoption's time zone


def test_s10_a_date_begins_in_the_zone_in_force_then():
    shanghai_then_berlin = [(at("11-01 09:00"), SHANGHAI), (at("11-10 12:00"), BERLIN)]
    assert date_start(shanghai_then_berlin, dt.date(2026, 11, 5)) == at("11-05 00:00")
    assert date_start(shanghai_then_berlin, dt.date(2026, 11, 11)) == dt.datetime(2026, 11, 11, tzinfo=BERLIN)
    assert month_containing(shanghai_then_berlin, dt.datetime(2026, 11, 30, 20, tzinfo=BERLIN)) == (2026, 11)
    # a zone ahead: the new zone is on 11-16 already at its adoption (Sunday 23:30 in Shanghai)
    ahead = [(at("11-01 09:00"), SHANGHAI), (at("11-15 23:30"), ZoneInfo("Asia/Tokyo"))]
    assert date_start(ahead, dt.date(2026, 11, 16)) == at("11-15 23:30")
    # a zone behind: the new zone goes back to 11-15, so 11-16 begins at its own midnight
    behind = [(at("11-01 09:00"), SHANGHAI), (at("11-16 05:00"), ZoneInfo("America/New_York"))]
    assert date_start(behind, dt.date(2026, 11, 16)) == dt.datetime(2026, 11, 16, tzinfo=ZoneInfo("America/New_York"))
    assert [date_start(behind, dt.date(2026, 11, d)) <= date_start(behind, dt.date(2026, 11, d + 1))
            for d in range(10, 20)] == [True] * 10


def rezoned() -> Story:
    """Shanghai, then Berlin from 11-10 12:00 (Shanghai time)."""
    s = Story("campus")
    s.add("PolicyAdopted", "11-10 12:00", preset="campus", timezone="Europe/Berlin")
    s.lead("W1", "2026-11-10T17:30:00+01:00", "walk_in")  # 11-11 00:30 in Shanghai: 11-10 in Berlin
    s.lead("W2", "2026-11-11T10:30:00+01:00", "walk_in")
    s.contract("K1", "W1", "2026-11-20T10:00:00+01:00", amount="10000.00")
    s.pay("K1", "2026-11-30T20:00:00+01:00", "1000.00")  # 12-01 03:00 in Shanghai: November in Berlin
    s.pay("K1", "2026-12-01T00:30:00+01:00", "500.00")
    return s


def test_s10_counts_and_statements_follow_the_zone_in_force_after_a_later_adoption():
    s = rezoned()
    state = s.state("12-31 12:00")
    assert queries.turns(state, dt.date(2026, 11, 10), dt.date(2026, 11, 10))["rows"] == [
        {"consultant": "c1", "channel": "walk_in", "turns": 1, "leads": 1}]
    assert totals(statements(state.money, state.policies, state.tz, "2026-11")) == {"c1": "30.00"}
    assert totals(statements(state.money, state.policies, state.tz, "2026-12")) == {"c1": "15.00"}


def test_s10_turns_and_commission_read_dates_and_months_in_the_zone_in_force_then(tmp_path, monkeypatch):
    url = store_of(tmp_path, rezoned())
    day, next_day, november, december = ask_both_ways(
        url, monkeypatch, ["turns", "--from", "2026-11-10", "--to", "2026-11-10"],
        ["turns", "--from", "2026-11-11", "--to", "2026-11-11"],
        ["commission", "--month", "2026-11"], ["commission", "--month", "2026-12"])
    assert turn_rows(day) == {("c1", "walk_in"): (1, 1)}  # W1 at 17:30 Berlin time, on 11-10 there
    assert turn_rows(next_day) == {("c2", "walk_in"): (1, 1)}
    assert totals(november) == {"c1": "30.00"} and totals(december) == {"c1": "15.00"}


def test_s10_weeks_after_a_later_adoption_start_on_monday_in_the_new_zone():
    """R-SA-4 (no contract in the ranking window): the week of 11-16 starts at Monday 00:00 in New
    York, not at Monday 00:00 in Shanghai (a Sunday morning in New York)."""
    s = Story("campus")
    s.add("PolicyAdopted", "11-11 12:00", preset="campus", timezone="America/New_York")
    rows = queries.sanctions(s.state("2026-11-17T12:00:00-05:00"))["sanctions"]
    assert {(r["rule"], r["from"], r["until"]) for r in rows if r["consultant"] == "c1"} == {
        ("R-SA-4", "2026-11-16T00:00:00-05:00", "2026-11-23T00:00:00-05:00")}


def test_s10_a_week_the_new_zone_has_already_begun_starts_at_the_adoption_and_only_once():
    s = Story("campus")
    s.add("PolicyAdopted", "11-15 23:30", preset="campus", timezone="Asia/Tokyo")  # Monday 00:30 in Tokyo
    state = s.state("2026-11-16T00:45:00+09:00")
    assert state.week_monday == dt.date(2026, 11, 16)
    later = s.state("2026-11-18T12:00:00+09:00")
    weekly = [sid for sid in later.sanctions if sid.startswith("R-SA-4.2026-11-16.")]
    assert len(weekly) == 3 and all(len(later.consultants[c].sanctions) <= 2 for c in later.consultants)
    assert later.sanctions[weekly[0]].start == dt.datetime(2026, 11, 16, tzinfo=ZoneInfo("Asia/Tokyo"))


# ------------------------------------------------------------------ 5. R-CM-3 the rate at each payment's time


def rate_change() -> Story:
    s = Story("campus", overrides={"bonus_channels": []})
    s.lead("W1", "11-02 10:00").contract("K1", "W1", "11-02 11:00", amount="20000.00")
    s.pay("K1", "11-03 10:00", "10000.00")
    s.add("PolicyAdopted", "11-15 00:00", preset="campus", overrides={"commission_rate": "0.05"})
    s.pay("K1", "11-20 10:00", "10000.00")
    s.add("ContractRefunded", "12-02 10:00", contract="K1", amount="4000.00")
    return s


def test_R_CM_3_each_payment_and_refund_earns_at_the_rate_in_force_at_its_own_time():
    state = rate_change().state("12-31 12:00")
    november = statements(state.money, state.policies, state.tz, "2026-11")
    line, = november["statements"][0]["lines"]
    assert (line["rule"], line["amount"], line["basis"], line["rate"]) == ("R-CM-3", "800.00", "20000.00", None)
    assert line["parts"] == [{"basis": "10000.00", "rate": "0.03"}, {"basis": "10000.00", "rate": "0.05"}]
    december = statements(state.money, state.policies, state.tz, "2026-12")
    line, = december["statements"][0]["lines"]
    assert (line["amount"], line["rate"]) == ("-200.00", "0.05")  # not the 3% in force at the signing


def test_R_CM_3_the_cli_answers_with_each_payments_own_rate(tmp_path, monkeypatch):
    url = store_of(tmp_path, rate_change())
    november, december = ask_both_ways(url, monkeypatch, ["commission", "--month", "2026-11"],
                                       ["commission", "--month", "2026-12"])
    assert totals(november) == {"c1": "800.00"} and totals(december) == {"c1": "-200.00"}


@pytest.mark.parametrize("story", [tracked_referral, rezoned, rate_change])
def test_the_read_models_equal_a_rebuild_under_the_settled_readings(tmp_path, story):
    from commands.rebuild import process_team

    url = store_of(tmp_path, story())
    with open_store(url) as store:
        assert process_team(store, TEAM, swap=False).drift == []
