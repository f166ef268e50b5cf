"""An SMTP server on loopback (aiosmtpd) that keeps every message it accepted.

with SmtpRecorder() as smtp:      # smtp.port
    ...
    mails = smtp.wait_for(1)      # parsed email.message.EmailMessage objects
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpRecorder:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []  # envelope from, to, bytes
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"

    def __enter__(self) -> SmtpRecorder:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def parsed(self) -> list[EmailMessage]:
        with self._lock:
            raw = [m[2] for m in self.messages]
        return [
            email.message_from_bytes(r, policy=email.policy.default)  # type: ignore[misc]
            for r in raw
        ]
