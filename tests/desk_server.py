"""A real `ledger serve` process for the web desk's end-to-end tests (tests/e2e/test_web_desk*.py):
a store with the demo month imported and users made by the CLI, the server on a free port of
127.0.0.1, and httpx clients logged in through the login form."""
from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo-campus-month.jsonl"
LEDGER = [sys.executable, "-m", "cli"]
PASSWORD = "a long passphrase"


def ledger(db: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*LEDGER, *args, "--db", db], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(db: str) -> tuple[subprocess.Popen, str]:
    """A `ledger serve` process on `db` and a free port: (process, base URL), once it answers."""
    port = free_port()
    server = subprocess.Popen([*LEDGER, "serve", "--db", db, "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/login", timeout=1)
            return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError(server.stdout.read().decode())


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(10)


@contextlib.contextmanager
def serving(folder: Path, users: list[tuple[str, ...]], db: str | None = None) -> Iterator[dict]:
    """The demo store (a SQLite file in `folder`, or the empty store at `db`) with `users` (name,
    team, role[, consultant id]) and a server on it: {"db", "base", "tokens": {name: token}}; the
    server is stopped after."""
    db = db or f"sqlite:///{folder / 'desk.db'}"
    imported = ledger(db, "import", str(DEMO))
    assert imported.returncode == 0, imported.stderr
    tokens = {}
    for name, team, role, *consultant in users:
        extra = ["--consultant", consultant[0]] if consultant else []
        added = ledger(db, "user", "add", name, "--team", team, "--role", role, *extra, stdin=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
        tokens[name] = ledger(db, "user", "token", name).stdout.strip()
    server, base = start(db)
    try:
        yield {"db": db, "base": base, "tokens": tokens}
    finally:
        stop(server)


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(desk: dict, name: str, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=desk["base"], follow_redirects=False, timeout=30)
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "name": name, "password": password})
    assert response.status_code == 303, response.text
    return client
