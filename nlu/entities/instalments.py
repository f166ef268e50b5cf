"""How many parts the debtor wants to pay in.

    "en trois fois" / "en 3x"            -> "3"
    "in 6 termijnen" / "in zes keer"     -> "6"
    "in two times" (non-native English)  -> "2"
    "Maybe 4 parts" (asking for a plan)  -> "4"
    "in 4 installments", "3 mensualités" -> "4", "3"
    "in drei Raten", "3 Monatsraten"     -> "3"
    "3 x 100 €"                          -> "3"   (and the amount 100.00)
    "en 3 mois", "sur 6 mois"            -> "3", "6"
    "afbetalen in 6 maanden"             -> "6"

Months (decision, also documented in the README's NLU section): a number of
months is a number of monthly instalments when the phrase is the plan's length
and not a delay: always for French "en/sur N mois", Dutch "in N maanden",
English "over N months", German "über/auf N Monate"; for Dutch "over N maanden",
English "in N months" and German "in N Monaten" (which usually mean *after* N
months) only when the message speaks of a plan (afbetalen, spreiden, Raten,
instalments...) or the intent is ``request_payment_plan``.  Otherwise they are
dates (see ``dates``).  "en une fois" (one payment) is not a plan: counts start
at 2.
"""

from __future__ import annotations

import re

from nlu.entities.dates import _PLAN_CUE
from nlu.entities.lexicon import INSTALMENT_UNITS
from nlu.entities.numbers import NUMBER, NUMBER_WORDS, number_value
from nlu.entities.spans import Message

_UNITS = "(?:" + "|".join(sorted(map(re.escape, INSTALMENT_UNITS), key=len, reverse=True)) + ")"
_PLAN_UNITS = {
    "mensualites", "mensualite", "versements", "echeances", "termijnen", "afbetalingen",
    "aflossingen", "instalments", "installments", "raten", "monatsraten", "teilzahlungen",
}  # fmt: skip
_MONTH_UNITS = {"mois", "maanden", "months", "monate", "monaten"}
_ALWAYS_MONTHS = {("en", "mois"), ("sur", "mois"), ("in", "maanden"), ("over", "months"),
                  ("uber", "monate"), ("auf", "monate"), ("ueber", "monate")}  # fmt: skip
# Units that need the preposition: "3 fois" alone is "three times", "6 mois" a delay.
_NEED_PREPOSITION = {
    "fois", "x", "keer", "keren", "delen", "parts", "mal", "maanden", "mois", "months",
    "monate", "monaten", "paiements", "payments", "betalingen", "zahlungen", "tranches",
    "parties", "schijven", "payements", "paiments", "goes", "teilen", "teile", "times",
}  # fmt: skip
# ... or, when the message asks for a plan, the unit is a part: "Maybe 4 parts".
_PARTS = {"parts", "delen", "teile", "teilen", "parties", "tranches", "schijven"}
# ... unless an amount per payment follows: "3 paiements de 100 €", "4 Zahlungen von je 50 €".
_PER_PAYMENT = re.compile(r"\s+(?:de|d'un|d'une|of|van|von|von je|a|à|zu|zu je)\s+(?:€\s?)?\d")
_COUNTABLE = {"paiements", "payments", "betalingen", "zahlungen", "versements", "tranches"}
# A plan's length in months: "pendant 6 mois", "for 6 months", "6 Monate lang" (with a plan cue).
_FOR_MONTHS = re.compile(
    rf"(?<![\w'])(?:(?:pendant|durant|gedurende|for|during|während|wahrend)\s+(?P<n1>{NUMBER})"
    rf"\s+(?:mois|maanden|months|monate|monaten)|(?P<n2>{NUMBER})\s+(?:maanden|monate)\s+lang)"
    r"(?![\w'])"
)

# "in 10 maandelijkse schijven", "in 4 equal payments", "in 3 monatlichen Raten"
_EVERY = (
    r"(?:(?:maandelijkse|wekelijkse|gelijke|monthly|weekly|equal|mensuelles|egales|"
    r"hebdomadaires|monatliche|monatlichen|wochentliche|wochentlichen|gleiche|gleichen)\s+)?"
)
_WITH_PREPOSITION = re.compile(
    rf"(?<![\w'])(?P<prep>en|in|into|over|sur|uber|ueber|auf|op|a|de|van|of|von)\s+(?P<n>{NUMBER})"
    rf"\s?{_EVERY}(?P<unit>{_UNITS})(?![\w'])"
)
_WITHOUT_PREPOSITION = re.compile(rf"(?<![\w',.])(?P<n>{NUMBER})\s?(?P<unit>{_UNITS})(?![\w'])")
# "3 x 100 €", "2 fois 150 €", "2 keer 50 euro", "3 mal 40 €"
_TIMES_AMOUNT = re.compile(
    rf"(?<![\w',.])(?P<n>\d{{1,2}}|{NUMBER_WORDS})\s?(?P<x>[x×]|fois|keer|mal|times)\s?"
    r"(?=(?:€\s?|eur\s?)?\d)"
)


