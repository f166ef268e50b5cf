"""Invoices and credit notes from Peppol BIS Billing 3.0 (UBL 2.1) XML, bare or in
the Standard Business Document Header envelope that Peppol access points deliver.

    /Invoice/cbc:ID                                  -> number (BT-1)
    /Invoice/cbc:IssueDate, cbc:DueDate              -> dates (BT-2, BT-9)
    /Invoice/cac:PaymentTerms/cbc:Note               -> due date when DueDate is absent
                                                        (BR-CO-25 allows either)
    /Invoice/cac:PaymentMeans/cbc:PaymentID          -> structured reference (BT-83)
    /Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount-> what is due (BT-115)
    /CreditNote/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID
                                                     -> the invoice a credit note corrects
    /*/cac:AccountingCustomerParty/cac:Party         -> the debtor (BT-44 name, endpoint,
                                                        enterprise or VAT number, address,
                                                        contact e-mail)

Problems carry the element path, e.g.
``inv.xml: /Invoice/cbc:IssueDate: not a date: '2026-13-01'``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

from adapters.imports.records import DebtorRecord, InvoiceRecord, ParsedDocument
from bot.errors import Problem
from domain.debtor import normalise_email
from domain.invoice import InvoiceKind
from domain.reference import normalise as normalise_reference

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
ROOTS = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": ("Invoice", InvoiceKind.INVOICE),
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": (
        "CreditNote",
        InvoiceKind.CREDIT_NOTE,
    ),
}
NS = {"cbc": CBC, "cac": CAC}
SBDH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
_TERMS_DAYS = re.compile(
    r"(\d{1,3})\s*(?:calendar\s+)?(?:days?|jours?|dagen|dag|tage?n?|d\b|j\b)", re.IGNORECASE
)
_NET_DAYS = re.compile(r"\bnet(?:to)?\s*(\d{1,3})\b", re.IGNORECASE)
# "Fällig sofort, ohne Abzug", "payable upon receipt", "à réception", "per direct"
_IMMEDIATELY = re.compile(
    r"\b(?:sofort|umgehend|bei\s+erhalt|immediately|immediate|upon\s+receipt|on\s+receipt|"
    r"due\s+on\s+receipt|imm[ée]diatement|d[èe]s\s+r[ée]ception|[àa]\s+r[ée]ception|"
    r"onmiddellijk|per\s+direct|bij\s+ontvangst)\b",
    re.IGNORECASE,
)


_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def _currency(code: str, where: str) -> str:
    """An ISO 4217 code (BR-CL-03/04), as Babel's currency list knows them."""
    from babel.numbers import list_currencies

    if code not in list_currencies():
        raise _Bad(where, f"not an ISO 4217 currency code: {code!r}")
    return code


