"""The web desk's people (issue #13): users, their API tokens, login attempts, sessions and the
cookie-signing secret, in the store's own database and apart from the events.

    ledger_users     name -> team, role, argon2 hash, disabled, created_us
    ledger_tokens    sha256 of the token -> name, created_us      (the token itself is never kept)
    ledger_logins    (name, at_us, ok): attempts, for throttling (R: 5 failures in 15 minutes)
    ledger_sessions  sha256 of the session id -> name, csrf, created_us, seen_us
    ledger_user_consultants  name -> consultant: the consultant id a `consultant` user is (their
                     own customers and follow-ups on the desk)
    ledger_meta      'web_secret': the key that signs session cookies, made on first use

Every statement is written with `?` placeholders and passed through the recorder (`%s` on
PostgreSQL); nothing is ever built from input. A user may only see their own team.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .store import Store, from_micros, rowcount, to_micros

ROLES = ("supervisor", "reception", "consultant", "viewer")
NAME = re.compile(r"[^\s\x00-\x1f\x7f/\\]{1,64}")
TEAM = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MIN_PASSWORD = 8
THROTTLE_FAILURES = 5
THROTTLE_WINDOW = dt.timedelta(minutes=15)
SESSION_IDLE = dt.timedelta(hours=12)
# A few passwords people type first; argon2 makes guessing slow, not a common password strong.
_COMMON = {"password", "password1", "12345678", "123456789", "1234567890", "qwertyui", "qwerty123",
           "11111111", "88888888", "66666666", "abcdefgh", "abc12345", "iloveyou", "admin123", "ledger123"}

_TABLES = [
    "CREATE TABLE IF NOT EXISTS ledger_users (name TEXT PRIMARY KEY, team TEXT NOT NULL, role TEXT NOT NULL, "
    "hash TEXT NOT NULL, disabled INTEGER NOT NULL, created_us BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_tokens (digest TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "created_us BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_logins (name TEXT NOT NULL, at_us BIGINT NOT NULL, ok INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ledger_logins_by_name ON ledger_logins (name, at_us)",
    "CREATE TABLE IF NOT EXISTS ledger_sessions (digest TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "csrf TEXT NOT NULL, created_us BIGINT NOT NULL, seen_us BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_user_consultants (name TEXT PRIMARY KEY, consultant TEXT NOT NULL)",
]
_LAST_TABLE = "ledger_user_consultants"  # the newest: a store made before it gets it on first use
_USER_COLUMNS = ("SELECT u.name, u.team, u.role, u.disabled, u.created_us, c.consultant FROM ledger_users u "
                 "LEFT JOIN ledger_user_consultants c ON c.name = u.name")


@dataclass(frozen=True)
class User:
    name: str
    team: str
    role: str
    disabled: bool
    created: dt.datetime
    consultant: str | None = None  # the consultant id a `consultant` user is, when given

    def to_json_dict(self) -> dict:
        return {"name": self.name, "team": self.team, "role": self.role, "disabled": self.disabled,
                "created": self.created.isoformat(timespec="seconds"), "consultant": self.consultant}


@dataclass(frozen=True)
class Session:
    name: str
    csrf: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def ensure_tables(store: Store) -> None:
    """Create the desk's tables on first use (once per opened store)."""
    store.ensure_tables(_LAST_TABLE, _TABLES, lock=7251003)


def _execute(store: Store, statement: str, params: tuple = ()) -> int:
    ensure_tables(store)
    with store._cursor(commit=True) as cur:
        cur.execute(store.recorder.sql(statement), params)
        return rowcount(cur)


def _rows(store: Store, statement: str, params: tuple = ()) -> list[Any]:
    ensure_tables(store)
    return store._rows(statement, params)


# -- checks on what a person typed ---------------------------------------------------------------


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise InputError(f"user name: expected 1 to 64 characters without spaces or slashes, got {name[:40]!r}")
    return name


