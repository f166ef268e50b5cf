"""Instalment counts in fr, nl, en and de."""

from __future__ import annotations

import datetime as dt

import pytest

from nlu.entities import extract_entities

REF = dt.date(2026, 3, 10)


def instalments(text: str, language: str, intent: str | None = None) -> list[tuple[str, str]]:
    return [
        (e["value"], text[e["start"] : e["end"]])
        for e in extract_entities(text, language, REF, intent)
        if e["entity"] == "instalments"
    ]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Puis-je payer en trois fois ?", "fr", [("3", "en trois fois")]),
        ("en 3 fois", "fr", [("3", "en 3 fois")]),
        ("en 3x", "fr", [("3", "en 3x")]),
        ("en 3 x sans frais", "fr", [("3", "en 3 x")]),
        ("en deux fois", "fr", [("2", "en deux fois")]),
        ("want to pay this in two times, is ok?", "en", [("2", "in two times")]),
        ("en 4 mensualités", "fr", [("4", "en 4 mensualités")]),
        ("3 mensualités de 100 €", "fr", [("3", "3 mensualités")]),
        ("en 5 versements", "fr", [("5", "en 5 versements")]),
        ("payer en 6 mois", "fr", [("6", "en 6 mois")]),
        ("étaler sur 10 mois", "fr", [("10", "sur 10 mois")]),
        ("in 6 termijnen", "nl", [("6", "in 6 termijnen")]),
        ("in zes termijnen", "nl", [("6", "in zes termijnen")]),
        ("in 6 keer", "nl", [("6", "in 6 keer")]),
        ("in twee keer betalen", "nl", [("2", "in twee keer")]),
        ("Kan ik afbetalen in 6 maanden?", "nl", [("6", "in 6 maanden")]),
        ("afbetalen over 3 maanden", "nl", [("3", "over 3 maanden")]),
        ("in 4 instalments", "en", [("4", "in 4 instalments")]),
        ("in 4 installments", "en", [("4", "in 4 installments")]),
        ("in three installments", "en", [("3", "in three installments")]),
        ("3 monthly payments", "en", [("3", "3 monthly payments")]),
        ("spread over 6 months", "en", [("6", "over 6 months")]),
        ("in drei Raten", "de", [("3", "in drei Raten")]),
        ("in 3 Monatsraten", "de", [("3", "in 3 Monatsraten")]),
        ("4 Raten", "de", [("4", "4 Raten")]),
        ("in zwei Teilzahlungen", "de", [("2", "in zwei Teilzahlungen")]),
        ("über 6 Monate verteilt", "de", [("6", "über 6 Monate")]),
        ("je peux payer 3 x 100 €", "fr", [("3", "3 x")]),
    ],
)
def test_instalment_forms(text: str, language: str, expected: list[tuple[str, str]]) -> None:
    assert instalments(text, language) == expected


def test_months_are_instalments_only_in_a_plan() -> None:
    assert instalments("Kan ik over 2 maanden betalen?", "nl") == []
    assert instalments("Kan ik over 2 maanden betalen?", "nl", "request_payment_plan") == [
        ("2", "over 2 maanden")
    ]
    assert instalments("I'll pay in 3 months", "en") == []
    assert instalments("Can I pay in 3 months with a payment plan?", "en") == [("3", "in 3 months")]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("j'ai déjà appelé 3 fois", "fr"),
        ("en une fois", "fr"),
        ("je paie dans 3 mois", "fr"),
        ("je suis au chômage depuis 2 mois", "fr"),
        ("ik heb al 3 keer gebeld", "nl"),
        ("I called you 3 times", "en"),
        ("Ich habe schon 3 mal angerufen", "de"),
        ("Le 2e versement", "fr"),
    ],
)
def test_not_instalments(text: str, language: str) -> None:
    assert instalments(text, language) == []


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("I can make 3 payments of 100 euros", "en", [("3", "3 payments")]),
        ("Ich kann 4 Zahlungen von je 50 € leisten", "de", [("4", "4 Zahlungen")]),
        ("je fais 3 paiements de 100 €", "fr", [("3", "3 paiements")]),
        ("to pay 100 euros per month for 6 months", "en", [("6", "for 6 months")]),
        ("6 Monate lang 100 € pro Monat", "de", [("6", "6 Monate lang")]),
        ("pendant 6 mois 50 € par mois", "fr", [("6", "pendant 6 mois")]),
        ("6 maanden lang 50 euro per maand", "nl", [("6", "6 maanden lang")]),
        ("in 3 Teilen", "de", [("3", "in 3 Teilen")]),
        ("could I pay in 3 goes?", "en", [("3", "in 3 goes")]),
        # a word for how often between the count and the unit
        ("kan het in 10 maandelijkse schijven?", "nl", [("10", "in 10 maandelijkse schijven")]),
        ("Can I pay in 4 equal payments?", "en", [("4", "in 4 equal payments")]),
        ("Kann ich in 3 monatlichen Raten zahlen?", "de", [("3", "in 3 monatlichen Raten")]),
    ],
)
def test_more_instalment_forms(text: str, language: str, expected: list[tuple[str, str]]) -> None:
    assert instalments(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I've been out of work for 6 months", "en"),
        ("Ich bin seit 6 Monaten ohne Arbeit", "de"),
        ("I sent 2 payments last week", "en"),
    ],
)
def test_durations_that_are_not_plans(text: str, language: str) -> None:
    assert instalments(text, language) == []


