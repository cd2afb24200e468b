"""The `ledger` command line: parse -> call -> render. The only place that formats output.

Errors of the ledger (`LedgerError`) are translated once, here: one message on standard error
and the error's exit status (2 for user input, 1 otherwise). Heavy modules (the store, the
event models, the rules) are imported inside the commands so that `ledger --help` is fast.
"""
from __future__ import annotations

import datetime as dt
import functools
import sys
from dataclasses import dataclass
from typing import Any, Callable

import click

from ledger.errors import InputError, LedgerError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LedgerGroup(click.Group):
    """A click group that turns every `LedgerError` into a message and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as error:
            say(str(error))
            ctx.exit(error.exit_code)
        except click.ClickException as error:  # a subcommand's usage error
            _usage(error)
        except BrokenPipeError:  # e.g. `ledger export ... | head`
            sys.stderr.close()
            ctx.exit(1)

    def make_context(self, info_name: str | None, args: list[str], *rest: Any, **kwargs: Any) -> click.Context:
        for number, arg in enumerate(args, 1):
            if any("\ud800" <= ch <= "\udfff" for ch in arg):  # bytes that were not UTF-8
                say(f"argument {number} is not valid UTF-8 text; expected UTF-8 (e.g. LANG=zh_CN.UTF-8)")
                raise click.exceptions.Exit(2)
        try:
            return super().make_context(info_name, args, *rest, **kwargs)
        except click.ClickException as error:  # the group's own usage error
            _usage(error)


def _usage(error: click.ClickException) -> None:
    """click's own usage errors (a bad option, a value of the wrong type) as one line like every
    other error, with click's exit status (2)."""
    where = error.ctx.command_path if isinstance(error, click.UsageError) and error.ctx else "ledger"
    hint = f" (see '{where} -h')" if isinstance(error, click.UsageError) else ""
    say(" ".join(error.format_message().split()) + hint)
    raise click.exceptions.Exit(error.exit_code)


# What one line of an error may hold: longer lines are cut (an echoed value can be megabytes).
MESSAGE_LIMIT = 500


def say(message: str) -> None:
    """An error on standard error, `ledger: ` first: each line cut to MESSAGE_LIMIT characters
    and phone-like runs of digits masked to their last 4 (never a phone number in clear)."""
    from ledger.phone import mask_numbers

    def line(text: str) -> str:
        text = mask_numbers(text)
        return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 3] + "..."

    click.echo("\n".join(line(text) for text in f"ledger: {message}".splitlines()), err=True)


@click.group(cls=LedgerGroup, context_settings=CONTEXT)
@click.version_option(package_name="lead-ledger", prog_name="ledger")
def main() -> None:
    """Lead Ledger: an event-sourced ledger of sales leads.

    Record what happened (leads, presence, contracts...) as events; the ledger replays
    them to answer who owns a lead, whose turn is next, sanctions and commission.

    \b
    Example:
      ledger import events.jsonl
      ledger export --team campus1 > campus1.jsonl
    """


# -- shared options ------------------------------------------------------------------------------


def parse_time(text: str, *, offset: bool = True) -> dt.datetime:
    """An ISO 8601 time with a UTC offset (without one when `offset` is False: read later in the
    team's zone) inside the ledger's range (`ledger.events.TIME_RANGE`); `InputError` otherwise."""
    from ledger.events import parse_time_text

    try:
        return parse_time_text(text.strip(), offset=offset)
    except ValueError as error:
        raise InputError(str(error)) from None


