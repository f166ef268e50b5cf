"""Dunning: which debtor is told what, on which day, in which tone.

The credit controller's words: a ``DunningPolicy`` has ``DunningLevel``s; a run on a
given day (``DunningRun``) decides for every open invoice either a ``DunningLine``
(the next level, with its tone, channel and claim) or a ``Skip`` with the reason.

    policy: 1 "Reminder" 7 days after due, 2 "Second reminder" 15 days after 1,
            3 "Final notice" 14 days after 2
    invoice due 2026-03-01, nothing sent, today 2026-03-08   -> line level 1, friendly
    same, level 1 e-mailed 2026-03-08, consumer, today 03-20  -> skip "waiting period
            until 2026-03-22" (level 2 claims fees; Book XIX forbids them before)
    debtor broke a promise last month                          -> tone firm
    hold "out_of_office" until 2026-03-25                      -> skip until then

A line's life: draft (decided) -> queued (its message is in the outbox) -> sent,
or ignored (staff dropped it), or error (could not be delivered).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import IntEnum, StrEnum

from domain.calendar import ContactRules
from domain.fees import (
    Amount,
    Claim,
    CreditorTerms,
    FirstReminder,
    Jurisdiction,
    Medium,
    claim,
)


class LineState(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    SENT = "sent"
    IGNORED = "ignored"
    ERROR = "error"


class Tone(IntEnum):
    """Ordered: a level may raise the tone, never lower it."""

    FRIENDLY = 1
    NEUTRAL = 2
    FIRM = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Channel(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    LETTER = "letter"

    @property
    def medium(self) -> Medium:
        return Medium.POSTAL if self is Channel.LETTER else Medium.ELECTRONIC


class HoldReason(StrEnum):
    PAUSED = "paused"
    STOPPED = "stopped"
    DISPUTE = "dispute"
    PLAN = "plan"
    PROMISE = "promise"
    INSOLVENCY = "insolvency"
    TAKEOVER = "takeover"
    OUT_OF_OFFICE = "out_of_office"


@dataclass(frozen=True, slots=True)
class Hold:
    """Stop reminding an invoice (or every invoice of a debtor) until a date, or for
    good when ``until`` is None.  Contact resumes on ``until`` itself."""

    reason: HoldReason
    until: date | None = None
    debtor_wide: bool = False
    note: str = ""

    def active(self, today: date) -> bool:
        return self.until is None or today < self.until

    def describe(self) -> str:
        scope = "debtor" if self.debtor_wide else "invoice"
        until = f" until {self.until.isoformat()}" if self.until else ""
        return f"hold ({scope}): {self.reason.value}{until}"


@dataclass(frozen=True, slots=True)
class Promise:
    promised_date: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DunningLevel:
    """``days``: for level 1, days after the due date; for later levels, days after the
    previous level was sent.  ``claims_fees``: this level states fees and interest
    (for consumers it waits for the end of the Book XIX waiting period)."""

    number: int
    name: str
    days: int
    tone_floor: Tone = Tone.FRIENDLY
    claims_fees: bool = False


@dataclass(frozen=True, slots=True)
class DunningPolicy:
    name: str
    levels: tuple[DunningLevel, ...]
    terms: CreditorTerms = field(default_factory=CreditorTerms)
    jurisdiction: Jurisdiction = Jurisdiction.BE
    channels: tuple[Channel, ...] = (Channel.EMAIL, Channel.TELEGRAM, Channel.LETTER)
    promise_grace_days: int = 3
    minimum_open_amount: Decimal = Decimal("5.00")

    def __post_init__(self) -> None:
        numbers = [level.number for level in self.levels]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"levels must be numbered 1..n in order, not {numbers}")

    def level(self, number: int) -> DunningLevel | None:
        return self.levels[number - 1] if 1 <= number <= len(self.levels) else None


DEFAULT_POLICY = DunningPolicy(
    name="standard",
    levels=(
        DunningLevel(1, "Reminder", days=7),
        # 15 days: the first day after the 14-day Book XIX waiting period of an e-mail.
        DunningLevel(2, "Second reminder", days=15, claims_fees=True),
        DunningLevel(3, "Final notice", days=14, tone_floor=Tone.NEUTRAL, claims_fees=True),
    ),
)


@dataclass(frozen=True, slots=True)
class PaymentHistory:
    """How a debtor paid before: days late of past invoices, promises kept and broken."""

    paid_invoices: int = 0
    average_days_late: Decimal = Decimal(0)
    promises_kept: int = 0
    promises_broken: int = 0


FIRM_AFTER_DAYS_LATE = Decimal(30)
NEUTRAL_AFTER_DAYS_LATE = Decimal(7)


def tone_for(history: PaymentHistory, level: DunningLevel) -> Tone:
    """Friendly for good payers, neutral for habitual late payers or one broken
    promise, firm for very late payers or several broken promises; never below
    the level's floor."""
    broken, kept = history.promises_broken, history.promises_kept
    if (broken >= 2 and broken > kept) or history.average_days_late > FIRM_AFTER_DAYS_LATE:
        tone = Tone.FIRM
    elif broken >= 1 or history.average_days_late > NEUTRAL_AFTER_DAYS_LATE:
        tone = Tone.NEUTRAL
    else:
        tone = Tone.FRIENDLY
    return max(tone, level.tone_floor)


