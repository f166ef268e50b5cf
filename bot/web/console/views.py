"""The console's pages and actions.

    GET  /console/                          inbox of escalations          agent
    GET  /console/conversations             recent conversations          agent
    GET  /console/conversations/{id}        one conversation's timeline   agent
    POST /console/conversations/{id}/take | hand-back | reply             agent
    POST /console/escalations/{id}/resolve                                agent
    GET  /console/decisions                 disputes, bank lines, tomorrow's reminders, holds
    POST /console/holds  /console/holds/{id}/release                     agent
    POST /console/invoices/{id}/dispute     full | partial | reject       manager
    POST /console/invoices/{id}/write-off                                 manager
    POST /console/bank/{id}/apply           a ranked candidate            manager
    GET  /console/debtors  /console/debtors/{id}                          agent
    GET  /console/overview                  DSO, ageing, promises, cash expected, bot share
    GET  /console/audit                     every staff and bot action    agent
    GET  /console/users  POST /console/users[/{id}]                       admin

Every POST ends in a redirect (post/redirect/get), so reloading a page never
repeats an action.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from adapters.db import conversation_repo, credits_repo, staff_repo
from adapters.db.staff_repo import StaffError
from bot.errors import NotAllowed, NotFound, RelanceError, UserError
from bot.web.console import actions, charts, queries
from bot.web.console.auth import form_value, requires, user_of
from bot.web.console.i18n import translator
from bot.web.console.render import language_of, page
from bot.web.keys import ENGINE, SETTINGS
from bot.web.webchat import CONVERSATIONS


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console", to_inbox)
    r.add_get("/console/", inbox)
    r.add_get("/console/conversations", conversation_list)
    r.add_get("/console/conversations/{id:\\d+}", conversation)
    r.add_post("/console/conversations/{id:\\d+}/take", take)
    r.add_post("/console/conversations/{id:\\d+}/hand-back", hand_back)
    r.add_post("/console/conversations/{id:\\d+}/reply", reply)
    r.add_post("/console/conversations/{id:\\d+}/link", link_debtor)
    r.add_post("/console/escalations/{id:\\d+}/resolve", resolve_escalation)
    r.add_get("/console/decisions", decisions)
    r.add_post("/console/holds", add_hold)
    r.add_post("/console/holds/{id:\\d+}/release", release_hold)
    r.add_post("/console/invoices/{id:\\d+}/dispute", resolve_dispute)
    r.add_post("/console/invoices/{id:\\d+}/write-off", write_off)
    r.add_post("/console/bank/{id:\\d+}/apply", apply_bank_line)
    r.add_post("/console/credits/{id:\\d+}/set-against", set_credit_against)
    r.add_post("/console/credits/{id:\\d+}/refund", approve_refund)
    r.add_post("/console/plans/{id:\\d+}", decide_plan)
    r.add_get("/console/debtors", debtor_list)
    r.add_get("/console/debtors/{id:\\d+}", debtor)
    r.add_get("/console/overview", overview)
    r.add_get("/console/audit", audit)
    r.add_get("/console/users", users)
    r.add_post("/console/users", add_user)
    r.add_post("/console/users/{id:\\d+}", change_user)


async def to_inbox(request: web.Request) -> web.Response:
    return _redirect("/console/")


def _redirect(target: str) -> web.Response:
    raise web.HTTPSeeOther(target)


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _today(request: web.Request) -> date:
    return datetime.now(request.app[SETTINGS].timezone).date()


def _back(form: Any, default: str) -> str:
    target = form_value(form, "back")
    return target if target.startswith("/console/") and not target.startswith("//") else default


def _with_done(target: str, code: str) -> str:
    base = target.split("?", 1)[0]
    return f"{base}?done={code}"


async def _nav(request: web.Request) -> dict[str, int]:
    async with request.app[ENGINE].connect() as conn:
        return await queries.counts(conn)


async def _not_found(request: web.Request, message: str) -> web.Response:
    """A styled 404 in the staff member's language (``message`` is in the catalogue)."""
    return page(
        request,
        "console/error.html",
        status=404,
        title="Not found",
        message=translator(language_of(request))(message),
        nav=await _nav(request),
    )


async def _problem(request: web.Request, exc: RelanceError) -> web.Response:
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, NotAllowed) else 400
    return page(
        request,
        "console/error.html",
        status=status,
        title="Not done",
        message=exc.message,
        nav=await _nav(request),
    )


def _parse_day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{field}: not a date (YYYY-MM-DD): {text!r}") from None


# ------------------------------------------------------------------------------ inbox


