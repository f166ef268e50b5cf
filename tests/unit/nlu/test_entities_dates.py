"""Dates resolved against the reference date, as shared/contracts/nlu.md says.

The reference is Tuesday 10 March 2026 unless a case says otherwise.
"""

from __future__ import annotations

import datetime as dt

import pytest

from nlu.entities import extract_entities
from nlu.entities.dates import add_months

TUESDAY = dt.date(2026, 3, 10)


def dates(
    text: str, language: str, intent: str | None = None, reference: dt.date = TUESDAY
) -> list[tuple[str, str]]:
    found = extract_entities(text, language, reference, intent)
    return [(e["value"], text[e["start"] : e["end"]]) for e in found if e["entity"] == "date"]


# The contract's own examples, reference 2026-03-10.
@pytest.mark.parametrize(
    ("text", "language", "intent", "value"),
    [
        ("vendredi prochain", "fr", None, "2026-03-13"),
        ("end of the month", "en", None, "2026-03-31"),
        ("le 15", "fr", None, "2026-03-15"),
        ("15/04", "fr", None, "2026-04-15"),
        ("I'll pay next Friday", "en", "promise_to_pay", "2026-03-13"),
        ("ik betaal volgende week vrijdag", "nl", "promise_to_pay", "2026-03-20"),
        ("I paid last Friday", "en", "already_paid", "2026-03-06"),
        ("je paierai le 5", "fr", "promise_to_pay", "2026-04-05"),
        ("je paierai le 03/02", "fr", "promise_to_pay", "2027-02-03"),
        ("j'ai payé le 3", "fr", "already_paid", "2026-03-03"),
        ("j'ai payé le 12", "fr", "already_paid", "2026-02-12"),
        ("Je paierai 250 € vendredi prochain", "fr", "promise_to_pay", "2026-03-13"),
    ],
)
def test_contract_examples(text: str, language: str, intent: str | None, value: str) -> None:
    assert [v for v, _ in dates(text, language, intent)] == [value]


def test_contract_parse_example_offsets() -> None:
    text = "Je paierai 250 € vendredi prochain"
    found = extract_entities(text, "fr", TUESDAY, "promise_to_pay")
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in found] == [
        ("amount", "250.00", 11, 16),
        ("date", "2026-03-13", 17, 34),
    ]


