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
text, so nothing is counted twice and nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

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
    element: etree._Element,
    prefix: str,
    out: Fields,
    skip: str = "",
    skipped: list[etree._Element] | None = None,
) -> Fields:
    """Every leaf below ``element`` as ``{"RltdPties/Dbtr/Nm": [text, ...]}``.

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


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, reason: str) -> StatementError:
        return StatementError(self.source, where, reason)

    def amount(self, raw: str, where: str) -> Decimal:
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise self.fail(where, f"not an amount: {raw!r}") from None
        if not value.is_finite() or value < 0:
            raise self.fail(where, f"not a positive amount: {raw!r}")
        if value != to_cents(value):
            raise self.fail(where, f"more than two decimals: {raw!r}")
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


def parse_camt(data: bytes, source: str = "statement.xml") -> tuple[str, list[StatementLine]]:
    """(format, booked lines) of a camt.052/053/054 document."""
    reader = _Reader(source)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise reader.fail(f"line {exc.lineno}", f"not well-formed XML: {exc.msg}") from None
    if _local(root.tag) != "Document":
        # Some channels wrap the message with its business application header
        # (<Envelope><AppHdr/><Document/></Envelope>): read the Document inside.
        inner = next((e for e in root.iter() if _local(str(e.tag)) == "Document"), None)
        if inner is None:
            raise reader.fail(f"/{_local(root.tag)}", "not an ISO 20022 Document")
        root = inner
    message = next((c for c in root if isinstance(c.tag, str) and _local(c.tag) in _ROOTS), None)
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


def _statement(
    reader: _Reader, statement: etree._Element, path: str, booked_by_default: bool
) -> list[StatementLine]:
    head = _flatten(statement, "", {}, skip="Ntry")
    if not any(k.startswith("Acct/") for k in head):
        raise reader.fail(path, "no Acct")
    iban = _first(head, "Acct/Id/IBAN").upper() or _first(head, "Acct/Id/Othr/Id")
    if not iban:
        raise reader.fail(f"{path}/Acct/Id", "no IBAN or Othr/Id")
    currency = _first(head, "Acct/Ccy")
    name = _first(head, "Id", "ElctrncSeqNb")
    account = iban.replace(" ", "")
    lines: list[StatementLine] = []
    number = 0
    for entry in statement:
        if not isinstance(entry.tag, str) or _local(entry.tag) != "Ntry":
            continue
        number += 1
        where = f"{path}/Ntry[{number}]"
        entry_details: list[etree._Element] = []
        fields = _flatten(entry, "", {}, skip="NtryDtls", skipped=entry_details)
        status = _first(fields, "Sts/Cd", "Sts", "Sts/Prtry")
        # An end-of-day statement lists what was booked: an entry whose status an
        # exporter left out is money on the account, not a line to lose in silence.
        if not status and booked_by_default:
            status = "BOOK"
        if status.upper() not in ("BOOK", "BOOKED"):
            continue
        details = [
            _flatten(tx, "", {})
            for dtls in entry_details
            for tx in dtls
            if _NAMES.get(tx.tag) == "TxDtls"
            or (isinstance(tx.tag, str) and _local(tx.tag) == "TxDtls")
        ]
        lines.extend(_entry(reader, fields, details, where, account, currency, name, number))
    return lines


def _entry(
    reader: _Reader,
    entry: Fields,
    details: list[Fields],
    where: str,
    account: str,
    currency: str,
    statement: str,
    number: int,
) -> list[StatementLine]:
    raw_amount = entry.get("Amt")
    if not raw_amount:
        raise reader.fail(where, "no Amt")
    amount = reader.amount(raw_amount[0], f"{where}/Amt")
    entry_currency = _first(entry, "Amt@Ccy") or currency
    if not entry_currency:
        raise reader.fail(f"{where}/Amt", "no Ccy")
    sign = _sign(reader, entry, where)
    booking = reader.date(entry, "BookgDt", where)
    if booking is None:
        raise reader.fail(where, "a booked entry without BookgDt")
    value = reader.date(entry, "ValDt", where) or booking
    reversal = _first(entry, "RvslInd").lower() in ("true", "1")
    entry_ref = _reference(entry, "AcctSvcrRef")
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
            parts = _detail_parts(detail, detail_amount > 0)
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
        return lines
    # One line for the entry: a single payment, or a batch that cannot be split.
    parts_list = [_detail_parts(d, sign > 0) for d in details]
    references = [p.structured for p in parts_list if p.structured]
    texts = [p.free_text for p in parts_list if p.free_text]
    # Further references of an unsplittable batch stay readable in the free text.
    texts.extend(r for r in references[1:] if r)
    first = parts_list[0] if parts_list else _Parts()
    reference_ = entry_ref or (
        _reference(details[0], "Refs/AcctSvcrRef") if len(details) == 1 else ""
    )
    return [
        StatementLine(
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
    ]


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


def _detail_parts(detail: Fields, incoming: bool) -> _Parts:
    """Counterparty and remittance of one TxDtls: the payer of a credit, the payee of a debit."""
    party, account, agent = (
        ("Dbtr", "DbtrAcct", "DbtrAgt") if incoming else ("Cdtr", "CdtrAcct", "CdtrAgt")
    )
    name = _first(
        detail,
        f"RltdPties/{party}/Nm",
        f"RltdPties/{party}/Pty/Nm",
        f"RltdPties/Ultmt{party}/Nm",
        f"RltdPties/Ultmt{party}/Pty/Nm",
    )
    iban = _first(detail, f"RltdPties/{account}/Id/IBAN").replace(" ", "").upper() or None
    bic = _first(detail, f"RltdAgts/{agent}/FinInstnId/BICFI", f"RltdAgts/{agent}/FinInstnId/BIC")
    structured: str | None = None
    texts = [t for t in detail.get("RmtInf/Ustrd", ()) if t]
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
