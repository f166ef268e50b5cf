"""Entities of a debtor's message (contract: shared nlu.md, "Entities").

    extract_entities("Je paierai 250 € vendredi prochain", "fr", date(2026, 3, 10))
    -> [{"entity": "amount", "value": "250.00", "start": 11, "end": 16, ...},
        {"entity": "date", "value": "2026-03-13", "start": 17, "end": 34, ...}]

Rule-based: each entity has a small module, and they run in an order where the
more specific claims its characters first, so no span yields two entities:

    identifiers  IBAN, OGM/RF reference; phone/VAT/time/percent look-alikes
                 claimed (no entity); invoice numbers
    dates        numeric, textual, relative, weekdays, edges of months
    instalments  "en 3 fois", "in 6 termijnen", "3 x 100 €"
    amounts      with a currency, in words, with two decimals, or after "payé"

All patterns read ``fold(mask_quoted(text))``: lower case without accents,
quoted earlier mail blanked, same length as the text, so offsets are the
original's; long date words with a typo ("vendredie", "wensday") are corrected
first (``typos``), and offsets mapped back.
"""

from __future__ import annotations

import datetime as dt
import re

from nlu.entities.amounts import find_amounts
from nlu.entities.dates import find_dates
from nlu.entities.identifiers import (
    claim_lookalikes,
    find_ibans,
    find_invoice_numbers,
    find_references,
)
from nlu.entities.instalments import find_instalments
from nlu.entities.spans import EXTRACTOR, Found, Message
from nlu.entities.typos import apply_fixes, find_typos
from nlu.normalise import fold, mask_quoted

__all__ = ["ENTITY_NAMES", "EXTRACTOR", "extract_entities"]

# What may stand between two spans that say the same date: "next Friday, the 13th".
_JOINER = re.compile(r"[\s,]*(?:(?:le|the|den|de|op|on)\s*)?[\s,]*")

ENTITY_NAMES = ("amount", "date", "invoice_number", "reference", "iban", "instalments")


def extract_entities(
    text: str,
    language: str,
    reference_date: dt.date,
    intent: str | None = None,
) -> list[dict[str, object]]:
    """Contract-shaped entities, sorted by start, offsets into ``text``.

    ``intent`` gives the tense of dates when the words around them do not:
    ``already_paid`` -> the most recent such date not in the future; any other
    intent -> the next one from today on.
    """
    folded = fold(mask_quoted(text))
    fixes = find_typos(folded)
    if fixes:
        corrected, origin = apply_fixes(folded, fixes)
        aligned, _ = apply_fixes(text, fixes)
        msg = Message(aligned, corrected, language, origin=origin, text=text)
    else:
        msg = Message(original=text, folded=folded, language=language)
    find_ibans(msg)
    find_references(msg)
    claim_lookalikes(msg)
    find_invoice_numbers(msg)
    find_dates(msg, reference_date, intent)
    find_instalments(msg, intent)
    find_amounts(msg)
    entities = []
    for found in _merge_repeats(msg):
        entity = found.as_dict()
        entity["start"], entity["end"] = msg.span_in_text(found.start, found.end)
        entities.append(entity)
    return entities


def _merge_repeats(msg: Message) -> list[Found]:
    """Entities sorted by start; two neighbouring dates of the same value become one."""
    merged: list[Found] = []
    for found in sorted(msg.found, key=lambda f: (f.start, f.end)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.entity == found.entity == "date"
            and last.value == found.value
            and _JOINER.fullmatch(msg.folded, last.end, found.start)
        ):
            merged[-1] = Found("date", found.value, last.start, found.end)
        else:
            merged.append(found)
    return merged
