"""The rotation board: `ledger board` and its rendering."""
from __future__ import annotations

from typing import Any

import click

from .app import StoreOptions, _console, _now, language, main, store_options, tr, word
from .records import _STATUS_STYLE

# English codes shortened to fit a column; the Chinese words are short already.
_SHORT_CHANNEL = {"hq_referral": "hq_ref", "internal_referral": "int_ref", "conference": "conf",
                  "marketing": "mkt", "customer_referral": "cust_ref"}
_SHORT_STATUS = {"busy_new": "busy+1", "suspended": "susp", "throttled": "thr", "held": "hold"}
_SHORT_MODE = {"ranking": "rank", "weighted": "weight"}


def _short(table: dict[str, str], code: str) -> str:
    return table.get(code, code) if language() == "en" else word(code)


def _cell(row: dict, mode: str, width: int = 1):
    from rich.text import Text

    text = Text(no_wrap=True)
    text.append("▸" if row["up"] else " ", style="bold")
    if row.get("rank"):
        text.append(f"{row['rank']:>{width}}", style="dim")
        text.append(" ")
    if row["next"]:
        text.append(tr("NEXT"), style="bold black on green")
    elif row["status"] == "eligible":
        text.append("✓", style="green")
    else:
        text.append(_short(_SHORT_STATUS, row["status"]), style=_STATUS_STYLE.get(row["status"], ""))
    if row.get("bonus"):
        text.append("×2", style="bold magenta")
    if row["turns_today"] or row["leads_today"]:
        text.append(f" {row['turns_today']}/{row['leads_today']}", style="dim")
    return text


def _render_board(data: dict) -> None:
    from rich.text import Text

    console = _console(soft_wrap=False)
    window = data["window"].replace("_", " ") if language() == "en" else word(data["window"])
    console.print(Text.assemble((f"{data['team']}", "bold"), f"  {data['preset']}  {data['at']}  " + tr("window:") + " ",
                                (window, "bold cyan")))
    channels = [c for c in data["channels"] if c["queue"] == c["channel"]]
    grid = _grid(data, channels)
    if _fits(console, grid):
        console.print(grid)
    else:  # a narrow terminal: the board stacked by channel, side by side where they fit
        from rich.columns import Columns

        for line in _roster(data, console.width):
            console.print(line)
        console.print(Columns([_channel_block(data, c) for c in channels], padding=(1, 3)))
    from .tables import lines

    for line in lines([Text(part) for part in _legend(data).split("  ") if part], console.width):
        console.print(line, style="dim")
    _print_passed(console, channels)
    console.print(_shifts_line(data["shifts"]))
    if data["deferred"]:
        _print_deferred(console, data["deferred"])
    if data["overdue"]:
        _print_overdue(console, data)


def _grid(data: dict, channels: list[dict]):
    """The board: a row per current consultant and a column per queue, then who is next and by
    which rule."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, padding=(0, 1), collapse_padding=True)
    grid.add_column(tr("seat"), justify="right", no_wrap=True, min_width=2)
    grid.add_column(tr("consultant"), no_wrap=True, min_width=8)
    grid.add_column(tr("presence"), no_wrap=True, min_width=7)
    for c in channels:
        grid.add_column(f"{_short(_SHORT_CHANNEL, c['channel'])}\n{_short(_SHORT_MODE, c['mode'])}", no_wrap=True)
    cells: dict[str, dict[str, Any]] = {}
    for c in channels:
        for row in c["order"]:
            cells.setdefault(row["consultant"], {})[c["channel"]] = _cell(row, c["mode"], len(str(len(c["order"]))))
    for person in data["consultants"]:
        if person["left"]:
            continue
        presence_style = "green" if person["presence"] == "on_post" else _STATUS_STYLE.get(person["presence"], "")
        grid.add_row(str(person["seat"]), f"{person['consultant']} {person['name']}",
                     Text(word(person["presence"]), style=presence_style),
                     *[cells.get(person["consultant"], {}).get(c["channel"], Text("")) for c in channels])
    nexts, rules = [], []
    for c in channels:
        who = c["next"] or (tr("deferred") if c["rule"] == "R-SH-5" else tr("nobody"))
        nexts.append(Text(who, style="bold green" if c["next"] else "bold yellow"))
        rules.append(Text(c["rule"], style="cyan"))
    grid.add_section()
    grid.add_row("", Text(tr("next"), style="bold"), "", *nexts)
    grid.add_row("", Text(tr("rule"), style="bold"), "", *rules)
    return grid


def _fits(console: Any, grid: Any) -> bool:
    """Whether the board's grid fits the terminal with every cell whole."""
    from rich.measure import Measurement

    wide = console.options.update_width(10_000)  # Measurement.get clamps to the width it is given
    return Measurement.get(console, wide, grid).maximum <= console.width


def _roster(data: dict, width: int) -> list:
    """Who is on the team and their presence, for the stacked board (a person never split)."""
    from rich.text import Text

    from .tables import lines

    people = []
    for person in data["consultants"]:
        if person["left"]:
            continue
        style = "green" if person["presence"] == "on_post" else _STATUS_STYLE.get(person["presence"], "")
        people.append(Text.assemble(f"{person['seat']} {person['consultant']} {person['name']} ",
                                    (word(person["presence"]), style)))
    return lines(people, width)


