"""One booked bank movement, whatever statement format it came from.

    CODA 2.1 record, credit 1 075,000, structured communication 101 "090933755493"
    camt.053 Ntry/NtryDtls/TxDtls, CRDT 1075.00, Strd/CdtrRefInf/Ref "090933755493"
        -> StatementLine(amount=Decimal("1075.00"), structured_reference="090933755493", ...)

``amount`` is signed: positive for money received (credits), negative for money
leaving the account (debits).  ``structured_reference`` is either the 12 digits of
a Belgian OGM or an upper-case ISO 11649 RF reference, both with valid check digits;
anything else a payer typed stays in ``free_text``.

The identity of a line (``StatementLine.identity``) is what makes importing the same
movement twice impossible, even when it arrives in two different files: a camt.054
notification in the evening and the camt.053 statement the next morning, or two
CODA statements that overlap.  It is built from what the bank itself uses to name a
movement (its reference) and not from the file or statement the line came in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class StatementLine:
    account_iban: str
    statement: str
    booking_date: date
    value_date: date
    amount: Decimal
    currency: str
    counterparty_name: str
    counterparty_iban: str | None
    structured_reference: str | None
    free_text: str
    bank_reference: str
    # Position of the line among the lines sharing ``bank_reference`` (a CODA
    # detail number, the index of a camt TxDtls in its entry), or, when the bank
    # gave no reference, its position in the statement.
    sequence: str = ""
    counterparty_bic: str = ""
    end_to_end_id: str = ""
    transaction_code: str = ""
    # The bank says this movement undoes an earlier one (camt RvslInd, a CODA
    # R-transaction): a returned credit reopens what it had paid.
    reversal: bool = False
    # Where the line came from, for error messages and staff: "file: line 12".
    source: str = ""
    # ``identity``, once computed: a statement's lines are asked for it several
    # times (duplicates within the file, then against the database), at 2 µs each.
    _identity: str = field(default="", init=False, repr=False, compare=False)

    @property
    def is_credit(self) -> bool:
        return self.amount > 0

    @property
    def identity(self) -> str:
        """A stable 32-hex-digit key of the movement (see the module docstring)."""
        if self._identity:
            return self._identity
        reference = self.bank_reference or f"statement {self.statement}"
        parts = (
            self.account_iban.replace(" ", "").upper(),
            reference.strip(),
            self.booking_date.isoformat(),
            f"{self.amount:.2f}",
            self.currency,
            self.sequence,
        )
        identity = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
        object.__setattr__(self, "_identity", identity)  # a cache, not a change of value
        return identity

    def to_json(self) -> dict[str, Any]:
        """The shape of ``relance bank parse`` (shared/contracts/cli.md)."""
        return {
            "account_iban": self.account_iban,
            "statement": self.statement,
            "booking_date": self.booking_date.isoformat(),
            "value_date": self.value_date.isoformat(),
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "counterparty_name": self.counterparty_name,
            "counterparty_iban": self.counterparty_iban,
            "structured_reference": self.structured_reference,
            "free_text": self.free_text,
            "bank_reference": self.bank_reference,
        }


def with_distinct_identities(lines: Iterable[StatementLine]) -> tuple[StatementLine, ...]:
    """Two movements of one file that look alike are still two movements.

    Banks do book identical movements (a real KBC file has two debits of 120.85
    with the same bank reference on the same day).  Within one file, the n-th
    repetition gets ``#n`` added to its sequence, so importing the file again, or
    an overlapping one, still recognises each of them.
    """
    return DistinctIdentities()(lines)


class DistinctIdentities:
    """``with_distinct_identities`` over a file read in parts: call it on each part
    in order, and a repetition in a later part is still numbered."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, lines: Iterable[StatementLine]) -> tuple[StatementLine, ...]:
        seen = self._seen
        out = []
        for line in lines:
            identity = line.identity
            count = seen.get(identity, 0)
            seen[identity] = count + 1
            out.append(replace(line, sequence=f"{line.sequence}#{count}") if count else line)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """What a statement file held: its booked lines and what the bank totals say."""

    source: str
    format: str  # "coda", "camt.053", "camt.054", "camt.052"
    lines: tuple[StatementLine, ...]
