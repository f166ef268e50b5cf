"""What the agent does with one understood message: replies and ledger actions.

Pure: no I/O, no clock.  ``decide(message, debtor, state, today, policy)`` returns a
``Decision``; ``bot.conversations`` applies its actions and renders its replies in
one transaction.  Examples (debtor with INV-1 open 400.00, today 2026-03-10):

    promise_to_pay "je paierai vendredi"       -> RecordPromise(400.00, 2026-03-13),
                                                  reply promise_ack
    promise_to_pay "je paierai bientôt"        -> reply promise_ask_date, pending=promise_date
    (then) "le 20"                             -> RecordPromise(400.00, 2026-03-20)
    dispute "jamais reçu la marchandise"       -> MarkDisputed(INV-1), Escalate(dispute),
                                                  reply dispute_ack
    already_paid "payé hier"                   -> Pause(7 days), reply already_paid_ack
    unknown sender on email                    -> Escalate(unknown_sender), reply
                                                  unknown_sender (says nothing of a debt)

Disclosure rule (Belgian law forbids telling a debt to anyone but the debtor): a
reply template that names amounts or invoices is only chosen when ``debtor`` is
known; without it only ``unknown_sender`` / ``link_needed`` / ``greet`` / ``thank``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Understanding:
    """One parsed message: the NLU contract's fields, plus the raw text."""

    text: str
    intent: str
    confidence: float
    language: str
    entities: tuple[dict[str, Any], ...] = ()

    def values(self, entity: str) -> list[str]:
        return [str(e["value"]) for e in self.entities if e.get("entity") == entity]

    def first(self, entity: str) -> str | None:
        found = self.values(entity)
        return found[0] if found else None

    @classmethod
    def from_parse(cls, parse: dict[str, Any], text: str) -> Understanding:
        intent = parse.get("intent") or {}
        return cls(
            text=text,
            intent=str(intent.get("name") or "out_of_scope"),
            confidence=float(intent.get("confidence") or 0.0),
            language=str(parse.get("language") or "fr"),
            entities=tuple(parse.get("entities") or ()),
        )


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    number: str
    issue_date: date
    due_date: date
    amount: Decimal
    open_amount: Decimal
    currency: str
    reference: str
    description: str
    disputed: bool = False


@dataclass(frozen=True)
class DebtorContext:
    debtor_id: int
    code: str
    name: str
    kind: str  # business | consumer
    language: str
    invoices: tuple[OpenInvoice, ...]  # open ones (open_amount > 0)
    creditor_name: str
    creditor_iban: str
    creditor_bic: str
    pay_url: str | None = None

    @property
    def total_open(self) -> Decimal:
        return sum((i.open_amount for i in self.invoices), Decimal("0.00"))

    @property
    def currency(self) -> str:
        return self.invoices[0].currency if self.invoices else "EUR"


@dataclass(frozen=True)
class ConversationPolicy:
    confidence_threshold: float = 0.45
    promise_max_days: int = 30  # a later date is a plan, not a promise
    paid_claim_pause_days: int = 7  # time for the payment to show on a statement
    hardship_pause_days: int = 14
    misunderstood_before_escalation: int = 2


# -------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Choice:
    title_key: str  # a key of the "choices" templates, rendered per language
    payload: str  # "/intent" or "/intent{...}" as Rasa buttons do


@dataclass(frozen=True)
class Reply:
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class RecordPromise:
    invoice_ids: tuple[int, ...]
    amount: Decimal
    promised_date: date