def check_password(password: str, name: str) -> None:
    """Refuse a password that is empty, short, one the name gives away, or a common one."""
    if not password:
        raise InputError("password: expected a password, got nothing (nothing stored)")
    problem = None
    if len(password) < MIN_PASSWORD:
        problem = f"at least {MIN_PASSWORD} characters"
    elif len(set(password)) < 4:
        problem = "at least 4 different characters"
    elif name.lower() in password.lower():
        problem = "a password that does not contain the user name"
    elif password.lower() in _COMMON:
        problem = "a password that is not a common one"
    if problem:
        raise InputError(f"password: too weak; expected {problem} (nothing stored)")


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


# -- users ------------------------------------------------------------------------------------


def _user(row: tuple) -> User:
    name, team, role, disabled, created_us, consultant = row
    return User(name, team, role, bool(disabled), from_micros(created_us), consultant)


def add_user(store: Store, name: str, team: str, role: str, password: str, consultant: str | None = None) -> User:
    check_name(name)
    if not TEAM.fullmatch(team or ""):
        raise InputError(f"--team: expected a team id ([A-Za-z0-9_.-], 1 to 64), got {team[:40]!r}")
    if role not in ROLES:
        raise InputError(f"--role: expected one of {', '.join(ROLES)}, got {role[:40]!r}")
    if consultant is not None and (role != "consultant" or not TEAM.fullmatch(consultant)):
        raise InputError(f"--consultant: expected a consultant id ([A-Za-z0-9_.-]) for a consultant user, got "
                         f"{consultant[:40]!r} for role {role}")
    check_password(password, name)
    if get_user(store, name) is not None:
        raise InputError(f"user {name!r} exists already; `ledger user passwd {name}` changes the password")
    digest = _hasher().hash(password)
    created = _now().replace(microsecond=0)
    insert = ("INSERT OR IGNORE INTO ledger_users (name, team, role, hash, disabled, created_us) "
              "VALUES (?, ?, ?, ?, 0, ?)" if store.url.kind == "sqlite" else
              "INSERT INTO ledger_users (name, team, role, hash, disabled, created_us) "
              "VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT DO NOTHING")
    if _execute(store, insert, (name, team, role, digest, to_micros(created))) != 1:
        raise InputError(f"user {name!r} exists already")
    if consultant is not None:
        _execute(store, "INSERT INTO ledger_user_consultants (name, consultant) VALUES (?, ?)", (name, consultant))
    return User(name, team, role, False, created, consultant)


def get_user(store: Store, name: str) -> User | None:
    rows = _rows(store, _USER_COLUMNS + " WHERE u.name = ?", (name,))
    return _user(rows[0]) if rows else None


def users(store: Store, team: str | None = None) -> list[User]:
    if team is None:
        rows = _rows(store, _USER_COLUMNS + " ORDER BY u.team, u.name")
    else:
        rows = _rows(store, _USER_COLUMNS + " WHERE u.team = ? ORDER BY u.name", (team,))
    return [_user(row) for row in rows]


def _known(store: Store, name: str) -> User:
    found = get_user(store, name)
    if found is None:
        raise InputError(f"unknown user {name[:40]!r}; `ledger user list` shows them")
    return found


def disable_user(store: Store, name: str) -> User:
    """A disabled user can no longer log in; their sessions and tokens stop working at once."""
    _known(store, name)
    _execute(store, "UPDATE ledger_users SET disabled = 1 WHERE name = ?", (name,))
    _execute(store, "DELETE FROM ledger_sessions WHERE name = ?", (name,))
    return _known(store, name)


def set_password(store: Store, name: str, password: str) -> None:
    _known(store, name)
    check_password(password, name)
    _execute(store, "UPDATE ledger_users SET hash = ? WHERE name = ?", (_hasher().hash(password), name))
    _execute(store, "DELETE FROM ledger_sessions WHERE name = ?", (name,))


def new_token(store: Store, name: str) -> str:
    """A new API token for `name`, returned once; only its SHA-256 is kept."""
    user = _known(store, name)
    if user.disabled:
        raise InputError(f"user {name!r} is disabled")
    token = "llt_" + secrets.token_urlsafe(32)
    _execute(store, "INSERT INTO ledger_tokens (digest, name, created_us) VALUES (?, ?, ?)",
             (_digest(token), name, to_micros(_now())))
    return token


