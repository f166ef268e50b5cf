"""Matching bank lines to invoices: a table of cases, each with its reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.allocation import AllocationOrder
from domain.reconciliation import (
    InvoiceIndex,
    Method,
    OpenInvoice,
    Outcome,
    Policy,
    match_line,
    number_key,
    numbers_in_text,
    references_in_text,
    typed_reference,
    weak_keys,
)
from domain.statement import StatementLine

TODAY = date(2026, 3, 12)


def line(
    amount: str,
    text: str = "",
    reference: str | None = None,
    iban: str | None = None,
    name: str = "",
    currency: str = "EUR",
) -> StatementLine:
    return StatementLine(
        account_iban="BE68539007547034",
        statement="1",
        booking_date=TODAY,
        value_date=TODAY,
        amount=Decimal(amount),
        currency=currency,
        counterparty_name=name,
        counterparty_iban=iban,
        structured_reference=reference,
        free_text=text,
        bank_reference="R1",
    )


def invoice(
    id_: int, number: str, open_: str, ref: str = "", debtor: int = 1, due: int = 1, **kw: str
) -> OpenInvoice:
    return OpenInvoice(
        id=id_,
        number=number,
        debtor_id=debtor,
        debtor_name=kw.get("name", "Boulangerie Dupont SRL"),
        structured_reference=ref,
        amount=Decimal(kw.get("amount", open_)),
        open_amount=Decimal(open_),
        due_date=date(2026, 2, due),
        issue_date=date(2026, 1, due),
        currency=kw.get("currency", "EUR"),
    )


A = invoice(1, "INV-2026-0042", "400.00", "090933755493")
B = invoice(2, "INV-2026-0043", "250.00", "000000100131", due=15)
C = invoice(3, "INV-2026-0107", "99.00", "000000100232", debtor=2, name="Jan Peeters")


def index(*invoices: OpenInvoice, ibans: dict[str, int] | None = None) -> InvoiceIndex:
    idx = InvoiceIndex()
    for inv in invoices:
        idx.add_numbered(inv)
        idx.add_debtor_open(inv)
        idx.add_amount_open(inv)
    for iban, debtor in (ibans or {}).items():
        idx.add_iban(iban, debtor)
    return idx


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("+++090/9337/55493+++", ["090933755493"]),
        ("***090/9337/55493*** merci", ["090933755493"]),
        ("paiement 090/9337/55493", ["090933755493"]),
        ("ref 090933755493", ["090933755493"]),
        ("090933755494", []),  # wrong check digits
        ("IBAN BE68539007547034", []),  # 12 digits inside a longer number are not an OGM
        ("rf18 5390 0754 7034", ["RF18539007547034"]),
        ("+++000/0001/00131+++ +++000/0001/00232+++", ["000000100131", "000000100232"]),
    ],
)
def test_references_in_text(text: str, found: list[str]) -> None:
    assert [r.reference for r in references_in_text(text)] == found


def test_typed_reference_only_when_unmistakable() -> None:
    assert typed_reference("+++090/9337/55493+++") == "090933755493"
    assert typed_reference("090/9337/55493") == "090933755493"  # the whole text
    assert typed_reference("facture 090933755493 du 1 mars") is None
    assert typed_reference("mededeling 090/9337/55493 factuur 12") == "090933755493"
    assert typed_reference("mededeling 090/9337/55494") is None  # wrong check digits


@pytest.mark.parametrize(
    "typed",
    ["INV-2026-0042", "inv 2026/42", "INV.2026.042", "Inv2026-00042", "inv # 2026-42"],
)
def test_invoice_number_strict_key_tolerates_how_it_is_typed(typed: str) -> None:
    assert number_key("INV-2026-0042") in {m.strict for m in numbers_in_text(f"fact {typed} ok")}


@pytest.mark.parametrize("typed", ["2026-0042", "2026/42", "20260042", "2026 42"])
def test_invoice_number_without_prefix_uses_weak_keys(typed: str) -> None:
    found = {k for m in numbers_in_text(f"paid {typed}") for k in m.weak}
    assert found & weak_keys("INV-2026-0042")


def test_short_numbers_have_no_weak_key() -> None:
    assert weak_keys("F-42") == set()


def test_structured_reference_pays() -> None:
    match = match_line(line("400.00", reference="090933755493"), index(A, B), Policy(), TODAY)
    assert match.outcome is Outcome.MATCHED
    assert match.chosen is not None
    assert match.chosen.method is Method.STRUCTURED_REFERENCE
    assert match.confidence == pytest.approx(0.99)
    assert "090933755493 of INV-2026-0042 (structured field)" in match.reason
    assert [(a.key, a.amount) for a in match.allocations] == [("1", Decimal("400.00"))]


def test_partial_and_over_payment_by_reference() -> None:
    partial = match_line(line("150.00", "+++090/9337/55493+++"), index(A), Policy(), TODAY)
    assert partial.outcome is Outcome.PARTIALLY_MATCHED
    assert "pays 150.00 of 400.00 open" in partial.reason
    over = match_line(line("450.00", reference="090933755493"), index(A), Policy(), TODAY)
    assert over.outcome is Outcome.MATCHED
    assert over.overpayment == Decimal("50.00")


def test_several_references_settle_several_invoices() -> None:
    text = "+++090/9337/55493+++ and +++000/0001/00131+++"
    match = match_line(line("650.00", text), index(A, B), Policy(), TODAY)
    assert match.outcome is Outcome.MATCHED
    assert sorted(a.key for a in match.allocations) == ["1", "2"]


@pytest.mark.parametrize(
    "joined",
    [
        "Facturen 2026-00090, 2026-00091 en 2026-00092",
        "factures 2026-00090, 2026-00091 et 2026-00092",
        "invoices 2026-00090, 2026-00091 and 2026-00092",
        "Rechnungen 2026-00090, 2026-00091 und 2026-00092",
    ],
)
def test_numbers_joined_by_a_word_settle_each_invoice(joined: str) -> None:
    """A blind probe: the number after "en" was read as "EN 2026-00092", a number
    of another series, and only the first two were paid."""
    first, second, third = (
        invoice(7 + n, f"2026-0009{n}", amount, f"00000010{n}0{n:02d}")
        for n, amount in ((0, "151.25"), (1, "302.50"), (2, "48.40"))
    )
    match = match_line(line("502.15", joined), index(first, second, third), Policy(), TODAY)
    assert match.outcome is Outcome.MATCHED
    assert sorted(a.key for a in match.allocations) == ["7", "8", "9"]
    assert match.overpayment == 0


LAMBERT = "BE71096123456769"
LAMBERTS = invoice(20, "INV-2026-0061", "605.00", "000000006161", debtor=3, name="Garage Lambert")
SCHMITZ = invoice(21, "INV-2026-0071", "121.00", "000000007171", debtor=4, name="Schmitz GmbH")
MERTENS = "BE68539007547034"
M_0080 = invoice(22, "INV-2026-0080", "726.00", "000000008080", debtor=5, name="Atelier Mertens")
M_0081 = invoice(23, "INV-2026-0081", "1089.00", "000000008181", debtor=5, name="Atelier Mertens")


def test_a_number_of_another_debtor_for_another_amount_waits_for_staff() -> None:
    """605.00 from Lambert's IBAN naming Schmitz's invoice open for 121.00: the
    payer's IBAN and amount say Lambert's invoice; no guess either way."""
    idx = index(LAMBERTS, SCHMITZ, ibans={LAMBERT: 3})
    match = match_line(line("605.00", "INV-2026-0071", iban=LAMBERT), idx, Policy(), TODAY)
    assert match.outcome is Outcome.TO_REVIEW
    assert {c.invoices[0].number for c in match.candidates} == {"INV-2026-0061", "INV-2026-0071"}
    # The same number for Schmitz's own amount, from any IBAN, is Schmitz's payment.
    paid = match_line(line("121.00", "INV-2026-0071", iban=LAMBERT), idx, Policy(), TODAY)
    assert paid.outcome is Outcome.MATCHED
    assert [a.key for a in paid.allocations] == ["21"]


def test_a_number_paid_more_than_twice_over_waits_for_staff() -> None:
    """605.00 from an unknown IBAN naming an invoice of 121.00 pays for more
    than it names; 150.00 for it (fees added, say) is still applied."""
    idx = index(LAMBERTS, SCHMITZ)
    over = match_line(line("605.00", "INV-2026-0071"), idx, Policy(), TODAY)
    assert over.outcome is Outcome.TO_REVIEW
    assert "more than twice the invoice's amount" in over.reason
    some = match_line(line("150.00", "INV-2026-0071"), idx, Policy(), TODAY)
    assert some.outcome is Outcome.MATCHED
    assert some.overpayment == Decimal("29.00")


def test_a_reference_for_the_amount_of_another_open_invoice_waits_for_staff() -> None:
    """The reference of INV-0080 (726.00) with 1,089.00, what INV-0081 of the same
    payer has open: one of the two is a mistake."""
    idx = index(M_0080, M_0081, ibans={MERTENS: 5})
    match = match_line(
        line("1089.00", reference="000000008080", iban=MERTENS), idx, Policy(), TODAY
    )
    assert match.outcome is Outcome.TO_REVIEW
    assert {c.invoices[0].number for c in match.candidates} == {"INV-2026-0080", "INV-2026-0081"}
    # A part of INV-0080 by its reference, from the payer's IBAN, is still applied.
    part = match_line(line("300.00", reference="000000008080", iban=MERTENS), idx, Policy(), TODAY)
    assert part.outcome is Outcome.PARTIALLY_MATCHED
    assert [(a.key, a.amount) for a in part.allocations] == [("22", Decimal("300.00"))]


@pytest.mark.parametrize(
    "text",
    ["INV-2026-0042 INV-2026-0043", "+++090/9337/55493+++ +++000/0001/00131+++"],
)
def test_of_two_invoices_named_the_one_open_for_the_amount_is_paid(text: str) -> None:
    """A blind probe: "INV-2026-0042 INV-2026-0043" with exactly what 0043 has open
    paid 0042 in part and left 0043 open."""
    for iban in (None, "BE71096123456769"):  # also from the debtor's known IBAN
        idx = index(A, B, ibans={"BE71096123456769": 1})
        match = match_line(line("250.00", text, iban=iban), idx, Policy(), TODAY)
        assert match.outcome is Outcome.MATCHED
        assert [(a.key, a.amount) for a in match.allocations] == [("2", Decimal("250.00"))]
        assert "the one open for exactly 250.00" in match.reason


OLD_SMALL = invoice(5, "INV-5", "100.00", "000000100333", due=1)
NEW_LARGE = invoice(6, "INV-6", "300.00", "000000100434", due=20)
BOTH = "+++000/0001/00333+++ +++000/0001/00434+++"


@pytest.mark.parametrize(
    ("order", "allocated"),
    [
        (AllocationOrder.OLDEST_FIRST, [("5", "100.00"), ("6", "50.00")]),
        (AllocationOrder.LARGEST_FIRST, [("6", "150.00")]),
        (AllocationOrder.OVERDUE_FIRST, [("5", "100.00"), ("6", "50.00")]),
    ],
)
def test_allocation_order_is_the_policys(
    order: AllocationOrder, allocated: list[tuple[str, str]]
) -> None:
    match = match_line(
        line("150.00", BOTH), index(OLD_SMALL, NEW_LARGE), Policy(order=order), TODAY
    )
    assert [(a.key, f"{a.amount:.2f}") for a in match.allocations] == allocated
    assert match.outcome is Outcome.PARTIALLY_MATCHED


def test_invoice_number_in_the_text() -> None:
    match = match_line(line("400.00", "Facture inv 2026/42 merci"), index(A, B), Policy(), TODAY)
    assert match.outcome is Outcome.MATCHED
    assert match.chosen is not None
    assert match.chosen.method is Method.INVOICE_NUMBER
    assert "invoice number INV-2026-0042 in the text" in match.reason


def test_invoice_number_without_prefix_needs_the_amount() -> None:
    exact = match_line(line("400.00", "paiement 2026-0042"), index(A, B), Policy(), TODAY)
    assert exact.outcome is Outcome.MATCHED
    unsure = match_line(line("100.00", "paiement 2026-0042"), index(A, B), Policy(), TODAY)
    assert unsure.outcome is Outcome.TO_REVIEW
    assert unsure.candidates[0].invoices == (A,)


def test_known_iban_and_amount() -> None:
    idx = index(A, B, ibans={"BE71096123456769": 1})
    one = match_line(line("250.00", iban="BE71096123456769"), idx, Policy(), TODAY)
    assert one.outcome is Outcome.MATCHED
    assert "INV-2026-0043 is the one invoice open for 250.00" in one.reason
    both = match_line(line("650.00", iban="BE71096123456769"), idx, Policy(), TODAY)
    assert both.outcome is Outcome.MATCHED
    assert "sum of its 2 open invoices" in both.reason
    neither = match_line(line("10.00", iban="BE71096123456769"), idx, Policy(), TODAY)
    assert neither.outcome is Outcome.TO_REVIEW
    assert neither.candidates[0].method is Method.IBAN_AMOUNT


def test_similar_name_and_amount_waits_for_staff() -> None:
    match = match_line(line("99.00", name="PEETERS JAN"), index(A, B, C), Policy(), TODAY)
    assert match.outcome is Outcome.TO_REVIEW
    assert match.candidates[0].invoices == (C,)
    assert match.candidates[0].method is Method.NAME_AMOUNT
    assert "'PEETERS JAN' resembles 'Jan Peeters'" in match.candidates[0].reason
    other = match_line(line("99.00", name="Someone Else"), index(A, B, C), Policy(), TODAY)
    assert other.candidates == ()


def test_debits_are_not_payments() -> None:
    match = match_line(line("-400.00", reference="090933755493"), index(A), Policy(), TODAY)
    assert match.outcome is Outcome.NOT_A_PAYMENT
    assert match.allocations == ()


def test_conflicting_answers_wait_for_staff() -> None:
    # the reference says INV-2026-0042, the text names INV-2026-0043 of the same amount
    other = invoice(4, "INV-2026-0043", "400.00", "000000100131")
    text = "+++090/9337/55493+++ INV-2026-0043"
    match = match_line(line("400.00", text), index(A, other), Policy(), TODAY)
    assert match.outcome is Outcome.TO_REVIEW
    assert "another candidate is as likely" in match.reason


def test_other_currency_waits_for_staff() -> None:
    match = match_line(line("400.00", reference="090933755493", currency="USD"), index(A),
                       Policy(), TODAY)  # fmt: skip
    assert match.outcome is Outcome.TO_REVIEW
    assert "not in USD" in match.reason


def test_nothing_found() -> None:
    match = match_line(line("12.34", "thanks"), index(A), Policy(), TODAY)
    assert match.outcome is Outcome.TO_REVIEW
    assert match.candidates == ()
    assert match.reason.startswith("no reference")


def test_threshold_is_the_policys() -> None:
    strict = Policy(threshold=0.995)
    match = match_line(line("400.00", reference="090933755493"), index(A), strict, TODAY)
    assert match.outcome is Outcome.TO_REVIEW
    assert match.candidates[0].invoices == (A,)


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2))
def test_applied_payments_are_conserved(amount: Decimal) -> None:
    text = "+++090/9337/55493+++ +++000/0001/00131+++"
    match = match_line(line(str(amount), text), index(A, B), Policy(), TODAY)
    assert match.chosen is not None
    assert sum(a.amount for a in match.allocations) + match.overpayment == amount
    assert all(a.amount > 0 for a in match.allocations)


@given(st.from_regex(r"\A[0-9]{12}\Z"))
def test_fast_ogm_check_agrees_with_stdnum(digits: str) -> None:
    from stdnum.be import ogm_vcs

    from domain.reconciliation import is_valid_ogm

    assert is_valid_ogm(digits) == bool(ogm_vcs.is_valid(digits))


def test_fast_ogm_check_on_a_remainder_of_zero() -> None:
    from domain.reconciliation import is_valid_ogm

    assert is_valid_ogm("000000009797")  # 97 mod 97 = 0 -> check digits 97


@pytest.mark.parametrize(
    "text",
    [
        "+++090/9337/55493+++", "***090/9337/55493***", "090933755493", "090/9337/55494",
        "RF18 5390 0754 7034", "rf18539007547034", "RF18539007547035", "hello", "",
        "12345678901", "+++090/9337/55493", "1234567890123",
    ],
)  # fmt: skip
def test_fast_normalise_agrees_with_the_domain_one(text: str) -> None:
    from domain.reconciliation import normalise_reference
    from domain.reference import normalise

    assert normalise_reference(text) == normalise(text)


def test_policy_from_the_environment() -> None:
    from bot.commands.bank import bank_policy
    from bot.errors import UserError

    assert bank_policy({}) == Policy()
    policy = bank_policy(
        {"RELANCE_MATCH_THRESHOLD": "0.95", "RELANCE_ALLOCATION_ORDER": "largest_first"}
    )
    assert policy == Policy(threshold=0.95, order=AllocationOrder.LARGEST_FIRST)
    with pytest.raises(UserError, match="RELANCE_ALLOCATION_ORDER must be one of"):
        bank_policy({"RELANCE_ALLOCATION_ORDER": "newest"})
    with pytest.raises(UserError, match="RELANCE_MATCH_THRESHOLD"):
        bank_policy({"RELANCE_MATCH_THRESHOLD": "90"})


def test_a_returned_outgoing_payment_is_not_an_invoice_payment() -> None:
    from dataclasses import replace

    returned = replace(line("400.00", reference="090933755493"), reversal=True)
    match = match_line(returned, index(A), Policy(), TODAY)
    assert match.outcome is Outcome.TO_REVIEW
    assert match.reason == "the bank returned one of our payments"


def test_a_partial_index_keeps_a_debtor_summary_true_and_asks_for_what_it_lacks() -> None:
    from domain.reconciliation import NotLoaded

    idx = InvoiceIndex(partial=True)
    idx.add(A)  # found by its reference; A and B are the debtor's two open invoices
    idx.add_iban("BE71 0961 2345 6769", 1)
    idx.looked_up_ibans(["BE71096123456769", "BE68539007547034"])
    idx.summarise_debtor(1, 2, Decimal("650.00"))
    idx.add_debtor_amount(1, Decimal("250.00"), [B])
    assert idx.debtors_of_iban("be71096123456769") == {1}
    assert idx.debtors_of_iban("BE68539007547034") == set()  # looked up: nobody's
    assert idx.open_of_debtor_for(1, Decimal("250.00")) == [B]

    idx.update(A.paid(Decimal("150.00")))  # A now open for 250.00 as well
    assert idx.debtor_open_summary(1) == (2, Decimal("500.00"))
    assert [i.id for i in idx.open_of_debtor_for(1, Decimal("250.00"))] == [1, 2]
    idx.update(B.paid(Decimal("250.00")))
    assert idx.debtor_open_summary(1) == (1, Decimal("250.00"))
    assert [i.id for i in idx.open_of_debtor_for(1, Decimal("250.00"))] == [1]

    with pytest.raises(NotLoaded) as missing:
        idx.open_of_debtor_for(1, Decimal("99.00"))  # an amount it was not given
    assert (missing.value.kind, missing.value.key) == ("debtor", 1)
    with pytest.raises(NotLoaded) as missing:
        idx.open_for_amount(Decimal("99.00"))
    assert missing.value.kind == "amount"
    with pytest.raises(NotLoaded) as missing:
        idx.debtors_of_iban("DE89370400440532013000")
    assert (missing.value.kind, missing.value.key) == ("iban", "DE89370400440532013000")

    for invoice in (A.paid(Decimal("150.00")), B):
        idx.add_debtor_open(idx.invoices[invoice.id])
    idx.complete_debtor(1)  # every open invoice given: the summary is no longer used
    assert [i.id for i in idx.open_of_debtor(1)] == [1]
    assert idx.debtor_open_summary(1) == (1, Decimal("250.00"))
