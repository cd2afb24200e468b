"""Import, export, the demo, and the nightly rebuild/verify."""
from __future__ import annotations

import contextlib
import datetime as dt
import sys
from typing import Any, Callable

import click

from ledger.errors import InputError

from .app import CONTEXT, N_, StoreOptions, _console, _emit_json, _table, db_option, main, parse_time, store_options, tr
from .queries import explain_command, next_command, owner_command

# -- commands ------------------------------------------------------------------------------------


@main.command("import")
@click.argument("file", metavar="FILE|-")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on standard output.")
@click.option("--allow-future", is_flag=True,
              help="Accept events more than 5 minutes after their recording time (simulations, tests; R-CO-5).")
@click.option("--progress/--no-progress", default=None,
              help="A progress bar on standard error (default: when standard error is a terminal and not --json).")
def import_command(file: str, db: str | None, as_json: bool, allow_future: bool, progress: bool | None) -> None:
    """Import events from a JSON Lines FILE (or - for standard input), all or nothing.

    Blank lines and lines starting with # are ignored. Any bad line rejects the whole file
    (exit status 2) with one message per problem; nothing is stored then. Events whose id is
    already stored with identical content are skipped.

    \b
    Example:
      ledger export --team renda > renda.jsonl && ledger import renda.jsonl
      cat renda.jsonl | ledger --db sqlite:///team.db import -
    """
    from commands.importing import FileLines, import_file

    if file == "-":  # read whole: standard input cannot be read again for a retry
        data, name = sys.stdin.buffer.read(), "<stdin>"
        try:
            source = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[:error.start].count(b"\n") + 1
            raise InputError(f"{name}:{line}: expected UTF-8 text ({error.reason} at byte {error.start})") from None
    else:  # a line at a time: memory stays flat whatever the file's size
        try:
            open(file, "rb").close()  # before the store is opened (or created)
        except OSError as error:
            raise InputError(f"cannot read {file}: {error.strerror}") from None
        source, name = FileLines(file), file

    show = progress if progress is not None else (not as_json and sys.stderr.isatty())
    with StoreOptions(db, None, as_json, None).open_store() as store, _import_bar(show, source) as lines:
        summary = import_file(store, lines, name, now=dt.datetime.now(dt.timezone.utc),
                              allow_future=allow_future)
    if as_json:
        import json

        click.echo(json.dumps(summary.to_json_dict(), ensure_ascii=False))
    else:
        teams = ", ".join(f"{team} +{count}" for team, count in summary.appended.items()) or tr("nothing new")
        skipped = tr(", {skipped} already stored", skipped=summary.skipped) if summary.skipped else ""
        click.echo(tr("{file}: imported {total} event(s) ({teams}){skipped}", file=name, total=summary.total,
                      teams=teams, skipped=skipped), err=True)


class _CountedLines:
    """The lines of an import (a `FileLines` or a text), re-iterable like them, each read
    advancing `advance` by its size in bytes (the bar of `ledger import`)."""

    def __init__(self, source: Any, advance: Callable[[int], None], done: Callable[[], None]):
        self.source, self.advance, self.done = source, advance, done

    def __iter__(self):
        from commands.importing import iter_lines

        lines = iter_lines(self.source) if isinstance(self.source, str) else self.source
        for line in lines:
            self.advance(len(line.encode("utf-8")) + 1)
            yield line
        self.done()


def _import_size(source: Any) -> int | None:
    import os

    if isinstance(source, str):
        return len(source.encode("utf-8"))
    try:
        return os.path.getsize(source.path)
    except OSError:
        return None


@contextlib.contextmanager
def _import_bar(show: bool, source: Any):
    """`source` as is, or counted into a rich progress bar on standard error: bytes read and
    checked, then "saving" while the import commits and builds the read models."""
    if not show:
        yield source
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True, force_terminal=True), transient=True) as bar:
        task = bar.add_task(tr("Importing"), total=_import_size(source))
        yield _CountedLines(source, lambda n: bar.advance(task, n),
                            lambda: bar.update(task, description=tr("Saving and building the read models")))


