"""The read-model tables (projections.models) in the store's own database, on the Store's cursor.

Every row carries `(team, gen)`: a *generation* of the team's models. `ledger_model_gens` has one
row per generation with its tracking position (the highest seq folded), its horizon and whether
it is the live one. Model rows and their generation's position are always written in ONE
transaction, guarded by the position they were computed from, so a crash or a racing writer can
never leave a model ahead of or behind its position. A rebuild writes a new generation beside
the live one (the shadow) and swaps by flipping `live` in one transaction, which also deletes the
old generation; a shadow left by a killed rebuild is deleted by the next one.

    ledger_model_gens        (team, gen) -> live, position, horizon_us, tz
    ledger_model_owners      (team, gen, lead, valid_from_us) -> ordering, owner, rule, disputed, answer
    ledger_model_seats       (team, gen, valid_from_us) -> ordering, seats (JSON)
    ledger_model_counts      (team, gen, day, consultant, channel) -> turns, leads     (R-RT-7)
    ledger_model_sanctions   (team, gen, penalty) -> consultant, rule, from/until/lifted, body (JSON)
    ledger_model_commission  (team, gen, month) -> answer
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .events import Recorded
from .store import EVENTS_TABLE, Key, Store, decode_event, from_micros, rowcount, to_micros

_TABLES = [
    "CREATE TABLE IF NOT EXISTS ledger_model_gens (team TEXT NOT NULL, gen BIGINT NOT NULL, "
    "live INTEGER NOT NULL, position BIGINT NOT NULL, horizon_us BIGINT, tz TEXT NOT NULL, "
    "PRIMARY KEY (team, gen))",
    "CREATE TABLE IF NOT EXISTS ledger_model_owners (team TEXT NOT NULL, gen BIGINT NOT NULL, "
    "lead TEXT NOT NULL, valid_from_us BIGINT NOT NULL, ordering BIGINT NOT NULL, owner TEXT, rule TEXT, "
    "disputed INTEGER NOT NULL, answer TEXT NOT NULL, PRIMARY KEY (team, gen, lead, valid_from_us))",
    "CREATE INDEX IF NOT EXISTS ledger_model_owners_by_time ON ledger_model_owners (team, gen, valid_from_us)",
    "CREATE TABLE IF NOT EXISTS ledger_model_seats (team TEXT NOT NULL, gen BIGINT NOT NULL, "
    "valid_from_us BIGINT NOT NULL, ordering BIGINT NOT NULL, seats TEXT NOT NULL, "
    "PRIMARY KEY (team, gen, valid_from_us))",
    "CREATE TABLE IF NOT EXISTS ledger_model_counts (team TEXT NOT NULL, gen BIGINT NOT NULL, "
    "day TEXT NOT NULL, consultant TEXT NOT NULL, channel TEXT NOT NULL, turns BIGINT NOT NULL, "
    "leads BIGINT NOT NULL, PRIMARY KEY (team, gen, day, consultant, channel))",
    "CREATE TABLE IF NOT EXISTS ledger_model_sanctions (team TEXT NOT NULL, gen BIGINT NOT NULL, "
    "penalty TEXT NOT NULL, consultant TEXT NOT NULL, rule TEXT NOT NULL, from_us BIGINT, until_us BIGINT, "
    "lifted_us BIGINT, body TEXT NOT NULL, PRIMARY KEY (team, gen, penalty))",
    "CREATE TABLE IF NOT EXISTS ledger_model_commission (team TEXT NOT NULL, gen BIGINT NOT NULL, "
    "month TEXT NOT NULL, answer TEXT NOT NULL, PRIMARY KEY (team, gen, month))",
]
ROW_TABLES = ("ledger_model_owners", "ledger_model_seats", "ledger_model_counts", "ledger_model_sanctions",
              "ledger_model_commission")
_CHUNK = 500


class Stale(Exception):
    """The generation's position moved (another writer, or a swap) since the fold began."""


@dataclass(frozen=True)
class Generation:
    team: str
    gen: int
    live: bool
    position: int
    horizon: dt.datetime | None
    tz: str


def _sql(store: Store, statement: str) -> str:
    return store.recorder.sql(statement)


def ensure_tables(store: Store) -> None:
    """Create the model tables on first use (once per opened store)."""
    store.ensure_tables("ledger_model_commission", _TABLES, lock=7251002)


