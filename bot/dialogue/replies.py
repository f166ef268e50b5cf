"""How the agent's replies read: one template per message and language.

    templates/conversation/<language>/<reply>.txt   the text (chat-sized)
    templates/conversation/<language>/_email.txt    greeting and signature around it
    templates/conversation/<language>/choices.json  button titles

Every template gets the same base context (so ``StrictUndefined`` catches a typo,
not a missing optional value) plus the reply's own parameters.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from functools import lru_cache
from typing import Any

from bot.channels.base import Choice
from bot.dialogue.policy import DebtorContext, OpenInvoice, Reply
from bot.templating import TEMPLATES, environment, render
from domain.debtor import LANGUAGES
from domain.reference import display


@lru_cache(maxsize=8)
def choice_titles(language: str) -> dict[str, str]:
    path = TEMPLATES / "conversation" / language / "choices.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _invoice(i: OpenInvoice) -> dict[str, Any]:
    return asdict(i) | {"reference_display": display(i.reference)}


def base_context(
    language: str,
    creditor_name: str,
    creditor_iban: str,
    creditor_bic: str,
    debtor: DebtorContext | None,
    today: date,
    pay_url: str | None = None,
) -> dict[str, Any]:
    return {
        "language": language,
        "currency": debtor.currency if debtor else "EUR",
        "creditor_name": creditor_name,
        "creditor_iban": creditor_iban,
        "creditor_bic": creditor_bic,
        "debtor_name": debtor.name if debtor else "",
        "pay_url": pay_url,
        "today": today,
        "invoices": [],
        "total": None,
        "date": None,
        "amount": None,
        "partial": False,
        "paid_on": None,
        "until": None,
        "instalments": None,
        "consumer": False,
        "max_date": None,
        # payment plans
        "schedule": [],
        "options": [],
        "grace_days": None,
        "asked_amount": None,
        "plan_fee": None,
        "plan_pay_url": None,
        "plan_ics_url": None,
        "instalment": None,
        "plan_total": None,
        "plan_remaining": None,
    }


def render_reply(reply: Reply, context: dict[str, Any]) -> tuple[str, list[Choice]]:
    language = context["language"] if context["language"] in LANGUAGES else "en"
    params = dict(reply.params)
    if "invoices" in params:
        params["invoices"] = [_invoice(i) for i in params["invoices"]]
    text = render(f"conversation/{language}/{reply.template}.txt", context | params).strip()
    titles = choice_titles(language)
    choices = [
        Choice(
            # A title with parameters ("3 x 333,34 €") is a template of its own.
            environment().from_string(titles[c.title_key]).render(context | dict(c.params))
            if c.params
            else titles[c.title_key],
            c.payload,
        )
        for c in reply.choices
    ]
    return text, choices


def wrap_email(body: str, context: dict[str, Any]) -> str:
    language = context["language"] if context["language"] in LANGUAGES else "en"
    return render(f"conversation/{language}/_email.txt", context | {"body": body})
