"""Large imports: the bulk path (an empty ledger, indexes rebuilt at the end, the file
read in a second process) gives the same ledger as the row-by-row path, and refuses
a bad row deep in the file as completely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import create_engine
from adapters.db.ledger import BULK_ROWS, import_batches, import_invoices
from adapters.db.ledger_read import invoice_json, invoice_query
from adapters.db.migrate import upgrade
from adapters.db.schema import (
    counters,
    debtor_emails,
    debtors,
    invoice_history,
    invoices,
)
from adapters.imports import read_invoice_file, read_invoice_rows
from adapters.imports.pipeline import BackgroundReader
from bot.errors import ImportRefused
from domain.reference import is_valid_ogm, ogm_for_sequence
from tests.conftest import _fresh_pg_database

HEADER = (
    "Numéro;Client;Nom;Type client;Langue;Courriel;Date;Échéance;Montant;Solde;"
    "Communication;Type;Facture liée\n"
)


def _line(n: int, amount: str | None = None, due: str | None = None) -> str:
    note = n % 50 == 7 and n > 7  # a credit note for the invoice before, same debtor
    debtor = (n - 1 if note else n) % 37
    name = f"Café Léon {debtor}" if debtor % 2 else f"Bakkerij Peeters {debtor}"
    email = f"compta{debtor}@example.be" if n % 3 else ""  # some lines omit it: merged
    issue = f"{1 + n % 28:02d}/0{1 + n % 9}/2026"
    due = due or f"{1 + n % 28:02d}/{2 + n % 9:02d}/2026"
    balance, reference, kind, credited = "", "", "", ""
    if note:
        kind, credited, amount = "avoir", f"F-{n - 1:06d}", amount or "5,00"
    elif n % 11 == 0:
        balance = "10,00"  # the source system saw part of it paid
    if n % 13 == 0:
        reference = f"+++{ogm_for_sequence(900_000 + n)}+++"
    amount = amount or f"{100 + n % 900},{n % 100:02d}"
    return (
        f"F-{n:06d};C{debtor:03d};{name};{'b2b' if debtor % 2 else 'b2c'};fr;{email};"
        f"{issue};{due};{amount};{balance};{reference};{kind};{credited}\n"
    )


def _write(path: Path, count: int, changed: dict[int, str] | None = None) -> Path:
    changed = changed or {}
    lines = [changed.get(n) or _line(n) for n in range(1, count + 1)]
    path.write_bytes((HEADER + "".join(lines)).encode("cp1252"))  # as Excel writes it
    return path


async def _ledger(engine: AsyncEngine) -> dict[str, object]:
    async with engine.connect() as conn:
        found = {
            r.number: invoice_json(r)
            for r in await conn.execute(invoice_query(include_credit_notes=True))
        }
        people = [
            tuple(r)
            for r in await conn.execute(
                select(
                    debtors.c.code,
                    debtors.c.name,
                    debtors.c.kind,
                    debtors.c.language,
                    debtor_emails.c.email,
                )
                .outerjoin(debtor_emails)
                .order_by(debtors.c.code)
            )
        ]
    return {"invoices": found, "debtors": people}


async def _indexes(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        else:
            query = "SELECT indexname, indexdef FROM pg_indexes ORDER BY indexname"
        return [tuple(r) for r in await conn.execute(text(query))]  # type: ignore[misc]


@pytest.fixture
async def second_engine(
    db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncEngine]:
    """Another empty database of the same kind as ``engine``'s."""
    if db_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'second.db'}"
    else:
        url = await _fresh_pg_database(request.getfixturevalue("pg_server"))
    eng = create_engine(url)
    await upgrade(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


async def test_bulk_import_equals_updating_an_older_ledger(
    engine: AsyncEngine, second_engine: AsyncEngine, tmp_path: Path
) -> None:
    count = 3 * BULK_ROWS
    original = _write(tmp_path / "ledger.csv", count)
    changes = {
        5: _line(5, amount="999,99"),
        1200: _line(1200, due="30/12/2026"),
        2999: _line(2999, amount="1,00"),
    }
    newer = _write(tmp_path / "ledger-2.csv", count, changes)
    indexes = await _indexes(engine)

    # The older file first (an empty ledger: the bulk path), then the newer one.
    first = await import_invoices(engine, [(original.name, read_invoice_rows(original))])
    assert first.created == count
    assert await _indexes(engine) == indexes  # rebuilt before the commit
    if engine.dialect.name == "sqlite":  # the page cache it changed is as it was
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA cache_size")).scalar() == -65536
    again = await import_invoices(engine, [(original.name, read_invoice_rows(original))])
    assert again.as_dict() == {
        "created": 0,
        "updated": 0,
        "unchanged": count,
        "credit_notes": first.credit_notes,
    }
    before = await _ledger(engine)
    update = await import_invoices(engine, [(newer.name, read_invoice_rows(newer))])
    assert (update.updated, update.unchanged) == (3, count - 3)

    # The newer file alone into an empty ledger, read in a second process.
    with BackgroundReader([newer], 30) as batches:
        fresh = await import_batches(second_engine, batches)
    assert fresh.created == count

    updated, direct = await _ledger(engine), await _ledger(second_engine)
    assert updated == direct
    assert updated != before
    assert direct["invoices"]["F-000005"]["amount"] == "999.99"  # type: ignore[index]
    assert direct["invoices"]["F-001200"]["due_date"] == "2026-12-30"  # type: ignore[index]
    assert direct["invoices"]["F-000011"]["open_amount"] == "10.00"  # type: ignore[index]
    assert direct["debtors"][1][1] == "Café Léon 1"  # type: ignore[index]
    references = [i["structured_reference"] for i in direct["invoices"].values()]  # type: ignore[attr-defined]
    invoice_references = [r for r in references if r]
    assert all(is_valid_ogm(r) for r in invoice_references)
    assert len(set(invoice_references)) == len(invoice_references)
    async with engine.connect() as conn:
        history = (await conn.execute(select(invoice_history.c.changes))).scalars().all()
    assert sorted((json.loads(h) for h in history), key=str) == sorted(
        [
            {"amount": ["105.05", "999.99"]},
            {"due_date": ["2026-05-25", "2026-12-30"]},
            {"amount": ["399.99", "1.00"]},
        ],
        key=str,
    )


class _Recording(BackgroundReader):
    """A BackgroundReader that keeps what its batches carried."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.forms: list[tuple[int, int]] = []
        self.bound: set[str] = set()  # the numbers of the invoices that came as params
        for batch in super().__iter__():
            self.forms.append((len(batch.rows), len(batch.params)))
            self.bound.update(p[0] for p in batch.params)
            yield batch


async def test_rows_bound_as_the_reader_made_them_give_the_same_ledger(
    engine: AsyncEngine, second_engine: AsyncEngine, tmp_path: Path
) -> None:
    """Into an empty SQLite ledger the reading process makes the INSERT's own
    parameters for batches of plain invoices (debtor ordinals, OGMs numbered in
    SQL); batches with credit notes or opening balances still come as rows.  Both
    give the ledger the row-by-row import gives."""
    count = 1500
    path = _write(tmp_path / "ledger.csv", count)
    with _Recording([path], 30, size=5) as batches:
        bulk = await import_batches(engine, batches)
    direct = await import_invoices(second_engine, [(path.name, read_invoice_rows(path))])
    assert bulk.as_dict() == direct.as_dict()
    assert await _ledger(engine) == await _ledger(second_engine)
    async with engine.connect() as conn, second_engine.connect() as other:
        query = select(invoices.c.number, debtors.c.code, invoices.c.structured_reference)
        query = query.join(debtors).order_by(invoices.c.number)
        assert (await conn.execute(query)).all() == (await other.execute(query)).all()
        ogm = select(counters.c.value).where(counters.c.name == "ogm")
        assert (await conn.execute(ogm)).scalar() == (await other.execute(ogm)).scalar()
    if engine.dialect.name == "sqlite":
        plain = [n for rows, n in batches.forms if n]
        assert plain  # both forms were written
        assert len(plain) < len(batches.forms)
        assert sum(rows + n for rows, n in batches.forms) == count
        # Among the OGMs numbered in SQL, some whose base is a multiple of 97
        # (check digits 97, not 00).
        found = (await _ledger(engine))["invoices"]
        crossing = [
            number
            for number in batches.bound
            if found[number]["structured_reference"][:10].isdigit()  # type: ignore[index]
            and int(found[number]["structured_reference"][:10]) % 97 == 0  # type: ignore[index]
        ]
        assert crossing
    else:
        assert all(n == 0 for _, n in batches.forms)


async def test_a_bad_row_deep_in_a_large_file_refuses_everything(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    bad_line = 11_000  # past two written batches of 5,000
    path = _write(
        tmp_path / "ledger.csv", 12_000, {bad_line - 1: _line(bad_line - 1, amount="douze")}
    )
    indexes = await _indexes(engine)
    with BackgroundReader([path], 30) as batches, pytest.raises(ImportRefused) as refused:
        await import_batches(engine, batches)
    assert [(p.source, p.where) for p in refused.value.problems] == [
        ("ledger.csv", f"line {bad_line}, column amount")
    ]
    async with engine.connect() as conn:
        for table in (invoices, debtors, debtor_emails, counters):
            assert (await conn.execute(select(func.count()).select_from(table))).scalar() == 0
    assert await _indexes(engine) == indexes  # the dropped ones came back with the rollback


async def test_duplicates_and_conflicts_across_batches_are_all_reported(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "ledger.csv",
        7000,
        {
            6500: _line(10),  # F-000010 again, a batch later
            6600: _line(37)  # C000 under another name
            .replace("F-000037", "F-X")
            .replace("Bakkerij Peeters 0", "Someone Else"),
        },
    )
    with pytest.raises(ImportRefused) as refused:
        await import_invoices(engine, [(path.name, read_invoice_file(path))])
    reasons = [(p.source, p.where, p.reason) for p in refused.value.problems]
    assert reasons == [
        (
            "ledger.csv",
            "line 6501, column invoice_number",
            "document 'F-000010' appears twice in this import",
        ),
        (
            "ledger.csv",
            "line 6601, column debtor_name",
            "debtor C000: name is 'Someone Else' here but 'Bakkerij Peeters 0' at ledger.csv:38",
        ),
    ]
    assert await _ledger(engine) == {"invoices": {}, "debtors": []}


async def test_generated_references_cross_a_check_digit_of_97(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with engine.begin() as conn:
        await conn.execute(counters.insert().values(name="ogm", value=90))
    path = tmp_path / "a.csv"
    path.write_text(
        "invoice_number;debtor_code;debtor_name;issue_date;amount\n"
        + "".join(f"I-{n};C1;Jan;2026-02-01;10\n" for n in range(10))
    )
    await import_invoices(engine, [(path.name, read_invoice_rows(path))])
    found = {i["structured_reference"] for i in (await _ledger(engine))["invoices"].values()}  # type: ignore[attr-defined]
    assert found == {ogm_for_sequence(n) for n in range(91, 101)}
    assert ogm_for_sequence(97) in found  # base 97: remainder 0, check digits 97


def _relance(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ | {"DATABASE_URL": db_url},
        timeout=300,
        check=False,
    )


def test_cli_reads_a_large_file_in_a_second_process(db_url: str, tmp_path: Path) -> None:
    from bot.commands.ledger import BACKGROUND_BYTES

    count = 24_000
    bad = _write(tmp_path / "big.csv", count, {count - 2: _line(count - 2, due="31/02/2026")})
    assert bad.stat().st_size > BACKGROUND_BYTES
    refused = _relance(db_url, "import", "invoices", str(bad))
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"relance: big.csv: line {count - 1}, column due_date: not a valid date: "
        "'31/02/2026' (day is out of range for month); nothing was imported"
    ]

    good = _write(tmp_path / "big.csv", count)
    done = _relance(db_url, "import", "invoices", str(good))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["created"] == count
    listed = _relance(db_url, "invoices", "list", "--json", "--credit-notes")
    assert len(listed.stdout.splitlines()) == count
