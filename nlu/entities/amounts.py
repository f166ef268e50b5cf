"""Amounts of money, as a decimal string with two decimals.

    "€ 1.234,56"  "1 234,56 EUR"  "1234.56€"   -> "1234.56"
    "£50"  "$50"  "50 USD"  "20 pounds"       -> "50.00", "20.00" (no currency in the value)
    "250 euros"  "250e"  "250 balles"  "€250,-" -> "250.00"
    "EUR 99"                                   -> "99.00"
    "vijftig euro"  "zweihundert Euro"         -> "50.00", "200.00"
    "two hundred and fifty euros"              -> "250.00"
    "j'ai déjà payé 150"                       -> "150.00"  (a bare number after a payment word)
    "125,50"                                   -> "125.50"  (two decimals: money)
    "de helft", "en 3 fois", "10 %", "le 15"   -> no amount

Why not ``domain.money.parse_decimal``: it reads accounting exports, where a lone
``1,234`` is 1.234; in a chat "1.500 €" and "1,500 €" are one thousand five
hundred euros (nobody writes three decimals of a euro), so a separator followed
by exactly three digits groups thousands here.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from nlu.entities.numbers import NUMBER_WORDS, number_value
from nlu.entities.spans import Message

_NUM = r"(?:\d{1,3}(?:[.,' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
_DASHES = r"(?:[.,]-{1,2})?"
# Other currencies (decision, README "NLU: normalisation, language and entities"):
# "£50", "$50", "50 USD" are amounts too, value "50.00" -- the contract's amount
# has no currency, nothing is converted; the text keeps the currency for a person.
_OTHER_BEFORE = r"£|\$|us\$|usd|gbp|chf"
_OTHER_AFTER = r"£|\$|usd|gbp|chf|dollars?|pounds?|quid|francs? suisses?|franken"
_CUR_BEFORE = rf"(?:€|eur\.?|euros?|{_OTHER_BEFORE})"
_CUR_AFTER = rf"(?:€|eur(?:o's|os?|s)?|euroos|balles?|boules|{_OTHER_AFTER})"
_START = r"(?<![\w.,/€-])"

_PATTERNS = (
    # "€ 1.234,56", "EUR 99", "€250,-"
    re.compile(rf"(?<![\w]){_CUR_BEFORE}\s?(?P<num>{_NUM}){_DASHES}(?![\d]|[.,]\d)"),
    # "250 euros", "1234.56€", "1 234,56 EUR", "250,- EUR"
    re.compile(rf"{_START}(?P<num>{_NUM}){_DASHES}\s?{_CUR_AFTER}(?![\w])"),
    # "vijftig euro", "deux cent cinquante euros"
    re.compile(rf"(?P<words>{NUMBER_WORDS})\s?{_CUR_AFTER}(?![\w])"),
    # "99€99": the euro sign as decimal mark
    re.compile(rf"{_START}(?P<int>\d{{1,6}})€(?P<cents>\d{{2}})(?![\w])"),
    # "45,-": the Dutch and German way to write a round sum
    re.compile(rf"{_START}(?P<num>{_NUM})[.,]-{{1,2}}(?![\w-])"),
    # "250e" (not "2e", "le 15e": ordinals)
    re.compile(rf"{_START}(?P<num>{_NUM})(?P<e>e)(?![\w])"),
    # "125,50": two decimals without currency
    re.compile(rf"{_START}(?P<num>\d{{1,3}}(?:[.' ]\d{{3}})*[.,]\d{{2}})(?![\w.,/%-]|\s?%)"),
)
_BARE = re.compile(r"(?<![\w.,/€+#°£$-])(?P<num>\d{2,6})(?![\w.,/%°-]|\s?[x×%])")
_PAY_WORD = re.compile(
    r"(?<![\w])(?:pay|paye|payer|payerai|paierai|paie|jpaye|jpaie|jpaierai|jvous paye|verse|"
    r"vire|regle|montant|somme|solde|"
    r"reste|rembourse|acompte|avance|betaald|betaal|betalen|overgeschreven|overgemaakt|gestort|"
    r"storten|stort|bedrag|saldo|rest|restant|voorschot|paid|payed|sent|transferred|amount|"
    r"balance|remaining|deposit|bezahlt|zahle|zahlen|uberwiesen|ueberwiesen|uberweise|betrag|"
    r"summe|anzahlung|restbetrag)(?:e|es|ee|s|d|t|n|rai|ra)?(?![\w])"
)
# Dutch and German put the verb last: "ik heb 300 betaald", "ich kann nur 50 zahlen".
_PAY_VERB_AFTER = re.compile(
    r"(?:\s+(?:euro|eur|al|reeds|schon|bereits|nog|noch))?\s+(?:betaald|overgemaakt|"
    r"overgeschreven|gestort|betalen|storten|overmaken|bezahlt|uberwiesen|ueberwiesen|gezahlt|"
    r"zahlen|bezahlen|uberweisen|paid)(?![\w])"
)
_ORDINAL_BEFORE = re.compile(r"(?:le|la|les|de|du|au|the|het|der|die|den|am)\s*$")
_UNIT_AFTER = re.compile(
    r"\s*(?:fois|jours?|mois|semaines?|ans?|x|keer|dagen|dag|weken|maanden|jaar|times|days?|"
    r"minutes?|minuten|minuut|min|secondes?|seconden|seconds?|sekunden|stunden|hours?|km|kg|"
    r"weeks?|months?|years?|tage|tagen|wochen|monate|monaten|jahre|mal|h|uur|uhr|heures?|"
    r"factures?|facturen|factuur|invoices?|rechnungen|rechnung|termijnen|raten|mensualites|"
    r"versements|instal?lments|personnes|personen|people|%|procent|prozent|percent|quid|pounds?|"
    r"dollars?|gbp|usd|chf|£|\$)(?![\w])"
)
_DAY_BEFORE = re.compile(r"(?:le|la|les|the|het|am|den|op|on|vom|du|au)\s*$")
_NOT_A_SINGLE = re.compile(r"(?:pas|plus|jamais|geen|nooit|keinen|kein|not|never|no)\s+$")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")
# "we agreed on 500 euros, not 650", "on avait dit 800 € et pas 950": a bare number
# set against an amount is one too.
_CONTRAST = re.compile(
    r"(?<![\w'])(?:not|pas|niet|nicht|and not|et non|en niet|und nicht|instead of|au lieu de|"
    r"in plaats van|statt|anstatt|rather than|plutot que|but|mais|maar|aber|sondern|"
    r"i\.?p\.?v\.?)\s*$"
)


def to_decimal(number: str) -> Decimal | None:
    """A number as a debtor types it -> Decimal with two decimals."""
    digits = number.replace(" ", "").replace("'", "")
    dots, commas = digits.count("."), digits.count(",")
    if dots and commas:
        decimal_mark = "." if digits.rfind(".") > digits.rfind(",") else ","
        group_mark = "," if decimal_mark == "." else "."
        digits = digits.replace(group_mark, "").replace(decimal_mark, ".")
    elif dots + commas:
        mark = "." if dots else ","
        head, _, tail = digits.rpartition(mark)
        if dots + commas > 1 or len(tail) == 3:
            digits = digits.replace(mark, "")  # "1.500", "1,500", "1.234.567": thousands
        else:
            digits = head.replace(mark, "") + "." + tail
    try:
        return Decimal(digits).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _add(msg: Message, start: int, end: int, value: Decimal | None) -> bool:
    if value is None or value <= 0:
        return False
    return msg.add("amount", f"{value:.2f}", start, end)


def find_amounts(msg: Message) -> None:
    text = msg.folded
    for pattern in _PATTERNS:
        position = 0
        while (match := pattern.search(text, position)) is not None:
            start, end = match.span()
            if not msg.is_free(start, end):
                position = start + 1  # retry inside: "le 15 250 €" -> "250 €"
                continue
            position = end
            if match.groupdict().get("words"):
                if _NOT_A_SINGLE.search(text, max(0, start - 12), start) and match[
                    "words"
                ].strip() in ("un", "une", "een", "ein", "einen", "a", "one"):
                    continue  # "pas un euro", "geen euro": nothing at all
                count = number_value(match["words"], msg.language)
                _add(msg, start, end, Decimal(count) if count is not None else None)
                continue
            if match.groupdict().get("cents"):
                _add(msg, start, end, to_decimal(f"{match['int']}.{match['cents']}"))
                continue
            value = to_decimal(match["num"])
            if match.groupdict().get("e"):
                before = text[max(0, start - 6) : start]
                if value is None or value < 10 or _ORDINAL_BEFORE.search(before):
                    continue
            _add(msg, start, end, value)
    for match in _BARE.finditer(text):
        start, end = match.span()
        number = match["num"]
        if not msg.is_free(start, end) or _YEAR.match(number) or _UNIT_AFTER.match(text, end):
            continue
        clause_start = max(text.rfind(c, 0, start) for c in ".!?\n;")
        before = text[max(clause_start + 1, start - 40) : start]
        paid = _PAY_WORD.search(before) or _PAY_VERB_AFTER.match(text, end)
        contrast = _CONTRAST.search(before) and any(
            f.entity == "amount" and 0 <= start - f.end <= 25 for f in msg.found
        )
        if (paid or contrast) and not _DAY_BEFORE.search(text, max(0, start - 6), start):
            _add(msg, start, end, to_decimal(number))
