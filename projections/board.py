"""The rotation board (issue #5): one screen of who is up, who would be passed and why.

`board(state, at)` is a function of a folded `TeamState` (advanced to `at`) returning a JSON-able
dict. The "next" answer of each channel is `queries.next_owner`, so the board and `ledger next`
always agree; the per-consultant statuses are `rules.eligibility.reach`, the check the rotation
walk makes (R-RT-2 steps 1-4, R-FU-3), without its effects. Phone numbers are masked (R-ID-2).

Shape:

    {"team", "at", "date", "window",
     "channels": [{"channel", "mode", "queue", "next", "name", "rule", "up", "bonus_for",
                   "passed": [{"consultant", "why"}],
                   "order": [{"consultant", "name", "seat", "rank", "presence", "status", "why",
                              "up", "next", "turns_today", "leads_today", "score"?}]}],
     "shifts": {"date", "early", "late", "overtime"},
     "consultants": [{"consultant", "name", "seat", "presence", "left"}],
     "sanctions": [...queries.sanctions rows...],
     "deferred": [{"lead", "channel", "arrived", "phone", "allocate_at"}],
     "overdue": [{"lead", "owner", "name", "channel", "phone", "due", "rule"}],  # the most overdue
     "overdue_total": n, "overdue_by_consultant": [{"consultant", "name", "count"}]}

The overdue section is what the front desk acts on: the `OVERDUE_SHOWN` most overdue follow-ups
and a count per consultant (most first), not the whole list (`ledger followups` has it).

Statuses: `eligible`, `busy_new` (passes, counted as a turn, R-PR-3), `away` / `leave` /
`busy_old` (R-PR-2), `suspended` (R-SA-1), `skip` (R-SA-2), `throttled` (R-SA-3, this reach
passes), `held` (R-FU-3), `left` (R-RO-3).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from ledger.phone import mask

from . import indexes, queries
from . import sentences as S
from .engine import TeamState
from .rules import eligibility, rotation

WINDOW_NAMES = {"early": "early", "day": "day", "late": "late", "off_early": "off hours (before early)",
                "off_late": "off hours (after late)"}


OVERDUE_SHOWN = 10


def _time(state: TeamState, at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(state.tz).isoformat(timespec="seconds")


def status(state: TeamState, cid: str, channel: str, at: dt.datetime) -> tuple[str, str]:
    """What the rotation of `channel` finds reaching `cid` at `at` (`eligibility.reach`, R-RT-2
    steps 1-4, R-FU-3): its status code and the board's longer why ("" when eligible)."""
    reach = eligibility.reach(state, state.consultants[cid], channel, at)
    outcome, s = reach.outcome, reach.by
    if outcome == "eligible":
        return outcome, ""
    if outcome == "busy_new":
        return outcome, S.BOARD_BUSY_NEW
    if outcome == "suspended":
        if s.until:
            return outcome, S.BOARD_SUSPENDED_UNTIL.format(until=_time(state, s.until), rule=s.rule)
        return outcome, S.SUSPENDED.format(rule=s.rule)
    if outcome == "held":
        return outcome, S.BOARD_HELD.format(lead=s, hours=state.policy.marketing_followup_hours)
    if outcome == "skip":
        return outcome, S.BOARD_SKIP.format(left=s.turns_left, rule=s.rule)
    if outcome == "throttled":
        return outcome, S.BOARD_THROTTLED.format(take=s.take, of=s.of, reach=s.reaches.get(channel, 0) + 1, rule=s.rule)
    return outcome, reach.why  # left, away, leave, busy_old


def _counts_today(state: TeamState, date: dt.date) -> dict[tuple[str, str], list[int]]:
    return {(cid, channel): row for (cid, channel, day), row in state.counts.items() if day == date}


