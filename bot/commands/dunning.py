"""``relance dunning preview|run|hold`` and ``relance outbox send|list|resend|resolve``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.config import load_settings
from bot.errors import UserError


def _day(text: str | None, option: str) -> date | None:
    """Dates are checked here rather than by argparse so that bad input gives one
    line on standard error (cli.md), not a usage block."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option}: not a date (YYYY-MM-DD): {text!r}") from None


def _today(args: argparse.Namespace) -> date:
    day = _day(args.today, "--today")
    assert day is not None  # required by the parser
    return day


def register(subparsers: Any) -> None:
    dunning = subparsers.add_parser("dunning", help="reminders: preview and run")
    sub = dunning.add_subparsers(dest="dunning_command", metavar="ACTION")
    sub.required = True

    prev = sub.add_parser("preview", help="what a run on that day would send (sends nothing)")
    prev.add_argument("--today", required=True, metavar="YYYY-MM-DD")
    prev.add_argument("--json", action="store_true", help="one JSON object per line")
    prev.add_argument(
        "--planned-only", action="store_true", help="leave out invoices that get nothing"
    )
    prev.add_argument(
        "--explain",
        action="store_true",
        help="add how fees and interest were computed (a 'breakdown' key with --json)",
    )
    prev.set_defaults(handler=_preview)

    run = sub.add_parser("run", help="decide, record the lines and queue the messages")
    run.add_argument("--today", required=True, metavar="YYYY-MM-DD")
    run.set_defaults(handler=_run)

    hold = sub.add_parser("hold", help="pause or stop reminders for a debtor or invoice")
    hold_sub = hold.add_subparsers(dest="hold_command", metavar="ACTION")
    hold_sub.required = True
    add = hold_sub.add_parser("add", help="add a hold")
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--debtor", metavar="CODE")
    target.add_argument("--invoice", metavar="NUMBER")
    add.add_argument("--reason", required=True)
    add.add_argument("--until", metavar="YYYY-MM-DD")
    add.add_argument("--note", default="")
    add.add_argument("--by", default="staff", help="who asks (kept with the hold)")
    add.set_defaults(handler=_hold_add)
    release = hold_sub.add_parser("release", help="release a hold by id")
    release.add_argument("hold_id", type=int)
    release.add_argument("--by", default="staff")
    release.set_defaults(handler=_hold_release)

    outbox = subparsers.add_parser("outbox", help="outgoing messages")
    out_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION")
    out_sub.required = True
    send = out_sub.add_parser("send", help="deliver due e-mails with SMTP_HOST")
    send.add_argument("--batch", type=int, default=10)
    send.add_argument(
        "--stale-after",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="a claim older than this belongs to a dead sender (default 900)",
    )
    send.set_defaults(handler=_send)
    listing = out_sub.add_parser("list", help="list messages")
    listing.add_argument(
        "--state", help="pending, claimed, sending, sent, failed, unknown, withdrawn"
    )
    listing.set_defaults(handler=_list)
    again = out_sub.add_parser("resend", help="send an unknown or failed message again")
    again.add_argument("message", type=int, metavar="ID")
    again.set_defaults(handler=_resend)
    resolve = out_sub.add_parser(
        "resolve", help="record that a message left (an unknown e-mail, a posted letter)"
    )
    resolve.add_argument("message", type=int, metavar="ID")
    resolve.add_argument(
        "--on",
        metavar="YYYY-MM-DD",
        help="the day it left (default: today); the periods run from it",
    )
    resolve.set_defaults(handler=_resolve)
    show = out_sub.add_parser("show", help="print a message (a letter's text, an e-mail's source)")
    show.add_argument("message", type=int, metavar="ID")
    show.add_argument(
        "--today", metavar="YYYY-MM-DD", help="the day it is printed to post (default: today)"
    )
    show.set_defaults(handler=_show)
    take_back = out_sub.add_parser(
        "withdraw",
        help="take back a reminder not sent (a letter not posted): the next run rewrites it",
    )
    take_back.add_argument("message", type=int, metavar="ID")
    take_back.set_defaults(handler=_withdraw)


