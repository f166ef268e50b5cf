"""New text only: quotes, reply headers, signatures and disclaimers, per client and language."""

# The cases are mail lines as clients write them; wrapping them would hide what is tested.
# ruff: noqa: E501

from __future__ import annotations

import pytest

from adapters.mail.quoting import html_to_text, new_text

QUOTED = "> Bonjour,\n> la facture INV-2026-0042 reste impayée.\n> Relance Demo SRL"

# (client, language, body, expected new text)
PLAIN = [
    # Reply attributions, one line and wrapped.
    (
        "gmail",
        "en",
        "I paid yesterday.\n\nOn Mon, 9 Mar 2026 at 10:12, Relance <credit@relance.example> wrote:\n"
        + QUOTED,
        "I paid yesterday.",
    ),
    (
        "gmail",
        "en",
        "I paid yesterday.\n\nOn Mon, 9 Mar 2026 at 10:12, Relance <credit@relance.example>\nwrote:\n\n"
        + QUOTED,
        "I paid yesterday.",
    ),
    (
        "gmail",
        "fr",
        "J'ai payé hier.\n\nLe lun. 9 mars 2026 à 10:12, Relance <credit@relance.example> a écrit :\n"
        + QUOTED,
        "J'ai payé hier.",
    ),
    (
        "gmail",
        "fr",
        "J'ai payé hier.\n\nLe lun. 9 mars 2026 à 10:12, Relance Demo SRL <credit@relance.example> a\nécrit :\n"
        + QUOTED,
        "J'ai payé hier.",
    ),
    (
        "gmail",
        "nl",
        "Ik heb betaald.\n\nOp ma 9 mrt 2026 om 10:12 schreef Relance <credit@relance.example>:\n"
        + QUOTED,
        "Ik heb betaald.",
    ),
    (
        "gmail",
        "nl",
        "Ik heb betaald.\n\nOp ma 9 mrt 2026 om 10:12 schreef Relance Demo SRL <\ncredit@relance.example>:\n"
        + QUOTED,
        "Ik heb betaald.",
    ),
    (
        "gmail",
        "de",
        "Ich habe bezahlt.\n\nAm Mo., 9. März 2026 um 10:12 Uhr schrieb Relance <credit@relance.example>:\n"
        + QUOTED,
        "Ich habe bezahlt.",
    ),
    (
        "apple",
        "nl",
        "Ik heb betaald.\n\n> Op 9 mrt 2026 om 10:12 heeft Relance <credit@relance.example> het volgende geschreven:\n"
        + QUOTED,
        "Ik heb betaald.",
    ),
    (
        "apple",
        "fr",
        "J'ai payé.\n\n> Le 9 mars 2026 à 10:12, Relance <credit@relance.example> a écrit :\n"
        + QUOTED,
        "J'ai payé.",
    ),
    (
        "apple",
        "de",
        "Bezahlt.\n\n> Am 09.03.2026 um 10:12 schrieb Relance <credit@relance.example>:\n" + QUOTED,
        "Bezahlt.",
    ),
    (
        "apple",
        "en",
        "Paid.\n\n> On 9 Mar 2026, at 10:12, Relance <credit@relance.example> wrote:\n" + QUOTED,
        "Paid.",
    ),
    (
        "thunderbird",
        "fr",
        "Payé.\n\nLe 09/03/2026 à 10:12, Relance Demo SRL a écrit :\n" + QUOTED,
        "Payé.",
    ),
    (
        "thunderbird",
        "en",
        "Paid.\n\nOn 09/03/2026 10:12, Relance Demo SRL wrote:\n" + QUOTED,
        "Paid.",
    ),
    (
        "thunderbird",
        "de",
        "Bezahlt.\n\nAm 09.03.26 um 10:12 schrieb Relance Demo SRL:\n" + QUOTED,
        "Bezahlt.",
    ),
    (
        "thunderbird",
        "nl",
        "Betaald.\n\nOp 09-03-2026 om 10:12 schreef Relance Demo SRL:\n" + QUOTED,
        "Betaald.",
    ),
    # Outlook header blocks.
    (
        "outlook",
        "en",
        "Paid.\n\nFrom: Relance <credit@relance.example>\nSent: Monday, March 9, 2026 10:12 AM\nTo: Tom <t@x.be>\nSubject: Reminder\n\nDear Tom",
        "Paid.",
    ),
    (
        "outlook",
        "fr",
        "Payé.\n\nDe : Relance <credit@relance.example>\nEnvoyé : lundi 9 mars 2026 10:12\nÀ : Jean <j@x.be>\nObjet : Rappel\n\nMonsieur",
        "Payé.",
    ),
    (
        "outlook",
        "nl",
        "Betaald.\n\nVan: Relance <credit@relance.example>\nVerzonden: maandag 9 maart 2026 10:12\nAan: Jan <j@x.be>\nOnderwerp: Herinnering\n\nBeste",
        "Betaald.",
    ),
    (
        "outlook",
        "de",
        "Bezahlt.\n\nVon: Relance <credit@relance.example>\nGesendet: Montag, 9. März 2026 10:12\nAn: Anna <a@x.de>\nBetreff: Zahlungserinnerung\n\nSehr geehrte",
        "Bezahlt.",
    ),
    (
        "outlook",
        "en",
        "Paid.\n\n-----Original Message-----\nFrom: Relance <credit@relance.example>\nSent: 09 March 2026 09:12\n\nDear",
        "Paid.",
    ),
    (
        "outlook",
        "fr",
        "Payé.\n\n-----Message d'origine-----\nDe : Relance\nEnvoyé : lundi\n\nMonsieur",
        "Payé.",
    ),
    (
        "outlook",
        "nl",
        "Betaald.\n\n-----Oorspronkelijk bericht-----\nVan: Relance\nVerzonden: maandag\n\nBeste",
        "Betaald.",
    ),
    (
        "outlook",
        "de",
        "Bezahlt.\n\n-----Ursprüngliche Nachricht-----\nVon: Relance\nGesendet: Montag\n\nHallo",
        "Bezahlt.",
    ),
    (
        "outlook-web",
        "fr",
        "Payé.\n\n________________________________\nDe : Relance <credit@relance.example>\nEnvoyé : lundi 9 mars 2026 10:12\n\nMonsieur",
        "Payé.",
    ),
    (
        "outlook",
        "en",
        "Paid.\n\n*From:* Relance <credit@relance.example>\n*Sent:* Monday, March 9, 2026 10:12 AM\n*To:* Tom\n\nDear",
        "Paid.",
    ),
    # Forwards.
    (
        "apple",
        "en",
        "See the proof below.\n\nBegin forwarded message:\n\nFrom: Bank <noreply@bank.be>\nSubject: Transfer",
        "See the proof below.",
    ),
    (
        "apple",
        "de",
        "Siehe unten.\n\nAnfang der weitergeleiteten Nachricht:\n\nVon: Bank",
        "Siehe unten.",
    ),
    (
        "gmail",
        "en",
        "Proof attached.\n\n---------- Forwarded message ---------\nFrom: Bank <noreply@bank.be>\nDate: Mon, 9 Mar 2026",
        "Proof attached.",
    ),
    (
        "gmail",
        "nl",
        "Bewijs.\n\n---------- Doorgestuurd bericht ---------\nVan: Bank <noreply@bank.be>",
        "Bewijs.",
    ),
    (
        "thunderbird",
        "fr",
        "Preuve.\n\n-------- Message transféré --------\nSujet : Virement\nDe : Banque",
        "Preuve.",
    ),
    # Phone and client footers.
    ("ios", "fr", "Je paierai vendredi.\n\nEnvoyé de mon iPhone", "Je paierai vendredi."),
    ("ios", "nl", "Ik betaal vrijdag.\n\nVerstuurd vanaf mijn iPhone", "Ik betaal vrijdag."),
    ("ios", "de", "Ich zahle Freitag.\n\nVon meinem iPhone gesendet", "Ich zahle Freitag."),
    ("ios", "en", "I'll pay Friday.\n\nSent from my iPhone", "I'll pay Friday."),
    ("android", "en", "I'll pay Friday.\n\nSent from my Galaxy", "I'll pay Friday."),
    (
        "android",
        "fr",
        "Je paierai vendredi.\n\nEnvoyé depuis mon appareil Galaxy",
        "Je paierai vendredi.",
    ),
    (
        "android",
        "nl",
        "Ik betaal vrijdag.\n\nVerzonden vanaf mijn Samsung Galaxy-smartphone.",
        "Ik betaal vrijdag.",
    ),
    (
        "android",
        "de",
        "Ich zahle Freitag.\n\nGesendet von meinem Huawei Handy",
        "Ich zahle Freitag.",
    ),
    (
        "outlook-ios",
        "en",
        "I'll pay Friday.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>",
        "I'll pay Friday.",
    ),
    (
        "outlook-android",
        "fr",
        "Je paierai vendredi.\n\nObtenir Outlook pour Android<https://aka.ms/AAb9ysg>",
        "Je paierai vendredi.",
    ),
    (
        "outlook-ios",
        "de",
        "Ich zahle Freitag.\n\nOutlook für iOS beziehen<https://aka.ms/o0ukef>",
        "Ich zahle Freitag.",
    ),
    (
        "windows-mail",
        "nl",
        "Ik betaal vrijdag.\n\nVerzonden vanuit Mail voor Windows",
        "Ik betaal vrijdag.",
    ),
    # Signatures: "-- " and closing blocks.
    (
        "thunderbird",
        "en",
        "Paid in full.\n\n-- \nPeter Jones\nJones Design\n+353 1 555 0101",
        "Paid in full.",
    ),
    (
        "any",
        "fr",
        "Bonjour,\nJ'ai payé.\n\nCordialement,\nJean Dupont\nComptable\nTél. +32 2 555 12 34",
        "Bonjour,\nJ'ai payé.",
    ),
    ("any", "fr", "J'ai payé.\n\nBien à vous,\nJean", "J'ai payé."),
    (
        "any",
        "nl",
        "Is betaald.\n\nMet vriendelijke groeten,\n\nJan Peeters\nPeeters Bouw BV",
        "Is betaald.",
    ),
    ("any", "nl", "Is betaald.\n\nMvg,\nPieter", "Is betaald."),
    ("any", "de", "Ist bezahlt.\n\nMit freundlichen Grüßen\nAnna Schneider", "Ist bezahlt."),
    ("any", "de", "Ist bezahlt.\nViele Grüße, Klaus", "Ist bezahlt."),
    ("any", "en", "Paid.\n\nKind regards,\nTom Baker\nBrightside Ltd", "Paid."),
    ("any", "en", "Paid.\n\nThanks\nTom", "Paid."),
    # Disclaimers.
    (
        "any",
        "fr",
        "Payé.\n\nCe message et ses pièces jointes sont confidentiels et destinés exclusivement à leur destinataire.",
        "Payé.",
    ),
    (
        "any",
        "nl",
        "Betaald.\n\nDit bericht is vertrouwelijk en uitsluitend bestemd voor de geadresseerde.",
        "Betaald.",
    ),
    (
        "any",
        "de",
        "Bezahlt.\n\nDiese E-Mail enthält vertrauliche Informationen und ist nur für den Empfänger bestimmt.",
        "Bezahlt.",
    ),
    (
        "any",
        "en",
        "Paid.\n\nThis email and any attachments are confidential and intended solely for the addressee.",
        "Paid.",
    ),
    (
        "any",
        "en",
        "Paid.\n\nCONFIDENTIALITY NOTICE: the information in this e-mail is confidential.",
        "Paid.",
    ),
    ("any", "fr", "Payé.\n\nPensez à l'environnement avant d'imprimer ce courriel.", "Payé."),
]

