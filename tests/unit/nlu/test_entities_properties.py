"""Properties of every extraction, on text built from the pieces debtors type."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.entities import ENTITY_NAMES, extract_entities
from nlu.language import LANGUAGES, detect_language

PIECES = [
    "le ", "15", "/", "04", ".", ",", "€", " ", "eur", "vendredi", "prochain", "fin du mois",
    "en 3 fois", "+++", "090/9337/55493", "BE68", " 5390", "0754 7034", "RF18", "facture",
    " n° ", "2026-0042", "31", "29/02", "99/99/9999", "am ", "1.", "März", "İ", "ß",
    "\u00a0", "\n> ", "On Monday X wrote:\n", "il y a", " trois ", "jours", "vor", " dem ",
    "mecredi", "wensdayy", "0", "-", "x", "😀", "'", "1ste", "mi-", "over ", "maanden", "£",
    "99€99", "45,-", "deux cent", " euros", "in 6 termijnen",
]  # fmt: skip

messages = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2035, 12, 31))
intents = st.sampled_from([None, "already_paid", "promise_to_pay", "dispute"])


@settings(max_examples=120, deadline=None)
@given(text=messages, language=st.sampled_from(LANGUAGES), reference=dates, intent=intents)
def test_entities_are_sorted_disjoint_spans_of_the_text(
    text: str, language: str, reference: dt.date, intent: str | None
) -> None:
    found = extract_entities(text, language, reference, intent)
    spans = [(e["start"], e["end"]) for e in found]
    assert spans == sorted(spans)
    for (_, end), (start, _) in pairwise(spans):
        assert end <= start
    for entity in found:
        assert 0 <= entity["start"] < entity["end"] <= len(text)
        assert entity["entity"] in ENTITY_NAMES
        assert isinstance(entity["value"], str)
        if entity["entity"] == "date":
            dt.date.fromisoformat(str(entity["value"]))
        if entity["entity"] == "amount":
            whole, cents = str(entity["value"]).split(".")
            assert whole.isdigit()
            assert len(cents) == 2


@settings(max_examples=60, deadline=None)
@given(text=messages)
def test_language_is_always_one_of_four(text: str) -> None:
    assert detect_language(text) in LANGUAGES
