"""Plan replies, pay-page strings, signed links and the calendar file.

Every plan reply renders in fr, nl, en and de with StrictUndefined and carries the
figures the debtor needs; the signed links refuse tampering, other purposes and
age; the .ics file follows RFC 5545 (CRLF, escaping, 75-octet folding).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from decimal import Decimal as D
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.dialogue.policy import (
    ConversationPolicy,
    DebtorContext,
    OpenInvoice,
    Understanding,
    decide,
)
from bot.dialogue.replies import base_context, render_reply
from bot.paylinks import (
    LinkExpired,
    LinkInvalid,
    instalment_url,
    portal_url,
    sign,
    verify,
)
from bot.plans import schedule_ics
from bot.templating import TEMPLATES
from domain.payment_plan import Instalment, schedule

LANGUAGES = ("fr", "nl", "en", "de")
TODAY = date(2026, 3, 10)
SECRET = "unit-" + "x" * 35


def debtor(language: str, kind: str = "business") -> DebtorContext:
    invoice = OpenInvoice(
        id=1,
        number="INV-1",
        issue_date=date(2026, 1, 10),
        due_date=date(2026, 2, 9),
        amount=Decimal("1000.00"),
        open_amount=Decimal("1000.00"),
        currency="EUR",
        reference="090933755493",
        description="",
    )
    return DebtorContext(
        debtor_id=7,
        code="C1",
        name="Dupont",
        kind=kind,
        language=language,
        invoices=(invoice,),
        creditor_name="Relance Demo SRL",
        creditor_iban="BE68539007547034",
        creditor_bic="GKCCBEBB",
    )


def say(text: str, intent: str, entities: tuple[dict[str, str], ...] = ()) -> Understanding:
    return Understanding(text, intent, 0.99, "fr", entities)


def render(reply: object, language: str, **extra: object) -> tuple[str, list[object]]:
    context = base_context(
        language, "Relance Demo SRL", "BE68539007547034", "GKCCBEBB", debtor(language), TODAY
    )
    return render_reply(reply, context | extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_plan_reply_renders_in_every_language(language: str) -> None:
    policy = ConversationPolicy()
    who = debtor(language)
    three = decide(
        say("en 3 fois", "request_payment_plan", ({"entity": "instalments", "value": "3"},)),
        who,
        {},
        TODAY,
        policy,
    )
    options = decide(say("payer en plusieurs fois", "request_payment_plan"), who, {}, TODAY, policy)
    counter = decide(
        say("en 20 fois", "request_payment_plan", ({"entity": "instalments", "value": "20"},)),
        who,
        {},
        TODAY,
        policy,
    )
    accepted = decide(say("oui", "affirm"), who, three.state, TODAY, policy)
    which = decide(say("oui", "affirm"), who, options.state, TODAY, policy)
    declined = decide(say("non", "deny"), who, three.state, TODAY, policy)
    assert [
        r.template for d in (three, options, counter, accepted, which, declined) for r in d.replies
    ] == [
        "plan_proposal",
        "plan_options",
        "plan_counter",
        "plan_accepted",
        "plan_which",
        "plan_declined",
    ]
    texts = {}
    for decision in (three, options, counter, accepted, which, declined):
        for reply in decision.replies:
            text, choices = render(
                reply,
                language,
                plan_pay_url="https://pay.example/i/1",
                plan_ics_url="https://pay.example/c/1.ics",
            )
            texts[reply.template] = text
            assert text.strip()
            for choice in choices:
                assert choice.title.strip()  # type: ignore[attr-defined]
                assert "{" not in choice.title  # type: ignore[attr-defined]
    assert "333,34" in texts["plan_proposal"] or "333.34" in texts["plan_proposal"]
    assert "https://pay.example/i/1" in texts["plan_accepted"]
    assert "https://pay.example/c/1.ics" in texts["plan_accepted"]
    assert "+++090/9337/55493+++" in texts["plan_accepted"]
    assert "20" in texts["plan_counter"]

    instalment = {
        "number": 2,
        "count": 3,
        "due_date": date(2026, 4, 17),
        "amount": Decimal("333.33"),
        "remaining": Decimal("333.33"),
    }
    from bot.dialogue.policy import Reply

    reminder, _ = render(
        Reply("plan_reminder", {"instalment": instalment, "plan_pay_url": "https://p.example/2"}),
        language,
    )
    broken, _ = render(
        Reply("plan_broken", {"instalment": instalment, "plan_remaining": Decimal("666.66")}),
        language,
    )
    completed, _ = render(Reply("plan_completed", {"plan_total": Decimal("1000.00")}), language)
    received, _ = render(
        Reply("plan_instalment_paid", {"amount": Decimal("333.34"), "instalment": instalment}),
        language,
    )
    last, _ = render(
        Reply("plan_instalment_paid", {"amount": Decimal("333.33"), "instalment": None}), language
    )
    assert "333" in received
    assert "2" in received
    assert "333" in last
    assert "https://p.example/2" in reminder
    assert "333" in reminder
    assert "666" in broken
    assert "000" in completed


def test_accepting_gives_the_exact_schedule_and_a_plan_action() -> None:
    from bot.dialogue.policy import AcceptPlan

    who = debtor("fr")
    offer = decide(
        say("en 3 fois", "request_payment_plan", ({"entity": "instalments", "value": "3"},)),
        who,
        {},
        TODAY,
    )
    chosen = decide(
        say('/plan_choice{"option": 1}', "plan_choice", ({"entity": "option", "value": "1"},)),
        who,
        offer.state,
        TODAY,
    )
    (action,) = chosen.actions
    assert isinstance(action, AcceptPlan)
    assert [i.amount for i in action.instalments] == [
        Decimal("333.34"),
        Decimal("333.33"),
        Decimal("333.33"),
    ]
    assert "plan" not in chosen.state
    assert "pending" not in chosen.state


def test_an_old_offer_is_proposed_again_rather_than_accepted() -> None:
    who = debtor("fr")
    offer = decide(
        say("en 2 fois", "request_payment_plan", ({"entity": "instalments", "value": "2"},)),
        who,
        {},
        TODAY,
    )
    later = decide(say("oui", "affirm"), who, offer.state, date(2026, 4, 1))
    assert not later.actions
    assert later.replies[0].template == "plan_proposal"
    assert later.replies[0].params["schedule"][0]["due_date"] == date(2026, 4, 8)


def test_a_message_about_something_else_lets_the_offer_lapse() -> None:
    who = debtor("fr")
    offer = decide(
        say("en 2 fois", "request_payment_plan", ({"entity": "instalments", "value": "2"},)),
        who,
        {},
        TODAY,
    )
    other = decide(say("envoyez-moi une copie", "request_invoice_copy"), who, offer.state, TODAY)
    assert other.replies[0].template == "invoice_copy"
    assert "plan" not in other.state
    assert decide(say("oui", "affirm"), who, other.state, TODAY).replies[0].template == (
        "how_can_i_help"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_pay_page_strings_are_complete_in_every_language(language: str) -> None:
    english = json.loads((TEMPLATES / "portal" / "en.json").read_text(encoding="utf-8"))
    other = json.loads((TEMPLATES / "portal" / f"{language}.json").read_text(encoding="utf-8"))
    assert set(other) == set(english)
    assert all(value.strip() for value in other.values())


def test_links_verify_and_refuse_tampering_purpose_and_age() -> None:
    token = sign(SECRET, "portal", 7, expires=2_000_000_000)
    assert verify(SECRET, token, "portal", now=1_900_000_000) == 7
    with pytest.raises(LinkExpired):
        verify(SECRET, token, "portal", now=2_000_000_000)
    with pytest.raises(LinkInvalid):
        verify(SECRET, token, "calendar", now=1_900_000_000)
    with pytest.raises(LinkInvalid):
        verify("another-secret", token, "portal", now=1_900_000_000)
    body, mac = token.split(".")
    with pytest.raises(LinkInvalid):
        verify(SECRET, body + "." + mac[:-1] + ("A" if mac[-1] != "A" else "B"), "portal")
    with pytest.raises(LinkInvalid):
        verify(SECRET, "garbage", "portal")


def test_urls_carry_the_public_address() -> None:
    settings = load_settings(
        {"RELANCE_SECRET_KEY": SECRET, "RELANCE_PUBLIC_URL": "https://pay.relance.example/"}
    )
    assert portal_url(settings, 3).startswith("https://pay.relance.example/pay/")
    assert "/pay/instalment/" in instalment_url(settings, 9)


def test_ics_file_follows_rfc_5545() -> None:
    instalments = schedule(Decimal("1000.00"), 3, date(2026, 1, 31))
    titles = [
        f"Mensualité {i.number}/3 : {i.amount} € (Boulangerie; Dupont, fils) " + "é" * 40
        for i in instalments
    ]
    data = schedule_ics(
        plan_id=12,
        instalments=instalments,
        titles=titles,
        description="Compte BE68 5390 0754 7034\nmerci",
        host="relance.example",
        stamp=datetime(2026, 3, 10, 9, 30, tzinfo=UTC),
    )
    text = data.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    assert "DTSTART;VALUE=DATE:20260228" in unfolded  # 31 Jan + 1 month
    assert "DTEND;VALUE=DATE:20260301" in unfolded
    assert "UID:plan-12-3@relance.example" in unfolded
    assert "(Boulangerie\\; Dupont\\, fils)" in unfolded
    assert "DESCRIPTION:Compte BE68 5390 0754 7034\\nmerci" in unfolded
    assert unfolded.count("BEGIN:VEVENT") == 3
    assert "é" * 40 in unfolded  # folding never splits a character


def test_ics_needs_one_title_per_instalment() -> None:
    with pytest.raises(ValueError, match="one title"):
        schedule_ics(
            plan_id=1,
            instalments=[Instalment(1, TODAY, Decimal("1.00"))],
            titles=[],
            description="",
            host="h",
            stamp=datetime(2026, 3, 10, tzinfo=UTC),
        )


def test_plan_policy_file_overrides_the_defaults(tmp_path: Path) -> None:
    from bot.plans import load_plan_policies

    path = tmp_path / "plans.yaml"
    path.write_text('consumer:\n  max_instalments: 10\n  min_instalment: "30.00"\n')
    policies = load_plan_policies(str(path))
    assert policies["consumer"].max_instalments == 10
    assert policies["consumer"].min_instalment == Decimal("30.00")
    assert policies["business"] == load_plan_policies(None)["business"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("consumer:\n  fee: 5\n", "consumer: a consumer payment plan carries no fee"),
        ("consumer:\n  max_instalmentz: 5\n", "consumer.max_instalmentz: unknown setting"),
        ("business:\n  max_instalments: six\n", "business.max_instalments: not a whole number"),
        ("business:\n  fee: lots\n", "business.fee: not an amount"),
        ("retail:\n  fee: 1\n", "retail: unknown segment"),
        ("- 1\n- 2\n", "expected segments"),
        ("business: [\n", "not valid YAML"),
    ],
)
def test_a_bad_plan_policy_file_names_where_and_why(
    tmp_path: Path, text: str, message: str
) -> None:
    from bot.errors import UserError
    from bot.plans import load_plan_policies

    path = tmp_path / "plans.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        load_plan_policies(str(path))
    assert caught.value.message.startswith(f"{path}: ")
    assert message in caught.value.message


def test_the_daily_check_skips_plans_with_nothing_to_do() -> None:
    from adapters.db.plan_repo import PlanOverview
    from bot.plans import _due_work

    steps = schedule(Decimal("300.00"), 3, date(2026, 4, 1))

    def plan(paid: str, stored: tuple[str, ...], reminded: date | None = None) -> PlanOverview:
        return PlanOverview(
            id=1,
            grace_days=7,
            remind_days_before=3,
            instalments=steps,
            stored_paid=tuple(Decimal(p) for p in stored),
            reminded=(reminded, None, None),
            paid=Decimal(paid),
        )

    quiet = plan("0", ("0", "0", "0"))
    assert not _due_work(quiet, date(2026, 3, 20))  # nothing due, nothing paid
    assert _due_work(quiet, date(2026, 3, 29))  # reminder window
    assert not _due_work(plan("0", ("0", "0", "0"), date(2026, 3, 29)), date(2026, 3, 30))
    assert _due_work(plan("50", ("0", "0", "0")), date(2026, 3, 20))  # money arrived
    assert _due_work(quiet, date(2026, 4, 9))  # past the grace: broken
    assert _due_work(plan("300", ("100", "100", "100")), date(2026, 3, 20))  # complete


@pytest.mark.parametrize(
    ("language", "free"),
    [
        ("fr", "ne vous coûte rien de plus"),
        ("nl", "kost u niets extra"),
        ("en", "costs you nothing extra"),
        ("de", "kostet Sie nichts zusätzlich"),
    ],
)
def test_consumers_are_told_a_plan_costs_nothing_and_a_business_fee_is_shown(
    language: str, free: str
) -> None:
    from dataclasses import replace

    from domain.payment_plan import default_policies

    ask = say("en 3 fois", "request_payment_plan", ({"entity": "instalments", "value": "3"},))
    consumer = decide(ask, debtor(language, "consumer"), {}, TODAY)
    text, _ = render(consumer.replies[0], language)
    assert free in text

    policies = default_policies()
    policies["business"] = replace(policies["business"], fee=Decimal("15.00"))
    with_fee = decide(ask, debtor(language), {}, TODAY, ConversationPolicy(plan_policies=policies))
    text, _ = render(with_fee.replies[0], language)
    assert free not in text
    assert "15" in text
    first = with_fee.replies[0].params["schedule"][0]["amount"]
    assert first == Decimal("348.34")  # 333.34 + the fee on the first instalment


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_new_replies_render_and_an_old_payment_asks_for_proof(language: str) -> None:
    """Found by a blind chat probe: a payment of ten days ago was told "it can take
    a working day or two"; an invoice under dispute was "no open invoices"."""
    from dataclasses import replace

    from bot.dialogue.policy import Reply, _summary

    who = debtor(language)
    invoices = who.invoices
    for template in ("under_dispute", "insolvency_hold", "plan_refused", "staff_handling"):
        text, _ = render(Reply(template, _summary(invoices)), language)
        assert text.strip()
        assert "{" not in text
    instalment = {"number": 2, "count": 3, "due_date": date(2026, 4, 7), "remaining": D("80")}
    running = Reply(
        "plan_running",
        _summary(invoices) | {"instalment": instalment, "plan_remaining": D("160")},
    )
    text = render(running, language, pay_url="https://p/x")[0]
    assert "80,00" in text or "80.00" in text
    assert "160,00" in text or "160.00" in text
    assert "https://p/x" in text
    disputed = render(Reply("under_dispute", _summary(invoices)), language)[0]
    assert "INV-1" in disputed
    recent, old = (
        render(
            Reply("already_paid_ack", _summary(invoices) | {"paid_on": paid, "until": TODAY}),
            language,
        )[0]
        for paid in (date(2026, 3, 9), date(2026, 2, 28))
    )
    proof = {"fr": "preuve", "nl": "betalingsbewijs", "en": "proof", "de": "Zahlungsnachweis"}
    late = {"fr": "jours ouvrables", "nl": "werkdagen", "en": "working days", "de": "Werktage"}
    assert late[language] in recent
    assert late[language] not in old
    assert proof[language] in old
    # One invoice is "it", not "them".
    copy = render(Reply("invoice_copy", _summary(invoices)), language, pay_url="https://p/x")[0]
    assert {"fr": "la consulter", "nl": "ze bekijken", "en": "pay it", "de": "sie auf"}[
        language
    ] in copy
    several = replace(invoices[0], id=2, number="INV-2")
    many = render(Reply("invoice_copy", _summary((*invoices, several))), language, pay_url="x")[0]
    assert {"fr": "les consulter", "nl": "ze bekijken", "en": "pay them", "de": "sie auf"}[
        language
    ] in many
