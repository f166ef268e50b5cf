"""Readers of invoice files (CSV, Peppol UBL) into ``records.ParsedDocument``.

``read_invoice_rows`` gives the same documents as ``records.DocumentRow`` tuples,
the form a bulk import writes (see ``adapters.imports.pipeline``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from adapters.imports.csv_invoices import read_csv_rows
from adapters.imports.records import DocumentRow, ParsedDocument
from adapters.imports.ubl import looks_like_ubl, read_ubl
from bot.errors import Problem


def read_invoice_file(
    path: Path, payment_terms_days: int = 30
) -> Iterator[ParsedDocument | Problem]:
    """Pick the reader by content: UBL XML or CSV."""
    if path.is_file() and looks_like_ubl(path):
        yield from read_ubl(path, payment_terms_days)
        return
    for item in read_invoice_rows(path, payment_terms_days):
        yield item.document() if isinstance(item, DocumentRow) else item


def read_invoice_rows(path: Path, payment_terms_days: int = 30) -> Iterator[DocumentRow | Problem]:
    """As ``read_invoice_file``, each document as a ``DocumentRow``."""
    if not path.is_file():
        yield Problem(path.name, "file", "no such file")
        return
    if looks_like_ubl(path):
        for item in read_ubl(path, payment_terms_days):
            yield item if isinstance(item, Problem) else DocumentRow.from_document(item)
    elif path.suffix.lower() == ".xml":
        yield Problem(path.name, "file", _not_ubl(path))
    else:
        yield from read_csv_rows(path, payment_terms_days)


def _not_ubl(path: Path) -> str:
    """Why an .xml file is no invoice: empty, not XML, or which root element it has."""
    from lxml import etree

    if path.stat().st_size == 0:
        return "the file is empty, not a UBL Invoice or CreditNote"
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return f"not well-formed XML (line {exc.lineno}: {exc.msg})"
    name = etree.QName(root.getroot())
    return f"not a UBL Invoice or CreditNote: the root element is {name.localname}" + (
        f" in namespace {name.namespace}" if name.namespace else ""
    )
