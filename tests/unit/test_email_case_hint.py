"""Case hints: invoice numbers and structured references in subject or text."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from adapters.mail.case_hint import find_case_hint
from adapters.mail.parse import analyse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Re: Rappel : facture INV-2026-0042", "INV-2026-0042"),
        ("Payment reminder - invoice inv-2026-0042", "inv-2026-0042"),
        ("Rechnung F2026/123", "F2026/123"),
        ("FAC-2026-0142 betaald", "FAC-2026-0142"),
        ("betaling factuur 2026-0042", "2026-0042"),
        ("Facture n° 2026/0099", "2026/0099"),
        ("Rechnung Nr. 2026-0077", "2026-0077"),
        ("invoice #12345", "12345"),
        ("communication +++090/9337/55493+++", "090933755493"),
        ("mededeling ***090/9337/55493***", "090933755493"),
        ("OGM 090/9337/55493", "090933755493"),
        ("+++090933755493+++", "090933755493"),
        ("betaald met 090-9337-55493", "090933755493"),
        ("mededeling 090.9337.55493.", "090933755493"),
        ("communication structurée : 090933755493", "090933755493"),
        ("paid 090933755493", None),  # twelve bare digits: maybe an old account number
        ("rekening 090-9337554-93", None),  # an old Belgian account number
        ("Rechnungsnr. 2026/118", "2026/118"),
        ("ref RF18 5390 0754 7034 merci", "RF18539007547034"),
        ("RF18539007547034", "RF18539007547034"),
        ("+++090/9337/55494+++", None),  # wrong check digits
        ("RF19 5390 0754 7034", None),  # wrong check digits
        ("Re: rappel du 10/03/2026", None),
        ("facture du 10/03/2026", None),
        ("Je paierai 250 euros vendredi", None),
    ],
)
def test_find_case_hint(text: str, expected: str | None) -> None:
    assert find_case_hint(text) == expected


def test_subject_comes_before_text() -> None:
    assert find_case_hint("Factuur F2026/123", "ook INV-2026-0001") == "F2026/123"
    assert find_case_hint("Betaling", "voor INV-2026-0001") == "INV-2026-0001"


def _mail(headers: str, body: str) -> bytes:
    return (
        "From: a@example.be\r\nTo: credit@relance.example\r\n"
        "Date: Mon, 9 Mar 2026 10:00:00 +0100\r\nMessage-ID: <m@x>\r\n" + headers + "\r\n" + body
    ).encode()


def test_case_hint_only_without_threading_headers() -> None:
    brussels = ZoneInfo("Europe/Brussels")
    threaded = analyse(
        _mail("Subject: Re: facture INV-2026-0042\r\nIn-Reply-To: <dun@r>\r\n", "Payé."), brussels
    )
    assert threaded.case_hint is None
    assert threaded.case_hint_found == "INV-2026-0042"
    only_refs = analyse(
        _mail("Subject: Re: facture INV-2026-0042\r\nReferences: <a@r> <b@r>\r\n", "Payé."),
        brussels,
    )
    assert only_refs.references == ("<a@r>", "<b@r>")
    assert only_refs.case_hint is None
    loose = analyse(_mail("Subject: Paiement\r\n", "Payé +++090/9337/55493+++."), brussels)
    assert loose.case_hint == "090933755493"
