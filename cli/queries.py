"""The queries of INTERCHANGE.md (owner, next, turns, sanctions, explain, find, event,
disputes, followups, rules, commission), rendered for people or as --json."""
from __future__ import annotations

import sys

import click

from ledger.errors import LedgerError

from . import tables
from .app import (
    StoreOptions,
    _ask,
    _console,
    _emit_json,
    _moment,
    _name,
    _now,
    _table,
    language,
    main,
    store_options,
    tr,
    word,
)
from .records import complete_leads
from .tables import KEY, NUMBER, TIME, Column, escape

FOLLOWUPS_SHOWN = 50  # rows a person reads on a terminal; the rest is counted
DISPUTES_SHOWN = 50  # disputed leads likewise


def close_leads(typed: str, known: list[str]) -> list[str]:
    """The lead ids a mistyped `typed` most likely meant: the same id in another case, else the
    closest by difflib (at most 3)."""
    import difflib

    same = [lid for lid in known if lid.lower() == typed.lower()]
    if same:
        return same[:3]
    folded = {lid.lower(): lid for lid in known}
    return [folded[lid] for lid in difflib.get_close_matches(typed.lower(), list(folded), n=3, cutoff=0.75)]


def _suggest_leads(command):
    """`command` (owner, explain) with "did you mean" added to an unknown lead's error: the
    leads arrived by the same moment that are closest to the one typed (exit status unchanged)."""
    import functools

    @functools.wraps(command)
    def wrapper(lead: str, opts: StoreOptions, **kwargs):
        from ledger.errors import UnknownLead

        try:
            return command(lead, opts, **kwargs)
        except UnknownLead as error:
            from commands.history import state_at

            with opts.open_store() as store:
                team = opts.resolve_team(store)
                state = state_at(store, team, _moment(opts, store, team), opts.as_recorded)
            close = close_leads(lead, list(state.leads))
            if not close or "did you mean" in str(error):
                raise
            raise UnknownLead(f"{error}; did you mean {' or '.join(close)}?") from None

    return wrapper


def _json_answer(opts: StoreOptions, name: str, **kwargs) -> None:
    """A query's --json answer from `commands.answers` (the bytes the web desk's API answers)."""
    from commands import answers

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        click.echo(getattr(answers, name)(store, team, opts.at, _now(), opts.as_recorded, **kwargs))


@main.command("owner")
@click.argument("lead", shell_complete=complete_leads)
@store_options
@_suggest_leads
def owner_command(lead: str, opts: StoreOptions) -> None:
    """Who owns LEAD's customer at --at, by which rule, and whether it is disputed.

    \b
    Example:
      ledger owner L1116-X2 --team renda --at 2026-11-16T20:30:00+08:00
    """
    from projections import queries

    if opts.json:  # commands.answers: the same bytes as the web desk's API
        from commands import answers

        with opts.open_store() as store:
            team = opts.resolve_team(store)
            return click.echo(answers.owner_json(store, team, lead, opts.at, _now(), opts.as_recorded))
    state, answer = _ask(opts, queries.owner, lead)
    if state is None:
        return
    flag = "  [red]" + tr("disputed") + " (R-OW-7)[/red]" if answer["disputed"] else ""
    owner = _name(state, answer["owner"]) if answer["owner"] else tr("nobody yet")
    _console().print(tr("{lead}: {owner} by {rule}", lead=lead, owner=owner, rule=answer["rule"]) + flag)
    for claim in answer.get("claims", []):
        _console().print("  " + tr("claim by {consultant} at {at}: {reason}", consultant=_name(state, claim["consultant"]),
                                   at=claim["at"], reason=claim["reason"]))


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
    from commands import answers

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        if opts.json:  # commands.answers: the same bytes as the web desk's API
            return click.echo(answers.next_json(store, team, channel, opts.at, _now(), opts.as_recorded))
        state, answer = answers.next_answer(store, team, channel, opts.at, _now(), opts.as_recorded)
    who = _name(state, answer["next"]) if answer["next"] else _nobody(answer["rule"])
    console = _console()
    console.print(tr("{channel} at {at}: {who} ({rule})", channel=word(channel), at=answer["at"], who=who,
                     rule=answer["rule"]))
    for candidate in answer.get("candidates", []):
        console.print(_candidate(state, candidate))


def _nobody(rule: str) -> str:
    """Why nobody would own the lead: deferred to the morning (R-SH-5) or nobody eligible (R-RT-9)."""
    if rule == "R-SH-5":
        return tr("nobody: the lead would be deferred")
    return tr("nobody eligible")


