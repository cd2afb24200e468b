"""`Store`: opening a store, its connection and every write -- appends (phone numbers keyed,
R-ID-2), the import session, checkpoints and catalogs."""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..codec import encode_event
from ..errors import InputError, StoreError
from ..events import CustomerErased, EntryVoided, Event, LeadArrived, Recorded
from ..phone import add_tail_source, identity, is_key, make_key, normalize, remove_tail_source
from . import keys as K
from . import postgres, sqlite
from .base import (
    _CHUNK,
    EVENTS_TABLE,
    RECENT_CHECKPOINTS,
    AppendPlan,
    Key,
    describe,
    from_micros,
    settle_phones,
    team_stream_id,
    to_micros,
    translated,
)
from .reads import Reads
from .session import ImportSession, RolledBack
from .url import StoreURL, parse_url


def open_store(url: str | None = None) -> "Store":
    """Open (creating on first use) the store at `url`, else $LEDGER_DB, else sqlite:///ledger.db."""
    return Store(parse_url(url))


class Store(Reads):
    """The ledger's event store on one database (`open_store`)."""

    def __init__(self, url: StoreURL):
        self.url = url
        self.keys: K.Keys = None  # type: ignore[assignment]  # set by `_open_keys`
        self._tails: dict[str, str] | None = None
        self._keys: dict[str, str] = {}
        self._prepared: dict[int, tuple[Event, Event, bytes]] = {}
        self._factory: Any = None
        try:
            if url.kind == "sqlite":
                self._open_sqlite()
            else:
                self._open_postgres()
            self._open_keys()
        except (StoreError, InputError):
            self.close()
            raise
        except Exception as error:
            self.close()
            raise StoreError(f"cannot open the store {url.display()}: {describe(error)}") from None

    # -- opening -------------------------------------------------------------------------------

    def _open_sqlite(self) -> None:
        from eventsourcing.persistence import InfrastructureFactory
        from eventsourcing.utils import Environment

        folder = os.path.dirname(os.path.abspath(self.url.path))
        if self.url.path != ":memory:" and not os.path.isdir(folder):
            raise StoreError(f"cannot open the store {self.url.display()}: no directory {folder}")
        recorder_class = sqlite.recorder_class()
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
            raise StoreError(f"cannot connect to {u.display()}: {describe(error)}") from None
        from eventsourcing.persistence import InfrastructureFactory
        from eventsourcing.utils import Environment

        recorder_class = postgres.recorder_class()
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

    def _open_keys(self) -> None:
        """The store's key file (`keys`): found; made with a new store; or made once from the key
        an older store kept in `ledger_meta.phone_secret`, which then leaves the database (its
        clear numbers sealed on the way). `ledger_meta.key_file` keeps the file's fingerprint:
        a migrated store refuses to open without its file, or with another store's."""
        meta = dict(self._rows("SELECT name, value FROM ledger_meta WHERE name IN ('phone_secret', 'key_file')"))
        old = bytes.fromhex(meta["phone_secret"]) if "phone_secret" in meta else None
        path = K.key_path(self.url.kind, self.url.path)
        found = K.load(path) if path is not None else K.fresh(old)
        if found is None and "key_file" in meta:
            raise StoreError(f"the key file {path} of the store {self.url.display()} is missing: restore it from "
                             "its backup (docs/OPERATIONS.md, 'The key file'), or set LEDGER_SECRET_FILE to it")
        if found is None:
            found = K.create(path, K.fresh(old, path))  # type: ignore[arg-type]
        if old is not None and found.phone != old or meta.get("key_file", found.fingerprint()) != found.fingerprint():
            raise StoreError(f"the key file {found.path} belongs to another store (its phone key is not this "
                             f"store's); set LEDGER_SECRET_FILE to the key file of {self.url.display()}")
        self.keys = found
        if path is not None and (old is not None or "key_file" not in meta):
            self.recorder.move_keys(found, old is not None)
        add_tail_source(self.tail_of)

    def tail_of(self, key: str) -> str | None:
        """The last 4 digits of the number of `key` while this store holds it in clear (sealed):
        one indexed look-up per key, remembered until the next write of phone rows."""
        if self._tails is None:
            self._tails = {}
        wanted = identity(key)
        if wanted not in self._tails:
            rows = self._rows("SELECT clear FROM ledger_phones WHERE phone_key = ? LIMIT 1", (wanted,))
            self._tails[wanted] = normalize(self.keys.open(rows[0][0]))[-4:] if rows else ""
        return self._tails[wanted] or None

    def vault(self) -> K.Keys:
        return self.keys

    def rotate_vault(self) -> int:
        """`ledger key rotate`: a new vault key seals every clear number again, then the old keys
        leave the key file (the phone key stays: docs/DECISIONS.md). The file is replaced
        atomically, first with old and new keys, so a crash at any point leaves a usable pair."""
        if not self.keys.path:
            raise StoreError(f"the store {self.url.display()} keeps its keys in memory: nothing to rotate")
        new = self.keys.rotated()
        K.replace(new.path, new)
        self.keys = new
        sql = self.recorder.sql
        with self._cursor(commit=True) as cur:
            self.recorder.lock_for_key_move(cur)
            cur.execute("SELECT team, seq, field, clear FROM ledger_phones")
            rows = [(new.seal(new.open(clear)), team, seq, name) for team, seq, name, clear in cur.fetchall()]
            cur.executemany(sql("UPDATE ledger_phones SET clear = ? WHERE team = ? AND seq = ? AND field = ?"), rows)
        self.keys = K.Keys(new.phone, new.current, {new.current: new.vault[new.current]}, new.path)
        K.replace(new.path, self.keys)
        self.recorder.scrub(("ledger_phones",))
        return len(rows)

    def checkpoint(self) -> bool:
        """`ledger db checkpoint`: SQLite's write-ahead log emptied into the main file (False: a
        reader kept it from completing); PostgreSQL: nothing to do."""
        return self.recorder.checkpoint_wal() if self.url.kind == "sqlite" else True

    def close(self) -> None:
        if self.keys is not None:
            remove_tail_source(self.tail_of)
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
        with translated(self.url.display()), self.recorder.cursor(commit=commit) as cur:
            yield cur

    def ensure_tables(self, newest: str, statements: Sequence[str], lock: int) -> None:
        """Create a family of side tables (the read models, the desk's accounts, the notifier's
        outbox) on first use, once per opened store. `newest`, the family's latest table, tells
        whether they exist (a store made before it gets the family's new tables); on PostgreSQL
        the advisory lock `lock` keeps two processes from creating them at once."""
        ready = self.__dict__.setdefault("_ready_tables", set())
        if newest in ready:
            return
        with self._cursor(commit=True) as cur:
            if self.url.kind == "postgresql":
                cur.execute(self.recorder.sql("SELECT to_regclass(?) IS NULL"), (newest,))
                missing = bool(cur.fetchone()[0])
                if missing:
                    cur.execute(self.recorder.sql("SELECT pg_advisory_xact_lock(?)"), (lock,))
            else:
                cur.execute("SELECT name FROM sqlite_master WHERE name = ?", (newest,))
                missing = cur.fetchone() is None
            if missing:
                for statement in statements:
                    cur.execute(statement)
        ready.add(newest)

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._cursor() as cur:
            cur.execute(self.recorder.sql(statement), params)
            return cur.fetchall()

    def _sid(self, team: str) -> Any:
        return self.recorder.sid(team_stream_id(team))

    @property
    def secret(self) -> bytes:
        """The store's key of the phone hashes (R-ID-2), from its key file (`keys`)."""
        return self.keys.phone

    # -- the record (R-CO-*) -------------------------------------------------------------------

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
        plan.phone_rows, plan.erase_keys = settle_phones(phones)
        if plan.phone_rows or plan.erase_keys:
            self._tails = None
        with translated(self.url.display()):
            self.recorder.append_plan(plan)
        return recorded

    def _plan_append(self, batches: dict[str, tuple[int, list[Event]]]
                     ) -> tuple[AppendPlan, dict[str, list[Recorded]], list[tuple]]:
        """What appending `batches` writes; phone rows and erasures come apart, in processing
        order (team by team, then seq), for `settle_phones`."""
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
                            phones.append((team, seq, name, getattr(stored, name), self.keys.seal(value)))
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
        session = None
        self._tails = None
        try:
            with translated(self.url.display()), self.recorder.cursor(commit=True) as cur:
                try:
                    self.recorder.lock_for_import(cur)
                    session = ImportSession(self, cur)
                    yield session
                    session.finish()
                finally:
                    self.recorder.end_import(cur)
        except RolledBack:
            return
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