@pytest.mark.parametrize(
    ("text", "language", "value", "span"),
    [
        # today, tomorrow, the day after, yesterday, the day before
        ("je paie aujourd'hui", "fr", "2026-03-10", "aujourd'hui"),
        ("je paie aujourdhui", "fr", "2026-03-10", "aujourdhui"),
        ("je paie demain", "fr", "2026-03-11", "demain"),
        ("je paie après-demain", "fr", "2026-03-12", "après-demain"),
        ("je paie apres demain", "fr", "2026-03-12", "apres demain"),
        ("j'ai payé hier", "fr", "2026-03-09", "hier"),
        ("j'ai payé avant-hier", "fr", "2026-03-08", "avant-hier"),
        ("ik betaal vandaag", "nl", "2026-03-10", "vandaag"),
        ("ik betaal morgen", "nl", "2026-03-11", "morgen"),
        ("ik betaal overmorgen", "nl", "2026-03-12", "overmorgen"),
        ("ik heb gisteren betaald", "nl", "2026-03-09", "gisteren"),
        ("eergisteren betaald", "nl", "2026-03-08", "eergisteren"),
        ("I'll pay today", "en", "2026-03-10", "today"),
        ("I'll pay tomorrow", "en", "2026-03-11", "tomorrow"),
        ("I'll pay tmrw", "en", "2026-03-11", "tmrw"),
        ("I'll pay the day after tomorrow", "en", "2026-03-12", "the day after tomorrow"),
        ("I paid yesterday", "en", "2026-03-09", "yesterday"),
        ("ich zahle heute", "de", "2026-03-10", "heute"),
        ("ich zahle morgen", "de", "2026-03-11", "morgen"),
        ("ich zahle übermorgen", "de", "2026-03-12", "übermorgen"),
        ("ich zahle ubermorgen", "de", "2026-03-12", "ubermorgen"),
        ("ich habe gestern bezahlt", "de", "2026-03-09", "gestern"),
        ("vorgestern bezahlt", "de", "2026-03-08", "vorgestern"),
        # weekdays: next = first one after today; next week's = in the following week
        ("je paie vendredi", "fr", "2026-03-13", "vendredi"),
        ("je paie vendredie", "fr", "2026-03-13", "vendredie"),
        (
            "je paierai vendredi de la semaine prochaine",
            "fr",
            "2026-03-20",
            "vendredi de la semaine prochaine",
        ),
        ("je paierai lundi prochain", "fr", "2026-03-16", "lundi prochain"),
        ("j'ai payé lundi dernier", "fr", "2026-03-09", "lundi dernier"),
        ("je paie ce jeudi", "fr", "2026-03-12", "ce jeudi"),
        ("je paierai mardi", "fr", "2026-03-17", "mardi"),
        ("ik betaal vrijdag", "nl", "2026-03-13", "vrijdag"),
        ("ik heb vrijdag betaald", "nl", "2026-03-06", "vrijdag"),
        ("ik betaal volgende vrijdag", "nl", "2026-03-13", "volgende vrijdag"),
        ("ik betaal vrijdag volgende week", "nl", "2026-03-20", "vrijdag volgende week"),
        ("vorige maandag betaald", "nl", "2026-03-09", "vorige maandag"),
        ("ik betaal deze woensdag", "nl", "2026-03-11", "deze woensdag"),
        ("I'll pay on Friday", "en", "2026-03-13", "Friday"),
        ("I'll pay next Tuesday", "en", "2026-03-17", "next Tuesday"),
        ("I'll pay next week Friday", "en", "2026-03-20", "next week Friday"),
        ("I paid last Tuesday", "en", "2026-03-03", "last Tuesday"),
        ("I'll pay this Thursday", "en", "2026-03-12", "this Thursday"),
        ("ich zahle am Freitag", "de", "2026-03-13", "Freitag"),
        ("ich zahle nächsten Freitag", "de", "2026-03-13", "nächsten Freitag"),
        ("ich zahle nachsten Freitag", "de", "2026-03-13", "nachsten Freitag"),
        ("ich zahle nächste Woche Freitag", "de", "2026-03-20", "nächste Woche Freitag"),
        ("ich habe letzten Montag bezahlt", "de", "2026-03-09", "letzten Montag"),
        # end, start and middle of a month
        ("fin du mois", "fr", "2026-03-31", "fin du mois"),
        ("je paierai à la fin du mois", "fr", "2026-03-31", "fin du mois"),
        ("fin de ce mois", "fr", "2026-03-31", "fin de ce mois"),
        ("fin du mois prochain", "fr", "2026-04-30", "fin du mois prochain"),
        ("début du mois prochain", "fr", "2026-04-01", "début du mois prochain"),
        ("debut du mois prochain", "fr", "2026-04-01", "debut du mois prochain"),
        ("fin avril", "fr", "2026-04-30", "fin avril"),
        ("mi-avril", "fr", "2026-04-15", "mi-avril"),
        ("eind deze maand", "nl", "2026-03-31", "eind deze maand"),
        ("einde van de maand", "nl", "2026-03-31", "einde van de maand"),
        ("eind volgende maand", "nl", "2026-04-30", "eind volgende maand"),
        ("begin volgende maand", "nl", "2026-04-01", "begin volgende maand"),
        ("eind april", "nl", "2026-04-30", "eind april"),
        ("half april", "nl", "2026-04-15", "half april"),
        ("end of the month", "en", "2026-03-31", "end of the month"),
        ("by the end of next month", "en", "2026-04-30", "end of next month"),
        ("beginning of next month", "en", "2026-04-01", "beginning of next month"),
        ("end of April", "en", "2026-04-30", "end of April"),
        ("Ende des Monats", "de", "2026-03-31", "Ende des Monats"),
        ("Ende dieses Monats", "de", "2026-03-31", "Ende dieses Monats"),
        ("Ende nächsten Monats", "de", "2026-04-30", "Ende nächsten Monats"),
        ("Anfang nächsten Monats", "de", "2026-04-01", "Anfang nächsten Monats"),
        ("zum Monatsende", "de", "2026-03-31", "zum Monatsende"),
        ("Ende April", "de", "2026-04-30", "Ende April"),
        ("Mitte April", "de", "2026-04-15", "Mitte April"),
        # a day of this month (or the next one when it has passed, in a promise)
        ("le 15", "fr", "2026-03-15", "le 15"),
        ("le 1er", "fr", "2026-04-01", "le 1er"),
        ("le 15 du mois prochain", "fr", "2026-04-15", "le 15 du mois prochain"),
        ("je paierai le 10", "fr", "2026-03-10", "le 10"),
        ("the 15th", "en", "2026-03-15", "the 15th"),
        ("I will transfer it on the 28th", "en", "2026-03-28", "the 28th"),
        ("de 15de", "nl", "2026-03-15", "de 15de"),
        ("op de 15e", "nl", "2026-03-15", "de 15e"),
        ("de 1ste van volgende maand", "nl", "2026-04-01", "de 1ste van volgende maand"),
        ("am 15.", "de", "2026-03-15", "am 15."),
        ("am 15", "de", "2026-03-15", "am 15"),
        ("vendredi 13", "fr", "2026-03-13", "vendredi 13"),
        # day and month, with or without year
        ("15/04", "fr", "2026-04-15", "15/04"),
        ("le 30/03", "fr", "2026-03-30", "le 30/03"),
        ("15-04-2026", "nl", "2026-04-15", "15-04-2026"),
        ("15/04/26", "fr", "2026-04-15", "15/04/26"),
        ("15.04.", "de", "2026-04-15", "15.04."),
        ("15.04.2026", "de", "2026-04-15", "15.04.2026"),
        ("am 15.04", "de", "2026-04-15", "am 15.04"),
        ("2026-04-15", "en", "2026-04-15", "2026-04-15"),
        ("15 avril", "fr", "2026-04-15", "15 avril"),
        ("le 1er avril", "fr", "2026-04-01", "le 1er avril"),
        ("15 avril 2026", "fr", "2026-04-15", "15 avril 2026"),
        ("le mardi 17 mars", "fr", "2026-03-17", "le mardi 17 mars"),
        ("15 april", "nl", "2026-04-15", "15 april"),
        ("maandag 16 maart", "nl", "2026-03-16", "maandag 16 maart"),
        ("15. April", "de", "2026-04-15", "15. April"),
        ("15. März", "de", "2026-03-15", "15. März"),
        ("am ersten April", "de", "2026-04-01", "am ersten April"),
        ("le premier avril", "fr", "2026-04-01", "le premier avril"),
        ("15 marz", "de", "2026-03-15", "15 marz"),
        ("April 15th", "en", "2026-04-15", "April 15th"),
        ("April 15, 2026", "en", "2026-04-15", "April 15, 2026"),
        ("the 15th of April", "en", "2026-04-15", "the 15th of April"),
        ("15 fevrier", "fr", "2027-02-15", "15 fevrier"),
        # in N days / weeks / months
        ("in two weeks", "en", "2026-03-24", "in two weeks"),
        ("in 2 weeks", "en", "2026-03-24", "in 2 weeks"),
        ("in a week", "en", "2026-03-17", "in a week"),
        ("dans deux semaines", "fr", "2026-03-24", "dans deux semaines"),
        ("dans 3 jours", "fr", "2026-03-13", "dans 3 jours"),
        ("dans 3 jours à 50 euros par mois", "fr", "2026-03-13", "dans 3 jours"),
        ("dans une semaine", "fr", "2026-03-17", "dans une semaine"),
        ("dans un mois", "fr", "2026-04-10", "dans un mois"),
        ("I will pay in a month", "en", "2026-04-10", "in a month"),
        ("over twee weken", "nl", "2026-03-24", "over twee weken"),
        ("over 3 dagen", "nl", "2026-03-13", "over 3 dagen"),
        ("over een week", "nl", "2026-03-17", "over een week"),
        ("in zwei Wochen", "de", "2026-03-24", "in zwei Wochen"),
        ("in 3 Tagen", "de", "2026-03-13", "in 3 Tagen"),
        ("in einer Woche", "de", "2026-03-17", "in einer Woche"),
    ],
)
def test_date_forms(text: str, language: str, value: str, span: str) -> None:
    assert dates(text, language) == [(value, span)]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("next week", "en"),
        ("la semaine prochaine", "fr"),
        ("volgende week", "nl"),
        ("nächste Woche", "de"),
        ("binnen 2 werkdagen", "nl"),
        ("dans 3 jours ouvrables", "fr"),
        ("within 5 business days", "en"),
        ("innerhalb von 3 Tagen", "de"),
        ("bientôt", "fr"),
        ("zo snel mogelijk", "nl"),
        ("as soon as possible", "en"),
        ("le mois prochain", "fr"),
        ("Guten Morgen", "de"),
        ("goede morgen, ik heb een vraag", "nl"),
        ("hier is het bewijs", "nl"),
        ("ich bin hier", "de"),
        ("le 3 fois", "fr"),
        ("Le 2e rappel est abusif", "fr"),
        ("1/2 betaald", "nl"),
        ("3-4 jours", "fr"),
        ("facture 2026-0042", "fr"),
        ("€ 15.04", "fr"),
        ("in 2025", "nl"),
        ("I will pay in a day or two", "en"),
        ("je paierai dans une semaine ou deux", "fr"),
        ("ik betaal over een dag of twee", "nl"),
        ("ich zahle in ein oder zwei Tagen", "de"),
    ],
)
def test_not_a_date(text: str, language: str) -> None:
    assert dates(text, language) == []


