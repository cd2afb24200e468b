"""The desk's pages (issue #13, phase 1): login, 轮值看板 the board, 查询 lookup by lead, 争议 the
open disputes and a page per disputed lead with a supervisor's ruling form.

Each page reads the team's state at `?at=` or the default moment, and shows that moment: the
process's live state (`web.live`, advanced from the store by position) when the moment is not
before it, else folded as the CLI's queries fold (nearest checkpoint plus the events after it). A ruling is
recorded by `commands.record.rule`, the CLI's own path, with `by` = the logged-in user.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ledger.errors import LedgerError

from .app import (
    CSRF_COOKIE,
    LANG_COOKIE,
    MAY_RULE,
    SESSION_AGE,
    SESSION_COOKIE,
    Desk,
    Visit,
    csrf_ok,
    error_page,
    now,
    parse_at,
    render,
    render_kept,
    set_cookie,
    visit,
)


def _safe_next(target: str | None, team: str) -> str:
    """Only a path of this site (never `//host` or a scheme) is followed after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"/{quote(team, safe='')}/board"


def _with_lang(request: Request, response: Response) -> Response:
    chosen = request.query_params.get("lang")
    if chosen in ("zh", "en"):
        set_cookie(response, LANG_COOKIE, chosen, max_age=365 * 86400)
    return response


async def home(request: Request) -> Response:
    desk: Desk = request.app.state.desk

    def work() -> Response:
        visitor = visit(desk, request)
        if visitor.user is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(f"/{quote(visitor.user.team, safe='')}/board", status_code=303)
    return _with_lang(request, await desk.run(work))


async def login_form(request: Request) -> Response:
    desk: Desk = request.app.state.desk

    def work() -> Response:
        visitor = visit(desk, request)
        return render(desk, visitor, "login.html", next=request.query_params.get("next", ""), message=None)
    return _with_lang(request, await desk.run(work))


async def login(request: Request) -> Response:
    from ledger import accounts

    desk: Desk = request.app.state.desk
    form = await request.form()

    def work() -> Response:
        visitor = visit(desk, request)
        if not csrf_ok(visitor, form):
            return error_page(desk, visitor, 403, visitor.gettext("The form has expired; please try again."))
        name, password = str(form.get("name") or ""), str(form.get("password") or "")
        target = str(form.get("next") or "")
        if accounts.throttled(desk.store, name):
            return render(desk, visitor, "login.html", status=429, next=target, message=visitor.gettext(
                "Too many failed logins for this name: wait 15 minutes, or ask a supervisor."))
        user = accounts.authenticate(desk.store, name, password)
        if user is None:
            return render(desk, visitor, "login.html", status=401, next=target,
                          message=visitor.gettext("Wrong name or password."))
        sid, _ = accounts.open_session(desk.store, user.name)
        response = RedirectResponse(_safe_next(target, user.team), status_code=303)
        set_cookie(response, SESSION_COOKIE, desk.signer.sign(sid).decode(), max_age=SESSION_AGE)
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response
    return await desk.run(work)


async def logout(request: Request) -> Response:
    from itsdangerous import BadSignature

    from ledger import accounts

    desk: Desk = request.app.state.desk
    form = await request.form()

    def work() -> Response:
        visitor = visit(desk, request)
        if visitor.user is None or not csrf_ok(visitor, form):
            return error_page(desk, visitor, 403, visitor.gettext("The form has expired; please try again."))
        try:
            accounts.close_session(desk.store, desk.signer.unsign(request.cookies[SESSION_COOKIE]).decode())
        except (BadSignature, KeyError):
            pass
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return await desk.run(work)


# -- team pages: handler(desk, request, visitor, team, form), in the desk's lock ---------------


def _moment(desk: Desk, request: Request, team: str):
    from commands import answers

    at = parse_at(desk, team, request.query_params.get("at"))
    # Without `?at=`, the page answers for the whole second it shows (or the latest `at`).
    return at, answers.moment(desk.store, team, at, now().replace(microsecond=0))


@contextlib.contextmanager
def _reading(desk: Desk, request: Request, team: str) -> Iterator[tuple[Any, Any, Any]]:
    """(at asked or None, the moment answered, the team's state then): the process's live state
    (`web.live`) when the moment is not in the past, else folded from the nearest checkpoint.
    Read the state inside the block only."""
    at, moment = _moment(desk, request, team)
    with desk.live.reading(team, moment, now()) as state:
        yield at, moment, state


def _shown(state: Any, moment) -> str:
    return moment.astimezone(state.tz).isoformat(timespec="seconds")


def _names(state: Any) -> dict[str, str]:
    return {cid: c.name for cid, c in state.consultants.items()}


