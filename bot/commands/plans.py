"""``relance plans check|list|show`` and ``relance portal link``.

relance plans check --today 2026-04-14     reminders, broken and completed plans;
                                           prints {"reminded": 1, "completed": 0,
                                           "broken": 0}
relance plans list [--json]                the plans and their state
relance plans ics PLAN_ID > plan.ics       the schedule as a calendar file
relance portal link DEBTOR_CODE [--days 30]   a signed pay-page link
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from typing import Any

from bot.config import load_settings
from bot.errors import UserError


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--today: not a date (YYYY-MM-DD): {text!r}") from None


def register(subparsers: Any) -> None:
    plans = subparsers.add_parser("plans", help="payment plans: daily check, list")
    sub = plans.add_subparsers(dest="plans_command", metavar="ACTION")
    sub.required = True
    check = sub.add_parser(
        "check", help="remind instalments, end broken plans (dunning resumes), complete paid ones"
    )
    check.add_argument("--today", required=True, metavar="YYYY-MM-DD")
    check.set_defaults(handler=_check)
    listing = sub.add_parser("list", help="list payment plans")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--state", choices=["active", "completed", "broken", "cancelled"])
    listing.set_defaults(handler=_list)
    ics = sub.add_parser("ics", help="print a plan's schedule as an iCalendar file")
    ics.add_argument("plan_id", type=int)
    ics.set_defaults(handler=_ics)

    policy = sub.add_parser(
        "policy", help="print the plan policies in force (RELANCE_PLAN_POLICY over the defaults)"
    )
    policy.add_argument("--file", help="check this YAML file instead of RELANCE_PLAN_POLICY")
    policy.set_defaults(handler=_policy)

    portal = subparsers.add_parser("portal", help="the debtors' pay page")
    portal_sub = portal.add_subparsers(dest="portal_command", metavar="ACTION")
    portal_sub.required = True
    link = portal_sub.add_parser("link", help="print a signed link to a debtor's pay page")
    link.add_argument("debtor_code")
    link.add_argument("--days", type=int, default=30, help="valid for this many days (30)")
    link.set_defaults(handler=_link)


def _check(args: argparse.Namespace) -> int:
    today = _day(args.today)
    settings = load_settings()

    async def run() -> dict[str, Any]:
        from bot.conversations import Conversations
        from bot.plans import check_plans
        from bot.runtime import database

        async with database(settings) as engine:
            summary = await check_plans(engine, Conversations(engine, settings), settings, today)
        return {
            "reminded": summary.reminded,
            "completed": summary.completed,
            "broken": summary.broken,
        }

    print(json.dumps(asyncio.run(run())))
    return 0


def _policy(args: argparse.Namespace) -> int:
    import os
    from dataclasses import asdict

    from bot.plans import load_plan_policies

    policies = load_plan_policies(args.file or os.environ.get("RELANCE_PLAN_POLICY"))
    for segment, policy in policies.items():
        print(json.dumps({"segment": segment} | asdict(policy), default=str))
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def run() -> list[dict[str, Any]]:
        from sqlalchemy import select

        from adapters.db.plan_schema import payment_plans, plan_instalments
        from adapters.db.schema import debtors
        from bot.runtime import database

        async with database(settings) as engine, engine.connect() as conn:
            query = (
                select(payment_plans, debtors.c.code)
                .join(debtors, debtors.c.id == payment_plans.c.debtor_id)
                .order_by(payment_plans.c.id)
            )
            if args.state:
                query = query.where(payment_plans.c.state == args.state)
            rows = (await conn.execute(query)).all()
            result = []
            for row in rows:
                instalments = (
                    await conn.execute(
                        select(plan_instalments)
                        .where(plan_instalments.c.plan_id == row.id)
                        .order_by(plan_instalments.c.number)
                    )
                ).all()
                result.append(
                    {
                        "plan": row.id,
                        "debtor": row.code,
                        "state": row.state,
                        "total": str(row.total + row.fee),
                        "currency": row.currency,
                        "instalments": [
                            {
                                "number": i.number,
                                "due_date": i.due_date.isoformat(),
                                "amount": str(i.amount),
                                "paid": str(i.paid),
                            }
                            for i in instalments
                        ],
                    }
                )
            return result

    for plan in asyncio.run(run()):
        if args.json:
            print(json.dumps(plan, ensure_ascii=False))
        else:
            paid = sum(1 for i in plan["instalments"] if i["paid"] == i["amount"])
            print(
                f"{plan['plan']:>5}  {plan['debtor']:<16} {plan['state']:<10} "
                f"{plan['total']:>12} {plan['currency']}  {paid}/{len(plan['instalments'])} paid"
            )
    return 0


def _ics(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def run() -> bytes:
        from datetime import UTC, datetime

        from adapters.db import plan_repo
        from bot.plans import schedule_ics
        from bot.runtime import database

        async with database(settings) as engine, engine.connect() as conn:
            plan = await plan_repo.load_plan(conn, args.plan_id)
        if plan is None:
            raise UserError(f"no payment plan {args.plan_id}")
        count = len(plan.instalments)
        return schedule_ics(
            plan_id=plan.id,
            instalments=plan.instalments,
            titles=[
                f"{settings.creditor.name} {i.number}/{count}: {i.amount} {plan.currency}"
                for i in plan.instalments
            ],
            description=f"{settings.creditor.name}, IBAN {settings.creditor.iban}",
            host="relance",
            stamp=datetime.now(UTC),
        )

    sys.stdout.buffer.write(asyncio.run(run()))
    return 0


def _link(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.secret_key:
        raise UserError("RELANCE_SECRET_KEY is not set: pay links cannot be signed")
    if args.days < 1:
        raise UserError("--days must be at least 1")

    async def run() -> int | None:
        from sqlalchemy import select

        from adapters.db.schema import debtors
        from bot.runtime import database

        async with database(settings) as engine, engine.connect() as conn:
            found = (
                await conn.execute(select(debtors.c.id).where(debtors.c.code == args.debtor_code))
            ).scalar_one_or_none()
        return int(found) if found is not None else None

    debtor_id = asyncio.run(run())
    if debtor_id is None:
        raise UserError(f"no debtor with code {args.debtor_code!r}")
    from datetime import timedelta

    from bot.paylinks import portal_url

    print(portal_url(settings, debtor_id, timedelta(days=args.days)))
    return 0
