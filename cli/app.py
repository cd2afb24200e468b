"""The `ledger` command line's group, its error translation and what every command shares:
`StoreOptions`/`store_options`, times and dates, the console and tables, the default moment.

Errors of the ledger (`LedgerError`) are translated once, here: one message on standard error
and the error's exit status (2 for user input, 1 otherwise). Heavy modules (the store, the
event models, the rules) are imported inside the commands so that `ledger --help` is fast.

Human output speaks the language `ledger.i18n.choose` picks (`--lang`, `LEDGER_LANG`, the
locale; Chinese by default) through the web desk's catalog: `tr` for messages, `word` for values
shown by their code (channels, presences, event types). `--json` never passes through either.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable

import click

from ledger.errors import InputError, LedgerError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


LANG_KEY = "ledger.lang"


def N_(message: str) -> str:
    """Marks a message id for extraction; translated later by `tr`."""
    return message


def language() -> str:
    """The language of this command's human output: the group's `--lang`, else the environment."""
    ctx = click.get_current_context(silent=True)
    lang = ctx.meta.get(LANG_KEY) if ctx is not None else None
    if lang is None:
        from ledger.i18n import choose

        lang = choose()
    return lang


def tr(message: str, **values: Any) -> str:
    """`message` (an English message id, named placeholders `{lead}`) in the output language."""
    from ledger.i18n import say

    return say(language(), message, **values)


def word(code: str | None) -> str:
    """A value shown by its code (`hotline`, `on_post`, `LeadArrived`) in the output language;
    the code itself when the catalog has no word for it (ledger.vocabulary marks them)."""
    from ledger import i18n

    return i18n.word(language(), code)


# The fragments of the errors a receptionist meets most (unknown lead or consultant, did you
# mean, a bad time), found in the English message wherever it was raised and said again in the
# output language; the rest of a message stays as raised. Placeholders are the named groups.
_ERROR_FRAGMENTS = [
    (r"unknown lead (?P<lead>'[^']*')", N_("unknown lead {lead}")),
    (r"\(not arrived by (?P<at>[^)]+)\)", N_("(not arrived by {at})")),
    (r"lead (?P<lead>'[^']*') arrives at (?P<at>\S+), after this event's time (?P<time>\S+); "
     r"expected a lead that had arrived by then",
     N_("lead {lead} arrives at {at}, after this event's time {time}; expected a lead that had arrived by then")),
    (r"; expected a lead that has arrived in the team", N_("; expected a lead that has arrived in the team")),
    (r"unknown consultant (?P<ref>'[^']*')", N_("unknown consultant {ref}")),
    (r"; did you mean (?P<choices>[^?]+)\?", N_("; did you mean {choices}?")),
    (r" \(current: (?P<roster>.*)\)$", N_(" (current: {roster})")),
    (r"; expected one of: (?P<roster>.*)$", N_("; expected one of: {roster}")),
    (r"unknown team (?P<team>'[^']*'); the store holds: (?P<teams>.*)$",
     N_("unknown team {team}; the store holds: {teams}")),
    (r"--team is required: the store holds (?P<teams>.*)$", N_("--team is required: the store holds {teams}")),
    (r"Invalid value for (?P<option>'[^']+'): ", N_("invalid value for {option}: ")),
    (r"expected an ISO 8601 time with a UTC offset, like (?P<example>\S+), got (?P<value>'[^']*')",
     N_("expected an ISO 8601 time with a UTC offset, like {example}, got {value}")),
    (r"expected a real date and time \(ISO 8601\), got (?P<value>'[^']*')",
     N_("expected a real date and time (ISO 8601), got {value}")),
    (r"expected a UTC offset \(e\.g\. \+08:00\) in (?P<value>'[^']*')",
     N_("expected a UTC offset (e.g. +08:00) in {value}")),
    (r"expected a time from (?P<range>.+?), got (?P<value>'[^']*')", N_("expected a time from {range}, got {value}")),
    (r"expected a date YYYY-MM-DD, got (?P<value>'[^']*')", N_("expected a date YYYY-MM-DD, got {value}")),
    (r"expected a time: ISO 8601 \(.*?, 3天前; got (?P<value>.*)$",  # commands.moments.SYNTAX
     N_("expected a time: ISO 8601 (2026-11-02T09:00:00+08:00; without an offset: the team's zone), now, "
        "today/yesterday/tomorrow [HH:MM], 今天/昨天/明天, or relative: -2h, +30m, 3 days ago, 3天前; got {value}")),
    (r"expected a month YYYY-MM, got (?P<value>'[^']*')", N_("expected a month YYYY-MM, got {value}")),
    (r" \(see '(?P<command>[^']+) -h'\)$", N_(" (see '{command} -h')")),
    # the refusals of the recording commands (commands/record.py, commands/recording.py)
    (r"--at (?P<at>\S+) is more than 5 minutes after now \((?P<now>[^)]+)\); expected a time that has happened "
     r"\(--allow-future records it anyway: simulations, tests\)",
     N_("--at {at} is more than 5 minutes after now ({now}); expected a time that has happened "
        "(--allow-future records it anyway: simulations, tests)")),
    (r"unknown contract (?P<contract>'[^']*')", N_("unknown contract {contract}")),
    (r"; expected the id of a signed contract", N_("; expected the id of a signed contract")),
    (r"contract (?P<contract>'[^']*') is signed at (?P<at>\S+), after this event's time (?P<time>\S+); "
     r"expected a contract signed by then",
     N_("contract {contract} is signed at {at}, after this event's time {time}; expected a contract signed by then")),
    (r"(?P<what>contract|penalty) (?P<ref>'[^']*') already exists; expected a (?P=what) id unique within the team",
     N_("{what} {ref} already exists; expected a {what} id unique within the team")),
    (r"contract (?P<contract>\S+) is cancelled; no (?P<noun>\w+) can follow",
     N_("contract {contract} is cancelled; no {noun} can follow")),
    (r"a refund of (?P<value>\S+) would exceed contract (?P<contract>\S+)'s amount (?P<amount>\S+) "
     r"\(already refunded (?P<refunded>[^)]+)\)",
     N_("a refund of {value} would exceed contract {contract}'s amount {amount} (already refunded {refunded})")),
    (r"expected an amount above 0\.00, got (?P<value>\S+)", N_("expected an amount above 0.00, got {value}")),
    (r"the customer of (?P<lead>\S+) has no owner at (?P<at>\S+) \((?P<rule>[^)]+)\); record a ruling "
     r"\(ledger rule\) first, or the contract credits nobody",
     N_("the customer of {lead} has no owner at {at} ({rule}); record a ruling (ledger rule) first, "
        "or the contract credits nobody")),
    (r"unknown penalty (?P<penalty>'[^']*')(?=; )", N_("unknown penalty {penalty}")),
    (r"; penalties in force: none$", N_("; no penalty is in force")),
    (r"; penalties in force: (?P<penalties>.*)$", N_("; penalties in force: {penalties}")),
    (r"penalty (?P<penalty>'[^']*') is imposed at (?P<at>\S+), after this event's time (?P<time>\S+)$",
     N_("penalty {penalty} is imposed at {at}, after this event's time {time}")),
    (r"penalty (?P<penalty>\S+) was already lifted at (?P<at>\S+)$", N_("penalty {penalty} was already lifted at {at}")),
    (r"penalty (?P<penalty>\S+) already ended at (?P<at>\S+); nothing to lift",
     N_("penalty {penalty} already ended at {at}; nothing to lift")),
    (r"penalty (?P<penalty>\S+) \(a skip\) is used up; nothing to lift",
     N_("penalty {penalty} (a skip) is used up; nothing to lift")),
    (r"lead (?P<lead>'[^']*') has already arrived; expected a new lead id \(e\.g\. (?P<example>[^)]+)\)",
     N_("lead {lead} has already arrived; expected a new lead id (e.g. {example})")),
    (r"(?P<who>\S+(?: \([^)]*\))?) has left the team; expected a current consultant",
     N_("{who} has left the team; expected a current consultant")),
    (r"(?P<first>\S+) and (?P<second>\S+) are not one customer; nothing to unlink",
     N_("{first} and {second} are not one customer; nothing to unlink")),
    (r"no lead of team (?P<team>\S+) has the number (?P<phone>\S+); nothing to erase",
     N_("no lead of team {team} has the number {phone}; nothing to erase")),
    (r"cannot void (?P<ref>#\d+): ", N_("cannot void {ref}: ")),
    (r"(?P<ref>#\d+) is already voided \(by (?P<by>#\d+)\)", N_("{ref} is already voided (by {by})")),
]
# Words a refusal above names (`{noun}`, `{what}`), said in the output language.
_ERROR_WORDS = (N_("payment"), N_("disbursement"), N_("refund"), N_("cancellation"), N_("contract"), N_("penalty"))


def localize_error(message: str) -> str:
    """An error message in the output language: unchanged in English (the ids are the English)."""
    if language() == "en":
        return message
    for pattern, msgid in _ERROR_FRAGMENTS:
        def said(found: re.Match, msgid: str = msgid) -> str:
            values = found.groupdict()
            if "choices" in values:
                values["choices"] = values["choices"].replace(" or ", tr(" or "))
            for key in ("noun", "what"):
                if key in values:
                    values[key] = tr(values[key])
            return tr(msgid, **values)

        message = re.sub(pattern, said, message, flags=re.MULTILINE)
    return message


class LedgerGroup(click.Group):
    """A click group that turns every `LedgerError` into a message and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as error:
            say(localize_error(str(error)))
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

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:  # where a usage error of the command sends the user (`-h`)
            ctx.meta[COMMAND_KEY] = f"{ctx.command_path} {command.name}"
        return name, command, rest


