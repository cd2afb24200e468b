"""The desk's recording forms (issue #13, phase 2): 前台 the front desk (an arrival, a follow-up, a
presence) and a supervisor's penalties and lifts on the 处罚 page.

Each form calls the handler the CLI's command calls (`commands.record.arrive`, `followup`,
`presence`, `penalize`, `lift`): the same validation, decision and append, with `by` = the
logged-in user. A mistake is the handler's message on the form's page with its 4xx status, and
nothing is stored. Who may post what is `web.app`'s MAY_* sets; a consultant follows up only their
own customers, as themselves.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ledger.errors import InputError, LedgerError, UnknownLead
from ledger.vocabulary import N_

from .app import MAY_FOLLOW, MAY_RECEIVE, MAY_RULE, Desk, Visit, error_page, now, render
from .pages import _names, _reading, _shown

CHANNELS = ("hotline", "online", "hq_referral", "internal_referral", "walk_in", "marketing", "conference",
            "customer_referral", "outbound")
PRESENCES = ("on_post", "away", "leave", "busy_new", "busy_old")
KINDS = ("suspend", "skip", "throttle")


def _text(form: Any, key: str) -> str | None:
    value = str(form.get(key) or "").strip()
    return value or None


def _when(form: Any, key: str = "at") -> dt.datetime | None:
    """A time typed in a form (ISO 8601; without an offset the handler reads it in the team's
    zone), or None: now."""
    from ledger.events import parse_time_text

    text = _text(form, key)
    if text is None:
        return None
    try:
        return parse_time_text(text.replace(" ", "T"), offset=False)
    except ValueError as error:
        raise InputError(f"{key}: {error}") from None


def _day(form: Any, key: str) -> dt.date | None:
    text = _text(form, key)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--callback-on: expected a date YYYY-MM-DD, got {text[:40]!r}") from None


def _status(error: InputError) -> int:
    return 404 if isinstance(error, UnknownLead) else 422


def _current(state: Any) -> list:
    return [c for c in sorted(state.consultants.values(), key=lambda c: (c.seat, c.id)) if c.left_at is None]


def front_desk(desk: Desk, request: Request, visitor: Visit, team: str, form: Any, *, message: str | None = None,
               status: int = 200, outcome: Any = None, kind: str | None = None) -> Response:
    """前台: the forms a role may use, who is next on each channel at the moment, and the answer of
    the last thing recorded (`outcome`, of `kind` arrival/followup/presence) or its error."""
    from projections.board import board

    role = visitor.user.role
    answer = outcome.to_json_dict() if outcome is not None else None
    said = outcome.say(*Desk.words(visitor.lang)) if outcome is not None and outcome.say is not None else None
    with _reading(desk, request, team) as (at, moment, state):
        return render(desk, visitor, "desk.html", status=status, team=team, at=request.query_params.get("at", ""),
                      moment=_shown(state, moment), board=board(state, moment), consultants=_current(state),
                      names=_names(state), channels=CHANNELS, presences=PRESENCES, message=message,
                      answer=answer, said=said, kind=kind, rules=_cited(answer), may_receive=role in MAY_RECEIVE,
                      may_follow=role in MAY_FOLLOW, own=visitor.user.consultant if role == "consultant" else None)


def _cited(answer: dict | None) -> dict:
    from ledger import rules

    if not answer or not answer.get("rule"):
        return {}
    try:
        return {answer["rule"]: rules.rule(answer["rule"])}
    except LedgerError:
        return {}


def _recording(kind: str, roles: set[str], refusal: str) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """A front-desk form: refused (403) for the other roles; the handler's answer, or its message
    with 404/422 and nothing stored, shown on the front desk page."""
    def wrap(record: Callable[..., Any]) -> Callable[..., Response]:
        def handler(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
            if visitor.user.role not in roles:
                return error_page(desk, visitor, 403, visitor.gettext(refusal))
            try:
                outcome = record(desk, visitor, team, form)
            except InputError as error:
                return front_desk(desk, request, visitor, team, None, message=str(error), status=_status(error),
                                  kind=kind)
            if isinstance(outcome, Response):
                return outcome
            return front_desk(desk, request, visitor, team, None, outcome=outcome, kind=kind)
        return handler
    return wrap


@_recording("arrival", MAY_RECEIVE, N_("Only the front desk or a supervisor may record an arrival."))
def arrival(desk: Desk, visitor: Visit, team: str, form: Any) -> Any:
    """LeadArrived through `ledger arrive`'s handler: the answer is the owner, the rule and who
    was passed and why."""
    from commands import record as R

    return R.arrive(desk.store, team, _text(form, "channel") or "", at=_when(form), now=now(),
                    phone=_text(form, "phone"), named=_text(form, "named"), taken_by=_text(form, "taken_by"),
                    prior_contact=_text(form, "prior_contact"), maker=_text(form, "maker"),
                    referrer_phone=_text(form, "referrer_phone"), callback_on=_day(form, "callback_on"),
                    by=visitor.user.name)


@_recording("followup", MAY_FOLLOW, N_("Your role may not record follow-ups."))
def followup(desk: Desk, visitor: Visit, team: str, form: Any) -> Any:
    """FollowUpLogged through `ledger followup`'s handler; a consultant, only as themselves and
    only for a customer they own at the follow-up's time."""
    from commands import record as R

    lead, consultant = _text(form, "lead") or "", _text(form, "consultant")
    direction = _text(form, "direction") or "outbound"
    if direction not in ("outbound", "inbound"):
        raise InputError(f"direction: expected outbound or inbound, got {direction[:40]!r}")
    at = _when(form)
    if visitor.user.role == "consultant":
        refused = _not_own(desk, visitor, team, lead, consultant, at)
        if refused is not None:
            return refused
        consultant = visitor.user.consultant
    if consultant is None:
        raise InputError(visitor.gettext("Choose the consultant who followed up."))
    return R.followup(desk.store, team, lead, consultant, inbound=direction == "inbound", note=_text(form, "note"),
                      recorder=visitor.user.name, at=at, now=now())


