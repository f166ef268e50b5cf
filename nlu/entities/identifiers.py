"""Account numbers, payment references and invoice numbers, and the look-alikes
that must not become amounts (phone numbers, times, percentages, VAT numbers).

    "be68 5390 0754 7034"       -> iban "BE68539007547034"      (schwifty validates)
    "+++090/9337/55493+++"      -> reference "090933755493"      (check digits verified)
    "rf18 5390 0754 7034"       -> reference "RF18539007547034"
    "facture n° 12345"          -> invoice_number "12345"
    "INV-2026-0042"             -> invoice_number "INV-2026-0042"  (as written)
    "0470 12 34 56"             -> nothing (a phone number; its digits are claimed)
"""

from __future__ import annotations

import re
from functools import lru_cache

from domain.reference import is_valid_ogm, is_valid_rf
from nlu.entities.spans import Message

# Two letters, two check digits, then 10 to 30 characters in groups (spaces or
# dashes allowed between them).  The match is greedy and then shortened until
# it is a valid IBAN, so a word right after the number is not swallowed.
_IBAN = re.compile(r"(?<![\w])[a-z]{2}\s?\d{2}(?:[ .-]?[a-z0-9]){10,32}")
_RF = re.compile(r"(?<![\w])rf\s?\d{2}(?:[ ]?[a-z0-9]){1,21}")
_OGM = re.compile(
    r"(?<![\w/+*])(?P<open>[+*]{1,3}\s*)?(\d{3})\s?[/ .-]?\s?(\d{4})\s?[/ .-]?\s?(\d{5})"
    r"(?P<close>\s*[+*]{1,3})?(?![\w/])"
)
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?\d{2,3}[\s./-]?(?:\(0\))?|0)\d{1,3}(?:[\s./-]?\d{2,4}){2,4}(?![\w])"
)
_TIME = re.compile(
    r"(?<![\w.,])\d{1,2}\s?(?:[h:u]\s?\d{2}|h|heures?|uur|u|uhr|am|pm|o'clock)(?![\w])"
)
_PERCENT = re.compile(
    r"\d+(?:[.,]\d+)?\s?(?:%|pour\s?cent|pourcents?|procent|percent|per\s?cent|prozent)"
)
_VAT = re.compile(
    r"(?<![\w])(?:(?:be|nl|de|fr|lu)\s?[01]?\d{3}[\s.]?\d{3}[\s.]?\d{3}"
    # Austria "ATU12345678", Switzerland "CHE-123.456.789 MWST", Dutch "NL123456789B01"
    r"|atu\s?\d{8}|che[-\s]?\d{3}[.\s]?\d{3}[.\s]?\d{3}(?:\s?(?:mwst|tva|iva|hr))?"
    r"|nl\s?\d{9}\s?b\d{2}"
    # Italy, Spain, Ireland, Luxembourg, the UK, Poland, Denmark
    r"|it\s?\d{11}|es\s?[a-z0-9]\d{7}[a-z0-9]|ie\s?\d{7}[a-z]{1,2}|lu\s?\d{8}|gb\s?\d{9}"
    r"|pl\s?\d{10}|dk\s?\d{8})(?![\w])"
)
_OTHER_NUMBER = re.compile(
    r"(?<![\w])(?:client|klant|kunde|kunden|customer|dossier|ticket|contrat|contract|vertrag|tva|btw|"
    r"ust|mwst|gsm|tel|telefoon|telefon|phone|fax|order|commande|bestelling|"
    r"bestellung|postcode|code postal|plz|bus|boite|bte|ref|reference|referentie|referenz|"
    r"klantnummer|kundennummer)(?:nummer|nr|number|no|s)?(?![a-z])(?:\s+(?:client|klant|est|is|"
    r"ist|:))*"
    r"\s?(?:(?:n°|nº|no\.?|nr\.?|num(?:ero|mer|ber)?\.?|#|:)\s?)?(?:(?:be|nl|fr|de|lu)\s?)?"
    r"\d[\d\s./-]*\d(?![\d])(?!\s?(?:€|eur))"
)

_INVOICE_KEYWORD = (
    r"(?:rechnungsnummer|rechnungs-nr|rechnungsnr|factuurnummer|rechnungen|factuurnr|"
    r"factures|facturen|invoices|rechnung|facture|factuur|invoice|re-nr|fact|fac|inv|fa)"
)
_NUMBER_SIGN = r"(?:n°|nº|n\.|no\.?|nr\.?|num(?:ero|mer|ber)?\.?|#|:|number|nummer)"
_TOKEN = r"[a-z0-9](?:[a-z0-9_]|[/.-](?=[a-z0-9]))*"
_INVOICE_AFTER_KEYWORD = re.compile(
    rf"(?<![\w]){_INVOICE_KEYWORD}\.?\s*(?:{_NUMBER_SIGN}\s*)*(?P<id>{_TOKEN})"
)
_INVOICE_AFTER_SIGN = re.compile(rf"(?<![\w])(?:n°|nº|nr\.?|#)\s*(?P<id>{_TOKEN})")
_INVOICE_NEXT = re.compile(rf"\s*(?:,|et|en|and|und|&|\+)\s*(?:{_NUMBER_SIGN}\s*)?(?P<id>{_TOKEN})")
# Letters then digits, as invoicing programs print them: "INV-2026-0042", "F2026/123".
_INVOICE_SHAPE = re.compile(r"(?<![\w/.-])(?P<id>[a-z]{1,5}[-/_.]?\d[\d/_.-]*\d)(?![\w/])")
_NOT_INVOICE_PREFIX = {
    "eur", "euro", "euros", "usd", "gbp", "chf", "be", "nl", "de", "fr", "lu", "b", "rf",
    "tva", "btw", "ust", "tel", "gsm", "fax", "kbo", "bce", "p", "pp", "art", "k", "x",
    "h", "e", "n", "nr", "no", "covid", "iban", "bic", "ogm", "vcs", "u",
}  # fmt: skip
_DATE_LIKE = re.compile(r"^(\d{1,4})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?$")
_AMOUNT_AFTER = re.compile(r"\s?(?:€|eur\b|euros?\b|,-)")