def _usage(error: click.ClickException) -> None:
    """click's own usage errors (a bad option, a missing argument, an unknown command, a value of
    the wrong type or not among the choices) as one line like every other error, in the output
    language, with "did you mean" where something close exists, and click's exit status (2)."""
    ctx = error.ctx if isinstance(error, click.UsageError) else None
    current = click.get_current_context(silent=True)
    where = (ctx.command_path if ctx is not None and ctx.parent is not None else None) \
        or (current.meta.get(COMMAND_KEY) if current is not None else None) \
        or (ctx.command_path if ctx is not None else "ledger")  # a parse error has no context: the command's
    hint = tr(" (see '{command} -h')", command=where) if isinstance(error, click.UsageError) else ""
    say(_usage_message(error) + hint)
    raise click.exceptions.Exit(error.exit_code)


COMMAND_KEY = "ledger.command"


def _usage_message(error: click.ClickException) -> str:
    """The one-line message of a click error, in the output language."""
    if isinstance(error, click.exceptions.NoSuchCommand):
        return tr("no such command {command}", command=repr(error.command_name)) + _did_you_mean(error.possibilities)
    if isinstance(error, click.NoSuchOption):
        return tr("no such option {option}", option=error.option_name) + _did_you_mean(error.possibilities)
    if isinstance(error, click.BadOptionUsage) and "requires" in error.message:
        return tr("{option} needs a value", option=error.option_name)
    if isinstance(error, click.MissingParameter):
        return tr("missing {param}", param=_param_name(error.param) if error.param else error.param_hint)
    if isinstance(error, click.BadParameter):
        name = _param_name(error.param) if error.param else str(error.param_hint or "")
        if error.param is not None and isinstance(error.param.type, click.Choice):
            return _bad_choice(name, error)
        return f"{name}: {_value_message(' '.join(error.message.split()))}"
    extra = re.match(r"Got unexpected extra arguments? \((?P<args>.*)\)$", error.message)
    if extra:
        return tr("unexpected extra argument(s): {args}", args=extra["args"])
    return localize_error(" ".join(error.format_message().split()))


