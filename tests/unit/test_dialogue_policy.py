"""The dialogue policy alone: understood message in, replies and actions out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot.dialogue.policy import (
    AcceptPlan,
    DebtorContext,
    Escalate,
    MarkDisputed,
    OpenInvoice,
    Pause,
    RecordPromise,
    Understanding,
    decide,
)

TODAY = date(2026, 3, 10)


def _invoice(n: int, number: str, amount: str) -> OpenInvoice:
    return OpenInvoice(
        id=n,
        number=number,
        issue_date=date(2026, 1, 10),
        due_date=date(2026, 2, 9),
        amount=Decimal(amount),
        open_amount=Decimal(amount),
        currency="EUR",
        reference=f"0000000{n:03d}{n % 97 or 97:02d}",
        description="",
    )


DEBTOR = DebtorContext(
    debtor_id=7,
    code="C1",
    name="Dupont",
    kind="consumer",
    language="fr",
    invoices=(_invoice(1, "INV-1", "400.00"), _invoice(2, "INV-2", "100.00")),
    creditor_name="Relance Demo",
    creditor_iban="BE68539007547034",
    creditor_bic="GKCCBEBB",
)


def said(intent: str, text: str = "…", confidence: float = 0.95, **entities: str) -> Understanding:
    found: list[dict[str, Any]] = [{"entity": k, "value": v} for k, v in entities.items()]
    return Understanding(text, intent, confidence, "fr", tuple(found))


def test_nothing_about_a_debt_before_the_debtor_is_known() -> None:
    for channel, template in (("email", "unknown_sender"), ("telegram", "link_needed")):
        decision = decide(said("ask_balance"), None, {}, TODAY, channel=channel)
        assert [r.template for r in decision.replies] == [template]
        assert all(not r.params for r in decision.replies)
    email = decide(said("ask_balance"), None, {}, TODAY, channel="email")
    assert email.escalations == [Escalate("unknown_sender", "…")]


def test_promise_with_a_date_and_an_amount() -> None:
    decision = decide(said("promise_to_pay", amount="250.00", date="2026-03-13"), DEBTOR, {}, TODAY)
    assert decision.actions == (RecordPromise((1, 2), Decimal("250.00"), date(2026, 3, 13)),)
    assert decision.replies[0].params["partial"] is True


def test_promise_without_a_date_asks_then_takes_the_date_of_the_answer() -> None:
    first = decide(said("promise_to_pay"), DEBTOR, {}, TODAY)
    assert first.replies[0].template == "promise_ask_date"
    assert first.state["pending"] == "promise_date"
    second = decide(said("out_of_scope", date="2026-03-20"), DEBTOR, first.state, TODAY)
    assert second.actions == (RecordPromise((1, 2), Decimal("500.00"), date(2026, 3, 20)),)
    assert "pending" not in second.state


@pytest.mark.parametrize(
    ("when", "template"),
    [("2026-03-01", "promise_date_past"), ("2026-05-01", "promise_too_far")],
)
def test_promise_dates_outside_what_the_bot_may_accept(when: str, template: str) -> None:
    decision = decide(said("promise_to_pay", date=when), DEBTOR, {}, TODAY)
    assert decision.replies[0].template == template
    assert decision.actions == ()


def test_a_named_invoice_is_the_only_one_disputed() -> None:
    decision = decide(
        said("dispute", "je conteste la facture INV-2, jamais livrée"), DEBTOR, {}, TODAY
    )
    assert isinstance(decision.actions[0], MarkDisputed)
    assert decision.actions[0].invoice_ids == (2,)
    assert decision.escalations[0].reason == "dispute"


def test_already_paid_pauses_the_named_invoices_for_a_week() -> None:
    decision = decide(said("already_paid", invoice_number="INV-1"), DEBTOR, {}, TODAY)
    (pause,) = decision.actions
    assert isinstance(pause, Pause)
    assert (pause.invoice_ids, pause.until) == ((1,), date(2026, 3, 17))


def test_insolvency_stops_everything_and_escalates() -> None:
    decision = decide(said("insolvency"), DEBTOR, {}, TODAY)
    pause, escalate = decision.actions
    assert isinstance(pause, Pause)
    assert (pause.reason, pause.until, pause.invoice_ids) == ("insolvency", None, ())
    assert escalate == Escalate("insolvency", "…")


def test_low_confidence_twice_goes_to_staff() -> None:
    first = decide(said("dispute", confidence=0.2), DEBTOR, {}, TODAY)
    assert first.replies[0].template == "not_understood"
    assert first.actions == ()
    second = decide(said("dispute", confidence=0.2), DEBTOR, first.state, TODAY)
    assert second.replies[0].template == "not_understood_handover"
    assert second.escalations[0].reason == "low_confidence"


def test_anger_is_escalated_and_still_answered() -> None:
    decision = decide(said("dispute", "C'est une arnaque, j'appelle mon avocat"), DEBTOR, {}, TODAY)
    assert {e.reason for e in decision.escalations} == {"dispute", "angry"}
    # Answered: two invoices open and none named, so it asks which one.
    assert decision.replies[0].template == "dispute_which"


def test_a_dispute_naming_no_invoice_asks_which_and_marks_none_on_a_guess() -> None:
    decision = decide(said("dispute", "Je conteste le montant facturé."), DEBTOR, {}, TODAY)
    reply = decision.replies[0]
    assert reply.template == "dispute_which"
    assert [c.payload for c in reply.choices] == ["INV-1", "INV-2"]
    assert not [a for a in decision.actions if isinstance(a, MarkDisputed)]
    pauses = [a for a in decision.actions if isinstance(a, Pause)]
    assert pauses == [Pause("dispute", date(2026, 3, 24), (), "Je conteste le montant facturé.")]
    assert [e.reason for e in decision.escalations] == ["dispute"]
    assert decision.state["pending"] == "dispute_which"

    answer = decide(said("inform", "INV-2", invoice_number="INV-2"), DEBTOR, decision.state, TODAY)
    marked = [a for a in answer.actions if isinstance(a, MarkDisputed)]
    assert [m.invoice_ids for m in marked] == [(2,)]
    assert marked[0].note == "Je conteste le montant facturé.\nINV-2"
    assert answer.replies[0].template == "dispute_ack"
    assert "pending" not in answer.state


def test_a_dispute_of_a_debtor_with_one_invoice_is_about_that_one() -> None:
    from dataclasses import replace

    single = replace(DEBTOR, invoices=DEBTOR.invoices[:1])
    decision = decide(said("dispute", "Je conteste le montant facturé."), single, {}, TODAY)
    marked = [a for a in decision.actions if isinstance(a, MarkDisputed)]
    assert [m.invoice_ids for m in marked] == [(1,)]
    assert decision.replies[0].template == "dispute_ack"


def test_an_automatic_reply_is_never_answered() -> None:
    decision = decide(said("auto_reply"), DEBTOR, {}, TODAY)
    assert decision.replies == ()
    assert decision.actions == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I dispute 2026-0042, the delivery was late", ["2026-0042"]),
        ("2026-0042", ["2026-0042"]),
        ("about 2026-00425 and X2026-0042", ["2026-0042", "2026-0043"]),  # no whole token
        ("je conteste la facture 2026-0042-b", ["2026-0042", "2026-0043"]),
        ("(2026-0043)", ["2026-0043"]),
    ],
)
def test_focus_finds_the_debtors_own_numbers_as_whole_tokens(
    text: str, expected: list[str]
) -> None:
    from dataclasses import replace

    from bot.dialogue.policy import focus

    debtor = replace(
        DEBTOR, invoices=(_invoice(1, "2026-0042", "40.00"), _invoice(2, "2026-0043", "50.00"))
    )
    chosen = focus(said("dispute", text), debtor)
    assert [i.number for i in chosen] == expected


# --- found by a blind chat probe (session 7) ---------------------------------------------


def templates(decision: Any) -> list[str]:
    return [r.template for r in decision.replies]


def test_after_an_insolvency_no_payment_is_arranged_by_the_bot() -> None:
    insolvent = replace(DEBTOR, insolvent=True)
    for message in (
        said("promise_to_pay", date="2026-03-13"),
        said("request_payment_plan", instalments="3"),
        said("financial_hardship"),
    ):
        decision = decide(message, insolvent, {}, TODAY)
        assert templates(decision) == ["insolvency_hold"]
        assert not [a for a in decision.actions if isinstance(a, RecordPromise | AcceptPlan)]
        assert decision.escalations == [Escalate("insolvency", "…")]
    # A "yes" to an offer made before the insolvency was known takes nothing up.
    offer = decide(said("request_payment_plan", instalments="3"), DEBTOR, {}, TODAY)
    yes = decide(said("affirm", "oui"), insolvent, offer.state, TODAY)
    assert templates(yes) == ["insolvency_hold"]
    assert "plan" not in yes.state
    # What is owed and how to pay may still be asked.
    assert templates(decide(said("ask_balance"), insolvent, {}, TODAY))[0] == "balance"


def test_a_plan_for_invoices_all_under_dispute_says_so() -> None:
    disputed = replace(DEBTOR, invoices=tuple(replace(i, disputed=True) for i in DEBTOR.invoices))
    decision = decide(said("request_payment_plan", instalments="3"), disputed, {}, TODAY)
    assert templates(decision) == ["under_dispute"]
    assert [i.number for i in decision.replies[0].params["invoices"]] == ["INV-1", "INV-2"]


def test_the_balance_asks_only_for_what_is_not_disputed() -> None:
    one = replace(DEBTOR, invoices=(replace(DEBTOR.invoices[0], disputed=True), DEBTOR.invoices[1]))
    decision = decide(said("ask_balance"), one, {}, TODAY)
    assert templates(decision) == ["balance", "payment_details", "under_dispute"]
    assert decision.replies[1].params["total"] == Decimal("100.00")
    assert [i.number for i in decision.replies[2].params["invoices"]] == ["INV-1"]


def test_hardship_goes_to_staff_and_yes_takes_up_the_offered_plan() -> None:
    hardship = decide(said("financial_hardship", "j'ai perdu mon travail"), DEBTOR, {}, TODAY)
    assert templates(hardship) == ["hardship_ack"]
    assert hardship.escalations == [Escalate("hardship", "j'ai perdu mon travail")]
    yes = decide(said("affirm", "oui"), DEBTOR, hardship.state, TODAY)
    assert templates(yes)[0] in ("plan_proposal", "plan_options")
    assert yes.state["pending"] == "plan_choice"


def test_yes_to_the_latest_day_the_bot_can_accept_records_that_day() -> None:
    far = decide(said("promise_to_pay", date="2026-05-15"), DEBTOR, {}, TODAY)
    assert templates(far) == ["promise_too_far"]
    yes = decide(said("affirm", "ja"), DEBTOR, far.state, TODAY)
    assert yes.actions == (RecordPromise((1, 2), Decimal("500.00"), date(2026, 4, 9)),)


def test_a_dated_promise_is_acted_on_below_the_threshold() -> None:
    unsure = said("promise_to_pay", confidence=0.43, date="2026-03-11")
    assert decide(unsure, DEBTOR, {}, TODAY).actions == (
        RecordPromise((1, 2), Decimal("500.00"), date(2026, 3, 11)),
    )
    undated = said("promise_to_pay", confidence=0.43)
    assert templates(decide(undated, DEBTOR, {}, TODAY)) == ["not_understood"]


def test_a_first_part_now_and_the_rest_later_promises_the_whole() -> None:
    message = said(
        "promise_to_pay",
        "I'll pay 200 now and the rest on the 20th",
        amount="200",
        date="2026-03-20",
    )
    decision = decide(message, DEBTOR, {}, TODAY)
    assert decision.actions == (RecordPromise((1, 2), Decimal("500.00"), date(2026, 3, 20)),)


def test_a_running_plan_is_what_the_balance_and_a_promise_speak_of() -> None:
    """Found by a blind chat probe: after a plan was agreed, "how much is left?" asked
    for both invoices in full, and a promise on a plan's invoice was taken."""
    from bot.dialogue.policy import RunningPlan

    plan = RunningPlan((1,), 2, 3, date(2026, 4, 7), Decimal("133.33"), Decimal("266.66"))
    in_plan = replace(DEBTOR, plan=plan)
    balance = decide(said("ask_balance"), in_plan, {}, TODAY)
    assert templates(balance) == ["plan_running", "balance", "payment_details"]
    assert balance.replies[0].params["instalment"]["remaining"] == Decimal("133.33")
    assert [i.number for i in balance.replies[2].params["invoices"]] == ["INV-2"]
    on_plan = decide(
        said("promise_to_pay", "INV-1 vendredi", date="2026-03-13"), in_plan, {}, TODAY
    )
    assert templates(on_plan) == ["plan_running"]
    assert on_plan.actions == ()
    # Without naming one, the promise is for what the plan does not cover.
    other = decide(said("promise_to_pay", date="2026-03-13"), in_plan, {}, TODAY)
    assert other.actions == (RecordPromise((2,), Decimal("100.00"), date(2026, 3, 13)),)


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("affirm", "ok bye"),
        ("affirm", "merci, au revoir"),
        ("auto_reply", "tot ziens"),
        ("affirm", "ok danke tschüss"),
        ("deny", "no thanks, bye"),
    ],
)
def test_a_goodbye_gets_a_goodbye_not_the_menu(intent: str, text: str) -> None:
    decision = decide(said(intent, text), DEBTOR, {}, TODAY)
    assert templates(decision) == ["thank"]


