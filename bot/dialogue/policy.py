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
    dispute naming none, with INV-1 and INV-2  -> Pause(debtor, 14 days), Escalate(dispute),
                                                  reply dispute_which (a button per invoice),
                                                  pending=dispute_which
    (then) "INV-2"                             -> MarkDisputed(INV-2) (the debtor's pause
                                                  is released), reply dispute_ack
    already_paid "payé hier"                   -> Pause(7 days), reply already_paid_ack
    unknown sender on email                    -> Escalate(unknown_sender), reply
                                                  unknown_sender (says nothing of a debt)

Disclosure rule (Belgian law forbids telling a debt to anyone but the debtor): a
reply template that names amounts or invoices is only chosen when ``debtor`` is
known; without it only ``unknown_sender`` / ``link_needed`` / ``greet`` / ``thank``.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.payment_plan import (
    BUSINESS,
    Instalment,
    PaymentPlanPolicy,
    PlanRequest,
    ProposalKind,
    default_policies,
    propose,
)

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
class RunningPlan:
    """The debtor's payment plan in force: what it covers and what comes next."""

    invoice_ids: tuple[int, ...]
    number: int  # of the next instalment not paid in full
    count: int
    due_date: date
    amount: Decimal  # still to pay on that instalment
    remaining: Decimal  # on the whole plan


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
    insolvent: bool = False  # an insolvency hold in force: payments go through staff
    plan: RunningPlan | None = None

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
    # A dispute that names no invoice, of a debtor with several: all reminders
    # wait this long for the debtor's answer or a colleague's look, none is
    # marked disputed on a guess.
    dispute_unnamed_pause_days: int = 14
    misunderstood_before_escalation: int = 2
    # What the agent may agree alone, per debtor segment (business / consumer).
    plan_policies: dict[str, PaymentPlanPolicy] = field(default_factory=default_policies)

    def plan_policy(self, segment: str) -> PaymentPlanPolicy:
        return self.plan_policies.get(segment) or self.plan_policies[BUSINESS]


# -------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Choice:
    title_key: str  # a key of the "choices" templates, rendered per language
    payload: str  # "/intent" or "/intent{...}" as Rasa buttons do
    params: tuple[tuple[str, Any], ...] = ()  # for titles that are templates themselves


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


@dataclass(frozen=True)
class AcceptPlan:
    """The debtor accepted this schedule for these invoices (within the policy)."""

    invoice_ids: tuple[int, ...]
    instalments: tuple[Instalment, ...]
    segment: str


Action = RecordPromise | Pause | MarkDisputed | Escalate | AcceptPlan


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


# What arranges a payment, which after an insolvency is for staff alone.
_ARRANGING = frozenset(
    ("promise_to_pay", "request_payment_plan", "plan_choice", "financial_hardship")
)
# "… and the rest on the 20th": the amount named is a first part, not the promise.
_THE_REST = re.compile(
    r"\b(the rest|remainder|the remaining|le reste|le solde|le restant|de rest|het saldo"
    r"|het resterende|het restant|den rest|der rest|restbetrag)\b"
)

_SMALL_TALK = frozenset(("affirm", "deny", "thank", "greet", "auto_reply", "out_of_scope"))
_THANKS = re.compile(r"\b(merci|thanks?|thank you|thx|bedankt|dank( u| je)?|danke)\b")
_BYE = re.compile(
    r"(?i)\b(bye|goodbye|good bye|see you|au revoir|a plus|bonne (journee|soiree)|tot ziens|doei"
    r"|tot later|fijne dag|tschuss|tschuess|auf wiedersehen)\b"
)

# -------------------------------------------------------------------------- decide


def focus(message: Understanding, debtor: DebtorContext) -> tuple[OpenInvoice, ...]:
    """The invoices a message is about: those it names, else every open one."""
    return named_invoices(message, debtor) or debtor.invoices


