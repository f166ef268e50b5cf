"""Handling a debtor's message, exactly once: store, understand, decide, act, answer.

    receive(inbound)                  email, Telegram: delivered to us before we answer
      store_inbound()                 committed first: a crash now loses nothing
      understand (NLU)                outside any transaction
      one transaction:
        claim the message             (skip if another process has it or it is done)
        identify the debtor           email address / linked chat; else say nothing
        decide (bot.dialogue.policy)  unless staff took the conversation over
        apply the actions             promise, holds, dispute, escalations, audit
        write the replies             email and Telegram: the outbox; web chat: stored
        mark the message handled
      -> the replies (the web chat returns them in its HTTP answer)

A redelivered message is a duplicate at the store step; a crash inside the
transaction rolls everything back and ``recover()`` handles the message again.

The web chat's sender waits for the answer in its HTTP request, so there the
message is stored and answered in ONE transaction (``_receive_and_answer``): kept
with its answer, or not at all and the request fails (the sender sends it again;
a failure other than a crash keeps the message for staff, as above).  Half the
transactions, and no answer is ever stored that its sender did not receive.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, make_msgid, parseaddr
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.db import conversation_repo as repo
from adapters.db import dunning_repo
from adapters.db.allocations import refresh_open_amounts
from adapters.db.conversation_schema import conversations, messages
from adapters.db.dunning_schema import dunning_lines, outbox
from adapters.db.schema import debtor_emails, invoices
from adapters.db.sqlite_driver import begin_writing
from bot.channels.base import Choice, InboundMessage, OutgoingMessage
from bot.config import Settings
from bot.dialogue.context import load_debtor_context
from bot.dialogue.policy import (
    AcceptPlan,
    ConversationPolicy,
    DebtorContext,
    Decision,
    Escalate,
    MarkDisputed,
    Pause,
    RecordPromise,
    Reply,
    Understanding,
    decide,
)
from bot.dialogue.replies import base_context, render_reply, wrap_email
from domain.debtor import LANGUAGES
from nlu.training import INTENTS

log = logging.getLogger(__name__)
# Channels whose sender waits for the answer in the same exchange (the web chat's
# HTTP request): stored and answered in one transaction.
ANSWERED_AT_ONCE = frozenset({"webchat"})

Understand = Callable[[str, date], dict[str, Any]]
_START = re.compile(r"^/start(?:@\w+)?\s+([A-Za-z0-9_-]{8,64})\s*$")
_PAYLOAD = re.compile(r"^/([a-z_]+)\s*$")
# A plan option's button: /plan_choice{"option": 2} (Rasa's payload shape).
_PLAN_CHOICE = re.compile(r'^/plan_choice\s*\{\s*"option"\s*:\s*"?(\d{1,2})"?\s*\}\s*$')


def _plan_policies() -> dict[str, Any]:
    """What the agent may agree alone: RELANCE_PLAN_POLICY (a YAML file) over the
    defaults of ``domain.payment_plan``."""
    import os

    from bot.plans import load_plan_policies

    return load_plan_policies(os.environ.get("RELANCE_PLAN_POLICY"))


def _default_understand(text: str, reference_date: date) -> dict[str, Any]:
    from nlu.api import parse

    return parse(text, reference_date)


class Conversations:
    """The conversation service; one per process, shared by every channel."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: Settings,
        understand: Understand | None = None,
        policy: ConversationPolicy | None = None,
        pay_url: Callable[[int], str | None] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.understand = understand or _default_understand
        self.policy = policy or ConversationPolicy(plan_policies=_plan_policies())
        self.pay_url = pay_url or self._portal_url
        self._sqlite_writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._conversation_ids: dict[tuple[str, str], int] = {}  # see repo.store_inbound

    def today(self) -> date:
        return datetime.now(self.settings.timezone).date()

    def _portal_url(self, debtor_id: int) -> str | None:
        """The debtor's signed pay page, when a secret key is configured."""
        if not self.settings.secret_key:
            return None
        from bot.paylinks import portal_url

        return portal_url(self.settings, debtor_id)

    async def tell(
        self,
        conn: AsyncConnection,
        conversation_id: int,
        replies: list[Reply],
        today: date,
        not_before: datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> list[OutgoingMessage]:
        """Messages the agent starts itself (plan reminders, a broken plan, staff's
        decision on a plan), written on the conversation's channel inside the
        caller's transaction; ``extra``: more template parameters (a plan's links)."""
        conversation = await repo.load_conversation(conn, conversation_id)
        turn = _Turn(self, conn, None, {}, conversation, today)
        turn.plan_params = dict(extra or {})
        context = (
            await load_debtor_context(conn, conversation.debtor_id, self.settings)
            if conversation.debtor_id is not None
            else None
        )
        if context is not None and not conversation.language:
            turn.language = context.language
        return await turn.send(
            [turn._render(r, context) for r in replies], author="bot", not_before=not_before
        )

    # ----------------------------------------------------------------- inbound

    async def receive(self, inbound: InboundMessage) -> list[OutgoingMessage]:
        meta = dict(inbound.meta)
        if inbound.reference_date:
            meta["reference_date"] = inbound.reference_date.isoformat()
        if inbound.channel in ANSWERED_AT_ONCE:
            try:
                return await self._receive_and_answer(inbound, meta)
            except IntegrityError:
                pass  # a repeat, or a conversation opened at the same moment: see below
            except Exception:
                # Nothing was kept: keep the message for staff and recover(), as
                # storing it first would have, then report the failure.
                await self._store(inbound, meta)
                raise
        stored = await self._store(inbound, meta)
        if stored.duplicate:
            log.info("duplicate %s message %s ignored", inbound.channel, inbound.external_id)
            return []
        # Handled from what we hold (as stored: JSON round trip), not read back.
        stored_meta = json.loads(json.dumps(meta, default=str))
        return await self._handle(
            stored.id, inbound.text, inbound.kind, stored_meta, inbound.received_at
        )

    async def _store(self, inbound: InboundMessage, meta: dict[str, Any]) -> repo.StoredMessage:
        async with self._writing():
            return await repo.store_inbound(
                self.engine,
                channel=inbound.channel,
                channel_key=inbound.sender,
                external_id=inbound.external_id,
                text=inbound.text,
                kind=inbound.kind,
                meta=meta,
                received_at=inbound.received_at,
                known=self._conversation_ids,
            )

    async def _receive_and_answer(
        self, inbound: InboundMessage, meta: dict[str, Any]
    ) -> list[OutgoingMessage]:
        """Store and answer in one transaction, for a channel whose sender waits for
        the answer in the same exchange: the message is kept with its answer or not
        at all, and then the sender is told it failed and sends it again."""
        stored_meta = json.loads(json.dumps(meta, default=str))
        reference = self._reference(stored_meta, inbound.received_at)
        parse = self._parse_unless_command(inbound.kind, inbound.text, reference)
        key = (inbound.channel, inbound.sender)
        async with self._writing(), self.engine.begin() as conn:
            await begin_writing(conn)
            conversation_id = self._conversation_ids.get(key) or await repo.conversation_for(
                conn, inbound.channel, inbound.sender
            )
            message_id, conversation = await repo.add_inbound(
                conn,
                conversation_id=conversation_id,
                channel=inbound.channel,
                external_id=inbound.external_id,
                text=inbound.text,
                kind=inbound.kind,
                meta=meta,
                received_at=inbound.received_at,
            )
            message = SimpleNamespace(
                id=message_id,
                conversation_id=conversation_id,
                kind=inbound.kind,
                text=inbound.text,
            )
            sent = await _Turn(self, conn, message, stored_meta, conversation, reference).run(parse)
        self._conversation_ids[key] = conversation_id
        return sent

    async def recover(self) -> int:
        """Handle every message stored but not handled (after a crash); returns how many."""
        handled = 0
        for message_id in await repo.pending_message_ids(self.engine):
            await self.process(message_id)
            handled += 1
        return handled

    async def process(self, message_id: int) -> list[OutgoingMessage]:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(messages).where(messages.c.id == message_id))).first()
        if row is None or row.status != "received":
            return []
        meta = json.loads(row.meta or "{}")
        return await self._handle(message_id, row.text, row.kind, meta, row.created_at)

    def _reference(self, meta: dict[str, Any], created_at: datetime) -> date:
        """The day the debtor wrote, which "tomorrow" and "Friday" count from."""
        if meta.get("reference_date"):
            return date.fromisoformat(meta["reference_date"])
        if created_at.tzinfo:
            return created_at.astimezone(self.settings.timezone).date()
        return self.today()

    def _parse_unless_command(self, kind: str, text: str, reference: date) -> dict[str, Any] | None:
        if kind == "message" and not _START.match(text.strip()):
            return self._understand(text, reference)
        return None

    async def _handle(
        self, message_id: int, text: str, kind: str, meta: dict[str, Any], created_at: datetime
    ) -> list[OutgoingMessage]:
        reference = self._reference(meta, created_at)
        parse = self._parse_unless_command(kind, text, reference)

        async with self._writing(), self.engine.begin() as conn:
            await begin_writing(conn)
            claimed = await repo.claim_received(conn, message_id)
            if claimed is None:
                return []
            message, conversation = claimed
            handler = _Turn(self, conn, message, meta, conversation, reference)
            return await handler.run(parse)

    def _writing(self) -> AbstractAsyncContextManager[Any]:
        """SQLite has one writer at a time: this process's writers queue here, where a
        finished one wakes the next at once, instead of in SQLite's busy handler,
        which sleeps (up to 100 ms a round) before it tries again."""
        return self._sqlite_writer or nullcontext()

    def _understand(self, text: str, reference: date) -> dict[str, Any]:
        choice = _PLAN_CHOICE.match(text.strip())
        if choice:
            return {
                "text": text,
                "intent": {"name": "plan_choice", "confidence": 1.0},
                "entities": [{"entity": "option", "value": choice.group(1)}],
                "language": "",
            }
        payload = _PAYLOAD.match(text.strip())
        if payload and payload.group(1) in INTENTS:
            return {
                "text": text,
                "intent": {"name": payload.group(1), "confidence": 1.0},
                "entities": [],
                "language": "",
            }
        return self.understand(text, reference)

    # ------------------------------------------------------------------ staff

    async def take_over(self, conversation_id: int, staff: str) -> None:
        async with self.engine.begin() as conn:
            conversation = await repo.load_conversation(conn, conversation_id)
            state = json.loads(conversation.state or "{}")
            state.pop("staff_told", None)  # the debtor's next message is acknowledged once
            await repo.save_conversation(
                conn, conversation_id, handler="staff", assigned_to=staff, state=state
            )
            if conversation.debtor_id is not None:
                await dunning_repo.add_hold(
                    conn,
                    debtor_id=conversation.debtor_id,
                    reason="takeover",
                    note=f"conversation {conversation_id} taken over",
                    created_by=staff,
                )
            await repo.audit(
                conn,
                staff,
                "take_over",
                conversation_id=conversation_id,
                debtor_id=conversation.debtor_id,
            )

    async def hand_back(self, conversation_id: int, staff: str) -> None:
        async with self.engine.begin() as conn:
            conversation = await repo.load_conversation(conn, conversation_id)
            state = json.loads(conversation.state or "{}")
            state.pop("human_asked", None)  # a person has dealt with it
            await repo.save_conversation(
                conn, conversation_id, handler="bot", assigned_to=None, state=state
            )
            if conversation.debtor_id is not None:
                await dunning_repo.release_hold(
                    conn, debtor_id=conversation.debtor_id, reason="takeover", released_by=staff
                )
            await repo.audit(
                conn,
                staff,
                "hand_back",
                conversation_id=conversation_id,
                debtor_id=conversation.debtor_id,
            )

    async def staff_reply(self, conversation_id: int, staff: str, text: str) -> OutgoingMessage:
        """A staff member's answer, sent through the debtor's own channel."""
        async with self.engine.begin() as conn:
            conversation = await repo.load_conversation(conn, conversation_id)
            turn = _Turn(self, conn, None, {}, conversation, self.today())
            sent = await turn.send([(text.strip(), [])], author=staff, wrap=False)
            state = json.loads(conversation.state or "{}")
            if not state.get("staff_told") or "human_asked" in state:
                state["staff_told"] = True  # a person has spoken: no bot note needed
                state.pop("human_asked", None)
                await repo.save_conversation(conn, conversation_id, state=state)
            await repo.audit(
                conn,
                staff,
                "staff_reply",
                conversation_id=conversation_id,
                debtor_id=conversation.debtor_id,
                text=text[:500],
            )
            return sent[0]