@requires("agent")
async def inbox(request: web.Request) -> web.Response:
    status = request.query.get("status", "active")
    reason = request.query.get("reason", "")
    if reason not in queries.REASONS:
        reason = ""
    async with request.app[ENGINE].connect() as conn:
        rows = await queries.inbox(conn, status, reason)
        nav = await queries.counts(conn)
    return page(
        request,
        "console/inbox.html",
        title="Inbox",
        rows=rows,
        reasons=queries.REASONS,
        show=status,
        reason=reason,
        nav=nav,
        live=True,
    )


@requires("agent")
async def conversation_list(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        rows = await queries.recent_conversations(conn, 100)
        nav = await queries.counts(conn)
    return page(
        request, "console/conversations.html", title="Conversations", rows=rows, nav=nav, live=True
    )


@requires("agent")
async def conversation(request: web.Request) -> web.Response:
    conversation_id = _id(request)
    async with request.app[ENGINE].connect() as conn:
        conv = await queries.conversation(conn, conversation_id)
        if conv is None:
            return await _not_found(request, "There is no such conversation.")
        entries = await queries.timeline(conn, conv)
        escalations = await queries.escalations_of(conn, conversation_id)
        details = (
            await queries.debtor_page(conn, conv.debtor_id) if conv.debtor_id is not None else None
        )
        nav = await queries.counts(conn)
    disputed = [
        i for i in (details["invoices"] if details else []) if i.disputed and i.open_amount > 0
    ]
    return page(
        request,
        "console/conversation.html",
        title=f"Conversation {conversation_id}",
        conv=conv,
        entries=entries,
        escalations=escalations,
        reasons=queries.REASONS,
        details=details,
        disputed=disputed,
        details_of=_details,
        nav=nav,
        live=True,
    )


@requires("agent")
async def take(request: web.Request) -> web.Response:
    conversation_id = _id(request)
    try:
        await actions.take_over(
            request.app[CONVERSATIONS], request.app[ENGINE], conversation_id, user_of(request)
        )
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(f"/console/conversations/{conversation_id}?done=taken")


@requires("agent")
async def hand_back(request: web.Request) -> web.Response:
    conversation_id = _id(request)
    try:
        await actions.hand_back(
            request.app[CONVERSATIONS], request.app[ENGINE], conversation_id, user_of(request)
        )
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(f"/console/conversations/{conversation_id}?done=handed")


@requires("agent")
async def reply(request: web.Request) -> web.Response:
    conversation_id = _id(request)
    form = await request.post()
    try:
        await actions.staff_reply(
            request.app[CONVERSATIONS],
            request.app[ENGINE],
            conversation_id,
            user_of(request),
            form_value(form, "text"),
        )
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(f"/console/conversations/{conversation_id}?done=sent#reply")


@requires("agent")
async def link_debtor(request: web.Request) -> web.Response:
    conversation_id = _id(request)
    form = await request.post()
    try:
        await actions.link_debtor(
            request.app[ENGINE], user_of(request), conversation_id, form_value(form, "code")
        )
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(f"/console/conversations/{conversation_id}?done=linked")


@requires("agent")
async def resolve_escalation(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await actions.resolve_escalation(request.app[ENGINE], user_of(request), _id(request))
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(_with_done(_back(form, "/console/"), "resolved"))


# -------------------------------------------------------------------------- decisions


@requires("agent")
async def decisions(request: web.Request) -> web.Response:
    from adapters.db.bank_repo import transactions_to_review
    from bot.dunning import DunningSetup
    from bot.dunning import decisions as dunning_decisions
    from domain.dunning import DunningLine

    engine = request.app[ENGINE]
    today = _today(request)
    tomorrow = today + timedelta(days=1)
    setup = DunningSetup.from_settings(request.app[SETTINGS], tomorrow)
    reminders: list[tuple[Any, Any]] = []
    async with engine.connect() as conn:
        async for decision, _facts in dunning_decisions(conn, tomorrow, setup):
            if isinstance(decision, DunningLine) and decision.send_on <= tomorrow:
                reminders.append((decision, decision.to_json()))
                if len(reminders) >= 200:
                    break
    async with engine.connect() as conn:
        disputed = await queries.disputed_invoices(conn)
        holds = await queries.active_holds(conn, today)
        plans = await queries.plan_requests(conn)
        nav = await queries.counts(conn)
        credits = await credits_repo.held_credits(conn)
    bank_lines = await transactions_to_review(engine)
    return page(
        request,
        "console/decisions.html",
        title="Decisions",
        disputed=disputed,
        bank_lines=bank_lines,
        credits=credits,
        reminders=reminders,
        tomorrow=tomorrow,
        holds=holds,
        plans=plans,
        default_first_due=today + timedelta(days=7),
        nav=nav,
        live=False,
    )


@requires("agent")
async def add_hold(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        reason = form_value(form, "reason") or "paused"
        until = _parse_day(form_value(form, "until"), "until")
        invoice = form_value(form, "invoice_id")
        debtor_id = form_value(form, "debtor_id")
        if not invoice and not debtor_id:
            raise UserError("say which debtor or invoice to hold")
        if reason == "paused" and until is None:
            until = _today(request) + timedelta(days=14)
        await actions.pause_dunning(
            request.app[ENGINE],
            user_of(request),
            debtor_id=int(debtor_id) if debtor_id and not invoice else None,
            invoice_id=int(invoice) if invoice else None,
            reason=reason,
            until=until,
            note=form_value(form, "note"),
            today=_today(request),
        )
    except (RelanceError, ValueError) as exc:
        error = exc if isinstance(exc, RelanceError) else UserError(str(exc))
        return await _problem(request, error)
    code = "held" if form_value(form, "from") == "reminders" else reason
    return _redirect(_with_done(_back(form, "/console/decisions"), code))


@requires("agent")
async def release_hold(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await actions.release_hold(request.app[ENGINE], user_of(request), _id(request))
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(_with_done(_back(form, "/console/decisions"), "released"))


@requires("manager")
async def resolve_dispute(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        outcome = form_value(form, "outcome")
        amount = actions.parse_amount(form_value(form, "amount")) if outcome == "partial" else None
        await actions.resolve_dispute(
            request.app[ENGINE],
            user_of(request),
            _id(request),
            outcome,
            amount,
            form_value(form, "note"),
            _today(request),
        )
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(_with_done(_back(form, "/console/decisions"), "dispute"))


@requires("manager")
async def decide_plan(request: web.Request) -> web.Response:
    form = await request.post()
    approve = form_value(form, "decision") == "approve"
    try:
        count = int(form_value(form, "instalments") or "0") if approve else 0
        await actions.decide_plan(
            request.app[ENGINE],
            user_of(request),
            _id(request),
            approve,
            instalments=count,
            first_due=_parse_day(form_value(form, "first_due"), "first due date"),
            note=form_value(form, "note"),
            today=_today(request),
            service=request.app.get(CONVERSATIONS),
        )
    except ValueError:
        return await _problem(request, UserError("instalments: a whole number"))
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(_with_done(_back(form, "/console/decisions"), "plan"))


@requires("manager")
async def write_off(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await actions.write_off(
            request.app[ENGINE], user_of(request), _id(request), form_value(form, "note")
        )
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(_with_done(_back(form, "/console/decisions"), "written_off"))


@requires("manager")
async def apply_bank_line(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        rank = int(form_value(form, "rank") or "0")
        await actions.apply_bank_line(
            request.app[ENGINE], user_of(request), _id(request), rank, _today(request)
        )
    except ValueError:
        return await _problem(request, UserError("rank: choose a candidate"))
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect("/console/decisions?done=applied")


@requires("manager")
async def set_credit_against(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await actions.set_credit_against(
            request.app[ENGINE],
            user_of(request),
            _id(request),
            _today(request),
            form_value(form, "invoice"),
        )
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(_with_done(_back(form, "/console/decisions"), "credit_used"))


@requires("manager")
async def approve_refund(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await actions.approve_refund(request.app[ENGINE], user_of(request), _id(request))
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect(_with_done(_back(form, "/console/decisions"), "refund_approved"))


# ----------------------------------------------------------------------------- debtors


@requires("agent")
async def debtor_list(request: web.Request) -> web.Response:
    term = request.query.get("q", "").strip()[:100]
    async with request.app[ENGINE].connect() as conn:
        rows = await queries.find_debtors(conn, term)
        nav = await queries.counts(conn)
    return page(request, "console/debtors.html", title="Debtors", rows=rows, q=term, nav=nav)


@requires("agent")
async def debtor(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        details = await queries.debtor_page(conn, _id(request))
        if details is None:
            return await _not_found(request, "There is no such debtor.")
        history = await queries.audit_entries(conn, debtor_id=_id(request), limit=50)
        nav = await queries.counts(conn)
    return page(
        request,
        "console/debtor.html",
        title=details["debtor"].name,
        d=details,
        history=history,
        today=_today(request),
        nav=nav,
        details_of=_details,
    )


# ---------------------------------------------------------------------------- overview


@requires("agent")
async def overview(request: web.Request) -> web.Response:
    from bot.templating import money

    today = _today(request)
    async with request.app[ENGINE].connect() as conn:
        data = await queries.overview(conn, today)
        nav = await queries.counts(conn)

    language = language_of(request)
    _ = translator(language)

    def euros(value: Decimal) -> str:
        return money(value, "EUR", language)

    ageing_chart = charts.bars(
        [(_(name), value) for name, value in data.ageing],
        euros,
        title=_("Ageing: open amounts by days past due"),
        colours=("#38a169", "#d69e2e", "#dd6b20", "#c53030", "#742a2a"),
    )
    expected_chart = charts.bars(
        data.expected, euros, title=_("Cash expected from promises and plans, by week")
    )
    promise_chart = charts.bars(
        [
            (_(status), Decimal(data.promises.get(status, 0)))
            for status in ("open", "kept", "broken", "cancelled")
        ],
        lambda v: f"{v:.0f}",
        title=_("Promises to pay"),
        colours=("#3182ce", "#38a169", "#c53030", "#a0aec0"),
    )
    bot_chart = charts.share(
        data.bot_share,
        _("closed by the bot without staff"),
        _("needed staff"),
        title=_("Conversations the bot closed without staff"),
        empty=_("no conversations yet"),
    )
    return page(
        request,
        "console/overview.html",
        title="Overview",
        data=data,
        ageing_chart=ageing_chart,
        expected_chart=expected_chart,
        promise_chart=promise_chart,
        bot_chart=bot_chart,
        nav=nav,
        live=True,
    )


# ------------------------------------------------------------------------------- audit


def _details(text: str | dict[str, Any]) -> str:
    """An audit entry's details as a person reads them: "instalments: 2026-12-14
    666.50; 2027-01-14 666.50", "replies: plan ack", not JSON or Python lists."""
    if isinstance(text, dict):
        data: Any = text
    else:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            return text
    if not isinstance(data, dict):
        return _shown(data)
    return ", ".join(
        f"{key.replace('_', ' ')}: {_shown(value)}"
        for key, value in data.items()
        if value not in (None, "", [], {})
    )


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(
            " ".join(str(x) for x in item) if isinstance(item, list) else _shown(item)
            for item in value
        )
    if isinstance(value, dict):
        return _details(value)
    if isinstance(value, str) and value.isidentifier() and "_" in value:
        return value.replace("_", " ")  # a template or reason key: "plan_ack"
    return str(value)


@requires("agent")
async def audit(request: web.Request) -> web.Response:
    actor = request.query.get("actor", "").strip()[:100]
    action = request.query.get("action", "").strip()[:64]
    try:
        before = int(request.query["before"]) if request.query.get("before") else None
    except ValueError:
        before = None
    async with request.app[ENGINE].connect() as conn:
        rows = await queries.audit_entries(conn, actor=actor, action=action, before=before)
        known = await queries.audit_actions(conn)
        nav = await queries.counts(conn)
    return page(
        request,
        "console/audit.html",
        title="Audit log",
        rows=rows,
        actor=actor,
        action=action,
        actions=known,
        details_of=_details,
        next_before=rows[-1].id if len(rows) == 100 else None,
        nav=nav,
        live=True,
    )


# ------------------------------------------------------------------------------- users


@requires("admin")
async def users(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        rows = await staff_repo.list_users(conn)
        nav = await queries.counts(conn)
    return page(
        request, "console/users.html", title="Users", rows=rows, roles=staff_repo.ROLES, nav=nav
    )


@requires("admin")
async def add_user(request: web.Request) -> web.Response:
    form = await request.post()
    admin = user_of(request)
    try:
        async with request.app[ENGINE].begin() as conn:
            user_id = await staff_repo.create_user(
                conn,
                form_value(form, "login"),
                str(form.get("password", "")),
                form_value(form, "role"),
                form_value(form, "display_name"),
            )
            await conversation_repo.audit(
                conn,
                admin.actor,
                "staff_user_added",
                user_id=user_id,
                login=form_value(form, "login").lower(),
                role=form_value(form, "role"),
            )
    except StaffError as exc:
        return await _problem(request, UserError(str(exc)))
    return _redirect("/console/users?done=user_added")


@requires("admin")
async def change_user(request: web.Request) -> web.Response:
    form = await request.post()
    admin = user_of(request)
    user_id = _id(request)
    what = form_value(form, "action")
    try:
        async with request.app[ENGINE].begin() as conn:
            target = await staff_repo.get_user(conn, user_id)
            if target is None:
                raise NotFound(f"no user {user_id}")
            if target.id == admin.id and what in ("role", "deactivate"):
                raise UserError("you cannot change your own role or lock yourself out")
            if what == "role":
                await staff_repo.set_role(conn, user_id, form_value(form, "role"))
            elif what in ("deactivate", "activate"):
                await staff_repo.set_active(conn, user_id, what == "activate")
            elif what == "password":
                await staff_repo.set_password(conn, user_id, str(form.get("password", "")))
            else:
                raise UserError("action: role, activate, deactivate or password")
            await conversation_repo.audit(
                conn,
                admin.actor,
                f"staff_user_{what}",
                user_id=user_id,
                login=target.login,
                role=form_value(form, "role") if what == "role" else None,
            )
    except StaffError as exc:
        return await _problem(request, UserError(str(exc)))
    except RelanceError as exc:
        return await _problem(request, exc)
    return _redirect("/console/users?done=user_changed")