@pytest.mark.parametrize(
    ("text", "language", "intent", "value"),
    [
        # the intent gives the tense when the words do not
        ("le 5", "fr", "already_paid", "2026-03-05"),
        ("le 5", "fr", "promise_to_pay", "2026-04-05"),
        ("le 20", "fr", "already_paid", "2026-02-20"),
        ("vendredi", "fr", "already_paid", "2026-03-06"),
        ("vendredi", "fr", "request_payment_plan", "2026-03-13"),
        ("20/12", "fr", "already_paid", "2025-12-20"),
        ("20/12", "fr", "promise_to_pay", "2026-12-20"),
        ("03/02", "fr", "already_paid", "2026-02-03"),
        ("5 februari", "nl", "promise_to_pay", "2027-02-05"),
        ("5 februari", "nl", "already_paid", "2026-02-05"),
        ("fin du mois", "fr", "already_paid", "2026-02-28"),
        # without intent, tense cues decide
        ("j'ai payé le 5", "fr", None, "2026-03-05"),
        ("je payerai le 5", "fr", None, "2026-04-05"),
        ("betaald op 5 maart", "nl", None, "2026-03-05"),
        ("op de 5de overgeschreven", "nl", None, "2026-03-05"),
        ("ik zal de 5de betalen", "nl", None, "2026-04-05"),
        ("paid on the 5th", "en", None, "2026-03-05"),
        ("I will pay on the 5th", "en", None, "2026-04-05"),
        ("am 5. bezahlt", "de", None, "2026-03-05"),
        ("am 5. überwiesen", "de", None, "2026-03-05"),
        ("ich zahle am 5.", "de", None, "2026-04-05"),
        # the clause's own tense wins over the intent
        ("j'ai payé le 3", "fr", "promise_to_pay", "2026-03-03"),
        ("I will pay on the 5th", "en", "already_paid", "2026-04-05"),
        # what befell the debtor is past, whatever the intent
        ("We entered administration on 2 March", "en", "insolvency", "2026-03-02"),
        ("Nous avons été mis en faillite le 2 mars", "fr", "insolvency", "2026-03-02"),
        ("Wij zijn op 2 maart failliet verklaard", "nl", "insolvency", "2026-03-02"),
        ("Wir haben am 2. März Insolvenz angemeldet", "de", "insolvency", "2026-03-02"),
        ("I lost my job on the 3rd", "en", "financial_hardship", "2026-03-03"),
        ("Ich habe am 3. meinen Job verloren", "de", "financial_hardship", "2026-03-03"),
        ("je vous ai adressé un chèque le 6 mars", "fr", "wrong_recipient", "2026-03-06"),
        ("Ich war krank, ich zahle am 5.", "de", "promise_to_pay", "2026-04-05"),
    ],
)
def test_tense(text: str, language: str, intent: str | None, value: str) -> None:
    assert [v for v, _ in dates(text, language, intent)] == [value]