def _param_name(param: click.Parameter) -> str:
    """How the user names a parameter: `--team` for an option, `CHANNEL` for an argument."""
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.metavar or (param.name or "").upper()


def _did_you_mean(possibilities: list[str] | None) -> str:
    if not possibilities:
        return ""
    return tr("; did you mean {choices}?", choices=tr(" or ").join(possibilities))


def _bad_choice(name: str, error: click.BadParameter) -> str:
    """`CHANNEL: 'hotlin' is not one of hotline, online...; did you mean hotline?`"""
    import ast
    import difflib

    from ledger.events import shown

    choices = [str(choice) for choice in error.param.type.choices]
    found = re.match(r"(?P<value>'.*'|\".*\") is not", error.message)
    try:
        typed = str(ast.literal_eval(found["value"])) if found else ""
    except (ValueError, SyntaxError):
        typed = ""
    close = difflib.get_close_matches(typed, choices, n=3, cutoff=0.5) or [
        choice for choice in choices if typed and typed.lower() in choice.lower()][:3]
    if language() != "en":
        close = [f"{choice}({word(choice)})" if word(choice) != choice else choice for choice in close]
    return (tr("{param}: {value} is not one of {choices}", param=name, value=shown(typed),
               choices=", ".join(choices)) + _did_you_mean(close))


