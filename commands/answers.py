"""The queries' `--json` answers as text (INTERCHANGE.md), one function per query, shared by the
command line (`cli.queries`) and the web desk's API (`web.api`), so that both print the same bytes.

Each reads the persisted read models when they can answer (`commands.read_models`: `owner`,
`turns`, `commission`) and folds from the nearest checkpoint otherwise (`commands.history`).
`at` None is the default moment: the later of `now` and the team's latest recorded `at`.
The text has no trailing newline; the CLI's echo adds one.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ledger.errors import InputError
from ledger.store import Store

from . import audit, history


def dumps(answer: dict) -> str:
    return json.dumps(answer, ensure_ascii=False, default=str)


def moment(store: Store, team: str, at: dt.datetime | None, now: dt.datetime,
           as_recorded: dt.datetime | None = None) -> dt.datetime:
    """`at`, or the later of now and the team's latest recorded `at` (with `as_recorded` T, the
    later of T and the latest `at` recorded by T)."""
    return at if at is not None else history.default_moment(store, team, now, as_recorded)


def parse_date(text: str, option: str) -> dt.date:
    from ledger.events import parse_date_text

    try:
        return parse_date_text(text)
    except ValueError as error:
        raise InputError(f"{option}: {error}") from None


def state(store: Store, team: str, at: dt.datetime | None, now: dt.datetime, as_recorded: dt.datetime | None = None):
    return history.state_at(store, team, moment(store, team, at, now, as_recorded), as_recorded)


def owner_json(store: Store, team: str, lead: str, at: dt.datetime | None, now: dt.datetime,
               as_recorded: dt.datetime | None = None, state: Any = None) -> str:
    """`owner --json`; `state`: the team's state at the moment when the caller holds it (the
    web desk's live state), used when the read model cannot answer."""
    from projections import queries

    when = moment(store, team, at, now, as_recorded)
    if as_recorded is None:  # the persisted model when it can answer (issue 6), else the fold
        from .read_models import owner_text

        text = owner_text(store, team, lead, when)
        if text is not None:
            return text
    return dumps(queries.owner(state if state is not None else history.state_at(store, team, when, as_recorded), lead))


def explain(store: Store, team: str, lead: str, at: dt.datetime | None, now: dt.datetime,
            as_recorded: dt.datetime | None = None, state: Any = None, say: Any = None) -> tuple[Any, dict]:
    """`say`: how a person reads the entries' summaries (`projections.sentences.say`); --json: English."""
    return audit.explain(store, team, lead, moment(store, team, at, now, as_recorded), as_recorded, state,
                         **({"say": say} if say is not None else {}))


def explain_json(store: Store, team: str, lead: str, at: dt.datetime | None, now: dt.datetime,
                 as_recorded: dt.datetime | None = None, state: Any = None) -> str:
    return dumps(explain(store, team, lead, at, now, as_recorded, state)[1])


def sanctions_json(store: Store, team: str, at: dt.datetime | None, now: dt.datetime,
                   as_recorded: dt.datetime | None = None, held: Any = None) -> str:
    """`held`: the team's state at the moment when the caller holds it (the web desk's live state)."""
    from projections import queries

    return dumps(queries.sanctions(held if held is not None else state(store, team, at, now, as_recorded)))


def disputes_json(store: Store, team: str, at: dt.datetime | None, now: dt.datetime,
                  as_recorded: dt.datetime | None = None, held: Any = None) -> str:
    from projections import queries

    return dumps(queries.disputes(held if held is not None else state(store, team, at, now, as_recorded)))


def followups(folded, owner: str | None = None, since: str | None = None) -> dict:
    """The overdue follow-ups, only `owner`'s and those due on or after the local date `since`."""
    from projections import queries

    first = parse_date(since, "--since").isoformat() if since else None
    rows = [r for r in queries.followups(folded)["overdue"]
            if (owner is None or r["owner"] == owner) and (first is None or r["due"][:10] >= first)]
    return {"overdue": rows}


def followups_json(store: Store, team: str, at: dt.datetime | None, now: dt.datetime,
                   as_recorded: dt.datetime | None = None, *, owner: str | None = None,
                   since: str | None = None, limit: int | None = None, held: Any = None) -> str:
    if since:
        parse_date(since, "--since")
    answer = followups(held if held is not None else state(store, team, at, now, as_recorded), owner, since)
    if limit:
        answer = {key: value[:limit] if isinstance(value, list) else value for key, value in answer.items()}
    return dumps(answer)


def period(date_from: str, date_to: str) -> tuple[dt.date, dt.date]:
    first, last = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    if last < first:
        raise InputError(f"--to {date_to} is before --from {date_from}")
    return first, last


