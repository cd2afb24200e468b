"""The web desk's application: one `Desk` per process (the store, the cookie signer, the
templates), the routes, and what every page shares: who is logged in, CSRF, the language, `?at=`.

Sessions: the cookie `ledger_session` holds a random session id signed with the store's
`web_secret` (itsdangerous, timestamped: 12 hours); the session itself (user, CSRF token) is a
row of `ledger_sessions`, so logging out, a password change or disabling a user ends it at once.
Before login, the login form's CSRF token is the signed cookie `ledger_csrf`. Every POST checks
its form's `csrf` field against the one expected (403 otherwise).

The store is used by one request at a time in a process (`Desk.lock`), in the desk's one worker
thread (`Desk.run`): a state restored from a checkpoint reads values lazily through the store,
and one connection serves the process. Pages are kept rendered per team position
(`render_kept`), so a request that finds its page is a few cheap queries (the session, the
team's head and latest `at`). Each
team's state is held in memory (`Desk.live`, `web.live`: advanced from the store by position, one
lock per team), so that a page does not replay history.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ledger.errors import InputError, LedgerError, UnknownLead, UnknownTeam

HERE = Path(__file__).parent
SESSION_COOKIE = "ledger_session"
CSRF_COOKIE = "ledger_csrf"
LANG_COOKIE = "ledger_lang"
SESSION_AGE = 12 * 3600
# What each role may do beyond reading its team's pages (a viewer records nothing).
MAY_RULE = {"supervisor"}  # rulings, penalties and their lifting
MAY_RECEIVE = {"supervisor", "reception"}  # arrivals and presence at the front desk
MAY_FOLLOW = {"supervisor", "reception", "consultant"}  # follow-ups (a consultant: their own customers)
MAY_PAYROLL = {"supervisor", "viewer"}  # every statement and the CSV (a consultant: their own statement)


def now() -> dt.datetime:
    """The desk's clock: read here, at the edge, and passed inward."""
    return dt.datetime.now(dt.timezone.utc)


class Desk:
    """What one server process holds: the store, the signer, the templates of each language."""

    def __init__(self, url: str | None):
        from itsdangerous import TimestampSigner

        from ledger import accounts
        from ledger.store import open_store

        from .live import LiveStates

        self.store = open_store(url)
        self.live = LiveStates(self.store)
        accounts.ensure_tables(self.store)
        self.signer = TimestampSigner(accounts.web_secret(self.store), salt="ledger-desk")
        self.lock = threading.Lock()
        self.worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="desk")
        self._templates: dict[str, Any] = {}
        # Stands for the visitor's CSRF token in a kept page (`render_kept`): random per process,
        # so that no value shown on a page can be it.
        self.csrf_slot = "csrf-slot-" + secrets.token_hex(16)

    def run(self, work: Callable[[], Any]) -> Any:
        """`work()` with the store to itself, in the desk's one worker thread: the work is
        serialised by the store anyway, and one thread spares twenty waiting on a lock."""
        def locked() -> Any:
            with self.lock:
                return work()
        return asyncio.get_running_loop().run_in_executor(self.worker, locked)

    def templates(self, lang: str):
        env = self._templates.get(lang)
        if env is None:
            from jinja2 import Environment, FileSystemLoader, select_autoescape

            from ledger.i18n import translations
            from ledger.phone import mask_numbers

            def finalize(value: Any) -> Any:  # R-ID-2: no phone number in clear on any page
                return mask_numbers(value) if isinstance(value, str) else ("" if value is None else value)

            env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(),
                              extensions=["jinja2.ext.i18n"], finalize=finalize)
            env.install_gettext_translations(translations(lang), newstyle=True)
            env.filters["mask"] = mask_numbers
            env.filters["why"] = self.why(lang)
            self._templates[lang] = env
        return env

    @staticmethod
    def words(lang: str) -> tuple[Callable[..., str], Callable[[str], str]]:
        """(tr, word) of `lang`, as the command line has them: a message with its named values
        filled, and a vocabulary code (a channel, a presence) as a word."""
        from ledger import i18n

        return (lambda message, **values: i18n.say(lang, message, **values)), (lambda code: i18n.word(lang, code))

    @staticmethod
    def say(lang: str) -> Callable[[Any], str]:
        """How a page tells the engine's summaries in `lang` (projections.sentences)."""
        from projections import sentences

        tr, word = Desk.words(lang)
        return lambda summary: sentences.say(summary, tr, word)

    @staticmethod
    def why(lang: str) -> Callable[[Any], str]:
        """A candidate's reason (English, as the engine wrote it) told in `lang`: the `why` filter."""
        from projections import sentences

        say = Desk.say(lang)
        return lambda text: say(sentences.reason(text)) if text else ""


