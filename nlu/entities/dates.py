"""Dates, resolved against the message's reference date (contract: shared nlu.md).

With reference Tuesday 2026-03-10:

    "vendredi prochain" / "next Friday"      -> 2026-03-13  (first Friday after today)
    "volgende week vrijdag"                  -> 2026-03-20  (Friday of next week)
    "last Friday" / "vorige vrijdag"         -> 2026-03-06
    "fin du mois" / "Ende des Monats"        -> 2026-03-31
    "début du mois prochain"                 -> 2026-04-01  (decision: the 1st)
    "mi-avril" / "half april" / "Mitte April" -> 2026-04-15  (decision: the 15th)
    "le 15" / "the 15th" / "am 15."          -> 2026-03-15
    "le 5" (a promise)                       -> 2026-04-05  (passed this month: next month)
    "j'ai payé le 12"                        -> 2026-02-12  (already done: not in the future)
    "15/04", "15.04.", "15 avril"            -> 2026-04-15
    "03/02" (a promise)                      -> 2027-02-03  (passed this year: next year)
    "dans deux semaines" / "over 2 weken"    -> 2026-03-24
    "binnen 2 werkdagen", "next week"        -> no date (vague periods)

Tense.  Whether a date is in the past or the future decides "le 5", "vendredi",
"15/04"...  The clause around the date is read first ("j'ai payé le 3, je
paierai le reste le 20" has one of each); when it has no tense cue either way,
the intent decides (``already_paid`` -> past, any other intent -> future), and
without intent the tense cues of the whole message do, future by default.

Why not dateparser: its relative dates follow other rules than the contract
("next Friday" is a week later than ours, "le 5" is always this month, and it
has no notion of a promise versus a past payment), and reading absolute dates
ourselves is a few regular expressions; it also costs ~1 s to import.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from nlu.entities.lexicon import (
    DAY_WORDS,
    DURATION_UNITS,
    MONTHS,
    RELATIVE_DAYS,
    WEEKDAY_AFTER,
    WEEKDAY_BEFORE,
    WEEKDAYS,
)
from nlu.entities.numbers import NUMBER, number_value
from nlu.entities.spans import Message

__all__ = ["add_months", "find_dates", "tense_of"]


def _words(text: str) -> list[str]:
    return text.split()


def _alt(words: object) -> str:
    return "(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + ")"  # type: ignore[call-overload]


_B = r"(?<![\w'])"  # a word starts here
_E = r"(?![\w'])"  # a word ends here
_WD = _alt(WEEKDAYS)
_MON = _alt(MONTHS)
_ORDINAL = r"(?:er|ere|re|e|eme|de|ste|st|nd|rd|th|ten|te|\.)"
_DAY_WORD = _alt(DAY_WORDS)  # "fifteenth", "fünfzehnten", "vijftiende", "quinze"
_WD_LEAD = rf"(?:(?:(?:le|the)\s+)?(?P<wd>{_WD}),?\s+(?:(?:le|the|den|de)\s+)?)"

# Words after a number that show it is not a day of the month.
_NOT_A_DAY_AFTER = re.compile(
    r"\s*(?:%|€|x\b|×|[.,]\d|[/:]\d|-\d|"
    + _alt(
        _words(
            """fois jours jour jrs mois semaines semaine ans an euros euro eur balles versements
        versement mensualites mensualite echeances tranches paiements rappels rappel facture
        factures h heures heure uur u uhr termijnen termijn keer keren dagen dag weken week
        maanden maand jaar jaren herinnering herinneringen aanmaning aanmaningen factuur
        facturen times days day weeks months years instalments installments payments reminder
        reminders invoice invoices hours mal tage tagen wochen woche monate monaten jahre raten
        mahnung mahnungen rechnung rechnungen stunden minuten minutes min keer personen
        percent procent prozent"""
        )
    )
    + r"(?![\w']))"
)

_PREPOSITION = re.compile(
    r"(?:vor dem|ab dem|nach dem|spatestens|au plus tard|uiterlijk op|uiterlijk|on|by|before|"
    r"until|till|op|tegen|voor|vor|bis|ab|vanaf|avant|pour|vers|rond|omstreeks|d'ici|"
    r"jusqu'au|au|du|vom|van|from|dated)\s+"
)
_ISO = re.compile(r"(?<![\d/.-])(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?![\d])")
_DMY = re.compile(
    rf"{_B}{_WD_LEAD}?(?<![\d/.,-])(?P<d>\d{{1,2}})(?P<sep>[/.-])(?P<m>\d{{1,2}})(?P=sep)"
    r"(?P<y>\d{4}|\d{2})(?![\d/]|[.,]\d)"
)
_ABBREVIATED_MONTHS = {
    word for word in MONTHS if len(word) <= 4 and word not in ("mai", "mei", "may", "mars", "aout")
} - {"juni", "juli", "june", "july", "marz"}
_TEXT_DMY = re.compile(
    rf"{_B}{_WD_LEAD}?(?:(?:le|the|de|den|am|op|on)\s+){{0,2}}"
    rf"(?P<d>\d{{1,2}}|1st|{_DAY_WORD}(?![\w-]))(?:{_ORDINAL})?\s*"
    r"(?:of\s+|de\s+|van\s+)?"
    rf"(?P<m>{_MON})\.?{_E}(?:\s*,?\s*(?P<y>\d{{4}}))?(?!\d)"
)
_TEXT_MDY = re.compile(
    rf"{_B}{_WD_LEAD}?(?P<m>{_MON})\.?\s+(?:the\s+)?(?P<d>\d{{1,2}}|{_DAY_WORD})"
    rf"(?:st|nd|rd|th)?{_E}"
    r"(?:\s*,?\s*(?P<y>\d{4}))?(?![\d/.,]\d)"
)
_DM = re.compile(
    rf"(?P<pre>{_B}(?:{_WD},?\s+)?(?:(?:le|op|am|on|tegen|avant|voor|vor|bis|before|by|"
    rf"jusqu'au|au|du|van|vom|ce|de|den|the|until|till|tot)\s+)?)?"
    r"(?<![\d/.,-])(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P<dot>\.)?(?![\d/-]|[.,]\d)"
)
_EDGE_OF_MONTH = re.compile(
    rf"{_B}(?P<kw>fin|debut|mi|eind|einde|begin|half|midden|end|beginning|start|mid|ende|"
    r"anfang|mitte)(?:\s*-\s*|\s+)(?:(?:of|van|de|du|des)\s+)?"
    r"(?:(?P<det>the|this|next|last|de|deze|volgende|vorige|ce|cette|dieses|diesen|"
    r"nachsten|naechsten|kommenden|letzten|vergangenen)\s+)?"
    rf"(?P<what>(?:mois|maand|month|monats|monat)(?:\s+(?:de\s+|d'|of\s+|van\s+)?(?P<mon2>{_MON}))?"
    rf"|(?P<mon>{_MON}))"
    r"(?:\s*-?(?P<rel>prochain|suivant|dernier|passe|courant|en cours|ci))?"
    r"(?:\s+(?P<y>\d{4}))?"
    rf"{_E}"
)
_EDGE_OF_MONTH_WORD = re.compile(
    rf"{_B}(?:(?:zum|am)\s+)?(?P<kw>monatsende|monatsanfang|maandeinde|einde maand|eind maand|"
    rf"begin maand|ultimo|fin courant){_E}"
)
_DAY_OF_MONTH = re.compile(
    rf"(?P<pre>{_B}(?:(?P<wd>{_WD}),?\s+(?:(?:le|the|den|de)\s+)?|"
    r"(?:le|the|on the|by the|before the|until the|de|den|am|op de|vanaf de|tegen de|voor de|"
    r"bis zum|zum|vor dem|ab dem|nach dem|spatestens am|vom|au|avant le|pour le|jusqu'au|d'ici le|"
    r"vers le|au plus tard le|rond de|omstreeks de|uiterlijk de|uiterlijk op de|"
    r"on|by|before|until|op|tegen|voor|vor|bis|ab)\s+))"
    rf"(?P<d>\d{{1,2}}|{_DAY_WORD}(?![\w-]))(?P<suf>{_ORDINAL})?"
    r"(?P<of>\s+(?:du|de|van|of|des)\s+(?:(?P<det>the|this|next|ce|deze|volgende|nachsten|"
    r"naechsten|kommenden)\s+)?(?:mois|maand|month|monats)(?:\s+(?P<rel>prochain|suivant))?)?"
    rf"(?!\w|[.,/-]\d|-[a-z])"  # not "the 14-day period"
)
_RELATIVE = re.compile(rf"{_B}(?P<w>{_alt(RELATIVE_DAYS)}){_E}")
_WEEKDAY = re.compile(
    rf"{_B}(?:(?P<before>{_alt(WEEKDAY_BEFORE)})\s+)?(?P<wd>{_WD})"
    rf"(?:(?:\s*,?\s+|\s+)(?P<after>{_alt(WEEKDAY_AFTER)}))?{_E}"
)
_DURATION = re.compile(
    rf"{_B}(?P<prep>dans|d'ici|over|in|binnen|within|innerhalb|en|sous)\s+(?:(?:de|von)\s+)?"
    rf"(?P<n>{NUMBER}|an?)\s+(?P<unit>{_alt(DURATION_UNITS)})"
    r"(?P<vague>\s+(?:ouvrables|ouvres|bancaires|ouvrable|werkdagen|werkdag|business|working|"
    r"banking|werktage|werktagen|arbeitstage|arbeitstagen))?"
    rf"{_E}"
)
# "il y a 3 jours", "drie dagen geleden", "three days ago", "vor drei Tagen"
_AGO = re.compile(
    rf"{_B}(?:il y a\s+(?P<n1>{NUMBER}|an?)\s+(?P<u1>{_alt(DURATION_UNITS)})"
    rf"|(?P<n2>{NUMBER}|an?)\s+(?P<u2>{_alt(DURATION_UNITS)})\s+(?:geleden|ago)"
    rf"|vor\s+(?P<n3>{NUMBER})\s+(?P<u3>tagen|tag|wochen|woche|monaten|monat))"
    rf"{_E}"
)
# "in a day or two", "dans une semaine ou deux", "over een dag of twee": a period.
_OR_SO = re.compile(
    rf"\s*,?\s*(?:or|ou|of|oder|bis|tot|to|a|à)\s+(?:{NUMBER})\b(?!\s*(?:€|eur|[.,]\d))"
)
_VAGUE_UNITS = re.compile(
    rf"{_B}(?:werkdagen|werkdag|werktage|werktagen|arbeitstage|arbeitstagen|business days|"
    rf"working days|jours ouvrables|jours ouvres){_E}"
)
_PLAN_CUE = re.compile(
    r"(?<![\w])(?:etal|echelon|echeancier|plan de (?:paiement|remboursement)|"
    r"(?:un|a|een|ein) plan|mensualit|afbetal|spreid|"
    r"gespreid|\w*regeling|\w*termijn|instal|payment plan|spread|in parts|(?:monats)?raten|"
    r"ratenzahl|ratenplan|abzahl|abbezahl|teilzahl|verteil|per maand|par mois|"
    r"pro monat|monatlich|maandelijks|monthly|mensuel|per month|each month|every month|"
    r"chaque mois|tous les mois|elke maand|iedere maand|jeden monat)"
)

# Opening hours: a weekday in a question about them is a habit, not a date.
_OPENING_HOURS = re.compile(
    r"(?<![\w'])(?:open|ouvert|ouverte|ouverts|ouvertes|geopend|geoffnet|offen|closed|ferme|"
    r"fermes|gesloten|geschlossen|opening hours|heures d'ouverture|openingsuren|openingstijden|"
    r"offnungszeiten)(?![\w'])"
)

# Tense cues, on folded text.
# "j'ai" is a past tense only before a participle: "j'ai payé", "jai payer" (SMS),
# not "j'ai ma paie le 25", "j'ai pas encore payé", "j'ai besoin de...".
_JAI_NOT_PAST = (
    r"(?:(?:pas|plus|rien|jamais|encore|toujours|besoin|envie|peur|ma|mon|mes|ta|ton|tes|sa|"
    r"son|ses|un|une|des|du|de|le|la|les|que|aucun|aucune|votre|vos|notre|nos)(?![\w'])"
    r"|d'|l'|qu')"
)
_PAST = re.compile(
    rf"(?<![\w'])(?:(?:j'ai|jai|j ai)(?!\s+{_JAI_NOT_PAST})|(?:ai|avons|avez|ont) (?:deja )?"
    r"(?:paye|regle|vire|verse|effectue|fait)|"
    r"a ete|ont ete|avons ete|avez ete|ai ete|as ete|"
    r"est (?:deja )?(?:paye|regle|fait)|deja|c'est (?:paye|regle|fait)|"
    r"betaald|overgeschreven|overgemaakt|gestort|voldaan|vereffend|deed|deden|gedaan|"
    r"was|werd|reeds|paid|payed|transferred|wired|settled|did|have paid|has been|already|"
    r"went out|left my account|charged|debited|"
    r"bezahlt|uberwiesen|ueberwiesen|beglichen|gezahlt|wurde|bereits|schon|erledigt|getatigt|"
    r"abgebucht|veranlasst|"
    r"recu|recue|recus|ontvangen|gekregen|received|got|erhalten|bekommen|livre|livree|geleverd|"
    r"delivered|geliefert|besteld|ordered|bestellt|depuis|sinds|since|seit|"
    # What the debtor did besides paying: sent back, cancelled, wrote, called.
    r"returned|sent|sent back|shipped|posted|mailed|emailed|cancelled|canceled|called|phoned|"
    r"wrote|complained|teruggestuurd|teruggezonden|geretourneerd|teruggebracht|verstuurd|"
    r"gestuurd|opgestuurd|opgezegd|geannuleerd|gebeld|gemaild|geschreven|gemeld|"
    r"zuruckgeschickt|zurueckgeschickt|zuruckgesandt|zurueckgesandt|zuruckgesendet|"
    r"zurueckgesendet|retourniert|geschickt|abgeschickt|storniert|gekundigt|gekuendigt|"
    r"angerufen|geschrieben|reklamiert|renvoye|renvoyee|retourne|retournee|rendu|annule|"
    r"annulee|resilie|"
    # What befell the debtor: insolvency, a job lost.
    r"entered|went into|filed|lost|declared|became|were|had|"
    r"verklaard|aangevraagd|ontslagen|verloren|waren|ging|"
    r"war|waren|hatte|hatten|beantragt|angemeldet|eroffnet|eroeffnet|entlassen|"
    r"licencie|licenciee|"
    # what the creditor did: a credit note granted, issued, credited
    r"accorde|accordee|emis|emise|credite|creditee|issued|granted|credited|erteilt|"
    r"ausgestellt|gutgeschrieben|gecrediteerd|toegekend|uitgereikt)"
    r"(?![\w'])"
)
# A document's date is in the past: "la facture du 3 mars", "uw brief van 5/3".
_DOCUMENT_DATED = re.compile(
    r"(?:facture|factuur|invoice|rechnung|courrier|lettre|brief|mail|e-mail|email|rappel|"
    r"herinnering|aanmaning|reminder|mahnung|schreiben|bon|livraison|levering|delivery|"
    r"lieferung|commande|bestelling|order|bestellung|paiement|virement|versement|betaling|"
    r"overschrijving|storting|payment|transfer|zahlung|uberweisung|ueberweisung)(?:s|en)?\s+"
    r"(?:du|d'|van|of|dated|vom|from)\s*$"
)
_FUTURE = re.compile(
    r"(?<![\w'])(?:paierai|payerai|paiera|payera|paierons|payerons|vais|va|allons|vont|"
    r"virerai|verserai|reglerai|ferai|pourrai|pourrais|peux|puis|je compte|prevois|promets|"
    r"jpeux|jpourrai|jvais|jvai|jpaierai|jpayerai|jpaye|jpaie|jvire|jverse|jregle|suivra|"
    r"suivront|arrivera|ca arrive|"
    r"je (?:vous |te |l'|la |le )?(?:paie|paye|vire|verse|regle|fais|envoie|rembourse|"
    r"transfere)|sera|seront|partira|d'ici|au plus tard|volgt|komt|gaat|geht|kommt|folgt|"
    r"erfolgt|goes out|"
    r"tegen|uiterlijk|ten laatste|no later than|spatestens|"
    r"zal|zullen|zou|ga|gaan|betaal|betalen|stort|kan|kunnen|wil|wordt|beloof|"
    r"will|shall|gonna|going to|can|could|would|promise|intend|plan|"
    r"werde|werden|wird|zahle|zahlen|uberweise|ueberweise|begleiche|kann|konnen|mochte)"
    r"(?![\w'])|'ll(?![\w])"
)
_PAST_PARTICIPLE = re.compile(
    r"(?<![\w'])(?P<aux>(?:sera|seront|serait|être|etre|suis|jsuis)\s+)?"
    r"(?:payée?s?|réglée?s?|virée?s?|versée?s?|effectuée?s?|envoyée?s?|transférée?s?|"
    r"adressée?s?|expédiée?s?|postée?s?|déposée?s?|déclarée?s?|perdue?s?)(?![\w'])"
)
# A clause ends at a sentence mark (not the dot of "1.200" or "am 1. April"), a
# comma, or a "but".
_CLAUSE_BREAK = re.compile(
    r"(?<!\d)\.(?=\s|$)|[!?;\n]|,\s|\s(?:mais|maar|but|aber|sinon|et je|en ik|and i|und ich)\s"
    # "j'ai payé 50 hier le reste fin du mois": the rest is another clause
    r"|\s(?=(?:et |and |en |und )?(?:le reste|le solde|la suite|the rest|the remainder|de rest|"
    r"het saldo|het resterende|den rest|der rest|den restbetrag|der restbetrag)\s)"
)


def _day_number(word: str) -> int:
    """The day of a matched day: "15", "1st", "fifteenth", "fünfzehnten", "quinze"."""
    if word.isdigit():
        return int(word)
    return DAY_WORDS.get(word, 1)  # "1st"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 -> 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


# A negated past is no past: "not paid yet", "pas encore payé", "nog niet betaald",
# "noch nicht überwiesen", "haven't paid" (at most one word between).
_NEGATED = re.compile(
    r"(?:(?<![\w'])(?:not|never|niet|nooit|nicht|nie|pas|jamais|geen|kein|keine)|n't)"
    r"\s+(?:[\w']+\s+)?$"
)
# Words that make the date after them a deadline, so a future one: "d'ici le 15
# c'est payé", "uiterlijk op 20/03", "spätestens am 20.", "no later than the 20th".
_DEADLINE_BEFORE = re.compile(
    r"(?<![\w'])(?:d'ici|d ici|au plus tard|uiterlijk|ten laatste|ten laatste op|spatestens|"
    r"no later than)(?:\s+(?:le|la|l'|a|au|op|de|den|am|zum|bis|bis zum|the|on))*\s*$"
)


# A participle after a future or passive auxiliary is no past: "will be sent",
# "will have it sent", "wordt verstuurd", "wird geschickt", "to be returned".
# "I get paid on Thursday", "ik word betaald", "ich werde bezahlt": the debtor's
# wages, not a payment made.
_AUXILIARY_BEFORE = re.compile(
    r"(?<![\w'])(?:will|shall|'ll|be|being|to\s+be|gonna|wordt|worden|zal|zullen|wird|werden|"
    r"sera|seront|etre|être|get|gets|getting|word|werde)\s+(?:[\w']+\s+){0,2}$"
)


def _tense_cues(folded: str, original: str) -> tuple[list[re.Match[str]], list[re.Match[str]]]:
    """The past and the future cues of a text (a negated past is none, nor a
    participle of the future or the passive)."""
    past = [
        m
        for m in _PAST.finditer(folded)
        if not _NEGATED.search(folded, max(0, m.start() - 25), m.start())
        and not _AUXILIARY_BEFORE.search(folded, max(0, m.start() - 30), m.start())
    ]
    past += [
        m
        for m in _PAST_PARTICIPLE.finditer(original.lower())
        if m["aux"] is None and not _NEGATED.search(folded, max(0, m.start() - 25), m.start())
    ]
    return past, list(_FUTURE.finditer(folded))


def _tense_counts(folded: str, original: str) -> tuple[int, int]:
    past, future = _tense_cues(folded, original)
    return len(past), len(future)


def _distance(cues: list[re.Match[str]], at: int) -> int:
    return min(m.start() - at if m.start() >= at else max(0, at - m.end()) for m in cues)


def tense_of(
    folded: str, start: int, end: int, intent: str | None, original: str | None = None
) -> str:
    """``"past"`` or ``"future"`` for the date at ``folded[start:end]``.

    ``original`` (same length as ``folded``) lets accents speak: French "payé"
    is done, "paye" may be "je paye" (I pay).
    """
    original = folded if original is None else original
    lead = _PREPOSITION.match(folded, start)
    date_start = lead.end() if lead else start
    if _DOCUMENT_DATED.search(folded, max(0, date_start - 30), date_start):
        return "past"
    if _DEADLINE_BEFORE.search(folded, max(0, date_start - 30), date_start):
        return "future"
    clause_start = 0
    for brk in _CLAUSE_BREAK.finditer(folded, 0, start):
        clause_start = brk.end()
    brk_after = _CLAUSE_BREAK.search(folded, end)
    clause_end = brk_after.start() if brk_after else len(folded)
    past, future = _tense_cues(
        folded[clause_start:start] + " " + folded[end:clause_end],
        original[clause_start:start] + " " + original[end:clause_end],
    )
    if past and not future:
        return "past"
    if future and not past:
        return "future"
    if past and future:
        # Both in one clause: the verb next to the date tells ("I paid on Monday
        # and will pay the rest Friday", "am 4. März zurückgeschickt und zahle
        # deshalb nicht").
        at = start - clause_start  # where the date was, in the joined text
        to_past, to_future = _distance(past, at), _distance(future, at)
        if to_past != to_future:
            return "past" if to_past < to_future else "future"
    if intent is not None:
        return "past" if intent == "already_paid" else "future"
    past, future = _tense_counts(folded, original)
    return "past" if past > future else "future"


def _day_in_month(reference: dt.date, day: int, tense: str) -> dt.date | None:
    """The day of month nearest the reference on the tense's side (today included)."""
    step = 1 if tense == "future" else -1
    for months in range(0, 13 * step, step):  # skips months too short for the day
        first = add_months(reference.replace(day=1), months)
        candidate = _safe_date(first.year, first.month, day)
        if candidate is None:
            continue
        if (tense == "future" and candidate >= reference) or (
            tense == "past" and candidate <= reference
        ):
            return candidate
    return None


