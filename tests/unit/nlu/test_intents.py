"""What a debtor means, in four languages: ``(text, expected intent)`` tables.

The sentences are the contract's examples plus cases that go wrong easily:
negations ("not received" is not "paid"), several things in one message (the
intent is what the debtor wants done now), politeness around the request, SMS
spelling and missing accents.  None of them is in the training data.
"""

from __future__ import annotations

from datetime import date

import pytest

from nlu.pipeline import Parser

REFERENCE = date(2026, 3, 10)


@pytest.fixture(scope="module")
def parser() -> Parser:
    return Parser.load()


FRENCH = [
    ("J'ai payé hier", "already_paid"),
    ("Je n'ai PAS reçu la facture", "request_invoice_copy"),
    ("je n'ai pas encore payé, je le fais vendredi", "promise_to_pay"),
    ("Puis-je payer en 3 fois ?", "request_payment_plan"),
    ("Je suis au chômage, je ne peux pas payer", "financial_hardship"),
    ("Je conteste cette facture, envoyez-moi une copie svp", "dispute"),
    ("Combien je dois encore ?", "ask_balance"),
    ("Nous sommes en réorganisation judiciaire", "insolvency"),
    ("Arrêtez de m'envoyer des mails", "stop_contact"),
    ("Bonjour, sur quel compte dois-je verser le montant ? Merci", "request_payment_details"),
    ("oui d'accord", "affirm"),
    ("non merci", "deny"),
    ("Merci beaucoup", "thank"),
    ("Quel temps fera-t-il demain ?", "out_of_scope"),
    ("Je n'ai pas payé car il manquait la moitié des pièces", "dispute"),
]

DUTCH = [
    ("Is vorige week overgeschreven", "already_paid"),
    ("Kan ik afbetalen in 6 maanden?", "request_payment_plan"),
    ("Deze factuur klopt niet, we kregen maar de helft geleverd", "dispute"),
    ("Op welk rekeningnummer moet ik storten?", "request_payment_details"),
    ("Ik ken dit bedrijf niet, verkeerd adres", "wrong_recipient"),
    ("Wij zitten in collectieve schuldenregeling", "insolvency"),
    ("Ik heb de factuur nooit ontvangen", "request_invoice_copy"),
    ("ik betaal de 25ste als mijn loon binnen is", "promise_to_pay"),
    ("Kan iemand mij bellen aub?", "talk_to_human"),
    ("ja prima", "affirm"),
    ("nee", "deny"),
    ("Dank je", "thank"),
    ("Hallo", "greet"),
    ("Ik heb 100 euro betaald, de rest volgt op 15 april", "promise_to_pay"),
]

ENGLISH = [
    ("I paid half, I will pay the rest Friday", "promise_to_pay"),
    ("I dispute this invoice, please send me a copy", "dispute"),
    ("Can you send me the invoice again?", "request_invoice_copy"),
    ("I'll pay on Friday", "promise_to_pay"),
    ("I haven't received any invoice from you", "request_invoice_copy"),
    ("Lost my job last month, no money at all right now", "financial_hardship"),
    ("Please take me off your mailing list", "stop_contact"),
    ("I am out of the office until 20 March", "auto_reply"),
    ("I'd like to talk to a real person please", "talk_to_human"),
    ("how much is still outstanding?", "ask_balance"),
    ("sounds good", "affirm"),
    ("Hi", "greet"),
    ("I haven't paid, the product never worked", "dispute"),
    ("ok super 👍", "affirm"),
]

GERMAN = [
    ("Ich zahle Ende des Monats", "promise_to_pay"),
    ("Ich habe die Rechnung schon letzte Woche überwiesen", "already_paid"),
    ("Ich möchte mit einem Mitarbeiter sprechen", "talk_to_human"),
    ("Kann ich in Raten zahlen?", "request_payment_plan"),
    ("Die Firma ist in Konkurs", "insolvency"),
    ("Das habe ich nie bestellt", "dispute"),
    ("Wie lautet Ihre IBAN?", "request_payment_details"),
    ("Sie haben die falsche Person angeschrieben", "wrong_recipient"),
    ("Bitte keine E-Mails mehr schicken", "stop_contact"),
    ("Ich bin bis zum 20. März nicht im Büro", "auto_reply"),
    ("nein", "deny"),
    ("Vielen Dank", "thank"),
    ("Ich habe 200 Euro bezahlt, den Rest überweise ich Ende März", "promise_to_pay"),
]


@pytest.mark.parametrize(("text", "expected"), FRENCH)
def test_french(parser: Parser, text: str, expected: str) -> None:
    result = parser.parse(text, REFERENCE)
    assert result["intent"]["name"] == expected


@pytest.mark.parametrize(("text", "expected"), DUTCH)
def test_dutch(parser: Parser, text: str, expected: str) -> None:
    result = parser.parse(text, REFERENCE)
    assert result["intent"]["name"] == expected


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english(parser: Parser, text: str, expected: str) -> None:
    result = parser.parse(text, REFERENCE)
    assert result["intent"]["name"] == expected


@pytest.mark.parametrize(("text", "expected"), GERMAN)
def test_german(parser: Parser, text: str, expected: str) -> None:
    result = parser.parse(text, REFERENCE)
    assert result["intent"]["name"] == expected


def test_priority_rule_keeps_both_amounts_and_the_date(parser: Parser) -> None:
    """The contract's example: the promise wins, and every amount and date is kept."""
    result = parser.parse("I paid 100 euros, I will pay the other 150 euros on Friday", REFERENCE)
    assert result["intent"]["name"] == "promise_to_pay"
    values = {(e["entity"], e["value"]) for e in result["entities"]}
    assert {("amount", "100.00"), ("amount", "150.00"), ("date", "2026-03-13")} <= values


def test_intent_decides_past_or_future_dates(parser: Parser) -> None:
    """'le 5' on the 10th: already paid on the 5th, or will pay on the 5th of next month."""
    paid = parser.parse("J'ai payé le 5", REFERENCE)
    promised = parser.parse("Je paierai le 5", REFERENCE)
    assert paid["intent"]["name"] == "already_paid"
    assert promised["intent"]["name"] == "promise_to_pay"
    assert [e["value"] for e in paid["entities"] if e["entity"] == "date"] == ["2026-03-05"]
    assert [e["value"] for e in promised["entities"] if e["entity"] == "date"] == ["2026-04-05"]
