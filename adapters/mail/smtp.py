"""Handing finished messages to an SMTP server with aiosmtplib.

    mailer = SmtpMailer("smtp.example.com", 587, username="relance", password=secret)
    await mailer.send(envelope_from, "debtor@example.com", raw_rfc5322_bytes)

The message bytes are sent exactly as the outbox stored them (their Message-ID
included), so a resend is byte-for-byte the same message.  Errors are sorted into
``PermanentFailure`` (5xx: retrying cannot help) and ``TemporaryFailure`` (4xx,
network): the outbox retries the second kind only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import aiosmtplib


class DeliveryError(Exception):
    pass


class PermanentFailure(DeliveryError):
    """The server refused the message for good (5xx)."""


class TemporaryFailure(DeliveryError):
    """Try again later (4xx, connection refused or lost)."""


class Mailer(Protocol):
    async def send(self, sender: str, recipient: str, message: bytes) -> None: ...


@dataclass
class SmtpMailer:
    hostname: str
    port: int = 25
    username: str = ""
    password: str = ""
    start_tls: bool | None = None  # None: upgrade when the server offers STARTTLS
    timeout: float = 60.0

    async def send(self, sender: str, recipient: str, message: bytes) -> None:
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=[recipient],
                hostname=self.hostname,
                port=self.port,
                username=self.username or None,
                password=self.password or None,
                start_tls=self.start_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            if all(code >= 500 for code in codes):
                raise PermanentFailure(str(exc)) from exc
            raise TemporaryFailure(str(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise PermanentFailure(f"{exc.code} {exc.message}") from exc
            raise TemporaryFailure(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(str(exc)) from exc


@dataclass
class MemoryMailer:
    """The in-memory twin: records what would have been sent."""

    sent: list[tuple[str, str, bytes]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def send(self, sender: str, recipient: str, message: bytes) -> None:
        if recipient in self.refuse:
            raise PermanentFailure(f"550 no such user: {recipient}")
        self.sent.append((sender, recipient, message))
