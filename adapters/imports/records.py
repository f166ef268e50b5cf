"""What an invoice file says, before it meets the ledger.

Readers (CSV, UBL) turn files into ``ParsedDocument`` values or ``Problem``s; the
ledger importer (``adapters.db.ledger``) writes them.  A field that is ``None``
was not given by the file: the importer keeps what the ledger already knows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.invoice import InvoiceKind


@dataclass(frozen=True, slots=True)
class DebtorRecord:
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
        parts = (
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
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    source: str  # "invoices.csv:12", "inv-42.xml"
    debtor: DebtorRecord
    invoice: InvoiceRecord


def language_from_address(country: str | None, postcode: str | None) -> str | None:
    """A first guess of a debtor's language from where they live.

    Belgian postcodes: 1000-1299 Brussels (French, the majority language there),
    1300-1499 and 4000-7999 Wallonia (French; 4700-4799 the German-speaking
    community), 1500-3999 and 8000-9999 Flanders (Dutch).
    """
    country = (country or "").upper()
    if country in ("", "BE") and postcode and postcode[:4].isdigit():
        code = int(postcode[:4])
        if 4700 <= code <= 4799:
            return "de"
        if 1500 <= code <= 3999 or code >= 8000:
            return "nl"
        return "fr"
    return {"NL": "nl", "DE": "de", "AT": "de", "CH": "de", "FR": "fr", "LU": "fr"}.get(
        country, "en" if country else None
    )
