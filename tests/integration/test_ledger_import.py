"""Importing invoices into the ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.allocations import apply_allocations, reverse_allocations
from adapters.db.ledger import import_invoices
from adapters.db.ledger_read import invoice_json, invoice_query
from adapters.db.schema import debtor_emails, debtors, invoice_history, invoices
from adapters.imports import read_invoice_file
from bot.errors import ImportRefused
from domain.reference import is_valid_ogm

DATA = Path(__file__).resolve().parents[1] / "data"
UBL = DATA / "ubl"

HEADER = (
    "invoice_number;debtor_code;debtor_name;language;email;issue_date;due_date;amount;open_amount\n"
)


async def _import(engine: AsyncEngine, *paths: Path) -> dict[str, int]:
    summary = await import_invoices(engine, [(p.name, read_invoice_file(p)) for p in paths])
    return summary.as_dict()


async def _invoices(engine: AsyncEngine) -> dict[str, dict[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(invoice_query(include_credit_notes=True))
        return {r.number: invoice_json(r) for r in rows}


async def test_csv_import_reimport_and_update(engine: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(
        HEADER
        + "I-1;C1;Dupont SRL;fr;a@dupont.be;2026-02-01;2026-03-03;400,00;\n"
        + "I-2;C1;Dupont SRL;fr;a@dupont.be;2026-02-05;2026-03-07;100,00;40,00\n"
        + "I-3;C2;Jan Peeters;nl;jan@peeters.be;2026-02-07;2026-03-09;50,00;\n"
    )
    assert await _import(engine, path) == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "credit_notes": 0,
    }
    found = await _invoices(engine)
    assert found["I-1"]["status"] == "open"
    assert found["I-2"]["open_amount"] == "40.00"
    assert found["I-2"]["status"] == "partially_paid"
    assert all(is_valid_ogm(f["structured_reference"]) for f in found.values())
    assert len({f["structured_reference"] for f in found.values()}) == 3

    # The same file again changes nothing.
    assert await _import(engine, path) == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "credit_notes": 0,
    }
    assert await _invoices(engine) == found

    # A changed amount updates the invoice, keeps its reference, and records history.
    path.write_text(
        HEADER
        + "I-1;C1;Dupont SRL;fr;a@dupont.be;2026-02-01;2026-03-10;450,00;\n"
        + "I-2;C1;Dupont SRL;fr;a@dupont.be;2026-02-05;2026-03-07;100,00;40,00\n"
    )
    assert await _import(engine, path) == {
        "created": 0,
        "updated": 1,
        "unchanged": 1,
        "credit_notes": 0,
    }
    after = await _invoices(engine)
    assert after["I-1"]["amount"] == "450.00"
    assert after["I-1"]["due_date"] == "2026-03-10"
    assert after["I-1"]["structured_reference"] == found["I-1"]["structured_reference"]
    async with engine.connect() as conn:
        changes = (await conn.execute(select(invoice_history.c.changes))).scalars().all()
    assert [json.loads(c) for c in changes] == [
        {"amount": ["400.00", "450.00"], "due_date": ["2026-03-03", "2026-03-10"]}
    ]


async def test_import_is_all_or_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "I-1;C1;Dupont;fr;;2026-02-01;;10;\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + "I-2;C1;Dupont;fr;;2026-02-01;;ten;\nI-1;C1;Dupont;fr;;2026-02-01;;10;\n"
    )
    with pytest.raises(ImportRefused) as refused:
        await _import(engine, good, bad)
    wheres = [(p.source, p.where) for p in refused.value.problems]
    assert ("bad.csv", "line 2, column amount") in wheres
    assert any("appears twice" in p.reason for p in refused.value.problems)
    assert "nothing was imported" in refused.value.message
    assert await _invoices(engine) == {}
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(debtors))).scalar_one() == 0


async def test_conflicting_debtor_data_in_one_file_is_refused(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "conflict.csv"
    path.write_text(
        HEADER + "I-1;C1;Dupont;fr;;2026-02-01;;10;\nI-2;C1;Dupont;nl;;2026-02-01;;10;\n"
    )
    with pytest.raises(ImportRefused) as refused:
        await _import(engine, path)
    assert "language is 'nl' here but 'fr'" in refused.value.problems[0].reason


async def test_ubl_invoices_and_credit_note(engine: AsyncEngine) -> None:
    result = await _import(
        engine,
        UBL / "credit-note.xml",  # before its invoice: credit notes apply at the end
        UBL / "invoice-with-due-date.xml",
        UBL / "invoice-without-due-date.xml",
        UBL / "prepaid-invoice.xml",
    )
    assert result == {"created": 4, "updated": 0, "unchanged": 0, "credit_notes": 1}
    found = await _invoices(engine)
    assert found["INV-2026-0100"]["open_amount"] == "907.50"  # 1210.00 - 302.50
    assert found["INV-2026-0100"]["structured_reference"] == "090933755493"
    assert found["INV-2026-0101"]["due_date"] == "2026-03-27"
    assert found["F-2026-0200"]["open_amount"] == "910.00"
    assert found["F-2026-0200"]["debtor_kind"] == "consumer"
    assert found["CN-2026-0007"]["open_amount"] == "0.00"
    assert (found["CN-2026-0007"]["kind"], found["CN-2026-0007"]["structured_reference"]) == (
        "credit_note",
        None,
    )
    assert "kind" not in found["INV-2026-0100"]  # invoices keep the contract's shape
    # Importing the credit note again does not credit twice.
    assert (await _import(engine, UBL / "credit-note.xml"))["unchanged"] == 1
    assert (await _invoices(engine))["INV-2026-0100"]["open_amount"] == "907.50"
    async with engine.connect() as conn:
        emails = (await conn.execute(select(debtor_emails.c.email))).scalars().all()
    assert "boekhouding@peeters-bouw.be" in emails


async def test_a_credit_note_for_an_invoice_the_ledger_lacks_stays_a_credit(
    engine: AsyncEngine,
) -> None:
    """Peppol does not require the receiver to know the corrected invoice (one from
    before the ledger began): the note is imported, its whole amount a credit for
    the debtor, with a warning; refusing it refused every other document with it."""
    summary = await import_invoices(
        engine, [("credit-note.xml", read_invoice_file(UBL / "credit-note.xml"))]
    )
    assert (summary.created, summary.credit_notes) == (1, 1)
    assert summary.warnings == [
        "credit-note.xml: credit note 'CN-2026-0007' refers to 'INV-2026-0100', which is "
        "not in the ledger: it stays a credit for the debtor"
    ]
    async with engine.connect() as conn:
        note = (
            await conn.execute(
                select(invoices.c.open_amount).where(invoices.c.number == "CN-2026-0007")
            )
        ).scalar_one()
    assert note == Decimal("302.50")
    # The invoice arrives later: the note is set against it on that import.
    await _import(engine, UBL / "invoice-with-due-date.xml", UBL / "credit-note.xml")
    assert (await _invoices(engine))["INV-2026-0100"]["open_amount"] == "907.50"


async def test_a_credit_note_cannot_take_an_invoices_number(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Documents are named by number: a credit note numbered like an invoice of the
    ledger (OpenPEPPOL's own examples do it) is refused, not turned into it."""
    await _import(engine, UBL / "invoice-with-due-date.xml")
    before = await _invoices(engine)
    text = (UBL / "credit-note.xml").read_text("utf-8")
    clash = tmp_path / "clash.xml"
    clash.write_text(
        text.replace("<cbc:ID>CN-2026-0007</cbc:ID>", "<cbc:ID>INV-2026-0100</cbc:ID>")
    )
    with pytest.raises(ImportRefused) as refused:
        await _import(engine, clash)
    [problem] = refused.value.problems
    assert (problem.source, problem.where) == ("clash.xml", "number")
    assert problem.reason == (
        "'INV-2026-0100' is an invoice in the ledger and a credit note in this file: "
        "give the credit note a number of its own"
    )
    assert await _invoices(engine) == before  # nothing changed


