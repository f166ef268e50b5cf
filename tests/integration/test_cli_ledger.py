"""``relance import invoices`` and ``relance invoices list --json`` as cli.md states them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

UBL = Path(__file__).resolve().parents[1] / "data" / "ubl"
CONTRACT_KEYS = {
    "number",
    "debtor",
    "debtor_kind",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "open_amount",
    "structured_reference",
    "status",
}


def relance(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_import_and_list_contract(db_url: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "invoices.csv"
    csv_file.write_text(
        "invoice_number,debtor_code,debtor_name,debtor_kind,issue_date,due_date,amount\n"
        "INV-2026-0042,C42,Boulangerie Dupont SRL,business,2026-02-01,2026-03-03,1234.56\n"
    )
    files = [str(csv_file), str(UBL / "invoice-with-due-date.xml"), str(UBL / "credit-note.xml")]
    done = relance(db_url, "import", "invoices", *files)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "credit_notes": 1,
    }

    listed = relance(db_url, "invoices", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["number"] for r in rows] == ["INV-2026-0042", "INV-2026-0100"]
    assert all(set(r) == CONTRACT_KEYS for r in rows)
    assert rows[0] == {
        "number": "INV-2026-0042",
        "debtor": "Boulangerie Dupont SRL",
        "debtor_kind": "business",
        "issue_date": "2026-02-01",
        "due_date": "2026-03-03",
        "currency": "EUR",
        "amount": "1234.56",
        "open_amount": "1234.56",
        "structured_reference": rows[0]["structured_reference"],
        "status": "open",
    }
    assert len(rows[0]["structured_reference"]) == 12
    assert rows[1]["open_amount"] == "907.50"
    assert rows[1]["status"] == "partially_paid"


def test_bad_input_is_one_line_without_traceback(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "invoice_number;debtor_code;debtor_name;issue_date;amount\nX;C;N;2026-01-01;ten\n"
    )
    done = relance(db_url, "import", "invoices", str(bad))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "relance: bad.csv: line 2, column amount: not an amount: 'ten'; nothing was imported"
    ]
    missing = relance(db_url, "import", "invoices", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert "nope.csv: file: no such file" in missing.stderr


def test_a_bad_or_unreachable_database_is_one_line(tmp_path: Path) -> None:
    bad = relance("not a url", "invoices", "list")
    assert bad.returncode == 2
    assert bad.stderr.startswith("relance: DATABASE_URL is not a database URL")
    assert "Traceback" not in bad.stderr
    unreachable = relance("postgresql+asyncpg://nobody@127.0.0.1:1/x", "invoices", "list")
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("relance: cannot reach the database")
    assert len(unreachable.stderr.strip().splitlines()) == 1


def test_a_credit_note_for_an_unknown_invoice_is_imported_with_a_warning(db_url: str) -> None:
    result = relance(db_url, "import", "invoices", str(UBL / "credit-note.xml"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "credit_notes": 1,
    }
    assert result.stderr.strip() == (
        "relance: warning: credit-note.xml: credit note 'CN-2026-0007' refers to "
        "'INV-2026-0100', which is not in the ledger: it stays a credit for the debtor"
    )
