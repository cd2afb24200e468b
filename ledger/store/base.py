"""What every part of the store shares: names and units, decoding, the append plan, the side
tables' SQL (`LedgerSQL`, mixed into both recorders) and the translation of the library's
errors into the ledger's (`translated`)."""
from __future__ import annotations

import datetime as dt
import gc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..codec import decode_event as _fast_decode
from ..errors import ConcurrencyConflict, StoreError
from ..events import Event, Recorded
from ..phone import identity
from .chain import genesis, links
from .guards import MARK

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


def rowcount(cur: Any) -> int:
    """The rows the cursor's last statement changed (the SQLite recorder wraps its cursor)."""
    return getattr(cur, "sqlite_cursor", cur).rowcount


def decode_event(topic: str, state: bytes) -> Event:
    """A stored event; the same as `EVENT_TYPES[topic].model_validate_json(state)` (ledger.codec)."""
    return _fast_decode(topic, state)



@dataclass
class AppendPlan:
    expected: dict[uuid.UUID, int] = field(default_factory=dict)  # stream -> head before
    teams: list[str] = field(default_factory=list)
    events: list[tuple[uuid.UUID, int, str, bytes]] = field(default_factory=list)
    index_rows: list[tuple] = field(default_factory=list)  # team, seq, at_us, rec_us (None: stamp)
    voids: list[tuple[str, int, str]] = field(default_factory=list)  # team, seq of the void, its ref
    # team, seq voided, seq of the void, `at` of the voided event (`LedgerSQL.settle_voids`)
    void_rows: list[tuple[str, int, int, int]] = field(default_factory=list)
    id_rows: list[tuple[str, str, int]] = field(default_factory=list)  # team, id, seq
    phone_rows: list[tuple[str, int, str, str, str]] = field(default_factory=list)
    erase_keys: list[str] = field(default_factory=list)
    invalidate: list[tuple[str, int]] = field(default_factory=list)  # team, earliest at_us


# Added after the first release: created by `LedgerSQL.upgrade` in an older store too.
_UPGRADE_TABLES = [
    "CREATE INDEX IF NOT EXISTS ledger_index_by_recorded ON ledger_index (team, rec_us)",
    # A team's adoptions without a scan of its events (§10: zones over time); partial, so the
    # other events cost nothing to insert.
    f"CREATE INDEX IF NOT EXISTS ledger_policy_events ON {EVENTS_TABLE} (originator_id, originator_version) "
    "WHERE topic = 'PolicyAdopted'",
    "CREATE TABLE IF NOT EXISTS ledger_voids (team TEXT NOT NULL, seq BIGINT NOT NULL, "
    "void_seq BIGINT NOT NULL, rec_us BIGINT NOT NULL, PRIMARY KEY (team, seq))",
    # The hash chain of each team's events (ledger.store.chain). Last: its presence says the
    # store is upgraded (`upgrade_if_needed`), and `upgrade` links the events stored before.
    "CREATE TABLE IF NOT EXISTS ledger_chain (team TEXT NOT NULL, seq BIGINT NOT NULL, "
    "body {blob} NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (team, seq))",
]
CHAIN_COLUMNS = ("ledger_chain (team, seq, body, hash)", ("text", "bigint", "bytea", "bytea"))
_CHAIN_PAGE = 5000

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



