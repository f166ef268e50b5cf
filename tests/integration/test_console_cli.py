"""``relance staff``: adding console users from the command line (SQLite)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def relance(db_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
        check=False,
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'staff.db'}"
    assert relance(url, "db", "upgrade").returncode == 0
    return url


def test_add_then_list_and_change_a_password(db: str) -> None:
    added = relance(
        db,
        "staff",
        "add",
        "Anne",
        "--role",
        "manager",
        "--name",
        "Anne D.",
        "--password-stdin",
        stdin="a long passphrase\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == "added anne (manager)\n"
    listed = relance(db, "staff", "list")
    assert listed.stdout.split() == ["anne", "manager", "active", "Anne", "D."]
    changed = relance(
        db, "staff", "password", "anne", "--password-stdin", stdin="another passphrase\n"
    )
    assert changed.returncode == 0, changed.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["bob", "--role", "boss"],
            "a long passphrase\n",
            "role 'boss': one of agent, manager, admin",
        ),
        (["bob", "--role", "agent"], "short\n", "the password needs at least 10 characters"),
        (["bob smith", "--role", "agent"], "a long passphrase\n", "login 'bob smith'"),
        (["bob", "--role", "agent"], "\n", "no password given"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    db: str, args: list[str], stdin: str, message: str
) -> None:
    result = relance(db, "staff", "add", *args, "--password-stdin", stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert relance(db, "staff", "list").stdout == ""


def test_a_login_is_added_once(db: str) -> None:
    first = relance(
        db,
        "staff",
        "add",
        "cara",
        "--role",
        "agent",
        "--password-stdin",
        stdin="a long passphrase\n",
    )
    assert first.returncode == 0
    again = relance(
        db,
        "staff",
        "add",
        "CARA",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long passphrase\n",
    )
    assert again.returncode == 2
    assert "login 'cara' exists already" in again.stderr
    assert relance(db, "staff", "list").stdout.split()[:2] == ["cara", "agent"]


async def test_the_demo_seeds_staff_and_conversations_for_the_console(tmp_path: Path) -> None:
    from sqlalchemy import select

    from adapters.db.bank_schema import bank_transactions, debtor_credits
    from adapters.db.conversation_schema import escalations
    from adapters.db.engine import create_engine
    from adapters.db.staff_schema import staff_users

    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    seeded = relance(url, "demo", "--no-serve")
    assert seeded.returncode == 0, seeded.stderr
    assert "with the demo password 'relance-demo'" in seeded.stdout
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            roles = dict(
                (await conn.execute(select(staff_users.c.login, staff_users.c.role))).all()
            )
            reasons = sorted((await conn.execute(select(escalations.c.reason))).scalars())
            lines = sorted((await conn.execute(select(bank_transactions.c.status))).scalars())
            credits = (await conn.execute(select(debtor_credits.c.amount))).scalars().all()
    finally:
        await engine.dispose()
    assert roles == {"manager": "manager", "agent": "agent", "admin": "admin"}
    assert reasons == ["dispute", "human_asked"]
    # Yesterday's statement: a payment matched, an overpayment held, a line for staff.
    assert lines == ["matched", "matched", "to_review"]
    assert [f"{c:.2f}" for c in credits] == ["50.00"]
