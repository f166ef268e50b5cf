"""ISO 20022 bank-to-customer statements: camt.053, camt.054 and camt.052.

    Document/BkToCstmrStmt/Stmt               camt.053 (end-of-day statement)
    Document/BkToCstmrDbtCdtNtfctn/Ntfctn     camt.054 (debit/credit notification)
    Document/BkToCstmrAcctRpt/Rpt             camt.052 (intraday report)
      Acct/Id/IBAN | Acct/Id/Othr/Id, Acct/Ccy
      Ntry  Amt@Ccy, CdtDbtInd, RvslInd, Sts | Sts/Cd, BookgDt/Dt | DtTm, ValDt,
            AcctSvcrRef, NtryDtls/TxDtls*  (a batch holds several TxDtls)
        TxDtls  Refs/EndToEndId, Amt, RltdPties/Dbtr/Nm | Dbtr/Pty/Nm,
                RltdPties/DbtrAcct/Id/IBAN, RmtInf/Ustrd, RmtInf/Strd/CdtrRefInf/Ref

Versions differ by namespace (camt.053.001.02 … .001.13) and by a few wrappers
(``Pty`` around a party, ``Sts/Cd`` instead of ``Sts``); element names are read
without their namespace so one reader serves every version.  Only booked entries
(status BOOK) are statement lines: pending and information entries are not money
on the account.  A camt.053 entry without any status is taken as booked (an
end-of-day statement lists booked entries); a report or notification without one
says nothing booked.

A batch entry becomes one line per ``TxDtls`` when every detail has its amount and
they add up to the entry; otherwise it stays one line carrying every remittance
text, so nothing is counted twice and nothing is lost (and, where its details
name several parties or references, none of them as *the* counterparty or
reference of the whole amount).

What real exports leave out or do their own way (``tests/data/camt/public``):
a booked entry without ``BookgDt`` is booked on its ``ValDt``, else on the day of
the statement's balances; an entry without ``AcctSvcrRef`` is named by its
``NtryRef`` (or a single payment's own reference); a reversal keeps the parties
of what it undoes (a direct debit taken back names the payer, its ``Dbtr``); a
returned payment (``RtrInf``, or the codes RRTN and UPDD) is a reversal too.

The document is read as a stream (``iterparse``): each ``Ntry`` is turned into
lines when its end tag is read and then dropped, so memory holds one entry, not
the whole statement (a 200,000-entry camt.053 took about 1 GB as a tree).  The
lines and refusals are those of reading the whole tree: a refusal is raised only
once the rest of the document is known to be well-formed, and a statement whose
account or identification comes after its entries (which the schema does not
allow) is read again as a whole tree.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import pairwise

from lxml import etree

from adapters.bank import StatementError
from domain.money import to_cents
from domain.reconciliation import normalise_reference, typed_reference
from domain.statement import StatementLine

_ROOTS = {
    "BkToCstmrStmt": ("Stmt", "camt.053"),
    "BkToCstmrDbtCdtNtfctn": ("Ntfctn", "camt.054"),
    "BkToCstmrAcctRpt": ("Rpt", "camt.052"),
}


def looks_like_camt(data: bytes) -> bool:
    head = data[:2048]
    return b"<" in head and (b"camt.05" in head or any(r.encode() in head for r in _ROOTS))


Fields = dict[str, list[str]]
_NO_REFERENCE = frozenset({"NONREF", "NOTPROVIDED", "NONE", "NOREF"})


# "{urn:iso:std:iso:20022:tech:xsd:camt.053.001.08}Amt" -> "Amt", remembered: a
# statement uses a few dozen element names, each read millions of times.
_NAMES: dict[object, str] = {}


def _local(tag: str) -> str:
    name = _NAMES.get(tag)
    if name is None:
        name = tag[tag.find("}") + 1 :]
        if len(_NAMES) < 10_000:  # bounded whatever the documents hold
            _NAMES[tag] = name
    return name


def _flatten(
    element: Iterable[etree._Element],
    prefix: str,
    out: Fields,
    skip: str = "",
    skipped: list[etree._Element] | None = None,
) -> Fields:
    """Every leaf below ``element`` as ``{"RltdPties/Dbtr/Nm": [text, ...]}``.

    ``element`` may also be a list of sibling elements, read as if they were the
    children of one element.

    One walk of the subtree, namespaces dropped on the way: a statement of 200,000
    entries is read in seconds this way, where one ``find`` per field took ten
    times as long.  ``Amt`` keeps its currency as ``Amt@Ccy``.  Children named
    ``skip`` are left out, and collected in ``skipped`` when given.
    """
    names = _NAMES
    for child in element:
        tag = child.tag
        name = names.get(tag)
        if name is None:
            if tag.__class__ is not str:  # a comment or processing instruction
                continue
            name = _local(tag)
        if name == skip:
            if skipped is not None:
                skipped.append(child)
            continue
        path = prefix + name
        if len(child):
            _flatten(child, path + "/", out)
            continue
        text = child.text
        text = text.strip() if text else ""
        if path in out:
            out[path].append(text)
        else:
            out[path] = [text]
        if name == "Amt" and (ccy := child.get("Ccy")):
            out[path + "@Ccy"] = [ccy]
    return out


def _first(fields: Fields, *paths: str) -> str:
    for path in paths:
        values = fields.get(path)
        if values and values[0]:
            return values[0]
    return ""


# ISO external bank transaction sub-family codes of a return: "reversal due to
# payment return", "unpaid direct debit".
_RETURN_CODES = frozenset({"RRTN", "UPDD"})


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, reason: str) -> StatementError:
        return StatementError(self.source, where, reason)

    def amount(self, raw: str, where: str) -> Decimal:
        # The schema's amount is an xs:decimal: Python's Decimal alone would also
        # take "1e3", "1_000", "NaN" and "Infinity" (three character tests cost less
        # than a regular expression, at 200,000 amounts a statement).
        text = raw.strip()
        if "e" in text or "E" in text or "_" in text:
            raise self.fail(where, f"not an amount: {raw!r}")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise self.fail(where, f"not an amount: {raw!r}") from None
        if not value.is_finite():
            raise self.fail(where, f"not an amount: {raw!r}")
        if value < 0:
            raise self.fail(where, f"not a positive amount: {raw!r}")
        if value != to_cents(value):
            raise self.fail(
                where,
                f"more than two decimals: {raw!r} (amounts are kept in cents: currencies "
                "with three decimals, such as BHD or KWD, are not supported)",
            )
        return to_cents(value)

    def date(self, fields: Fields, element: str, where: str) -> date | None:
        """``Dt`` (a date) or ``DtTm`` (a date-time: the date part is the bank's day)."""
        raw = _first(fields, f"{element}/Dt") or _first(fields, f"{element}/DtTm")[:10]
        if not raw:
            if any(k.startswith(f"{element}/") for k in fields):
                raise self.fail(f"{where}/{element}", "no Dt or DtTm")
            return None
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            raise self.fail(f"{where}/{element}", f"not a date: {raw!r}") from None


# Parser hardening, the same for the stream and the whole tree: no network, no
# entity expansion; huge_tree lets a large statement's long texts through.
_HARDENING = {"resolve_entities": False, "no_network": True, "huge_tree": True}
_STREAMED = ("{*}Ntry", *(f"{{*}}{item}" for item, _ in _ROOTS.values()))


Sink = Callable[[list[StatementLine] | None], None]


def parse_camt(
    data: bytes, source: str = "statement.xml", sink: Sink | None = None, part: int = 5000
) -> tuple[str, list[StatementLine]]:
    """(format, booked lines) of a camt.052/053/054 document.

    With a ``sink``, lines already read are handed to it ``part`` at a time, in
    order, as the document is read, and only the rest is returned (a large
    statement's first lines are matched while the rest is read); should the
    document turn out to need reading as a whole tree after all (see the module
    docstring), ``sink(None)`` says to forget the parts and all the lines are
    returned.  A refusal still comes at the end, as without a sink.
    """
    reader = _Reader(source)
    stream = _Stream(reader, sink, part)
    try:
        streamed = stream.read(data)
    except etree.XMLSyntaxError as exc:
        # The stream's push parser words some errors differently (or names no line):
        # a second reading that builds no tree gives the error reading the whole
        # document gives.
        _refuse_malformed(reader, data, exc)
        streamed = None
    if streamed is None:
        if stream.sunk and sink is not None:
            sink(None)
        return _parse_tree(reader, data)
    return streamed


class _NoTree:
    """A parser target that keeps nothing: only well-formedness is checked."""

    def close(self) -> None:
        return None


def _refuse_malformed(reader: _Reader, data: bytes, exc: etree.XMLSyntaxError) -> None:
    parser = etree.XMLParser(target=_NoTree(), **_HARDENING)
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError as again:
        exc = again
    else:
        return  # well-formed after all: the whole tree is read and says what is wrong
    raise _syntax_refusal(reader, exc) from None


def _syntax_refusal(reader: _Reader, exc: etree.XMLSyntaxError) -> StatementError:
    # libxml2 repeats the place in its message ("… in tag Nm line 22, line 22,
    # column 58"): said once, in front.
    message = re.sub(r"(?:,?\s*line \d+)+(?:,\s*column \d+)?\s*$", "", exc.msg or "")
    line, column = exc.position if exc.position else (exc.lineno, 0)
    where = f"line {line}, column {column}" if column else f"line {line}"
    return reader.fail(where, f"not well-formed XML: {message}")


def _document(root: etree._Element) -> etree._Element | None:
    """The Document read: the root, or the first one inside an envelope."""
    if _local(root.tag) == "Document":
        return root
    # Some channels wrap the message with its business application header
    # (<Envelope><AppHdr/><Document/></Envelope>): read the Document inside.
    return next((e for e in root.iter() if _local(str(e.tag)) == "Document"), None)


def _message(document: etree._Element) -> etree._Element | None:
    return next((c for c in document if isinstance(c.tag, str) and _local(c.tag) in _ROOTS), None)


def _parse_tree(reader: _Reader, data: bytes) -> tuple[str, list[StatementLine]]:
    """The whole document as one tree: the reading the stream must equal."""
    parser = etree.XMLParser(**_HARDENING)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _syntax_refusal(reader, exc) from None
    document = _document(root)
    if document is None:
        raise reader.fail(f"/{_local(root.tag)}", "not an ISO 20022 Document")
    message = _message(document)
    if message is None:
        raise reader.fail(
            "/Document", "no BkToCstmrStmt, BkToCstmrDbtCdtNtfctn or BkToCstmrAcctRpt"
        )
    message_tag = _local(message.tag)
    item_tag, fmt = _ROOTS[message_tag]
    lines: list[StatementLine] = []
    items = [c for c in message if isinstance(c.tag, str) and _local(c.tag) == item_tag]
    for index, statement in enumerate(items, start=1):
        path = f"/Document/{message_tag}/{item_tag}[{index}]"
        lines.extend(_statement(reader, statement, path, booked_by_default=fmt == "camt.053"))
    return fmt, lines


@dataclass(frozen=True, slots=True)
class _Head:
    """What a statement's lines take from it."""

    account: str
    currency: str
    name: str
    day: date | None = None  # what the statement covers, for entries without a date


def _day_of(head: Fields) -> date | None:
    """The day a statement covers, for entries that give no date of their own: the
    date of its latest balance (the closing one), else the end of its period,
    else the day it was made (often the morning after)."""
    for raw in (
        max(head.get("Bal/Dt/Dt", []), default=""),
        _first(head, "FrToDt/ToDtTm"),
        _first(head, "CreDtTm"),
    ):
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            continue
    return None


def _head(reader: _Reader, head: Fields, path: str) -> _Head:
    if not any(k.startswith("Acct/") for k in head):
        raise reader.fail(path, "no Acct")
    iban = _first(head, "Acct/Id/IBAN").upper() or _first(head, "Acct/Id/Othr/Id")
    if not iban:
        raise reader.fail(f"{path}/Acct/Id", "no IBAN or Othr/Id")
    currency = _first(head, "Acct/Ccy")
    name = _first(head, "Id", "ElctrncSeqNb")
    return _Head(iban.replace(" ", ""), currency, name, _day_of(head))


def _statement(
    reader: _Reader, statement: etree._Element, path: str, booked_by_default: bool
) -> list[StatementLine]:
    head = _head(reader, _flatten(statement, "", {}, skip="Ntry"), path)
    lines: list[StatementLine] = []
    number = 0
    for entry in statement:
        if not isinstance(entry.tag, str) or _local(entry.tag) != "Ntry":
            continue
        number += 1
        lines.extend(
            _read_entry(reader, entry, f"{path}/Ntry[{number}]", head, number, booked_by_default)
        )
    return lines


def _read_entry(
    reader: _Reader,
    entry: etree._Element,
    where: str,
    head: _Head,
    number: int,
    booked_by_default: bool,
) -> list[StatementLine]:
    entry_details: list[etree._Element] = []
    fields = _flatten(entry, "", {}, skip="NtryDtls", skipped=entry_details)
    status = _first(fields, "Sts/Cd", "Sts", "Sts/Prtry")
    # An end-of-day statement lists what was booked: an entry whose status an
    # exporter left out is money on the account, not a line to lose in silence.
    if not status and booked_by_default:
        status = "BOOK"
    if status.upper() not in ("BOOK", "BOOKED"):
        return []
    details = [
        _flatten(tx, "", {})
        for dtls in entry_details
        for tx in dtls
        if _NAMES.get(tx.tag) == "TxDtls"
        or (isinstance(tx.tag, str) and _local(tx.tag) == "TxDtls")
    ]
    return _entry(reader, fields, details, where, head, number)


class _Stream:
    """One reading of a document as a stream of entries, each dropped once read.

    ``read`` gives what ``_parse_tree`` gives, or None where only the whole tree
    can say (a statement's head after its entries); a refusal waits until the end
    of the document, since a malformed document is refused as such first.
    """

    def __init__(self, reader: _Reader, sink: Sink | None = None, part: int = 5000) -> None:
        self.reader = reader
        self.sink, self.part, self.sunk = sink, part, False
        self.lines: list[StatementLine] = []
        self.error: StatementError | None = None  # the first refusal, raised at the end
        self.failed: etree._Element | None = None  # the statement of that refusal
        self.document: etree._Element | None = None
        self.message: etree._Element | None = None
        self.message_tag = self.item_tag = self.fmt = ""
        self.rejected: etree._Element | None = None  # a parent known to be no statement
        self.index = 0
        # The statement being read.
        self.statement: etree._Element | None = None
        self.path = ""
        self.head: Fields = {}
        # The head as known at the first entry, or the refusal it gave.
        self.known: _Head | StatementError | None = None
        self.number = 0

    def read(self, data: bytes) -> tuple[str, list[StatementLine]] | None:
        events = etree.iterparse(io.BytesIO(data), events=("end",), tag=_STREAMED, **_HARDENING)
        names = _NAMES
        for _, element in events:
            name = names.get(element.tag) or _local(element.tag)
            if name == "Ntry":
                self.entry(element)
            elif not self.end_statement(element):
                return None
        if self.message is None:
            root = events.root
            document = _document(root)
            if document is None:
                raise self.reader.fail(f"/{_local(root.tag)}", "not an ISO 20022 Document")
            message = _message(document)
            if message is None:
                raise self.reader.fail(
                    "/Document", "no BkToCstmrStmt, BkToCstmrDbtCdtNtfctn or BkToCstmrAcctRpt"
                )
            return _ROOTS[_local(message.tag)][1], []
        if self.error is not None:
            raise self.error
        return self.fmt, self.lines

    def begin(self, statement: etree._Element) -> bool:
        """Whether ``statement`` is one of the statements the document is read for."""
        if statement is self.rejected:
            return False
        message = statement.getparent()
        document = message.getparent() if message is not None else None
        if document is None or message is None:
            self.rejected = statement
            return False
        if self.message is None:
            if _local(document.tag) != "Document" or _local(message.tag) not in _ROOTS:
                self.rejected = statement
                return False
            # Everything before this element in the document is already read: the
            # first Document and its first message found now are those of the tree.
            if self.document is None:
                root = document
                while (parent := root.getparent()) is not None:
                    root = parent
                self.document = _document(root)
            if document is not self.document or _message(document) is not message:
                self.rejected = statement
                return False
            self.message = message
            self.message_tag = _local(message.tag)
            self.item_tag, self.fmt = _ROOTS[self.message_tag]
        if message is not self.message or _local(statement.tag) != self.item_tag:
            self.rejected = statement
            return False
        self.index += 1
        self.statement = statement
        self.path = f"/Document/{self.message_tag}/{self.item_tag}[{self.index}]"
        self.head = {}
        self.known = None
        self.number = 0
        return True

    def settle(self) -> _Head | StatementError:
        try:
            return _head(self.reader, self.head, self.path)
        except StatementError as exc:
            return exc

    def entry(self, entry: etree._Element) -> None:
        statement = entry.getparent()
        if statement is None or (statement is not self.statement and not self.begin(statement)):
            return  # not an entry of a statement: left to whatever holds it
        previous = entry.getprevious()
        if previous is not None:
            if (
                self.known is None
                or previous.getprevious() is not None
                or _NAMES.get(previous.tag) != "Ntry"
            ):
                # Statement elements other than entries (the head): read, then dropped.
                before = []
                for child in statement:
                    if child is entry:
                        break
                    before.append(child)
                _flatten(before, "", self.head, skip="Ntry")
            while entry.getprevious() is not None:
                del statement[0]
        if self.known is None:
            self.known = self.settle()
        self.number += 1
        if self.error is None and isinstance(self.known, _Head):
            where = f"{self.path}/Ntry[{self.number}]"
            booked_by_default = self.fmt == "camt.053"
            try:
                self.lines.extend(
                    _read_entry(
                        self.reader, entry, where, self.known, self.number, booked_by_default
                    )
                )
            except StatementError as exc:
                self.error, self.failed = exc, statement
        entry.clear()
        if self.sink is not None and self.error is None and len(self.lines) >= self.part:
            self.sink(self.lines)
            self.lines, self.sunk = [], True

    def end_statement(self, statement: etree._Element) -> bool:
        """False where the statement's head changed after its first entry."""
        if statement is not self.statement and not self.begin(statement):
            return True
        _flatten(statement, "", self.head, skip="Ntry")  # the head after the last entry
        final = self.settle()
        known = self.known
        if known is not None and not _same(known, final):
            if self.error is None or self.failed is statement:
                return False
        elif isinstance(final, StatementError) and self.error is None:
            self.error, self.failed = final, statement
        statement.clear()
        self.statement = None
        self.head = {}
        return True


def _same(a: _Head | StatementError, b: _Head | StatementError) -> bool:
    if isinstance(a, StatementError) or isinstance(b, StatementError):
        return str(a) == str(b) and type(a) is type(b)
    return a == b


def _entry(
    reader: _Reader,
    entry: Fields,
    details: list[Fields],
    where: str,
    head: _Head,
    number: int,
) -> list[StatementLine]:
    account, currency, statement = head.account, head.currency, head.name
    raw_amount = entry.get("Amt")
    if not raw_amount:
        raise reader.fail(where, "no Amt")
    amount = reader.amount(raw_amount[0], f"{where}/Amt")
    entry_currency = _first(entry, "Amt@Ccy") or currency
    if not entry_currency:
        raise reader.fail(f"{where}/Amt", "no Ccy")
    sign = _sign(reader, entry, where)
    # BookgDt is optional in the schema: some banks leave it out of a statement
    # of one day (a Lithuanian export does), whose entries are booked that day.
    value = reader.date(entry, "ValDt", where)
    booking = reader.date(entry, "BookgDt", where) or value or head.day
    if booking is None:
        raise reader.fail(where, "a booked entry without BookgDt, ValDt or statement date")
    value = value or booking
    # A reversal: RvslInd, or a returned payment (a direct debit the debtor's bank
    # sent back, our refund that bounced): RtrInf, or its transaction code.
    reversal = (
        _first(entry, "RvslInd").lower() in ("true", "1")
        or any(
            "RtrInf/Rsn/Cd" in detail or "RtrInf/Rsn/Prtry" in detail or "RtrInf/AddtlInf" in detail
            for detail in details
        )
        or _first(entry, "BkTxCd/Domn/Fmly/SubFmlyCd") in _RETURN_CODES
    )
    # The bank's name for the movement (its identity, see domain.statement): its
    # AcctSvcrRef, else its NtryRef (SNS writes only that, and its statement ids
    # change from one export to the next).
    entry_ref = _reference(entry, "AcctSvcrRef") or _reference(entry, "NtryRef")
    code = "/".join(
        filter(
            None,
            [
                _first(entry, "BkTxCd/Domn/Cd"),
                _first(entry, "BkTxCd/Domn/Fmly/Cd"),
                _first(entry, "BkTxCd/Domn/Fmly/SubFmlyCd"),
            ],
        )
    )
    base = {
        "account_iban": account,
        "statement": statement,
        "booking_date": booking,
        "value_date": value,
        "currency": entry_currency,
        "reversal": reversal,
        "transaction_code": code,
    }
    entry_info = _first(entry, "AddtlNtryInf")
    amounts: list[Decimal | None] = []
    for i, detail in enumerate(details, start=1):
        raw = _first(detail, "Amt", "AmtDtls/TxAmt/Amt")
        if not raw:
            amounts.append(None)
            continue
        at = f"{where}/NtryDtls/TxDtls[{i}]"
        detail_sign = _sign(reader, detail, at, default=sign)
        amounts.append(reader.amount(raw, f"{at}/Amt") * detail_sign)
    split = (
        len(details) > 1
        and all(a is not None for a in amounts)
        and sum((a for a in amounts if a is not None), Decimal(0)) == amount * sign
    )
    if split:
        lines = []
        for i, (detail, detail_amount) in enumerate(zip(details, amounts, strict=True), start=1):
            assert detail_amount is not None
            parts = _detail_parts(detail, detail_amount > 0, reversal, account)
            reference = _reference(detail, "Refs/AcctSvcrRef") or entry_ref
            lines.append(
                StatementLine(
                    amount=detail_amount,
                    bank_reference=reference,
                    sequence=str(i) if reference == entry_ref else "",
                    source=f"{reader.source}: {where}/NtryDtls/TxDtls[{i}]",
                    free_text=parts.free_text or ("" if parts.structured else entry_info),
                    counterparty_name=parts.name,
                    counterparty_iban=parts.iban,
                    structured_reference=parts.structured,
                    counterparty_bic=parts.bic,
                    end_to_end_id=parts.end_to_end_id,
                    **base,  # type: ignore[arg-type]
                )
            )
        return [_unpacked(x) if x.free_text.startswith("/TRTP/") else x for x in lines]
    # One line for the entry: a single payment, or a batch that cannot be split.
    parts_list = [_detail_parts(d, sign > 0, reversal, account) for d in details]
    references = list(dict.fromkeys(p.structured for p in parts_list if p.structured))
    texts = [p.free_text for p in parts_list if p.free_text]
    first = parts_list[0] if parts_list else _Parts()
    if len(references) > 1:
        # An unsplittable batch naming several invoices: no one of them is *the*
        # reference of the whole amount.  They stay readable in the free text,
        # where matching finds them all (one debtor's invoices paid together).
        texts.extend(references)
        references = []
    if len({(p.name, p.iban) for p in parts_list if p.name or p.iban}) > 1:
        # Several payers (or payees) in one amount: none of them is the counterparty.
        first = _Parts(free_text=first.free_text)
    reference_ = _reference(entry, "AcctSvcrRef")
    if len(details) == 1:
        # A single payment: the bank's reference of it, else its own (a Sparkasse
        # writes NONREF for the entry and its transaction id as Refs/Prtry).
        reference_ = reference_ or _reference(details[0], "Refs/AcctSvcrRef")
        reference_ = reference_ or _reference(entry, "NtryRef")
        reference_ = reference_ or _reference(details[0], "Refs/Prtry/Ref")
    reference_ = reference_ or entry_ref
    line = StatementLine(
        amount=amount * sign,
        bank_reference=reference_,
        sequence="" if reference_ else str(number),
        source=f"{reader.source}: {where}",
        free_text=" ".join(texts) or ("" if references else entry_info),
        counterparty_name=first.name,
        counterparty_iban=first.iban,
        structured_reference=references[0] if references else None,
        counterparty_bic=first.bic,
        end_to_end_id=first.end_to_end_id,
        **base,  # type: ignore[arg-type]
    )
    return [_unpacked(line) if line.free_text.startswith("/TRTP/") else line]


# Dutch banks (ABN AMRO, some Rabobank exports) write the payment's details as one
# string carried over from MT940 field 86, in AddtlNtryInf or Ustrd:
# "/TRTP/SEPA OVERBOEKING/IBAN/NL30RABO…/BIC/RABONL2U/NAME/…/REMI/Factuur 12/EREF/…",
# the remittance maybe structured ("/REMI/STRD/ISO/RF18…", "/REMI/STRD/CUR/1234…")
# or marked unstructured ("/REMI/USTD//Factuur 12/").
_SWIFT_KEY = re.compile(
    r"/(TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM|RTRN|ISDT|PREF|KREF|ULTC|ULTD|PURP"
    r"|ADDR|CNTP|SVCL|FX)/"
)


def _swift_fields(text: str) -> dict[str, str] | None:
    if not text.lstrip().startswith("/TRTP/"):
        return None
    pieces = _SWIFT_KEY.split(text)
    fields: dict[str, str] = {}
    for key, value in zip(pieces[1::2], pieces[2::2], strict=False):
        fields.setdefault(key, value.strip())
    return fields


def _unpacked(line: StatementLine) -> StatementLine:
    """The line, with a "/TRTP/…" free text read into its parts where the
    structured elements left them out: the text becomes the remittance alone."""
    fields = _swift_fields(line.free_text)
    if fields is None:
        return line
    remittance = fields.get("REMI", "").strip("/ ")
    reference = line.structured_reference
    if remittance.startswith("USTD/"):
        remittance = remittance[5:].strip("/ ")
    elif remittance.startswith("STRD/"):
        remittance = remittance.split("/", 2)[-1].strip("/ ")  # "ISO/RF18…": "RF18…"
        reference = reference or normalise_reference(remittance)
    iban = fields.get("IBAN", "").replace(" ", "").upper()
    return replace(
        line,
        free_text=remittance,
        structured_reference=reference,
        counterparty_iban=line.counterparty_iban
        or (iban if len(iban) >= 15 and iban[:2].isalpha() else None),
        counterparty_name=line.counterparty_name or fields.get("NAME", ""),
        counterparty_bic=line.counterparty_bic or fields.get("BIC", ""),
    )


def _reference(fields: Fields, path: str) -> str:
    """The bank's reference, or "" where it wrote a placeholder for none.

    "NONREF" (inherited from MT940) and "NOTPROVIDED" name no movement: kept, every
    payment of the same amount on the same day would look like the same movement.
    """
    value = _first(fields, path)
    return "" if value.upper() in _NO_REFERENCE else value


def _sign(reader: _Reader, fields: Fields, where: str, default: int = 0) -> int:
    indicator = _first(fields, "CdtDbtInd")
    if indicator == "CRDT":
        return 1
    if indicator == "DBIT":
        return -1
    if not indicator and default:
        return default
    raise reader.fail(f"{where}/CdtDbtInd", f"must be CRDT or DBIT, not {indicator!r}")


@dataclass(frozen=True, slots=True)
class _Parts:
    name: str = ""
    iban: str | None = None
    bic: str = ""
    structured: str | None = None
    free_text: str = ""
    end_to_end_id: str = ""


def _party(detail: Fields, party: str) -> tuple[str, str | None, str]:
    """(name, IBAN, BIC) of the ``Dbtr`` or ``Cdtr`` of one TxDtls."""
    name = _first(
        detail,
        f"RltdPties/{party}/Nm",
        f"RltdPties/{party}/Pty/Nm",
        f"RltdPties/Ultmt{party}/Nm",
        f"RltdPties/Ultmt{party}/Pty/Nm",
    )
    iban = _first(detail, f"RltdPties/{party}Acct/Id/IBAN").replace(" ", "").upper() or None
    agent = f"RltdAgts/{party}Agt/FinInstnId"
    bic = _first(detail, f"{agent}/BICFI", f"{agent}/BIC")
    return name, iban, bic


def _join_lines(parts: list[str]) -> str:
    """Several ``Ustrd`` as one text.

    Banks that carry the remittance over from fixed-width formats (MT940's ?20-?29
    fields of 27 characters, lines of 35) cut it anywhere, even inside an invoice
    number: a part that fills its line, or ends with a hyphen or slash, runs on
    into the next without a space ("RE-2026-" + "0042"); other parts are words
    apart."""
    if len(parts) < 2:  # the common case, at 200,000 lines a statement
        return parts[0] if parts else ""
    text = parts[0]
    for previous, part in pairwise(parts):
        if not (len(previous) in (27, 35) or previous.endswith(("-", "/"))):
            text += " "
        text += part
    return text


def _detail_parts(detail: Fields, incoming: bool, reversal: bool = False, own: str = "") -> _Parts:
    """Counterparty and remittance of one TxDtls: the payer of a credit, the payee
    of a debit.

    A reversal keeps the parties of the movement it undoes (a direct debit the
    payer took back is a debit whose counterparty is that payer, the ``Dbtr``).
    Banks do not all write it so: where a reversal does not give that party, the
    other one is taken. So is it where the party is the statement's own account
    (``own``): a returned direct debit (``RtrInf``, not always marked as a
    reversal) is a debit whose ``Cdtr`` is the creditor itself.
    """
    first, second = ("Dbtr", "Cdtr") if incoming != reversal else ("Cdtr", "Dbtr")
    name, iban, bic = _party(detail, first)
    if (reversal and not name and not iban) or (own and iban and iban == own.upper()):
        other = _party(detail, second)
        if other[0] or other[1]:
            name, iban, bic = other
    structured: str | None = None
    unstructured = _join_lines([t for t in detail.get("RmtInf/Ustrd", ()) if t])
    texts = [unstructured] if unstructured else []
    for raw in detail.get("RmtInf/Strd/CdtrRefInf/Ref", ()):
        found = normalise_reference(raw) if raw else None
        if found and structured is None:
            structured = found
        elif raw:
            texts.append(raw)  # an unchecked or foreign reference: still readable
    texts.extend(t for t in detail.get("RmtInf/Strd/AddtlRmtInf", ()) if t)
    if structured is None and texts:  # banks and payers still type the OGM in Ustrd
        structured = typed_reference(" ".join(texts))
    if not texts:
        texts.append(_first(detail, "AddtlTxInf"))
    end_to_end = _first(detail, "Refs/EndToEndId")
    return _Parts(
        name=name,
        iban=iban,
        bic=bic,
        structured=structured,
        free_text=" ".join(t for t in texts if t),
        end_to_end_id="" if end_to_end == "NOTPROVIDED" else end_to_end,
    )
