"""Append-only in the database itself (issue #18 item 2).

SQLite: triggers refuse UPDATE and DELETE of the record's tables, with their message, while
every command (import, arrive, void, erase-phone, rebuild, verify) still works; a store made
before them gets them when opened. PostgreSQL: the same triggers (TRUNCATE too), and after
`ledger db roles` the application role cannot UPDATE, DELETE or TRUNCATE the record, nor lift
the guards, yet imports, records, erases, rebuilds, verifies and serves the desk; appenders as
that role lose nothing, for themselves and for a reader following the store's global order."""
from __future__ import annotations

import datetime as dt
import itertools
import json
import multiprocessing
import os
import sqlite3

import pytest
from click.testing import CliRunner
from exports import event_lines
from test_store import _append_with_retries  # the store tests' spawned appender

from cli import main
from fixtures.generate import generate
from ledger.store import open_store
from ledger.store.guards import RECORD_TABLES, sqlite_trigger

PHONE = "13911112222"
WHEN = "2026-09-03T10:00:00+08:00"
_names = itertools.count(1)


def cli(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--db", url])
    return result.exit_code, result.stdout, result.stderr


def ok(url: str, *args: str) -> str:
    code, out, err = cli(url, *args)
    assert code == 0, (args, out, err)
    return out


def history_file(folder) -> str:
    path = folder / "history.jsonl"
    events = generate(2, teams=1, days=2, start=dt.date(2026, 9, 1))
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return str(path)


def record_everything(url: str, folder) -> str:
    """Import, arrive, void, erase, rebuild and verify; returns the team."""
    ok(url, "import", history_file(folder))
    team = "campus-01"
    arrived = json.loads(ok(url, "arrive", "walk_in", "--phone", PHONE, "--team", team, "--at", WHEN, "--json"))
    assert arrived["lead"]
    ok(url, "arrive", "hotline", "--phone", "13911113333", "--team", team, "--at", WHEN)
    head = len(event_lines(ok(url, "export", "--team", team)))
    ok(url, "void", f"#{head}", "--reason", "录重了", "--team", team, "--at", WHEN)
    ok(url, "erase-phone", PHONE, "--team", team, "--at", WHEN)
    for command in ("rebuild", "verify"):
        summary = json.loads(ok(url, command, "--json"))
        assert [c["intact"] for c in summary["chains"]] == [True]
    return team


# -- SQLite ------------------------------------------------------------------------------------


def test_sqlite_refuses_changing_or_deleting_record_rows_with_the_triggers_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    team = record_everything(url, tmp_path)
    db = sqlite3.connect(tmp_path / "ledger.db")
    for table in RECORD_TABLES:
        for verb, statement in (("UPDATE", f"UPDATE {table} SET rowid = rowid"), ("DELETE", f"DELETE FROM {table}")):
            with pytest.raises(sqlite3.IntegrityError) as refused:
                db.execute(statement)
            assert str(refused.value) == f"{table} is append-only: {verb} refused (the record is never changed; issue #18)"
    db.execute("DELETE FROM ledger_checkpoints")  # not the record: a cache
    db.commit()
    db.close()
    assert json.loads(ok(url, "verify", "--json"))["chains"][0]["intact"] is True
    exported = ok(url, "export", "--team", team)
    assert PHONE not in exported and "13911113333" in exported  # the erasure held; the other number did not go


def test_a_sqlite_store_made_before_the_guards_gets_them_when_opened(tmp_path):
    path = tmp_path / "old.db"
    ok(f"sqlite:///{path}", "import", history_file(tmp_path))
    db = sqlite3.connect(path)
    for table in RECORD_TABLES:
        for verb in ("UPDATE", "DELETE"):
            db.execute(f"DROP TRIGGER {sqlite_trigger(table, verb)}")
    db.commit()
    assert db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'").fetchone() == (0,)
    db.close()
    with open_store(f"sqlite:///{path}") as store:
        assert store.check_chain("campus-01").intact
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'").fetchone() == (2 * len(RECORD_TABLES),)
    with pytest.raises(sqlite3.IntegrityError, match="stored_events is append-only: DELETE refused"):
        db.execute("DELETE FROM stored_events")
    db.close()


# -- PostgreSQL: the roles ---------------------------------------------------------------------


@pytest.fixture
def roles_db(postgres_server, monkeypatch):
    """A fresh database given to an owner and an application role by `ledger db roles --apply`
    (run as the server's superuser): {"admin": url, "app": url, "owner", "app_role"}."""
    monkeypatch.setenv("LEDGER_SECRET_FILE", postgres_server.key_file)
    n = f"{os.getpid()}_{next(_names)}"
    dbname, owner, app = f"ledger_roles_{n}", f"ledger_owner_{n}", f"ledger_app_{n}"
    admin = postgres_server.create_database(dbname)
    postgres_server.admin(f'CREATE ROLE "{owner}" NOLOGIN')
    postgres_server.admin(f'CREATE ROLE "{app}" LOGIN')
    code, _, err = cli(admin, "db", "roles", "--owner", owner, "--app", app, "--apply")
    assert code == 0 and f"{app} may read everything" in err, err
    try:
        yield {"admin": admin, "app": f"postgresql://{app}:@127.0.0.1:{postgres_server.port}/{dbname}",
               "owner": owner, "app_role": app, "port": postgres_server.port, "dbname": dbname}
    finally:
        postgres_server.drop_database(dbname)
        for role in (app, owner):
            postgres_server.admin(f'DROP ROLE IF EXISTS "{role}"')


def _connect(roles_db, user: str):
    import psycopg

    return psycopg.connect(host="127.0.0.1", port=roles_db["port"], user=user, dbname=roles_db["dbname"],
                           autocommit=True)


def test_the_app_role_records_everything_but_cannot_change_delete_or_truncate_the_record(roles_db, tmp_path):
    import psycopg

    record_everything(roles_db["app"], tmp_path)
    with _connect(roles_db, roles_db["app_role"]) as conn:
        for table in RECORD_TABLES:
            column = {"stored_events": "state", "ledger_erased": "phone_key"}.get(table, "team")
            for statement in (f"UPDATE {table} SET {column} = {column}",
                              f"DELETE FROM {table}", f"TRUNCATE {table}"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match=f"permission denied for table {table}"):
                    conn.execute(statement)
        for statement in ("ALTER TABLE stored_events DISABLE TRIGGER ledger_append_only",
                          "DROP TRIGGER ledger_append_only ON stored_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
                conn.execute(statement)
        assert conn.execute("SELECT COUNT(*) FROM ledger_phones").fetchone()[0] > 0  # its own side rows: written
    with _connect(roles_db, "postgres") as conn:  # the triggers bind even a superuser
        for verb, statement in (("UPDATE", "UPDATE stored_events SET state = state"),
                                ("DELETE", "DELETE FROM ledger_chain"), ("TRUNCATE", "TRUNCATE ledger_index")):
            with pytest.raises(psycopg.errors.InsufficientPrivilege,
                               match=f"is append-only: {verb} refused"):
                conn.execute(statement)
        owners = conn.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'").fetchall()
        assert owners == [(roles_db["owner"],)]


def test_the_desk_serves_and_records_as_the_app_role(roles_db, tmp_path):
    import httpx
    from desk_server import serving

    with serving(tmp_path, [("boss", "renda", "supervisor")], db=roles_db["app"]) as desk:
        line = json.dumps({"team": "renda", "at": "2026-11-20T10:00:00+08:00", "type": "FollowUpLogged",
                           "lead": "L1116-X2", "direction": "outbound", "consultant": "c2"})
        response = httpx.post(f"{desk['base']}/api/renda/events", content=line.encode(), timeout=30,
                              headers={"Authorization": f"Bearer {desk['tokens']['boss']}"})
        assert response.status_code == 201, response.text
        board = httpx.get(f"{desk['base']}/api/renda/owner/L1116-X2", timeout=30,
                          headers={"Authorization": f"Bearer {desk['tokens']['boss']}"})
        assert board.status_code == 200, board.text
    exported = event_lines(ok(roles_db["app"], "export", "--team", "renda"))
    assert json.loads(exported[-1])["type"] == "FollowUpLogged"


def _append_to_own_team(url: str, worker: int, batches: int) -> int:
    """Run in a spawned process: `batches` small appends to the worker's own team (writers of
    different teams: only the appenders' lock orders their ids against each other)."""
    from test_store import event, roster

    team = f"t{worker}"
    with open_store(url) as store:
        store.append({team: (0, roster(team, consultants=1))})
        for batch in range(batches):
            events = [event("PresenceChanged", team=team, consultant="c1", presence="away",
                            id=f"w{worker}-b{batch}-e{n}") for n in range(1 + batch % 3)]
            store.append({team: (store.head(team), events)})
    return batches


def _follow(url: str, stop_file: str) -> list[int]:
    """Run in a spawned process: follow the store's global order (the library's notification
    ids) as a projection would, a page after the last id seen, until `stop_file` exists."""
    import time

    seen: list[int] = []
    with open_store(url) as store:
        last, done = 0, False
        while True:
            page = store.recorder.select_notifications(last, 500, inclusive_of_start=False)
            seen += [n.id for n in page]
            last = page[-1].id if page else last
            if not page:
                if done:
                    return seen
                done = os.path.exists(stop_file)
                time.sleep(0.001)


def _run_with_follower(url: str, tmp_path, appender, workers: int, batches: int) -> list[int]:
    stop = str(tmp_path / "stop")
    with multiprocessing.get_context("spawn").Pool(workers + 1) as pool:
        reader = pool.apply_async(_follow, (url, stop))
        pool.starmap(appender, [(url, w, batches) for w in range(workers)])
        open(stop, "w").close()
        return reader.get(timeout=300)


@pytest.mark.slow
def test_appenders_of_one_team_as_the_app_role_lose_and_duplicate_nothing(roles_db, tmp_path):
    url = roles_db["app"]
    ok(url, "adopt", "campus", "--team", "t1", "--at", "2026-11-01T09:00:00+08:00")
    ok(url, "join", "c1", "--name", "C1", "--seat", "1", "--team", "t1", "--at", "2026-11-01T09:00:00+08:00")
    workers, batches = 4, 15
    followed = _run_with_follower(url, tmp_path, _append_with_retries, workers, batches)
    with open_store(url) as store:
        head = store.head("t1")
        report = store.check_chain("t1")
        ids = [r.event.id for r in store.read("t1")[2:]]
    expected = {f"w{w}-b{b}-e{n}" for w in range(workers) for b in range(batches) for n in range(1 + b % 3)}
    assert sorted(ids) == sorted(expected)  # none lost, none twice
    assert len(followed) == head and report.intact and report.head == head


@pytest.mark.slow
def test_appenders_of_four_teams_as_the_app_role_lose_nothing_for_a_reader_following_the_order(roles_db, tmp_path):
    url = roles_db["app"]
    workers, batches = 4, 150
    followed = _run_with_follower(url, tmp_path, _append_to_own_team, workers, batches)
    with open_store(url) as store:
        stored = [n.id for n in store.recorder.select_notifications(1, 1_000_000)]
        heads = {team: store.head(team) for team in store.teams()}
        intact = {team: store.check_chain(team).intact for team in store.teams()}
    lost = sorted(set(stored) - set(followed))
    assert lost == []  # each id was seen by the reader following the order
    assert followed == stored and len(stored) == sum(heads.values()) == workers * (2 + sum(1 + b % 3 for b in range(batches)))
    assert all(intact.values())


def test_db_roles_prints_the_sql_without_a_database_and_refuses_bad_roles():
    result = CliRunner().invoke(main, ["db", "roles", "--owner", "own", "--app", 'a"pp'])
    assert result.exit_code == 0
    sql = result.stdout
    assert 'GRANT SELECT, INSERT ON stored_events, ledger_teams, ledger_index, ledger_ids, ledger_voids, ' \
           'ledger_erased, ledger_chain, ledger_meta TO "a""pp";' in sql
    writable = next(line for line in sql.splitlines() if "UPDATE, DELETE" in line)
    assert "ledger_phones" in writable and "ledger_sessions" in writable and "ledger_notify_outbox" in writable
    assert "stored_events" not in writable and "ledger_chain" not in writable
    assert 'ALTER TABLE stored_events OWNER TO "own";' in sql
    for args, message in ((["--owner", "x", "--app", "x"], "--app: expected a role other than --owner"),
                          (["--owner", "", "--app", "x"], "--owner: expected a PostgreSQL role name"),
                          (["--owner", "o", "--app", "x", "--apply", "--db", "sqlite:///nowhere.db"],
                           "--apply: expected a postgresql:// store")):
        result = CliRunner().invoke(main, ["db", "roles", *args])
        assert result.exit_code == 2 and message in result.stderr and result.stdout == ""
    assert not os.path.exists("nowhere.db")


def test_db_roles_apply_names_a_missing_role_and_changes_nothing(postgres_server, monkeypatch):
    monkeypatch.setenv("LEDGER_SECRET_FILE", postgres_server.key_file)
    dbname = f"ledger_roles_missing_{os.getpid()}"
    url = postgres_server.create_database(dbname)
    try:
        code, _, err = cli(url, "db", "roles", "--owner", "postgres", "--app", "nobody_here", "--apply")
        assert code == 2 and "--app: no role 'nobody_here'" in err
        with open_store(url) as store:  # nothing granted: the tables are still the superuser's
            assert store._rows("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'") == [
                ("postgres",)]
    finally:
        postgres_server.drop_database(dbname)
