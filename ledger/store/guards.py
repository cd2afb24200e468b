"""Append-only in the database itself (issue #18 item 2): triggers that refuse UPDATE and DELETE
(and, on PostgreSQL, TRUNCATE) of the tables that hold the record.

The record is the events and the rows written beside them in the append transaction that only
restate them: `RECORD_TABLES`. Everything else stays writable: the clear phone numbers
(`ledger_phones`, deleted by an erasure, R-ID-2: the events hold keys only), checkpoints and
catalogs (caches, dropped by a late event), the read models, the desk's accounts and sessions,
the notifier's outbox, and `ledger_meta` (the store's keys).

The only code that changes a record row is the upgrade of a store made before `recorded`
existed (`LedgerSQL.upgrade`): it lifts the guard of `ledger_index` and puts it back in the same
transaction, under the appenders' lock (docs/DECISIONS.md, "Append-only in the database").
"""
from __future__ import annotations

# The tables of the record; the last one's guard is created last (its presence says the
# store's guards are all there, `*_upgraded`).
RECORD_TABLES = ("stored_events", "ledger_teams", "ledger_index", "ledger_ids", "ledger_voids",
                 "ledger_erased", "ledger_chain")
# In every refusal's message: `translated` knows a refusal from a lost race by it.
MARK = "is append-only"
PG_TRIGGER = "ledger_append_only"
PG_FUNCTION = "ledger_refuse_change"


def refusal(table: str, verb: str) -> str:
    return f"{table} {MARK}: {verb} refused (the record is never changed; issue #18)"


def sqlite_trigger(table: str, verb: str) -> str:
    return f"ledger_append_only_{table}_{verb.lower()}"


def sqlite_statements(tables: tuple[str, ...] = RECORD_TABLES) -> list[str]:
    """CREATE TRIGGER statements for SQLite (names and messages are constants, never input)."""
    return [f"CREATE TRIGGER IF NOT EXISTS {sqlite_trigger(table, verb)} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{refusal(table, verb)}'); END"
            for table in tables for verb in ("UPDATE", "DELETE")]


def sqlite_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {sqlite_trigger(table, verb)}" for verb in ("UPDATE", "DELETE")]


def postgres_statements(tables: tuple[str, ...] = RECORD_TABLES) -> list[str]:
    """The refusing function and its triggers for PostgreSQL: a row trigger before UPDATE or
    DELETE, a statement trigger before TRUNCATE (they bind the tables' owner too)."""
    function = (f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$ "
                f"BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' {MARK}: ' || TG_OP "
                f"|| ' refused (the record is never changed; issue #18)', ERRCODE = 'insufficient_privilege'; "
                f"END $body$")
    return [function, *(f"CREATE OR REPLACE TRIGGER {PG_TRIGGER}{suffix} BEFORE {verbs} ON {table} "
                        f"FOR EACH {each} EXECUTE FUNCTION {PG_FUNCTION}()"
                        for table in tables
                        for suffix, verbs, each in (("", "UPDATE OR DELETE", "ROW"),
                                                    ("_truncate", "TRUNCATE", "STATEMENT")))]


def postgres_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {PG_TRIGGER}{suffix} ON {table}" for suffix in ("", "_truncate")]
