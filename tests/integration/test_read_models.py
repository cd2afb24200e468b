"""The persisted read models (issue 6): kept current by every append, and answering exactly as the
fold does -- on SQLite and PostgreSQL, on a generated history, before and after late events."""
from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from click.testing import CliRunner

from cli import main
from commands import read_models
from commands.history import state_at
from commands.importing import import_file
from commands.rebuild import compare, process_team
from fixtures.generate import generate
from ledger import models_store as M
from ledger.errors import UnknownLead
from ledger.store import open_store
from projections import queries
from projections.commission import statements
from projections.models import dumps

START = dt.date(2026, 9, 1)


def _lines(seed: int = 7, teams: int = 2, days: int = 30) -> list[str]:
    return [json.dumps(event, ensure_ascii=False) for event in generate(seed, teams=teams, days=days, start=START)]


def _model_owner(store, team: str, lead: str, at: dt.datetime) -> str | None:
    try:
        text = read_models.owner_text(store, team, lead, at)
    except UnknownLead:
        return None
    assert text is not None, "the model should answer inside its horizon"
    return text


def _assert_models_answer_as_the_fold(store, team: str, rng: random.Random, moments: int = 5, leads: int = 40) -> None:
    g = read_models.current(store, team)
    assert g is not None, "the model is current after the append"
    first, last = store.read_by_time(team)[0].event.at, store.latest_at(team)
    all_leads = sorted({lead for lead, *_ in M.dump(store, team, g.gen)["owners"]})
    owner_rows = M.dump(store, team, g.gen)["owners"]
    times = [first + (last + dt.timedelta(days=3) - first) * rng.random() for _ in range(moments)]
    # the instants where an answer changes, and one microsecond before them
    for lead, at_us, *_ in rng.sample(owner_rows, 3):
        change = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=at_us)
        times += [change, change - dt.timedelta(microseconds=1)]
    for at in sorted(times):
        state = state_at(store, team, at)
        for lead in rng.sample(all_leads, min(leads, len(all_leads))) + ["no-such-lead"]:
            try:
                fold = dumps(queries.owner(state, lead))
            except UnknownLead:
                fold = None
            assert _model_owner(store, team, lead, at) == fold, (team, lead, at)
    tz = state_at(store, team, first).tz
    for day_from, day_to in [(START, START + dt.timedelta(days=6)), (START + dt.timedelta(days=9), START + dt.timedelta(days=9)),
                             (START - dt.timedelta(days=3), START + dt.timedelta(days=40))]:
        end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(0), tz)
        fold = dumps(queries.turns(state_at(store, team, end), day_from, day_to))
        assert read_models.turns_text(store, team, day_from, day_to) == fold
    for month in ("2026-09", "2026-10", "2026-11"):
        following = dt.date(2026, int(month[5:]) + 1, 1) if month < "2026-12" else dt.date(2027, 1, 1)
        end = dt.datetime.combine(following, dt.time(0), tz) - dt.timedelta(microseconds=1)
        state = state_at(store, team, end)
        assert read_models.commission_text(store, team, month) == dumps(statements(state.money, state.policies, state.tz, month))