KEEP = [
    # What must survive: content that looks a little like a footer or closing.
    ("en", "Thanks, I will pay on Friday.", "Thanks, I will pay on Friday."),
    ("fr", "Merci beaucoup !", "Merci beaucoup !"),
    ("nl", "Bedankt", "Bedankt"),
    (
        "en",
        "Best,\nI paid half yesterday and will pay the rest next week, is that OK with you all?",
        "Best,\nI paid half yesterday and will pay the rest next week, is that OK with you all?",
    ),
    (
        "fr",
        "Cordialement,\nmais je conteste cette facture car la livraison n'a jamais eu lieu chez nous.",
        "Cordialement,\nmais je conteste cette facture car la livraison n'a jamais eu lieu chez nous.",
    ),
    (
        "en",
        "From: my accountant's side, all is paid.\nThe transfer left on Monday.",
        "From: my accountant's side, all is paid.\nThe transfer left on Monday.",
    ),
    (
        "de",
        "Ich habe am 2. März überwiesen.\nAm Montag schreibe ich Ihnen wieder.",
        "Ich habe am 2. März überwiesen.\nAm Montag schreibe ich Ihnen wieder.",
    ),
    (
        "fr",
        "Bonjour,\n\nle virement est parti.\n\n\n\nBonne journée",
        "Bonjour,\n\nle virement est parti.",
    ),
]

