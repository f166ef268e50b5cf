"""``POST /model/parse`` on the real aiohttp application, in Rasa's request/response shape."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_settings
from bot.web.app import create_app
from bot.web.nlu_api import reference_date
from nlu.training import INTENTS


@pytest.fixture
async def client(engine: AsyncEngine, db_url: str) -> AsyncIterator[TestClient]:
    settings = load_settings({"DATABASE_URL": db_url, "RELANCE_TIMEZONE": "Europe/Brussels"})
    async with TestClient(TestServer(create_app(settings, engine))) as test_client:
        yield test_client


async def test_parse_answers_rasa_shape(client: TestClient) -> None:
    response = await client.post(
        "/model/parse",
        json={
            "text": "Je paierai 250 € vendredi prochain",
            "reference_time": "2026-03-10T09:00:00+01:00",
        },
    )
    assert response.status == 200
    body = await response.json()
    assert set(body) == {"text", "intent", "intent_ranking", "entities", "language"}
    assert body["text"] == "Je paierai 250 € vendredi prochain"
    assert body["intent"]["name"] == "promise_to_pay"
    assert 0.5 < body["intent"]["confidence"] <= 1.0
    assert {item["name"] for item in body["intent_ranking"]} == set(INTENTS)
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in body["entities"]] == [
        ("amount", "250.00", 11, 16),
        ("date", "2026-03-13", 17, 34),
    ]
    assert body["language"] == "fr"


async def test_reference_time_is_read_in_the_creditor_zone(client: TestClient) -> None:
    # 23:30 UTC on 9 March is already 10 March in Brussels: "tomorrow" is the 11th.
    response = await client.post(
        "/model/parse",
        json={"text": "I will pay tomorrow", "reference_time": "2026-03-09T23:30:00Z"},
    )
    body = await response.json()
    assert [e["value"] for e in body["entities"] if e["entity"] == "date"] == ["2026-03-11"]


async def test_without_reference_time_today_is_used(client: TestClient) -> None:
    response = await client.post("/model/parse", json={"text": "Hallo"})
    assert response.status == 200
    assert (await response.json())["intent"]["name"] == "greet"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"txt": "hello"}', "'text' is missing"),
        (b'{"text": "hi", "reference_time": "next tuesday"}', "not ISO 8601"),
    ],
)
async def test_bad_requests_fail_like_rasa(
    client: TestClient, payload: bytes, message: str
) -> None:
    response = await client.post(
        "/model/parse", data=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    body = await response.json()
    assert body["status"] == "failure"
    assert body["code"] == 400
    assert message in body["message"]


def test_reference_date_accepts_dates_and_naive_times() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Brussels")
    assert reference_date("2026-03-10", zone).isoformat() == "2026-03-10"
    assert reference_date("2026-03-10T23:59:00", zone).isoformat() == "2026-03-10"
    assert reference_date("2026-03-10T23:30:00+00:00", zone).isoformat() == "2026-03-11"
