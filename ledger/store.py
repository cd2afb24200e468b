"""The event store: one ordered stream per team on the `eventsourcing` library's recorders.

Each team's events are one stream: `originator_id = uuid5(TEAM_NAMESPACE, team)`,
`originator_version = seq` (1, 2, ...), `topic` = the event type, `state` = the orjson bytes of
the event's interchange dict. The library's primary key `(originator_id, originator_version)`
is the optimistic concurrency check: a racing writer gets the library's `IntegrityError`, which
the store raises as `ConcurrencyConflict` with nothing written.

Side tables are written by the recorder subclasses in the SAME transaction as the events:

- `ledger_teams`        the teams in the store;
- `ledger_index`        (team, seq, at in UTC microseconds, recorded in UTC microseconds): replay
                        order by (at, seq), R-T-5; `recorded` (R-CO-1) is the store's clock at
                        the append (to the second, non-decreasing in seq) or an import's own;
                        an `EntryVoided` is indexed at the `at` of the event it voids, so that
                        every late-event path (checkpoints, read models) re-folds from there;
- `ledger_voids`        (team, seq voided, seq of the void, recorded of the void), R-CO-2;
- `ledger_ids`          (team, id) -> seq: idempotent imports;
- `ledger_phones`       clear phone numbers by (team, seq, field) and phone key, R-ID-2;
                        the events themselves only ever hold keys (`ledger.phone.make_key`);
                        a `CustomerErased` deletes every clear copy of its number;
- `ledger_erased`       the keys of erased numbers: one recorded afterwards (a new lead, a
                        back-dated one) is kept as its key only, never in clear again;
- `ledger_checkpoints`  opaque rules-engine checkpoints by (team, at, seq); an appended event
                        back-dated before a checkpoint deletes it (R-T-5);
- `ledger_checkpoint_items`  the values checkpoints keep apart, by (team, digest of the bytes);
- `ledger_meta`         the per-store phone secret.

Nothing is opened at import time; `eventsourcing.postgres` / psycopg are imported only for
`postgresql://` URLs.
"""
from __future__ import annotations

import datetime as dt
import functools
import gc
import os
import secrets
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from .codec import decode_event as _fast_decode, encode_event
from .errors import ConcurrencyConflict, InputError, StoreError
from .events import EVENT_TYPES, CustomerErased, EntryVoided, Event, LeadArrived, Recorded
from .phone import is_key, make_key

DEFAULT_URL = "sqlite:///ledger.db"
TEAM_NAMESPACE = uuid.UUID("6f1d3c0e-2b5a-5d8e-9c47-1e0a7b3f4d21")
EVENTS_TABLE = "stored_events"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)
_CHUNK = 500
# Checkpoints kept per team besides the latest of each month (`Store.put_checkpoint`).
RECENT_CHECKPOINTS = 8

Key = tuple[dt.datetime, int]


def team_stream_id(team: str) -> uuid.UUID:
    return uuid.uuid5(TEAM_NAMESPACE, team)


def to_micros(moment: dt.datetime) -> int:
    """An aware time as integer UTC microseconds (exact, no float)."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


def decode_event(topic: str, state: bytes) -> Event:
    """A stored event; the same as `EVENT_TYPES[topic].model_validate_json(state)` (ledger.codec)."""
    return _fast_decode(topic, state)


# --------------------------------------------------------------------------------------------
# URLs


@dataclass(frozen=True)
class StoreURL:
    kind: str  # "sqlite" | "postgresql"
    path: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""

    def display(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"


def parse_url(url: str | None) -> StoreURL:
    """`None` -> $LEDGER_DB -> sqlite:///ledger.db. SQLAlchemy-style sqlite paths."""
    if url is None:
        url = os.environ.get("LEDGER_DB") or DEFAULT_URL
    expected = "expected sqlite:///PATH or postgresql://user:pass@host:port/dbname"
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise InputError(f"--db {url!r}: no file path; {expected}")
        return StoreURL("sqlite", path=path)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            parts = urlsplit(url)
            port = parts.port or 5432
        except ValueError as error:
            raise InputError(f"--db: {error}; {expected}") from None
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname or "/" in dbname:
            raise InputError(f"--db: no database name in the PostgreSQL URL; {expected}")
        import getpass

        return StoreURL(
            "postgresql",
            host=parts.hostname or "localhost",
            port=port,
            user=unquote(parts.username) if parts.username else getpass.getuser(),
            password=unquote(parts.password) if parts.password else "",
            dbname=dbname,
        )
    shown = url.split("@")[-1] if "@" in url else url
    raise InputError(f"--db {shown!r}: unsupported store URL; {expected}")


# --------------------------------------------------------------------------------------------
# What one append writes


@dataclass
class AppendPlan:
    expected: dict[uuid.UUID, int] = field(default_factory=dict)  # stream -> head before
    teams: list[str] = field(default_factory=list)
    events: list[tuple[uuid.UUID, int, str, bytes]] = field(default_factory=list)
    index_rows: list[tuple] = field(default_factory=list)  # team, seq, at_us, rec_us (None: stamp)
    voids: list[tuple[str, int, str]] = field(default_factory=list)  # team, seq of the void, its ref
    id_rows: list[tuple[str, str, int]] = field(default_factory=list)  # team, id, seq
    phone_rows: list[tuple[str, int, str, str, str]] = field(default_factory=list)
    erase_keys: list[str] = field(default_factory=list)
    invalidate: list[tuple[str, int]] = field(default_factory=list)  # team, earliest at_us


# Added after the first release: created by `_LedgerSQL.upgrade` in an older store too.
_UPGRADE_TABLES = [
    "CREATE INDEX IF NOT EXISTS ledger_index_by_recorded ON ledger_index (team, rec_us)",
    # A team's adoptions without a scan of its events (§10: zones over time); partial, so the
    # other events cost nothing to insert.
    f"CREATE INDEX IF NOT EXISTS ledger_policy_events ON {EVENTS_TABLE} (originator_id, originator_version) "
    "WHERE topic = 'PolicyAdopted'",
    "CREATE TABLE IF NOT EXISTS ledger_voids (team TEXT NOT NULL, seq BIGINT NOT NULL, "
    "void_seq BIGINT NOT NULL, rec_us BIGINT NOT NULL, PRIMARY KEY (team, seq))",
]

