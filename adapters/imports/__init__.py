"""Readers of invoice files (CSV, Peppol UBL) into ``records.ParsedDocument``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from adapters.imports.csv_invoices import read_csv
from adapters.imports.records import ParsedDocument
from adapters.imports.ubl import looks_like_ubl, read_ubl
from bot.errors import Problem


def read_invoice_file(
    path: Path, payment_terms_days: int = 30
) -> Iterator[ParsedDocument | Problem]:
    """Pick the reader by content: UBL XML or CSV."""
    if not path.is_file():
        yield Problem(path.name, "file", "no such file")
        return
    if looks_like_ubl(path):
        yield from read_ubl(path, payment_terms_days)
    elif path.suffix.lower() == ".xml":
        yield Problem(path.name, "file", "an XML file that is not a UBL Invoice or CreditNote")
    else:
        yield from read_csv(path, payment_terms_days)
