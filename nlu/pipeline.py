"""The parse pipeline: normalise -> language -> intent -> entities.

    parser = Parser.load()                       # trains or loads the cached model once
    parser.parse("Je paierai 250 € vendredi prochain", date(2026, 3, 10))
    -> {"text": ..., "intent": {"name": "promise_to_pay", "confidence": 0.9},
        "intent_ranking": [...18 intents...], "entities": [...], "language": "fr"}

The result has exactly the shape of ``shared/contracts/nlu.md`` (Rasa's).

Low confidence: the top intent keeps its name (the contract has no "unknown"
intent), and a caller knows the reading is unsure when
``result["intent"]["confidence"] < CONFIDENCE_THRESHOLD`` (``is_confident``):
the dialogue then asks again or hands over to a person rather than acting.

Entities are found in the original text, so ``start``/``end`` index what the
debtor wrote; the intent decides whether a bare date is read as past ("j'ai
payé le 3") or future ("je paierai le 3").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from nlu.classifier import IntentClassifier, load_or_train

# Below this probability the top intent is a guess: ask again or hand over.
# Chosen on the development set (README, "Understanding debtors (NLU)"): about
# 98% of messages are above it, and about 98% of those are read right.
CONFIDENCE_THRESHOLD = 0.5

# A principled override: the standard out-of-office phrasings that mail programs
# and people paste into auto replies (matched on the normalised text).  A wrong
# "already_paid" for an auto reply would close a case, so with the model's
# support (below) they win.
_AUTO_REPLY = re.compile(
    r"\b(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply"
    r"|r[ée]ponse automatique|message automatique|absente? du bureau"
    r"|automatisch(e)? (antwoord|bericht)|afwezigheidsbericht"
    r"|abwesenheitsnotiz|automatische antwort|nicht im b[üu]ro)\b",
    re.IGNORECASE,
)


# The rule only confirms what the model already suspects: "I was out of the
# office, sorry, I paid yesterday" is a person writing, not an auto reply.
_RULE_SUPPORT = 0.15


# A tie-breaker the model needs: "Je paierai la facture INV-1 demain" shares most
# of its words with "envoyez-moi la facture INV-1", and the model splits it about
# 0.49 / 0.49 in French, Dutch and German (more training examples moved it by 0.02).
# When those two intents are the top two and that close, a message with a paying
# verb that asks for nothing to be sent is a promise.
_NEAR_TIE = 0.15
# Both on the normalised text: lower case, accents folded ("règle" -> "regle").
_PAY_VERB = re.compile(
    r"\b(pai|pay|regl|vers|vire|betaal|betal|stort|overschrijf|overmaak"
    r"|zahl|bezahl|uberweis|ueberweis|begleich|settl|transfer)"
)
_SEND_CUE = re.compile(
    r"\b(send|resend|mail|envoi|envoy|renvoy|transmet|fai(re|tes) parvenir|stuur|sturen"
    r"|opsturen|bezorg|schick|zusend|cop(y|ie)|kopie|duplica|pdf|again"
    r"|nog ?eens|opnieuw|erneut|nochmal|noch einmal|recu|ontvangen|erhalten|received"
    r"|reception|ontvangst|receipt|erhalt)"
)


# The contract counts "already credited" as a dispute: a credit note received, and
# no word of paying, is no payment ("Nous avons reçu une note de crédit le 20
# février, la facture est donc fausse" is split about 0.49 / 0.49).
_CREDIT_NOTE = re.compile(
    r"\b(note de credit|notes de credit|credit ?notes?|creditnota|gutschrift)"
)


# "Die Ware ist nie angekommen, warum soll ich dafür bezahlen?" asks why pay at
# all, not how: a dispute, which the model put a hair behind request_payment_details.
_WHY_PAY = re.compile(
    r"\b(why|pourquoi|waarom|warum|wieso|weshalb)\b[^?.!]{0,40}"
    r"\b(pay|pai|regl|betal|betaal|zahl|bezahl|begleich)"
)
_HOW_TO_PAY = re.compile(
    r"\b(how|where|which|comment|quel|quelle|hoe|waar|welk|welke|wie|wo|welch\w*|iban"
    r"|account|compte|rekening\w*|konto|bancontact|payconiq|link|lien)\b"
)
# "Können wir die Rechnung in vier Teilbeträgen begleichen? Der erste könnte am 1.
# April kommen." asks to pay in parts; its date pulls the model toward a promise.
_PARTS = re.compile(
    r"\b(teilbetr\w*|teilzahl\w*|raten|ratenzahl\w*|termijnen|schijven|afbetal\w*"
    r"|mensualites|echeances|instal+ments?|tranches"
    r"|en (deux|trois|quatre|cinq|six|\d+) fois|in (twee|drie|vier|vijf|zes|\d+) keer"
    r"|in (zwei|drei|vier|funf|sechs|\d+) mal|\d+\s?x)\b"
)
_NO_CUE = re.compile(r"(?!)")  # matches nothing
_SCHEDULED = re.compile(
    r"\b(programme|programmee|planifie|planifiee|scheduled|ingepland|gepland|ingesteld"
    r"|eingeplant|terminiert|vorgemerkt|disposed for|set up for)\b"
)
# One day named, nothing of parts: "I can transfer 200 euros next Monday" is a
# promise, not a plan (the model hesitates between the two on "I can pay X").
_ONE_DAY = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi"
    r"|vendredi|samedi|dimanche|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag"
    r"|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|tomorrow|demain|morgen"
    r"|\d{1,2}(st|nd|rd|th|er|e|ste|de)?\b|\d{1,2}[./-]\d{1,2})"
)
_NOT_ONE_PAYMENT = re.compile(
    r"\b(teilbetr\w*|teilzahl\w*|raten|ratenzahl\w*|termijnen|schijven|afbetal\w*"
    r"|mensualit\w*|echeanc\w*|instal+ments?|tranches|plan|regeling|spread|spreid\w*|etal\w*"
    r"|fois|keer|mal|times|parts|delen|teile|each|every|chaque|elke|iedere|jeden|per|par|pro"
    r"|months?|mois|maanden|monate?n?|rest|reste|remainder|saldo|solde|now|maintenant|nu|jetzt"
    r"|first|d.abord|eerst|zuerst|half|moitie|helft|halfte|premier|premiere|eerste|erste"
    r"|\d+\s?x)\b"
)
# "Veuillez trouver ci-joint la preuve de paiement de la facture": the word
# "facture" pulls toward a copy request; a proof of payment sent is a payment.
_PROOF = re.compile(
    r"\b(preuve de (paiement|virement)|proof of (payment|transfer)|payment (proof|confirmation)"
    r"|betalingsbewijs|bewijs van (betaling|overschrijving)|zahlungsnachweis|zahlungsbeleg"
    r"|uberweisungsbeleg|ueberweisungsbeleg|uberweisungsbestatigung)"
)
_ASKS_TO_SEND = re.compile(
    r"\b(envoyez|renvoyez|envoyer|send me|resend|could you|can you|pouvez|pourriez|stuur me"
    r"|stuurt u|kunt u|schicken sie|senden sie|konnen sie|koennen sie)\b"
)

# A person who is away and still says they pay or paid: "Je suis absente du bureau
# jusqu'au 20 mars, mais je paierai la facture le 25 mars".  The model reads the
# absence (auto_reply 0.75 and more in French and English), but what there is to
# act on is the payment.  A contrast word, then "I"/"we" and a paying verb within
# the clause; an auto reply's own "but" clauses are about answering mail or whom
# to contact ("mais je répondrai", "aber meine Kollegin ... Zahlungen").
_OWN_PAYMENT = re.compile(
    r"\b(mais|but|maar|aber|doch|toch|however|cependant|pourtant)\b[^.!?\n]{0,40}?"
    r"\b(je|j|i|ik|ich|we|wij|nous|wir)\b[^!?\n]{0,40}?" + _PAY_VERB.pattern
)
_PAYMENTS = ("promise_to_pay", "already_paid", "request_payment_plan")


def _own_payment_first(ranking: list[tuple[str, float]], clean: str) -> list[tuple[str, float]]:
    """auto_reply on top of a message that says the sender pays (``_OWN_PAYMENT``):
    the payment intent next in line wins, with auto_reply's confidence."""
    if ranking[0][0] != "auto_reply" or not _OWN_PAYMENT.search(clean):
        return ranking
    for n, (name, p) in enumerate(ranking[1:3], start=1):
        if name in _PAYMENTS and p >= 0.05:
            return [(name, ranking[0][1]), *ranking[1:n], (ranking[0][0], p), *ranking[n + 1 :]]
    return ranking


