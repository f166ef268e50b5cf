"""One inbound email, understood: who, which thread, what kind, what is new.

    analyse(raw_bytes, ZoneInfo("Europe/Brussels")) -> InboundEmail(
        kind="reply", message_id="<CAF…@mail.gmail.com>", in_reply_to="<dun-42@relance>",
        references=("<dun-42@relance>",), case_hint=None, from_address="jan@example.be",
        subject="Re: Herinnering factuur INV-2026-0042", local_date=date(2026, 3, 10),
        new_text="Goedemiddag,\\n\\nIs gisteren betaald.", attachments=(…), bounce=None,
        out_of_office_until=None)

``kind`` is ``bounce`` (a delivery failure report, see ``bounce``), ``auto_reply``
(an out-of-office or other automatic answer, see ``autoreply``) or ``reply`` (a
person wrote it).  ``new_text`` is only what the sender wrote in this message
(``quoting``).  ``case_hint`` is an invoice number or structured reference found in
the subject or new text, given only when the threading headers (``In-Reply-To``,
``References``) are missing, as ``shared/contracts/cli.md`` says; for a bounce the
returned message's subject is searched too.  ``case_hint_found`` keeps the hint
even when threading headers exist, for intake code that wants both.

Text decoding: a part labelled ISO-8859-1 or US-ASCII is decoded as Windows-1252
(its superset: Outlook labels cp1252 text as latin-1, and the euro sign and curly
quotes would otherwise turn into control characters); text labelled with a
single-byte charset that is valid UTF-8 (webmails do this) is read as UTF-8; an
unknown or wrong charset falls back to UTF-8 and then Windows-1252.  iOS Mail's
text split around an inline picture (several text/plain parts of one
multipart/mixed) is joined.

Errors: ``NotAnEmail`` when the bytes have no header fields at all.
"""

from __future__ import annotations

import datetime as dt
import email
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Literal

from adapters.mail import autoreply, bounce, case_hint, headers, quoting
from adapters.mail.bounce import Bounce

Kind = Literal["reply", "auto_reply", "bounce"]


class NotAnEmail(ValueError):
    """The bytes are not an RFC 5322 message."""


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class InboundEmail:
    kind: Kind
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    case_hint: str | None
    from_address: str
    from_name: str
    subject: str
    date: datetime | None  # aware, as sent
    local_date: dt.date | None  # the Date header in the creditor's time zone
    new_text: str
    attachments: tuple[Attachment, ...]
    bounce: Bounce | None = None
    out_of_office_until: dt.date | None = None
    case_hint_found: str | None = None
    to_addresses: tuple[str, ...] = ()

    @property
    def has_threading(self) -> bool:
        return bool(self.in_reply_to or self.references)


_MSG_ID = re.compile(r"<[^<>\s]+>")
_HEADER_LINE = re.compile(rb"^(?:From |[!-9;-~]+:)")


def analyse(raw: bytes, tz: tzinfo) -> InboundEmail:
    """Read a raw RFC 5322 message (bytes as received) into an ``InboundEmail``."""
    # Some tools save .eml files with a UTF-8 byte order mark or leading blank lines.
    raw = raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
    _check_is_email(raw)
    message = email.message_from_bytes(raw)  # compat32: see adapters.mail.headers

    subject = headers.get(message, "subject")
    from_name, from_address = _first_address(message, "from")
    if not from_address:
        from_name, from_address = _first_address(message, "sender")
    sent = _date(message)
    local = sent.astimezone(tz).date() if sent else None
    message_id = _first_id(_raw_header(message, "message-id"))
    in_reply_to = _first_id(_raw_header(message, "in-reply-to"))
    references = tuple(_MSG_ID.findall(_raw_header(message, "references")))

    plain, html = _bodies(message)
    fields = {name.lower(): headers.get(message, name) for name in set(message.keys())}

    bounce_info: Bounce | None = None
    ooo_until: date | None = None
    if bounce.looks_like_bounce(message):
        kind: Kind = "bounce"
        notification = quoting.normalise_text(plain or quoting.html_to_text(html or ""))
        text = _bounce_text(notification)
        bounce_info = bounce.analyse_bounce(message, raw, notification)
    else:
        text = quoting.new_text(plain, html, from_name)
        if _is_other_report(message) or autoreply.is_auto_reply(fields, subject, text, local):
            kind = "auto_reply"
            ooo_until = autoreply.return_date(text, local)
        else:
            kind = "reply"

    # A bounce's parts (returned message, status, the provider's icons) are the mail
    # system's, not something the debtor sent.
    # Inline images that only the quoted earlier message or a marked signature shows
    # (our reminder's logo, a signature logo) are not something the sender attached.
    quoted_images = quoting.quoted_only_images(html) if html and kind != "bounce" else set()
    attachments = () if kind == "bounce" else tuple(_attachments(message, kind, quoted_images))
    hint_sources = [subject, text]
    if bounce_info and bounce_info.original_subject:
        hint_sources.append(bounce_info.original_subject)
    found = case_hint.find_case_hint(*hint_sources)
    return InboundEmail(
        kind=kind,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        case_hint=None if (in_reply_to or references) else found,
        from_address=from_address,
        from_name=from_name,
        subject=subject,
        date=sent,
        local_date=local,
        new_text=text,
        attachments=attachments,
        bounce=bounce_info,
        out_of_office_until=ooo_until,
        case_hint_found=found,
        to_addresses=tuple(addr for _, addr in headers.addresses(message, "to")),
    )


