"""``relance serve`` (the one web application) and ``relance demo`` (seed, then serve)."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from bot.config import Settings, load_settings


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the web application (API, chat, console)")
    _address_options(serve)
    serve.set_defaults(handler=_serve)
    demo = subparsers.add_parser("demo", help="seed a demo ledger (if empty) and serve it")
    _address_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="seed only")
    demo.set_defaults(handler=_demo)


def _address_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default RELANCE_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default RELANCE_PORT or 8080)")


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    if args.host or args.port:
        host = args.host or settings.host
        port = args.port or settings.port
        settings = replace(settings, host=host, port=port, public_url=f"http://{host}:{port}")
    return settings


def _run(settings: Settings) -> None:
    from bot.web.app import run

    print(f"Relance serving on {settings.public_url} (database {_safe(settings.database_url)})")
    run(settings)


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _serve(args: argparse.Namespace) -> int:
    _run(_settings(args))
    return 0


async def seed_demo(settings: Settings) -> int:
    """Seed the demo ledger unless the database already holds debtors; returns documents added."""
    from sqlalchemy import func, select

    from adapters.db.ledger import import_invoices
    from adapters.db.schema import debtors
    from bot.demo import demo_documents
    from bot.runtime import database

    async with database(settings) as engine:
        async with engine.connect() as conn:
            existing = (await conn.execute(select(func.count()).select_from(debtors))).scalar_one()
        if existing:
            return 0
        today = datetime.now(settings.timezone).date()
        summary = await import_invoices(engine, [("demo", demo_documents(today))])
        await _seed_demo_bank(engine, today)
        from bot.commands.staff import seed_console_demo

        await seed_console_demo(engine, settings, today)
        return summary.created


async def _seed_demo_bank(engine: Any, today: date) -> None:
    """Yesterday's statement, imported as ``relance bank import`` would."""
    from sqlalchemy import select

    from adapters.db.bank_repo import import_statements
    from adapters.db.schema import invoices
    from bot.demo import demo_statement

    async with engine.connect() as conn:
        references = dict(
            (await conn.execute(select(invoices.c.number, invoices.c.structured_reference))).all()
        )
    await import_statements(engine, [demo_statement(today, references)], today=today)


def _demo(args: argparse.Namespace) -> int:
    settings = replace(_settings(args), demo=True)
    if not settings.secret_key:
        import secrets

        from bot.config import Secret

        # Pay-page links need a signing key; a demo without one gets a fresh key for
        # this run (links from an earlier run stop working, as they should).
        settings = replace(settings, secret_key=Secret(secrets.token_urlsafe(32)))
    added = asyncio.run(seed_demo(settings))
    print(f"demo ledger: {added} invoices added" if added else "demo ledger: already seeded")
    if not args.no_serve:
        print(f"open {settings.public_url}/ for the demo debtors' pay pages and the console")
        _run(settings)
    return 0