def _time_option(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except InputError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


@dataclass
class StoreOptions:
    """What every store command shares: `--db`, `--team`, `--json`, `--at`."""

    db: str | None
    team: str | None
    json: bool
    at: dt.datetime | None
    as_recorded: dt.datetime | None = None  # R-CO-4: ignore what was recorded after it
    _store: Any = None

    def open_store(self):  # -> a context giving the ledger.store.Store
        """The command's store, opened on first use and closed when the command ends (not when
        a `with` block ends): a state restored from a checkpoint reads the values the checkpoint
        kept apart from it on first use (`commands.history.load`)."""
        from contextlib import nullcontext

        from ledger.store import open_store

        if self._store is None:
            self._store = open_store(self.db)
            click.get_current_context().call_on_close(self._store.close)
        return nullcontext(self._store)

    def resolve_team(self, store) -> str:
        """`--team`, or the store's only team; `UnknownTeam` (exit 2) otherwise."""
        from ledger.errors import UnknownTeam

        teams = store.teams()
        if self.team is None:
            if len(teams) == 1:
                return teams[0]
            if not teams:
                raise UnknownTeam("the store holds no team yet; import events first")
            raise UnknownTeam(f"--team is required: the store holds {', '.join(teams)}")
        if self.team not in teams:
            raise UnknownTeam(f"unknown team {self.team!r}; the store holds: {', '.join(teams) or 'none'}")
        return self.team


db_option = click.option(
    "--db", envvar="LEDGER_DB", metavar="URL", show_envvar=True,
    help="Store URL: sqlite:///PATH (default sqlite:///ledger.db) or postgresql://user:pass@host:port/dbname.")


def store_options(func: Callable[..., Any] | None = None, *, team_required: bool = False,
                  at: bool = True, as_recorded: bool | None = None) -> Any:
    """The one shared decorator: adds --db, --team, --json (and --at, and --as-recorded: by
    default with --at) and passes the command a single `opts: StoreOptions` argument."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(*args: Any, db: str | None, team: str | None, as_json: bool,
                    at_time: dt.datetime | None = None, recorded_by: dt.datetime | None = None,
                    **kwargs: Any) -> Any:
            return f(*args, opts=StoreOptions(db=db, team=team, json=as_json, at=at_time,
                                              as_recorded=recorded_by), **kwargs)

        options = [
            db_option,
            click.option("--team", metavar="TEAM", required=team_required,
                         help="Team id" + ("." if team_required else " (optional when the store holds one team).")),
            click.option("--json", "as_json", is_flag=True, help="Print JSON on standard output."),
        ]
        if at:
            options.append(click.option(
                "--at", "at_time", metavar="TIME", callback=_time_option,
                help="Answer as of this moment (ISO 8601 with offset, e.g. 2026-11-02T09:00:00+08:00)."))
        if as_recorded if as_recorded is not None else at:
            options.append(click.option(
                "--as-recorded", "recorded_by", metavar="TIME", callback=_time_option,
                help="Answer as the ledger stood at this recording moment: entries (voids included) "
                     "recorded after it are ignored (R-CO-4)."))
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate(func) if func is not None else decorate


# -- commands ------------------------------------------------------------------------------------


@main.command("import")
@click.argument("file", metavar="FILE|-")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on standard output.")
@click.option("--allow-future", is_flag=True,
              help="Accept events more than 5 minutes after their recording time (simulations, tests; R-CO-5).")
def import_command(file: str, db: str | None, as_json: bool, allow_future: bool) -> None:
    """Import events from a JSON Lines FILE (or - for standard input), all or nothing.

    Blank lines and lines starting with # are ignored. Any bad line rejects the whole file
    (exit status 2) with one message per problem; nothing is stored then. Events whose id is
    already stored with identical content are skipped.

    \b
    Example:
      ledger import events.jsonl
      cat events.jsonl | ledger --db sqlite:///team.db import -
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

    with StoreOptions(db, None, as_json, None).open_store() as store:
        summary = import_file(store, source, name, now=dt.datetime.now(dt.timezone.utc),
                              allow_future=allow_future)
    if as_json:
        import json

        click.echo(json.dumps(summary.to_json_dict(), ensure_ascii=False))
    else:
        teams = ", ".join(f"{team} +{count}" for team, count in summary.appended.items()) or "nothing new"
        skipped = f", {summary.skipped} already stored" if summary.skipped else ""
        click.echo(f"{name}: imported {summary.total} event(s) ({teams}){skipped}", err=True)


@main.command("export")
@store_options(team_required=True, at=False)
def export_command(opts: StoreOptions) -> None:
    """Write a team's events as JSON Lines on standard output, in recording order.

    Importing the export into an empty store rebuilds the same answers; exporting again gives
    identical bytes. Erased phone numbers (CustomerErased) appear only as their key.

    \b
    Example:
      ledger export --team campus1 > campus1.jsonl
    """
    from commands.exporting import export_lines

    out = sys.stdout.buffer
    with opts.open_store() as store:
        for line in export_lines(store, opts.team):
            out.write(line)
    out.flush()


# -- recording commands (issue 5) ----------------------------------------------------------------
# One command per event a person records (handlers in commands/record.py: validate -> decide ->
# append, retried when another writer appended first) and the rotation board
# (projections/board.py). Names are kept literal here so that `ledger --help` stays fast.

RECORD_CHANNELS = ("hotline", "online", "hq_referral", "internal_referral", "walk_in", "marketing",
                   "conference", "customer_referral", "outbound")
RECORD_PRESENCES = ("on_post", "away", "leave", "busy_new", "busy_old")
RECORD_PRESETS = ("campus", "realty", "fitness")
_STATUS_STYLE = {"eligible": "green", "busy_new": "cyan", "away": "yellow", "leave": "yellow",
                 "busy_old": "yellow", "suspended": "red", "skip": "magenta", "throttled": "magenta",
                 "held": "red", "left": "dim"}


def _event_time(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    """An ISO 8601 time; without an offset it is read later in the team's time zone."""
    if value is None:
        return None
    try:
        return parse_time(value, offset=False)
    except InputError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def _completion_state(ctx: click.Context):
    """The state of the store and team named so far on the command line (for completion only)."""
    import os

    from ledger.store import open_store, parse_url

    db = ctx.params.get("db") or os.environ.get("LEDGER_DB")
    url = parse_url(db)
    if url.kind == "sqlite" and not os.path.exists(url.path):
        return None  # never create a store while completing
    from commands.record import load_state

    with open_store(db) as store:
        teams = store.teams()
        team = ctx.params.get("team") or (teams[0] if len(teams) == 1 else None)
        if team not in teams:
            return None
        return load_state(store, team, dt.datetime.now(dt.timezone.utc)).state


def complete_consultants(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion of consultant ids (read lazily from the store)."""
    from click.shell_completion import CompletionItem

    try:
        state = _completion_state(ctx)
    except Exception:
        return []
    if state is None:
        return []
    return [CompletionItem(cid, help=c.name) for cid, c in sorted(state.consultants.items(), key=lambda kv: kv[1].seat)
            if c.left_at is None and cid.startswith(incomplete)]


def complete_leads(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion of the latest lead ids."""
    from click.shell_completion import CompletionItem

    try:
        state = _completion_state(ctx)
    except Exception:
        return []
    if state is None:
        return []
    leads = [lid for lid in state.leads if lid.startswith(incomplete)]
    return [CompletionItem(lid) for lid in leads[-200:]]


def complete_channel_list(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Completion of a comma-separated channel list (`hotline,walk_in`) or `*`."""
    from click.shell_completion import CompletionItem

    head, _, last = incomplete.rpartition(",")
    prefix = head + "," if head else ""
    chosen = set(head.split(",")) if head else set()
    items = [CompletionItem(prefix + name) for name in RECORD_CHANNELS if name.startswith(last) and name not in chosen]
    if not head and "*".startswith(last):
        items.append(CompletionItem("*"))
    return items


def _meta(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta[f"ledger.{param.name}"] = value
    return value


def record_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--db, --team, --json (the shared decorator), --at: when it happened (default now), and
    --allow-future, --amend, --amend-reason (read by `_record`)."""
    for option in (
        click.option("--amend-reason", metavar="TEXT", expose_value=False, callback=_meta,
                     help="Why the amended entry was wrong (default: replaced by this entry)."),
        click.option("--amend", metavar="#N|ID", expose_value=False, callback=_meta,
                     help="Void that entry in the same step: this one corrects it (R-CO-2)."),
        click.option("--allow-future", is_flag=True, expose_value=False, callback=_meta,
                     help="Accept --at more than 5 minutes ahead of now (simulations, tests; R-CO-5)."),
        click.option("--at", "when", metavar="TIME", callback=_event_time,
                     help="When it happened (ISO 8601, e.g. 2026-11-02T09:00:00+08:00; default now; "
                          "without an offset: the team's time zone)."),
    ):
        func = option(func)
    return store_options(at=False)(func)


def _record_team(opts: StoreOptions, store, new_team: bool) -> str:
    if new_team and opts.team is not None:
        return opts.team
    if new_team and opts.team is None and len(store.teams()) != 1:
        raise InputError("--team is required to start a team (the store holds "
                         f"{', '.join(store.teams()) or 'no team yet'})")
    return opts.resolve_team(store)


def _record(opts: StoreOptions, handler: Callable[..., Any], *args: Any, when: dt.datetime | None = None,
            new_team: bool = False, render: Callable[[Any], None] | None = None, **kwargs: Any) -> None:
    """Open the store, run one recording handler with `now` from the clock, render its outcome."""
    now = dt.datetime.now(dt.timezone.utc)
    meta = click.get_current_context().meta
    with opts.open_store() as store:
        team = _record_team(opts, store, new_team)
        outcome = handler(store, team, *args, at=when, now=now, allow_future=meta.get("ledger.allow_future", False),
                          amend=meta.get("ledger.amend"), amend_reason=meta.get("ledger.amend_reason"), **kwargs)
    for note in outcome.notes:
        click.echo(f"ledger: note: {note}", err=True)
    if opts.json:
        import json

        click.echo(json.dumps(outcome.to_json_dict(), ensure_ascii=False))
    elif render is not None:
        render(outcome)
    else:
        stored = ", ".join(f"#{r.seq}" for r in outcome.records)
        click.echo(f"{outcome.answer.get('summary', '')}  [{outcome.team} {stored} at {outcome.to_json_dict()['at']}]")


def _console(soft_wrap: bool = True):
    """A rich console; when not writing to a terminal, wide enough for the board (or $COLUMNS)."""
    import os

    from rich.console import Console

    console = Console(highlight=False, soft_wrap=soft_wrap)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160
    return console


def _render_lead(outcome: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    a = outcome.answer
    console = _console()
    owner = f"{a['owner']} {a['name'] or ''}".strip() if a["owner"] else "nobody yet"
    line = Text()
    line.append(f"{a['lead']}", style="bold")
    line.append(f"  {a['channel']}  {a['at']}")
    if a.get("phone"):
        line.append(f"  {a['phone']}")
    line.append("  →  ")
    line.append(owner, style="bold green" if a["owner"] else "bold yellow")
    line.append(f"  {a['rule']}", style="cyan")
    if a.get("disputed"):
        line.append("  disputed", style="bold red")
    console.print(line)
    if a.get("deferred_until"):
        console.print(f"  deferred: allocated by rotation at {a['deferred_until']} (R-SH-5)", style="yellow")
    if a.get("turn_holder"):
        console.print(f"  turn holder {a['turn_holder']} passes normally (R-RT-6)")
    rows = [c for c in a["candidates"] if c["outcome"] != "holder"]
    if rows:
        table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
        for c in rows:
            style = "cyan" if "R-PR-3" in c["why"] else "yellow"
            table.add_row("  " + c["outcome"], c["consultant"], c["name"] or "", Text(c["why"], style=style))
        console.print(table)


@main.command("arrive")
@click.argument("channel", type=click.Choice(RECORD_CHANNELS))
@click.option("--lead", metavar="ID", help="Lead id (default: generated, L<date>-<n>).")
@click.option("--phone", metavar="NUMBER", help="The customer's phone number (stored as a key, R-ID-2).")
@click.option("--named", metavar="C", shell_complete=complete_consultants, help="The consultant the customer names (R-OW-2).")
@click.option("--prior-contact", metavar="C", shell_complete=complete_consultants,
              help="The consultant who contacted the customer first (R-OW-2).")
@click.option("--taken-by", metavar="C", shell_complete=complete_consultants,
              help="Who actually received the customer (R-OW-8, R-OW-2a, R-OW-3d).")
@click.option("--maker", metavar="C", shell_complete=complete_consultants, help="The maker of an outbound lead (R-CH-3).")
@click.option("--referrer-phone", metavar="NUMBER", help="The referring customer's number (customer_referral, R-OW-1b).")
@click.option("--callback-on", metavar="DATE", type=click.DateTime(["%Y-%m-%d"]),
              help="The day the customer asked to be called back (R-FU-1).")
@click.option("--by", metavar="NAME", help="Who records it (e.g. 前台).")
@record_options
def arrive_command(opts: StoreOptions, channel: str, lead: str | None, phone: str | None, named: str | None,
                   prior_contact: str | None, taken_by: str | None, maker: str | None, referrer_phone: str | None,
                   callback_on: dt.datetime | None, by: str | None, when: dt.datetime | None) -> None:
    """Record a lead arriving by CHANNEL and print who owns it, by which rule, and who was passed.

    The owner is derived from the stored history (RULEBOOK §5-7) and printed from the state that
    includes the stored arrival; two receptionists recording at the same instant never get the
    same turn (a racing append is retried).

    \b
    Example:
      ledger arrive hotline --phone 13911110001
      ledger arrive walk_in --named c3 --at 2026-11-02T10:15:00+08:00
      ledger arrive outbound --maker c2 --json
    """
    from commands import record as R

    _record(opts, R.arrive, channel, when=when, render=_render_lead, lead=lead, phone=phone, named=named,
            prior_contact=prior_contact, taken_by=taken_by, maker=maker, referrer_phone=referrer_phone,
            callback_on=callback_on.date() if callback_on else None, by=by)


@main.command("followup")
@click.argument("lead", shell_complete=complete_leads)
@click.option("--by", "by", metavar="C", required=True, shell_complete=complete_consultants, help="The consultant.")
@click.option("--inbound", is_flag=True, help="The customer contacted the consultant (R-OW-3b evidence).")
@click.option("--note", metavar="TEXT", help="What was said.")
@record_options
def followup_command(opts: StoreOptions, lead: str, by: str, inbound: bool, note: str | None,
                     when: dt.datetime | None) -> None:
    """Record a follow-up of LEAD by a consultant (R-FU-1; --inbound: R-OW-3b evidence).

    \b
    Example:
      ledger followup L20261102-003 --by c1 --note "约周六试听"
      ledger followup L20261102-003 --by c1 --inbound
    """
    from commands import record as R

    _record(opts, R.followup, lead, by, when=when, inbound=inbound, note=note)


@main.command("claim")
@click.argument("lead", shell_complete=complete_leads)
@click.option("--by", metavar="C", required=True, shell_complete=complete_consultants, help="The claiming consultant.")
@click.option("--reason", metavar="TEXT", required=True, help="Why the customer is theirs.")
@record_options
def claim_command(opts: StoreOptions, lead: str, by: str, reason: str, when: dt.datetime | None) -> None:
    """Record a consultant's claim on LEAD's customer (R-OW-7: shown, never an override).

    \b
    Example:
      ledger claim L20261116-004 --by c2 --reason "家长上周就是我联系的"
    """
    from commands import record as R

    _record(opts, R.claim, lead, by, reason, when=when)


@main.command("rule")
@click.argument("lead", shell_complete=complete_leads)
@click.option("--owner", metavar="C", required=True, shell_complete=complete_consultants, help="Who owns the customer.")
@click.option("--reason", metavar="TEXT", required=True, help="The ruling's reason.")
@click.option("--by", metavar="NAME", help="The supervisor (e.g. 主任).")
@record_options
def rule_command(opts: StoreOptions, lead: str, owner: str, reason: str, by: str | None,
                 when: dt.datetime | None) -> None:
    """Record a supervisor's ruling: LEAD's customer belongs to --owner (R-OW-0).

    \b
    Example:
      ledger rule L20261116-004 --owner c2 --reason "主任裁定:以第一跟踪咨询师为准" --by 主任
    """
    from commands import record as R

    _record(opts, R.rule, lead, owner, reason, when=when, by=by)


@main.command("penalize")
@click.argument("consultant", metavar="C", shell_complete=complete_consultants)
@click.option("--suspend", is_flag=True, help="Suspend in the channels (R-SA-1).")
@click.option("--skip", "skip_turns", type=click.IntRange(min=1), metavar="N", help="Skip the next N turns (R-SA-2).")
@click.option("--throttle", metavar="K/N", help="Take K of every N turns (R-SA-3), e.g. 1/2.")
@click.option("--channels", metavar="LIST", required=True, shell_complete=complete_channel_list,
              help="Comma-separated channels, or * for all.")
@click.option("--from", "start", metavar="TIME", callback=_event_time, help="Start (default: the event's time).")
@click.option("--until", metavar="TIME", callback=_event_time, help="End (exclusive); none: until lifted.")
@click.option("--rule", "rule_id", metavar="R-SA-x", required=True, help="The rule it applies, e.g. R-SA-6.")
@click.option("--reason", metavar="TEXT", required=True, help="Why.")
@click.option("--penalty", metavar="ID", help="Penalty id (default: generated, P<date>-<n>).")
@click.option("--by", metavar="NAME", help="The supervisor.")
@record_options
def penalize_command(opts: StoreOptions, consultant: str, suspend: bool, skip_turns: int | None,
                     throttle: str | None, channels: str, start: dt.datetime | None, until: dt.datetime | None,
                     rule_id: str, reason: str, penalty: str | None, by: str | None,
                     when: dt.datetime | None) -> None:
    """Impose a penalty on consultant C: --suspend, --skip N or --throttle K/N (RULEBOOK §6).

    \b
    Example:
      ledger penalize c5 --suspend --channels '*' --until 2026-11-18T16:00:00+08:00 \\
             --rule R-SA-6 --reason "不记不报抢接电话,停接一周"
      ledger penalize c3 --throttle 1/2 --channels hotline --rule R-SA-3 --reason "两轮排一轮"
    """
    from commands import record as R

    chosen = [name for name, value in (("--suspend", suspend), ("--skip", skip_turns), ("--throttle", throttle))
              if value]
    if len(chosen) != 1:
        raise InputError("expected exactly one of --suspend, --skip N, --throttle K/N"
                         + (f", got {' and '.join(chosen)}" if chosen else ""))
    take = of = None
    if throttle:
        k, sep, n = throttle.partition("/")
        if not sep or not k.strip().isascii() or not n.strip().isascii() \
                or not k.strip().isdigit() or not n.strip().isdigit():
            from ledger.events import shown

            raise InputError(f"--throttle: expected K/N like 1/2, got {shown(throttle)}")
        take, of = int(k), int(n)
    kind = "suspend" if suspend else "skip" if skip_turns else "throttle"
    names = [c.strip() for c in channels.split(",") if c.strip()]
    _record(opts, R.penalize, consultant, when=when, kind=kind, channels=names, rule_id=rule_id, reason=reason,
            turns=skip_turns, take=take, of=of, start=start, until=until, penalty=penalty, by=by)


@main.command("lift")
@click.argument("penalty")
@click.option("--by", metavar="NAME", help="The supervisor.")
@record_options
def lift_command(opts: StoreOptions, penalty: str, by: str | None, when: dt.datetime | None) -> None:
    """Lift PENALTY early (R-SA-9); `ledger sanctions` stops listing it from then on.

    \b
    Example:
      ledger lift P20261111-1 --by 主任
    """
    from commands import record as R

    _record(opts, R.lift, penalty, when=when, by=by)


@main.command("presence")
@click.argument("consultant", metavar="C", shell_complete=complete_consultants)
@click.argument("state", type=click.Choice(RECORD_PRESENCES))
@record_options
def presence_command(opts: StoreOptions, consultant: str, state: str, when: dt.datetime | None) -> None:
    """Record consultant C's presence: on_post, away, leave, busy_new or busy_old (R-PR-1).

    \b
    Example:
      ledger presence c2 away
      ledger presence c2 on_post --at 2026-11-02T10:30:00+08:00
    """
    from commands import record as R

    _record(opts, R.presence, consultant, state, when=when)


@main.command("shift")
@click.argument("consultant", metavar="C", shell_complete=complete_consultants)
@click.argument("date", metavar="DATE")
@click.argument("shift_name", metavar="early|late|overtime", type=click.Choice(("early", "late", "overtime")))
@record_options
def shift_command(opts: StoreOptions, consultant: str, date: str, shift_name: str, when: dt.datetime | None) -> None:
    """Assign consultant C the early, late or overtime shift on DATE (YYYY-MM-DD, today, tomorrow) (R-SH-1).

    \b
    Example:
      ledger shift c2 2026-11-02 early
      ledger shift c4 tomorrow late
    """
    from commands import record as R

    _record(opts, R.shift, consultant, date, shift_name, when=when)


@main.command("join")
@click.argument("consultant", metavar="C")
@click.option("--name", required=True, metavar="NAME", help="The consultant's name (e.g. 王芳).")
@click.option("--seat", type=int, metavar="N", help="Seat number (default: after the highest taken) (R-RO-1).")
@record_options
def join_command(opts: StoreOptions, consultant: str, name: str, seat: int | None, when: dt.datetime | None) -> None:
    """Record consultant C joining the team at a seat (R-RO-1, R-RT-5).

    \b
    Example:
      ledger join c7 --name 赵敏 --seat 7
    """
    from commands import record as R

    _record(opts, R.join, consultant, name, seat, when=when)


@main.command("leave")
@click.argument("consultant", metavar="C", shell_complete=complete_consultants)
@record_options
def leave_command(opts: StoreOptions, consultant: str, when: dt.datetime | None) -> None:
    """Record consultant C leaving: they receive nothing new; their customers stay (R-RO-3).

    \b
    Example:
      ledger leave c6 --at 2026-11-02T12:00:00+08:00
    """
    from commands import record as R

    _record(opts, R.leave, consultant, when=when)


@main.command("swap")
@click.argument("a", metavar="A", shell_complete=complete_consultants)
@click.argument("b", metavar="B", shell_complete=complete_consultants)
@record_options
def swap_command(opts: StoreOptions, a: str, b: str, when: dt.datetime | None) -> None:
    """Swap the seats of A and B, who must be adjacent in the seat order (R-RO-2).

    \b
    Example:
      ledger swap c2 c3
    """
    from commands import record as R

    _record(opts, R.swap, a, b, when=when)


@main.command("void")
@click.argument("ref", metavar="#N|ID")
@click.option("--reason", metavar="TEXT", required=True, help="Why the entry was wrong.")
@click.option("--by", metavar="NAME", help="The supervisor (e.g. 主任).")
@record_options
def void_command(opts: StoreOptions, ref: str, reason: str, by: str | None, when: dt.datetime | None) -> None:
    """Void an entry made in error (EntryVoided, R-CO-2): replay treats it as never recorded.

    REF is the entry's recording number #N (as `ledger explain` and `ledger event` show it) or
    its event id. Refused, with the entries listed, while later entries depend on it (R-CO-3):
    void those first. To replace an entry in one step, record the correct one with --amend #N.

    \b
    Example:
      ledger void '#12' --reason "渠道录错了" --by 主任
      ledger arrive walk_in --phone 13800000001 --amend '#12'
    """
    from commands import record as R

    _record(opts, R.void, ref, reason, when=when, by=by)


@main.command("link")
@click.argument("lead", shell_complete=complete_leads)
@click.argument("other", shell_complete=complete_leads)
@record_options
def link_command(opts: StoreOptions, lead: str, other: str, when: dt.datetime | None) -> None:
    """Record that LEAD and OTHER are one customer, whatever their numbers (R-ID-1).

    \b
    Example:
      ledger link L20261104-002 L20261106-005
    """
    from commands import record as R

    _record(opts, R.link, lead, other, when=when)


@main.command("unlink")
@click.argument("lead", shell_complete=complete_leads)
@click.argument("other", shell_complete=complete_leads)
@record_options
def unlink_command(opts: StoreOptions, lead: str, other: str, when: dt.datetime | None) -> None:
    """Record that LEAD and OTHER are not one customer (R-ID-1).

    \b
    Example:
      ledger unlink L20261104-002 L20261106-005
    """
    from commands import record as R

    _record(opts, R.link, lead, other, when=when, unlink=True)


@main.command("grade")
@click.argument("lead", shell_complete=complete_leads)
@click.argument("grade_name", metavar="A|B|C", type=click.Choice(("A", "B", "C")))
@click.option("--confirm", is_flag=True, help="A supervisor confirms it (it takes effect) (R-FU-5).")
@click.option("--by", metavar="C", shell_complete=complete_consultants, help="The consultant (default: the owner).")
@record_options
def grade_command(opts: StoreOptions, lead: str, grade_name: str, confirm: bool, by: str | None,
                  when: dt.datetime | None) -> None:
    """Propose (or --confirm) the intent grade of LEAD's customer (R-FU-5).

    \b
    Example:
      ledger grade L20261102-003 A --by c1
      ledger grade L20261102-003 A --confirm
    """
    from commands import record as R

    _record(opts, R.grade, lead, grade_name, when=when, confirm=confirm, by=by)


@main.command("sign")
@click.argument("contract")
@click.option("--lead", required=True, metavar="L", shell_complete=complete_leads, help="The lead of the customer.")
@click.option("--amount", required=True, metavar="YUAN", help="Contract amount, e.g. 19800.00.")
@click.option("--kind", type=click.Choice(("new", "renewal", "referral")), help="Contract kind.")
@click.option("--deposit", is_flag=True, help="A deposit (大定).")
@record_options
def sign_command(opts: StoreOptions, contract: str, lead: str, amount: str, kind: str | None, deposit: bool,
                 when: dt.datetime | None) -> None:
    """Record CONTRACT signed for a lead's customer; credited to the owner (R-MO-2, R-MO-3).

    \b
    Example:
      ledger sign K-001 --lead L20261102-003 --amount 19800.00 --kind new
    """
    from commands import record as R

    _record(opts, R.sign, contract, lead, amount, when=when, kind=kind, deposit=deposit)


def _money_command(name: str, kind: str, doc: str, with_amount: bool = True) -> None:
    @record_options
    def command(opts: StoreOptions, contract: str, when: dt.datetime | None, amount: str | None = None) -> None:
        from commands import record as R

        _record(opts, R.money, contract, amount, when=when, kind=kind)

    command.__doc__ = doc
    if with_amount:
        command = click.argument("amount")(command)
    command = click.argument("contract")(command)
    main.command(name)(command)


_money_command("pay", "PaymentReceived", """Record a payment of AMOUNT on CONTRACT (实收, R-MO-2).

    \b
    Example:
      ledger pay K-001 9800.00
    """)
_money_command("disburse", "LoanDisbursed", """Record a loan disbursement of AMOUNT on CONTRACT (放款, R-MO-2, R-CM-1).

    \b
    Example:
      ledger disburse K-002 800000.00
    """)
_money_command("refund", "ContractRefunded", """Record a refund of AMOUNT on CONTRACT (退费, R-MO-2, R-CM-2).

    \b
    Example:
      ledger refund K-001 2000.00
    """)
_money_command("cancel", "ContractCancelled", """Record CONTRACT cancelled as a whole (退房 / 退定, R-MO-2, R-CM-2).

    \b
    Example:
      ledger cancel K-002
    """, with_amount=False)


@main.command("target")
@click.argument("consultant", metavar="C", shell_complete=complete_consultants)
@click.argument("month", metavar="YYYY-MM")
@click.option("--red", required=True, metavar="YUAN", help="Red line: contract amount signed in the month.")
@click.option("--green", required=True, metavar="YUAN", help="Green line: amount disbursed in the month.")
@record_options
def target_command(opts: StoreOptions, consultant: str, month: str, red: str, green: str,
                   when: dt.datetime | None) -> None:
    """Set consultant C's monthly targets (R-CM-1).

    \b
    Example:
      ledger target c1 2026-11 --red 3000000 --green 2000000
    """
    from commands import record as R

    _record(opts, R.target, consultant, month, red, green, when=when)


def _activity_command(name: str, kind: str, doc: str) -> None:
    @click.argument("lead", shell_complete=complete_leads)
    @click.option("--by", metavar="C", required=True, shell_complete=complete_consultants, help="The consultant.")
    @record_options
    def command(opts: StoreOptions, lead: str, by: str, when: dt.datetime | None) -> None:
        from commands import record as R

        _record(opts, R.activity, lead, by, when=when, kind=kind)

    command.__doc__ = doc
    main.command(name)(command)


_activity_command("invite", "InvitationRecorded", """Record an invitation of LEAD's customer by a consultant (R-SA-7).

    \b
    Example:
      ledger invite L20261102-003 --by c1
    """)
_activity_command("visit", "VisitRecorded", """Record a visit of LEAD's customer received by a consultant (R-SA-8).

    \b
    Example:
      ledger visit L20261102-003 --by c1
    """)


@main.command("complaint")
@click.argument("consultant", metavar="C", shell_complete=complete_consultants)
@click.option("--reason", metavar="TEXT", required=True, help="The verified complaint.")
@click.option("--by", metavar="NAME", help="The supervisor.")
@record_options
def complaint_command(opts: StoreOptions, consultant: str, reason: str, by: str | None,
                      when: dt.datetime | None) -> None:
    """Record a verified complaint against consultant C (R-SA-8: a skip where the policy says).

    \b
    Example:
      ledger complaint c3 --reason "接待不耐烦,家长投诉" --by 店长
    """
    from commands import record as R

    _record(opts, R.complaint, consultant, reason, when=when, by=by)



def whatif_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--from, --to and the alternative policy (--preset, --override) of R-WI-1."""
    options = [
        click.option("--from", "date_from", required=True, metavar="DATE", help="First local date (YYYY-MM-DD)."),
        click.option("--to", "date_to", required=True, metavar="DATE", help="Last local date (YYYY-MM-DD), inclusive."),
        click.option("--preset", type=click.Choice(RECORD_PRESETS),
                     help="The alternative: this preset (in the team's zone), with any --override on top."),
        click.option("--override", "overrides", multiple=True, metavar="KEY=VALUE",
                     help="Replace a parameter of the policy in force at the start of --from (or of "
                          "--preset), e.g. day_end=17:00 (repeatable)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _whatif_run(opts: StoreOptions, date_from: str, date_to: str, preset: str | None,
                overrides: tuple[str, ...], lead: str | None = None):
    from commands import whatif

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        return whatif.run(store, team, _date(date_from, "--from"), _date(date_to, "--to"),
                          preset=preset, overrides=overrides, lead=lead, as_recorded=opts.as_recorded)


def _change(before, after) -> str:
    """`3 → 5 (+2)`; money keeps its two decimals."""
    from decimal import Decimal

    a, b = Decimal(str(before)), Decimal(str(after))
    if a == b:
        return f"{before}"
    return f"{before} → {after} ({'+' if b > a else ''}{b - a})"


@main.command("whatif")
@whatif_options
@click.option("--lead", metavar="LEAD", help="Show this lead's two timelines side by side instead.")
@store_options(at=False, as_recorded=True)
def whatif_command(date_from: str, date_to: str, preset: str | None, overrides: tuple[str, ...],
                   lead: str | None, opts: StoreOptions) -> None:
    """What-if: replay the team's recorded history under another policy from --from on and
    compare (R-WI-1) -- per consultant leads, turns and commission, and every customer who
    would have another owner at the end of --to. Nothing is stored.

    \b
    Example:
      ledger whatif --team renda --from 2026-11-01 --to 2026-11-30 --override day_end=17:00
      ledger whatif --team renda --from 2026-11-01 --to 2026-11-30 --preset realty --lead D3
    """
    from commands import whatif

    outcome = _whatif_run(opts, date_from, date_to, preset, overrides, lead)
    if lead is not None:
        answer = {"lead": lead, "from": outcome.period.date_from.isoformat(),
                  "to": outcome.period.date_to.isoformat(),
                  "actual": outcome.actual.timeline, "alternative": outcome.alternative.timeline}
        if opts.json:
            return _emit_json(answer)
        return _render_whatif_lead(answer, outcome)
    answer = whatif.answer(outcome)
    if opts.json:
        return _emit_json(answer)
    names = {**outcome.alternative.names, **outcome.actual.names}

    def who(cid):
        return f"{names[cid]} ({cid})" if cid in names else (cid or "-")

    alt = answer["alternative"]
    spec = " ".join([alt["preset"], *(f"{k}={v}" for k, v in alt["overrides"].items())])
    console = _console()
    console.print(f"假设 what-if: {spec}，自 from {answer['from']} 至 to {answer['to']}"
                  f"（佣金按月 commission months: {', '.join(answer['months'])}）")
    table = _table("按顾问 per consultant: 实际 → 假设 actual → alternative (R-WI-1)",
                   ["顾问 consultant", "线索 leads", "轮次 turns", "佣金 commission"])
    for row in answer["consultants"]:
        table.add_row(who(row["consultant"]), *(_change(row[k]["actual"], row[k]["alternative"])
                                                for k in ("leads", "turns", "commission")))
    console.print(table)
    if not answer["owners_changed"]:
        return console.print("归属不变 no customer would have another owner.")
    table = _table(f"归属改变 owners that change at the end of {answer['to']} ({len(answer['owners_changed'])})",
                   ["线索 lead", "实际 actual", "假设 alternative"])
    for item in answer["owners_changed"]:
        table.add_row(item["lead"], f"{who(item['actual'])} {item['rule']['actual'] or ''}",
                      f"{who(item['alternative'])} {item['rule']['alternative'] or ''}")
    console.print(table)


def _render_whatif_lead(answer: dict, outcome) -> None:
    from rich.columns import Columns

    names = {**outcome.alternative.names, **outcome.actual.names}

    def who(cid):
        return f"{names[cid]} ({cid})" if cid in names else (cid or "-")

    console = _console()
    panels = []
    for side, title in (("actual", "实际 actual"), ("alternative", "假设 alternative")):
        timeline = answer[side]
        table = _table(f"{title}: {who(timeline['owner'])} {timeline['rule'] or ''}",
                       ["at", "event", "what happened", "owner", "rule"])
        for item in timeline["timeline"]:
            what = item["summary"]
            for candidate in item.get("candidates") or []:
                what += f"\n  {who(candidate['consultant'])}: {candidate['outcome']} {candidate['why'] or ''}"
            table.add_row(item["at"], item["type"], what, who(item["owner"]), item["rule"] or "")
        panels.append(table)
    console.print(f"[bold]{answer['lead']}[/bold] 假设 what-if {answer['from']} .. {answer['to']}")
    console.print(Columns(panels))


@main.command("fairness")
@whatif_options
@store_options(at=False, as_recorded=True)
def fairness_command(date_from: str, date_to: str, preset: str | None, overrides: tuple[str, ...],
                     opts: StoreOptions) -> None:
    """Fairness at a glance: per channel, each consultant's share of turns and leads over the
    local dates against an equal share among those eligible, with the spread (max - min) and
    the Gini coefficient; with --preset/--override, also under that alternative (R-WI-1).

    \b
    Example:
      ledger fairness --team renda --from 2026-11-01 --to 2026-11-30
      ledger fairness --team renda --from 2026-11-01 --to 2026-11-30 --override bonus_channels=[]
    """
    from commands import whatif

    if preset is not None or overrides:
        outcome = _whatif_run(opts, date_from, date_to, preset, overrides)
        answer, names = whatif.fairness_answer(outcome), {**outcome.alternative.names, **outcome.actual.names}
    else:
        with opts.open_store() as store:
            period, side = whatif.observed(store, opts.resolve_team(store), _date(date_from, "--from"),
                                           _date(date_to, "--to"), opts.as_recorded)
        answer, names = whatif.fairness_answer(None, side, period), side.names
    if opts.json:
        return _emit_json(answer)
    console = _console()
    for side, title in (("actual", "实际 actual"), ("alternative", "假设 alternative")):
        for channel in answer[side] or []:
            table = _table(f"{title} · {channel['channel']} {answer['from']} .. {answer['to']}: "
                           f"均分 equal share {channel['equal_share']:.1%}, 差距 spread "
                           f"{channel['spread']['turns']:.1%}, 基尼 Gini {channel['gini']['turns']:.2f}",
                           ["顾问 consultant", "轮次 turns", "占比 share", "线索 leads", "占比 share"])
            for row in channel["consultants"]:
                name = f"{names[row['consultant']]} ({row['consultant']})" if row["consultant"] in names else row["consultant"]
                table.add_row(name, str(row["turns"]), f"{row['turn_share']:.1%}", str(row["leads"]),
                              f"{row['lead_share']:.1%}")
            console.print(table)

@main.command("erase-phone")
@click.argument("phone")
@record_options
def erase_phone_command(opts: StoreOptions, phone: str, when: dt.datetime | None) -> None:
    """Erase a customer's phone number from the store on request (R-ID-2); answers stay the same.

    \b
    Example:
      ledger erase-phone 13911110001
    """
    from commands import record as R

    _record(opts, R.erase_phone, phone, when=when)


@main.command("adopt")
@click.argument("preset", type=click.Choice(RECORD_PRESETS))
@click.option("--override", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Replace a policy parameter, e.g. day_end=17:00 or commission_rate=0.05 (repeatable).")
@click.option("--timezone", metavar="ZONE", help="The team's IANA time zone (default Asia/Shanghai).")
@record_options
def adopt_command(opts: StoreOptions, preset: str, overrides: tuple[str, ...], timezone: str | None,
                  when: dt.datetime | None) -> None:
    """Adopt a policy PRESET for the team (its first event starts the team; RULEBOOK §10).

    A later adoption replaces the whole policy from its time on.

    \b
    Example:
      ledger adopt campus --team renda
      ledger adopt campus --override day_end=17:00 --override commission_rate=0.05
    """
    from commands import record as R

    _record(opts, R.adopt, preset, when=when, new_team=True, overrides=overrides, timezone=timezone)


_SHORT_CHANNEL = {"hq_referral": "hq_ref", "internal_referral": "int_ref", "conference": "conf",
                  "marketing": "mkt", "customer_referral": "cust_ref"}
_SHORT_STATUS = {"busy_new": "busy+1", "suspended": "susp", "throttled": "thr", "held": "hold"}


def _cell(row: dict, mode: str, width: int = 1):
    from rich.text import Text

    text = Text(no_wrap=True)
    text.append("▸" if row["up"] else " ", style="bold")
    if row.get("rank"):
        text.append(f"{row['rank']:>{width}}", style="dim")
        text.append(" ")
    if row["next"]:
        text.append("NEXT", style="bold black on green")
    elif row["status"] == "eligible":
        text.append("✓", style="green")
    else:
        text.append(_SHORT_STATUS.get(row["status"], row["status"]), style=_STATUS_STYLE.get(row["status"], ""))
    if row.get("bonus"):
        text.append("×2", style="bold magenta")
    if row["turns_today"] or row["leads_today"]:
        text.append(f" {row['turns_today']}/{row['leads_today']}", style="dim")
    return text


def _render_board(data: dict) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = _console(soft_wrap=False)
    window = data["window"].replace("_", " ")
    console.print(Text.assemble((f"{data['team']}", "bold"), f"  {data['preset']}  {data['at']}  window: ",
                                (window, "bold cyan")))
    channels = [c for c in data["channels"] if c["queue"] == c["channel"]]
    grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, padding=(0, 1))
    grid.add_column("seat", justify="right", no_wrap=True, min_width=2)
    grid.add_column("consultant", no_wrap=True, min_width=8)
    grid.add_column("presence", no_wrap=True, min_width=7)
    for c in channels:
        mode = {"ranking": "rank", "weighted": "weight"}.get(c["mode"], c["mode"])
        grid.add_column(f"{_SHORT_CHANNEL.get(c['channel'], c['channel'])}\n{mode}", no_wrap=True)
    cells: dict[str, dict[str, Any]] = {}
    for c in channels:
        for row in c["order"]:
            cells.setdefault(row["consultant"], {})[c["channel"]] = _cell(row, c["mode"], len(str(len(c["order"]))))
    for person in data["consultants"]:
        if person["left"]:
            continue
        presence_style = "green" if person["presence"] == "on_post" else _STATUS_STYLE.get(person["presence"], "")
        grid.add_row(str(person["seat"]), f"{person['consultant']} {person['name']}",
                     Text(person["presence"], style=presence_style),
                     *[cells.get(person["consultant"], {}).get(c["channel"], Text("")) for c in channels])
    nexts, rules = [], []
    for c in channels:
        who = c["next"] or ("deferred" if c["rule"] == "R-SH-5" else "nobody")
        nexts.append(Text(who, style="bold green" if c["next"] else "bold yellow"))
        rules.append(Text(c["rule"], style="cyan"))
    grid.add_section()
    grid.add_row("", Text("next", style="bold"), "", *nexts)
    grid.add_row("", Text("rule", style="bold"), "", *rules)
    console.print(grid)
    shared = [c["channel"] for c in data["channels"] if c["queue"] != c["channel"]]
    legend = "▸ pointer  NEXT would receive  1 2 3 rank  ×2 bonus lead (R-RT-4)  t/l turns/leads today"
    if shared:
        legend += "  (" + ", ".join(f"{name} uses the walk_in queue" for name in shared) + ")"
    console.print(legend, style="dim")
    # Who would be passed for each channel's next lead, grouped: one line per reason and channels.
    where: dict[tuple[str, str], list[str]] = {}
    for c in channels:
        for p in c["passed"]:
            label = f"{p['consultant']} {p.get('name') or ''}".strip()
            where.setdefault((label, p["why"]), []).append(_SHORT_CHANNEL.get(c["channel"], c["channel"]))
    grouped: dict[tuple[str, str], list[str]] = {}
    for (label, reason), names in where.items():
        scope = "every channel" if len(names) == len(channels) else ", ".join(names)
        grouped.setdefault((reason, scope), []).append(label)
    if grouped:
        console.print(Text("passed for the next lead", style="bold"))
        for (reason, scope), labels in grouped.items():
            console.print(Text.assemble("  ", (reason, "yellow"), f" [{scope}]: ", ", ".join(labels)))
    shifts = data["shifts"]

    def holder(h: dict | None) -> Text:
        if h is None:
            return Text("—", style="dim")
        return Text(f"{h['consultant']} {h['name']}", style="green" if h["on_post"] else "yellow") + (
            Text("" if h["on_post"] else f" ({h['presence']})", style="yellow"))

    line = Text.assemble(("shifts ", "bold"), f"{shifts['date']}  early ", holder(shifts["early"]), "  late ",
                         holder(shifts["late"]), "  overtime ")
    if shifts["overtime"]:
        for n, h in enumerate(shifts["overtime"]):
            line += Text(", " if n else "") + holder(h)
    else:
        line += Text("—", style="dim")
    console.print(line)
    if data["deferred"]:
        table = Table(title="deferred leads (R-SH-5)", title_justify="left", box=None, header_style="bold")
        for column in ("lead", "channel", "arrived", "phone", "allocated at"):
            table.add_column(column, no_wrap=True)
        for d in data["deferred"]:
            table.add_row(d["lead"], d["channel"], d["arrived"], d["phone"] or "-", d["allocate_at"])
        console.print(table)
    if data["overdue"]:
        shown = data["overdue"][:10]
        table = Table(title=f"overdue follow-ups ({len(data['overdue'])})", title_justify="left", box=None,
                      header_style="bold")
        for column in ("lead", "owner", "channel", "phone", "due", "rule"):
            table.add_column(column, no_wrap=True)
        for o in shown:
            table.add_row(o["lead"], f"{o['owner']} {o['name'] or ''}", o["channel"], o["phone"] or "-", o["due"],
                          Text(o["rule"], style="red"))
        console.print(table)
        if len(data["overdue"]) > len(shown):
            console.print(f"… {len(data['overdue']) - len(shown)} more (ledger followups)", style="dim")


@main.command("board")
@store_options
def board_command(opts: StoreOptions) -> None:
    """Show the team's rotation board: per channel the order, who is next, who would be passed and why.

    Also today's shift holders, deferred leads and overdue follow-ups. `next` of each channel is
    the same answer as `ledger next CHANNEL`. Phone numbers are masked (R-ID-2).

    \b
    Example:
      ledger board
      ledger board --at 2026-11-02T09:30:00+08:00 --json
    """
    from commands.history import state_at
    from projections.board import board

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        at = _moment(opts, store, team)
        data = board(state_at(store, team, at, opts.as_recorded), at)
    if opts.json:
        import json

        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        _render_board(data)


# -- queries (issue 3, 4) ------------------------------------------------------------------------
# Each query: resolve the team, fold its history to the asked moment (commands.history: nearest
# checkpoint + the events after it), ask projections.queries, then print JSON or a table.


def _now() -> dt.datetime:
    """The only clock of the ledger: read here, at the edge, and passed inward."""
    return dt.datetime.now(dt.timezone.utc)


def _moment(opts: StoreOptions, store, team: str) -> dt.datetime:
    """`--at`, or the later of now and the team's latest recorded `at` (INTERCHANGE.md); with
    `--as-recorded T`, the later of T and the latest `at` recorded by T (the ledger's "now" then)."""
    if opts.at is not None:
        return opts.at
    from commands.history import default_moment

    return default_moment(store, team, _now(), opts.as_recorded)


def _team_state(opts: StoreOptions, at: dt.datetime | None = None):
    """(team, state) with the team's history folded up to `at` (default: `_moment`)."""
    from commands.history import state_at

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        moment = at if at is not None else _moment(opts, store, team)
        return team, state_at(store, team, moment, opts.as_recorded)


def _emit_json(answer: dict) -> None:
    import json

    click.echo(json.dumps(answer, ensure_ascii=False, default=str))


def _ask(opts: StoreOptions, question, *args):
    """Fold the team to --at and ask `question(state, *args)`: (state, answer), or (None, None)
    once the answer went out as JSON."""
    _, state = _team_state(opts)
    answer = question(state, *args)
    if opts.json:
        _emit_json(answer)
        return None, None
    return state, answer


def _name(state, cid: str | None) -> str:
    """A consultant as people know them: `王芳 (c1)`; `-` for nobody."""
    if cid is None:
        return "-"
    consultant = state.consultants.get(cid)
    return f"{consultant.name} ({cid})" if consultant is not None else cid


def _table(title: str, columns: list[str]):
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    return table


@main.command("owner")
@click.argument("lead")
@store_options
def owner_command(lead: str, opts: StoreOptions) -> None:
    """Who owns LEAD's customer at --at, by which rule, and whether it is disputed.

    \b
    Example:
      ledger owner L1 --team renda --at 2026-11-03T10:32:00+08:00
    """
    from projections import queries

    if opts.json and opts.as_recorded is None:  # the persisted model when it can answer (issue 6), else the fold
        from commands.read_models import owner_text

        with opts.open_store() as store:
            team = opts.resolve_team(store)
            text = owner_text(store, team, lead, _moment(opts, store, team))
        if text is not None:
            return click.echo(text)
    state, answer = _ask(opts, queries.owner, lead)
    if state is None:
        return
    flag = "  [red]disputed (R-OW-7)[/red]" if answer["disputed"] else ""
    owner = _name(state, answer["owner"]) if answer["owner"] else "nobody yet"
    _console().print(f"{lead}: {owner} by {answer['rule']}{flag}")
    for claim in answer.get("claims", []):
        _console().print(f"  claim by {_name(state, claim['consultant'])} at {claim['at']}: {claim['reason']}")


@main.command("next")
@click.argument("channel", type=click.Choice(
    ["hotline", "online", "hq_referral", "internal_referral", "walk_in", "marketing", "conference",
     "customer_referral", "outbound"]))
@store_options
def next_command(channel: str, opts: StoreOptions) -> None:
    """Who would own a lead of CHANNEL from a new customer naming nobody, arriving at --at.

    \b
    Example:
      ledger next hotline --team renda --at 2026-11-09T13:00:00+08:00
    """
    from projections import queries

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        moment = _moment(opts, store, team)
    _, state = _team_state(opts, moment)
    answer = queries.next_owner(state, channel, moment)
    if opts.json:
        return _emit_json(answer)
    who = _name(state, answer["next"]) if answer["next"] else "nobody: the lead would be deferred"
    console = _console()
    console.print(f"{channel} at {answer['at']}: {who} ({answer['rule']})")
    for candidate in answer.get("candidates", []):
        console.print(f"  {_name(state, candidate['consultant'])}: {candidate['outcome']} {candidate['why'] or ''}")


@main.command("turns")
@click.option("--from", "date_from", required=True, metavar="DATE", help="First local date (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, metavar="DATE", help="Last local date (YYYY-MM-DD), inclusive.")
@store_options(at=False, as_recorded=True)
def turns_command(date_from: str, date_to: str, opts: StoreOptions) -> None:
    """Turn and lead counts per consultant and channel over local dates (R-RT-7).

    \b
    Example:
      ledger turns --team renda --from 2026-11-02 --to 2026-11-08
    """
    from projections import queries

    first, last = _date(date_from, "--from"), _date(date_to, "--to")
    if last < first:
        raise InputError(f"--to {date_to} is before --from {date_from}")
    if opts.json and opts.as_recorded is None:  # the persisted model when current (issue 6), else the fold
        from commands.read_models import turns_text

        with opts.open_store() as store:
            text = turns_text(store, opts.resolve_team(store), first, last)
        if text is not None:
            return click.echo(text)
    from commands.history import day_start, state_at, team_zones

    with opts.open_store() as store:
        team = opts.resolve_team(store)  # §10: --to's local date in the zone in force then
        following = day_start(team_zones(store, team, opts.as_recorded), last + dt.timedelta(days=1))
        state = state_at(store, team, following - dt.timedelta(microseconds=1), opts.as_recorded)
    answer = queries.turns(state, first, last)
    if opts.json:
        return _emit_json(answer)
    table = _table(f"Turns and leads, {first} .. {last} (R-RT-7)", ["consultant", "channel", "turns", "leads"])
    for row in answer["rows"]:
        table.add_row(_name(state, row["consultant"]), row["channel"], str(row["turns"]), str(row["leads"]))
    _console().print(table)


def _date(text: str, option: str) -> dt.date:
    from ledger.events import parse_date_text

    try:
        return parse_date_text(text)
    except ValueError as error:
        raise InputError(f"{option}: {error}") from None


@main.command("sanctions")
@store_options
def sanctions_command(opts: StoreOptions) -> None:
    """Sanctions in force at --at, imposed or derived, with their rule (R-SA-*).

    \b
    Example:
      ledger sanctions --team renda --at 2026-11-09T12:00:00+08:00
    """
    from projections import queries

    state, answer = _ask(opts, queries.sanctions)
    if state is None:
        return
    table = _table("Sanctions in force", ["id", "consultant", "kind", "channels", "rule", "from", "until", "reason"])
    for row in answer["sanctions"]:
        kind = row["kind"]
        if kind == "throttle":
            kind = f"throttle {row.get('take')} of {row.get('of')}"
        elif kind == "skip":
            kind = f"skip ({row.get('turns_left')} left)"
        table.add_row(row["penalty"], _name(state, row["consultant"]), kind, ",".join(row["channels"]), row["rule"],
                      row["from"] or "-", row["until"] or "-", row.get("reason") or "")
    _console().print(table)


@main.command("explain")
@click.argument("lead")
@store_options
def explain_command(lead: str, opts: StoreOptions) -> None:
    """The customer's timeline behind LEAD: every ownership decision, its rule, the candidates
    considered and the events it rested on (R-OW-6). What a supervisor reads to settle a dispute.

    \b
    Example:
      ledger explain D3 --team renda --at 2026-11-03T16:00:00+08:00
    """
    from commands import audit

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        state, answer = audit.explain(store, team, lead, _moment(opts, store, team), opts.as_recorded)
    if opts.json:
        return _emit_json(answer)
    console = _console()
    owner = _name(state, answer["owner"]) if answer["owner"] else "nobody yet"
    flag = "  [red]disputed[/red]" if answer.get("disputed") else ""
    console.print(f"[bold]{lead}[/bold]: owned by {owner} by {answer['rule']}{flag}")
    table = _table("Timeline", ["at", "event", "what happened", "owner", "rule", "rests on"])
    for item in answer["timeline"]:
        what = item["summary"]
        for candidate in item.get("candidates") or []:
            what += f"\n  {_name(state, candidate['consultant'])}: {candidate['outcome']} {candidate['why'] or ''}"
        if item.get("recorded_late"):
            what += "\n  [yellow]recorded late (R-T-5)[/yellow]"
        for change in item.get("changed_by") or []:
            what += (f"\n  [yellow]changed by #{change['seq']} (at {change['at']}, "
                     f"recorded {change['recorded']}; R-CO-4)[/yellow]")
        if item.get("voided"):
            void = item["voided"]
            what += (f"\n  [red]voided by #{void['seq']} ({void['by'] or '-'}, recorded {void['recorded']}): "
                     f"{void['reason']}[/red]")
        rests = ", ".join(f"#{seq}" for seq in item.get("rests_on") or [])
        table.add_row(item["at"], item["type"], what, _name(state, item["owner"]), item["rule"] or "", rests)
    console.print(table)
    _print_rules(console, [item["rule"] for item in answer["timeline"]] + [answer["rule"]])


def _print_rules(console, cited: list) -> None:
    """The titles of the rules an answer cites (`ledger rules ID` prints the whole rule)."""
    from ledger import rules

    shown = []
    for rule_id in dict.fromkeys(r for r in cited if r):
        try:
            found = rules.rule(rule_id)
        except LedgerError:
            continue
        shown.append(f"{found.id} {found.title['zh']} {found.title['en']}")
    if shown:
        console.print("规则 rules (ledger rules ID): " + "; ".join(shown))


@main.command("find")
@click.option("--phone", required=True, metavar="NUMBER", help="The customer's phone number (R-ID-1).")
@store_options
def find_command(phone: str, opts: StoreOptions) -> None:
    """The customer with this phone number at --at: their leads, owner and rule (R-ID-1).

    What the front desk asks first when a customer calls back. The number is shown masked
    (R-ID-2); no such customer answers with no leads (exit 0).

    \b
    Example:
      ledger find --phone 13800000001 --team renda
    """
    from commands import audit

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        state, answer = audit.find(store, team, phone, _moment(opts, store, team), opts.as_recorded)
    if opts.json:
        return _emit_json(answer)
    if not answer["leads"]:
        return _console().print(f"{answer['phone']}: no customer with this number")
    flag = "  [red]disputed[/red]" if answer["disputed"] else ""
    _console().print(f"{answer['phone']}: leads {', '.join(answer['leads'])}; owner "
                     f"{_name(state, answer['owner']) if answer['owner'] else 'nobody yet'} by {answer['rule']}{flag}")


@main.command("event")
@click.argument("ref", metavar="#N|ID")
@store_options(at=False)
def event_command(ref: str, opts: StoreOptions) -> None:
    """One stored entry by its recording number #N or its event id, with when it was recorded
    and whether it was voided (R-CO-1, R-CO-2). `explain`'s "rests on #N" are such numbers.

    \b
    Example:
      ledger event '#12' --team renda
    """
    from commands import audit

    with opts.open_store() as store:
        answer = audit.event(store, opts.resolve_team(store), ref)
    if opts.json:
        return _emit_json(answer)
    console = _console()
    data = answer["event"]
    console.print(f"[bold]#{answer['seq']}[/bold] {data['type']} at {data['at']}, recorded {answer['recorded']}"
                  + (f", id {answer['id']}" if answer["id"] else ""))
    for key, value in data.items():
        if key not in ("type", "team", "at", "id"):
            console.print(f"  {key}: {value}")
    if answer["voided"]:
        void = answer["voided"]
        console.print(f"  [red]voided by #{void['seq']} ({void['by'] or '-'}, recorded {void['recorded']}): "
                      f"{void['reason']}[/red]")


@main.command("disputes")
@store_options
def disputes_command(opts: StoreOptions) -> None:
    """Leads of disputed customers at --at: claims and taken leads not yet ruled on (R-OW-7, R-OW-8).

    \b
    Example:
      ledger disputes --team renda --at 2026-11-03T17:30:00+08:00
    """
    from projections import queries

    state, answer = _ask(opts, queries.disputes)
    if state is None:
        return
    table = _table("Disputes", ["lead", "derived owner", "claimed by", "at", "reason"])
    for item in answer["disputes"]:
        for claim in item["claims"]:
            table.add_row(item["lead"], _name(state, item["owner"]), _name(state, claim["consultant"]),
                          claim["at"], claim["reason"])
    _console().print(table)


@main.command("followups")
@store_options
def followups_command(opts: StoreOptions) -> None:
    """Customers whose follow-up is overdue at --at (R-FU-1, R-FU-5 grade cadence).

    \b
    Example:
      ledger followups --team renda --at 2026-11-04T09:00:00+08:00
    """
    from projections import queries

    state, answer = _ask(opts, queries.followups)
    if state is None:
        return
    table = _table("Overdue follow-ups", ["lead", "owner", "due", "rule"])
    for item in answer["overdue"]:
        table.add_row(item["lead"], _name(state, item["owner"]), item["due"], item.get("rule") or "")
    _console().print(table)


@main.command("rules")
@click.argument("rule_id", metavar="[ID]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on standard output (both languages).")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Only this language (default: Chinese, then English).")
def rules_command(rule_id: str | None, as_json: bool, lang: str | None) -> None:
    """The rules reference: every rule id by section, or one rule's statement in Chinese and
    English with the house-rule phrase it comes from. Needs no store.

    \b
    Example:
      ledger rules
      ledger rules R-RT-2
      ledger rules R-OW-3b --lang en
      ledger rules --json
    """
    from rich.markup import escape

    from ledger import rules

    langs = [lang] if lang else ["zh", "en"]
    if rule_id is not None:
        found = rules.rule(rule_id)
        if as_json:
            return _emit_json(found.to_json_dict())
        console = _console()
        presets = f"  ({', '.join(found.applies_to)})" if found.applies_to else ""
        section = " / ".join(found.section.title[code] for code in langs)
        console.print(f"[bold]{found.id}[/bold] {escape(' / '.join(found.title[c] for c in langs))}{presets}"
                      f"  [dim]§{found.section.number} {escape(section)}[/dim]")
        for code in langs:
            console.print(f"\n{escape(found.statement[code])}")
        heading = {"zh": "出处", "en": "Source"}
        console.print(f"\n{' / '.join(heading[c] for c in langs)}:" + ("" if found.sources else " -"))
        for source in found.sources:
            house = rules.house_rules()[source.house_rule]["zh" if "zh" in langs else "en"]
            console.print(f"  「{escape(source.quote)}」 {escape(house)} ({source.house_rule}), {escape(source.where)}")
        return None
    if as_json:
        return _emit_json({"rules": [r.to_json_dict() for r in rules.all_rules()]})
    table = _table(f"Rules reference ({len(rules.all_rules())} rules; `ledger rules ID` for one)",
                   ["id", *({"zh": "标题", "en": "title"}[c] for c in langs), "presets"])
    for section in rules.sections():
        members = [r for r in rules.all_rules() if r.section.id == section.id]
        table.add_row(f"[bold]§{section.number}[/bold]",
                      *(f"[bold]{escape(section.title[c])}[/bold]" for c in langs), "", end_section=False)
        for index, item in enumerate(members):
            table.add_row(item.id, *(escape(item.title[c]) for c in langs), ", ".join(item.applies_to),
                          end_section=index == len(members) - 1)
    _console().print(table)
    return None


@main.command("commission")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month of the statements.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV for payroll spreadsheets (UTF-8 with BOM).")
@store_options(at=False, as_recorded=True)
def commission_command(month: str, as_csv: bool, opts: StoreOptions) -> None:
    """Commission statements of a month, one per consultant, each line citing its rule,
    contract and events (R-CM-*). The month's events decide it (R-CM-6), not --at.

    \b
    Example:
      ledger commission --team jiuzhou --month 2026-11
      ledger commission --team jiuzhou --month 2026-11 --csv > 2026-11.csv
    """
    from projections.commission import statement_rows, statements

    from ledger.events import parse_month_text

    try:
        parse_month_text(month)
    except ValueError as error:
        raise InputError(f"--month: {error}") from None
    first = _date(month + "-01", "--month")
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if opts.json and len(month) == 7 and opts.as_recorded is None:  # the persisted model when current (issue 6), else the fold
        from commands.read_models import commission_text

        with opts.open_store() as store:
            text = commission_text(store, opts.resolve_team(store), month)
        if text is not None:
            return click.echo(text)
    from commands.history import month_start, state_at, team_zones

    with opts.open_store() as store:
        team = opts.resolve_team(store)  # §10: the month local to the zone in force then
        zones = team_zones(store, team, opts.as_recorded)
        month_end = month_start(zones, following.year, following.month) - dt.timedelta(microseconds=1)
        state = state_at(store, team, month_end, opts.as_recorded)
    answer = statements(state.money, state.policies, state.tz, month)
    if opts.json:
        return _emit_json(answer)
    if as_csv:
        import csv
        import io

        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(statement_rows(answer))
        sys.stdout.buffer.write(("\ufeff" + buffer.getvalue()).encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    console = _console()
    for statement in answer["statements"]:
        table = _table(f"{_name(state, statement['consultant'])} — {month}: {statement['total']}",
                       ["rule", "contract", "basis", "rate", "amount"])
        for line in statement["lines"]:
            table.add_row(line["rule"], line.get("contract") or line.get("lead") or line.get("reason") or "",
                          str(line.get("basis") or ""), str(line.get("rate") or ""), line["amount"])
        console.print(table)
        tier = statement.get("tier")
        if tier:
            console.print(f"  tier: {tier}")
    for reward in answer.get("customer_rewards", []):
        console.print(f"customer reward: {reward}")


# -- the demo (README's first command) -------------------------------------------------------------

DEMO_FIXTURE = "fixtures/demo-campus-month.jsonl"


@main.command("demo")
@click.option("--fixture", type=click.Path(exists=True, dir_okay=False), default=None,
              help=f"Event file to import (default: {DEMO_FIXTURE} of this checkout).")
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
    from pathlib import Path

    from commands.importing import import_file

    path = Path(fixture) if fixture else Path(__file__).resolve().parent / DEMO_FIXTURE
    if not path.exists():
        raise InputError(f"demo fixture {path} not found; pass --fixture FILE")
    text = path.read_text(encoding="utf-8")
    dispute = next((line.split("lead", 1)[1].strip() for line in text.splitlines()
                    if line.startswith("# dispute: lead")), None)
    at = parse_time(at_text)
    opts = StoreOptions(db=db, team=None, json=False, at=at)
    console = _console()
    with opts.open_store() as store:
        summary = import_file(store, text, str(path))
        console.print(f"[bold]Imported[/bold] {path.name}: {summary.total} new event(s), "
                      f"{summary.skipped} already stored, into {store.url.display()}")
    ctx = click.get_current_context()
    board = main.commands.get("board")
    teams = {line.split('"team": "', 1)[1].split('"', 1)[0] for line in text.splitlines() if '"team": "' in line}
    team = sorted(teams)[0]
    common = ["--team", team, "--at", at.isoformat()] + (["--db", db] if db else [])
    if board is not None:
        console.rule(f"Rotation board of {team} at {at.isoformat()}")
        ctx.invoke(board, **board.make_context("board", list(common), parent=ctx).params)
    else:
        console.rule(f"Who is next, per channel, at {at.isoformat()}")
        for channel in ("hotline", "online", "hq_referral", "walk_in", "marketing"):
            ctx.invoke(next_command, **next_command.make_context("next", [channel] + common, parent=ctx).params)
    if dispute:
        console.rule(f"Explain the disputed lead {dispute} (R-OW-6)")
        ctx.invoke(explain_command, **explain_command.make_context("explain", [dispute] + common, parent=ctx).params)
        later = ["--team", team, "--at", "2026-11-17T12:00:00+08:00"] + (["--db", db] if db else [])
        console.rule(f"{dispute} after the supervisor's ruling")
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
    opts = StoreOptions(db, None, as_json, None)
    with opts.open_store() as store:
        known = store.teams()
    unknown = [t for t in teams if t not in known]
    if unknown:
        raise UnknownTeam(f"unknown team {unknown[0]!r}; the store holds: {', '.join(known) or 'none'}")
    chosen = select_teams(known, teams, shard_spec)
    from ledger.store import DEFAULT_URL

    url = db or DEFAULT_URL  # each worker process opens its own store
    verb = "Rebuilding" if swap else "Verifying"
    if as_json or not sys.stderr.isatty():
        return run(url, chosen, swap=swap, jobs=jobs)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    speed = TextColumn("{task.fields[rate]}")
    with Progress(TextColumn(f"{verb} {len(chosen)} team(s)"), BarColumn(), MofNCompleteColumn(), speed,
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(verb, total=None, rate="")

        def advance(n: int) -> None:
            bar.advance(task, n)
            rate = bar.tasks[0].speed
            bar.update(task, rate=f"{rate:,.0f} events/s" if rate else "")

        return run(url, chosen, swap=swap, jobs=jobs, on_start=lambda total: bar.update(task, total=total),
                   on_progress=advance)


def _report_models(summary: Any, as_json: bool, verb: str) -> None:
    if as_json:
        return _emit_json(summary.to_json_dict())
    data = summary.to_json_dict()
    rate = f"{data['events_per_second']:,.0f} events/s" if data["events_per_second"] else "-"
    click.echo(f"{verb} {len(summary.teams)} team(s), {summary.events} events in {data['seconds']} s ({rate}); "
               f"{len(summary.drift)} drift item(s)")
    if summary.drift:
        table = _table("Drift (live model vs rebuilt from the log)", ["team", "model", "key", "at", "live", "rebuilt", "rule"])
        for d in summary.drift:
            show = lambda v: "-" if v is None else (v if isinstance(v, str) else __import__("json").dumps(v, ensure_ascii=False))  # noqa: E731
            table.add_row(d["team"], d["model"], show(d["key"]), d["at"] or "-", show(d["live"]), show(d["rebuilt"]),
                          d["rule"] or "-")
        _console().print(table)


@main.command("rebuild")
@_models_options
def rebuild_command(db: str | None, teams: tuple[str, ...], jobs: int, shard: str | None, as_json: bool) -> None:
    """Replay the log into fresh read models, report drift from the live ones, then swap them in.

    Each team is folded from its events (read a page at a time) into a shadow generation of the
    models, compared with the live one (owners over time, turn counts, sanctions, commission),
    then made live in one transaction. Killed at any point, the live models are untouched and
    the next run completes. Drift is reported, not an error (exit 0); see `ledger verify`.

    \b
    Example (nightly, see docs/OPERATIONS.md):
      ledger rebuild --jobs 2 --json
      ledger rebuild --shard 0/3 --jobs 4 --json     # machine 1 of 3 sharing one PostgreSQL
    """
    summary = _run_models(db, teams, jobs, shard, as_json, swap=True)
    _report_models(summary, as_json, "Rebuilt")


@main.command("verify")
@_models_options
def verify_command(db: str | None, teams: tuple[str, ...], jobs: int, shard: str | None, as_json: bool) -> None:
    """Replay the log and compare with the live read models, without swapping; exit 1 on drift.

    \b
    Example:
      ledger verify --team renda --json
    """
    summary = _run_models(db, teams, jobs, shard, as_json, swap=False)
    _report_models(summary, as_json, "Verified")
    if summary.drift:
        click.get_current_context().exit(1)


if __name__ == "__main__":
    main()