# Asking to hear nothing more is stop_contact; the model, pulled by "adresse" or
# "Verteiler", puts it a hair behind wrong_recipient, out_of_scope or
# talk_to_human ("N'envoyez plus rien à cette adresse" 0.50 / 0.47 in all four
# languages).  An explicit "nothing more / unsubscribe" settles it, unless the
# sender says it is not theirs (then it is a wrong recipient who wants no mail).
_STOP_CUE = re.compile(
    r"\b(plus rien|ne plus (me |nous )?(contacter|ecrire|envoyer|appeler|relancer)"
    r"|n'?envoyez plus|desinscri\w*|desabonn\w*|arret de (toute|tout|vos|ces)|arretez|cessez"
    r"|niets meer|niet meer (contacteren|mailen|sturen|bellen|schrijven)"
    r"|geen (mails|e-?mails|berichten|brieven|herinneringen) meer|uitschrijv\w*|afmeld\w*"
    r"|(don'?t|do not|never) send\b[^.?!]{0,12}\b(anything|more)"
    r"|no more (mails?|e-?mails|letters|messages|reminders)"
    r"|stop (sending|emailing|contacting|writing|calling)|unsubscribe|remove me|take me off"
    r"|nichts mehr|keine (mails|e-?mails|nachrichten|briefe|mahnungen|post) mehr"
    r"|streichen sie mich|abmeld\w*|austrag\w*|verteiler\w*"
    r"|nicht mehr (kontaktieren|anschreiben|schreiben|anrufen))"
)
_NOT_ME = re.compile(
    r"\b(pas moi|ne (suis|connais)|erreur|n'habite|ne travaille plus|pas (la bonne|mon|ma)"
    r"|not me|wrong|mistake|don'?t know|never heard|not (the right|my)|doesn'?t live"
    r"|niet mij|ken (ik|die|dit|deze)|verkeerd|vergissing|woon\w* hier niet|werkt hier niet"
    r"|nicht ich|kenne|falsch|irrtum|wohn\w* (hier )?nicht"
    r"|no longer lives?|n'habite plus|woont (hier )?niet meer|wohnt (hier )?nicht mehr)\b"
)
_STOP_MARGIN = 0.2


