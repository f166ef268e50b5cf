"""Typos in the long words that dates and plans hang on.

    find_typos("je paie vendredy") -> [(8, 16, "vendredi")]
    find_typos("mercerdi")         -> [(0, 8, "mercredi")]  (a swapped pair is one edit)
    find_typos("vandaan")          -> []                    (a real word, left alone)

Only words of seven letters or more are corrected, by one edit (a swapped pair
counts as one), towards a short list of weekday, month and day words: shorter
words and two edits have too many real neighbours ("heure"/"heute",
"domain"/"demain", "überzogen"/"übermorgen").
Corrections can change a word's length, so ``apply_fixes`` also returns, for
every position of the corrected text, the position in the text it came from;
entity offsets are mapped back through it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from nlu.entities.lexicon import MONTHS, RELATIVE_DAYS, WEEKDAYS

_TARGETS = sorted(
    {word for word in (*WEEKDAYS, *MONTHS, *RELATIVE_DAYS) if len(word) >= 7 and word.isalpha()}
    | {"mensualites", "termijnen", "instalments", "installments", "monatsraten"}
)
_KNOWN = set(_TARGETS) | {
    # real words one edit away from a target
    "vandaan", "sonntags", "montags", "dienstags", "mittwochs", "donnerstags", "freitags",
    "samstags", "vendredis", "mercredis", "dimanches", "samedis", "mardis", "lundis", "jeudis",
    "maandags", "zondags", "vrijdags", "zaterdags", "mondays", "tuesdays", "fridays",
    "sundays", "saturdays", "thursdays", "wednesdays", "termijn", "instalment", "installment",
    "octobre", "october", "oktober", "novembre", "november", "septembre", "september",
    "decembre", "december", "dezember", "morgens", "gestern", "heutige", "morgenvroeg",
    "betalingen", "zahlungen", "paiements", "versement", "versements", "tomorrows",
    "yesterdays", "payments", "vorgestern",
}  # fmt: skip
_WORD = re.compile(r"[a-zß]{7,}")


@lru_cache(maxsize=4096)
def _fix(word: str) -> str | None:
    if word in _KNOWN:
        return None
    best = process.extractOne(word, _TARGETS, scorer=OSA.distance, score_cutoff=1)
    if best is None:
        return None
    return str(best[0])


def find_typos(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, corrected word) of every misspelt word."""
    fixes = []
    for match in _WORD.finditer(folded):
        fixed = _fix(match.group())
        if fixed is not None:
            fixes.append((match.start(), match.end(), fixed))
    return fixes


def apply_fixes(text: str, fixes: list[tuple[int, int, str]]) -> tuple[str, list[int]]:
    """``text`` with the fixes applied, and for each of its positions (and its end)
    the position in ``text`` it came from."""
    pieces: list[str] = []
    mapping: list[int] = []
    position = 0
    for start, end, fixed in fixes:
        pieces.append(text[position:start])
        mapping.extend(range(position, start))
        pieces.append(fixed)
        # Letters map one to one; the last one maps to the word's last letter,
        # so that an entity ending with the word ends where the word did.
        last = len(fixed) - 1
        mapping.extend(end - 1 if i == last else min(start + i, end - 1) for i in range(len(fixed)))
        position = end
    pieces.append(text[position:])
    mapping.extend(range(position, len(text) + 1))
    return "".join(pieces), mapping
