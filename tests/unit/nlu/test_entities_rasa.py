"""nlu/data/entities.yml: Rasa regex and lookup sections generated from the extractor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from nlu.entities.rasa import REGEXES, rasa_entities_yaml

FILE = Path(__file__).resolve().parents[3] / "nlu" / "data" / "entities.yml"


def test_committed_file_is_up_to_date() -> None:
    assert FILE.read_text(encoding="utf-8") == rasa_entities_yaml(), (
        "regenerate: .venv/bin/python -m nlu.entities.rasa > nlu/data/entities.yml"
    )


def test_file_is_rasa_yaml_without_intents() -> None:
    document = yaml.safe_load(FILE.read_text(encoding="utf-8"))
    assert document["version"] == "3.1"
    kinds = {next(iter(item)) for item in document["nlu"]}
    assert kinds == {"regex", "lookup"}
    for item in document["nlu"]:
        lines = [line[2:] for line in item["examples"].splitlines()]
        assert lines
        assert all(line.strip() for line in lines)


@pytest.mark.parametrize(
    ("name", "sample"),
    [
        ("iban", "BE68 5390 0754 7034"),
        ("reference", "+++090/9337/55493+++"),
        ("reference", "RF18 5390 0754 7034"),
        ("invoice_number", "INV-2026-0042"),
        ("invoice_number", "F2026/123"),
        ("amount", "€ 1.234,56"),
        ("amount", "250 euros"),
        ("date", "15/04"),
        ("instalments", "en 3 fois"),
    ],
)
def test_regexes_compile_and_match_the_contract_examples(name: str, sample: str) -> None:
    assert any(re.search(pattern, sample) for pattern in REGEXES[name])
