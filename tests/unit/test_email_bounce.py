"""Bounces: RFC 3464 reports and plain-text notifications; who failed, for good or not."""

from __future__ import annotations

import email
from email.message import Message
from zoneinfo import ZoneInfo

import pytest

from adapters.mail.bounce import analyse_bounce, looks_like_bounce
from adapters.mail.parse import analyse

BRUSSELS = ZoneInfo("Europe/Brussels")


def _message(raw: str) -> tuple[Message, bytes]:
    data = raw.replace("\n", "\r\n").encode()
    return email.message_from_bytes(data), data


def _dsn(action: str, status: str) -> str:
    return (
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
        "To: credit@relance.example\n"
        "Subject: Delivery report\n"
        "Date: Mon, 9 Mar 2026 10:00:00 +0100\n"
        "Message-ID: <r1@mx.example.org>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nReport.\n\n"
        "--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.org\n\n"
        f"Final-Recipient: rfc822; jan@example.be\nAction: {action}\nStatus: {status}\n\n"
        "--b--\n"
    )


@pytest.mark.parametrize(
    ("action", "status", "bounce", "permanent"),
    [
        ("failed", "5.1.1", True, True),
        ("failed", "5.2.2", True, True),
        ("delayed", "4.4.1", True, False),
        ("failed", "4.4.7", True, False),
        ("delivered", "2.0.0", False, None),
        ("relayed", "2.0.0", False, None),
    ],
)
def test_rfc3464_report(action: str, status: str, bounce: bool, permanent: bool | None) -> None:
    message, raw = _message(_dsn(action, status))
    assert looks_like_bounce(message) is bounce
    inbound = analyse(raw, BRUSSELS)
    if bounce:
        assert inbound.kind == "bounce"
        assert inbound.bounce is not None
        assert inbound.bounce.failed_recipients == ("jan@example.be",)
        assert inbound.bounce.permanent is permanent
        assert inbound.bounce.status == status
    else:  # a success report is automatic, not a failure
        assert inbound.kind == "auto_reply"
        assert inbound.bounce is None


@pytest.mark.parametrize(
    ("sender", "subject"),
    [
        (
            "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
            "Delivery Status Notification (Failure)",
        ),
        (
            "MAILER-DAEMON@mx.example.org (Mail Delivery System)",
            "Undelivered Mail Returned to Sender",
        ),
        ("Microsoft Outlook <postmaster@example.be>", "Undeliverable: Payment reminder"),
        ("Microsoft Outlook <postmaster@example.be>", "Non remis : Rappel"),
        ("Microsoft Outlook <postmaster@example.be>", "Onbestelbaar: Herinnering"),
        ("Microsoft Outlook <postmaster@example.be>", "Unzustellbar: Zahlungserinnerung"),
        ("Mail Delivery Subsystem <mailer-daemon@x.be>", "Bericht niet afgeleverd: Herinnering"),
        ("postmaster@x.fr", "Échec de livraison : Rappel"),
        ("MAILER-DAEMON@x.de", "Zustellungsfehler: Zahlungserinnerung"),
        ("postmaster@example.fr", "Échec de la remise du message"),
        ("MAILER-DAEMON@example.com", "failure notice"),
    ],
)
def test_plain_bounces_by_sender_and_subject(sender: str, subject: str) -> None:
    raw = (
        f"From: {sender}\nTo: credit@relance.example\nSubject: {subject}\n"
        "Date: Mon, 9 Mar 2026 10:00:00 +0100\nMessage-ID: <b@x>\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Delivery to the following recipient failed permanently:\n\n"
        "     jan@example.be\n\n"
        "550 5.1.1 The email account that you tried to reach does not exist.\n"
    )
    inbound = analyse(raw.replace("\n", "\r\n").encode(), BRUSSELS)
    assert inbound.kind == "bounce"
    assert inbound.bounce is not None
    assert inbound.bounce.failed_recipients == ("jan@example.be",)
    assert inbound.bounce.permanent is True
    assert inbound.bounce.status == "5.1.1"


def test_x_failed_recipients_alone_is_a_bounce() -> None:
    message, raw = _message(
        "From: someone@example.org\nTo: credit@relance.example\nSubject: hmm\n"
        "X-Failed-Recipients: a@example.be, b@example.be\n\nGone.\n"
    )
    assert looks_like_bounce(message)
    assert analyse_bounce(message, raw, "Gone.").failed_recipients == (
        "a@example.be",
        "b@example.be",
    )


def test_transient_plain_text_bounce() -> None:
    message, raw = _message(
        "From: Mail Delivery System <MAILER-DAEMON@example.org>\nTo: credit@relance.example\n"
        "Subject: Warning: message delayed\n\n"
        "This message has not yet been delivered to jan@example.be. We will retry for 4 days.\n"
    )
    text = "This message has not yet been delivered to jan@example.be. We will retry for 4 days."
    assert looks_like_bounce(message)
    info = analyse_bounce(message, raw, text)
    assert info.permanent is False
    assert info.failed_recipients == ("jan@example.be",)


def test_a_person_writing_about_delivery_is_not_a_bounce() -> None:
    raw = (
        "From: Jan <jan@example.be>\nTo: credit@relance.example\n"
        "Subject: Re: Delivery failed? The goods were never delivered\n"
        "In-Reply-To: <dun-1@relance.example>\nMessage-ID: <p@x>\n\n"
        "The delivery failed, I dispute the invoice.\n"
    )
    assert analyse(raw.encode(), BRUSSELS).kind == "reply"


def test_flufl_bounce_finds_the_recipient_of_a_qmail_bounce() -> None:
    # No header names the recipient; the qmail format is read by flufl.bounce.
    message, raw = _message(
        "From: MAILER-DAEMON@mail.example.org\nTo: credit@relance.example\n"
        "Subject: failure notice\n\n"
        "Hi. This is the qmail-send program at mail.example.org.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "<jan@example.be>:\n"
        "Sorry, no mailbox here by that name. (#5.1.1)\n\n"
        "--- Below this line is a copy of the message.\n\n"
        "From: credit@relance.example\nSubject: Rappel\n"
    )
    assert looks_like_bounce(message)
    info = analyse_bounce(message, raw, message.get_payload())
    assert info.failed_recipients == ("jan@example.be",)
    assert info.permanent is True


def test_exchange_report_with_a_pasted_original() -> None:
    raw = (
        "Return-Path: <>\nFrom: mailer-daemon@mail.example.com\nTo: credit@relance.example\n"
        "Date: Mon, 9 Mar 2026 10:00:00 +0100\nMessage-ID: <ndr@x>\n"
        "Subject: Undeliverable: Rappel\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
        "--r\nContent-Type: text/plain; charset=us-ascii\n\n"
        "Delivery has failed to these recipients or distribution lists:\n\n"
        "Jan<mailto:jan@example.be>\nThe recipient's e-mail address was not found.\n\n"
        "Original message headers:\n\nReceived: from app.relance.example\n"
        "Subject: Rappel : facture INV-2026-0042\n\n"
        "--r\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns;mail.example.com\n\n"
        "Final-Recipient: rfc822;jan@example.be\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found\n\n"
        "--r--\n"
    )
    inbound = analyse(raw.replace("\n", "\r\n").encode(), BRUSSELS)
    assert inbound.kind == "bounce"
    assert inbound.bounce is not None
    assert inbound.bounce.failed_recipients == ("jan@example.be",)
    assert inbound.bounce.permanent
    assert inbound.bounce.original_subject == "Rappel : facture INV-2026-0042"
    assert inbound.case_hint == "INV-2026-0042"
    assert "Original message headers" not in inbound.new_text
