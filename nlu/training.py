"""Training data in Rasa's YAML NLU format (``version: "3.1"``), read without Rasa.

    nlu:
    - intent: promise_to_pay
      examples: |
        - Je paierai [250 €]{"entity": "amount", "value": "250.00"} vendredi
        - I'll pay on [Friday](date)

An example becomes its plain text plus the entities annotated in it (with the
characters they cover in the plain text).  ``lookup``, ``regex`` and ``synonym``
sections are accepted and ignored here: entity rules live in ``nlu/entities``.

Bad files raise ``UserError("file.yml: intent 'x', example 3: why")`` so the CLI
prints one line naming the place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import UserError

DATA_DIR = Path(__file__).resolve().parent / "data"
LANGUAGES = ("fr", "nl", "en", "de")

# The 18 intents of shared/contracts/nlu.md, in the contract's order.
INTENTS = (
    "already_paid",
    "promise_to_pay",
    "request_payment_plan",
    "financial_hardship",
    "dispute",
    "request_invoice_copy",
    "request_payment_details",
    "ask_balance",
    "wrong_recipient",
    "insolvency",
    "talk_to_human",
    "stop_contact",
    "auto_reply",
    "affirm",
    "deny",
    "greet",
    "thank",
    "out_of_scope",
)

# [text](entity) or [text](entity:value) or [text]{"entity": ..., "value": ...}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True, slots=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    language: str
    entities: tuple[Entity, ...] = field(default=())
    source: str = ""  # "fr.yml: intent 'greet', example 3"


def parse_annotated(raw: str, where: str = "") -> tuple[str, tuple[Entity, ...]]:
    """Plain text and entities of one annotated example."""
    out: list[str] = []
    entities: list[Entity] = []
    pos = 0
    length = 0
    for match in _ANNOTATION.finditer(raw):
        before = raw[pos : match.start()]
        out.append(before)
        length += len(before)
        text = match.group("text")
        if match.group("short") is not None:
            name, _, value = match.group("short").partition(":")
            value = value or text
        else:
            try:
                spec = json.loads(match.group("json"))
            except json.JSONDecodeError as exc:
                raise UserError(
                    f"{where}: bad entity annotation {match.group(0)!r}: {exc}"
                ) from None
            if not isinstance(spec, dict) or "entity" not in spec:
                raise UserError(f"{where}: entity annotation without 'entity': {match.group(0)!r}")
            name = str(spec["entity"])
            value = str(spec.get("value", text))
        entities.append(Entity(name.strip(), value.strip(), length, length + len(text)))
        out.append(text)
        length += len(text)
        pos = match.end()
    out.append(raw[pos:])
    return "".join(out), tuple(entities)


def _example_lines(block: str) -> Iterator[str]:
    for line in block.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("- "):
            yield stripped[2:].strip()
        elif stripped == "-":
            continue
        else:
            # A continuation of the previous example is not part of the format.
            yield stripped


def load_yaml(path: Path, language: str | None = None) -> list[Example]:
    """Examples of one Rasa YAML NLU file; ``language`` defaults to the file's stem."""
    import yaml

    name = path.name
    lang = language or path.stem
    if lang not in LANGUAGES:
        raise UserError(f"{name}: cannot tell the language: name the file fr.yml, nl.yml, ...")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise UserError(f"{name}: {line}not valid YAML") from None
    if not isinstance(document, dict) or not isinstance(document.get("nlu"), list):
        raise UserError(f"{name}: no 'nlu:' list (Rasa YAML NLU format expected)")
    examples: list[Example] = []
    for index, item in enumerate(document["nlu"], start=1):
        if not isinstance(item, dict):
            raise UserError(f"{name}: nlu item {index}: expected a mapping")
        if "intent" not in item:
            continue  # lookup, regex, synonym: not intent examples
        intent = str(item["intent"])
        if intent not in INTENTS:
            raise UserError(f"{name}: nlu item {index}: unknown intent {intent!r}")
        block = item.get("examples")
        if not isinstance(block, str):
            raise UserError(f"{name}: intent {intent!r}: 'examples' must be a block of '- ' lines")
        for number, line in enumerate(_example_lines(block), start=1):
            where = f"{name}: intent {intent!r}, example {number}"
            text, entities = parse_annotated(line, where)
            if text.strip():
                examples.append(Example(text, intent, lang, entities, where))
    return examples


def load_dir(directory: Path = DATA_DIR, languages: Iterable[str] = LANGUAGES) -> list[Example]:
    """All examples of ``<directory>/<language>.yml`` for the given languages."""
    examples: list[Example] = []
    for lang in languages:
        path = directory / f"{lang}.yml"
        if path.exists():
            examples.extend(load_yaml(path, lang))
    return examples


def load_paths(paths: Iterable[Path]) -> list[Example]:
    """Examples from files or folders of ``<language>.yml`` files."""
    examples: list[Example] = []
    for path in paths:
        if path.is_dir():
            examples.extend(load_dir(path))
        elif path.exists():
            examples.extend(load_yaml(path))
        else:
            raise UserError(f"{path}: no such file or folder")
    return examples


def data_files(directory: Path = DATA_DIR) -> list[Path]:
    """The training files (``entities.yml`` holds entity rules, not intents)."""
    return [directory / f"{lang}.yml" for lang in LANGUAGES if (directory / f"{lang}.yml").exists()]
