"""The store's keys, kept outside its database (issue #18 item 3, R-ID-2).

A copy of the database alone (a backup, a pg_dump, the files) must not give back an erased
number: the keys that protect numbers live in a key file the database never holds.

- `phone`: the HMAC key of the phone keys (`ledger.phone.make_key`). Permanent for a store: the
  events are append-only and hold these keys, and a later lead with an erased number must still
  match through it (R-ID-2), so it is never rotated (docs/DECISIONS.md).
- `vault`: the AES-256-GCM keys that seal the clear numbers in `ledger_phones`, by id; `current`
  seals new ones. `ledger key rotate` adds one, re-seals every row, drops the old ones.

The file: JSON `{"v": 1, "phone": hex, "current": id, "vault": {id: hex}}`, mode 0600. Default
`STORE.db.key` beside a SQLite store; `LEDGER_SECRET_FILE` names it (required on PostgreSQL).
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass, field

from ..errors import StoreError

SECRET_FILE_ENV = "LEDGER_SECRET_FILE"
SEALED = "v1:"  # the prefix of a sealed number in ledger_phones (anything else: clear, before the upgrade)


@dataclass
class Keys:
    phone: bytes
    current: str
    vault: dict[str, bytes] = field(default_factory=dict)
    path: str = ""
    _aead: dict = field(default_factory=dict, repr=False, compare=False)

    def _cipher(self, key_id: str):
        cipher = self._aead.get(key_id)
        if cipher is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            cipher = self._aead[key_id] = AESGCM(self.vault[key_id])
        return cipher

    def fingerprint(self) -> str:
        """What the database keeps to know its key file: a digest of the phone key (not the key)."""
        import hashlib

        return hashlib.sha256(b"lead-ledger key file\x00" + self.phone).hexdigest()[:32]

    def seal(self, clear: str) -> str:
        """`v1:<key id>:<base64 of nonce and ciphertext>`: a clear number as ledger_phones keeps it."""
        nonce = secrets.token_bytes(12)
        sealed = self._cipher(self.current).encrypt(nonce, clear.encode(), self.current.encode())
        return f"{SEALED}{self.current}:" + base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str) -> str:
        """The clear number of a sealed one (a value from before the upgrade is returned as is)."""
        if not sealed.startswith(SEALED):
            return sealed
        from cryptography.exceptions import InvalidTag

        key_id, _, data = sealed[len(SEALED):].partition(":")
        if key_id not in self.vault:
            raise StoreError(f"the key file {self.path} has no vault key {key_id!r} (a number was sealed "
                             "with it); restore the key file that goes with this database (docs/OPERATIONS.md)")
        raw = base64.b64decode(data)
        try:
            return self._cipher(key_id).decrypt(raw[:12], raw[12:], key_id.encode()).decode()
        except InvalidTag:
            raise StoreError(f"a sealed number does not open with vault key {key_id!r} of {self.path}: "
                             "the key file does not belong to this database") from None

    def to_json(self) -> bytes:
        return json.dumps({"v": 1, "phone": self.phone.hex(), "current": self.current,
                           "vault": {k: v.hex() for k, v in self.vault.items()}}, indent=1).encode() + b"\n"

    def rotated(self) -> "Keys":
        """These keys with a new current vault key (the old ones kept until re-sealing is done)."""
        number = 1 + max((int(k[1:]) for k in self.vault if k[1:].isdigit()), default=0)
        key_id = f"k{number}"
        return Keys(self.phone, key_id, {**self.vault, key_id: secrets.token_bytes(32)}, self.path)


def key_path(kind: str, sqlite_path: str) -> str | None:
    """Where the store's key file is: $LEDGER_SECRET_FILE, else beside a SQLite store (None: an
    in-memory store, whose keys live in memory)."""
    named = os.environ.get(SECRET_FILE_ENV)
    if named:
        return os.path.abspath(named)
    if kind == "sqlite":
        return None if sqlite_path == ":memory:" else os.path.abspath(sqlite_path) + ".key"
    raise StoreError(f"no key file for the PostgreSQL store: set {SECRET_FILE_ENV}=PATH (a file outside the "
                     "database, mode 0600; created on first use; docs/OPERATIONS.md, 'The key file')")


def fresh(phone: bytes | None = None, path: str = "") -> Keys:
    return Keys(phone or secrets.token_bytes(32), "k1", {"k1": secrets.token_bytes(32)}, path)


def load(path: str) -> Keys | None:
    """The keys in `path` (None: no such file). Refuses a file others may read."""
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreError(f"cannot read the key file {path}: {error.strerror}") from None
    if stat.S_IMODE(mode) & 0o077:
        raise StoreError(f"the key file {path} may be read by others (mode {stat.S_IMODE(mode):o}); "
                         f"expected 600: chmod 600 {path}")
    try:
        doc = json.loads(data)
        return Keys(bytes.fromhex(doc["phone"]), doc["current"],
                    {k: bytes.fromhex(v) for k, v in doc["vault"].items()}, path)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StoreError(f"the key file {path} is not a ledger key file (expected JSON with phone, "
                         "current, vault)") from None


def create(path: str, keys: Keys) -> Keys:
    """Write `keys` to a new file `path` (0600); if another process made it first, its keys."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        found = load(path)
        if found is None:
            raise StoreError(f"the key file {path} vanished while being created; run the command again") from None
        return found
    except OSError as error:
        raise StoreError(f"cannot create the key file {path}: {error.strerror}") from None
    _write_all(fd, keys.to_json())
    _sync_folder(path)
    keys.path = path
    return keys


def replace(path: str, keys: Keys) -> None:
    """Atomically replace the key file (a temporary file beside it, fsync, rename)."""
    temporary = f"{path}.tmp{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    _write_all(fd, keys.to_json())
    os.replace(temporary, path)
    _sync_folder(path)


def _write_all(fd: int, data: bytes) -> None:
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(path: str) -> None:
    fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