# -- generations -----------------------------------------------------------------------------


def generations(store: Store, team: str) -> list[Generation]:
    ensure_tables(store)
    rows = store._rows("SELECT gen, live, position, horizon_us, tz FROM ledger_model_gens WHERE team = ? "
                       "ORDER BY gen", (team,))
    return [Generation(team, gen, bool(live), position, None if h is None else from_micros(h), tz)
            for gen, live, position, h, tz in rows]


def live(store: Store, team: str) -> Generation | None:
    return next((g for g in generations(store, team) if g.live), None)


def create_generation(store: Store, team: str, gen: int, *, live: bool, tz: str = "UTC") -> None:
    with store._cursor(commit=True) as cur:
        cur.execute(_sql(store, "INSERT INTO ledger_model_gens (team, gen, live, position, horizon_us, tz) "
                                "VALUES (?, ?, ?, 0, NULL, ?)"), (team, gen, 1 if live else 0, tz))


def clear_generation(store: Store, team: str, gen: int) -> None:
    """Delete a generation and its rows (a shadow left behind by a killed rebuild)."""
    with store._cursor(commit=True) as cur:
        for table in ROW_TABLES:
            cur.execute(_sql(store, f"DELETE FROM {table} WHERE team = ? AND gen = ?"), (team, gen))
        cur.execute(_sql(store, "DELETE FROM ledger_model_gens WHERE team = ? AND gen = ? AND live = 0"), (team, gen))


def swap(store: Store, team: str, new: int, expected_position: int) -> None:
    """Make generation `new` the live one and delete the others, in one transaction.

    Raises `Stale` (nothing changed) when `new` is no longer at `expected_position`."""
    sql = lambda s: _sql(store, s)  # noqa: E731
    with store._cursor(commit=True) as cur:
        cur.execute(sql("UPDATE ledger_model_gens SET live = 1 WHERE team = ? AND gen = ? AND position = ?"),
                    (team, new, expected_position))
        if rowcount(cur) != 1:
            raise Stale(team)
        cur.execute(sql("SELECT gen FROM ledger_model_gens WHERE team = ? AND gen <> ?"), (team, new))
        for (old,) in cur.fetchall():
            for table in ROW_TABLES:
                cur.execute(sql(f"DELETE FROM {table} WHERE team = ? AND gen = ?"), (team, old))
            cur.execute(sql("DELETE FROM ledger_model_gens WHERE team = ? AND gen = ?"), (team, old))


# -- writing a fold's models -------------------------------------------------------------------


def write(store: Store, team: str, gen: int, models: Any, expected_position: int,
          pause: Any = None) -> None:
    """Replace the generation's rows from `models.start` on and move its position, in ONE
    transaction guarded by `expected_position`; raises `Stale` (nothing written) if it moved."""
    sql = lambda s: _sql(store, s)  # noqa: E731
    start_us = None if models.start is None else to_micros(models.start)
    horizon_us = None if models.horizon is None else to_micros(models.horizon)
    with store._cursor(commit=True) as cur:
        cur.execute(sql("UPDATE ledger_model_gens SET position = ?, horizon_us = ?, tz = ? "
                        "WHERE team = ? AND gen = ? AND position = ?"),
                    (models.position, horizon_us, models.tz, team, gen, expected_position))
        if rowcount(cur) != 1:
            raise Stale(team)
        owners = _owner_rows(store, cur, team, gen, models, start_us)
        if start_us is None:
            for table in ROW_TABLES:
                cur.execute(sql(f"DELETE FROM {table} WHERE team = ? AND gen = ?"), (team, gen))
        else:
            cur.execute(sql("DELETE FROM ledger_model_owners WHERE team = ? AND gen = ? AND valid_from_us >= ?"),
                        (team, gen, start_us))
            cur.execute(sql("DELETE FROM ledger_model_seats WHERE team = ? AND gen = ? AND valid_from_us >= ?"),
                        (team, gen, start_us))
            cur.execute(sql("DELETE FROM ledger_model_counts WHERE team = ? AND gen = ? AND day >= ?"),
                        (team, gen, models.count_from.isoformat()))
            if models.month_from is not None:
                cur.execute(sql("DELETE FROM ledger_model_commission WHERE team = ? AND gen = ? AND month >= ?"),
                            (team, gen, models.month_from))
        if pause is not None:
            pause("write")
        ins = lambda into, types, rows: _insert(store, cur, into, types, rows)  # noqa: E731
        ins("ledger_model_owners (team, gen, lead, valid_from_us, ordering, owner, rule, disputed, answer)",
            ("text", "bigint", "text", "bigint", "bigint", "text", "text", "integer", "text"), owners)
        seats = _seat_rows(store, cur, team, gen, models, start_us)
        ins("ledger_model_seats (team, gen, valid_from_us, ordering, seats)",
            ("text", "bigint", "bigint", "bigint", "text"), seats)
        ins("ledger_model_counts (team, gen, day, consultant, channel, turns, leads)",
            ("text", "bigint", "text", "text", "text", "bigint", "bigint"),
            [(team, gen, day.isoformat(), cid, channel, t, n) for day, cid, channel, t, n in models.counts])
        ins("ledger_model_sanctions (team, gen, penalty, consultant, rule, from_us, until_us, lifted_us, body)",
            ("text", "bigint", "text", "text", "text", "bigint", "bigint", "bigint", "text"),
            _sanction_rows(store, cur, team, gen, models, start_us))
        ins("ledger_model_commission (team, gen, month, answer)", ("text", "bigint", "text", "text"),
            [(team, gen, month, text) for month, text in models.commission.items()])