# Less common clients and footers.
PLAIN += [
    (
        "zimbra",
        "fr",
        "Payé.\n\n----- Mail original -----\nDe: Relance <credit@relance.example>\nÀ: moi@x.be\nEnvoyé: Lundi 9 Mars 2026 10:12:00\n\nBonjour",
        "Payé.",
    ),
    (
        "notes",
        "de",
        "Bezahlt.\n\n-----Relance <credit@relance.example> schrieb: -----\n\nAn: x@y.de",
        "Bezahlt.",
    ),
    (
        "yahoo",
        "en",
        "Paid.\n\nOn Monday, March 9, 2026, 10:12:14 AM GMT+1, Relance <credit@relance.example> wrote:\n\n\nDear",
        "Paid.",
    ),
    (
        "any",
        "nl",
        "Is betaald.\n\nMet vriendelijke groeten / Meilleures salutations\nJan Peeters",
        "Is betaald.",
    ),
    (
        "any",
        "en",
        "Paid.\n\nThe content of this email is confidential and intended for the recipient specified in message only.",
        "Paid.",
    ),
]
PLAIN += [
    (
        "zoho",
        "en",
        "Paid.\n\n---- On Mon, 09 Mar 2026 10:12:50 +0100 credit@relance.example wrote ----\n\nDear customer",
        "Paid.",
    ),
    (
        "outlook-android",
        "de",
        "Ich zahle Freitag.\n\nGesendet von Outlook für Android<https://aka.ms/AAb9ysg>\n\nSehr geehrter Herr Weber",
        "Ich zahle Freitag.",
    ),
    (
        "any",
        "en",
        "Paid this morning!\n\nCheers 🎉\nSarah\n\n—————\nSarah Johnson\nAccounts\n📧 sarah@example.com\n📱 +44 20 7946 0000",
        "Paid this morning!",
    ),
]
PLAIN += [
    (
        "yahoo",
        "fr",
        "Payé.\n\nEnvoyé de Yahoo Mail pour Android\n\nLe lundi 9 mars, Relance a écrit",
        "Payé.",
    ),
    ("yahoo", "nl", "Betaald.\n\nVerstuurd vanaf Yahoo Mail op Android", "Betaald."),
    ("proton", "en", "Paid.\n\nSent with Proton Mail secure email.", "Paid."),
    ("gmx", "de", "Bezahlt.\n\nGesendet mit der GMX Mail App", "Bezahlt."),
    ("huawei", "fr", "Payé.\n\nEnvoyé depuis mon téléphone HUAWEI", "Payé."),
]
PLAIN += [
    ("any", lang, f"Paid.\n\n{closing},\nJo Smith", "Paid.")
    for lang, closing in [
        ("fr", "Belle journée"),
        ("fr", "À bientôt"),
        ("de", "Schöne Grüße"),
        ("en", "With kind regards"),
        ("en", "Kindest regards"),
        ("nl", "Hartelijke groeten"),
        ("nl", "Groetjes"),
        ("de", "Liebe Grüße"),
        ("fr", "Sincères salutations"),
    ]
]
KEEP += [
    (
        "en",
        "Paid.\nSent from my office yesterday, 250 EUR.",
        "Paid.\nSent from my office yesterday, 250 EUR.",
    ),
]
KEEP += [
    (
        "en",
        "Our payments:\n\nDate       Amount\n------------------\n2026-03-02 100.00\n2026-03-09 150.00\n\nPlease check your books against this list and tell us what is still open.",
        "Our payments:\n\nDate       Amount\n------------------\n2026-03-02 100.00\n2026-03-09 150.00\n\nPlease check your books against this list and tell us what is still open.",
    ),
    (
        "en",
        "The reminder was sent from my old address to the wrong office.\nPlease use this one.",
        "The reminder was sent from my old address to the wrong office.\nPlease use this one.",
    ),
    (
        "en",
        "On the invoice the amount is wrong.\nOn average we pay within 30 days.",
        "On the invoice the amount is wrong.\nOn average we pay within 30 days.",
    ),
    (
        "en",
        "Hello,\n\nConfidential: we are in trouble, can we pay in 3 instalments?",
        "Hello,\n\nConfidential: we are in trouble, can we pay in 3 instalments?",
    ),
    ("fr", "Bonjour,\n\nMerci\nJean", "Bonjour,\n\nMerci\nJean"),
]


