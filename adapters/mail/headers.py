"""Header values as text, whatever the sender's software did to them.

    "=?utf-8?Q?R=C3=A9ponse_automatique?= : Rappel"   -> "Réponse automatique : Rappel"
    raw 8-bit UTF-8 or Windows-1252 bytes               -> decoded, UTF-8 first
    "=?x-unknown?Q?abc?="                               -> "abc" (UTF-8, then cp1252)

Messages are parsed with the ``compat32`` policy and headers decoded here: the
structured header parser of ``email.policy.default`` raises ``IndexError`` or
``ValueError`` deep inside the standard library on some malformed address or
Message-ID headers, and one bad header must not make a whole message unreadable.
"""

from __future__ import annotations

import base64
import binascii
import re
from email.errors import HeaderParseError
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses


def decode_bytes(data: bytes, charset: str | None) -> str:
    label = (charset or "").lower()
    if label.startswith(("iso-8859", "windows-125", "cp125", "us-ascii")) and not data.isascii():
        # UTF-8 labelled as a single-byte charset ("=?iso-8859-1?Q?pay=C3=A9?="): valid
        # multi-byte UTF-8 almost never occurs in real single-byte text.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    for candidate in (charset, "utf-8", "windows-1252"):
        if not candidate or candidate.lower() in ("unknown-8bit", "x-unknown"):
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def text(value: object) -> str:
    """A header value (str or ``Header``) decoded and unfolded to one line."""
    if value is None:
        return ""
    try:
        parts = decode_header(value if isinstance(value, Header) else str(value))
    except (HeaderParseError, ValueError, TypeError):
        return " ".join(str(value).split())
    out: list[str] = []
    for part, charset in parts:
        if isinstance(part, bytes):
            out.append(decode_bytes(part, charset))
        else:
            out.append(part)
    joined = _UNTERMINATED.sub(_decode_unterminated, "".join(out))
    return " ".join(joined.split())


# An encoded word cut before its "?=" (a subject truncated by the sender's software):
# the standard library leaves it as it is; mail readers decode what is there.
_UNTERMINATED = re.compile(r"=\?([\w.:-]+)\?([QqBb])\?([^?\s]*(?:[ _][^?\s=]*)*)\??$")


def _decode_unterminated(match: re.Match[str]) -> str:
    charset, encoding, payload = match.groups()
    try:
        if encoding in "Qq":
            data = binascii.a2b_qp(payload.replace("_", " ").encode("ascii"))
        else:
            data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=False)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return match.group(0)
    return decode_bytes(data, charset)


def get(message: Message, name: str) -> str:
    """The first ``name`` header of ``message`` as text ("" when absent)."""
    return text(message.get(name))


def addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of all ``name`` headers, names decoded."""
    values = [text(value) for value in message.get_all(name, [])]
    return [(n, a) for n, a in getaddresses(values) if a and "@" in a]
