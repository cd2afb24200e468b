"""The desk's reading pages of phase 2 (issue #13): 跟进 overdue follow-ups, 处罚 sanctions in force,
佣金 a month's commission (and its CSV, the bytes of `ledger commission --csv`), 查询 by phone and a
consultant's own customers, and the board's head for the live refresh.

Each reads what the CLI's query reads (`commands.answers`, `commands.audit`, `projections.queries`)
at `?at=` or the default moment, on the process's live state (`web.live`) when it can answer, and
shows that moment.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ledger.errors import InputError

from .app import MAY_PAYROLL, MAY_RULE, Desk, Visit, error_page, now, parse_at, render
from .pages import _names, _reading, _shown

SHOWN = 200  # overdue rows on one page; the count says how many there are


def board_head(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    """The team's stream position: the board's script reloads the page when it moves."""
    return JSONResponse({"team": team, "head": desk.store.head(team)}, headers={"Cache-Control": "no-store"})


def followups(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    """Overdue follow-ups (R-FU-1, R-FU-5): a consultant's own by default, `?owner=` to choose,
    `?owner=*` everyone's."""
    from commands import answers

    q = request.query_params
    default = visitor.user.consultant if visitor.user.role == "consultant" else None
    chosen = q.get("owner", default or "")
    owner = None if chosen in ("", "*") else chosen
    since = (q.get("since") or "").strip() or None
    with _reading(desk, request, team) as (at, moment, state):
        rows = answers.followups(state, owner, since)["overdue"]
        return render(desk, visitor, "followups.html", team=team, at=q.get("at", ""), moment=_shown(state, moment),
                      rows=rows[:SHOWN], total=len(rows), owner=chosen, since=since or "", names=_names(state),
                      consultants=sorted(state.consultants.values(), key=lambda c: (c.seat, c.id)))


def sanctions(desk: Desk, request: Request, visitor: Visit, team: str, form: Any, *, message: str | None = None,
              status: int = 200) -> Response:
    """Sanctions in force (R-SA-*); a supervisor's impose form and lift buttons."""
    from projections import queries

    from .forms import CHANNELS, KINDS, _current

    with _reading(desk, request, team) as (at, moment, state):
        return render(desk, visitor, "sanctions.html", status=status, team=team,
                      at=request.query_params.get("at", ""), moment=_shown(state, moment),
                      sanctions=queries.sanctions(state)["sanctions"], names=_names(state),
                      may_rule=visitor.user.role in MAY_RULE, consultants=_current(state), channels=CHANNELS,
                      kinds=KINDS, message=message, done=request.query_params.get("done"))


def _month(desk: Desk, request: Request, team: str) -> str:
    """`?month=YYYY-MM`, by default the month of `?at=` (or of now) in the team's zone."""
    from commands import answers
    from commands.history import zone_now

    month = (request.query_params.get("month") or "").strip()
    if not month:
        at = parse_at(desk, team, request.query_params.get("at")) or now()
        month = at.astimezone(zone_now(desk.store, team, now())).strftime("%Y-%m")
    answers.check_month(month)
    return month


def commission(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    """A month's statements (R-CM-*), each line with its rule and contract; a consultant sees
    their own statement, a receptionist none."""
    from commands import answers

    role = visitor.user.role
    if role not in MAY_PAYROLL and role != "consultant":
        return error_page(desk, visitor, 403, visitor.gettext("Your role may not see commission statements."))
    month = _month(desk, request, team)
    state, answer = answers.commission_answer(desk.store, team, month)
    statements = answer["statements"]
    if role == "consultant":
        statements = [s for s in statements if s["consultant"] == visitor.user.consultant]
    return render(desk, visitor, "commission.html", team=team, month=month, moment=month, at="",
                  statements=statements, rewards=answer.get("customer_rewards", []) if role != "consultant" else [],
                  names=_names(state), may_download=role in MAY_PAYROLL)


def commission_csv(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    """The month's CSV: exactly the bytes `ledger commission --month M --csv` writes in the
    visitor's language (`?totals=1`: those of `--csv --totals`)."""
    from commands import answers

    if visitor.user.role not in MAY_PAYROLL:
        return error_page(desk, visitor, 403, visitor.gettext("Your role may not see commission statements."))
    month = _month(desk, request, team)
    totals = request.query_params.get("totals") in ("1", "true", "yes")
    name = f"{team}-{month}{'-totals' if totals else ''}.csv"
    return Response(answers.commission_csv(desk.store, team, month, totals=totals, gettext=visitor.gettext),
                    media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def find_phone(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    """查询 by phone (R-ID-1), as `ledger find --phone`: posted, so the number stays out of URLs and
    logs; shown masked (R-ID-2)."""
    from commands import audit

    phone = str(form.get("phone") or "").strip()
    if not phone:
        raise InputError(visitor.gettext("Type a phone number."))
    at = parse_at(desk, team, str(form.get("at") or "").strip() or None)
    from commands import answers

    moment = answers.moment(desk.store, team, at, now())
    with desk.live.reading(team, moment, now()) as held:
        state, found = audit.find(desk.store, team, phone, moment, None, state=held)
        return render(desk, visitor, "lookup.html", team=team, at=str(form.get("at") or ""),
                      moment=_shown(state, moment), lead="", found=None, by_phone=found, names=_names(state))


def customers(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    """A consultant's own customers at the moment: their latest lead, the rule they hold it by,
    since when. A consultant sees their own; others choose `?consultant=`."""
    if visitor.user.role == "consultant":
        chosen = visitor.user.consultant
    else:
        chosen = (request.query_params.get("consultant") or "").strip() or None
    with _reading(desk, request, team) as (at, moment, state):
        return _customers_page(desk, request, visitor, team, state, moment, chosen)


def _customers_page(desk: Desk, request: Request, visitor: Visit, team: str, state: Any, moment: Any,
                    chosen: str | None) -> Response:
    from ledger.phone import mask

    rows = []
    if chosen:
        for customer in state.customers.values():
            if customer.owner != chosen or not customer.leads:
                continue
            leads = sorted(customer.leads, key=lambda lid: (state.leads[lid].at, state.leads[lid].seq))
            last = state.leads[leads[-1]]
            rows.append({"lead": leads[-1], "leads": len(leads), "channel": last.channel, "rule": customer.rule,
                         "phone": mask(last.phone) if last.phone else "-", "grade": customer.grade,
                         "since": _shown(state, customer.owner_since) if customer.owner_since else "-"})
        rows.sort(key=lambda r: r["since"], reverse=True)
    return render(desk, visitor, "customers.html", team=team, at=request.query_params.get("at", ""),
                  moment=_shown(state, moment), rows=rows, chosen=chosen or "", names=_names(state),
                  consultants=sorted(state.consultants.values(), key=lambda c: (c.seat, c.id)),
                  linked=visitor.user.role != "consultant" or chosen is not None)