@pytest.mark.parametrize(
    ("client", "language", "body", "expected"),
    PLAIN,
    ids=[f"{c}-{lang}-{i}" for i, (c, lang, _, _) in enumerate(PLAIN)],
)
def test_plain_text_new_text(client: str, language: str, body: str, expected: str) -> None:
    assert new_text(body) == expected


@pytest.mark.parametrize(
    ("language", "body", "expected"), KEEP, ids=[f"{k[0]}-{i}" for i, k in enumerate(KEEP)]
)
def test_content_is_kept(language: str, body: str, expected: str) -> None:
    assert new_text(body) == expected


def test_inline_answers_keep_only_the_senders_lines() -> None:
    body = (
        "On 09/03/2026 09:12, Relance Demo SRL wrote:\n"
        "> Invoice INV-2026-0091 is still unpaid.\n\n"
        "It was paid on 27 February.\n\n"
        "> Please pay within 8 days.\n\n"
        "Nothing is due."
    )
    assert new_text(body) == "It was paid on 27 February.\n\nNothing is due."


def test_signature_block_starting_with_the_senders_name_goes() -> None:
    body = "Is betaald.\n\nJan Peeters\nZaakvoerder\nPeeters Bouw BV\nT +32 15 21 43 65"
    assert new_text(body, sender_name="Jan Peeters") == "Is betaald."
    # A name alone is all the sender wrote: it stays.
    assert new_text("Claire", sender_name="Claire Lambert") == "Claire"


def test_quoted_header_block_does_not_cut_inline_answers() -> None:
    body = (
        "On 09/03/2026 09:12, Relance wrote:\n"
        "> Dear customer,\n> From: Relance <credit@relance.example>\n> Sent: Monday\n> To: you\n\n"
        "I answered this already.\n\n> Please pay.\n\nPaid on 2 March."
    )
    assert new_text(body) == "I answered this already.\n\nPaid on 2 March."