def named_invoices(message: Understanding, debtor: DebtorContext) -> tuple[OpenInvoice, ...]:
    """The debtor's invoices the message names (number or structured reference)."""
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
        chosen = tuple(i for i in debtor.invoices if _mentions(text, i.number.upper()))
    return chosen


def _mentions(text: str, word: str) -> bool:
    """``word`` in ``text`` as a whole token (no letter, digit, ``_`` or ``-`` on
    either side).  A search, not a regular expression per invoice number: those
    would overflow ``re``'s cache of compiled patterns and be compiled every time."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before in "_-") and not (after.isalnum() or after in "_-"):
            return True
        start = text.find(word, start + 1)
    return False


def _amount(message: Understanding) -> Decimal | None:
    found = message.first("amount")
    return Decimal(found) if found else None


def _date(message: Understanding) -> date | None:
    found = message.first("date")
    return date.fromisoformat(found) if found else None


def _promised_date(message: Understanding, today: date) -> date | None:
    """The day a promise is kept by: the last day still to come that the message
    names ("200 on 10 December and the rest at the end of January", "paid 2,000 on 25
    November; the rest by 20 December", "I get my salary on the 1st, I pay on the
    5th"), else the first day named (in the past: the debtor is asked again)."""
    days = [date.fromisoformat(v) for v in message.values("date")]
    coming = [d for d in days if d >= today]
    return max(coming) if coming else (days[0] if days else None)


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

    if intent == "auto_reply" and (channel == "email" or not _BYE.search(_fold(message.text))):
        # Never an answer from the debtor; postponing is done from the mail's own
        # out-of-office date by the email intake, not here.  Only a goodbye typed
        # in a chat ("tot ziens" reads as one) is answered, below.
        return Decision(replies=(), state=state)

    if debtor is None:
        return _unidentified(message, state, channel)

    extra: list[Action] = []
    if is_angry(message.text):
        extra.append(Escalate("angry", message.text[:200]))

    # After an insolvency, payments are arranged by staff (with the trustee or the
    # mediator), never by the bot: no promise, plan or offer taken up here.
    pending = state.pop("pending", None)
    if debtor.insolvent and (intent in _ARRANGING or (pending and intent == "affirm")):
        state.pop("plan", None)
        state.pop("offered_date", None)
        return _with(
            Decision(
                (Reply("insolvency_hold"),), (Escalate("insolvency", message.text[:500]),), state
            ),
            extra,
        )

    # A question we asked is answered first: "when will you pay?" -> "le 20".
    offered_date = state.pop("offered_date", None)
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
        if when is None and offered_date and intent == "affirm":
            when = date.fromisoformat(offered_date)  # "can you pay by the 30th?" "yes"
        if when is not None:
            return _with(_promise(message, debtor, state, today, policy, when), extra)
        if intent == "deny":
            return _with(Decision((Reply("promise_declined", choices=MENU),), state=state), extra)

    # "Which invoice do you dispute?" -> "INV-2" (typed, or its button).
    note = state.pop("dispute_note", "")
    if pending == "dispute_which":
        which = named_invoices(message, debtor)
        if which:
            return _with(_disputed(which, f"{note}\n{message.text}"[:500].strip(), state), extra)

    # "Would you like to pay in instalments?" (after hardship) -> "oui": propose one.
    if pending == "offer_plan" and intent == "affirm":
        return _with(_plan(message, debtor, state, today, policy, PlanRequest()), extra)

    # A plan we offered is answered: "/plan_choice{"option": 2}", "2", "oui", "non".
    offered = state.pop("plan", None)
    if pending == "plan_choice" and offered:
        answered = _plan_answer(message, debtor, state, today, policy, offered)
        if answered is not None:
            return _with(answered, extra)

    # "ok bye", "merci, au revoir", "tot ziens": a goodbye, not a question to answer
    # with the menu; nor is "ok merci" / "ok bedankt" once nothing is asked.
    folded = _fold(message.text).lower()
    if intent in _SMALL_TALK and (
        _BYE.search(folded) or (intent == "affirm" and not pending and _THANKS.search(folded))
    ):
        state["misunderstood"] = 0
        return _with(Decision((Reply("thank"),), state=state), extra)

    # A promise with its day is clear enough to act on whatever the model's score
    # ("Je paierai la facture INV-1 demain" scores 0.43, the invoice number pulling
    # toward a copy request): the answer repeats the day, for the debtor to correct.
    dated_promise = intent == "promise_to_pay" and (_date(message) or today) > today
    sure = intent in ("greet", "thank") or dated_promise
    low = message.confidence < policy.confidence_threshold and not sure
    if _human_waiting(state, today) and (low or intent in ("greet", "out_of_scope")):
        # "Hello? Anyone there?" while a colleague is on the way: not the menu again.
        return _with(Decision((Reply("human_waiting"),), state=state), extra)
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

    handler = _HANDLERS.get(intent, _HOW_CAN_I_HELP)
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
    outside = _outside_plan(invoices, debtor)
    if not outside:  # they are paid by the plan's instalments, not by a promise
        return Decision((_plan_running(debtor),), state=state)
    undisputed = tuple(i for i in outside if not i.disputed)
    invoices = undisputed or outside  # a promise is for what is claimed, not contested
    when = when or _promised_date(message, today)
    if when is None:
        state["pending"] = "promise_date"
        return Decision((Reply("promise_ask_date", _summary(invoices)),), state=state)
    if when < today:
        state["pending"] = "promise_date"
        return Decision((Reply("promise_date_past", {"date": when}),), state=state)
    if when > today + timedelta(days=policy.promise_max_days):
        state["pending"] = "promise_date"
        state["offered_date"] = (today + timedelta(days=policy.promise_max_days)).isoformat()
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
    if amount is not None and _THE_REST.search(_fold(message.text).lower()):
        # "200 now and the rest on the 20th": everything is paid by that day.
        amount = None
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


_MONTHS = {
    month: number
    for number, names in enumerate(
        (
            ("janvier", "januari", "january", "januar", "jan"),
            ("fevrier", "februari", "february", "februar", "feb"),
            ("mars", "maart", "march", "marz", "mar"),
            ("avril", "april", "apr"),
            ("mai", "mei", "may"),
            ("juin", "juni", "june", "jun"),
            ("juillet", "juli", "july", "jul"),
            ("aout", "augustus", "august", "aug"),
            ("septembre", "september", "sep", "sept"),
            ("octobre", "oktober", "october", "okt", "oct"),
            ("novembre", "november", "nov"),
            ("decembre", "december", "dezember", "dec", "dez"),
        ),
        start=1,
    )
    for month in names
}
_UNTIL_MONTH = re.compile(
    r"\b(?:jusqu(?:'|’|e )?(?:en|a|au mois de|fin)?|tot (?:en met |eind )?|until (?:the end of )?|"
    r"by (?:the end of )?|bis (?:ende )?|fin|eind|end of|ende)\s*([a-z]+)\b"
)


def _plan_request(message: Understanding, today: date) -> PlanRequest:
    """What a plan request asks: "en 3 fois", "100 euro per maand", "bis Juni"."""
    count = message.first("instalments")
    if count:
        return PlanRequest(instalments=int(count))
    amount = _amount(message)
    if amount is not None and amount > 0:
        return PlanRequest(amount=amount)
    when = _date(message)
    if when is None:
        # "bis Juni" / "tot juni": a month alone is no date entity (NLU contract);
        # for a plan it means the end of that month, this year or next.
        found = _UNTIL_MONTH.search(_fold(message.text).lower())
        month = _MONTHS.get(found.group(1)) if found else None
        if month is not None:
            year = today.year if month >= today.month else today.year + 1
            when = date(year, month, calendar.monthrange(year, month)[1])
    if when is not None and when > today:
        return PlanRequest(end_date=when)
    return PlanRequest()


def _option_choices(options: list[list[list[str]]]) -> tuple[Choice, ...]:
    return tuple(
        Choice(
            "plan_option",
            f'/plan_choice{{"option": {n}}}',
            (
                ("count", len(option)),
                ("amount", Decimal(option[-1][1])),
                ("first_amount", Decimal(option[0][1])),
            ),
        )
        for n, option in enumerate(options, start=1)
    )


def _schedule_params(option: list[list[str]]) -> list[dict[str, Any]]:
    return [
        {"number": n, "due_date": date.fromisoformat(d), "amount": Decimal(a)}
        for n, (d, a) in enumerate(option, start=1)
    ]


def _plan(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
    request: PlanRequest | None = None,
) -> Decision:
    """Propose instalments within the creditor's policy; counter-offer or hand to
    staff what it does not allow (the offer waits in ``state`` for the answer)."""
    focused = focus(message, debtor)
    invoices = tuple(i for i in focused if not i.disputed)
    if not invoices:
        if focused:  # all under dispute: nothing to spread until staff decide
            return Decision((Reply("under_dispute", _summary(focused)),), state=state)
        return Decision((Reply("nothing_due"),), state=state)
    summary = _summary(invoices)
    request = request or _plan_request(message, today)
    proposal = propose(summary["total"], request, today, policy.plan_policy(debtor.kind))
    if proposal.kind is ProposalKind.STAFF:
        return _plan_to_staff(message, invoices, today, policy, state, proposal.reason)
    options = [
        [[i.due_date.isoformat(), str(i.amount)] for i in option.instalments]
        for option in proposal.options
    ]
    state["pending"] = "plan_choice"
    state["plan"] = {
        "invoice_ids": [i.id for i in invoices],
        "total": str(summary["total"]),
        "counter": proposal.kind is ProposalKind.COUNTER,
        "asked": request.instalments,
        "options": options,
        "offered_on": today.isoformat(),
    }
    choices = _option_choices(options)
    if proposal.kind is ProposalKind.COUNTER:
        choices += (Choice("talk_to_human", "/talk_to_human"),)
        template = "plan_counter"
    else:
        template = "plan_proposal" if len(options) == 1 else "plan_options"
    return Decision(
        (
            Reply(
                template,
                summary
                | {
                    "schedule": _schedule_params(options[0]),
                    "options": [_schedule_params(o) for o in options],
                    "instalments": request.instalments,
                    "asked_amount": request.amount,
                    "consumer": debtor.kind == "consumer",
                    "plan_fee": policy.plan_policy(debtor.kind).fee,
                },
                choices=choices,
            ),
        ),
        state=state,
    )


def _plan_to_staff(
    message: Understanding,
    invoices: tuple[OpenInvoice, ...],
    today: date,
    policy: ConversationPolicy,
    state: dict[str, Any],
    reason: str,
) -> Decision:
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
            Escalate("plan_outside_policy", f"{reason}: {message.text[:200]}"),
        ),
        state,
    )


