"""Bounces: a message that says an earlier message was not delivered.

    Content-Type: multipart/report; report-type=delivery-status
      Final-Recipient: rfc822; jan@example.be / Action: failed / Status: 5.1.1
        -> Bounce(failed_recipients=("jan@example.be",), permanent=True, status="5.1.1")
    From: Mail Delivery Subsystem / X-Failed-Recipients: jan@example.be
        -> Bounce(("jan@example.be",), permanent=True)
    Subject: Delivery Status Notification (Delay)
        -> Bounce(..., permanent=False)

RFC 3464 reports are read by us (per-recipient ``Action`` and ``Status``: 5.x.x is
permanent, 4.x.x or ``Action: delayed`` transient).  Plain-text bounces (Exim,
qmail, Postfix without DSN, Exchange "Undeliverable:", Gmail "Delivery Status
Notification (Failure)") are recognised by sender, subject and
``X-Failed-Recipients``; the failed address then comes from that header, or from
``flufl.bounce``, whose detectors for the many MTA formats are kept up to date
and which also tells temporary from permanent failures.  ``flufl.bounce`` does not
say *whether* a message is a bounce (it only digs out addresses), so the decision
itself stays here.
"""

from __future__ import annotations

import email
import email.message
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from adapters.mail import headers

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Bounce:
    failed_recipients: tuple[str, ...]
    permanent: bool
    status: str | None = None  # RFC 3463 enhanced code, "5.1.1"
    diagnostic: str | None = None
    original_message_id: str | None = None
    original_subject: str | None = None


_SENDER = re.compile(
    r"mailer-daemon|postmaster|mail\s+delivery\s+(?:subsystem|system)|"
    r"^(?:\"?)?(?:microsoft\s+)?outlook(?:\.com)?\"?\s*<?postmaster|"
    r"e-?mail\s+delivery\s+system|mail\s+administrator|maildaemon|"
    r"<>",
    re.I,
)
_SUBJECT = re.compile(
    r"(?:undeliver(?:ed|able)|undelivered\s+mail\s+returned\s+to\s+sender|"
    r"delivery\s+status\s+notification|delivery\s+(?:failure|has\s+failed|failed|notification)|"
    r"failure\s+delivery|"
    r"mail\s+delivery\s+(?:failed|failure|system)|returned\s+mail|failure\s+notice|"
    r"message\s+not\s+delivered|could\s+not\s+be\s+delivered|mail\s+system\s+error|"
    r"non\s+remis|non\s+distribuable|échec\s+(?:de\s+la\s+)?(?:remise|distribution|d'envoi)|"
    r"message\s+non\s+délivré|non\s+délivré|non\s+livré|échec\s+de\s+(?:la\s+)?livraison|"
    r"onbestelbaar|niet\s+bezorgd|kan\s+niet\s+worden\s+bezorgd|bezorging\s+mislukt|"
    r"niet\s+afgeleverd|kon\s+niet\s+worden\s+afgeleverd|aflevering\s+mislukt|afleverfout|"
    r"unzustellbar|nicht\s+zustellbar|zustellung\s+fehlgeschlagen|zustellungsfehler|"
    r"fehlgeschlagene\s+zustellung|"
    r"warning:\s+(?:message|could\s+not)|delayed\s+mail|delivery\s+delayed)",
    re.I,
)
_TRANSIENT = re.compile(
    r"\(delay\)|delayed|delay\s+notification|will\s+(?:retry|continue\s+to\s+try|be\s+retried)|"
    r"still\s+(?:trying|undelivered)|not\s+yet\s+been\s+delivered|temporar|"
    r"vertraagd|verzögert|retardé|différé|warning:",
    re.I,
)
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|antw|antwort|réf|ref|tr|fw|fwd|wg)\s*:", re.I)
# Exchange names a bounce after the subject it returns, "RE: … : non remis": a
# reply prefix is then the returned message's, not someone answering.
_SUBJECT_SUFFIX = re.compile(
    r"\s:\s*(?:non\s+remis|undeliverable|unzustellbar|onbestelbaar|niet\s+bezorgd)"
    r"(?:\s*\([^)]{0,40}\))?\s*$",
    re.I,
)
# The mail system itself as the envelope sender ("Return-Path: <>" or a daemon).
_SYSTEM_RETURN_PATH = re.compile(r"^<>$|<?(?:mailer-daemon|postmaster)@", re.I)
# "Action: failed" (RFC 3464); some MTAs write "failure".
_FAILED_ACTIONS = {"failed", "failure"}
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def _header(fields: Mapping[str, str] | Message, name: str) -> str:
    if isinstance(fields, Message):
        return headers.get(fields, name)
    return str(fields.get(name, "") or "").strip()


def looks_like_bounce(message: Message) -> bool:
    """Whether a message reports a failed (or delayed) delivery."""
    ctype = message.get_content_type()
    if ctype == "multipart/report":
        report = str(message.get_param("report-type") or "").lower()
        actions = {_header(block, "action").lower() for block in _dsn_blocks(message)} - {""}
        if report == "delivery-status" and actions:
            # A report with recipient blocks says it itself ("delivered" is no bounce).
            return bool(actions & (_FAILED_ACTIONS | {"delayed"}))
        # An empty status part (Google Workspace sends those): judge by the headers,
        # or by who sent it, which a delivery report from the mail system says.
        if report == "delivery-status" and _SYSTEM_RETURN_PATH.search(
            _header(message, "return-path")
        ):
            return True
    if _header(message, "x-failed-recipients"):
        return True
    sender = _header(message, "from")
    subject = _header(message, "subject")
    by_sender = bool(_SENDER.search(sender))
    # A person answering ("Re: Delivery failed?") is not a delivery report.
    by_subject = bool(_SUBJECT.search(subject)) and not _REPLY_PREFIX.match(subject)
    if (by_sender and by_subject) or _SUBJECT_SUFFIX.search(subject):
        return True
    if by_subject and _SYSTEM_RETURN_PATH.search(_header(message, "return-path")):
        return True
    # An undelivered message returned as an attachment, sent by the mail system.
    return by_sender and any(
        part.get_content_type()
        in ("message/rfc822", "text/rfc822-headers", "message/delivery-status")
        for part in message.walk()
    )