@pytest.mark.parametrize(
    ("text", "language", "value"),
    [
        # What the debtor did besides paying is done too, in a dispute as anywhere.
        ("I returned it on 2 March and I'm not paying", "en", "2026-03-02"),
        ("sent the goods back on March 3rd", "en", "2026-03-03"),
        ("Ik heb het pakket op 3 maart teruggestuurd", "nl", "2026-03-03"),
        (
            "Ich habe das Gerät am 4. März zurückgeschickt und zahle deshalb nicht.",
            "de",
            "2026-03-04",
        ),
        ("J'ai renvoyé le colis le 2 mars", "fr", "2026-03-02"),
        # and what the creditor did: a credit note granted or issued
        ("vous nous avez accordé une note de crédit le 20 février", "fr", "2026-02-20"),
        ("You issued a credit note on 20 February", "en", "2026-02-20"),
        ("Sie haben am 20. Februar eine Gutschrift erteilt", "de", "2026-02-20"),
        ("U hebt op 20 februari een creditnota toegekend", "nl", "2026-02-20"),
    ],
)
def test_a_date_of_something_sent_back_is_past(text: str, language: str, value: str) -> None:
    assert [v for v, _ in dates(text, language, "dispute")] == [value]


@pytest.mark.parametrize(
    ("text", "language", "value"),
    [
        # a participle of the future or the passive is no past
        ("I will have it sent on 2 April", "en", "2026-04-02"),
        ("The payment will be sent on Friday", "en", "2026-03-13"),
        ("Het geld wordt vrijdag verstuurd", "nl", "2026-03-13"),
        ("Die Zahlung wird am 5. geschickt", "de", "2026-04-05"),
        ("It has been paid on the 5th", "en", "2026-03-05"),
    ],
)
def test_a_future_or_passive_participle_is_no_past(text: str, language: str, value: str) -> None:
    assert [v for v, _ in dates(text, language, "promise_to_pay")] == [value]