@lru_cache(maxsize=256)
def _valid_iban(compact: str) -> bool:
    # mod-97 first: cheap, and it spares schwifty's validation for most candidates.
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    if int(digits) % 97 != 1:
        return False
    from schwifty import IBAN  # imported on first use: ~60 ms

    try:
        IBAN(compact)
    except ValueError:
        return False
    return True


def _group_ends(candidate: str) -> list[int]:
    """Places where the candidate may end, longest first: before each separator."""
    ends = [len(candidate)]
    ends.extend(i for i in range(len(candidate) - 1, 0, -1) if candidate[i] in " .-")
    return ends


def find_ibans(msg: Message) -> None:
    for match in _IBAN.finditer(msg.folded):
        candidate = match.group()
        for end in _group_ends(candidate):
            compact = re.sub(r"[\s.-]", "", candidate[:end]).upper()
            if 15 <= len(compact) <= 34 and compact[2:4].isdigit() and _valid_iban(compact):
                msg.add("iban", compact, match.start(), match.start() + end)
                break


def find_references(msg: Message) -> None:
    for match in _OGM.finditer(msg.folded):
        digits = match.group(2) + match.group(3) + match.group(4)
        if not is_valid_ogm(digits):
            continue
        start = match.start() if match.group("open") else match.start(2)
        end = match.end() if match.group("close") else match.end(4)
        msg.add("reference", digits, start, end)
    for match in _RF.finditer(msg.folded):
        candidate = match.group()
        for end in _group_ends(candidate):
            compact = candidate[:end].replace(" ", "").upper()
            if is_valid_rf(compact):
                msg.add("reference", compact, match.start(), match.start() + end)
                break


def claim_lookalikes(msg: Message) -> None:
    """Phone numbers, VAT numbers, times, percentages, customer numbers: never amounts."""
    text = msg.folded
    for pattern in (_VAT, _PERCENT, _TIME, _OTHER_NUMBER):
        for match in pattern.finditer(text):
            if msg.is_free(match.start(), match.end()):
                msg.claim(match.start(), match.end())
    for match in _PHONE.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if 9 <= digits <= 14 and msg.is_free(match.start(), match.end()):
            msg.claim(match.start(), match.end())


def _looks_like_date(token: str) -> bool:
    """ "15/04", "15-04-2026", "2026-04-15": a day and a month (and a year)."""
    match = _DATE_LIKE.match(token)
    if match is None:
        return False
    first, second, third = match.groups()
    if len(first) == 4:  # year first
        return third is not None and 1 <= int(second) <= 12 and 1 <= int(third) <= 31
    return 1 <= int(first) <= 31 and 1 <= int(second) <= 12


def _invoice_value(msg: Message, start: int, end: int) -> str | None:
    token = msg.folded[start:end]
    if sum(c.isdigit() for c in token) < 2 or len(token) < 2:
        return None
    if _looks_like_date(token):
        return None
    if _AMOUNT_AFTER.match(msg.folded, end):
        return None
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{1,2})?", token) and len(token) < 3:
        return None
    return msg.text_of(start, end).strip()


def find_invoice_numbers(msg: Message) -> None:
    text = msg.folded
    for pattern in (_INVOICE_AFTER_KEYWORD, _INVOICE_AFTER_SIGN):
        for match in pattern.finditer(text):
            start, end = match.span("id")
            value = _invoice_value(msg, start, end)
            if value is None or not msg.add("invoice_number", value, start, end):
                continue
            # "factures 123 et 456", "invoices INV-1, INV-2"
            position = end
            while (follow := _INVOICE_NEXT.match(text, position)) is not None:
                start, end = follow.span("id")
                value = _invoice_value(msg, start, end)
                if value is None or sum(c.isdigit() for c in value) < 3:
                    break
                msg.add("invoice_number", value, start, end)
                position = end
    for match in _INVOICE_SHAPE.finditer(text):
        token = match.group("id")
        prefix = re.match(r"[a-z]+", token)
        assert prefix is not None
        if prefix.group() in _NOT_INVOICE_PREFIX or sum(c.isdigit() for c in token) < 3:
            continue
        if _looks_like_date(token[prefix.end() :].lstrip("-/_.")):  # "le15/04"
            continue
        start, end = match.span("id")
        msg.add("invoice_number", msg.text_of(start, end), start, end)
