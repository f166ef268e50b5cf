"""Language identification: fr, nl, en or de, never anything else."""

from __future__ import annotations

import pytest

from nlu.language import LANGUAGES, detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # very short Belgian messages: cue words decide
        ("merci", "fr"),
        ("Merci beaucoup !", "fr"),
        ("oui d'accord", "fr"),
        ("non merci", "fr"),
        ("Bonjour", "fr"),
        ("dank u", "nl"),
        ("Dank je wel", "nl"),
        ("bedankt", "nl"),
        ("ok bedankt", "nl"),
        ("nee", "nl"),
        ("ja prima", "nl"),
        ("goedemorgen", "nl"),
        ("Danke", "de"),
        ("nein", "de"),
        ("Vielen Dank", "de"),
        ("Tag, Peter hier", "de"),  # "hier" is French, Dutch and German
        ("thx", "en"),
        ("thank you", "en"),
        ("sounds good", "en"),
        ("yes", "en"),
        ("Nope.", "en"),  # a loan in Flemish chat, but English first (blind probe)
        ("ja, passt", "de"),  # "ja" is Dutch and German; "passt" only German
        ("Ok, klappt", "de"),
        # sentences: lingua decides
        ("Je paierai 250 € vendredi prochain", "fr"),
        ("jvous paye demain promis", "fr"),
        ("Combien je dois encore ?", "fr"),
        ("Je n'ai PAS reçu la facture", "fr"),  # lingua alone says English
        ("Quel est mon solde ?", "fr"),
        ("Wie kan ik bellen?", "nl"),
        ("Wat is uw telefoonnummer om u te bellen?", "nl"),
        ("Arrêtez de m'envoyer des mails", "fr"),
        ("Is vorige week overgeschreven", "nl"),
        ("Kan ik afbetalen in 6 maanden?", "nl"),
        ("Deze factuur klopt niet, we kregen maar de helft geleverd", "nl"),
        ("I'll pay on Friday", "en"),
        ("Can you send me the invoice again?", "en"),
        ("Ich zahle Ende des Monats", "de"),
        ("Ich möchte mit einem Mitarbeiter sprechen", "de"),
        # mixed Belgian French/Dutch: the dominant language
        ("Bonjour, ik heb de factuur gisteren betaald, merci", "nl"),
        ("Dag, j'ai payé la facture hier par virement bancaire, bedankt", "fr"),
        # quoted mail does not count
        (
            "Ik heb betaald.\n\nLe 3 mars 2026, Relance a écrit :\n"
            "> Bonjour, votre facture est impayée. Merci de payer rapidement.",
            "nl",
        ),
    ],
)
def test_detects(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["", "   ", "123", "€ 250", "?!", "ok", "👍"])
def test_undecidable_text_gets_the_default(text: str) -> None:
    assert detect_language(text) == "fr"
    assert detect_language(text, default="nl") == "nl"


def test_a_word_of_several_languages_prefers_the_default() -> None:
    assert detect_language("ja", default="de") == "de"
    assert detect_language("ja", default="nl") == "nl"
    assert detect_language("ja", default="fr") in ("nl", "de")


def test_answer_is_always_one_of_the_four() -> None:
    for text in ["Buongiorno, ho pagato ieri", "Hola, ya pagué", "Dzień dobry", "ok", "x"]:
        assert detect_language(text) in LANGUAGES


def test_unknown_default_is_refused() -> None:
    with pytest.raises(ValueError, match="default"):
        detect_language("hallo", default="it")


@pytest.mark.parametrize(
    "text",
    [
        "Notre société a été déclarée en faillite la semaine dernière.",
        "La société a été déclarée en faillite",
        "Je préfère en discuter par téléphone",
    ],
)
def test_accents_of_the_original_count_when_the_text_is_normalised(text: str) -> None:
    from nlu.normalise import normalise

    assert detect_language(normalise(text), original=text) == "fr"


def test_the_parser_reads_the_language_from_the_original_text() -> None:
    import datetime as dt

    from nlu.api import parse

    text = "Notre société a été déclarée en faillite la semaine dernière."
    assert parse(text, dt.date(2026, 3, 10))["language"] == "fr"