@dataclass(frozen=True, slots=True)
class InvoiceSituation:
    """Everything a run needs to decide for one open invoice."""

    invoice_id: int
    number: str
    debtor_id: int
    debtor_code: str
    debtor_name: str
    consumer: bool
    language: str
    due_date: date
    open_amount: Decimal
    currency: str = "EUR"
    channels: tuple[Channel, ...] = (Channel.EMAIL,)
    disputed: bool = False
    written_off: bool = False
    last_level: int = 0
    last_sent_on: date | None = None
    first_reminder: FirstReminder | None = None
    holds: tuple[Hold, ...] = ()
    promises: tuple[Promise, ...] = ()
    delivery_failed: bool = False  # a previous reminder could not be delivered
    # What the debtor holds as credit in the invoice's currency: credit notes not
    # set against an invoice, payments above what was due and not refunded yet.
    credit: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class DunningLine:
    invoice_id: int
    invoice: str
    debtor_id: int
    debtor: str
    level: DunningLevel
    tone: Tone
    channel: Channel
    language: str
    send_on: date
    claim: Claim
    currency: str = "EUR"
    state: LineState = LineState.DRAFT

    def to_json(self) -> dict[str, object]:
        return {
            "invoice": self.invoice,
            "debtor": self.debtor,
            "level": self.level.number,
            "level_name": self.level.name,
            "channel": self.channel.value,
            "language": self.language,
            "tone": self.tone.label,
            "send_on": self.send_on.isoformat(),
            "principal": f"{self.claim.principal:.2f}",
            "fees": f"{self.claim.fees.value:.2f}",
            "interest": f"{self.claim.interest.value:.2f}",
            "total_claimed": f"{self.claim.total:.2f}",
        }


@dataclass(frozen=True, slots=True)
class Skip:
    """An open invoice that gets nothing today, and why."""

    invoice_id: int
    invoice: str
    debtor: str
    reason: str
    until: date | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "invoice": self.invoice,
            "debtor": self.debtor,
            "level": None,
            "reason": self.reason,
        }


Decision = DunningLine | Skip | None  # None: nothing to say (not late yet, not time yet)


def decide(
    situation: InvoiceSituation,
    history: PaymentHistory,
    policy: DunningPolicy,
    today: date,
    contact: ContactRules,
) -> Decision:
    """The next reminder for one invoice on ``today``, a reason not to send one, or
    None when there is simply nothing to do yet."""
    s = situation
    if s.open_amount <= 0 or s.written_off:
        return None
    if today <= s.due_date:
        return None
    stop = _stop_reason(s, policy, today)
    if stop is not None:
        return stop
    level = policy.level(s.last_level + 1)
    if level is None:
        return Skip(s.invoice_id, s.number, s.debtor_name, "all levels sent: for staff to decide")
    if s.last_level == 0:
        due = s.due_date + timedelta(days=level.days)
    elif s.last_sent_on is None:
        reason = f"level {s.last_level} is in the outbox, not sent yet"
        return Skip(s.invoice_id, s.number, s.debtor_name, reason)
    else:
        due = s.last_sent_on + timedelta(days=level.days)
    if today < due:
        return None
    channel = next((c for c in policy.channels if c in s.channels), Channel.LETTER)
    if channel is Channel.TELEGRAM and s.consumer and level.number == 1:
        # Book XIX wants the (free) first reminder on a durable medium: e-mail or paper.
        channel = Channel.EMAIL if Channel.EMAIL in s.channels else Channel.LETTER
    send_on = contact.next_contact_day(today)
    if not level.claims_fees:
        why = f"level {level.number} claims the principal only"
        the_claim = Claim(s.open_amount, Amount.nothing(why), Amount.nothing(why))
    else:
        if s.first_reminder is None and (s.consumer or policy.jurisdiction is Jurisdiction.NL):
            return Skip(s.invoice_id, s.number, s.debtor_name, "first reminder not sent yet")
        the_claim = claim(
            principal=s.open_amount,
            due_date=s.due_date,
            today=send_on,
            consumer=s.consumer,
            terms=policy.terms,
            first_reminder=s.first_reminder,
            jurisdiction=policy.jurisdiction,
            holidays=contact.holidays,
        )
        start = the_claim.fees_claimable_from
        if (s.consumer or policy.jurisdiction is Jurisdiction.NL) and start and send_on < start:
            until = (start - timedelta(days=1)).isoformat()
            return Skip(
                s.invoice_id, s.number, s.debtor_name, f"waiting period until {until}", start
            )
    tone = tone_for(history, level)
    return DunningLine(
        invoice_id=s.invoice_id,
        invoice=s.number,
        debtor_id=s.debtor_id,
        debtor=s.debtor_name,
        level=level,
        tone=tone,
        channel=channel,
        language=s.language,
        send_on=send_on,
        claim=the_claim,
        currency=s.currency,
    )


