"""The debtor's pay page, reached by a signed, expiring link (``bot.paylinks``).

    GET  /pay/{token}                      open invoices with checkboxes, transfer
                                           details with an EPC QR code, the plan if
                                           one runs, and the web chat
    POST /pay/{token}                      the chosen invoices -> a Mollie pay link
    GET  /pay/instalment/{token}           -> 303 to the checkout of that instalment
    GET  /pay/plan/{token}/schedule.ics    the plan's dates for a calendar
    GET  /pay/done                         where Mollie sends the debtor back

An expired or tampered link gets a page that says so, in the language the browser
asks for, and nothing about any debt.  The page links its chat session to the
debtor with a one-time portal token (``/start <token>`` on the web chat channel).

Headers: a strict Content-Security-Policy (scripts and styles from this site only,
no inline code; forms post here only), ``Referrer-Policy: no-referrer`` (the token
is in the URL and must not leak to Mollie or elsewhere), ``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from aiohttp import web

from bot.paylinks import CALENDAR, INSTALMENT, PORTAL, LinkExpired, LinkInvalid, verify
from bot.templating import TEMPLATES, environment
from bot.web.keys import ENGINE, SETTINGS
from bot.web.mollie_webhook import PAYMENTS
from domain.debtor import LANGUAGES
from domain.reference import display

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
STATIC = {"portal.js": "text/javascript", "portal.css": "text/css"}


def setup(app: web.Application) -> None:
    # Fixed paths first: "/pay/{token}" would match "/pay/done" too.
    app.router.add_get("/pay/done", done)
    app.router.add_get("/pay/static/{name}", static)
    app.router.add_get("/pay/instalment/{token}", pay_instalment)
    app.router.add_get("/pay/plan/{token}/schedule.ics", calendar)
    app.router.add_get("/pay/{token}", page)
    app.router.add_post("/pay/{token}", choose)


@lru_cache(maxsize=8)
def strings(language: str) -> dict[str, str]:
    path = TEMPLATES / "portal" / f"{language}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def browser_language(request: web.Request) -> str:
    """The first of fr/nl/en/de the browser asks for (``?lang=`` wins); else fr."""
    asked = request.query.get("lang", "")
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "fr"


def _html(body: str, status: int = 200) -> web.Response:
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _render(name: str, language: str, request: web.Request, **context: Any) -> str:
    settings = request.app[SETTINGS]
    return (
        environment()
        .get_template(f"portal/{name}.html")
        .render(
            {
                "language": language,
                "t": strings(language),
                "creditor": settings.creditor,
                "currency": "EUR",
            }
            | context
        )
    )


def _refused(request: web.Request, error: LinkInvalid, language: str | None = None) -> web.Response:
    language = language or browser_language(request)
    expired = isinstance(error, LinkExpired)
    return _html(
        _render("invalid", language, request, expired=expired), status=410 if expired else 403
    )


def _secret(request: web.Request) -> str:
    return request.app[SETTINGS].secret_key.get()


def _csrf(request: web.Request, token: str) -> str:
    mac = hmac.new(_secret(request).encode(), f"csrf:{token}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def _qr_data_uri(settings: Any, amount: Decimal, reference: str | None, text: str) -> str | None:
    """The EPC QR code (the dunning part's generator) as an inline PNG image."""
    from bot.dunning import epc_qr_png

    if amount <= 0 or amount > Decimal("999999999.99"):
        return None
    png = epc_qr_png(
        name=settings.creditor.name,
        iban=settings.creditor.iban,
        amount=amount,
        reference=reference,
        text=text,
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


async def _debtor_page(
    request: web.Request, token: str, debtor_id: int, **extra: Any
) -> web.Response:
    from adapters.db import conversation_repo, plan_repo
    from bot.dialogue.context import load_debtor_context
    from bot.paylinks import instalment_url
    from domain.payment_plan import progress

    settings = request.app[SETTINGS]
    async with request.app[ENGINE].begin() as conn:
        debtor = await load_debtor_context(conn, debtor_id, settings)
        if debtor is None:
            return _refused(request, LinkInvalid("unknown debtor"))
        # One token per page view, for its chat session only: short-lived.
        chat_token = await conversation_repo.create_link_token(
            conn, debtor_id, "portal", valid_for=timedelta(days=1)
        )
        # And one for the chat to go on in Telegram, where the bot has a name:
        # t.me opens the bot, which receives "/start <token>" and knows the debtor.
        telegram_url = None
        if bot_name := telegram_bot_name(request.app):
            telegram_token = await conversation_repo.create_link_token(
                conn, debtor_id, "telegram", valid_for=timedelta(days=7)
            )
            telegram_url = f"https://t.me/{bot_name}?start={telegram_token}"
        plan_view = None
        for plan_id in await plan_repo.active_plan_ids(conn, debtor_id):
            plan = await plan_repo.load_plan(conn, plan_id)
            if plan is None:
                continue
            paid = await plan_repo.paid_since_start(conn, plan_id)
            steps = progress(plan.instalments, paid)
            plan_view = [
                {
                    "number": s.instalment.number,
                    "due_date": s.instalment.due_date,
                    "amount": s.instalment.amount,
                    "remaining": s.remaining,
                    "url": instalment_url(settings, iid) if not s.settled else None,
                }
                for s, iid in zip(steps, plan.instalment_ids, strict=True)
            ]
    language = debtor.language if debtor.language in LANGUAGES else browser_language(request)
    language = request.query.get("lang", language)
    if language not in LANGUAGES:
        language = "fr"
    invoices = [i for i in debtor.invoices if not i.disputed]
    single = invoices[0] if len(invoices) == 1 else None
    qr = _qr_data_uri(
        settings,
        sum((i.open_amount for i in invoices), Decimal("0.00")),
        single.reference if single else None,
        ", ".join(i.number for i in invoices),
    )
    return _html(
        _render(
            "page",
            language,
            request,
            token=token,
            csrf=_csrf(request, token),
            debtor=debtor,
            invoices=[
                {
                    "id": i.id,
                    "number": i.number,
                    "issue_date": i.issue_date,
                    "due_date": i.due_date,
                    "open_amount": i.open_amount,
                    "reference": display(i.reference),
                }
                for i in invoices
            ],
            disputed=[i for i in debtor.invoices if i.disputed],
            total=sum((i.open_amount for i in invoices), Decimal("0.00")),
            currency=debtor.currency,
            qr=qr,
            plan=plan_view,
            chat_start=f"/start {chat_token}",
            telegram_url=telegram_url,
            online=request.app.get(PAYMENTS) is not None,
            **({"pay_link": None, "pay_amount": None, "error": None} | extra),
        )
    )


def telegram_bot_name(app: web.Application) -> str:
    """The Telegram bot's @name: as configured, else as Telegram told the running
    bot (getMe, at its start); empty when there is no bot (no link is shown)."""
    from bot.channels.telegram import TelegramChannel
    from bot.workers import TELEGRAM

    configured = app[SETTINGS].telegram_bot_username
    if configured:
        return configured
    channel = app.get(TELEGRAM)
    if isinstance(channel, TelegramChannel) and channel.started.is_set():
        return channel.bot.username or ""
    return ""


async def page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    try:
        debtor_id = verify(_secret(request), token, PORTAL)
    except LinkExpired as error:
        # A genuine link, only old: its debtor's language is known (and says nothing
        # of any debt); a tampered link gets the browser's language.
        language = None
        if "lang" not in request.query:
            async with request.app[ENGINE].connect() as conn:
                language = await _debtor_language(conn, error.ident)
        return _refused(request, error, language)
    except LinkInvalid as error:
        return _refused(request, error)
    return await _debtor_page(request, token, debtor_id)


async def choose(request: web.Request) -> web.Response:
    from adapters.payments.mollie import PaymentProviderError
    from bot.plans import PlanRefused, pay_invoices

    token = request.match_info["token"]
    try:
        debtor_id = verify(_secret(request), token, PORTAL)
    except LinkInvalid as error:
        return _refused(request, error)
    form = await request.post()
    if not hmac.compare_digest(str(form.get("csrf", "")), _csrf(request, token)):
        raise web.HTTPForbidden(text="the form has expired: reload the page")
    try:
        chosen = sorted({int(str(v)) for v in form.getall("invoice", [])})
    except ValueError:
        raise web.HTTPBadRequest(text="invoice must be a number") from None
    if not chosen:
        return await _debtor_page(request, token, debtor_id, error="choose")
    provider = request.app.get(PAYMENTS)
    if provider is None:
        return await _debtor_page(request, token, debtor_id, error="offline")
    try:
        async with request.app[ENGINE].begin() as conn:
            url, amount = await pay_invoices(
                conn,
                provider,  # type: ignore[arg-type]
                request.app[SETTINGS],
                debtor_id,
                chosen,
            )
    except PlanRefused:
        return await _debtor_page(request, token, debtor_id, error="choose")
    except PaymentProviderError:
        return await _debtor_page(request, token, debtor_id, error="provider")
    return await _debtor_page(request, token, debtor_id, pay_link=url, pay_amount=amount)


async def pay_instalment(request: web.Request) -> web.Response:
    from adapters.payments.mollie import PaymentProviderError
    from bot.plans import pay_instalment as checkout_for

    try:
        instalment_id = verify(_secret(request), request.match_info["token"], INSTALMENT)
    except LinkInvalid as error:
        return _refused(request, error)
    settings = request.app[SETTINGS]
    provider = request.app.get(PAYMENTS)
    language = await _instalment_language(request, instalment_id)
    if provider is None:
        return _html(_render("done", language, request, state="offline"), status=503)
    today = datetime.now(settings.timezone).date()
    try:
        async with request.app[ENGINE].begin() as conn:
            url = await checkout_for(conn, provider, settings, instalment_id, today)  # type: ignore[arg-type]
    except PaymentProviderError:
        return _html(_render("done", language, request, state="provider"), status=502)
    if url is None:
        return _html(_render("done", language, request, state="nothing"))
    raise web.HTTPSeeOther(url)


async def calendar(request: web.Request) -> web.Response:
    from adapters.db import plan_repo
    from bot.plans import schedule_ics
    from bot.templating import money

    try:
        plan_id = verify(_secret(request), request.match_info["token"], CALENDAR)
    except LinkInvalid as error:
        return _refused(request, error)
    settings = request.app[SETTINGS]
    async with request.app[ENGINE].connect() as conn:
        plan = await plan_repo.load_plan(conn, plan_id)
        language = await _debtor_language(conn, plan.debtor_id) if plan else "fr"
    if plan is None:
        return _refused(request, LinkInvalid("unknown plan"))
    t = strings(language)
    count = len(plan.instalments)
    titles = [
        t["ics_summary"]
        .replace("{number}", str(i.number))
        .replace("{count}", str(count))
        .replace("{amount}", money(i.amount, plan.currency, language))
        .replace("{creditor}", settings.creditor.name)
        for i in plan.instalments
    ]
    host = settings.public_url.split("://", 1)[-1].split("/")[0].split(":")[0]
    body = schedule_ics(
        plan_id=plan.id,
        instalments=plan.instalments,
        titles=titles,
        description=t["ics_description"]
        .replace("{iban}", settings.creditor.iban)
        .replace("{creditor}", settings.creditor.name),
        host=host or "relance",
        stamp=datetime.now(UTC),
    )
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="payment-plan.ics"',
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


async def _instalment_language(request: web.Request, instalment_id: int) -> str:
    """The language of the debtor whose instalment it is (``?lang=`` wins): the
    link comes from a message in that language, whatever the browser says."""
    from adapters.db import plan_repo

    if request.query.get("lang", "") in LANGUAGES:
        return browser_language(request)
    async with request.app[ENGINE].connect() as conn:
        plan_id = await plan_repo.plan_of_instalment(conn, instalment_id)
        plan = await plan_repo.load_plan(conn, plan_id) if plan_id is not None else None
        if plan is None:
            return browser_language(request)
        return await _debtor_language(conn, plan.debtor_id)


async def _debtor_language(conn: Any, debtor_id: int) -> str:
    from sqlalchemy import select

    from adapters.db.schema import debtors

    found = (
        await conn.execute(select(debtors.c.language).where(debtors.c.id == debtor_id))
    ).scalar_one_or_none()
    return found if found in LANGUAGES else "fr"


async def done(request: web.Request) -> web.Response:
    return _html(_render("done", browser_language(request), request, state="back"))


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    return web.Response(
        body=(TEMPLATES / "portal" / name).read_bytes(),
        content_type=STATIC[name],
        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