_TABLES = [
    "CREATE TABLE IF NOT EXISTS ledger_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_teams (team TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS ledger_index (team TEXT NOT NULL, seq BIGINT NOT NULL, "
    "at_us BIGINT NOT NULL, rec_us BIGINT NOT NULL, PRIMARY KEY (team, seq))",
    "CREATE INDEX IF NOT EXISTS ledger_index_by_time ON ledger_index (team, at_us, seq)",
    *_UPGRADE_TABLES,
    "CREATE TABLE IF NOT EXISTS ledger_ids (team TEXT NOT NULL, event_id TEXT NOT NULL, "
    "seq BIGINT NOT NULL, PRIMARY KEY (team, event_id))",
    "CREATE TABLE IF NOT EXISTS ledger_phones (team TEXT NOT NULL, seq BIGINT NOT NULL, "
    "field TEXT NOT NULL, phone_key TEXT NOT NULL, clear TEXT NOT NULL, "
    "PRIMARY KEY (team, seq, field))",
    "CREATE INDEX IF NOT EXISTS ledger_phones_by_key ON ledger_phones (phone_key)",
    "CREATE TABLE IF NOT EXISTS ledger_checkpoints (team TEXT NOT NULL, at_us BIGINT NOT NULL, "
    "seq BIGINT NOT NULL, blob {blob} NOT NULL, PRIMARY KEY (team, at_us, seq))",
    # The values checkpoints keep apart (leads, customers, ...), by the digest of their bytes:
    # shared by every checkpoint that holds the same value, read one by one on first use.
    "CREATE TABLE IF NOT EXISTS ledger_checkpoint_items (team TEXT NOT NULL, digest {blob} NOT NULL, "
    "blob {blob} NOT NULL, PRIMARY KEY (team, digest))",
    # The import check's catalog (projections.catalog) after `seq` events in recording order:
    # append-only history never invalidates it.
    "CREATE TABLE IF NOT EXISTS ledger_catalogs (team TEXT NOT NULL, seq BIGINT NOT NULL, "
    "blob {blob} NOT NULL, PRIMARY KEY (team, seq))",
    # Created last: `needs_tables` looks for it.
    "CREATE TABLE IF NOT EXISTS ledger_erased (phone_key TEXT PRIMARY KEY)",
]