_CHOSEN = re.compile(
    r"^\s*(?:option|optie|keuze|choix|wahl|n[or]\.?|#)?\s*([1-9])\s*[.)]?\s*$", re.I
)


def _plan_answer(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
    offered: dict[str, Any],
) -> Decision | None:
    """The debtor's answer to a plan offer, or None when the message is about
    something else (then it is handled as usual and the offer lapses)."""
    options: list[list[list[str]]] = offered["options"]
    chosen: int | None = None
    picked = message.first("option")
    typed = _CHOSEN.match(message.text)
    if message.intent == "plan_choice" and picked and picked.isdigit():
        chosen = int(picked)
    elif typed and message.intent not in ("promise_to_pay", "request_payment_plan"):
        chosen = int(typed.group(1))
    elif message.intent == "affirm" and len(options) == 1:
        chosen = 1
    elif message.intent == "affirm":
        state["pending"], state["plan"] = "plan_choice", offered
        return Decision((Reply("plan_which", choices=_option_choices(options)),), state=state)
    elif message.intent == "deny":
        invoices = tuple(i for i in debtor.invoices if i.id in set(offered["invoice_ids"]))
        if offered.get("counter"):
            return _plan_to_staff(
                message, invoices or debtor.invoices, today, policy, state, "counter-offer declined"
            )
        return Decision((Reply("plan_declined", choices=MENU),), state=state)
    if chosen is None:
        return None
    if not 1 <= chosen <= len(options):
        state["pending"], state["plan"] = "plan_choice", offered
        return Decision((Reply("plan_which", choices=_option_choices(options)),), state=state)
    option = options[chosen - 1]
    invoices = tuple(i for i in debtor.invoices if i.id in set(offered["invoice_ids"]))
    total = sum((i.open_amount for i in invoices), Decimal("0.00"))
    first_due = date.fromisoformat(option[0][0])
    if (
        len(invoices) != len(offered["invoice_ids"])
        or str(total) != offered["total"]
        or first_due < today
    ):
        # The balance moved (a payment arrived) or the offer is old: propose the same
        # number of instalments afresh, with today's dates and amounts.
        return _plan(message, debtor, state, today, policy, PlanRequest(instalments=len(option)))
    plan_policy = policy.plan_policy(debtor.kind)
    instalments = tuple(
        Instalment(n, date.fromisoformat(d), Decimal(a)) for n, (d, a) in enumerate(option, 1)
    )
    return Decision(
        (
            Reply(
                "plan_accepted",
                _summary(invoices)
                | {
                    "schedule": _schedule_params(option),
                    "grace_days": plan_policy.grace_days,
                    "consumer": debtor.kind == "consumer",
                    "plan_fee": plan_policy.fee,
                },
            ),
        ),
        (AcceptPlan(tuple(i.id for i in invoices), instalments, plan_policy.segment),),
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
    # Offered: a plan ("oui" takes it up); told: a colleague, who may do more
    # (a longer pause, a write-off, the debt mediator's details).
    state["pending"] = "offer_plan"
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
        (
            Pause("paused", until, (), "financial hardship: " + message.text[:200]),
            Escalate("hardship", message.text[:500]),
        ),
        state,
    )


