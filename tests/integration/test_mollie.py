"""Mollie through the real mollie-api-python client against a fake Mollie on loopback:
creating payments, and the webhook's paid / failed / expired / duplicate flows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.conversation_schema import audit_log
from adapters.db.ledger import import_invoices
from adapters.db.plan_schema import payments
from adapters.db.schema import allocations, debtors, invoices
from adapters.imports import read_invoice_file
from adapters.payments.mollie import (
    MolliePayments,
    PaymentNotFound,
    allowed_methods,
    mollie_amount,
)
from bot.config import load_settings
from bot.paylinks import portal_url
from bot.web.app import create_app
from tests.support.fake_mollie import FakeMollie

SECRET = "s" * 40


@pytest.fixture
def mollie() -> Iterator[FakeMollie]:
    with FakeMollie() as fake:
        yield fake


def settings_for(mollie: FakeMollie, public_url: str = "http://127.0.0.1:9") -> object:
    return load_settings(
        {
            "DATABASE_URL": "sqlite://",
            "RELANCE_SECRET_KEY": SECRET,
            "RELANCE_PUBLIC_URL": public_url,
            "MOLLIE_API_KEY": mollie.api_key,
            "MOLLIE_API_ENDPOINT": mollie.url,
        }
    )


@pytest.fixture
async def ledger(engine: AsyncEngine, tmp_path: Path) -> AsyncEngine:
    path = tmp_path / "ledger.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;issue_date;"
        "due_date;amount\n"
        "INV-1;C1;Boulangerie Dupont;business;fr;compta@dupont.be;2026-01-10;2026-02-09;400,00\n"
        "INV-2;C1;Boulangerie Dupont;business;fr;compta@dupont.be;2026-02-01;2026-03-03;100,00\n"
        "INV-3;C1;Boulangerie Dupont;business;fr;compta@dupont.be;2026-02-15;2026-03-17;1650,00\n"
    )
    await import_invoices(engine, [(path.name, read_invoice_file(path))])
    return engine


@pytest.fixture
async def client(ledger: AsyncEngine, mollie: FakeMollie) -> AsyncIterator[TestClient]:
    app = create_app(settings_for(mollie), ledger)  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def _ids(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(invoices.c.number, invoices.c.id))).all()
        debtor = (await conn.execute(select(debtors.c.id))).scalar_one()
    return dict(rows) | {"debtor": debtor}


async def _open(engine: AsyncEngine) -> dict[str, Decimal]:
    async with engine.connect() as conn:
        return dict((await conn.execute(select(invoices.c.number, invoices.c.open_amount))).all())


async def _count(engine: AsyncEngine, table: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


def test_amounts_are_strings_with_two_decimals_and_bancontact_stops_at_1500() -> None:
    assert mollie_amount(Decimal("12.5")) == {"currency": "EUR", "value": "12.50"}
    assert mollie_amount(Decimal("1500")) == {"currency": "EUR", "value": "1500.00"}
    assert "bancontact" in allowed_methods(Decimal("1500.00"))
    assert "bancontact" not in allowed_methods(Decimal("1500.01"))


async def test_the_client_creates_and_fetches_a_payment(mollie: FakeMollie) -> None:
    provider = MolliePayments(mollie.api_key, mollie.url, "https://relance.example/webhooks/mollie")
    created = await provider.create_payment(
        Decimal("123.40"),
        "EUR",
        "Invoice INV-1",
        redirect_url="https://relance.example/pay/done",
        metadata={"invoices": ["INV-1"]},
    )
    assert created.status == "open"
    assert created.checkout_url == f"{mollie.url}/checkout/{created.id}"
    method, path, body = mollie.requests[-1]
    assert (method, path) == ("POST", "/v2/payments")
    assert body is not None
    assert body["amount"] == {"currency": "EUR", "value": "123.40"}
    assert body["webhookUrl"] == "https://relance.example/webhooks/mollie"
    assert "bancontact" in body["method"]
    mollie.set_status(created.id, "paid")
    fetched = await provider.get_payment(created.id)
    assert (fetched.status, fetched.amount, fetched.metadata) == (
        "paid",
        Decimal("123.40"),
        {"invoices": ["INV-1"]},
    )
    with pytest.raises(PaymentNotFound):
        await provider.get_payment("tr_doesnotexist")


async def test_above_1500_bancontact_is_not_offered(mollie: FakeMollie) -> None:
    provider = MolliePayments(mollie.api_key, mollie.url, "https://relance.example/webhooks/mollie")
    created = await provider.create_payment(
        Decimal("1650.00"), "EUR", "INV-3", redirect_url="https://x.example/", metadata={}
    )
    body = mollie.requests[-1][2]
    assert body is not None
    assert "bancontact" not in body["method"]
    assert "kbc" in body["method"]
    assert created.amount == Decimal("1650.00")


async def _choose(
    client: TestClient, ledger: AsyncEngine, mollie: FakeMollie, *numbers: str
) -> str:
    """Tick invoices on the pay page; returns the Mollie payment id of the pay link."""
    ids = await _ids(ledger)
    url = portal_url(settings_for(mollie), ids["debtor"])  # type: ignore[arg-type]
    path = url.split("127.0.0.1:9", 1)[1]
    page = await client.get(path)
    assert page.status == 200
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', await page.text())
    assert csrf
    form = [("csrf", csrf.group(1))] + [("invoice", str(ids[n])) for n in numbers]
    answer = await client.post(path, data=form)
    html = await answer.text()
    assert answer.status == 200, html
    link = re.search(r'id="pay-link" href="([^"]+)"', html)
    assert link, html
    return link.group(1).rsplit("/", 1)[1]


async def _webhook(client: TestClient, payment_id: str) -> int:
    response = await client.post("/webhooks/mollie", data={"id": payment_id})
    return response.status


async def test_paid_webhook_allocates_once_even_when_repeated(
    client: TestClient, ledger: AsyncEngine, mollie: FakeMollie
) -> None:
    payment_id = await _choose(client, ledger, mollie, "INV-1", "INV-2")
    assert mollie.payments[payment_id]["amount"] == {"currency": "EUR", "value": "500.00"}
    # Before the debtor pays, a webhook (Mollie calls on every change) changes nothing.
    assert await _webhook(client, payment_id) == 200
    assert await _count(ledger, allocations) == 0

    mollie.set_status(payment_id, "paid")
    assert await _webhook(client, payment_id) == 200
    after = await _open(ledger)
    assert after == {
        "INV-1": Decimal("0.00"),
        "INV-2": Decimal("0.00"),
        "INV-3": Decimal("1650.00"),
    }
    async with ledger.connect() as conn:
        rows = (await conn.execute(select(allocations.c.source_kind, allocations.c.amount))).all()
        status = (await conn.execute(select(payments.c.status))).scalar_one()
    assert sorted(rows) == [("mollie", Decimal("100.00")), ("mollie", Decimal("400.00"))]
    assert status == "paid"
    audits = await _count(ledger, audit_log)

    # Mollie retries, or someone replays the call: nothing moves.
    assert await _webhook(client, payment_id) == 200
    assert await _webhook(client, payment_id) == 200
    assert await _open(ledger) == after
    assert await _count(ledger, allocations) == 2
    assert await _count(ledger, audit_log) == audits


@pytest.mark.parametrize("outcome", ["failed", "expired", "canceled"])
async def test_failed_expired_and_canceled_payments_record_nothing(
    client: TestClient, ledger: AsyncEngine, mollie: FakeMollie, outcome: str
) -> None:
    payment_id = await _choose(client, ledger, mollie, "INV-3")
    assert "bancontact" not in (mollie.requests[-1][2] or {})["method"]
    mollie.set_status(payment_id, outcome)
    assert await _webhook(client, payment_id) == 200
    async with ledger.connect() as conn:
        status = (await conn.execute(select(payments.c.status))).scalar_one()
    assert status == outcome
    assert await _count(ledger, allocations) == 0
    assert (await _open(ledger))["INV-3"] == Decimal("1650.00")


async def test_unknown_and_malformed_ids(client: TestClient, ledger: AsyncEngine) -> None:
    assert await _webhook(client, "tr_unknown1") == 200  # tells a prober nothing
    assert await _webhook(client, "not-an-id") == 400
    assert await _count(ledger, allocations) == 0


async def test_pay_page_refuses_invoices_of_someone_else_and_forged_forms(
    client: TestClient, ledger: AsyncEngine, mollie: FakeMollie
) -> None:
    ids = await _ids(ledger)
    url = portal_url(settings_for(mollie), ids["debtor"])  # type: ignore[arg-type]
    path = url.split("127.0.0.1:9", 1)[1]
    forged = await client.post(path, data={"csrf": "0" * 32, "invoice": str(ids["INV-1"])})
    assert forged.status == 403
    page = await client.get(path)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', await page.text())
    assert csrf
    bad = await client.post(path, data={"csrf": csrf.group(1), "invoice": "999999"})
    assert bad.status == 200
    assert 'id="error"' in await bad.text()
    assert await _count(ledger, payments) == 0
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert page.headers["Referrer-Policy"] == "no-referrer"


async def test_pay_page_shows_the_plan_with_instalment_links_and_its_calendar(
    client: TestClient, ledger: AsyncEngine, mollie: FakeMollie
) -> None:
    from datetime import UTC, datetime

    from bot.channels.base import InboundMessage
    from bot.conversations import Conversations
    from bot.paylinks import calendar_url, instalment_url

    settings = settings_for(mollie)
    service = Conversations(ledger, settings)  # type: ignore[arg-type]
    ids = await _ids(ledger)
    from adapters.db import conversation_repo

    async with ledger.begin() as conn:
        token = await conversation_repo.create_link_token(conn, ids["debtor"], "portal")
    for n, text in enumerate([f"/start {token}", "je veux payer en 2 fois INV-1", "oui"]):
        await service.receive(
            InboundMessage("webchat", "plan-s", f"plan-s:{n}", text, datetime.now(UTC))
        )
    async with ledger.connect() as conn:
        from adapters.db.plan_schema import payment_plans, plan_instalments

        plan_id = (await conn.execute(select(payment_plans.c.id))).scalar_one()
        instalment_ids = (
            (await conn.execute(select(plan_instalments.c.id).order_by(plan_instalments.c.number)))
            .scalars()
            .all()
        )

    path = portal_url(settings, ids["debtor"]).split("127.0.0.1:9", 1)[1]  # type: ignore[arg-type]
    html = await (await client.get(path)).text()
    plan_part = html.split('id="plan"', 1)[1].split("</section>", 1)[0]
    assert plan_part.count("/pay/instalment/") == 2
    assert "200,00" in plan_part

    ics = await client.get(calendar_url(settings, plan_id).split("127.0.0.1:9", 1)[1])  # type: ignore[arg-type]
    assert ics.content_type == "text/calendar"
    body = (await ics.read()).decode()
    assert body.count("BEGIN:VEVENT") == 2
    assert "Mensualité 1/2" in body.replace("\r\n ", "")

    first = instalment_url(settings, instalment_ids[0]).split("127.0.0.1:9", 1)[1]  # type: ignore[arg-type]
    redirect = await client.get(first, allow_redirects=False)
    assert redirect.status == 303
    payment_id = redirect.headers["Location"].rsplit("/", 1)[1]
    assert mollie.payments[payment_id]["amount"]["value"] == "200.00"
    mollie.set_status(payment_id, "paid")
    assert await _webhook(client, payment_id) == 200
    # Paid: the same link now says there is nothing left to pay.
    done = await client.get(first, allow_redirects=False)
    assert done.status == 200
    assert 'id="done"' in await done.text()
    # In the debtor's language (the link came in a French message), whatever the
    # browser asks for; ?lang= still wins.
    english_browser = await client.get(first, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="fr">' in await english_browser.text()
    asked = await client.get(first + "?lang=de", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in await asked.text()
    # A calendar token does not open an instalment (the purpose is signed).
    wrong = await client.get("/pay/instalment/" + calendar_url(settings, plan_id).split("/")[-2])  # type: ignore[arg-type]
    assert wrong.status == 403


async def test_a_chargeback_reopens_the_invoices_once(
    client: TestClient, ledger: AsyncEngine, mollie: FakeMollie
) -> None:
    payment_id = await _choose(client, ledger, mollie, "INV-1")
    mollie.set_status(payment_id, "paid")
    assert await _webhook(client, payment_id) == 200
    assert (await _open(ledger))["INV-1"] == Decimal("0.00")

    mollie.charge_back(payment_id)
    assert await _webhook(client, payment_id) == 200
    assert await _webhook(client, payment_id) == 200  # repeated: nothing more
    assert (await _open(ledger))["INV-1"] == Decimal("400.00")
    assert await _count(ledger, allocations) == 0
    async with ledger.connect() as conn:
        status = (await conn.execute(select(payments.c.status))).scalar_one()
        actions = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert status == "charged_back"
    assert actions.count("payment_charged_back") == 1