def _print(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _preview(args: argparse.Namespace) -> int:
    from bot.dunning import DunningSetup, preview
    from bot.runtime import database
    from domain.dunning import DunningLine

    settings = load_settings()
    today = _today(args)
    setup = DunningSetup.from_settings(settings, today)

    async def main() -> None:
        async with database(settings) as engine:
            async for decision in preview(engine, today, setup):
                if args.planned_only and not isinstance(decision, DunningLine):
                    continue
                data = decision.to_json()
                if args.explain and isinstance(decision, DunningLine):
                    data["breakdown"] = {
                        "fees": list(decision.claim.fees.breakdown),
                        "interest": list(decision.claim.interest.breakdown),
                    }
                if args.json:
                    _print(data)
                elif isinstance(decision, DunningLine):
                    print(
                        f"{data['send_on']}  {data['invoice']:<16} {data['debtor'][:28]:<28} "
                        f"L{data['level']} {data['tone']:<8} {data['channel']:<8} "
                        f"{data['total_claimed']:>12}"
                    )
                    if args.explain:
                        for step in (
                            *decision.claim.fees.breakdown,
                            *decision.claim.interest.breakdown,
                        ):
                            print(f"{'':12}{step}")
                else:
                    print(
                        f"{'':10}  {data['invoice']:<16} {data['debtor'][:28]:<28} "
                        f"-- {data['reason']}"
                    )

    asyncio.run(main())
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.dunning import DunningSetup, run_dunning
    from bot.runtime import database

    settings = load_settings()
    today = _today(args)
    setup = DunningSetup.from_settings(settings, today)

    async def main() -> dict[str, int]:
        async with database(settings) as engine:
            report = await run_dunning(engine, today, setup, datetime.now(UTC))
            return {
                "run": report.run_id,
                "lines": report.lines,
                "messages": report.messages,
                "skipped": report.skipped,
            }

    _print(asyncio.run(main()))
    return 0


def _hold_add(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from adapters.db.dunning_repo import HoldError, add_hold
    from adapters.db.schema import debtors, invoices
    from bot.runtime import database

    settings = load_settings()
    until = _day(args.until, "--until")

    async def main() -> int:
        async with database(settings) as engine, engine.begin() as conn:
            if args.debtor:
                found = await conn.scalar(select(debtors.c.id).where(debtors.c.code == args.debtor))
                if found is None:
                    raise UserError(f"--debtor: no debtor with code {args.debtor!r}")
                kwargs = {"debtor_id": int(found)}
            else:
                found = await conn.scalar(
                    select(invoices.c.id).where(invoices.c.number == args.invoice)
                )
                if found is None:
                    raise UserError(f"--invoice: no invoice numbered {args.invoice!r}")
                kwargs = {"invoice_id": int(found)}
            try:
                return await add_hold(
                    conn,
                    reason=args.reason,
                    until=until,
                    note=args.note,
                    created_by=args.by,
                    **kwargs,
                )
            except HoldError as exc:
                raise UserError(f"--reason: {exc}") from None

    _print({"hold": asyncio.run(main())})
    return 0


def _hold_release(args: argparse.Namespace) -> int:
    from adapters.db.dunning_repo import release_hold
    from bot.runtime import database

    settings = load_settings()

    async def main() -> int:
        async with database(settings) as engine, engine.begin() as conn:
            return await release_hold(conn, hold_id=args.hold_id, released_by=args.by)

    released = asyncio.run(main())
    if not released:
        raise UserError(f"no open hold with id {args.hold_id}")
    _print({"released": released})
    return 0


def _send(args: argparse.Namespace) -> int:
    from adapters.mail.smtp import SmtpMailer
    from bot.dunning import DunningSetup
    from bot.outbox import send_pending
    from bot.runtime import database

    settings = load_settings()
    if not settings.smtp_host:
        raise UserError("SMTP_HOST is not set: nowhere to send the outbox")
    if args.batch < 1:
        raise UserError("--batch must be at least 1")
    mailer = SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        username=settings.smtp_user,
        password=settings.smtp_password.get(),
    )
    from email.utils import parseaddr

    envelope_from = parseaddr(settings.mail_from)[1] or settings.creditor.email

    async def main() -> dict[str, Any]:
        async with database(settings) as engine:
            today = datetime.now(settings.timezone).date()
            report = await send_pending(
                engine,
                mailer,
                envelope_from=envelope_from,
                timezone=settings.timezone,
                batch=args.batch,
                stale_after=timedelta(seconds=args.stale_after),
                contact=DunningSetup.from_settings(settings, today).contact,
            )
            return {
                "sent": report.sent,
                "failed": report.failed,
                "retry": report.retry,
                "released": report.released,
                "unknown": report.unknown,
            }

    _print(asyncio.run(main()))
    return 0


def _list(args: argparse.Namespace) -> int:
    from adapters.db.dunning_repo import list_messages
    from bot.runtime import database

    settings = load_settings()

    async def main() -> list[Any]:
        async with database(settings) as engine, engine.connect() as conn:
            return await list_messages(conn, args.state)

    for row in asyncio.run(main()):
        _print(
            {
                "id": row.id,
                "message_id": row.message_id,
                "channel": row.channel,
                "recipient": row.recipient,
                "subject": row.subject,
                "state": row.state,
                "attempts": row.attempts,
                "error": row.last_error,
            }
        )
    return 0


def _resend(args: argparse.Namespace) -> int:
    from bot.outbox import resend

    return _outbox_action(
        resend, args.message, "requeued", "is not unknown or failed: nothing to resend"
    )


def _outbox_action(action: Any, message: int, done: str, refusal: str) -> int:
    """Run ``action(engine, message)``; print ``{done: message}``, or refuse with
    ``message {id} {refusal}`` when it did nothing."""
    from bot.runtime import database

    settings = load_settings()

    async def main() -> bool:
        async with database(settings) as engine:
            return bool(await action(engine, message))

    if not asyncio.run(main()):
        raise UserError(f"message {message} {refusal}")
    _print({done: message})
    return 0


def _resolve(args: argparse.Namespace) -> int:
    from bot.outbox import OutboxError, Resolution, resolve_sent
    from bot.runtime import database

    settings = load_settings()
    now = datetime.now(settings.timezone)
    day = _day(args.on, "--on") or now.date()
    if day > now.date():
        raise UserError(f"--on: {day.isoformat()} is in the future")
    left = now if day == now.date() else datetime.combine(day, now.timetz())

    async def main() -> Resolution:
        async with database(settings) as engine:
            return await resolve_sent(engine, args.message, left)

    try:
        resolution = asyncio.run(main())
    except OutboxError as exc:
        raise UserError(str(exc)) from None
    if not resolution.resolved:
        raise UserError(f"message {args.message} is neither unknown nor a letter to post")
    if resolution.written_for is not None:
        sys.stderr.write(
            f"relance: warning: message {args.message} states the dates of "
            f"{resolution.written_for.isoformat()}; it left later, so it gives the debtor less "
            "time than it says is left: the next reminder and the fees count from the day it "
            "left\n"
        )
    _print({"resolved": args.message})
    return 0


def _show(args: argparse.Namespace) -> int:
    from bot.outbox import OutboxError, letter_to_post
    from bot.runtime import database

    settings = load_settings()
    today = _day(args.today, "--today") or datetime.now(settings.timezone).date()

    async def main() -> bytes:
        async with database(settings) as engine:
            return await letter_to_post(engine, args.message, today)

    try:
        payload = asyncio.run(main())
    except OutboxError as exc:
        raise UserError(str(exc)) from None
    sys.stdout.write(payload.decode("utf-8", errors="replace"))
    return 0


def _withdraw(args: argparse.Namespace) -> int:
    from bot.outbox import withdraw

    return _outbox_action(
        withdraw, args.message, "withdrawn", "is no reminder waiting to be sent or posted"
    )