def _dispute(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    note = message.text[:500]
    invoices = named_invoices(message, debtor)
    if not invoices and len(debtor.invoices) > 1:
        # Which one?  Reminders wait for all of them meanwhile, and a colleague
        # is told; the answer (a number, or a button) marks the invoice disputed.
        state["pending"] = "dispute_which"
        state["dispute_note"] = note
        until = today + timedelta(days=policy.dispute_unnamed_pause_days)
        return Decision(
            (
                Reply(
                    "dispute_which",
                    _summary(debtor.invoices) | {"until": until},
                    choices=tuple(
                        Choice("invoice", i.number, (("number", i.number),))
                        for i in debtor.invoices
                    ),
                ),
            ),
            (Pause("dispute", until, (), note), Escalate("dispute", note)),
            state,
        )
    return _disputed(invoices or debtor.invoices, note, state)


def _outside_plan(
    invoices: tuple[OpenInvoice, ...], debtor: DebtorContext
) -> tuple[OpenInvoice, ...]:
    if debtor.plan is None:
        return invoices
    covered = set(debtor.plan.invoice_ids)
    return tuple(i for i in invoices if i.id not in covered)


def _plan_running(debtor: DebtorContext) -> Reply:
    plan = debtor.plan
    assert plan is not None
    covered = set(plan.invoice_ids)
    return Reply(
        "plan_running",
        _summary(tuple(i for i in debtor.invoices if i.id in covered))
        | {
            "instalment": {
                "number": plan.number,
                "count": plan.count,
                "due_date": plan.due_date,
                "remaining": plan.amount,
            },
            "plan_remaining": plan.remaining,
        },
    )


def _disputed(invoices: tuple[OpenInvoice, ...], note: str, state: dict[str, Any]) -> Decision:
    return Decision(
        (Reply("dispute_ack", _summary(invoices)),),
        (MarkDisputed(tuple(i.id for i in invoices), note), Escalate("dispute", note)),
        state,
    )


def _about_invoices(template: str) -> Handler:
    """A reply about the invoices the message names (else all open ones)."""

    def handle(
        message: Understanding,
        debtor: DebtorContext,
        state: dict[str, Any],
        today: date,
        policy: ConversationPolicy,
    ) -> Decision:
        numbers = message.values("invoice_number")
        if numbers and not named_invoices(message, debtor):
            # A number that is not open (paid, credited, or not ours): never another
            # invoice's details instead; staff send a settled document if needed.
            note = f"asked about {', '.join(numbers)}, not open: {message.text}"
            return Decision(
                (Reply("not_open", {"numbers": list(dict.fromkeys(numbers))}),),
                actions=(Escalate("document_asked", note[:500]),),
                state=state,
            )
        invoices = focus(message, debtor)
        if not invoices:
            return Decision((Reply("nothing_due"),), state=state)
        return Decision((Reply(template, _summary(invoices)),), state=state)

    return handle


def _balance(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    if not debtor.invoices:
        return Decision((Reply("nothing_due"),), state=state)
    due = _outside_plan(tuple(i for i in debtor.invoices if not i.disputed), debtor)
    disputed = tuple(i for i in debtor.invoices if i.disputed)
    replies = []
    if debtor.plan is not None:  # its instalments, not its invoices' totals
        replies.append(_plan_running(debtor))
    if due:
        replies += [
            Reply("balance", _summary(due) | {"today": today}),
            Reply("payment_details", _summary(due)),
        ]
    if disputed:  # not asked for while staff look into it
        replies.append(Reply("under_dispute", _summary(disputed)))
    return Decision(tuple(replies), state=state)


_HUMAN_WAIT_DAYS = 2  # a colleague answers within; after that a new ask escalates again


def _human_waiting(state: dict[str, Any], today: date) -> bool:
    """The debtor asked for a person lately and no one has answered yet (the key is
    dropped when staff reply or hand the conversation back)."""
    asked = state.get("human_asked")
    return bool(asked) and today - date.fromisoformat(str(asked)) <= timedelta(
        days=_HUMAN_WAIT_DAYS
    )


def _human(
    message: Understanding,
    debtor: DebtorContext,
    state: dict[str, Any],
    today: date,
    policy: ConversationPolicy,
) -> Decision:
    """A person is asked for: once escalated, asking again is told it is on its way."""
    if _human_waiting(state, today):
        return Decision((Reply("human_waiting"),), state=state)
    state["human_asked"] = today.isoformat()
    return Decision((Reply("human_ack"),), (Escalate("human_asked", message.text[:500]),), state)


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


_HOW_CAN_I_HELP = _simple("how_can_i_help", with_menu=True)

_HANDLERS: dict[str, Handler] = {
    "already_paid": _already_paid,
    "promise_to_pay": _promise,
    "request_payment_plan": _plan,
    "financial_hardship": _hardship,
    "dispute": _dispute,
    "request_invoice_copy": _about_invoices("invoice_copy"),
    "request_payment_details": _about_invoices("payment_details"),
    "ask_balance": _balance,
    # Wrong recipient: say nothing more about any debt, stop, let staff check.
    "wrong_recipient": _escalating("wrong_recipient_ack", "wrong_recipient", "stopped"),
    # Insolvency: every collection action stops (a judicial procedure takes over).
    "insolvency": _escalating("insolvency_ack", "insolvency", "insolvency"),
    "talk_to_human": _human,
    "stop_contact": _escalating("stop_ack", "stop_contact"),
    "greet": _simple("greet", with_menu=True),
    "thank": _simple("thank"),
    "affirm": _simple("how_can_i_help", with_menu=True),
    "plan_choice": _plan,  # a plan button pressed after the offer lapsed: offer again
    "deny": _simple("how_can_i_help", with_menu=True),
}
