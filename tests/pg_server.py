"""A throwaway PostgreSQL 15 server for tests and benchmarks.

PostgreSQL refuses to run as root, so when we are root the server's directory is handed to the
`postgres` system user and `initdb` / `pg_ctl` run through `runuser -u postgres`. The server
listens on 127.0.0.1 on a free port with `trust` authentication and is removed on `stop()`.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass

PG_BIN = os.environ.get("LEDGER_PG_BIN", "/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PgServer:
    folder: str
    port: int
    user: str = "postgres"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}:@127.0.0.1:{self.port}/{dbname}"

    def admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, dbname: str) -> str:
        self.admin(f'CREATE DATABASE "{dbname}" STRATEGY = FILE_COPY')
        return self.url(dbname)

    def reset_database(self, dbname: str) -> None:
        """Empty a database again (much faster than creating a new one)."""
        import psycopg

        self.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   f"WHERE datname = '{dbname}' AND pid <> pg_backend_pid()")
        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname=dbname,
                             autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")

    def drop_database(self, dbname: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    def stop(self) -> None:
        _run(["pg_ctl", "-D", os.path.join(self.folder, "data"), "-m", "immediate", "-w", "stop"],
             check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(args: list[str], check: bool = True) -> subprocess.CompletedProcess:
    command = _as_postgres() + [os.path.join(PG_BIN, args[0]), *args[1:]]
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def start(durable: bool = False) -> PgServer:
    """Start a fresh server; `durable=False` turns fsync off (tests), True keeps the defaults."""
    folder = tempfile.mkdtemp(prefix="ledger-pg-")
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    os.chmod(folder, 0o700)
    data = os.path.join(folder, "data")
    port = _free_port()
    try:
        _run(["initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale",
              "--no-sync"])
        settings = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=100"
        if not durable:
            settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run(["pg_ctl", "-D", data, "-o", settings, "-l", os.path.join(folder, "server.log"),
              "-w", "-t", "60", "start"])
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return PgServer(folder, port)
