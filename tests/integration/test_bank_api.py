"""Statement upload, staff review and the inbox folder, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bank_inbox import import_inbox_once
from bot.config import load_settings
from bot.web.app import create_app
from tests.integration.bank_fixtures import Inv, invoice_state, seed

DATA = Path(__file__).resolve().parents[1] / "data"
NAMES = {"D1": "Boulangerie Dupont SRL", "D2": "Jan Peeters", "D4": "Marie Dubois"}
INVOICES = [
    Inv("INV-1001", "D1", "400.00", "000000100131"),
    Inv("INV-1002", "D2", "500.00", "000000100232"),
    Inv("INV-2026-0042", "D4", "150.50", "002026004240"),
    Inv("INV-1003", "D2", "300.00", "000000100333"),
]


@pytest.fixture(params=["here", "second process"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where an upload or an inbox file is read: in the server's process, or in a
    second one, as a file of 2 MB or more is (every file counts as large)."""
    if request.param == "second process":
        monkeypatch.setattr("bot.web.bank_api.BACKGROUND_BYTES", 0)
        monkeypatch.setattr("bot.bank_inbox.BACKGROUND_BYTES", 0)
    return str(request.param)


@pytest.fixture
async def client(engine: AsyncEngine, db_url: str) -> AsyncIterator[TestClient]:
    settings = load_settings({"DATABASE_URL": db_url})
    async with TestClient(TestServer(create_app(settings, engine))) as test_client:
        yield test_client


async def test_upload_then_staff_accept_a_candidate(
    client: TestClient, engine: AsyncEngine, reader: str
) -> None:
    await seed(engine, NAMES, {}, INVOICES)
    form = aiohttp.FormData()
    for name in ("camt053_v02_batch.xml", "camt054_v04.xml"):
        form.add_field("file", (DATA / "camt" / name).read_bytes(), filename=name)
    response = await client.post("/api/bank/statements", data=form)
    assert response.status == 200
    body = await response.json()
    assert {k: body[k] for k in ("transactions", "duplicates", "matched", "to_review")} == {
        "transactions": 5,
        "duplicates": 1,
        "matched": 2,
        "to_review": 1,
    }
    assert {p["invoice"] for p in body["payments_matched"]} == {
        "INV-1001",
        "INV-1002",
        "INV-2026-0042",
    }

    review = await (await client.get("/api/bank/review")).json()
    [waiting] = review["items"]
    assert waiting["amount"] == "300.00"
    assert waiting["candidates"] == []  # the text names 1003/1004, too short to trust

    missing = await client.post(f"/api/bank/transactions/{waiting['id']}/accept", json={})
    assert missing.status == 404


async def test_upload_of_a_bad_file_imports_nothing(
    client: TestClient, engine: AsyncEngine, reader: str
) -> None:
    await seed(engine, NAMES, {}, INVOICES)
    before = await invoice_state(engine)
    form = aiohttp.FormData()
    form.add_field("file", (DATA / "camt/camt053_v02_batch.xml").read_bytes(), filename="a.xml")
    form.add_field("file", (DATA / "camt/camt053_bad_amount.xml").read_bytes(), filename="b.xml")
    response = await client.post("/api/bank/statements", data=form)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["message"].startswith("b.xml: /Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt")
    assert await invoice_state(engine) == before


async def test_raw_upload_of_a_coda_file(client: TestClient, engine: AsyncEngine) -> None:
    data = (DATA / "coda" / "globalisation.cod").read_bytes()
    await seed(engine, NAMES, {}, INVOICES)
    response = await client.post("/api/bank/statements?filename=g.cod", data=data)
    assert (await response.json())["matched"] == 1  # 400.00 pays INV-1001
    assert (await invoice_state(engine))["INV-1002"] == ("200.00", "partially_paid")


async def test_inbox_moves_files_to_done_and_failed(
    engine: AsyncEngine, tmp_path: Path, reader: str
) -> None:
    await seed(engine, NAMES, {}, INVOICES)
    tmp_path = tmp_path / "inbox"  # the SQLite database lives beside it
    tmp_path.mkdir()
    shutil.copy(DATA / "camt" / "camt053_v02_batch.xml", tmp_path / "today.xml")
    shutil.copy(DATA / "coda" / "wrong_version.cod", tmp_path / "old.cod")
    outcomes = await import_inbox_once(engine, tmp_path, date(2026, 3, 12), settle=0)
    assert [(o.file, o.ok) for o in outcomes] == [("old.cod", False), ("today.xml", True)]
    left = await asyncio.to_thread(lambda: [p for p in tmp_path.iterdir() if p.is_file()])
    assert left == []
    assert json.loads((tmp_path / "done" / "today.xml.json").read_text())["matched"] == 2
    error = (tmp_path / "failed" / "old.cod.error.txt").read_text()
    assert "line 1: version code '1'" in error
    assert (await invoice_state(engine))["INV-1001"] == ("0.00", "paid")
    # the same file dropped again is recognised: nothing new
    shutil.copy(DATA / "camt" / "camt053_v02_batch.xml", tmp_path / "today.xml")
    [again] = await import_inbox_once(engine, tmp_path, date(2026, 3, 12), settle=0)
    assert again.file == "today.1.xml"
    assert again.summary is not None
    assert again.summary["duplicates"] == 4
