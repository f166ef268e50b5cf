"""``relance staff add|list|password``: the people who use the console.

    relance staff add anne --role manager            (asks for the password twice)
    echo 's3cret-enough' | relance staff add bob --role agent --password-stdin
    relance staff list

Also the console's part of ``relance demo``: ``seed_console_demo`` adds demo staff
and a few conversations (through the real conversation service) so the console
is not empty.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, date, datetime
from typing import Any

from bot.config import Settings, load_settings
from bot.errors import UserError

DEMO_PASSWORD = "relance-demo"  # documented in the README; demo databases only
DEMO_STAFF = (("manager", "manager", "Maria Manager"), ("agent", "agent", "Arno Agent"))
DEMO_ADMIN = ("admin", "admin", "Ada Admin")


def register(subparsers: Any) -> None:
    staff = subparsers.add_parser("staff", help="console users: add, list, set a password")
    sub = staff.add_subparsers(dest="staff_command", metavar="ACTION")
    sub.required = True
    add = sub.add_parser("add", help="add a user (password asked, or read from stdin)")
    add.add_argument("login")
    add.add_argument("--role", required=True, help="agent, manager or admin")
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(handler=_add)
    listing = sub.add_parser("list", help="list users")
    listing.set_defaults(handler=_list)
    password = sub.add_parser("password", help="set a user's password (signs them out)")
    password.add_argument("login")
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(handler=_password)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UserError("the two passwords differ")
    if not password:
        raise UserError("no password given")
    return password


def _add(args: argparse.Namespace) -> int:
    from adapters.db import conversation_repo, staff_repo
    from bot.runtime import database

    try:
        login = staff_repo.check_login(args.login)
        role = staff_repo.check_role(args.role)
    except staff_repo.StaffError as exc:
        raise UserError(str(exc)) from None
    password = _read_password(args.password_stdin)
    settings = load_settings()

    async def main() -> None:
        async with database(settings) as engine, engine.begin() as conn:
            user_id = await staff_repo.create_user(conn, login, password, role, args.name)
            await conversation_repo.audit(
                conn, "system", "staff_user_added", user_id=user_id, login=login, role=role
            )

    try:
        asyncio.run(main())
    except staff_repo.StaffError as exc:
        raise UserError(str(exc)) from None
    print(f"added {login} ({role})")
    return 0


def _list(args: argparse.Namespace) -> int:
    from adapters.db import staff_repo
    from bot.runtime import database

    settings = load_settings()

    async def main() -> list[Any]:
        async with database(settings) as engine, engine.connect() as conn:
            return await staff_repo.list_users(conn)

    for row in asyncio.run(main()):
        state = "active" if row.active else "inactive"
        print(f"{row.login:<20} {row.role:<8} {state:<8} {row.display_name}")
    return 0


def _password(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from adapters.db import conversation_repo, staff_repo
    from adapters.db.staff_schema import staff_users
    from bot.runtime import database

    password = _read_password(args.password_stdin)
    settings = load_settings()

    async def main() -> None:
        async with database(settings) as engine, engine.begin() as conn:
            user_id = (
                await conn.execute(
                    select(staff_users.c.id).where(staff_users.c.login == args.login.lower())
                )
            ).scalar_one_or_none()
            if user_id is None:
                raise UserError(f"no user {args.login!r}")
            await staff_repo.set_password(conn, user_id, password)
            await conversation_repo.audit(
                conn, "system", "staff_user_password", user_id=user_id, login=args.login
            )

    try:
        asyncio.run(main())
    except staff_repo.StaffError as exc:
        raise UserError(str(exc)) from None
    print(f"password of {args.login} changed")
    return 0


# ------------------------------------------------------------------------------- demo

DEMO_MESSAGES = (
    # (debtor code, web-chat session, what the debtor writes)
    (
        "C1001",
        "demo-chat-1",
        "Je conteste la facture de farine : il manquait 10 sacs à la livraison.",
    ),
    ("C1002", "demo-chat-2", "Ik wil graag met een medewerker spreken."),
    ("C1003", "demo-chat-3", "Ich zahle alles nächsten Freitag."),
)


async def seed_console_demo(engine: Any, settings: Settings, today: date) -> None:
    """Demo staff (password ``DEMO_PASSWORD``) and a few web-chat conversations.

    The conversations go through ``Conversations.receive`` exactly as the web chat
    would deliver them, so the escalations and the bot's answers are real.
    """
    from sqlalchemy import select

    from adapters.db import conversation_repo, staff_repo
    from adapters.db.schema import debtors
    from bot.channels.base import InboundMessage
    from bot.conversations import Conversations

    async with engine.begin() as conn:
        existing = {row.login for row in await staff_repo.list_users(conn)}
        for login, role, name in (*DEMO_STAFF, DEMO_ADMIN):
            if login not in existing:
                await staff_repo.create_user(conn, login, DEMO_PASSWORD, role, name)
    print(
        f"console: {settings.public_url}/console/ — sign in as manager, agent or admin "
        f"with the demo password {DEMO_PASSWORD!r}"
    )
    service = Conversations(engine, settings)
    async with engine.connect() as conn:
        codes = {
            row.code: row.id
            for row in await conn.execute(
                select(debtors.c.id, debtors.c.code).order_by(debtors.c.id).limit(50)
            )
        }
    wanted = [(c, s, t) for c, s, t in DEMO_MESSAGES if c in codes]
    if not wanted:  # another demo ledger: use its first debtors
        ids = list(codes.values())[: len(DEMO_MESSAGES)]
        wanted = [
            (code, session, text)
            for (_, session, text), code in zip(
                DEMO_MESSAGES, list(codes)[: len(ids)], strict=False
            )
        ]
    for n, (code, session, text) in enumerate(wanted):
        async with engine.begin() as conn:
            token = await conversation_repo.create_link_token(conn, codes[code], "portal")
        now = datetime.now(UTC)
        await service.receive(
            InboundMessage("webchat", session, f"{session}:start", f"/start {token}", now)
        )
        await service.receive(
            InboundMessage("webchat", session, f"{session}:{n}", text, now, reference_date=today)
        )
