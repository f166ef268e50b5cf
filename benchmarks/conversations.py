"""Conversation benchmark: a debtor's message in, understood, decided, answered.

    python benchmarks/conversations.py                       # 3,000 messages per run
    python benchmarks/conversations.py --messages 300        # a quick run
    python benchmarks/conversations.py --databases sqlite    # SQLite only

The real application (``relance serve``'s aiohttp app, in its own process) is
seeded with debtors, and web-chat sessions are linked to them (``/start <token>``,
not measured).  Then aiohttp clients on loopback post debtors' messages to
POST /webhooks/rest/webhook — questions about the balance and payment details,
promises, payment claims, greetings, thanks, in four languages — first one sender
at a time, then 16 at once, each sender with its own sessions.  Every answer is
checked to be non-empty.  Printed per database and concurrency: messages/s,
p50/p99 latency and the server process's CPU time per message.  On a machine with
two or more cores the server runs on the last one and the clients on the others.
Target (SQLite): >= 300 messages/s and p99 <= 100 ms.

PostgreSQL runs on a private server started for the benchmark (as the tests
do), or on --pg-url.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MESSAGES = {
    "fr": [
        "Combien est-ce que je dois encore ?",
        "Sur quel compte dois-je faire le virement ?",
        "Je paierai vendredi.",
        "J'ai déjà payé hier.",
        "Bonjour",
        "Merci beaucoup",
    ],
    "nl": [
        "Hoeveel moet ik nog betalen?",
        "Op welk rekeningnummer moet ik betalen?",
        "Ik betaal vrijdag.",
        "Ik heb gisteren al betaald.",
        "Goeiedag",
        "Hartelijk bedankt",
    ],
    "en": [
        "How much do I still owe?",
        "What is your bank account number?",
        "I will pay on Friday.",
        "I already paid yesterday.",
        "Hello",
        "Thank you very much",
    ],
    "de": [
        "Wie viel muss ich noch zahlen?",
        "Auf welches Konto soll ich überweisen?",
        "Ich zahle am Freitag.",
        "Ich habe gestern schon bezahlt.",
        "Guten Tag",
        "Vielen Dank",
    ],
}
LANGUAGES = ("fr", "nl", "en", "de")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(url: str, debtors: int, folder: Path) -> list[tuple[str, str]]:
    """A migrated database with ``debtors`` debtors (two open invoices each); returns
    (language, link token) per debtor."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from adapters.db import conversation_repo as repo
    from adapters.db.engine import create_engine
    from adapters.db.ledger import import_invoices
    from adapters.db.migrate import upgrade
    from adapters.db.schema import debtors as debtor_table
    from adapters.imports import read_invoice_file

    today = datetime.now(UTC).date()
    path = folder / "ledger.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(
            "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;"
            "issue_date;due_date;amount\n"
        )
        for d in range(debtors):
            language = LANGUAGES[d % 4]
            kind = "consumer" if d % 3 == 0 else "business"
            for n in (1, 2):
                issue = today - timedelta(days=40 + 20 * n)
                out.write(
                    f"B{d:05d}-{n};D{d:05d};Debtor {d};{kind};{language};d{d}@example.be;"
                    f"{issue};{issue + timedelta(days=30)};{100 + d % 900},{n * 25:02d}\n"
                )
    engine = create_engine(url)
    try:
        await upgrade(engine)
        await import_invoices(engine, [(path.name, read_invoice_file(path))])
        tokens = []
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(debtor_table.c.id, debtor_table.c.language).order_by(debtor_table.c.id)
                )
            ).all()
            for debtor_id, language in rows:
                tokens.append((language, await repo.create_link_token(conn, debtor_id, "portal")))
        return tokens
    finally:
        await engine.dispose()


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    """The real app in its own process, run as ``relance serve`` runs it (without
    its access log on the terminal)."""
    code = (
        "import logging\n"
        "from bot.config import load_settings\n"
        "from bot.web.app import run\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "run(load_settings(), access_log=None)\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SMTP_HOST", "IMAP_HOST", "TELEGRAM_TOKEN")
    }
    env |= {
        "DATABASE_URL": url,
        "RELANCE_HOST": "127.0.0.1",
        "RELANCE_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)


def separate_cores(server_pid: int) -> set[int] | None:
    """The server on the last core, the benchmark's clients on the others, where the
    machine has two or more, as a load generator on a machine of its own would be.
    Unpinned, the scheduler sometimes runs both on one core, and the server's CPU a
    message (and so its rate) changed by half from one run to the next.  Returns
    the clients' cores before, to restore."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cores) < 2:
        return None
    os.sched_setaffinity(server_pid, {cores[-1]})
    os.sched_setaffinity(0, set(cores[:-1]))
    return set(cores)


async def wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    import aiohttp

    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit("the server stopped while starting")
            try:
                async with http.get(f"{base}/health") as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not start")


async def link(base: str, sessions: list[tuple[str, str, str]]) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        for session, _language, token in sessions:
            body = {"sender": session, "message": f"/start {token}"}
            async with http.post(f"{base}/webhooks/rest/webhook", json=body) as response:
                answer = await response.json()
                if response.status != 200 or not answer:
                    raise SystemExit(f"linking {session} failed: {answer}")


async def load(
    base: str,
    sessions: list[tuple[str, str, str]],
    senders: int,
    messages: int,
    run: str,
) -> dict[str, float]:
    """``senders`` clients at once, each on its own sessions, ``messages`` in all."""
    import aiohttp

    latencies: list[float] = []
    per_sender = messages // senders
    connector = aiohttp.TCPConnector(limit=senders)

    async def sender(number: int, http: aiohttp.ClientSession) -> None:
        mine = sessions[number::senders]
        for n in range(per_sender):
            session, language, _token = mine[n % len(mine)]
            text = MESSAGES[language][(n // len(mine)) % len(MESSAGES[language])]
            body = {"sender": session, "message": text, "metadata": {"message_id": f"{run}-{n}"}}
            started = time.perf_counter()
            async with http.post(f"{base}/webhooks/rest/webhook", json=body) as response:
                answer = await response.json()
            latencies.append(time.perf_counter() - started)
            if response.status != 200 or not answer:
                raise SystemExit(f"no answer to {text!r} ({response.status}): {answer}")

    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(sender(s, http) for s in range(senders)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "messages": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


async def bench_database(name: str, url: str, args: argparse.Namespace, folder: Path) -> None:
    tokens = await seed(url, args.debtors, folder)
    sessions = [(f"bench-{i}", language, token) for i, (language, token) in enumerate(tokens)]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(url, port)
    cores = separate_cores(server.pid)
    try:
        await wait_healthy(base, server)
        await link(base, sessions)
        # A short warm-up (connections, caches), not counted.
        await load(base, sessions, 4, min(200, args.messages), "warm")
        import psutil

        process = psutil.Process(server.pid)
        for senders in args.senders:
            cpu = sum(process.cpu_times()[:2])
            figures = await load(base, sessions, senders, args.messages, f"c{senders}")
            # The server's own CPU time per message (its database driver's thread
            # included): what the machine's load cannot explain away.
            figures["server_cpu_ms"] = (
                (sum(process.cpu_times()[:2]) - cpu) / figures["messages"] * 1000
            )
            print(
                f"{name:<10} senders={senders:>2}  {figures['messages']:>6} messages  "
                f"{figures['per_second']:8.1f} msg/s  p50 {figures['p50_ms']:6.1f} ms  "
                f"p99 {figures['p99_ms']:6.1f} ms  server CPU {figures['server_cpu_ms']:5.1f} "
                "ms/msg",
                flush=True,
            )
            print("  " + json.dumps({"database": name, "senders": senders} | figures), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if cores is not None:
            os.sched_setaffinity(0, cores)


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="relance-bench-conv-") as tmp:
        folder = Path(tmp)
        if "sqlite" in args.databases:
            await bench_database(
                "sqlite", f"sqlite+aiosqlite:///{folder / 'bench.db'}", args, folder
            )
        if "postgresql" in args.databases:
            server = None
            base = args.pg_url
            if not base:
                from tests.pgserver import PostgresServer

                server = PostgresServer()
                server.start()
                base = server.url()
            try:
                from tests.conftest import _fresh_pg_database

                url = await _fresh_pg_database(base)
                await bench_database("postgresql", url, args, folder)
            finally:
                if server is not None:
                    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000, help="messages per run")
    parser.add_argument("--debtors", type=int, default=400, help="debtors (one session each)")
    parser.add_argument(
        "--senders", type=int, nargs="+", default=[1, 16], help="concurrent senders per run"
    )
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="sqlite, postgresql or both"
    )
    parser.add_argument("--pg-url", default="", help="a PostgreSQL server to use instead")
    args = parser.parse_args()
    args.databases = [d.strip() for d in args.databases.split(",")]
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
