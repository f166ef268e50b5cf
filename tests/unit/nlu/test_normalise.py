"""Normalisation for classifiers, and the offset-keeping helpers for entities."""

from __future__ import annotations

import pytest

from nlu.normalise import expand_chat_spelling, fold, mask_quoted, normalise, strip_quoted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bonjour, J'AI PAYÉ", "bonjour, j'ai paye"),
        ("Überwiesen   am  Freitag", "uberwiesen am freitag"),
        ("jvous paye demain stp", "je vous paye demain s'il te plait"),
        ("pk vous m'écrivez ? bcp trop", "pourquoi vous m'ecrivez ? beaucoup trop"),
        ("svp envoyez la facture", "s'il vous plait envoyez la facture"),
        ("pls send it, thx", "please send it, thanks"),
        ("ff wachten aub, mvg", "even wachten alstublieft, met vriendelijke groeten"),
        ("merciiii!!!", "merci!"),
        ("Je paie l’argent", "je paie l'argent"),
        ("  \n spaces\t\teverywhere \n", "spaces everywhere"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_drops_quoted_mail() -> None:
    text = (
        "Je paierai demain.\n\nLe lun. 9 mars 2026 à 10:00, Relance <r@x.be> a écrit :\n"
        "> Votre facture F2026/1 de 250 € est impayée."
    )
    assert normalise(text) == "je paierai demain."


def test_normalise_drops_outlook_style_quote() -> None:
    text = "Betaald vandaag.\n\nVan: Relance <r@x.be>\nVerzonden: maandag 9 maart\nOnderwerp: x"
    assert normalise(text) == "betaald vandaag."


@pytest.mark.parametrize("text", ["Élève à Liège", "Straße ÜBER", "İstanbul", "œuvre", "€ 12"])
def test_fold_keeps_length(text: str) -> None:
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded == folded.lower()


def test_fold_removes_accents() -> None:
    assert fold("Élève à Liège, Straße, Überweisung") == "eleve a liege, straße, uberweisung"


def test_mask_quoted_keeps_offsets_and_blanks_quotes() -> None:
    text = "J'ai payé.\n> Payez 250 € avant le 15\n> merci"
    masked = mask_quoted(text)
    assert len(masked) == len(text)
    assert masked.startswith("J'ai payé.\n")
    assert "250" not in masked
    assert masked.count("\n") == text.count("\n")


def test_a_message_that_is_only_a_forward_is_kept() -> None:
    text = "From: someone\nSent: today\nI paid"
    assert mask_quoted(text) == text


def test_strip_quoted() -> None:
    assert strip_quoted("ok\n> old text") == "ok\n"


def test_chat_words_only_as_whole_words() -> None:
    assert expand_chat_spelling("stp et stpp") == "s'il te plait et stpp"
    assert expand_chat_spelling("im amt") == "im amt"  # German words stay


def test_a_sentence_that_only_looks_like_an_attribution_is_kept() -> None:
    text = "Le comptable a écrit à la banque hier.\nJe paie demain."
    assert mask_quoted(text) == text
