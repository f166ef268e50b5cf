"""``relance db upgrade`` / ``relance db current``."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.config import load_settings


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_sub.required = True
    upgrade = db_sub.add_parser("upgrade", help="apply migrations (up to head by default)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_upgrade)
    current = db_sub.add_parser("current", help="print the applied revision")
    current.set_defaults(handler=_current)


async def _run(revision: str | None) -> str | None:
    from adapters.db.migrate import current_revision, upgrade
    from bot.runtime import database

    async with database(load_settings(), migrate=False) as engine:
        if revision is not None:
            await upgrade(engine, revision)
        return await current_revision(engine)


def _upgrade(args: argparse.Namespace) -> int:
    print(f"database at revision {asyncio.run(_run(args.revision))}")
    return 0


def _current(args: argparse.Namespace) -> int:
    print(asyncio.run(_run(None)) or "empty")
    return 0
