"""Words the entity extractors look for, in fr, nl, en and de, folded (lower case,
no accents: see ``nlu.normalise.fold``).

These tables are the single source: the regular expressions of the extractors
are built from them, and ``nlu/data/entities.yml`` (Rasa lookup tables) is
generated from them by ``nlu.entities.rasa.rasa_entities_yaml``.
"""

from __future__ import annotations

# Monday = 0, as datetime.date.weekday().
WEEKDAYS: dict[str, int] = {}
for _names in (
    "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
    "monday tuesday wednesday thursday friday saturday sunday",
    "montag dienstag mittwoch donnerstag freitag samstag sonntag",
):
    for _index, _name in enumerate(_names.split()):
        WEEKDAYS[_name] = _index
# Frequent typos and spellings without accents seen in chat.
WEEKDAYS.update(
    {
        "lundy": 0,
        "mercerdi": 2,
        "mecredi": 2,
        "vendredie": 4,
        "vendedi": 4,
        "venderdi": 4,
        "samdi": 5,
        "dimance": 6,
        "maandg": 0,
        "dinsdg": 1,
        "woensdg": 2,
        "wonsdag": 2,
        "woesndag": 2,
        "donderdg": 3,
        "vrijdg": 4,
        "vrydag": 4,
        "vrijdaag": 4,
        "zaterdg": 5,
        "wednesday": 2,
        "wensday": 2,
        "wendsday": 2,
        "wednsday": 2,
        "thurday": 3,
        "thursay": 3,
        "firday": 4,
        "fridy": 4,
        "saterday": 5,
        "mittwoc": 2,
        "donerstag": 3,
        "freitg": 4,
        "sonnabend": 5,
        "samstg": 5,
        # English abbreviations that are no other word
        "tues": 1,
        "wed": 2,
        "weds": 2,
        "thur": 3,
        "thurs": 3,
        "fri": 4,
    }
)

MONTHS: dict[str, int] = {
    # French
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4,
    "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9,
    "octobre": 10, "novembre": 11, "decembre": 12,
    # Dutch
    "januari": 1, "februari": 2, "maart": 3, "mrt": 3, "april": 4, "mei": 5, "juni": 6,
    "juli": 7, "augustus": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
    # English
    "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8,
    "october": 10,
    # German ("märz" folds to "marz")
    "januar": 1, "janner": 1, "februar": 2, "marz": 3, "maerz": 3, "dezember": 12,
    # abbreviations shared by several languages
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12, "dez": 12,
    # typos
    "fevirer": 2, "fervier": 2, "avirl": 4, "juilet": 7, "septembere": 9, "octobere": 10,
    "novembere": 11, "febuari": 2, "febuary": 2, "feburary": 2, "agustus": 8,
    "setember": 9, "decmber": 12,
}  # fmt: skip

# Days of the month written as words ("the fifteenth of May", "am fünfzehnten",
# "op de vijftiende", "le quinze mars"), folded; built below from the number words.
# Ordinals in English, German and Dutch; French says the day as a cardinal.
DAY_WORDS: dict[str, int] = {}


