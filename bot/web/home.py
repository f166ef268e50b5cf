"""The home page: where a person starts clicking.

In a demo (``relance demo``) it lists the demo debtors with their signed pay-page
links (each page has the web chat), the staff console and the API.  Outside a
demo it lists no debtor: a signed link is as good as a password.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from sqlalchemy import func, select

from adapters.db.schema import debtors, invoices
from bot.templating import render
from bot.web.keys import ENGINE, SETTINGS
from domain.invoice import InvoiceKind


def setup(app: web.Application) -> None:
    app.router.add_get("/", home)


async def home(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    rows: list[dict[str, object]] = []
    if settings.demo and settings.secret_key:
        from bot.paylinks import portal_url

        open_total = func.coalesce(func.sum(invoices.c.open_amount), 0)
        query = (
            select(
                debtors.c.id,
                debtors.c.code,
                debtors.c.name,
                debtors.c.kind,
                debtors.c.language,
                open_total.label("open_total"),
            )
            .join(invoices, invoices.c.debtor_id == debtors.c.id)
            .where(invoices.c.kind == InvoiceKind.INVOICE.value)
            .group_by(
                debtors.c.id, debtors.c.code, debtors.c.name, debtors.c.kind, debtors.c.language
            )
            .order_by(debtors.c.code)
            .limit(100)
        )
        async with request.app[ENGINE].connect() as conn:
            for row in await conn.execute(query):
                rows.append(
                    {
                        "code": row.code,
                        "name": row.name,
                        "kind": row.kind,
                        "language": row.language,
                        "open_total": row.open_total,
                        "pay_url": portal_url(settings, row.id, timedelta(days=7)),
                    }
                )
    body = render(
        "web/home.html",
        {"language": "en", "demo": settings.demo, "debtors": rows, "creditor": settings.creditor},
    )
    return web.Response(
        text=body,
        content_type="text/html",
        headers={"Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'"},
    )