def test_an_auto_reply_is_not_answered_but_a_goodbye_in_a_chat_is() -> None:
    away = said("auto_reply", "je suis absent jusqu'au 20")
    assert templates(decide(away, DEBTOR, {}, TODAY, channel="telegram")) == []
    bye = said("auto_reply", "tot ziens")
    assert templates(decide(bye, DEBTOR, {}, TODAY, channel="email")) == []
    assert templates(decide(bye, DEBTOR, {}, TODAY, channel="telegram")) == ["thank"]


def test_a_copy_of_an_invoice_that_is_not_open_is_never_another_invoice() -> None:
    """A blind chat probe asked for a copy of a paid invoice and got the details of
    the debtor's other, open one."""
    asked = said("request_invoice_copy", "copie de INV-9 svp", invoice_number="INV-9")
    decision = decide(asked, DEBTOR, {}, TODAY)
    assert [(r.template, r.params) for r in decision.replies] == [
        ("not_open", {"numbers": ["INV-9"]})
    ]
    assert decision.escalations == [
        Escalate("document_asked", "asked about INV-9, not open: copie de INV-9 svp")
    ]
    open_one = decide(said("request_invoice_copy", invoice_number="INV-2"), DEBTOR, {}, TODAY)
    assert open_one.replies[0].template == "invoice_copy"
    assert [i.number for i in open_one.replies[0].params["invoices"]] == ["INV-2"]


