"""The library's PostgreSQL recorder, writing the ledger's side tables in the same transaction;
appenders serialised by one advisory lock instead of the library's table lock."""
from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import guards
from .base import CHAIN_COLUMNS, EVENTS_TABLE, AppendPlan, LedgerSQL

# The appenders' lock: one fixed key for every writer of events, whatever its team. The
# library's global notification order needs inserts serialised from before their ids are
# assigned until commit (docs/DECISIONS.md); an advisory lock needs no table rights, where
# the library's `LOCK TABLE ... IN EXCLUSIVE MODE` needs UPDATE, DELETE or TRUNCATE.
APPEND_LOCK = 7251000
_TAKE_APPEND_LOCK = f"SELECT pg_advisory_xact_lock({APPEND_LOCK})"

class LedgerPostgres(LedgerSQL):
    """The ledger's side of its PostgreSQL recorder, `recorder_class()`: the library's recorder,
    writing the ledger's side tables in the same transaction, its insert's table lock replaced by
    the appenders' advisory lock (`APPEND_LOCK`). The library's and psycopg's names it uses (`_stored_event`, `_tuple_row`,
    `_sql_text`) are set by `recorder_class()`, which imports them."""

    _stored_event: Any  # eventsourcing.persistence.StoredEvent
    _tuple_row: Any  # psycopg.rows.tuple_row
    _sql_text: Any  # psycopg.sql.SQL

    blob_type = "BYTEA"
    insert_team_sql = "INSERT INTO ledger_teams (team) VALUES (?) ON CONFLICT DO NOTHING"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sql_create_statements.extend(self._sql_text(s) for s in self.ledger_table_statements()
                                          + self.guard_statements())
        # The library's `_lock_table` (its insert's, and ours) takes the advisory lock.
        self.lock_table_statements = [self.lock_table_statements[0], self._sql_text(_TAKE_APPEND_LOCK)]

    def guard_statements(self) -> list[str]:
        return guards.postgres_statements()

    def unguard_statements(self, table: str) -> list[str]:
        return guards.postgres_drop(table)

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def insert_rows(self, cur: Any, into: str, types: tuple[str, ...], rows: list[tuple], *,
                    or_ignore: bool = False) -> None:
        # One statement with one array per column: no per-row round trips.
        if rows:
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            columns = [list(column) for column in zip(*rows)]
            tail = " ON CONFLICT DO NOTHING" if or_ignore else ""
            cur.execute(f"INSERT INTO {into} SELECT * FROM unnest({arrays}){tail}", columns)

    def needs_tables(self) -> bool:
        with self.cursor(commit=False) as cur:
            cur.execute("SELECT to_regclass('ledger_erased') IS NULL")
            return bool(cur.fetchone()[0])

    def upgrade_if_needed(self) -> None:
        with self.cursor(commit=False) as cur:
            if self._upgraded(cur):
                return
        with self.cursor(commit=True) as cur:
            self._lock_table(cur)  # no append meanwhile
            cur.execute("SELECT pg_advisory_xact_lock(7251001)")
            if self._upgraded(cur):
                return
            cur.execute("SELECT column_name FROM information_schema.columns "
                        "WHERE table_name = 'ledger_index' AND table_schema = current_schema()")
            self.upgrade(cur, [row[0] for row in cur.fetchall()])

    @staticmethod
    def _upgraded(cur: Any) -> bool:
        """The last additions of each upgrade are there (`base._UPGRADE_TABLES`, the guards)."""
        cur.execute("SELECT to_regclass('ledger_policy_events') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_trigger "
                    "WHERE tgname = %s AND tgrelid = to_regclass(%s))",
                    (guards.PG_TRIGGER + "_truncate", guards.RECORD_TABLES[-1]))
        return bool(cur.fetchone()[0])

    @contextmanager
    def cursor(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.get_connection() as conn:
            with conn.transaction(force_rollback=not commit):
                # Results in binary: a bytea (event, checkpoint) arrives as its bytes, not
                # as hex text twice its size to decode (a 3 MB checkpoint: 40 -> 20 ms).
                yield conn.cursor(row_factory=self._tuple_row, binary=True)

    def append_plan(self, plan: AppendPlan) -> None:
        with self.cursor(commit=True) as cur:
            self.write_plan(cur, plan)

    def write_plan(self, cur: Any, plan: AppendPlan, *, bulk: bool = False) -> None:
        appended = plan
        if plan.events and not bulk:
            self._lock_table(cur)  # before `recorded` is stamped (R-CO-1: non-decreasing)
            self.stamp(cur, plan)
            self.settle_voids(cur, plan)
            stored_event = self._stored_event
            stored = [stored_event(originator_id=s, originator_version=v, topic=t, state=b)
                      for s, v, t, b in plan.events]
            # The library's own insert: its lock (the advisory lock again, held), NOTIFY, INSERT.
            self._insert_stored_events(cur, stored)
        elif plan.events:
            # Imports: the same lock and notification, then COPY (the library's composite
            # array parameter is adapted row by row in Python: 3x slower per event).
            self._lock_table(cur)
            self.stamp(cur, plan)
            self.settle_voids(cur, plan)
            self._notify_channel(cur)
            self._copy(cur, f"{EVENTS_TABLE} (originator_id, originator_version, topic, state)",
                       plan.events)
            self._copy(cur, "ledger_index (team, seq, at_us, rec_us)", plan.index_rows)
            self._copy(cur, "ledger_ids (team, event_id, seq)", plan.id_rows)
            plan = AppendPlan(expected=plan.expected, teams=plan.teams, phone_rows=plan.phone_rows,
                              erase_keys=plan.erase_keys, invalidate=plan.invalidate, void_rows=plan.void_rows)
        self.write_side_tables(cur, plan)
        if appended.events:  # after the head check; under the appenders' lock taken above
            rows = self.chain_rows(cur, appended)
            if bulk:
                self._copy(cur, CHAIN_COLUMNS[0], rows)
            else:
                self.insert_rows(cur, *CHAIN_COLUMNS, rows)

    def _copy(self, cur: Any, into: str, rows: list[tuple]) -> None:
        if rows:
            with cur.copy(f"COPY {into} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def after_erase(self) -> None:
        pass  # the clear numbers are sealed (ledger.store.keys): a dead tuple holds no number

    def lock_for_key_move(self, cur: Any) -> None:
        self._lock_table(cur)
        cur.execute("SELECT pg_advisory_xact_lock(7251001)")

    def scrub(self, tables: tuple[str, ...]) -> None:
        # Best effort: VACUUM FULL rewrites the tables without their dead tuples (the owner's
        # right; the application role is told nothing). The WAL keeps them until recycled.
        with self.datastore.get_connection() as conn:
            autocommit = conn.autocommit
            conn.autocommit = True
            try:
                for table in tables:
                    try:
                        conn.execute(f"VACUUM FULL {table}")
                    except Exception:
                        pass
            finally:
                conn.autocommit = autocommit

    def lock_for_import(self, cur: Any) -> None:
        # The appenders' own lock, taken before the import reads anything (readers go on).
        cur.execute(_TAKE_APPEND_LOCK)
        # No prepared statements in an import: a generic plan made while the tables were
        # small keeps scanning them whole as this transaction fills them (quadratic).
        # The connection goes back to the pool afterwards, so `end_import` restores it.
        self._prepare_threshold = cur.connection.prepare_threshold
        cur.connection.prepare_threshold = None

    def end_import(self, cur: Any) -> None:
        cur.connection.prepare_threshold = getattr(self, "_prepare_threshold", 5)

    def lock_for_checkpoint(self, cur: Any) -> None:
        # The shared form of the appenders' lock: no append is in flight while a checkpoint is
        # checked against late events and written (checkpoints do not wait for each other).
        cur.execute(f"SELECT pg_advisory_xact_lock_shared({APPEND_LOCK})")


@functools.cache
def recorder_class() -> type:
    """`LedgerPostgres` on the library's PostgreSQL recorder, made on first use: importing
    `eventsourcing.postgres` loads psycopg (a tenth of a second), which a SQLite store never needs."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL

    class LedgerPostgresRecorder(LedgerPostgres, PostgresApplicationRecorder):
        """The library's PostgreSQL recorder, writing the ledger's side tables in the same
        transaction, serialised by the appenders' advisory lock."""

        _stored_event = StoredEvent
        _tuple_row = staticmethod(tuple_row)
        _sql_text = SQL

    return LedgerPostgresRecorder
