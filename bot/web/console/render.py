"""Rendering console pages with the one Jinja2 environment (``bot.templating``).

Staff pages are in English, French, Dutch or German (``i18n``: the staff member's
choice, else the browser's); amounts and dates use that language's formats through
the shared filters.  Every page gets the signed-in user, the CSRF token for its forms and
the notice named by ``?done=`` (a fixed text per code: nothing from the URL is
echoed back).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.templating import environment
from bot.web.console.i18n import COOKIE, LANGUAGES, choose, translator

NOTICES = {
    "taken": "You took the conversation over: the bot stays silent until you hand it back.",
    "handed": "The conversation is back with the bot.",
    "sent": "Reply sent through the debtor's channel.",
    "resolved": "Escalation resolved.",
    "paused": "Reminders paused.",
    "stopped": "Reminders stopped.",
    "released": "Hold released: reminders resume.",
    "dispute": "Dispute resolved.",
    "written_off": "Invoice written off.",
    "applied": "Bank line applied.",
    "credit_used": "Credit set against the invoices.",
    "refund_approved": "Refund approved: it goes into the next refund file.",
    "held": "Reminder held.",
    "plan": "Plan decided.",
    "linked": "Conversation tied to the debtor.",
    "user_added": "User added.",
    "user_changed": "User changed.",
}
SECURITY_HEADERS = {
    # No inline script or style anywhere: scripts and styles come from /console/static.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def local_time(value: datetime | None, zone: ZoneInfo, language: str = "en") -> str:
    """A moment as staff read it: their time zone, the month in their language
    ("30 nov. 2026 12:51", "30 Nov 2026 12:51")."""
    if value is None:
        return ""
    from babel.dates import format_datetime

    from bot.templating import locale_of
    from bot.web.console.queries import aware

    moment = aware(value)
    assert moment is not None
    local = moment.astimezone(zone)
    return str(format_datetime(local, "d MMM y HH:mm", locale=locale_of(language)))


def language_of(request: web.Request) -> str:
    return choose(request.cookies.get(COOKIE), request.headers.get("Accept-Language", ""))


def page(request: web.Request, name: str, *, status: int = 200, **context: Any) -> web.Response:
    from bot.web.console.auth import SESSION_KEY
    from bot.web.keys import SETTINGS

    session = request.get(SESSION_KEY)
    zone = request.app[SETTINGS].timezone
    done = request.query.get("done", "")
    language = language_of(request)
    _ = translator(language)
    base = {
        "language": language,
        "languages": LANGUAGES,
        "_": _,
        "currency": "EUR",
        "user": session.user if session is not None else None,
        "csrf": session.csrf_token if session is not None else "",
        "path": request.path,
        "done": _(NOTICES.get(done, "")),
        "anonymous": False,
        "nav": context.pop("nav", None) or {"open": 0, "disputed": 0},
        "when": lambda value: local_time(value, zone, language),
        "title": "",
    }
    html = environment().get_template(name).render(base | context)
    return web.Response(text=html, content_type="text/html", status=status)
