"""Every dunning template renders in every language with StrictUndefined, and says
what the law requires."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from adapters.db.dunning_repo import InvoiceFacts
from bot.dunning import (
    DunningSetup,
    build_message,
    message_context,
    render_message,
    template_name,
)
from bot.templating import TEMPLATES, environment
from domain.dunning import DEFAULT_POLICY, Channel, DunningLine, Tone
from domain.fees import Amount, Claim, CreditorTerms

D = Decimal
LANGUAGES = ("fr", "nl", "en", "de")
LEVELS = (1, 2, 3)
TONES = ("friendly", "neutral", "firm")
CHANNELS = (Channel.EMAIL, Channel.TELEGRAM, Channel.LETTER)
SETUP = replace(
    DunningSetup(),
    policy=replace(
        DEFAULT_POLICY,
        terms=CreditorTerms(interest_rate=D("8"), penalty_percent=D("15"), penalty_minimum=D("50")),
    ),
)


def line(
    number: str, level: int, tone: str, language: str, channel: Channel, fees: str
) -> DunningLine:
    lvl = DEFAULT_POLICY.levels[level - 1]
    fee = Amount(D(fees), ("test",))
    return DunningLine(
        invoice_id=int(number[-1]),
        invoice=number,
        debtor_id=7,
        debtor="Boulangerie <Dupont> & fils",
        level=lvl,
        tone=Tone[tone.upper()],
        channel=channel,
        language=language,
        send_on=date(2026, 3, 9),
        claim=Claim(D("400.00"), fee, Amount(D("2.53"), ("test",))),
    )


def facts(number: str) -> InvoiceFacts:
    return InvoiceFacts(
        issue_date=date(2026, 1, 31),
        due_date=date(2026, 3, 2),
        amount=D("400.00"),
        structured_reference="090933755493",
        description=f"Entretien <panneaux> {number}",
        email="jan@example.be",
    )


def all_templates() -> list[str]:
    root = TEMPLATES / "dunning"
    return sorted(
        str(p.relative_to(TEMPLATES)) for p in root.rglob("*.*") if not p.name.startswith("_")
    )


def test_one_template_per_level_tone_channel_and_language() -> None:
    expected = {
        template_name(lang, level, tone, channel, part)
        for lang, level, tone in itertools.product(LANGUAGES, LEVELS, TONES)
        for channel, part in (
            (Channel.EMAIL, "txt"),
            (Channel.EMAIL, "html"),
            (Channel.TELEGRAM, "txt"),
        )
    }
    assert set(all_templates()) == expected
    assert len(expected) == 108


@pytest.mark.parametrize(
    ("language", "level", "tone", "channel"),
    list(itertools.product(LANGUAGES, LEVELS, TONES, CHANNELS)),
)
@pytest.mark.parametrize("consumer", [True, False])
@pytest.mark.parametrize("invoices", [1, 2])
def test_every_template_renders(
    language: str, level: int, tone: str, channel: Channel, consumer: bool, invoices: int
) -> None:
    fees = "0.00" if level == 1 else "55.00"
    lines = [line(f"INV-{i}", level, tone, language, channel, fees) for i in range(1, invoices + 1)]
    context = message_context(
        lines,
        [facts(x.invoice) for x in lines],
        SETUP,
        "Boulangerie <Dupont> & fils",
        consumer,
        "qr.1@relance.example" if channel is Channel.EMAIL else None,
    )
    rendered = render_message(context, channel)
    assert rendered.subject
    assert "INV-1" in rendered.subject
    assert "{{" not in rendered.text
    assert "Relance Demo SRL" in rendered.text
    assert "BE 0403.170.701" in rendered.text  # the creditor's enterprise number
    if channel is Channel.EMAIL:
        assert rendered.html is not None
        # autoescape in HTML only
        assert "<panneaux>" not in rendered.html
        assert "&lt;panneaux&gt;" in rendered.html
        assert 'src="cid:qr.1@relance.example"' in rendered.html
    if channel is not Channel.TELEGRAM:
        assert "<panneaux>" in rendered.text  # plain text is not escaped
    if level > 1:
        # 400.00 + 55.00 fees + 2.53 interest per invoice
        total = "45753" if invoices == 1 else "91506"
        assert total in "".join(ch for ch in rendered.text if ch.isdigit())


@pytest.mark.parametrize(
    ("language", "needles"),
    [
        (
            "fr",
            ("gratuit", "14 jours", "23 mars 2026", "55,00", "Numéro d'entreprise", "livre XIX"),
        ),
        (
            "nl",
            ("kosteloos", "14 dagen", "23 maart 2026", "55,00", "Ondernemingsnummer", "boek XIX"),
        ),
        (
            "en",
            (
                "free of charge",
                "14 days",
                "23 March 2026",
                "55.00",
                "Enterprise number",
                "Book XIX",
            ),
        ),
        (
            "de",
            ("kostenlos", "14 Tage", "23. März 2026", "55,00", "Unternehmensnummer", "Buch XIX"),
        ),
    ],
)
def test_first_consumer_reminder_has_the_mandatory_content(
    language: str, needles: tuple[str, ...]
) -> None:
    """Book XIX: balance, the penalty that will be claimed, creditor name and number,
    what the debt is for and its due date, and the period to pay."""
    lines = [line("INV-1", 1, "friendly", language, Channel.EMAIL, "0.00")]
    context = message_context(lines, [facts("INV-1")], SETUP, "Jan", True, None)
    text = render_message(context, Channel.EMAIL).text
    for needle in needles:
        assert needle in text.replace("\u202f", " ").replace("\xa0", " "), needle
    assert "Entretien <panneaux> INV-1" in text  # what the debt is for
    assert "400" in text  # the balance
    # sent 2026-03-09 by e-mail: waiting period 03-10 .. 03-23, the interest rate is
    # the terms' 8 %, below the legal 10.5 %
    assert context["pay_by"] == date(2026, 3, 23)
    assert context["announced"] == {"fees": D("55.00"), "interest_rate": D("8")}


def test_business_reminder_states_the_legal_interest_and_flat_compensation() -> None:
    lines = [line("INV-1", 1, "neutral", "fr", Channel.EMAIL, "0.00")]
    context = message_context(lines, [facts("INV-1")], SETUP, "Acme SA", False, None)
    text = render_message(context, Channel.EMAIL).text
    assert "loi du 2 août 2002" in text
    assert "8 % l'an" in text  # the terms' rate, lower than the legal rate
    assert "40,00" in text
    assert context["first_reminder_notice"] is False


def test_a_missing_variable_fails_instead_of_printing_nothing() -> None:
    template = environment().get_template("dunning/en/level1/friendly.email.txt")
    with pytest.raises(UndefinedError):
        template.render({"language": "en"})


def test_built_email_has_threading_and_auto_headers_and_the_qr_code() -> None:
    from datetime import UTC, datetime

    lines = [line("INV-1", 2, "neutral", "nl", Channel.EMAIL, "55.00")]
    message = build_message(
        lines, [facts("INV-1")], SETUP, "Jan", True, datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    )
    again = build_message(
        lines, [facts("INV-1")], SETUP, "Jan", True, datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    )
    assert message.message_id == again.message_id  # stable
    parsed = message_from_bytes(message.payload, policy=policy.default)
    assert parsed["Message-ID"] == message.message_id
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["Reply-To"] == "credit@relance.example"
    assert parsed["To"] == "jan@example.be"
    images = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    png = images[0].get_content()
    assert png.startswith(b"\x89PNG")
    assert (
        images[0]["Content-ID"]
        == "<" + message.message_id.strip("<>").replace("dunning.", "qr.", 1) + ">"
    )


def test_epc_qr_payload_carries_the_structured_reference() -> None:
    import segno.helpers

    # segno's own payload builder, with the arguments bot.dunning.epc_qr_png passes:
    # EPC069-12 version 002, SCT, no BIC, amount, structured remittance = the OGM.
    data = segno.helpers._make_epc_qr_data(  # type: ignore[attr-defined]
        "Relance Demo SRL", "BE68539007547034", D("463.00"), None, "090933755493", None, None, None
    )
    assert data.split(b"\n") == [
        b"BCD",
        b"002",
        b"2",
        b"SCT",
        b"",
        b"Relance Demo SRL",
        b"BE68539007547034",
        b"EUR463",
        b"",
        b"090933755493",
    ]
    assert Path(TEMPLATES).is_dir()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", CHANNELS)
def test_dutch_fourteen_day_letter_states_the_exact_costs(language: str, channel: Channel) -> None:
    from domain.fees import Jurisdiction

    dutch = replace(SETUP, policy=replace(SETUP.policy, jurisdiction=Jurisdiction.NL))
    lines = [line("INV-1", 1, "friendly", language, channel, "0.00")]
    context = message_context(lines, [facts("INV-1")], dutch, "Jan", True, None)
    # 15 % of 400.00 = 60.00 (WIK) equals the terms' 15 %: 60.00; sent 2026-03-09 by
    # e-mail: 14 days from the day after receipt, until 2026-03-23
    assert context["wik"] == {"costs": D("60.00")}
    assert context["first_reminder_notice"] is False
    text = render_message(context, channel).text
    assert "60" in text
    assert "Besluit vergoeding voor buitengerechtelijke incassokosten" in text
    assert "2026" in text
    assert "XIX" not in text  # no Belgian consumer-law wording under Dutch law
    assert "2 août 2002" not in text


def test_the_pay_link_of_the_debtor_is_in_every_channel() -> None:
    linked = replace(SETUP, pay_link=lambda debtor_id: f"https://pay.example/d/{debtor_id}")
    for channel in CHANNELS:
        lines = [line("INV-1", 2, "neutral", "de", channel, "55.00")]
        context = message_context(lines, [facts("INV-1")], linked, "Jan", True, None)
        rendered = render_message(context, channel)
        assert "https://pay.example/d/7" in rendered.text
        if rendered.html is not None:
            assert 'href="https://pay.example/d/7"' in rendered.html