def test_in_one_clause_the_verb_next_to_the_date_gives_its_tense() -> None:
    text = "I paid on Monday and will pay the rest on Friday"
    assert dates(text, "en", "promise_to_pay") == [
        ("2026-03-09", "Monday"),
        ("2026-03-13", "Friday"),
    ]


def test_past_and_future_in_one_message() -> None:
    text = "J'ai payé 100 € le 3, je paierai le reste le 5"
    assert dates(text, "fr", "promise_to_pay") == [("2026-03-03", "le 3"), ("2026-04-05", "le 5")]


@pytest.mark.parametrize(
    ("reference", "text", "intent", "value"),
    [
        # "next Friday" on other weekdays
        (dt.date(2026, 3, 13), "vendredi prochain", None, "2026-03-20"),  # on a Friday
        (dt.date(2026, 3, 14), "next Friday", None, "2026-03-20"),  # on a Saturday
        (dt.date(2026, 3, 9), "volgende week vrijdag", None, "2026-03-20"),  # on a Monday
        (dt.date(2026, 3, 15), "volgende week vrijdag", None, "2026-03-20"),  # on a Sunday
        (dt.date(2026, 3, 13), "last Friday", None, "2026-03-06"),
        # month and year ends
        (dt.date(2026, 2, 10), "fin du mois", None, "2026-02-28"),
        (dt.date(2028, 2, 10), "fin du mois", None, "2028-02-29"),
        (dt.date(2026, 12, 20), "le 5", "promise_to_pay", "2027-01-05"),
        (dt.date(2026, 1, 2), "le 20", "already_paid", "2025-12-20"),
        (dt.date(2026, 12, 31), "demain", None, "2027-01-01"),
        (dt.date(2026, 12, 10), "fin du mois prochain", None, "2027-01-31"),
        # a day the current month does not have: the next month that has it
        (dt.date(2026, 4, 10), "le 31", "promise_to_pay", "2026-05-31"),
        (dt.date(2026, 3, 10), "le 31", "already_paid", "2026-01-31"),
        (dt.date(2026, 1, 31), "dans un mois", None, "2026-02-28"),
    ],
)
def test_calendar_edges(reference: dt.date, text: str, intent: str | None, value: str) -> None:
    assert [v for v, _ in dates(text, "fr", intent, reference)] == [value]


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)
    assert add_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)


@pytest.mark.parametrize(
    ("text", "language", "value", "span"),
    [
        ("j'ai payé il y a trois jours", "fr", "2026-03-07", "il y a trois jours"),
        ("il y a une semaine", "fr", "2026-03-03", "il y a une semaine"),
        ("drie dagen geleden betaald", "nl", "2026-03-07", "drie dagen geleden"),
        ("2 weken geleden", "nl", "2026-02-24", "2 weken geleden"),
        ("I paid three days ago", "en", "2026-03-07", "three days ago"),
        ("a week ago", "en", "2026-03-03", "a week ago"),
        ("vor drei Tagen bezahlt", "de", "2026-03-07", "vor drei Tagen"),
        ("vor einem Tag bezahlt", "de", "2026-03-09", "vor einem Tag"),
        ("Ich zahle vor dem 20.", "de", "2026-03-20", "20."),
        ("ich zahle spätestens am 20.", "de", "2026-03-20", "am 20."),
        ("uiterlijk op de 20ste betaal ik", "nl", "2026-03-20", "de 20ste"),
        ("Je paierai avant le 20", "fr", "2026-03-20", "le 20"),
        ("I will pay before the 20th", "en", "2026-03-20", "the 20th"),
    ],
)
def test_days_ago_and_deadlines(text: str, language: str, value: str, span: str) -> None:
    assert dates(text, language) == [(value, span)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # an accent tells "payé" (done) from "je paye" (I pay)
        ("Payé 45.30 via l'app le 8/3", "2026-03-08"),
        ("je paye le 8/3", "2027-03-08"),
        # a passive future is a future
        ("la facture sera payée le 20 mars.", "2026-03-20"),
        ("la facture a été payée le 20 février", "2026-02-20"),
    ],
)
def test_tense_from_french_participles(text: str, value: str) -> None:
    assert [v for v, _ in dates(text, "fr")] == [value]


