"""Mollie payments through the official client (mollie-api-python).

    provider = MolliePayments(api_key=Secret("test_..."), api_endpoint="", webhook_url=
                              "https://relance.example/webhooks/mollie")
    created = await provider.create_payment(Decimal("123.45"), "EUR", "Invoice INV-1",
                                            redirect_url=..., metadata={"payment": "p1"})
    created.checkout_url                      -> where the debtor pays
    (await provider.get_payment(created.id)).status   -> "paid"

Mollie's webhook carries only the payment's id: the status is always fetched again
through ``get_payment``, never believed from the request (FACTS.md §6.1).  A paid
payment that the debtor's bank later takes back stays "paid" at Mollie with an
``amountChargedBack``: ``charged_back`` carries it.

Amounts go to Mollie as ``{"currency": "EUR", "value": "123.45"}`` (two decimals,
a string).  Bancontact takes at most EUR 1,500 per payment (FACTS.md §3.3): above
that it is left out of the offered methods, and the debtor chooses another.

The client is synchronous (``requests``); calls run in a worker thread so the event
loop keeps serving.  ``api_endpoint`` points it at another server (tests use a fake
Mollie on loopback); empty means Mollie's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from domain.money import to_cents

BANCONTACT_MAX = Decimal("1500.00")
DEFAULT_METHODS = ("bancontact", "kbc", "belfius", "creditcard", "ideal", "banktransfer")


class PaymentProviderError(RuntimeError):
    """The provider refused or could not be reached (our side, logged, retried by staff)."""


class PaymentNotFound(PaymentProviderError):
    """The provider knows no payment by that id."""


@dataclass(frozen=True)
class ProviderPayment:
    id: str
    status: str  # open | pending | authorized | paid | failed | expired | canceled
    amount: Decimal
    currency: str
    checkout_url: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    charged_back: Decimal = Decimal("0.00")  # taken back by the debtor's bank

    @property
    def paid(self) -> bool:
        return self.status == "paid"


class PaymentProvider(Protocol):
    async def create_payment(
        self,
        amount: Decimal,
        currency: str,
        description: str,
        *,
        redirect_url: str,
        metadata: dict[str, Any],
    ) -> ProviderPayment: ...

    async def get_payment(self, payment_id: str) -> ProviderPayment: ...


def mollie_amount(amount: Decimal, currency: str = "EUR") -> dict[str, str]:
    """Mollie's amount object: the value as a string with exactly two decimals."""
    return {"currency": currency, "value": f"{to_cents(amount):.2f}"}


def allowed_methods(amount: Decimal, methods: Sequence[str] = DEFAULT_METHODS) -> list[str]:
    """The methods to offer for ``amount``: Bancontact only up to EUR 1,500."""
    if amount > BANCONTACT_MAX:
        return [m for m in methods if m != "bancontact"]
    return list(methods)


class MolliePayments:
    def __init__(
        self,
        api_key: Any,  # bot.config.Secret (kept out of logs) or a plain string
        api_endpoint: str,
        webhook_url: str,
        methods: Sequence[str] = DEFAULT_METHODS,
    ) -> None:
        from mollie.api.client import Client

        key = api_key.get() if hasattr(api_key, "get") else str(api_key)
        self._client = Client(timeout=(2, 10), retry=1)
        if api_endpoint:
            self._client.set_api_endpoint(api_endpoint)
        self._client.set_api_key(key)
        self.webhook_url = webhook_url
        self.methods = tuple(methods)

    async def create_payment(
        self,
        amount: Decimal,
        currency: str,
        description: str,
        *,
        redirect_url: str,
        metadata: dict[str, Any],
    ) -> ProviderPayment:
        data: dict[str, Any] = {
            "amount": mollie_amount(amount, currency),
            "description": description[:255],
            "redirectUrl": redirect_url,
            "webhookUrl": self.webhook_url,
            "metadata": metadata,
        }
        if currency == "EUR":
            data["method"] = allowed_methods(amount, self.methods)
        elif amount > BANCONTACT_MAX:  # pragma: no cover - Bancontact is EUR only
            data["method"] = [m for m in self.methods if m != "bancontact"]
        payment = await self._call(lambda: self._client.payments.create(data))
        return _converted(payment)

    async def get_payment(self, payment_id: str) -> ProviderPayment:
        return _converted(await self._call(lambda: self._client.payments.get(payment_id)))

    async def _call(self, call: Any) -> Any:
        from mollie.api.error import Error as MollieError
        from mollie.api.error import NotFoundError

        try:
            return await asyncio.to_thread(call)
        except NotFoundError as exc:
            raise PaymentNotFound(f"Mollie: {exc}") from exc
        except MollieError as exc:
            raise PaymentProviderError(f"Mollie: {exc}") from exc


def _converted(payment: Any) -> ProviderPayment:
    amount = payment.amount or {}
    charged_back = payment.amount_chargedback or {}
    return ProviderPayment(
        id=str(payment.id),
        status=str(payment.status),
        amount=Decimal(str(amount.get("value", "0"))),
        currency=str(amount.get("currency", "EUR")),
        checkout_url=str(payment.checkout_url or ""),
        metadata=dict(payment.metadata or {}),
        charged_back=Decimal(str(charged_back.get("value", "0.00"))),
    )