async def test_allocations_open_amounts_and_reversal(engine: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "I-1;C1;Dupont;fr;;2026-02-01;;400,00;\n")
    await _import(engine, path)
    async with engine.begin() as conn:
        invoice_id = (await conn.execute(select(invoices.c.id))).scalar_one()
        await apply_allocations(conn, [(invoice_id, "payment", "tx-1", Decimal("150.00"))])
        await apply_allocations(conn, [(invoice_id, "payment", "tx-1", Decimal("150.00"))])
    assert (await _invoices(engine))["I-1"]["open_amount"] == "250.00"
    async with engine.begin() as conn:
        await apply_allocations(conn, [(invoice_id, "payment", "tx-2", Decimal("250.00"))])
    assert (await _invoices(engine))["I-1"]["status"] == "paid"
    async with engine.begin() as conn:
        assert await reverse_allocations(conn, "payment", "tx-2") == [invoice_id]
    after = (await _invoices(engine))["I-1"]
    assert (after["open_amount"], after["status"]) == ("250.00", "partially_paid")


async def test_source_open_amount_does_not_count_a_payment_twice(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "I-1;C1;Dupont;fr;;2026-02-01;;400,00;\n")
    await _import(engine, path)
    async with engine.begin() as conn:
        invoice_id = (await conn.execute(select(invoices.c.id))).scalar_one()
        await apply_allocations(conn, [(invoice_id, "payment", "tx-1", Decimal("100.00"))])
    # The accounting export now knows that payment too: open 300, not 200.
    path.write_text(HEADER + "I-1;C1;Dupont;fr;;2026-02-01;;400,00;300,00\n")
    await _import(engine, path)
    assert (await _invoices(engine))["I-1"]["open_amount"] == "300.00"
    # It also saw a payment Relance did not: 50 more.
    path.write_text(HEADER + "I-1;C1;Dupont;fr;;2026-02-01;;400,00;250,00\n")
    await _import(engine, path)
    assert (await _invoices(engine))["I-1"]["open_amount"] == "250.00"