def _stop_first(ranking: list[tuple[str, float]], clean: str) -> list[tuple[str, float]]:
    (first, p1), (second, p2) = ranking[0], ranking[1]
    if second != "stop_contact" or p1 - p2 >= _STOP_MARGIN:
        return ranking
    if _STOP_CUE.search(clean) and not _NOT_ME.search(clean):
        return [(second, p1), (first, p2), *ranking[2:]]
    return ranking


# A payment told in the past is already_paid, whatever its date pulls toward: "Ich
# habe die Rechnung bereits am 20. November überwiesen" (promise 0.53, already_paid
# 0.18), "Het bedrag werd reeds overgemaakt op 20/11" (promise 0.88).  A perfect
# or passive, or "already", with a paying participle; no future and no negation
# ("ich werde … überweisen", "I haven't paid yet" stay with the model).
_PAID_PAST = re.compile(
    r"\b(habe|hab|haben|wurde|wurden|ist|sind|bereits|schon)\b[^?!\n]{0,50}?"
    r"\b(uberwiesen|ueberwiesen|bezahlt|gezahlt|beglichen)\b"
    r"|\b(heb|hebben|hebt|heeft|werd|werden|is|zijn|al|reeds)\b[^?!\n]{0,50}?"
    r"\b(betaald|overgemaakt|overgeschreven|gestort|voldaan)\b"
    r"|\b(j'?ai|j ai|nous avons|avons|a ete|ont ete|deja)\b[^?!\n]{0,40}?"
    r"\b(paye|payee|payes|regle|reglee|vire|viree|verse|versee|effectue)\b"
    r"|\b(i|we)\s+(have\s+|'ve\s+)?(already\s+)?(paid|transferred|settled)\b"
    r"|\b(was|were|has been|have been)\s+(already\s+)?(paid|transferred|settled)\b"
)
_NOT_YET = re.compile(
    r"\b(werde|werden|zal|zullen|will|'ll|shall|vais|allons|paierai|payerai|reglerai"
    r"|verserai|virerai|morgen|demain|tomorrow|nicht|noch nicht|niet|nog niet|pas|not|never"
    r"|haven'?t|hasn'?t|jamais|nooit|nie"
    # part paid, the rest to come: the contract's promise ("… de rest volgt vrijdag")
    r"|reste|solde|rest|saldo|resterende|remainder|suivra|volgt|folgt"
    # "je peux payer le 25 quand j'ai ma paye": can pay, later
    r"|peux|peut|pourrai|kan|kunnen|kann|can|could)\b"
)
# "jullie zijn oplichters, ik betaal niks!!" (promise 0.57): a refusal to pay is
# no promise; the contract reads it as a dispute ("Ich zahle nicht, die Ware kam
# kaputt an").  Not "je ne paierai pas avant vendredi": a date to pay by.
_NO_PAY = re.compile(
    r"\b(zahle|bezahle|zahlen|bezahlen|uberweise)\b[^.?!]{0,20}\b(nicht|nichts|nie|niemals)\b"
    r"|\b(werde|will)\b[^.?!]{0,30}\b(nicht|nichts|nie)\b[^.?!]{0,30}\b(zahlen|bezahlen)\b"
    r"|\b(betaal|betalen)\b[^.?!]{0,15}\b(niks|niets|niet|nooit)\b"
    r"|\b(ga|zal)\s+(niks|niets|niet|nooit)\b[^.?!]{0,20}\bbetal"
    r"|\b(paierai|payerai|paie|paye|regle|reglerai)\b[^.?!]{0,15}\b(pas|rien|jamais)\b"
    r"|\bne\s+(paierai|payerai|paie|paye|vais|regle|reglerai)\b"
    r"|\b(won'?t|will not|refuse to|not going to)\s+(ever\s+)?pay\b|\bnot paying\b|\bnever pay\b"
    # "Ich zahle keinen Cent!", "pas un centime", "geen rooie cent", "not a penny"
    r"|\b(keinen|keine)\s+(cent|euro|pfennig)\b|\bpas un (centime|sou|euro|cent)\b"
    r"|\bgeen (rooie )?(cent|euro)\b|\bnot (a|one) (cent|penny|euro|dime)\b"
)
# A threat of a complaint or a lawyer, or an insult, is no promise and no thanks:
# "je vais porter plainte" read as a promise (0.93, "je vais"), "Betrüger!" too.
# It goes to the dispute, whose answer asks what is wrong and hands it to staff.
_THREAT = re.compile(
    r"\b(porter plainte|deposer plainte|plainte contre|mon avocat|un avocat|arnaque\w*"
    r"|escroc\w*|voleurs?|klacht (in|indienen)|aanklagen|advocaat|oplichter\w*|oplichting"
    r"|dieven|complaint against|my lawyer|a lawyer|sue you|scam\w*|fraud\w*|crooks?|thie(f|ves)"
    r"|anzeige erstatten|anzeigen|anwalt|verklagen|betr[uü]g\w*|abzocke\w*|diebe)\b"
)
_BEFORE = re.compile(r"\b(avant|before|voor|vor|pas avant)\b")


