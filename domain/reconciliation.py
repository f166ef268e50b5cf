"""Who paid what: matching a bank line to open invoices, most certain first.

    +400.00 "+++000/0001/00131+++"            -> INV-1 by structured reference, 0.99
    +150.50 "Facture inv 2026/42, merci"      -> INV-2026-0042 by invoice number, 0.97
    +300.00 from BE71 0961 2345 6769          -> the one open 300.00 invoice of the
                                                 debtor who owns that IBAN, 0.93
    +120.00 from "DUPONT BOULANGERIE"         -> 120.00 open for "Boulangerie Dupont
                                                 SRL": 0.85, waits for staff
    -12.10 bank charges                       -> not a payment

Methods, in order of certainty:

1. a structured reference (OGM or RF with valid check digits) in the structured
   field, or typed in the text as ``+++…+++``, ``***…***`` or 12 plain digits;
2. an invoice number in the text, tolerant of spaces, a missing prefix, ``/`` for
   ``-`` and leading zeros;
3. the amount, from an IBAN known to belong to a debtor (one invoice, or the sum of
   all the debtor's open invoices);
4. the amount, from a counterparty whose name resembles a debtor's.

Each candidate carries a confidence in [0, 1] and a reason a person can read.  The
best candidate is applied when its confidence reaches the policy's threshold;
below it, the line waits for staff with its ranked candidates.  One payment may
settle several invoices (several references, or the sum of a debtor's invoices);
what it pays beyond them is an overpayment: a credit on the debtor, to be refunded
or set against a later invoice, never a negative open amount.

Pure: the invoices a line may concern are looked up by the caller (in batches,
with ``search_keys``) and handed over in an ``InvoiceIndex``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher
from enum import StrEnum
from typing import NamedTuple

from domain.allocation import Allocation, AllocationOrder, OpenItem, allocate
from domain.money import ZERO
from domain.reference import is_valid_rf
from domain.reference import normalise as _normalise_reference
from domain.statement import StatementLine

# --- finding references and invoice numbers in what payers type -------------------

_DELIMITED_OGM = re.compile(r"([+*]{3})\s*(\d{3})\s*/?\s*(\d{4})\s*/?\s*(\d{5})\s*\1")
_SLASHED_OGM = re.compile(r"(?<!\d)(\d{3})\s*/\s*(\d{4})\s*/\s*(\d{5})(?!\d)")
_PLAIN_OGM = re.compile(r"(?<![\d/])(\d{12})(?![\d/])")
_RF = re.compile(r"\bRF\s?\d{2}(?:\s?[0-9A-Z]){1,21}\b", re.IGNORECASE)
# An invoice number as people type it: an optional short letter prefix, then groups
# of digits separated by - / . or a space ("INV-2026-0042", "inv 2026/42", "F 123").
_NUMBER = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,6})?[\s#:.\-/]*(\d+(?:[\-/.\s]\d+){0,3})")
_RUNS = re.compile(r"[A-Za-z]+|\d+")
_LEGAL_FORMS = {
    *("sa", "nv", "srl", "sprl", "bv", "bvba", "cv", "scrl", "cvba", "vzw", "asbl", "sc"),
    *("gmbh", "ag", "ohg", "ltd", "llc", "inc", "sarl", "sas", "snc", "vof", "comm", "v"),
}
MIN_WEAK_DIGITS = 5  # a number without its prefix must have this many digits to count


def is_valid_ogm(digits: str) -> bool:
    """The OGM check: the first 10 digits mod 97 (97 when 0) are the last 2.

    Written out rather than ``stdnum.be.ogm_vcs.is_valid`` (which the tests use as
    the oracle): that call cleans and re-validates its text and costs 50 µs, and
    every 12-digit run of every statement line goes through here.
    """
    return (
        len(digits) == 12 and digits.isdigit() and (int(digits[:10]) % 97 or 97) == int(digits[10:])
    )


_OGM_CHARS = str.maketrans("", "", "+*/ .-")


def normalise_reference(text: str) -> str | None:
    """``domain.reference.normalise``, with the common case (an OGM) done here fast.

    "+++090/9337/55493+++" -> "090933755493";  "RF18 5390 0754 7034" -> "RF18539007547034"
    """
    compact = text.strip().translate(_OGM_CHARS)
    if len(compact) == 12 and compact.isdigit():
        return compact if is_valid_ogm(compact) else None
    if compact[:2].upper() != "RF":
        return None
    return _normalise_reference(text)


class FoundReference(NamedTuple):
    reference: str
    how: str  # "structured field", "+++ in the text", "12 digits in the text", "RF in the text"
    confidence: float  # when the amount agrees; less when it does not


def references_in(line: StatementLine) -> list[FoundReference]:
    """Every valid structured reference of a line, the structured field first."""
    found: dict[str, FoundReference] = {}
    if line.structured_reference:
        found[line.structured_reference] = FoundReference(
            line.structured_reference, "structured field", 0.99
        )
    for ref in references_in_text(line.free_text):
        found.setdefault(ref.reference, ref)
    return list(found.values())


def references_in_text(text: str) -> list[FoundReference]:
    found: dict[str, FoundReference] = {}
    if not text:
        return []
    for m in _DELIMITED_OGM.finditer(text):
        digits = "".join(m.groups()[1:])
        if is_valid_ogm(digits):
            found.setdefault(digits, FoundReference(digits, f"{m.group(1)} in the text", 0.98))
    for m in _SLASHED_OGM.finditer(text):
        digits = "".join(m.groups())
        if is_valid_ogm(digits):
            found.setdefault(digits, FoundReference(digits, "OGM in the text", 0.97))
    for m in _PLAIN_OGM.finditer(text):
        digits = m.group(1)
        if is_valid_ogm(digits):
            found.setdefault(digits, FoundReference(digits, "12 digits in the text", 0.96))
    for m in _RF.finditer(text):
        compact = re.sub(r"\s", "", m.group(0)).upper()
        if is_valid_rf(compact):
            found.setdefault(compact, FoundReference(compact, "RF in the text", 0.97))
    return list(found.values())


def typed_reference(text: str) -> str | None:
    """The structured reference a payer typed as free text, when it is unmistakable:
    the whole text is one, or it holds a ``+++…+++``/``***…***`` OGM, an OGM in its
    printed 3/4/5 slashed groups, or an RF (all with valid check digits).

    "+++090/9337/55493+++ merci" -> "090933755493";  "mededeling 090/9337/55493" ->
    "090933755493";  "invoice 090933755493" -> None (twelve bare digits among other
    words are left to the matching, less sure).
    """
    whole = normalise_reference(text) if text and len(text) <= 40 else None
    if whole:
        return whole
    for ref in references_in_text(text):
        if ref.how[:3] in ("+++", "***") or ref.how.startswith(("RF", "OGM")):
            return ref.reference
    return None


def number_key(number: str) -> str:
    """The strict key of an invoice number: letters and digit groups, leading zeros off.

    "INV-2026-0042", "inv 2026/42", "INV.2026.042" -> "INV|2026|42"
    """
    return "|".join(_run(r) for r in _RUNS.findall(number.upper()))


def weak_keys(number: str) -> set[str]:
    """Looser keys of an invoice number, for when the payer left out the prefix:
    the digit groups ("2026|42") and all digits run together ("20260042")."""
    runs = [r for r in _RUNS.findall(number) if r.isdigit()]
    if not runs:
        return set()
    keys = set()
    significant = "".join(r.lstrip("0") for r in runs)
    if len(significant) >= MIN_WEAK_DIGITS:
        keys.add("|".join(_run(r) for r in runs))
        keys.add("".join(runs).lstrip("0") or "0")
    return keys


def _run(run: str) -> str:
    return (run.lstrip("0") or "0") if run.isdigit() else run


class NumberMention(NamedTuple):
    strict: str  # number_key of what was typed, with its prefix
    weak: frozenset[str]


# Short words in front of a number that join or announce it rather than belong to
# it: "2026-00090, 2026-00091 en 2026-00092", "nr 2026-00078".  The number is also
# read without them (its strict key as the ledger's own would be).
_JOINING = frozenset({
    "EN", "ET", "AND", "UND", "OF", "OU", "OR", "Y", "E", "U", "MET", "MIT", "AVEC",
    "WITH", "PLUS", "DE", "DU", "VAN", "VON", "NR", "NO", "NUM", "N",
})  # fmt: skip


def numbers_in_text(text: str) -> list[NumberMention]:
    """What in a text could be an invoice number: every run of digit groups, with
    and without the letters in front, and each shorter run inside it."""
    mentions: list[NumberMention] = []
    seen: set[str] = set()
    for m in _NUMBER.finditer(text or ""):
        prefix = (m.group(1) or "").upper()
        groups = re.split(r"[\-/.\s]", m.group(2))
        heads = (prefix, "") if prefix in _JOINING else (prefix,)
        for start in range(len(groups)):
            for end in range(start + 1, len(groups) + 1):
                part = groups[start:end]
                for head in heads if start == 0 else ("",):
                    strict = "|".join(filter(None, [head, *(_run(g) for g in part)]))
                    if strict in seen:
                        continue
                    seen.add(strict)
                    weak = frozenset(weak_keys("-".join(part)))
                    mentions.append(NumberMention(strict, weak))
    return mentions


def normalise_name(name: str) -> str:
    """Lower case, no accents, no punctuation, no legal form: "Dupont S.R.L." -> "dupont"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", plain.replace(".", ""))
    return " ".join(w for w in words if w not in _LEGAL_FORMS)


