"""Ledger import benchmark: invoices per second and peak memory, SQLite beside PostgreSQL.

    python benchmarks/import_ledger.py                      # 1,000,000 invoices, 200,000 debtors
    python benchmarks/import_ledger.py --invoices 100000    # a quick run

Generates a CSV as an accounting export writes it (semicolons, decimal comma,
day-first dates), then imports it with ``relance import invoices`` into a fresh
SQLite file and into a fresh database on a private PostgreSQL server, and
re-imports it once (everything unchanged).  Each import is a command of its own:
its time is the command's, start to exit; its peak memory is that of the command
and its file-reading process together; "CPU s" is both processes' CPU time (on a
shared machine, a wall time well above CPU / 2 means the cores were busy with
something else).  Target: >= 50,000 invoices/s into SQLite, peak < 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIRST = ["Jan", "Marie", "Luc", "Sophie", "Pieter", "Anna", "Lukas", "Emma", "Tom", "Julie"]
LAST = ["Peeters", "Janssens", "Dubois", "Lambert", "Maes", "Schmitz", "Martin", "De Smet"]
TRADES = ["Bakkerij", "Garage", "Boulangerie", "Hotel", "Brasserie", "Bouw", "Tech", "Apotheek"]


def generate(path: Path, invoices: int, debtors: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = date(2025, 1, 1)
    languages = ["fr", "nl", "en", "de"]
    with path.open("w", encoding="utf-8") as out:
        out.write(
            "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;"
            "issue_date;due_date;amount\n"
        )
        for n in range(1, invoices + 1):
            d = rng.randrange(debtors)
            business = d % 3 != 0
            name = (
                f"{TRADES[d % len(TRADES)]} {LAST[d % len(LAST)]} {d}"
                if business
                else f"{FIRST[d % len(FIRST)]} {LAST[(d // 7) % len(LAST)]}"
            )
            issue = start + timedelta(days=rng.randrange(600))
            due = issue + timedelta(days=30 if business else 14)
            cents = rng.randrange(1000, 500_000)
            out.write(
                f"INV-{n:08d};D{d:06d};{name};{'business' if business else 'consumer'};"
                f"{languages[d % 4]};debtor{d}@example.be;"
                f"{issue:%d/%m/%Y};{due:%d/%m/%Y};{cents // 100},{cents % 100:02d}\n"
            )


def run_one(url: str, csv_path: Path) -> None:
    """Child process: one import, prints its figures as JSON.

    Peak memory is the largest sum of resident memory over the import's process
    and its own children (the import reads the file in a second process),
    sampled every 20 ms, and never less than the largest single process's
    ``ru_maxrss``.
    """
    import psutil

    env = os.environ | {"DATABASE_URL": url}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "import", "invoices", "--no-progress", str(csv_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass  # a process ended between listing and reading it
        time.sleep(0.02)
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"import failed: {stderr.strip()}")
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "peak_mb": max(peak / 2**20, usage.ru_maxrss / 1024),
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "summary": json.loads(stdout),
            }
        )
    )


def measure(url: str, csv_path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, str(csv_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--debtors", type=int, default=200_000)
    parser.add_argument("--pg-url", help="use this PostgreSQL database instead of a private server")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--child", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child[0], Path(args.child[1]))
        return

    from benchmarks.machine import speed_line

    print(speed_line("before"))
    with tempfile.TemporaryDirectory(prefix="relance-bench-") as folder:
        csv_path = Path(folder) / "invoices.csv"
        started = time.perf_counter()
        generate(csv_path, args.invoices, min(args.debtors, args.invoices))
        size_mb = csv_path.stat().st_size / 1e6
        print(
            f"generated {args.invoices:,} invoices for {args.debtors:,} debtors "
            f"({size_mb:.0f} MB CSV) in {time.perf_counter() - started:.1f} s"
        )

        targets: list[tuple[str, str]] = [("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db")]
        server = None
        if args.pg_url:
            targets.append(("PostgreSQL", args.pg_url))
        elif not args.no_pg:
            from tests.pgserver import PostgresServer

            server = PostgresServer()
            server.start()
            subprocess.run(
                [
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(server.bin / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(server.port),
                    "bench",
                ]
                if server.as_postgres
                else [
                    str(server.bin / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(server.port),
                    "bench",
                ],
                check=True,
            )
            targets.append(("PostgreSQL", server.url("bench")))
        try:
            print(
                f"\n{'database':<11} {'run':<9} {'seconds':>8} {'invoices/s':>11} "
                f"{'peak MB':>8} {'CPU s':>6}  summary"
            )
            for label, url in targets:
                for run in ("first", "again"):
                    figures = measure(url, csv_path)
                    seconds = float(figures["seconds"])  # type: ignore[arg-type]
                    print(
                        f"{label:<11} {run:<9} {seconds:>8.1f} "
                        f"{args.invoices / seconds:>11,.0f} {figures['peak_mb']:>8.0f} "
                        f"{figures['cpu_seconds']:>6.1f}  "
                        f"{json.dumps(figures['summary'])}"
                    )
        finally:
            if server:
                server.stop()
    print("\ntarget: >= 50,000 invoices/s into SQLite (first run), peak memory < 500 MB")
    print(speed_line("after"))


if __name__ == "__main__":
    main()
