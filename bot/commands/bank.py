"""``relance bank …``: bank statements, reconciliation, credits and refunds.

relance bank parse 2026-03-10.cod        one JSON line per booked transaction
relance bank import *.cod statements.zip  stores, matches, prints a summary object
relance bank review                      lines waiting for staff, with candidates
relance bank credits                     overpayments held for debtors (JSON lines)
relance bank set-against 7               a credit pays the debtor's open invoices
relance bank approve-refund 7            refund a credit although its debtor owes
relance bank refunds --out refunds.xml    pain.001 for overpayments to pay back
relance bank watch ~/bank-inbox           imports whatever is dropped in a folder
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping
from datetime import date
from typing import Any

from bot.config import load_settings
from bot.errors import UserError
from domain.allocation import AllocationOrder
from domain.reconciliation import Policy


def bank_policy(env: Mapping[str, str] | None = None) -> Policy:
    """The reconciliation policy from the environment (read once, at the edge).

    RELANCE_MATCH_THRESHOLD   0-1, default 0.9: a match at least this sure is applied
    RELANCE_ALLOCATION_ORDER  oldest_first (default) | overdue_first | largest_first
    """
    env = os.environ if env is None else env
    raw_threshold = env.get("RELANCE_MATCH_THRESHOLD", "") or "0.9"
    try:
        threshold = float(raw_threshold)
    except ValueError:
        threshold = -1.0
    if not 0 < threshold <= 1:
        raise UserError(
            f"RELANCE_MATCH_THRESHOLD must be a number in (0, 1], not {raw_threshold!r}"
        )
    raw_order = env.get("RELANCE_ALLOCATION_ORDER", "") or AllocationOrder.OLDEST_FIRST.value
    try:
        order = AllocationOrder(raw_order)
    except ValueError:
        choices = ", ".join(o.value for o in AllocationOrder)
        raise UserError(
            f"RELANCE_ALLOCATION_ORDER must be one of {choices}, not {raw_order!r}"
        ) from None
    return Policy(threshold=threshold, order=order)


def register(subparsers: Any) -> None:
    bank = subparsers.add_parser("bank", help="bank statements and reconciliation")
    sub = bank.add_subparsers(dest="bank_command", metavar="ACTION")
    sub.required = True

    parse = sub.add_parser("parse", help="print the booked transactions of a statement file")
    parse.add_argument("file", help="CODA 2.x, camt.053/054 or a zip of them")
    parse.set_defaults(handler=_parse)

    imp = sub.add_parser("import", help="store and reconcile statement files (all or nothing)")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument(
        "--today", type=date.fromisoformat, help="reference day for overdue-first allocation"
    )
    imp.set_defaults(handler=_import)

    review = sub.add_parser("review", help="list transactions waiting for staff (JSON lines)")
    review.set_defaults(handler=_review)

    accept = sub.add_parser("accept", help="apply a candidate of a line waiting for staff")
    accept.add_argument("transaction", type=int, help="the id shown by `relance bank review`")
    accept.add_argument("--rank", type=int, default=1, help="which candidate (1 = best)")
    accept.set_defaults(handler=_accept)

    credits = sub.add_parser("credits", help="list overpayments held for debtors (JSON lines)")
    credits.set_defaults(handler=_credits)

    against = sub.add_parser(
        "set-against", help="use a credit to pay its debtor's open invoices (or one of them)"
    )
    against.add_argument("credit", type=int, help="the id shown by `relance bank credits`")
    against.add_argument("--invoice", help="only this invoice (default: every undisputed one)")
    against.add_argument(
        "--today", type=date.fromisoformat, help="reference day for overdue-first allocation"
    )
    against.set_defaults(handler=_set_against)

    approve = sub.add_parser(
        "approve-refund", help="refund a credit in the next file although its debtor owes"
    )
    approve.add_argument("credit", type=int, help="the id shown by `relance bank credits`")
    approve.set_defaults(handler=_approve_refund)

    refunds = sub.add_parser("refunds", help="write a SEPA pain.001 file refunding overpayments")
    refunds.add_argument("--out", required=True, help="the pain.001 XML file to write")
    refunds.add_argument(
        "--execution-date", type=date.fromisoformat, help="requested execution date"
    )
    refunds.set_defaults(handler=_refunds)

    watch = sub.add_parser("watch", help="import statement files dropped in a folder")
    watch.add_argument("folder")
    watch.add_argument("--once", action="store_true", help="import what is there, then stop")
    watch.add_argument("--interval", type=float, default=10.0, help="seconds between looks")
    watch.set_defaults(handler=_watch)


def _parse(args: argparse.Namespace) -> int:
    from adapters.bank import StatementError
    from adapters.bank.detect import parse_file

    try:
        statements = parse_file(args.file)
    except StatementError as exc:
        raise UserError(str(exc)) from None
    out = sys.stdout
    for statement in statements:
        for line in statement.lines:
            out.write(json.dumps(line.to_json(), ensure_ascii=False) + "\n")
    return 0


def _import(args: argparse.Namespace) -> int:
    from adapters.bank import StatementError

    # All or nothing: a file that is not a valid statement rolls the import back.
    try:
        summary = asyncio.run(_store(args.files, args.today))
    except StatementError as exc:
        raise UserError(f"{exc}; nothing was imported") from None
    print(json.dumps(summary))
    return 0


async def _store(files: list[str], today: date | None) -> dict[str, int]:
    from datetime import datetime

    from adapters.db.bank_repo import import_statement_files
    from bot.runtime import database

    settings = load_settings()
    policy = bank_policy()
    day = today or datetime.now(settings.timezone).date()
    async with database(settings) as engine:
        # A large file is read in a second process while its first lines are matched.
        result = await import_statement_files(engine, files, today=day, policy=policy)
    return result.summary()


def _review(args: argparse.Namespace) -> int:
    from adapters.db.bank_repo import transactions_to_review
    from bot.runtime import database

    async def run() -> list[dict[str, Any]]:
        async with database(load_settings()) as engine:
            return await transactions_to_review(engine)

    for row in asyncio.run(run()):
        print(json.dumps(row, ensure_ascii=False))
    return 0


def _accept(args: argparse.Namespace) -> int:
    from datetime import datetime

    from adapters.db.bank_repo import accept_candidate
    from bot.runtime import database

    settings = load_settings()

    async def run() -> list[Any]:
        async with database(settings) as engine:
            try:
                return await accept_candidate(
                    engine,
                    args.transaction,
                    args.rank,
                    datetime.now(settings.timezone).date(),
                    bank_policy(),
                )
            except LookupError as exc:
                raise UserError(str(exc)) from None

    for event in asyncio.run(run()):
        print(json.dumps({"invoice": event.invoice_number, "amount": f"{event.amount:.2f}"}))
    return 0


def _credits(args: argparse.Namespace) -> int:
    from adapters.db.credits_repo import held_credits
    from bot.runtime import database

    async def run() -> list[dict[str, Any]]:
        async with database(load_settings()) as engine, engine.connect() as conn:
            return await held_credits(conn)

    for row in asyncio.run(run()):
        print(
            json.dumps(
                {
                    "credit": row["id"],
                    "debtor": row["debtor"],
                    "amount": f"{row['amount']:.2f}",
                    "currency": row["currency"],
                    "status": row["status"],
                    "iban": row["iban"],
                    "booking_date": row["booking_date"].isoformat(),
                    "bank_reference": row["bank_reference"],
                    "open_invoices": row["open_invoices"],
                    "owed": f"{row['owed']:.2f}",
                },
                ensure_ascii=False,
            )
        )
    return 0


def _set_against(args: argparse.Namespace) -> int:
    from datetime import datetime

    from adapters.db.credits_repo import CreditError, set_against
    from bot.runtime import database

    settings = load_settings()
    day = args.today or datetime.now(settings.timezone).date()

    async def run() -> list[Any]:
        async with database(settings) as engine:
            try:
                return await set_against(engine, args.credit, day, bank_policy(), args.invoice)
            except CreditError as exc:
                raise UserError(str(exc)) from None

    for event in asyncio.run(run()):
        print(
            json.dumps(
                {
                    "invoice": event.invoice_number,
                    "amount": f"{event.amount:.2f}",
                    "open_amount": f"{event.open_amount:.2f}",
                }
            )
        )
    return 0


def _approve_refund(args: argparse.Namespace) -> int:
    from adapters.db.credits_repo import CreditError, approve_refund
    from bot.runtime import database

    async def run() -> Any:
        async with database(load_settings()) as engine:
            try:
                return await approve_refund(engine, args.credit)
            except CreditError as exc:
                raise UserError(str(exc)) from None

    amount = asyncio.run(run())
    print(json.dumps({"credit": args.credit, "status": "approved", "amount": f"{amount:.2f}"}))
    return 0


def _refunds(args: argparse.Namespace) -> int:
    from datetime import datetime
    from pathlib import Path

    from adapters.bank.pain001 import RefundError, refund_file
    from adapters.db.credits_repo import mark_refunds_exported, refunds_due
    from bot.runtime import database

    settings = load_settings()
    day = args.execution_date or datetime.now(settings.timezone).date()

    async def run() -> dict[str, Any]:
        async with database(settings) as engine:
            refunds = await refunds_due(engine)
            if not refunds.payable:  # no file: nothing to pay back now
                return {"refunds": 0, "total": "0.00", "skipped": refunds.skipped}
            try:
                document = refund_file(settings.creditor, refunds.payable, day)
            except RefundError as exc:
                raise UserError(str(exc)) from None
            await asyncio.to_thread(Path(args.out).write_bytes, document)
            await mark_refunds_exported(engine, [r.credit_id for r in refunds.payable])
            return {
                "refunds": len(refunds.payable),
                "total": f"{sum(r.amount for r in refunds.payable):.2f}",
                "skipped": refunds.skipped,
            }

    print(json.dumps(asyncio.run(run()), ensure_ascii=False))
    return 0


def _watch(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.bank_inbox import watch_folder

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder")
    asyncio.run(watch_folder(load_settings(), folder, once=args.once, interval=args.interval))
    return 0
