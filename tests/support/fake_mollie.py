"""A fake Mollie API on loopback, following Mollie's documented HTTP contract.

    with FakeMollie() as mollie:            # serves http://127.0.0.1:<port>
        client.set_api_endpoint(mollie.url)  # the real mollie-api-python client
        ...
        mollie.set_status("tr_...", "paid")  # what the debtor did on the checkout

Endpoints (https://docs.mollie.com/reference/create-payment, get-payment):

    POST /v2/payments          JSON body; amount {"currency", "value" "0.00"},
                               description, redirectUrl, webhookUrl, metadata, method
                               -> 201 a payment object, status "open",
                                  _links.checkout.href
    GET  /v2/payments/{id}     -> 200 the payment, or 404 in Mollie's error shape
    GET  /checkout/{id}        a stand-in for the hosted checkout page (HTML)

Requests need ``Authorization: Bearer test_...`` (401 otherwise) and the amount
must be a string with two decimals (422 otherwise), as Mollie answers.  Every
request is kept in ``requests`` so tests can check what the client sent.  It runs
in its own thread (``http.server``), so a synchronous client called from the
event loop's worker threads and a browser can both reach it.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STATUSES = {"open", "pending", "authorized", "paid", "failed", "expired", "canceled"}
_AMOUNT = re.compile(r"^\d+\.\d{2}$")


class FakeMollie:
    def __init__(self, api_key: str = "test_relance") -> None:
        self.api_key = api_key
        self.payments: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeMollie:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def set_status(self, payment_id: str, status: str) -> None:
        """What happened at the checkout: paid, failed, expired, canceled..."""
        assert status in STATUSES, status
        with self._lock:
            payment = self.payments[payment_id]
            payment["status"] = status
            stamp = datetime.now(UTC).isoformat()
            key = {"paid": "paidAt", "failed": "failedAt", "expired": "expiredAt"}.get(status)
            if key:
                payment[key] = stamp
            if status == "canceled":
                payment["canceledAt"] = stamp

    def charge_back(self, payment_id: str) -> None:
        """The debtor's bank reverses a paid payment: it stays "paid" with an
        ``amountChargedBack`` (https://docs.mollie.com/reference/chargebacks-api)."""
        with self._lock:
            payment = self.payments[payment_id]
            assert payment["status"] == "paid", "only a paid payment is charged back"
            payment["amountChargedBack"] = dict(payment["amount"])

    # ------------------------------------------------------------------- server

    def _create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        amount = body.get("amount")
        if (
            not isinstance(amount, dict)
            or not isinstance(amount.get("value"), str)
            or not _AMOUNT.match(amount["value"])
            or not isinstance(amount.get("currency"), str)
        ):
            return 422, _error(422, "The amount is invalid", "amount")
        if not body.get("description"):
            return 422, _error(422, "The description is invalid", "description")
        if not str(body.get("redirectUrl", "")).startswith(("http://", "https://")):
            return 422, _error(422, "The redirect URL is invalid", "redirectUrl")
        method = body.get("method")
        if (
            method
            and "bancontact" in (method if isinstance(method, list) else [method])
            and amount["currency"] == "EUR"
            and float(amount["value"]) > 1500
        ):
            return 422, _error(
                422, "The amount is higher than the maximum for Bancontact", "amount"
            )
        with self._lock:
            payment_id = f"tr_fake{next(self._ids):06d}"
            payment = {
                "resource": "payment",
                "id": payment_id,
                "mode": "test",
                "createdAt": datetime.now(UTC).isoformat(),
                "status": "open",
                "isCancelable": False,
                "amount": amount,
                "description": body["description"],
                "method": None,
                "metadata": body.get("metadata"),
                "profileId": "pfl_fake",
                "sequenceType": "oneoff",
                "redirectUrl": body.get("redirectUrl"),
                "webhookUrl": body.get("webhookUrl"),
                "_links": {
                    "self": {
                        "href": f"{self.url}/v2/payments/{payment_id}",
                        "type": "application/hal+json",
                    },
                    "checkout": {"href": f"{self.url}/checkout/{payment_id}", "type": "text/html"},
                },
            }
            self.payments[payment_id] = payment
        return 201, payment

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, body: Any, content_type: str = "application/hal+json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {fake.api_key}":
                    return True
                self._send(401, _error(401, "Missing authentication, or failed to authenticate"))
                return False

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = None
                fake.requests.append(("POST", self.path, body))
                if not self._authorised():
                    return
                if self.path.split("?")[0] != "/v2/payments" or not isinstance(body, dict):
                    self._send(404, _error(404, "The resource could not be found"))
                    return
                self._send(*fake._create(body))

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                fake.requests.append(("GET", path, None))
                if path.startswith("/checkout/"):
                    payment = fake.payments.get(path.rsplit("/", 1)[-1])
                    if payment is None:
                        self._send(404, b"not found", "text/plain")
                        return
                    page = (
                        "<!doctype html><title>Mollie test checkout</title>"
                        f"<h1 id='checkout'>Test checkout {payment['id']}</h1>"
                        f"<p id='amount'>{payment['amount']['currency']} "
                        f"{payment['amount']['value']}</p>"
                    )
                    self._send(200, page.encode(), "text/html; charset=utf-8")
                    return
                if not self._authorised():
                    return
                match = re.fullmatch(r"/v2/payments/(tr_\w+)", path)
                payment = fake.payments.get(match.group(1)) if match else None
                if payment is None:
                    self._send(404, _error(404, "No payment exists with token"))
                    return
                with fake._lock:
                    self._send(200, dict(payment))

        return Handler


def _error(status: int, detail: str, field: str | None = None) -> dict[str, Any]:
    titles = {401: "Unauthorized Request", 404: "Not Found", 422: "Unprocessable Entity"}
    error: dict[str, Any] = {
        "status": status,
        "title": titles.get(status, "Error"),
        "detail": detail,
        "_links": {"documentation": {"href": "https://docs.mollie.com/overview/handling-errors"}},
    }
    if field:
        error["field"] = field
    return error
