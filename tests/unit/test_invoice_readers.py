"""CSV and UBL readers: what they read, and every problem with its place."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.imports import read_invoice_file
from adapters.imports.records import ParsedDocument, language_from_address
from adapters.imports.ubl import terms_days_from_note
from bot.errors import Problem
from domain.invoice import InvoiceKind

DATA = Path(__file__).resolve().parents[1] / "data"


def _read(path: Path) -> tuple[list[ParsedDocument], list[Problem]]:
    docs, problems = [], []
    for item in read_invoice_file(path):
        (problems if isinstance(item, Problem) else docs).append(item)
    return docs, problems  # type: ignore[return-value]


def test_csv_semicolons_decimal_comma_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    text = (
        "Numéro facture;Code client;Nom;Date;Échéance;Montant TTC;Langue;TVA\n"
        "F-1;C1;Café Léon;01/02/2026;03/03/2026;1.234,56;fr;BE 0403.170.701\n"
    )
    path.write_bytes(text.encode("cp1252"))
    docs, problems = _read(path)
    assert problems == []
    (doc,) = docs
    assert doc.debtor.name == "Café Léon"
    assert doc.debtor.enterprise_number == "0403170701"
    assert doc.invoice.amount == Decimal("1234.56")
    assert doc.invoice.issue_date == date(2026, 2, 1)
    assert doc.invoice.due_date == date(2026, 3, 3)
    assert doc.source == "export.csv:2"


def test_csv_commas_point_utf8_bom_and_payment_terms(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "invoice_number,debtor_code,debtor_name,issue_date,amount,payment_terms_days,kind,"
        "credited_invoice\n"
        "I-1,C1,Jan,2026-02-01,99.90,14,,\n"
        "CN-1,C1,Jan,2026-02-05,-10.00,,,I-1\n",
        encoding="utf-8-sig",
    )
    docs, problems = _read(path)
    assert problems == []
    assert docs[0].invoice.due_date == date(2026, 2, 15)
    assert docs[1].invoice.kind is InvoiceKind.CREDIT_NOTE
    assert docs[1].invoice.amount == Decimal("10.00")
    assert docs[1].invoice.credited_invoice == "I-1"


def test_csv_problems_name_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;issue_date;amount;structured_reference;email\n"
        "I-1;C1;Jan;2026-02-30;10;;\n"
        "I-2;C1;Jan;2026-02-01;10,123;;\n"
        "I-3;C1;Jan;2026-02-01;10;+++090/9337/55494+++;\n"
        "I-4;C1;Jan;2026-02-01;10;;not-an-email\n"
        "I-5;;Jan;2026-02-01;10;;\n"
        "I-6;C1;Jan;2026-02-01;10;;jan@example.be\n"
    )
    docs, problems = _read(path)
    assert [d.invoice.number for d in docs] == ["I-6"]
    assert [p.where for p in problems] == [
        "line 2, column issue_date",
        "line 3, column amount",
        "line 4, column structured_reference",
        "line 5, column email",
        "line 6, column debtor_code",
    ]
    assert all(p.source == "bad.csv" for p in problems)
    assert "2026-02-30" in problems[0].reason


def test_csv_mistyped_and_ambiguous_amounts_are_refused(tmp_path: Path) -> None:
    """A blind probe found "12,3,4" stored as 1234.00 and "1.500" as 1.50: a typing
    error or a thousandfold doubt is refused with its line, never guessed."""
    path = tmp_path / "amounts.csv"
    lines = ["12,3,4", "12.3.4", "12 3 4", "1.23.4,00", "1.234.5", "1.500", "1,500", "-2.250"]
    good = ["1.500,00", "1,500.00", "1 500,00", "1.234.567", "1500", "12,5"]
    path.write_text(
        "invoice_number;debtor_code;debtor_name;issue_date;amount\n"
        + "".join(f"I-{n};C1;Jan;2026-02-01;{a}\n" for n, a in enumerate(lines + good))
    )
    docs, problems = _read(path)
    assert [p.where for p in problems] == [
        f"line {n + 2}, column amount" for n in range(len(lines))
    ]
    assert "thousands are grouped by three digits" in problems[0].reason
    assert "ambiguous amount '1.500'" in problems[5].reason
    assert [d.invoice.amount for d in docs] == [
        Decimal(x) for x in ("1500.00", "1500.00", "1500.00", "1234567.00", "1500.00", "12.50")
    ]


def test_csv_headers_in_french_dutch_and_german(tmp_path: Path) -> None:
    """Headers as people type them in each language; an unknown one would have been
    dropped in silence (the due date, the open amount, the reference lost)."""
    headers = {
        "fr": "Numéro de facture;Code débiteur;Nom du débiteur;Date d'émission;"
        "Date d'échéance;Montant total;Reste à payer;Communication structurée",
        "nl": "Factuurnummer;Klantcode;Klantnaam;Factuurdatum;Vervaldatum;Totaalbedrag;"
        "Openstaand bedrag;Gestructureerde mededeling",
        "de": "Rechnungsnummer;Kundennummer;Kundenname;Rechnungsdatum;Fälligkeitsdatum;"
        "Bruttobetrag;Offener Betrag;Strukturierte Mitteilung",
    }
    for language, header in headers.items():
        path = tmp_path / f"{language}.csv"
        row = "F-1;C1;Jan;01/02/2026;16/03/2026;90,00;45,00;+++090/9337/55493+++"
        path.write_bytes(f"{header}\n{row}\n".encode("cp1252"))
        docs, problems = _read(path)
        assert problems == [], language
        (doc,) = docs
        assert doc.invoice.due_date == date(2026, 3, 16), language
        assert doc.invoice.amount == Decimal("90.00"), language
        assert doc.invoice.open_amount == Decimal("45.00"), language
        assert doc.invoice.structured_reference == "090933755493", language


def test_csv_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("number;name\n1;x\n")
    _, problems = _read(path)
    assert problems[0].where == "line 1"
    assert "debtor_code" in problems[0].reason


def test_ubl_invoice_with_due_date_and_ogm() -> None:
    docs, problems = _read(DATA / "ubl" / "invoice-with-due-date.xml")
    assert problems == []
    (doc,) = docs
    assert doc.invoice.number == "INV-2026-0100"
    assert doc.invoice.due_date == date(2026, 3, 3)
    assert doc.invoice.amount == Decimal("1210.00")
    assert doc.invoice.structured_reference == "090933755493"
    assert doc.debtor.code == "C1002"
    assert doc.debtor.enterprise_number == "0202239951"
    assert doc.debtor.kind == "business"
    assert doc.debtor.emails == ("boekhouding@peeters-bouw.be",)


def test_ubl_without_due_date_uses_payment_terms_note() -> None:
    (doc,), _ = _read(DATA / "ubl" / "invoice-without-due-date.xml")
    assert doc.invoice.due_date == date(2026, 3, 27)  # 2026-02-10 + 45 days


def test_ubl_credit_note_and_prepaid() -> None:
    (note,), _ = _read(DATA / "ubl" / "credit-note.xml")
    assert note.invoice.kind is InvoiceKind.CREDIT_NOTE
    assert note.invoice.credited_invoice == "INV-2026-0100"
    assert note.invoice.amount == Decimal("302.50")
    (prepaid,), _ = _read(DATA / "ubl" / "prepaid-invoice.xml")
    assert prepaid.invoice.amount == Decimal("1210.00")
    assert prepaid.invoice.open_amount == Decimal("910.00")
    assert prepaid.invoice.structured_reference == "RF18539007547034"
    assert prepaid.debtor.kind is None  # no enterprise number: decided at creation


def _prepaid_variant(tmp_path: Path, *changes: tuple[str, str]) -> ParsedDocument:
    """prepaid-invoice.xml (1,210.00, 300.00 prepaid) with some text replaced."""
    text = (DATA / "ubl" / "prepaid-invoice.xml").read_text("utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "variant.xml"
    path.write_text(text, "utf-8")
    (doc,), problems = _read(path)
    assert problems == []
    return doc


def test_ubl_prepaid_beyond_the_total_leaves_nothing_owed(tmp_path: Path) -> None:
    doc = _prepaid_variant(
        tmp_path,
        (">300.00</cbc:PrepaidAmount>", ">1500.00</cbc:PrepaidAmount>"),
        (">910.00</cbc:PayableAmount>", ">-290.00</cbc:PayableAmount>"),
    )
    assert (doc.invoice.kind, doc.invoice.amount) == (InvoiceKind.INVOICE, Decimal("1210.00"))
    assert doc.invoice.open_amount == Decimal("0.00")  # paid, not 1,210.00 open


def test_ubl_rounding_amount_is_part_of_what_is_owed(tmp_path: Path) -> None:
    rounding = '<cbc:PayableRoundingAmount currencyID="EUR">0.01</cbc:PayableRoundingAmount>'
    doc = _prepaid_variant(
        tmp_path,
        ('<cbc:PrepaidAmount currencyID="EUR">300.00</cbc:PrepaidAmount>', rounding),
        (">910.00</cbc:PayableAmount>", ">1210.01</cbc:PayableAmount>"),
    )
    assert (doc.invoice.amount, doc.invoice.open_amount) == (Decimal("1210.01"), None)


def test_ubl_buyer_with_a_legal_registration_is_a_business(tmp_path: Path) -> None:
    name = "<cbc:RegistrationName>Marie Lejeune</cbc:RegistrationName>"
    kvk = '<cbc:CompanyID schemeID="0106">11111111</cbc:CompanyID>'  # a Dutch KvK number
    assert _prepaid_variant(tmp_path, (name, name + kvk)).debtor.kind == "business"
    email = '<cbc:EndpointID schemeID="EM">marie.lejeune@example.be</cbc:EndpointID>'
    peppol = '<cbc:EndpointID schemeID="0106">11111111</cbc:EndpointID>'
    # a Peppol address other than an e-mail names an organisation too
    assert _prepaid_variant(tmp_path, (email, peppol)).debtor.kind == "business"
    assert _prepaid_variant(tmp_path).debtor.kind is None  # decided at creation


def test_ubl_problem_names_the_element() -> None:
    docs, problems = _read(DATA / "ubl" / "bad-missing-issue-date.xml")
    assert docs == []
    assert problems[0].where == "/Invoice/cbc:IssueDate"


def _refused(tmp_path: Path, *changes: tuple[str, str]) -> Problem:
    text = (DATA / "ubl" / "prepaid-invoice.xml").read_text("utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "variant.xml"
    path.write_text(text, "utf-8")
    docs, [problem] = _read(path)
    assert docs == []
    return problem


def test_ubl_refusals_found_by_a_blind_probe_of_public_files(tmp_path: Path) -> None:
    """An Order in the Invoice namespace, a currency that is no ISO 4217 code and an
    amount in exponent form were imported; they are refused, naming the element."""
    order = _refused(tmp_path, ("<Invoice ", "<Order "), ("</Invoice>", "</Order>"))
    assert order.where == "/Order"
    assert "the root element is Order in namespace" in order.reason
    code = ">EUR</cbc:DocumentCurrencyCode>"
    currency = _refused(tmp_path, (code, ">ZZZ</cbc:DocumentCurrencyCode>"))
    assert (currency.where, currency.reason) == (
        "/Invoice/cbc:DocumentCurrencyCode",
        "not an ISO 4217 currency code: 'ZZZ'",
    )
    exponent = _refused(tmp_path, (">910.00</cbc:PayableAmount>", ">9.1E2</cbc:PayableAmount>"))
    assert exponent.where == "/Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount"
    assert exponent.reason == "not an amount: '9.1E2'"


def test_ubl_totals_that_do_not_add_up_are_refused(tmp_path: Path) -> None:
    """BR-CO-16: PayableAmount = TaxInclusiveAmount - PrepaidAmount + rounding. A
    payable below the total with no prepaid amount was read as a prepayment."""
    prepaid = '<cbc:PrepaidAmount currencyID="EUR">300.00</cbc:PrepaidAmount>'
    problem = _refused(tmp_path, (prepaid, ""))
    assert (problem.where, problem.reason) == (
        "/Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount",
        "910.00 is not TaxInclusiveAmount 1210.00 - PrepaidAmount 0.00 + "
        "PayableRoundingAmount 0.00 (BR-CO-16)",
    )


def test_ubl_a_name_wrapped_over_lines_is_one_line(tmp_path: Path) -> None:
    name = "<cbc:RegistrationName>Marie Lejeune</cbc:RegistrationName>"
    wrapped = "<cbc:RegistrationName>Marie\n                Lejeune</cbc:RegistrationName>"
    assert _prepaid_variant(tmp_path, (name, wrapped)).debtor.name == "Marie Lejeune"


def test_ubl_not_xml(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text('<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">')
    _, problems = _read(path)
    assert problems[0].where.startswith("line ")


@pytest.mark.parametrize(
    ("note", "days"),
    [
        ("Net 30", 30),
        ("Payable within 60 days", 60),
        ("Paiement à 30 jours fin de mois", 30),
        ("Betaling binnen 45 dagen", 45),
        ("Zahlbar innerhalb 14 Tagen", 14),
        ("Contant", None),
        ("Fällig sofort, ohne Abzug", 0),
        ("Payable upon receipt", 0),
        ("Paiement à réception de la facture", 0),
        ("Onmiddellijk te betalen", 0),
        ("Sofort fällig, spätestens innerhalb 14 Tagen", 14),  # a number of days wins
    ],
)
def test_terms_from_note(note: str, days: int | None) -> None:
    assert terms_days_from_note(note) == days


@pytest.mark.parametrize(
    ("country", "postcode", "language"),
    [
        ("BE", "1000", "fr"),
        ("BE", "2000", "nl"),
        ("BE", "4700", "de"),
        ("BE", "9000", "nl"),
        ("BE", "5000", "fr"),
        ("NL", "1011", "nl"),
        ("DE", "10115", "de"),
        ("IE", "D02", "en"),
        ("BE", "", None),  # three languages: the creditor's default decides
        ("BE", "B-1000", "fr"),
    ],
)
def test_language_from_address(country: str, postcode: str, language: str | None) -> None:
    assert language_from_address(country, postcode) == language


def test_binary_file_is_refused_and_latin1_falls_back(tmp_path: Path) -> None:
    binary = tmp_path / "export.xlsx"
    binary.write_bytes(b"PK\x03\x04\x00\x00garbage")
    _, problems = _read(binary)
    assert problems[0].reason == "not a CSV text file (binary content)"
    latin = tmp_path / "latin.csv"
    # 0x81 is undefined in Windows-1252: the file is read as ISO-8859-1 instead.
    latin.write_bytes(
        b"invoice_number;debtor_code;debtor_name;issue_date;amount\nX\x81;C;Andr\xe9;2026-01-01;10\n"
    )
    docs, problems = _read(latin)
    assert problems == []
    assert docs[0].debtor.name == "André"


def test_an_xml_file_that_is_no_invoice_says_what_it_is(tmp_path: Path) -> None:
    from adapters.imports import read_invoice_rows

    order = tmp_path / "order.xml"
    order.write_text('<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>')
    empty = tmp_path / "empty.xml"
    empty.write_text("")
    [problem] = list(read_invoice_rows(order))
    assert problem.reason == (  # type: ignore[union-attr]
        "not a UBL Invoice or CreditNote: the root element is Order in namespace "
        "urn:oasis:names:specification:ubl:schema:xsd:Order-2"
    )
    [problem] = list(read_invoice_rows(empty))
    assert problem.reason == "the file is empty, not a UBL Invoice or CreditNote"  # type: ignore[union-attr]


def test_ubl_in_a_peppol_envelope_reads_as_the_invoice(tmp_path: Path) -> None:
    """Access points (Billit's inbox among them) deliver the invoice inside a
    Standard Business Document Header."""
    plain = (DATA / "ubl" / "invoice-with-due-date.xml").read_text("utf-8")
    body = plain.split("?>", 1)[1] if plain.startswith("<?xml") else plain
    wrapped = tmp_path / "sbdh.xml"
    wrapped.write_text(
        '<?xml version="1.0"?>\n<StandardBusinessDocument xmlns='
        '"http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader">'
        "<StandardBusinessDocumentHeader><HeaderVersion>1.0</HeaderVersion>"
        "<DocumentIdentification><Standard>urn:oasis:names:specification:ubl:schema:xsd:"
        "Invoice-2</Standard></DocumentIdentification></StandardBusinessDocumentHeader>"
        f"{body}</StandardBusinessDocument>",
        "utf-8",
    )
    (inside,), _ = _read(wrapped)
    (alone,), _ = _read(DATA / "ubl" / "invoice-with-due-date.xml")
    assert (inside.debtor, inside.invoice) == (alone.debtor, alone.invoice)
