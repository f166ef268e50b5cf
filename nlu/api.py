"""``parse(text, reference_date=None) -> dict``: the one call the rest of Relance uses.

    >>> parse("Je paierai 250 € vendredi prochain", date(2026, 3, 10))["intent"]["name"]
    'promise_to_pay'

The result has the shape of ``shared/contracts/nlu.md``.  The default parser is
built once per process (the model loads from the disk cache, or trains in a few
seconds the first time).  ``NLU_BACKEND=rasa`` with ``RASA_URL`` sends texts to a
Rasa server instead (``nlu.rasa_client``); entities still come from ours so that
values keep the contract's formats.

Without ``reference_date`` dates are resolved against today in the creditor's
time zone (``RELANCE_TIMEZONE``, Europe/Brussels by default).
"""

from __future__ import annotations

import os
import threading
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import UserError


class Backend(Protocol):
    def parse_many(self, texts: list[str], reference_dates: list[date]) -> list[dict[str, Any]]: ...


_lock = threading.Lock()
_backend: Backend | None = None


def today(env: dict[str, str] | None = None) -> date:
    """Today's date in the configured time zone."""
    name = (env if env is not None else os.environ).get("RELANCE_TIMEZONE") or "Europe/Brussels"
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"RELANCE_TIMEZONE is not a known time zone: {name!r}") from None
    return datetime.now(zone).date()


def default_backend() -> Backend:
    """The process-wide backend chosen by ``NLU_BACKEND`` (built on first use)."""
    global _backend
    with _lock:
        if _backend is None:
            _backend = make_backend(
                os.environ.get("NLU_BACKEND", "embedded"), os.environ.get("RASA_URL", "")
            )
        return _backend


def make_backend(kind: str, rasa_url: str = "") -> Backend:
    if kind in ("", "embedded"):
        from nlu.pipeline import Parser

        return Parser.load()
    if kind == "rasa":
        if not rasa_url:
            raise UserError("NLU_BACKEND=rasa needs RASA_URL (e.g. http://127.0.0.1:5005)")
        from nlu.rasa_client import RasaBackend

        return RasaBackend(rasa_url)
    raise UserError(f"NLU_BACKEND must be 'embedded' or 'rasa', not {kind!r}")


def set_backend(backend: Backend | None) -> None:
    """Replace the process-wide backend (tests, or a server that built its own)."""
    global _backend
    with _lock:
        _backend = backend


def parse(text: str, reference_date: date | None = None) -> dict[str, Any]:
    """What a debtor's message means (contract shape)."""
    return default_backend().parse_many([text], [reference_date or today()])[0]


def parse_many(
    texts: list[str], reference_dates: list[date | None] | None = None
) -> list[dict[str, Any]]:
    """Several messages at once (one model call); ``None`` dates mean today."""
    now = today()
    dates = [d or now for d in (reference_dates or [None] * len(texts))]
    return default_backend().parse_many(list(texts), dates)