def _candidate(state, candidate: dict) -> str:
    """A candidate a decision considered: `  王芳 (c1): passed <why>` (the why is the engine's,
    its common forms said in the output language)."""
    from .records import _why

    return f"  {_name(state, candidate['consultant'])}: {word(candidate['outcome'])} {escape(_why(candidate['why']))}"


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
    from commands import answers
    from projections import queries

    first, last = answers.period(date_from, date_to)
    with opts.open_store() as store:
        team = opts.resolve_team(store)
        if opts.json:  # commands.answers: the same bytes as the web desk's API
            return click.echo(answers.turns_json(store, team, first, last, opts.as_recorded))
        state = answers.turns_state(store, team, last, opts.as_recorded)
    answer = queries.turns(state, first, last)
    tables.show(_console(), tr("Turns and leads, {first} .. {last} (R-RT-7)", first=first, last=last),
                [Column(tr("consultant"), KEY), Column(tr("channel"), KEY), Column(tr("turns"), NUMBER),
                 Column(tr("leads"), NUMBER)],
                [[_name(state, row["consultant"]), word(row["channel"]), str(row["turns"]), str(row["leads"])]
                 for row in answer["rows"]])


@main.command("sanctions")
@store_options
def sanctions_command(opts: StoreOptions) -> None:
    """Sanctions in force at --at, imposed or derived, with their rule (R-SA-*).

    \b
    Example:
      ledger sanctions --team renda --at 2026-11-09T12:00:00+08:00
    """
    from projections import queries

    if opts.json:  # commands.answers: the same bytes as the web desk's API
        return _json_answer(opts, "sanctions_json")
    state, answer = _ask(opts, queries.sanctions)
    if state is None:
        return
    columns = [Column(tr("id"), KEY), Column(tr("consultant"), KEY), Column(tr("kind"), KEY), Column(tr("channels")),
               Column(tr("rule"), KEY), Column(tr("from"), TIME), Column(tr("until"), TIME), Column(tr("reason"))]
    rows = []
    for row in answer["sanctions"]:
        kind = word(row["kind"])
        if row["kind"] == "throttle":
            kind = tr("throttle {take} of {of}", take=row.get("take"), of=row.get("of"))
        elif row["kind"] == "skip":
            kind = tr("skip ({left} left)", left=row.get("turns_left"))
        rows.append([row["penalty"], _name(state, row["consultant"]), kind, ", ".join(map(word, row["channels"])),
                     row["rule"], row["from"] or "-", row["until"] or "-", escape(row.get("reason") or "")])
    tables.show(_console(), tr("Sanctions in force"), columns, rows)


@main.command("explain")
@click.argument("lead", shell_complete=complete_leads)
@store_options
@_suggest_leads
def explain_command(lead: str, opts: StoreOptions) -> None:
    """The customer's timeline behind LEAD: every ownership decision, its rule, the candidates
    considered and the events it rested on (R-OW-6). What a supervisor reads to settle a dispute.

    \b
    Example:
      ledger explain L1116-X2 --team renda --at 2026-11-16T20:30:00+08:00
    """
    from commands import answers
    from projections import sentences

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        if opts.json:  # commands.answers: the same bytes as the web desk's API
            return click.echo(answers.explain_json(store, team, lead, opts.at, _now(), opts.as_recorded))
        state, answer = answers.explain(store, team, lead, opts.at, _now(), opts.as_recorded,
                                        say=lambda summary: sentences.say(summary, tr, word))
    console = _console()
    owner = _name(state, answer["owner"]) if answer["owner"] else tr("nobody yet")
    flag = "  [red]" + tr("disputed") + "[/red]" if answer.get("disputed") else ""
    bold = f"[bold]{lead}[/bold]"
    console.print(tr("{lead}: owned by {owner} by {rule}", lead=bold, owner=owner, rule=answer["rule"]) + flag)
    rows = []
    for item in answer["timeline"]:
        what = escape(item["summary"])  # the engine's sentence in the output language (projections.sentences)
        for candidate in item.get("candidates") or []:
            what += "\n" + _candidate(state, candidate)
        if item.get("recorded_late"):
            what += "\n  [yellow]" + tr("recorded late (R-T-5)") + "[/yellow]"
        for change in item.get("changed_by") or []:
            what += "\n  [yellow]" + tr("changed by #{seq} (at {at}, recorded {recorded}; R-CO-4)", **change) + "[/yellow]"
        if item.get("voided"):
            what += "\n  [red]" + _voided(item["voided"]) + "[/red]"
        rests = ", ".join(f"#{seq}" for seq in item.get("rests_on") or [])
        rows.append([item["at"], word(item["type"]), what, _name(state, item["owner"]), item["rule"] or "", rests])
    tables.show(console, tr("Timeline"), [Column(tr("at"), TIME), Column(tr("event"), KEY), Column(tr("what happened")),
                                          Column(tr("owner"), KEY), Column(tr("rule"), KEY), Column(tr("rests on"))],
                rows)
    _print_rules(console, [item["rule"] for item in answer["timeline"]] + [answer["rule"]])