class LedgerSQL:
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

    def move_keys(self, keys: Any, had_secret: bool) -> None:
        """Once per store (issue #18 item 3): the phone key leaves `ledger_meta` (it is in the key
        file now), the clear numbers of an older store are sealed with the file's vault key and
        their keys lose the last 4 digits, the erased keys gain that form too, and
        `ledger_meta.key_file` keeps the file's fingerprint. Run as the owner on PostgreSQL."""
        sql = self.sql
        with self.cursor(commit=True) as cur:
            self.lock_for_key_move(cur)
            cur.execute("DELETE FROM ledger_meta WHERE name IN ('phone_secret', 'key_file')")
            cur.execute(sql("INSERT INTO ledger_meta (name, value) VALUES ('key_file', ?)"), (keys.fingerprint(),))
            cur.execute("SELECT team, seq, field, phone_key, clear FROM ledger_phones WHERE clear NOT LIKE 'v1:%'")
            rows = cur.fetchall()
            cur.executemany(sql("UPDATE ledger_phones SET phone_key = ?, clear = ? "
                                "WHERE team = ? AND seq = ? AND field = ?"),
                            [(identity(key), keys.seal(clear), team, seq, name) for team, seq, name, key, clear in rows])
            cur.execute("SELECT phone_key FROM ledger_erased")
            short = [(identity(key),) for (key,) in cur.fetchall() if key.count(":") == 2]
            self.insert_rows(cur, "ledger_erased (phone_key)", ("text",), short, or_ignore=True)
        if had_secret or rows:
            self.scrub(("ledger_meta", "ledger_phones"))

    def lock_for_key_move(self, cur: Any) -> None:
        pass

    def scrub(self, tables: tuple[str, ...]) -> None:
        """Old copies of deleted rows of `tables` out of the database files, as far as it can."""

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
        for team, target, seq, at_us in plan.void_rows:
            ex(self.sql("INSERT INTO ledger_voids (team, seq, void_seq, rec_us) "
                        "SELECT ?, ?, ?, rec_us FROM ledger_index WHERE team = ? AND seq = ?"),
               (team, target, seq, team, seq))
            ex(self.sql("DELETE FROM ledger_catalogs WHERE team = ?"), (team,))
            plan.invalidate.append((team, at_us))
        for team, at_us in plan.invalidate:  # R-T-5: a back-dated event voids later checkpoints
            ex(self.sql("DELETE FROM ledger_checkpoints WHERE team = ? AND at_us >= ?"), (team, at_us))

    def settle_voids(self, cur: Any, plan: AppendPlan) -> None:
        """R-CO-2: an `EntryVoided` is indexed at the `at` of the event it voids (as if a late
        event there). Decided before the index rows are written: they are never updated."""
        if not plan.voids:
            return
        rows = {(row[0], row[1]): n for n, row in enumerate(plan.index_rows)}
        ids = {(team, event_id): seq for team, event_id, seq in plan.id_rows}
        for team, seq, ref in plan.voids:
            target = ids.get((team, ref)) or self.void_target(cur, team, ref)
            n = rows.get((team, target))
            if n is not None:  # voided in the same append
                at_us = plan.index_rows[n][2]
            else:
                cur.execute(self.sql("SELECT at_us FROM ledger_index WHERE team = ? AND seq = ?"), (team, target))
                at_us = cur.fetchone()[0]
            mine = rows[(team, seq)]
            plan.index_rows[mine] = (*plan.index_rows[mine][:2], at_us, plan.index_rows[mine][3])
            plan.void_rows.append((team, target, seq, at_us))

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
            # The one change of record rows (ledger.store.guards): in this transaction only.
            for statement in self.unguard_statements("ledger_index"):
                cur.execute(statement)
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
        cur.execute(self.sql("SELECT 1 FROM ledger_index LIMIT 1"))
        empty = cur.fetchone() is None  # nothing to link
        for statement in _UPGRADE_TABLES:
            cur.execute(self.sql(statement.replace("{blob}", self.blob_type)))
        if not empty:
            self.link_stored_events(cur)
        for statement in self.guard_statements():  # last: their presence says "upgraded"
            cur.execute(statement)

    def guard_statements(self) -> list[str]:
        raise NotImplementedError

    def unguard_statements(self, table: str) -> list[str]:
        raise NotImplementedError

    def link_stored_events(self, cur: Any) -> None:
        """The chain of a store made before it (OPERATIONS.md, "Upgrading"): every team's stored
        events linked once, in seq order, as they are now (the chain proves nothing about what
        happened to them before the upgrade)."""
        cur.execute("SELECT team FROM ledger_teams ORDER BY team")
        for (team,) in cur.fetchall():
            cur.execute(self.sql("SELECT 1 FROM ledger_chain WHERE team = ? LIMIT 1"), (team,))
            if cur.fetchone() is not None:  # linked already (an upgrade of the §11 tables only)
                continue
            previous, after = {team: genesis(team)}, 0
            while True:
                cur.execute(self.sql(
                    f"SELECT e.originator_version, e.state, i.rec_us FROM {EVENTS_TABLE} e JOIN ledger_index i "
                    "ON i.team = ? AND i.seq = e.originator_version WHERE e.originator_id = ? "
                    f"AND e.originator_version > ? ORDER BY e.originator_version LIMIT {_CHAIN_PAGE}"),
                    (team, self.sid(team_stream_id(team)), after))
                page = cur.fetchall()
                if not page:
                    break
                self.insert_rows(cur, *CHAIN_COLUMNS,
                                 links(previous, ((team, seq, bytes(state), rec_us) for seq, state, rec_us in page)))
                after = page[-1][0]

    def chain_rows(self, cur: Any, plan: AppendPlan) -> list[tuple]:
        """The links (team, seq, body, hash) of the plan's events, each team's chain continued
        from its stored head link. Run under the appenders' lock, after `stamp`: the head read
        here is the one the events follow, so concurrent writers never fork a chain."""
        previous: dict[str, bytes] = {}
        for team in plan.teams:
            expected = plan.expected[team_stream_id(team)]
            if expected == 0:
                previous[team] = genesis(team)
                continue
            cur.execute(self.sql("SELECT hash FROM ledger_chain WHERE team = ? AND seq = ?"), (team, expected))
            row = cur.fetchone()
            if row is None:
                raise StoreError(f"team {team!r}: event #{expected} has no chain link, so nothing can follow it; "
                                 f"run `ledger verify --team {team}`")
            previous[team] = bytes(row[0])
        return links(previous, ((index[0], index[1], event[3], index[3])
                                for event, index in zip(plan.events, plan.index_rows)))


def decoded(rows: list) -> list[Recorded]:
    """(seq, topic, state) rows as records. The cyclic GC is paused meanwhile: the events are
    acyclic, and its passes over a growing list of them halved the rate (1.1M-event store)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return [Recorded(seq, decode_event(topic, bytes(state))) for seq, topic, state in rows]
    finally:
        if enabled:
            gc.enable()


def settle_phones(phones: list[tuple]) -> tuple[list[tuple[str, int, str, str, str]], list[str]]:
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


def describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


@contextmanager
def translated(display: str) -> Iterator[None]:
    """The library's errors as the ledger's: a lost race as `ConcurrencyConflict` (nothing was
    written), any other database error as `StoreError` naming the store."""
    from eventsourcing.persistence import IntegrityError, PersistenceError

    try:
        yield
    except IntegrityError as error:
        if MARK in str(error):  # SQLite reports a trigger's refusal as a constraint
            raise StoreError(f"database error on {display}: {describe(error)}") from None
        raise ConcurrencyConflict(f"another writer appended first: {describe(error)}") from None
    except PersistenceError as error:
        raise StoreError(f"database error on {display}: {describe(error)}") from None
