"""Golden files: every sample in tests/data/email/*.eml against its expected JSON.

Each ``NAME.eml`` was written for one mail client and language (see
tests/data/email/README.md); ``NAME.json`` holds what ``relance email parse``
must say about it (minus ``parse``, the NLU's own business, tested in
test_email_cli.py) plus the bounce and out-of-office details of ``InboundEmail``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.mail.parse import InboundEmail, analyse
from bot.commands.email import to_json

DATA = Path(__file__).resolve().parents[1] / "data" / "email"
SAMPLES = sorted(DATA.glob("*.eml"))
BRUSSELS = ZoneInfo("Europe/Brussels")


def view(file: str, message: InboundEmail) -> dict[str, Any]:
    line = to_json(file, message, None)
    del line["parse"]
    line["local_date"] = message.local_date.isoformat() if message.local_date else None
    line["out_of_office_until"] = (
        message.out_of_office_until.isoformat() if message.out_of_office_until else None
    )
    line["bounce"] = (
        {
            "failed_recipients": list(message.bounce.failed_recipients),
            "permanent": message.bounce.permanent,
            "status": message.bounce.status,
            "original_message_id": message.bounce.original_message_id,
        }
        if message.bounce
        else None
    )
    return line


def test_there_are_samples_for_every_kind() -> None:
    kinds = {json.loads(p.with_suffix(".json").read_text("utf-8"))["kind"] for p in SAMPLES}
    assert kinds == {"reply", "auto_reply", "bounce"}
    assert len(SAMPLES) >= 25


PUBLISHED = sorted((DATA / "public").glob("*.eml"))


@pytest.mark.parametrize("path", SAMPLES + PUBLISHED, ids=[p.stem for p in SAMPLES + PUBLISHED])
def test_sample_matches_golden(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text("utf-8"))
    got = view(path.name, analyse(path.read_bytes(), BRUSSELS))
    assert got == expected


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_attachment_bytes_are_kept(path: Path) -> None:
    message = analyse(path.read_bytes(), BRUSSELS)
    for attachment in message.attachments:
        assert attachment.size == len(attachment.data) > 0
        if attachment.content_type == "application/pdf":
            assert attachment.data.startswith(b"%PDF-")