@main.command("export")
@store_options(team_required=True, at=False)
def export_command(opts: StoreOptions) -> None:
    """Write a team's events as JSON Lines on standard output, in recording order.

    Importing the export into an empty store rebuilds the same answers; exporting again gives
    identical bytes. Erased phone numbers (CustomerErased) appear only as their key.

    \b
    Example:
      ledger export --team renda > renda.jsonl
    """
    from commands.exporting import export_lines

    out = sys.stdout.buffer
    with opts.open_store() as store:
        for line in export_lines(store, opts.team):
            out.write(line)
    out.flush()


# -- the demo (README's first command) -------------------------------------------------------------

DEMO_FIXTURE = "data/demo-campus-month.jsonl"  # package data of `cli` (fixtures/ links to it; make_demo.py writes it)


@main.command("demo")
@click.option("--fixture", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Event file to import (default: the sample month installed with the ledger, "
                   "fixtures/demo-campus-month.jsonl of a checkout).")
@click.option("--at", "at_text", default="2026-11-16T20:30:00+08:00", show_default=True, metavar="TIME",
              help="The moment the board and the dispute are shown at.")
@db_option
def demo_command(fixture: str | None, at_text: str, db: str | None) -> None:
    """Import a sample campus month, then show the rotation board and explain its dispute.

    The import is idempotent (every event has an id), so running the demo twice stores the
    month once. It uses the embedded SQLite store unless --db or LEDGER_DB says otherwise.

    \b
    Example:
      ledger demo
      ledger demo --at 2026-11-17T12:00:00+08:00
    """
    from importlib.resources import files
    from pathlib import Path

    from commands.importing import import_file

    path = Path(fixture) if fixture else files("cli").joinpath(DEMO_FIXTURE)
    if not path.is_file():
        raise InputError(f"demo fixture {path} not found; pass --fixture FILE")
    text = path.read_text(encoding="utf-8")
    dispute = next((line.split("lead", 1)[1].strip() for line in text.splitlines()
                    if line.startswith("# dispute: lead")), None)
    at = parse_time(at_text)
    opts = StoreOptions(db=db, team=None, json=False, at=at)
    console = _console()
    with opts.open_store() as store:
        summary = import_file(store, text, str(path))
        console.print(tr("Imported {file}: {new} new event(s), {skipped} already stored, into {store}",
                         file=path.name, new=summary.total, skipped=summary.skipped, store=store.url.display()))
    ctx = click.get_current_context()
    board = main.commands.get("board")
    teams = {line.split('"team": "', 1)[1].split('"', 1)[0] for line in text.splitlines() if '"team": "' in line}
    team = sorted(teams)[0]
    common = ["--team", team, "--at", at.isoformat()] + (["--db", db] if db else [])
    if board is not None:
        console.rule(tr("Rotation board of {team} at {at}", team=team, at=at.isoformat()))
        ctx.invoke(board, **board.make_context("board", list(common), parent=ctx).params)
    else:
        console.rule(f"Who is next, per channel, at {at.isoformat()}")
        for channel in ("hotline", "online", "hq_referral", "walk_in", "marketing"):
            ctx.invoke(next_command, **next_command.make_context("next", [channel] + common, parent=ctx).params)
    if dispute:
        console.rule(tr("Explain the disputed lead {lead} (R-OW-6)", lead=dispute))
        ctx.invoke(explain_command, **explain_command.make_context("explain", [dispute] + common, parent=ctx).params)
        later = ["--team", team, "--at", "2026-11-17T12:00:00+08:00"] + (["--db", db] if db else [])
        console.rule(tr("{lead} after the supervisor's ruling", lead=dispute))
        ctx.invoke(owner_command, **owner_command.make_context("owner", [dispute] + later, parent=ctx).params)


# -- read models and the nightly rebuild (issue 6) ------------------------------------------------


def _models_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        db_option,
        click.option("--team", "teams", multiple=True, metavar="TEAM", help="Only this team (repeatable)."),
        click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Teams processed at once, each in its own process."),
        click.option("--shard", metavar="I/N", help="Only the teams whose stable hash mod N is I (several machines)."),
        click.option("--json", "as_json", is_flag=True, help="Quiet; print a JSON summary on standard output."),
    ]):
        func = option(func)
    return func


