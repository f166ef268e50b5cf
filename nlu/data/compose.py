"""Write ``<lang>.yml`` (Rasa YAML NLU training data) from the hand-written ``core/<lang>.txt``.

    .venv/bin/python nlu/data/compose.py        # rewrites fr.yml, nl.yml, en.yml, de.yml

Every hand-written sentence appears once with its ``{slots}`` filled (amounts,
dates, invoice numbers in the forms debtors type them).  Each intent is then
topped up to ``PER_INTENT`` examples with the same sentences wrapped the way
replies arrive: a greeting before, a closing or signature after, sometimes
without accents or in lower case.  The expansion is seeded, so the files only
change when the sentences or this script do.  The development set in
``tests/data/nlu/dev`` is written separately by hand and never passes here.
"""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PER_INTENT = 66
EVALUATION = HERE.parents[1] / "tests" / "data" / "nlu"


def evaluation_texts(lang: str) -> set[str]:
    """The texts of the evaluation sets, which a filled slot must never reproduce."""
    sys.path.insert(0, str(HERE.parents[1]))
    from nlu.training import load_yaml

    return {
        example.text.casefold()
        for folder in ("dev", "holdout", "realworld")
        if (path := EVALUATION / folder / f"{lang}.yml").exists()
        for example in load_yaml(path, lang)
    }


