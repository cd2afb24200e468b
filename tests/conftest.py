"""Shared fixtures: a throwaway PostgreSQL 15 server for the session and a fresh store per test.

`store_url` is parametrized over SQLite and PostgreSQL: a new SQLite file in `tmp_path`, or an
empty database on the session's server (emptied again after the test and reused: creating a
database costs ~0.3 s). The server is started by `tests/pg_server.py` (initdb + pg_ctl, as the
`postgres` user when we run as root) and removed at the end of the session. Without PostgreSQL binaries the PostgreSQL cases are skipped.
"""
from __future__ import annotations

import itertools
import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import pg_server as pg  # noqa: E402

_databases = itertools.count(1)
_free_databases: list[str] = []


@pytest.fixture(autouse=True)
def english_unless_asked(monkeypatch):
    """The tests written before issue #14 read the English human output: the command line is
    Chinese unless `LEDGER_LANG`/`--lang`/the locale says otherwise, so pin English here (the
    tests of the language itself, tests/e2e/test_cli_language.py, set what they need)."""
    monkeypatch.setenv("LEDGER_LANG", "en")


@pytest.fixture(scope="session")
def postgres_server():
    if not os.path.exists(os.path.join(pg.PG_BIN, "pg_ctl")):
        pytest.skip(f"no PostgreSQL binaries in {pg.PG_BIN}")
    server = pg.start()
    # The stores' key file (issue #18 item 3: required on PostgreSQL), one for the session.
    server.key_file = os.path.join(tempfile.mkdtemp(prefix="ledger-keys-"), "pg.key")
    try:
        yield server
    finally:
        server.stop()


def _new_url(kind: str, request: pytest.FixtureRequest, folder: Path):
    """A fresh, empty store URL; returns (url, cleanup)."""
    if kind == "sqlite":
        name = f"store{next(_databases)}.db"
        return f"sqlite:///{folder / name}", lambda: None
    server = request.getfixturevalue("postgres_server")
    request.getfixturevalue("monkeypatch").setenv("LEDGER_SECRET_FILE", server.key_file)
    if _free_databases:  # an emptied database of an earlier test: creating one costs ~0.3 s
        dbname = _free_databases.pop()
        url = server.url(dbname)
    else:
        dbname = f"ledger_test_{os.getpid()}_{next(_databases)}"
        url = server.create_database(dbname)

    def cleanup() -> None:
        server.reset_database(dbname)
        _free_databases.append(dbname)

    return url, cleanup


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    url, cleanup = _new_url(request.param, request, tmp_path)
    yield url
    cleanup()


@pytest.fixture
def new_store_url(request, tmp_path, store_url):
    """A factory of further fresh store URLs of the same kind as `store_url`."""
    kind = "sqlite" if store_url.startswith("sqlite") else "postgresql"
    cleanups = []

    def make() -> str:
        url, cleanup = _new_url(kind, request, tmp_path)
        cleanups.append(cleanup)
        return url

    yield make
    for cleanup in cleanups:
        cleanup()


@pytest.fixture
def store(store_url):
    from ledger.store import open_store

    opened = open_store(store_url)
    yield opened
    opened.close()


# -- ../shared/acceptance: the acceptance scenarios beside the checkout, when they are there ----

ACCEPTANCE = Path(__file__).resolve().parents[1].parent / "shared" / "acceptance"


def acceptance_folder() -> Path:
    """`../shared/acceptance`, for a test that reads the acceptance scenarios: call it first.

    CI checks the shared folder out beside the repository; a lone clone has none, and the test is
    skipped, saying why. Under `CI=true` a missing folder is a broken checkout: the test fails.
    """
    if (ACCEPTANCE / "run.py").is_file():
        return ACCEPTANCE
    reason = f"needs the acceptance scenarios beside the checkout: {ACCEPTANCE} is absent"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: a lone clone is not enough)", pytrace=False)
    pytest.skip(reason)


def acceptance_params(params: list, names: int) -> list:
    """Parameters read from the scenarios at collection; with the folder absent, one stand-in case
    (None for each of the `names` arguments), so the test is still collected and
    `acceptance_folder()`, called first in it, skips or fails it (instead of pytest's silent skip
    of an empty parameter set)."""
    if params or ACCEPTANCE.is_dir():
        return params
    return [pytest.param(*([None] * names), id="no-shared-acceptance")]
