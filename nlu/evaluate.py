"""Measure the parser on a labelled set: ``relance nlu evaluate tests/data/nlu/dev``.

Per language and overall: intent accuracy, per-intent precision / recall / F1,
macro F1, the confusion matrix, and entity F1 by type.  An entity counts as found
when the parser returns the same type with exactly the annotated value
(offsets are not compared: "value-exact").  Annotated dates are resolved
against ``reference_date`` (2026-03-10 for the development set, a Tuesday).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from nlu.training import INTENTS, LANGUAGES, Example, load_paths


@dataclass
class Scores:
    support: int = 0
    accuracy: float = 0.0
    macro_f1: float = 0.0
    per_intent: dict[str, tuple[float, float, float, int]] = field(default_factory=dict)
    confusion: list[list[int]] = field(default_factory=list)
    entity: dict[str, tuple[float, float, float, int]] = field(default_factory=dict)
    entity_f1: float = 0.0


@dataclass
class Report:
    by_language: dict[str, Scores]
    overall: Scores
    errors: list[tuple[Example, str, float]]
    entity_errors: list[tuple[Example, list[tuple[str, str]], list[tuple[str, str]]]]

    def summary(self) -> dict[str, Any]:
        def one(s: Scores) -> dict[str, Any]:
            return {
                "support": s.support,
                "accuracy": round(s.accuracy, 4),
                "macro_f1": round(s.macro_f1, 4),
                "entity_f1": round(s.entity_f1, 4),
                "entity_f1_by_type": {k: round(v[2], 4) for k, v in s.entity.items()},
            }

        return {
            "overall": one(self.overall),
            "languages": {lang: one(s) for lang, s in self.by_language.items()},
        }

    def text_summary(self) -> str:
        lines = ["language  messages  accuracy  macro-F1  entity-F1"]
        for lang, s in [*self.by_language.items(), ("all", self.overall)]:
            lines.append(
                f"{lang:<9} {s.support:>8}  {s.accuracy:>8.3f}  {s.macro_f1:>8.3f}  "
                f"{s.entity_f1:>9.3f}"
            )
        return "\n".join(lines)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def score(examples: Sequence[Example], results: Sequence[dict[str, Any]]) -> Scores:
    gold = [e.intent for e in examples]
    predicted = [r["intent"]["name"] for r in results]
    present = [i for i in INTENTS if i in gold or i in predicted]
    per_intent = {}
    for intent in present:
        tp = sum(g == p == intent for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == intent != g for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == intent != p for g, p in zip(gold, predicted, strict=True))
        per_intent[intent] = (*_prf(tp, fp, fn), gold.count(intent))
    gold_intents = [i for i in present if i in gold]
    macro = sum(per_intent[i][2] for i in gold_intents) / len(gold_intents) if gold_intents else 0.0
    index = {intent: n for n, intent in enumerate(INTENTS)}
    confusion = [[0] * len(INTENTS) for _ in INTENTS]
    for g, p in zip(gold, predicted, strict=True):
        confusion[index[g]][index[p]] += 1
    counts: dict[str, Counter[str]] = {}
    for example, result in zip(examples, results, strict=True):
        want = Counter((e.entity, e.value) for e in example.entities)
        got = Counter((e["entity"], str(e["value"])) for e in result["entities"])
        for (kind, _), n in (want & got).items():
            counts.setdefault(kind, Counter())["tp"] += n
        for (kind, _), n in (got - want).items():
            counts.setdefault(kind, Counter())["fp"] += n
        for (kind, _), n in (want - got).items():
            counts.setdefault(kind, Counter())["fn"] += n
    entity = {
        kind: (*_prf(c["tp"], c["fp"], c["fn"]), c["tp"] + c["fn"])
        for kind, c in sorted(counts.items())
    }
    total = sum(counts.values(), Counter())
    return Scores(
        support=len(examples),
        accuracy=sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
        if gold
        else 0.0,
        macro_f1=macro,
        per_intent=per_intent,
        confusion=confusion,
        entity=entity,
        entity_f1=_prf(total["tp"], total["fp"], total["fn"])[2] if total else 1.0,
    )


def evaluate(examples: Sequence[Example], reference_date: date, parser: Any = None) -> Report:
    if parser is None:
        from nlu.pipeline import Parser

        parser = Parser.load()
    results = parser.parse_many([e.text for e in examples], [reference_date] * len(examples))
    by_language = {}
    for lang in LANGUAGES:
        pairs = [(e, r) for e, r in zip(examples, results, strict=True) if e.language == lang]
        if pairs:
            by_language[lang] = score([e for e, _ in pairs], [r for _, r in pairs])
    errors = [
        (e, r["intent"]["name"], r["intent"]["confidence"])
        for e, r in zip(examples, results, strict=True)
        if r["intent"]["name"] != e.intent
    ]
    entity_errors = []
    for e, r in zip(examples, results, strict=True):
        want = sorted((x.entity, x.value) for x in e.entities)
        got = sorted((x["entity"], str(x["value"])) for x in r["entities"])
        if want != got:
            entity_errors.append((e, want, got))
    return Report(by_language, score(examples, results), errors, entity_errors)


def evaluate_paths(paths: Sequence[Path], reference_date: date) -> Report:
    return evaluate(load_paths(paths), reference_date)


def _table(scores: Scores) -> list[str]:
    lines = ["| intent | precision | recall | F1 | messages |", "|---|---:|---:|---:|---:|"]
    for intent, (p, r, f, n) in scores.per_intent.items():
        lines.append(f"| {intent} | {p:.3f} | {r:.3f} | {f:.3f} | {n} |")
    if scores.entity:
        lines += [
            "",
            "| entity | precision | recall | F1 | annotated |",
            "|---|---:|---:|---:|---:|",
        ]
        for kind, (p, r, f, n) in scores.entity.items():
            lines.append(f"| {kind} | {p:.3f} | {r:.3f} | {f:.3f} | {n} |")
    return lines


def write_report(report: Report, path: Path, png: Path | None = None) -> None:
    """A Markdown report and, with ``png``, the overall confusion matrix as an image."""
    lines = ["# NLU evaluation", "", "```", report.text_summary(), "```", ""]
    for lang, scores in [*report.by_language.items(), ("all languages", report.overall)]:
        lines += [f"## {lang}", "", *_table(scores), ""]
    lines += ["## Confusion matrix (all languages; rows: expected, columns: predicted)", ""]
    short = [intent[:8] for intent in INTENTS]
    lines.append("| expected \\ predicted | " + " | ".join(short) + " |")
    lines.append("|---" * (len(INTENTS) + 1) + "|")
    for intent, row in zip(INTENTS, report.overall.confusion, strict=True):
        lines.append(f"| {intent} | " + " | ".join(str(n) if n else "." for n in row) + " |")
    lines += ["", f"## Intent errors ({len(report.errors)})", ""]
    for example, predicted, confidence in report.errors:
        lines.append(
            f"- [{example.language}] expected `{example.intent}`, got `{predicted}` "
            f"({confidence:.2f}): {example.text}"
        )
    lines += ["", f"## Entity differences ({len(report.entity_errors)})", ""]
    for example, want, got in report.entity_errors:
        lines.append(f"- [{example.language}] {example.text} — expected {want}, got {got}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if png is not None:
        plot_confusion(report.overall.confusion, png)


def plot_confusion(matrix: list[list[int]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: write a file
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(11, 9))
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(INTENTS)), INTENTS, rotation=70, ha="right", fontsize=8)
    axes.set_yticks(range(len(INTENTS)), INTENTS, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("expected")
    for i, row in enumerate(matrix):
        for j, n in enumerate(row):
            if n:
                axes.text(
                    j,
                    i,
                    str(n),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if n > max(map(max, matrix)) / 2 else "black",
                )
    figure.colorbar(image)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