def _channel(state: TeamState, channel: str, mode: str, at: dt.datetime, today: dict) -> dict[str, Any]:
    names = {cid: c.name for cid, c in state.consultants.items()}
    answer = queries.next_owner(state, channel, at)
    queue_name = rotation.path_channel(channel)  # R-OW-1b
    queue = state.queues.get(queue_name)
    order_mode = state.policy.orders.get(queue_name, mode)
    order = rotation.queue_order(state, order_mode)
    up = queue.up if queue is not None and queue.up in order else (order[0] if order else None)
    if order_mode == "weighted":
        up = None
    rows = []
    for position, cid in enumerate(order, start=1):
        c = state.consultants[cid]
        code, why = status(state, cid, queue_name, at)
        turns, leads = today.get((cid, channel), [0, 0])
        row = {
            "consultant": cid, "name": c.name, "seat": c.seat,
            "rank": position if order_mode == "ranking" else None,
            "presence": c.presence, "status": code, "why": why,
            "up": cid == up, "next": cid == answer["next"],
            "bonus": queue is not None and queue.bonus_for == cid,
            "turns_today": turns, "leads_today": leads,
        }
        if order_mode == "weighted":
            row["score"] = str(state.scores.get(cid, 0))
        rows.append(row)
    passed = [{"consultant": c["consultant"], "name": names.get(c["consultant"]), "why": c["why"]}
              for c in answer["candidates"] if c["outcome"] in ("passed", "lapsed")]
    return {
        "channel": channel, "mode": order_mode, "queue": queue_name,
        "next": answer["next"], "name": names.get(answer["next"]) if answer["next"] else None,
        "rule": answer["rule"], "up": up,
        "bonus_for": queue.bonus_for if queue is not None else None,
        "top_earner": state.top_earner if channel in state.policy.bonus_channels else None,
        "passed": passed, "order": rows,
    }


def _holder(state: TeamState, cid: str | None) -> dict | None:
    if cid is None:
        return None
    c = state.consultants.get(cid)
    return {"consultant": cid, "name": c.name if c else None, "presence": c.presence if c else None,
            "on_post": bool(c and c.left_at is None and c.presence == "on_post")}


def board(state: TeamState, at: dt.datetime) -> dict[str, Any]:
    """The team's rotation board at `at` (the state must be folded and advanced to `at`)."""
    cal = state.cal
    local = cal.local(at)
    date = local.date()
    policy = state.policy
    today = _counts_today(state, date)
    channels = [_channel(state, channel.value, mode, at, today)
                for channel, mode in policy.orders.items() if mode is not None]
    day = state.shifts.get(date) or {}
    shifts = {
        "date": date.isoformat(),
        "channels": [ch.value for ch in policy.shift_channels],
        "early": _holder(state, day.get("early")),
        "late": _holder(state, day.get("late")),
        "overtime": [_holder(state, cid) for cid in day.get("overtime", [])],
    }
    deferred = []
    for lead in indexes.deferred_leads(state):
        if lead.at <= at:
            deferred.append({
                "lead": lead.id, "channel": lead.channel, "arrived": _time(state, lead.at),
                "phone": mask(lead.phone) if lead.phone else None,
                "allocate_at": _time(state, cal.deferral_instant(cal.local(lead.at))), "rule": "R-SH-5",
            })
    deferred.sort(key=lambda d: (d["arrived"], d["lead"]))
    overdue, rows = [], queries.followups(state)["overdue"]
    leads = state.leads.peek_many([row["lead"] for row in rows[:OVERDUE_SHOWN]])
    for row in rows[:OVERDUE_SHOWN]:
        lead = leads[row["lead"]]
        overdue.append({**row, "name": _name_of(state, row["owner"]), "channel": lead.channel,
                        "phone": mask(lead.phone) if lead.phone else None})
    per_consultant: dict = {}
    for row in rows:
        per_consultant[row["owner"]] = per_consultant.get(row["owner"], 0) + 1
    consultants = [
        {"consultant": c.id, "name": c.name, "seat": c.seat, "presence": c.presence,
         "left": c.left_at is not None and c.left_at <= at}
        for c in sorted(state.consultants.values(), key=lambda c: (c.left_at is not None, c.seat, c.id))
    ]
    return {
        "team": state.team,
        "at": _time(state, at),
        "date": date.isoformat(),
        "window": cal.window(local),
        "preset": policy.preset,
        "channels": channels,
        "shifts": shifts,
        "consultants": consultants,
        "sanctions": queries.sanctions(state)["sanctions"],
        "deferred": deferred,
        "overdue": overdue,
        "overdue_total": len(rows),
        "overdue_by_consultant": [
            {"consultant": cid, "name": _name_of(state, cid), "count": n}
            for cid, n in sorted(per_consultant.items(), key=lambda kv: (-kv[1], kv[0] or ""))],
    }


def _name_of(state: TeamState, cid: str | None) -> str | None:
    owner = state.consultants.get(cid) if cid else None
    return owner.name if owner else None
