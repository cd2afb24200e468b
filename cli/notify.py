"""`ledger notify ...`: notices to WeCom, DingTalk or any webhook, each fact delivered once
(issue #16; `commands.notify`, tables in `ledger.notify_store`)."""
from __future__ import annotations

import signal

import click

from ledger.errors import InputError

from .app import CONTEXT, StoreOptions, _console, _emit_json, _instant_option, _table, db_option, language, main

KINDS = ("wecom", "dingtalk", "webhook")


def _clock_time(ctx: click.Context, param: click.Parameter, value: str):
    import datetime as dt
    import re

    found = re.fullmatch(r"([01][0-9]|2[0-3]):([0-5][0-9])", value.strip())
    if found is None:
        raise click.BadParameter(f"expected a local time HH:MM (00:00 to 23:59), got {value[:20]!r}", ctx=ctx,
                                 param=param)
    return dt.time(int(found[1]), int(found[2]))


def _store(db: str | None):
    return StoreOptions(db, None, False, None).open_store()


@main.group("notify", context_settings=CONTEXT, invoke_without_command=True)
@click.option("--once", is_flag=True, help="Derive notices up to the store's head, deliver what is due, exit.")
@click.option("--follow", is_flag=True, help="Keep deriving and delivering (every second) until SIGTERM or Ctrl-C.")
@click.option("--team", metavar="TEAM", help="Only this team (default: every team with a target).")
@click.option("--backoff", type=click.FloatRange(0.01, 300), default=2.0, show_default=True,
              help="Seconds before the first retry of a failing target (doubling, at most 5 minutes).")
@click.option("--max-backoff", type=click.FloatRange(0.01, 3600), default=300.0, show_default=True,
              help="The longest wait between two tries of a failing target, in seconds.")
@click.option("--due-hours", type=click.FloatRange(0, 168), default=2.0, show_default=True,
              help="Notice a follow-up deadline this many hours ahead (R-FU-1, R-FU-5); a missed one at it.")
@click.option("--summary-at", metavar="HH:MM", default="20:00", show_default=True, callback=_clock_time,
              help="The local time (the team's zone) of each team's daily summary (日报).")
@click.option("--now", metavar="TIME", callback=_instant_option,
              help="The notifier's clock, ISO 8601 with an offset (default: the system clock); for a replay or a test.")
@click.option("--since", metavar="TIME", callback=_instant_option,
              help="Send only notices about facts at or after TIME; earlier ones are noted and never sent "
                   "(a first run on a team with a history behind it).")
@click.option("--json", "as_json", is_flag=True, help="--once: print what was done as JSON on standard output.")
@db_option
@click.pass_context
def notify_group(ctx: click.Context, once: bool, follow: bool, team: str | None, backoff: float,
                 max_backoff: float, due_hours: float, summary_at, now, since, as_json: bool,
                 db: str | None) -> None:
    """Tell people when it concerns them: a lead allocated, a customer moved, a claim disputed, a
    sanction imposed or lifted, each delivered once per fact to the team's targets.

    \b
    Example:
      ledger notify add-target front --kind wecom --url 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY' --team renda
      ledger notify --once --team renda        # from cron
      ledger notify --follow                   # a long-running process
    """
    if ctx.invoked_subcommand is not None:
        return
    if once == follow:
        raise InputError("notify: expected exactly one of --once or --follow (or a subcommand: add-target, "
                         "list-targets)")
    from commands.notify import Clock

    clock = Clock(due_hours, summary_at, since)
    with _store(db) as store:
        if once:
            _once(store, team, (backoff, max_backoff), as_json, clock, now)
        else:
            _follow(store, team, (backoff, max_backoff), clock, now)


def _teams(store, team: str | None) -> list[str]:
    from ledger import notify_store as S

    return [team] if team else S.teams_with_targets(store)


def _once(store, team: str | None, backoff: tuple, as_json: bool, clock, now) -> None:
    from commands import notify

    done = notify.once(store, _teams(store, team), lang=language(), backoff=backoff[0], max_backoff=backoff[1],
                       clock=clock, now=now)
    answer = {"teams": [{"team": d.team, "position": d.position, "new": d.new, "outbox": d.outbox, "sent": sent}
                        for d, sent in done]}
    if as_json:
        return _emit_json(answer)
    for d, sent in done:
        new = ", ".join(f"{k} {n}" for k, n in sorted(d.new.items())) or "nothing new"
        click.echo(f"{d.team}: {new}; sent {sum(sent.values())}", err=True)


def _follow(store, team: str | None, backoff: tuple, clock, now) -> None:
    from commands import notify

    stopping = [False]

    def stop_now(signum, frame) -> None:
        stopping[0] = True

    signal.signal(signal.SIGTERM, stop_now)
    signal.signal(signal.SIGINT, stop_now)

    def report(derived, sent) -> None:
        click.echo(f"{derived.team}: +{derived.outbox} in the outbox, sent {sum(sent.values())}", err=True)

    notify.follow(store, lambda: _teams(store, team), lambda: stopping[0], lang=language(), backoff=backoff[0],
                  max_backoff=backoff[1], report=report, clock=clock, now_fn=(lambda: now) if now else None)


@notify_group.command("add-target")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="The message format.")
@click.option("--url", required=True, metavar="URL", help="The robot's or the webhook's URL.")
@click.option("--secret", metavar="S", help="DingTalk's signing secret (SEC...), or the webhook's HMAC key.")
@click.option("--team", required=True, metavar="TEAM", help="Whose notices it gets.")
@db_option
def add_target(name: str, kind: str, url: str, secret: str | None, team: str, db: str | None) -> None:
    """Add a target NAME: it gets every notice derived from now on.

    \b
    Example:
      ledger notify add-target desk --kind dingtalk --url 'https://oapi.dingtalk.com/robot/send?access_token=T' --secret SEC... --team renda
    """
    import datetime as dt

    from ledger import notify_store as S

    with _store(db) as store:
        target = S.add_target(store, name, kind, url, secret, team, dt.datetime.now(dt.timezone.utc))
    click.echo(f"added target {target.name} ({target.kind}, team {target.team})", err=True)


@notify_group.command("list-targets")
@click.option("--team", metavar="TEAM", help="Only this team's targets.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on standard output.")
@db_option
def list_targets(team: str | None, as_json: bool, db: str | None) -> None:
    """The targets, with what each was sent (secrets are not shown)."""
    from ledger import notify_store as S

    with _store(db) as store:
        found = S.targets(store, team)
        counted = {}
        for t in {t.team for t in found}:
            counted.update(S.counts(store, t))
    rows = [{**t.to_json_dict(), **counted.get(t.name, {"delivered": 0, "waiting": 0, "gave_up": 0})} for t in found]
    if as_json:
        return _emit_json({"targets": rows})
    table = _table("Targets", ["name", "team", "kind", "url", "delivered", "waiting", "gave up"])
    for r in rows:
        table.add_row(r["name"], r["team"], r["kind"], r["url"], str(r["delivered"]), str(r["waiting"]),
                      str(r["gave_up"]))
    _console().print(table)