def test_last_line_with_the_senders_name_goes() -> None:
    assert (
        new_text("Voici la preuve.\n\nClaire", sender_name="Claire Lambert") == "Voici la preuve."
    )
    # Another person's name is content (maybe who to contact).
    assert new_text("Voici la preuve.\n\nPaul Dupont", sender_name="Claire Lambert") == (
        "Voici la preuve.\n\nPaul Dupont"
    )


def test_crlf_and_nbsp_are_normalised() -> None:
    assert new_text("Pay\u00e9\u00a0!\r\n\r\n\r\n\r\nOK\r\n") == "Payé !\n\nOK"


HTML = [
    (
        "gmail",
        '<div dir="ltr">Je paierai vendredi.<div><br></div><div>Jean</div></div><br>'
        '<div class="gmail_quote"><div class="gmail_attr">Le lun. 9 mars 2026, Relance a écrit :</div>'
        "<blockquote>Rappel</blockquote></div>",
        "Je paierai vendredi.\n\nJean",
    ),
    (
        "thunderbird",
        '<p>Betaald.</p><div class="moz-cite-prefix">Op 09-03-2026 om 10:12 schreef Relance:<br></div>'
        '<blockquote type="cite">Herinnering</blockquote>',
        "Betaald.",
    ),
    (
        "outlook-web",
        '<div>Bezahlt.</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>Von:</b> Relance'
        "<br><b>Gesendet:</b> Montag</div><div>Sehr geehrte Frau</div>",
        "Bezahlt.",
    ),
    (
        "outlook-desktop",
        '<p class="MsoNormal">Paid.<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal"><b>From:</b> Relance'
        "<br><b>Sent:</b> Monday<br><b>To:</b> Tom<br><b>Subject:</b> Reminder</p></div><p>Dear Tom</p>",
        "Paid.",
    ),
    (
        "yahoo",
        '<div>Paid today.</div><div class="yahoo_quoted"><div>On Monday, Relance wrote:</div>'
        "<div>Reminder</div></div>",
        "Paid today.",
    ),
]


@pytest.mark.parametrize(("client", "html", "expected"), HTML, ids=[h[0] for h in HTML])
def test_html_only_new_text(client: str, html: str, expected: str) -> None:
    assert new_text(None, html) == expected


def test_html_to_text_keeps_line_structure() -> None:
    html = "<html><body><p>Ligne 1</p>\n<p>Ligne&nbsp;2<br>Ligne 3</p><script>x()</script></body></html>"
    assert html_to_text(html).strip() == "Ligne 1\n\nLigne\u00a02\nLigne 3"


@pytest.mark.parametrize(
    "html",
    [
        # Word (Outlook desktop): one MsoNormal paragraph per line, margins zeroed.
        '<p class="MsoNormal">Jan Peeters</p><p class="MsoNormal">Zaakvoerder</p>',
        # Outlook on the web: the style sheet zeroes the paragraph margins.
        "<head><style>P {margin-top:0;margin-bottom:0;}</style></head>"
        "<body><p>Jan Peeters</p><p>Zaakvoerder</p></body>",
        '<p style="margin:0">Jan Peeters</p><p style="margin: 0px">Zaakvoerder</p>',
    ],
)
def test_paragraphs_without_margins_are_lines(html: str) -> None:
    assert html_to_text(html).strip() == "Jan Peeters\nZaakvoerder"


def test_paragraphs_with_margins_are_separated_by_a_blank_line() -> None:
    html = "<p>Bonjour,</p><p>Pouvons-nous payer en trois fois ?</p><p>Bien à vous,</p>"
    assert new_text(None, html) == "Bonjour,\n\nPouvons-nous payer en trois fois ?"


def test_format_flowed_is_unwrapped() -> None:
    from adapters.mail.parse import unflow

    text = (
        "Je ne peux pas payer pour le \nmoment.\n\n-- \nSophie\n> la facture reste \n> impayée.\n"
    )
    assert unflow(text) == (
        "Je ne peux pas payer pour le moment.\n\n-- \nSophie\n> la facture reste impayée.\n"
    )
    assert unflow("pay \nment", delsp=True) == "payment"
    # An empty line always ends a paragraph, even after a stray trailing space.
    assert unflow("Bonjour, \n\nPayé.") == "Bonjour, \n\nPayé."


