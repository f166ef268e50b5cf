"""Configuration, read once at the edge from the environment.

Adapters receive plain values from ``Settings``; secrets are ``Secret`` and print
as ``Secret('****')`` so they never reach a log.  Every variable is listed in the
README's configuration reference.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adapters.db.engine import default_database_url, normalise_url
from bot.errors import UserError


class Secret:
    """A value that does not print."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('****')" if self._value else "Secret('')"

    __str__ = __repr__


@dataclass(frozen=True)
class Creditor:
    """Who is owed: printed on every reminder (Book XIX requires name and number)."""

    name: str = "Relance Demo SRL"
    enterprise_number: str = "0403170701"
    iban: str = "BE68539007547034"
    bic: str = "GKCCBEBB"
    email: str = "credit@relance.example"
    address: str = "Rue de la Loi 16, 1000 Bruxelles"


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: ZoneInfo
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    secret_key: Secret = field(default_factory=lambda: Secret(""))
    creditor: Creditor = field(default_factory=Creditor)
    payment_terms_days: int = 30
    nlu_backend: str = "embedded"
    rasa_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: Secret = field(default_factory=lambda: Secret(""))
    imap_host: str = ""
    imap_port: int = 143
    imap_user: str = ""
    imap_password: Secret = field(default_factory=lambda: Secret(""))
    mail_from: str = "Relance <credit@relance.example>"
    telegram_token: Secret = field(default_factory=lambda: Secret(""))
    telegram_base_url: str = ""
    # The bot's @name, for the t.me links of the pay page; empty: as Telegram tells
    # the running bot (getMe).
    telegram_bot_username: str = ""
    mollie_api_key: Secret = field(default_factory=lambda: Secret(""))
    mollie_api_endpoint: str = ""
    demo: bool = False  # the home page lists demo debtors with their pay-page links


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise UserError(f"{name} must be a whole number, not {raw!r}") from None


def env_flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A yes/no setting: 1/true/yes/on or 0/false/no/off; unset is ``default``."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise UserError(f"{name} must be 1 or 0 (true or false), not {raw!r}")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    tz_name = env.get("RELANCE_TIMEZONE", "Europe/Brussels")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"RELANCE_TIMEZONE is not a known time zone: {tz_name!r}") from None
    host = env.get("RELANCE_HOST", "127.0.0.1")
    port = _int(env, "RELANCE_PORT", 8080)
    creditor = Creditor(
        name=env.get("CREDITOR_NAME", Creditor.name),
        enterprise_number=env.get("CREDITOR_ENTERPRISE_NUMBER", Creditor.enterprise_number),
        iban=env.get("CREDITOR_IBAN", Creditor.iban),
        bic=env.get("CREDITOR_BIC", Creditor.bic),
        email=env.get("CREDITOR_EMAIL", Creditor.email),
        address=env.get("CREDITOR_ADDRESS", Creditor.address),
    )
    database_url = normalise_url(env.get("DATABASE_URL") or default_database_url())
    try:
        make_url(database_url)
    except ArgumentError:
        raise UserError(
            "DATABASE_URL is not a database URL (e.g. sqlite+aiosqlite:////path/relance.db "
            "or postgresql+asyncpg://user:password@host/dbname)"
        ) from None
    return Settings(
        database_url=database_url,
        timezone=tz,
        host=host,
        port=port,
        public_url=env.get("RELANCE_PUBLIC_URL", f"http://{host}:{port}").rstrip("/"),
        secret_key=Secret(env.get("RELANCE_SECRET_KEY", "")),
        creditor=creditor,
        payment_terms_days=_int(env, "RELANCE_PAYMENT_TERMS_DAYS", 30),
        nlu_backend=env.get("NLU_BACKEND", "embedded"),
        rasa_url=env.get("RASA_URL", ""),
        smtp_host=env.get("SMTP_HOST", ""),
        smtp_port=_int(env, "SMTP_PORT", 25),
        smtp_user=env.get("SMTP_USER", ""),
        smtp_password=Secret(env.get("SMTP_PASSWORD", "")),
        imap_host=env.get("IMAP_HOST", ""),
        imap_port=_int(env, "IMAP_PORT", 143),
        imap_user=env.get("IMAP_USER", ""),
        imap_password=Secret(env.get("IMAP_PASSWORD", "")),
        mail_from=env.get("MAIL_FROM", "Relance <credit@relance.example>"),
        telegram_token=Secret(env.get("TELEGRAM_TOKEN", "")),
        telegram_base_url=env.get("TELEGRAM_BASE_URL", ""),
        telegram_bot_username=env.get("TELEGRAM_BOT_USERNAME", "").strip().lstrip("@"),
        mollie_api_key=Secret(env.get("MOLLIE_API_KEY", "")),
        mollie_api_endpoint=env.get("MOLLIE_API_ENDPOINT", ""),
        demo=env.get("RELANCE_DEMO", "") in ("1", "true", "yes"),
    )