def _run_models(db: str | None, teams: tuple[str, ...], jobs: int, shard: str | None, as_json: bool,
                swap: bool) -> Any:
    from commands.rebuild import parse_shard, run, select_teams
    from ledger.errors import UnknownTeam

    shard_spec = parse_shard(shard)
    opts = StoreOptions(db, None, as_json, None, create=False)
    with opts.open_store() as store:
        known = store.teams()
    unknown = [t for t in teams if t not in known]
    if unknown:
        raise UnknownTeam(f"unknown team {unknown[0]!r}; the store holds: {', '.join(known) or 'none'}")
    chosen = select_teams(known, teams, shard_spec)
    from ledger.store import DEFAULT_URL

    url = db or DEFAULT_URL  # each worker process opens its own store
    verb = tr("Rebuilding {teams} team(s)", teams=len(chosen)) if swap else tr("Verifying {teams} team(s)",
                                                                                  teams=len(chosen))
    if as_json or not sys.stderr.isatty():
        return run(url, chosen, swap=swap, jobs=jobs)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    speed = TextColumn("{task.fields[rate]}")
    with Progress(TextColumn(verb.replace("[", r"\[")), BarColumn(), MofNCompleteColumn(), speed,
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(verb, total=None, rate="")

        def advance(n: int) -> None:
            bar.advance(task, n)
            rate = bar.tasks[0].speed
            bar.update(task, rate=tr("{rate} events/s", rate=format(rate, ",.0f")) if rate else "")

        return run(url, chosen, swap=swap, jobs=jobs, on_start=lambda total: bar.update(task, total=total),
                   on_progress=advance)


def _report_models(summary: Any, as_json: bool, verb: str, stamp: tuple[str, str]) -> None:
    """The summary of a verify or rebuild; its JSON gains `stamp` (`checked_at`/`rebuilt_at`:
    when the run started, ISO with the machine's offset) and `heads` (each team's last #N seen)."""
    if as_json:
        data = summary.to_json_dict()
        data[stamp[0]] = stamp[1]
        data["heads"] = {r["team"]: r.get("position") for r in data["per_team"]}
        return _emit_json(data)
    _report_chains(summary.chains)
    data = summary.to_json_dict()
    rate = tr("{rate} events/s", rate=format(data["events_per_second"], ",.0f")) if data["events_per_second"] else "-"
    click.echo(tr("{verb} {teams} team(s), {events} events in {seconds} s ({rate}); {drift} drift item(s)",
                  verb=verb, teams=len(summary.teams), events=summary.events, seconds=data["seconds"], rate=rate,
                  drift=len(summary.drift)))
    if summary.drift:
        table = _table(tr("Drift (live model vs rebuilt from the log)"),
                       [tr(h) for h in (N_("team"), N_("model"), N_("key"), N_("at"), N_("live"), N_("rebuilt"),
                                        N_("rule"))])
        for d in summary.drift:
            show = lambda v: "-" if v is None else (v if isinstance(v, str) else __import__("json").dumps(v, ensure_ascii=False))  # noqa: E731
            table.add_row(d["team"], d["model"], show(d["key"]), d["at"] or "-", show(d["live"]), show(d["rebuilt"]),
                          d["rule"] or "-")
        _console().print(table)


def _started() -> str:
    """Now, to the second, in the machine's zone with its offset (the clock is read at the edge)."""
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _report_chains(chains: list[dict]) -> None:
    """Each team's head hash (to keep elsewhere) or the problems of its broken chain."""
    for chain in chains:
        if chain["intact"]:
            click.echo(tr("Chain of {team}: intact, head #{head} sha256 {hash}", team=chain["team"],
                          head=chain["head"], hash=chain["hash"] or "-"))
            continue
        click.echo(tr("Chain of {team}: BROKEN, {count} problem(s)", team=chain["team"], count=chain["problem_count"]))
        for problem in chain["problems"]:
            click.echo(f"  {problem['problem']}: {problem['detail']}")


def _refuse_broken(summary: Any, swap: bool) -> None:
    """Exit 1 naming each team whose chain is broken (rebuild: nothing of it was swapped in)."""
    from ledger.errors import ChainBroken

    broken = summary.broken
    if not broken:
        return
    first = "; ".join(f"team {c['team']}: {c['problems'][0]['detail'] if c['problems'] else 'broken'}"
                      + (f" (+{c['problem_count'] - 1} more)" if c["problem_count"] > 1 else "") for c in broken)
    tail = "; its read models were not rebuilt (nothing swapped)" if swap else ""
    raise ChainBroken(f"the hash chain no longer matches the stored events: {first}{tail}; "
                      "the record was changed outside the ledger (docs/OPERATIONS.md, \"Tamper evidence\")")


@main.command("rebuild")
@_models_options
def rebuild_command(db: str | None, teams: tuple[str, ...], jobs: int, shard: str | None, as_json: bool) -> None:
    """Replay the log into fresh read models, report drift from the live ones, then swap them in.

    Each team is folded from its events (read a page at a time) into a shadow generation of the
    models, compared with the live one (owners over time, turn counts, sanctions, commission),
    then made live in one transaction. Killed at any point, the live models are untouched and
    the next run completes. Drift is reported, not an error (exit 0); see `ledger verify`.
    Each team's hash chain is checked first: a team whose stored events no longer match it
    is not rebuilt (nothing swapped) and the command exits 1 naming the first such event.

    \b
    Example (nightly, see docs/OPERATIONS.md):
      ledger rebuild --jobs 2 --json
      ledger rebuild --shard 0/3 --jobs 4 --json     # machine 1 of 3 sharing one PostgreSQL
    """
    stamp = ("rebuilt_at", _started())
    summary = _run_models(db, teams, jobs, shard, as_json, swap=True)
    _report_models(summary, as_json, tr("Rebuilt"), stamp)
    _refuse_broken(summary, swap=True)


@main.command("verify")
@_models_options
def verify_command(db: str | None, teams: tuple[str, ...], jobs: int, shard: str | None, as_json: bool) -> None:
    """Replay the log and compare with the live read models, without swapping; exit 1 on drift.

    Also checks each team's hash chain: exit 1 naming each stored event that no longer
    matches it (team, #N, whether its content or its recording time differs) and each missing
    #N. `--json` lists every team's head #N and hash under "chains": keep them elsewhere, and
    a later head that does not extend them shows even a rewrite of the whole chain.

    \b
    Example:
      ledger verify --team renda --json
    """
    stamp = ("checked_at", _started())
    summary = _run_models(db, teams, jobs, shard, as_json, swap=False)
    _report_models(summary, as_json, tr("Verified"), stamp)
    _refuse_broken(summary, swap=False)
    if summary.drift:
        click.get_current_context().exit(1)




@main.group("db", context_settings=CONTEXT)
def db_group() -> None:
    """The store's database itself: least-privilege PostgreSQL roles.

    \b
    Example:
      ledger db roles --owner ledger_owner --app ledger_app
    """


@db_group.command("roles")
@click.option("--owner", required=True, metavar="ROLE",
              help="The role that owns every table (upgrades, this command; it can lift the guards).")
@click.option("--app", required=True, metavar="ROLE",
              help="The role ledger, the desk and the notifier connect as: only SELECT and INSERT on the record.")
@click.option("--apply", is_flag=True,
              help="Run the SQL on --db (PostgreSQL, as a superuser or the owner) instead of printing it.")
@db_option
def db_roles_command(owner: str, app: str, apply: bool, db: str | None) -> None:
    """Give the application role only the rights it needs on a PostgreSQL store.

    Without --apply, prints the SQL on standard output and changes nothing (no database is
    opened): review it, then run it with psql as a superuser or the owner. With --apply, opens
    the store at --db, creates every table (the record, read models, the desk's, the notifier's)
    so the application role never needs CREATE, and runs the same SQL in one transaction.

    The SQL makes --owner own every ledger table and gives --app: SELECT and INSERT on the
    record (stored_events, ledger_teams, ledger_index, ledger_ids, ledger_voids, ledger_erased,
    ledger_chain) and ledger_meta, never UPDATE, DELETE or TRUNCATE; SELECT, INSERT, UPDATE and
    DELETE on the rest (clear phone numbers, checkpoints, catalogs, read models, desk users and
    sessions, notifier outbox). Both roles must exist (CREATE ROLE ... LOGIN PASSWORD ...).
    Re-run it after an upgrade that adds tables. See docs/OPERATIONS.md.

    \b
    Example:
      ledger db roles --owner ledger_owner --app ledger_app > roles.sql
      ledger db roles --owner ledger_owner --app ledger_app --apply \\
          --db postgresql://postgres:secret@127.0.0.1:5432/ledger
    """
    from commands.db import apply_roles, check_target, roles_script, script_text
    from ledger.store import parse_url

    if not apply:
        click.echo(script_text(owner, app), nl=False)
        return
    roles_script(owner, app)  # input errors before the store is opened (or created)
    check_target(parse_url(db))
    with StoreOptions(db, None, False, None).open_store() as store:
        statements = apply_roles(store, owner, app)
    click.echo(f"{store.url.display()}: {len(statements)} statements run; {app} may read everything, "
               f"only add to the record, and write the rest", err=True)


@db_group.command("checkpoint")
@db_option
def db_checkpoint_command(db: str | None) -> None:
    """Empty a SQLite store's write-ahead log into its main file (after an erasure a reader held up).

    Exit 1 while another process still reads the store: close it and run this again.

    \b
    Example:
      ledger db checkpoint --db sqlite:///ledger.db
    """
    from ledger.errors import ErasureIncomplete

    with StoreOptions(db, None, False, None).open_store() as store:
        if not store.checkpoint():
            raise ErasureIncomplete(f"{store.url.display()}: the write-ahead log is still held by another "
                                    "process reading the store; close it and run ledger db checkpoint again")
    click.echo(f"{store.url.display()}: write-ahead log checkpointed", err=True)


@main.group("key", context_settings=CONTEXT)
def key_group() -> None:
    """The store's key file (phone keys and the vault of clear numbers, docs/OPERATIONS.md).

    \b
    Example:
      ledger key rotate --db sqlite:///ledger.db
    """


@key_group.command("rotate")
@db_option
def key_rotate_command(db: str | None) -> None:
    """Seal every clear phone number with a new vault key and drop the old one from the key file.

    After it, database backups taken before it open only with the old key file's backup:
    destroy those to make numbers erased since unrecoverable from the old backups too. The
    phone key (matching) is kept. Back the key file up again afterwards.

    \b
    Example:
      ledger key rotate --db sqlite:///ledger.db
    """
    with StoreOptions(db, None, False, None).open_store() as store:
        count = store.rotate_vault()
        click.echo(f"{store.url.display()}: {count} number(s) sealed with vault key {store.keys.current} "
                   f"in {store.keys.path}; back this file up again", err=True)
