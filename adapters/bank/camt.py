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
on the account.

A batch entry becomes one line per ``TxDtls`` when every detail has its amount and
they add up to the entry; otherwise it stays one line carrying every remittance
text, so nothing is counted twice and nothing is lost.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from adapters.bank import StatementError
from domain.money import to_cents
from domain.reconciliation import typed_reference
from domain.reference import normalise as normalise_reference
from domain.statement import StatementLine

_ROOTS = {
    "BkToCstmrStmt": ("Stmt", "camt.053"),
    "BkToCstmrDbtCdtNtfctn": ("Ntfctn", "camt.054"),
    "BkToCstmrAcctRpt": ("Rpt", "camt.052"),
}


def looks_like_camt(data: bytes) -> bool:
    head = data[:2048]
    return b"<" in head and (b"camt.05" in head or any(r.encode() in head for r in _ROOTS))


def _strip_namespaces(root: etree._Element) -> None:
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = etree.QName(element).localname


def _text(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, reason: str) -> StatementError:
        return StatementError(self.source, where, reason)

    def amount(self, element: etree._Element, where: str) -> Decimal:
        raw = (element.text or "").strip()
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise self.fail(where, f"not an amount: {raw!r}") from None
        if not value.is_finite() or value < 0:
            raise self.fail(where, f"not a positive amount: {raw!r}")
        if value != to_cents(value):
            raise self.fail(where, f"more than two decimals: {raw!r}")
        return to_cents(value)

    def date(self, element: etree._Element | None, where: str) -> date | None:
        """``Dt`` (a date) or ``DtTm`` (a date-time: the date part is the bank's day)."""
        if element is None:
            return None
        raw = _text(element, "Dt") or _text(element, "DtTm")[:10]
        if not raw:
            raise self.fail(where, "no Dt or DtTm")
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            raise self.fail(where, f"not a date: {raw!r}") from None


def parse_camt(data: bytes, source: str = "statement.xml") -> tuple[str, list[StatementLine]]:
    """(format, booked lines) of a camt.052/053/054 document."""
    reader = _Reader(source)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise reader.fail(f"line {exc.lineno}", f"not well-formed XML: {exc.msg}") from None
    _strip_namespaces(root)
    if root.tag != "Document":
        raise reader.fail(f"/{root.tag}", "not an ISO 20022 Document")
    message = next((child for child in root if child.tag in _ROOTS), None)
    if message is None:
        raise reader.fail(
            "/Document", "no BkToCstmrStmt, BkToCstmrDbtCdtNtfctn or BkToCstmrAcctRpt"
        )
    item_tag, fmt = _ROOTS[message.tag]
    lines: list[StatementLine] = []
    for index, statement in enumerate(message.findall(item_tag), start=1):
        path = f"/Document/{message.tag}/{item_tag}[{index}]"
        lines.extend(_statement(reader, statement, path))
    return fmt, lines


def _statement(reader: _Reader, statement: etree._Element, path: str) -> list[StatementLine]:
    account = statement.find("Acct")
    if account is None:
        raise reader.fail(path, "no Acct")
    iban = _text(account, "Id/IBAN") or _text(account, "Id/Othr/Id")
    if not iban:
        raise reader.fail(f"{path}/Acct/Id", "no IBAN or Othr/Id")
    currency = _text(account, "Ccy")
    name = _text(statement, "Id") or _text(statement, "ElctrncSeqNb")
    lines: list[StatementLine] = []
    for number, entry in enumerate(statement.findall("Ntry"), start=1):
        where = f"{path}/Ntry[{number}]"
        status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
        if status.upper() not in ("BOOK", "BOOKED"):
            continue
        lines.extend(_entry(reader, entry, where, iban.replace(" ", ""), currency, name, number))
    return lines