def test_a_drawn_rule_ending_in_a_space_does_not_flow() -> None:
    """Windows Live Mail writes its separator with a trailing space in a flowed
    message; joined to "From: Relance", the reminder under it became new text."""
    from zoneinfo import ZoneInfo

    from adapters.mail.parse import analyse, unflow

    assert unflow("-----Oorspronkelijk bericht----- \nFrom: Relance\n") == (
        "-----Oorspronkelijk bericht----- \nFrom: Relance\n"
    )
    body = (
        "Ik betaal op 31 maart.\n\n"
        "-----Oorspronkelijk bericht----- \n"
        "From: Relance \n"
        "Sent: Tuesday, March 10, 2026 9:12 AM\n"
        "Subject: Herinnering factuur INV-2026-0062\n\n"
        "Beste klant, factuur INV-2026-0062 is nog niet betaald.\n"
    )
    raw = (
        "From: Luc <luc@example.be>\r\nTo: relance@creditor.example\r\n"
        "Subject: Re: Herinnering\r\nMessage-ID: <a@example.be>\r\n"
        "Date: Tue, 10 Mar 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="windows-1252"; format=flowed\r\n\r\n'
        + body.replace("\n", "\r\n")
    ).encode("cp1252")
    assert analyse(raw, ZoneInfo("Europe/Brussels")).new_text == "Ik betaal op 31 maart."


@pytest.mark.parametrize(
    "html",
    [
        '<div dir="ltr">Betaald.<br clear="all"><div><br></div><span class="gmail_signature_prefix">-- </span><br>'
        '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature">Jan Peeters<br>Peeters Bouw</div></div>',
        '<p>Betaald.</p><div class="moz-signature">-- <br>Jan Peeters</div>',
        '<div>Betaald.</div><div id="Signature"><p>Jan Peeters | Peeters Bouw BV</p></div>',
    ],
    ids=["gmail", "thunderbird", "outlook-web"],
)
def test_html_signatures_marked_by_the_client_go(html: str) -> None:
    assert new_text(None, html) == "Betaald."


def test_html_with_an_xml_declaration() -> None:
    html = '<?xml version="1.0" encoding="utf-8"?><html><body><p>Payé hier.</p></body></html>'
    assert new_text(None, html) == "Payé hier."


@pytest.mark.parametrize(
    "closing",
    ["Danke und Grüße", "Thanks and kind regards,", "Merci et bonne journée", "Bedankt en groeten"],
)
def test_two_closings_joined_by_and_end_the_message(closing: str) -> None:
    text = f"Hallo,\n\nWe pay on Friday.\n\n{closing}\nMarkus Becker"
    assert new_text(text) == "Hallo,\n\nWe pay on Friday."


def test_and_after_thanks_starting_a_sentence_is_kept() -> None:
    text = "Hi,\n\nI will pay.\n\nThanks and I will call you tomorrow."
    assert new_text(text) == text


@pytest.mark.parametrize(
    "block",
    [
        "Gesendet: Montag, 09. März 2026 um 10:12 Uhr\nVon: Relance <credit@relance.example>\n"
        "An: hans@gmx.de\nBetreff: Zahlungserinnerung",
        "Sent: Monday, March 9, 2026 10:12\nFrom: Relance <credit@relance.example>\nTo: a@b.be",
    ],
)
def test_header_block_that_starts_with_the_date(block: str) -> None:
    text = f"Ich zahle Ende April.\n\n{block}\nGuten Tag,\n\nRechnung offen."
    assert new_text(text) == "Ich zahle Ende April."


def test_a_date_line_in_the_text_is_not_a_header_block() -> None:
    text = "Datum: morgen früh\nVon mir aus gerne, ich zahle dann."
    assert new_text(text) == text


@pytest.mark.parametrize(
    "closing",
    [
        "Mit besten Grüßen",
        "Mit freundlichem Gruß",
        "Danke für Ihr Verständnis",
        "Met de meeste hoogachting",
        "Alvast bedankt voor uw begrip",
        "Salutations cordiales",
        "Bien amicalement",
        "En vous remerciant,",
        "Veuillez agréer, Madame, Monsieur, l'expression de mes salutations distinguées.",
        "All the best",
    ],
)
def test_more_closings_with_a_signature_under_them(closing: str) -> None:
    text = f"Bonjour,\n\nJe paie demain.\n\n{closing}\nPaul Martin\nTél. 0475 11 22 33"
    assert new_text(text) == "Bonjour,\n\nJe paie demain."


def test_a_closing_word_starting_a_sentence_is_kept() -> None:
    text = "Bonjour,\n\nEn vous remerciant de bien vouloir annuler les frais, j'ai payé à temps."
    assert new_text(text) == text


def test_images_shown_only_in_the_quote_or_a_marked_signature() -> None:
    from adapters.mail.quoting import quoted_only_images

    html = (
        '<div>Screenshot: <img src="cid:shot@x"></div>'
        '<div id="Signature"><img src="cid:logo@sig"></div>'
        '<div id="divRplyFwdMsg"><b>From:</b> Relance</div><img src="cid:logo@relance">'
        '<img src="https://example.com/tracker.png">'
    )
    assert quoted_only_images(html) == {"logo@sig", "logo@relance"}
    assert quoted_only_images("<p>no images</p>") == set()