def _dsn_blocks(message: Message) -> list[Message]:
    blocks: list[Message] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            blocks.extend(p for p in payload if isinstance(p, Message))
        elif isinstance(payload, str):
            # Some MTAs send the status part base64-encoded: Python keeps it as text.
            raw = part.get_payload(decode=True)
            text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else payload
            for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
                if chunk.strip():
                    blocks.append(email.message_from_string(chunk.strip() + "\n"))
    return blocks


def analyse_bounce(message: Message, raw: bytes, body_text: str) -> Bounce:
    """Who failed and whether for good; ``message`` is the parsed bounce."""
    failed: list[str] = []
    statuses: list[str] = []
    diagnostic: str | None = None
    transient_actions = 0
    for block in _dsn_blocks(message):
        action = _header(block, "action").lower()
        if action not in _FAILED_ACTIONS | {"delayed"}:
            continue
        recipient = _header(block, "final-recipient") or _header(block, "original-recipient")
        address = recipient.split(";", 1)[-1].strip().strip("<>")
        if address and address not in failed:
            failed.append(address)
        status = _header(block, "status")
        if status:
            statuses.append(status)
        if action == "delayed":
            transient_actions += 1
        if diagnostic is None and _header(block, "diagnostic-code"):
            diagnostic = " ".join(_header(block, "diagnostic-code").split())
    if not failed:
        header = _header(message, "x-failed-recipients")
        failed = [addr for _, addr in getaddresses([header]) if addr]
    permanent_flufl: set[str] = set()
    temporary_flufl: set[str] = set()
    if not failed:
        temporary_flufl, permanent_flufl = _flufl(raw)
        failed = sorted(permanent_flufl | temporary_flufl)
    if not failed:
        failed = _addresses_in_text(body_text, _header(message, "to"))
    status = statuses[0] if statuses else _status_in_text(body_text + "\n" + (diagnostic or ""))
    if status:
        permanent = status.startswith("5")
    elif transient_actions:
        permanent = False
    elif permanent_flufl or temporary_flufl:
        permanent = bool(permanent_flufl)
    else:
        subject = _header(message, "subject")
        permanent = not (_TRANSIENT.search(subject) or _TRANSIENT.search(body_text[:2000]))
    if transient_actions and not status:
        permanent = False
    failed = list(dict.fromkeys(addr.strip(" .,;:<>()[]'\"") for addr in failed))
    original_id, original_subject = _original(message)
    if original_subject is None:
        # Plain-text bounces paste the returned message under the explanation.
        pasted = re.search(r"^Subject:[ \t]*(.+)$", body_text, re.M)
        pasted_id = re.search(r"^Message-ID:[ \t]*(<[^>\s]+>)", body_text, re.M | re.I)
        original_subject = pasted.group(1).strip() if pasted else None
        original_id = original_id or (pasted_id.group(1) if pasted_id else None)
    return Bounce(
        failed_recipients=tuple(failed),
        permanent=permanent,
        status=status,
        diagnostic=diagnostic,
        original_message_id=original_id,
        original_subject=original_subject,
    )


def _flufl(raw: bytes) -> tuple[set[str], set[str]]:
    from flufl.bounce import all_failures

    # flufl.bounce's detectors expect text headers; undecodable bytes become U+FFFD.
    compat = email.message_from_string(raw.decode("utf-8", "replace"))
    # It logs a traceback for any detector that fails; for us that is bad input,
    # reported in one line below, so its logger is quiet during the call.
    flufl_log = logging.getLogger("flufl.bounce")
    was_disabled, flufl_log.disabled = flufl_log.disabled, True
    try:
        temporary, permanent = all_failures(compat)
    except Exception as exc:  # a third-party heuristic choking on odd input must not stop intake
        log.info("flufl.bounce could not read a bounce: %s: %s", type(exc).__name__, exc)
        return set(), set()
    finally:
        flufl_log.disabled = was_disabled
    return _ascii(temporary), _ascii(permanent)


def _ascii(values: frozenset[bytes]) -> set[str]:
    return {value.decode("ascii", "replace") for value in values}


def _addresses_in_text(text: str, own: str) -> list[str]:
    """Last resort: addresses quoted in the notification text, not our own."""
    ours = {addr.lower() for _, addr in getaddresses([own]) if addr}
    found: list[str] = []
    for match in _ADDRESS.finditer(text[:4000]):
        address = match.group(0).strip(".")
        lower = address.lower()
        if lower in ours or lower.startswith(("mailer-daemon@", "postmaster@")):
            continue
        if address not in found:
            found.append(address)
    return found[:1]


def _status_in_text(text: str) -> str | None:
    match = _STATUS.search(text[:4000])
    return match.group(0) if match else None


def _original(message: Message) -> tuple[str | None, str | None]:
    """Message-ID and subject of the returned message, if the bounce carries it."""
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                return _clean(headers.get(inner, "message-id")), _clean(
                    headers.get(inner, "subject")
                )
        if ctype == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            text = (
                raw.decode("utf-8", "replace")
                if isinstance(raw, bytes)
                else str(part.get_payload())
            )
            returned = email.message_from_string(text)
            return _clean(headers.get(returned, "message-id")), _clean(
                headers.get(returned, "subject")
            )
    return None, None


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None