def _entry(
    reader: _Reader,
    entry: etree._Element,
    where: str,
    account: str,
    currency: str,
    statement: str,
    number: int,
) -> list[StatementLine]:
    amount_el = entry.find("Amt")
    if amount_el is None:
        raise reader.fail(where, "no Amt")
    amount = reader.amount(amount_el, f"{where}/Amt")
    entry_currency = amount_el.get("Ccy") or currency
    if not entry_currency:
        raise reader.fail(f"{where}/Amt", "no Ccy")
    sign = _sign(reader, entry, where)
    booking = reader.date(entry.find("BookgDt"), f"{where}/BookgDt")
    if booking is None:
        raise reader.fail(where, "a booked entry without BookgDt")
    value = reader.date(entry.find("ValDt"), f"{where}/ValDt") or booking
    reversal = _text(entry, "RvslInd").lower() in ("true", "1")
    entry_ref = _text(entry, "AcctSvcrRef")
    details = entry.findall("NtryDtls/TxDtls")
    base = {
        "account_iban": account,
        "statement": statement,
        "booking_date": booking,
        "value_date": value,
        "currency": entry_currency,
        "reversal": reversal,
        "transaction_code": "/".join(
            filter(
                None,
                [
                    _text(entry, "BkTxCd/Domn/Cd"),
                    _text(entry, "BkTxCd/Domn/Fmly/Cd"),
                    _text(entry, "BkTxCd/Domn/Fmly/SubFmlyCd"),
                ],
            )
        ),
    }
    entry_info = _text(entry, "AddtlNtryInf")
    amounts: list[Decimal | None] = []
    for i, detail in enumerate(details, start=1):
        detail_amount = detail.find("Amt")
        if detail_amount is None:
            detail_amount = detail.find("AmtDtls/TxAmt/Amt")
        if detail_amount is None:
            amounts.append(None)
            continue
        detail_sign = _sign(reader, detail, f"{where}/NtryDtls/TxDtls[{i}]", default=sign)
        value_ = reader.amount(detail_amount, f"{where}/NtryDtls/TxDtls[{i}]/Amt")
        amounts.append(value_ * detail_sign)
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
            reference = _text(detail, "Refs/AcctSvcrRef") or entry_ref
            lines.append(
                StatementLine(
                    amount=detail_amount,
                    bank_reference=reference,
                    sequence=str(i) if reference == entry_ref else "",
                    source=f"{reader.source}: {where}/NtryDtls/TxDtls[{i}]",
                    free_text=parts["free_text"] or ("" if parts["structured"] else entry_info),
                    counterparty_name=parts["name"],
                    counterparty_iban=parts["iban"],
                    structured_reference=parts["structured"],
                    counterparty_bic=parts["bic"],
                    end_to_end_id=parts["end_to_end_id"],
                    **base,  # type: ignore[arg-type]
                )
            )
        return lines
    # One line for the entry: a single payment, or a batch that cannot be split.
    parts_list = [_detail_parts(d, sign > 0) for d in details]
    references = [p["structured"] for p in parts_list if p["structured"]]
    texts = [p["free_text"] for p in parts_list if p["free_text"]]
    # Further references of an unsplittable batch stay readable in the free text.
    texts.extend(r for r in references[1:] if r)
    first = parts_list[0] if parts_list else {}
    reference_ = entry_ref or (_text(details[0], "Refs/AcctSvcrRef") if len(details) == 1 else "")
    return [
        StatementLine(
            amount=amount * sign,
            bank_reference=reference_,
            sequence="" if reference_ else str(number),
            source=f"{reader.source}: {where}",
            free_text=" ".join(texts) or ("" if references else entry_info),
            counterparty_name=first.get("name") or "",
            counterparty_iban=first.get("iban"),
            structured_reference=references[0] if references else None,
            counterparty_bic=first.get("bic") or "",
            end_to_end_id=first.get("end_to_end_id") or "",
            **base,  # type: ignore[arg-type]
        )
    ]


def _sign(reader: _Reader, element: etree._Element, where: str, default: int = 0) -> int:
    indicator = _text(element, "CdtDbtInd")
    if indicator == "CRDT":
        return 1
    if indicator == "DBIT":
        return -1
    if not indicator and default:
        return default
    raise reader.fail(f"{where}/CdtDbtInd", f"must be CRDT or DBIT, not {indicator!r}")


def _detail_parts(detail: etree._Element, incoming: bool) -> dict[str, str | None]:
    """Counterparty and remittance of one TxDtls: the payer of a credit, the payee of a debit."""
    party, account = ("Dbtr", "DbtrAcct") if incoming else ("Cdtr", "CdtrAcct")
    parties = detail.find("RltdPties")
    name = (
        _text(parties, f"{party}/Nm")
        or _text(parties, f"{party}/Pty/Nm")
        or _text(parties, f"Ultmt{party}/Nm")
        or _text(parties, f"Ultmt{party}/Pty/Nm")
    )
    iban = _text(parties, f"{account}/Id/IBAN").replace(" ", "").upper() or None
    agent = "DbtrAgt" if incoming else "CdtrAgt"
    bic = _text(detail, f"RltdAgts/{agent}/FinInstnId/BICFI") or _text(
        detail, f"RltdAgts/{agent}/FinInstnId/BIC"
    )
    structured: str | None = None
    texts: list[str] = []
    remittance = detail.find("RmtInf")
    if remittance is not None:
        texts.extend((u.text or "").strip() for u in remittance.findall("Ustrd"))
        for strd in remittance.findall("Strd"):
            raw = _text(strd, "CdtrRefInf/Ref")
            found = normalise_reference(raw) if raw else None
            if found and structured is None:
                structured = found
            elif raw:
                texts.append(raw)  # an unchecked or foreign reference: still readable
            texts.extend((a.text or "").strip() for a in strd.findall("AddtlRmtInf"))
    if structured is None:  # banks and payers still type the OGM in Ustrd
        structured = typed_reference(" ".join(t for t in texts if t))
    if not any(texts):
        texts.append(_text(detail, "AddtlTxInf"))
    return {
        "name": name,
        "iban": iban,
        "bic": bic,
        "structured": structured,
        "free_text": " ".join(t for t in texts if t),
        "end_to_end_id": (e if (e := _text(detail, "Refs/EndToEndId")) != "NOTPROVIDED" else ""),
    }