def _late_lines(store, team: str, rng: random.Random) -> list[str]:
    """Back-dated events: new walk-in and hotline leads in the middle of the history (they move the
    rotation for every later lead, R-T-5), a follow-up and a claim on one of them."""
    records = store.read_by_time(team)
    middle = records[len(records) // 2].event.at
    consultants = [r.event.consultant for r in records if r.event.type == "ConsultantJoined"]
    out = []
    for k, channel in enumerate(("walk_in", "hotline", "online")):
        at = middle + dt.timedelta(minutes=7 * k + 1)
        out.append({"type": "LeadArrived", "team": team, "at": at.isoformat(), "id": f"late-{k}",
                    "lead": f"LATE{k}", "channel": channel, "phone": f"1390000{k:04d}"})
    at = middle + dt.timedelta(hours=2)
    out.append({"type": "ClaimMade", "team": team, "at": at.isoformat(), "id": "late-claim", "lead": "LATE0",
                "consultant": rng.choice(consultants), "reason": "met them at the door"})
    return [json.dumps(item) for item in out]


@pytest.mark.slow
def test_models_are_kept_current_and_answer_as_the_fold_before_and_after_late_events(store_url):
    rng = random.Random(11)
    lines = _lines()
    with open_store(store_url) as store:
        cut = int(len(lines) * 0.6)
        import_file(store, "\n".join(lines[:cut]))
        import_file(store, "\n".join(lines[cut:]))  # incremental: the generator's own late events too
        teams = store.teams()
        for team in teams:
            _assert_models_answer_as_the_fold(store, team, rng)
        team = teams[0]
        before = M.dump(store, team, M.live(store, team).gen)
        import_file(store, "\n".join(_late_lines(store, team, rng)))
        after = M.dump(store, team, M.live(store, team).gen)
        assert after["owners"] != before["owners"], "the late leads rewrote ownership from their `at` on"
        _assert_models_answer_as_the_fold(store, team, rng, moments=4)
        # the incrementally kept models equal a clean rebuild from the log
        for name in teams:
            result = process_team(store, name, swap=False)
            assert result.drift == [], result.drift[:3]


@pytest.mark.slow
def test_recording_commands_keep_the_models_from_the_state_they_decided_on(store_url, monkeypatch):
    """A recording command folds the read models on from the state it decided on (`models_after`),
    also when other events or timers (the 24:00 R-FU-2 deadlines) share its instant; it falls back
    to `maintain` for a roster change, or at an instant where the seats changed. Both give what a
    rebuild gives."""
    from commands import record as R

    followed = []
    real = read_models.models_after
    monkeypatch.setattr(read_models, "models_after", lambda *a, **k: followed.append(a[1][0].event.type) or real(*a, **k))
    lines = _lines(seed=9, teams=1, days=30)
    with open_store(store_url) as store:
        import_file(store, "\n".join(lines))
        team = store.teams()[0]
        joined = [r.event.consultant for r in store.read(team) if r.event.type == "ConsultantJoined"]
        now = dt.datetime(2026, 10, 30, tzinfo=dt.timezone.utc)

        def at(text: str) -> dict:
            return {"at": dt.datetime.fromisoformat(f"2026-10-{text}+08:00"), "now": now}

        first = R.arrive(store, team, "hotline", phone="13912340001", **at("01T08:30:17")).answer["lead"]
        R.followup(store, team, first, joined[0], **at("01T08:30:17"))  # the same instant
        second = R.arrive(store, team, "walk_in", phone="13912340002", **at("01T09:01:00")).answer["lead"]
        R.claim(store, team, second, joined[1], "met them at the door", **at("01T10:00:05"))
        R.rule(store, team, second, joined[1], "the claim holds", **at("01T10:20:00"))
        R.penalize(store, team, joined[2], kind="skip", turns=2, channels=["walk_in"], rule_id="R-SA-2",
                   reason="late to the desk", **at("01T11:12:13"))
        R.presence(store, team, joined[3], "away", **at("01T11:20:00"))
        R.sign(store, team, "K-FAST", first, "12000.00", **at("01T11:30:00"))
        R.money(store, team, "K-FAST", "3000.00", kind="PaymentReceived", **at("01T11:45:10"))
        R.arrive(store, team, "online", **at("02T00:00:00"))  # the 24:00 deadlines fire at this instant
        R.arrive(store, team, "online", **at("02T00:00:01"))
        assert len(followed) == 11, followed
        R.join(store, team, "c99", "新人", **at("02T09:00:00"))  # a roster change: falls back
        R.arrive(store, team, "walk_in", **at("02T09:00:00"))  # the seats changed at this instant: falls back
        R.arrive(store, team, "walk_in", phone="13912340001", **at("02T09:00:07"))
        assert len(followed) == 12 and followed[-1] == "LeadArrived", followed
        assert read_models.current(store, team) is not None
        assert process_team(store, team, swap=False).drift == []
        _assert_models_answer_as_the_fold(store, team, random.Random(3), moments=3, leads=20)


@pytest.mark.slow
def test_owner_turns_and_commission_print_the_same_bytes_from_the_model_and_from_the_fold(store_url, monkeypatch):
    lines = _lines(seed=3, teams=1, days=12)
    runner = CliRunner()
    with open_store(store_url) as store:
        import_file(store, "\n".join(lines))
        team = store.teams()[0]
        leads = sorted({lead for lead, *_ in M.dump(store, team, M.live(store, team).gen)["owners"]})[:6]
    at = "2026-09-08T12:00:00+08:00"
    commands = [["owner", lead, "--at", at] for lead in leads] + [
        ["owner", "ghost", "--at", at],
        ["turns", "--from", "2026-09-01", "--to", "2026-09-07"],
        ["commission", "--month", "2026-09"],
    ]
    with_model = [runner.invoke(main, c + ["--db", store_url, "--json"]) for c in commands]
    with open_store(store_url) as store:  # no live model: every query folds
        M.clear_generation(store, team, M.live(store, team).gen)
        with store._cursor(commit=True) as cur:
            cur.execute("DELETE FROM ledger_model_gens")
        assert read_models.current(store, team) is None
    monkeypatch.setattr(read_models, "AUTO_BUILD_LIMIT", 0)  # and none is built again by the queries
    folded = [runner.invoke(main, c + ["--db", store_url, "--json"]) for c in commands]
    for command, a, b in zip(commands, with_model, folded):
        assert (a.exit_code, a.stdout) == (b.exit_code, b.stdout), (command, b.exception, b.stderr if b.stderr_bytes else "")
    assert with_model[len(leads)].exit_code == 2  # a lead not arrived by --at is unknown


def test_a_model_behind_its_store_is_not_read_and_catches_up(store_url):
    lines = _lines(seed=5, teams=1, days=6)
    with open_store(store_url) as store:
        import_file(store, "\n".join(lines))
        team = store.teams()[0]
        g = M.live(store, team)
        with store._cursor(commit=True) as cur:  # as if killed between an append and its maintenance
            cur.execute(store.recorder.sql("UPDATE ledger_model_gens SET position = position - 5 WHERE team = ?"), (team,))
        assert read_models.current(store, team) is None
        with pytest.raises(UnknownLead):  # the next query brings it up to date, then answers
            read_models.owner_text(store, team, "anything", store.latest_at(team))
        assert read_models.current(store, team).position == g.position
        assert compare(store, team, g.gen, g.gen) == []


def test_a_race_on_the_position_writes_nothing(store_url):
    lines = _lines(seed=5, teams=1, days=3)
    with open_store(store_url) as store:
        import_file(store, "\n".join(lines))
        team = store.teams()[0]
        g = M.live(store, team)
        models = read_models.compute(store, team, None, g.position)
        before = M.dump(store, team, g.gen)
        with pytest.raises(M.Stale):
            M.write(store, team, g.gen, models, g.position - 1)
        assert M.dump(store, team, g.gen) == before


def test_an_event_that_moves_the_horizon_into_a_new_month_adds_its_statements(store_url):
    lines = _lines(seed=5, teams=1, days=6)
    with open_store(store_url) as store:
        import_file(store, "\n".join(lines))
        team = store.teams()[0]
        consultant = next(r.event.consultant for r in store.read(team) if r.event.type == "ConsultantJoined")
        for k, at in enumerate(("2026-10-01T10:00:00+08:00", "2026-10-30T10:00:00+08:00")):  # no money moves
            import_file(store, json.dumps({"type": "PresenceChanged", "team": team, "at": at, "id": f"p{k}",
                                           "consultant": consultant, "presence": "away"}))
            assert read_models.current(store, team) is not None
            assert process_team(store, team, swap=False).drift == []
        assert read_models.commission_text(store, team, "2026-12") is not None


def test_the_fold_of_the_models_follows_links_and_late_events_exactly_as_the_prefix_folds():
    """Pure: a link (R-ID-1) re-decides the customers from scratch; rows before it keep what the
    history up to then said, rows after it what the linked history says."""
    import bisect

    from ledger.events import Recorded, parse_event
    from projections import engine
    from projections.models import fold_models

    events = [parse_event(e) for e in generate(9, teams=1, days=6, start=START)]
    records = [Recorded(seq, event) for seq, event in enumerate(events, start=1)]
    leads = [r for r in records if r.event.type == "LeadArrived"]
    a, b, c = leads[5], leads[40], leads[80]
    team = events[0].team
    for kind, first, second, when in (("CustomersLinked", a, b, b.event.at + dt.timedelta(hours=30)),
                                      ("CustomersLinked", c, a, c.event.at + dt.timedelta(hours=3)),
                                      ("CustomersUnlinked", a, b, c.event.at + dt.timedelta(hours=50))):
        records.append(Recorded(len(records) + 1, parse_event(
            {"type": kind, "team": team, "at": when.isoformat(), "lead": first.event.lead, "other": second.event.lead})))
    ordered = sorted(records, key=lambda r: r.key)
    models = fold_models(None, ordered)
    rows: dict[str, list] = {}
    for row in models.owners:
        rows.setdefault(row.lead, []).append(row)
    rng = random.Random(4)
    moments = [r.valid_from for r in rng.sample(models.owners, 6)] + [records[-1].event.at, records[-2].event.at]
    for at in moments + [m - dt.timedelta(microseconds=1) for m in moments]:
        state = engine.replay(ordered, until=at)
        for lead in [a.event.lead, b.event.lead, c.event.lead] + rng.sample(sorted(rows), 15):
            found = rows.get(lead, [])
            i = bisect.bisect_right([r.valid_from for r in found], at)
            try:
                fold = dumps(queries.owner(state, lead))
            except UnknownLead:
                fold = None
            assert (found[i - 1].answer if i else None) == fold, (lead, at)


def test_turns_and_commission_of_a_period_before_a_link_answer_from_the_history_up_to_its_end(store_url):
    """R-ID-1: a link re-decides leads from the earlier lead's arrival on, so the models (the
    whole history's view) would show it in earlier days; `turns` answers "as the history up to
    the end of --to makes them" and a statement rests on the events before the end of its month
    (R-CM-6): both fold instead when a link or unlink lies after the period."""
    def line(at, type, **keys):
        return json.dumps({"type": type, "team": "cl", "at": f"2026-{at}:00+08:00", **keys})

    lines = [line("11-01T09:00", "PolicyAdopted", preset="campus")] + [
        line("11-01T09:00", "ConsultantJoined", consultant=c, name=c.upper(), seat=n) for n, c in ((1, "c1"), (2, "c2"))] + [
        line("11-03T10:00", "LeadArrived", lead="L1", channel="walk_in", phone="13500000001"),
        line("11-03T11:00", "LeadArrived", lead="L2", channel="walk_in", phone="13500000002"),
        line("11-03T12:00", "LeadArrived", lead="M1", channel="online", phone="13500000011"),
        line("11-03T12:30", "LeadArrived", lead="M2", channel="online", phone="13500000011"),
        line("11-03T15:00", "FollowUpLogged", lead="L1", consultant="c1", direction="outbound"),
        line("11-05T10:00", "ContractSigned", contract="KC", lead="L2", amount="5000.00"),
        line("11-06T10:00", "PaymentReceived", contract="KC", amount="1000.00"),
        line("11-09T10:00", "CustomersUnlinked", lead="M2", other="M1"),
        line("12-05T10:00", "CustomersLinked", lead="L2", other="L1"),
    ]
    with open_store(store_url) as store:
        import_file(store, "\n".join(lines), allow_future=True)  # dates past today
        assert read_models.current(store, "cl") is not None  # the models are current: they could answer

    def ask(*args):
        result = CliRunner().invoke(main, [*args, "--team", "cl", "--db", store_url, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def leads(answer):
        return {(r["consultant"], r["channel"]): r["leads"] for r in answer["rows"]}

    before = leads(ask("turns", "--from", "2026-11-03", "--to", "2026-11-08"))
    assert before[("c2", "walk_in")] == 1 and before.get(("c2", "online"), 0) == 0  # M2 still a duplicate
    after = leads(ask("turns", "--from", "2026-11-03", "--to", "2026-11-09"))
    assert after[("c2", "online")] == 1  # the unlink of 11-09 re-decides M2
    november = ask("commission", "--month", "2026-11")
    assert [(s["consultant"], s["total"]) for s in november["statements"]] == [("c2", "30.00")]
