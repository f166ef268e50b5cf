"""A realistic demo ledger: Belgian businesses and consumers in four languages.

Dates are relative to ``today`` so the demo always has invoices not yet due,
just overdue, long overdue, partly paid and disputed-looking ones.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from adapters.imports.records import DebtorRecord, InvoiceRecord, ParsedDocument
from domain.invoice import InvoiceKind
from domain.statement import ParsedStatement, StatementLine

# code, name, kind, language, enterprise number, email, iban, street, postcode, city
DEBTORS = [
    (
        "C1001",
        "Boulangerie Dupont SRL",
        "business",
        "fr",
        "0403170701",
        "compta@dupont-pain.be",
        "BE71096123456769",
        "Rue Haute 12",
        "1000",
        "Bruxelles",
    ),
    (
        "C1002",
        "Bouwbedrijf Peeters NV",
        "business",
        "nl",
        "0202239951",
        "boekhouding@peeters-bouw.be",
        "BE62510007547061",
        "Kerkstraat 5",
        "2000",
        "Antwerpen",
    ),
    (
        "C1003",
        "Hotel Zum Hirsch GmbH",
        "business",
        "de",
        "0417497106",
        "buchhaltung@zumhirsch.be",
        "",
        "Hauptstraße 20",
        "4700",
        "Eupen",
    ),
    (
        "C1004",
        "Brussels Tech Hub SA",
        "business",
        "en",
        "0630675588",
        "ap@bxltechhub.eu",
        "",
        "Avenue Louise 54",
        "1050",
        "Ixelles",
    ),
    (
        "C1005",
        "Garage Lambert SPRL",
        "business",
        "fr",
        "0454489639",
        "info@garagelambert.be",
        "",
        "Chaussée de Namur 101",
        "5000",
        "Namur",
    ),
    (
        "C1006",
        "Slagerij Van Damme BV",
        "business",
        "nl",
        "0466120434",
        "info@vandamme-vlees.be",
        "",
        "Markt 3",
        "9000",
        "Gent",
    ),
    (
        "P2001",
        "Marie Lejeune",
        "consumer",
        "fr",
        "",
        "marie.lejeune@example.be",
        "BE43068999999501",
        "Rue des Alouettes 8",
        "4000",
        "Liège",
    ),
    (
        "P2002",
        "Jan Janssens",
        "consumer",
        "nl",
        "",
        "jan.janssens@example.be",
        "",
        "Dorpsstraat 14",
        "3000",
        "Leuven",
    ),
    (
        "P2003",
        "Lukas Schmitz",
        "consumer",
        "de",
        "",
        "lukas.schmitz@example.be",
        "",
        "Klötzerbahn 4",
        "4780",
        "Sankt Vith",
    ),
    (
        "P2004",
        "Sarah O'Brien",
        "consumer",
        "en",
        "",
        "sarah.obrien@example.com",
        "",
        "Rue Belliard 40",
        "1040",
        "Etterbeek",
    ),
    (
        "P2005",
        "Sophie Martin",
        "consumer",
        "fr",
        "",
        "sophie.martin@example.be",
        "",
        "Avenue de la Gare 2",
        "6000",
        "Charleroi",
    ),
    (
        "P2006",
        "Pieter De Smet",
        "consumer",
        "nl",
        "",
        "pieter.desmet@example.be",
        "",
        "Zeedijk 101",
        "8400",
        "Oostende",
    ),
]

# debtor code, days since issue, terms in days, amount, open amount (None = unpaid), what
INVOICES = [
    ("C1001", 75, 30, "1234.56", None, "Farine T55, 40 sacs"),
    ("C1001", 20, 30, "486.20", None, "Levure et sel"),
    ("C1002", 95, 30, "8450.00", "4450.00", "Huur kraan juni"),
    ("C1002", 40, 30, "2100.00", None, "Steigerwerk"),
    ("C1003", 50, 14, "960.00", None, "Wäscherei-Service"),
    ("C1004", 33, 30, "3999.00", None, "Cloud hosting Q3"),
    ("C1004", 5, 30, "3999.00", None, "Cloud hosting Q4"),
    ("C1005", 120, 30, "615.75", None, "Pièces détachées"),
    ("C1006", 45, 30, "1320.40", None, "Koelcel onderhoud"),
    ("P2001", 48, 14, "120.00", None, "Abonnement fitness"),
    ("P2001", 18, 14, "120.00", None, "Abonnement fitness"),
    ("P2002", 60, 14, "389.00", None, "Herstelling wasmachine"),
    ("P2003", 35, 14, "74.90", None, "Jahresabo Zeitschrift"),
    ("P2004", 28, 14, "1540.00", "540.00", "Kitchen renovation, balance"),
    ("P2005", 70, 14, "249.99", None, "Réparation chaudière"),
    ("P2006", 16, 14, "58.00", None, "Lidmaatschap sportclub"),
]


def demo_documents(today: date) -> list[ParsedDocument]:
    debtors = {
        code: DebtorRecord(
            code=code,
            name=name,
            kind=kind,
            language=lang,
            enterprise_number=enterprise or None,
            emails=(email,),
            ibans=(iban,) if iban else (),
            street=street,
            postcode=postcode,
            city=city,
            country="BE",
        )
        for code, name, kind, lang, enterprise, email, iban, street, postcode, city in DEBTORS
    }
    documents = []
    for index, (code, age, terms, amount, open_amount, what) in enumerate(INVOICES, start=1):
        issue = today - timedelta(days=age)
        prefix = "INV" if code.startswith("C") else "F"
        invoice = InvoiceRecord(
            number=f"{prefix}-{issue.year}-{index:04d}",
            kind=InvoiceKind.INVOICE,
            issue_date=issue,
            due_date=issue + timedelta(days=terms),
            currency="EUR",
            amount=Decimal(amount),
            open_amount=Decimal(open_amount) if open_amount else None,
            description=what,
        )
        documents.append(ParsedDocument(f"demo:{index}", debtors[code], invoice))
    return documents


def demo_statement(today: date, references: dict[str, str]) -> ParsedStatement:
    """Yesterday's bank statement of the demo creditor, for the console's decisions.

    ``references``: invoice number -> structured reference, as the ledger gave them.
    Three movements: an invoice paid by its reference (matched), an invoice paid
    with 50.00 too much by a debtor who still owes another one (a credit to set
    against it or to refund), and 120.00 from a consumer with two invoices of that
    amount open (a line waiting for staff, with both as candidates).
    """
    day = today - timedelta(days=1)
    numbers = sorted(references)
    dupont = next(n for n in numbers if n.endswith("-0002"))  # C1001, 486.20
    peeters = next(n for n in numbers if n.endswith("-0004"))  # C1002, 2100.00

    def line(
        n: int, amount: str, name: str, iban: str, reference: str | None, text: str
    ) -> StatementLine:
        return StatementLine(
            account_iban=DEMO_ACCOUNT,
            statement=f"{day:%Y}-{day.timetuple().tm_yday:03d}",
            booking_date=day,
            value_date=day,
            amount=Decimal(amount),
            currency="EUR",
            counterparty_name=name,
            counterparty_iban=iban,
            structured_reference=reference,
            free_text=text,
            bank_reference=f"DEMO-{day:%Y%m%d}-{n:04d}",
        )

    return ParsedStatement(
        f"demo-{day}.cod",
        "coda",
        (
            line(1, "486.20", "Boulangerie Dupont SRL", "BE71096123456769", references[dupont], ""),
            line(
                2, "2150.00", "Bouwbedrijf Peeters NV", "BE62510007547061", references[peeters], ""
            ),
            line(3, "120.00", "M. Lejeune", "BE43068999999501", None, "fitness"),
        ),
    )


DEMO_ACCOUNT = "BE68539007547034"
