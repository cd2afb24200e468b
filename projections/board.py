"""The rotation board (issue #5): one screen of who is up, who would be passed and why.

`board(state, at)` is a function of a folded `TeamState` (advanced to `at`) returning a JSON-able
dict. The "next" answer of each channel is `queries.next_owner`, so the board and `ledger next`
always agree; the per-consultant statuses re-read the same facts the rotation walk looks at
(R-RT-2 steps 1-4, R-FU-3) without changing them. Phone numbers are masked (R-ID-2).

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
     "overdue": [{"lead", "owner", "name", "channel", "phone", "due", "rule"}]}

Statuses: `eligible`, `busy_new` (passes, counted as a turn, R-PR-3), `away` / `leave` /
`busy_old` (R-PR-2), `suspended` (R-SA-1), `skip` (R-SA-2), `throttled` (R-SA-3, this reach
passes), `held` (R-FU-3), `left` (R-RO-3).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from ledger.phone import mask

from . import queries
from .engine import INELIGIBLE, TeamState

WINDOW_NAMES = {"early": "early", "day": "day", "late": "late", "off_early": "off hours (before early)",
                "off_late": "off hours (after late)"}


def _time(state: TeamState, at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(state.tz).isoformat(timespec="seconds")


def _queue_of(channel: str) -> str:
    return "walk_in" if channel == "customer_referral" else channel  # R-OW-1b


def _sanctions_of(state: TeamState, cid: str, at: dt.datetime) -> list:
    return [s for s in state.sanctions.values() if s.consultant == cid and s.live(at)]


def _held(state: TeamState, cid: str, at: dt.datetime) -> str | None:
    """R-FU-3: the oldest marketing lead still owned, unanswered for more than the policy's hours."""
    policy = state.policy
    c = state.consultants[cid]
    if not policy.marketing_followup_hold or not c.mkt_pending:
        return None
    limit = dt.timedelta(hours=policy.marketing_followup_hours)
    for lid, arrived in c.mkt_pending.items():
        lead = state.leads.get(lid)
        if lead is None or state.customers[lead.customer].owner != cid:
            continue
        if at - arrived > limit:
            return lid
        return None
    return None


def status(state: TeamState, cid: str, channel: str, at: dt.datetime) -> tuple[str, str]:
    """Why the rotation of `channel` would pass `cid` at `at` (R-RT-2 steps 1-4), or eligible."""
    c = state.consultants[cid]
    if c.left_at is not None and c.left_at <= at:
        return "left", "left (R-RO-3)"
    if c.presence in INELIGIBLE:
        return c.presence, f"{c.presence} (R-PR-2)"
    live = _sanctions_of(state, cid, at)
    for s in live:
        if s.kind == "suspend" and s.covers(channel):
            until = f" until {_time(state, s.until)}" if s.until else ""
            return "suspended", f"suspended{until} ({s.rule})"
    if state.policy.orders.get(channel) == "weighted":
        lid = _held(state, cid, at)
        if lid is not None:
            return "held", f"no follow-up of {lid} within {state.policy.marketing_followup_hours} hours (R-FU-3)"
    for s in live:
        if s.kind == "skip" and s.covers(channel):
            return "skip", f"skip, {s.turns_left} left ({s.rule})"
    for s in live:
        if s.kind == "throttle" and s.covers(channel):
            r = s.reaches.get(channel, 0) + 1
            if (r - 1) % s.of >= s.take:
                return "throttled", f"throttled {s.take} of {s.of}, reach {r} passes ({s.rule})"
    if c.presence == "busy_new":
        return "busy_new", "busy_new: passes, counted as a turn (R-PR-3)"
    return "eligible", ""


def _counts_today(state: TeamState, date: dt.date) -> dict[tuple[str, str], list[int]]:
    return {(cid, channel): row for (cid, channel, day), row in state.counts.items() if day == date}


def _channel(state: TeamState, channel: str, mode: str, at: dt.datetime, today: dict) -> dict[str, Any]:
    names = {cid: c.name for cid, c in state.consultants.items()}
    answer = queries.next_owner(state, channel, at)
    queue_name = _queue_of(channel)
    queue = state.queues.get(queue_name)
    order_mode = state.policy.orders.get(queue_name, mode)
    order = state.rank_order if order_mode == "ranking" else state.seat_order
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
    for lead in state.leads.values():
        if lead.deferred and lead.at <= at:
            deferred.append({
                "lead": lead.id, "channel": lead.channel, "arrived": _time(state, lead.at),
                "phone": mask(lead.phone) if lead.phone else None,
                "allocate_at": _time(state, cal.deferral_instant(cal.local(lead.at))), "rule": "R-SH-5",
            })
    deferred.sort(key=lambda d: (d["arrived"], d["lead"]))
    overdue = []
    for row in queries.followups(state)["overdue"]:
        lead = state.leads[row["lead"]]
        owner = state.consultants.get(row["owner"]) if row["owner"] else None
        overdue.append({**row, "name": owner.name if owner else None, "channel": lead.channel,
                        "phone": mask(lead.phone) if lead.phone else None})
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
    }
