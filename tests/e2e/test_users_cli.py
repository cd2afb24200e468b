"""`ledger user ...` (issue #13): the web desk's users in the store's database, on SQLite and
PostgreSQL; bad input is one line, exit 2, and stores nothing."""
from __future__ import annotations

import json

from click.testing import CliRunner

from cli import main
from ledger import accounts
from ledger.store import open_store

GOOD = "a long passphrase"


def run(db: str, *args: str, stdin: str | None = None, code: int = 0):
    result = CliRunner().invoke(main, [*args, "--db", db], input=stdin)
    assert result.exit_code == code, (args, result.output)
    return result


def listed(db: str, *args: str) -> list[dict]:
    return json.loads(run(db, "user", "list", "--json", *args).stdout)["users"]


def test_a_user_is_added_with_a_password_from_stdin_and_listed_by_team(store_url):
    run(store_url, "user", "add", "主任", "--team", "renda", "--role", "supervisor", stdin=GOOD + "\n")
    run(store_url, "user", "add", "front1", "--team", "renda", "--role", "reception", stdin=GOOD + "\n")
    run(store_url, "user", "add", "boss", "--team", "jiuzhou", "--role", "viewer", stdin=GOOD + "\n")
    assert [(u["name"], u["role"]) for u in listed(store_url, "--team", "renda")] == [
        ("front1", "reception"), ("主任", "supervisor")]
    assert len(listed(store_url)) == 3
    with open_store(store_url) as store:
        assert accounts.authenticate(store, "主任", GOOD).role == "supervisor"
        assert accounts.authenticate(store, "主任", "a wrong passphrase") is None
        stored = store._rows("SELECT hash FROM ledger_users WHERE name = ?", ("主任",))[0][0]
    assert stored.startswith("$argon2") and GOOD not in stored


def test_weak_empty_or_duplicate_input_is_one_line_and_stores_nothing(store_url):
    for password, expected in [("", "got nothing"), ("short", "at least 8"), ("aaaaaaaaaa", "4 different"),
                               ("主任主任1234", "user name"), ("12345678", "common")]:
        result = run(store_url, "user", "add", "主任", "--team", "renda", "--role", "supervisor",
                     stdin=password + "\n", code=2)
        assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output
    run(store_url, "user", "add", "主任", "--team", "renda", "--role", "boss", stdin=GOOD + "\n", code=2)
    run(store_url, "user", "add", "主任", "--team", "bad team", "--role", "viewer", stdin=GOOD + "\n", code=2)
    assert listed(store_url) == []
    run(store_url, "user", "add", "主任", "--team", "renda", "--role", "supervisor", stdin=GOOD + "\n")
    again = run(store_url, "user", "add", "主任", "--team", "renda", "--role", "viewer", stdin=GOOD + "\n", code=2)
    assert "exists already" in again.stderr
    assert listed(store_url)[0]["role"] == "supervisor"
    assert "unknown user" in run(store_url, "user", "disable", "nobody", code=2).stderr


def test_passwd_disable_and_a_token_that_is_printed_once_and_kept_as_a_hash(store_url):
    run(store_url, "user", "add", "crm", "--team", "renda", "--role", "viewer", stdin=GOOD + "\n")
    token = run(store_url, "user", "token", "crm").stdout.strip()
    run(store_url, "user", "passwd", "crm", stdin="weak\n", code=2)
    run(store_url, "user", "passwd", "crm", stdin="another passphrase\n")
    with open_store(store_url) as store:
        assert accounts.token_user(store, token).name == "crm"
        assert accounts.authenticate(store, "crm", GOOD) is None
        assert accounts.authenticate(store, "crm", "another passphrase") is not None
        assert not store._rows("SELECT 1 FROM ledger_tokens WHERE digest = ?", (token,))
    run(store_url, "user", "disable", "crm")
    assert listed(store_url)[0]["disabled"] is True
    with open_store(store_url) as store:
        assert accounts.token_user(store, token) is None
        assert accounts.authenticate(store, "crm", "another passphrase") is None


def test_five_failures_in_fifteen_minutes_throttle_the_name(store_url):
    run(store_url, "user", "add", "front1", "--team", "renda", "--role", "reception", stdin=GOOD + "\n")
    with open_store(store_url) as store:
        for _ in range(accounts.THROTTLE_FAILURES):
            assert not accounts.throttled(store, "front1")
            accounts.authenticate(store, "front1", "wrong guess!")
        assert accounts.throttled(store, "front1")
        assert not accounts.throttled(store, "someone else")
