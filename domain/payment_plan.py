"""Payment plans: what a creditor allows, what Relance proposes, the exact schedule.

Worked example (policy for businesses: 2 to 6 monthly instalments, at least 50.00
each, at most 180 days, 10 % down):

    propose(Decimal("1000.00"), PlanRequest(instalments=3), today=2026-03-10, policy)
      -> within policy, one option: 3 instalments, first due 2026-03-17
         2026-03-17  333.34      (the remainder cent goes to the first instalment)
         2026-04-17  333.33
         2026-05-17  333.33
    propose(Decimal("1000.00"), PlanRequest(instalments=12), ...)
      -> counter-offer: the longest plan the policy allows (6) and a middle one (4)
    propose(Decimal("1000.00"), PlanRequest(amount=Decimal("100.00")), ...)
      -> 100.00 a month is 10 instalments: counter-offer, as above
    propose(Decimal("80.00"), PlanRequest(instalments=2), ...)
      -> outside policy (two instalments would be below 50.00): staff decides

The remainder rule: an amount is split in whole cents; the cents that do not
divide evenly go one each to the first instalments (as ``Money.split`` does), so
the later, regular instalments are equal and every schedule sums to the balance
exactly.  A down payment, when the policy asks one, is the first instalment: at
least ``down_payment_percent`` of the balance, rounded up to the cent; the rest is
split over the other instalments by the same rule.

Cost of a plan (Book XIX CEL, FACTS.md §4a): from a consumer, during amicable
recovery, the creditor may claim the principal, the penalty clause within the
art. XIX.4 caps, and interest within the legal rate -- nothing else.  A payment
facility is not one of those, so a consumer plan never carries a fee: a consumer
policy with a fee is refused when it is built, and the plan's total is the open
balance as it stands (which already holds whatever the dunning run lawfully added).
A business policy may add a fixed plan fee, which is added to the first instalment.

Plan states: ``active`` while instalments are being paid; ``completed`` when every
instalment is paid; ``broken`` when an instalment is still unpaid ``grace_days``
after its due date.  Payments count toward the instalments in due order, so paying
early or paying more simply moves the plan ahead.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from domain.money import CENT, ZERO, to_cents

BUSINESS = "business"
CONSUMER = "consumer"


class PlanState(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class ProposalKind(StrEnum):
    WITHIN = "within"  # what the debtor asked fits the policy: these options
    COUNTER = "counter"  # it does not: the closest options the policy allows
    STAFF = "staff"  # nothing automatic fits: a person decides


@dataclass(frozen=True, slots=True)
class PaymentPlanPolicy:
    """What a creditor lets Relance agree alone, for one debtor segment.

    Beyond these limits (more instalments, longer, smaller instalments, a larger
    balance than ``max_auto_total``) the agent counter-offers or hands to staff.
    """

    segment: str = BUSINESS
    min_instalments: int = 2
    max_instalments: int = 6
    max_duration_days: int = 183  # from today to the last due date
    min_instalment: Decimal = Decimal("50.00")
    down_payment_percent: Decimal = ZERO  # the first instalment is at least this share
    fee: Decimal = ZERO  # business only, see the module docstring
    max_auto_total: Decimal = Decimal("10000.00")  # larger balances: staff decides
    first_due_days: int = 7  # the first instalment is due a week after agreeing
    interval_months: int = 1
    grace_days: int = 7  # an instalment unpaid this long after its due date breaks the plan
    remind_days_before: int = 3

    def __post_init__(self) -> None:
        if self.segment not in (BUSINESS, CONSUMER):
            raise ValueError(f"segment is business or consumer, not {self.segment!r}")
        if self.segment == CONSUMER and self.fee != ZERO:
            raise ValueError("a consumer payment plan carries no fee (Book XIX CEL)")
        if not 1 <= self.min_instalments <= self.max_instalments:
            raise ValueError("instalment limits must satisfy 1 <= min <= max")
        if self.min_instalment <= ZERO or self.fee < ZERO:
            raise ValueError("the smallest instalment is positive and the fee not negative")
        if not ZERO <= self.down_payment_percent < Decimal(100):
            raise ValueError("the down payment is a share between 0 and 100 %")
        if self.interval_months < 1 or self.first_due_days < 0 or self.grace_days < 0:
            raise ValueError("interval, first due days and grace days are not negative")


def default_policies() -> dict[str, PaymentPlanPolicy]:
    """Reasonable defaults: consumers get smaller instalments, longer, no down payment."""
    return {
        BUSINESS: PaymentPlanPolicy(
            segment=BUSINESS, max_instalments=6, down_payment_percent=Decimal("10")
        ),
        CONSUMER: PaymentPlanPolicy(
            segment=CONSUMER,
            max_instalments=12,
            max_duration_days=366,
            min_instalment=Decimal("25.00"),
            max_auto_total=Decimal("5000.00"),
        ),
    }


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What the debtor asked: a number of instalments, an amount a month, or an end."""

    instalments: int | None = None
    amount: Decimal | None = None  # per instalment
    end_date: date | None = None


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int  # 1-based
    due_date: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PlanOption:
    instalments: tuple[Instalment, ...]

    @property
    def count(self) -> int:
        return len(self.instalments)

    @property
    def total(self) -> Decimal:
        return sum((i.amount for i in self.instalments), ZERO)

    @property
    def first(self) -> Instalment:
        return self.instalments[0]

    @property
    def last(self) -> Instalment:
        return self.instalments[-1]

    @property
    def regular(self) -> Decimal:
        """The amount of the later instalments (all equal under the remainder rule)."""
        return self.instalments[-1].amount


