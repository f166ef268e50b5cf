"""The one inbound message shape and the outbound channel contract.

Every channel turns what arrives into an ``InboundMessage`` and receives the
agent's answers as ``OutgoingMessage`` values through ``OutputChannel``:

    send_text(recipient, text)
    send_choices(recipient, text, choices)      email: links, Telegram: inline keyboard,
                                                web chat: buttons
    send_document(recipient, filename, data, caption)

A channel that cannot show choices renders them as text, so no answer is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # email | telegram | webchat
    sender: str  # email address, Telegram chat id, web-chat session id
    external_id: str  # Message-ID, "update:<update_id>", web-chat message id
    text: str
    received_at: datetime
    reference_date: date | None = None  # the day the debtor wrote, in the creditor's zone
    kind: str = "message"  # message | auto_reply | bounce
    meta: dict[str, Any] = field(default_factory=dict)  # subject, threading ids, files...


@dataclass(frozen=True)
class Choice:
    title: str
    payload: str


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str
    recipient: str
    text: str
    choices: tuple[Choice, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


class OutputChannel(Protocol):
    async def send_text(self, recipient: str, text: str) -> None: ...

    async def send_choices(self, recipient: str, text: str, choices: list[Choice]) -> None: ...

    async def send_document(
        self, recipient: str, filename: str, data: bytes, caption: str = ""
    ) -> None: ...


def choices_as_text(text: str, choices: list[Choice] | tuple[Choice, ...]) -> str:
    """The fallback for channels without buttons: a numbered list under the text."""
    if not choices:
        return text
    lines = [text, ""] + [f"{n}. {c.title}" for n, c in enumerate(choices, start=1)]
    return "\n".join(lines)
