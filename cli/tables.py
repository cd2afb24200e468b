"""Tables a supervisor reads whole (issue #14 item 2): nothing they must read is cut.

Every column says what it holds: `KEY` (ids, rules, names, event types: never broken, never
cut), `NUMBER` (the same, right-aligned), `TIME` (an ISO time of the answer shown as the team's
local `MM-DD HH:MM`, its UTC offset once in the heading) or `TEXT` (wrapped at spaces, a long
word or a run of Chinese folded onto the next line, never an ellipsis). When even the narrowest
table would not fit the terminal, each row is printed as a small block instead (`_stack`).
Widths are measured in terminal cells (rich), so Chinese names line up.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

KEY, NUMBER, TIME, TEXT = "key", "number", "time", "text"

# The narrowest a TEXT column is squeezed to before the rows are stacked instead.
TEXT_MIN = 10
# What one column costs beside its cells: the padding each side and a separator.
COLUMN_EXTRA = 3


@dataclass(frozen=True)
class Column:
    heading: str
    kind: str = TEXT


def short_time(value: str | None, year: bool = False) -> str:
    """`2026-11-16T18:40:00+08:00` -> `11-16 18:40` (with `year`: `2026-11-16 18:40`); a value
    that is not an ISO time (`-`, a date) as it is."""
    moment = _parse(value)
    if moment is None:
        return value or "-"
    return moment.strftime("%Y-%m-%d %H:%M" if year else "%m-%d %H:%M")


def _parse(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def offset_of(moment: dt.datetime) -> str:
    """`+08:00`: the UTC offset of an aware time."""
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def time_cells(values: list[Any]) -> tuple[str, list[str]]:
    """The heading suffix (` (+08:00)`) and the shortened cells of one TIME column: the year only
    when the times span more than one, the offset in each cell only when they differ."""
    moments = [_parse(value) for value in values]
    found = [m for m in moments if m is not None]
    offsets = {offset_of(m) for m in found}
    year = len({m.year for m in found}) > 1
    cells = []
    for value, moment in zip(values, moments):
        cell = short_time(value, year) if moment is not None else (value or "-")
        if moment is not None and len(offsets) > 1:
            cell += offset_of(moment)
        cells.append(cell)
    suffix = f" ({offsets.pop()})" if len(offsets) == 1 else ""
    return suffix, cells


def show(console: Any, title: str | None, columns: list[Column], rows: list[list[Any]]) -> None:
    """Print `rows` under `columns` on `console`: a table when it fits, else a block per row.
    The UTC offset of the times goes once into the heading of the time column (into the title
    when there are several time columns)."""
    headings = [column.heading for column in columns]
    rows = [list(row) for row in rows]
    suffixes = []
    for index, column in enumerate(columns):
        if column.kind == TIME:
            suffix, cells = time_cells([row[index] for row in rows])
            suffixes.append((index, suffix))
            for row, cell in zip(rows, cells):
                row[index] = cell
    if len(suffixes) == 1:
        headings[suffixes[0][0]] += suffixes[0][1]
    elif suffixes and title:
        title += next((suffix for _, suffix in suffixes if suffix), "")
    with paged(console, len(rows)):
        if _narrowest(console, columns, headings, rows) > console.width:
            return _stack(console, title, columns, [column.heading for column in columns], rows, suffixes)
        console.print(_table(title, columns, headings, rows))


def paged(console: Any, rows: int):
    """A pager (`$PAGER`, else `less -R`) around a list longer than the terminal, only when
    standard output is a terminal; a no-op otherwise (pipes, files, tests, --json never)."""
    import contextlib
    import os

    if not console.is_terminal or rows + 4 <= console.height:
        return contextlib.nullcontext()
    os.environ.setdefault("PAGER", "less -R")  # colours through the pager, as rich's styles=True writes them
    if os.environ.get("LESS") is None:
        os.environ["LESS"] = "FRX"  # quit when it fits, keep colours, leave the text on screen
    return console.pager(styles=True)


def _table(title: str | None, columns: list[Column], headings: list[str], rows: list[list[Any]]):
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for column, heading in zip(columns, headings):
        whole = column.kind != TEXT
        table.add_column(heading, no_wrap=whole, overflow="fold",
                         justify="right" if column.kind == NUMBER else "left")
    for row in rows:
        table.add_row(*row)
    return table


def _width(console: Any, cell: Any) -> int:
    """The widest line of a cell, in terminal cells (markup rendered)."""
    from rich.text import Text

    text = cell if isinstance(cell, Text) else console.render_str(str(cell))
    return max((line.cell_len for line in text.split("\n")), default=0)


def _narrowest(console: Any, columns: list[Column], headings: list[str], rows: list[list[Any]]) -> int:
    """The narrowest the table can be with every KEY/NUMBER/TIME cell whole."""
    total = 1  # the left border
    for index, (column, heading) in enumerate(zip(columns, headings)):
        widest = max([_width(console, heading)] + [_width(console, row[index]) for row in rows])
        total += COLUMN_EXTRA + (widest if column.kind != TEXT else min(widest, TEXT_MIN))
    return total


def _stack(console: Any, title: str | None, columns: list[Column], headings: list[str],
           rows: list[list[Any]], suffixes: list) -> None:
    """A block per row: its ids, names and numbers, then its times under their headings, on
    the first lines (broken between values only), then each text under its heading, wrapped."""
    from rich.text import Text

    if title:
        if len(suffixes) == 1:
            title += suffixes[0][1]
        console.print(Text(title, style="italic"), soft_wrap=False)
    for row in rows:
        values = []
        for column, heading, cell in zip(columns, headings, row):
            if column.kind == TEXT or cell in ("", None):
                continue
            value = _as_text(console, cell)
            values.append(Text.assemble((f"{heading} ", "dim"), value) if column.kind == TIME else value)
        for line in lines(values, console.width):
            console.print(line, soft_wrap=True)
        for column, heading, cell in zip(columns, headings, row):
            if column.kind == TEXT and cell not in ("", None):
                console.print(Text("  ") + Text(f"{heading}: ", style="dim") + _as_text(console, cell),
                              soft_wrap=False)


def lines(values: list, width: int) -> list:
    """`values` joined by two spaces, a new line (indented) rather than a value broken."""
    from rich.text import Text

    lines, line = [], Text()
    for value in values:
        if line.cell_len and line.cell_len + 2 + value.cell_len > width:
            lines.append(line)
            line = Text("  ")
        elif line.cell_len:
            line.append("  ")
        line.append_text(value)
    return lines + [line]


def _as_text(console: Any, cell: Any):
    from rich.text import Text

    return cell if isinstance(cell, Text) else console.render_str(str(cell))


def escape(text: str) -> str:
    """A text typed by a person (a reason, a note) shown as typed: `[` is not rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)
