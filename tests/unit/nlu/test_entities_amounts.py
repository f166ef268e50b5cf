"""Amounts: every written form in fr, nl, en, de, and what is not an amount."""

from __future__ import annotations

import datetime as dt

import pytest

from nlu.entities import extract_entities
from nlu.entities.amounts import to_decimal

REF = dt.date(2026, 3, 10)  # a Tuesday


def amounts(text: str, language: str) -> list[tuple[str, str]]:
    """(value, the text its offsets point at) of every amount found."""
    found = extract_entities(text, language, REF)
    return [(e["value"], text[e["start"] : e["end"]]) for e in found if e["entity"] == "amount"]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # the contract's examples
        ("€ 1.234,56", "fr", [("1234.56", "€ 1.234,56")]),
        ("250 euros", "fr", [("250.00", "250 euros")]),
        ("vijftig euro", "nl", [("50.00", "vijftig euro")]),
        # digits with a currency before or after, every separator style
        ("Je vous dois 1 234,56 EUR", "fr", [("1234.56", "1 234,56 EUR")]),
        ("Je vous dois 1\u202f234,56\u00a0€", "fr", [("1234.56", "1\u202f234,56\u00a0€")]),
        ("j'ai viré 1234.56€", "fr", [("1234.56", "1234.56€")]),
        ("jai payé 250e hier", "fr", [("250.00", "250e")]),
        ("je te file 250 balles", "fr", [("250.00", "250 balles")]),
        ("jai versé 100 balle hier", "fr", [("100.00", "100 balle")]),
        ("jpaye 50 le 20 et 50 le 30", "fr", [("50.00", "50"), ("50.00", "50")]),
        ("EUR 99 overgemaakt", "nl", [("99.00", "EUR 99")]),
        ("ik stort €250,- morgen", "nl", [("250.00", "€250,-")]),
        ("ik betaal 75 euro's", "nl", [("75.00", "75 euro's")]),
        ("Ich zahle 1.500 € sofort", "de", [("1500.00", "1.500 €")]),
        ("Ich zahle 99,99 EUR", "de", [("99.99", "99,99 EUR")]),
        ("I'll pay €1,250.00 on Friday", "en", [("1250.00", "€1,250.00")]),
        ("I can pay 1,500 eur", "en", [("1500.00", "1,500 eur")]),
        ("je paie 12,5 €", "fr", [("12.50", "12,5 €")]),
        ("le total fait 99€99", "fr", [("99.99", "99€99")]),
        ("ik betaal 45,- vandaag", "nl", [("45.00", "45,-")]),
        # numbers written in words
        ("deux cent cinquante euros", "fr", [("250.00", "deux cent cinquante euros")]),
        ("quatre-vingt-dix euros", "fr", [("90.00", "quatre-vingt-dix euros")]),
        ("septante-cinq euros", "fr", [("75.00", "septante-cinq euros")]),
        ("tweehonderdvijftig euro", "nl", [("250.00", "tweehonderdvijftig euro")]),
        ("honderd euro", "nl", [("100.00", "honderd euro")]),
        ("zweihundert Euro", "de", [("200.00", "zweihundert Euro")]),
        ("funfzig Euro", "de", [("50.00", "funfzig Euro")]),
        ("fünfzig Euro", "de", [("50.00", "fünfzig Euro")]),
        ("two hundred and fifty euros", "en", [("250.00", "two hundred and fifty euros")]),
        ("twenty-five euros", "en", [("25.00", "twenty-five euros")]),
        # without currency: two decimals, or a number right after a payment word
        ("j'ai déjà payé 150", "fr", [("150.00", "150")]),
        ("montant payé: 125,50", "fr", [("125.50", "125,50")]),
        ("ik heb 300 betaald", "nl", [("300.00", "300")]),
        ("I paid 80 yesterday", "en", [("80.00", "80")]),
        ("Ich habe 120 überwiesen", "de", [("120.00", "120")]),
        # several amounts
        (
            "Je rembourse 100 € maintenant et 100 € le mois prochain",
            "fr",
            [("100.00", "100 €"), ("100.00", "100 €")],
        ),
        ("I paid half (500 €), the rest of 500 € on Friday", "en", [("500.00", "500 €")] * 2),
    ],
)
def test_amount_forms(text: str, language: str, expected: list[tuple[str, str]]) -> None:
    assert amounts(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("de helft", "nl"),
        ("je paie la moitié", "fr"),
        ("I paid half", "en"),
        ("die Hälfte", "de"),
        ("Puis-je payer en 3 fois ?", "fr"),
        ("in 6 termijnen", "nl"),
        ("je paierai le 15", "fr"),
        ("paiement prévu le 30/03", "fr"),
        ("Ich habe am 3. März bezahlt", "de"),
        ("facture n° 12345", "fr"),
        ("factuur 2026-0042", "nl"),
        ("Rechnung Nr. 4711", "de"),
        ("+++090/9337/55493+++", "fr"),
        ("090933755493", "fr"),
        ("be68 5390 0754 7034", "nl"),
        ("RF18 5390 0754 7034", "en"),
        ("mon gsm: 0470 12 34 56", "fr"),
        ("Tel: 02/123.45.67", "nl"),
        ("bel me op +32 470 12 34 56", "nl"),
        ("Ich kann 10% sofort zahlen", "de"),
        ("10 % de réduction", "fr"),
        ("je paie à 14h30", "fr"),
        ("om 14u ben ik thuis", "nl"),
        ("j'ai payé 3 factures", "fr"),
        ("paid 2 invoices", "en"),
        ("je suis au chômage depuis 2 mois", "fr"),
        ("Le 2e rappel est abusif", "fr"),
        ("in 2025 betaald", "nl"),
        ("klantnummer 123456", "nl"),
        ("TVA BE 0123.456.789", "fr"),
        ("1/2 betaald", "nl"),
    ],
)
def test_not_an_amount(text: str, language: str) -> None:
    assert amounts(text, language) == []