class _Turn:
    """One message being handled inside its transaction."""

    def __init__(
        self,
        service: Conversations,
        conn: AsyncConnection,
        message: Any | None,
        meta: dict[str, Any],
        conversation: Any,
        reference: date,
    ) -> None:
        self.service = service
        self.conn = conn
        self.message = message
        self.meta = meta
        self.conversation = conversation
        self.reference = reference
        self.settings = service.settings
        self.debtor_id: int | None = conversation.debtor_id
        self.language: str = conversation.language or "fr"
        self.plan_params: dict[str, Any] = {}  # links of a plan accepted in this turn

    async def _audit(self, action: str, **details: Any) -> None:
        """An audit entry of the bot's, on this debtor and conversation."""
        await repo.audit(
            self.conn,
            "bot",
            action,
            debtor_id=self.debtor_id,
            conversation_id=self.conversation.id,
            **details,
        )

    async def run(self, parse: dict[str, Any] | None) -> list[OutgoingMessage]:
        message = self.message
        assert message is not None
        if message.kind == "auto_reply":
            await self._auto_reply()
            return []
        if message.kind == "bounce":
            await self._bounce()
            return []

        start = _START.match(message.text.strip())
        if start:
            return await self._link(start.group(1))

        if self.debtor_id is None and self.conversation.channel == "email":
            self.debtor_id = await self._identify_email_sender()
            if self.debtor_id is not None:
                await repo.save_conversation(
                    self.conn, self.conversation.id, debtor_id=self.debtor_id
                )

        assert parse is not None
        understanding = Understanding.from_parse(parse, message.text)
        self._choose_language(understanding)
        context = (
            await load_debtor_context(self.conn, self.debtor_id, self.settings)
            if self.debtor_id is not None
            else None
        )
        if context is not None and not understanding.language:
            understanding = Understanding(
                understanding.text,
                understanding.intent,
                understanding.confidence,
                self.language,
                understanding.entities,
            )

        if self.conversation.handler == "staff":
            await repo.mark_handled(
                self.conn,
                message.id,
                status="for_staff",
                intent=understanding.intent,
                confidence=understanding.confidence,
                entities=understanding.entities,
            )
            # The bot stays out of it, but the debtor is told once that a person has
            # the conversation (a blind probe found only silence in the web chat).
            state = json.loads(self.conversation.state or "{}")
            if state.get("staff_told"):
                return []
            state["staff_told"] = True
            await repo.save_conversation(self.conn, self.conversation.id, state=state)
            return await self.send([self._render(Reply("staff_handling"), context)], author="bot")

        state = json.loads(self.conversation.state or "{}")
        decision = decide(
            understanding,
            context,
            state,
            self.reference,
            self.service.policy,
            channel=self.conversation.channel,
        )
        await self._apply(decision, context, message.id)
        replies = [self._render(r, context) for r in decision.replies]
        sent = await self.send(replies, author="bot") if replies else []
        await repo.save_conversation(
            self.conn, self.conversation.id, state=decision.state, language=self.language
        )
        await repo.mark_handled(
            self.conn,
            message.id,
            intent=understanding.intent,
            confidence=understanding.confidence,
            entities=understanding.entities,
        )
        await self._audit(
            "answered",
            intent=understanding.intent,
            confidence=round(understanding.confidence, 3),
            replies=[r.template for r in decision.replies],
            actions=[type(a).__name__ for a in decision.actions],
        )
        return sent

    def _choose_language(self, understanding: Understanding) -> None:
        """Answer in the language the debtor writes in; a one-word "ok" keeps the last,
        and so does a message neither understood nor holding a word of the language
        the detector guessed (keyboard mash: a blind probe had an English debtor
        answered in Dutch)."""
        from nlu.language import has_cue_words

        words = len(understanding.text.split())
        understood = (
            understanding.confidence >= 0.5 and understanding.intent != "out_of_scope"
        ) or has_cue_words(understanding.text, understanding.language)
        if understanding.language in LANGUAGES and (
            (words >= 3 and understood) or not self.conversation.language
        ):
            self.language = understanding.language

    # -------------------------------------------------------------- identity

    async def _identify_email_sender(self) -> int | None:
        """The debtor whose address wrote; threading picks among several sharing it."""
        address = self.conversation.channel_key
        candidates = await repo.debtors_by_email(self.conn, address)
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            threaded = await self._debtor_from_thread()
            if threaded in candidates:
                return threaded
        return None

    async def _debtor_from_thread(self) -> int | None:
        ids = [self.meta.get("in_reply_to"), *(self.meta.get("references") or [])]
        ids = [i for i in ids if i]
        if not ids:
            return None
        row = (
            await self.conn.execute(
                select(dunning_lines.c.debtor_id)
                .join(outbox, outbox.c.id == dunning_lines.c.outbox_id)
                .where(outbox.c.message_id.in_(ids))
                .limit(1)
            )
        ).first()
        return int(row[0]) if row else None

    async def _link(self, token: str) -> list[OutgoingMessage]:
        assert self.message is not None
        purpose = "telegram" if self.conversation.channel == "telegram" else "portal"
        debtor_id = await repo.use_link_token(
            self.conn,
            token,
            purpose,
            f"{self.conversation.channel}:{self.conversation.channel_key}",
        )
        if debtor_id is None:
            template = "link_invalid"
            context = None
        else:
            self.debtor_id = debtor_id
            await repo.save_conversation(self.conn, self.conversation.id, debtor_id=debtor_id)
            context = await load_debtor_context(self.conn, debtor_id, self.settings)
            if context is not None and not self.conversation.language:
                self.language = context.language
            template = "link_ok"
            await self._audit("linked", channel=self.conversation.channel)
        sent = await self.send([self._render(Reply(template), context)], author="bot")
        await repo.save_conversation(self.conn, self.conversation.id, language=self.language)
        await repo.mark_handled(self.conn, self.message.id)
        return sent

    # --------------------------------------------------------- automatic mail

    async def _auto_reply(self) -> None:
        assert self.message is not None
        if self.debtor_id is None:
            self.debtor_id = await self._identify_email_sender()
        until = self.meta.get("out_of_office_until")
        if self.debtor_id is not None and until:
            await dunning_repo.add_hold(
                self.conn,
                debtor_id=self.debtor_id,
                reason="out_of_office",
                until=date.fromisoformat(str(until)),
                note="automatic reply",
                created_by="bot",
            )
            await self._audit(
                "postponed_out_of_office",
                until=until,
            )
        await repo.mark_handled(self.conn, self.message.id, status="ignored", intent="auto_reply")

    async def _bounce(self) -> None:
        assert self.message is not None
        failed = [str(a).lower() for a in self.meta.get("failed_recipients") or []]
        debtor_ids: set[int] = set()
        for address in failed:
            debtor_ids.update(await repo.debtors_by_email(self.conn, address))
        if failed and self.meta.get("permanent", True):
            await self.conn.execute(
                update(debtor_emails).where(debtor_emails.c.email.in_(failed)).values(failing=True)
            )
        for debtor_id in sorted(debtor_ids) or [None]:
            await repo.escalate(
                self.conn,
                conversation_id=self.conversation.id,
                debtor_id=debtor_id,
                reason="bounce",
                message_id=self.message.id,
                note=f"undeliverable: {', '.join(failed) or 'unknown recipient'}",
            )
        await repo.mark_handled(self.conn, self.message.id, status="ignored", intent="bounce")

    # ---------------------------------------------------------------- actions

    async def _apply(
        self, decision: Decision, context: DebtorContext | None, message_id: int
    ) -> None:
        channel = self.conversation.channel
        for action in decision.actions:
            if isinstance(action, RecordPromise):
                promise_id = await dunning_repo.record_promise(
                    self.conn, action.invoice_ids, action.amount, action.promised_date, channel
                )
                await self._audit(
                    "promise_recorded",
                    promise_id=promise_id,
                    amount=str(action.amount),
                    date=action.promised_date.isoformat(),
                )
            elif isinstance(action, Pause):
                if action.invoice_ids:
                    for invoice_id in action.invoice_ids:
                        await dunning_repo.add_hold(
                            self.conn,
                            invoice_id=invoice_id,
                            reason=action.reason,
                            until=action.until,
                            note=action.note,
                            created_by="bot",
                        )
                else:
                    await dunning_repo.add_hold(
                        self.conn,
                        debtor_id=self.debtor_id,
                        reason=action.reason,
                        until=action.until,
                        note=action.note,
                        created_by="bot",
                    )
                await self._audit(
                    "dunning_paused",
                    reason=action.reason,
                    until=action.until.isoformat() if action.until else None,
                    invoices=list(action.invoice_ids),
                )
            elif isinstance(action, MarkDisputed):
                await self.conn.execute(
                    update(invoices)
                    .where(invoices.c.id.in_(action.invoice_ids))
                    .values(disputed=True, updated_at=datetime.now(UTC))
                )
                await refresh_open_amounts(self.conn, list(action.invoice_ids))
                # The debtor said which: the others need not wait any more (a
                # dispute that named none paused the whole debtor).
                await dunning_repo.release_hold(
                    self.conn, debtor_id=self.debtor_id, reason="dispute", released_by="bot"
                )
                for invoice_id in action.invoice_ids:
                    await dunning_repo.add_hold(
                        self.conn,
                        invoice_id=invoice_id,
                        reason="dispute",
                        note=action.note[:500],
                        created_by="bot",
                    )
                    await self._audit(
                        "dispute_opened",
                        invoice_id=invoice_id,
                    )
            elif isinstance(action, AcceptPlan):
                await self._accept_plan(action)
            elif isinstance(action, Escalate):
                await repo.escalate(
                    self.conn,
                    conversation_id=self.conversation.id,
                    debtor_id=self.debtor_id,
                    reason=action.reason,
                    message_id=message_id,
                    note=action.note,
                )
                await self._audit(
                    "escalated",
                    reason=action.reason,
                )

    async def _accept_plan(self, action: AcceptPlan) -> None:
        from bot.plans import accept_plan, plan_links

        assert self.debtor_id is not None
        accepted = await accept_plan(
            self.conn,
            debtor_id=self.debtor_id,
            invoice_ids=action.invoice_ids,
            instalments=action.instalments,
            policy=self.service.policy.plan_policy(action.segment),
            conversation_id=self.conversation.id,
            channel=self.conversation.channel,
            today=self.reference,
        )
        self.plan_params = dict(plan_links(self.settings, accepted))

    # ---------------------------------------------------------------- replies

    def _context(self, debtor: DebtorContext | None) -> dict[str, Any]:
        creditor = self.settings.creditor
        pay_url = self.service.pay_url(debtor.debtor_id) if debtor else None
        return base_context(
            self.language,
            creditor.name,
            creditor.iban,
            creditor.bic,
            debtor,
            self.reference,
            pay_url,
        )

    def _render(self, reply: Reply, debtor: DebtorContext | None) -> tuple[str, list[Choice]]:
        return render_reply(reply, self._context(debtor) | self.plan_params)

    async def send(
        self,
        replies: list[tuple[str, list[Choice]]],
        *,
        author: str,
        wrap: bool = True,
        not_before: datetime | None = None,  # messages we start ourselves: not at night
    ) -> list[OutgoingMessage]:
        """Write replies on the conversation's channel: email and Telegram through the
        outbox (delivered by the senders), web chat stored and returned."""
        channel = self.conversation.channel
        recipient = self.conversation.channel_key
        conversation_id = self.conversation.id
        if channel == "email":
            from bot.channels.base import choices_as_text

            body = "\n\n".join(choices_as_text(text, choices) for text, choices in replies)
            text = wrap_email(body, self._context(None)) if wrap else body
            outbox_id, mail_meta = await self._enqueue_email(recipient, text, not_before)
            await repo.add_outbound(
                self.conn,
                conversation_id=conversation_id,
                channel=channel,
                text=text,
                author=author,
                status="queued",
                outbox_id=outbox_id,
                meta=mail_meta,
            )
            return [OutgoingMessage(channel, recipient, text, (), mail_meta)]
        sent = []
        rows: list[dict[str, Any]] = []
        for text, choices in replies:
            buttons = [{"title": c.title, "payload": c.payload} for c in choices]
            outbox_id = None
            # The web chat's answer to the message in hand goes back in the same HTTP
            # response; anything else (a staff reply, a notice) waits, "queued", for
            # the debtor's page to fetch it (``take_webchat_queue``).
            status = "sent" if self.message is not None else "queued"
            if channel == "telegram":
                outbox_id = await dunning_repo.enqueue(
                    self.conn,
                    dunning_repo.OutgoingMessage(
                        message_id=f"telegram:{uuid.uuid4().hex}",
                        channel="telegram",
                        recipient=recipient,
                        subject="",
                        payload=json.dumps(
                            {"chat_id": recipient, "text": text, "buttons": buttons},
                            ensure_ascii=False,
                        ).encode(),
                        not_before=not_before or datetime.now(UTC),
                        kind=_kind(not_before),
                    ),
                )
                status = "queued"
            rows.append(
                {
                    "conversation_id": conversation_id,
                    "channel": channel,
                    "text": text,
                    "author": author,
                    "status": status,
                    "outbox_id": outbox_id,
                    "meta": {"buttons": buttons},
                }
            )
            sent.append(OutgoingMessage(channel, recipient, text, tuple(choices)))
        await repo.add_outbound_many(self.conn, rows)
        return sent

    async def _enqueue_email(
        self, recipient: str, text: str, not_before: datetime | None = None
    ) -> tuple[int, dict[str, Any]]:
        """A threaded reply: In-Reply-To and References point at the debtor's mail."""
        sender_name, sender_address = parseaddr(self.settings.mail_from)
        domain = sender_address.rsplit("@", 1)[-1] or "relance.invalid"
        message_id = make_msgid(domain=domain)
        last = await self._last_inbound_email_meta()
        subject = str(last.get("subject") or "")
        if subject and not subject.lower().startswith(("re:", "aw:", "antw:")):
            subject = f"Re: {subject}"
        mail = EmailMessage()
        mail["From"] = formataddr((sender_name, sender_address))
        mail["To"] = recipient
        mail["Subject"] = subject or f"{self.settings.creditor.name}"
        mail["Message-ID"] = message_id
        if last.get("message_id"):
            mail["In-Reply-To"] = last["message_id"]
            mail["References"] = " ".join([*(last.get("references") or []), last["message_id"]])
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
        mail["Reply-To"] = sender_address
        mail.set_content(text)
        outbox_id = await dunning_repo.enqueue(
            self.conn,
            dunning_repo.OutgoingMessage(
                message_id=message_id,
                channel="email",
                recipient=recipient,
                subject=str(mail["Subject"]),
                payload=mail.as_bytes(policy=SMTP),
                not_before=not_before or datetime.now(UTC),
                kind=_kind(not_before),
            ),
        )
        return outbox_id, {
            "message_id": message_id,
            "in_reply_to": last.get("message_id"),
            "subject": str(mail["Subject"]),
        }

    async def _last_inbound_email_meta(self) -> dict[str, Any]:
        if self.message is not None:
            return self.meta
        row = (
            await self.conn.execute(
                select(messages.c.meta)
                .where(
                    messages.c.conversation_id == self.conversation.id,
                    messages.c.direction == "in",
                )
                .order_by(messages.c.id.desc())
                .limit(1)
            )
        ).first()
        return dict(json.loads(row[0])) if row else {}


async def conversation_of(conn: AsyncConnection, channel: str, key: str) -> Any | None:
    return (
        await conn.execute(
            select(conversations).where(
                conversations.c.channel == channel, conversations.c.channel_key == key
            )
        )
    ).first()


def _kind(not_before: datetime | None) -> str:
    """An outbox message's kind: "notice" for one we start ourselves (queued for a
    contact time: the sender keeps it out of quiet hours), "reply" for an answer."""
    return "reply" if not_before is None else "notice"