def _past_or_refused(ranking: list[tuple[str, float]], clean: str) -> list[tuple[str, float]]:
    """promise_to_pay on top of a payment told in the past (-> already_paid) or of
    a refusal to pay (-> dispute): that intent takes the lead with its confidence."""
    if ranking[0][0] not in ("promise_to_pay", "thank", "affirm"):
        return ranking
    winner = None
    if ranking[0][0] != "promise_to_pay":
        if _THREAT.search(clean):
            winner = "dispute"
    elif _PAID_PAST.search(clean) and not _NOT_YET.search(clean):
        winner = "already_paid"
    elif (_NO_PAY.search(clean) and not _BEFORE.search(clean)) or _THREAT.search(clean):
        winner = "dispute"
    if winner is None:
        return ranking
    rest = [(n, p) for n, p in ranking[1:] if n != winner]
    p2 = dict(ranking)[winner]
    return [(winner, ranking[0][1]), ("promise_to_pay", p2), *rest]


# Thanks and nothing else is `thank` (the contract): "Mille mercis", "Super bedankt",
# "thanx", "Thank you, that's very kind".  Short of other words, the model reads the
# warmth as agreement (affirm 0.55 to 0.94).  Every word must be a thanks word or a
# warm filler, and one a thanks word: "ok merci" and "nah thanks" are left to it.
_THANKS_WORDS = frozenset((
    "merci", "mercis", "remercie", "remercions", "remerciements", "thanks", "thank", "thx",
    "thanx", "ty", "cheers", "dank", "bedankt", "dankjewel", "dankuwel", "danke", "dankeschon",
))  # fmt: skip
_WARM_WORDS = frozenset((
    "mille", "beaucoup", "bien", "infiniment", "super", "tres", "vraiment", "c'est", "gentil",
    "sympa", "vous", "je", "pour", "votre", "aide", "encore", "a", "you", "so", "much", "very",
    "many", "lot", "that's", "thats", "kind", "of", "really", "for", "your", "help", "again",
    "heel", "erg", "hartelijk", "wel", "u", "ik", "vriendelijk", "lief", "voor", "uw", "hulp",
    "nogmaals", "vielen", "vielmals", "herzlichen", "herzlich", "schon", "sehr", "nett", "ganz",
    "fur", "ihre", "hilfe", "nochmals", "madame", "monsieur", "mevrouw", "meneer",
))  # fmt: skip


