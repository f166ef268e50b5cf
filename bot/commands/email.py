"""``relance email parse FILE.eml [FILE.eml ...]``: one JSON line per message.

The line's shape is fixed by ``shared/contracts/cli.md``.  A file that cannot be
read or is not an email gets one line on standard error naming it; the good files
are still printed, and the command then exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import load_settings

if TYPE_CHECKING:
    from adapters.mail.parse import InboundEmail


def register(subparsers: Any) -> None:
    mail = subparsers.add_parser("email", help="inbound email")
    mail_sub = mail.add_subparsers(dest="email_command", metavar="ACTION")
    mail_sub.required = True
    parse = mail_sub.add_parser(
        "parse", help="print kind, threading, new text and meaning of .eml files (JSON lines)"
    )
    parse.add_argument("files", nargs="+", metavar="FILE.eml")
    parse.add_argument("--no-nlu", action="store_true", help='do not run the NLU ("parse" is null)')
    parse.set_defaults(handler=_parse)


def to_json(file: str, message: InboundEmail, nlu: dict[str, Any] | None) -> dict[str, Any]:
    """The contract's line for one message."""
    return {
        "file": file,
        "kind": message.kind,
        "message_id": message.message_id,
        "in_reply_to": message.in_reply_to,
        "references": list(message.references),
        "case_hint": message.case_hint,
        "from": message.from_address,
        "subject": message.subject,
        "new_text": message.new_text,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments
        ],
        "parse": nlu,
    }


def _parse(args: argparse.Namespace) -> int:
    from adapters.mail.parse import NotAnEmail, analyse

    tz = load_settings().timezone
    failed = 0
    for name in args.files:
        try:
            raw = Path(name).read_bytes()
            message = analyse(raw, tz)
        except OSError as exc:
            print(f"relance: {name}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            failed += 1
            continue
        except NotAnEmail as exc:
            print(f"relance: {name}: {exc}", file=sys.stderr)
            failed += 1
            continue
        nlu = None
        if message.kind == "reply" and not args.no_nlu:
            nlu = _nlu(message, message.local_date or datetime.now(tz).date())
        print(json.dumps(to_json(name, message, nlu), ensure_ascii=False), flush=True)
    return 2 if failed else 0


def _nlu(message: InboundEmail, reference: date) -> dict[str, Any]:
    from nlu.api import parse

    return parse(message.new_text, reference_date=reference)