@pytest.mark.parametrize("language", ["fr", "nl", "en", "de"])
def test_the_not_open_reply_reads_in_every_language(language: str) -> None:
    from bot.dialogue.policy import Reply
    from bot.dialogue.replies import base_context, render_reply

    context = base_context(language, "Relance Demo", "BE68539007547034", "", DEBTOR, TODAY)
    one, _ = render_reply(Reply("not_open", {"numbers": ["INV-9"]}), context)
    two, _ = render_reply(Reply("not_open", {"numbers": ["INV-8", "INV-9"]}), context)
    assert "INV-9" in one
    assert "INV-8, INV-9" in two
    assert one != two


def test_a_promise_is_kept_by_the_last_day_still_to_come_it_names() -> None:
    """'200 op 10 december en de rest eind januari' was confirmed as the whole by
    10 December; a mail naming a past payment day, today and the promised day took
    today."""
    split = said(
        "promise_to_pay",
        "200 op 10 december en de rest eind januari",
        amount="200.00",
    )
    split = replace(
        split,
        entities=(
            {"entity": "amount", "value": "200.00"},
            {"entity": "date", "value": "2026-03-20"},
            {"entity": "date", "value": "2026-04-05"},
        ),
    )
    decision = decide(split, DEBTOR, {}, TODAY)
    assert decision.actions == (RecordPromise((1, 2), Decimal("500.00"), date(2026, 4, 5)),)
    mail = replace(
        split,
        text="we paid 300 on 2 March; the remaining 200 will be paid by 25 March",
        entities=(
            {"entity": "date", "value": "2026-03-10"},
            {"entity": "date", "value": "2026-03-02"},
            {"entity": "date", "value": "2026-03-25"},
        ),
    )
    assert decide(mail, DEBTOR, {}, TODAY).actions[0].promised_date == date(2026, 3, 25)  # type: ignore[attr-defined]
    past = replace(mail, entities=({"entity": "date", "value": "2026-03-02"},))
    assert decide(past, DEBTOR, {}, TODAY).replies[0].template == "promise_date_past"


