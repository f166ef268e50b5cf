"""The Rasa backend against a fake Rasa server on loopback.

The fake answers ``POST /model/parse`` with the response documented by Rasa
(rasa.com/docs, HTTP API "Parse a message using the Rasa model"): intent,
intent_ranking (possibly with ``nlu_fallback``), entities with Rasa's own values
and extra keys such as ``text_tokens`` and ``response_selector``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import load_settings
from bot.errors import UserError
from nlu.rasa_client import RasaBackend, to_contract_ranking
from nlu.training import INTENTS

ANSWERS: dict[str, dict[str, Any]] = {
    "Je paierai 250 € vendredi prochain": {
        "intent": {"name": "promise_to_pay", "confidence": 0.91},
        "intent_ranking": [
            {"name": "promise_to_pay", "confidence": 0.91},
            {"name": "already_paid", "confidence": 0.06},
            {"name": "request_payment_plan", "confidence": 0.03},
        ],
        "entities": [
            {
                "entity": "amount",
                "start": 11,
                "end": 16,
                "value": "250 €",
                "extractor": "DIETClassifier",
                "confidence_entity": 0.98,
            },
        ],
    },
    "blub": {
        "intent": {"name": "nlu_fallback", "confidence": 0.5},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "greet", "confidence": 0.31},
            {"name": "out_of_scope", "confidence": 0.22},
        ],
        "entities": [],
    },
}


class FakeRasa(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        FakeRasa.requests.append({"path": self.path, "body": body})
        if self.path != "/model/parse":
            self.send_response(404)
            self.end_headers()
            return
        answer = ANSWERS.get(body["text"])
        if answer is None:
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "failure", "code": 500}')
            return
        payload = {
            "text": body["text"],
            **answer,
            "text_tokens": [[0, 2]],
            "response_selector": {"all_retrieval_intents": []},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture
def rasa_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeRasa.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_rasa_reading_in_contract_shape(rasa_url: str) -> None:
    backend = RasaBackend(rasa_url + "/")
    text = "Je paierai 250 € vendredi prochain"
    [result] = backend.parse_many([text], [date(2026, 3, 10)])
    assert FakeRasa.requests == [{"path": "/model/parse", "body": {"text": text}}]
    assert set(result) == {"text", "intent", "intent_ranking", "entities", "language"}
    assert result["intent"] == {"name": "promise_to_pay", "confidence": 0.91}
    assert [i["name"] for i in result["intent_ranking"]][:3] == [
        "promise_to_pay",
        "already_paid",
        "request_payment_plan",
    ]
    assert {i["name"] for i in result["intent_ranking"]} == set(INTENTS)
    # Values in the contract's formats, not Rasa's "250 €".
    assert [(e["entity"], e["value"]) for e in result["entities"]] == [
        ("amount", "250.00"),
        ("date", "2026-03-13"),
    ]
    assert result["language"] == "fr"


def test_fallback_is_not_a_contract_intent(rasa_url: str) -> None:
    [result] = RasaBackend(rasa_url).parse_many(["blub"], [date(2026, 3, 10)])
    assert result["intent"] == {"name": "greet", "confidence": 0.31}
    assert "nlu_fallback" not in [i["name"] for i in result["intent_ranking"]]


def test_ranking_with_no_contract_intent_is_out_of_scope() -> None:
    ranking = to_contract_ranking({"intent": {"name": "nlu_fallback", "confidence": 1.0}})
    assert ranking[0] == ("out_of_scope", 0.0)
    assert len(ranking) == len(INTENTS)


def test_server_errors_are_one_line_messages(rasa_url: str) -> None:
    with pytest.raises(UserError, match="answered HTTP 500"):
        RasaBackend(rasa_url).parse_many(["unknown text"], [date(2026, 3, 10)])


def test_unreachable_server() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    with pytest.raises(UserError, match="cannot reach Rasa"):
        RasaBackend(f"http://127.0.0.1:{port}", timeout=2).parse_many(["hi"], [date(2026, 3, 10)])


async def test_http_endpoint_with_rasa_backend(rasa_url: str, engine: Any, db_url: str) -> None:
    from bot.web.app import create_app

    settings = load_settings({"DATABASE_URL": db_url, "NLU_BACKEND": "rasa", "RASA_URL": rasa_url})
    async with TestClient(TestServer(create_app(settings, engine))) as client:
        response = await client.post(
            "/model/parse",
            json={"text": "Je paierai 250 € vendredi prochain", "reference_time": "2026-03-10"},
        )
        assert response.status == 200
        body = await response.json()
        assert body["intent"] == {"name": "promise_to_pay", "confidence": 0.91}
        assert [e["value"] for e in body["entities"]] == ["250.00", "2026-03-13"]
        failing = await client.post("/model/parse", json={"text": "unknown text"})
        assert failing.status == 500
        assert "answered HTTP 500" in (await failing.json())["message"]