def _day_words() -> None:
    en_units = [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
    ]
    en_teens = [
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
    ]
    for n, word in enumerate(en_units, 1):
        DAY_WORDS[word] = n
        DAY_WORDS[f"twenty-{word}"] = DAY_WORDS[f"twenty {word}"] = 20 + n
    for n, word in enumerate(en_teens, 10):
        DAY_WORDS[word] = n
    DAY_WORDS.update({"twentieth": 20, "thirtieth": 30, "thirty-first": 31, "thirty first": 31})

    de_units = ["ein", "zwei", "drei", "vier", "funf", "sechs", "sieben", "acht", "neun"]
    de_ordinal = ["ers", "zwei", "drit", "vier", "funf", "sechs", "sieb", "ach", "neun"]
    de_teens = "zehn elf zwolf dreizehn vierzehn funfzehn sechzehn siebzehn achtzehn neunzehn"
    for n, stem in enumerate(de_ordinal, 1):
        for ending in ("ten", "te"):
            DAY_WORDS[f"{stem}{ending}"] = n
    for n, stem in enumerate(de_teens.split(), 10):
        for ending in ("ten", "te"):
            DAY_WORDS[f"{stem}{ending}"] = n
    for n, unit in enumerate(de_units, 1):
        for ending in ("sten", "ste"):
            DAY_WORDS[f"{unit}undzwanzig{ending}"] = 20 + n
    for ending in ("sten", "ste"):
        DAY_WORDS[f"zwanzig{ending}"] = 20
        DAY_WORDS[f"dreissig{ending}"] = DAY_WORDS[f"dreißig{ending}"] = 30
        DAY_WORDS[f"einunddreissig{ending}"] = DAY_WORDS[f"einunddreißig{ending}"] = 31

    nl_units = ["een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"]
    nl_ordinal = [
        "eerste",
        "tweede",
        "derde",
        "vierde",
        "vijfde",
        "zesde",
        "zevende",
        "achtste",
        "negende",
    ]
    nl_teens = [
        "tiende",
        "elfde",
        "twaalfde",
        "dertiende",
        "veertiende",
        "vijftiende",
        "zestiende",
        "zeventiende",
        "achttiende",
        "negentiende",
    ]
    for n, word in enumerate(nl_ordinal, 1):
        DAY_WORDS[word] = n
    for n, word in enumerate(nl_teens, 10):
        DAY_WORDS[word] = n
    for n, unit in enumerate(nl_units, 1):
        joint = "en" if not unit.endswith("e") else "een"  # "tweeëntwintigste", folded
        DAY_WORDS[f"{unit}{joint}twintigste"] = 20 + n
        DAY_WORDS[f"{unit}entwintigste"] = 20 + n
    DAY_WORDS.update({"twintigste": 20, "dertigste": 30, "eenendertigste": 31})

    fr = [
        "premier",
        "deux",
        "trois",
        "quatre",
        "cinq",
        "six",
        "sept",
        "huit",
        "neuf",
        "dix",
        "onze",
        "douze",
        "treize",
        "quatorze",
        "quinze",
        "seize",
        "dix-sept",
        "dix-huit",
        "dix-neuf",
        "vingt",
    ]
    for n, word in enumerate(fr, 1):
        DAY_WORDS[word] = n
    for n, unit in enumerate(fr[1:9], 2):
        DAY_WORDS[f"vingt-{unit}"] = DAY_WORDS[f"vingt {unit}"] = 20 + n
    DAY_WORDS.update(
        {"vingt et un": 21, "vingt-et-un": 21, "trente": 30, "trente et un": 31,
         "trente-et-un": 31, "1er": 1}
    )  # fmt: skip


_day_words()

# Day words resolved from the reference date, by offset in days.
RELATIVE_DAYS: dict[str, int] = {
    # French
    "aujourd'hui": 0, "aujourdhui": 0, "aujourd hui": 0, "aujourd'hui meme": 0, "auj": 0,
    "ajd": 0, "ce jour": 0, "ce matin": 0, "ce midi": 0, "cet apres-midi": 0,
    "cet apres midi": 0, "ce soir": 0, "ojourdhui": 0, "ojourd'hui": 0, "ojourdui": 0,
    "aujourdui": 0, "ojd": 0, "demain": 1, "dem1": 1, "demin": 1, "dmain": 1, "2main": 1,
    "2m1": 1, "apres-demain": 2,
    "apres demain": 2, "apresdemain": 2, "hier": -1, "avant-hier": -2, "avant hier": -2,
    "avanthier": -2, "avan hier": -2, "avan-hier": -2, "avent hier": -2,
    # Dutch
    "vandaag": 0, "vandaag nog": 0, "vanmorgen": 0, "vanochtend": 0, "vanmiddag": 0,
    "vannamiddag": 0, "vanvoormiddag": 0, "deze namiddag": 0, "deze middag": 0,
    "deze voormiddag": 0, "deze ochtend": 0, "deze morgen": 0, "deze avond": 0,
    "vanavond": 0, "morgen": 1, "morgenvroeg": 1, "overmorgen": 2, "gisteren": -1,
    "gister": -1, "eergisteren": -2,
    # English
    "today": 0, "this morning": 0, "this afternoon": 0, "tonight": 0, "this evening": 0,
    "tomorrow": 1, "tomorow": 1, "tommorow": 1, "tommorrow": 1, "tmrw": 1, "tmr": 1,
    "2moro": 1, "the day after tomorrow": 2, "day after tomorrow": 2, "yesterday": -1,
    "yesterdy": -1, "the day before yesterday": -2, "day before yesterday": -2,
    # German ("morgen" is shared with Dutch; "übermorgen" folds to "ubermorgen")
    "heute": 0, "heute morgen": 0, "heute fruh": 0, "heute mittag": 0, "heute abend": 0,
    "ubermorgen": 2, "uebermorgen": 2, "gestern": -1, "vorgestern": -2,
}  # fmt: skip

