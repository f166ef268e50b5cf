"""Which of our four languages a debtor wrote in.

    detect_language("Is vorige week overgeschreven")  -> "nl"
    detect_language("merci")                          -> "fr"
    detect_language("dank u")                         -> "nl"
    detect_language("")                               -> "fr"   (the default)
    detect_language("ok", default="nl")               -> "nl"   (undecidable)

Two stages:

1. Very short messages ("ok", "dank u", "nee", "Danke!") carry too few letters
   for a statistical detector, which then mixes up Dutch and German.  Their
   words are looked up in a small table of Belgian chat words; a word shared by
   several languages ("ok", "ja", "super") leaves the decision to the default.
2. Longer messages go to lingua (``lingua-language-detector``) restricted to fr,
   nl, en and de and built once, in low-accuracy mode (loads in ~0.15 s instead
   of ~1-2.5 s, ~0.1 ms a call).  Alone it misreads short sentences ("Je n'ai
   pas reçu la facture" -> English), so its confidence is added to the share of
   function and chat words of each language (weight 1.5).  On the 4,752
   training sentences of ``nlu/data`` this leaves 153 errors, nearly all
   one-word greetings whose language is a matter of taste ("Hallo", "OK",
   "Merci" labelled Dutch); lingua's high-accuracy mode with the same words
   leaves 128, not worth its load time.  Mixed French/Dutch text gets the
   language with the higher total: the dominant one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from nlu.normalise import fold, strip_quoted

if TYPE_CHECKING:
    from lingua import LanguageDetector

__all__ = ["LANGUAGES", "detect_language"]

LANGUAGES = ("fr", "nl", "en", "de")


def _words(text: str) -> list[str]:
    return text.split()


# Words (folded) that mark a language: chat words for short messages and
# function words for longer ones.  A word of several languages votes for each
# of them in part.
_CUES: dict[str, list[str]] = {
    "fr": _words(
        "merci mercii bonjour bonsoir salut coucou oui ouais non d'accord dac daccord ok "
        "je j'ai jai n'ai ne pas tu vous nous il elle est suis sommes c'est cest qu'il que "
        "qui quel quelle quand pourquoi comment combien la le les du des une un de en et "
        "au aux ce cette ces mon ma mes votre vos sur dans avec pour mais ou aussi encore "
        "toujours rien plus tres bien deja demain hier aujourd'hui recu svp stp bcp "
        "beaucoup volontiers parfait super top nickel payer paye paie payerai paierai "
        "paiement virement facture factures compte montant rappel cordialement bisous "
        "desole me on a te moi peux puis-je pouvez pourriez j'aimerais appelez"
    ),
    "nl": _words(
        "dank dankje dankjewel bedankt merci ok oke ja nee neen goed prima "
        "hallo hoi dag goedemorgen goedemiddag goedenavond ik je jij u uw wij we het de "
        "een is niet wel al nog geen zijn ben heb hebben was mijn onze deze dit dat die "
        "van voor met op aan bij naar om te en maar ook er zo dan wat wie waar wanneer "
        "hoe hoeveel kan kunt kunnen zal wil wilt moet graag betaald betalen betaling "
        "morgen gisteren vandaag factuur rekening bedrag mvg groeten groetjes aub "
        "alstublieft alsjeblieft waarom akkoord inderdaad zeker perfect top super mij me hoor hier"
    ),
    "en": _words(
        "thanks thank thx ty cheers yes yeah yep sure fine no nope nah ok okay hello hi "
        "hey hiya dear i i'm i'll i've you your we our the a an is are was were have has "
        "not my me this that these it of do don't did with for on at to and but also "
        "what who where when why how much can could will would should please pls paid "
        "pay payment invoice account amount tomorrow yesterday today regards great "
        "perfect stop agreed"
    ),
    "de": _words(
        "danke dankeschon ok ja jep jawohl nein no gut gerne genau klar alles absolut "
        "super hallo moin servus guten tag morgen ich sie wir ihr ihre mein meine der die "
        "das den dem des ein eine einen nicht kein keine ist sind bin habe haben war "
        "wurde und aber auch mit fur von zu zum zur auf an bei nach was wer wo wann "
        "warum wie wieviel kann konnen werde wird es mir mich uns noch schon bitte "
        "bezahlt zahle zahlen zahlung uberwiesen rechnung konto betrag gestern heute "
        "einverstanden grusse mfg lg stimmt herzlichen zusammen tach negativ passt "
        "geht klappt"
    ),
}
# Multi-word greetings and thanks that settle a short message on their own.
_PHRASES = {
    "dank u": "nl",
    "dank je": "nl",
    "dank u wel": "nl",
    "dank je wel": "nl",
    "merci beaucoup": "fr",
    "merci bien": "fr",
    "thank you": "en",
    "danke schön": "de",
    "danke schon": "de",
    "vielen dank": "de",
    "guten tag": "de",
    "goede dag": "nl",
    "goeiedag": "nl",
    "good morning": "en",
    "good day": "en",
}
_WORD = re.compile(r"[\w']+")
_SHORT = 3  # words: at most this many -> stage 1 decides when it can
_CUE_WEIGHT = 1.5  # chosen on the training sentences: 290 -> 153 errors of 4752

_CUE_INDEX: dict[str, frozenset[str]] = {}
for _language, _words in _CUES.items():
    for _word in _words:
        _CUE_INDEX[_word] = _CUE_INDEX.get(_word, frozenset()) | {_language}


def _cue_votes(words: list[str]) -> dict[str, float]:
    votes = dict.fromkeys(LANGUAGES, 0.0)
    for word in words:
        languages = _CUE_INDEX.get(word)
        if languages:
            for language in languages:
                votes[language] += 1.0 / len(languages)
    return votes


def has_cue_words(text: str, language: str) -> bool:
    """Whether the text holds a function or chat word of ``language`` ("je", "de",
    "the", "ich"): written in it, not a keyboard mash the detector guessed at."""
    from nlu.normalise import fold

    return _cue_votes(_WORD.findall(fold(text)))[language] > 0


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    return (
        LanguageDetectorBuilder.from_languages(
            Language.FRENCH, Language.DUTCH, Language.ENGLISH, Language.GERMAN
        )
        .with_low_accuracy_mode()
        .build()
    )


_ISO = {"FRENCH": "fr", "DUTCH": "nl", "ENGLISH": "en", "GERMAN": "de"}


def _best(votes: dict[str, float], default: str) -> str | None:
    """The language with most votes; on a tie the default if it is among the
    best, else the first of them in LANGUAGES order ("ja" -> nl before de)."""
    top = max(votes.values())
    if top <= 0:
        return None
    best = [language for language in LANGUAGES if votes[language] == top]
    return default if default in best else best[0]


def detect_language(text: str, default: str = "fr", *, original: str | None = None) -> str:
    """``"fr"``, ``"nl"``, ``"en"`` or ``"de"``; ``default`` when undecidable.

    ``original``: the debtor's text when ``text`` is already normalised.  lingua
    then reads the original, whose accents are evidence ("déclarée en faillite"
    is French; "declaree en faillite" reads as English), and the cue words the
    normalised text (SMS spellings expanded).
    """
    if default not in LANGUAGES:
        raise ValueError(f"default language must be one of {LANGUAGES}, not {default!r}")
    folded = fold(strip_quoted(text)).strip()
    words = _WORD.findall(folded)
    letters = sum(c.isalpha() for c in folded)
    if not words or letters == 0:
        return default
    if len(words) <= _SHORT:
        phrase = " ".join(words)
        if phrase in _PHRASES:
            return _PHRASES[phrase]
        votes = _cue_votes(words)
        by_cue = _best(votes, default)
        if by_cue is not None:
            return by_cue
        if letters < 8:
            return default
    # lingua's confidence plus the share of cue words: lingua alone reads
    # "Je n'ai pas reçu la facture" as English (0.92) in low-accuracy mode.
    scores = dict.fromkeys(LANGUAGES, 0.0)
    seen = strip_quoted(original) if original is not None else text
    for confidence in _detector().compute_language_confidence_values(seen):
        scores[_ISO[confidence.language.name]] = confidence.value
    votes = _cue_votes(words)
    total = sum(votes.values())
    if total:
        for language in LANGUAGES:
            scores[language] += _CUE_WEIGHT * votes[language] / total
    return _best(scores, default) or default
