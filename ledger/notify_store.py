"""Notification targets, the outbox and each team's tracking position (issue #16), in the store's
own database beside the events, on SQLite and PostgreSQL.

    ledger_notify_targets    name -> team, kind (wecom | dingtalk | webhook), url, secret, created_us
    ledger_notify_notices    (team, key) -> kind, subject, value, revision, at_us, ordinal, facts (JSON)
    ledger_notify_outbox     (target, key) -> team, ordinal, body, attempts, next_try_us, delivered_us,
                             gave_up, last_error
    ledger_notify_positions  team -> position (the highest seq whose notices are in the outbox), until_us
                             (the moment they were derived at: timers up to it are noticed)
    ledger_notify_routes     (team, who) -> wecom_user, dingtalk_user, target: a consultant's ids for
                             @-mentions and own target; who `@supervisors`: the supervisors' target
    ledger_notify_settings   (scope, name) -> value: `team:T`/`quiet` (`22:00-08:00`), `target:N`/`rate`
                             (`20/60`: messages per seconds)

New notices, their outbox rows (one per target of the team, the body rendered once) and the new
position are written in ONE transaction guarded by the position they were derived from
(`write_batch`, `Stale` if it moved): a notice is built from a fact once, whoever runs.
Every statement uses `?` placeholders (turned into `%s` for PostgreSQL by the recorder).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .store import Store, from_micros, rowcount, to_micros

KINDS = ("wecom", "dingtalk", "webhook")
NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
TEAM = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_CHUNK = 500

_TABLES = [
    "CREATE TABLE IF NOT EXISTS ledger_notify_targets (name TEXT PRIMARY KEY, team TEXT NOT NULL, "
    "kind TEXT NOT NULL, url TEXT NOT NULL, secret TEXT, created_us BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_notify_notices (team TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, "
    "subject TEXT NOT NULL, value TEXT, revision BIGINT NOT NULL, at_us BIGINT NOT NULL, ordinal BIGINT NOT NULL, "
    "facts TEXT NOT NULL, PRIMARY KEY (team, key))",
    "CREATE INDEX IF NOT EXISTS ledger_notify_notices_subject ON ledger_notify_notices (team, subject)",
    "CREATE TABLE IF NOT EXISTS ledger_notify_outbox (target TEXT NOT NULL, key TEXT NOT NULL, team TEXT NOT NULL, "
    "ordinal BIGINT NOT NULL, body TEXT NOT NULL, attempts BIGINT NOT NULL, next_try_us BIGINT NOT NULL, "
    "delivered_us BIGINT, gave_up INTEGER NOT NULL, last_error TEXT, PRIMARY KEY (target, key))",
    "CREATE INDEX IF NOT EXISTS ledger_notify_outbox_pending ON ledger_notify_outbox (target, delivered_us, ordinal)",
    "CREATE TABLE IF NOT EXISTS ledger_notify_positions (team TEXT PRIMARY KEY, position BIGINT NOT NULL, "
    "until_us BIGINT)",
    "CREATE TABLE IF NOT EXISTS ledger_notify_routes (team TEXT NOT NULL, who TEXT NOT NULL, wecom_user TEXT, "
    "dingtalk_user TEXT, target TEXT, PRIMARY KEY (team, who))",
    "CREATE TABLE IF NOT EXISTS ledger_notify_settings (scope TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, "
    "PRIMARY KEY (scope, name))",
]
NEWEST = "ledger_notify_settings"
SUPERVISORS = "@supervisors"
USER = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


class Stale(Exception):
    """The team's notify position moved since the notices were derived (another notifier)."""


@dataclass(frozen=True)
class Target:
    name: str
    team: str
    kind: str
    url: str
    secret: str | None

    def to_json_dict(self) -> dict:
        return {"name": self.name, "team": self.team, "kind": self.kind, "url": self.url,
                "secret": "***" if self.secret else None}


@dataclass(frozen=True)
class Route:
    """Who a consultant is in the robots' groups (@-mentions) and their own target, if any."""

    who: str  # a consultant id, or SUPERVISORS
    wecom_user: str | None = None
    dingtalk_user: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class Pending:
    target: str
    key: str
    body: str
    attempts: int
    next_try_us: int


@dataclass(frozen=True)
class Row:
    """A notice to write: its facts as JSON and the body each target kind gets."""

    key: str
    kind: str
    subject: str
    value: str | None
    revision: int
    at: dt.datetime
    facts: str
    bodies: dict  # target kind -> body text
    concerns: tuple = ()  # the consultants it is about (their own targets get it too)
    to: str = "team"  # team | supervisors (the supervisors' target instead of the team's, if any)