# click's messages about a value of the wrong type, said again in the ledger's words.
_VALUE_MESSAGES = [
    (r"(?P<value>.+) is not a valid (?:integer|integer range)\.", N_("expected a whole number, got {value}")),
    (r"(?P<value>.+) is not a valid (?:float|float range)\.", N_("expected a number, got {value}")),
    (r"(?P<value>.+) is not in the range (?P<range>.+)\.", N_("expected a number in {range}, got {value}")),
    (r"(?P<value>.+) does not match the format '%Y-%m-%d'\.", N_("expected a date YYYY-MM-DD, got {value}")),
]


def _value_message(message: str) -> str:
    for pattern, msgid in _VALUE_MESSAGES:
        found = re.fullmatch(pattern, message)
        if found:
            return tr(msgid, **found.groupdict())
    return localize_error(message)


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


def _lang_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.meta[LANG_KEY] = value
    return value


@click.group(cls=LedgerGroup, context_settings=CONTEXT)
@click.version_option(package_name="lead-ledger", prog_name="ledger")
@click.option("--lang", type=click.Choice(["zh", "en"]), callback=_lang_option, is_eager=True, expose_value=False,
              help="Language of the human output and errors (default: LEDGER_LANG, else English when "
                   "LC_ALL/LC_MESSAGES/LANG starts with en, else Chinese). --json is the same in both.")
def main() -> None:
    """Lead Ledger: an event-sourced ledger of sales leads.

    Record what happened (leads, presence, contracts...) as events; the ledger replays
    them to answer who owns a lead, whose turn is next, sanctions and commission.

    \b
    Example (on the demo store: `ledger demo` first):
      ledger board --team renda
      ledger explain L1116-X2 --team renda
      ledger export --team renda > renda.jsonl

    \b
    Shell completion (commands, options, channels, consultant and lead ids from --db/LEDGER_DB):
      bash: echo 'eval "$(_LEDGER_COMPLETE=bash_source ledger)"' >> ~/.bashrc
      zsh:  echo 'eval "$(_LEDGER_COMPLETE=zsh_source ledger)"' >> ~/.zshrc
      fish: _LEDGER_COMPLETE=fish_source ledger > ~/.config/fish/completions/ledger.fish
    """


# -- shared options ------------------------------------------------------------------------------


DEFAULT_ZONE = "Asia/Shanghai"  # the zone of a team being started (commands.history.zone_now)


def parse_time(text: str, zone: Any = None, now: dt.datetime | None = None) -> dt.datetime:
    """A time in the one syntax of `commands.moments` (ISO 8601, now, today, 昨天, -2h, 3 days
    ago...), read with the clock (`now`, default `_now()`) in `zone` (default DEFAULT_ZONE);
    `InputError` otherwise."""
    from zoneinfo import ZoneInfo

    from commands import moments

    try:
        return moments.parse(text, now or _now(), zone or ZoneInfo(DEFAULT_ZONE))
    except ValueError as error:
        raise InputError(str(error)) from None


