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
              help="The notifier's clock, ISO 8601 with an offset (default: the system clock); for a replay or a "
                   "test. --follow starts it there and lets it run.")
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
    answer = {"teams": [{"team": d.team, "position": d.position, "new": d.new, "outbox": d.outbox, "sent": sent.sent,
                         "held_until": sent.held.isoformat() if sent.held else None,
                         "next": sent.wake.isoformat() if sent.wake else None} for d, sent in done]}
    if as_json:
        return _emit_json(answer)
    for d, sent in done:
        new = ", ".join(f"{k} {n}" for k, n in sorted(d.new.items())) or "nothing new"
        held = f"; quiet hours, held until {sent.held.isoformat()}" if sent.held else ""
        paced = f"; the rest at {sent.wake.isoformat()} (rate)" if sent.wake and not sent.held else ""
        click.echo(f"{d.team}: {new}; sent {sum(sent.sent.values())}{held}{paced}", err=True)


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
                  max_backoff=backoff[1], report=report, clock=clock, now_fn=_clock_from(now))


def _clock_from(now):
    """The notifier's clock: the system's, or one starting at `--now` and running at its pace."""
    import datetime as dt
    import time

    if now is None:
        return lambda: dt.datetime.now(dt.timezone.utc)
    started = time.monotonic()
    return lambda: now + dt.timedelta(seconds=time.monotonic() - started)


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
    from commands.notify import rate_of
    from ledger import notify_store as S

    with _store(db) as store:
        found = S.targets(store, team)
        counted = {}
        for t in {t.team for t in found}:
            counted.update(S.counts(store, t))
        rates = {t.name: rate_of(store, t) for t in found}
    rows = [{**t.to_json_dict(), **counted.get(t.name, {"delivered": 0, "waiting": 0, "gave_up": 0}),
             "rate": f"{rates[t.name][0]}/{rates[t.name][1]:g}" if rates[t.name] else None} for t in found]
    if as_json:
        return _emit_json({"targets": rows})
    table = _table("Targets", ["name", "team", "kind", "url", "rate", "delivered", "waiting", "gave up"])
    for r in rows:
        table.add_row(r["name"], r["team"], r["kind"], r["url"], r["rate"] or "-", str(r["delivered"]),
                      str(r["waiting"]), str(r["gave_up"]))
    _console().print(table)


@notify_group.command("route")
@click.argument("consultant", required=False)
@click.option("--team", required=True, metavar="TEAM", help="The consultant's team.")
@click.option("--wecom-user", metavar="ID", help="Their WeCom userid: notices about them @-mention them (<@ID>).")
@click.option("--dingtalk-user", metavar="ID", help="Their DingTalk userId: notices about them @-mention them (at.atUserIds).")
@click.option("--target", metavar="NAME", help="Their own target (added with add-target): it gets only the notices "
                                               "about them. With --supervisors: the supervisors' target.")
@click.option("--supervisors", is_flag=True, help="Set the team's supervisors' target (disputes, leads nobody could "
                                                  "take, the 日报) instead of a consultant's route.")
@click.option("--clear", is_flag=True, help="Remove the route.")
@db_option
def route(consultant: str | None, team: str, wecom_user: str | None, dingtalk_user: str | None,
          target: str | None, supervisors: bool, clear: bool, db: str | None) -> None:
    """Tell a consultant in person: @-mention them in the team's groups, or send the notices about
    them (allocated to them, moved from or to them, their deadlines, their sanctions) to their own
    target. A route applies to the notices derived after it.

    \b
    Example:
      ledger notify route c1 --team renda --wecom-user WangFang --dingtalk-user 0123abc
      ledger notify route c2 --team renda --target lina-own
      ledger notify route --supervisors --team renda --target bosses
    """
    from commands import notify

    if supervisors == (consultant is not None):
        raise InputError("notify route: expected a CONSULTANT or --supervisors (one of them)")
    with _store(db) as store:
        done = notify.route(store, team, consultant, wecom_user=wecom_user, dingtalk_user=dingtalk_user,
                            target=target, clear=clear)
    who = consultant or "supervisors"
    if done is None:
        click.echo(f"cleared the route of {who} (team {team})", err=True)
        return
    shown = ", ".join(f"{k} {v}" for k, v in (("wecom", done.wecom_user), ("dingtalk", done.dingtalk_user),
                                                ("target", done.target)) if v)
    click.echo(f"route of {who} (team {team}): {shown}", err=True)


@notify_group.command("list-routes")
@click.option("--team", required=True, metavar="TEAM", help="The team.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on standard output.")
@db_option
def list_routes(team: str, as_json: bool, db: str | None) -> None:
    """The team's routes: each consultant's user ids and own target, and the supervisors' target."""
    from ledger import notify_store as S

    with _store(db) as store:
        rows = [{"who": r.who, "wecom_user": r.wecom_user, "dingtalk_user": r.dingtalk_user, "target": r.target}
                for r in S.routes(store, team).values()]
    if as_json:
        return _emit_json({"team": team, "routes": rows})
    table = _table("Routes", ["who", "wecom", "dingtalk", "target"])
    for r in rows:
        table.add_row(r["who"], r["wecom_user"] or "", r["dingtalk_user"] or "", r["target"] or "")
    _console().print(table)


@notify_group.command("quiet")
@click.argument("hours", metavar="HH:MM-HH:MM", required=False)
@click.option("--team", required=True, metavar="TEAM", help="The team (its local time, its zone).")
@click.option("--off", is_flag=True, help="No quiet hours.")
@db_option
def quiet(hours: str | None, team: str, off: bool, db: str | None) -> None:
    """The team's quiet hours, local: nothing is sent to its targets then; what falls due is held
    and sent when they end, never dropped (the 日报 too).

    \b
    Example:
      ledger notify quiet 22:00-08:00 --team renda
      ledger notify quiet --off --team renda
    """
    from commands import notify

    if off == (hours is not None):
        raise InputError("notify quiet: expected HH:MM-HH:MM or --off (one of them)")
    with _store(db) as store:
        window = notify.set_quiet(store, team, None if off else hours)
    shown = f"{window[0]:%H:%M}-{window[1]:%H:%M}" if window else "none"
    click.echo(f"quiet hours of team {team}: {shown}", err=True)


@notify_group.command("rate")
@click.argument("name")
@click.argument("rate", metavar="N/SECONDS|none|default")
@db_option
def rate(name: str, rate: str, db: str | None) -> None:
    """A target's pace: at most N messages in any SECONDS; the rest waits, never lost. WeCom and
    DingTalk robots default to 20/60 (their limit), a webhook to none.

    \b
    Example:
      ledger notify rate front 20/60
      ledger notify rate hook none
    """
    from commands import notify

    with _store(db) as store:
        limit = notify.set_rate(store, name, rate)
    shown = f"{limit[0]}/{limit[1]:g}" if limit else "none"
    click.echo(f"rate of target {name}: {shown}", err=True)