class _LedgerSQL:
    """The side-table SQL shared by both recorders; statements are written with `?`."""

    blob_type = "BLOB"

    def sql(self, statement: str) -> str:
        return statement

    def sid(self, stream: uuid.UUID) -> Any:
        return stream

    def ledger_table_statements(self) -> list[str]:
        return [self.sql(s.replace("{blob}", self.blob_type)) for s in _TABLES]

    def insert_rows(self, cur: Any, into: str, types: tuple[str, ...], rows: list[tuple], *,
                    or_ignore: bool = False) -> None:
        """Insert `rows`; with `or_ignore`, a row whose key is stored already is skipped."""
        if rows:
            verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
            cur.executemany(f"{verb} INTO {into} VALUES ({', '.join('?' * len(types))})", rows)

    def remember_erasures(self) -> None:
        """Fill `ledger_erased` from the stored erasures (a store made before the table was)."""
        with self.cursor(commit=True) as cur:
            cur.execute(self.sql(f"SELECT state FROM {EVENTS_TABLE} WHERE topic = ?"), ("CustomerErased",))
            keys = dict.fromkeys(orjson.loads(bytes(row[0]))["phone"] for row in cur.fetchall())
            self.insert_rows(cur, "ledger_erased (phone_key)", ("text",), [(k,) for k in keys], or_ignore=True)

    def _not_erased(self, cur: Any, rows: list[tuple]) -> list[tuple]:
        """R-ID-2: "after CustomerErased the number cannot be recovered from the store": a
        number erased before (or earlier in this append) is not kept in clear again."""
        cur.execute("SELECT 1 FROM ledger_erased LIMIT 1")
        if not rows or cur.fetchone() is None:  # no number ever erased: nothing to look up
            return rows
        keys = list(dict.fromkeys(row[3] for row in rows))
        erased: set[str] = set()
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            cur.execute(self.sql(f"SELECT phone_key FROM ledger_erased WHERE phone_key IN "
                                 f"({', '.join('?' * len(chunk))})"), chunk)
            erased.update(row[0] for row in cur.fetchall())
        return [row for row in rows if row[3] not in erased] if erased else rows

    def write_side_tables(self, cur: Any, plan: AppendPlan) -> None:
        ex = cur.execute
        for stream, expected in plan.expected.items():
            if expected > 0:
                ex(self.sql(f"SELECT 1 FROM {EVENTS_TABLE} WHERE originator_id = ? "
                            "AND originator_version = ?"), (self.sid(stream), expected))
                if cur.fetchone() is None:
                    raise ConcurrencyConflict("the expected head of the stream is not its head")
        for team in plan.teams:
            ex(self.sql(self.insert_team_sql), (team,))
        self.insert_rows(cur, "ledger_index (team, seq, at_us, rec_us)", ("text", "bigint", "bigint", "bigint"),
                         plan.index_rows)
        self.insert_rows(cur, "ledger_ids (team, event_id, seq)", ("text", "text", "bigint"),
                         plan.id_rows)
        for key in plan.erase_keys:  # R-ID-2: earlier clear copies go, in every team
            ex(self.sql("DELETE FROM ledger_phones WHERE phone_key = ?"), (key,))
        self.insert_rows(cur, "ledger_erased (phone_key)", ("text",), [(k,) for k in plan.erase_keys],
                         or_ignore=True)
        self.insert_rows(cur, "ledger_phones (team, seq, field, phone_key, clear)",
                         ("text", "bigint", "text", "text", "text"), self._not_erased(cur, plan.phone_rows))
        for team, seq, ref in plan.voids:  # R-CO-2: as if a late event at the voided event's `at`
            target = self.void_target(cur, team, ref)
            ex(self.sql("SELECT at_us FROM ledger_index WHERE team = ? AND seq = ?"), (team, target))
            at_us = cur.fetchone()[0]
            ex(self.sql("UPDATE ledger_index SET at_us = ? WHERE team = ? AND seq = ?"), (at_us, team, seq))
            ex(self.sql("INSERT INTO ledger_voids (team, seq, void_seq, rec_us) "
                        "SELECT ?, ?, ?, rec_us FROM ledger_index WHERE team = ? AND seq = ?"),
               (team, target, seq, team, seq))
            ex(self.sql("DELETE FROM ledger_catalogs WHERE team = ?"), (team,))
            plan.invalidate.append((team, at_us))
        for team, at_us in plan.invalidate:  # R-T-5: a back-dated event voids later checkpoints
            ex(self.sql("DELETE FROM ledger_checkpoints WHERE team = ? AND at_us >= ?"), (team, at_us))

    def void_target(self, cur: Any, team: str, ref: str) -> int:
        """The seq an `EntryVoided` names: `#N`, or an event id (checked before the append)."""
        if ref.startswith("#"):
            return int(ref[1:])
        cur.execute(self.sql("SELECT seq FROM ledger_ids WHERE team = ? AND event_id = ?"), (team, ref))
        return cur.fetchone()[0]

    def stamp(self, cur: Any, plan: AppendPlan) -> None:
        """R-CO-1: the store's clock (to the second) as `recorded` of the rows without one, never
        earlier than the team's latest `recorded`; run under the append's lock."""
        if all(row[3] is not None for row in plan.index_rows):
            return
        now = to_micros(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
        latest: dict[str, int] = {}
        rows = []
        for team, seq, at_us, rec_us in plan.index_rows:
            if team not in latest:
                cur.execute(self.sql("SELECT MAX(rec_us) FROM ledger_index WHERE team = ?"), (team,))
                latest[team] = cur.fetchone()[0] or 0
            rec_us = max(latest[team], now) if rec_us is None else rec_us
            latest[team] = rec_us
            rows.append((team, seq, at_us, rec_us))
        plan.index_rows = rows

    def upgrade(self, cur: Any, columns: list[str]) -> None:
        """An older store: `recorded` for its events and the tables added since (OPERATIONS.md).

        Each old event gets the latest `at` recorded up to it (to the second, never later than
        now): non-decreasing in recording order, as R-CO-1 asks, and never before the event."""
        if "rec_us" not in columns:
            cur.execute("ALTER TABLE ledger_index ADD COLUMN rec_us BIGINT")
            cur.execute("SELECT team, seq, at_us FROM ledger_index ORDER BY team, seq")
            now = to_micros(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
            updates, team, latest = [], None, 0
            for row_team, seq, at_us in cur.fetchall():
                if row_team != team:
                    team, latest = row_team, 0
                latest = max(latest, min(at_us - at_us % 1_000_000, now))
                updates.append((latest, row_team, seq))
            cur.executemany(self.sql("UPDATE ledger_index SET rec_us = ? WHERE team = ? AND seq = ?"), updates)
        for statement in _UPGRADE_TABLES:
            cur.execute(self.sql(statement))


@functools.cache
def _sqlite_recorder_class() -> type:
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    class LedgerSQLiteRecorder(_LedgerSQL, SQLiteApplicationRecorder):
        """The library's SQLite recorder, writing the ledger's side tables in its transaction."""

        insert_team_sql = "INSERT OR IGNORE INTO ledger_teams (team) VALUES (?)"

        def construct_create_table_statements(self) -> list[str]:
            return super().construct_create_table_statements() + self.ledger_table_statements()

        def sid(self, stream: uuid.UUID) -> Any:
            return stream.hex

        def needs_tables(self) -> bool:
            with self.datastore.transaction(commit=False) as cur:
                cur.execute("SELECT name FROM sqlite_master WHERE name = 'ledger_erased'")
                return cur.fetchone() is None

        def upgrade_if_needed(self) -> None:
            with self.datastore.transaction(commit=False) as cur:
                cur.execute("SELECT name FROM sqlite_master WHERE name = 'ledger_policy_events'")
                if cur.fetchone() is not None:
                    return
            with self.datastore.transaction(commit=True) as cur:
                cur.execute("DELETE FROM ledger_meta WHERE name = 'upgrade-lock'")  # the write lock first
                cur.execute("SELECT name FROM sqlite_master WHERE name = 'ledger_policy_events'")
                if cur.fetchone() is not None:  # another process upgraded it meanwhile
                    return
                cur.execute("PRAGMA table_info(ledger_index)")
                self.upgrade(cur, [row[1] for row in cur.fetchall()])

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
            cur.execute("PRAGMA secure_delete = ON")  # freed space is zeroed (R-ID-2)
            self.write_side_tables(cur, plan)

        def after_erase(self) -> None:
            # Old page images in the write-ahead log could still hold an erased number.
            with self.datastore.get_connection(commit=True) as conn:
                conn.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")

        def lock_for_import(self, cur: Any) -> None:
            # A write statement takes SQLite's write lock now (waiting for other writers), so
            # nothing is appended between the import's reads and its writes.
            cur.execute("DELETE FROM ledger_meta WHERE name = 'import-lock'")

        def end_import(self, cur: Any) -> None:
            pass

        def lock_for_checkpoint(self, cur: Any) -> None:
            pass  # SQLite serialises writers already

    return LedgerSQLiteRecorder


@functools.cache
def _postgres_recorder_class() -> type:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL

    class LedgerPostgresRecorder(_LedgerSQL, PostgresApplicationRecorder):
        """The library's PostgreSQL recorder (EXCLUSIVE table lock on insert, as shipped),
        writing the ledger's side tables in the same transaction."""

        blob_type = "BYTEA"
        insert_team_sql = "INSERT INTO ledger_teams (team) VALUES (?) ON CONFLICT DO NOTHING"

        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.sql_create_statements.extend(SQL(s) for s in self.ledger_table_statements())

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
                cur.execute("SELECT to_regclass('ledger_policy_events') IS NULL")
                if not cur.fetchone()[0]:
                    return
            with self.cursor(commit=True) as cur:
                self._lock_table(cur)  # no append meanwhile
                cur.execute("SELECT pg_advisory_xact_lock(7251001)")
                cur.execute("SELECT to_regclass('ledger_policy_events') IS NULL")
                if not cur.fetchone()[0]:
                    return
                cur.execute("SELECT column_name FROM information_schema.columns "
                            "WHERE table_name = 'ledger_index' AND table_schema = current_schema()")
                self.upgrade(cur, [row[0] for row in cur.fetchall()])

        @contextmanager
        def cursor(self, *, commit: bool) -> Iterator[Any]:
            with self.datastore.get_connection() as conn:
                with conn.transaction(force_rollback=not commit):
                    # Results in binary: a bytea (event, checkpoint) arrives as its bytes, not
                    # as hex text twice its size to decode (a 3 MB checkpoint: 40 -> 20 ms).
                    yield conn.cursor(row_factory=tuple_row, binary=True)

        def append_plan(self, plan: AppendPlan) -> None:
            with self.cursor(commit=True) as cur:
                self.write_plan(cur, plan)

        def write_plan(self, cur: Any, plan: AppendPlan, *, bulk: bool = False) -> None:
            if plan.events and not bulk:
                self._lock_table(cur)  # before `recorded` is stamped (R-CO-1: non-decreasing)
                self.stamp(cur, plan)
                stored = [StoredEvent(originator_id=s, originator_version=v, topic=t, state=b)
                          for s, v, t, b in plan.events]
                # The library's own insert: LOCK TABLE ... IN EXCLUSIVE MODE, NOTIFY, INSERT.
                self._insert_stored_events(cur, stored)
            elif plan.events:
                # Imports: the same lock and notification, then COPY (the library's composite
                # array parameter is adapted row by row in Python: 3x slower per event).
                self._lock_table(cur)
                self.stamp(cur, plan)
                self._notify_channel(cur)
                self._copy(cur, f"{EVENTS_TABLE} (originator_id, originator_version, topic, state)",
                           plan.events)
                self._copy(cur, "ledger_index (team, seq, at_us, rec_us)", plan.index_rows)
                self._copy(cur, "ledger_ids (team, event_id, seq)", plan.id_rows)
                plan = AppendPlan(expected=plan.expected, teams=plan.teams, phone_rows=plan.phone_rows,
                                  erase_keys=plan.erase_keys, invalidate=plan.invalidate, voids=plan.voids)
            self.write_side_tables(cur, plan)

        def _copy(self, cur: Any, into: str, rows: list[tuple]) -> None:
            if rows:
                with cur.copy(f"COPY {into} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)

        def after_erase(self) -> None:
            pass

        def lock_for_import(self, cur: Any) -> None:
            # The appenders' own lock, taken before the import reads anything (readers go on).
            cur.execute(f"LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE")
            # No prepared statements in an import: a generic plan made while the tables were
            # small keeps scanning them whole as this transaction fills them (quadratic).
            # The connection goes back to the pool afterwards, so `end_import` restores it.
            self._prepare_threshold = cur.connection.prepare_threshold
            cur.connection.prepare_threshold = None

        def end_import(self, cur: Any) -> None:
            cur.connection.prepare_threshold = getattr(self, "_prepare_threshold", 5)

        def lock_for_checkpoint(self, cur: Any) -> None:
            # SHARE conflicts with the appenders' EXCLUSIVE lock: no append is in flight while
            # a checkpoint is checked against late events and written.
            cur.execute(f"LOCK TABLE {EVENTS_TABLE} IN SHARE MODE")

    return LedgerPostgresRecorder


# --------------------------------------------------------------------------------------------
# The store


class _Reads:
    """What the store and an import session read alike (`_rows`, `_sid` differ)."""

    _rows: Any
    _sid: Any

    def head(self, team: str) -> int:
        rows = self._rows(f"SELECT MAX(originator_version) FROM {EVENTS_TABLE} WHERE originator_id = ?",
                          (self._sid(team),))
        return rows[0][0] or 0

    def voided(self, team: str, as_recorded: dt.datetime | None = None) -> dict[int, int]:
        """seq voided -> seq of its void, for the voids recorded by `as_recorded` (None: all)."""
        statement = "SELECT seq, void_seq FROM ledger_voids WHERE team = ?"
        params: list[Any] = [team]
        if as_recorded is not None:
            statement += " AND rec_us <= ?"
            params.append(to_micros(as_recorded))
        return dict(self._rows(statement, params))

    def latest_recorded(self, team: str) -> dt.datetime | None:
        rows = self._rows("SELECT MAX(rec_us) FROM ledger_index WHERE team = ?", (team,))
        return from_micros(rows[0][0]) if rows and rows[0][0] is not None else None

    def seq_of(self, team: str, ref: str) -> int | None:
        """The recording number an event reference names: `#N` or an event id (None: unknown)."""
        if ref.startswith("#"):
            number = int(ref[1:]) if ref[1:].isdigit() else 0
            return number if 0 < number <= self.head(team) else None
        rows = self._rows("SELECT seq FROM ledger_ids WHERE team = ? AND event_id = ?", (team, ref))
        return rows[0][0] if rows else None



def open_store(url: str | None = None) -> "Store":
    """Open (creating on first use) the store at `url`, else $LEDGER_DB, else sqlite:///ledger.db."""
    return Store(parse_url(url))


class Store(_Reads):
    def __init__(self, url: StoreURL):
        self.url = url
        self._secret: bytes | None = None
        self._keys: dict[str, str] = {}
        self._prepared: dict[int, tuple[Event, Event, bytes]] = {}
        self._factory: Any = None
        try:
            if url.kind == "sqlite":
                self._open_sqlite()
            else:
                self._open_postgres()
        except (StoreError, InputError):
            self.close()
            raise
        except Exception as error:
            self.close()
            raise StoreError(f"cannot open the store {url.display()}: {_describe(error)}") from None

    # -- opening -------------------------------------------------------------------------------

    def _open_sqlite(self) -> None:
        from eventsourcing.persistence import InfrastructureFactory
        from eventsourcing.utils import Environment

        folder = os.path.dirname(os.path.abspath(self.url.path))
        if self.url.path != ":memory:" and not os.path.isdir(folder):
            raise StoreError(f"cannot open the store {self.url.display()}: no directory {folder}")
        recorder_class = _sqlite_recorder_class()
        env = Environment("", {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": self.url.path,
            "SQLITE_LOCK_TIMEOUT": "30",
            "CREATE_TABLE": "no",
        })
        self._factory = InfrastructureFactory.construct(env)
        self.recorder = recorder_class(datastore=self._factory.datastore)
        if self.recorder.needs_tables():
            self.recorder.create_table()
            self.recorder.remember_erasures()
        self.recorder.upgrade_if_needed()

    def _open_postgres(self) -> None:
        import psycopg

        u = self.url
        try:  # a quick, explicit probe: clear message instead of the pool's long retries
            psycopg.connect(host=u.host, port=u.port, user=u.user, password=u.password,
                            dbname=u.dbname, connect_timeout=5).close()
        except psycopg.Error as error:
            raise StoreError(f"cannot connect to {u.display()}: {_describe(error)}") from None
        from eventsourcing.persistence import InfrastructureFactory
        from eventsourcing.utils import Environment

        recorder_class = _postgres_recorder_class()
        # Only these settings: the process environment is deliberately not consulted (never
        # POSTGRES_ENABLE_DB_FUNCTIONS: it drops the insert lock).
        env = Environment("", {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": u.dbname,
            "POSTGRES_HOST": u.host,
            "POSTGRES_PORT": str(u.port),
            "POSTGRES_USER": u.user,
            "POSTGRES_PASSWORD": u.password,
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": "3",
            "POSTGRES_CONNECT_TIMEOUT": "30",
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "0",
            "CREATE_TABLE": "no",
        })
        self._factory = InfrastructureFactory.construct(env)
        datastore = self._factory.datastore
        recorder = recorder_class(datastore=datastore, events_table_name=EVENTS_TABLE)
        self.recorder = recorder
        if recorder.needs_tables():
            with recorder.cursor(commit=True) as cur:  # serialise concurrent first uses
                cur.execute("SELECT pg_advisory_xact_lock(7251001)")
                recorder.create_table()
            recorder.remember_erasures()
        recorder.upgrade_if_needed()

    def close(self) -> None:
        if self._factory is not None:
            try:
                self._factory.close()
            except Exception:
                pass
            self._factory = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _cursor(self, *, commit: bool = False) -> Iterator[Any]:
        from eventsourcing.persistence import IntegrityError, PersistenceError

        try:
            with self.recorder.cursor(commit=commit) as cur:
                yield cur
        except IntegrityError as error:
            raise ConcurrencyConflict(f"another writer appended first: {_describe(error)}") from None
        except PersistenceError as error:
            raise StoreError(f"database error on {self.url.display()}: {_describe(error)}") from None

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._cursor() as cur:
            cur.execute(self.recorder.sql(statement), params)
            return cur.fetchall()

    def _sid(self, team: str) -> Any:
        return self.recorder.sid(team_stream_id(team))

    @property
    def secret(self) -> bytes:
        """The per-store key of the phone hashes (R-ID-2), created on first use."""
        if self._secret is None:
            rows = self._rows("SELECT value FROM ledger_meta WHERE name = 'phone_secret'")
            if not rows:
                insert = ("INSERT OR IGNORE INTO ledger_meta (name, value) VALUES ('phone_secret', ?)"
                          if self.url.kind == "sqlite" else
                          "INSERT INTO ledger_meta (name, value) VALUES ('phone_secret', ?) "
                          "ON CONFLICT DO NOTHING")
                with self._cursor(commit=True) as cur:
                    cur.execute(self.recorder.sql(insert), (secrets.token_hex(32),))
                rows = self._rows("SELECT value FROM ledger_meta WHERE name = 'phone_secret'")
            self._secret = bytes.fromhex(rows[0][0])
        return self._secret

    # -- reading -------------------------------------------------------------------------------

    def teams(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT team FROM ledger_teams ORDER BY team")]

    def read(self, team: str, after_seq: int = 0, limit: int | None = None) -> list[Recorded]:
        """The team's events with seq > after_seq, in recording order (at most `limit`)."""
        rows = self._rows(
            f"SELECT originator_version, topic, state FROM {EVENTS_TABLE} "
            "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version"
            + (f" LIMIT {int(limit)}" if limit is not None else ""),
            (self._sid(team), after_seq))
        return _decoded(rows)

    def read_by_time(self, team: str, after_key: Key | None = None,
                     until: dt.datetime | None = None, as_recorded: dt.datetime | None = None) -> list[Recorded]:
        """The events replay folds (R-T-5, R-CO-2, R-CO-4): the team's events in replay order
        (at, seq), after `after_key`, with at <= until, recorded by `as_recorded` (None: all),
        without the voids and what they voided."""
        statement = (f"SELECT e.originator_version, e.topic, e.state FROM ledger_index i "
                     f"JOIN {EVENTS_TABLE} e ON e.originator_id = ? AND e.originator_version = i.seq "
                     "WHERE i.team = ?")
        params: list[Any] = [self._sid(team), team]
        if as_recorded is not None:
            statement += " AND i.rec_us <= ?"
            params.append(to_micros(as_recorded))
        if after_key is not None:
            # The plain bound first: PostgreSQL guesses a row comparison's selectivity blindly
            # (~1 %), and chose a hash join over the whole events table for a few new events.
            statement += " AND i.at_us >= ? AND (i.at_us, i.seq) > (?, ?)"
            at_us = to_micros(after_key[0])
            params += [at_us, at_us, after_key[1]]
        if until is not None:
            statement += " AND i.at_us <= ?"
            params.append(to_micros(until))
        statement += " ORDER BY i.at_us, i.seq"
        return self.unvoided(team, _decoded(self._rows(statement, params)), as_recorded)

    def adoptions(self, team: str, as_recorded: dt.datetime | None = None) -> list[Recorded]:
        """The team's `PolicyAdopted` events in replay order, voided ones left out (R-CO-2);
        with `as_recorded`, those recorded by then (R-CO-4)."""
        statement = (f"SELECT e.originator_version, e.topic, e.state FROM {EVENTS_TABLE} e "
                     "WHERE e.originator_id = ? AND e.topic = 'PolicyAdopted'")
        params: list[Any] = [self._sid(team)]
        if as_recorded is not None:
            statement += (" AND EXISTS (SELECT 1 FROM ledger_index i WHERE i.team = ? "
                          "AND i.seq = e.originator_version AND i.rec_us <= ?)")
            params += [team, to_micros(as_recorded)]
        records = _decoded(self._rows(statement, params))
        return sorted(self.unvoided(team, records, as_recorded), key=lambda rec: rec.key)

    # -- the record (R-CO-*) -------------------------------------------------------------------

    def unvoided(self, team: str, records: list[Recorded], as_recorded: dt.datetime | None = None) -> list[Recorded]:
        """`records` without the voids and the events they voided (R-CO-2)."""
        voided = self.voided(team, as_recorded)
        if not voided and not any(type(r.event) is EntryVoided for r in records):
            return records
        return [r for r in records if r.seq not in voided and type(r.event) is not EntryVoided]

    def recorded_at(self, team: str, seqs: Iterable[int]) -> dict[int, tuple[dt.datetime, dt.datetime]]:
        """seq -> (at as indexed, recorded) for these events of the team (R-CO-1)."""
        found: dict[int, tuple[dt.datetime, dt.datetime]] = {}
        wanted = sorted(set(seqs))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            for seq, at_us, rec_us in self._rows(
                    f"SELECT seq, at_us, rec_us FROM ledger_index WHERE team = ? "
                    f"AND seq IN ({', '.join('?' * len(chunk))})", [team, *chunk]):
                found[seq] = (from_micros(at_us), from_micros(rec_us))
        return found

    def earliest_at_recorded_after(self, team: str, moment: dt.datetime) -> dt.datetime | None:
        """The earliest replay `at` among the events recorded after `moment` (a void counts at
        the `at` of what it voids): a checkpoint before it holds only what was recorded by then."""
        rows = self._rows("SELECT MIN(at_us) FROM ledger_index WHERE team = ? AND rec_us > ?",
                          (team, to_micros(moment)))
        return from_micros(rows[0][0]) if rows and rows[0][0] is not None else None

    def voided_records(self, team: str, as_recorded: dt.datetime | None = None) -> list[tuple[Recorded, int]]:
        """The team's voided events (phones as keys) with the seq of each one's void, in
        recording order: one query, whatever the number of voids."""
        statement = (f"SELECT v.seq, v.void_seq, e.topic, e.state FROM ledger_voids v JOIN {EVENTS_TABLE} e "
                     "ON e.originator_id = ? AND e.originator_version = v.seq WHERE v.team = ?")
        params: list[Any] = [self._sid(team), team]
        if as_recorded is not None:
            statement += " AND v.rec_us <= ?"
            params.append(to_micros(as_recorded))
        rows = self._rows(statement + " ORDER BY v.seq", params)
        return [(Recorded(seq, decode_event(topic, bytes(state))), void) for seq, void, topic, state in rows]

    def stored(self, team: str, seq: int) -> tuple[Event, dt.datetime] | None:
        """One stored event (phone numbers as keys) and its `recorded`."""
        rows = self._rows(f"SELECT e.topic, e.state, i.rec_us FROM {EVENTS_TABLE} e JOIN ledger_index i "
                          "ON i.team = ? AND i.seq = e.originator_version "
                          "WHERE e.originator_id = ? AND e.originator_version = ?", (team, self._sid(team), seq))
        if not rows:
            return None
        topic, state, rec_us = rows[0]
        return decode_event(topic, bytes(state)), from_micros(rec_us)

    def latest_at(self, team: str, as_recorded: dt.datetime | None = None) -> dt.datetime | None:
        """The latest `at` replay sees for the team (recorded by `as_recorded`; voids and what
        they voided left out: a time typed as 2030 and voided no longer sets the default moment);
        None when it has no such event."""
        voided = self.voided(team, as_recorded)
        hidden = set(voided) | set(voided.values())
        statement = "SELECT seq, at_us FROM ledger_index WHERE team = ?"
        params: list[Any] = [team]
        if as_recorded is not None:
            statement += " AND rec_us <= ?"
            params.append(to_micros(as_recorded))
        statement += f" ORDER BY at_us DESC LIMIT {len(hidden) + 1}"
        found = next((at_us for seq, at_us in self._rows(statement, params) if seq not in hidden), None)
        return from_micros(found) if found is not None else None

    def find_ids(self, team: str, ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """Stored events of `team` with these idempotency ids: id -> (seq, canonical JSON)."""
        wanted = sorted(set(ids))
        found: dict[str, tuple[int, str]] = {}
        sid = self._sid(team)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            rows = self._rows(
                f"SELECT i.event_id, i.seq, e.state FROM ledger_ids i JOIN {EVENTS_TABLE} e "
                "ON e.originator_id = ? AND e.originator_version = i.seq "
                f"WHERE i.team = ? AND i.event_id IN ({', '.join('?' * len(chunk))})",
                [sid, team, *chunk])
            for event_id, seq, state in rows:
                found[event_id] = (seq, bytes(state).decode())
        return found

    def export_lines(self, team: str) -> Iterator[bytes]:
        """The team's events as interchange JSON (no newline), recording order, with clear phone
        numbers re-joined where they have not been erased (else the stored key)."""
        clear: dict[int, dict[str, str]] = {}
        for seq, name, number in self._rows(
                "SELECT seq, field, clear FROM ledger_phones WHERE team = ?", (team,)):
            clear.setdefault(seq, {})[name] = number
        rows = self._rows(f"SELECT e.originator_version, e.topic, e.state, i.rec_us FROM {EVENTS_TABLE} e "
                          "JOIN ledger_index i ON i.team = ? AND i.seq = e.originator_version "
                          "WHERE e.originator_id = ? ORDER BY e.originator_version", (team, self._sid(team)))
        zone: Any = dt.timezone.utc
        for seq, topic, state, rec_us in rows:
            state = bytes(state)
            if topic == "PolicyAdopted":  # `recorded` in the zone of the latest policy recorded
                from zoneinfo import ZoneInfo

                from .policy import policy_of

                zone = ZoneInfo(policy_of(decode_event(topic, state)).timezone)
            if seq in clear:
                data = orjson.loads(state)
                data.update(clear[seq])
                state = orjson.dumps(data)
            recorded = from_micros(rec_us).astimezone(zone).isoformat(timespec="seconds")
            yield state[:-1] + b',"recorded":"' + recorded.encode() + b'"}'

    def export_events(self, team: str) -> list[Event]:
        return [EVENT_TYPES[orjson.loads(line)["type"]].model_validate_json(line)
                for line in self.export_lines(team)]

    # -- writing -------------------------------------------------------------------------------

    def phone_key(self, phone: str) -> str:
        """The stored form of a number (a key is kept as it is)."""
        if is_key(phone):
            return phone
        key = self._keys.get(phone)
        if key is None:
            key = self._keys[phone] = make_key(phone, self.secret)
        return key

    def protect(self, event: Event) -> Event:
        """The stored form of an event: phone numbers replaced by keys (R-ID-2), without its
        `recorded` (kept beside it, R-CO-1)."""
        if event.recorded is not None:
            event = event.model_copy(update={"recorded": None})
        if isinstance(event, LeadArrived):
            update = {name: self.phone_key(value) for name in ("phone", "referrer_phone")
                      if (value := getattr(event, name)) is not None and not is_key(value)}
            return event.model_copy(update=update) if update else event
        if isinstance(event, CustomerErased) and not is_key(event.phone):
            return event.model_copy(update={"phone": self.phone_key(event.phone)})
        return event

    def stored_form(self, event: Event) -> tuple[Event, bytes]:
        """The protected event and its stored JSON (the canonical content for idempotency ids).

        Remembered until the next `append`, which then does not compute it again."""
        cached = self._prepared.get(id(event))
        if cached is not None and cached[0] is event:
            return cached[1], cached[2]
        stored = self.protect(event)
        state = encode_event(stored)  # = orjson.dumps(stored.to_json_dict())
        if len(self._prepared) < 1_000_000:
            self._prepared[id(event)] = (event, stored, state)
        return stored, state

    def append(self, batches: dict[str, tuple[int, list[Event]]]) -> dict[str, list[Recorded]]:
        """Append each team's events after its expected head, all teams in one transaction.

        Raises `ConcurrencyConflict` (nothing written) when a head moved meanwhile."""
        try:
            return self._append(batches)
        finally:
            self._prepared.clear()

    def _append(self, batches: dict[str, tuple[int, list[Event]]]) -> dict[str, list[Recorded]]:
        plan, recorded, phones = self._plan_append(batches)
        if not plan.events:
            return recorded
        plan.phone_rows, plan.erase_keys = _settle_phones(phones)
        from eventsourcing.persistence import IntegrityError, PersistenceError

        try:
            self.recorder.append_plan(plan)
        except IntegrityError as error:
            raise ConcurrencyConflict(f"another writer appended first: {_describe(error)}") from None
        except PersistenceError as error:
            raise StoreError(f"database error on {self.url.display()}: {_describe(error)}") from None
        return recorded

    def _plan_append(self, batches: dict[str, tuple[int, list[Event]]]
                     ) -> tuple[AppendPlan, dict[str, list[Recorded]], list[tuple]]:
        """What appending `batches` writes; phone rows and erasures come apart, in processing
        order (team by team, then seq), for `_settle_phones`."""
        plan = AppendPlan()
        recorded: dict[str, list[Recorded]] = {}
        phones: list[tuple] = []  # (team, seq, field, key, clear) or (team, seq, None, key, None)
        for team, (expected, events) in batches.items():
            if not events:
                continue
            stream = team_stream_id(team)
            plan.expected[stream] = expected
            plan.teams.append(team)
            out = recorded[team] = []
            earliest: int | None = None
            for seq, event in enumerate(events, start=expected + 1):
                if event.team != team:
                    raise ValueError(f"event of team {event.team!r} in the batch of {team!r}")
                stored, state = self.stored_form(event)
                if isinstance(event, LeadArrived):
                    for name in ("phone", "referrer_phone"):
                        value = getattr(event, name)
                        if value is not None and not is_key(value):
                            phones.append((team, seq, name, getattr(stored, name), value))
                elif isinstance(stored, CustomerErased):
                    phones.append((team, seq, None, stored.phone, None))
                at_us = to_micros(event.at)
                earliest = at_us if earliest is None or at_us < earliest else earliest
                plan.events.append((stream, seq, stored.type, state))
                plan.index_rows.append((team, seq, at_us,
                                        None if event.recorded is None else to_micros(event.recorded)))
                if isinstance(event, EntryVoided):
                    plan.voids.append((team, seq, event.event))
                if event.id is not None:
                    plan.id_rows.append((team, event.id, seq))
                out.append(Recorded(seq, stored))
            assert earliest is not None
            plan.invalidate.append((team, earliest))
        return plan, recorded, phones

    @contextmanager
    def import_session(self) -> Iterator["ImportSession"]:
        """One write transaction for a whole import, holding the appenders' lock from the start:
        what it reads is what it appends after. Leaving the block by an exception rolls
        everything back; `ImportSession.rollback()` asks for that without an error."""
        from eventsourcing.persistence import IntegrityError, PersistenceError

        _ = self.secret  # created outside the lock: keying phone numbers must not write
        session = None
        try:
            with self.recorder.cursor(commit=True) as cur:
                try:
                    self.recorder.lock_for_import(cur)
                    session = ImportSession(self, cur)
                    yield session
                    session.finish()
                finally:
                    self.recorder.end_import(cur)
        except _RolledBack:
            return
        except IntegrityError as error:
            raise ConcurrencyConflict(f"another writer appended first: {_describe(error)}") from None
        except PersistenceError as error:
            raise StoreError(f"database error on {self.url.display()}: {_describe(error)}") from None
        finally:
            self._prepared.clear()
        if session is not None and session.erased:
            self.recorder.after_erase()

    # -- checkpoints ---------------------------------------------------------------------------

    def put_checkpoint(self, team: str, key: Key, blob: bytes, *, items: dict[bytes, bytes] | None = None,
                       head: int | None = None) -> bool:
        """Keep an opaque checkpoint of the rules engine at replay position `key` (at, seq), and
        the values it keeps apart, `items` {digest: bytes} (those stored already are skipped).

        With `head` (the last seq the fold had seen), the checkpoint is dropped — returning
        False — when an event recorded after `head` is back-dated before `key` (R-T-5)."""
        at_us = to_micros(key[0])
        sql = self.recorder.sql
        with self._cursor(commit=True) as cur:
            self.recorder.lock_for_checkpoint(cur)
            if items:
                self.recorder.insert_rows(cur, "ledger_checkpoint_items (team, digest, blob)",
                                          ("text", "bytea", "bytea"),
                                          [(team, digest, value) for digest, value in items.items()], or_ignore=True)
            cur.execute(sql("DELETE FROM ledger_checkpoints WHERE team = ? AND at_us = ? AND seq = ?"),
                        (team, at_us, key[1]))
            cur.execute(sql("INSERT INTO ledger_checkpoints (team, at_us, seq, blob) VALUES (?, ?, ?, ?)"),
                        (team, at_us, key[1], blob))
            if head is not None:
                cur.execute(sql("SELECT 1 FROM ledger_index WHERE team = ? AND seq > ? AND at_us <= ? LIMIT 1"),
                            (team, head, at_us))
                if cur.fetchone() is not None:
                    cur.execute(sql("DELETE FROM ledger_checkpoints WHERE team = ? AND at_us = ? AND seq = ?"),
                                (team, at_us, key[1]))
                    return False
            self._thin_checkpoints(cur, team)
        return True

    def _thin_checkpoints(self, cur: Any, team: str) -> None:
        """Keep the team's newest `RECENT_CHECKPOINTS` checkpoints and, before them, the latest of
        each month (UTC): a query about any moment folds at most about a month of events."""
        sql = self.recorder.sql
        cur.execute(sql("SELECT at_us, seq FROM ledger_checkpoints WHERE team = ? ORDER BY at_us DESC, seq DESC"),
                    (team,))
        months: set[str] = set()
        doomed = []
        for n, (at_us, seq) in enumerate(cur.fetchall()):
            month = f"{from_micros(at_us):%Y-%m}"
            if n < RECENT_CHECKPOINTS or month not in months:
                months.add(month)
            else:
                doomed.append((team, at_us, seq))
        if doomed:
            cur.executemany(sql("DELETE FROM ledger_checkpoints WHERE team = ? AND at_us = ? AND seq = ?"), doomed)

    def put_catalog(self, team: str, seq: int, blob: bytes) -> None:
        """Keep the import catalog of the team's first `seq` events (recording order)."""
        sql = self.recorder.sql
        with self._cursor(commit=True) as cur:
            cur.execute(sql("DELETE FROM ledger_catalogs WHERE team = ?"), (team,))
            cur.execute(sql("INSERT INTO ledger_catalogs (team, seq, blob) VALUES (?, ?, ?)"), (team, seq, blob))

    def get_catalog(self, team: str) -> tuple[int, bytes] | None:
        """The latest kept import catalog of the team: (seq, blob)."""
        rows = self._rows("SELECT seq, blob FROM ledger_catalogs WHERE team = ? ORDER BY seq DESC LIMIT 1", (team,))
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def get_checkpoint(self, team: str, before: Key | None = None) -> tuple[Key, bytes] | None:
        """The latest checkpoint with key <= `before` (None: the latest of all)."""
        statement = "SELECT at_us, seq, blob FROM ledger_checkpoints WHERE team = ?"
        params: list[Any] = [team]
        if before is not None:
            at_us = to_micros(before[0])
            statement += " AND at_us <= ? AND (at_us, seq) <= (?, ?)"
            params += [at_us, at_us, before[1]]
        statement += " ORDER BY at_us DESC, seq DESC LIMIT 1"
        rows = self._rows(statement, params)
        if not rows:
            return None
        at_us, seq, blob = rows[0]
        return (from_micros(at_us), seq), bytes(blob)

    def checkpoint_items(self, team: str, digests: Sequence[bytes]) -> dict[bytes, bytes]:
        """The values checkpoints kept apart, by digest (`put_checkpoint(items=...)`)."""
        found: dict[bytes, bytes] = {}
        wanted = list(dict.fromkeys(digests))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            rows = self._rows(f"SELECT digest, blob FROM ledger_checkpoint_items WHERE team = ? "
                              f"AND digest IN ({', '.join('?' * len(chunk))})", [team, *chunk])
            found.update((bytes(digest), bytes(blob)) for digest, blob in rows)
        missing = len(wanted) - len(found)
        if missing:  # deleted by hand meanwhile (OPERATIONS.md): the command is not trusted to go on
            raise StoreError(f"{missing} checkpoint value(s) of team {team!r} are missing from the store; "
                             "run the command again")
        return found


def _decoded(rows: list) -> list[Recorded]:
    """(seq, topic, state) rows as records. The cyclic GC is paused meanwhile: the events are
    acyclic, and its passes over a growing list of them halved the rate (1.1M-event store)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return [Recorded(seq, decode_event(topic, bytes(state))) for seq, topic, state in rows]
    finally:
        if enabled:
            gc.enable()


class _RolledBack(Exception):
    pass


def _settle_phones(phones: list[tuple]) -> tuple[list[tuple[str, int, str, str, str]], list[str]]:
    """The clear-number rows to insert and the keys to erase (R-ID-2), from the phone entries of
    an append in processing order: an erasure drops the rows before it with its key."""
    rows: list[tuple[str, int, str, str, str]] = []
    erase_keys: list[str] = []
    for entry in phones:
        if entry[2] is None:
            key = entry[3]
            erase_keys.append(key)
            rows = [row for row in rows if row[3] != key]
        else:
            rows.append(entry)
    return rows, list(dict.fromkeys(erase_keys))


class ImportSession(_Reads):
    """The reads and chunked appends of one import, in one transaction (`Store.import_session`).

    Appended chunks are visible to this session's reads (`find_ids`) at once. Clear phone
    numbers and erasures are written at the end, settled in the order a single append of the
    whole file would have used (teams in order of their first appended event, then seq)."""

    def __init__(self, store: Store, cur: Any):
        self.store = store
        self.cur = cur
        self.sql = store.recorder.sql
        self._team_order: dict[str, int] = {}
        self._phones: list[tuple] = []
        self.erased = False
        self._rollback = False

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        self.cur.execute(self.sql(statement), params)
        return self.cur.fetchall()

    def _sid(self, team: str) -> Any:
        return self.store._sid(team)

    def read(self, team: str, after_seq: int = 0) -> list[Recorded]:
        rows = self._rows(
            f"SELECT originator_version, topic, state FROM {EVENTS_TABLE} "
            "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version",
            (self.store._sid(team), after_seq))
        return [Recorded(seq, decode_event(topic, bytes(state))) for seq, topic, state in rows]

    def get_catalog(self, team: str) -> tuple[int, bytes] | None:
        rows = self._rows("SELECT seq, blob FROM ledger_catalogs WHERE team = ? ORDER BY seq DESC LIMIT 1", (team,))
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def put_catalog(self, team: str, seq: int, blob: bytes) -> None:
        self.cur.execute(self.sql("DELETE FROM ledger_catalogs WHERE team = ?"), (team,))
        self.cur.execute(self.sql("INSERT INTO ledger_catalogs (team, seq, blob) VALUES (?, ?, ?)"),
                         (team, seq, blob))

    def find_ids(self, team: str, ids: Iterable[str]) -> dict[str, tuple[int, bytes]]:
        """Events of `team` with these ids, stored or appended in this session: id -> (seq, JSON)."""
        wanted = sorted(set(ids))
        found: dict[str, tuple[int, bytes]] = {}
        seqs: dict[int, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            for event_id, seq in self._rows(
                    f"SELECT event_id, seq FROM ledger_ids WHERE team = ? "
                    f"AND event_id IN ({', '.join('?' * len(chunk))})", [team, *chunk]):
                seqs[seq] = event_id
        if seqs:  # rare (re-imports): then the stored content
            numbers = sorted(seqs)
            sid = self.store._sid(team)
            for start in range(0, len(numbers), _CHUNK):
                chunk = numbers[start:start + _CHUNK]
                for seq, state in self._rows(
                        f"SELECT originator_version, state FROM {EVENTS_TABLE} WHERE originator_id = ? "
                        f"AND originator_version IN ({', '.join('?' * len(chunk))})", [sid, *chunk]):
                    found[seqs[seq]] = (seq, bytes(state))
        return found

    def append(self, batches: dict[str, tuple[int, list[Event]]]) -> dict[str, int]:
        """Append each team's events after its expected head; returns team -> new head."""
        store = self.store
        try:
            plan, recorded, phones = store._plan_append(batches)
        finally:
            store._prepared.clear()
        for team in recorded:
            self._team_order.setdefault(team, len(self._team_order))
        order = self._team_order
        self._phones += [(order[entry[0]], entry) for entry in phones]
        if plan.events:
            store.recorder.write_plan(self.cur, plan, bulk=True)
        return {team: items[-1].seq for team, items in recorded.items() if items}

    def rollback(self) -> None:
        self._rollback = True

    def finish(self) -> None:
        if self._rollback:
            raise _RolledBack
        if self._phones:
            self._phones.sort(key=lambda item: (item[0], item[1][1]))  # stable: fields keep order
            rows, erase_keys = _settle_phones([entry for _, entry in self._phones])
            plan = AppendPlan(phone_rows=rows, erase_keys=erase_keys)
            self.store.recorder.write_side_tables(self.cur, plan)
            self.erased = bool(erase_keys)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