def _not_own(desk: Desk, visitor: Visit, team: str, lead: str, consultant: str | None,
             at: dt.datetime | None) -> Response | None:
    """A 403 page unless the consultant user follows up their own customer as themselves."""
    from commands import answers
    from projections import queries

    own = visitor.user.consultant
    if own is None:
        return error_page(desk, visitor, 403, visitor.gettext(
            "Your user is not linked to a consultant id (ledger user add --consultant)."))
    if consultant not in (None, own):
        return error_page(desk, visitor, 403, visitor.gettext("A consultant records only their own follow-ups."))
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        from commands.history import zone_now

        at = at.replace(tzinfo=zone_now(desk.store, team, now()))
    if not lead:
        raise InputError("lead: required")
    with desk.live.reading(team, answers.moment(desk.store, team, at, now()), now()) as state:
        owner = queries.owner(state, lead)["owner"]
    if owner != own:
        return error_page(desk, visitor, 403, visitor.gettext("A consultant follows up only their own customers."))
    return None


@_recording("presence", MAY_RECEIVE, N_("Only the front desk or a supervisor may record presence."))
def presence(desk: Desk, visitor: Visit, team: str, form: Any) -> Any:
    """PresenceChanged through `ledger presence`'s handler."""
    from commands import record as R

    return R.presence(desk.store, team, _text(form, "consultant") or "", _text(form, "presence") or "",
                      by=visitor.user.name, at=_when(form), now=now())


# -- 处罚: a supervisor imposes and lifts -----------------------------------------------------------


def _sanctions_page(desk: Desk, request: Request, visitor: Visit, team: str, message: str, status: int) -> Response:
    from .reports import sanctions

    return sanctions(desk, request, visitor, team, None, message=message, status=status)


def _throttle(text: str | None) -> tuple[int | None, int | None]:
    if text is None:
        return None, None
    k, sep, n = text.partition("/")
    if not sep or not (k.strip().isascii() and k.strip().isdigit() and n.strip().isascii() and n.strip().isdigit()):
        raise InputError(f"--throttle: expected K/N like 1/2, got {text[:40]!r}")
    return int(k), int(n)


def _turns(text: str | None) -> int | None:
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise InputError(f"--skip: expected a whole number of 1 or more, got {text[:40]!r}")
    return int(text)


def impose(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    """PenaltyImposed through `ledger penalize`'s handler, by the logged-in supervisor."""
    from commands import record as R

    if visitor.user.role not in MAY_RULE:
        return error_page(desk, visitor, 403, visitor.gettext("Only a supervisor may impose or lift a penalty."))
    try:
        kind = _text(form, "kind") or ""
        if kind not in KINDS:
            raise InputError(f"kind: expected one of {', '.join(KINDS)}, got {kind[:40]!r}")
        take, of = _throttle(_text(form, "throttle")) if kind == "throttle" else (None, None)
        turns = _turns(_text(form, "turns")) if kind == "skip" else None
        channels = [str(c).strip() for c in form.getlist("channels") if str(c).strip()] or ["*"]
        R.penalize(desk.store, team, _text(form, "consultant") or "", kind=kind, channels=channels,
                   rule_id=_text(form, "rule") or "", reason=_text(form, "reason") or "", turns=turns, take=take,
                   of=of, start=_when(form, "from"), until=_when(form, "until"), by=visitor.user.name,
                   at=None, now=now())
    except InputError as error:
        return _sanctions_page(desk, request, visitor, team, str(error), _status(error))
    return RedirectResponse(f"/{quote(team, safe='')}/sanctions?done=imposed", status_code=303)


def lift(desk: Desk, request: Request, visitor: Visit, team: str, form: Any) -> Response:
    """PenaltyLifted through `ledger lift`'s handler, by the logged-in supervisor."""
    from commands import record as R

    if visitor.user.role not in MAY_RULE:
        return error_page(desk, visitor, 403, visitor.gettext("Only a supervisor may impose or lift a penalty."))
    try:
        R.lift(desk.store, team, _text(form, "penalty") or "", by=visitor.user.name, at=None, now=now())
    except InputError as error:
        return _sanctions_page(desk, request, visitor, team, str(error), _status(error))
    return RedirectResponse(f"/{quote(team, safe='')}/sanctions?done=lifted", status_code=303)
