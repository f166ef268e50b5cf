"""``relance bank parse|import|review|accept|refunds`` as a person runs them (SQLite)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from lxml import etree

from adapters.db.engine import create_engine
from adapters.db.migrate import upgrade
from tests.integration.bank_fixtures import Inv, invoice_state, seed

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def relance(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env={"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "PATH": "/usr/bin:/bin"},
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def _seed(db: Path, invoices: list[Inv], ibans: dict[str, str]) -> None:
    async def run() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        await upgrade(engine)
        await seed(engine, {"D1": "Boulangerie Dupont SRL", "D2": "Jan Peeters"}, ibans, invoices)
        await engine.dispose()

    asyncio.run(run())


def _state(db: Path) -> dict[str, tuple[str, str]]:
    async def run() -> dict[str, tuple[str, str]]:
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        try:
            return await invoice_state(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_parse_prints_the_contract_shape() -> None:
    result = relance(Path("/nonexistent.db"), "bank", "parse", str(DATA / "coda/tryton-CODA.txt"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(t) for t in result.stdout.splitlines()]
    assert len(lines) == 81
    assert list(lines[0]) == [
        "account_iban", "statement", "booking_date", "value_date", "amount", "currency",
        "counterparty_name", "counterparty_iban", "structured_reference", "free_text",
        "bank_reference",
    ]  # fmt: skip


def test_bad_file_one_line_exit_2(tmp_path: Path) -> None:
    result = relance(tmp_path / "x.db", "bank", "import", str(DATA / "coda/malformed_amount.cod"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "relance: " + str(DATA / "coda/malformed_amount.cod")
        + ": line 3: amount is not a signed CODA amount: '000000000001X000'; nothing was imported"
    ]  # fmt: skip


def test_import_twice_review_accept_and_refund(tmp_path: Path) -> None:
    db = tmp_path / "relance.db"
    _seed(
        db,
        [Inv("INV-1001", "D1", "380.00", "000000100131"), Inv("INV-77", "D2", "200.00", "")],
        {"NL91ABNA0417164300": "D2"},
    )
    files = [str(DATA / "camt/camt053_v02_batch.xml")]
    first = relance(db, "bank", "import", *files)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "transactions": 4,
        "duplicates": 0,
        "matched": 2,
        "partially_matched": 0,
        "to_review": 1,
    }
    again = json.loads(relance(db, "bank", "import", *files).stdout)
    assert (again["transactions"], again["duplicates"]) == (0, 4)

    review = [json.loads(t) for t in relance(db, "bank", "review").stdout.splitlines()]
    assert [r["amount"] for r in review] == ["150.50"]  # names an invoice we do not have

    # the 400.00 paid 380.00: 20.00 to refund to the IBAN it came from
    out = tmp_path / "refunds.xml"
    refunds = relance(db, "bank", "refunds", "--out", str(out), "--execution-date", "2026-03-13")
    assert json.loads(refunds.stdout) == {"refunds": 1, "total": "20.00", "skipped": []}
    doc = etree.parse(str(out))
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    assert doc.findtext(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", namespaces=ns) == "20.00"
    assert doc.findtext(".//p:CdtrAcct/p:Id/p:IBAN", namespaces=ns) == "BE71096123456769"
    assert json.loads(relance(db, "bank", "refunds", "--out", str(out)).stdout)["refunds"] == 0
    assert _state(db)["INV-77"] == ("0.00", "paid")  # 200.00 from D2's known IBAN


def test_credits_set_against_and_approved_refund(tmp_path: Path) -> None:
    """D1 pays 400.00 for INV-1001 (350.00) while INV-0990 (30.00) is open: the 50.00
    is not refunded on its own; staff set it against INV-0990, then approve the rest."""
    from datetime import date

    db = tmp_path / "relance.db"
    _seed(
        db,
        [
            Inv("INV-1001", "D1", "350.00", "000000100131"),
            Inv("INV-0990", "D1", "30.00", "", due=date(2026, 2, 1)),
        ],
        {},
    )
    assert relance(db, "bank", "import", str(DATA / "camt/camt053_v02_batch.xml")).returncode == 0
    [credit] = [json.loads(t) for t in relance(db, "bank", "credits").stdout.splitlines()]
    assert {k: credit[k] for k in ("amount", "status", "open_invoices", "owed")} == {
        "amount": "50.00",
        "status": "open",
        "open_invoices": 1,
        "owed": "30.00",
    }
    out = tmp_path / "refunds.xml"
    held = json.loads(relance(db, "bank", "refunds", "--out", str(out)).stdout)
    assert (held["refunds"], [s["credit"] for s in held["skipped"]]) == (0, [credit["credit"]])
    assert not out.exists()

    used = relance(db, "bank", "set-against", str(credit["credit"]), "--invoice", "INV-0990")
    assert used.returncode == 0, used.stderr
    assert json.loads(used.stdout) == {
        "invoice": "INV-0990",
        "amount": "30.00",
        "open_amount": "0.00",
    }
    assert _state(db)["INV-0990"] == ("0.00", "paid")
    # D1 owes nothing now: the 20.00 left goes back without anyone approving it.
    refunds = json.loads(relance(db, "bank", "refunds", "--out", str(out)).stdout)
    assert (refunds["refunds"], refunds["total"]) == (1, "20.00")

    bad = relance(db, "bank", "approve-refund", str(credit["credit"]))
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        f"relance: credit {credit['credit']} is exported: it can no longer be used"
    )
