"""A statement matched in parts decides what the whole statement would.

A large statement is matched while it is still being read, a few thousand lines
at a time.  Lines in a later part must see what earlier parts did: an invoice
partly paid, then found by its new open amount; a debtor's invoices paid one by
one; a line repeated across parts.  Each import below runs on a fresh ledger.
"""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.bank_repo import import_statement_files, import_statements_in
from adapters.db.bank_schema import bank_statements, bank_transactions
from domain.statement import ParsedStatement, StatementLine
from tests.integration.bank_fixtures import Inv, invoice_state, seed

TODAY = date(2026, 3, 12)
NAMES = {
    "D1": "Boulangerie Dupont SRL",
    "D2": "Jan Peeters",
    "D3": "ACME Industries GmbH",
    "D4": "Marie Dubois",
    "D5": "Garage Lambert",
}
IBANS = {"BE71096123456769": "D1", "BE68539007547034": "D2", "DE89370400440532013000": "D3"}
INVOICES = [
    Inv("INV-1001", "D1", "100.00", "000000100131"),
    Inv("INV-1002", "D1", "250.00", "000000100232"),
    Inv("INV-1003", "D1", "75.00", "000000100333"),
    Inv("INV-2001", "D2", "300.00", "000000200135"),
    Inv("INV-2002", "D2", "300.00", "000000200236"),
    Inv("INV-3001", "D3", "80.00", "000000300139"),
    Inv("INV-3002", "D3", "120.00", "000000300240"),
    Inv("INV-2026-00501", "D4", "60.00", "000000400143"),
    Inv("INV-5001", "D5", "200.00", "000000500147"),
    Inv("INV-2026-77777", "D5", "90.00", "000000500255"),
]


def line(n: int, amount: str, **fields: Any) -> StatementLine:
    values: dict[str, Any] = {
        "account_iban": "BE00000000000000",
        "statement": "S-1",
        "booking_date": TODAY,
        "value_date": TODAY,
        "amount": Decimal(amount),
        "currency": "EUR",
        "counterparty_name": "",
        "counterparty_iban": None,
        "structured_reference": None,
        "free_text": "",
        "bank_reference": f"REF-{n}",
    }
    values.update(fields)
    return StatementLine(**values)


LINES = [
    line(1, "40.00", structured_reference="000000400143"),  # INV-2026-00501: 20.00 left
    line(2, "100.00", structured_reference="000000100131"),  # INV-1001 paid
    line(3, "20.00", counterparty_name="DUBOIS MARIE"),  # finds the 20.00 line 1 left
    line(4, "250.00", counterparty_iban="BE71096123456769"),  # INV-1002, by IBAN
    line(5, "75.00", counterparty_iban="BE71096123456769"),  # INV-1003, the last open
    line(6, "300.00", counterparty_iban="BE68539007547034"),  # two open for 300: staff
    line(7, "200.00", counterparty_iban="DE89370400440532013000"),  # sum of D3's two
    line(2, "100.00", structured_reference="000000100131"),  # line 2 again
    line(9, "200.00", counterparty_name="Lambert Garage"),  # name and amount: staff
    line(10, "-15.00", free_text="bank charges"),
    line(11, "50.00", free_text="facture INV-2026-501"),  # 20.00 open: 30.00 over
    line(12, "120.00", counterparty_iban="DE89370400440532013000"),  # nothing left open
    line(13, "60.00", counterparty_name="Marie Dubois"),  # nothing open for 60 any more
    # Named by a number without its prefix, for what the invoice had open before
    # line 14: line 14 leaves 80.00, so the number alone no longer decides, and
    # the name (line 15) or the IBAN (line 16) is looked at after all.
    line(14, "10.00", structured_reference="000000500255"),
    line(15, "90.00", free_text="2026/77777", counterparty_name="Garage Lambert"),
    line(16, "90.00", free_text="2026/77777", counterparty_iban="BE68539007547034"),
]


def decisions(result: Any) -> dict[str, Any]:
    return {
        identity: (
            d.outcome.value,
            d.chosen and sorted(i.number for i in d.chosen.invoices),
            [(a.key, str(a.amount)) for a in d.allocations],
            str(d.overpayment),
            [(sorted(i.number for i in c.invoices), c.confidence) for c in d.candidates],
        )
        for identity, d in result.decisions.items()
    }


async def _run(engine: AsyncEngine, part: int | None) -> tuple[Any, ...]:
    await seed(engine, NAMES, IBANS, INVOICES)
    statements = [
        ParsedStatement("one.xml", "camt.053", tuple(LINES[:9])),
        ParsedStatement("two.xml", "camt.053", tuple(LINES[9:])),
    ]
    async with engine.begin() as conn:
        result = await import_statements_in(conn, statements, TODAY, part=part)
    return result.summary(), decisions(result), len(result.events), await invoice_state(engine)