# "Is +++090/9337/55493+++ the right reference?", "Ist die Mitteilung … richtig?":
# asking whether the details are right is asking how to pay, not saying it is paid
# (already_paid 0.51 in en and de).  Not when a paying verb in the past is there.
_DETAILS_RIGHT = re.compile(
    r"\b(reference|communication|mededeling|mitteilung|verwendungszweck|referentie|referenz"
    r"|rekeningnummer|iban|account number|numero de compte|kontonummer|\+\+\+)"
)
_IS_IT_RIGHT = re.compile(
    r"\b(right|correct|correcte|juste|bonne|klopt|juist|richtig|stimmt|ok)\b[^.!]*\?"
    r"|^\s*(is|est-ce|klopt|ist|stimmt)\b[^.!]*\?"
)
# Goodbye and nothing more: answered as thanks ("Auf Wiederhören" read as stop
# contact at 0.79, "Tot ziens" as an automatic reply).
_GOODBYE = re.compile(
    r"^\W*(ok(ay)?\W+)?(bye( bye)?|goodbye|good bye|see you( soon)?|au revoir|a plus|a bientot"
    r"|bonne (journee|soiree)|tot ziens|tot later|doei|fijne dag|tschuss|tschuess|ciao"
    r"|auf wiedersehen|auf wiederhoren|auf wiederhoeren|bis bald|bis dann|schonen tag"
    r")(\W+(et |and |en |und )?(merci|thanks|thank you|bedankt|danke)?)?\W*$"
)
# Said of an auto-reply, or with no sign of one: "Pardon, c'était ma réponse
# automatique. Combien je dois encore ?" (auto_reply 0.99 by the rule below).
_ABSENCE = re.compile(
    r"\b(absent|absente|afwezig|abwesend|vacation|holiday|conge|conges|vakantie|verlof|urlaub"
    r"|back on|back in the office|de retour|retour le|terug op|zuruck am|zurueck am)\b"
)