@pytest.mark.parametrize(
    "footer", ["Get BlueMail for Android", "Verzonden met BlueMail", "Sent with Spark"]
)
def test_mail_app_footers(footer: str) -> None:
    text = f"Je paie demain.\n\n{footer}\n\nLe 9 mars 2026, Relance a écrit :\n> Rappel"
    assert new_text(text) == "Je paie demain."


def test_gmail_indentation_is_the_senders_text_not_a_quote() -> None:
    html = (
        "<div>Voici notre proposition :</div>"
        '<blockquote style="margin:0 0 0 40px;border:none;padding:0px">'
        "<div>100 € le 15 avril</div><div>100 € le 15 mai</div></blockquote>"
        '<div class="gmail_quote"><blockquote class="gmail_quote" '
        'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204)">'
        "Rappel</blockquote></div>"
    )
    assert new_text(None, html) == "Voici notre proposition :\n100 € le 15 avril\n100 € le 15 mai"


@pytest.mark.parametrize(
    "details",
    [
        "Van: BE12 3456 7890 1234\nAan: BE71 0961 2345 6769\nBedrag: 100,00 EUR\nDatum: 06/03/2026",
        "Datum: 06/03/2026\nVan: BE12 3456 7890 1234\nAan: BE71 0961 2345 6769\nBedrag: 100,00 EUR",
    ],
)
def test_pasted_transfer_details_are_not_a_reply_header(details: str) -> None:
    text = f"Goedendag,\n\nDe overschrijving:\n{details}\nMededeling: +++310/0420/12305+++"
    assert new_text(text) == text


def test_roundcube_signature_is_dropped() -> None:
    html = (
        "<p>Bonjour,</p><p>Je paie demain.</p>"
        '<div id="_rc_sig">-- <p>Sophie Lambert</p><p>Tél. 081 22 33 44</p></div>'
    )
    assert new_text(None, html) == "Bonjour,\n\nJe paie demain."


def test_a_colleague_signs_a_team_mailbox_message() -> None:
    text = "Dag,\n\nWij betwisten het bedrag.\n\nSarah Jacobs\nBoekhouding\nT +32 9 222 33 44"
    assert new_text(text, None, "Boekhouding Jacobs & Co") == "Dag,\n\nWij betwisten het bedrag."


def test_a_payment_plan_under_a_title_is_not_a_signature() -> None:
    text = (
        "Dag,\n\nOns voorstel:\n\nPlanning Voorstel\n100 EUR op 15/01/2026\n100 EUR op 15/02/2026"
    )
    assert new_text(text, None, "Boekhouding Jacobs & Co") == text


def test_header_block_with_a_long_wrapped_to_line_and_no_address() -> None:
    import textwrap

    to = "\n".join(textwrap.wrap("Aan: " + "; ".join(f"Persoon {i}" for i in range(60)), 76))
    text = f"Betaald.\n\nVan: Relance Demo SRL\nVerzonden: maandag 9 maart 2026\n{to}\nOnderwerp: X\n\nDag"
    assert to.count("\n") >= 6
    assert new_text(text) == "Betaald."


@pytest.mark.parametrize(
    "text",
    [
        "Goedendag,\n\nOp 12 maart heb ik betaald, zoals ik al schreef:\nhet bedrag is 100 EUR.",
        "Hallo,\n\nAm 12. März habe ich bezahlt, wie ich schon schrieb:\nBetrag 100 EUR.",
        "Bonjour,\n\nLe 12 mars j'ai payé, comme mon comptable vous a écrit :\nle montant est de 100 EUR.",
        "Hi,\n\nOn March 12 I paid, as my accountant wrote:\nthe amount was 100 EUR.",
    ],
)
def test_a_sentence_ending_in_wrote_is_not_an_attribution(text: str) -> None:
    assert new_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Hi,\n\nGot your reminder.\n\nThanks\nI'll pay Friday",
        "Bonjour,\n\nBien reçu.\n\nMerci\nJe paie vendredi",
        "Goedendag,\n\nOntvangen.\n\nBedankt\nBetaling volgt morgen",
    ],
)
def test_words_after_thanks_are_kept_when_they_are_a_sentence(text: str) -> None:
    assert new_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Goedendag,\n\nUw factuur bevat vertrouwelijke gegevens van een andere klant, die ik per "
        "vergissing ontving. Ik betaal deze factuur niet tot ze gecorrigeerd is.",
        "Bonjour,\n\nVotre rappel contient des informations confidentielles d'un autre client, "
        "reçues par erreur. Je ne paierai pas avant correction.",
    ],
)
def test_a_complaint_about_confidential_data_is_not_a_disclaimer(text: str) -> None:
    assert new_text(text) == text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # The attribution right under the reply, no blank line between them: the
        # reply's lines are not taken for the start of a wrapped attribution.
        (
            "Je paierai demain.\nLe lun. 9 mars 2026 à 10:12, Relance <credit@relance.example>"
            " a écrit :\n> Bonjour",
            "Je paierai demain.",
        ),
        (
            "Paid on 2 March.\nFrom our BNP account.\nOn Mon, 9 Mar 2026 at 10:12, Relance\n"
            "<credit@relance.example> wrote:\n> Dear customer",
            "Paid on 2 March.\nFrom our BNP account.",
        ),
        (
            "Is betaald.\n> Op 9 mrt 2026 om 10:12 schreef Relance <credit@relance.example>:",
            "Is betaald.",
        ),
        # A wrapped attribution that opens as one keeps its own wrapped end.
        (
            "Ich zahle am Freitag.\n\nAm Mo., 9. März 2026 um 10:12 Uhr schrieb Relance <\n"
            "credit@relance.example>:\n> Guten Tag",
            "Ich zahle am Freitag.",
        ),
    ],
)
def test_an_attribution_starts_where_it_says(body: str, expected: str) -> None:
    assert new_text(body) == expected