def _time_option(ctx: click.Context, param: click.Parameter, value: str | None):
    """A time option (`--at`, `--as-recorded`, `--from`, `--until`): its syntax checked now
    (a usage error otherwise), read once the team is known (`resolve_times`: its zone, the clock)."""
    if value is None:
        return None
    from commands import moments

    try:
        return moments.check(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def _instant_option(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    """A time option of a command over every team (`notify --now`): read at once, in DEFAULT_ZONE."""
    if value is None:
        return None
    try:
        return parse_time(value)
    except InputError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def resolve_times(store, team: str, now: dt.datetime, values: dict[str, Any]) -> dict[str, Any]:
    """`values` with each time typed (`commands.moments.TimeText`) read with the clock `now` in
    the team's zone (R-T-1; the default zone for a team being started); `InputError` naming the
    option otherwise."""
    from commands import moments

    if not any(isinstance(value, moments.TimeText) for value in values.values()):
        return values
    from commands.history import zone_now

    zone = zone_now(store, team, now)
    resolved = {}
    for name, value in values.items():
        try:
            resolved[name] = moments.resolve(value, now, zone)
        except ValueError as error:
            raise InputError(f"{name}: {error}") from None
    return resolved


@dataclass
class StoreOptions:
    """What every store command shares: `--db`, `--team`, `--json`, `--at`."""

    db: str | None
    team: str | None
    json: bool
    at: Any  # a datetime once `resolve_team` read the typed time (commands.moments.TimeText)
    as_recorded: Any = None  # R-CO-4: ignore what was recorded after it; read like `at`
    create: bool = True  # may this command create a store that does not exist? (store_options: no)
    _store: Any = None

    def open_store(self, create: bool | None = None):  # -> a context giving the ledger.store.Store
        """The command's store, opened on first use and closed when the command ends (not when
        a `with` block ends): a state restored from a checkpoint reads the values the checkpoint
        kept apart from it on first use (`commands.history.load`). A store that does not exist
        is created only when `create` (default: the field) says so; `StoreMissing` (exit 2) otherwise."""
        from contextlib import nullcontext

        from ledger.store import open_store

        if self._store is None:
            if not (self.create if create is None else create):
                refuse_missing_store(self.db)
            self._store = open_store(self.db)
            click.get_current_context().call_on_close(self._store.close)
        return nullcontext(self._store)

    def resolve_team(self, store) -> str:
        """`--team`, or the store's only team; `UnknownTeam` (exit 2) otherwise."""
        from ledger.errors import UnknownTeam

        teams = store.teams()
        if self.team is None:
            if len(teams) == 1:
                return self._read_times(store, teams[0])
            if not teams:
                raise UnknownTeam("the store holds no team yet; import events first")
            raise UnknownTeam(f"--team is required: the store holds {', '.join(teams)}")
        if self.team not in teams:
            raise UnknownTeam(f"unknown team {self.team!r}; the store holds: {', '.join(teams) or 'none'}")
        return self._read_times(store, self.team)

    def _read_times(self, store, team: str) -> str:
        """--at and --as-recorded as typed, read in `team`'s zone with the clock (once)."""
        times = resolve_times(store, team, _now(), {"--at": self.at, "--as-recorded": self.as_recorded})
        self.at, self.as_recorded = times["--at"], times["--as-recorded"]
        return team


def missing_store(db: str | None) -> str | None:
    """Why the store `db` (else LEDGER_DB, else the default) does not exist yet, or None: an
    SQLite file that is not there, a PostgreSQL database without the ledger's tables. Nothing is
    created or changed (a PostgreSQL server that cannot be reached is left to `open_store`)."""
    import os

    from ledger.store import parse_url

    url = parse_url(db)
    if url.kind == "sqlite":
        if url.path == ":memory:" or os.path.exists(url.path):
            return None
        return tr("no store at {store} (no such file)", store=url.display())
    try:
        import psycopg

        with psycopg.connect(host=url.host, port=url.port, user=url.user, password=url.password,
                             dbname=url.dbname, connect_timeout=5) as connection:
            found = connection.execute("SELECT to_regclass('ledger_erased') IS NOT NULL").fetchone()[0]
    except Exception:
        return None
    return None if found else tr("no store at {store} (no ledger tables)", store=url.display())


def refuse_missing_store(db: str | None) -> None:
    """`StoreMissing` (exit 2) when the store does not exist: only `import`, `demo`, the recording
    commands and `user add` create one (docs/CLI.md, "Which commands create a store")."""
    why = missing_store(db)
    if why is not None:
        from ledger.errors import InputError

        raise InputError(why + tr("; expected an existing store (`ledger import FILE` or `ledger demo` creates one)"))


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
                                              as_recorded=recorded_by, create=False), **kwargs)

        options = [
            db_option,
            click.option("--team", metavar="TEAM", required=team_required,
                         help="Team id" + ("." if team_required else " (optional when the store holds one team).")),
            click.option("--json", "as_json", is_flag=True, help="Print JSON on standard output."),
        ]
        if at:
            options.append(click.option(
                "--at", "at_time", metavar="TIME", callback=_time_option,
                help="Answer as of this moment: 2026-11-02T09:00:00+08:00 (without an offset: the team's zone), "
                     "now, today, yesterday 18:00, 昨天, -2h, 3 days ago, 3天前 (docs/CLI.md)."))
        if as_recorded if as_recorded is not None else at:
            options.append(click.option(
                "--as-recorded", "recorded_by", metavar="TIME", callback=_time_option,
                help="Answer as the ledger stood at this recording moment: entries (voids included) "
                     "recorded after it are ignored (R-CO-4)."))
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate(func) if func is not None else decorate



def _console(soft_wrap: bool = True):
    """A rich console; when not writing to a terminal, wide enough for the board (or $COLUMNS)."""
    import os

    from rich.console import Console

    console = Console(highlight=False, soft_wrap=soft_wrap)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160
    return console



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


