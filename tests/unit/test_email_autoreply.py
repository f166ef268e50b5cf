"""Automatic replies: headers, subjects, text-only out-of-office, return dates, false positives."""

# ruff: noqa: E501  (the cases are whole sentences as responders write them)

from __future__ import annotations

from datetime import date

import pytest

from adapters.mail.autoreply import (
    header_says_automatic,
    is_auto_reply,
    return_date,
    subject_says_automatic,
    text_says_out_of_office,
)

MARCH_10 = date(2026, 3, 10)
PLAIN_REPLY = "Bonjour, je paierai vendredi."


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"auto-submitted": "auto-replied"}, True),
        ({"auto-submitted": "auto-generated"}, True),
        ({"auto-submitted": "auto-notified; owner-email=x@y.be"}, True),
        ({"auto-submitted": "no"}, False),
        ({"x-autoreply": "yes"}, True),
        ({"x-autorespond": "Vacation"}, True),
        ({"precedence": "bulk"}, True),
        ({"precedence": "junk"}, True),
        ({"precedence": "auto_reply"}, True),
        ({"precedence": "first-class"}, False),
        ({"x-auto-response-suppress": "All"}, False),  # asks us not to answer; says nothing else
        ({}, False),
    ],
)
def test_header_flags(headers: dict[str, str], expected: bool) -> None:
    assert header_says_automatic(headers) is expected


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Payment reminder",
        "Auto reply: Payment reminder",
        "AutoReply: Payment reminder",
        "Out of Office: Payment reminder",
        "Out of Office AutoReply: Payment reminder",
        "Réponse automatique : Rappel : facture INV-2026-0042",
        "Réponse automatique\u00a0: Rappel",
        "Absence du bureau : Rappel",
        "Automatisch antwoord: Herinnering",
        "Afwezig: Herinnering",
        "Automatische Antwort: Zahlungserinnerung",
        "Abwesenheitsnotiz: Zahlungserinnerung",
        "[EXT] Automatic reply: Payment reminder",
    ],
)
def test_subject_cues_in_four_languages(subject: str) -> None:
    assert subject_says_automatic(subject)
    assert is_auto_reply({}, subject, PLAIN_REPLY)


@pytest.mark.parametrize(
    "subject",
    [
        "Re: Rappel : facture INV-2026-0042",
        "RE: Out of office question",
        "Re: Afwezigheid van levering",
    ],
)
def test_ordinary_subjects(subject: str) -> None:
    assert not subject_says_automatic(subject)


OUT_OF_OFFICE = [
    (
        "Je suis absente du bureau jusqu'au 20 mars inclus. En cas d'urgence, contactez info@x.be.",
        date(2026, 3, 20),
    ),
    ("Je suis en congé. Je serai de retour le lundi 23 mars.", date(2026, 3, 23)),
    ("Merci pour votre message. Je suis absent jusqu'au vendredi 20 mars 2026.", date(2026, 3, 20)),
    ("Ik ben afwezig tot en met 20 maart. Voor dringende zaken: 03 123 45 67.", date(2026, 3, 20)),
    ("Ik ben met verlof, terug op 20/03.", date(2026, 3, 20)),
    (
        "Bedankt voor uw e-mail. Ik ben momenteel niet op kantoor. Vanaf maandag 23 maart ben ik terug.",
        date(2026, 3, 23),
    ),
    ("Ich bin bis einschließlich 20.03.2026 nicht im Büro.", date(2026, 3, 20)),
    ("Ich bin derzeit nicht im Büro, zurück am 20.03.", date(2026, 3, 20)),
    ("I am out of the office, back on March 20th.", date(2026, 3, 20)),
    ("I'm on annual leave until 20 March with limited access to email.", date(2026, 3, 20)),
    ("I'm OOO until 3/23. For urgent matters contact office@x.com.", date(2026, 3, 23)),
    # a shop or office closed for the holidays, with no header saying so
    (
        "Dit is een automatisch antwoord: onze winkel is gesloten wegens jaarlijks verlof "
        "tot 20 maart.",
        date(2026, 3, 20),
    ),
    ("Fermé pour congés jusqu'au 20 mars.", date(2026, 3, 20)),
    ("Betriebsferien bis 20.03.2026.", date(2026, 3, 20)),
    ("Our shop is closed for the holidays until 20 March.", date(2026, 3, 20)),
]


@pytest.mark.parametrize(
    "text",
    [
        "This is an automatic reply. Your message has been received.",
        "Ceci est une réponse automatique.",
        "Dit is een automatisch bericht, u hoeft niet te antwoorden.",
        "Dies ist eine automatische Antwort.",
    ],
)
def test_a_message_that_says_it_is_automatic_is(text: str) -> None:
    assert is_auto_reply({}, "Re: Rappel", text, MARCH_10)


