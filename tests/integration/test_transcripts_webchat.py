"""A web-chat transcript over HTTP: Rasa's REST channel (POST /webhooks/rest/webhook)
on the real aiohttp app on loopback, on SQLite and PostgreSQL.

The debtor links the session with the token of the pay page, asks what is due,
promises, presses a button; a client retry (same message id) changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import conversation_repo as repo
from adapters.db.conversation_schema import messages
from adapters.db.dunning_schema import payment_promises
from adapters.db.ledger import import_invoices
from adapters.db.schema import debtors
from adapters.imports import read_invoice_file
from bot.config import load_settings
from bot.workers import ChannelOptions
from tests.support.app import free_port, serving


async def _seed(engine: AsyncEngine, folder: Path) -> str:
    today = datetime.now(UTC).date()
    path = folder / "ledger.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;issue_date;"
        "due_date;amount\n"
        f"D-7;D1;Müller GmbH;business;de;buchhaltung@mueller.de;{today - timedelta(60)};"
        f"{today - timedelta(30)};500,00\n"
    )
    await import_invoices(engine, [(path.name, read_invoice_file(path))])
    async with engine.begin() as conn:
        debtor_id = (await conn.execute(select(debtors.c.id))).scalar_one()
        return await repo.create_link_token(conn, debtor_id, "portal")


async def test_webchat_over_http(engine: AsyncEngine, tmp_path: Path) -> None:
    token = await _seed(engine, tmp_path)
    port = free_port()
    settings = load_settings({"DATABASE_URL": "sqlite://", "RELANCE_PORT": str(port)})
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    options = ChannelOptions(recover_interval_seconds=3600)

    async with serving(settings, engine, options), aiohttp.ClientSession() as http:

        async def say(text: str, message_id: str) -> list[dict[str, Any]]:
            body = {"sender": "s-1", "message": text, "metadata": {"message_id": message_id}}
            async with http.post(url, json=body) as response:
                assert response.status == 200, await response.text()
                return list(await response.json())

        before = await say("Wie viel muss ich noch zahlen?", "m1")
        assert "500" not in before[0]["text"]  # nothing about a debt before linking

        linked = await say(f"/start {token}", "m2")
        assert "Müller GmbH" in linked[0]["text"]

        balance = await say("Wie viel muss ich noch zahlen?", "m3")
        assert "500,00" in balance[0]["text"]
        assert all(r["recipient_id"] == "s-1" for r in balance)

        promise = await say("Ich zahle am Freitag", "m4")
        assert "Notiert" in promise[0]["text"]
        assert await say("Ich zahle am Freitag", "m4") == []  # the client retried

        menu = await say("Guten Tag", "m5")
        payloads = [b["payload"] for b in menu[0]["buttons"]]
        assert "/request_payment_details" in payloads
        pressed = await say("/request_payment_details", "m6")
        assert "D-7" in pressed[0]["text"]

        async with http.post(url, json={"sender": "s-1"}) as bad:
            assert bad.status == 400
        async with http.post(url, data=b"{not json") as broken:
            assert broken.status == 400

    async with engine.connect() as conn:
        promised = (await conn.execute(select(payment_promises))).one()
        stored = (
            await conn.execute(
                select(func.count()).select_from(messages).where(messages.c.direction == "in")
            )
        ).scalar_one()
    assert promised.amount == Decimal("500.00")
    assert promised.promised_date.weekday() == 4
    assert promised.channel == "webchat"
    assert stored == 6
