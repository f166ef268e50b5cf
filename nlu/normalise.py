"""Text clean-up shared by the NLU parts.

    normalise("Bjr, jvous paye 250€ la semaine pro stp")
        -> "bonjour, je vous paye 250€ la semaine pro s'il te plait"
    fold("Überwiesen à Liège")          -> "uberwiesen a liege"   (same length)
    mask_quoted("Merci\\n> Le 3 mars ...") -> "Merci\\n" + spaces   (same length)

Two kinds of helpers:

* ``fold`` and ``mask_quoted`` keep every character at its place (one character
  in, one character out), so that an entity found in their output has the same
  ``start``/``end`` in the message the debtor wrote.  The entity extractors work
  on ``fold(mask_quoted(text))``.
* ``normalise`` is for classifiers: it may change lengths (SMS spellings are
  expanded, whitespace squeezed, quoted mail dropped).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["expand_chat_spelling", "fold", "mask_quoted", "normalise", "strip_quoted"]


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char.isascii():
        return char.lower()
    base = unicodedata.normalize("NFD", char)[0]
    if unicodedata.combining(base):
        return char
    lowered = base.lower()
    if len(lowered) != 1:  # a lower case of two characters would move every offset after it
        lowered = base
    # Typographic look-alikes debtors paste from phones and word processors.
    return _LOOKALIKES.get(lowered, lowered)


_LOOKALIKES = {
    "\u2019": "'",  # right single quotation mark
    "\u2018": "'",
    "\u02bc": "'",
    "\u00b4": "'",
    "`": "'",
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space (French thousands separator)
    "\u2009": " ",  # thin space
    "\u2013": "-",  # en dash
    "\u2014": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u00ba": "o",  # "n\u00ba"
}


def fold(text: str) -> str:
    """Lower case without accents, one character for one character.

    ``ß`` stays ``ß`` and ``œ`` stays ``œ`` (their ASCII spellings are two letters
    long and would shift every offset after them).
    """
    if text.isascii():
        return text.lower()
    return "".join(map(_fold_char, text))


# A line that opens a quoted earlier message in a reply (the reply itself is above).
_QUOTE_HEADER = re.compile(
    r"""^[ \t]*(?:
        -{2,}\s*(?:original\s+message|message\s+d'origine|oorspronkelijk\s+bericht|
                  urspr(?:ü|u|ue)ngliche\s+nachricht|forwarded\s+message|message\s+transf[ée]r[ée])
      | (?:on|le|op|am)\b[^\n]{0,200}?\b(?:wrote|a\s+[ée]crit|schreef|schrieb)\b[^\n]*:[ \t]*$
      | (?:from|de|van|von)[ \t]*:[^\n]*\n
        [ \t]*(?:sent|envoy[ée]|verzonden|gesendet|date|datum)[ \t]*:
    )""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>[^\n]*", re.MULTILINE)


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    header = _QUOTE_HEADER.search(text)
    cut = header.start() if header and header.start() > 0 else len(text)
    # A message that *starts* with a quote header is a bare forward: keep it.
    spans.extend((m.start(), m.end()) for m in _QUOTED_LINE.finditer(text, 0, cut))
    if cut < len(text):
        spans.append((cut, len(text)))
    return spans


def mask_quoted(text: str) -> str:
    """The text with quoted earlier mail replaced by spaces (newlines kept)."""
    if ">" not in text and "\n" not in text:
        return text
    spans = _quoted_spans(text)
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def strip_quoted(text: str) -> str:
    """The text without quoted earlier mail (lengths may change)."""
    if ">" not in text and "\n" not in text:
        return text
    kept: list[str] = []
    position = 0
    for start, end in _quoted_spans(text):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return "".join(kept)


