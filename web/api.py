"""The desk's JSON API (issue #13): `GET /api/{team}/{query}` answers exactly the bytes of the
CLI's `--json` (both call `commands.answers`): owner/{lead}, explain/{lead}, next/{channel},
turns, sanctions, find?phone=, event/{ref} (`#N` as %23N, or an event id), disputes, followups,
board, commission, `POST /api/{team}/events` records one INTERCHANGE
event line through `ledger import`'s own path (`commands.importing.import_file`).

Authentication: `Authorization: Bearer <token>` (`ledger user token NAME`); the token's user sees
their own team only. Errors are JSON, `{"error": message, "status": n}`: 401 no or bad token,
403 another team or a role that may not record this, 404 unknown team, lead or query, 422 bad
parameters or a bad event line (the import's message; nothing stored).
"""
from __future__ import annotations

import json
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ledger.errors import InputError, LedgerError, UnknownLead, UnknownTeam

from .app import Desk, now, parse_at

# Event types only a supervisor may record (R-OW-0 rulings, §6 penalties, policies, voids).
SUPERVISOR_ONLY = {"RulingMade", "PenaltyImposed", "PenaltyLifted", "PolicyAdopted", "EntryVoided",
                   "ComplaintVerified", "TargetSet", "CustomerErased"}
MAX_LINE = 64 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


def _answer(text: str) -> Response:
    return Response((text + "\n").encode("utf-8"), media_type="application/json; charset=utf-8")


def _user(desk: Desk, request: Request):
    from ledger import accounts

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return accounts.token_user(desk.store, token.strip())


def endpoint(handler: Callable[..., Response], *, write: bool = False) -> Callable[[Request], Any]:
    async def serve(request: Request) -> Response:
        desk: Desk = request.app.state.desk
        body = await request.body() if write else b""

        def work() -> Response:
            user = _user(desk, request)
            if user is None:
                return _error(401, "expected Authorization: Bearer <token> of an enabled user (ledger user token NAME)")
            team = request.path_params["team"]
            if team != user.team:
                return _error(403, f"user {user.name!r} may only use team {user.team!r}")
            try:
                if team not in desk.store.teams():
                    raise UnknownTeam(f"unknown team {team!r}")
                return handler(desk, request, user, team, body)
            except (UnknownTeam, UnknownLead) as error:
                return _error(404, str(error))
            except InputError as error:
                return _error(422, str(error))
            except LedgerError as error:
                return _error(500, str(error))
        return await desk.run(work)
    return serve


def _params(desk: Desk, request: Request, team: str):
    q = request.query_params
    return parse_at(desk, team, q.get("at")), parse_at(desk, team, q.get("as_recorded"))


def _live(desk: Desk, request: Request, team: str, answer: Callable[..., str]) -> Response:
    """`answer(at, as_recorded, held)`'s text: without `?as_recorded=`, at the moment asked (or the
    default moment) with the process's live state then (`web.live`), the state the CLI would fold
    from the nearest checkpoint; with it, as the CLI folds."""
    from commands import answers

    at, as_recorded = _params(desk, request, team)
    if as_recorded is not None:
        return _answer(answer(at, as_recorded, None))
    when = answers.moment(desk.store, team, at, now())
    with desk.live.reading(team, when, now()) as state:
        return _answer(answer(when, None, state))


def _lead_query(name: str) -> Callable[..., Response]:
    def handler(desk: Desk, request: Request, user: Any, team: str, body: bytes) -> Response:
        from commands import answers

        lead, query = request.path_params["lead"], getattr(answers, f"{name}_json")
        return _live(desk, request, team, lambda at, as_recorded, held: query(
            desk.store, team, lead, at, now(), as_recorded, state=held))
    return handler


def _team_query(name: str) -> Callable[..., Response]:
    def handler(desk: Desk, request: Request, user: Any, team: str, body: bytes) -> Response:
        from commands import answers

        extra: dict[str, Any] = {}
        if name == "followups":
            q = request.query_params
            limit = q.get("limit")
            if limit is not None and not (limit.isdigit() and limit.isascii()):
                raise InputError(f"limit: expected a whole number of 0 or more, got {limit[:40]!r}")
            extra = {"owner": q.get("owner"), "since": q.get("since"), "limit": int(limit) if limit else None}
        query = getattr(answers, f"{name}_json")
        return _live(desk, request, team, lambda at, as_recorded, held: query(
            desk.store, team, at, now(), as_recorded, held=held, **extra))
    return handler


def _required(request: Request, key: str) -> str:
    value = request.query_params.get(key)
    if not value:
        raise InputError(f"{key}: required")
    return value


def turns(desk: Desk, request: Request, user: Any, team: str, body: bytes) -> Response:
    from commands import answers

    first, last = answers.period(_required(request, "from"), _required(request, "to"))
    _, as_recorded = _params(desk, request, team)
    return _answer(answers.turns_json(desk.store, team, first, last, as_recorded))


def commission(desk: Desk, request: Request, user: Any, team: str, body: bytes) -> Response:
    from commands import answers

    _, as_recorded = _params(desk, request, team)
    return _answer(answers.commission_json(desk.store, team, _required(request, "month"), as_recorded))


def next_owner(desk: Desk, request: Request, user: Any, team: str, body: bytes) -> Response:
    from commands import answers

    channel = request.path_params["channel"]
    return _live(desk, request, team, lambda at, as_recorded, held: answers.next_json(
        desk.store, team, channel, at, now(), as_recorded, held))


