"""Signed, expiring links to the pay page, an instalment's payment and a plan's calendar.

    token = sign(secret, "portal", 7, expires=1767225600)
    verify(secret, token, "portal", now=...)        -> 7
    verify(secret, token[:-1] + "x", "portal", ...)  -> LinkInvalid
    verify(secret, token, "portal", now=later)       -> LinkExpired

A token is ``base64url("purpose:id:expires")`` + ``.`` + the first 16 bytes of its
HMAC-SHA256 under RELANCE_SECRET_KEY, compared in constant time.  This is what
itsdangerous' URLSafeTimedSerializer does; written here with ``hmac`` because the
whole need is these twenty lines and no other part wants the dependency.  The
purpose is inside the signed text, so a calendar link never opens the pay page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import timedelta

from bot.config import Settings
from bot.errors import UserError

PORTAL = "portal"
INSTALMENT = "instalment"
CALENDAR = "calendar"
PORTAL_VALIDITY = timedelta(days=30)
INSTALMENT_VALIDITY = timedelta(days=400)


class LinkInvalid(ValueError):
    """Tampered with, truncated, or for another purpose."""


class LinkExpired(LinkInvalid):
    """Genuine but too old; ``ident`` is what it was signed for (its signature held)."""

    def __init__(self, message: str, ident: int) -> None:
        super().__init__(message)
        self.ident = ident


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return _b64(digest[:16])


def sign(secret: str, purpose: str, ident: int, expires: int) -> str:
    if not secret:
        raise UserError("RELANCE_SECRET_KEY is not set: pay links cannot be signed")
    body = _b64(f"{purpose}:{ident}:{expires}".encode())
    return f"{body}.{_mac(secret, body)}"


def verify(secret: str, token: str, purpose: str, now: float | None = None) -> int:
    """The id a token was signed for; raises LinkInvalid or LinkExpired."""
    if not secret:
        raise LinkInvalid("no secret key configured")
    body, _, mac = token.partition(".")
    if not body or not mac or not hmac.compare_digest(mac, _mac(secret, body)):
        raise LinkInvalid("bad signature")
    try:
        kind, ident, expires = _unb64(body).decode().split(":")
        number, deadline = int(ident), int(expires)
    except ValueError:
        raise LinkInvalid("malformed") from None
    if kind != purpose:
        raise LinkInvalid("wrong purpose")
    if (time.time() if now is None else now) >= deadline:
        raise LinkExpired("expired", number)
    return number


def _expiry(valid_for: timedelta, now: float | None) -> int:
    return int((time.time() if now is None else now) + valid_for.total_seconds())


def portal_url(
    settings: Settings,
    debtor_id: int,
    valid_for: timedelta = PORTAL_VALIDITY,
    now: float | None = None,
) -> str:
    token = sign(settings.secret_key.get(), PORTAL, debtor_id, _expiry(valid_for, now))
    return f"{settings.public_url}/pay/{token}"


def instalment_url(
    settings: Settings,
    instalment_id: int,
    valid_for: timedelta = INSTALMENT_VALIDITY,
    now: float | None = None,
) -> str:
    token = sign(settings.secret_key.get(), INSTALMENT, instalment_id, _expiry(valid_for, now))
    return f"{settings.public_url}/pay/instalment/{token}"


def calendar_url(
    settings: Settings,
    plan_id: int,
    valid_for: timedelta = INSTALMENT_VALIDITY,
    now: float | None = None,
) -> str:
    token = sign(settings.secret_key.get(), CALENDAR, plan_id, _expiry(valid_for, now))
    return f"{settings.public_url}/pay/plan/{token}/schedule.ics"
