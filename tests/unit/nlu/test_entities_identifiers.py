"""References (OGM, RF), IBANs and invoice numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from nlu.entities import extract_entities

REF = dt.date(2026, 3, 10)


def found(text: str, language: str = "fr") -> list[tuple[str, str, str]]:
    return [
        (e["entity"], e["value"], text[e["start"] : e["end"]])
        for e in extract_entities(text, language, REF)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+++090/9337/55493+++", [("reference", "090933755493", "+++090/9337/55493+++")]),
        ("***090/9337/55493***", [("reference", "090933755493", "***090/9337/55493***")]),
        ("090/9337/55493", [("reference", "090933755493", "090/9337/55493")]),
        ("090933755493", [("reference", "090933755493", "090933755493")]),
        ("090 9337 55493", [("reference", "090933755493", "090 9337 55493")]),
        ("+++ 090/9337/55493 +++", [("reference", "090933755493", "+++ 090/9337/55493 +++")]),
        (
            "mededeling: +++010/8068/17183+++ betaald",
            [("reference", "010806817183", "+++010/8068/17183+++")],
        ),
        ("RF18 5390 0754 7034", [("reference", "RF18539007547034", "RF18 5390 0754 7034")]),
        ("rf18539007547034 merci", [("reference", "RF18539007547034", "rf18539007547034")]),
        ("be68 5390 0754 7034", [("iban", "BE68539007547034", "be68 5390 0754 7034")]),
        ("BE68539007547034", [("iban", "BE68539007547034", "BE68539007547034")]),
        ("IBAN: BE68-5390-0754-7034.", [("iban", "BE68539007547034", "BE68-5390-0754-7034")]),
        (
            "op NL91 ABNA 0417 1643 00 gestort",
            [("iban", "NL91ABNA0417164300", "NL91 ABNA 0417 1643 00")],
        ),
        (
            "DE89 3704 0044 0532 0130 00 bitte",
            [("iban", "DE89370400440532013000", "DE89 3704 0044 0532 0130 00")],
        ),
        # invoice numbers, as written
        ("INV-2026-0042", [("invoice_number", "INV-2026-0042", "INV-2026-0042")]),
        ("la facture F2026/123", [("invoice_number", "F2026/123", "F2026/123")]),
        ("factuur 2026-0042", [("invoice_number", "2026-0042", "2026-0042")]),
        ("facture n° 12345", [("invoice_number", "12345", "12345")]),
        ("facture n°12345.", [("invoice_number", "12345", "12345")]),
        ("facture numéro 12345", [("invoice_number", "12345", "12345")]),
        ("Rechnung Nr. 4711", [("invoice_number", "4711", "4711")]),
        ("Rechnungsnummer: RE-2026-17", [("invoice_number", "RE-2026-17", "RE-2026-17")]),
        ("invoice #5531", [("invoice_number", "5531", "5531")]),
        ("invoice number 2026/77", [("invoice_number", "2026/77", "2026/77")]),
        ("factuurnummer 998877", [("invoice_number", "998877", "998877")]),
        (
            "factures 123 et 124",
            [("invoice_number", "123", "123"), ("invoice_number", "124", "124")],
        ),
    ],
)
def test_identifier_forms(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "+++090/9337/55494+++",  # wrong OGM check digits
        "090933755494",
        "RF19 5390 0754 7034",  # wrong RF check digits
        "BE68 5390 0754 7035",  # wrong IBAN check digits
        "be00 0000 0000 0000",
        "mon gsm 0470 12 34 56",
        "TVA BE 0123.456.789",
        "B-1000 Bruxelles",
        "facture du 3 mars",
        "facture de 250 €",
        "factuur 15/04",
        "covid19",
        "Le ticket #4521 n'a jamais été traité",
        "Commande 778812 jamais livrée",
        "Meine Kundennummer ist 123456",
        # VAT numbers in signatures (blind probe: Austria and Switzerland)
        "UID: ATU12345678",
        "MWST: CHE-123.456.789 MWST",
        "BTW NL123456789B01",
        "P.IVA IT12345678901",
    ],
)
def test_not_an_identifier(text: str) -> None:
    assert [e for e in found(text) if e[0] in ("reference", "iban", "invoice_number")] == []


def test_an_iban_is_not_also_an_amount_or_a_reference() -> None:
    assert found("BE68 5390 0754 7034 merci, 250 € suit") == [
        ("iban", "BE68539007547034", "BE68 5390 0754 7034"),
        ("amount", "250.00", "250 €"),
    ]


def test_everything_in_one_message() -> None:
    text = (
        "Goedemiddag, factuur 2026-0042 van € 450,00 werd vorige vrijdag betaald via "
        "BE68 5390 0754 7034 met mededeling +++090/9337/55493+++. Mvg"
    )
    assert found(text, "nl") == [
        ("invoice_number", "2026-0042", "2026-0042"),
        ("amount", "450.00", "€ 450,00"),
        ("date", "2026-03-06", "vorige vrijdag"),
        ("iban", "BE68539007547034", "BE68 5390 0754 7034"),
        ("reference", "090933755493", "+++090/9337/55493+++"),
    ]


def test_iban_with_dots() -> None:
    assert found("BE68.5390.0754.7034") == [("iban", "BE68539007547034", "BE68.5390.0754.7034")]