def test_sentence_final_dot_is_not_part_of_a_month() -> None:
    assert dates("Je paierai le 20 mars.", "fr") == [("2026-03-20", "le 20 mars")]
    assert dates("Ich zahle am 3. Okt. 2026", "de") == [("2026-10-03", "am 3. Okt. 2026")]


@pytest.mark.parametrize(
    ("text", "language", "value", "span"),
    [
        ("je paie vendredy", "fr", "2026-03-13", "vendredy"),
        ("je paie mecredi prochain, 50 €", "fr", "2026-03-11", "mecredi prochain"),
        ("ik betaal woensdga 100 euro", "nl", "2026-03-11", "woensdga"),
        ("I will pay on wednesdy", "en", "2026-03-11", "wednesdy"),
        ("I will pay tommorrow", "en", "2026-03-11", "tommorrow"),
        ("Ich zahle am Donerstag", "de", "2026-03-12", "Donerstag"),
        ("le 15 septmbre", "fr", "2026-09-15", "le 15 septmbre"),
        ("overmorgn betaal ik", "nl", "2026-03-12", "overmorgn"),
    ],
)
def test_typos_in_date_words(text: str, language: str, value: str, span: str) -> None:
    assert dates(text, language) == [(value, span)]


def test_offsets_after_a_corrected_typo_point_at_the_typed_text() -> None:
    text = "Ich zahle am Donerstag 50 € für FA-2026-118"
    found = extract_entities(text, "de", TUESDAY)
    assert [(e["entity"], text[e["start"] : e["end"]]) for e in found] == [
        ("date", "Donerstag"),
        ("amount", "50 €"),
        ("invoice_number", "FA-2026-118"),
    ]


@pytest.mark.parametrize("text", ["ik kom daar vandaan", "sonntags nie", "à quelle heure ?"])
def test_real_words_are_not_corrected_into_dates(text: str) -> None:
    assert dates(text, "fr") == []


@pytest.mark.parametrize(
    ("text", "language", "value"),
    [
        # a document's date, or something received or delivered, is in the past
        ("Je conteste la facture du 15 février", "fr", "2026-02-15"),
        ("Uw herinnering van 5/3 klopt niet", "nl", "2026-03-05"),
        ("Ik heb de goederen op 2 maart ontvangen maar ze waren kapot", "nl", "2026-03-02"),
        ("I never received the delivery of 3 March", "en", "2026-03-03"),
        ("Die Rechnung vom 12.02. ist falsch", "de", "2026-02-12"),
    ],
)
def test_dates_of_documents_in_a_dispute_are_past(text: str, language: str, value: str) -> None:
    assert [v for v, _ in dates(text, language, "dispute")] == [value]


def test_received_then_promised() -> None:
    text = "J'ai reçu votre rappel du 3 mars, je paierai le 15"
    assert dates(text, "fr", "promise_to_pay") == [
        ("2026-03-03", "3 mars"),
        ("2026-03-15", "le 15"),
    ]


@pytest.mark.parametrize(
    ("text", "language", "intent"),
    [
        ("Vous êtes ouverts le samedi matin ?", "fr", "out_of_scope"),
        ("Are you open on Saturday mornings?", "en", "out_of_scope"),
        ("Qui est le Premier ministre ?", "fr", "out_of_scope"),
        ("the first payment was too high", "en", "dispute"),
        ("Die verlangten Verzugszinsen sind überzogen", "de", "dispute"),
    ],
)
def test_habits_and_look_alikes_are_not_dates(text: str, language: str, intent: str) -> None:
    assert dates(text, language, intent) == []


@pytest.mark.parametrize(
    ("text", "language", "intent", "expected"),
    [
        (
            "mon salaire tombe le 25, je paie ce jour-là",
            "fr",
            "promise_to_pay",
            [("2026-03-25", "le 25")],
        ),
        (
            "Kan een medewerker mij deze namiddag bellen?",
            "nl",
            "talk_to_human",
            [("2026-03-10", "deze namiddag")],
        ),
        # "heb"/"habe" (have) is no past tense on its own
        (
            "Ik ben afwezig tot en met 20 maart en heb geen toegang tot mijn e-mail",
            "nl",
            "auto_reply",
            [("2026-03-20", "20 maart")],
        ),
        (
            "Ich bin bis einschließlich 20. März abwesend und habe keinen Zugriff",
            "de",
            "auto_reply",
            [("2026-03-20", "20. März")],
        ),
        # "mon compte" (my account) is no "je compte" (I intend to)
        (
            "Le montant de 89 € est parti de mon compte le 6 mars",
            "fr",
            "already_paid",
            [("2026-03-06", "le 6 mars")],
        ),
    ],
)
def test_tense_and_day_words_in_context(
    text: str, language: str, intent: str, expected: list[tuple[str, str]]
) -> None:
    assert dates(text, language, intent) == expected