# -- header helpers ------------------------------------------------------------------------------


def _check_is_email(raw: bytes) -> None:
    if not raw.strip():
        raise NotAnEmail("the file is empty")
    first = raw.lstrip(b"\r\n").split(b"\n", 1)[0]
    if not _HEADER_LINE.match(first):
        raise NotAnEmail("not an email message (the first line is not a header field)")
    probe = email.message_from_bytes(raw)
    if not any(probe.get(name) for name in ("from", "date", "message-id", "subject", "to")):
        raise NotAnEmail("not an email message (no From, To, Date, Subject or Message-ID header)")


def _raw_header(message: Message, name: str) -> str:
    return headers.get(message, name)


def _first_address(message: Message, name: str) -> tuple[str, str]:
    found = headers.addresses(message, name)
    return found[0] if found else ("", "")


def _first_id(value: str) -> str | None:
    ids = _MSG_ID.findall(value)
    if ids:
        return str(ids[0])
    value = value.strip()
    return f"<{value}>" if value and " " not in value else None


def _date(message: Message) -> datetime | None:
    value = _raw_header(message, "date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000": UTC, origin unknown (RFC 5322 §3.3)
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# -- bodies --------------------------------------------------------------------------------------

_LATIN1_LABELS = {
    "iso-8859-1",
    "iso8859-1",
    "latin1",
    "latin-1",
    "us-ascii",
    "ascii",
    "iso-8859-15",
}


def decode_part(part: Message) -> str:
    """The text of a text/* part, decoded with care for mislabelled charsets."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = (part.get_content_charset() or "").lower()
    if charset in _LATIN1_LABELS:
        charset = "windows-1252"
    single_byte = not charset or charset.startswith(("windows-125", "cp125", "iso-8859"))
    if single_byte and not payload.isascii():
        # Webmails and scripts label UTF-8 text as latin-1 or cp1252 ("payÃ©"); valid
        # multi-byte UTF-8 sequences almost never occur in real single-byte text.
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
    for candidate in (charset, "utf-8", "windows-1252"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def _bodies(message: Message) -> tuple[str | None, str | None]:
    """The first text/plain and text/html parts that are not attachments."""
    plain: str | None = None
    plain_parent: Message | None = None
    html: str | None = None
    html_parent: Message | None = None
    for part, parent in _body_parts(message):
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain, plain_parent = _plain_text(part), parent
        elif ctype == "text/plain" and parent is plain_parent and _is_mixed(parent):
            # iOS and Apple Mail split the text around an inline picture or file into
            # several text/plain parts of one multipart/mixed: together they are the text.
            plain = f"{plain}\n{_plain_text(part)}"
        elif ctype == "text/html" and html is None:
            html, html_parent = decode_part(part), parent
        elif ctype == "text/html" and parent is html_parent and _is_mixed(parent):
            html = _join_html(html, decode_part(part))  # the same, in iOS Mail's HTML
    if plain is None and html is None and _boundary_missing(message):
        # A client declared a multipart and wrote its text without the boundary (a
        # real Gmail reply through a phone app did): the body is the text itself.
        text = decode_part(message)
        if re.search(r"<(?:html|body|div|p|br)\b", text, re.I):
            html = text
        else:
            plain = text
    return plain, html


def _boundary_missing(message: Message) -> bool:
    """A multipart whose boundary never comes: the parser kept its body as text."""
    return message.get_content_maintype() == "multipart" and not message.is_multipart()


_DOCUMENT_TAGS = re.compile(
    r"<!DOCTYPE[^>]*>|</?html\b[^>]*>|<head\b.*?</head\s*>|</?body\b[^>]*>", re.I | re.S
)


def _join_html(first: str | None, second: str) -> str:
    """Two HTML documents as one body (a parser stops reading at the first </html>)."""
    inner = [_DOCUMENT_TAGS.sub("", doc) for doc in (first or "", second)]
    return "<html><body>" + "\n".join(inner) + "</body></html>"


def _plain_text(part: Message) -> str:
    text = decode_part(part)
    if str(part.get_param("format") or "").lower() == "flowed":
        delsp = str(part.get_param("delsp") or "").lower() == "yes"
        text = unflow(text, delsp)
    return text


def _is_mixed(part: Message | None) -> bool:
    return part is not None and part.get_content_type() == "multipart/mixed"


# A line drawn between parts ("-----Oorspronkelijk bericht----- ", as Windows Live
# Mail writes it, with a space) does not flow into the next, or the quote under it
# would no longer be known as one.
_RULE = re.compile(r"\s*[-_*=]{2,}.*[-_*=]{2,}\s*")


def unflow(text: str, delsp: bool = False) -> str:
    """Undo RFC 3676 ``format=flowed`` soft line breaks (Thunderbird, Apple Mail).

        "Je ne peux pas payer pour le \nmoment." -> "Je ne peux pas payer pour le moment."

    A line ending in a space continues on the next line of the same quote depth;
    "-- " (the signature separator) and a drawn rule ("-----Original Message-----")
    never do.  Written here because the standard
    library's email package does not decode flowed text.  Unlike RFC 3676, an
    empty line always ends the paragraph (hand-edited mail keeps stray spaces).
    """
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        depth = len(raw_line) - len(raw_line.lstrip(">"))
        line = raw_line[depth:]
        if line.startswith(" "):  # space-stuffing
            line = line[1:]
        if pending is not None and depth == pending_depth and line:
            line = pending + line
        elif pending is not None:
            out.append(">" * pending_depth + (" " if pending_depth else "") + pending)
        pending = None
        if line.endswith(" ") and line != "-- " and not _RULE.fullmatch(line):
            pending = line[:-1] if delsp else line
            pending_depth = depth
            continue
        out.append(">" * depth + (" " if depth else "") + line)
    if pending is not None:
        out.append(">" * pending_depth + (" " if pending_depth else "") + pending)
    return "\n".join(out)


def _body_parts(message: Message) -> list[tuple[Message, Message | None]]:
    """Text parts of this message (not of attached or returned messages), with the
    multipart each one is in."""
    out: list[tuple[Message, Message | None]] = []

    def visit(part: Message, parent: Message | None) -> None:
        ctype = part.get_content_type()
        if part.is_multipart() and ctype.startswith("multipart/"):
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    visit(sub, part)
            return
        if ctype in ("text/plain", "text/html") and not _is_attachment(part):
            out.append((part, parent))

    visit(message, None)
    return out


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or (
        part.get_filename() is not None and disposition != "inline"
    )


_REPORT_PARTS = (
    "message/delivery-status",
    "message/disposition-notification",
    "text/rfc822-headers",
    "message/feedback-report",
    # The signature of an S/MIME or PGP signed message is the client's, not a file
    # the sender attached.
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
)


def _attachments(message: Message, kind: Kind, skip_cids: set[str]) -> list[Attachment]:
    out: list[Attachment] = []

    def visit(part: Message, top: bool) -> None:
        ctype = part.get_content_type()
        if part.is_multipart() and ctype != "message/rfc822":
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    visit(sub, False)
            return
        if ctype.startswith("multipart/"):
            return  # a multipart whose boundary is broken: nothing to list
        if top:
            return
        if ctype in _REPORT_PARTS:
            return
        if ctype == "message/rfc822":
            if kind == "bounce":
                return  # the returned message of a bounce is not the sender's attachment
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            data = first.as_bytes() if isinstance(first, Message) else b""
            name = _filename(part) or _subject_filename(inner)
            out.append(Attachment(name, ctype, data))
            return
        filename = _filename(part)
        if ctype in ("text/plain", "text/html") and not _is_attachment(part):
            return
        cid = _raw_header(part, "content-id").strip().strip("<>")
        if cid and cid in skip_cids and (part.get_content_disposition() or "inline") == "inline":
            return
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if filename is None:
            if ctype.startswith("text/"):
                return
            filename = ""
        out.append(Attachment(filename, ctype, data))

    visit(message, True)
    return out


def _filename(part: Message) -> str | None:
    """The part's file name (RFC 2231 or, as Outlook and Gmail send it, RFC 2047)."""
    name = part.get_filename()
    return headers.text(name) if name is not None else None


def _subject_filename(inner: object) -> str:
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        subject = _raw_header(inner[0], "subject")
        return f"{subject}.eml" if subject else "message.eml"
    return "message.eml"


def _is_other_report(message: Message) -> bool:
    """Read receipts and success DSNs: automatic, not a failure."""
    if message.get_content_type() != "multipart/report":
        return False
    report = str(message.get_param("report-type") or "").lower()
    return report in ("disposition-notification", "delivery-status")


def _bounce_text(notification: str) -> str:
    """The human-readable part of a bounce, without the returned message pasted under it."""
    lines = notification.split("\n")
    for i, line in enumerate(lines):
        if re.match(
            r"^\s*(?:-{2,}\s*)?(?:original\s+message|returned\s+message|this\s+is\s+a\s+copy|"
            r"origineel\s+bericht|oorspronkelijk\s+bericht|message\s+d'origine|message\s+original|"
            r"ursprüngliche\s+nachricht|originalnachricht|"
            r"------ This is a copy|------ Original message|Below this line is a copy|"
            r"--- Below this line|Received:|Return-Path:)",
            line,
            re.I,
        ):
            return quoting.normalise_text("\n".join(lines[:i]))
    return notification