def find(desk: Desk, request: Request, user: Any, team: str, body: bytes) -> Response:
    from commands import answers

    phone = _required(request, "phone")
    return _live(desk, request, team, lambda at, as_recorded, held: answers.find_json(
        desk.store, team, phone, at, now(), as_recorded, held))


def event(desk: Desk, request: Request, user: Any, team: str, body: bytes) -> Response:
    from commands import answers

    return _answer(answers.event_json(desk.store, team, request.path_params["ref"]))


def board(desk: Desk, request: Request, user: Any, team: str, body: bytes) -> Response:
    from commands import answers

    return _live(desk, request, team, lambda at, as_recorded, held: answers.board_json(
        desk.store, team, at, now(), as_recorded, held))


def _with_by(line: str, name: str) -> str:
    """The line with `by` = the token's user: added when absent; another `by` is refused. A line
    that is not a JSON object is passed on as it is, for the import to say what is wrong."""
    try:
        data = json.loads(line, parse_float=str, parse_int=str, parse_constant=str)
    except (ValueError, RecursionError):
        return line
    if not isinstance(data, dict):
        return line
    if "by" in data:
        if data["by"] != name:
            raise InputError(f"request:1: by: expected the token's user {name!r} or nothing, got {str(data['by'])[:40]!r} "
                             "(nothing stored)")
        return line
    text = line.strip()
    inner = text[1:].lstrip()
    return "{" + json.dumps("by") + ": " + json.dumps(name, ensure_ascii=False) + ("" if inner.startswith("}") else ", ") + inner


def record_event(desk: Desk, request: Request, user: Any, team: str, body: bytes) -> Response:
    """One INTERCHANGE event line, validated and appended exactly as `ledger import` does."""
    from commands.importing import import_file

    if len(body) > MAX_LINE:
        raise InputError(f"request: expected one event line of at most {MAX_LINE} bytes")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"request:1: expected UTF-8 text ({error.reason} at byte {error.start})") from None
    lines = [line for line in text.split("\n") if line.strip() and not line.strip().startswith("#")]
    if len(lines) != 1:
        raise InputError(f"request: expected one event line, got {len(lines)}")
    if user.role == "viewer":
        return _error(403, f"user {user.name!r} ({user.role}) may not record events")
    try:
        data = json.loads(lines[0], parse_float=str, parse_int=str, parse_constant=str)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        if data.get("team") not in (None, team):
            raise InputError(f"request:1: team: expected {team!r} (the URL's team), got {str(data['team'])[:40]!r} "
                             "(nothing stored)")
        refused = _refusal(desk, user, team, data)
        if refused is not None:
            return _error(403, refused)
    summary = import_file(desk.store, _with_by(lines[0], user.name), "request", now=now())
    return JSONResponse({"appended": summary.appended.get(team, 0), "skipped": summary.skipped,
                         "head": summary.heads.get(team)}, status_code=201 if summary.total else 200)


# What each role may post besides a supervisor (who may post every type): the front desk's
# entries for reception; a consultant only follow-ups and claims as themselves, a follow-up only
# on a customer they own at its time (as on the desk's forms).
API_MAY = {"reception": {"LeadArrived", "FollowUpLogged", "PresenceChanged", "InvitationRecorded", "VisitRecorded"},
           "consultant": {"FollowUpLogged", "ClaimMade"}}


def _refusal(desk: Desk, user: Any, team: str, data: dict) -> str | None:
    """Why `user` may not post the event `data` (a 403), or None."""
    kind = data.get("type")
    if user.role == "supervisor":
        return None
    if kind in SUPERVISOR_ONLY or kind not in API_MAY.get(user.role, ()):
        return f"user {user.name!r} ({user.role}) may not record {str(kind)[:40]}"
    if user.role != "consultant":
        return None
    if user.consultant is None or data.get("consultant") != user.consultant:
        return f"user {user.name!r} (consultant) records only as their own consultant id ({user.consultant})"
    if kind == "FollowUpLogged":
        from commands import answers
        from projections import queries

        try:
            at = parse_at(desk, team, str(data.get("at") or "")) or now()
            owner = queries.owner(answers.state(desk.store, team, at, now()), str(data.get("lead")))["owner"]
        except (InputError, LedgerError):
            return None  # the import's own check names what is wrong (422)
        if owner != user.consultant:
            return f"user {user.name!r} (consultant) follows up only their own customers"
    return None


def not_found(request: Request) -> Response:
    return _error(404, f"unknown query {request.path_params.get('query', '')[:40]!r}; expected one of "
                       "owner, explain, next, turns, sanctions, find, event, disputes, followups, board, commission")


def routes() -> list[Route]:
    return [
        Route("/api/{team}/owner/{lead}", endpoint(_lead_query("owner"))),
        Route("/api/{team}/explain/{lead}", endpoint(_lead_query("explain"))),
        Route("/api/{team}/next/{channel}", endpoint(next_owner)),
        Route("/api/{team}/find", endpoint(find)),
        Route("/api/{team}/event/{ref}", endpoint(event)),
        Route("/api/{team}/board", endpoint(board)),
        Route("/api/{team}/turns", endpoint(turns)),
        Route("/api/{team}/sanctions", endpoint(_team_query("sanctions"))),
        Route("/api/{team}/disputes", endpoint(_team_query("disputes"))),
        Route("/api/{team}/followups", endpoint(_team_query("followups"))),
        Route("/api/{team}/commission", endpoint(commission)),
        Route("/api/{team}/events", endpoint(record_event, write=True), methods=["POST"]),
        Route("/api/{team}/{query:path}", not_found),
    ]