@pytest.mark.parametrize(
    ("text", "language", "value"),
    [
        # present tense promises outweigh a wrongly guessed intent; the dots of
        # "1.200" and "am 1. April" do not end the clause
        ("OK je vous fais le virement de 1 200 € mercredi", "fr", "2026-03-11"),
        ("OK ich überweise 1.200 € am Mittwoch", "de", "2026-03-11"),
        ("Bitte haben Sie Geduld, die Überweisung geht am 1. April raus", "de", "2026-04-01"),
        ("de betaling volgt op 2 april", "nl", "2026-04-02"),
    ],
)
def test_present_tense_promises_with_a_past_intent(text: str, language: str, value: str) -> None:
    assert [v for v, _ in dates(text, language, "already_paid")] == [value]


@pytest.mark.parametrize(
    ("text", "language", "value", "span"),
    [
        ("next Friday, the 13th", "en", "2026-03-13", "Friday, the 13th"),
        ("vendredi prochain le 13", "fr", "2026-03-13", "vendredi prochain le 13"),
        ("op maandag 16/3", "nl", "2026-03-16", "maandag 16/3"),
        ("Montag, 16.03.", "de", "2026-03-16", "Montag, 16.03."),
        ("2026/03/16", "en", "2026-03-16", "2026/03/16"),
    ],
)
def test_one_date_said_twice_is_one_entity(text: str, language: str, value: str, span: str) -> None:
    assert dates(text, language) == [(value, span)]


@pytest.mark.parametrize(
    ("text", "language", "value", "span"),
    [
        ("g payé ojourdui", "fr", "2026-03-10", "ojourdui"),
        ("paiement demin sans faute", "fr", "2026-03-11", "demin"),
        ("je fé le virement lundi pro", "fr", "2026-03-16", "lundi pro"),
        ("will pay by Fri", "en", "2026-03-13", "Fri"),
        ("JE PAIERAI LE 15 AVRIL", "fr", "2026-04-15", "LE 15 AVRIL"),
        ("je payerai le 15avril", "fr", "2026-04-15", "le 15avril"),
    ],
)
def test_sms_spellings_of_dates(text: str, language: str, value: str, span: str) -> None:
    assert dates(text, language) == [(value, span)]


@pytest.mark.parametrize(
    ("text", "language", "value", "span"),
    [
        ("fin du mois d'avril", "fr", "2026-04-30", "fin du mois d'avril"),
        ("à la fin du mois de mars", "fr", "2026-03-31", "fin du mois de mars"),
        ("einde van de maand april", "nl", "2026-04-30", "einde van de maand april"),
        ("fin courant", "fr", "2026-03-31", "fin courant"),
        ("ik betaal op het einde van de maand", "nl", "2026-03-31", "einde van de maand"),
        ("bis zum Monatsende", "de", "2026-03-31", "zum Monatsende"),
    ],
)
def test_month_ends_named_every_way(text: str, language: str, value: str, span: str) -> None:
    assert dates(text, language) == [(value, span)]


@pytest.mark.parametrize(
    "text",
    [
        "half the month",
        "end of this week",
        "first week of April",
        "Mitte nächster Woche",
        "avant la fin de la semaine",
        "début de la semaine prochaine",
        "deze week nog",
    ],
)
def test_weeks_and_halves_are_vague(text: str) -> None:
    assert dates(text, "en") == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Je peux vous envoyer la preuve du virement du 3 mars", "fr"),
        ("Kan ik u het bewijs van de betaling van 3 maart sturen?", "nl"),
        ("I can send you proof of the payment of 3 March", "en"),
        ("Ich kann Ihnen den Beleg der Überweisung vom 3. März schicken", "de"),
    ],
)
def test_the_date_of_a_payment_made_is_past(text: str, language: str) -> None:
    assert [v for v, _ in dates(text, language, "already_paid")] == ["2026-03-03"]