def turns_state(store: Store, team: str, last: dt.date, as_recorded: dt.datetime | None = None):
    """The history up to the end of the local date `last` (§10: in the zone in force then)."""
    following = history.day_start(history.team_zones(store, team, as_recorded), last + dt.timedelta(days=1))
    return history.state_at(store, team, following - dt.timedelta(microseconds=1), as_recorded)


def turns_json(store: Store, team: str, first: dt.date, last: dt.date, as_recorded: dt.datetime | None = None) -> str:
    from projections import queries

    if as_recorded is None:  # the persisted model when current (issue 6), else the fold
        from .read_models import turns_text

        text = turns_text(store, team, first, last)
        if text is not None:
            return text
    return dumps(queries.turns(turns_state(store, team, last, as_recorded), first, last))


def check_month(month: str) -> None:
    from ledger.events import parse_month_text

    try:
        parse_month_text(month)
    except ValueError as error:
        raise InputError(f"--month: {error}") from None
    parse_date(month + "-01", "--month")


def commission_answer(store: Store, team: str, month: str, as_recorded: dt.datetime | None = None):
    """(state at the month's end, the month's statements) by the fold (R-CM-6)."""
    from projections.commission import statements

    first = parse_date(month + "-01", "--month")
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    zones = history.team_zones(store, team, as_recorded)  # §10: the month local to the zone in force then
    month_end = history.month_start(zones, following.year, following.month) - dt.timedelta(microseconds=1)
    folded = history.state_at(store, team, month_end, as_recorded)
    return folded, statements(folded.money, folded.policies, folded.tz, month)


def commission_json(store: Store, team: str, month: str, as_recorded: dt.datetime | None = None) -> str:
    check_month(month)
    if len(month) == 7 and as_recorded is None:  # the persisted model when current (issue 6), else the fold
        from .read_models import commission_text

        text = commission_text(store, team, month)
        if text is not None:
            return text
    return dumps(commission_answer(store, team, month, as_recorded)[1])


def next_answer(store: Store, team: str, channel: str, at: dt.datetime | None, now: dt.datetime,
                as_recorded: dt.datetime | None = None, held: Any = None) -> tuple[Any, dict]:
    """(state, `next CHANNEL`'s answer): who would own a new lead of CHANNEL arriving at the moment."""
    from ledger import events as E
    from projections import queries

    if channel not in E.Channel.__members__:
        raise InputError(f"channel: expected one of {', '.join(E.Channel.__members__)}, got {channel[:40]!r}")
    when = moment(store, team, at, now, as_recorded)
    folded = held if held is not None else history.state_at(store, team, when, as_recorded)
    return folded, queries.next_owner(folded, channel, when)


def next_json(store: Store, team: str, channel: str, at: dt.datetime | None, now: dt.datetime,
              as_recorded: dt.datetime | None = None, held: Any = None) -> str:
    return dumps(next_answer(store, team, channel, at, now, as_recorded, held)[1])


def find_json(store: Store, team: str, phone: str, at: dt.datetime | None, now: dt.datetime,
              as_recorded: dt.datetime | None = None, held: Any = None) -> str:
    return dumps(audit.find(store, team, phone, moment(store, team, at, now, as_recorded), as_recorded, held)[1])


def event_json(store: Store, team: str, ref: str) -> str:
    return dumps(audit.event(store, team, ref))


def board_answer(store: Store, team: str, at: dt.datetime | None, now: dt.datetime,
                 as_recorded: dt.datetime | None = None, held: Any = None) -> dict:
    from projections.board import board

    when = moment(store, team, at, now, as_recorded)
    return board(held if held is not None else history.state_at(store, team, when, as_recorded), when)


def board_json(store: Store, team: str, at: dt.datetime | None, now: dt.datetime,
               as_recorded: dt.datetime | None = None, held: Any = None) -> str:
    return dumps(board_answer(store, team, at, now, as_recorded, held))


def commission_csv(store: Store, team: str, month: str, as_recorded: dt.datetime | None = None, *,
                   totals: bool = False, gettext: Any = str) -> bytes:
    """`commission --csv` (`--totals`): the month's payroll CSV (`commands.payroll`: the lines,
    or the totals apart; UTF-8 with a BOM, CRLF; headers through `gettext`), shared by the CLI
    and the desk's download."""
    from . import payroll

    check_month(month)
    folded, answer = commission_answer(store, team, month, as_recorded)
    names = {cid: consultant.name for cid, consultant in folded.consultants.items()}
    return payroll.csv_bytes(payroll.rows(answer, team, month, names, totals=totals, gettext=gettext))
