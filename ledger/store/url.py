"""Store URLs: `sqlite:///PATH` (the default, `ledger.db`) or `postgresql://user:pass@host:port/db`."""
from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..errors import InputError

DEFAULT_URL = "sqlite:///ledger.db"


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
