"""``POST /model/parse``: Rasa's parse endpoint, answered by Relance's NLU.

    request:  {"text": "Je paierai 250 € vendredi prochain",
               "reference_time": "2026-03-10T09:00:00+01:00"}   (optional)
    response: the parse result of shared/contracts/nlu.md (Rasa's response shape)

``reference_time`` is an ISO date-time (or date); its calendar date in the
creditor's time zone is the reference for dates.  Without it: today there.
Errors answer like Rasa does: ``{"status": "failure", "reason": ..., "message": ...,
"code": 400}``.

The model loads on the first request (not at start-up, so the other parts of the
app start fast) and parsing runs in a worker thread so the event loop never waits
on scikit-learn.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

from aiohttp import web

from bot.web.keys import SETTINGS


class NluState:
    """The backend, built once on first use (app state is frozen once started)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.backend: Any = None


NLU = web.AppKey("nlu", NluState)


def setup(app: web.Application) -> None:
    app[NLU] = NluState()
    app.router.add_post("/model/parse", parse_handler)


def _failure(message: str, status: int = 400) -> web.Response:
    reason = "BadRequest" if status == 400 else "ServerError"
    return web.json_response(
        {"status": "failure", "reason": reason, "message": message, "code": status},
        status=status,
    )


def reference_date(raw: Any, settings_zone: Any) -> date:
    """The calendar date of ``reference_time`` in the creditor's zone (today without it)."""
    if raw is None or raw == "":
        return datetime.now(settings_zone).date()
    if not isinstance(raw, str):
        raise ValueError("'reference_time' must be an ISO 8601 string")
    text = raw.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'reference_time' is not ISO 8601: {raw!r}") from None
    if moment.tzinfo is None:
        return moment.date()  # a local time: already the creditor's calendar
    return moment.astimezone(settings_zone).date()


async def _backend(app: web.Application) -> Any:
    state = app[NLU]
    async with state.lock:
        if state.backend is None:
            from nlu.api import make_backend

            settings = app[SETTINGS]
            state.backend = await asyncio.to_thread(
                make_backend, settings.nlu_backend, settings.rasa_url
            )
        return state.backend


async def parse_handler(request: web.Request) -> web.Response:
    from bot.errors import RelanceError

    try:
        body = await request.json()
    except ValueError:
        return _failure("the request body is not valid JSON")
    if not isinstance(body, dict):
        return _failure("expected a JSON object with a 'text' field")
    text = body.get("text")
    if not isinstance(text, str):
        return _failure("'text' is missing or not a string")
    try:
        reference = reference_date(body.get("reference_time"), request.app[SETTINGS].timezone)
    except ValueError as exc:
        return _failure(str(exc))
    try:
        backend = await _backend(request.app)
        result = (await asyncio.to_thread(backend.parse_many, [text], [reference]))[0]
    except RelanceError as exc:
        return _failure(exc.message, 500)
    return web.json_response(result)