# Weekday modifiers: "next" = first such day after today (the Friday of this week
# when said on a Tuesday), "last" = most recent before today, "this" = first such
# day from today on, "next_week" = that day in the calendar week after this one.
WEEKDAY_BEFORE: dict[str, str] = {
    "ce": "this", "cette": "this", "ce prochain": "next",
    "deze": "this", "volgende": "next", "komende": "next", "aanstaande": "next",
    "aankomende": "next", "vorige": "last", "afgelopen": "last", "laatste": "last",
    "this": "this", "this coming": "next", "next": "next", "coming": "next",
    "last": "last", "past": "last", "previous": "last",
    "diesen": "this", "diese": "this", "dieser": "this", "nachsten": "next",
    "nachster": "next", "nachste": "next", "naechsten": "next", "kommenden": "next",
    "kommender": "next", "letzten": "last", "letzter": "last", "vergangenen": "last",
    "vergangener": "last",
    "volgende week": "next_week", "next week": "next_week", "nachste woche": "next_week",
    "naechste woche": "next_week", "la semaine prochaine": "next_week",
}  # fmt: skip
WEEKDAY_AFTER: dict[str, str] = {
    "prochain": "next", "prochaine": "next", "qui vient": "next", "suivant": "next",
    "pro": "next", "proch": "next",
    "dernier": "last", "passe": "last", "derniere": "last",
    "aanstaande": "next", "volgende week": "next_week", "van volgende week": "next_week",
    "next week": "next_week", "of next week": "next_week", "last week": "last_week",
    "nachste woche": "next_week", "nachster woche": "next_week",
    "naechste woche": "next_week", "kommende woche": "next_week",
    "de la semaine prochaine": "next_week", "la semaine prochaine": "next_week",
    "semaine prochaine": "next_week", "en huit": "next_week",
    "de la semaine derniere": "last_week", "vorige week": "last_week",
    "letzte woche": "last_week",
}  # fmt: skip

# Units after "dans N" / "over N" / "in N": days each.
DURATION_UNITS: dict[str, str] = {
    "jour": "day", "jours": "day", "jrs": "day", "j": "day", "semaine": "week",
    "semaines": "week", "sem": "week", "mois": "month",
    "dag": "day", "dagen": "day", "week": "week", "weken": "week", "maand": "month",
    "maanden": "month",
    "day": "day", "days": "day", "weeks": "week", "month": "month", "months": "month",
    "tag": "day", "tage": "day", "tagen": "day", "woche": "week", "wochen": "week",
    "monat": "month", "monate": "month", "monaten": "month",
}  # fmt: skip

CURRENCY_AFTER = (
    "€", "eur", "eur.", "euro", "euros", "euro's", "euroos", "eurs", "balles", "balle", "boules",
    # other currencies: amounts too, the value carries no currency (see amounts.py)
    "£", "$", "usd", "gbp", "chf", "dollar", "dollars", "pound", "pounds", "quid", "franken",
)  # fmt: skip
CURRENCY_BEFORE = ("€", "eur", "eur.", "euro", "euros", "£", "$", "us$", "usd", "gbp", "chf")

INSTALMENT_UNITS = (
    # French
    "fois", "x", "versements", "versement", "mensualites", "mensualite", "mensualitees",
    "echeances", "tranches", "paiements", "paiments", "payements", "parties", "mois",
    # Dutch
    "termijnen", "termijn", "keer", "keren", "delen", "schijven", "afbetalingen",
    "aflossingen", "betalingen", "stortingen", "maandelijkse betalingen",
    "maandelijkse termijnen", "maandelijkse stortingen", "maandelijkse afbetalingen",
    "maandbedragen", "maanden",
    # English
    "instalments", "installments", "instalment", "installment", "payments", "parts",
    "monthly payments", "monthly instalments", "monthly installments", "months", "goes",
    "times",
    # German
    "raten", "monatsraten", "teilzahlungen", "teilbetragen", "teilbetraege", "zahlungen",
    "monatliche raten", "monatlichen raten", "monate", "monaten", "mal", "teilen", "teile",
)  # fmt: skip