SLOTS: dict[str, dict[str, list[str]]] = {
    "fr": {
        "amount": [
            "250 €",
            "250€",
            "€ 1.234,56",
            "1.234,56 EUR",
            "80 euros",
            "150,00 €",
            "EUR 75",
            "99,90€",
            "300 €",
            "500 eur",
            "cent euros",
            "45 €",
            "1200 euros",
        ],
        "fdate": [
            "le 20.03.26",
            "le 15/04/2026",
            "vendredi",
            "vendredi prochain",
            "lundi",
            "demain",
            "le 15",
            "le 30 avril",
            "à la fin du mois",
            "le 15/04",
            "avant le 20",
            "le 31/03",
            "ce vendredi",
            "mardi prochain",
            "le 1er avril",
            "après-demain",
            "le 25",
            "fin mars",
        ],
        "pdate": [
            "le 04.03.26",
            "le 02/03/2026",
            "hier",
            "ce matin",
            "lundi",
            "le 3 mars",
            "le 05/03",
            "la semaine passée",
            "avant-hier",
            "vendredi dernier",
            "le 2",
            "il y a trois jours",
            "le 28 février",
            "mardi",
        ],
        "day": ["20 mars", "16/03", "1er avril", "30 mars", "lundi 23 mars", "2 avril", "27/03"],
        "n": ["3", "trois", "6", "six", "2", "deux", "4", "quatre", "10", "12", "5", "cinq"],
        "inv": [
            "INV-2026-0042",
            "F2026/123",
            "2026-0117",
            "FA-2026-118",
            "n° 2026/0042",
            "INV-2025-0981",
        ],
        "ref": ["+++090/9337/55493+++", "RF18 5390 0754 7034", "090/9337/55493"],
        "iban": ["BE68 5390 0754 7034", "BE68539007547034", "be71 0961 2345 6769"],
        "name": ["M. Dupont", "Jean Martin", "Mme Lambert", "Sophie Maes", "Dubois SRL"],
    },
    "nl": {
        "amount": [
            "250 €",
            "250€",
            "€ 1.234,56",
            "1.234,56 EUR",
            "80 euro",
            "150,00 €",
            "EUR 75",
            "99,90€",
            "300 €",
            "500 eur",
            "honderd euro",
            "45 €",
            "1200 euro",
        ],
        "fdate": [
            "op 20.03.26",
            "op 15/04/2026",
            "vrijdag",
            "volgende vrijdag",
            "maandag",
            "morgen",
            "de 15de",
            "op 30 april",
            "tegen het einde van de maand",
            "op 15/04",
            "voor de 20ste",
            "op 31/03",
            "deze vrijdag",
            "volgende week dinsdag",
            "op 1 april",
            "overmorgen",
            "de 25ste",
            "eind maart",
        ],
        "pdate": [
            "op 04.03.26",
            "op 02/03/2026",
            "gisteren",
            "vanmorgen",
            "maandag",
            "op 3 maart",
            "op 05/03",
            "vorige week",
            "eergisteren",
            "vorige vrijdag",
            "de 2de",
            "drie dagen geleden",
            "op 28 februari",
            "dinsdag",
        ],
        "day": ["20 maart", "16/03", "1 april", "30 maart", "maandag 23 maart", "2 april", "27/03"],
        "n": ["3", "drie", "6", "zes", "2", "twee", "4", "vier", "10", "12", "5", "vijf"],
        "inv": [
            "INV-2026-0042",
            "F2026/123",
            "2026-0117",
            "FA-2026-118",
            "nr. 2026/0042",
            "INV-2025-0981",
        ],
        "ref": ["+++090/9337/55493+++", "RF18 5390 0754 7034", "090/9337/55493"],
        "iban": ["BE68 5390 0754 7034", "BE68539007547034", "be71 0961 2345 6769"],
        "name": ["dhr. Peeters", "Jan Janssens", "mevr. Claes", "Sofie Maes", "Peeters BV"],
    },
    "en": {
        "amount": [
            "€250",
            "250 EUR",
            "EUR 1,234.56",
            "€ 1,234.56",
            "80 euros",
            "150.00 €",
            "EUR 75",
            "€99.90",
            "300 euros",
            "500 eur",
            "a hundred euros",
            "45 €",
            "1200 euros",
        ],
        "fdate": [
            "on 20.03.26",
            "on 15/04/2026",
            "on Friday",
            "next Friday",
            "on Monday",
            "tomorrow",
            "on the 15th",
            "on 30 April",
            "by the end of the month",
            "on 15/04",
            "before the 20th",
            "on 31/03",
            "this Friday",
            "next Tuesday",
            "on April 1st",
            "the day after tomorrow",
            "on the 25th",
            "at the end of March",
        ],
        "pdate": [
            "on 04.03.26",
            "on 02/03/2026",
            "yesterday",
            "this morning",
            "on Monday",
            "on 3 March",
            "on 05/03",
            "last week",
            "the day before yesterday",
            "last Friday",
            "on the 2nd",
            "three days ago",
            "on 28 February",
            "on Tuesday",
        ],
        "day": ["20 March", "16/03", "1 April", "March 30", "Monday 23 March", "2 April", "27/03"],
        "n": ["3", "three", "6", "six", "2", "two", "4", "four", "10", "12", "5", "five"],
        "inv": [
            "INV-2026-0042",
            "F2026/123",
            "2026-0117",
            "FA-2026-118",
            "no. 2026/0042",
            "INV-2025-0981",
        ],
        "ref": ["+++090/9337/55493+++", "RF18 5390 0754 7034", "090/9337/55493"],
        "iban": ["BE68 5390 0754 7034", "BE68539007547034", "be71 0961 2345 6769"],
        "name": ["Mr Smith", "John Martin", "Mrs Lambert", "Sophie Maes", "Dubois Ltd"],
    },
    "de": {
        "amount": [
            "250 €",
            "250€",
            "€ 1.234,56",
            "1.234,56 EUR",
            "80 Euro",
            "150,00 €",
            "EUR 75",
            "99,90€",
            "300 €",
            "500 eur",
            "hundert Euro",
            "45 €",
            "1200 Euro",
        ],
        "fdate": [
            "am 20.03.26",
            "am 15.04.2026",
            "am Freitag",
            "nächsten Freitag",
            "am Montag",
            "morgen",
            "am 15.",
            "am 30. April",
            "Ende des Monats",
            "am 15.04.",
            "vor dem 20.",
            "am 31.03.",
            "diesen Freitag",
            "nächsten Dienstag",
            "am 1. April",
            "übermorgen",
            "am 25.",
            "Ende März",
        ],
        "pdate": [
            "am 04.03.26",
            "am 02.03.2026",
            "gestern",
            "heute Morgen",
            "am Montag",
            "am 3. März",
            "am 05.03.",
            "letzte Woche",
            "vorgestern",
            "letzten Freitag",
            "am 2.",
            "vor drei Tagen",
            "am 28. Februar",
            "am Dienstag",
        ],
        "day": [
            "20. März",
            "16.03.",
            "1. April",
            "30. März",
            "Montag, 23. März",
            "2. April",
            "27.03.",
        ],
        "n": ["3", "drei", "6", "sechs", "2", "zwei", "4", "vier", "10", "12", "5", "fünf"],
        "inv": [
            "INV-2026-0042",
            "F2026/123",
            "2026-0117",
            "FA-2026-118",
            "Nr. 2026/0042",
            "INV-2025-0981",
        ],
        "ref": ["+++090/9337/55493+++", "RF18 5390 0754 7034", "090/9337/55493"],
        "iban": ["BE68 5390 0754 7034", "BE68539007547034", "be71 0961 2345 6769"],
        "name": ["Herr Schmitz", "Jan Müller", "Frau Lambert", "Sophie Maes", "Dubois GmbH"],
    },
}

