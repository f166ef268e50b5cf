"""Automatic replies (out of office, vacation, "we received your message") and
their return date.

    Auto-Submitted: auto-replied                          -> automatic (RFC 3834)
    Subject: Réponse automatique : Rappel facture         -> automatic
    X-Auto-Response-Suppress: All, and no other cue       -> a person (it asks us not to answer)
    "Je suis absente du bureau jusqu'au 20 mars inclus."  -> automatic, until 2026-03-20
    "I was out of office last week, I paid yesterday."    -> a person

Headers decide first (``Auto-Submitted`` other than ``no``, ``X-Autoreply``,
``X-Autorespond``, ``Precedence: bulk|junk|auto_reply``).  Weak headers
(``X-Auto-Response-Suppress``, ``Return-Path: <>``) count only together with a
subject or body cue, because Outlook sets ``X-Auto-Response-Suppress`` on
ordinary mail too.  Apple Mail's "Auto reply:" carries no header at all, so a
subject prefix alone is enough; and some responders send a plain message whose
only cue is the text, recognised by a present or future absence statement
together with a return date or an "urgent matters" pointer.

The return date comes from our own small extractor rather than the NLU entity
extractor: an out-of-office speaks of the sender's own absence ("jusqu'au",
"terug op", "zurück am", "back on"), so only dates after those words count, and
it must not depend on a model.  A date without a year is the next such date on
or after the message date (less two weeks of slack for a late reply).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta

# -- detection ----------------------------------------------------------------------------------

_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{1,30}\]\s*)?"
    r"(?:automatic\s+reply|auto(?:matic)?[-\s]?(?:reply|response|responder)|autoreply|"
    r"out\s+of\s+(?:the\s+)?office|ooo\b|away\s+from\s+(?:the\s+)?office|on\s+vacation\b|"
    r"respuesta\s+automática|risposta\s+automatica|resposta\s+automática|autosvar|"
    r"réponse\s+automatique|reponse\s+automatique|absence\s+du\s+bureau|absent(?:e)?\s+du\s+bureau|"
    r"message\s+d'absence|automatisch\s+antwoord|automatisch\s+bericht|"
    r"automatische\s+antwort|abwesenheits(?:notiz|nachricht|meldung)|"
    # Short words that a person might also start a subject with count only as a label.
    r"(?:absence|absent|absente|en\s+congé|afwezig|afwezigheid|niet\s+aanwezig|abwesend|"
    r"nicht\s+im\s+büro|im\s+urlaub|vacation|holiday)\s*[:\-–])",
    re.I,
)
_STRONG_HEADERS = (
    "x-autoreply",
    "x-autorespond",
    "x-autoresponder",
    "x-auto-reply",
    "x-autoreply-from",
    "x-mail-autoreply",
    "x-amazon-auto-reply",
)

_W = r"(?:[\w'’,.-]+\s+){0,6}?"  # a few words: "actuellement", "op dit moment", "bis zum 20.03."
_ABSENCE = re.compile(
    r"(?:"
    # fr: "je suis absent(e)", "je serai absente", "je suis actuellement en congé"
    r"\bje\s+(?:suis|serai)\s+" + _W + r"(?:absent|absente|absent\(e\)|en\s+congés?|"
    r"en\s+vacances|hors\s+du\s+bureau|en\s+déplacement|indisponible|en\s+formation|"
    r"en\s+dehors\s+du\s+bureau|en\s+repos|en\s+arrêt)"
    r"|\b(?:nous\s+sommes|nos\s+bureaux\s+sont|notre\s+bureau\s+est|la\s+société\s+est)\s+"
    + _W
    + r"fermée?s?"
    # nl
    r"|\bik\s+ben\s+" + _W + r"(?:afwezig|met\s+verlof|op\s+vakantie|met\s+vakantie|"
    r"niet\s+(?:aanwezig|op\s+kantoor|bereikbaar|beschikbaar)|out\s+of\s+office|op\s+reis)"
    r"|\b(?:wij\s+zijn|we\s+zijn|ons\s+kantoor\s+is|onze\s+kantoren\s+zijn|onze\s+winkel\s+is|"
    r"de\s+winkel\s+is|het\s+kantoor\s+is|onze\s+zaak\s+is)\s+" + _W + r"gesloten"
    # a closure for the holidays, in any of the four languages
    r"|\b(?:fermée?s?\s+pour\s+(?:les\s+)?(?:congés?|vacances)|fermeture\s+annuelle|"
    r"gesloten\s+wegens\s+(?:jaarlijks\s+)?(?:verlof|vakantie)|jaarlijkse\s+sluiting|"
    r"betriebsferien|wegen\s+urlaub\s+geschlossen|"
    r"closed\s+for\s+(?:the\s+)?(?:holidays?|annual\s+leave|vacation))\b"
    # de
    r"|\bich\s+bin\s+" + _W + r"(?:nicht\s+im\s+büro|abwesend|im\s+urlaub|außer\s+haus|"
    r"nicht\s+erreichbar|nicht\s+im\s+haus|auf\s+(?:dienst)?reise|nicht\s+verfügbar)"
    r"|\b(?:unser\s+büro\s+ist|wir\s+sind|unser\s+geschäft\s+ist|das\s+büro\s+ist)\s+"
    + _W
    + r"geschlossen"
    # en
    r"|\bi\s*(?:am|'m|’m|will\s+be)\s+" + _W + r"(?:out\s+of\s+(?:the\s+)?office|"
    r"away|on\s+(?:annual\s+|parental\s+|sick\s+|maternity\s+)?leave|on\s+(?:vacation|holiday)|"
    r"travell?ing|not\s+in\s+the\s+office|unavailable|ooo|off\s+work)\b"
    r"|\b(?:the|our)\s+offices?\s+(?:is|are)\s+" + _W + r"closed"
    # A mailbox nobody reads any more, or a person who left: nobody answers either.
    r"|\b(?:this|the)\s+(?:mailbox|e-?mail\s+address|address|inbox)\s+is\s+no\s+longer\s+"
    r"(?:monitored|in\s+use|used|active|read|checked)"
    r"|\bis\s+no\s+longer\s+(?:with|employed\s+(?:by|at)|working\s+(?:for|at))\s+"
    r"|\bcette\s+(?:adresse|boîte)\s+(?:e-?mail\s+|mail\s+|aux\s+lettres\s+)?n['’]est\s+plus\s+"
    r"(?:consultée|utilisée|active|lue|relevée|surveillée)"
    r"|\bne\s+fait\s+plus\s+partie\s+de\s+(?:notre|la)\s+(?:société|entreprise|équipe)"
    r"|\bdit\s+(?:e-?mailadres|adres|postvak|mailadres)\s+wordt\s+niet\s+(?:meer|langer)\s+"
    r"(?:gelezen|gebruikt|opgevolgd|bekeken)"
    r"|\bis\s+niet\s+(?:meer|langer)\s+(?:in\s+dienst|werkzaam|actief\s+bij)"
    r"|\b(?:dieses\s+postfach|diese\s+(?:e-?mail-?)?adresse)\s+wird\s+nicht\s+mehr\s+"
    r"(?:gelesen|genutzt|betreut|überwacht|abgerufen)"
    r"|\bist\s+nicht\s+mehr\s+(?:im\s+unternehmen|für\s+uns\s+tätig|bei\s+uns\s+beschäftigt)"
    r")",
    re.I,
)
_AUTO_PHRASES = re.compile(
    r"(?:"
    r"en\s+cas\s+d'urgence|pour\s+toute\s+(?:urgence|question\s+urgente|demande\s+urgente)|"
    r"votre\s+(?:message|e-?mail|courriel)\s+(?:ne\s+sera\s+pas|sera)\s+(?:transféré|lu|traité)|"
    r"accès\s+(?:limité\s+)?à\s+mes\s+(?:e-?mails|mails|courriels)|je\s+(?:vous\s+)?répondrai\s+dès\s+mon\s+retour|"
    r"dès\s+mon\s+retour|message\s+automatique|réponse\s+automatique|"
    r"in\s+dringende\s+gevallen|voor\s+dringende\s+(?:zaken|vragen)|"
    r"uw\s+(?:e-?mail|bericht)\s+wordt\s+(?:niet\s+)?doorgestuurd|na\s+mijn\s+terugkeer|"
    r"bij\s+mijn\s+terugkeer|automatisch\s+(?:antwoord|bericht)|"
    r"in\s+dringenden\s+fällen|bei\s+dringenden\s+(?:anliegen|fragen|angelegenheiten)|"
    r"ihre\s+(?:e-?mail|nachricht)\s+wird\s+(?:nicht\s+)?weitergeleitet|nach\s+meiner\s+rückkehr|"
    r"automatische\s+antwort|"
    r"for\s+(?:urgent|immediate)\s+(?:matters|assistance|enquiries|inquiries|requests|questions)|"
    r"if\s+(?:your\s+(?:request|matter)\s+is|it\s+is)\s+urgent|"
    r"limited\s+(?:access\s+to|)\s*e-?mail|upon\s+my\s+return|when\s+i\s+return|"
    r"will\s+(?:not\s+be\s+forwarded|be\s+read)|automatic(?:ally\s+generated)?\s+(?:reply|message|response)|"
    # Acknowledgements ("we received your message") and "do not reply" notices.
    r"we\s+have\s+received\s+your\s+(?:message|e-?mail|request)|this\s+is\s+an\s+automated|"
    r"do\s+not\s+reply\s+to\s+this|nous\s+avons\s+bien\s+reçu\s+votre\s+(?:message|e-?mail|demande|courriel)|"
    r"ceci\s+est\s+un\s+(?:message|e-?mail|courriel)\s+automatique|merci\s+de\s+ne\s+pas\s+répondre|"
    r"wij\s+hebben\s+uw\s+(?:bericht|e-?mail|aanvraag|vraag)\s+(?:goed\s+)?ontvangen|"
    r"dit\s+is\s+een\s+automatisch|gelieve\s+(?:niet\s+te\s+antwoorden|deze\s+e-?mail\s+niet)|"
    r"wir\s+haben\s+ihre\s+(?:nachricht|e-?mail|anfrage)\s+erhalten|"
    r"dies\s+ist\s+eine\s+automatisch|bitte\s+antworten\s+sie\s+nicht"
    r")",
    re.I,
)
# A message that says it is automatic: "This is an automatic reply", "Ceci est une
# réponse automatique", "Dit is een automatisch antwoord", "Dies ist eine automatische
# Antwort".
_DECLARED = re.compile(
    r"\b(?:this\s+is\s+an\s+(?:automatic|automated|auto-generated)\s+(?:reply|response|message)|"
    r"ceci\s+est\s+(?:une\s+réponse|un\s+message|un\s+e-?mail|un\s+courriel)\s+automatique|"
    r"dit\s+is\s+een\s+automatisch(?:e)?\s+(?:antwoord|bericht|e-?mail|reactie)|"
    r"dies\s+ist\s+eine\s+automatische\s+(?:antwort|nachricht|e-?mail|benachrichtigung))\b",
    re.I,
)
_PAST_OR_ACTION = re.compile(
    # Things a person replying to a reminder says; an out-of-office does not talk about
    # paying or about a past absence.
    r"\b(?:pay|paid|paying|payer|payé|payée|paye|paierai|paierons|régler|réglé|virement|"
    r"betaal|betaald|betalen|overgeschreven|overschrijving|"
    r"zahle|zahlen|bezahlt|bezahlen|überweise|überwiesen|überweisung|"
    r"i\s+was\s+(?:out|away|on)|j'étais|j’étais|ik\s+was|ich\s+war|"
    r"je\s+ne\s+(?:peux|pourrai)\s+pas|ik\s+kan\s+(?:niet|pas)|ich\s+kann\s+(?:nicht|erst)|"
    r"i\s+(?:can't|cannot|can\s+not)|"
    # A person on leave who still answers about the invoice ("… je m'occupe de la facture
    # lundi"); automatic answers do not speak of one particular invoice.
    r"la\s+facture|cette\s+facture|de\s+factuur|deze\s+factuur|die\s+rechnung|"
    r"diese\s+rechnung|the\s+invoice|this\s+invoice|settle|regelen|in\s+orde\s+brengen|"
    r"m['’]occupe|kümmere)\b",
    re.I,
)


def _header(headers: Mapping[str, str], name: str) -> str:
    return str(headers.get(name, "") or "").strip()


def header_says_automatic(headers: Mapping[str, str]) -> bool:
    """Strong header evidence alone (RFC 3834 and the common non-standard flags)."""
    auto = _header(headers, "auto-submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return True
    if any(_header(headers, name) for name in _STRONG_HEADERS):
        return True
    precedence = _header(headers, "precedence").lower()
    return precedence in ("bulk", "junk", "auto_reply", "auto-reply")


def subject_says_automatic(subject: str) -> bool:
    return bool(_SUBJECT_PREFIX.match(subject or ""))


def text_says_out_of_office(text: str, reference: date | None = None) -> bool:
    """A present/future absence statement plus a return date or an auto-reply phrase.

    A reply that talks about a past absence and a payment is a person writing.
    """
    if not text or len(text) > 3000:
        return False
    if _PAST_OR_ACTION.search(text):
        return False
    if _DECLARED.search(text):
        return True  # it says so itself
    if not _ABSENCE.search(text):
        return bool(len(_AUTO_PHRASES.findall(text)) >= 2)
    return bool(_AUTO_PHRASES.search(text)) or return_date(text, reference) is not None


_READ_SUBJECT = re.compile(r"^\s*(?:read|lu|gelezen|gelesen)\s?:", re.I)
_READ_TEXT = re.compile(
    r"\bwas\s+read\s+on\b|\ba\s+été\s+lu\b|\bis\s+gelezen\s+op\b|\bwurde\s+am\b.{0,80}\bgelesen\b",
    re.I | re.S,
)


def is_read_receipt(subject: str, text: str) -> bool:
    """Outlook's read receipt sent as plain text ("Lu : …" / "Votre message … a été lu le …"),
    not as an RFC 8098 report: both the subject and the text must say it."""
    return bool(_READ_SUBJECT.match(subject or "") and _READ_TEXT.search(text or ""))


def is_auto_reply(
    headers: Mapping[str, str], subject: str, text: str, reference: date | None = None
) -> bool:
    if header_says_automatic(headers):
        return True
    if is_read_receipt(subject, text):
        return True
    if subject_says_automatic(subject):
        return True
    weak = bool(_header(headers, "x-auto-response-suppress")) or (
        _header(headers, "return-path") == "<>"
    )
    if weak and _ABSENCE.search(text or "") and not _PAST_OR_ACTION.search(text or ""):
        return True
    return text_says_out_of_office(text, reference)


# -- return date --------------------------------------------------------------------------------

_MONTHS = {
    # fr
    "janvier": 1,
    "janv": 1,
    "février": 2,
    "fevrier": 2,
    "févr": 2,
    "fevr": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "decembre": 12,
    "déc": 12,
    # nl
    "januari": 1,
    "februari": 2,
    "maart": 3,
    "mrt": 3,
    "april": 4,
    "mei": 5,
    "juni": 6,
    "juli": 7,
    "augustus": 8,
    "oktober": 10,
    "okt": 10,
    # de
    "januar": 1,
    "jänner": 1,
    "februar": 2,
    "märz": 3,
    "maerz": 3,
    "mär": 3,
    "dezember": 12,
    "dez": 12,
    # en
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_DAY_NAMES = (
    r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|maandag|dinsdag|woensdag|"
    r"donderdag|vrijdag|zaterdag|zondag|montag|dienstag|mittwoch|donnerstag|freitag|samstag|"
    r"sonntag|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"lun|mar|mer|jeu|ven|sam|dim|ma|di|wo|do|vr|za|zo|mo|mi|fr|sa|so|mon|tue|wed|thu|fri|sat|sun)"
    r"\.?,?\s+)?"
)
_DATE = (
    r"(?:" + _DAY_NAMES + r"(?:(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
    r"|(?<!\d)(?P<d1>\d{1,2})[./-](?P<m1>\d{1,2})(?:[./-](?P<y1>\d{2,4}))?\.?"
    r"|(?:le\s+|den\s+|de\s+)?(?P<d2>\d{1,2})(?:er|e|st|nd|rd|th|\.)?\s+(?:of\s+)?"
    r"(?P<mn2>" + _MONTH_RE + r")\.?(?:\s+(?P<y2>\d{4}))?"
    r"|(?P<mn3>" + _MONTH_RE + r")\.?\s+(?P<d3>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y3>\d{4}))?"
    r"))(?!\w)"
)
# Words after which the date is when the sender is back or until when they are away;
# "from" words only when no such word is found ("absent à partir du 10 jusqu'au 20").
_END_CUES = (
    r"jusqu['’]au|jusqu['’]à|jusqu['’]a|de\s+retour(?:\s+au\s+bureau)?(?:\s+le)?|"
    r"retour\s+(?:prévu\s+)?(?:le|au\s+bureau\s+le)|au|"
    r"jusque\s+(?:et\s+y\s+compris\s+)?le|"
    r"tot\s+en\s+met|t/m|t\.\s?e\.\s?m\.?|tot|terug\s+(?:op|vanaf)|weer\s+(?:aanwezig|bereikbaar|op\s+kantoor)\s+"
    r"(?:op|vanaf)|"
    r"bis\s+(?:einschließlich|einschliesslich|inkl\.|zum|am)?|zurück\s+(?:am|ab)|"
    r"wieder\s+(?:im\s+büro\s+)?(?:am|ab)|"
    r"until|till|through|back\s+(?:in\s+the\s+office\s+)?on|returning\s+on|return\s+on|back\s+by|to"
)
_START_CUES = r"à\s+partir\s+du|a\s+partir\s+du|dès\s+le|des\s+le|vanaf|ab(?:\s+dem)?|from|as\s+of"
_ARTICLE = r"\s*(?:le\s+|den\s+|dem\s+|op\s+|on\s+|the\s+)?"
_END_DATE = re.compile(r"(?<!\w)(?:" + _END_CUES + r")" + _ARTICLE + _DATE, re.I)
_START_DATE = re.compile(r"(?<!\w)(?:" + _START_CUES + r")" + _ARTICLE + _DATE, re.I)


def return_date(text: str, reference: date | None) -> date | None:
    """The date an out-of-office names as the end of the absence (or the return)."""
    match = _END_DATE.search(text or "") or _START_DATE.search(text or "")
    if match is None:
        return None
    return _to_date(match, reference)


def _to_date(match: re.Match[str], reference: date | None) -> date | None:
    groups = match.groupdict()
    if groups["iy"]:
        day, month, year_text = int(groups["id"]), int(groups["im"]), groups["iy"]
    elif groups["d1"]:
        day, month, year_text = int(groups["d1"]), int(groups["m1"]), groups["y1"]
        if month > 12 >= day:  # "3/23": an American month/day
            day, month = month, day
    elif groups["d2"]:
        day, month, year_text = int(groups["d2"]), _MONTHS[groups["mn2"].lower()], groups["y2"]
    else:
        day, month, year_text = int(groups["d3"]), _MONTHS[groups["mn3"].lower()], groups["y3"]
    if year_text:
        year = int(year_text)
        if year < 100:
            year += 2000
        try:
            return date(year, month, day)
        except ValueError:
            return None
    if reference is None:
        return None
    for year in (reference.year, reference.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= reference - timedelta(days=14):
            return candidate
    return None