def _channel_block(data: dict, c: dict):
    """One channel of the stacked board: its name and mode, who is next by which rule, its order."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    names = {p["consultant"]: p["name"] for p in data["consultants"]}
    who = f"{c['next']} {names.get(c['next'], '')}".strip() if c["next"] else (
        tr("deferred") if c["rule"] == "R-SH-5" else tr("nobody"))
    heading = Text.assemble((word(c["channel"]), "bold"), f"  {_short(_SHORT_MODE, c['mode'])}")
    verdict = Text.assemble((tr("next"), "bold"), " ", (who, "bold green" if c["next"] else "bold yellow"), "  ",
                            (c["rule"], "cyan"))
    order = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    order.add_column(no_wrap=True)
    order.add_column(no_wrap=True)
    width = len(str(len(c["order"])))
    for row in c["order"]:
        order.add_row(f"{row['consultant']} {names.get(row['consultant'], '')}", _cell(row, c["mode"], width))
    return Group(heading, verdict, order)


def _legend(data: dict) -> str:
    shared = [c["channel"] for c in data["channels"] if c["queue"] != c["channel"]]
    legend = tr("▸ pointer  NEXT would receive  1 2 3 rank  ×2 bonus lead (R-RT-4)  t/l turns/leads today")
    if shared:
        legend += "  (" + ", ".join(tr("{channel} uses the walk_in queue", channel=word(name)) for name in shared) + ")"
    return legend


def _print_passed(console: Any, channels: list[dict]) -> None:
    """Who would be passed for each channel's next lead, grouped: one line per reason and channels."""
    from rich.text import Text

    where: dict[tuple[str, str], list[str]] = {}
    for c in channels:
        for p in c["passed"]:
            label = f"{p['consultant']} {p.get('name') or ''}".strip()
            where.setdefault((label, p["why"]), []).append(_short(_SHORT_CHANNEL, c["channel"]))
    grouped: dict[tuple[str, str], list[str]] = {}
    for (label, reason), names in where.items():  # the reason is the engine's sentence (not translated yet)
        scope = tr("every channel") if len(names) == len(channels) else ", ".join(names)
        grouped.setdefault((reason, scope), []).append(label)
    if grouped:
        console.print(Text(tr("passed for the next lead"), style="bold"))
        for (reason, scope), labels in grouped.items():
            console.print(Text.assemble("  ", (reason, "yellow"), f" [{scope}]: ", ", ".join(labels)))


def _holder(h: dict | None):
    from rich.text import Text

    if h is None:
        return Text("—", style="dim")
    return Text(f"{h['consultant']} {h['name']}", style="green" if h["on_post"] else "yellow") + (
        Text("" if h["on_post"] else f" ({word(h['presence'])})", style="yellow"))


def _shifts_line(shifts: dict):
    """Today's early, late and overtime shift holders."""
    from rich.text import Text

    line = Text.assemble((tr("shifts") + " ", "bold"), f"{shifts['date']}  {word('early')} ", _holder(shifts["early"]),
                         f"  {word('late')} ", _holder(shifts["late"]), f"  {word('overtime')} ")
    if shifts["overtime"]:
        for n, h in enumerate(shifts["overtime"]):
            line += Text(", " if n else "") + _holder(h)
    else:
        line += Text("—", style="dim")
    return line


def _print_deferred(console: Any, deferred: list[dict]) -> None:
    from . import tables
    from .tables import KEY, TIME, Column

    tables.show(console, tr("deferred leads (R-SH-5)"),
                [Column(tr("lead"), KEY), Column(tr("channel"), KEY), Column(tr("arrived"), TIME),
                 Column(tr("phone"), KEY), Column(tr("allocated at"), TIME)],
                [[d["lead"], word(d["channel"]), d["arrived"], d["phone"] or "-", d["allocate_at"]] for d in deferred])


def _print_overdue(console: Any, data: dict) -> None:
    """The most overdue follow-ups, how many more there are, and how many each consultant has."""
    from rich.text import Text

    from . import tables
    from .tables import KEY, TIME, Column

    shown, total = data["overdue"], data["overdue_total"]
    tables.show(console, tr("overdue follow-ups ({total})", total=total),
                [Column(tr("lead"), KEY), Column(tr("owner"), KEY), Column(tr("channel"), KEY),
                 Column(tr("phone"), KEY), Column(tr("due"), TIME), Column(tr("rule"), KEY)],
                [[o["lead"], f"{o['owner']} {o['name'] or ''}".strip(), word(o["channel"]), o["phone"] or "-",
                  o["due"], Text(o["rule"], style="red")] for o in shown])
    if total > len(shown):
        console.print(tr("… {more} more (ledger followups)", more=total - len(shown)), style="dim")
    counts = data["overdue_by_consultant"]
    if len(counts) > 1:
        console.print(tr("per consultant: {counts}", counts=", ".join(
            f"{c['consultant']} {c['name'] or ''} {c['count']}".replace("  ", " ") for c in counts)), style="dim")


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
    from commands import answers

    with opts.open_store() as store:
        team = opts.resolve_team(store)
        if opts.json:  # commands.answers: the same bytes as the web desk's API
            return click.echo(answers.board_json(store, team, opts.at, _now(), opts.as_recorded))
        data = answers.board_answer(store, team, opts.at, _now(), opts.as_recorded)
    _render_board(data)


