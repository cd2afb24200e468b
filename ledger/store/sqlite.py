"""The library's SQLite recorder, writing the ledger's side tables in its transaction."""
from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ErasureIncomplete
from . import guards
from .base import CHAIN_COLUMNS, AppendPlan, LedgerSQL


class LedgerSQLite(LedgerSQL):
    """The ledger's side of its SQLite recorder, `recorder_class()`: the library's SQLite
    recorder, writing the ledger's side tables in its transaction."""

    insert_team_sql = "INSERT OR IGNORE INTO ledger_teams (team) VALUES (?)"

    def construct_create_table_statements(self) -> list[str]:
        return super().construct_create_table_statements() + self.ledger_table_statements() + self.guard_statements()

    def guard_statements(self) -> list[str]:
        return guards.sqlite_statements()

    def unguard_statements(self, table: str) -> list[str]:
        return guards.sqlite_drop(table)

    def sid(self, stream: uuid.UUID) -> Any:
        return stream.hex

    def needs_tables(self) -> bool:
        with self.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT name FROM sqlite_master WHERE name = 'ledger_erased'")
            return cur.fetchone() is None

    def upgrade_if_needed(self) -> None:
        with self.datastore.transaction(commit=False) as cur:
            if self._upgraded(cur):
                return
        with self.datastore.transaction(commit=True) as cur:
            cur.execute("DELETE FROM ledger_meta WHERE name = 'upgrade-lock'")  # the write lock first
            if self._upgraded(cur):  # another process upgraded it meanwhile
                return
            cur.execute("PRAGMA table_info(ledger_index)")
            self.upgrade(cur, [row[1] for row in cur.fetchall()])

    @staticmethod
    def _upgraded(cur: Any) -> bool:
        """The last additions of each upgrade are there (`base._UPGRADE_TABLES`, the guards)."""
        cur.execute("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('ledger_policy_events', 'ledger_chain', ?)",
                    (guards.sqlite_trigger(guards.RECORD_TABLES[-1], "DELETE"),))
        return cur.fetchone()[0] == 3

    @contextmanager
    def cursor(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cur:
            yield cur

    def append_plan(self, plan: AppendPlan) -> None:
        with self.datastore.transaction(commit=True) as cur:
            # The first statement writes, so SQLite takes the write lock (waiting for
            # other writers) before this transaction reads anything.
            self.write_plan(cur, plan)
        if plan.erase_keys:
            self.after_erase()

    def write_plan(self, cur: Any, plan: AppendPlan, *, bulk: bool = False) -> None:
        if plan.events:
            cur.executemany(self.insert_events_statement,
                            [(s.hex, v, t, b) for s, v, t, b in plan.events])
        self.stamp(cur, plan)  # after a write: it reads under SQLite's write lock
        self.settle_voids(cur, plan)
        cur.execute("PRAGMA secure_delete = ON")  # freed space is zeroed (R-ID-2)
        self.write_side_tables(cur, plan)
        if plan.events:
            self.insert_rows(cur, *CHAIN_COLUMNS, self.chain_rows(cur, plan))

    def lock_for_key_move(self, cur: Any) -> None:
        cur.execute("DELETE FROM ledger_meta WHERE name = 'upgrade-lock'")  # the write lock first
        cur.execute("PRAGMA secure_delete = ON")

    def scrub(self, tables: tuple[str, ...]) -> None:
        self.checkpoint_wal()

    def checkpoint_wal(self, wait_ms: int = 3000) -> bool:
        """Copy the write-ahead log into the main file and empty it (old page images there
        could still hold an erased number): False when a reader kept it from completing."""
        with self.datastore.get_connection(commit=True) as conn:
            cur = conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            try:
                cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy, _, _ = cur.fetchone()
            finally:
                cur.execute(f"PRAGMA busy_timeout = {int(float(self.datastore.pool.lock_timeout or 5) * 1000)}")
        return not busy

    def after_erase(self) -> None:
        if not self.checkpoint_wal():
            raise ErasureIncomplete(
                f"the erasure is recorded, but {self.datastore.pool.db_name}-wal still holds old copies of the "
                "number: another process is reading the store (a desk, a backup, an sqlite3 shell) and kept "
                "the checkpoint from completing; close it, then run: ledger db checkpoint")

    def lock_for_import(self, cur: Any) -> None:
        # A write statement takes SQLite's write lock now (waiting for other writers), so
        # nothing is appended between the import's reads and its writes.
        cur.execute("DELETE FROM ledger_meta WHERE name = 'import-lock'")

    def end_import(self, cur: Any) -> None:
        pass

    def lock_for_checkpoint(self, cur: Any) -> None:
        pass  # SQLite serialises writers already


@functools.cache
def recorder_class() -> type:
    """`LedgerSQLite` on the library's SQLite recorder, made on first use (the library's
    module is imported only when a store is opened)."""
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    class LedgerSQLiteRecorder(LedgerSQLite, SQLiteApplicationRecorder):
        """The library's SQLite recorder, writing the ledger's side tables in its transaction."""

    return LedgerSQLiteRecorder
