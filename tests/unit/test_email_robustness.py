"""Damaged mail never crashes the analysis: it is read as far as possible or refused as
not an email (the command then prints one line, never a traceback)."""

from __future__ import annotations

import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.mail.parse import NotAnEmail, analyse

DATA = Path(__file__).resolve().parents[1] / "data" / "email"
SAMPLES = sorted(DATA.glob("*.eml"))
BRUSSELS = ZoneInfo("Europe/Brussels")


def _damaged(seed: int) -> bytes:
    rnd = random.Random(seed)
    raw = rnd.choice(SAMPLES).read_bytes()
    how = seed % 4
    if how == 0:  # cut anywhere
        return raw[: rnd.randrange(len(raw))]
    if how == 1:  # flipped bytes
        data = bytearray(raw)
        for _ in range(rnd.randrange(1, 40)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        return bytes(data)
    if how == 2:  # a slice missing
        i, j = sorted(rnd.randrange(len(raw)) for _ in range(2))
        return raw[:i] + raw[j:]
    return raw.replace(b"\r\n", b"\n")  # bare line feeds


@pytest.mark.parametrize("seed", range(400))
def test_damaged_mail_is_read_or_refused(seed: int) -> None:
    try:
        message = analyse(_damaged(seed), BRUSSELS)
    except NotAnEmail:
        return
    assert message.kind in ("reply", "auto_reply", "bounce")
    assert isinstance(message.new_text, str)


@pytest.mark.parametrize(
    "header",
    [
        b"From: <@>\r\n",
        b"From: =?utf-8?Q?J=C3=BCrgen?= <\r\n",
        b"Message-ID: <.>\r\n",
        b"Message-ID: <\r\n",
        b"Subject: =?x-unknown?Q?abc?= \xe9t\xe9\r\n",
        b"Date: not a date\r\n",
        b"Content-Type: multipart/mixed\r\n",
    ],
)
def test_malformed_headers(header: bytes) -> None:
    raw = b"To: credit@relance.example\r\n" + header + b"\r\nJ'ai pay\xc3\xa9.\r\n"
    message = analyse(raw, BRUSSELS)
    assert message.kind == "reply"


def test_byte_order_mark_and_leading_blank_lines() -> None:
    raw = b"\xef\xbb\xbf\r\nFrom: a@example.be\r\nSubject: Re: Rappel\r\n\r\nPay\xc3\xa9.\r\n"
    message = analyse(raw, BRUSSELS)
    assert (message.from_address, message.subject, message.new_text) == (
        "a@example.be",
        "Re: Rappel",
        "Payé.",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "=?utf-8?Q?Re:_d=C3=A9j=C3=A0_pay=C3=A9?= =?utf-8?Q?_(voir_d=C3=A9tail",
            "Re: déjà payé (voir détail",
        ),
        ("=?utf-8?B?UmFwcGVsIGZhY3R1cmU", "Rappel facture"),
        ("=?windows-1252?Q?r=E9gl=E9e?", "réglée"),
        ("Prix =?x", "Prix =?x"),  # not an encoded word: left alone
        ("=?iso-8859-1?Q?pay=C3=A9?=", "payé"),  # UTF-8 labelled latin-1
        ("=?iso-8859-1?Q?pay=E9?=", "payé"),
    ],
)
def test_encoded_word_cut_before_its_end_is_decoded(value: str, expected: str) -> None:
    from adapters.mail.headers import text

    assert text(value) == expected


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        # UTF-8 labelled as a single-byte charset: read as UTF-8, not "payÃ©".
        ("iso-8859-1", "J'ai payé 100 €.".encode(), "J'ai payé 100 €."),
        ("windows-1252", "Betaald, één keer.".encode(), "Betaald, één keer."),
        # Real single-byte text stays as labelled.
        ("iso-8859-1", "J'ai payé 100 €.".encode("cp1252"), "J'ai payé 100 €."),
        ("utf-16", "Bezahlt.".encode("utf-16"), "Bezahlt."),
    ],
)
def test_body_charset_labels_that_lie(charset: str, body: bytes, expected: str) -> None:
    from email.message import Message

    from adapters.mail.parse import decode_part

    part = Message()
    part["Content-Type"] = f"text/plain; charset={charset}"
    part["Content-Transfer-Encoding"] = "8bit"
    part.set_payload(body)
    assert decode_part(part) == expected


def test_html_split_around_an_inline_picture_is_joined() -> None:
    raw = (
        b"From: Lotte <lotte@icloud.com>\nTo: credit@relance.example\nSubject: Re: Herinnering\n"
        b"Date: Thu, 19 Mar 2026 21:03:10 +0100\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="B"\n\n'
        b"--B\nContent-Type: text/html; charset=utf-8\n\n"
        b"<html><body><div>Hier het bewijs:</div></body></html>\n"
        b"--B\nContent-Type: image/jpeg; name=IMG_1.jpeg\nContent-Disposition: inline; "
        b"filename=IMG_1.jpeg\nContent-Transfer-Encoding: base64\n\n/9j/4AAQ\n"
        b"--B\nContent-Type: text/html; charset=utf-8\n\n"
        b"<html><body><div>De rest volgt in april.</div><blockquote type=cite>Oud</blockquote>"
        b"</body></html>\n--B--\n"
    )
    message = analyse(raw, ZoneInfo("Europe/Brussels"))
    assert message.new_text == "Hier het bewijs:\nDe rest volgt in april."
    assert [a.filename for a in message.attachments] == ["IMG_1.jpeg"]


def test_a_multipart_whose_boundary_never_comes_is_read_as_its_text() -> None:
    """A phone app declared multipart/alternative and wrote plain text (as in a real
    reply in Discourse's tests): the body is the text, not nothing."""
    raw = (
        b"From: Jan <jan@example.be>\r\nSubject: Re: Herinnering INV-2026-0042\r\n"
        b"Mime-Version: 1.0 (1.0)\r\n"
        b"Content-Type: multipart/alternative; boundary=001a11c20edc15a39304e2432790\r\n\r\n"
        b"Ik heb gisteren betaald.\r\n\r\n"
        b"Op 18 juli 2013 10:23 schreef Relance <credit@relance.example>:\r\n\r\n"
        b"> Uw factuur staat nog open.\r\n"
    )
    message = analyse(raw, BRUSSELS)
    assert (message.kind, message.new_text) == ("reply", "Ik heb gisteren betaald.")