def default_similarity(a: str, b: str) -> float:
    """0-100, word order ignored (the adapters pass rapidfuzz's token_set_ratio)."""
    left, right = " ".join(sorted(a.split())), " ".join(sorted(b.split()))
    return 100.0 * SequenceMatcher(None, left, right).ratio()


# --- what the caller looks up and hands over --------------------------------------


class OpenInvoice(NamedTuple):
    """An invoice as matching sees it.  A named tuple, not a frozen dataclass, for
    the same immutability at a third of the cost: an import of 200,000 lines makes
    400,000 of them."""

    id: int
    number: str
    debtor_id: int
    debtor_name: str
    structured_reference: str
    amount: Decimal
    open_amount: Decimal
    due_date: date
    issue_date: date
    currency: str = "EUR"
    debtor_code: str = ""

    def paid(self, amount: Decimal) -> OpenInvoice:
        """The same invoice once ``amount`` more is allocated to it."""
        # ``_replace`` goes through a dict of every field: 4 times slower, and an
        # import makes one of these for every allocation.
        return tuple.__new__(OpenInvoice, (*self[:6], self.open_amount - amount, *self[7:]))


class SearchKeys(NamedTuple):
    """What to look up for one line (the caller batches these over many lines).

    Named tuples, like ``FoundReference`` and ``NumberMention``: a large import
    computes them in its reading process and sends them over a pipe, where a
    tuple pickles several times faster than a dataclass.
    """

    found: tuple[FoundReference, ...]
    mentions: tuple[NumberMention, ...]
    iban: str | None

    @property
    def references(self) -> frozenset[str]:
        return frozenset(r.reference for r in self.found)

    @property
    def strict_numbers(self) -> frozenset[str]:
        return frozenset(m.strict for m in self.mentions)

    @property
    def weak_numbers(self) -> frozenset[str]:
        return frozenset(k for m in self.mentions for k in m.weak)


