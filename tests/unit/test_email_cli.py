"""``relance email parse``: the contract's JSON lines, bad files, and the NLU call."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "email"
CONTRACT_KEYS = [
    "file",
    "kind",
    "message_id",
    "in_reply_to",
    "references",
    "case_hint",
    "from",
    "subject",
    "new_text",
    "attachments",
    "parse",
]


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_every_sample_gives_one_line_in_the_contract_shape(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = sorted(str(p) for p in DATA.glob("*.eml"))
    assert main(["email", "parse", "--no-nlu", *files]) == 0
    lines = _lines(capsys.readouterr().out)
    assert [line["file"] for line in lines] == files
    for line in lines:
        assert list(line) == CONTRACT_KEYS
        assert line["kind"] in ("reply", "auto_reply", "bounce")
        assert isinstance(line["references"], list)
        for attachment in line["attachments"]:
            assert set(attachment) == {"filename", "content_type", "size"}


def test_bad_files_are_reported_and_good_ones_still_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_mail = tmp_path / "notes.eml"
    not_mail.write_text("just some notes\nnothing else\n", "utf-8")
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    good = DATA / "bounce_postfix_dsn.eml"
    missing = tmp_path / "missing.eml"
    code = main(["email", "parse", "--no-nlu", str(not_mail), str(good), str(empty), str(missing)])
    captured = capsys.readouterr()
    assert code == 2
    assert [line["file"] for line in _lines(captured.out)] == [str(good)]
    errors = captured.err.strip().splitlines()
    assert len(errors) == 3
    assert errors[0].startswith(f"relance: {not_mail}: not an email message")
    assert errors[1] == f"relance: {empty}: the file is empty"
    assert errors[2].startswith(f"relance: {missing}: cannot read")
    assert "Traceback" not in captured.err


class RecordingBackend:
    """A hand-written NLU double: answers in the contract shape and remembers its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, date]] = []

    def parse_many(self, texts: list[str], reference_dates: list[date]) -> list[dict[str, Any]]:
        self.calls.extend(zip(texts, reference_dates, strict=True))
        return [
            {
                "text": text,
                "intent": {"name": "already_paid", "confidence": 0.9},
                "intent_ranking": [{"name": "already_paid", "confidence": 0.9}],
                "entities": [],
                "language": "fr",
            }
            for text in texts
        ]


def test_parse_is_the_nlu_answer_for_new_text_at_the_local_date(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = pytest.importorskip("nlu.api")
    backend = RecordingBackend()
    api.set_backend(backend)
    try:
        monkeypatch.setenv("RELANCE_TIMEZONE", "Europe/Brussels")
        reply = DATA / "gmail_en_reply.eml"  # Date: Tue, 10 Mar 2026 21:40:02 +0000
        late = DATA / "autoreply_gmail_vacation_en.eml"
        bounce = DATA / "bounce_postfix_dsn.eml"
        assert main(["email", "parse", str(reply), str(late), str(bounce)]) == 0
        lines = _lines(capsys.readouterr().out)
    finally:
        api.set_backend(None)
    assert lines[0]["parse"]["intent"]["name"] == "already_paid"
    assert lines[0]["parse"]["text"] == lines[0]["new_text"]
    assert lines[1]["parse"] is None  # auto replies and bounces are not parsed
    assert lines[2]["parse"] is None
    # 21:40 UTC is 22:40 in Brussels: still the 10th.
    assert backend.calls == [(lines[0]["new_text"], date(2026, 3, 10))]


def test_reference_date_follows_the_configured_time_zone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    api = pytest.importorskip("nlu.api")
    late = tmp_path / "late.eml"
    late.write_bytes(
        b"From: a@example.be\r\nTo: credit@relance.example\r\nSubject: Re: Rappel\r\n"
        b"Date: Tue, 10 Mar 2026 23:30:00 +0000\r\nMessage-ID: <late@x>\r\n\r\nJe paie demain.\r\n"
    )
    backend = RecordingBackend()
    api.set_backend(backend)
    try:
        monkeypatch.setenv("RELANCE_TIMEZONE", "Europe/Brussels")
        assert main(["email", "parse", str(late)]) == 0
        monkeypatch.setenv("RELANCE_TIMEZONE", "America/New_York")
        assert main(["email", "parse", str(late)]) == 0
    finally:
        api.set_backend(None)
    capsys.readouterr()
    assert [d for _, d in backend.calls] == [date(2026, 3, 11), date(2026, 3, 10)]