OPENINGS = {
    "fr": [
        "Bonjour,",
        "Bonjour Madame,",
        "Madame, Monsieur,",
        "Bonsoir,",
        "Bjr",
        "Hello,",
        "Cher Monsieur,",
        "Bonjour, merci pour votre mail.",
        "Re:",
        "Bonjour à vous,",
    ],
    "nl": [
        "Goedendag,",
        "Beste,",
        "Geachte mevrouw, heer,",
        "Dag,",
        "Hallo,",
        "Hoi",
        "Beste mevrouw,",
        "Goeiemorgen, bedankt voor uw mail.",
        "Re:",
        "Dag meneer,",
    ],
    "en": [
        "Hello,",
        "Hi,",
        "Dear Sir or Madam,",
        "Good morning,",
        "Hi there",
        "Dear Ms Smith,",
        "Hello, thanks for your email.",
        "Re:",
        "Good afternoon,",
        "Hey",
    ],
    "de": [
        "Guten Tag,",
        "Hallo,",
        "Sehr geehrte Damen und Herren,",
        "Guten Morgen,",
        "Moin",
        "Sehr geehrte Frau Schmitz,",
        "Hallo, danke für Ihre Mail.",
        "AW:",
        "Servus,",
        "Liebe Frau Lambert,",
    ],
}

CLOSINGS = {
    "fr": [
        "Cordialement, Jean Dupont",
        "Merci d'avance.",
        "Bien à vous",
        "Bàv, Marc",
        "Merci",
        "Bonne journée",
        "Salutations distinguées. Marie Lambert",
        "Envoyé de mon iPhone",
        "Cdlt",
        "Merci de votre compréhension",
        "Bien cordialement, Service comptabilité",
        "Sophie Martin - Gérante - Tél. 0475 12 34 56",
        "Ce message et ses annexes sont confidentiels et réservés à leur destinataire",
    ],
    "nl": [
        "Met vriendelijke groeten, Jan Peeters",
        "Alvast bedankt.",
        "Groetjes",
        "Mvg, Tom",
        "Bedankt",
        "Nog een fijne dag",
        "Hoogachtend, Els Claes",
        "Verzonden vanaf mijn iPhone",
        "Mvg",
        "Bedankt voor uw begrip",
        "Vriendelijke groet, Boekhouding",
        "Tom Peeters | Zaakvoerder | Tel. 0475 12 34 56",
        "Dit bericht en de bijlagen zijn vertrouwelijk en enkel bestemd voor de geadresseerde",
    ],
    "en": [
        "Kind regards, John Smith",
        "Thanks in advance.",
        "Best wishes",
        "Regards, Mark",
        "Thanks",
        "Have a nice day",
        "Yours faithfully, Mary Jones",
        "Sent from my iPhone",
        "BR",
        "Thank you for your understanding",
        "Best regards, Accounts team",
        "Mark Davies | Director | Tel. +32 475 12 34 56",
        "This email and any attachments are confidential and intended solely for the addressee",
    ],
    "de": [
        "Mit freundlichen Grüßen, Jan Müller",
        "Vielen Dank im Voraus.",
        "Viele Grüße",
        "LG, Markus",
        "Danke",
        "Schönen Tag noch",
        "Hochachtungsvoll, Maria Schmitz",
        "Von meinem iPhone gesendet",
        "MfG",
        "Danke für Ihr Verständnis",
        "Beste Grüße, Buchhaltung",
        "Markus Schmitz | Geschäftsführer | Tel. 0475 12 34 56",
        "Diese E-Mail und ihre Anhänge sind vertraulich und nur für den Empfänger bestimmt",
    ],
}