@dataclass
class Visit:
    """Who is asking, in which language, with which CSRF token."""

    user: Any  # ledger.accounts.User or None
    csrf: str
    lang: str
    new_csrf_cookie: str | None = None  # set on the response when the visitor had none

    def gettext(self, message: str) -> str:
        from ledger.i18n import translations

        return translations(self.lang).gettext(message)


def language(request: Request) -> str:
    from ledger.i18n import LANGUAGES, negotiate

    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGUAGES else negotiate(request.headers.get("accept-language"))


def visit(desk: Desk, request: Request) -> Visit:
    """Who is asking (in the desk's lock)."""
    from itsdangerous import BadSignature

    from ledger import accounts

    lang = language(request)
    signed = request.cookies.get(SESSION_COOKIE)
    if signed:
        try:
            sid = desk.signer.unsign(signed, max_age=SESSION_AGE).decode()
        except BadSignature:
            sid = None
        found = accounts.session(desk.store, sid) if sid else None
        if found is not None:
            return Visit(found[1], found[0].csrf, lang)
    anonymous = request.cookies.get(CSRF_COOKIE)
    if anonymous:
        try:
            return Visit(None, desk.signer.unsign(anonymous).decode(), lang)
        except BadSignature:
            pass
    token = secrets.token_urlsafe(32)
    return Visit(None, token, lang, new_csrf_cookie=desk.signer.sign(token).decode())


def csrf_ok(visitor: Visit, form: Any) -> bool:
    given = form.get("csrf") or ""
    return bool(given) and hmac.compare_digest(str(given), visitor.csrf)


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path="/")


