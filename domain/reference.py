"""Payment references: the Belgian structured communication (OGM/VCS) and ISO 11649 RF.

    ogm_for_sequence(42)            -> "000000004242"   (10 digits base + mod-97 check)
    format_ogm("090933755493")      -> "+++090/9337/55493+++"
    normalise("***090/9337/55493***") -> "090933755493"
    normalise("rf18 5390 0754 7034") -> "RF18539007547034"
    normalise("090/9337/55494")     -> None (wrong check digits)

The check-digit arithmetic is python-stdnum's (``stdnum.be.ogm_vcs``,
``stdnum.iso11649``): a pure validation library without I/O, which the domain may
use like the standard library.
"""

from __future__ import annotations

import re

from stdnum import iso11649
from stdnum.be import ogm_vcs

_OGM_LOOSE = re.compile(r"^[+*]{0,3}\s*(\d{3})\s*/?\s*(\d{4})\s*/?\s*(\d{5})\s*[+*]{0,3}$")


def ogm_for_sequence(sequence: int) -> str:
    """The OGM whose 10-digit base is ``sequence`` (0 < sequence < 10**10)."""
    if not 0 < sequence < 10**10:
        raise ValueError(f"OGM base out of range: {sequence}")
    # The mod-97 rule written out: this runs once per imported invoice, and
    # stdnum's generic clean-up costs more than the arithmetic (the tests check
    # every result against stdnum).
    return f"{sequence:010d}{sequence % 97 or 97:02d}"


def is_valid_ogm(digits: str) -> bool:
    return len(digits) == 12 and digits.isdigit() and bool(ogm_vcs.is_valid(digits))


def format_ogm(digits: str) -> str:
    """``+++123/4567/89012+++`` as printed on Belgian invoices."""
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"


def is_valid_rf(reference: str) -> bool:
    return bool(iso11649.is_valid(reference))


def normalise(text: str) -> str | None:
    """A structured reference as the contract writes it, or None if it is not one.

    OGM: its 12 digits (check digits verified).  RF: upper case without spaces
    (check digits verified).
    """
    cleaned = text.strip()
    match = _OGM_LOOSE.match(cleaned)
    if match:
        digits = "".join(match.groups())
        return digits if is_valid_ogm(digits) else None
    compact = re.sub(r"[\s.-]", "", cleaned).upper()
    if compact.isdigit() and len(compact) == 12:
        return compact if is_valid_ogm(compact) else None
    if compact.startswith("RF") and 5 <= len(compact) <= 25 and is_valid_rf(compact):
        return compact
    return None


def display(reference: str) -> str:
    """How a debtor should see a stored reference."""
    if len(reference) == 12 and reference.isdigit():
        return format_ogm(reference)
    if reference.startswith("RF"):
        return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))
    return reference