def search_keys(line: StatementLine) -> SearchKeys:
    found = references_in(line)
    text = line.free_text
    if found and text:
        # The digits of a reference are not an invoice number as well.
        text = _SLASHED_OGM.sub(" ", _DELIMITED_OGM.sub(" ", _RF.sub(" ", text)))
        for ref in found:
            text = text.replace(ref.reference, " ")
    return SearchKeys(
        found=tuple(found),
        mentions=tuple(numbers_in_text(text)),
        iban=(line.counterparty_iban or "").replace(" ", "").upper() or None,
    )


class NotLoaded(LookupError):
    """A partial ``InvoiceIndex`` lacks what a line needs: ``kind`` "debtor" (every
    open invoice of debtor ``key``), "amount" (every invoice open for ``key``) or
    "iban" (the debtors of IBAN ``key``).
    The caller loads it and decides the line again (``match_line`` is pure)."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key} not loaded")
        self.kind = kind
        self.key = key


@dataclass
class InvoiceIndex:
    """The invoices and debtor IBANs a batch of lines may concern.

    Tables hold invoice ids; ``invoices`` holds each invoice as it is now, so
    applying a line (``update``) is seen by the next line of the same batch.

    A ``partial`` index (the bank import's) says what it was not given: asked
    for the open invoices of a debtor or an amount it was not given, it raises
    ``NotLoaded``.  For a debtor it may hold only a summary (``summarise_debtor``:
    how many invoices are open, their total, and those open for the amounts of
    the lines), which most lines paying from a known IBAN need, instead of every
    open invoice.  Otherwise what was not given is taken to be nothing.
    """

    invoices: dict[int, OpenInvoice] = field(default_factory=dict)
    by_reference: dict[str, list[int]] = field(default_factory=dict)
    by_strict_number: dict[str, list[int]] = field(default_factory=dict)
    by_weak_number: dict[str, list[int]] = field(default_factory=dict)
    debtors_by_iban: dict[str, set[int]] = field(default_factory=dict)
    open_by_debtor: dict[int, list[int]] = field(default_factory=dict)
    open_by_amount: dict[Decimal, list[int]] = field(default_factory=dict)
    not_payable: set[int] = field(default_factory=set)  # written off: never by amount
    _numbered: set[int] = field(default_factory=set)
    _watched_amounts: set[Decimal] = field(default_factory=set)
    # Invoices whose open amount ``update`` changed, by the amount it became (some
    # may have changed again since): a statement read in parts watches new
    # amounts after earlier parts were applied.
    _changed_to: dict[Decimal, set[int]] = field(default_factory=dict)
    partial: bool = False
    _complete_debtors: set[int] = field(default_factory=set)  # partial: every open invoice given
    # Partial: debtor -> (open invoices, their total) as the database holds them,
    # and the invoices open for (debtor, amount) pairs.
    _summaries: dict[int, tuple[int, Decimal]] = field(default_factory=dict)
    _pairs: dict[tuple[int, Decimal], list[int]] = field(default_factory=dict)
    _original: dict[int, Decimal] = field(default_factory=dict)  # open amount before update
    _changed_of: dict[int, set[int]] = field(default_factory=dict)  # debtor -> updated invoices
    _ibans: set[str] = field(default_factory=set)  # partial: looked up, with or without debtor

    def add(self, invoice: OpenInvoice) -> None:
        """Index an invoice under its structured reference (open or not)."""
        if invoice.id in self.invoices:
            return
        self.invoices[invoice.id] = invoice
        if invoice.structured_reference:
            self.by_reference.setdefault(invoice.structured_reference, []).append(invoice.id)

    def add_numbered(self, invoice: OpenInvoice) -> None:
        """Index an invoice under its number too (found by the number keys of a line)."""
        known = invoice.id in self.invoices
        self.add(invoice)
        if known and invoice.id in self._numbered:
            return
        self._numbered.add(invoice.id)
        self.by_strict_number.setdefault(number_key(invoice.number), []).append(invoice.id)
        for key in weak_keys(invoice.number):
            self.by_weak_number.setdefault(key, []).append(invoice.id)

    def add_debtor_open(self, invoice: OpenInvoice) -> None:
        """Index an open invoice under its debtor: give *every* open invoice of a
        debtor whose IBAN is indexed, or the sums by debtor would be wrong (a
        partial index is told with ``complete_debtor`` once they are all given)."""
        self.add(invoice)
        if invoice.open_amount > 0:
            ids = self.open_by_debtor.setdefault(invoice.debtor_id, [])
            if invoice.id not in ids:
                ids.append(invoice.id)

    def complete_debtor(self, debtor_id: int) -> None:
        """Every open invoice of the debtor was given (``add_debtor_open``)."""
        self._complete_debtors.add(debtor_id)
        self._summaries.pop(debtor_id, None)

    def summarise_debtor(self, debtor_id: int, count: int, total: Decimal) -> None:
        """How many invoices of the debtor the database holds open, and their total."""
        if debtor_id not in self._complete_debtors:
            self._summaries[debtor_id] = (count, total)

    def add_debtor_amount(
        self, debtor_id: int, amount: Decimal, invoices: Iterable[OpenInvoice]
    ) -> None:
        """Every invoice of the debtor the database holds open for ``amount``."""
        ids = self._pairs.setdefault((debtor_id, amount), [])
        for invoice in invoices:
            self.add(invoice)
            if invoice.id not in ids:
                ids.append(invoice.id)

    def add_amount_open(self, invoice: OpenInvoice) -> None:
        """Index an open invoice under its open amount (for name + amount)."""
        self.add(invoice)
        if invoice.open_amount > 0:
            ids = self.open_by_amount.setdefault(invoice.open_amount, [])
            if invoice.id not in ids:
                ids.append(invoice.id)

    def add_iban(self, iban: str, debtor_id: int) -> None:
        self.debtors_by_iban.setdefault(compact_iban(iban), set()).add(debtor_id)

    def looked_up_ibans(self, ibans: Iterable[str]) -> None:
        """Partial: every debtor of these IBANs was given (``add_iban``), if any."""
        self._ibans.update(compact_iban(i) for i in ibans)

    def debtors_of_iban(self, iban: str | None) -> set[int]:
        key = compact_iban(iban or "")
        found = self.debtors_by_iban.get(key)
        if found is None and self.partial and key and key not in self._ibans:
            raise NotLoaded("iban", key)
        return found or set()

    def watch_amounts(self, amounts: Iterable[Decimal]) -> None:
        """Say that every open invoice of these amounts was given (``add_amount_open``)
        as the database holds it: an invoice a line leaves open for one of them,
        before or after, is then found by it too."""
        for amount in amounts:
            if amount in self._watched_amounts:
                continue
            self._watched_amounts.add(amount)
            for invoice_id in self._changed_to.get(amount, ()):
                if (invoice := self.invoices[invoice_id]).open_amount == amount:
                    self._open_for(invoice)

    def update(self, invoice: OpenInvoice) -> None:
        """After a line was applied: later lines see the new open amount."""
        if invoice.id not in self._original:
            self._original[invoice.id] = self.invoices[invoice.id].open_amount
            self._changed_of.setdefault(invoice.debtor_id, set()).add(invoice.id)
        self.invoices[invoice.id] = invoice
        self._changed_to.setdefault(invoice.open_amount, set()).add(invoice.id)
        if invoice.open_amount in self._watched_amounts:
            self._open_for(invoice)

    def _open_for(self, invoice: OpenInvoice) -> None:
        amount = invoice.open_amount
        if amount > 0 and invoice.id not in self.not_payable:
            ids = self.open_by_amount.setdefault(amount, [])
            if invoice.id not in ids:
                ids.append(invoice.id)

    def _get(self, ids: Iterable[int]) -> list[OpenInvoice]:
        return [self.invoices[i] for i in ids]

    def with_reference(self, reference: str) -> list[OpenInvoice]:
        return self._get(self.by_reference.get(reference, ()))

    def with_strict_number(self, key: str) -> list[OpenInvoice]:
        return self._get(self.by_strict_number.get(key, ()))

    def with_weak_number(self, key: str) -> list[OpenInvoice]:
        return self._get(self.by_weak_number.get(key, ()))

    def open_of_debtor(self, debtor_id: int) -> list[OpenInvoice]:
        """The debtor's open invoices, by invoice id."""
        if self.partial and debtor_id not in self._complete_debtors:
            raise NotLoaded("debtor", debtor_id)
        found = self._get(self.open_by_debtor.get(debtor_id, ()))
        return sorted((i for i in found if i.open_amount > 0), key=_by_id)

    def debtor_open_summary(self, debtor_id: int) -> tuple[int, Decimal]:
        """(how many invoices of the debtor are open, their total), now."""
        summary = self._summaries.get(debtor_id)
        if summary is None:
            items = self.open_of_debtor(debtor_id)
            return len(items), _open_total(items)
        count, total = summary
        for invoice_id in self._changed_of.get(debtor_id, ()):
            before, now = self._original[invoice_id], self.invoices[invoice_id].open_amount
            if before > 0 and invoice_id not in self.not_payable:  # counted in the summary
                total += now - before
                count -= now <= 0
        return count, total

    def open_of_debtor_for(self, debtor_id: int, amount: Decimal) -> list[OpenInvoice]:
        """The debtor's invoices open for exactly ``amount``, by invoice id."""
        if debtor_id not in self._summaries:
            return [i for i in self.open_of_debtor(debtor_id) if i.open_amount == amount]
        given = self._pairs.get((debtor_id, amount))
        if given is None:
            raise NotLoaded("debtor", debtor_id)
        found = {
            i.id: i
            for i in self._get((*given, *self._changed_of.get(debtor_id, ())))
            if i.open_amount == amount and i.id not in self.not_payable
        }
        return sorted(found.values(), key=_by_id)

    def open_for_amount(self, amount: Decimal) -> list[OpenInvoice]:
        if self.partial and amount not in self._watched_amounts:
            raise NotLoaded("amount", amount)
        found = self._get(self.open_by_amount.get(amount, ()))
        return [i for i in found if i.open_amount == amount]


def _by_id(invoice: OpenInvoice) -> int:
    return invoice.id


def compact_iban(iban: str) -> str:
    """ "be68 5390 0754 7034" -> "BE68539007547034": how IBANs are compared."""
    return iban.replace(" ", "").upper()


# --- the decision -----------------------------------------------------------------


class Method(StrEnum):
    STRUCTURED_REFERENCE = "structured_reference"
    INVOICE_NUMBER = "invoice_number"
    IBAN_AMOUNT = "iban_amount"
    NAME_AMOUNT = "name_amount"


class Outcome(StrEnum):
    MATCHED = "matched"  # applied; every invoice it touched is paid
    PARTIALLY_MATCHED = "partially_matched"  # applied; an invoice stays partly open
    TO_REVIEW = "to_review"  # waits for staff with its candidates
    NOT_A_PAYMENT = "not_a_payment"  # a debit, or nothing to match


@dataclass(frozen=True, slots=True)
class Policy:
    threshold: float = 0.9
    order: AllocationOrder = AllocationOrder.OLDEST_FIRST
    name_similarity: float = 88.0  # 0-100
    max_candidates: int = 5


@dataclass(frozen=True, slots=True)
class Candidate:
    invoices: tuple[OpenInvoice, ...]
    confidence: float
    method: Method
    reason: str

    @property
    def debtor_ids(self) -> frozenset[int]:
        return frozenset(i.debtor_id for i in self.invoices)


@dataclass(frozen=True, slots=True)
class Match:
    outcome: Outcome
    candidates: tuple[Candidate, ...]  # best first
    chosen: Candidate | None
    allocations: tuple[Allocation, ...] = ()  # key = str(invoice id)
    overpayment: Decimal = ZERO
    note: str = ""  # why a line is not matched at all, when that needs saying

    @property
    def confidence(self) -> float:
        best = self.chosen or (self.candidates[0] if self.candidates else None)
        return best.confidence if best else 0.0

    @property
    def reason(self) -> str:
        best = self.chosen or (self.candidates[0] if self.candidates else None)
        if best:
            return best.reason
        return self.note or "no reference, invoice number, known IBAN or name"


Similarity = Callable[[str, str], float]


def match_line(
    line: StatementLine,
    index: InvoiceIndex,
    policy: Policy,
    today: date,
    similarity: Similarity = default_similarity,
    keys: SearchKeys | None = None,
) -> Match:
    """Decide what a bank line pays (see the module docstring).

    ``keys`` are the line's ``search_keys`` when the caller computed them already.
    """
    if line.amount <= 0:
        return Match(Outcome.NOT_A_PAYMENT, (), None)
    if line.reversal:
        # Money back from one of our own payments (a refund the bank returned): it
        # pays no invoice, and only a person knows what it undoes.
        return Match(Outcome.TO_REVIEW, (), None, note="the bank returned one of our payments")
    candidates = _candidates(line, keys or search_keys(line), index, policy, similarity)
    candidates = _rank(candidates)[: policy.max_candidates]
    best = candidates[0] if candidates else None
    if best is None or best.confidence < policy.threshold:
        return Match(Outcome.TO_REVIEW, tuple(candidates), None)
    if len(best.invoices) == 1:  # the common case, as ``allocate`` would do it
        invoice = best.invoices[0]
        if invoice.open_amount <= 0:
            return Match(Outcome.MATCHED, tuple(candidates), best, (), line.amount)
        part = min(line.amount, invoice.open_amount)
        outcome = Outcome.PARTIALLY_MATCHED if invoice.open_amount > part else Outcome.MATCHED
        allocations = (Allocation(str(invoice.id), part),)
        return Match(outcome, tuple(candidates), best, allocations, line.amount - part)
    items = [
        OpenItem(str(i.id), i.open_amount, i.due_date, i.issue_date)
        for i in best.invoices
        if i.open_amount > 0
    ]
    result = allocate(line.amount, items, policy.order, today)
    paid = {a.key: a.amount for a in result.allocations}
    partial = any(i.open_amount > paid.get(str(i.id), ZERO) for i in best.invoices)
    outcome = Outcome.PARTIALLY_MATCHED if partial else Outcome.MATCHED
    return Match(outcome, tuple(candidates), best, result.allocations, result.overpayment)


def _rank(candidates: list[Candidate]) -> list[Candidate]:
    if len(candidates) < 2:  # the common case: one answer, nothing to rank
        return candidates
    unique: dict[tuple[int, ...], Candidate] = {}
    for c in candidates:
        key = tuple(sorted(i.id for i in c.invoices))
        if key not in unique or unique[key].confidence < c.confidence:
            unique[key] = c
    ranked = sorted(
        unique.values(), key=lambda c: (-c.confidence, min(i.due_date for i in c.invoices))
    )
    # Two different answers nearly as good as each other: let a person choose.
    close = len(ranked) > 1 and ranked[1].confidence >= ranked[0].confidence - 0.02
    if close and (not ranked[0].debtor_ids & ranked[1].debtor_ids or ranked[1].confidence >= 0.9):
        ranked[0] = _doubt(ranked[0], "another candidate is as likely")
    return ranked


def _doubt(candidate: Candidate, why: str, cap: float = 0.8) -> Candidate:
    return Candidate(
        candidate.invoices,
        min(candidate.confidence, cap),
        candidate.method,
        f"{candidate.reason}; {why}",
    )


def _open_total(invoices: Sequence[OpenInvoice]) -> Decimal:
    return sum((i.open_amount for i in invoices), ZERO)


def _amount_note(amount: Decimal, invoices: Sequence[OpenInvoice]) -> tuple[str, bool]:
    open_total = _open_total(invoices)
    if amount == open_total:
        return "the amount equals what is open", True
    if amount < open_total:
        return f"pays {amount} of {open_total} open", False
    return f"pays {amount - open_total} more than the {open_total} open", False


def _candidates(
    line: StatementLine,
    keys: SearchKeys,
    index: InvoiceIndex,
    policy: Policy,
    similarity: Similarity,
) -> list[Candidate]:
    out: list[Candidate] = []
    amount = line.amount

    # 1. structured references
    refs = keys.found
    by_ref: list[tuple[FoundReference, OpenInvoice]] = []
    for ref in refs:
        for invoice in index.with_reference(ref.reference):
            by_ref.append((ref, invoice))
    if by_ref:
        invoices = [by_ref[0][1]] if len(by_ref) == 1 else _unique(i for _, i in by_ref)
        note, exact = _amount_note(amount, invoices)
        confidence = min(r.confidence for r, _ in by_ref) - (0.0 if exact else 0.03)
        hows = ", ".join(sorted({r.how for r, _ in by_ref}))
        what = ", ".join(f"{i.structured_reference} of {i.number}" for i in invoices)
        candidate = Candidate(
            tuple(invoices),
            confidence,
            Method.STRUCTURED_REFERENCE,
            f"structured reference {what} ({hows}); {note}",
        )
        out.append(_check(candidate, line))
        if (one := _the_one_for(amount, invoices)) is not None:
            mine = [r for r, i in by_ref if i.id == one.id]
            out.append(
                Candidate(
                    (one,),
                    min(r.confidence for r in mine),
                    Method.STRUCTURED_REFERENCE,
                    f"structured reference {one.structured_reference} of {one.number} "
                    f"({', '.join(sorted({r.how for r in mine}))}); of the "
                    f"{len(invoices)} invoices named, the one open for exactly {amount}",
                )
            )

    # 2. invoice numbers
    mentions = keys.mentions
    strict = _unique(i for m in mentions for i in index.with_strict_number(m.strict))
    weak = _unique(
        i for m in mentions for k in m.weak for i in index.with_weak_number(k) if i not in strict
    )
    if strict:
        note, exact = _amount_note(amount, strict)
        numbers = ", ".join(i.number for i in strict)
        confidence = 0.97 if exact else 0.9
        if amount > 2 * sum((i.amount for i in strict), ZERO):
            # 605.00 naming an invoice of 121.00: the line pays for more than it
            # names (or names the wrong invoice); a person should see it.
            confidence, note = 0.8, f"{note}, more than twice the invoice's amount"
        candidate = Candidate(
            tuple(strict),
            confidence,
            Method.INVOICE_NUMBER,
            f"invoice number {numbers} in the text; {note}",
        )
        out.append(_check(candidate, line))
        if (one := _the_one_for(amount, strict)) is not None:
            out.append(
                Candidate(
                    (one,),
                    0.97,
                    Method.INVOICE_NUMBER,
                    f"invoice number {one.number} in the text; of the {len(strict)} invoices "
                    f"named, the one open for exactly {amount}",
                )
            )
    if weak and not strict:
        for group in _by_debtor(weak):
            note, exact = _amount_note(amount, group)
            numbers = ", ".join(i.number for i in group)
            candidate = Candidate(
                tuple(group),
                0.95 if exact else 0.75,
                Method.INVOICE_NUMBER,
                f"invoice number {numbers} written without its prefix; {note}",
            )
            out.append(_check(candidate, line))

    # Most certain first: once a line is explained well enough to apply, amounts
    # (which only ever make a weaker candidate) have nothing to add, unless the
    # amount is not what the named invoices have open and the payer's IBAN is
    # known: then the payer may say otherwise (``_weigh_the_payer``).
    named = [c for c in out if c.confidence >= policy.threshold]
    if named and (
        not line.counterparty_iban or all(_open_total(c.invoices) == amount for c in named)
    ):
        return out
    # Named for another amount, and likely enough to weigh (applied, or only kept
    # from it by paying more than twice the invoice's amount).
    contested = [c for c in out if c.confidence >= 0.8 and _open_total(c.invoices) != amount]

    # 3. a known IBAN and the amount
    debtors = index.debtors_of_iban(line.counterparty_iban)
    for debtor_id in sorted(debtors):
        count, total = index.debtor_open_summary(debtor_id)
        if not count:
            continue
        shared = " (the IBAN is shared by several debtors)" if len(debtors) > 1 else ""
        cap = 0.85 if shared else 1.0
        same = index.open_of_debtor_for(debtor_id, amount)
        if len(same) == 1:
            out.append(
                Candidate(
                    (same[0],),
                    min(cap, 0.93),
                    Method.IBAN_AMOUNT,
                    f"IBAN {line.counterparty_iban} belongs to the debtor{shared}; "
                    f"{same[0].number} is the one invoice open for {amount}",
                )
            )
        elif len(same) > 1:
            for invoice in same:
                out.append(
                    Candidate(
                        (invoice,),
                        0.8,
                        Method.IBAN_AMOUNT,
                        f"IBAN {line.counterparty_iban} belongs to the debtor{shared}; "
                        f"{len(same)} invoices are open for {amount}",
                    )
                )
        elif count > 1 and total == amount:
            open_items = index.open_of_debtor(debtor_id)
            out.append(
                Candidate(
                    tuple(open_items),
                    min(cap, 0.92),
                    Method.IBAN_AMOUNT,
                    f"IBAN {line.counterparty_iban} belongs to the debtor{shared}; "
                    f"the amount equals the sum of its {len(open_items)} open invoices",
                )
            )
        else:
            out.append(
                Candidate(
                    tuple(index.open_of_debtor(debtor_id)),
                    0.5,
                    Method.IBAN_AMOUNT,
                    f"IBAN {line.counterparty_iban} belongs to the debtor{shared}; "
                    f"no open invoice or sum of them equals {amount}",
                )
            )

    if contested and debtors:
        out = _weigh_the_payer(out, contested, debtors, amount)
    if named or any(c.confidence >= policy.threshold for c in out):
        return out

    # 4. a similar name and the amount
    name = normalise_name(line.counterparty_name)
    if name:
        same_amount = index.open_for_amount(amount)
        scored = [
            (similarity(name, normalise_name(i.debtor_name)), i)
            for i in same_amount
            if i.currency == line.currency
        ]
        close = [(s, i) for s, i in scored if s >= policy.name_similarity]
        for score, invoice in close:
            confidence = 0.85 if len(close) == 1 else 0.7
            out.append(
                Candidate(
                    (invoice,),
                    confidence,
                    Method.NAME_AMOUNT,
                    f"{line.counterparty_name!r} resembles {invoice.debtor_name!r} "
                    f"({score:.0f}%) and {invoice.number} is open for {amount}",
                )
            )
    return out


def _the_one_for(amount: Decimal, invoices: Sequence[OpenInvoice]) -> OpenInvoice | None:
    """Of several invoices a line names, for another amount than their total, the
    one open for exactly the amount ("INV-0042 INV-0043" with what 0043 has open)."""
    if len(invoices) < 2 or _open_total(invoices) == amount:
        return None
    exact = [i for i in invoices if i.open_amount == amount]
    return exact[0] if len(exact) == 1 else None


def _weigh_the_payer(
    out: list[Candidate], named: list[Candidate], debtors: set[int], amount: Decimal
) -> list[Candidate]:
    """A reference or number names invoices open for another amount than the line
    pays, from a known IBAN: where the payer's IBAN tells another story, the line
    waits for staff rather than pay the wrong invoice (found by a blind probe).

    - the IBAN is another debtor's: "605.00 from Lambert's IBAN, 'INV-2026-0071'",
      Schmitz's invoice open for 121.00;
    - another invoice of the payer is open for exactly the amount: the reference
      of INV-0080 (726.00 open), 1,089.00 paid, INV-0081 open for 1,089.00.
    """
    doubted: dict[int, str] = {}
    for candidate in named:
        if debtors and not candidate.debtor_ids & debtors:
            doubted[id(candidate)] = "paid from the IBAN of another debtor, for another amount"
    exact = [
        c
        for c in out
        if c.method is Method.IBAN_AMOUNT
        and c.confidence >= 0.8
        and _open_total(c.invoices) == amount
        and all({i.id for i in c.invoices} != {i.id for i in n.invoices} for n in named)
    ]
    for candidate in exact:
        doubted[id(candidate)] = "the line's reference or number names another invoice"
        for other in named:
            doubted.setdefault(
                id(other), "another invoice of the payer is open for exactly this amount"
            )
    return [_doubt(c, doubted[id(c)]) if id(c) in doubted else c for c in out]


def _check(candidate: Candidate, line: StatementLine) -> Candidate:
    """Lower a candidate that pays invoices of several debtors or another currency."""
    if any(i.currency != line.currency for i in candidate.invoices):
        return _doubt(candidate, f"an invoice is not in {line.currency}", cap=0.5)
    if len(candidate.invoices) > 1 and len(candidate.debtor_ids) > 1:
        return _doubt(candidate, "the invoices belong to different debtors", cap=0.7)
    return candidate


def _unique(invoices: Iterable[OpenInvoice]) -> list[OpenInvoice]:
    seen: dict[int, OpenInvoice] = {}
    for invoice in invoices:
        seen.setdefault(invoice.id, invoice)
    return list(seen.values())


def _by_debtor(invoices: Sequence[OpenInvoice]) -> list[list[OpenInvoice]]:
    groups: dict[int, list[OpenInvoice]] = {}
    for invoice in invoices:
        groups.setdefault(invoice.debtor_id, []).append(invoice)
    return list(groups.values())
