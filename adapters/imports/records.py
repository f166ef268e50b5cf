"""What an invoice file says, before it meets the ledger.

Readers (CSV, UBL) turn files into ``ParsedDocument`` values or ``Problem``s; the
ledger importer (``adapters.db.ledger``) writes them.  A field that is ``None``
was not given by the file: the importer keeps what the ledger already knows.

Bulk imports carry each document as a ``DocumentRow`` instead: one flat tuple with
the amounts in integer cents and the content hash already computed.  Building the
two frozen dataclasses of a ``ParsedDocument`` costs about as much as the whole
rest of reading a CSV line, which matters at a million lines.

    DocumentRow.from_document(doc).document() == doc
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from domain.invoice import InvoiceKind

_blake2b = hashlib.blake2b


def content_hash(
    debtor_code: str,
    kind: str,
    issue_date: str,
    due_date: str,
    currency: str,
    amount: str,
    open_amount: str,
    structured_reference: str,
    description: str,
    credited_invoice: str,
) -> str:
    """Identifies a document's content: the same hash means nothing changed.

    Dates in ISO form, amounts as ``str(Decimal)`` with two decimals ("1234.56"),
    absent values as "".  The formula is stored with every invoice: changing it
    would make the next import of an unchanged file update every invoice.
    """
    text = "\x1f".join(
        (
            debtor_code,
            kind,
            issue_date,
            due_date,
            currency,
            amount,
            open_amount,
            structured_reference,
            description,
            credited_invoice,
        )
    )
    return _blake2b(text.encode(), digest_size=16).hexdigest()


def cents_text(cents: int) -> str:
    """``str()`` of the two-decimal Decimal: 123456 -> "1234.56", -5 -> "-0.05"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def to_cents(amount: Decimal) -> int:
    """A Decimal with at most two decimals as integer cents (ValueError otherwise)."""
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise ValueError(f"more than two decimals: {amount}")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


class DebtorRecord(NamedTuple):
    """A debtor as a file describes it; ``None``: the file did not say.

    A NamedTuple rather than a frozen dataclass: a large import builds one per
    debtor (200,000), and a frozen dataclass's constructor costs ten times more.
    """

    code: str
    name: str
    kind: str | None = None  # "business" | "consumer"
    language: str | None = None
    enterprise_number: str | None = None
    phone: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    emails: tuple[str, ...] = ()
    ibans: tuple[str, ...] = ()

    def given(self) -> dict[str, str]:
        """The scalar fields the file gave, by column name."""
        fields = {
            "name": self.name,
            "kind": self.kind,
            "language": self.language,
            "enterprise_number": self.enterprise_number,
            "phone": self.phone,
            "street": self.street,
            "postcode": self.postcode,
            "city": self.city,
            "country": self.country,
        }
        return {k: v for k, v in fields.items() if v is not None}


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    number: str
    kind: InvoiceKind
    issue_date: date
    due_date: date
    currency: str
    amount: Decimal
    open_amount: Decimal | None = None  # what the source system says is still due
    structured_reference: str | None = None
    description: str = ""
    credited_invoice: str | None = None

    def content_hash(self, debtor_code: str) -> str:
        """Identifies the record's content: the same hash means nothing changed."""
        return content_hash(
            debtor_code,
            str(self.kind),
            self.issue_date.isoformat(),
            self.due_date.isoformat(),
            self.currency,
            str(self.amount),
            "" if self.open_amount is None else str(self.open_amount),
            self.structured_reference or "",
            self.description,
            self.credited_invoice or "",
        )


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    source: str  # "invoices.csv:12", "inv-42.xml"
    debtor: DebtorRecord
    invoice: InvoiceRecord


class DocumentRow(NamedTuple):
    """One document as the ledger importer writes it (see the module docstring).

    The first thirteen fields are the ledger's row as is (``row[:13]``); the
    debtor record comes last and travels separately.
    """

    number: str
    debtor_code: str
    kind: str  # an InvoiceKind value
    issue_date: date
    due_date: date
    currency: str
    amount: int  # cents, never negative
    open_amount: int | None  # cents; what the source system says is still due
    structured_reference: str | None
    description: str
    credited_invoice: str | None
    content_hash: str
    source: str  # "invoices.csv:12"
    debtor: DebtorRecord

    @classmethod
    def from_document(cls, doc: ParsedDocument) -> DocumentRow:
        inv = doc.invoice
        return cls(
            inv.number,
            doc.debtor.code,
            InvoiceKind(inv.kind).value,
            inv.issue_date,
            inv.due_date,
            inv.currency,
            to_cents(inv.amount),
            None if inv.open_amount is None else to_cents(inv.open_amount),
            inv.structured_reference,
            inv.description,
            inv.credited_invoice,
            inv.content_hash(doc.debtor.code),
            doc.source,
            doc.debtor,
        )

    def document(self) -> ParsedDocument:
        invoice = InvoiceRecord(
            number=self.number,
            kind=InvoiceKind(self.kind),
            issue_date=self.issue_date,
            due_date=self.due_date,
            currency=self.currency,
            amount=from_cents(self.amount),
            open_amount=None if self.open_amount is None else from_cents(self.open_amount),
            structured_reference=self.structured_reference,
            description=self.description,
            credited_invoice=self.credited_invoice,
        )
        return ParsedDocument(self.source, self.debtor, invoice)


def language_from_address(country: str | None, postcode: str | None) -> str | None:
    """A first guess of a debtor's language from where they live.

    Belgian postcodes: 1000-1299 Brussels (French, the majority language there),
    1300-1499 and 4000-7999 Wallonia (French; 4700-4799 the German-speaking
    community), 1500-3999 and 8000-9999 Flanders (Dutch).
    """
    country = (country or "").upper()
    digits = re.search(r"(?<!\d)\d{4}(?!\d)", postcode or "")  # "1000", "B-1000"
    if country in ("", "BE") and digits:
        code = int(digits.group(0))
        if 4700 <= code <= 4799:
            return "de"
        if 1500 <= code <= 3999 or code >= 8000:
            return "nl"
        return "fr"
    if country == "BE":
        return None  # three languages: without a postcode, the creditor's default
    return {"NL": "nl", "DE": "de", "AT": "de", "CH": "de", "FR": "fr", "LU": "fr"}.get(
        country, "en" if country else None
    )
