"""The staff console over HTTP (the real application, both databases): sign-in,
sessions, CSRF, roles, and the take over / reply / resolve / hand back flow."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import conversation_repo, staff_repo
from adapters.db.conversation_schema import audit_log, conversations, escalations, messages
from adapters.db.dunning_schema import dunning_holds
from adapters.db.ledger import import_invoices
from adapters.db.schema import debtors, invoices
from adapters.db.staff_schema import staff_sessions
from adapters.imports import read_invoice_file
from bot.config import load_settings
from bot.web.app import create_app
from bot.web.console.queries import bucket_of, overview

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at N=2^10 here: the production cost (2^17) is for real passwords."""
    monkeypatch.setattr(staff_repo, "_LOG2_N", 10)


@pytest.fixture
async def ledger(engine: AsyncEngine, tmp_path: Path) -> AsyncEngine:
    today = datetime.now(UTC).date()
    path = tmp_path / "ledger.csv"
    rows = [
        ("INV-1", "C1", "Boulangerie Dupont", "fr", "compta@dupont.be", 70, 40, "400,00"),
        ("INV-2", "C1", "Boulangerie Dupont", "fr", "compta@dupont.be", 20, -10, "100,00"),
        ("F-9", "P1", "Jan Peeters", "nl", "jan@peeters.be", 150, 100, "250,00"),
    ]
    lines = [
        "invoice_number;debtor_code;debtor_name;debtor_kind;language;email;issue_date;"
        "due_date;amount"
    ]
    for number, code, name, language, email, issued, due, amount in rows:
        lines.append(
            f"{number};{code};{name};business;{language};{email};"
            f"{today - timedelta(days=issued)};{today - timedelta(days=due)};{amount}"
        )
    path.write_text("\n".join(lines) + "\n")
    await import_invoices(engine, [(path.name, read_invoice_file(path))])
    async with engine.begin() as conn:
        await staff_repo.create_user(conn, "maria", PASSWORD, "manager", "Maria")
        await staff_repo.create_user(conn, "arno", PASSWORD, "agent", "Arno")
        await staff_repo.create_user(conn, "ada", PASSWORD, "admin", "Ada")
    return engine


@pytest.fixture
async def client(ledger: AsyncEngine, db_url: str) -> AsyncIterator[TestClient]:
    settings = load_settings({"DATABASE_URL": db_url})
    async with TestClient(TestServer(create_app(settings, ledger))) as test_client:
        yield test_client


async def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> web.Response:
    form = await client.get("/console/login")
    token = CSRF.search(await form.text())
    assert token is not None
    return await client.post(
        "/console/login",
        data={"login": login, "password": password, "csrf_token": token.group(1)},
        allow_redirects=False,
    )


async def csrf_of(client: TestClient, path: str = "/console/") -> str:
    page = await client.get(path)
    assert page.status == 200, await page.text()
    found = CSRF.search(await page.text())
    assert found is not None
    return found.group(1)


async def chat(client: TestClient, sender: str, text: str, n: int) -> list[dict[str, str]]:
    response = await client.post(
        "/webhooks/rest/webhook",
        json={"sender": sender, "message": text, "metadata": {"message_id": str(n)}},
    )
    assert response.status == 200, await response.text()
    return list(await response.json())


async def linked_chat(client: TestClient, engine: AsyncEngine, code: str, sender: str) -> None:
    async with engine.begin() as conn:
        debtor_id = (
            await conn.execute(select(debtors.c.id).where(debtors.c.code == code))
        ).scalar_one()
        token = await conversation_repo.create_link_token(conn, debtor_id, "portal")
    await chat(client, sender, f"/start {token}", 0)


async def scalar(engine: AsyncEngine, query: object) -> object:
    async with engine.connect() as conn:
        return (await conn.execute(query)).scalar_one()  # type: ignore[call-overload]


# ------------------------------------------------------------------------------ sign-in


async def test_pages_need_a_session(client: TestClient) -> None:
    response = await client.get("/console/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/console/login?next=/console/")
    response = await client.post("/console/conversations/1/take", allow_redirects=False)
    assert response.status == 401


async def test_wrong_password_is_refused_and_failures_are_rate_limited(
    client: TestClient, ledger: AsyncEngine
) -> None:
    response = await sign_in(client, "maria", "not the password")
    assert response.status == 401
    assert "Wrong login or password" in await response.text()
    assert "relance_console" not in response.cookies
    for _ in range(4):
        assert (await sign_in(client, "maria", "still wrong")).status == 401
    # Five failures within 15 minutes: even the right password waits now.
    response = await sign_in(client, "maria")
    assert response.status == 429
    assert "Too many failed attempts" in await response.text()
    # Another account from the same address is slowed down too.
    assert (await sign_in(client, "arno")).status == 429
    failed = await scalar(
        ledger,
        select(func.count())
        .select_from(staff_repo.login_attempts)
        .where(staff_repo.login_attempts.c.succeeded.is_(False)),
    )
    assert failed == 7


