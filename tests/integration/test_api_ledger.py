"""The JSON API of the ledger, served by the real aiohttp application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_settings
from bot.web.app import create_app

UBL = Path(__file__).resolve().parents[1] / "data" / "ubl"


@pytest.fixture
async def client(engine: AsyncEngine, db_url: str) -> AsyncIterator[TestClient]:
    settings = load_settings({"DATABASE_URL": db_url})
    async with TestClient(TestServer(create_app(settings, engine))) as test_client:
        yield test_client


async def test_health(client: TestClient) -> None:
    response = await client.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_create_and_read_debtors_and_invoices(client: TestClient) -> None:
    debtor = {
        "code": "C7",
        "name": "Hotel Zum Hirsch GmbH",
        "kind": "business",
        "language": "de",
        "enterprise_number": "BE 0417.497.106",
        "emails": ["Buchhaltung@ZumHirsch.be"],
        "ibans": ["be68 5390 0754 7034"],
        "address": {"postcode": "4700", "city": "Eupen"},
    }
    response = await client.post("/api/debtors", json=debtor)
    assert response.status == 200, await response.text()
    created = await response.json()
    assert created["enterprise_number"] == "0417497106"
    assert created["emails"] == ["buchhaltung@zumhirsch.be"]
    assert created["ibans"] == ["BE68539007547034"]

    invoice = {"number": "R-1", "debtor_code": "C7", "issue_date": "2026-03-01", "amount": "960.00"}
    response = await client.post("/api/invoices", json=invoice)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["due_date"] == "2026-03-31"
    assert body["open_amount"] == "960.00"
    response = await client.post("/api/invoices", json=invoice)
    assert response.status == 200

    detail = await (await client.get("/api/debtors/C7")).json()
    assert [i["number"] for i in detail["invoices"]] == ["R-1"]
    one = await (await client.get("/api/invoices/R-1")).json()
    assert one["debtor_code"] == "C7"
    listing = await (await client.get("/api/invoices?status=open")).json()
    assert [i["number"] for i in listing["items"]] == ["R-1"]


async def test_errors_are_json_with_a_code(client: TestClient) -> None:
    missing = await client.get("/api/invoices/NOPE")
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "not_found"
    bad = await client.post("/api/debtors", json={"code": "X", "name": "Y", "language": "es"})
    assert bad.status == 400
    assert (await bad.json())["error"]["message"].startswith("language:")
    unknown = await client.post(
        "/api/invoices", json={"number": "Z", "debtor_code": "nobody", "issue_date": "2026-01-01"}
    )
    assert unknown.status == 400


async def test_upload_files(client: TestClient) -> None:
    form = aiohttp.FormData()
    for name in ("invoice-with-due-date.xml", "credit-note.xml"):
        form.add_field("file", (UBL / name).read_bytes(), filename=name)
    response = await client.post("/api/imports/invoices", data=form)
    assert response.status == 200, await response.text()
    assert await response.json() == {"created": 2, "updated": 0, "unchanged": 0, "credit_notes": 1}
    form = aiohttp.FormData()
    form.add_field("file", (UBL / "bad-missing-issue-date.xml").read_bytes(), filename="bad.xml")
    refused = await client.post("/api/imports/invoices", data=form)
    assert refused.status == 400
    assert (await refused.json())["error"]["problems"] == [
        "bad.xml: /Invoice/cbc:IssueDate: required element is missing or empty"
    ]