# Issue 4 (robustness, round 2): tense read from real phrasings.
@pytest.mark.parametrize(
    ("text", "language", "intent", "value"),
    [
        # the rest is another clause: the month's end of a promise is this month's
        ("jai payer 50e hier le reste fin du mois", "fr", "promise_to_pay", "2026-03-31"),
        ("I paid 50 today and the rest end of the month", "en", "promise_to_pay", "2026-03-31"),
        # "deed" (did) is a past tense
        ("Ik deed ze op 4 maart", "nl", None, "2026-03-04"),
        ("ik deed de overschrijving op 4 maart", "nl", "promise_to_pay", "2026-03-04"),
        # a deadline word makes the date future, whatever follows
        ("d'ici le 15 c'est payé", "fr", None, "2026-03-15"),
        ("d'ici le 15 c'est payé", "fr", "already_paid", "2026-03-15"),
        ("uiterlijk op 5 april is het betaald", "nl", None, "2026-04-05"),
        ("spätestens am 5. ist es bezahlt", "de", None, "2026-04-05"),
        # a negated past is no past
        ("not paid yet because my salary comes in on the 25th", "en", None, "2026-03-25"),
        ("nog niet betaald, mijn loon komt op de 5de", "nl", None, "2026-04-05"),
        ("noch nicht überwiesen, das Gehalt kommt am 5.", "de", None, "2026-04-05"),
        # "j'ai" before a noun is no passé composé; SMS "jpeux" is a future cue
        ("jpeux payer que le 25 qd jai ma paye", "fr", None, "2026-03-25"),
        ("pas encore payé mais ça arrive lundi", "fr", "already_paid", "2026-03-16"),
        ("j'ai ma paie le 5, je vous paie à ce moment", "fr", None, "2026-04-05"),
        # still past
        ("jai payer le 3", "fr", None, "2026-03-03"),
        ("sera réglée le 15 mars", "fr", None, "2026-03-15"),
        ("a été réglée le 15 février", "fr", None, "2026-02-15"),
    ],
)
def test_tense_in_real_phrasings(text: str, language: str, intent: str | None, value: str) -> None:
    assert [v for v, _ in dates(text, language, intent)][-1] == value


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Zijn jullie open op zaterdag?", "nl"),
        ("Haben Sie am Samstag geöffnet?", "de"),
        ("Are you open on Saturday?", "en"),
        ("êtes-vous ouverts lundi ?", "fr"),
    ],
)
def test_opening_hours_are_habits(text: str, language: str) -> None:
    assert dates(text, language, "out_of_scope") == []


def test_sms_typo_of_the_day_before_yesterday() -> None:
    assert dates("jai fai le virmen avan hier", "fr", "already_paid") == [
        ("2026-03-08", "avan hier")
    ]


def test_a_number_of_days_joined_to_its_unit_is_no_day_of_month() -> None:
    text = "we returned the goods within the 14-day period"
    assert dates(text, "en", "dispute") == []


# Days written as words: ordinals in en, de and nl, cardinals in French (blind probe).
@pytest.mark.parametrize(
    ("text", "language", "value", "span"),
    [
        (
            "Payment will be made on the fifteenth of May.",
            "en",
            "2026-05-15",
            "the fifteenth of May",
        ),
        ("I will pay on May fifteenth", "en", "2026-05-15", "May fifteenth"),
        ("on the twenty-first of March", "en", "2026-03-21", "the twenty-first of March"),
        ("zahle am fünfzehnten, dann kommt das Gehalt", "de", "2026-03-15", "am fünfzehnten"),
        ("am einundzwanzigsten April", "de", "2026-04-21", "am einundzwanzigsten April"),
        ("ik betaal op de vijftiende", "nl", "2026-03-15", "de vijftiende"),
        ("op de tweeëntwintigste", "nl", "2026-03-22", "de tweeëntwintigste"),
        ("je paierai le quinze", "fr", "2026-03-15", "le quinze"),
        ("je paie le vingt-deux mars", "fr", "2026-03-22", "le vingt-deux mars"),
    ],
)
def test_days_written_as_words(text: str, language: str, value: str, span: str) -> None:
    assert dates(text, language, "promise_to_pay") == [(value, span)]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("the second invoice is wrong", "en"),
        ("zum ersten Mal", "de"),
        ("de tweede herinnering", "nl"),
        ("les deux factures", "fr"),
        ("de deux factures", "fr"),
    ],
)
def test_ordinal_words_that_are_not_days(text: str, language: str) -> None:
    assert dates(text, language, "dispute") == []


# Wages received are not a payment made: the date after them is a promise's.
@pytest.mark.parametrize(
    ("text", "language", "reference", "value"),
    [
        ("I get paid on Thursday so I'll pay you then.", "en", dt.date(2026, 9, 23), "2026-09-24"),
        ("jsuis payé le 1er je paye le 2 septembre", "fr", dt.date(2026, 8, 26), "2026-09-01"),
        ("ik word de 25ste betaald, dan betaal ik", "nl", dt.date(2026, 9, 26), "2026-10-25"),
    ],
)
def test_wages_are_not_a_past_payment(
    text: str, language: str, reference: dt.date, value: str
) -> None:
    assert dates(text, language, None, reference)[0][0] == value
