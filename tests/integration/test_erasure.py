"""Erasure that holds against a copy of the database (issue #18 item 3, R-ID-2): the keys live in
a key file outside it, stored phone keys hold no digit, clear numbers are sealed, and the raw
files hold no erased number after `erase-phone`; on SQLite a reader that keeps the WAL
checkpoint from completing makes `erase-phone` exit 1."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.errors import StoreError
from ledger.phone import ERASED, mask, normalize
from ledger.store import open_store

NUMBER = "13987655678"
SHOWN = ("13987655678", "139-8765-5678", "139 8765 5678", "+86 139-8765-5678", "8765", "*******5678")
OTHER = "13711112222"
LEDGER = str(Path(sys.executable).with_name("ledger"))


def lines(*events: dict) -> str:
    base = [
        {"type": "PolicyAdopted", "team": "t", "at": "2026-01-05T09:00:00+08:00", "preset": "campus"},
        {"type": "ConsultantJoined", "team": "t", "at": "2026-01-05T09:00:00+08:00", "consultant": "c1",
         "name": "A", "seat": 1},
        {"type": "LeadArrived", "team": "t", "at": "2026-01-05T10:00:00+08:00", "lead": "L1",
         "channel": "walk_in", "phone": "+86 139-8765-5678"},
        {"type": "LeadArrived", "team": "t", "at": "2026-01-05T11:00:00+08:00", "lead": "L2",
         "channel": "walk_in", "phone": OTHER},
    ]
    return "".join(json.dumps(e) + "\n" for e in [*base, *events])


def ledger(url: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([LEDGER, *args, "--db", url], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LEDGER_LANG": "en", **(env or {})})


def imported_and_erased(url: str, folder: Path) -> None:
    source = folder / "events.jsonl"
    source.write_text(lines())
    assert ledger(url, "import", str(source)).returncode == 0
    done = ledger(url, "erase-phone", "139 8765 5678", "--team", "t")
    assert done.returncode == 0, done.stderr


def table_values(url: str) -> list[str]:
    """Every value of every table, read without the ledger (what a copy of the database gives)."""
    out: list[str] = []
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url[len("sqlite:///"):])
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                out += [bytes(v).decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row]
        conn.close()
        return out
    import psycopg

    with psycopg.connect(url.replace("postgresql://postgres:@", "postgresql://postgres@")) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                out += [bytes(v).decode("utf-8", "replace") if isinstance(v, (bytes, memoryview)) else str(v)
                        for v in row]
    return out


def stored_keys(values: list[str]) -> set[str]:
    found = set()
    for value in values:
        for part in value.replace('"', " ").split():
            if part.startswith("h:"):
                found.add(part.rstrip(",}"))
    return found


def recovered(key: str, secrets: list[bytes], tail: str = "5678") -> str | None:
    """Every `1[3-9]` mobile number ending in `tail`, keyed with each candidate secret."""
    want = key[2:34]
    for secret in secrets:
        for second in "3456789":
            for middle in range(100_000):
                digits = f"1{second}{middle:05d}{tail}"
                if hmac.new(secret, digits.encode(), hashlib.sha256).hexdigest()[:32] == want:
                    return digits
    return None


def test_a_copy_of_the_database_without_the_key_file_does_not_give_back_an_erased_number(store_url, tmp_path):
    url = store_url
    imported_and_erased(url, tmp_path)
    values = table_values(url)
    text = "\n".join(values)
    for shown in SHOWN:
        assert shown not in text, shown
    keys = stored_keys(values)
    assert keys and all(key.count(":") == 1 for key in keys)  # no clear digit in any stored key
    # The attacker's best secrets: everything the database holds that looks like a key.
    candidates = [b""] + [bytes.fromhex(v) for v in values if len(v) == 64 and all(c in "0123456789abcdef" for c in v)]
    with open_store(url) as store:  # the key file only names the target here
        erased_key, secret = store.phone_key(NUMBER), store.keys.phone
        assert mask(erased_key) == ERASED and mask(store.phone_key(OTHER)) == "*******2222"
    assert erased_key in keys
    assert recovered(erased_key, candidates) is None
    # Control: with the key file, the same search finds the number (the test can find it).
    assert recovered(erased_key, [secret]) == NUMBER


def raw_files(url: str, request) -> list[Path]:
    if url.startswith("sqlite"):
        path = Path(url[len("sqlite:///"):])
        return [path, *path.parent.glob(path.name + "-*")]
    server = request.getfixturevalue("postgres_server")
    server.admin("CHECKPOINT")
    data = Path(server.folder) / "data"
    return [p for p in [*(data / "base").rglob("*"), *(data / "pg_wal").glob("0*")] if p.is_file()]


def test_after_erase_phone_the_raw_files_hold_the_number_in_no_format(store_url, request, tmp_path):
    imported_and_erased(store_url, tmp_path)
    files = raw_files(store_url, request)
    assert b'"lead":"L1"' in b"".join(f.read_bytes() for f in files)  # the scan reads the stored events
    for file in files:
        content = file.read_bytes()
        for shown in SHOWN[:4] + ("*******5678", normalize(NUMBER)):
            assert shown.encode() not in content, (file, shown)
    assert ledger(store_url, "find", "--phone", NUMBER, "--team", "t", "--json").stdout.count('"L1"') == 1


def test_the_key_file_is_beside_the_sqlite_store_mode_0600_and_its_keys_are_not_in_the_database(tmp_path, monkeypatch):
    monkeypatch.delenv("LEDGER_SECRET_FILE", raising=False)
    url = f"sqlite:///{tmp_path / 'l.db'}"
    imported_and_erased(url, tmp_path)
    key_file = tmp_path / "l.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    doc = json.loads(key_file.read_text())
    database = b"".join(p.read_bytes() for p in raw_files(url, None))
    for secret in (doc["phone"], *doc["vault"].values()):
        assert secret.encode() not in database and bytes.fromhex(secret) not in database
    key_file.chmod(0o644)
    refused = ledger(url, "find", "--phone", NUMBER, "--team", "t")
    assert refused.returncode == 1 and "may be read by others" in refused.stderr and "chmod 600" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_an_older_store_moves_its_key_out_once_and_then_refuses_to_open_without_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("LEDGER_SECRET_FILE", raising=False)
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    source = tmp_path / "e.jsonl"
    source.write_text(lines())
    assert ledger(url, "import", str(source)).returncode == 0
    # Make it what an older version left: the secret in ledger_meta, clear numbers, keys with digits.
    key_file = Path(str(path) + ".key")
    secret = json.loads(key_file.read_text())["phone"]
    key_file.unlink()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM ledger_meta WHERE name = 'key_file'")
    conn.execute("INSERT INTO ledger_meta (name, value) VALUES ('phone_secret', ?)", (secret,))
    conn.execute("UPDATE ledger_phones SET clear = '+86 139-8765-5678', phone_key = phone_key || ':5678' "
                 "WHERE seq = 3")
    conn.execute("UPDATE ledger_phones SET clear = ?, phone_key = phone_key || ':2222' WHERE seq = 4", (OTHER,))
    conn.commit()
    conn.close()

    found = ledger(url, "find", "--phone", NUMBER, "--team", "t", "--json")
    assert found.returncode == 0 and json.loads(found.stdout)["leads"] == ["L1"]
    assert json.loads(key_file.read_text())["phone"] == secret
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM ledger_meta WHERE name = 'phone_secret'").fetchone() == (0,)
    assert all(clear.startswith("v1:") for (clear,) in conn.execute("SELECT clear FROM ledger_phones"))
    conn.close()
    assert secret.encode() not in path.read_bytes()
    exported = ledger(url, "export", "--team", "t").stdout
    assert "+86 139-8765-5678" in exported and OTHER in exported

    key_file.unlink()
    refused = ledger(url, "find", "--phone", NUMBER, "--team", "t")
    assert refused.returncode == 1 and f"the key file {key_file} of the store" in refused.stderr
    assert "is missing: restore it" in refused.stderr and "Traceback" not in refused.stderr
    with pytest.raises(StoreError, match="is missing"):
        open_store(url)


def test_erase_phone_with_an_open_sqlite_reader_exits_1_and_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("LEDGER_SECRET_FILE", raising=False)
    path = tmp_path / "l.db"
    url = f"sqlite:///{path}"
    source = tmp_path / "e.jsonl"
    source.write_text(lines())
    assert ledger(url, "import", str(source)).returncode == 0
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM stored_events").fetchone()  # holds a snapshot of the WAL
    try:
        held = ledger(url, "erase-phone", NUMBER, "--team", "t")
        assert held.returncode == 1, held.stderr
        assert "the erasure is recorded, but" in held.stderr and "ledger db checkpoint" in held.stderr
        assert len(held.stderr.strip().splitlines()) == 1 and "Traceback" not in held.stderr
        assert ledger(url, "db", "checkpoint").returncode == 1
    finally:
        reader.rollback()
        reader.close()
    done = ledger(url, "db", "checkpoint")
    assert done.returncode == 0, done.stderr
    wal = Path(str(path) + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_key_rotate_seals_every_number_with_a_new_key_and_drops_the_old_one(store_url, tmp_path, monkeypatch):
    if store_url.startswith("sqlite"):
        monkeypatch.delenv("LEDGER_SECRET_FILE", raising=False)
    else:
        monkeypatch.setenv("LEDGER_SECRET_FILE", str(tmp_path / "rot.key"))
    imported_and_erased(store_url, tmp_path)
    with open_store(store_url) as store:
        key_file, before = Path(store.keys.path), store.keys
    rotated = ledger(store_url, "key", "rotate")
    assert rotated.returncode == 0 and "sealed with vault key k2" in rotated.stderr, rotated.stderr
    doc = json.loads(key_file.read_text())
    assert list(doc["vault"]) == ["k2"] and doc["phone"] == before.phone.hex()
    values = [v for v in table_values(store_url) if v.startswith("v1:")]
    assert values and all(v.startswith("v1:k2:") for v in values)
    exported = ledger(store_url, "export", "--team", "t").stdout
    assert OTHER in exported and NUMBER not in exported
    assert json.loads(ledger(store_url, "find", "--phone", NUMBER, "--team", "t", "--json").stdout)["leads"] == ["L1"]


def test_postgresql_needs_ledger_secret_file(store_url, monkeypatch, tmp_path):
    if store_url.startswith("sqlite"):
        pytest.skip("SQLite keeps its key file beside the store")
    imported_and_erased(store_url, tmp_path)  # a store in use (an empty database is no store: exit 2)
    monkeypatch.delenv("LEDGER_SECRET_FILE")
    refused = ledger(store_url, "find", "--phone", NUMBER, "--team", "t")
    assert refused.returncode == 1 and "set LEDGER_SECRET_FILE=PATH" in refused.stderr