@pytest.mark.parametrize(("text", "until"), OUT_OF_OFFICE)
def test_text_only_out_of_office_and_its_date(text: str, until: date) -> None:
    assert text_says_out_of_office(text, MARCH_10)
    assert is_auto_reply({}, "Re: Rappel", text, MARCH_10)
    assert return_date(text, MARCH_10) == until


@pytest.mark.parametrize(
    "text",
    [
        "I was out of office last week, I paid yesterday.",
        "Sorry for the delay, I was away until Monday. I will pay on Friday.",
        "J'étais absente jusqu'au 5 mars, j'ai payé hier.",
        "Ik was afwezig tot vorige week, ik heb gisteren betaald.",
        "Ich war im Urlaub bis zum 5.3., ich habe gestern überwiesen.",
        "Je paierai le 20 mars.",
        "We are closed on Mondays? No, just pay attention to the address please.",
        "Ik heb betaald, dit is geen automatisch antwoord.",
    ],
)
def test_people_mentioning_absence_are_not_auto_replies(text: str) -> None:
    assert not text_says_out_of_office(text, MARCH_10)
    assert not is_auto_reply({"x-auto-response-suppress": "All"}, "RE: Reminder", text, MARCH_10)


def test_weak_headers_count_only_with_a_cue() -> None:
    weak = {"x-auto-response-suppress": "All", "return-path": "<>"}
    assert not is_auto_reply(weak, "RE: Reminder", "I will pay on Friday.", MARCH_10)
    assert is_auto_reply(weak, "RE: Reminder", "I am out of the office.", MARCH_10)
    # A person on holiday who answers anyway is still a person.
    holiday = "I am on holiday until the 20th, I will pay when I am back."
    assert not is_auto_reply(weak, "RE: Reminder", holiday, MARCH_10)
    # A missing Return-Path (saved .eml files) is no cue at all.
    assert not is_auto_reply({}, "RE: Reminder", "I am away today, call me.", MARCH_10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("absent à partir du 10 mars jusqu'au 20 mars", date(2026, 3, 20)),
        ("Ik ben afwezig vanaf 10 maart tot 20 maart", date(2026, 3, 20)),
        ("Abwesend vom 10.03. bis 20.03.2026", date(2026, 3, 20)),
        ("I am on leave until 2026-03-20", date(2026, 3, 20)),
        ("back on the 20th of March", date(2026, 3, 20)),
        ("de retour le 5 janvier", date(2027, 1, 5)),  # next year: January is past in March
        ("Ik ben afwezig t.e.m. 20-03-2026.", date(2026, 3, 20)),
        ("Ich bin bis inkl. 20.03. im Urlaub.", date(2026, 3, 20)),
        ("absente jusque et y compris le 20 mars", date(2026, 3, 20)),
        ("jusqu'au 31 février", None),  # not a date
        ("Je suis absent.", None),
    ],
)
def test_return_date(text: str, expected: date | None) -> None:
    assert return_date(text, MARCH_10) == expected


MORE_OUT_OF_OFFICE = [
    "Bonjour, Je suis actuellement en congé et serai de retour le 23 mars. Pour toute demande urgente, merci de contacter compta@x.be. Cordialement",
    "Merci pour votre e-mail. Je suis en déplacement jusqu'au 20/03 inclus avec un accès limité à mes mails.",
    "Madame, Monsieur, Nos bureaux sont fermés du 10 au 20 mars. Votre message sera traité à notre retour.",
    "Bedankt voor uw mail. Ik ben op dit moment afwezig tot en met 20 maart.",
    "Goeiedag, ik ben met vakantie tot 23/03. Voor dringende vragen kan u terecht bij info@x.be.",
    "Sehr geehrte Damen und Herren, ich bin vom 9. bis 20. März im Urlaub. Ihre Nachricht wird nicht weitergeleitet.",
    "Vielen Dank für Ihre E-Mail. Ich bin bis zum 20.03.2026 außer Haus und habe keinen Zugriff auf meine E-Mails.",
    "Thank you for your message. I am currently out of the office with no access to email until Monday 23 March.",
    "Hi, I'm on parental leave until April 30th. For urgent matters please contact finance@x.com.",
    "Our offices are closed until 16 March. We will answer your email as soon as possible upon our return.",
]
PEOPLE = [
    ("Re: Rappel", "Je suis en congé maladie jusqu'au 30 avril, je ne peux pas payer avant."),
    ("Re: Herinnering", "Ik ben op vakantie tot 20 maart, daarna betaal ik de factuur."),
    ("Re: Reminder", "I'm away until Friday but my colleague paid the invoice yesterday."),
    ("AW: Erinnerung", "Ich bin bis zum 20.03. im Urlaub, danach überweise ich den Betrag."),
    ("Re: Rappel", "Je suis absent en ce moment. Pouvez-vous m'envoyer une copie de la facture ?"),
    ("Absence de livraison", "Absence de livraison : je conteste la facture."),
    ("Afwezigheid van levering", "De levering is nooit gebeurd."),
]


