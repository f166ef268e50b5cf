"""The console's words: every label of the templates in French, Dutch and German."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.web.console.i18n import CATALOGUE, choose, translator
from bot.web.console.queries import BUCKETS, REASONS
from bot.web.console.render import NOTICES

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "console"
LABEL = re.compile(r"""_\("((?:[^"\\]|\\.)+)"\)""")


def _template_labels() -> set[str]:
    labels: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        labels.update(LABEL.findall(path.read_text()))
    return labels


def test_every_template_label_notice_reason_and_bucket_is_translated() -> None:
    wanted = _template_labels() | set(NOTICES.values()) | set(REASONS.values()) | set(BUCKETS)
    wanted -= {"1-30", "31-60", "61-90", ">90"}  # numbers read the same everywhere
    assert len(wanted) > 150
    missing = sorted(w for w in wanted if w not in CATALOGUE)
    assert missing == []


def test_translations_are_filled_in_and_differ_where_words_differ() -> None:
    for english, (fr, nl, de) in CATALOGUE.items():
        assert fr.strip(), english
        assert nl.strip(), english
        assert de.strip(), english
    assert translator("fr")("Take over") == "Reprendre la main"
    assert translator("nl")("Take over") == "Overnemen"
    assert translator("de")("Take over") == "Übernehmen"


def test_english_and_unknown_words_fall_back_to_the_word() -> None:
    assert translator("en")("Take over") == "Take over"
    assert translator("xx")("Take over") == "Take over"
    assert translator("fr")("staff_user_added") == "staff_user_added"


@pytest.mark.parametrize(
    ("cookie", "header", "language"),
    [
        ("nl", "fr-BE,fr;q=0.9", "nl"),
        (None, "fr-BE,fr;q=0.9,en;q=0.8", "fr"),
        (None, "es-ES, de;q=0.5", "de"),
        ("zz", "", "en"),
        (None, "", "en"),
    ],
)
def test_the_staff_members_choice_then_the_browsers(
    cookie: str | None, header: str, language: str
) -> None:
    assert choose(cookie, header) == language
