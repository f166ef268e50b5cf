"""Debtors: the businesses and consumers who owe the creditor money.

    Debtor(code="C0042", name="Boulangerie Dupont SRL", kind=DebtorKind.BUSINESS,
           enterprise_number="0403170701", language="fr", emails=("compta@dupont.be",))

A business debtor may carry a Belgian enterprise number (KBO/BCE, validated with
its mod-97 check); the legal rules that apply (Book XIX for consumers, the law of
2 August 2002 for businesses) follow from ``kind``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from stdnum.be import vat as be_vat

LANGUAGES = ("fr", "nl", "en", "de")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class DebtorKind(StrEnum):
    BUSINESS = "business"
    CONSUMER = "consumer"


@dataclass(frozen=True, slots=True)
class Address:
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "BE"


@dataclass(frozen=True, slots=True)
class Debtor:
    code: str
    name: str
    kind: DebtorKind
    language: str = "fr"
    enterprise_number: str | None = None
    emails: tuple[str, ...] = ()
    phone: str | None = None
    ibans: tuple[str, ...] = ()
    address: Address = field(default_factory=Address)
    id: int | None = None

    @property
    def is_consumer(self) -> bool:
        return self.kind is DebtorKind.CONSUMER


def normalise_enterprise_number(text: str) -> str:
    """The 10-digit Belgian enterprise number, or ValueError with the reason.

    "BE 0403.170.701" -> "0403170701";  "403170701" -> "0403170701"
    """
    compact = be_vat.compact(text)
    if not be_vat.is_valid(compact):
        raise ValueError(f"not a valid Belgian enterprise number: {text!r}")
    return str(compact)


def normalise_language(text: str) -> str:
    lang = text.strip().lower()[:2]
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {text!r}")
    return lang


def normalise_email(text: str) -> str:
    email = text.strip()
    if not _EMAIL.match(email):
        raise ValueError(f"not an email address: {text!r}")
    return email.lower()
