"""The payroll CSV of a month's commission (issue #14, item 5): the one writer behind
`ledger commission --csv` and the web desk's download, so that both give the same bytes.

Two forms, so that a spreadsheet's SUM of a money column is the month's payout, never doubled:
the lines (one row per statement line: team, month, consultant, name, rule, contract, basis,
rate, amount) and, apart, the totals (`--totals`: one row per payee: team, month, consultant,
name, lines, total). UTF-8 with a BOM and CRLF line ends (Excel on Chinese Windows); headers in
the reader's language through the shared catalog (`gettext`). Rewards that belong to no
consultant (R-CM-4) come after the consultants, their payee `customer:` and the masked number.
Text cells a spreadsheet would run as a formula are prefixed with an apostrophe; amounts stay
plain decimal strings (numbers to the spreadsheet).
"""
from __future__ import annotations

import csv
import io
from typing import Any, Callable


def N_(message: str) -> str:
    """Marks a message id for extraction (babel.cfg); translated by the caller's `gettext`."""
    return message


LINE_COLUMNS = (N_("team"), N_("month"), N_("consultant"), N_("name"), N_("rule"), N_("contract"), N_("basis"),
                N_("rate"), N_("amount"))
TOTAL_COLUMNS = (N_("team"), N_("month"), N_("consultant"), N_("name"), N_("lines"), N_("total"))


def rows(answer: dict[str, Any], team: str, month: str, names: dict[str, str], *, totals: bool = False,
         gettext: Callable[[str], str] = str) -> list[list[str]]:
    """The CSV's rows, the header first: the lines, or (`totals`) one total per payee.
    `answer`: the month's statements (`commands.answers.commission_answer`); `names`: consultant
    id -> name."""
    from projections.commission import _cell, _rate_cell  # the statement rows' cell rules

    table = [[gettext(column) for column in (TOTAL_COLUMNS if totals else LINE_COLUMNS)]]
    payees = [(s["consultant"], names.get(s["consultant"], ""), s) for s in answer.get("statements", [])]
    payees += [(f"customer:{c['customer']}", "", c) for c in answer.get("customer_rewards", [])]
    for payee, name, statement in payees:
        head = [_cell(team), month, _cell(payee), _cell(name)]
        if totals:
            table.append([*head, str(len(statement["lines"])), statement["total"]])
            continue
        for line in statement["lines"]:
            contract = line.get("contract") or (f"lead:{line['lead']}" if line.get("lead") else line.get("reason", ""))
            table.append([*head, line["rule"], _cell(contract or ""), str(line.get("basis") or ""), _rate_cell(line),
                          line["amount"]])
    return table


def csv_bytes(table: list[list[str]]) -> bytes:
    """UTF-8 with a BOM, CRLF line ends."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(table)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
