"""Recording commands (issue 5): one per event a person records (handlers in commands/record.py)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import click

from ledger.errors import InputError

from .app import StoreOptions, _console, _time_option, main, resolve_times, store_options, tr, word

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


def _state_for_completion(ctx: click.Context):
    """`_completion_state`, or None on any trouble: completion never fails the shell."""
    try:
        return _completion_state(ctx)
    except Exception:
        return None


def complete_consultants(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion of consultant ids (read lazily from the store)."""
    from click.shell_completion import CompletionItem

    state = _state_for_completion(ctx)
    if state is None:
        return []
    return [CompletionItem(cid, help=c.name) for cid, c in sorted(state.consultants.items(), key=lambda kv: kv[1].seat)
            if c.left_at is None and cid.startswith(incomplete)]


def complete_leads(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion of the latest lead ids."""
    from click.shell_completion import CompletionItem

    state = _state_for_completion(ctx)
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
        click.option("--at", "when", metavar="TIME", callback=_time_option,
                     help="When it happened (default now): 2026-11-02T09:00:00+08:00 (without an offset: the "
                          "team's zone), today 09:30, 昨天 18:00, -10m, 2 hours ago, 2小时前 (docs/CLI.md)."),
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
    with opts.open_store(create=True) as store:
        team = _record_team(opts, store, new_team)
        options = {"at": "--at", "start": "--from", "until": "--until"}  # the typed times, read in the team's zone
        times = resolve_times(store, team, now, {"--at": when, **{options[k]: kwargs[k] for k in options if k in kwargs}})
        when = times["--at"]
        kwargs.update({k: times[options[k]] for k in options if k in kwargs})
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
        line = outcome.say(tr, word) if outcome.say is not None else outcome.answer.get("summary", "")
        click.echo(f"{line}  [{outcome.team} {stored} at {outcome.to_json_dict()['at']}]")


def _render_lead(outcome: Any) -> None:
    """An arrival as the front desk reads it: the lead, who owns it by which rule, whom it was
    taken from, the winner's score (R-RT-8), who was passed why (each consultant once)."""
    from rich.text import Text

    a = outcome.answer
    console = _console()
    line = Text()
    line.append(f"{a['lead']}", style="bold")
    line.append(f"  {word(a['channel'])}  {a['at']}")
    if a.get("phone"):
        line.append(f"  {a['phone']}")
    line.append("  →  ")
    line.append(_owner_label(a), style="bold green" if a["owner"] else "bold yellow")
    line.append(f"  {a['rule']}", style="cyan")
    if a.get("disputed"):
        line.append("  " + tr("disputed"), style="bold red")
    console.print(line)
    for note in _lead_notes(outcome):
        console.print(note)
    _print_candidates(console, a)


def _owner_label(a: dict) -> str:
    if a["owner"]:
        return f"{a['owner']} {a['name'] or ''}".strip()
    if a.get("deferred_until"):
        return tr("nobody yet")
    return tr("nobody eligible") if a["rule"] == "R-RT-9" else tr("nobody yet")


def _lead_notes(outcome: Any) -> list:
    """The lines under an arrival: deferred, taken from, the winner's score, the turn holder."""
    from rich.text import Text

    a, notes = outcome.answer, []
    names = {c["consultant"]: c["name"] for c in a["candidates"]}
    if a.get("deferred_until"):
        notes.append(Text("  " + tr("deferred: allocated by rotation at {at} (R-SH-5)", at=a["deferred_until"]),
                          style="yellow"))
    taken = outcome.human.get("taken_from")
    if taken:
        notes.append(Text("  " + tr("taken from {who} ({rule})", who=_label(taken, names, outcome), rule=a["rule"]),
                          style="bold yellow"))
    winner = next((c for c in a["candidates"] if c["consultant"] == a["owner"] and "R-RT-8" in (c["why"] or "")), None)
    if winner is not None:
        notes.append(Text("  " + tr("receives: {why}", why=_why(winner["why"])), style="green"))
    rows = {c["consultant"] for c in a["candidates"] if c["outcome"] != "holder"}
    if a.get("turn_holder") and a["turn_holder"] not in rows:  # else its own line below says it
        notes.append(Text("  " + tr("turn holder {who} passes normally (R-RT-6)",
                                    who=_label(a["turn_holder"], names, outcome))))
    return notes


def _label(cid: str, names: dict, outcome: Any) -> str:
    name = names.get(cid) or outcome.human.get("names", {}).get(cid)
    return f"{cid} {name}" if name else cid


def _print_candidates(console: Any, a: dict) -> None:
    from rich.table import Table
    from rich.text import Text

    rows = [c for c in a["candidates"] if c["outcome"] != "holder"]
    if rows:
        table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
        for c in rows:
            style = "cyan" if "R-PR-3" in c["why"] else "yellow"
            table.add_row("  " + word(c["outcome"]), c["consultant"], c["name"] or "", Text(_why(c["why"]), style=style))
        console.print(table)


def _why(text: str | None) -> str:
    """The engine's reason for a candidate (English, as in --json) in the output language
    (`projections.sentences`: the rules write each reason from one of its templates)."""
    from projections import sentences

    from .app import language

    if not text or language() == "en":
        return text or ""
    return sentences.say(sentences.reason(text), tr, word)


def _render_followup(outcome: Any) -> None:
    """A follow-up read back, and when it gives a taken customer back (R-OW-3b), to whom from whom."""
    stored = ", ".join(f"#{r.seq}" for r in outcome.records)
    line = outcome.say(tr, word) if outcome.say is not None else outcome.answer.get("summary", "")
    click.echo(f"{line}  [{outcome.team} {stored} at {outcome.to_json_dict()['at']}]")
    back = outcome.human.get("given_back")
    if back:
        names = outcome.human.get("names", {})
        click.echo("  " + tr("the customer of {lead} is back with {to}, taken back from {previous} ({rule})",
                             lead=outcome.answer["lead"], to=_label(back["to"], names, outcome),
                             previous=_label(back["from"], names, outcome), rule=back["rule"]))


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
      ledger followup L000499 --by c6 --note "约周六试听"
      ledger followup L000499 --by c6 --inbound
    """
    from commands import record as R

    _record(opts, R.followup, lead, by, when=when, render=_render_followup, inbound=inbound, note=note)


@main.command("claim")
@click.argument("lead", shell_complete=complete_leads)
@click.option("--by", metavar="C", required=True, shell_complete=complete_consultants, help="The claiming consultant.")
@click.option("--reason", metavar="TEXT", required=True, help="Why the customer is theirs.")
@record_options
def claim_command(opts: StoreOptions, lead: str, by: str, reason: str, when: dt.datetime | None) -> None:
    """Record a consultant's claim on LEAD's customer (R-OW-7: shown, never an override).

    \b
    Example:
      ledger claim L000499 --by c2 --reason "家长上周就是我联系的"
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
      ledger rule L000499 --owner c2 --reason "主任裁定:以第一跟踪咨询师为准" --by 主任
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
@click.option("--from", "start", metavar="TIME", callback=_time_option, help="Start (default: the event's time).")
@click.option("--until", metavar="TIME", callback=_time_option, help="End (exclusive); none: until lifted.")
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
      ledger penalize c3 --skip 2 --channels hotline --rule R-SA-2 --reason "迟到两次" --penalty P0002
      ledger lift P0002 --by 主任
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
      ledger void '#2197' --reason "跟进记错了客户" --by 主任
      ledger pay K000044 6800.00 --amend '#2195' --amend-reason "金额录错了"
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
      ledger link L000498 L000499
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
      ledger unlink L000008 L000087
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
      ledger grade L000499 A --by c6
      ledger grade L000499 A --confirm
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
      ledger sign K000086 --lead L000499 --amount 19800.00 --kind new
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
      ledger pay K000032 9900.00
    """)
_money_command("disburse", "LoanDisbursed", """Record a loan disbursement of AMOUNT on CONTRACT (放款, R-MO-2, R-CM-1).

    \b
    Example:
      ledger disburse K000048 16400.00
    """)
_money_command("refund", "ContractRefunded", """Record a refund of AMOUNT on CONTRACT (退费, R-MO-2, R-CM-2).

    \b
    Example:
      ledger refund K000054 2000.00
    """)
_money_command("cancel", "ContractCancelled", """Record CONTRACT cancelled as a whole (退房 / 退定, R-MO-2, R-CM-2).

    \b
    Example:
      ledger cancel K000083
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
      ledger invite L000499 --by c6
    """)
_activity_command("visit", "VisitRecorded", """Record a visit of LEAD's customer received by a consultant (R-SA-8).

    \b
    Example:
      ledger visit L000499 --by c6
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



@main.command("erase-phone")
@click.argument("phone")
@record_options
def erase_phone_command(opts: StoreOptions, phone: str, when: dt.datetime | None) -> None:
    """Erase a customer's phone number from the store on request (R-ID-2); answers stay the same.

    \b
    Example:
      ledger erase-phone 13700299833
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


