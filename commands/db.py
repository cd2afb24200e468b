"""`ledger db roles --owner ROLE --app ROLE`: least-privilege PostgreSQL roles (issue #18 item 2).

The owner owns every table of the ledger (and may lift the append-only guards: keep it for
upgrades and `ledger db roles`); the application role, the one `ledger` commands, the desk and
the notifier connect as, may read everything, only add to the record (SELECT and INSERT on
`guards.RECORD_TABLES` and `ledger_meta`, no UPDATE, DELETE or TRUNCATE) and write the tables that
are not the record: the clear phone numbers (erasures delete them), checkpoints and catalogs, the
read models, the desk's users and sessions, the notifier's outbox.

`roles_script` is the SQL (pure: names in, statements out); `apply_roles` creates every table
family first (so the application role never needs CREATE) and runs it in one transaction.
"""
from __future__ import annotations

import re

from ledger import accounts, notify_store
from ledger import models_store as M
from ledger.errors import InputError
from ledger.store import EVENTS_TABLE, Store, StoreURL
from ledger.store import base as store_base
from ledger.store.guards import PG_FUNCTION, RECORD_TABLES

SCHEMA = "public"
INSERT_ONLY = (*RECORD_TABLES, "ledger_meta")  # ledger_meta: the store's keys, made once
_CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")


def _tables(statements: list[str]) -> list[str]:
    return [m.group(1) for s in statements if (m := _CREATE.match(s))]


def ledger_tables() -> list[str]:
    """Every table of a ledger store: the events' and the side tables of each family."""
    names = [EVENTS_TABLE]
    for statements in (store_base._TABLES, M._TABLES, accounts._TABLES, notify_store._TABLES):
        names += [t for t in _tables(statements) if t not in names]
    return names


def writable_tables() -> list[str]:
    return [t for t in ledger_tables() if t not in INSERT_ONLY]


def quote(role: str, option: str) -> str:
    """A role name as a PostgreSQL identifier; `InputError` for one PostgreSQL cannot have."""
    if not role or len(role.encode("utf-8")) > 63 or "\x00" in role:
        raise InputError(f"{option}: expected a PostgreSQL role name of 1 to 63 bytes, got {role!r}")
    return '"' + role.replace('"', '""') + '"'


def roles_script(owner: str, app: str) -> list[str]:
    """The statements that give `owner` the tables and `app` only the rights it needs."""
    o, a = quote(owner, "--owner"), quote(app, "--app")
    if o == a:
        raise InputError("--app: expected a role other than --owner (the owner can lift the append-only guards)")
    tables = ledger_tables()
    everything = ", ".join(tables)
    return [
        *(f"ALTER TABLE {t} OWNER TO {o}" for t in tables),
        f"ALTER FUNCTION {PG_FUNCTION}() OWNER TO {o}",
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {a}",
        f"REVOKE ALL ON {everything} FROM {a}",
        f"GRANT SELECT, INSERT ON {', '.join(INSERT_ONLY)} TO {a}",
        f"GRANT USAGE ON SEQUENCE {EVENTS_TABLE}_notification_id_seq TO {a}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(writable_tables())} TO {a}",
    ]


def script_text(owner: str, app: str) -> str:
    head = ("-- Lead Ledger: least-privilege roles (issue #18). Run as a superuser (or the tables' owner)\n"
            "-- on a store whose tables exist; `ledger db roles --apply` creates them first.\n")
    return head + "BEGIN;\n" + "".join(f"{s};\n" for s in roles_script(owner, app)) + "COMMIT;\n"


def check_target(url: StoreURL) -> None:
    """`--apply` runs on PostgreSQL only (checked before the store is opened, or created)."""
    if url.kind != "postgresql":
        raise InputError(f"--apply: expected a postgresql:// store, got {url.display()} "
                         "(SQLite has no roles: its guards are triggers only)")


def apply_roles(store: Store, owner: str, app: str) -> list[str]:
    """Create every table family, check both roles exist, run `roles_script` in one transaction."""
    check_target(store.url)
    statements = roles_script(owner, app)
    M.ensure_tables(store)
    accounts.ensure_tables(store)
    notify_store.ensure_tables(store)
    found = {row[0] for row in store._rows("SELECT rolname FROM pg_roles WHERE rolname = ANY(?)", ([owner, app],))}
    for role, option in ((owner, "--owner"), (app, "--app")):
        if role not in found:
            raise InputError(f"{option}: no role {role!r} on {store.url.display()}; create it first "
                             f"(CREATE ROLE ... LOGIN PASSWORD ...)")
    with store._cursor(commit=True) as cur:
        for statement in statements:
            cur.execute(statement)
    return statements