def test_instalment_count_and_amount_together() -> None:
    text = "je peux payer 3 x 100 €"
    found = extract_entities(text, "fr", REF)
    assert [(e["entity"], e["value"]) for e in found] == [
        ("instalments", "3"),
        ("amount", "100.00"),
    ]


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1234", "1234.00"),
        ("1.500", "1500.00"),
        ("1,500", "1500.00"),
        ("12,5", "12.50"),
        ("0,99", "0.99"),
        ("1.234.567", "1234567.00"),
    ],
)
def test_to_decimal_reads_chat_numbers(typed: str, value: str) -> None:
    result = to_decimal(typed)
    assert result is not None
    assert f"{result:.2f}" == value


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # a signature's address, phone and VAT number and the quoted dunning mail give nothing
        (
            "Bonjour,\n\nJe paierai 200 € le 20 mars.\n\nCordialement,\nJean Dupont\n"
            "Rue de la Loi 16, 1000 Bruxelles\nTél. +32 2 123 45 67 - TVA BE 0123.456.789\n\n"
            "Le lun. 9 mars 2026 à 10:00, Relance <factures@relance.be> a écrit :\n"
            "> votre facture F2026/123 de 250,00 € est échue.",
            "fr",
            [("200.00", "200 €")],
        ),
        (
            "Wij hebben 1.250 euro overgemaakt.\nKerkstraat 12 bus 3, 9000 Gent",
            "nl",
            [("1250.00", "1.250 euro")],
        ),
        ("ma référence client est 4582 et j'ai payé 80", "fr", [("80.00", "80")]),
        ("Am 16. zahle ich den Rest von 200 EUR.", "de", [("200.00", "200 EUR")]),
        ("Ich kann nur 50 zahlen", "de", [("50.00", "50")]),
        # other currencies are amounts too; the value carries no currency (README decision)
        ("I've sent 2 payments of £50 and $20", "en", [("50.00", "£50"), ("20.00", "$20")]),
        ("Payment of 120 USD went out", "en", [("120.00", "120 USD")]),
        ("je vous ai viré 1.250,00 CHF", "fr", [("1250.00", "1.250,00 CHF")]),
        ("paid twenty pounds", "en", [("20.00", "twenty pounds")]),
    ],
)
def test_amounts_in_real_messages(
    text: str, language: str, expected: list[tuple[str, str]]
) -> None:
    assert amounts(text, language) == expected


@pytest.mark.parametrize(
    "text", ["Je n'ai pas un euro sur mon compte", "ik heb geen euro meer", "not a euro left"]
)
def test_not_a_single_euro_is_no_amount(text: str) -> None:
    assert amounts(text, "fr") == []


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("we agreed on 500 euros not 650", "en", [("500.00", "500 euros"), ("650.00", "650")]),
        ("on avait dit 800 € et pas 950", "fr", [("800.00", "800 €"), ("950.00", "950")]),
        ("300 Euro vereinbart, nicht 350", "de", [("300.00", "300 Euro"), ("350.00", "350")]),
        # a number set against something else than an amount stays a number
        ("I paid 100 euros, not 2 times", "en", [("100.00", "100 euros")]),
        ("pas 950", "fr", []),
    ],
)
def test_a_number_set_against_an_amount_is_an_amount(
    text: str, language: str, expected: list[tuple[str, str]]
) -> None:
    assert amounts(text, language) == expected


@pytest.mark.parametrize(
    "text",
    [
        "le technicien est resté 20 minutes, je refuse de payer",
        "the rest took 45 min",
        "de rest duurde 30 minuten",
    ],
)
def test_durations_after_a_pay_word_are_no_amounts(text: str) -> None:
    assert amounts(text, "fr") == []
