"""The ``relance`` command.

Each area registers its sub-commands from its own module (``COMMAND_MODULES``);
a module's ``register(subparsers)`` adds parsers whose ``handler(args) -> int``
imports heavy dependencies lazily, so ``relance --help`` stays fast.

Bad input ends with one line on standard error and exit status 2, never a
traceback (see ``shared/contracts/cli.md``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import socket
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from bot.errors import ImportRefused, RelanceError

COMMAND_MODULES = (
    "bot.commands.bank",
    "bot.commands.db",
    "bot.commands.dunning",
    "bot.commands.email",
    "bot.commands.ledger",
    "bot.commands.nlu",
    "bot.commands.plans",
    "bot.commands.serve",
    "bot.commands.staff",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relance",
        description="Relance: reads and answers what debtors write, reconciles and reminds.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:
        # The reader went away (``relance bank parse FILE | head``): not an error.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ImportRefused as exc:
        for problem in exc.problems[1:20] if args.verbose else []:
            print(f"  {problem}", file=sys.stderr)
        print(f"relance: {exc.message}", file=sys.stderr)
        return 2
    except RelanceError as exc:
        print(f"relance: {exc.message}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        print(f"relance: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    except (ConnectionError, socket.gaierror, OperationalError) as exc:
        # The database (or another server) cannot be reached: a setting or an
        # outage, not a bug of ours, so one line and no traceback.
        reason = getattr(exc, "orig", None) or exc
        print(f"relance: cannot reach the database or a server: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
