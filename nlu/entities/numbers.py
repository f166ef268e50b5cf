"""Numbers written in words, in the four languages, found with their offsets.

    number_value("deux cent cinquante", "fr") -> 250
    number_value("tweehonderdvijftig", "nl")  -> 250
    number_value("zweihundert", "de")         -> 200
    number_value("funfzig", "de")             -> 50    ("fünfzig" typed without umlaut)
    number_value("een", "nl")                 -> 1

``text2num`` does the arithmetic; it reads a number but does not find one, and
its ``alpha2digit`` rewrites the whole text (the offsets of everything after a
number would move).  So ``NUMBER_WORDS`` below finds candidate spans in folded
text and ``number_value`` asks text2num about each span alone.
"""

from __future__ import annotations

from functools import lru_cache

from text_to_num import text2num


def _words(text: str) -> list[str]:
    return text.split()


_MORPHEMES = _words(
    # French
    "zero un une deux trois quatre cinq six sept huit neuf dix onze douze treize "
    "quatorze quinze seize vingt vingts trente quarante cinquante soixante septante "
    "huitante octante nonante cent cents mille "
    # English
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fourty fifty sixty "
    "seventy eighty ninety hundred thousand "
    # Dutch (compounds such as "tweehonderdvijftig" are sequences of these)
    "nul een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien "
    "vijftien zestien zeventien achttien negentien twintig dertig veertig vijftig "
    "zestig zeventig tachtig negentig honderd duizend "
    # German, folded ("fünf" -> "funf", "zwölf" -> "zwolf")
    "eins ein eine einer einem einen zwei drei vier funf fuenf sechs sieben acht neun "
    "zehn elf zwolf zwoelf dreizehn vierzehn funfzehn fuenfzehn sechzehn siebzehn "
    "achtzehn neunzehn zwanzig dreissig dreißig vierzig funfzig fuenfzig sechzig "
    "siebzig achtzig neunzig hundert tausend"
)
_MORPHEME = "(?:" + "|".join(sorted(set(_MORPHEMES), key=len, reverse=True)) + ")"
# One word: morphemes glued, with Dutch "en"/"ën" and German "und" inside
# ("eenentwintig", "einundzwanzig").
_WORD = rf"{_MORPHEME}(?:(?:en|ën|und)?{_MORPHEME})*"
# Several words: "deux cent cinquante", "quatre-vingt-dix", "vingt et un",
# "two hundred and fifty", "twee honderd".
NUMBER_WORDS = (
    rf"(?<![\w'-])(?:a\s+)?{_WORD}(?:(?:\s+|-)(?:(?:et|and|und)(?:\s+|-))?{_WORD})*(?![\w'])"
)
NUMBER = rf"(?:\d{{1,3}}|{NUMBER_WORDS})"

_ONE = {"a", "an", "un", "une", "een", "ein", "eine", "einer", "einem", "einen", "one"}
_GERMAN_FIXES = (
    ("fuenf", "fünf"),
    ("funf", "fünf"),
    ("zwoelf", "zwölf"),
    ("zwolf", "zwölf"),
    ("dreissig", "dreißig"),
    ("einer", "ein"),
    ("einem", "ein"),
    ("einen", "ein"),
    ("eine", "ein"),
)
_ORDER = ("fr", "nl", "en", "de")


@lru_cache(maxsize=2048)
def number_value(words: str, language: str = "fr") -> int | None:
    """The integer that folded number words say, or None."""
    words = " ".join(words.split())
    if words.isdigit():
        return int(words)
    if words in _ONE:
        return 1
    if words.startswith(("a ", "an ")):
        words = "one " + words.split(" ", 1)[1]
    languages = (language, *(lang for lang in _ORDER if lang != language))
    for lang in languages:
        attempt = words
        if lang == "de":
            for wrong, right in _GERMAN_FIXES:
                attempt = attempt.replace(wrong, right)
        elif lang == "en":
            attempt = attempt.replace("fourty", "forty")
        try:
            return int(text2num(attempt, lang))
        except (ValueError, TypeError):
            continue
    return None