def _voided(void: dict) -> str:
    return tr("voided by #{seq} ({by}, recorded {recorded}): {reason}", seq=void["seq"], by=void["by"] or "-",
              recorded=void["recorded"], reason=void["reason"])


def _print_rules(console, cited: list) -> None:
    """The titles of the rules an answer cites (`ledger rules ID` prints the whole rule): in
    Chinese, or in both languages in English (as the rules reference is bilingual)."""
    from ledger import rules

    shown = []
    english = language() == "en"
    for rule_id in dict.fromkeys(r for r in cited if r):
        try:
            found = rules.rule(rule_id)
        except LedgerError:
            continue
        shown.append(f"{found.id} {found.title['zh']}" + (f" {found.title['en']}" if english else ""))
    if shown:
        console.print(("规则 rules (ledger rules ID): " if english else tr("rules (ledger rules ID): "))
                      + "; ".join(shown))


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
    from commands import answers, audit

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        if opts.json:  # commands.answers: the same bytes as the web desk's API
            return click.echo(answers.find_json(store, team, phone, opts.at, _now(), opts.as_recorded))
        state, answer = audit.find(store, team, phone, _moment(opts, store, team), opts.as_recorded)
    if not answer["leads"]:
        return _console().print(tr("{phone}: no customer with this number", phone=answer["phone"]))
    flag = "  [red]" + tr("disputed") + "[/red]" if answer["disputed"] else ""
    owner = _name(state, answer["owner"]) if answer["owner"] else tr("nobody yet")
    _console().print(tr("{phone}: leads {leads}; owner {owner} by {rule}", phone=answer["phone"],
                        leads=", ".join(answer["leads"]), owner=owner, rule=answer["rule"]) + flag)


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
    from commands import answers, audit

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        if opts.json:  # commands.answers: the same bytes as the web desk's API
            return click.echo(answers.event_json(store, team, ref))
        answer = audit.event(store, team, ref)
    console = _console()
    data = answer["event"]
    seq = f"[bold]#{answer['seq']}[/bold]"
    console.print(tr("{seq} {type} at {at}, recorded {recorded}", seq=seq, type=word(data["type"]), at=data["at"],
                     recorded=answer["recorded"])
                  + (tr(", id {id}", id=answer["id"]) if answer["id"] else ""))
    for key, value in data.items():  # the event file's keys and values, as stored
        if key not in ("type", "team", "at", "id"):
            console.print(f"  {key}: {value}")
    if answer["voided"]:
        console.print("  [red]" + _voided(answer["voided"]) + "[/red]")


@main.command("disputes")
@click.option("--limit", type=click.IntRange(min=0), metavar="N",
              help=f"Show the N leads waiting longest (default {DISPUTES_SHOWN}; 0: all). --json: all.")
@store_options
def disputes_command(limit: int | None, opts: StoreOptions) -> None:
    """Leads of disputed customers at --at: claims and taken leads not yet ruled on (R-OW-7, R-OW-8),
    the longest waiting first.

    \b
    Example:
      ledger disputes --team renda --at 2026-11-03T17:30:00+08:00
    """
    from projections import queries

    if opts.json:  # commands.answers: the same bytes as the web desk's API
        return _json_answer(opts, "disputes_json")
    state, answer = _ask(opts, queries.disputes)
    if state is None:
        return
    disputed = answer["disputes"]
    shown = disputed if limit == 0 else disputed[: limit or DISPUTES_SHOWN]
    rows = [[item["lead"], _name(state, item["owner"]), _name(state, claim["consultant"]), claim["at"],
             escape(claim["reason"])] for item in shown for claim in item["claims"]]
    console = _console()
    tables.show(console, tr("Disputes"), [Column(tr("lead"), KEY), Column(tr("derived owner"), KEY),
                                          Column(tr("claimed by"), KEY), Column(tr("at"), TIME),
                                          Column(tr("reason"))], rows)
    if len(shown) < len(disputed):
        console.print(tr("{shown} of {total} disputed leads shown, the longest waiting first: --limit 0 shows all, "
                         "--json the whole answer.", shown=len(shown), total=len(disputed)))


