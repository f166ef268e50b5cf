"""``relance import invoices`` and ``relance invoices list``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import load_settings

if TYPE_CHECKING:
    from adapters.imports.pipeline import Batch


def register(subparsers: Any) -> None:
    imp = subparsers.add_parser("import", help="import data into the ledger")
    imp_sub = imp.add_subparsers(dest="import_command", metavar="WHAT")
    imp_sub.required = True
    invoices = imp_sub.add_parser(
        "invoices", help="import CSV or Peppol UBL invoice files (all or nothing)"
    )
    invoices.add_argument("files", nargs="+", type=Path, metavar="FILE")
    invoices.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when standard error is a terminal)",
    )
    invoices.set_defaults(handler=_import_invoices)

    inv = subparsers.add_parser("invoices", help="read invoices")
    inv_sub = inv.add_subparsers(dest="invoices_command", metavar="ACTION")
    inv_sub.required = True
    listing = inv_sub.add_parser("list", help="list invoices")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--credit-notes", action="store_true", help="include credit notes")
    listing.add_argument("--status", help="only this status (open, partially_paid, ...)")
    listing.set_defaults(handler=_list_invoices)


# From this much input on, the files are read and checked in a second process
# beside the database writes (see adapters.imports.pipeline); below it, starting
# that process would cost more than it saves.
BACKGROUND_BYTES = 2_000_000


def _import_invoices(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from adapters.db.ledger import import_batches
    from adapters.imports import read_invoice_rows
    from adapters.imports.pipeline import BackgroundReader, check_batches
    from bot.runtime import database

    settings = load_settings()
    paths: list[Path] = args.files
    size = sum(p.stat().st_size for p in paths if p.is_file())
    with contextlib.ExitStack() as stack:
        if size >= BACKGROUND_BYTES:
            # Started first: its interpreter starts while this one opens the database.
            batches: Iterable[Batch] = stack.enter_context(
                BackgroundReader(paths, settings.payment_terms_days)
            )
        else:
            batches = check_batches(
                [(str(p), read_invoice_rows(p, settings.payment_terms_days)) for p in paths]
            )
        disable = None if args.progress is None else not args.progress
        bar = stack.enter_context(
            tqdm(unit=" documents", file=sys.stderr, disable=disable, leave=False)
        )

        async def run() -> dict[str, int]:
            async with database(settings) as engine:
                summary = await import_batches(engine, batches, progress=bar.update)
                for warning in summary.warnings:
                    print(f"relance: warning: {warning}", file=sys.stderr)
                return summary.as_dict()

        result = asyncio.run(run())
    print(json.dumps(result))
    return 0


def _list_invoices(args: argparse.Namespace) -> int:
    from adapters.db.ledger_read import invoice_json, invoice_query, stream_invoices
    from adapters.db.schema import invoices
    from bot.runtime import database

    query = invoice_query(include_credit_notes=args.credit_notes)
    if args.status:
        query = query.where(invoices.c.status == args.status)

    async def run() -> None:
        async with database(load_settings()) as engine, engine.connect() as conn:
            out = sys.stdout
            if not args.json:
                out.write(f"{'number':<20} {'debtor':<32} {'due':<10} {'open':>12} status\n")
            async for row in stream_invoices(conn, query):
                item = invoice_json(row)
                if args.json:
                    out.write(json.dumps(item, ensure_ascii=False) + "\n")
                else:
                    out.write(
                        f"{item['number']:<20} {item['debtor'][:32]:<32} {item['due_date']:<10} "
                        f"{item['open_amount']:>12} {item['status']}\n"
                    )

    asyncio.run(run())
    return 0