def test_a_quoted_line_wrapped_without_its_marker_goes_with_the_quote() -> None:
    body = (
        "Betaald op 2 maart.\n\nOp 9 mrt. 2026 om 10:12 schreef Relance <credit@relance.example>:\n"
        "> De factuur INV-2026-0091 van 400,00 euro staat nog open, gelieve te betalen binnen\n"
        "acht dagen.\n>\n> Met vriendelijke groet"
    )
    assert new_text(body) == "Betaald op 2 maart."


def test_inline_answers_right_under_the_quoted_lines_stay() -> None:
    body = (
        "On 09/03/2026 09:12, Relance Demo SRL wrote:\n"
        "> Can you pay by Friday?\nYes, on Friday.\n> Can you confirm the amount\nyes 400 euros\n"
        "> The reminder fee of 15,00 euro is added to the invoice as the terms say,\n"
        "which you accepted.\n"
    )
    # An answer starts a sentence, or answers a short line; a line going on in
    # lower case under a long quoted line that stops mid-sentence is its end.
    assert new_text(body + "> Kind regards\n") == "Yes, on Friday.\nyes 400 euros"
    # ... unless nothing quoted follows it: then it may be the debtor's own answer.
    bottom = (
        "Le lun. 9 mars 2026 à 10:12, Relance <credit@relance.example> a écrit :\n"
        "> Veuillez régler la facture INV-1 de 400,00 euros avant le 20 mars, faute de\n"
        "ok je paie demain"
    )
    assert new_text(bottom) == "ok je paie demain"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # A reminder pasted under the sign-off: a closing, a name, a new greeting.
        (
            "Bonjour,\n\nJe conteste.\n\nMerci\nChantal Dewitte\n\nBonjour,\n\nLa facture INV-1 reste due.",
            "Bonjour,\n\nJe conteste.",
        ),
        (
            "Hi,\n\nPaid today.\n\nKind regards,\nTom\n+32 470 12 34 56\n\nDear customer,\n\nInvoice INV-1 is overdue.",
            "Hi,\n\nPaid today.",
        ),
        # Not a pasted letter: a P.S. after the name, or a greeting with nothing under it.
        (
            "Bonjour,\n\nJe paie lundi.\n\nMerci\nJean\n\nPS: la facture INV-2 aussi.",
            "Bonjour,\n\nJe paie lundi.\n\nMerci\nJean\n\nPS: la facture INV-2 aussi.",
        ),
        ("Hallo,\n\nich zahle morgen.\n\nDanke\nPeter\n\nHallo,", "Hallo,\n\nich zahle morgen."),
    ],
)
def test_a_letter_pasted_under_the_sign_off_goes(body: str, expected: str) -> None:
    assert new_text(body) == expected


@pytest.mark.parametrize(
    "marker",
    ["-----Original-Nachricht-----", "--- Original-Nachricht ---"],
)
def test_t_online_original_nachricht(marker: str) -> None:
    body = f"Ich habe schon bezahlt.\n\n{marker}\nBetreff: Zahlungserinnerung\n{QUOTED}"
    assert new_text(body) == "Ich habe schon bezahlt."


def test_helpdesk_marker_keeps_the_reply_typed_above_it_or_the_newest_comment() -> None:
    typed = (
        "We paid on Monday.\n\n##- Please type your reply above this line -##\n\nOld ticket text"
    )
    assert new_text(typed) == "We paid on Monday."
    rule = "-" * 46
    notification = (
        "##- Please type your reply above this line -##\n\n"
        "Your request (48213) has been updated.\n"
        f"{rule}\n\nMarc Peeters (Acme)\n\nMar 3, 2026, 09:14 GMT+1\n\n"
        "Hello,\n\nINV-1 was paid on 27 February.\n\n"
        f"{rule}\n\nBoulangerie Dupont SRL\n\nMar 2, 2026, 10:12 GMT+1\n\n"
        "Dear customer, invoice INV-1 is still unpaid."
    )
    assert new_text(notification) == "Hello,\n\nINV-1 was paid on 27 February."
