"""`whatif` and `fairness` (RULEBOOK R-WI-1)."""
from __future__ import annotations

from typing import Any, Callable

import click

from .app import N_, StoreOptions, _console, _emit_json, _table, main, store_options, tr, word
from .records import RECORD_PRESETS


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
    from commands.answers import parse_date

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        return whatif.run(store, team, parse_date(date_from, "--from"), parse_date(date_to, "--to"),
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
      ledger whatif --team renda --from 2026-11-05 --to 2026-11-30 --override day_end=17:00
      ledger whatif --team renda --from 2026-11-05 --to 2026-11-30 --preset realty --lead L000061
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
    console.print(tr("What if {spec}, from {start} to {end} (commission by month: {months})", spec=spec,
                     start=answer["from"], end=answer["to"], months=", ".join(answer["months"])))
    table = _table(tr("Per consultant: actual → alternative (R-WI-1)"),
                   [tr("consultant"), tr("leads"), tr("turns"), tr("commission")])
    for row in answer["consultants"]:
        table.add_row(who(row["consultant"]), *(_change(row[k]["actual"], row[k]["alternative"])
                                                for k in ("leads", "turns", "commission")))
    console.print(table)
    if not answer["owners_changed"]:
        return console.print(tr("No customer would have another owner."))
    table = _table(tr("Owners that change at the end of {end} ({count})", end=answer["to"],
                      count=len(answer["owners_changed"])),
                   [tr("lead"), tr("actual"), tr("alternative")])
    for item in answer["owners_changed"]:
        table.add_row(item["lead"], f"{who(item['actual'])} {item['rule']['actual'] or ''}",
                      f"{who(item['alternative'])} {item['rule']['alternative'] or ''}")
    console.print(table)


SIDES = (N_("actual"), N_("alternative"))  # the two replays of R-WI-1, headings in the output language


def _render_whatif_lead(answer: dict, outcome) -> None:
    from rich.columns import Columns

    names = {**outcome.alternative.names, **outcome.actual.names}

    def who(cid):
        return f"{names[cid]} ({cid})" if cid in names else (cid or "-")

    console = _console()
    panels = []
    for side in ("actual", "alternative"):
        timeline = answer[side]
        table = _table(f"{tr(side)}: {who(timeline['owner'])} {timeline['rule'] or ''}",
                       [tr("at"), tr("event"), tr("what happened"), tr("owner"), tr("rule")])
        for item in timeline["timeline"]:
            what = item["summary"]
            for candidate in item.get("candidates") or []:
                what += f"\n  {who(candidate['consultant'])}: {candidate['outcome']} {candidate['why'] or ''}"
            table.add_row(item["at"], word(item["type"]), what, who(item["owner"]), item["rule"] or "")
        panels.append(table)
    console.print(f"[bold]{answer['lead']}[/bold] " + tr("what if, {start} .. {end}", start=answer["from"],
                                                           end=answer["to"]))
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
      ledger fairness --team renda --from 2026-11-05 --to 2026-11-30
      ledger fairness --team renda --from 2026-11-05 --to 2026-11-30 --override bonus_channels=[]
    """
    from commands import whatif
    from commands.answers import parse_date

    if preset is not None or overrides:
        outcome = _whatif_run(opts, date_from, date_to, preset, overrides)
        answer, names = whatif.fairness_answer(outcome), {**outcome.alternative.names, **outcome.actual.names}
    else:
        with opts.open_store() as store:
            period, side = whatif.observed(store, opts.resolve_team(store), parse_date(date_from, "--from"),
                                           parse_date(date_to, "--to"), opts.as_recorded)
        answer, names = whatif.fairness_answer(None, side, period), side.names
    if opts.json:
        return _emit_json(answer)
    console = _console()
    for side in ("actual", "alternative"):
        for channel in answer[side] or []:
            table = _table(tr("{side} · {channel} {start} .. {end}: equal share {equal}, spread {spread}, Gini {gini}",
                              side=tr(side), channel=word(channel["channel"]), start=answer["from"], end=answer["to"],
                              equal=f"{channel['equal_share']:.1%}", spread=f"{channel['spread']['turns']:.1%}",
                              gini=f"{channel['gini']['turns']:.2f}"),
                           [tr("consultant"), tr("turns"), tr("share"), tr("leads"), tr("share")])
            for row in channel["consultants"]:
                name = f"{names[row['consultant']]} ({row['consultant']})" if row["consultant"] in names else row["consultant"]
                table.add_row(name, str(row["turns"]), f"{row['turn_share']:.1%}", str(row["leads"]),
                              f"{row['lead_share']:.1%}")
            console.print(table)