def token_user(store: Store, token: str) -> User | None:
    """The enabled user of an API token, or None."""
    rows = _rows(store, "SELECT name FROM ledger_tokens WHERE digest = ?", (_digest(token),))
    user = get_user(store, rows[0][0]) if rows else None
    return user if user is not None and not user.disabled else None


# -- logging in -------------------------------------------------------------------------------


def throttled(store: Store, name: str, now: dt.datetime | None = None) -> bool:
    """THROTTLE_FAILURES failed attempts for this name within THROTTLE_WINDOW."""
    since = to_micros((now or _now()) - THROTTLE_WINDOW)
    rows = _rows(store, "SELECT COUNT(*) FROM ledger_logins WHERE name = ? AND ok = 0 AND at_us >= ?",
                 (name[:64], since))
    return rows[0][0] >= THROTTLE_FAILURES


def authenticate(store: Store, name: str, password: str, now: dt.datetime | None = None) -> User | None:
    """The user if the password is right and the user enabled; every attempt is written down.
    The caller asks `throttled` first."""
    from argon2.exceptions import InvalidHashError, VerificationError

    now = now or _now()
    rows = _rows(store, "SELECT hash FROM ledger_users WHERE name = ?", (name,))
    ok = False
    if rows:
        try:
            ok = _hasher().verify(rows[0][0], password)
        except (VerificationError, InvalidHashError):
            ok = False
    user = get_user(store, name) if ok else None
    ok = user is not None and not user.disabled
    _execute(store, "INSERT INTO ledger_logins (name, at_us, ok) VALUES (?, ?, ?)",
             (name[:64], to_micros(now), 1 if ok else 0))
    if ok:  # a success clears the failures before it
        _execute(store, "DELETE FROM ledger_logins WHERE name = ? AND ok = 0", (name[:64],))
    _execute(store, "DELETE FROM ledger_logins WHERE at_us < ?", (to_micros(now - THROTTLE_WINDOW),))
    return user if ok else None


# -- sessions ---------------------------------------------------------------------------------


def open_session(store: Store, name: str) -> tuple[str, Session]:
    """A new session: its id (for the signed cookie; only its SHA-256 is kept) and its CSRF token."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = to_micros(_now())
    _execute(store, "INSERT INTO ledger_sessions (digest, name, csrf, created_us, seen_us) VALUES (?, ?, ?, ?, ?)",
             (_digest(sid), name, csrf, now, now))
    return sid, Session(name, csrf)


def session(store: Store, sid: str) -> tuple[Session, User] | None:
    """The live session of this id and its enabled user; an idle one (SESSION_IDLE) is closed."""
    rows = _rows(store, "SELECT name, csrf, seen_us FROM ledger_sessions WHERE digest = ?", (_digest(sid),))
    if not rows:
        return None
    name, csrf, seen_us = rows[0]
    now = _now()
    user = get_user(store, name)
    if user is None or user.disabled or from_micros(seen_us) < now - SESSION_IDLE:
        close_session(store, sid)
        return None
    if now - from_micros(seen_us) > dt.timedelta(minutes=1):
        _execute(store, "UPDATE ledger_sessions SET seen_us = ? WHERE digest = ?", (to_micros(now), _digest(sid)))
    return Session(name, csrf), user


def close_session(store: Store, sid: str) -> None:
    _execute(store, "DELETE FROM ledger_sessions WHERE digest = ?", (_digest(sid),))


def web_secret(store: Store) -> str:
    """The key that signs the desk's cookies: made once per store, kept in `ledger_meta`."""
    rows = store._rows("SELECT value FROM ledger_meta WHERE name = 'web_secret'")
    if not rows:
        insert = ("INSERT OR IGNORE INTO ledger_meta (name, value) VALUES ('web_secret', ?)"
                  if store.url.kind == "sqlite" else
                  "INSERT INTO ledger_meta (name, value) VALUES ('web_secret', ?) ON CONFLICT DO NOTHING")
        with store._cursor(commit=True) as cur:
            cur.execute(store.recorder.sql(insert), (secrets.token_hex(32),))
        rows = store._rows("SELECT value FROM ledger_meta WHERE name = 'web_secret'")
    return rows[0][0]