# Short answers keep their meaning only with light wrapping.
BARE = {"greet", "thank", "affirm", "deny"}
_SLOT = re.compile(r"\{(\w+)\}")


def read_core(path: Path) -> dict[str, list[str]]:
    core: dict[str, list[str]] = {}
    intent = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("# "):
            continue
        if line.startswith("## "):
            intent = line[3:].strip()
            core.setdefault(intent, [])
        elif not intent:
            raise SystemExit(f"{path.name}: line {number}: sentence before any '## intent'")
        else:
            core[intent].append(line)
    return core


def fill(sentence: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    return _SLOT.sub(lambda m: rng.choice(slots[m.group(1)]), sentence)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def variant(sentence: str, intent: str, lang: str, rng: random.Random) -> str:
    if intent == "greet":
        return f"{sentence} {rng.choice(['!', '?', ':)', ''])}".strip()
    if intent in BARE:
        extra = {
            "fr": ["merci", "!", "svp", "alors"],
            "nl": ["bedankt", "!", "hoor", "dan"],
            "en": ["thanks", "!", "then", "mate"],
            "de": ["danke", "!", "dann", "also"],
        }
        return f"{sentence} {rng.choice(extra[lang])}"
    text = sentence
    roll = rng.random()
    if roll < 0.45:
        text = f"{rng.choice(OPENINGS[lang])} {text}"
    if rng.random() < 0.6:
        text = f"{text.rstrip('.')}. {rng.choice(CLOSINGS[lang])}"
    elif roll >= 0.45:
        text = f"{rng.choice(OPENINGS[lang])} {text}"
    if rng.random() < 0.25:
        text = strip_accents(text).lower()
    return text


def compose(lang: str) -> str:
    rng = random.Random(f"relance-{lang}")
    core = read_core(HERE / "core" / f"{lang}.txt")
    slots = SLOTS[lang]
    parts = [
        f"# Generated by nlu/data/compose.py from core/{lang}.txt: edit those, then rerun.\n",
        'version: "3.1"\n',
        "nlu:\n",
    ]
    held_out = evaluation_texts(lang)
    for intent, sentences in core.items():
        seen: dict[str, None] = {}
        for sentence in sentences:
            filled = fill(sentence, slots, rng)
            for _ in range(20):  # other slot values until it is not an evaluation text
                if filled.casefold() not in held_out:
                    break
                filled = fill(sentence, slots, rng)
            seen.setdefault(filled, None)
        attempts = 0
        while len(seen) < PER_INTENT and attempts < 5000:
            attempts += 1
            sentence = fill(rng.choice(sentences), slots, rng)
            example = variant(sentence, intent, lang, rng)
            if example.casefold() not in held_out:
                seen.setdefault(example, None)
        lines = "".join(f"    - {text}\n" for text in seen)
        parts.append(f"- intent: {intent}\n  examples: |\n{lines}")
    return "".join(parts)


def main() -> None:
    for lang in SLOTS:
        (HERE / f"{lang}.yml").write_text(compose(lang), encoding="utf-8")


if __name__ == "__main__":
    main()
