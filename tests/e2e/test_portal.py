"""The pay page in a real browser: Debian's headless Chromium driven by Playwright.

The app is served on loopback with the fake Mollie behind the real client.  A debtor
opens the signed link, unticks one of three invoices, gets the pay link for the two
others and reaches the (fake) checkout; the web chat on the page links itself to the
debtor and answers.  An expired or tampered link shows a clear page in the browser's
language and nothing about the debt.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.ledger import import_invoices
from adapters.db.plan_schema import payments
from adapters.db.schema import debtors
from adapters.imports import read_invoice_file
from bot.config import Settings, load_settings
from bot.paylinks import portal_url
from bot.workers import ChannelOptions
from tests.support.app import free_port, serving
from tests.support.fake_mollie import FakeMollie

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def mollie() -> Iterator[FakeMollie]:
    with FakeMollie() as fake:
        yield fake


@pytest.fixture
async def site(
    engine: AsyncEngine, tmp_path: Path, mollie: FakeMollie
) -> AsyncIterator[tuple[Settings, int]]:
    path = tmp_path / "ledger.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;issue_date;"
        "due_date;amount\n"
        "INV-1;C1;Boulangerie Dupont;business;fr;compta@dupont.be;2026-01-10;2026-02-09;400,00\n"
        "INV-2;C1;Boulangerie Dupont;business;fr;compta@dupont.be;2026-02-01;2026-03-03;100,00\n"
        "INV-3;C1;Boulangerie Dupont;business;fr;compta@dupont.be;2026-02-15;2026-03-17;250,50\n"
    )
    await import_invoices(engine, [(path.name, read_invoice_file(path))])
    port = free_port()
    settings = load_settings(
        {
            "DATABASE_URL": "sqlite://",
            "RELANCE_PORT": str(port),
            "RELANCE_SECRET_KEY": "e2e-" + "k" * 36,
            "MOLLIE_API_KEY": mollie.api_key,
            "MOLLIE_API_ENDPOINT": mollie.url,
        }
    )
    async with engine.connect() as conn:
        debtor_id = (await conn.execute(select(debtors.c.id))).scalar_one()
    async with serving(settings, engine, ChannelOptions(recover_interval_seconds=3600)):
        yield settings, int(debtor_id)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def test_choose_two_of_three_invoices_and_reach_the_pay_link(
    site: tuple[Settings, int], browser: Any, mollie: FakeMollie, engine: AsyncEngine
) -> None:
    settings, debtor_id = site
    context = await browser.new_context(locale="fr-BE")
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    response = await page.goto(portal_url(settings, debtor_id))
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert await page.inner_text("h1") == "Bonjour Boulangerie Dupont"
    assert await page.locator("input[name=invoice]").count() == 3
    assert "750,50" in await page.inner_text("#total")
    assert await page.locator("figure img").count() == 1  # the EPC QR code

    # The chat links itself to the debtor with its one-time token.
    await page.wait_for_selector("#chat-log .msg.bot", timeout=15000)
    assert "Boulangerie Dupont" in await page.inner_text("#chat-log")

    # Untick INV-2: the total follows, then ask for the pay link.
    await page.uncheck("text=INV-2 >> xpath=../..//input")
    assert "650,50" in await page.inner_text("#total")
    await page.click("#get-link")
    await page.wait_for_selector("#pay-link")
    assert "650,50" in await page.inner_text("#pay-link")
    async with engine.connect() as conn:
        stored = (await conn.execute(select(payments))).one()
    assert stored.amount == Decimal("650.50")
    assert mollie.payments[stored.provider_id]["amount"]["value"] == "650.50"

    await page.click("#pay-link")
    await page.wait_for_selector("#checkout")
    assert page.url.startswith(mollie.url + "/checkout/")
    assert "EUR 650.50" in await page.inner_text("#amount")
    assert not [p for p in problems if "Content Security Policy" in p], problems
    await context.close()


async def test_the_chat_on_the_page_answers_questions(
    site: tuple[Settings, int], browser: Any
) -> None:
    settings, debtor_id = site
    context = await browser.new_context(locale="fr-BE")
    page = await context.new_page()
    await page.goto(portal_url(settings, debtor_id))
    await page.wait_for_selector("#chat-log .msg.bot")
    await page.fill("#chat-input", "Je voudrais payer en 3 fois")
    await page.press("#chat-input", "Enter")
    await page.wait_for_selector("#chat-log button.choice", timeout=60000)
    log = await page.inner_text("#chat-log")
    assert "3 mensualités" in log
    await page.click("#chat-log button.choice")
    await page.wait_for_selector("text=votre plan de paiement est convenu", timeout=30000)
    await context.close()


@pytest.mark.parametrize(
    ("locale", "tamper", "expected", "status"),
    [
        ("fr-BE", False, "Ce lien a expiré", 410),
        ("nl-BE", True, "Deze link is niet geldig", 403),
        ("de-DE", True, "Dieser Link ist ungültig", 403),
        # A genuine but old link speaks the debtor's language (French here), whatever
        # the browser asks; a tampered one can only follow the browser.
        ("en-GB", False, "Ce lien a expiré", 410),
        ("en-GB", True, "This link is not valid", 403),
    ],
)
async def test_expired_or_tampered_links_show_a_clear_page_and_nothing_of_the_debt(
    site: tuple[Settings, int],
    browser: Any,
    locale: str,
    tamper: bool,
    expected: str,
    status: int,
) -> None:
    settings, debtor_id = site
    if tamper:
        url = portal_url(settings, debtor_id)
        # Another debtor's id under the same signature: refused.
        mac = url.rsplit("/", 1)[1].split(".")[1]
        forged = base64.urlsafe_b64encode(f"portal:{debtor_id + 1}:9999999999".encode())
        url = url.rsplit("/", 1)[0] + "/" + forged.decode().rstrip("=") + "." + mac
    else:
        url = portal_url(
            settings, debtor_id, valid_for=timedelta(days=1), now=time.time() - 2 * 86400
        )
    context = await browser.new_context(locale=locale)
    page = await context.new_page()
    response = await page.goto(url)
    assert response.status == status
    text = await page.inner_text("body")
    assert expected in await page.inner_text("#link-problem")
    for secret in ("Boulangerie", "Dupont", "INV-", "400", "750", "250"):
        assert secret not in text
    assert await page.locator("#chat").count() == 0
    await context.close()


async def test_a_staff_reply_reaches_the_open_chat_and_a_reload_keeps_the_conversation(
    site: tuple[Settings, int], browser: Any, engine: AsyncEngine
) -> None:
    """Found by a blind probe: staff answered a debtor who asked for a person, the
    console said "sent", and the open page never showed it; a reload started a new
    conversation, without the staff who held the old one."""
    from sqlalchemy import func

    from adapters.db.conversation_schema import conversations
    from bot.conversations import Conversations

    settings, debtor_id = site
    context = await browser.new_context(locale="fr-BE")
    page = await context.new_page()
    await page.goto(portal_url(settings, debtor_id))
    await page.wait_for_selector("#chat-log .msg.bot")
    await page.fill("#chat-input", "Je voudrais parler à quelqu'un")
    await page.press("#chat-input", "Enter")
    await page.locator("#chat-log .msg.bot").nth(1).wait_for(timeout=30000)
    async with engine.connect() as conn:
        conversation_id = (await conn.execute(select(conversations.c.id))).scalar_one()
    staff = Conversations(engine, settings)
    await staff.take_over(conversation_id, "staff:julie")
    await staff.staff_reply(conversation_id, "staff:julie", "Bonjour, ici Julie du service.")
    await page.wait_for_selector("text=Bonjour, ici Julie du service.", timeout=20000)

    await page.reload()
    # The conversation so far is shown again, the debtor's words and staff's.
    await page.wait_for_selector("#chat-log .msg.me >> text=Je voudrais parler à quelqu'un")
    await page.wait_for_selector("#chat-log .msg.bot >> text=Bonjour, ici Julie du service.")
    await staff.staff_reply(conversation_id, "staff:julie", "Je reviens vers vous demain.")
    await page.wait_for_selector("text=Je reviens vers vous demain.", timeout=20000)
    async with engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(conversations))).scalar_one()
    assert count == 1  # the same session, the same conversation
    await context.close()
