"""Signing staff in and checking every console request.

    GET  /console/login        the form (with a login CSRF token in a cookie)
    POST /console/login        password check, rate limit, new server-side session
    POST /console/logout

Every other ``/console`` request passes ``console_guard``:
  - without a live session: GET goes to the login page, anything else gets 401;
  - a POST must carry the session's CSRF token (form field ``csrf_token`` or the
    ``X-CSRF-Token`` header), compared in constant time, else 403;
  - handlers then state the role they need with ``@requires("manager")``.
The session cookie is HttpOnly, SameSite=Strict and limited to ``/console``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from aiohttp import web

from adapters.db import conversation_repo, staff_repo
from adapters.db.staff_repo import LoginRefused, Session, StaffUser
from bot.web.console.i18n import translator
from bot.web.console.render import language_of, page
from bot.web.keys import ENGINE, SETTINGS

COOKIE = "relance_console"
LOGIN_COOKIE = "relance_login"
SESSION_KEY = web.RequestKey("staff_session", Session)
PUBLIC = ("/console/login", "/console/static/", "/console/language")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def session_of(request: web.Request) -> Session:
    session = request.get(SESSION_KEY)
    if not isinstance(session, Session):  # only reachable if a route skipped the guard
        raise web.HTTPUnauthorized()
    return session


def user_of(request: web.Request) -> StaffUser:
    return session_of(request).user


def _secure(request: web.Request) -> bool:
    return request.app[SETTINGS].public_url.startswith("https://")


def client_address(request: web.Request) -> str:
    return (request.remote or "unknown")[:64]


@web.middleware
async def console_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/console"):
        return await handler(request)
    if request.path.startswith(PUBLIC) or request.path == "/console/logout":
        return await handler(request)
    token = request.cookies.get(COOKIE, "")
    async with request.app[ENGINE].begin() as conn:
        session = await staff_repo.load_session(conn, token) if token else None
    if session is None:
        if request.method in ("GET", "HEAD") and request.path != "/console/events":
            target = request.path_qs
            raise web.HTTPFound(f"/console/login?next={quote(target)}&expired={int(bool(token))}")
        raise web.HTTPUnauthorized(text="sign in first (or again: the session ended)")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get("X-CSRF-Token", "")
        if not sent and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            sent = str(form.get("csrf_token", ""))
        if not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise web.HTTPForbidden(text="missing or wrong CSRF token: reload the page")
    request[SESSION_KEY] = session
    return await handler(request)


NEEDS_ROLE = "This needs the {role} role; you are signed in as {current}."


def requires(role: str) -> Callable[[Handler], Handler]:
    """The handler runs only for staff with at least ``role``; others get 403."""

    def wrap(handler: Handler) -> Handler:
        @wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            user = user_of(request)
            if not user.may(role):
                async with request.app[ENGINE].begin() as conn:
                    await conversation_repo.audit(
                        conn, user.actor, "refused", path=request.path, needed=role
                    )
                _ = translator(language_of(request))
                return page(
                    request,
                    "console/error.html",
                    status=403,
                    title="Not allowed",
                    message=_(NEEDS_ROLE).format(role=_(role), current=_(user.role)),
                )
            return await handler(request)

        checked.required_role = role  # type: ignore[attr-defined]
        return checked

    return wrap


def _safe_next(target: str) -> str:
    """Only a path inside the console: never an open redirect."""
    if target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/"


async def login_form(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    csrf = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    notice = ""
    if request.query.get("expired") == "1" and not error:
        notice = "Your session ended. Please sign in again."
    response = page(
        request,
        "console/login.html",
        status=status,
        login_csrf=csrf,
        next=_safe_next(request.query.get("next", "/console/")),
        error=error,
        notice=notice,
        anonymous=True,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        csrf,
        httponly=True,
        samesite="Strict",
        path="/console/login",
        secure=_secure(request),
    )
    return response


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    expected = request.cookies.get(LOGIN_COOKIE, "")
    sent = str(form.get("csrf_token", ""))
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return await login_form(request, "The form expired. Please try again.", 403)
    login_name = str(form.get("login", ""))
    password = str(form.get("password", ""))
    engine = request.app[ENGINE]
    try:
        user = await staff_repo.check_password(
            engine, login_name, password, client_address(request)
        )
    except LoginRefused as exc:
        if exc.throttled:
            return await login_form(
                request, "Too many failed attempts. Wait 15 minutes and try again.", 429
            )
        return await login_form(request, "Wrong login or password.", 401)
    async with engine.begin() as conn:
        token, _csrf = await staff_repo.open_session(conn, user.id, client_address(request))
        await conversation_repo.audit(
            conn, user.actor, "signed_in", address=client_address(request)
        )
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", "/console/"))))
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        path="/console",
        secure=_secure(request),
        max_age=int(staff_repo.LIFETIME.total_seconds()),
    )
    response.del_cookie(LOGIN_COOKIE, path="/console/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE, "")
    engine = request.app[ENGINE]
    if token:
        async with engine.begin() as conn:
            session = await staff_repo.load_session(conn, token)
            if session is not None:
                form = await request.post()
                if not hmac.compare_digest(
                    str(form.get("csrf_token", "")).encode(), session.csrf_token.encode()
                ):
                    raise web.HTTPForbidden(text="missing or wrong CSRF token")
                await staff_repo.close_session(conn, token)
                await conversation_repo.audit(conn, session.user.actor, "signed_out")
    response = web.HTTPSeeOther("/console/login")
    response.del_cookie(COOKIE, path="/console")
    raise response


async def set_language(request: web.Request) -> web.StreamResponse:
    """Remember the staff member's language (a cookie) and go back where they were."""
    from bot.web.console.i18n import COOKIE as LANGUAGE_COOKIE
    from bot.web.console.i18n import LANGUAGES

    wanted = request.query.get("to", "")
    response = web.HTTPSeeOther(_safe_next(request.query.get("back", "/console/")))
    if wanted in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            wanted,
            samesite="Strict",
            path="/console",
            max_age=365 * 24 * 3600,
            secure=_secure(request),
        )
    raise response


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/console/language", set_language)
    app.router.add_get("/console/login", login_form)
    app.router.add_post("/console/login", login)
    app.router.add_post("/console/logout", logout)


def form_value(form: Any, name: str) -> str:
    return str(form.get(name, "")).strip()