def board(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    from projections.board import board as make_board

    with _reading(desk, request, team) as (at, moment, state):
        shown = request.query_params.get("at", "")
        return render_kept(desk, request, visitor, team, ("board", moment, shown), "board.html", lambda: dict(
            team=team, at=shown, live=at is None, moment=_shown(state, moment),
            board=desk.live.remember(team, ("board", moment), lambda: make_board(state, moment)),
            head=desk.live.team(team).position))


def lookup(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    from commands import answers

    lead = (request.query_params.get("lead") or "").strip()
    if not lead:
        at, moment = _moment(desk, request, team)
        return render(desk, visitor, "lookup.html", team=team, at=request.query_params.get("at", ""),
                      moment=moment.isoformat(timespec="seconds"), lead=lead, found=None)
    with _reading(desk, request, team) as (at, moment, held):
        shown = request.query_params.get("at", "")

        def context() -> dict:
            state, found = answers.explain(desk.store, team, lead, moment, now(), state=held,
                                           say=desk.say(visitor.lang))
            return dict(team=team, at=shown, moment=_shown(state, moment), lead=lead, found=found,
                        **_explained(state, found))
        return render_kept(desk, request, visitor, team, ("lookup", moment, shown, lead), "lookup.html", context)


def _explained(state: Any, answer: dict) -> dict:
    """What the lookup and dispute pages show besides the answer: names and the rules cited."""
    from ledger import rules

    cited = {}
    for rule_id in dict.fromkeys([answer.get("rule")] + [item.get("rule") for item in answer["timeline"]]):
        if rule_id:
            try:
                cited[rule_id] = rules.rule(rule_id)
            except LedgerError:  # an id the reference does not carry: shown bare
                continue
    return {"names": _names(state), "rules": cited}


def disputes(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    from projections import queries

    with _reading(desk, request, team) as (at, moment, state):
        shown = request.query_params.get("at", "")
        return render_kept(desk, request, visitor, team, ("disputes", moment, shown), "disputes.html", lambda: dict(
            team=team, at=shown, moment=_shown(state, moment), disputes=queries.disputes(state)["disputes"],
            names=_names(state)))


def lead_claims(state: Any, lead: str) -> list[dict]:
    """The lead's entry of `queries.disputes(state)` (its claims, and takings, R-OW-7, R-OW-8),
    without listing the team's every dispute (a year has hundreds): [] when not disputed."""
    from projections import indexes

    found = state.leads.get(lead)
    indexes.refresh(state)
    if found is None or found.customer not in state.disputed:
        return []
    cust = state.customers[found.customer]
    claims = [(at, seq, consultant, reason) for claimed, consultant, at, reason, seq in cust.claims if claimed == lead]
    claims += [(v.at, v.seq, v.consultant, "took the lead (R-OW-8)") for v in cust.violations if v.lead == lead]
    claims.sort(key=lambda c: (c[0], c[1]))
    return [{"consultant": c, "at": at.astimezone(state.tz).isoformat(timespec="seconds"), "reason": r}
            for at, _, c, r in claims]


def dispute(desk: Desk, request: Request, visitor: Visit, team: str, form: Any, *, message: str | None = None,
            status: int = 200) -> Response:
    from commands import answers

    lead = request.path_params["lead"]
    with _reading(desk, request, team) as (at, moment, state):
        shown = request.query_params.get("at", "")

        def context() -> dict:
            answer, claims = desk.live.remember(team, ("dispute", moment, lead, visitor.lang), lambda: (
                answers.explain(desk.store, team, lead, moment, now(), state=state, say=desk.say(visitor.lang))[1],
                lead_claims(state, lead)))
            current = [c for c in sorted(state.consultants.values(), key=lambda c: (c.seat, c.id)) if c.left_at is None]
            return dict(team=team, at=shown, moment=_shown(state, moment), lead=lead, found=answer, claims=claims,
                        may_rule=visitor.user.role in MAY_RULE, consultants=current, message=message,
                        **_explained(state, answer))
        if message is not None:  # a refused ruling: its message, not kept
            return render(desk, visitor, "dispute.html", status=status, **context())
        return render_kept(desk, request, visitor, team, ("dispute", moment, shown, lead), "dispute.html", context)


def event(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    """One stored event, `#N` (`ledger event '#N' --json`: `commands.audit.event`, phones
    masked), opened from a timeline's `#N`; `?at=` is the moment the page came from: shown, kept
    in the links back, and the event marked when it happened after it. A void is shown whenever
    it was recorded: a replay at any moment leaves the voided event out (R-CO-2)."""
    import datetime as dt
    import json

    from commands import audit
    from commands.history import zone_now
    from ledger.errors import UnknownLead, UnknownTeam

    ref, head = request.path_params["n"], desk.store.head(team)
    if head == 0:
        raise UnknownTeam(f"unknown team {team!r}: no events recorded for it")
    if not (ref.isascii() and ref.isdigit() and 0 < int(ref) <= head):
        raise UnknownLead(f"unknown event #{ref[:20]} in team {team!r}; expected #1 to #{head}")
    found = audit.event(desk.store, team, f"#{int(ref)}")
    at, moment = _moment(desk, request, team)

    at_text = found["event"].get("at")
    happened_after = at_text is not None and dt.datetime.fromisoformat(at_text) > moment
    shown = moment.astimezone(zone_now(desk.store, team, moment)).isoformat(timespec="seconds")
    fields = [(name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
              for name, value in found["event"].items() if name not in ("type", "team", "id")]
    return render(desk, visitor, "event.html", team=team, at=request.query_params.get("at", ""), moment=shown,
                  found=found, fields=fields, happened_after=happened_after, lead=found["event"].get("lead"))


def ruling(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    """RulingMade (R-OW-0) by the logged-in supervisor, through the CLI's recording path."""
    from commands import record as R
    from ledger.errors import InputError

    if visitor.user.role not in MAY_RULE:
        return error_page(desk, visitor, 403, visitor.gettext("Only a supervisor may rule."))
    lead = request.path_params["lead"]
    owner, reason = str(form.get("owner") or "").strip(), str(form.get("reason") or "").strip()
    try:
        if not owner or not reason:
            raise InputError(visitor.gettext("Choose the owner and give the reason."))
        R.rule(desk.store, team, lead, owner, reason, by=visitor.user.name, at=None, now=now())
    except InputError as error:
        return dispute(desk, request, visitor, team, None, message=str(error), status=422)
    return RedirectResponse(f"/{quote(team, safe='')}/disputes/{quote(lead, safe='')}?ruled=1", status_code=303)