@pytest.mark.parametrize("part", [1, 2, 3, 5])
async def test_parts_decide_what_the_whole_decides(
    engine: AsyncEngine, make_engine: Any, part: int
) -> None:
    whole = await _run(engine, None)
    in_parts = await _run(await make_engine(), part)
    assert in_parts == whole
    summary, decided, _, state = whole
    assert summary == {
        "transactions": 15,
        "duplicates": 1,
        "matched": 5,
        "partially_matched": 2,
        "to_review": 7,
    }
    assert state["INV-2026-00501"] == ("0.00", "paid")  # line 1, then line 11's 20.00
    assert state["INV-1002"] == ("0.00", "paid")
    assert state["INV-1003"] == ("0.00", "paid")
    assert state["INV-3001"] == ("0.00", "paid")
    assert state["INV-3002"] == ("0.00", "paid")
    assert state["INV-2001"] == ("300.00", "open")
    assert state["INV-5001"] == ("200.00", "open")
    third = decided[LINES[2].identity]
    assert third[0] == "to_review"
    assert third[4][0][0] == ["INV-2026-00501"]


# ------------------------------------------------------ files read in a second process

DATA = Path(__file__).resolve().parents[1] / "data" / "camt"


def _files(folder: Path) -> list[Path]:
    """A batch, a zip of two statements, a CODA file (read whole, sent in parts),
    and a file of two statements whose second has its account after its entries
    (read again as a whole tree: its parts already sent are forgotten)."""
    batch = DATA / "camt053_v02_batch.xml"
    archive = folder / "two.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(DATA / "camt054_v04.xml", "a-notification.xml")
        z.write(DATA / "camt053_v02_reference_forms.xml", "b-statement.xml")
    two = (DATA / "camt053_v02_bom_prefix_two_stmt.xml").read_bytes()
    first, cut, second = two.rpartition(b"<ns2:Stmt>")
    start = second.index(b"<ns2:Acct>")
    end = second.index(b"</ns2:Acct>") + len(b"</ns2:Acct>")
    account = second[start:end]
    late = second[:start] + second[end:].replace(b"</ns2:Stmt>", account + b"</ns2:Stmt>", 1)
    moved = folder / "late-head.xml"
    moved.write_bytes(first + cut + late)
    coda = DATA.parent / "coda" / "tryton-CODA.txt"
    return [batch, archive, coda, moved]


async def _statement_rows(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                bank_statements.c.source,
                bank_statements.c.format,
                bank_statements.c.account_iban,
                bank_statements.c.new_lines,
                bank_statements.c.duplicate_lines,
            ).order_by(bank_statements.c.id)
        )
        return [tuple(r) for r in rows]


async def _transactions(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    """Every stored transaction as read back, but for what differs by run."""
    columns = [c for c in bank_transactions.c if c.name not in ("id", "statement_id", "created_at")]
    async with engine.connect() as conn:
        rows = await conn.execute(select(*columns).order_by(bank_transactions.c.identity))
        return [tuple(r) for r in rows]


async def test_files_read_in_a_second_process_import_as_read_here(
    engine: AsyncEngine, make_engine: Any, tmp_path: Path
) -> None:
    from tests.integration.test_bank_import import IBANS as IBANS_
    from tests.integration.test_bank_import import INVOICES as INVOICES_
    from tests.integration.test_bank_import import NAMES as NAMES_

    files = _files(tmp_path)
    there = await make_engine()
    results = []
    for eng, background in ((engine, False), (there, True)):
        await seed(eng, NAMES_, IBANS_, INVOICES_)
        result = await import_statement_files(eng, files, TODAY, background=background, part=1)
        results.append(
            (
                result.summary(),
                decisions(result),
                await invoice_state(eng),
                await _statement_rows(eng),
                await _transactions(eng),
            )
        )
    assert results[1] == results[0]
    summary, _, state, statements, transactions = results[0]
    assert len(transactions) == summary["transactions"]
    assert summary["transactions"] > 10
    assert state["INV-1001"] == ("0.00", "paid")
    assert [row[0].rsplit("/", 1)[-1] for row in statements] == [
        "camt053_v02_batch.xml",
        "two.zip!a-notification.xml",
        "two.zip!b-statement.xml",
        "tryton-CODA.txt",
        "late-head.xml",
    ]


async def test_a_refused_file_in_a_second_process_imports_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    from adapters.bank import StatementError
    from adapters.bank.detect import parse_file

    bad = DATA / "camt053_bad_amount.xml"
    with pytest.raises(StatementError) as here:
        parse_file(bad)
    files = [DATA / "camt053_v02_batch.xml", bad]
    with pytest.raises(StatementError) as there:
        await import_statement_files(engine, files, TODAY, background=True, part=1)
    assert str(there.value) == str(here.value)
    assert await _statement_rows(engine) == []