def _sql(store: Store, statement: str) -> str:
    return store.recorder.sql(statement)


def ensure_tables(store: Store) -> None:
    """Create the notifier's tables on first use (once per opened store)."""
    store.ensure_tables(NEWEST, _TABLES, lock=7251004)


def _rows(store: Store, statement: str, params: tuple = ()) -> list[Any]:
    ensure_tables(store)
    return store._rows(statement, params)


def _execute(store: Store, statement: str, params: tuple = ()) -> int:
    ensure_tables(store)
    with store._cursor(commit=True) as cur:
        cur.execute(_sql(store, statement), params)
        return rowcount(cur)


# -- targets --------------------------------------------------------------------------------------


def add_target(store: Store, name: str, kind: str, url: str, secret: str | None, team: str,
               now: dt.datetime) -> Target:
    if not NAME.fullmatch(name or ""):
        raise InputError(f"target name: expected 1 to 64 of [A-Za-z0-9_.-], got {name[:40]!r}")
    if not TEAM.fullmatch(team or ""):
        raise InputError(f"--team: expected a team id ([A-Za-z0-9_.-], 1 to 64), got {team[:40]!r}")
    if kind not in KINDS:
        raise InputError(f"--kind: expected one of {', '.join(KINDS)}, got {kind[:40]!r}")
    if not re.fullmatch(r"https?://[^\s]{1,2000}", url or ""):
        raise InputError(f"--url: expected an http:// or https:// URL, got {url[:40]!r}")
    insert = ("INSERT OR IGNORE INTO ledger_notify_targets (name, team, kind, url, secret, created_us) "
              "VALUES (?, ?, ?, ?, ?, ?)" if store.url.kind == "sqlite" else
              "INSERT INTO ledger_notify_targets (name, team, kind, url, secret, created_us) "
              "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
    if _execute(store, insert, (name, team, kind, url, secret or None, to_micros(now))) != 1:
        raise InputError(f"target {name!r} exists already (nothing stored)")
    return Target(name, team, kind, url, secret or None)


def targets(store: Store, team: str | None = None) -> list[Target]:
    query = "SELECT name, team, kind, url, secret FROM ledger_notify_targets"
    rows = _rows(store, query + (" WHERE team = ? ORDER BY name" if team else " ORDER BY team, name"),
                 (team,) if team else ())
    return [Target(*row) for row in rows]


def routes(store: Store, team: str) -> dict[str, Route]:
    rows = _rows(store, "SELECT who, wecom_user, dingtalk_user, target FROM ledger_notify_routes WHERE team = ? "
                        "ORDER BY who", (team,))
    return {row[0]: Route(*row) for row in rows}


def set_route(store: Store, team: str, who: str, wecom_user: str | None = None, dingtalk_user: str | None = None,
              target: str | None = None, clear: bool = False) -> Route | None:
    """Set (merging with what is there) or clear a consultant's route or the supervisors' target."""
    for option, value in (("--wecom-user", wecom_user), ("--dingtalk-user", dingtalk_user)):
        if value is not None and not USER.fullmatch(value):
            raise InputError(f"{option}: expected a user id of 1 to 64 of [A-Za-z0-9_.@-], got {value[:40]!r}")
    if target is not None:
        _check_own_target(store, team, who, target)
    if clear:
        _execute(store, "DELETE FROM ledger_notify_routes WHERE team = ? AND who = ?", (team, who))
        return None
    old = routes(store, team).get(who, Route(who))
    new = Route(who, wecom_user or old.wecom_user, dingtalk_user or old.dingtalk_user, target or old.target)
    _execute(store, "DELETE FROM ledger_notify_routes WHERE team = ? AND who = ?", (team, who))
    _execute(store, "INSERT INTO ledger_notify_routes (team, who, wecom_user, dingtalk_user, target) "
                    "VALUES (?, ?, ?, ?, ?)", (team, who, new.wecom_user, new.dingtalk_user, new.target))
    return new


def _check_own_target(store: Store, team: str, who: str, target: str) -> None:
    found = {t.name: t for t in targets(store, team)}
    if target not in found:
        names = ", ".join(found) or "none"
        raise InputError(f"--target: no target {target[:40]!r} in team {team!r} (its targets: {names}); "
                         "add it first with `ledger notify add-target` (nothing stored)")
    for route in routes(store, team).values():
        if route.target == target and route.who != who:
            raise InputError(f"--target: {target!r} is already the target of {route.who} (nothing stored)")


def setting(store: Store, scope: str, name: str) -> str | None:
    rows = _rows(store, "SELECT value FROM ledger_notify_settings WHERE scope = ? AND name = ?", (scope, name))
    return rows[0][0] if rows else None


def settings(store: Store, name: str) -> dict[str, str]:
    """scope -> value of every `name` setting."""
    return dict(_rows(store, "SELECT scope, value FROM ledger_notify_settings WHERE name = ?", (name,)))


def set_setting(store: Store, scope: str, name: str, value: str | None) -> None:
    """Set (or with None, remove) one setting, in one transaction."""
    ensure_tables(store)
    with store._cursor(commit=True) as cur:
        cur.execute(_sql(store, "DELETE FROM ledger_notify_settings WHERE scope = ? AND name = ?"), (scope, name))
        if value is not None:
            cur.execute(_sql(store, "INSERT INTO ledger_notify_settings (scope, name, value) VALUES (?, ?, ?)"),
                        (scope, name, value))


def recipients(row: Row, kinds: list[tuple[str, str]], own: dict[str, str], supervisors: set[str]) -> list[tuple]:
    """(target name, kind) of the targets a notice goes to. `own`: a consultant's own target ->
    the consultant; `supervisors`: the supervisors' targets. A team target gets every notice but
    the supervisors' ones when the team has a supervisors' target; the supervisors' target gets
    theirs and the 日报; a consultant's own target the notices about them."""
    found = []
    for name, kind in kinds:
        if name in own:
            wanted = own[name] in row.concerns
        elif name in supervisors:
            wanted = row.to == "supervisors" or row.kind == "summary"
        else:
            wanted = row.to != "supervisors" or not supervisors
        if wanted:
            found.append((name, kind))
    return found


def teams_with_targets(store: Store) -> list[str]:
    return [row[0] for row in _rows(store, "SELECT DISTINCT team FROM ledger_notify_targets ORDER BY team")]


# -- notices and position -------------------------------------------------------------------------


def position(store: Store, team: str) -> tuple[int, dt.datetime | None]:
    """The team's position and the moment its notices were derived at (0, None: never)."""
    rows = _rows(store, "SELECT position, until_us FROM ledger_notify_positions WHERE team = ?", (team,))
    if not rows:
        return 0, None
    return int(rows[0][0]), from_micros(rows[0][1]) if rows[0][1] is not None else None


def known(store: Store, team: str) -> tuple[set[str], dict[str, tuple[str | None, int]]]:
    """The keys noticed for the team, and each subject's latest (value, revision)."""
    keys: set[str] = set()
    noticed: dict[str, tuple[str | None, int]] = {}
    rows = _rows(store, "SELECT key, subject, value, revision FROM ledger_notify_notices WHERE team = ?", (team,))
    for key, subject, value, revision in rows:
        keys.add(key)
        seen = noticed.get(subject)
        if seen is None or revision > seen[1]:
            noticed[subject] = (value, int(revision))
    return keys, noticed


def write_batch(store: Store, team: str, rows: list[Row], expected: int, new_position: int,
                until: dt.datetime, quiet_before: dt.datetime | None = None) -> int:
    """Write the notices, one outbox row per (notice, target of the team), and the position, in
    ONE transaction guarded by `expected`; returns the outbox rows made. A notice about a fact
    before `quiet_before` is written without outbox rows: noticed, never sent. Raises `Stale`."""
    ensure_tables(store)
    sql = lambda s: _sql(store, s)  # noqa: E731
    with store._cursor(commit=True) as cur:
        if expected == 0:
            insert = ("INSERT OR IGNORE INTO ledger_notify_positions (team, position) VALUES (?, 0)"
                      if store.url.kind == "sqlite" else
                      "INSERT INTO ledger_notify_positions (team, position) VALUES (?, 0) ON CONFLICT DO NOTHING")
            cur.execute(sql(insert), (team,))
        cur.execute(sql("UPDATE ledger_notify_positions SET position = ?, until_us = ? WHERE team = ? AND position = ?"),
                    (new_position, to_micros(until), team, expected))
        if rowcount(cur) != 1:
            raise Stale(team)
        cur.execute(sql("SELECT COALESCE(MAX(ordinal), 0) FROM ledger_notify_notices WHERE team = ?"), (team,))
        first = int(cur.fetchone()[0]) + 1
        cur.execute(sql("SELECT name, kind FROM ledger_notify_targets WHERE team = ? ORDER BY name"), (team,))
        kinds = [tuple(k) for k in cur.fetchall()]
        cur.execute(sql("SELECT who, target FROM ledger_notify_routes WHERE team = ? AND target IS NOT NULL"), (team,))
        routed = cur.fetchall()
        own = {target: who for who, target in routed if who != SUPERVISORS}
        supervisors = {target for who, target in routed if who == SUPERVISORS}
        notices, outbox = [], []
        for ordinal, row in enumerate(rows, start=first):
            notices.append((team, row.key, row.kind, row.subject, row.value, row.revision, to_micros(row.at),
                            ordinal, row.facts))
            if quiet_before is None or row.at >= quiet_before:
                outbox.extend((name, row.key, team, ordinal, row.bodies[kind], 0, 0, None, 0, None)
                              for name, kind in recipients(row, kinds, own, supervisors))
        store.recorder.insert_rows(cur, "ledger_notify_notices", ("text", "text", "text", "text", "text", "bigint",
                                                                  "bigint", "bigint", "text"), notices)
        store.recorder.insert_rows(cur, "ledger_notify_outbox", ("text", "text", "text", "bigint", "text", "bigint",
                                                                 "bigint", "bigint", "integer", "text"), outbox)
    return len(outbox)


# -- delivery -------------------------------------------------------------------------------------


def pending(store: Store, target: str, limit: int = 500) -> list[Pending]:
    """The target's undelivered notices not given up, in the order they were noticed."""
    rows = _rows(store, "SELECT target, key, body, attempts, next_try_us FROM ledger_notify_outbox "
                        "WHERE target = ? AND delivered_us IS NULL AND gave_up = 0 ORDER BY ordinal LIMIT ?",
                 (target, limit))
    return [Pending(t, k, b, int(a), int(n)) for t, k, b, a, n in rows]


def delivered(store: Store, target: str, key: str, now: dt.datetime) -> None:
    _execute(store, "UPDATE ledger_notify_outbox SET delivered_us = ?, attempts = attempts + 1, last_error = NULL "
                    "WHERE target = ? AND key = ? AND delivered_us IS NULL", (to_micros(now), target, key))


def failed(store: Store, target: str, key: str, error: str, next_try: dt.datetime, give_up: bool) -> None:
    _execute(store, "UPDATE ledger_notify_outbox SET attempts = attempts + 1, next_try_us = ?, gave_up = ?, "
                    "last_error = ? WHERE target = ? AND key = ? AND delivered_us IS NULL",
             (to_micros(next_try), 1 if give_up else 0, error[:500], target, key))


def earliest_retry(store: Store, team: str) -> dt.datetime | None:
    """When the team's first notice waiting for a retry is due (None: none waits)."""
    rows = _rows(store, "SELECT MIN(next_try_us) FROM ledger_notify_outbox WHERE team = ? AND delivered_us IS NULL "
                        "AND gave_up = 0 AND attempts > 0", (team,))
    return from_micros(rows[0][0]) if rows and rows[0][0] is not None else None


def counts(store: Store, team: str) -> dict[str, dict[str, int]]:
    """Per target: notices delivered, waiting and given up."""
    rows = _rows(store, "SELECT target, SUM(CASE WHEN delivered_us IS NOT NULL THEN 1 ELSE 0 END), "
                        "SUM(CASE WHEN delivered_us IS NULL AND gave_up = 0 THEN 1 ELSE 0 END), SUM(gave_up) "
                        "FROM ledger_notify_outbox WHERE team = ? GROUP BY target ORDER BY target", (team,))
    return {t: {"delivered": int(d or 0), "waiting": int(w or 0), "gave_up": int(g or 0)} for t, d, w, g in rows}


def kinds(store: Store, team: str) -> dict[str, int]:
    rows = _rows(store, "SELECT kind, COUNT(*) FROM ledger_notify_notices WHERE team = ? GROUP BY kind ORDER BY kind",
                 (team,))
    return {k: int(n) for k, n in rows}


def sent_since(store: Store, target: str, since: dt.datetime) -> list[dt.datetime]:
    """When the target's notices delivered after `since` were, ascending (its rate window)."""
    rows = _rows(store, "SELECT delivered_us FROM ledger_notify_outbox WHERE target = ? AND delivered_us > ? "
                        "ORDER BY delivered_us", (target, to_micros(since)))
    return [from_micros(us) for (us,) in rows]