_DO_TIMES = re.compile(
    rf"(?<![\w'])(?:(?:faire|fait|doen|machen|do|pay|payer|betalen|zahlen|regler)"
    rf"\s+(?:(?:het|es|it|ca|en|in)\s+)?(?P<n>\d{{1,2}}|{NUMBER_WORDS})\s?(?:x|fois|keer|mal|times)"
    rf"|(?P<n2>\d{{1,2}}|{NUMBER_WORDS})\s?(?:x|keer|mal)\s+(?:betalen|doen|zahlen|bezahlen|"
    r"machen|uberweisen|storten))(?![\w'])"
)
# "2x abgebucht: 2 x 49,90 €", "charged twice: 2 x €39.95": a double debit, not a plan.
_DOUBLE_CHARGE = re.compile(
    r"(?<![\w'])(?:abgebucht|abgezogen|belastet|doppelt|zweimal|debited|charged|taken|twice|"
    r"double|preleve|prelevee|preleves|debite|debitee|deux fois|afgeschreven|afgehouden|"
    r"aangerekend|gedebiteerd|dubbel|twee keer)(?![\w'])"
)


_POSSESSIVE_BEFORE = re.compile(
    r"(?<![\w'])(?:mes|nos|mijn|onze|my|our|meine|meinen|meiner|unsere|unseren)\s+$"
)


def _count(msg: Message, words: str) -> int | None:
    count = number_value(words, msg.language)
    if count is None or not 2 <= count <= 120:
        return None
    return count


def find_instalments(msg: Message, intent: str | None) -> None:
    text = msg.folded
    plan = intent == "request_payment_plan" or _PLAN_CUE.search(text) is not None
    for match in _WITH_PREPOSITION.finditer(text):
        prep, unit = match["prep"], match["unit"]
        if unit in _MONTH_UNITS and (prep, unit) not in _ALWAYS_MONTHS and not plan:
            continue
        if prep == "a" and unit not in ("mensualites", "versements", "echeances"):
            continue
        # "un plan de 6 mois", "afbetalingsplan van 8 maanden", but not "plus de 3 fois"
        if prep in ("de", "van", "of", "von") and not (
            (unit in _MONTH_UNITS and plan) or unit in _PLAN_UNITS
        ):
            continue
        count = _count(msg, match["n"])
        if count is not None:
            msg.add("instalments", str(count), *match.span())
    for match in _WITHOUT_PREPOSITION.finditer(text):
        unit = match["unit"]
        if _POSSESSIVE_BEFORE.search(text, max(0, match.start() - 10), match.start()):
            continue  # "après mes deux versements": payments made, not a plan
        if unit in _NEED_PREPOSITION and not (
            (unit in _COUNTABLE and _PER_PAYMENT.match(text, match.end()))
            or (unit in _PARTS and plan)
        ):
            continue
        count = _count(msg, match["n"])
        if count is not None:
            msg.add("instalments", str(count), *match.span())
    if plan:
        for match in _FOR_MONTHS.finditer(text):
            count = _count(msg, match["n1"] or match["n2"])
            if count is not None:
                msg.add("instalments", str(count), *match.span())
    if plan:
        # "on peut faire 3x ?", "kan ik het in 3 keer doen": a count of times in a plan
        for match in _DO_TIMES.finditer(text):
            group = "n" if match["n"] else "n2"
            count = _count(msg, match[group])
            if count is None:
                continue
            unit = re.match(r"[^\s]*\s?(?:x|fois|keer|mal|times)", text[match.start(group) :])
            end = match.start(group) + unit.end() if unit else match.end()
            msg.add("instalments", str(count), match.start(group), end)
    if _DOUBLE_CHARGE.search(text) and _PLAN_CUE.search(text) is None:
        return  # the predicted intent is not trusted here: it is often misled by "2 x"
    said = {f.value for f in msg.found if f.entity == "instalments"}
    for match in _TIMES_AMOUNT.finditer(text):
        count = _count(msg, match["n"])
        if count is not None and str(count) in said:
            # "in 4 keer betalen? 4 x 100 euro": the same plan, its payments spelt out
            msg.claim(match.start(), match.end("x"))
        elif count is not None:
            msg.add("instalments", str(count), match.start(), match.end("x"))