def render(desk: Desk, visitor: Visit, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    env = desk.templates(visitor.lang)
    html = env.get_template(template).render(user=visitor.user, csrf=visitor.csrf, lang=visitor.lang, **context)
    response = HTMLResponse(html, status_code=status)
    if visitor.new_csrf_cookie:
        set_cookie(response, CSRF_COOKIE, visitor.new_csrf_cookie)
    return response


def render_kept(desk: Desk, request: Request, visitor: Visit, team: str, key: tuple, template: str,
                context: Callable[[], dict]) -> Response:
    """`render` of a team page, kept by the team's held state until its position moves
    (`web.live.LiveStates.page`; call it inside `reading`): by `key` (the moment, the `?at=` text
    and what is asked), the language and who asks (name, team, role, consultant id). The page is
    rendered with `desk.csrf_slot` for the CSRF token, replaced by the visitor's own in the bytes
    sent, so no two users, nor two sessions, see each other's. ETag: the kept page's digest and
    the token's; `If-None-Match` with it answers 304 (the browser revalidates: `no-cache`)."""
    user, lang = visitor.user, visitor.lang

    def make() -> tuple[bytes, str]:
        html = desk.templates(lang).get_template(template).render(user=user, csrf=desk.csrf_slot, lang=lang, **context())
        body = html.encode("utf-8")
        return body, hashlib.blake2b(body, digest_size=12).hexdigest()

    body, digest = desk.live.page(team, (template, lang, user.name, user.team, user.role, user.consultant, *key), make)
    token = visitor.csrf.encode()
    etag = f'"{digest}-{hashlib.blake2b(token, digest_size=6).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Language"}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body.replace(desk.csrf_slot.encode(), token), media_type="text/html; charset=utf-8", headers=headers)


_PLUS_AS_SPACE = re.compile(r"([0-9]T[0-9:.]+) ([0-9]{2}(?::?[0-9]{2})?)$")


def parse_at(desk: Desk, team: str, text: str | None) -> dt.datetime | None:
    """`?at=`: ISO 8601, with an offset or (read in the team's zone) without; None: not given."""
    if not text:
        return None
    from commands.history import zone_now
    from ledger.events import parse_time_text

    text = _PLUS_AS_SPACE.sub(r"\1+\2", text.strip())  # a `+08:00` typed into a URL arrives as " 08:00"
    try:
        moment = parse_time_text(text, offset=False)
    except ValueError as error:
        raise InputError(f"at: {error}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=zone_now(desk.store, team, now()))
    return moment


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def error_page(desk: Desk, visitor: Visit, status: int, message: str) -> HTMLResponse:
    return render(desk, visitor, "error.html", status=status, status_code=status, message=message)


def page(handler: Callable[..., Any], *, method: str = "GET") -> Callable[[Request], Any]:
    """A team page: the visitor must be logged in and of the URL's team (403 otherwise); the
    handler runs in the desk's lock as `handler(desk, request, visitor, team, form)`; the ledger's
    errors become a page with their status (404 unknown team or lead, 422 bad input)."""
    async def endpoint(request: Request) -> Response:
        desk: Desk = request.app.state.desk
        form = await request.form() if method == "POST" else None

        def work() -> Response:
            visitor = visit(desk, request)
            if visitor.user is None:
                return login_redirect(request) if method == "GET" else error_page(
                    desk, visitor, 403, visitor.gettext("Please log in first."))
            team = request.path_params["team"]
            if team != visitor.user.team:
                return error_page(desk, visitor, 403, visitor.gettext("You may only see your own team."))
            if form is not None and not csrf_ok(visitor, form):
                return error_page(desk, visitor, 403, visitor.gettext("The form has expired; please try again."))
            try:
                return handler(desk, request, visitor, team, form)
            except (UnknownTeam, UnknownLead) as error:
                return error_page(desk, visitor, 404, str(error))
            except InputError as error:
                return error_page(desk, visitor, 422, str(error))
            except LedgerError as error:
                return error_page(desk, visitor, 500, str(error))
        response = await desk.run(work)
        if request.query_params.get("lang") in ("zh", "en"):  # the 中文/English switch is kept
            set_cookie(response, LANG_COOKIE, request.query_params["lang"], max_age=365 * 86400)
        return response
    return endpoint


def create_app(url: str | None = None) -> Starlette:
    """The desk on the store at `url` (None: `LEDGER_DB`, else the default store)."""
    import os

    from . import api, forms, pages, reports

    desk = Desk(url if url is not None else os.environ.get("LEDGER_DB"))
    routes = [
        Route("/", pages.home),
        Route("/login", pages.login_form, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
        *api.routes(),
        Route("/{team}/board", page(pages.board)),
        Route("/{team}/board/head", page(reports.board_head)),
        Route("/{team}/lookup", page(pages.lookup)),
        Route("/{team}/lookup/phone", page(reports.find_phone, method="POST"), methods=["POST"]),
        Route("/{team}/customers", page(reports.customers)),
        Route("/{team}/followups", page(reports.followups)),
        Route("/{team}/sanctions", page(reports.sanctions)),
        Route("/{team}/sanctions/impose", page(forms.impose, method="POST"), methods=["POST"]),
        Route("/{team}/sanctions/lift", page(forms.lift, method="POST"), methods=["POST"]),
        Route("/{team}/commission", page(reports.commission)),
        Route("/{team}/commission.csv", page(reports.commission_csv)),
        Route("/{team}/desk", page(forms.front_desk)),
        Route("/{team}/desk/arrival", page(forms.arrival, method="POST"), methods=["POST"]),
        Route("/{team}/desk/followup", page(forms.followup, method="POST"), methods=["POST"]),
        Route("/{team}/desk/presence", page(forms.presence, method="POST"), methods=["POST"]),
        Route("/{team}/disputes", page(pages.disputes)),
        Route("/{team}/disputes/{lead}", page(pages.dispute)),
        Route("/{team}/event/{n}", page(pages.event)),
        Route("/{team}/disputes/{lead}/ruling", page(pages.ruling, method="POST"), methods=["POST"]),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        desk.worker.shutdown(wait=True)
        desk.store.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.desk = desk
    return app


def app_from_env() -> Starlette:
    """For `uvicorn --factory` with several workers: the store from `LEDGER_DB`."""
    return create_app(None)
