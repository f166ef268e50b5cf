"""Errors that reach a person, each with a code.

    RelanceError
     +-- UserError          the input is wrong: say which file, line or field and why
     |    +-- ImportRefused   an import found problems and changed nothing
     +-- NotFound           a named thing does not exist
     +-- NotAllowed         the signed-in person's role may not do it

Our own bugs are not in this tree: they propagate, get logged and alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class RelanceError(Exception):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(RelanceError):
    code = "bad_input"


class NotFound(RelanceError):
    code = "not_found"


class NotAllowed(RelanceError):
    code = "not_allowed"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where and why."""

    source: str  # file name
    where: str  # "line 12", "column amount", "/Invoice/cac:LegalMonetaryTotal"
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.where}: {self.reason}"


class ImportRefused(UserError):
    code = "import_refused"

    def __init__(self, problems: Sequence[Problem], more: int = 0) -> None:
        self.problems = list(problems)
        self.more = more
        first = str(self.problems[0]) if self.problems else "no data"
        total = len(self.problems) + more
        others = total - 1
        suffix = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
        super().__init__(f"{first}{suffix}; nothing was imported")