@dataclass(frozen=True)
class Pause:
    """Hold reminders: on these invoices, or on the whole debtor when empty."""

    reason: str  # a dunning HoldReason value
    until: date | None
    invoice_ids: tuple[int, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class MarkDisputed:
    invoice_ids: tuple[int, ...]
    note: str


@dataclass(frozen=True)
class Escalate:
    reason: str
    note: str = ""


Action = RecordPromise | Pause | MarkDisputed | Escalate


@dataclass(frozen=True)
class Decision:
    replies: tuple[Reply, ...]
    actions: tuple[Action, ...] = ()
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def escalations(self) -> list[Escalate]:
        return [a for a in self.actions if isinstance(a, Escalate)]


MENU = (
    Choice("already_paid", "/already_paid"),
    Choice("pay_later", "/promise_to_pay"),
    Choice("payment_plan", "/request_payment_plan"),
    Choice("payment_details", "/request_payment_details"),
    Choice("dispute", "/dispute"),
    Choice("talk_to_human", "/talk_to_human"),
)

_ANGRY = re.compile(
    r"\b(arnaque|escroc|voleurs?|honte|scandal\w*|oplichter\w*|schande|dieven|betrug\w*|"
    r"betruger|schweinerei|scam|fraud|thieves|disgrace\w*|ridicul\w*|avocat|advocaat|anwalt|"
    r"lawyer|solicitor|plainte|klacht|beschwerde|complaint|ombudsman|test[- ]?achats|"
    r"test[- ]?aankoop)\b",
    re.IGNORECASE,
)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def is_angry(text: str) -> bool:
    """Words that tell a credit controller to step in: insults, lawyers, complaints."""
    return bool(_ANGRY.search(_fold(text))) or text.count("!") >= 3


# -------------------------------------------------------------------------- decide


def focus(message: Understanding, debtor: DebtorContext) -> tuple[OpenInvoice, ...]:
    """The invoices a message is about: those it names, else every open one."""
    named = {v.replace(" ", "").upper() for v in message.values("invoice_number")}
    references = set(message.values("reference"))
    chosen = tuple(
        i
        for i in debtor.invoices
        if i.number.replace(" ", "").upper() in named
        or any(n and (i.number.upper().endswith(n) or n.endswith(i.number.upper())) for n in named)
        or i.reference in references
    )
    if not chosen:
        # The debtor's own invoice numbers, written anywhere in the text: knowing
        # what this debtor owes makes even a short "INV-1" unambiguous.
        text = message.text.upper()
        chosen = tuple(
            i
            for i in debtor.invoices
            if re.search(rf"(?<![\w-]){re.escape(i.number.upper())}(?![\w-])", text)
        )
    return chosen or debtor.invoices


def _amount(message: Understanding) -> Decimal | None:
    found = message.first("amount")
    return Decimal(found) if found else None


def _date(message: Understanding) -> date | None:
    found = message.first("date")
    return date.fromisoformat(found) if found else None


def _summary(invoices: tuple[OpenInvoice, ...]) -> dict[str, Any]:
    total = sum((i.open_amount for i in invoices), Decimal("0.00"))
    return {
        "invoices": invoices,
        "total": total,
        "currency": invoices[0].currency if invoices else "EUR",
    }


def decide(
    message: Understanding,
    debtor: DebtorContext | None,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy = ConversationPolicy(),
    *,
    channel: str = "webchat",
) -> Decision:
    state = dict(state)
    intent = message.intent

    if intent == "auto_reply":
        # Never an answer from the debtor; postponing is done from the mail's own
        # out-of-office date by the email intake, not here.
        return Decision(replies=(), state=state)

    if debtor is None:
        return _unidentified(message, state, channel)

    extra: list[Action] = []
    if is_angry(message.text):
        extra.append(Escalate("angry", message.text[:200]))

    # A question we asked is answered first: "when will you pay?" -> "le 20".
    pending = state.pop("pending", None)
    if pending == "promise_date" and intent not in (
        "dispute",
        "insolvency",
        "talk_to_human",
        "wrong_recipient",
        "stop_contact",
        "request_payment_plan",
        "financial_hardship",
    ):
        when = _date(message)
        if when is not None:
            return _with(_promise(message, debtor, state, today, policy, when), extra)
        if intent == "deny":
            return _with(Decision((Reply("promise_declined", choices=MENU),), state=state), extra)

    low = message.confidence < policy.confidence_threshold and intent not in ("greet", "thank")
    if low or intent == "out_of_scope":
        misunderstood = int(state.get("misunderstood", 0)) + 1
        state["misunderstood"] = misunderstood
        actions = list(extra)
        if misunderstood >= policy.misunderstood_before_escalation:
            actions.append(Escalate("low_confidence", message.text[:200]))
            state["misunderstood"] = 0
            return Decision((Reply("not_understood_handover"),), tuple(actions), state)
        return Decision((Reply("not_understood", choices=MENU),), tuple(actions), state)
    state["misunderstood"] = 0

    handler = _HANDLERS.get(intent, _fallback)
    return _with(handler(message, debtor, state, today, policy), extra)


def _with(decision: Decision, extra: list[Action]) -> Decision:
    if not extra:
        return decision
    return Decision(decision.replies, (*decision.actions, *extra), decision.state)


def _unidentified(message: Understanding, state: dict[str, Any], channel: str) -> Decision:
    if message.intent == "greet":
        return Decision((Reply("greet_anonymous"),), state=state)
    if message.intent == "thank":
        return Decision((Reply("thank"),), state=state)
    if channel == "email":
        return Decision(
            (Reply("unknown_sender"),),
            (Escalate("unknown_sender", message.text[:200]),),
            state,
        )
    return Decision((Reply("link_needed"),), state=state)


Handler = Any


def _promise(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
    when: date | None = None,
) -> Decision:
    invoices = focus(message, debtor)
    if not invoices:
        return Decision((Reply("nothing_due"),), state=state)
    when = when or _date(message)
    if when is None:
        state["pending"] = "promise_date"
        return Decision((Reply("promise_ask_date", _summary(invoices)),), state=state)
    if when < today:
        state["pending"] = "promise_date"
        return Decision((Reply("promise_date_past", {"date": when}),), state=state)
    if when > today + timedelta(days=policy.promise_max_days):
        state["pending"] = "promise_date"
        return Decision(
            (
                Reply(
                    "promise_too_far",
                    {"date": when, "max_date": today + timedelta(days=policy.promise_max_days)},
                    choices=(Choice("payment_plan", "/request_payment_plan"),),
                ),
            ),
            state=state,
        )
    summary = _summary(invoices)
    amount = _amount(message)
    total = summary["total"]
    promised = total if amount is None or amount <= 0 or amount > total else amount
    return Decision(
        (
            Reply(
                "promise_ack",
                summary | {"date": when, "amount": promised, "partial": promised < total},
            ),
            Reply("payment_details", summary),
        ),
        (RecordPromise(tuple(i.id for i in invoices), promised, when),),
        state,
    )


def _already_paid(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    invoices = focus(message, debtor)
    if not invoices:
        return Decision((Reply("already_paid_seen"),), state=state)
    paid_on = _date(message)
    until = today + timedelta(days=policy.paid_claim_pause_days)
    note = f"debtor says paid{f' on {paid_on}' if paid_on else ''}: {message.text[:200]}"
    return Decision(
        (Reply("already_paid_ack", _summary(invoices) | {"paid_on": paid_on, "until": until}),),
        (Pause("paused", until, tuple(i.id for i in invoices), note),),
        state,
    )


def _plan(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    invoices = focus(message, debtor)
    if not invoices:
        return Decision((Reply("nothing_due"),), state=state)
    count = message.first("instalments")
    return Decision(
        (Reply("plan_ack", _summary(invoices) | {"instalments": int(count) if count else None}),),
        (
            Pause(
                "paused",
                today + timedelta(days=policy.hardship_pause_days),
                tuple(i.id for i in invoices),
                "payment plan requested",
            ),
            Escalate("plan_outside_policy", message.text[:200]),
        ),
        state,
    )


def _hardship(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    until = today + timedelta(days=policy.hardship_pause_days)
    return Decision(
        (
            Reply(
                "hardship_ack",
                _summary(debtor.invoices) | {"consumer": debtor.kind == "consumer", "until": until},
                choices=(
                    Choice("payment_plan", "/request_payment_plan"),
                    Choice("talk_to_human", "/talk_to_human"),
                ),
            ),
        ),
        (Pause("paused", until, (), "financial hardship: " + message.text[:200]),),
        state,
    )


def _dispute(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    invoices = focus(message, debtor)
    note = message.text[:500]
    return Decision(
        (Reply("dispute_ack", _summary(invoices)),),
        (MarkDisputed(tuple(i.id for i in invoices), note), Escalate("dispute", note)),
        state,
    )


def _copy(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    invoices = focus(message, debtor)
    if not invoices:
        return Decision((Reply("nothing_due"),), state=state)
    return Decision((Reply("invoice_copy", _summary(invoices)),), state=state)


def _details(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    invoices = focus(message, debtor)
    if not invoices:
        return Decision((Reply("nothing_due"),), state=state)
    return Decision((Reply("payment_details", _summary(invoices)),), state=state)


def _balance(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    if not debtor.invoices:
        return Decision((Reply("nothing_due"),), state=state)
    return Decision(
        (
            Reply("balance", _summary(debtor.invoices) | {"today": today}),
            Reply("payment_details", _summary(debtor.invoices)),
        ),
        state=state,
    )


def _escalating(template: str, reason: str, pause: str | None = None) -> Handler:
    def handle(
        message: Understanding,
        debtor: DebtorContext,
        state: dict[str, Any],
        today: date,
        policy: ConversationPolicy,
    ) -> Decision:
        actions: list[Action] = [Escalate(reason, message.text[:500])]
        if pause:
            actions.insert(0, Pause(pause, None, (), f"{reason}: {message.text[:200]}"))
        return Decision((Reply(template),), tuple(actions), state)

    return handle


def _simple(template: str, with_menu: bool = False) -> Handler:
    def handle(
        message: Understanding,
        debtor: DebtorContext,
        state: dict[str, Any],
        today: date,
        policy: ConversationPolicy,
    ) -> Decision:
        return Decision((Reply(template, choices=MENU if with_menu else ()),), state=state)

    return handle


def _fallback(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    return Decision((Reply("how_can_i_help", choices=MENU),), state=state)


_HANDLERS: dict[str, Handler] = {
    "already_paid": _already_paid,
    "promise_to_pay": _promise,
    "request_payment_plan": _plan,
    "financial_hardship": _hardship,
    "dispute": _dispute,
    "request_invoice_copy": _copy,
    "request_payment_details": _details,
    "ask_balance": _balance,
    # Wrong recipient: say nothing more about any debt, stop, let staff check.
    "wrong_recipient": _escalating("wrong_recipient_ack", "wrong_recipient", "stopped"),
    # Insolvency: every collection action stops (a judicial procedure takes over).
    "insolvency": _escalating("insolvency_ack", "insolvency", "insolvency"),
    "talk_to_human": _escalating("human_ack", "human_asked"),
    "stop_contact": _escalating("stop_ack", "stop_contact"),
    "greet": _simple("greet", with_menu=True),
    "thank": _simple("thank"),
    "affirm": _simple("how_can_i_help", with_menu=True),
    "deny": _simple("how_can_i_help", with_menu=True),
}