# Part paid, the rest to come: the contract's promise ("I paid half, I will pay the
# rest Friday"), though the model reads the payment ("we transferred 2,000 EUR on
# 25 November; the remaining 1,999 EUR will be paid no later than 20 December").
_REST_LATER = re.compile(
    r"\b(the rest|the remainder|the remaining|the balance|le reste|le solde|le restant"
    r"|de rest|het saldo|het resterende|het restant|den rest|der rest|den restbetrag"
    r"|der restbetrag|die restzahlung)\b(?:[^.?!]|\.(?=\d)){0,60}"
    r"\b(will|shall|sera|seront|suivra|paierai|payerai|reglerai|vais|volgt|zal|zullen"
    r"|folgt|werde|wird|kommt)\b"
    # "we will pay the remaining 460 on 15 December"
    r"|\b(will|shall|'ll|paierai|payerai|reglerai|vais|zal|zullen|werde|werden)\s+"
    r"(\w+\s+){0,2}(the rest|the remainder|the remaining|le reste|le solde|le restant"
    r"|de rest|het saldo|het restant|den rest|den restbetrag)\b"
)


# "Je n'ai jamais voulu contester … Je ne conteste rien du tout … je vous promets de
# la régler le 10 décembre" read as a dispute at 0.69: every word of contesting in it
# is denied.  What is left decides: a promise, else a payment told, else the model's
# second.
_DENIED_DISPUTE = re.compile(
    r"\b(ne|n')\s*(conteste|contestons|contestais)\s+(pas|rien|plus|aucun\w*)"
    r"|\b(jamais|pas)\s+(voulu|souhaite|eu l'intention de)\s+contester"
    r"|\b(aucune|pas de|sans) contestation|\b(don'?t|do not|didn'?t|did not|never)\s+"
    r"(want to |mean to |meant to |wanted to )?(dispute|contest)|\bnot disputing|\bno dispute"
    r"|\bbetwist(en)?\s+(\w+\s+){0,3}(niets|niks|niet|geen)|\b(geen|zonder) betwisting"
    r"|\bbestreite(n)?\s+(\w+\s+){0,3}(nicht|nichts|keine)|\bkeine (beanstandung|reklamation)"
)
_DISPUTE_WORD = re.compile(
    r"\b(contest\w*|dispute\w*|disputing|betwist\w*|bestreit\w*|beanstand\w*|reklamation"
    r"|reclamation|klacht|complain\w*)\b"
)
_PROMISE_CUE = re.compile(
    r"\b(promets|promis|paierai|payerai|reglerai|vais (payer|regler|virer)|will pay|will settle"
    r"|will transfer|promise|beloof|zal (betalen|storten|overschrijven)|betaal ik|verspreche"
    r"|werde\b[^.?!]{0,30}\b(zahlen|bezahlen|uberweisen)|zahle ich)\b"
)


_NEVER_ORDERED = re.compile(
    r"\b(niks|niets|nooit|nothing|never|rien|jamais|nichts|nie|niemals)\b[^.!?]{0,30}"
    r"\b(besteld|ordered|command[ée]e?s?|bestellt|gekocht|bought|achet[ée]|gekauft)\b"
)
_LIVES_ELSEWHERE = re.compile(
    r"\b(woont|wonen) (hier )?niet meer|\bno longer lives?|\bdoesn'?t live here"
    r"|\bn'habite(nt)? plus|\bwohnt (hier )?nicht mehr|\bmoved out|\bverhuisd\b"
    r"|\bdemenag[ée]|\bausgezogen|\bumgezogen"
)
# "Hoeveel hebben we al betaald op factuur INV-2026-0003?": asking what was paid is
# asking the balance, not saying it is paid.
_HOW_MUCH_PAID = re.compile(
    r"\b(how much|combien|hoeveel|wie ?viel)\b[^.!?]{0,40}"
    r"\b(paid|payed|pay[ée]s?|regle|betaald|bezahlt|gezahlt|uberwiesen)\b[^.!]*\?"
)