# SMS and chat spellings -> plain words.  Applied on folded text, whole words only.
# Only spellings that are unambiguous in the four languages are listed ("ff" is
# Dutch "even"; "pr" could be "pour" or "per" and is left alone).
_CHAT_WORDS = {
    # French
    "jvous": "je vous",
    "jv": "je vais",
    "jvais": "je vais",
    "jai": "j'ai",
    "jsuis": "je suis",
    "chui": "je suis",
    "jpeux": "je peux",
    "jpe": "je peux",
    "jpx": "je peux",
    "jpai": "je paie",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pcq": "parce que",
    "pck": "parce que",
    "stp": "s'il te plait",
    "svp": "s'il vous plait",
    "slt": "salut",
    "bjr": "bonjour",
    "bsr": "bonsoir",
    "bcp": "beaucoup",
    "mrc": "merci",
    "mci": "merci",
    "dsl": "desole",
    "tjr": "toujours",
    "tjrs": "toujours",
    "qd": "quand",
    "qqch": "quelque chose",
    "qqn": "quelqu'un",
    "ds": "dans",
    "ajd": "aujourd'hui",
    "auj": "aujourd'hui",
    "dem1": "demain",
    "rdv": "rendez-vous",
    "c": "c'est",
    "cc": "coucou",
    "oki": "ok",
    "okay": "ok",
    "dac": "d'accord",
    "dacc": "d'accord",
    "dak": "d'accord",
    "mnt": "maintenant",
    "mtn": "maintenant",
    # Dutch
    "mvg": "met vriendelijke groeten",
    "mvgr": "met vriendelijke groeten",
    "vg": "vriendelijke groeten",
    "aub": "alstublieft",
    "ajb": "alsjeblieft",
    "ff": "even",
    "idd": "inderdaad",
    "nt": "niet",
    "wrm": "waarom",
    "wnr": "wanneer",
    "tzt": "te zijner tijd",
    "zsm": "zo snel mogelijk",
    "dnk": "dank",
    "thnx": "thanks",
    "tnx": "thanks",
    # English
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "thx": "thanks",
    "ty": "thank you",
    "u": "you",
    "ur": "your",
    "r": "are",
    "cant": "can not",
    "wont": "will not",
    "didnt": "did not",
    "asap": "as soon as possible",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "2moro": "tomorrow",
    "2day": "today",
    "b4": "before",
    "acct": "account",
    "inv": "invoice",
    # German
    "lg": "liebe grusse",
    "mfg": "mit freundlichen grussen",
    "vlt": "vielleicht",
    "vllt": "vielleicht",
    "bzw": "beziehungsweise",
    "hab": "habe",
    "nix": "nichts",
}
# "u" is Dutch "u" (polite you) as often as English "you": keep it.
_CHAT_WORDS.pop("u")
_CHAT_WORDS.pop("r")
_CHAT_WORDS.pop("c")
_CHAT_WORD_RE = re.compile(
    r"(?<![\w'])("
    + "|".join(sorted(map(re.escape, _CHAT_WORDS), key=len, reverse=True))
    + r")(?![\w'])"
)


def expand_chat_spelling(folded: str) -> str:
    """Expand SMS spellings in folded text: "jvous paye stp" -> "je vous paye s'il te plait"."""
    return _CHAT_WORD_RE.sub(lambda m: _CHAT_WORDS[m.group(1)], folded)


_SPACES = re.compile(r"\s+")
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "merciiii" -> "merci", "okkk" -> "ok"
_PUNCT_RUNS = re.compile(r"(?<=[!?.])[!?.]+")


def normalise(text: str) -> str:
    """The text a classifier should see: lower case, no accents, no quoted mail,
    chat spellings expanded, letters repeated for emphasis cut to one,
    whitespace squeezed."""
    folded = fold(strip_quoted(text))
    folded = _REPEATS.sub(r"\1", folded)
    folded = _PUNCT_RUNS.sub("", folded)
    folded = expand_chat_spelling(folded)
    return _SPACES.sub(" ", folded).strip()
