"""`ledger serve`: the web desk (issue #13), a Starlette app (`web.app`) served by uvicorn."""
from __future__ import annotations

import click

from .app import db_option, main


@main.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (more than one wants PostgreSQL).")
def serve_command(db: str | None, host: str, port: int, workers: int) -> None:
    """Serve the web desk: the board, lookup, disputes and rulings in a browser, and the JSON API.

    Users log in with the names and passwords of `ledger user add`; the API takes
    `Authorization: Bearer TOKEN` (`ledger user token NAME`).

    \b
    Example:
      ledger user add 主任 --team renda --role supervisor
      ledger serve --db sqlite:///ledger.db --port 8000
    """
    import os

    import uvicorn

    from ledger.store import open_store

    with open_store(db):  # a bad URL is one line here, not a traceback in each worker
        pass
    if workers == 1:
        from web.app import create_app

        uvicorn.run(create_app(db), host=host, port=port, log_level="warning", access_log=False)
        return
    if db:
        os.environ["LEDGER_DB"] = db
    uvicorn.run("web.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="warning",
                access_log=False)  # no access lines at "warning" anyway; uvicorn would still build each one