def test_split_into_payments() -> None:
    text = "could invoice INV-2026-0042 be split into two payments?"
    assert instalments(text, "en") == [("2", "into two payments")]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("je paie 2 fois 150 €", "fr", [("2", "2 fois")]),
        ("ik betaal 2 keer 50 euro", "nl", [("2", "2 keer")]),
        ("ich zahle 3 mal 40 €", "de", [("3", "3 mal")]),
        ("I'll pay 4 times 25 euros", "en", [("4", "4 times")]),
    ],
)
def test_count_times_amount(text: str, language: str, expected: list[tuple[str, str]]) -> None:
    assert instalments(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Graag een afbetalingsplan van 8 maanden", "nl", [("8", "van 8 maanden")]),
        ("un échéancier de 6 mois", "fr", [("6", "de 6 mois")]),
        ("a payment plan of 6 months", "en", [("6", "of 6 months")]),
        ("un échéancier de 4 mensualités", "fr", [("4", "de 4 mensualités")]),
        ("j'ai appelé plus de 3 fois", "fr", []),
        ("j'attends depuis plus de 2 mois", "fr", []),
    ],
)
def test_plan_lengths(text: str, language: str, expected: list[tuple[str, str]]) -> None:
    assert instalments(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "intent"),
    [
        ("2x abgebucht: 2 x 49,90 €", "de", "request_payment_plan"),
        ("I was charged twice: 2 x €39.95", "en", "already_paid"),
        ("vous avez prélevé 2 x 45 € ce mois-ci", "fr", None),
        ("er werd dubbel afgeschreven, 2 x 30 euro", "nl", "dispute"),
    ],
)
def test_a_double_debit_is_not_a_plan(text: str, language: str, intent: str | None) -> None:
    assert instalments(text, language, intent) == []


def test_a_plan_still_counts_next_to_a_debit_word() -> None:
    text = "kan ik afbetalen in 3 x 50 euro, het mag elke maand afgeschreven worden"
    assert instalments(text, "nl") == [("3", "in 3 x")]


@pytest.mark.parametrize(
    ("text", "language", "intent", "expected"),
    [
        ("on peut faire 3x ?", "fr", "request_payment_plan", [("3", "3x")]),
        ("kan ik het in 4 keer doen", "nl", "request_payment_plan", [("4", "in 4 keer")]),
        ("kann ich das 3 mal zahlen, in Raten", "de", None, [("3", "3 mal")]),
        # outside a plan, a count of times is not instalments
        ("vous m'avez relancé 3 fois", "fr", "dispute", []),
        ("j'ai dû payer 2 fois", "fr", "already_paid", []),
    ],
)
def test_times_in_a_plan(
    text: str, language: str, intent: str | None, expected: list[tuple[str, str]]
) -> None:
    assert instalments(text, language, intent) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Après mes deux versements, que reste-t-il ?", "fr"),
        ("na mijn drie stortingen, hoeveel staat er nog open?", "nl"),
        ("after my 2 instalments, what is left?", "en"),
    ],
)
def test_payments_already_made_are_not_a_plan(text: str, language: str) -> None:
    assert instalments(text, language, "ask_balance") == []


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # The plan's count, then its payments spelt out: one count (a blind probe)
        ("Kan ik in 4 keer betalen? 4 x 100 euro per maand lukt wel.", "nl", [("4", "in 4 keer")]),
        ("Puis-je payer en 3 fois ? 3 x 150 € me conviendrait.", "fr", [("3", "en 3 fois")]),
        # Another count is another proposal, and stays
        ("In 4 Raten? Oder 2 x 200 €?", "de", [("4", "In 4 Raten"), ("2", "2 x")]),
    ],
)
def test_a_count_restated_with_its_amounts_is_one_count(
    text: str, language: str, expected: list[tuple[str, str]]
) -> None:
    assert instalments(text, language) == expected


def test_parts_without_a_preposition_only_in_a_plan() -> None:
    asked = "Would you accept a payment arrangement? Maybe 4 parts."
    assert instalments(asked, "en", "request_payment_plan") == [("4", "4 parts")]
    assert instalments("the order had 3 parts missing", "en", "dispute") == []
    assert instalments("I called you three times", "en", "already_paid") == []
