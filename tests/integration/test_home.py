"""The home page lists demo debtors with signed pay links only in a demo."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.ledger import import_invoices
from adapters.imports import read_invoice_file
from bot.config import Secret, load_settings
from bot.web.app import create_app


async def test_home_page_demo_and_production(
    engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "l.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;issue_date;amount\nI-1;C1;Dupont;2026-01-01;10\n"
    )
    await import_invoices(engine, [(path.name, read_invoice_file(path))])
    settings = replace(
        load_settings({"DATABASE_URL": db_url}), secret_key=Secret("s" * 32), demo=True
    )
    async with TestClient(TestServer(create_app(settings, engine))) as client:
        page = await (await client.get("/")).text()
        assert "Dupont" in page
        assert "/pay/" in page
        link = page[page.index("/pay/") :].split('"')[0]
        pay = await client.get(link)
        assert pay.status == 200
    production = replace(settings, demo=False)
    async with TestClient(TestServer(create_app(production, engine))) as client:
        page = await (await client.get("/")).text()
        assert "Dupont" not in page
        assert "/pay/" not in page
        assert "/console/" in page
