"""Which statement format a file is, by its content (never by its name).

    b"0000006120672505 ..."            -> CODA
    b"<?xml ...><Document xmlns=...camt.053.001.08">  -> camt.053
    b"PK\\x03\\x04..."                  -> a zip: every member read in name order

Banks deliver CODA as ``.cod``, ``.txt``, ``.coda`` or no extension at all, and
camt as ``.xml`` or ``.053``; so the name says little and the first bytes say all.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Protocol

from adapters.bank import StatementError
from adapters.bank.camt import looks_like_camt, parse_camt
from adapters.bank.coda import looks_like_coda, parse_coda
from adapters.collector import collector_paused
from domain.statement import (
    DistinctIdentities,
    ParsedStatement,
    StatementLine,
    with_distinct_identities,
)

MAX_MEMBER_BYTES = 200 * 1024 * 1024  # a zip bomb stops here, not in memory
_ENCODING = re.compile(r"""encoding\s*=\s*["'][^"']*["']""")


class Parts(Protocol):
    """Where a large statement's lines go while it is still being read."""

    def part(self, source: str, lines: tuple[StatementLine, ...]) -> None:
        """The next lines of the statement in ``source``, in order."""

    def forget(self, source: str) -> None:
        """Forget the lines given for ``source``: all of them come again, whole."""

    def end(self, statement: ParsedStatement) -> None:
        """A statement is read: its lines after the last part (all, when none was
        given), before the next statement's first part."""


def parse_bytes(
    data: bytes, source: str, parts: Parts | None = None, size: int = 5000
) -> list[ParsedStatement]:
    """Every statement in ``data``; a zip gives one ParsedStatement per member file.

    With ``parts``, a camt document's lines go to ``parts.part`` ``size`` at a
    time while it is read, and its ParsedStatement holds only the lines after
    the last part (``camt.parse_camt``'s sink); every statement read goes to
    ``parts.end`` at once.  A refusal still comes at the end of its file.
    """
    if data[:4] == b"PK\x03\x04":
        return _parse_zip(data, source, parts, size)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Windows tools save XML as UTF-16
        data = _utf16_as_utf8(data)
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if looks_like_coda(stripped):
        lines = with_distinct_identities(parse_coda(data, source))
        return _ended(parts, ParsedStatement(source, "coda", lines))
    if stripped[:1] == b"<" and looks_like_camt(stripped):
        distinct = [DistinctIdentities()]

        def sink(lines: list[StatementLine] | None) -> None:
            assert parts is not None
            if lines is None:
                distinct[0] = DistinctIdentities()
                parts.forget(source)
            else:
                parts.part(source, distinct[0](lines))

        with collector_paused():
            fmt, rest = parse_camt(stripped, source, sink if parts else None, size)
            return _ended(parts, ParsedStatement(source, fmt, distinct[0](rest)))
    if not stripped:
        raise StatementError(source, "", "the file is empty")
    head = stripped[:16]
    if head[:5] == b"00000" and head[5:14].isdigit() and len(head) == 16:
        raise StatementError(
            source,
            "line 1",
            f"a CODA header (record 0) whose application code (positions 15-16) is "
            f"{head[14:16].decode('latin-1')!r}, not '05' as in a coded statement of account",
        )
    if stripped[:1] == b"<" and (root := _root_name(stripped)):
        raise StatementError(
            source,
            "line 1",
            f"an XML document whose root is {root}, not an ISO 20022 bank-to-customer "
            "statement (camt.053, camt.054 or camt.052)",
        )
    raise StatementError(
        source, "line 1", "neither a CODA file (header record 0) nor an ISO 20022 camt document"
    )


def _root_name(data: bytes) -> str:
    """The root element of an XML document and its namespace ("" if unreadable)."""
    import io

    from lxml import etree

    try:
        for _, element in etree.iterparse(
            io.BytesIO(data), events=("start",), no_network=True, resolve_entities=False
        ):
            name = etree.QName(element)
            return (
                f"{name.localname} in namespace {name.namespace}"
                if name.namespace
                else name.localname
            )
    except etree.XMLSyntaxError:
        return ""
    return ""


def _ended(parts: Parts | None, statement: ParsedStatement) -> list[ParsedStatement]:
    if parts is not None:
        parts.end(statement)
    return [statement]


def _utf16_as_utf8(data: bytes) -> bytes:
    """A UTF-16 document (with its byte order mark) re-encoded as UTF-8.

    Only the XML declaration's encoding changes with it; anything that is not text
    stays as it was and is refused by the format's own reader.
    """
    try:
        text = data.decode("utf-16")
    except UnicodeDecodeError:
        return data
    if text.startswith("<?xml"):
        end = text.find("?>")
        declaration = _ENCODING.sub('encoding="UTF-8"', text[:end])
        text = declaration + text[end:]
    return text.encode("utf-8")


def _parse_zip(data: bytes, source: str, parts: Parts | None, size: int) -> list[ParsedStatement]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise StatementError(source, "", f"not a readable zip file: {exc}") from None
    parsed: list[ParsedStatement] = []
    with archive:
        members = sorted(
            (m for m in archive.infolist() if not m.is_dir() and not _hidden(m.filename)),
            key=lambda m: m.filename,
        )
        if not members:
            raise StatementError(source, "", "the zip file holds no statement")
        for member in members:
            name = f"{source}!{member.filename}"
            if member.file_size > MAX_MEMBER_BYTES:
                raise StatementError(name, "", "larger than 200 MB once unpacked")
            parsed.extend(parse_bytes(archive.read(member), name, parts, size))
    return parsed


def _hidden(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.startswith(".") or name.startswith("__MACOSX/")


def parse_file(
    path: str | Path, parts: Parts | None = None, size: int = 5000
) -> list[ParsedStatement]:
    return parse_named_file(path, str(path), parts, size)


def parse_named_file(
    path: str | Path, name: str, parts: Parts | None = None, size: int = 5000
) -> list[ParsedStatement]:
    """``parse_file`` of a file that goes by ``name`` in lines and errors."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise StatementError(name, "", f"cannot be read: {exc.strerror}") from None
    return parse_bytes(data, name, parts, size)
