"""Mollie's webhook: ``POST /webhooks/mollie`` with the form field ``id`` only.

    id=tr_WDqYK6vllg  ->  fetch tr_WDqYK6vllg through the client (never trust the call)
                          paid      -> allocated over its invoices once, plan refreshed
                          failed / expired / canceled -> status stored, nothing paid
                          a repeated webhook -> "duplicate", nothing changes

Webhooks are unsigned and anyone can call this URL (FACTS.md §6.1): that is why the
status comes from Mollie itself.  An unknown id is answered 200 like a known one,
so the endpoint tells a prober nothing.  A failure to reach Mollie answers 503:
Mollie calls again later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime

from aiohttp import web

from bot.web.keys import ENGINE, SETTINGS

log = logging.getLogger(__name__)

# The payment provider (``adapters.payments.mollie.PaymentProvider``), or None when
# Mollie is not configured.
PAYMENTS = web.AppKey("payments", object)
_ID = re.compile(r"^tr_[A-Za-z0-9]{1,60}$")


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_provider)
    app.router.add_post("/webhooks/mollie", mollie_webhook)


async def _provider(app: web.Application) -> AsyncIterator[None]:
    from bot.plans import provider_from_settings

    app[PAYMENTS] = provider_from_settings(app[SETTINGS])  # type: ignore[assignment]
    yield


async def mollie_webhook(request: web.Request) -> web.Response:
    from adapters.payments.mollie import PaymentNotFound, PaymentProviderError
    from bot.plans import record_payment

    form = await request.post()
    payment_id = str(form.get("id") or "")
    if not _ID.match(payment_id):
        raise web.HTTPBadRequest(text="id is a Mollie payment id (tr_...)")
    provider = request.app.get(PAYMENTS)
    if provider is None:
        raise web.HTTPServiceUnavailable(text="payments are not configured")
    try:
        fetched = await provider.get_payment(payment_id)  # type: ignore[attr-defined]
    except PaymentNotFound:
        return web.Response(text="ok")
    except PaymentProviderError as exc:
        log.warning("webhook %s: %s", payment_id, exc)
        raise web.HTTPServiceUnavailable(text="payment provider unreachable") from None
    settings = request.app[SETTINGS]
    today = datetime.now(settings.timezone).date()
    from bot.web.webchat import CONVERSATIONS

    async with request.app[ENGINE].begin() as conn:
        outcome = await record_payment(conn, fetched, today, request.app.get(CONVERSATIONS))
    log.info("mollie webhook %s: %s", payment_id, outcome)
    return web.Response(text="ok")