@pytest.mark.parametrize("text", MORE_OUT_OF_OFFICE)
def test_more_out_of_office_wordings(text: str) -> None:
    assert is_auto_reply({}, "Re: Rappel", text, MARCH_10)
    assert return_date(text, MARCH_10) is not None


@pytest.mark.parametrize(("subject", "text"), PEOPLE)
def test_more_people_who_are_not_auto_replies(subject: str, text: str) -> None:
    assert not is_auto_reply({}, subject, text, MARCH_10)


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for your email. We have received your message and will respond within 2 business days. This is an automated response.",
        "Nous avons bien reçu votre message. Ceci est un message automatique, merci de ne pas répondre.",
        "Wij hebben uw bericht goed ontvangen. Dit is een automatisch gegenereerd bericht.",
        "Wir haben Ihre Nachricht erhalten. Dies ist eine automatisch erstellte Antwort.",
    ],
)
def test_acknowledgements_without_headers(text: str) -> None:
    assert is_auto_reply({}, "Re: Rappel", text, MARCH_10)


@pytest.mark.parametrize(
    "text",
    [
        "Nous avons bien reçu votre rappel, nous paierons vendredi.",
        "We have received your message. We will check and come back to you.",
    ],
)
def test_a_person_acknowledging_is_a_reply(text: str) -> None:
    assert not is_auto_reply({}, "Re: Rappel", text, MARCH_10)


@pytest.mark.parametrize(
    ("subject", "text", "expected"),
    [
        (
            "Lu : Rappel",
            "Votre message\n\n  Objet : Rappel\n\na été lu le lundi 9 mars 2026.",
            True,
        ),
        ("Gelezen: Herinnering", "Uw bericht\n\nis gelezen op maandag 9 maart 2026.", True),
        ("Read: Reminder", "Your message\n\nwas read on Monday, March 9, 2026.", True),
        ("Gelesen: Rechnung", "Ihre Nachricht\n\nwurde am Montag, 9. März 2026 gelesen.", True),
        ("Read: Reminder", "I read it, I will pay on Friday.", False),
        ("Re: Reminder", "Your message was read on Monday, I pay Friday.", False),
    ],
)
def test_plain_text_read_receipts(subject: str, text: str, expected: bool) -> None:
    assert is_auto_reply({}, subject, text, MARCH_10) is expected


@pytest.mark.parametrize(
    "text",
    [
        "Ik ben momenteel met verlof, maar zal de factuur bij mijn terugkeer in orde brengen.",
        "Je suis en congé cette semaine, je m'occupe de la facture lundi.",
        "I am away this week but will settle the invoice on Monday.",
        "Ich bin im Urlaub, kümmere mich aber nächste Woche um die Rechnung.",
    ],
)
def test_a_person_on_leave_answering_about_the_invoice(text: str) -> None:
    weak = {"x-auto-response-suppress": "All"}
    assert not is_auto_reply(weak, "RE: Herinnering", text, MARCH_10)


@pytest.mark.parametrize(
    "text",
    [
        "Please note that this mailbox is no longer monitored. Your email has not been read and will not be forwarded.\n\nPlease send invoices and payment queries to ap@newco-logistics.be.",
        "Cette adresse e-mail n'est plus consultée. Merci d'écrire désormais à compta@exemple.be.",
        "Dit e-mailadres wordt niet meer gelezen. Gelieve voortaan te mailen naar boekhouding@voorbeeld.be.",
        "Dieses Postfach wird nicht mehr betreut. Bitte schreiben Sie an buchhaltung@beispiel.de.",
        "Marie Dubois ne fait plus partie de notre société. Pour toute question, contactez info@exemple.be.",
    ],
)
def test_a_mailbox_nobody_reads_is_automatic_with_its_headers(text: str) -> None:
    """Found by a blind probe: an Exchange rule's "no longer monitored" notice
    (``Return-Path: <>``, ``X-Auto-Response-Suppress``) was read as a debtor's reply."""
    weak = {"x-auto-response-suppress": "All", "return-path": "<>"}
    assert is_auto_reply(weak, "Mailbox not monitored - Payment reminder", text, MARCH_10)


@pytest.mark.parametrize(
    "text",
    [
        "This address is no longer in use, I paid the invoice from my new account yesterday.",
        "Mijn oude adres wordt niet meer gebruikt, stuur de factuur naar het nieuwe aub.",
    ],
)
def test_a_person_telling_of_a_new_address_is_a_reply(text: str) -> None:
    weak = {"x-auto-response-suppress": "All"}
    assert not is_auto_reply(weak, "RE: Payment reminder", text, MARCH_10)