def _reread(ranking: list[tuple[str, float]], clean: str) -> list[tuple[str, float]]:
    """Readings the model gets wrong whatever its confidence (see the cues above)."""
    first, p1 = ranking[0]
    if (
        first == "auto_reply"
        and p1 < CONFIDENCE_THRESHOLD
        and not _AUTO_REPLY.search(clean)
        and not _ABSENCE.search(clean)
    ):
        demoted = [ranking[1], ranking[0], *ranking[2:]]
        return _reread(demoted, clean) if demoted[0][0] != "auto_reply" else demoted
    second = ranking[1][0]
    if first in ("out_of_scope", "stop_contact") and p1 < 0.9:
        # "Ik heb NIKS besteld bij jullie, oplichters" (out_of_scope 0.79): never
        # ordered is the contract's dispute; "hij woont niet meer hier" a wrong
        # recipient.
        if _NEVER_ORDERED.search(clean) or (first == "out_of_scope" and _THREAT.search(clean)):
            return _promote(ranking, "dispute", p1)
        if _LIVES_ELSEWHERE.search(clean):
            return _promote(ranking, "wrong_recipient", p1)
    if p1 < CONFIDENCE_THRESHOLD and first != "wrong_recipient" and _LIVES_ELSEWHERE.search(clean):
        return _promote(ranking, "wrong_recipient", p1)  # "He moved out last year"
    if first == "already_paid" and _HOW_MUCH_PAID.search(clean):
        return _promote(ranking, "ask_balance", p1)
    if (
        first == "dispute"
        and _DENIED_DISPUTE.search(clean)
        and not _DISPUTE_WORD.search(_DENIED_DISPUTE.sub(" ", clean))
    ):
        if _PROMISE_CUE.search(clean):
            return _promote(ranking, "promise_to_pay", p1)
        if _PAID_PAST.search(clean):
            return _promote(ranking, "already_paid", p1)
        return [ranking[1], ranking[0], *ranking[2:]]
    if first == "already_paid" and _REST_LATER.search(clean):
        return _promote(ranking, "promise_to_pay", p1)
    if (
        first == "already_paid"
        and second == "request_payment_details"
        and _DETAILS_RIGHT.search(clean)
        and _IS_IT_RIGHT.search(clean)
        and not _PAID_PAST.search(clean)
    ):
        return _promote(ranking, "request_payment_details", p1)
    if first != "thank" and _GOODBYE.match(clean):
        return _promote(ranking, "thank", p1)
    return ranking


def _thanks_only(clean: str) -> bool:
    words = re.findall(r"[a-z']+", clean)
    if not words or len(words) > 8:
        return False
    if not any(w in _THANKS_WORDS for w in words):
        return False
    return all(w in _THANKS_WORDS or w in _WARM_WORDS for w in words)


# (the model's first, its close second, what must be said, what must not): the
# second wins.
_TIE_BREAKS = (
    ("request_invoice_copy", "promise_to_pay", _PAY_VERB, _SEND_CUE),
    ("already_paid", "dispute", _CREDIT_NOTE, _PAY_VERB),
    ("request_payment_details", "dispute", _WHY_PAY, _HOW_TO_PAY),
    ("promise_to_pay", "request_payment_plan", _PARTS, _NO_CUE),
    # "in 4 Raten zahlen? … finanzielle Engpässe": hardship proposing a plan is a plan
    ("financial_hardship", "request_payment_plan", _PARTS, _NO_CUE),
    # "Notre paiement a été programmé pour le 13/03": a transfer set for a later day
    ("already_paid", "promise_to_pay", _SCHEDULED, _NO_CUE),
    ("request_invoice_copy", "already_paid", _PROOF, _ASKS_TO_SEND),
)