class _Bad(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def looks_like_ubl(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096)
    return b"<" in head and any(
        mark in head for mark in (b"Invoice-2", b"CreditNote-2", b"StandardBusinessDocument")
    )


def terms_days_from_note(note: str) -> int | None:
    """Payment terms in days from a free-text note: "Net 30", "30 jours", "30 dagen";
    0 for payment at once ("Fällig sofort", "upon receipt", "à réception")."""
    if _IMMEDIATELY.search(note) and not _TERMS_DAYS.search(note):
        return 0
    for pattern in (_NET_DAYS, _TERMS_DAYS):
        match = pattern.search(note)
        if match:
            return int(match.group(1))
    return None


def read_ubl(path: Path, payment_terms_days: int = 30) -> Iterator[ParsedDocument | Problem]:
    name = path.name
    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        yield Problem(name, f"line {exc.lineno}", f"not well-formed XML: {exc.msg}")
        return
    root = tree.getroot()
    if etree.QName(root).namespace == SBDH:
        # As a Peppol access point delivers it: the Standard Business Document
        # Header around the invoice, which is the envelope's one UBL child.
        inside = [c for c in root if etree.QName(c).namespace in ROOTS]
        if len(inside) == 1:
            root = inside[0]
    qname = etree.QName(root)
    expected = ROOTS.get(qname.namespace or "")
    if expected is None or qname.localname != expected[0]:
        yield Problem(
            name,
            f"/{qname.localname}",
            f"not a UBL Invoice or CreditNote: the root element is {qname.localname} "
            f"in namespace {qname.namespace or '(none)'}",
        )
        return
    root_name, kind = expected
    try:
        yield _document(name, root, root_name, kind, payment_terms_days)
    except _Bad as bad:
        yield Problem(name, bad.path, bad.reason)


def _text(element: etree._Element, xpath: str) -> str:
    """The element's text, its runs of white space (line breaks of a wrapped name)
    as one space."""
    found = element.find(xpath, NS)
    return " ".join((found.text or "").split()) if found is not None else ""


def _required(element: etree._Element, xpath: str, where: str) -> str:
    value = _text(element, xpath)
    if not value:
        raise _Bad(f"{where}/{xpath}", "required element is missing or empty")
    return value


def _date(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad(where, f"not a date (YYYY-MM-DD): {value!r}") from None


def _amount(element: etree._Element, xpath: str, where: str) -> tuple[Decimal, str] | None:
    found = element.find(xpath, NS)
    if found is None or not (found.text or "").strip():
        return None
    if not _DECIMAL.fullmatch(found.text.strip()):  # UBL amounts: no "1.65625E3"
        raise _Bad(f"{where}/{xpath}", f"not an amount: {found.text!r}")
    try:
        value = Decimal(found.text.strip())
    except InvalidOperation:
        raise _Bad(f"{where}/{xpath}", f"not an amount: {found.text!r}") from None
    if value != value.quantize(Decimal("0.01")):
        raise _Bad(f"{where}/{xpath}", f"more than two decimals: {found.text!r}")
    return value.quantize(Decimal("0.01")), found.get("currencyID", "")


def _document(
    name: str, root: etree._Element, root_name: str, kind: InvoiceKind, terms_default: int
) -> ParsedDocument:
    top = f"/{root_name}"
    number = _required(root, "cbc:ID", top)
    issue = _date(_required(root, "cbc:IssueDate", top), f"{top}/cbc:IssueDate")
    currency = _currency(
        _required(root, "cbc:DocumentCurrencyCode", top).upper(), f"{top}/cbc:DocumentCurrencyCode"
    )

    due_text = _text(root, "cbc:DueDate") or _text(root, "cac:PaymentMeans/cbc:PaymentDueDate")
    if due_text:
        due = _date(due_text, f"{top}/cbc:DueDate")
    else:
        note = " ".join((n.text or "") for n in root.findall("cac:PaymentTerms/cbc:Note", NS))
        days = terms_days_from_note(note) if note.strip() else None
        due = issue + timedelta(days=terms_default if days is None else days)

    totals = f"{top}/cac:LegalMonetaryTotal"
    payable = _amount(root, "cac:LegalMonetaryTotal/cbc:PayableAmount", top)
    if payable is None:
        raise _Bad(f"{totals}/cbc:PayableAmount", "required element is missing or empty")
    inclusive = _amount(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", top)
    amount, amount_currency = inclusive or payable
    if amount_currency and amount_currency.upper() != currency:
        raise _Bad(
            f"{totals}",
            f"amount in {amount_currency}, document currency {currency}",
        )
    rounding = _amount(root, "cac:LegalMonetaryTotal/cbc:PayableRoundingAmount", top)
    if inclusive and rounding:
        # BT-115 = BT-112 - BT-113 + BT-114: the rounding is part of what is owed.
        amount += rounding[0]
    prepaid = _amount(root, "cac:LegalMonetaryTotal/cbc:PrepaidAmount", top)
    if inclusive and payable[0] != amount - (prepaid[0] if prepaid else 0):
        # A total that does not add up is no bill to collect on: the Peppol rule
        # BR-CO-16 that every access point checks.
        raise _Bad(
            f"{totals}/cbc:PayableAmount",
            f"{payable[0]} is not TaxInclusiveAmount {inclusive[0]} - PrepaidAmount "
            f"{prepaid[0] if prepaid else '0.00'} + PayableRoundingAmount "
            f"{rounding[0] if rounding else '0.00'} (BR-CO-16)",
        )
    open_amount: Decimal | None = payable[0]
    if amount < 0:
        # A negative invoice corrects an earlier one: it is a credit note.
        kind, amount = InvoiceKind.CREDIT_NOTE, -amount
        open_amount = abs(payable[0])
    elif open_amount is not None and open_amount < 0:
        # Prepaid more than the total (BT-113 > BT-112): nothing is owed.  The excess
        # is the seller's to refund; it is not a debt of the buyer.
        open_amount = Decimal("0.00")
    if open_amount is not None and open_amount >= amount:
        open_amount = None  # nothing prepaid

    reference = None
    payment_ids = {
        (p.text or "").strip() for p in root.findall("cac:PaymentMeans/cbc:PaymentID", NS)
    } - {""}
    for payment_id in sorted(payment_ids):
        reference = normalise_reference(payment_id)
        if reference:
            break

    credited = _text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") or None
    description = _text(root, "cac:InvoiceLine/cac:Item/cbc:Name") or _text(
        root, "cac:CreditNoteLine/cac:Item/cbc:Name"
    )
    lines = len(root.findall("cac:InvoiceLine", NS)) + len(root.findall("cac:CreditNoteLine", NS))
    if lines > 1 and description:
        description = f"{description} (+{lines - 1})"

    debtor = _debtor(root, top)
    invoice = InvoiceRecord(
        number=number,
        kind=kind,
        issue_date=issue,
        due_date=max(due, issue),
        currency=currency,
        amount=amount,
        open_amount=open_amount,
        structured_reference=reference,
        description=description[:500],
        credited_invoice=credited if kind is InvoiceKind.CREDIT_NOTE else None,
    )
    return ParsedDocument(name, debtor, invoice)


def _belgian_number(value: str) -> str | None:
    from stdnum.be import vat

    compact = vat.compact(value)
    return str(compact) if vat.is_valid(compact) else None


def _debtor(root: etree._Element, top: str) -> DebtorRecord:
    where = f"{top}/cac:AccountingCustomerParty/cac:Party"
    party = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    if party is None:
        raise _Bad(where, "required element is missing (the buyer)")
    registration = _text(party, "cac:PartyLegalEntity/cbc:RegistrationName")
    name = registration or _text(party, "cac:PartyName/cbc:Name")
    if not name:
        raise _Bad(f"{where}/cac:PartyLegalEntity/cbc:RegistrationName", "the buyer has no name")
    country = _text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode").upper()

    enterprise = None
    endpoint = party.find("cbc:EndpointID", NS)
    candidates = []
    if endpoint is not None and endpoint.get("schemeID") in ("0208", "9925"):
        candidates.append((endpoint.text or "").strip())
    candidates.append(_text(party, "cac:PartyLegalEntity/cbc:CompanyID"))
    candidates.append(_text(party, "cac:PartyTaxScheme/cbc:CompanyID"))
    for candidate in candidates:
        if candidate and (country in ("", "BE") or candidate.upper().startswith("BE")):
            enterprise = _belgian_number(candidate)
            if enterprise:
                break

    endpoint_id = (endpoint.text or "").strip() if endpoint is not None else ""
    code = (
        _text(party, "cac:PartyIdentification/cbc:ID")
        or (f"BE{enterprise}" if enterprise else "")
        or endpoint_id
        or name
    )
    emails: tuple[str, ...] = ()
    email_text = _text(party, "cac:Contact/cbc:ElectronicMail")
    if email_text:
        try:
            emails = (normalise_email(email_text),)
        except ValueError as exc:
            raise _Bad(f"{where}/cac:Contact/cbc:ElectronicMail", str(exc)) from None
    # A VAT number, a legal registration (KvK 0106, a Leitweg-ID 0204 ...) or a
    # Peppol address other than an e-mail: an organisation, not a consumer.
    is_business = bool(
        enterprise
        or _text(party, "cac:PartyTaxScheme/cbc:CompanyID")
        or _text(party, "cac:PartyLegalEntity/cbc:CompanyID")
        or (endpoint_id and (endpoint.get("schemeID") or "").upper() not in ("", "EM"))
    )
    return DebtorRecord(
        code=code[:64],
        name=name[:200],
        kind="business" if is_business else None,
        enterprise_number=enterprise,
        phone=_text(party, "cac:Contact/cbc:Telephone") or None,
        street=_text(party, "cac:PostalAddress/cbc:StreetName") or None,
        postcode=_text(party, "cac:PostalAddress/cbc:PostalZone") or None,
        city=_text(party, "cac:PostalAddress/cbc:CityName") or None,
        country=country or None,
        emails=emails,
    )
