"""Which case a message is about, when its threading headers do not say.

    "Re: Rappel facture INV-2026-0042"          -> "INV-2026-0042"
    "betaling factuur 2026-0042"                -> "2026-0042"
    "Rechnung F2026/123"                        -> "F2026/123"
    "+++090/9337/55493+++"                      -> "090933755493"   (check digits valid)
    "RF18 5390 0754 7034"                       -> "RF18539007547034"
    "+++090/9337/55494+++"                      -> None             (wrong check digits)
    "mededeling 090933755493", "090-9337-55493" -> "090933755493"   (as typed in bank apps)

Invoice numbers are returned as written (trimmed), structured references in the
normal form of ``domain.reference.normalise`` (the NLU contract's formats).  The
subject is searched before the text; in each, a prefixed invoice number first,
then a structured reference, then a number introduced by the word "invoice" in
one of our four languages.
"""

from __future__ import annotations

import re

from domain.reference import normalise

# "INV-2026-0042", "FAC-2026-001", "F2026/123", "F-2026-123", "RE-2026-0042", "FV2026.0042"
_PREFIXED = re.compile(
    r"(?<![\w/-])("
    r"(?:INV|FAC|FACT|FCT|FA|FV|RE|RG|RN|VF|NF)[-/ ]?(?:\d{2,4}[-/.]\d{1,8}|\d{4,10})"
    r"|[FR]-?\d{2,4}[-/.]\d{1,8}"
    r")(?![\w/-])",
    re.I,
)
_OGM = re.compile(
    r"(?<!\d)([+*]{3}\s*\d{3}\s*/\s*\d{4}\s*/\s*\d{5}\s*[+*]{3}|\d{3}/\d{4}/\d{5}"
    # As typed from a bank app: "+++310042012305+++", "310-0420-12305", "310.0420.12305".
    r"|[+*]{3}\s*\d{12}\s*[+*]{3}|\d{3}([-. ])\d{4}\2\d{5})(?![\d/.-]?\d)"
)
# Twelve digits in one run only after a word that names a structured communication:
# unmarked, they may be an old Belgian account number (same mod-97 check).
_OGM_AFTER_WORD = re.compile(
    r"\b(?:communication|comm\.|mededeling|mitteilung|verwendungszweck|ogm|vcs|"
    r"r[ée]f[ée]rence|referentie|reference|referenz|ref\.?|réf\.?)"
    r"(?:\s+(?:structurée|structuree|gestructureerde|strukturierte|structured))?"
    r"\s*:?\s*(\d{12})(?!\d)",
    re.I,
)
_RF = re.compile(r"\b(RF\d{2}(?:\s?[A-Z0-9]{1,4}){1,6})\b", re.I)
_KEYWORD = re.compile(
    r"\b(?:invoice|inv\.|facture|fact\.|factuur|fact|rechnungs?nr\.?|rechnung|rechnungs?nummer|rg\.)"
    r"\s*(?:n[°ºo]\.?|nr\.?|no\.?|num(?:ber|éro|ero|mer)?\.?|nummer|#)?\s*:?\s*"
    r"([A-Z]{0,4}[-/]?\d[\d/.-]{2,18}\d)(?![\w/])",
    re.I,
)
_DATE_LIKE = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$|^\d{4}-\d{2}-\d{2}$")


def find_case_hint(*texts: str) -> str | None:
    """The first invoice number or valid structured reference in ``texts``, in order."""
    for text in texts:
        if not text:
            continue
        found = _in_text(text)
        if found:
            return found
    return None


def _in_text(text: str) -> str | None:
    for match in _PREFIXED.finditer(text):
        value = match.group(1).strip()
        if not _DATE_LIKE.match(value):
            return value
    for pattern in (_OGM, _OGM_AFTER_WORD):
        for match in pattern.finditer(text):
            value = normalise(match.group(1))
            if value:
                return value
    for match in _RF.finditer(text):
        value = normalise(match.group(1))
        if value:
            return value
        # "RF18 5390 0754 7034 merci": try shorter groupings before giving up.
        parts = match.group(1).split()
        while len(parts) > 1:
            parts.pop()
            value = normalise(" ".join(parts))
            if value:
                return value
    for match in _KEYWORD.finditer(text):
        value = match.group(1).strip(".-/")
        if not _DATE_LIKE.match(value):
            return value
    return None
