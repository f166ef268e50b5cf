"""Invoices from CSV, as Excel and accounting packages export them.

    invoice_number;debtor_code;debtor_name;issue_date;due_date;amount
    INV-2026-0042;C0042;Boulangerie Dupont SRL;01/02/2026;03/03/2026;1.234,56

- Separator ``;``, ``,`` or tab, detected from the header line.
- Encoding UTF-8 (with or without BOM) or Windows-1252, detected by checking the
  whole file is valid UTF-8 first (Excel on Windows writes cp1252).
- Decimal comma or point, thousands separators tolerated (``domain.money.parse_decimal``).
- Dates ``YYYY-MM-DD``, ``DD/MM/YYYY``, ``DD-MM-YYYY`` or ``DD.MM.YYYY`` (day first, as
  in Belgium; never month first).
- Column names are matched case- and accent-insensitively, with French, Dutch and
  German aliases (see ``COLUMNS``); the README lists them.

Every bad row yields a ``Problem`` naming the file, line and column; the reader
goes on so that one run reports them all.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import sys
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

from adapters.imports.records import (
    DebtorRecord,
    DocumentRow,
    ParsedDocument,
    cents_text,
)
from bot.errors import Problem
from domain.debtor import normalise_email, normalise_enterprise_number, normalise_language
from domain.invoice import InvoiceKind
from domain.money import parse_decimal
from domain.reference import normalise as normalise_reference

# canonical column -> accepted header names (compared after folding, see _fold)
COLUMNS: dict[str, tuple[str, ...]] = {
    "invoice_number": (
        "invoice_number",
        "invoice",
        "number",
        "invoice_no",
        "numero",
        "numero_facture",
        "facture",
        "factuurnummer",
        "factuur",
        "nummer",
        "rechnungsnummer",
        "rechnung",
        "document_number",
        "numero_de_facture",
        "n_facture",
        "no_facture",
        "rechnungsnr",
        "invoice_nr",
        "document_no",
    ),
    "kind": ("kind", "type", "document_type", "doc_type", "soort", "art"),
    "debtor_code": (
        "debtor_code",
        "debtor_id",
        "customer_code",
        "customer_id",
        "customer",
        "client",
        "code_client",
        "klant",
        "klantnummer",
        "kundennummer",
        "debtor",
        "code_debiteur",
        "numero_client",
        "klantcode",
        "klant_code",
        "debiteurnummer",
        "debiteur",
        "debiteurcode",
        "kunde",
        "kunden_nr",
        "kundennr",
        "debitor",
        "debitorennummer",
        "customer_no",
        "customer_number",
    ),
    "debtor_name": (
        "debtor_name",
        "customer_name",
        "name",
        "nom",
        "nom_client",
        "naam",
        "klantnaam",
        "kundenname",
        "company",
        "nom_du_debiteur",
        "nom_debiteur",
        "raison_sociale",
        "debiteurnaam",
        "naam_klant",
        "bedrijfsnaam",
        "firma",
        "debitorname",
    ),
    "debtor_kind": ("debtor_kind", "customer_kind", "customer_type", "b2b_b2c", "segment"),
    "enterprise_number": (
        "enterprise_number",
        "company_number",
        "vat",
        "vat_number",
        "btw",
        "btw_nummer",
        "ondernemingsnummer",
        "tva",
        "numero_tva",
        "numero_entreprise",
        "bce",
        "kbo",
        "ust_idnr",
    ),
    "language": ("language", "lang", "langue", "taal", "sprache"),
    "email": ("email", "e_mail", "mail", "emails", "courriel"),
    "phone": ("phone", "telephone", "tel", "telefoon", "gsm", "mobile", "telefon"),
    "iban": ("iban", "bank_account", "account", "compte", "rekeningnummer", "rekening"),
    "street": ("street", "address", "adresse", "rue", "straat", "adres", "strasse"),
    "postcode": ("postcode", "postal_code", "zip", "code_postal", "postcode_", "plz"),
    "city": ("city", "ville", "localite", "gemeente", "stad", "ort", "stadt"),
    "country": ("country", "pays", "land"),
    "issue_date": (
        "issue_date",
        "date",
        "invoice_date",
        "date_facture",
        "factuurdatum",
        "rechnungsdatum",
        "datum",
        "date_d_emission",
        "date_emission",
        "date_de_facture",
        "date_de_la_facture",
        "uitgiftedatum",
        "belegdatum",
    ),
    "due_date": (
        "due_date",
        "due",
        "echeance",
        "date_echeance",
        "vervaldatum",
        "vervaldag",
        "faelligkeit",
        "faelligkeitsdatum",
        "date_d_echeance",
        "falligkeit",
        "falligkeitsdatum",
        "faellig_am",
        "fallig_am",
    ),
    "payment_terms_days": (
        "payment_terms_days",
        "payment_terms",
        "terms",
        "terms_days",
        "delai",
        "betalingstermijn",
        "zahlungsziel",
    ),
    "currency": (
        "currency",
        "devise",
        "munt",
        "valuta",
        "waehrung",
        "wahrung",
    ),
    "amount": (
        "amount",
        "total",
        "amount_incl_vat",
        "montant",
        "montant_ttc",
        "bedrag",
        "totaal",
        "betrag",
        "montant_total",
        "total_ttc",
        "bedrag_incl_btw",
        "totaalbedrag",
        "bruttobetrag",
        "gesamtbetrag",
        "rechnungsbetrag",
        "amount_due",
    ),
    "open_amount": (
        "open_amount",
        "open",
        "balance",
        "outstanding",
        "solde",
        "openstaand",
        "saldo",
        "offen",
        "montant_ouvert",
        "reste_a_payer",
        "solde_du",
        "openstaand_bedrag",
        "open_bedrag",
        "offener_betrag",
        "restbetrag",
        "amount_open",
        "balance_due",
    ),
    "structured_reference": (
        "structured_reference",
        "reference",
        "ogm",
        "communication",
        "communication_structuree",
        "gestructureerde_mededeling",
        "mededeling",
        "payment_reference",
        "verwendungszweck",
        "strukturierte_mitteilung",
        "zahlungsreferenz",
        "referenz",
        "vcs",
    ),
    "description": ("description", "libelle", "omschrijving", "beschreibung", "memo"),
    "credited_invoice": (
        "credited_invoice",
        "credits_invoice",
        "original_invoice",
        "facture_liee",
        "gekoppelde_factuur",
        "bezug",
    ),
}
REQUIRED = ("invoice_number", "debtor_code", "debtor_name", "issue_date", "amount")
_CREDIT_WORDS = {
    "credit_note",
    "credit",
    "creditnote",
    "note_de_credit",
    "nc",
    "cn",
    "creditnota",
    "gutschrift",
    "avoir",
    "381",
}
_INVOICE_WORDS = {"invoice", "facture", "factuur", "rechnung", "inv", "380", ""}
_DEBTOR_KINDS = {
    "b2b": "business",
    "b2c": "consumer",
    "company": "business",
    "entreprise": "business",
    "bedrijf": "business",
    "particulier": "consumer",
    "private": "consumer",
    "consument": "consumer",
    "consommateur": "consumer",
    "privat": "consumer",
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    out = []
    for char in ascii_text:
        out.append(char if char.isalnum() else "_")
    return "_".join(part for part in "".join(out).split("_") if part)


_ALIASES = {_fold(alias): canonical for canonical, names in COLUMNS.items() for alias in names}


def detect_encoding(path: Path) -> str | None:
    """``utf-16`` with its byte-order mark (Excel's "Unicode text"), ``utf-8-sig``
    when the whole file is valid UTF-8, else ``cp1252`` when it is valid
    Windows-1252, else ``latin-1``; None for a binary file (NUL bytes)."""
    with path.open("rb") as handle:
        head = handle.read(2)
        if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        handle.seek(0)
        for encoding in ("utf-8", "cp1252"):
            decoder = codecs.getincrementaldecoder(encoding)()
            handle.seek(0)
            try:
                while chunk := handle.read(1 << 20):
                    if b"\x00" in chunk:
                        return None
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return "utf-8-sig" if encoding == "utf-8" else encoding
    return "latin-1"


def parse_date(text: str) -> date:
    value = text.strip()
    try:
        if len(value) >= 10 and value[4] == "-":
            return date.fromisoformat(value[:10])
        for sep in ("/", "-", "."):
            parts = value.split(sep)
            if len(parts) == 3 and all(p.strip().isdigit() for p in parts):
                day, month, year = (int(p) for p in parts)
                if year < 100:
                    year += 2000
                return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a valid date: {text!r} ({exc})") from None
    raise ValueError(f"not a date (expected YYYY-MM-DD or DD/MM/YYYY): {text!r}")


# "1.500" or "1,500": one separator and three digits.  As a decimal separator it
# gives 1.50, which an export of euro amounts (two decimals) does not write; as a
# thousands separator 1500, or 12340 for an export of "12,340" with three decimals.
# A thousandfold error either way, so the line is refused and the user says which.
_AMBIGUOUS = re.compile(r"[-+(]?\s*\d{1,3}[.,]\d{3}\s*\)?-?")


def _amount(text: str) -> Decimal:
    bare = text.replace("€", "").replace("EUR", "").strip()
    if _AMBIGUOUS.fullmatch(bare):
        whole, fraction = re.split(r"[.,]", bare.strip("-+() "))
        raise ValueError(
            f"ambiguous amount {text!r}: thousands or decimals? "
            f"write {whole}{fraction} or {whole}.{fraction[:2]} with two decimals"
        )
    value = parse_decimal(text)
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"more than two decimals: {text!r}")
    return value.quantize(Decimal("0.01"))


def read_csv(path: Path, payment_terms_days: int = 30) -> Iterator[ParsedDocument | Problem]:
    """The file's documents as ``ParsedDocument`` values, and every problem."""
    for item in read_csv_rows(path, payment_terms_days):
        yield item if isinstance(item, Problem) else item.document()


def read_csv_rows(path: Path, payment_terms_days: int = 30) -> Iterator[DocumentRow | Problem]:
    """The file's documents as ``DocumentRow`` tuples (the bulk import's form)."""
    name = path.name
    encoding = detect_encoding(path)
    if encoding is None:
        yield Problem(name, "file", "not a CSV text file (binary content)")
        return
    with path.open(newline="", encoding=encoding) as handle:
        header_line = handle.readline()
        if not header_line.strip():
            yield Problem(name, "line 1", "the file is empty: a header line is expected")
            return
        counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
        delimiter = max(counts, key=lambda k: counts[k])
        header = next(csv.reader([header_line], delimiter=delimiter))
        index: dict[str, int] = {}
        for position, title in enumerate(header):
            canonical = _ALIASES.get(_fold(title))
            if canonical and canonical not in index:
                index[canonical] = position
        missing = [c for c in REQUIRED if c not in index]
        if missing:
            yield Problem(
                name,
                "line 1",
                f"missing column(s) {', '.join(missing)} (found: {', '.join(header)})",
            )
            return
        records = _records(handle, delimiter)
        yield from _rows(name, records, index, len(header), payment_terms_days)


def _records(handle: Any, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each record's fields and line number (its last line, the header being 1).

    A line without a quote character is split by hand: the csv module would give
    the same fields at three times the cost.  A line with one goes to the csv
    module, which may take the following lines too (a quoted field can hold the
    delimiter and line breaks).
    """
    lines = iter(handle)
    quoted: list[str] = []

    def feed() -> Iterator[str]:
        while True:
            if quoted:
                yield quoted.pop()
            else:
                following = next(lines, None)
                if following is None:
                    return
                yield following

    reader = csv.reader(feed(), delimiter=delimiter)
    line = 1
    for text in lines:
        if '"' not in text:
            line += 1
            yield line, text.rstrip("\r\n").split(delimiter)
        else:
            quoted.append(text)
            taken = reader.line_num
            fields = next(reader)
            line += reader.line_num - taken
            yield line, fields


_AMOUNT_SIMPLE = re.compile(r"-?\d{1,15}(?:[.,]\d{1,2})?")
_DEBTOR_COLUMNS = (
    "debtor_code",
    "debtor_name",
    "debtor_kind",
    "enterprise_number",
    "language",
    "email",
    "phone",
    "iban",
    "street",
    "postcode",
    "city",
    "country",
)
_INVOICE_COLUMNS = (
    "invoice_number",
    "kind",
    "issue_date",
    "due_date",
    "payment_terms_days",
    "currency",
    "amount",
    "open_amount",
    "structured_reference",
    "description",
    "credited_invoice",
)
_CREDIT_NOTE = InvoiceKind.CREDIT_NOTE.value
_INVOICE = InvoiceKind.INVOICE.value


def _cents(text: str) -> int:
    """An amount as integer cents.

    The common shapes (``1234,56``, ``-12.5``, ``40``) by string operations: exactly
    what ``Decimal(text).quantize(0.01) * 100`` gives, at a third of the cost; any
    other shape (thousands separators, currency signs, brackets) goes through the
    general ``parse_decimal``.
    """
    if _AMOUNT_SIMPLE.fullmatch(text) is None:
        return int(_amount(text).scaleb(2))
    whole, _sep, part = text.replace(",", ".").partition(".")
    digits = whole + (part + "00")[:2]  # "-12" "5" -> "-1250"
    return int(digits)


def _fast_date(text: str) -> date:
    if len(text) == 10 and text[2] == text[5] and text[2] in "/-.":
        try:
            return date(int(text[6:]), int(text[3:5]), int(text[:2]))
        except ValueError:
            pass  # the general parser gives the message
    return parse_date(text)


def _rows(
    name: str,
    records: Iterator[tuple[int, list[str]]],
    index: dict[str, int],
    width: int,
    terms_default: int,
) -> Iterator[DocumentRow | Problem]:
    """Each CSV line's fields as a ``DocumentRow`` or a ``Problem``.

    Per line only what differs from line to line is done.  What repeats is
    remembered: date texts (a ledger has a few hundred distinct dates), and each
    debtor's checked record with the raw text of its columns (a debtor has many
    invoices; its e-mail, enterprise number and IBAN are checked once).  The same
    record object then comes back for the same text, which the importer's merge of
    debtor data recognises at no cost.  One loop with everything in local
    variables: this runs a million times for a large export.
    """
    # Only the file's columns are read and stripped; ``canonical`` then puts them
    # in _INVOICE_COLUMNS + _DEBTOR_COLUMNS order, "" for the absent ones.
    order = _INVOICE_COLUMNS + _DEBTOR_COLUMNS
    present = [c for c in order if c in index]  # at least the REQUIRED ones
    wanted = itemgetter(*(index[c] for c in present))
    canonical = itemgetter(*(present.index(c) if c in index else len(present) for c in order))
    absent = ("",)
    split = len(_INVOICE_COLUMNS)
    padding = [""] * width
    dates: dict[str, tuple[date, str]] = {}
    # debtor code -> (its columns' raw text joined, the checked record or the
    # problem): one string rather than a tuple of twelve keeps 200,000 debtors
    # in 60 MB less; the separator count makes the joined form unambiguous.
    debtors: dict[str, tuple[str | tuple[str, ...], DebtorRecord | tuple[str, str]]] = {}
    separators = len(_DEBTOR_COLUMNS) - 1
    strip, new_row, blake2b = str.strip, _new_row, hashlib.blake2b
    for line, fields in records:
        if len(fields) < width:
            fields += padding[len(fields) :]
        values = canonical(tuple(map(strip, wanted(fields))) + absent)
        (
            number,
            kind_raw,
            issue_text,
            due_text,
            terms_text,
            currency_text,
            amount_text,
            open_text,
            reference_text,
            description,
            credited,
        ) = values[:split]
        debtor_raw = values[split:]
        debtor_code = debtor_raw[0]
        column = ""
        try:
            if not (number and debtor_code and debtor_raw[1] and issue_text and amount_text):
                if not any(values):
                    continue  # a blank line
                for column, value in (  # noqa: B007 - column names the problem below
                    ("invoice_number", number),
                    ("debtor_code", debtor_code),
                    ("debtor_name", debtor_raw[1]),
                    ("issue_date", issue_text),
                    ("amount", amount_text),
                ):
                    if not value:
                        raise ValueError("is empty")
            column = "kind"
            if not kind_raw:
                kind = _INVOICE
            else:
                kind_text = _fold(kind_raw)
                if kind_text in _CREDIT_WORDS:
                    kind = _CREDIT_NOTE
                elif kind_text in _INVOICE_WORDS:
                    kind = _INVOICE
                else:
                    raise ValueError(f"must be invoice or credit_note, not {kind_raw!r}")
            column = "amount"
            amount = _cents(amount_text)
            if amount < 0:
                # Accounting exports often write credit notes as negative invoices.
                kind, amount = _CREDIT_NOTE, -amount
            column = "open_amount"
            open_amount = None
            if open_text:
                open_amount = abs(_cents(open_text))
                if open_amount > amount:
                    raise ValueError(
                        f"{cents_text(open_amount)} is more than the amount {cents_text(amount)}"
                    )
            column = "issue_date"
            known = dates.get(issue_text)
            if known is None:
                issued = _fast_date(issue_text)
                known = dates[issue_text] = (issued, issued.isoformat())
            issue, issue_iso = known
            column = "due_date"
            if due_text:
                known = dates.get(due_text)
                if known is None:
                    falls_due = _fast_date(due_text)
                    known = dates[due_text] = (falls_due, falls_due.isoformat())
                due, due_iso = known
            else:
                column = "payment_terms_days"
                terms = int(terms_text.split()[0]) if terms_text else terms_default
                if terms < 0:
                    raise ValueError("cannot be negative")
                due = issue + timedelta(days=terms)
                due_iso = due.isoformat()
            if due_iso < issue_iso:
                raise ValueError(f"{due} is before the issue date {issue}")
            column = "currency"
            currency = currency_text.upper() if currency_text else "EUR"
            if len(currency) != 3 or not currency.isalpha():
                raise ValueError(f"not an ISO 4217 code: {currency!r}")
            column = "structured_reference"
            reference = None
            if reference_text:
                reference = normalise_reference(reference_text)
                if reference is None:
                    raise ValueError(
                        f"{reference_text!r} is not a valid OGM (+++123/4567/89012+++) "
                        "or RF reference"
                    )
        except ValueError as exc:
            yield Problem(name, f"line {line}, column {column}", str(exc))
            continue

        joined = "\x1f".join(debtor_raw)
        key = joined if joined.count("\x1f") == separators else debtor_raw
        seen = debtors.get(debtor_code)
        if seen is None or seen[0] != key:
            seen = debtors[debtor_code] = (key, _debtor(debtor_raw))
        debtor = seen[1]
        if not isinstance(debtor, DebtorRecord):
            yield Problem(name, f"line {line}, column {debtor[0]}", debtor[1])
            continue
        yield new_row(
            (
                number,
                debtor.code,  # one string object per debtor: pickled once a batch
                kind,
                issue,
                due,
                currency,
                amount,
                open_amount,
                reference,
                description,
                credited or None,
                # records.content_hash written out: a function call with ten
                # arguments costs a tenth of the line's time (tests compare both).
                blake2b(
                    "\x1f".join(
                        (
                            debtor_code,
                            kind,
                            issue_iso,
                            due_iso,
                            currency,
                            f"{amount // 100}.{amount % 100:02d}",
                            ""
                            if open_amount is None
                            else f"{open_amount // 100}.{open_amount % 100:02d}",
                            reference or "",
                            description,
                            credited,
                        )
                    ).encode(),
                    digest_size=16,
                ).hexdigest(),
                f"{name}:{line}",
                debtor,
            )
        )


def _new_row(values: tuple[object, ...]) -> DocumentRow:
    # tuple.__new__ skips the NamedTuple's keyword-handling constructor (4x faster).
    return tuple.__new__(DocumentRow, values)


def _debtor(raw: tuple[str, ...]) -> DebtorRecord | tuple[str, str]:
    """The debtor columns checked: a record, or (column, reason)."""
    (
        code,
        name,
        debtor_kind_raw,
        enterprise_text,
        language_text,
        email_text,
        phone,
        iban_text,
        street,
        postcode,
        city,
        country_text,
    ) = raw
    column = ""
    try:
        column = "enterprise_number"
        enterprise = None
        if enterprise_text:
            country = (country_text or "BE").upper()
            if country == "BE" or enterprise_text.upper().startswith("BE"):
                enterprise = normalise_enterprise_number(enterprise_text)
        column = "debtor_kind"
        kind_of_debtor = None
        if debtor_kind_raw:
            kind_of_debtor = sys.intern(
                _DEBTOR_KINDS.get(debtor_kind_raw.lower(), debtor_kind_raw.lower())
            )
            if kind_of_debtor not in ("business", "consumer"):
                raise ValueError(f"must be business or consumer, not {debtor_kind_raw!r}")
        column = "language"
        # sys.intern: one string for the few values 200,000 debtors share.
        language = sys.intern(normalise_language(language_text)) if language_text else None
        column = "email"
        emails: tuple[str, ...] = ()
        if email_text:
            emails = tuple(
                normalise_email(e) for e in email_text.replace(",", ";").split(";") if e.strip()
            )
        column = "iban"
        ibans: tuple[str, ...] = ()
        if iban_text:
            from schwifty import IBAN

            ibans = tuple(
                str(IBAN(i.strip()).compact)
                for i in iban_text.replace(",", ";").split(";")
                if i.strip()
            )
    except ValueError as exc:  # schwifty's errors are ValueErrors too
        return (column, str(exc))
    # tuple.__new__: the NamedTuple's keyword-handling constructor costs half the
    # time of checking a debtor.
    return tuple.__new__(
        DebtorRecord,
        (
            code,
            name,
            kind_of_debtor,
            language,
            enterprise,
            phone or None,
            street or None,
            postcode or None,
            city or None,
            sys.intern(country_text.upper()) or None,
            emails,
            ibans,
        ),
    )