def _stop_reason(s: InvoiceSituation, policy: DunningPolicy, today: date) -> Skip | None:
    def skip(reason: str, until: date | None = None) -> Skip:
        return Skip(s.invoice_id, s.number, s.debtor_name, reason, until)

    if s.disputed:
        return skip("dispute open")
    active = [h for h in s.holds if h.active(today)]
    # Insolvency and takeover stop everything first: they outrank every other hold.
    for reason in (HoldReason.INSOLVENCY, HoldReason.TAKEOVER, HoldReason.STOPPED):
        for hold in active:
            if hold.reason is reason:
                return skip(hold.describe(), hold.until)
    if active:
        latest = max(active, key=lambda h: h.until or date.max)
        return skip(latest.describe(), latest.until)
    for promise in s.promises:
        until = promise.promised_date + timedelta(days=policy.promise_grace_days)
        if today <= until:
            return skip(f"promise to pay by {promise.promised_date.isoformat()}", until)
    if s.delivery_failed:
        return skip("a reminder could not be delivered: check the address, then resend")
    if s.credit > 0 and s.credit >= s.open_amount:
        # Reminding someone of a debt their own credit covers is what a blind robot does.
        return skip(
            f"the debtor holds a credit of {s.credit:.2f} {s.currency} (a credit note or a "
            "payment above what was due) that covers it: set it against the invoice or "
            "refund it"
        )
    if s.open_amount < policy.minimum_open_amount:
        return skip(f"open amount below {policy.minimum_open_amount:.2f}")
    return None


@dataclass(frozen=True, slots=True)
class MessageKey:
    """One message per debtor, level and channel in a run: a debtor with three late
    invoices at the same level gets one reminder listing the three."""

    debtor_id: int
    level: int
    channel: Channel


def group_lines(lines: Iterable[DunningLine]) -> dict[MessageKey, list[DunningLine]]:
    groups: dict[MessageKey, list[DunningLine]] = {}
    for line in lines:
        groups.setdefault(MessageKey(line.debtor_id, line.level.number, line.channel), []).append(
            line
        )
    return groups


def message_tone(lines: Sequence[DunningLine]) -> Tone:
    return max(line.tone for line in lines)


@dataclass(frozen=True, slots=True)
class DunningRun:
    today: date
    policy: DunningPolicy
    lines: tuple[DunningLine, ...]
    skips: tuple[Skip, ...] = ()

    @property
    def messages(self) -> dict[MessageKey, list[DunningLine]]:
        return group_lines(self.lines)


def run(
    situations: Iterable[tuple[InvoiceSituation, PaymentHistory]],
    policy: DunningPolicy,
    today: date,
    contact: ContactRules,
) -> DunningRun:
    lines: list[DunningLine] = []
    skips: list[Skip] = []
    for situation, history in situations:
        decision = decide(situation, history, policy, today, contact)
        if isinstance(decision, DunningLine):
            lines.append(decision)
        elif isinstance(decision, Skip):
            skips.append(decision)
    return DunningRun(today, policy, tuple(lines), tuple(skips))


__all__ = [
    "DEFAULT_POLICY",
    "Channel",
    "Decision",
    "DunningLevel",
    "DunningLine",
    "DunningPolicy",
    "DunningRun",
    "Hold",
    "HoldReason",
    "InvoiceSituation",
    "LineState",
    "MessageKey",
    "PaymentHistory",
    "Promise",
    "Skip",
    "Tone",
    "decide",
    "group_lines",
    "message_tone",
    "run",
    "tone_for",
]