def _break_tie(ranking: list[tuple[str, float]], clean: str) -> list[tuple[str, float]]:
    (first, p1), (second, p2) = ranking[0], ranking[1]
    if (
        (first, second) == ("request_payment_plan", "promise_to_pay")
        and _ONE_DAY.search(clean)
        and not _NOT_ONE_PAYMENT.search(clean)
    ):
        # One payment on one day is a promise, however sure the model is of a plan.
        return [(second, p1), (first, p2), *ranking[2:]]
    if p1 - p2 >= _NEAR_TIE:
        return ranking
    for loser, winner, said, unsaid in _TIE_BREAKS:
        if (first, second) == (loser, winner) and said.search(clean) and not unsaid.search(clean):
            return [(second, p1), (first, p2), *ranking[2:]]
    return ranking


def is_confident(result: dict[str, Any]) -> bool:
    """Whether a parse result's intent is sure enough to act on."""
    return float(result["intent"]["confidence"]) >= CONFIDENCE_THRESHOLD


def _normalise(text: str) -> str:
    from nlu.normalise import normalise

    return normalise(text)


def _detect_language(clean: str, text: str) -> str:
    from nlu.language import detect_language

    return detect_language(clean, default="fr", original=text)


def _entities(text: str, language: str, reference_date: date, intent: str) -> list[dict[str, Any]]:
    from nlu.entities import extract_entities

    return list(extract_entities(text, language, reference_date, intent=intent))


@dataclass
class Parser:
    """One loaded pipeline; build it once (``Parser.load``) and reuse it."""

    classifier: IntentClassifier

    @classmethod
    def load(cls, paths: Sequence[Path] | None = None, *, retrain: bool = False) -> Parser:
        return cls(load_or_train(paths, retrain=retrain))

    def parse(self, text: str, reference_date: date) -> dict[str, Any]:
        return self.parse_many([text], [reference_date])[0]

    def parse_many(
        self, texts: Sequence[str], reference_dates: Sequence[date]
    ) -> list[dict[str, Any]]:
        """Parse several texts at once: one model call for all of them (faster)."""
        normalised = [_normalise(text) for text in texts]
        languages = [
            _detect_language(clean, text) for clean, text in zip(normalised, texts, strict=True)
        ]
        rankings = self.classifier.rank_many(normalised, languages)
        results = []
        for text, clean, language, ranking, reference in zip(
            texts, normalised, languages, rankings, reference_dates, strict=True
        ):
            if not clean.strip():
                ranking = _promote([(n, 0.0) for n, _ in ranking], "out_of_scope", 0.0)
            elif (own := _own_payment_first(ranking, clean)) is not ranking:
                ranking = own
            elif _thanks_only(clean) and ranking[0][0] != "thank":
                ranking = _promote(ranking, "thank", 0.0)
            elif (stop := _stop_first(ranking, clean)) is not ranking:
                ranking = stop
            elif (told := _past_or_refused(ranking, clean)) is not ranking:
                ranking = told
            elif (reread := _reread(ranking, clean)) is not ranking:
                ranking = reread
            elif (
                _AUTO_REPLY.search(clean)
                and dict(ranking)["auto_reply"] >= _RULE_SUPPORT
                and (ranking[0][0] == "auto_reply" or "?" not in clean)
            ):
                # A question is the person asking ("c'était ma réponse automatique.
                # Combien je dois ?"): the model's reading stands.
                ranking = _promote(ranking, "auto_reply", 0.99)
            else:
                ranking = _break_tie(ranking, clean)
            name, confidence = ranking[0]
            results.append(
                {
                    "text": text,
                    "intent": {"name": name, "confidence": round(confidence, 4)},
                    "intent_ranking": [{"name": n, "confidence": round(p, 4)} for n, p in ranking],
                    "entities": _entities(text, language, reference, name) if clean.strip() else [],
                    "language": language,
                }
            )
        return results


def _promote(
    ranking: list[tuple[str, float]], intent: str, floor: float
) -> list[tuple[str, float]]:
    """Put ``intent`` first with at least ``floor`` (a rule override)."""
    top = max(p for _, p in ranking)
    rest = [(n, p) for n, p in ranking if n != intent]
    return [(intent, max(top, floor)), *rest]