@dataclass(frozen=True, slots=True)
class Proposal:
    kind: ProposalKind
    options: tuple[PlanOption, ...]
    reason: str = ""  # why it is a counter-offer or for staff (for the audit and staff)


# ------------------------------------------------------------------------ schedule


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter
    (31 January + 1 month -> 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def split_cents(total: Decimal, parts: int) -> list[Decimal]:
    """``total`` in ``parts`` whole-cent amounts; remainder cents to the first parts."""
    if parts < 1:
        raise ValueError("split into at least one part")
    cents = int(to_cents(total) / CENT)
    if cents < 0:
        raise ValueError("cannot split a negative amount")
    base, remainder = divmod(cents, parts)
    return [(Decimal(base + (1 if n < remainder else 0)) * CENT) for n in range(parts)]


def schedule(
    total: Decimal,
    count: int,
    first_due: date,
    *,
    interval_months: int = 1,
    down_payment_percent: Decimal = ZERO,
    fee: Decimal = ZERO,
) -> tuple[Instalment, ...]:
    """The exact schedule: ``count`` instalments summing to ``total + fee``.

    With a down payment the first instalment is at least that share of ``total``
    (rounded up to the cent) and the rest is split evenly; the fee is added to the
    first instalment.
    """
    total = to_cents(total)
    if total <= ZERO:
        raise ValueError("a plan is for a positive balance")
    amounts = split_cents(total, count)
    if down_payment_percent > ZERO and count > 1:
        down = (total * down_payment_percent / 100).quantize(CENT, rounding=ROUND_CEILING)
        if down > amounts[0]:
            amounts = [down, *split_cents(total - down, count - 1)]
    amounts[0] += to_cents(fee)
    return tuple(
        Instalment(n + 1, add_months(first_due, n * interval_months), amount)
        for n, amount in enumerate(amounts)
    )


# ------------------------------------------------------------------------- propose


def _option(total: Decimal, count: int, today: date, policy: PaymentPlanPolicy) -> PlanOption:
    return PlanOption(
        schedule(
            total,
            count,
            today + timedelta(days=policy.first_due_days),
            interval_months=policy.interval_months,
            down_payment_percent=policy.down_payment_percent,
            fee=policy.fee,
        )
    )


def fits(option: PlanOption, today: date, policy: PaymentPlanPolicy) -> bool:
    """Within the policy: instalment count, smallest instalment and duration."""
    return (
        policy.min_instalments <= option.count <= policy.max_instalments
        and min(i.amount for i in option.instalments) >= policy.min_instalment
        and option.last.due_date <= today + timedelta(days=policy.max_duration_days)
    )


def feasible_counts(total: Decimal, today: date, policy: PaymentPlanPolicy) -> list[int]:
    return [
        n
        for n in range(max(2, policy.min_instalments), policy.max_instalments + 1)
        if fits(_option(total, n, today, policy), today, policy)
    ]


def requested_count(
    total: Decimal, request: PlanRequest, today: date, policy: PaymentPlanPolicy
) -> int | None:
    """The number of instalments a request amounts to, if it says one."""
    if request.instalments is not None:
        return request.instalments
    if request.amount is not None and request.amount > ZERO:
        return int((to_cents(total) / request.amount).to_integral_value(rounding=ROUND_CEILING))
    if request.end_date is not None:
        first = today + timedelta(days=policy.first_due_days)
        count = 0
        while add_months(first, count * policy.interval_months) <= request.end_date:
            count += 1
        return max(count, 1)
    return None


def propose(
    total: Decimal, request: PlanRequest, today: date, policy: PaymentPlanPolicy
) -> Proposal:
    """Options for paying ``total`` in instalments, within ``policy``.

    A request that fits gets exactly that plan; one that does not gets the closest
    plans that fit (a counter-offer); no request gets up to three choices.  When no
    plan fits at all, or the balance is above what may be agreed automatically,
    the proposal is for staff and has no options.
    """
    total = to_cents(total)
    if total <= ZERO:
        return Proposal(ProposalKind.STAFF, (), "nothing to pay")
    if total > policy.max_auto_total:
        return Proposal(ProposalKind.STAFF, (), f"balance {total} above {policy.max_auto_total}")
    counts = feasible_counts(total, today, policy)
    if not counts:
        return Proposal(ProposalKind.STAFF, (), "no plan fits the policy")
    wanted = requested_count(total, request, today, policy)
    if wanted is not None:
        if wanted in counts:
            return Proposal(ProposalKind.WITHIN, (_option(total, wanted, today, policy),))
        if wanted > counts[-1]:
            chosen = sorted({counts[-1], counts[len(counts) // 2]}, reverse=True)
            why = f"{wanted} instalments asked, at most {counts[-1]} possible"
        else:
            chosen = [counts[0]]
            why = f"{wanted} instalments asked, at least {counts[0]} needed"
        return Proposal(
            ProposalKind.COUNTER, tuple(_option(total, n, today, policy) for n in chosen), why
        )
    chosen = sorted({counts[0], counts[len(counts) // 2], counts[-1]})
    return Proposal(ProposalKind.WITHIN, tuple(_option(total, n, today, policy) for n in chosen))


# --------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class InstalmentProgress:
    instalment: Instalment
    paid: Decimal

    @property
    def settled(self) -> bool:
        return self.paid >= self.instalment.amount

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.instalment.amount - self.paid)


def progress(instalments: Sequence[Instalment], paid: Decimal) -> tuple[InstalmentProgress, ...]:
    """What ``paid`` (everything received since the plan began) covers, in due order."""
    left = paid
    result = []
    for instalment in sorted(instalments, key=lambda i: i.number):
        part = min(max(left, ZERO), instalment.amount)
        result.append(InstalmentProgress(instalment, part))
        left -= part
    return tuple(result)


def credited(paid: Decimal, instalments: Sequence[Instalment], fee: Decimal) -> Decimal:
    """What counts toward the schedule: the ledger holds invoices, not plan fees, so
    a plan's fee counts as collected once the rest of the first instalment is paid
    (the debtor paid the first instalment, fee included, or paid ahead).

        fee 15.00, first instalment 348.34 (333.34 + 15.00):
        paid 333.34 -> 348.34      paid 100.00 -> 100.00
    """
    if fee > ZERO and instalments and paid >= instalments[0].amount - fee:
        return paid + fee
    return paid


def plan_state(
    instalments: Sequence[Instalment], paid: Decimal, today: date, grace_days: int
) -> PlanState:
    """Completed when all is paid; broken when an instalment is unpaid past its grace."""
    steps = progress(instalments, paid)
    if all(s.settled for s in steps):
        return PlanState.COMPLETED
    if any(
        not s.settled and today > s.instalment.due_date + timedelta(days=grace_days) for s in steps
    ):
        return PlanState.BROKEN
    return PlanState.ACTIVE


def next_due(instalments: Sequence[Instalment], paid: Decimal) -> InstalmentProgress | None:
    """The first instalment not fully paid, or None."""
    return next((s for s in progress(instalments, paid) if not s.settled), None)
