"""Bank reconciliation end to end: a large ledger, a large statement, both databases.

    .venv/bin/python benchmarks/reconcile.py                       # 1,000,000 / 200,000
    .venv/bin/python benchmarks/reconcile.py --invoices 20000 --lines 5000 --db sqlite

Generates N open invoices (100 debtors per 1,000 invoices, each with an IBAN) and a
camt.053 statement whose lines are, like a real day of a Belgian creditor:

    60 %  a structured reference (half in Strd/CdtrRefInf, half typed as +++…+++)
    20 %  an invoice number in the free text, typed in several ways
    10 %  no reference, from the debtor's known IBAN, for the exact amount
    10 %  noise (unknown payers, bank charges) and partial payments by reference

then parses, stores, matches and allocates it with ``relance bank import``'s code
(``import_statement_files``: a file this large is read in a second process while
the parts already read are matched), timed from the file on disk to the committed
transaction, and prints:

    lines/s end to end, precision of the applied matches (right invoices / applied),
    recall (right invoices applied / lines the generator says pay an invoice)

Targets: >= 20,000 lines/s on SQLite; precision >= 99.9 %; recall >= 97 %.
PostgreSQL: a throwaway server is started as the tests do, or pass --pg-url.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stdnum import iban as std_iban  # noqa: E402

from adapters.bank.detect import parse_bytes  # noqa: E402
from adapters.db.bank_repo import import_statement_files, sync_invoice_keys  # noqa: E402
from adapters.db.engine import create_engine  # noqa: E402
from adapters.db.migrate import upgrade  # noqa: E402
from domain.reference import format_ogm, ogm_for_sequence  # noqa: E402

TODAY = date(2026, 3, 12)
ACCOUNT = "BE68539007547034"
FIRST = "Jan Marie Luc Anne Pieter Sophie Tom Emma Koen Julie Marc Lotte Paul Nina".split()  # noqa: SIM905
LAST = "Peeters Janssens Maes Jacobs Mertens Willems Claes Goossens Wouters Dubois Lambert".split()  # noqa: SIM905
TRADE = "Boulangerie Garage Brasserie Pharmacie Atelier Bureau Cabinet Transport Bouw".split()  # noqa: SIM905
FORMS = ["SRL", "SA", "BV", "NV", "SPRL", "", ""]


@dataclass
class Ledger:
    debtors: list[tuple[int, str, str, str]]  # id, code, name, iban
    invoices: list[tuple[int, str, int, str, int, date]]  # id, number, debtor, ref, cents, due


def belgian_iban(n: int) -> str:
    bban10 = f"{100 + n // 10_000_000 % 900:03d}{n % 10_000_000:07d}"
    check = int(bban10) % 97 or 97
    bban = f"{bban10}{check:02d}"
    return f"BE{std_iban.calc_check_digits('BE00' + bban)}{bban}"


def make_ledger(n_invoices: int, rng: random.Random) -> Ledger:
    n_debtors = max(1, n_invoices // 10)
    debtors = []
    for d in range(1, n_debtors + 1):
        if rng.random() < 0.5:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        else:
            name = f"{rng.choice(TRADE)} {rng.choice(LAST)} {rng.choice(FORMS)}".strip()
        debtors.append((d, f"C{d:07d}", f"{name} {d}", belgian_iban(d)))
    invoices = []
    for i in range(1, n_invoices + 1):
        due = TODAY - timedelta(days=rng.randint(-30, 120))
        invoices.append(
            (
                i,
                f"INV-2026-{i:07d}",
                rng.randint(1, n_debtors),
                ogm_for_sequence(i),
                rng.randint(1_000, 500_000),
                due,
            )
        )
    return Ledger(debtors, invoices)


def _number_as_typed(number: str, rng: random.Random) -> str:
    seq = number.rsplit("-", 1)[1]
    return rng.choice(
        [
            f"Facture {number}",
            f"factuur {number.lower()}",
            f"inv 2026/{int(seq)}",
            f"INV2026{seq} thanks",
            f"Rechnung 2026-{seq}",
            f"payment of invoice {number.replace('-', ' ')}",
        ]
    )


def make_statement(
    ledger: Ledger, n_lines: int, rng: random.Random
) -> tuple[bytes, list[set[int]]]:
    """A camt.053 document and, per line, the invoices it truly pays (empty: none)."""
    pool = list(ledger.invoices)
    rng.shuffle(pool)
    taken: set[int] = set()
    by_debtor: dict[int, list[int]] = {}
    for inv in ledger.invoices:
        by_debtor.setdefault(inv[2], []).append(inv[0])
    debtor = {d[0]: d for d in ledger.debtors}
    invoice = {inv[0]: inv for inv in ledger.invoices}
    truth: list[set[int]] = []
    entries: list[str] = []

    def take() -> tuple[int, str, int, str, int, date]:
        while True:
            inv = pool.pop()
            if inv[0] not in taken:
                taken.add(inv[0])
                return inv

    for n in range(n_lines):
        kind = rng.random()
        ref_xml = ustrd = name = iban = ""
        paid: set[int] = set()
        sign = "CRDT"
        if kind < 0.60:  # structured reference
            inv = take()
            cents = inv[4]
            if rng.random() < 0.5:
                ref_xml = inv[3]
            else:
                ustrd = f"{format_ogm(inv[3])}"
            name, iban = debtor[inv[2]][2], debtor[inv[2]][3]
            paid = {inv[0]}
        elif kind < 0.80:  # invoice number in the text
            inv = take()
            cents = inv[4]
            ustrd = _number_as_typed(inv[1], rng)
            name = debtor[inv[2]][2]
            paid = {inv[0]}
        elif kind < 0.90:  # known IBAN and amount, nothing else
            inv = take()
            d = debtor[inv[2]]
            others = [invoice[i] for i in by_debtor[d[0]] if i not in taken]
            # another open invoice of the same amount: a case for staff, not a truth
            paid = set() if any(o[4] == inv[4] for o in others) else {inv[0]}
            cents, name, iban = inv[4], d[2], d[3]
            ustrd = rng.choice(["", "payment", "betaling", "paiement facture"])
        elif kind < 0.95:  # partial payment by reference
            inv = take()
            cents = rng.randint(100, inv[4] - 1)
            ustrd = format_ogm(inv[3])
            name, iban = debtor[inv[2]][2], debtor[inv[2]][3]
            paid = {inv[0]}
        else:  # noise: strangers, refunds, bank charges, salaries
            cents = rng.randint(100, 500_000)
            name = f"{rng.choice(FIRST)} {rng.choice(['Smith', 'Muller', 'Rossi', 'Garcia'])}"
            iban = belgian_iban(50_000_000 + n)
            ustrd = rng.choice(["refund", "salary 03/2026", "loyer mars", "gift", ""])
            if rng.random() < 0.5:
                sign = "DBIT"
        truth.append(paid if sign == "CRDT" else set())
        rmt = ""
        if ref_xml:
            rmt = (
                "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry>"
                f"<Issr>BBA</Issr></Tp><Ref>{ref_xml}</Ref></CdtrRefInf></Strd></RmtInf>"
            )
        elif ustrd:
            rmt = f"<RmtInf><Ustrd>{escape(ustrd)}</Ustrd></RmtInf>"
        acct = f"<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct>" if iban else ""
        amount = f"{cents // 100}.{cents % 100:02d}"
        entries.append(
            f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{sign}</CdtDbtInd><Sts>BOOK</Sts>'
            f"<BookgDt><Dt>{TODAY}</Dt></BookgDt><ValDt><Dt>{TODAY}</Dt></ValDt>"
            f"<AcctSvcrRef>BENCH-{n:08d}</AcctSvcrRef><NtryDtls><TxDtls>"
            f"<RltdPties><Dbtr><Nm>{escape(name)}</Nm></Dbtr>{acct}</RltdPties>{rmt}"
            "</TxDtls></NtryDtls></Ntry>"
        )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-03-13T06:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>BENCH-1</Id><Acct><Id><IBAN>{ACCOUNT}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>"
    )
    return document.encode(), truth


# ------------------------------------------------------------------ loading the ledger


def _rows(ledger: Ledger, now: datetime) -> tuple[list[tuple], list[tuple], list[tuple]]:
    debtors = [
        (d, code, name, "business", "fr", "x", now, now) for d, code, name, _ in ledger.debtors
    ]
    ibans = [(d, iban) for d, _, _, iban in ledger.debtors]
    invoices = [
        (
            i,
            number,
            debtor,
            "invoice",
            due - timedelta(days=30),
            due,
            "EUR",
            cents,
            cents,
            "open",
            ref,
            "x",
            now,
            now,
        )
        for i, number, debtor, ref, cents, due in ledger.invoices
    ]
    return debtors, ibans, invoices


_DEBTOR_COLS = "id, code, name, kind, language, content_hash, created_at, updated_at"
_INVOICE_COLS = (
    "id, number, debtor_id, kind, issue_date, due_date, currency, amount, open_amount, status,"
    " structured_reference, content_hash, created_at, updated_at"
)


def load_sqlite(path: str, ledger: Ledger) -> None:
    now = datetime.now(UTC)
    debtors, ibans, invoices = _rows(ledger, now)
    iso = now.isoformat(sep=" ")
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            f"INSERT INTO debtors ({_DEBTOR_COLS}) VALUES (?,?,?,?,?,?,?,?)",
            [(*r[:6], iso, iso) for r in debtors],
        )
        db.executemany("INSERT INTO debtor_ibans (debtor_id, iban) VALUES (?,?)", ibans)
        db.executemany(
            f"INSERT INTO invoices ({_INVOICE_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(*r[:4], r[4].isoformat(), r[5].isoformat(), *r[6:12], iso, iso) for r in invoices],
        )
    db.execute("ANALYZE")
    db.close()


async def load_postgres(url: str, ledger: Ledger) -> None:
    import asyncpg

    now = datetime.now(UTC)
    debtors, ibans, invoices = _rows(ledger, now)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.copy_records_to_table(
            "debtors", records=debtors, columns=[c.strip() for c in _DEBTOR_COLS.split(",")]
        )
        await conn.copy_records_to_table(
            "debtor_ibans", records=ibans, columns=["debtor_id", "iban"]
        )
        await conn.copy_records_to_table(
            "invoices", records=invoices, columns=[c.strip() for c in _INVOICE_COLS.split(",")]
        )
        for table in ("debtors", "invoices"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


# ------------------------------------------------------------------------- one run


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def run(
    url: str, label: str, ledger: Ledger, document: bytes, truth: list[set[int]], folder: str
) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    started = time.perf_counter()
    if url.startswith("sqlite"):
        load_sqlite(url.split("///", 1)[1], ledger)
    else:
        await load_postgres(url, ledger)
    engine = create_engine(url)
    async with engine.begin() as conn:
        keyed = await sync_invoice_keys(conn)
    print(
        f"[{label}] ledger loaded and {keyed:,} invoice numbers keyed in "
        f"{time.perf_counter() - started:.1f} s (setup, not timed below)"
    )

    statement_file = Path(folder) / "bench.xml"
    statement_file.write_bytes(document)
    started, cpu_started = time.perf_counter(), time.process_time()
    children_started = _children_cpu()
    result = await import_statement_files(engine, [statement_file], today=TODAY)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    reader_cpu = _children_cpu() - children_started
    statements = parse_bytes(document, str(statement_file))  # the lines, to score them
    lines = sum(len(s.lines) for s in statements)

    again_started = time.perf_counter()
    again = await import_statement_files(engine, [statement_file], today=TODAY)
    again_elapsed = time.perf_counter() - again_started
    await engine.dispose()

    applied = right = 0
    identities = [line.identity for line in statements[0].lines]
    for identity, paid in zip(identities, truth, strict=True):
        decision = result.decisions.get(identity)
        if decision is None or decision.chosen is None:
            continue
        applied += 1
        if {i.id for i in decision.chosen.invoices} == paid:
            right += 1
    expected = sum(1 for paid in truth if paid)
    recalled = sum(
        1
        for identity, paid in zip(identities, truth, strict=True)
        if paid
        and (d := result.decisions.get(identity)) is not None
        and d.chosen is not None
        and {i.id for i in d.chosen.invoices} == paid
    )
    print(f"[{label}] {lines:,} lines against {len(ledger.invoices):,} invoices")
    print(
        f"[{label}] end to end {elapsed:.2f} s = {lines / elapsed:,.0f} lines/s "
        f"(CPU: this process {cpu:.2f} s, the reading process {reader_cpu:.2f} s)"
    )
    steps = ", ".join(f"{step} {seconds:.2f}" for step, seconds in result.timings.items())
    print(f"[{label}] where this process's time goes (s): {steps}")
    print(f"[{label}] summary {result.summary()}")
    precision = 100 * right / max(applied, 1)
    print(f"[{label}] precision of applied matches {precision:.3f} % ({right:,}/{applied:,})")
    print(f"[{label}] recall {100 * recalled / max(expected, 1):.2f} % ({recalled:,}/{expected:,})")
    print(
        f"[{label}] same file again: {again.summary()['duplicates']:,} duplicates, "
        f"{again.summary()['transactions']} new, {again_elapsed:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.lines > args.invoices:
        parser.error("--lines cannot exceed --invoices (each line pays a distinct invoice)")

    from benchmarks.machine import speed_line

    print(speed_line("before"))
    rng = random.Random(args.seed)
    started = time.perf_counter()
    ledger = make_ledger(args.invoices, rng)
    document, truth = make_statement(ledger, args.lines, rng)
    print(
        f"generated {args.invoices:,} invoices and a {len(document) / 1e6:.0f} MB camt.053 of "
        f"{args.lines:,} lines in {time.perf_counter() - started:.1f} s"
    )
    # The generator's million invoices and its truth are the benchmark's, not the
    # system's (a real ``relance bank import`` holds none of them): one collection
    # now puts them in the oldest generation, which the import's own pause of the
    # collector (adapters.collector) leaves alone.  Not ``gc.freeze``: the import
    # hands what it made to the oldest generation only where nothing is frozen.
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="relance-bench-") as folder:
        if args.db in ("sqlite", "both"):
            asyncio.run(
                run(
                    f"sqlite+aiosqlite:///{folder}/bench.db",
                    "sqlite",
                    ledger,
                    document,
                    truth,
                    folder,
                )
            )
        if args.db in ("postgresql", "both"):
            if args.pg_url:
                asyncio.run(run(args.pg_url, "postgresql", ledger, document, truth, folder))
            else:
                from tests.conftest import PostgresServer, _fresh_pg_database

                server = PostgresServer()
                server.start()
                try:
                    url = asyncio.run(_fresh_pg_database(server.url()))
                    asyncio.run(run(url, "postgresql", ledger, document, truth, folder))
                finally:
                    server.stop()
    print(speed_line("after"))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