def _insert(store: Store, cur: Any, into: str, types: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk insert: COPY on PostgreSQL (answers are JSON text that array literals would escape
    slowly), the recorder's executemany on SQLite."""
    if not rows:
        return
    if store.url.kind == "postgresql":
        with cur.copy(f"COPY {into} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        store.recorder.insert_rows(cur, into, types, rows)


def _us(iso: str | None) -> int | None:
    return None if iso is None else to_micros(dt.datetime.fromisoformat(iso))


def _owner_rows(store: Store, cur: Any, team: str, gen: int, models: Any, start_us: int | None) -> list[tuple]:
    """The fold's owner rows, less those that repeat the lead's stored row just before `start`."""
    rows = models.owners
    previous: dict[str, str] = {}
    if start_us is not None and rows:
        first: dict[str, Any] = {}
        for row in rows:
            first.setdefault(row.lead, row)
        leads = sorted(first)
        for offset in range(0, len(leads), _CHUNK):
            chunk = leads[offset:offset + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            cur.execute(_sql(store,
                f"SELECT o.lead, o.answer FROM ledger_model_owners o WHERE o.team = ? AND o.gen = ? "
                f"AND o.lead IN ({marks}) AND o.valid_from_us = (SELECT MAX(p.valid_from_us) FROM ledger_model_owners p "
                "WHERE p.team = o.team AND p.gen = o.gen AND p.lead = o.lead AND p.valid_from_us < ?)"),
                [team, gen, *chunk, start_us])
            previous.update(cur.fetchall())
    out = []
    for row in rows:
        if previous.get(row.lead) == row.answer:
            continue
        previous[row.lead] = row.answer
        out.append((team, gen, row.lead, to_micros(row.valid_from), row.ordering, row.owner, row.rule,
                    1 if row.disputed else 0, row.answer))
    return out


def _sanction_rows(store: Store, cur: Any, team: str, gen: int, models: Any, start_us: int | None) -> list[tuple]:
    """Every sanction is in the folded state; write those that differ from the stored rows."""
    sql = lambda s: _sql(store, s)  # noqa: E731
    stored: dict[str, str] = {}
    if start_us is not None:
        cur.execute(sql("SELECT penalty, body FROM ledger_model_sanctions WHERE team = ? AND gen = ?"), (team, gen))
        stored = dict(cur.fetchall())
    out = []
    for s in models.sanctions:
        body = json.dumps(s, ensure_ascii=False, sort_keys=True)
        if stored.pop(s["penalty"], None) == body:
            continue
        out.append((team, gen, s["penalty"], s["consultant"], s["rule"], _us(s["from"]), _us(s["until"]),
                    _us(s["lifted"]), body))
    gone = [row[2] for row in out] + list(stored)
    for offset in range(0, len(gone), _CHUNK):
        chunk = gone[offset:offset + _CHUNK]
        cur.execute(sql(f"DELETE FROM ledger_model_sanctions WHERE team = ? AND gen = ? AND penalty IN "
                        f"({', '.join('?' * len(chunk))})"), [team, gen, *chunk])
    return out


def _seat_rows(store: Store, cur: Any, team: str, gen: int, models: Any, start_us: int | None) -> list[tuple]:
    previous = None
    if start_us is not None and models.seats:
        cur.execute(_sql(store, "SELECT seats FROM ledger_model_seats WHERE team = ? AND gen = ? AND valid_from_us < ? "
                                "ORDER BY valid_from_us DESC LIMIT 1"), (team, gen, start_us))
        found = cur.fetchone()
        previous = found[0] if found else None
    out = []
    for at, ordering, seats in models.seats:
        if seats == previous:
            continue
        previous = seats
        out.append((team, gen, to_micros(at), ordering, seats))
    return out


# -- reading -----------------------------------------------------------------------------------


def owner_answer(store: Store, team: str, gen: int, lead: str, at: dt.datetime) -> str | None:
    """The `owner --json` text of `lead` at `at` (None: the lead had not arrived by then)."""
    rows = store._rows("SELECT answer FROM ledger_model_owners WHERE team = ? AND gen = ? AND lead = ? "
                       "AND valid_from_us <= ? ORDER BY valid_from_us DESC LIMIT 1",
                       (team, gen, lead, to_micros(at)))
    return rows[0][0] if rows else None


def seats_changed_at(store: Store, team: str, gen: int, at_us: int) -> bool:
    """Whether the model's seats row changes at exactly this instant."""
    return bool(store._rows("SELECT 1 FROM ledger_model_seats WHERE team = ? AND gen = ? AND valid_from_us = ?",
                            (team, gen, at_us)))


def owners_changed_at(store: Store, team: str, gen: int, at_us: int) -> list[str]:
    """The leads whose model owner row starts at exactly this instant."""
    return [lead for lead, in store._rows(
        "SELECT lead FROM ledger_model_owners WHERE team = ? AND gen = ? AND valid_from_us = ?", (team, gen, at_us))]


def seats_at(store: Store, team: str, gen: int, at: dt.datetime) -> dict[str, int]:
    rows = store._rows("SELECT seats FROM ledger_model_seats WHERE team = ? AND gen = ? AND valid_from_us <= ? "
                       "ORDER BY valid_from_us DESC LIMIT 1", (team, gen, to_micros(at)))
    return json.loads(rows[0][0]) if rows else {}


def counts(store: Store, team: str, gen: int, first: dt.date, last: dt.date) -> list[tuple[str, str, int, int]]:
    return [tuple(row) for row in store._rows(
        "SELECT consultant, channel, turns, leads FROM ledger_model_counts WHERE team = ? AND gen = ? "
        "AND day >= ? AND day <= ? ORDER BY day, consultant, channel",
        (team, gen, first.isoformat(), last.isoformat()))]


def relinked_after(store: Store, team: str, at: dt.datetime) -> bool:
    """Whether a link or unlink of the team has `at` after `at`: it re-decides leads from the
    earlier lead's arrival on (R-ID-1), so models of days and months before it — which hold the
    whole history's view — differ from the history up to then, which `turns` and `commission`
    answer (R-CM-6, INTERCHANGE)."""
    return bool(store._rows(
        f"SELECT 1 FROM ledger_index i JOIN {EVENTS_TABLE} e ON e.originator_id = ? "
        "AND e.originator_version = i.seq WHERE i.team = ? AND i.at_us > ? "
        "AND e.topic IN ('CustomersLinked', 'CustomersUnlinked') LIMIT 1",
        (store._sid(team), team, to_micros(at))))


def commission_answer(store: Store, team: str, gen: int, month: str) -> str | None:
    rows = store._rows("SELECT answer FROM ledger_model_commission WHERE team = ? AND gen = ? AND month = ?",
                       (team, gen, month))
    return rows[0][0] if rows else None


# The columns `dump` returns, per table: what a comparison of two generations looks at.
_COMPARED = {
    "ledger_model_owners": "lead, valid_from_us, owner, rule, disputed, answer",
    "ledger_model_seats": "valid_from_us, seats",
    "ledger_model_counts": "day, consultant, channel, turns, leads",
    "ledger_model_sanctions": "penalty, body",
    "ledger_model_commission": "month, answer",
}


def same_rows(store: Store, team: str, gen: int, other: int) -> bool:
    """Whether two generations of a team hold the same rows (`dump` equal), asked of the
    database: nothing is fetched when they agree, which is the nightly case."""
    for table, columns in _COMPARED.items():
        for a, b in ((gen, other), (other, gen)):
            if store._rows(f"SELECT 1 FROM (SELECT {columns} FROM {table} WHERE team = ? AND gen = ? EXCEPT "
                           f"SELECT {columns} FROM {table} WHERE team = ? AND gen = ?) AS differing LIMIT 1",
                           (team, a, team, b)):
                return False
    return True


def dump(store: Store, team: str, gen: int) -> dict[str, list[tuple]]:
    """Every row of a generation, per table, in a stable order (comparisons, checksums)."""
    return {
        "owners": [tuple(r) for r in store._rows(
            "SELECT lead, valid_from_us, owner, rule, disputed, answer FROM ledger_model_owners "
            "WHERE team = ? AND gen = ? ORDER BY lead, valid_from_us", (team, gen))],
        "seats": [tuple(r) for r in store._rows(
            "SELECT valid_from_us, seats FROM ledger_model_seats WHERE team = ? AND gen = ? ORDER BY valid_from_us",
            (team, gen))],
        "counts": [tuple(r) for r in store._rows(
            "SELECT day, consultant, channel, turns, leads FROM ledger_model_counts WHERE team = ? AND gen = ? "
            "ORDER BY day, consultant, channel", (team, gen))],
        "sanctions": [tuple(r) for r in store._rows(
            "SELECT penalty, body FROM ledger_model_sanctions WHERE team = ? AND gen = ? ORDER BY penalty",
            (team, gen))],
        "commission": [tuple(r) for r in store._rows(
            "SELECT month, answer FROM ledger_model_commission WHERE team = ? AND gen = ? ORDER BY month",
            (team, gen))],
    }


# -- streaming the log -------------------------------------------------------------------------


def iter_by_time(store: Store, team: str, after_key: Key | None = None, page: int = 5000) -> Iterator[list[Recorded]]:
    """The team's events in replay order (at, seq) after `after_key`, a page at a time."""
    sid = store._sid(team)
    base = (f"SELECT i.at_us, e.originator_version, e.topic, e.state FROM ledger_index i "
            f"JOIN {EVENTS_TABLE} e ON e.originator_id = ? AND e.originator_version = i.seq WHERE i.team = ?")
    at_us, seq = (to_micros(after_key[0]), after_key[1]) if after_key is not None else (None, None)
    while True:
        if at_us is None:
            rows = store._rows(base + " ORDER BY i.at_us, i.seq LIMIT ?", (sid, team, page))
        else:
            rows = store._rows(base + " AND i.at_us >= ? AND (i.at_us, i.seq) > (?, ?) ORDER BY i.at_us, i.seq LIMIT ?",
                               (sid, team, at_us, at_us, seq, page))
        if not rows:
            return
        yield store.unvoided(team, [Recorded(s, decode_event(topic, bytes(state))) for _, s, topic, state in rows])
        at_us, seq = rows[-1][0], rows[-1][1]
        if len(rows) < page:
            return


def relinked_since(store: Store, team: str, position: int) -> bool:
    """Whether a link or unlink of the team was recorded after `position`: it re-decides leads
    from the earlier lead's arrival on (R-ID-1), before its own `at`."""
    links = "('CustomersLinked', 'CustomersUnlinked')"
    return bool(store._rows(
        f"SELECT 1 FROM {EVENTS_TABLE} WHERE originator_id = ? AND originator_version > ? "
        f"AND topic IN {links} LIMIT 1", (store._sid(team), position))) or bool(store._rows(
        # a void of a link recorded since: it undoes what the link re-decided (R-CO-2)
        f"SELECT 1 FROM ledger_voids v JOIN {EVENTS_TABLE} e ON e.originator_id = ? AND e.originator_version = v.seq "
        f"WHERE v.team = ? AND v.void_seq > ? AND e.topic IN {links} LIMIT 1", (store._sid(team), team, position)))


def first_unfolded_at(store: Store, team: str, position: int) -> dt.datetime | None:
    """The earliest `at` of the team's events recorded after `position` (None: none)."""
    rows = store._rows("SELECT MIN(at_us) FROM ledger_index WHERE team = ? AND seq > ?", (team, position))
    return from_micros(rows[0][0]) if rows and rows[0][0] is not None else None