@main.command("followups")
@click.option("--owner", "owner", metavar="CONSULTANT", help="Only this consultant's customers.")
@click.option("--since", metavar="DATE", help="Only follow-ups due on or after this local date (YYYY-MM-DD).")
@click.option("-n", "--limit", type=click.IntRange(min=0), metavar="N",
              help=f"Show the N most overdue (default {FOLLOWUPS_SHOWN}; 0: all). With --json: all unless given.")
@store_options
def followups_command(owner: str | None, since: str | None, limit: int | None, opts: StoreOptions) -> None:
    """Customers whose follow-up is overdue at --at (R-FU-1, R-FU-5 grade cadence), the most
    overdue first, with how many each consultant has.

    \b
    Example:
      ledger followups --team renda --at 2026-11-04T09:00:00+08:00
      ledger followups --team renda --owner c2 --since 2026-11-01 --limit 0
    """
    from commands import answers

    if opts.json:  # commands.answers: the same bytes as the web desk's API
        return _json_answer(opts, "followups_json", owner=owner, since=since, limit=limit)
    if since:
        answers.parse_date(since, "--since")
    state, answer = _ask(opts, lambda folded: answers.followups(folded, owner, since))
    rows = answer["overdue"]
    shown = rows if limit == 0 else rows[: limit or FOLLOWUPS_SHOWN]
    console = _console()
    tables.show(console, tr("Overdue follow-ups"),
                [Column(tr("lead"), KEY), Column(tr("owner"), KEY), Column(tr("due"), TIME), Column(tr("rule"), KEY)],
                [[item["lead"], _name(state, item["owner"]), item["due"], item.get("rule") or ""] for item in shown])
    if len(shown) < len(rows):
        console.print(tr("{shown} of {total} shown, the most overdue first: --limit 0 shows all, "
                         "--owner one consultant's, --json the whole answer.", shown=len(shown), total=len(rows)))
    counts: dict = {}
    for item in rows:
        counts[item["owner"]] = counts.get(item["owner"], 0) + 1
    if len(counts) > 1:
        console.print(tr("Overdue per consultant: {counts}", counts=", ".join(
            f"{_name(state, cid)} {n}" for cid, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or "")))))


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
    table = _table(tr("Rules reference ({count} rules; `ledger rules ID` for one)", count=len(rules.all_rules())),
                   [tr("id"), *({"zh": "标题", "en": "title"}[c] for c in langs), tr("presets")])
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
@click.option("--csv", "as_csv", is_flag=True,
              help="CSV for payroll spreadsheets: one row per line (team, month, consultant, name, rule, contract, "
                   "basis, rate, amount), no totals; UTF-8 with BOM, CRLF; headers in the output language.")
@click.option("--totals", is_flag=True, help="With --csv (or alone): the CSV of each payee's total instead, one row each.")
@store_options(at=False, as_recorded=True)
def commission_command(month: str, as_csv: bool, totals: bool, opts: StoreOptions) -> None:
    """Commission statements of a month, one per consultant, each line citing its rule,
    contract and events (R-CM-*). The month's events decide it (R-CM-6), not --at.

    \b
    Example:
      ledger commission --team renda --month 2026-11
      ledger commission --team renda --month 2026-11 --csv > 2026-11.csv
      ledger commission --team renda --month 2026-11 --csv --totals > 2026-11-totals.csv
    """
    from commands import answers

    answers.check_month(month)
    with opts.open_store() as store:
        team = opts.resolve_team(store)
        if opts.json:  # commands.answers: the same bytes as the web desk's API
            return click.echo(answers.commission_json(store, team, month, opts.as_recorded))
        if as_csv or totals:  # commands.answers: the same bytes as the web desk's download
            sys.stdout.buffer.write(answers.commission_csv(store, team, month, opts.as_recorded, totals=totals,
                                                           gettext=tr))
            sys.stdout.buffer.flush()
            return
        state, answer = answers.commission_answer(store, team, month, opts.as_recorded)
    console = _console()
    for statement in answer["statements"]:
        tables.show(console, f"{_name(state, statement['consultant'])} — {month}: {statement['total']}",
                    [Column(tr("rule"), KEY), Column(tr("contract")), Column(tr("basis"), NUMBER),
                     Column(tr("rate"), NUMBER), Column(tr("amount"), NUMBER)],
                    [[line["rule"], escape(line.get("contract") or line.get("lead") or line.get("reason") or ""),
                      str(line.get("basis") or ""), str(line.get("rate") or ""), line["amount"]]
                     for line in statement["lines"]])
        tier = statement.get("tier")
        if tier:
            console.print("  " + tr("tier: {tier}", tier=tier))
    for reward in answer.get("customer_rewards", []):
        console.print(tr("customer reward: {reward}", reward=reward))


