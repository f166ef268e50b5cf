"""``relance nlu parse|train|evaluate|export-rasa`` (see ``shared/contracts/cli.md``).

    echo '{"id": "1", "text": "je paie vendredi", "reference_date": "2026-03-10"}' \\
        | relance nlu parse
    relance nlu parse "Ich zahle Ende des Monats"
    relance nlu train
    relance nlu evaluate tests/data/nlu/dev --report /tmp/nlu-report.md
    relance nlu export-rasa /tmp/rasa-project

scikit-learn and the model load inside the handlers, so other commands stay fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from bot.errors import UserError


def register(subparsers: Any) -> None:
    nlu = subparsers.add_parser("nlu", help="understand debtors' messages")
    sub = nlu.add_subparsers(dest="nlu_command", metavar="ACTION")
    sub.required = True

    parse = sub.add_parser(
        "parse",
        help="parse one text, or JSON Lines on stdin ({id, text, reference_date})",
    )
    parse.add_argument("text", nargs="?", help="a text to parse (else JSON Lines on stdin)")
    parse.add_argument("--reference-date", help="YYYY-MM-DD for the positional text")
    parse.set_defaults(handler=_parse)

    train = sub.add_parser("train", help="train the intent model (and cache it)")
    train.add_argument("--data", type=Path, help="folder of <lang>.yml files (default: built in)")
    train.set_defaults(handler=_train)

    evaluate = sub.add_parser(
        "evaluate", help="precision, recall, F1 and confusion on a labelled set"
    )
    evaluate.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="Rasa YAML file(s) <lang>.yml or a folder of them",
    )
    evaluate.add_argument(
        "--reference-date",
        type=_iso_date,
        default=date(2026, 3, 10),
        help="date the annotated dates were resolved against (2026-03-10)",
    )
    evaluate.add_argument(
        "--report",
        type=Path,
        default=Path("nlu-report.md"),
        help="report file to write (Markdown; default nlu-report.md)",
    )
    evaluate.add_argument(
        "--png", type=Path, help="confusion matrix image (default: next to the report)"
    )
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.set_defaults(handler=_evaluate)

    export = sub.add_parser("export-rasa", help="write a Rasa project (config.yml, data/nlu.yml)")
    export.add_argument("directory", type=Path)
    export.set_defaults(handler=_export)


def _iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {raw!r}") from None


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _parse_line(line: str) -> tuple[Any, str, date | None] | dict[str, Any]:
    """(id, text, reference date) of one input line, or the error object to print."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"not valid JSON: {exc.msg} at column {exc.colno}"}
    if not isinstance(obj, dict):
        return {"id": None, "error": "expected a JSON object with a 'text' field"}
    ident = obj.get("id")
    text = obj.get("text")
    if not isinstance(text, str):
        return {"id": ident, "error": "'text' is missing or not a string"}
    raw_date = obj.get("reference_date")
    reference: date | None = None
    if raw_date is not None:
        try:
            reference = date.fromisoformat(str(raw_date)[:10])
        except ValueError:
            return {"id": ident, "error": f"'reference_date' is not YYYY-MM-DD: {raw_date!r}"}
    return ident, text, reference


def _parse(args: argparse.Namespace) -> int:
    from nlu.api import default_backend, today

    reference = None
    if args.reference_date is not None:
        try:
            reference = date.fromisoformat(args.reference_date)
        except ValueError:
            raise UserError(
                f"--reference-date is not YYYY-MM-DD: {args.reference_date!r}"
            ) from None
    backend = default_backend()
    if args.text is not None:
        result = backend.parse_many([args.text], [reference or today()])[0]
        print(_dump(result))
        return 0
    now = today()
    out = sys.stdout
    for raw in sys.stdin:
        line = raw.rstrip("\r\n")
        parsed = _parse_line(line)
        if isinstance(parsed, dict):
            out.write(_dump(parsed) + "\n")
        else:
            ident, text, reference = parsed
            result = backend.parse_many([text], [reference or now])[0]
            out.write(_dump({"id": ident, **result}) + "\n")
        # One answer per line as it comes: a caller may write a line and wait.
        out.flush()
    return 0


def _train(args: argparse.Namespace) -> int:
    from nlu.classifier import cache_dir, load_or_train
    from nlu.training import data_files, load_paths

    files = data_files(args.data) if args.data else data_files()
    if not files:
        raise UserError(f"{args.data}: no fr.yml, nl.yml, en.yml or de.yml here")
    examples = load_paths(files)
    started = time.perf_counter()
    classifier = load_or_train(files, retrain=True)
    seconds = time.perf_counter() - started
    print(
        f"trained on {len(examples)} examples, {len(classifier.intents)} intents, "
        f"in {seconds:.1f} s; cached in {cache_dir()}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from nlu.evaluate import evaluate_paths, write_report

    report = evaluate_paths(args.paths, args.reference_date)
    png = args.png or args.report.with_suffix(".png")
    write_report(report, args.report, png)
    if args.json:
        print(_dump(report.summary()))
    else:
        print(report.text_summary())
        print(f"report written to {args.report}, confusion matrix to {png}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from nlu.export_rasa import export

    written = export(args.directory)
    print(f"Rasa project written to {args.directory}: {', '.join(str(p) for p in written)}")
    print(f"train it with: cd {args.directory} && rasa train nlu")
    return 0