def _day_month(reference: dt.date, day: int, month: int, tense: str) -> dt.date | None:
    """A day and month without year: this year, or the next (future) / last (past) one."""
    for offset in (0, 1, 2, 3, 4) if tense == "future" else (0, -1, -2, -3, -4):
        candidate = _safe_date(reference.year + offset, month, day)  # 29/02 waits for a leap year
        if candidate is None:
            continue
        if (tense == "future" and candidate >= reference) or (
            tense == "past" and candidate <= reference
        ):
            return candidate
    return None


def _year(text: str | None) -> int | None:
    if not text:
        return None
    year = int(text)
    return year + 2000 if year < 100 else year


def _weekday(reference: dt.date, weekday: int, mode: str) -> dt.date:
    today = reference.weekday()
    if mode == "next":
        return reference + dt.timedelta(days=(weekday - today - 1) % 7 + 1)
    if mode == "this":
        return reference + dt.timedelta(days=(weekday - today) % 7)
    if mode == "last":
        return reference - dt.timedelta(days=(today - weekday - 1) % 7 + 1)
    monday = reference - dt.timedelta(days=today)
    weeks = 1 if mode == "next_week" else -1
    return monday + dt.timedelta(days=7 * weeks + weekday)


class _Dates:
    def __init__(self, msg: Message, reference: dt.date, intent: str | None) -> None:
        self.msg = msg
        self.reference = reference
        self.intent = intent

    def tense(self, start: int, end: int) -> str:
        return tense_of(self.msg.folded, start, end, self.intent, self.msg.original)

    def _clause(self, start: int, end: int) -> str:
        text = self.msg.folded
        clause_start = 0
        for brk in _CLAUSE_BREAK.finditer(text, 0, start):
            clause_start = brk.end()
        brk_after = _CLAUSE_BREAK.search(text, end)
        return text[clause_start : brk_after.start() if brk_after else len(text)]

    def add(self, start: int, end: int, day: dt.date | None, *, trim: bool = True) -> None:
        if day is None:
            return
        # The span starts at the date, after a preposition the pattern needed to
        # see ("op 28/02" -> "28/02"); articles stay ("le 15", "the 15th", "am 15.").
        lead = _PREPOSITION.match(self.msg.folded, start, end) if trim else None
        if lead is not None:
            if not self.msg.is_free(start, end):
                return
            start = lead.end()
        self.msg.add("date", day.isoformat(), start, end)

    def run(self) -> None:
        text = self.msg.folded
        ref = self.reference
        for match in _ISO.finditer(text):
            self.add(*match.span(), _safe_date(int(match["y"]), int(match["m"]), int(match["d"])))
        for match in _DMY.finditer(text):
            year = _year(match["y"])
            assert year is not None
            day, month = int(match["d"]), int(match["m"])
            if month > 12 >= day:  # "04/15/2026" written the American way
                day, month = month, day
            self.add(*match.span(), _safe_date(year, month, day))
        for pattern in (_TEXT_DMY, _TEXT_MDY):
            for match in pattern.finditer(text):
                self._textual(match)
        for match in _EDGE_OF_MONTH.finditer(text):
            self._edge_of_month(match)
        for match in _EDGE_OF_MONTH_WORD.finditer(text):
            start, end = match.span()
            tense = self.tense(start, end)
            if match["kw"] in ("monatsanfang", "begin maand"):
                day = ref.replace(day=1)
                if tense == "future" and day < ref:
                    day = add_months(day, 1)
            else:
                day = _last_day(ref.year, ref.month)
                if tense == "past" and day > ref:
                    day = ref.replace(day=1) - dt.timedelta(days=1)
            self.add(start, end, day)
        for match in _DM.finditer(text):
            self._day_month_numeric(match)
        for match in _DURATION.finditer(text):
            self._duration(match)
        for match in _AGO.finditer(text):
            self._ago(match)
        for match in _VAGUE_UNITS.finditer(text):
            self.msg.claim(*match.span())
        for match in _DAY_OF_MONTH.finditer(text):
            self._day_of_month(match)
        for match in _WEEKDAY.finditer(text):
            self._weekday(match)
        for match in _RELATIVE.finditer(text):
            self._relative(match)

    def _textual(self, match: re.Match[str]) -> None:
        start, end = match.span()
        if self.msg.folded[end - 1] == "." and match["m"] not in _ABBREVIATED_MONTHS:
            end -= 1  # "le 20 mars." ends a sentence
        if _NOT_A_DAY_AFTER.match(self.msg.folded, end) and not match["y"]:
            return
        word = match["d"]
        day = _day_number(word)
        month = MONTHS[match["m"]]
        year = _year(match["y"])
        if year is not None:
            self.add(start, end, _safe_date(year, month, day))
        else:
            self.add(start, end, _day_month(self.reference, day, month, self.tense(start, end)))

    def _edge_of_month(self, match: re.Match[str]) -> None:
        start, end = match.span()
        ref = self.reference
        keyword = match["kw"]
        which = (
            "start"
            if keyword in ("debut", "begin", "beginning", "start", "anfang")
            else "middle"
            if keyword in ("mi", "half", "midden", "mid", "mitte")
            else "end"
        )
        if (
            keyword == "half" and match["mon"] is None and match["mon2"] is None
        ):  # "half the month" is not a date
            return

        def pick(year: int, month: int) -> dt.date:
            if which == "start":
                return dt.date(year, month, 1)
            if which == "middle":
                return dt.date(year, month, 15)
            return _last_day(year, month)

        tense = self.tense(start, end)
        named = match["mon"] or match["mon2"]  # "fin avril", "fin du mois d'avril"
        if named is not None:
            month = MONTHS[named]
            year = _year(match["y"])
            if year is not None:
                self.add(start, end, pick(year, month))
                return
            day = pick(ref.year, month)
            if tense == "future" and day < ref:
                day = pick(ref.year + 1, month)
            elif tense == "past" and day > ref:
                day = pick(ref.year - 1, month)
            self.add(start, end, day)
            return
        det, rel = match["det"], match["rel"]
        if det in ("next", "volgende", "nachsten", "naechsten", "kommenden") or rel in (
            "prochain",
            "suivant",
        ):
            shift = 1
        elif det in ("last", "vorige", "letzten", "vergangenen") or rel in ("dernier", "passe"):
            shift = -1
        else:
            shift = 0
        first = add_months(ref.replace(day=1), shift)
        day = pick(first.year, first.month)
        if shift == 0 and det is None and rel is None:
            # "fin du mois" in a promise is this month's end; "début du mois" in a
            # promise made after the 1st is next month's start, and in the past the
            # edge that has already come.
            if tense == "future" and day < ref:
                nxt = add_months(first, 1)
                day = pick(nxt.year, nxt.month)
            elif tense == "past" and day > ref:
                prev = add_months(first, -1)
                day = pick(prev.year, prev.month)
        self.add(start, end, day)

    def _day_month_numeric(self, match: re.Match[str]) -> None:
        text = self.msg.folded
        day, month = int(match["d"]), int(match["m"])
        start, end = match.start("d"), match.end()
        pre = (match["pre"] or "").strip()
        if pre:
            start = match.start("pre")
        if match["sep"] == "." and not (match["dot"] or pre or len(match["m"]) == 2):
            return
        if len(match["d"]) == 1 and len(match["m"]) == 1 and not pre:  # "1/2" is a half
            return
        if _NOT_A_DAY_AFTER.match(text, match.end("m")) and not match["dot"]:
            return
        before = text[max(0, match.start("d") - 5) : match.start("d")].rstrip()
        if before.endswith(("€", "eur", "euro", "+", "*")):
            return
        if match["sep"] == "-" and not pre and len(match["m"]) == 1:  # "3-4 jours" ranges
            return
        if month > 12 >= day:
            day, month = month, day
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return
        self.add(start, end, _day_month(self.reference, day, month, self.tense(start, end)))

    def _duration(self, match: re.Match[str]) -> None:
        start, end = match.span()
        prep, unit = match["prep"], DURATION_UNITS[match["unit"]]
        if match["vague"] or prep in ("d'ici", "binnen", "within", "innerhalb", "sous"):
            self.msg.claim(start, end)  # "binnen 2 werkdagen": a period, not a date
            return
        if (more := _OR_SO.match(self.msg.folded, end)) is not None:
            self.msg.claim(start, more.end())  # "in a day or two"
            return
        if prep == "en":
            return  # "en 3 mois" is a payment plan (instalments)
        words = match["n"]
        count = 1 if words in ("a", "an") else number_value(words, self.msg.language)
        if count is None or count > 400:
            return
        if unit == "month":
            plan = self.intent == "request_payment_plan" or _PLAN_CUE.search(self.msg.folded)
            # "afbetalen in 6 maanden", "spread over 3 months": instalments, not a date.
            if plan or (prep == "in" and match["unit"] == "maanden"):
                return
            if prep == "over" and match["unit"] in ("months", "month"):
                return
            self.add(start, end, add_months(self.reference, count))
            return
        days = count * 7 if unit == "week" else count
        self.add(start, end, self.reference + dt.timedelta(days=days))

    def _ago(self, match: re.Match[str]) -> None:
        words = match["n1"] or match["n2"] or match["n3"]
        unit = DURATION_UNITS[match["u1"] or match["u2"] or match["u3"]]
        count = 1 if words in ("a", "an") else number_value(words, self.msg.language)
        if count is None or count > 400:
            return
        if unit == "month":
            day = add_months(self.reference, -count)
        else:
            day = self.reference - dt.timedelta(days=count * 7 if unit == "week" else count)
        self.add(*match.span(), day, trim=False)

    def _day_of_month(self, match: re.Match[str]) -> None:
        text = self.msg.folded
        start, end = match.span()
        pre = match["pre"].strip()
        word = match["d"]
        day = _day_number(word)
        if not 1 <= day <= 31:
            return
        if match["of"] is None and _NOT_A_DAY_AFTER.match(text, end):
            return
        if not word.isdigit() and match["of"] is None and re.match(r"\s+[a-z]", text[end:]):
            return  # "le premier ministre", "the first payment"
        bare_prep = pre in (
            "on",
            "by",
            "before",
            "until",
            "op",
            "tegen",
            "voor",
            "vor",
            "bis",
            "ab",
        )
        if (bare_prep or pre == "de") and not match["suf"]:
            return  # "op 15" / "de 15" without "de"/"ste": too often a count
        german = pre.rsplit(" ", 1)[-1] in ("am", "den", "zum", "dem", "vor", "bis", "ab")
        if match["suf"] == "." and not german and match["wd"] is None:
            end -= 1  # "le 15." ends a sentence
        if match["of"] is not None:
            det, rel = match["det"], match["rel"]
            shift = (
                1 if det in ("next", "volgende", "nachsten", "naechsten", "kommenden") or rel else 0
            )
            first = add_months(self.reference.replace(day=1), shift)
            if shift:
                self.add(start, end, _safe_date(first.year, first.month, day))
                return
        if match["wd"] is not None:
            # "vendredi 13": the weekday tells which month's 13th.
            weekday = WEEKDAYS[match["wd"]]
            future = self.tense(start, end) == "future"
            step = 1 if future else -1
            for months in range(0, 28 * step, step):
                first = add_months(self.reference.replace(day=1), months)
                candidate = _safe_date(first.year, first.month, day)
                if candidate is None or candidate.weekday() != weekday:
                    continue
                if (candidate >= self.reference) if future else (candidate <= self.reference):
                    self.add(start, end, candidate)
                    return
        self.add(start, end, _day_in_month(self.reference, day, self.tense(start, end)))

    def _weekday(self, match: re.Match[str]) -> None:
        start, end = match.span()
        text = self.msg.folded
        if match["before"] is None and match["after"] is None:
            # Habits, not dates: "ouverts le samedi", "open on Saturday mornings".
            if re.search(
                r"(?<![\w'])(?:le|les|tous les|chaque|every|jeden|elke|iedere)\s+$",
                text[max(0, start - 10) : start],
            ):
                return
            if re.match(r"\s+(?:mornings|afternoons|evenings|nights)\b", text[end : end + 12]):
                return
            if _OPENING_HOURS.search(self._clause(start, end)):
                return  # "Zijn jullie open op zaterdag?", "Haben Sie am Samstag geöffnet?"
        before = WEEKDAY_BEFORE.get(match["before"] or "")
        after = WEEKDAY_AFTER.get(match["after"] or "")
        mode = after if after in ("next_week", "last_week") else before or after
        if mode is None:
            mode = "last" if self.tense(start, end) == "past" else "next"
        self.add(start, end, _weekday(self.reference, WEEKDAYS[match["wd"]], mode))

    def _relative(self, match: re.Match[str]) -> None:
        start, end = match.span()
        word = match["w"]
        text = self.msg.folded
        if word == "hier" and self.msg.language != "fr":
            return  # Dutch and German "hier" means "here"
        if word == "morgen":
            before = text[max(0, start - 8) : start].rstrip()
            if before.endswith(("guten", "goede", "goeie", "schonen", "good", "jeden", "am")):
                return  # "Guten Morgen", "goede morgen" greet; "am Morgen" is the morning
        if word in ("auj", "ajd") and self.msg.language != "fr":
            return
        if word == "ce jour" and re.match(r"\s?-?\s?la\b", text[end : end + 4]):
            return  # "ce jour-là": that day, said of another date
        self.add(start, end, self.reference + dt.timedelta(days=RELATIVE_DAYS[word]))


def find_dates(msg: Message, reference: dt.date, intent: str | None) -> None:
    _Dates(msg, reference, intent).run()