async def test_sign_in_sets_a_strict_http_only_cookie_and_security_headers(
    client: TestClient, ledger: AsyncEngine
) -> None:
    response = await sign_in(client, "maria")
    assert response.status == 303
    cookie = response.cookies["relance_console"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/console"
    page = await client.get("/console/")
    assert page.status == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    html = await page.text()
    assert "<script>" not in html
    assert "onclick" not in html
    # The table keeps only a hash of the cookie's token.
    stored = await scalar(ledger, select(staff_sessions.c.token_hash))
    assert stored != cookie.value
    assert len(str(stored)) == 64
    audit = await scalar(ledger, select(audit_log.c.actor).where(audit_log.c.action == "signed_in"))
    assert audit == "staff:maria"


async def test_an_idle_session_expires(client: TestClient, ledger: AsyncEngine) -> None:
    await sign_in(client, "maria")
    assert (await client.get("/console/", allow_redirects=False)).status == 200
    async with ledger.begin() as conn:
        await conn.execute(
            update(staff_sessions).values(
                last_seen_at=datetime.now(UTC) - staff_repo.IDLE - timedelta(seconds=1)
            )
        )
    response = await client.get("/console/", allow_redirects=False)
    assert response.status == 302
    assert "expired=1" in response.headers["Location"]
    assert await scalar(ledger, select(func.count()).select_from(staff_sessions)) == 0
    login_page = await client.get(response.headers["Location"])
    assert "Your session ended" in await login_page.text()


async def test_a_post_without_the_csrf_token_is_refused(
    client: TestClient, ledger: AsyncEngine
) -> None:
    await linked_chat(client, ledger, "C1", "web-1")
    await sign_in(client, "maria")
    conversation_id = await scalar(ledger, select(conversations.c.id))
    for data in ({}, {"csrf_token": "forged"}):
        response = await client.post(
            f"/console/conversations/{conversation_id}/take", data=data, allow_redirects=False
        )
        assert response.status == 403
    handler = await scalar(ledger, select(conversations.c.handler))
    assert handler == "bot"


async def test_an_agent_cannot_do_a_managers_action(
    client: TestClient, ledger: AsyncEngine
) -> None:
    await linked_chat(client, ledger, "C1", "web-1")
    await chat(client, "web-1", "Je conteste la facture INV-1, la marchandise était abîmée", 1)
    assert await scalar(ledger, select(invoices.c.disputed).where(invoices.c.number == "INV-1"))
    await sign_in(client, "arno")
    token = await csrf_of(client)
    invoice_id = await scalar(ledger, select(invoices.c.id).where(invoices.c.number == "INV-1"))
    response = await client.post(
        f"/console/invoices/{invoice_id}/dispute",
        data={"csrf_token": token, "outcome": "full"},
        allow_redirects=False,
    )
    assert response.status == 403
    assert "needs the manager role" in await response.text()
    assert await scalar(ledger, select(invoices.c.disputed).where(invoices.c.number == "INV-1"))
    refused = await scalar(ledger, select(audit_log.c.actor).where(audit_log.c.action == "refused"))
    assert refused == "staff:arno"
    # Users are the admin's.
    assert (await client.get("/console/users", allow_redirects=False)).status == 403
    # ... in the staff member's language (a blind probe found it English only).
    french = await client.get("/console/users", headers={"Accept-Language": "fr-BE,fr"})
    assert "Il faut le rôle administrateur ; vous êtes connecté comme agent." in (
        await french.text()
    ).replace("&#39;", "'")
    # Nor may an agent lift the dispute's hold (a blind probe did, and reminders
    # came back on an undecided dispute); the button is not shown either.
    hold_id = await scalar(
        ledger, select(dunning_holds.c.id).where(dunning_holds.c.reason == "dispute")
    )
    lifted = await client.post(
        f"/console/holds/{hold_id}/release", data={"csrf_token": token}, allow_redirects=False
    )
    assert lifted.status == 403
    assert "lifted by a manager" in await lifted.text()
    assert (
        await scalar(
            ledger, select(dunning_holds.c.released_at).where(dunning_holds.c.id == hold_id)
        )
        is None
    )
    decisions = await (await client.get("/console/decisions")).text()
    assert f"/console/holds/{hold_id}/release" not in decisions
    # A pause must end after today.
    debtor_id = await scalar(
        ledger, select(invoices.c.debtor_id).where(invoices.c.id == invoice_id)
    )
    past = await client.post(
        "/console/holds",
        data={"csrf_token": token, "debtor_id": str(debtor_id), "until": "2020-01-01"},
        allow_redirects=False,
    )
    assert past.status == 400
    assert "is not after today" in await past.text()


def test_every_console_action_states_the_role_it_needs() -> None:
    app = create_app(load_settings({"DATABASE_URL": "sqlite+aiosqlite:///:memory:"}))
    public = {"/console/login", "/console/logout", "/console/language"}
    checked = 0
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if not path.startswith("/console") or path in public or path.startswith("/console/static"):
            continue
        if path in ("/console", "/console/events") or route.method == "HEAD":
            continue  # a redirect, and the event stream (session checked by the guard)
        assert getattr(route.handler, "required_role", None) in ("agent", "manager", "admin"), path
        checked += 1
    assert checked >= 15


# ----------------------------------------------------------------------------- the flow


async def test_take_over_reply_resolve_with_a_credit_note_and_hand_back(
    client: TestClient, ledger: AsyncEngine
) -> None:
    await linked_chat(client, ledger, "C1", "web-1")
    await chat(client, "web-1", "Je conteste la facture INV-1, il manquait la moitié", 1)
    await sign_in(client, "maria")
    inbox = await client.get("/console/")
    html = await inbox.text()
    assert "Dispute" in html
    assert "Boulangerie Dupont" in html
    conversation_id = await scalar(ledger, select(conversations.c.id))
    token = await csrf_of(client)

    response = await client.post(
        f"/console/conversations/{conversation_id}/take", data={"csrf_token": token}
    )
    assert response.status == 200
    assert await scalar(ledger, select(conversations.c.handler)) == "staff"
    assert await scalar(ledger, select(escalations.c.status)) == "taken"
    # While staff answer, the bot says only, once, that a person has it.
    (told,) = await chat(client, "web-1", "Vous avez reçu mon message ?", 2)
    assert "suit votre conversation et vous répondra ici" in told["text"]
    assert await chat(client, "web-1", "Allô ?", 3) == []

    response = await client.post(
        f"/console/conversations/{conversation_id}/reply",
        data={"csrf_token": token, "text": "Bonjour, je regarde votre livraison."},
    )
    assert response.status == 200
    reply = await scalar(
        ledger,
        select(messages.c.author).where(
            messages.c.direction == "out", messages.c.text.like("Bonjour, je regarde%")
        ),
    )
    assert reply == "staff:maria"
    # The debtor's open page fetches it (found by a blind probe: it never arrived,
    # though the console said "sent"): once, and only then is it "sent".
    status = select(messages.c.status).where(messages.c.author == "staff:maria")
    assert await scalar(ledger, status) == "queued"
    fetched = await client.post("/webhooks/rest/waiting", json={"sender": "web-1"})
    assert [m["text"] for m in await fetched.json()] == ["Bonjour, je regarde votre livraison."]
    again = await client.post("/webhooks/rest/waiting", json={"sender": "web-1"})
    assert await again.json() == []
    assert await scalar(ledger, status) == "sent"
    assert (await client.post("/webhooks/rest/waiting", json={})).status == 400
    # Another session sees nothing of it.
    other = await client.post("/webhooks/rest/waiting", json={"sender": "web-2"})
    assert await other.json() == []

    invoice_id = await scalar(ledger, select(invoices.c.id).where(invoices.c.number == "INV-1"))
    response = await client.post(
        f"/console/invoices/{invoice_id}/dispute",
        data={"csrf_token": token, "outcome": "partial", "amount": "150,00", "note": "half"},
    )
    assert response.status == 200, await response.text()
    async with ledger.connect() as conn:
        inv = (await conn.execute(select(invoices).where(invoices.c.number == "INV-1"))).one()
        note = (await conn.execute(select(invoices).where(invoices.c.number == "INV-1-CN1"))).one()
        dispute_holds = (
            await conn.execute(
                select(func.count()).where(
                    dunning_holds.c.invoice_id == invoice_id,
                    dunning_holds.c.reason == "dispute",
                    dunning_holds.c.released_at.is_(None),
                )
            )
        ).scalar_one()
    assert (inv.disputed, inv.open_amount, inv.status) == (
        False,
        Decimal("250.00"),
        "partially_paid",
    )
    assert (note.kind, note.amount, note.credited_invoice) == (
        "credit_note",
        Decimal("150.00"),
        "INV-1",
    )
    assert dispute_holds == 0

    response = await client.post(
        f"/console/conversations/{conversation_id}/hand-back", data={"csrf_token": token}
    )
    assert response.status == 200
    assert await scalar(ledger, select(conversations.c.handler)) == "bot"
    assert await scalar(ledger, select(escalations.c.status)) == "resolved"
    answers = await chat(client, "web-1", "Merci, je paierai le reste vendredi", 4)
    assert answers
    assert answers[0]["text"]

    timeline = await (await client.get(f"/console/conversations/{conversation_id}")).text()
    assert "/start …" in timeline  # the link token is not shown
    for seen in (
        "take over",
        "dispute resolved",
        "credit note INV-1-CN1",
        "hand back",
        "promise_to_pay",
    ):
        assert seen in timeline
    async with ledger.connect() as conn:
        actions = set((await conn.execute(select(audit_log.c.actor, audit_log.c.action))).all())
    assert ("staff:maria", "take_over") in actions
    assert ("staff:maria", "dispute_resolved") in actions
    assert ("staff:maria", "hand_back") in actions


async def test_a_staff_reply_not_fetched_comes_with_the_next_answer(
    client: TestClient, ledger: AsyncEngine
) -> None:
    await linked_chat(client, ledger, "C1", "web-1")
    await chat(client, "web-1", "Je voudrais parler à quelqu'un", 1)
    # Before anyone takes it: told a colleague is on the way, not the menu again.
    (waiting,) = await chat(client, "web-1", "Allô ? Il y a quelqu'un ?", 2)
    assert "un collaborateur vous répondra ici" in waiting["text"]
    await sign_in(client, "maria")
    conversation_id = await scalar(ledger, select(conversations.c.id))
    assert "human_asked" in json.loads(await scalar(ledger, select(conversations.c.state)))
    token = await csrf_of(client)
    await client.post(f"/console/conversations/{conversation_id}/take", data={"csrf_token": token})
    await client.post(
        f"/console/conversations/{conversation_id}/reply",
        data={"csrf_token": token, "text": "Bonjour, ici Maria."},
    )
    await client.post(
        f"/console/conversations/{conversation_id}/hand-back", data={"csrf_token": token}
    )
    assert "human_asked" not in json.loads(await scalar(ledger, select(conversations.c.state)))
    answers = await chat(client, "web-1", "Combien je dois encore ?", 3)
    assert answers[0]["text"] == "Bonjour, ici Maria."
    assert len(answers) > 1  # and the bot's answer after it
    # A reloaded page asks for the conversation so far: no link command in it.
    past = await (await client.post("/webhooks/rest/history", json={"sender": "web-1"})).json()
    assert [m["from"] for m in past][:2] == ["bot", "debtor"]  # "recognised", then the ask
    assert past[1]["text"] == "Je voudrais parler à quelqu'un"
    assert "Bonjour, ici Maria." in [m["text"] for m in past]
    assert not any(m["text"].startswith("/start") for m in past)
    other = await client.post("/webhooks/rest/history", json={"sender": "web-9"})
    assert await other.json() == []


async def test_a_reply_needs_the_conversation_taken_over(
    client: TestClient, ledger: AsyncEngine
) -> None:
    await linked_chat(client, ledger, "C1", "web-1")
    await sign_in(client, "arno")
    token = await csrf_of(client)
    conversation_id = await scalar(ledger, select(conversations.c.id))
    response = await client.post(
        f"/console/conversations/{conversation_id}/reply",
        data={"csrf_token": token, "text": "hello"},
    )
    assert response.status == 400
    assert "take the conversation over" in await response.text()


async def test_tomorrows_reminders_can_be_held(client: TestClient, ledger: AsyncEngine) -> None:
    await sign_in(client, "arno")
    page = await client.get("/console/decisions")
    html = await page.text()
    assert 'id="reminders"' in html
    assert "F-9" in html  # 100 days late: its next reminder is due
    # Level, tone, channel and amount in the staff member's language.
    german = await (
        await client.get("/console/decisions", headers={"Accept-Language": "de"})
    ).text()
    row = german.split('id="reminders"')[1].split("F-9", 1)[1].split("</tr>", 1)[0]
    assert "1 · Erinnerung" in row
    assert "freundlich" in row
    assert "250,00\u00a0€" in row
    token = CSRF.search(html).group(1)  # type: ignore[union-attr]
    invoice_id = await scalar(ledger, select(invoices.c.id).where(invoices.c.number == "F-9"))
    response = await client.post(
        "/console/holds",
        data={
            "csrf_token": token,
            "invoice_id": str(invoice_id),
            "reason": "paused",
            "from": "reminders",
        },
    )
    assert response.status == 200
    assert "Reminder held" in await response.text()
    hold = await scalar(
        ledger, select(dunning_holds.c.created_by).where(dunning_holds.c.invoice_id == invoice_id)
    )
    assert hold == "staff:arno"
    assert (
        "F-9"
        not in (await (await client.get("/console/decisions")).text())
        .split('id="reminders"')[1]
        .split('id="holds"')[0]
    )


async def test_admin_adds_a_user_who_can_sign_in(client: TestClient, ledger: AsyncEngine) -> None:
    await sign_in(client, "ada")
    token = await csrf_of(client, "/console/users")
    response = await client.post(
        "/console/users",
        data={"csrf_token": token, "login": "Nina", "role": "agent", "password": "short"},
    )
    assert response.status == 400
    assert "at least 10 characters" in await response.text()
    response = await client.post(
        "/console/users",
        data={"csrf_token": token, "login": "Nina", "role": "agent", "password": PASSWORD},
    )
    assert response.status == 200
    client.session.cookie_jar.clear()
    assert (await sign_in(client, "nina")).status == 303


async def test_overview_figures(ledger: AsyncEngine) -> None:
    today = datetime.now(UTC).date()
    async with ledger.connect() as conn:
        data = await overview(conn, today)
    ageing = dict(data.ageing)
    assert ageing["not due"] == Decimal("100.00")
    assert ageing["31-60"] == Decimal("400.00")
    assert ageing[">90"] == Decimal("250.00")
    assert data.open_total == Decimal("750.00")
    # Sales of the last 90 days: 400 + 100; 750 open -> 135 days.
    assert data.dso == Decimal("135")
    assert bucket_of(date(2026, 3, 10), date(2026, 3, 10)) == "not due"
    assert bucket_of(date(2026, 3, 10), date(2026, 4, 9)) == "1-30"
    assert bucket_of(date(2026, 3, 10), date(2026, 4, 10)) == "31-60"


async def _plan_request(engine: AsyncEngine) -> int:
    """A plan the bot handed to staff, as the dialogue policy does (pause + escalation)."""
    from adapters.db import dunning_repo

    async with engine.begin() as conn:
        conversation_id, debtor_id = (
            await conn.execute(select(conversations.c.id, conversations.c.debtor_id))
        ).one()
        for (invoice_id,) in await conn.execute(
            select(invoices.c.id).where(invoices.c.debtor_id == debtor_id)
        ):
            await dunning_repo.add_hold(
                conn, invoice_id=invoice_id, reason="paused", note="payment plan requested"
            )
        return await conversation_repo.escalate(
            conn,
            conversation_id=conversation_id,
            debtor_id=debtor_id,
            reason="plan_outside_policy",
            note="too many instalments: en 24 fois",
        )


async def test_a_manager_approves_a_plan_outside_policy(
    client: TestClient, ledger: AsyncEngine
) -> None:
    from adapters.db.plan_schema import payment_plans, plan_instalments

    await linked_chat(client, ledger, "C1", "web-1")
    escalation_id = await _plan_request(ledger)
    await sign_in(client, "arno")
    token = await csrf_of(client, "/console/decisions")
    form = {"csrf_token": token, "decision": "approve", "instalments": "3"}
    assert (await client.post(f"/console/plans/{escalation_id}", data=form)).status == 403
    client.session.cookie_jar.clear()
    await sign_in(client, "maria")
    page = await (await client.get("/console/decisions")).text()
    assert "en 24 fois" in page
    form["csrf_token"] = CSRF.search(page).group(1)  # type: ignore[union-attr]
    response = await client.post(f"/console/plans/{escalation_id}", data=form)
    assert response.status == 200, await response.text()
    async with ledger.connect() as conn:
        plan = (await conn.execute(select(payment_plans))).one()
        steps = (await conn.execute(select(plan_instalments.c.amount))).scalars().all()
        paused = (
            await conn.execute(
                select(func.count()).where(
                    dunning_holds.c.reason == "paused", dunning_holds.c.released_at.is_(None)
                )
            )
        ).scalar_one()
        status = (
            await conn.execute(
                select(escalations.c.status).where(escalations.c.id == escalation_id)
            )
        ).scalar_one()
    assert (plan.state, plan.total) == ("active", Decimal("500.00"))
    assert sum(steps) == Decimal("500.00")
    assert len(steps) == 3
    assert paused == 0
    assert status == "resolved"
    # The debtor is told, in their chat (found by a blind probe: they never were).
    told = await client.post("/webhooks/rest/waiting", json={"sender": "web-1"})
    (message,) = await told.json()
    assert "votre plan de paiement est convenu" in message["text"]
    assert "3 mensualités" in message["text"]


async def test_a_rejected_plan_lets_reminders_resume(
    client: TestClient, ledger: AsyncEngine
) -> None:
    await linked_chat(client, ledger, "C1", "web-1")
    escalation_id = await _plan_request(ledger)
    await sign_in(client, "maria")
    token = await csrf_of(client, "/console/decisions")
    # The bot's note on the hold reads in the staff member's language.
    german = await (
        await client.get("/console/decisions", headers={"Accept-Language": "de"})
    ).text()
    assert "Ratenplan angefragt" in german.split('id="holds"', 1)[1]
    response = await client.post(
        f"/console/plans/{escalation_id}", data={"csrf_token": token, "decision": "reject"}
    )
    assert response.status == 200
    paused = await scalar(
        ledger,
        select(func.count()).where(
            dunning_holds.c.reason == "paused", dunning_holds.c.released_at.is_(None)
        ),
    )
    assert paused == 0
    rejected = await scalar(
        ledger, select(audit_log.c.actor).where(audit_log.c.action == "plan_rejected")
    )
    assert rejected == "staff:maria"
    told = await client.post("/webhooks/rest/waiting", json={"sender": "web-1"})
    (message,) = await told.json()
    assert "ne pouvons pas l'accepter" in message["text"]
    assert "reprennent" in message["text"]


async def _bank_line_to_review(engine: AsyncEngine) -> int:
    """A bank line the reconciliation left for staff, with two ranked candidates."""
    from adapters.db.bank_schema import bank_match_candidates, bank_statements, bank_transactions

    now = datetime.now(UTC)
    today = now.date()
    async with engine.begin() as conn:
        ids = {row.number: row.id for row in await conn.execute(select(invoices))}
        statement_id = (
            await conn.execute(
                bank_statements.insert()
                .values(
                    source="test.xml",
                    format="camt.053",
                    account_iban="BE68539007547034",
                    statement="1",
                    new_lines=1,
                    duplicate_lines=0,
                    imported_at=now,
                )
                .returning(bank_statements.c.id)
            )
        ).scalar_one()
        transaction_id = (
            await conn.execute(
                bank_transactions.insert()
                .values(
                    identity="t" * 32,
                    statement_id=statement_id,
                    account_iban="BE68539007547034",
                    statement="1",
                    booking_date=today,
                    value_date=today,
                    amount=Decimal("250.00"),
                    currency="EUR",
                    counterparty_name="J. PEETERS",
                    free_text="factuur F9",
                    bank_reference="ref-1",
                    sequence="1",
                    source="test.xml",
                    status="to_review",
                    reason="no reference; several invoices of that amount",
                    created_at=now,
                )
                .returning(bank_transactions.c.id)
            )
        ).scalar_one()
        await conn.execute(
            bank_match_candidates.insert(),
            [
                {
                    "transaction_id": transaction_id,
                    "rank": 1,
                    "invoice_ids": str(ids["F-9"]),
                    "invoice_numbers": "F-9",
                    "method": "name_amount",
                    "confidence": 0.7,
                    "reason": "name and amount",
                },
                {
                    "transaction_id": transaction_id,
                    "rank": 2,
                    "invoice_ids": str(ids["INV-1"]),
                    "invoice_numbers": "INV-1",
                    "method": "amount",
                    "confidence": 0.3,
                    "reason": "amount only",
                },
            ],
        )
    return int(transaction_id)


async def test_a_manager_applies_a_ranked_candidate_of_a_bank_line(
    client: TestClient, ledger: AsyncEngine
) -> None:
    transaction_id = await _bank_line_to_review(ledger)
    await sign_in(client, "arno")
    page = await (await client.get("/console/decisions")).text()
    assert "factuur F9" in page
    assert "name and amount" in page
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": token, "rank": "1"}
    assert (await client.post(f"/console/bank/{transaction_id}/apply", data=form)).status == 403
    client.session.cookie_jar.clear()
    await sign_in(client, "maria")
    form["csrf_token"] = await csrf_of(client, "/console/decisions")
    response = await client.post(f"/console/bank/{transaction_id}/apply", data=form)
    assert response.status == 200
    assert "Bank line applied" in await response.text()
    async with ledger.connect() as conn:
        paid = (
            await conn.execute(
                select(invoices.c.open_amount, invoices.c.status).where(invoices.c.number == "F-9")
            )
        ).one()
        untouched = (
            await conn.execute(select(invoices.c.open_amount).where(invoices.c.number == "INV-1"))
        ).scalar_one()
    assert tuple(paid) == (Decimal("0.00"), "paid")
    assert untouched == Decimal("400.00")
    again = await client.post(f"/console/bank/{transaction_id}/apply", data=form)
    assert again.status == 400
    assert "not waiting for review" in await again.text()


async def _credit_of(engine: AsyncEngine, debtor_code: str, amount: str) -> int:
    """An overpayment of ``amount`` held for the debtor (on the bank line of the
    review test above: only its id matters here)."""
    from adapters.db.bank_schema import bank_transactions, debtor_credits

    async with engine.begin() as conn:
        transaction_id = (await conn.execute(select(func.max(bank_transactions.c.id)))).scalar()
        if transaction_id is None:
            transaction_id = await _bank_line_to_review(engine)
        debtor_id = (
            await conn.execute(select(debtors.c.id).where(debtors.c.code == debtor_code))
        ).scalar_one()
        row = await conn.execute(
            debtor_credits.insert()
            .values(
                debtor_id=debtor_id,
                transaction_id=transaction_id,
                amount=Decimal(amount),
                currency="EUR",
                iban="BE71096123456769",
                name="Boulangerie Dupont",
                status="open",
                created_at=datetime.now(UTC),
            )
            .returning(debtor_credits.c.id)
        )
        return int(row.scalar_one())


async def test_a_manager_sets_an_overpayment_against_invoices_or_approves_its_refund(
    client: TestClient, ledger: AsyncEngine
) -> None:
    credit_id = await _credit_of(ledger, "C1", "50.00")
    await sign_in(client, "arno")
    page = await (await client.get("/console/decisions")).text()
    assert "Overpayments held" in page
    assert "The debtor still owes" in page  # INV-1 and INV-2: 500.00
    assert f"/console/credits/{credit_id}/set-against" not in page  # an agent's page
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    denied = await client.post(
        f"/console/credits/{credit_id}/set-against", data={"csrf_token": token}
    )
    assert denied.status == 403
    client.session.cookie_jar.clear()
    await sign_in(client, "maria")
    token = await csrf_of(client, "/console/decisions")
    response = await client.post(
        f"/console/credits/{credit_id}/set-against", data={"csrf_token": token}
    )
    assert response.status == 200
    assert "Credit set against the invoices." in await response.text()
    async with ledger.connect() as conn:
        open_amounts = dict(
            (await conn.execute(select(invoices.c.number, invoices.c.open_amount))).all()
        )
        debtor_id = (
            await conn.execute(select(debtors.c.id).where(debtors.c.code == "C1"))
        ).scalar_one()
    assert open_amounts["INV-1"] == Decimal("350.00")  # the oldest first
    assert open_amounts["INV-2"] == Decimal("100.00")
    debtor_page = await (await client.get(f"/console/debtors/{debtor_id}")).text()
    assert f"credit {credit_id}" in debtor_page
    assert "credit set against" in debtor_page  # the audit entry
    # A second overpayment: refunded although C1 still owes, from the debtor page.
    second = await _credit_of(ledger, "C1", "20.00")
    debtor_page = await (await client.get(f"/console/debtors/{debtor_id}")).text()
    assert f"/console/credits/{second}/refund" in debtor_page
    response = await client.post(
        f"/console/credits/{second}/refund",
        data={"csrf_token": token, "back": f"/console/debtors/{debtor_id}"},
    )
    assert response.status == 200
    assert str(response.url.path) == f"/console/debtors/{debtor_id}"
    text = await response.text()
    assert "Refund approved: it goes into the next refund file." in text
    assert "refund approved" in text
    again = await client.post(
        f"/console/credits/{credit_id}/set-against", data={"csrf_token": token}
    )
    assert again.status == 400
    assert f"credit {credit_id} is applied" in await again.text()


async def test_a_manager_writes_off_and_the_debtor_page_and_audit_log_show_it(
    client: TestClient, ledger: AsyncEngine
) -> None:
    await sign_in(client, "maria")
    token = await csrf_of(client)
    async with ledger.connect() as conn:
        invoice_id, debtor_id = (
            await conn.execute(
                select(invoices.c.id, invoices.c.debtor_id).where(invoices.c.number == "F-9")
            )
        ).one()
    response = await client.post(
        f"/console/invoices/{invoice_id}/write-off",
        data={"csrf_token": token, "note": "insolvent", "back": f"/console/debtors/{debtor_id}"},
    )
    assert response.status == 200
    page = await response.text()
    assert "Invoice written off" in page
    assert "<td>written off</td>" in page  # the status, in words, on the debtor page
    assert "Jan Peeters" in page
    audit = await (await client.get("/console/audit?action=written_off")).text()
    assert "staff:maria" in audit
    assert "insolvent" in audit
    again = await client.post(
        f"/console/invoices/{invoice_id}/write-off", data={"csrf_token": token}
    )
    assert again.status == 400


async def test_writing_off_a_disputed_invoice_ends_the_dispute(
    client: TestClient, ledger: AsyncEngine
) -> None:
    """Found by a blind probe: the written-off invoice stayed in Disputes, with its
    hold and its open escalation."""
    await linked_chat(client, ledger, "C1", "web-1")
    await chat(client, "web-1", "Je conteste la facture INV-1, la marchandise était abîmée", 1)
    await sign_in(client, "maria")
    token = await csrf_of(client)
    invoice_id = await scalar(ledger, select(invoices.c.id).where(invoices.c.number == "INV-1"))
    response = await client.post(
        f"/console/invoices/{invoice_id}/write-off", data={"csrf_token": token, "note": "geste"}
    )
    assert response.status == 200
    async with ledger.connect() as conn:
        invoice = (await conn.execute(select(invoices).where(invoices.c.id == invoice_id))).one()
        holds = (
            await conn.execute(
                select(func.count()).where(
                    dunning_holds.c.reason == "dispute", dunning_holds.c.released_at.is_(None)
                )
            )
        ).scalar_one()
        statuses = (await conn.execute(select(escalations.c.status))).scalars().all()
    assert (invoice.written_off, invoice.disputed) == (True, False)
    assert holds == 0
    assert set(statuses) == {"resolved"}
    decisions = await (await client.get("/console/decisions")).text()
    assert "INV-1" not in decisions.split('id="disputes"', 1)[-1].split("</section>", 1)[0]


async def test_open_pages_hear_about_new_messages(client: TestClient, ledger: AsyncEngine) -> None:
    await sign_in(client, "arno")
    async with client.get("/console/events") as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert await stream.content.readline() == b"retry: 3000\n"
        await linked_chat(client, ledger, "C1", "web-9")
        event = b""
        while not event.startswith(b"event: change"):
            event = await asyncio.wait_for(stream.content.readline(), timeout=10)
        data = json.loads((await stream.content.readline()).removeprefix(b"data: "))
        assert data["messages"] == 2  # "/start" and the bot's answer
    client.session.cookie_jar.clear()
    assert (await client.get("/console/events")).status == 401


async def test_an_unknown_senders_words_are_shown_escaped(
    client: TestClient, ledger: AsyncEngine
) -> None:
    stored = await conversation_repo.store_inbound(
        ledger,
        channel="email",
        channel_key="stranger@example.org",
        external_id="<x1@example.org>",
        text="<script>alert('x')</script> who are you?",
        meta={"subject": "Rappel", "message_id": "<x1@example.org>"},
    )
    async with ledger.begin() as conn:
        await conversation_repo.escalate(
            conn,
            conversation_id=stored.conversation_id,
            debtor_id=None,
            reason="unknown_sender",
            message_id=stored.id,
        )
    await sign_in(client, "arno")
    inbox = await (await client.get("/console/")).text()
    assert "Unknown sender" in inbox
    assert "unknown: stranger@example.org" in inbox
    page = await (await client.get(f"/console/conversations/{stored.conversation_id}")).text()
    assert "Unidentified sender" in page
    assert "&lt;script&gt;alert(" in page
    assert "<script>alert" not in page


async def test_a_conversation_a_colleague_answers_is_not_taken_from_them(
    client: TestClient, ledger: AsyncEngine
) -> None:
    await linked_chat(client, ledger, "C1", "web-1")
    conversation_id = await scalar(ledger, select(conversations.c.id))
    await sign_in(client, "arno")
    token = await csrf_of(client)
    take = f"/console/conversations/{conversation_id}/take"
    assert (await client.post(take, data={"csrf_token": token})).status == 200
    client.session.cookie_jar.clear()
    await sign_in(client, "maria")
    response = await client.post(take, data={"csrf_token": await csrf_of(client)})
    assert response.status == 400
    assert "staff:arno already answers this conversation" in await response.text()
    assert await scalar(ledger, select(conversations.c.assigned_to)) == "staff:arno"


@pytest.mark.parametrize("action", ["take", "hand-back", "reply"])
async def test_an_unknown_conversation_is_a_clear_404(
    client: TestClient, ledger: AsyncEngine, action: str
) -> None:
    await sign_in(client, "arno")
    response = await client.post(
        f"/console/conversations/999/{action}",
        data={"csrf_token": await csrf_of(client), "text": "hello"},
    )
    assert response.status == 404
    assert "no conversation 999" in await response.text()


async def test_an_unknown_page_is_a_styled_404_in_the_staff_members_language(
    client: TestClient, ledger: AsyncEngine
) -> None:
    await sign_in(client, "arno")
    for path, text in (
        ("/console/conversations/999", "Dit gesprek bestaat niet."),
        ("/console/debtors/999", "Deze debiteur bestaat niet."),
    ):
        response = await client.get(path, headers={"Accept-Language": "nl-BE"})
        assert response.status == 404
        html = await response.text()
        assert text in html
        assert "Niet gevonden" in html
        assert '<html lang="nl">' in html


async def test_pages_speak_the_staff_members_language(
    client: TestClient, ledger: AsyncEngine
) -> None:
    await linked_chat(client, ledger, "C1", "web-1")
    conversation_id = await scalar(ledger, select(conversations.c.id))
    login = await client.get("/console/login", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    assert "Aanmelden" in await login.text()
    await sign_in(client, "arno")
    response = await client.get(
        f"/console/language?to=fr&back=/console/conversations/{conversation_id}",
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == f"/console/conversations/{conversation_id}"
    page = await (await client.get(f"/console/conversations/{conversation_id}")).text()
    assert "Reprendre la main" in page
    assert '<html lang="fr">' in page
    overview = await (await client.get("/console/overview")).text()
    assert "créances ouvertes" in overview
    assert "400,00\xa0€" in overview  # amounts in the French way
    away = await client.get(
        "/console/language?to=de&back=https://evil.example/", allow_redirects=False
    )
    assert away.headers["Location"] == "/console/"


async def test_an_unknown_sender_is_tied_to_a_debtor_and_recognised_next_time(
    client: TestClient, ledger: AsyncEngine
) -> None:
    from adapters.db.schema import debtor_emails

    stored = await conversation_repo.store_inbound(
        ledger,
        channel="email",
        channel_key="Owner@Dupont-Private.be",
        external_id="<y1@dupont-private.be>",
        text="Bonjour, où en est mon compte ?",
    )
    async with ledger.begin() as conn:
        await conversation_repo.escalate(
            conn,
            conversation_id=stored.conversation_id,
            debtor_id=None,
            reason="unknown_sender",
        )
    await sign_in(client, "arno")
    token = await csrf_of(client)
    link = f"/console/conversations/{stored.conversation_id}/link"
    unknown = await client.post(link, data={"csrf_token": token, "code": "NOPE"})
    assert unknown.status == 400
    assert "no debtor &#39;NOPE&#39;" in await unknown.text()
    response = await client.post(link, data={"csrf_token": token, "code": "C1"})
    assert response.status == 200
    async with ledger.connect() as conn:
        debtor_id = (
            await conn.execute(select(debtors.c.id).where(debtors.c.code == "C1"))
        ).scalar_one()
        linked = (
            await conn.execute(
                select(conversations.c.debtor_id).where(
                    conversations.c.id == stored.conversation_id
                )
            )
        ).scalar_one()
        addresses = set(
            (
                await conn.execute(
                    select(debtor_emails.c.email).where(debtor_emails.c.debtor_id == debtor_id)
                )
            ).scalars()
        )
        status = (await conn.execute(select(escalations.c.status))).scalar_one()
    assert linked == debtor_id
    assert "owner@dupont-private.be" in addresses
    assert status == "resolved"
    again = await client.post(link, data={"csrf_token": token, "code": "P1"})
    assert again.status == 400


async def test_the_event_stream_ends_with_the_session(
    client: TestClient, ledger: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.web.console import events

    monkeypatch.setattr(events, "SESSION_CHECK_SECONDS", 1.0)
    await sign_in(client, "arno")
    async with client.get("/console/events") as stream:
        assert await stream.content.readline() == b"retry: 3000\n"
        async with ledger.begin() as conn:
            await conn.execute(staff_sessions.delete())
        rest = await asyncio.wait_for(stream.content.read(), timeout=15)
    assert b"event: change" not in rest


def test_moments_read_in_the_staff_members_language_and_time_zone() -> None:
    """A blind probe saw "30 Nov 2026 12:51" in every language."""
    from zoneinfo import ZoneInfo

    from bot.web.console.render import local_time

    moment = datetime(2026, 11, 30, 11, 51, tzinfo=UTC)  # 12:51 in Brussels
    brussels = ZoneInfo("Europe/Brussels")
    assert [local_time(moment, brussels, language) for language in ("en", "fr", "nl", "de")] == [
        "30 Nov 2026 12:51",
        "30 nov. 2026 12:51",
        "30 nov 2026 12:51",
        "30 Nov. 2026 12:51",
    ]
    assert local_time(None, brussels, "fr") == ""


async def test_dates_in_tables_read_in_the_staff_members_language(
    client: TestClient, ledger: AsyncEngine
) -> None:
    """A blind probe saw ISO dates ("2026-09-01", wrapping as "2026-\\n09-01")
    beside long ones."""
    from babel.dates import format_date

    await sign_in(client, "arno")
    async with ledger.connect() as conn:
        invoice = (
            await conn.execute(
                select(invoices.c.debtor_id, invoices.c.due_date).where(invoices.c.number == "F-9")
            )
        ).one()
    page = await (
        await client.get(f"/console/debtors/{invoice.debtor_id}", headers={"Accept-Language": "fr"})
    ).text()
    assert format_date(invoice.due_date, "d MMM y", locale="fr_BE") in page
    assert invoice.due_date.isoformat() not in page


def test_audit_details_read_as_words_not_json() -> None:
    """A blind probe saw "replies: ['plan_ack']" and "instalments: [['2026-12-14', ...]]"."""
    from bot.web.console.views import _details

    text = (
        '{"replies": ["plan_ack"], "instalments": [["2026-12-14", "666.50"], ["2027-01-14", '
        '"666.50"]], "reason": "plan_outside_policy", "credit_note": null, "note": "geste"}'
    )
    assert _details(text) == (
        "replies: plan ack, instalments: 2026-12-14 666.50; 2027-01-14 666.50, "
        "reason: plan outside policy, note: geste"
    )
    assert _details({"text": "Bonjour, je regarde"}) == "text: Bonjour, je regarde"
    assert _details("not json") == "not json"
