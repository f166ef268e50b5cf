"""The one Jinja2 environment of Relance: every debtor-facing text is a template.

    env = environment()
    env.get_template("dunning/fr/level1/friendly.email.txt").render(context)

Loader on ``templates/``; autoescape for ``.html`` (and only there: text mails and
Telegram messages are not HTML); ``StrictUndefined``, so a variable a template needs
and the caller forgot fails a test instead of printing an empty hole in a debtor's
mail.  Amounts and dates go through Babel in the language of the message (the
context's ``language``: fr, nl, en, de, formatted the Belgian way):

    {{ 1234.5 | money }}      fr -> 1 234,50 €    nl -> € 1.234,50    en -> €1,234.50
    {{ due | long_date }}     fr -> 3 mars 2026   nl -> 3 maart 2026   de -> 3. März 2026
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# Belgian conventions for the national languages; English readers get Irish English
# (en_IE: euro first, decimal point, day-month-year), which they read more easily than
# en_BE's "55,00 €".
LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "en": "en_IE", "de": "de_BE"}


def locale_of(language: str) -> str:
    try:
        return LOCALES[language]
    except KeyError:
        raise ValueError(f"no locale for language {language!r}") from None


# Babel formats one amount in about 40 µs, and a conversation turn shows the same
# few amounts and dates again and again: remembered (a Decimal's hash ignores its
# trailing zeros, which the currency's own digits make irrelevant here).
@lru_cache(maxsize=8192)
def money(value: Decimal, currency: str, language: str) -> str:
    return str(format_currency(value, currency, locale=locale_of(language)))


@lru_cache(maxsize=8192)
def long_date(value: date, language: str) -> str:
    return str(format_date(value, format="long", locale=locale_of(language)))


def _language(context: Context) -> str:
    return str(context["language"])


@pass_context
def _money_filter(context: Context, value: Decimal, currency: str | None = None) -> str:
    return money(value, currency or str(context.get("currency", "EUR")), _language(context))


@pass_context
def _date_filter(context: Context, value: date) -> str:
    return long_date(value, _language(context))


@pass_context
def _short_date_filter(context: Context, value: date) -> str:
    """A date for a table: "1 sept. 2026", "1 Sep 2026" (the context's language)."""
    from babel.dates import format_date

    return str(format_date(value, "d MMM y", locale=locale_of(_language(context))))


@pass_context
def _percent_filter(context: Context, value: Decimal) -> str:
    return str(format_decimal(value, format="#,##0.##", locale=locale_of(_language(context))))


def _enterprise_number(value: str) -> str:
    """0403170701 -> BE 0403.170.701 (as printed on Belgian invoices)."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) != 10:
        return value
    return f"BE {digits[:4]}.{digits[4:7]}.{digits[7:]}"


def _iban(value: str) -> str:
    compact = value.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def create_environment(path: Path = TEMPLATES) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(path)),
        autoescape=select_autoescape(enabled_extensions=("html", "htm"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = _money_filter
    env.filters["long_date"] = _date_filter
    env.filters["short_date"] = _short_date_filter
    env.filters["percent"] = _percent_filter
    env.filters["enterprise_number"] = _enterprise_number
    env.filters["iban"] = _iban
    return env


@lru_cache(maxsize=1)
def environment() -> Environment:
    return create_environment()


def render(name: str, context: dict[str, Any]) -> str:
    return environment().get_template(name).render(context)