def test_waiting_for_a_person_is_said_not_the_menu_nor_a_second_escalation() -> None:
    asked = decide(said("talk_to_human", "je veux parler à quelqu'un"), DEBTOR, {}, TODAY)
    assert [r.template for r in asked.replies] == ["human_ack"]
    assert [e.reason for e in asked.escalations] == ["human_asked"]
    state = asked.state
    assert state["human_asked"] == "2026-03-10"
    for follow_up in (said("greet", "allo ?"), said("out_of_scope", "il y a quelqu'un ?")):
        waiting = decide(follow_up, DEBTOR, state, TODAY)
        assert [r.template for r in waiting.replies] == ["human_waiting"]
        assert waiting.escalations == []
    again = decide(said("talk_to_human"), DEBTOR, state, TODAY)
    assert (again.replies[0].template, again.escalations) == ("human_waiting", [])
    # questions the bot can answer still get their answer
    assert decide(said("ask_balance"), DEBTOR, state, TODAY).replies[0].template == "balance"
    # days later, asking again is a new request
    later = decide(said("talk_to_human"), DEBTOR, state, date(2026, 3, 13))
    assert [e.reason for e in later.escalations] == ["human_asked"]


def test_a_promise_is_for_the_invoices_claimed_not_those_contested() -> None:
    """A blind probe's mail kept a dispute on one invoice and promised the rest of the
    other: the promise counted the disputed one too (of 7,998 instead of 3,999)."""
    contested = replace(DEBTOR.invoices[1], disputed=True)
    debtor = replace(DEBTOR, invoices=(DEBTOR.invoices[0], contested))
    promise = said("promise_to_pay", "we paid 300; the remaining will follow", date="2026-03-20")
    promise = replace(promise, entities=({"entity": "date", "value": "2026-03-20"},))
    decision = decide(promise, debtor, {}, TODAY)
    assert decision.actions == (RecordPromise((1,), Decimal("400.00"), date(2026, 3, 20)),)
    only_contested = replace(DEBTOR, invoices=(contested,))
    assert decide(promise, only_contested, {}, TODAY).actions[0].invoice_ids == (2,)  # type: ignore[attr-defined]


def test_ok_thanks_with_nothing_asked_closes_the_conversation() -> None:
    for text in ("ok merci", "ok bedankt", "jo passt, danke"):
        decision = decide(said("affirm", text), DEBTOR, {}, TODAY)
        assert [r.template for r in decision.replies] == ["thank"], text
    assert decide(said("affirm", "ok"), DEBTOR, {}, TODAY).replies[0].template == "how_can_i_help"
