"""Payment plans: exact schedules, proposals within the policy, plan states."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.payment_plan import (
    CONSUMER,
    Instalment,
    PaymentPlanPolicy,
    PlanRequest,
    PlanState,
    ProposalKind,
    add_months,
    default_policies,
    next_due,
    plan_state,
    progress,
    propose,
    schedule,
    split_cents,
)

TODAY = date(2026, 3, 10)
BUSINESS = default_policies()["business"]
CONSUMER_POLICY = default_policies()["consumer"]

amounts = st.integers(min_value=1, max_value=5_000_000).map(lambda c: Decimal(c) / 100)
policies = st.builds(
    PaymentPlanPolicy,
    segment=st.sampled_from(["business", "consumer"]),
    max_instalments=st.integers(2, 24),
    max_duration_days=st.integers(30, 800),
    min_instalment=st.integers(1, 20000).map(lambda c: Decimal(c) / 100),
    max_auto_total=st.just(Decimal("50000.00")),
    first_due_days=st.integers(0, 30),
)
requests = st.one_of(
    st.builds(PlanRequest),
    st.builds(PlanRequest, instalments=st.integers(1, 40)),
    st.builds(PlanRequest, amount=amounts),
    st.builds(PlanRequest, end_date=st.dates(TODAY, TODAY + timedelta(days=900))),
)


def test_remainder_cents_go_to_the_first_instalments() -> None:
    assert split_cents(Decimal("100.00"), 3) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert split_cents(Decimal("0.05"), 3) == [Decimal("0.02"), Decimal("0.02"), Decimal("0.01")]


def test_schedule_is_monthly_and_clamps_to_the_end_of_shorter_months() -> None:
    plan = schedule(Decimal("1000.00"), 3, date(2026, 1, 31))
    assert [i.due_date for i in plan] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    assert add_months(date(2027, 12, 15), 2) == date(2028, 2, 15)
    assert add_months(date(2028, 1, 30), 1) == date(2028, 2, 29)


def test_down_payment_is_the_first_instalment_and_the_rest_is_split() -> None:
    plan = schedule(Decimal("1000.00"), 4, TODAY, down_payment_percent=Decimal("40"))
    assert [i.amount for i in plan] == [
        Decimal("400.00"),
        Decimal("200.00"),
        Decimal("200.00"),
        Decimal("200.00"),
    ]


def test_a_business_fee_goes_on_the_first_instalment() -> None:
    plan = schedule(Decimal("300.00"), 3, TODAY, fee=Decimal("15.00"))
    assert [i.amount for i in plan] == [Decimal("115.00"), Decimal("100.00"), Decimal("100.00")]


def test_a_consumer_policy_refuses_a_fee() -> None:
    with pytest.raises(ValueError, match="Book XIX"):
        PaymentPlanPolicy(segment=CONSUMER, fee=Decimal("10.00"))


def test_request_that_fits_gets_exactly_that_plan() -> None:
    proposal = propose(Decimal("1000.00"), PlanRequest(instalments=3), TODAY, BUSINESS)
    assert proposal.kind is ProposalKind.WITHIN
    (option,) = proposal.options
    assert [(i.due_date, i.amount) for i in option.instalments] == [
        (date(2026, 3, 17), Decimal("333.34")),
        (date(2026, 4, 17), Decimal("333.33")),
        (date(2026, 5, 17), Decimal("333.33")),
    ]


def test_too_many_instalments_get_a_counter_offer() -> None:
    proposal = propose(Decimal("1000.00"), PlanRequest(instalments=12), TODAY, BUSINESS)
    assert proposal.kind is ProposalKind.COUNTER
    assert [o.count for o in proposal.options] == [6, 4]
    assert "12" in proposal.reason


def test_an_amount_per_month_becomes_a_count() -> None:
    fits = propose(Decimal("1000.00"), PlanRequest(amount=Decimal("250")), TODAY, BUSINESS)
    assert (fits.kind, fits.options[0].count) == (ProposalKind.WITHIN, 4)
    too_small = propose(Decimal("1000.00"), PlanRequest(amount=Decimal("100")), TODAY, BUSINESS)
    assert too_small.kind is ProposalKind.COUNTER


def test_an_end_date_becomes_a_count() -> None:
    proposal = propose(Decimal("900.00"), PlanRequest(end_date=date(2026, 6, 30)), TODAY, BUSINESS)
    # First due 17 March; 17 April, May and June are also before the end of June.
    assert [o.count for o in proposal.options] == [4]


def test_no_request_gets_three_choices() -> None:
    proposal = propose(Decimal("1000.00"), PlanRequest(), TODAY, BUSINESS)
    assert [o.count for o in proposal.options] == [2, 4, 6]


def test_small_balances_and_large_balances_go_to_staff() -> None:
    small = propose(Decimal("80.00"), PlanRequest(instalments=2), TODAY, BUSINESS)
    large = propose(Decimal("250000.00"), PlanRequest(instalments=3), TODAY, BUSINESS)
    assert (small.kind, small.options) == (ProposalKind.STAFF, ())
    assert (large.kind, large.options) == (ProposalKind.STAFF, ())


@given(total=amounts, policy=policies, request=requests)
def test_every_option_sums_exactly_and_respects_the_policy(
    total: Decimal, policy: PaymentPlanPolicy, request: PlanRequest
) -> None:
    proposal = propose(total, request, TODAY, policy)
    for option in proposal.options:
        assert option.total == total + policy.fee
        assert all(i.amount >= policy.min_instalment for i in option.instalments)
        assert option.last.due_date <= TODAY + timedelta(days=policy.max_duration_days)
        assert policy.min_instalments <= option.count <= policy.max_instalments
        assert all(i.amount == i.amount.quantize(Decimal("0.01")) for i in option.instalments)
    if proposal.kind is ProposalKind.STAFF:
        assert proposal.options == ()
    else:
        assert proposal.options


@given(
    total=amounts,
    count=st.integers(1, 36),
    down=st.integers(0, 99).map(Decimal),
)
def test_schedule_sums_to_the_balance_and_later_instalments_are_equal(
    total: Decimal, count: int, down: Decimal
) -> None:
    plan = schedule(total, count, TODAY, down_payment_percent=down)
    assert sum(i.amount for i in plan) == total
    assert [i.number for i in plan] == list(range(1, count + 1))
    later = [i.amount for i in plan[1:]]
    if later:
        assert max(later) - min(later) <= Decimal("0.01")


def _plan() -> tuple[Instalment, ...]:
    return schedule(Decimal("300.00"), 3, date(2026, 4, 1))


def test_payments_count_in_due_order_and_complete_the_plan() -> None:
    plan = _plan()
    steps = progress(plan, Decimal("150.00"))
    assert [s.paid for s in steps] == [Decimal("100.00"), Decimal("50.00"), Decimal("0")]
    upcoming = next_due(plan, Decimal("150.00"))
    assert upcoming is not None
    assert (upcoming.instalment.number, upcoming.remaining) == (2, Decimal("50.00"))
    assert plan_state(plan, Decimal("300.00"), date(2026, 12, 1), 7) is PlanState.COMPLETED


def test_a_missed_instalment_breaks_the_plan_only_after_the_grace_days() -> None:
    plan = _plan()
    assert plan_state(plan, Decimal("100.00"), date(2026, 5, 8), 7) is PlanState.ACTIVE
    assert plan_state(plan, Decimal("100.00"), date(2026, 5, 9), 7) is PlanState.BROKEN
    assert plan_state(plan, Decimal("200.00"), date(2026, 5, 9), 7) is PlanState.ACTIVE


def test_a_business_fee_counts_once_the_rest_of_the_first_instalment_is_paid() -> None:
    from domain.payment_plan import credited

    plan = schedule(Decimal("1000.00"), 3, TODAY, fee=Decimal("15.00"))
    assert plan[0].amount == Decimal("348.34")
    assert credited(Decimal("100.00"), plan, Decimal("15.00")) == Decimal("100.00")
    assert credited(Decimal("333.34"), plan, Decimal("15.00")) == Decimal("348.34")
    assert credited(Decimal("1000.00"), plan, Decimal("15.00")) == Decimal("1015.00")
    assert credited(Decimal("1000.00"), plan, Decimal("0.00")) == Decimal("1000.00")
    assert plan_state(plan, credited(Decimal("1000.00"), plan, Decimal("15.00")), TODAY, 7) is (
        PlanState.COMPLETED
    )
