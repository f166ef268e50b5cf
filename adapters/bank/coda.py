"""Belgian CODA 2.x statements (Febelfin "Coded statement of account").

    0…  header (version code "2" in position 128)
    1…  old balance: the account (structure 0-3) and its currency
    21… 22… 23…  a movement and its continuation records
    31… 32… 33…  information on the movement (name and address of the payer, …)
    4…  free communication
    8…  new balance
    9…  trailer: number of records, total debits and credits

Every record is 128 characters; positions below are 0-based slices of the
1-based positions in FACTS.md §1.2.  Several statements may follow each other in
one file.

A movement globalised by the customer or the bank (transaction type 1, 2 or 3)
carries its total on the main record and the individual amounts on detail records
(types 5-8; 9 details a 7).  Each payment is counted once: the details replace
their total when they add up to it with its sign (so each debtor's payment can be
matched), otherwise the total stands alone; the lines' debit and credit totals are
then always the trailer's.

Why not ``febelfin-coda`` (BSD, the Tryton parser, installed): we read it and use
it as a cross-check in the tests, but it checks the file with ``assert`` (gone
under ``python -O``) and its errors do not say which line is wrong; type-9 details
end in ``parent.append`` (an AttributeError), RF references of type 100 are left
unparsed and information records are not tied to their movement.  A statement
that will be fed from any Belgian bank needs a parser that names the line it
refuses, so this one is ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise

from stdnum import iban as std_iban

from adapters.bank import StatementError
from domain.money import to_cents
from domain.reconciliation import normalise_reference, typed_reference
from domain.statement import StatementLine

RECORD_LENGTH = 128
# Records whose position 128 always holds a code: the version (0), the paper
# statement's number (1), the link code of a movement (2.x), the multiple-file
# code (9).  Stripping trailing blanks cannot shorten them, so a short one lost a
# character on the way and every field after the gap is shifted: refused, where
# a short 3.x, 4 or 8 (which real banks end with a blank) is padded back.
_CODED_END = "0129"
_RF = re.compile(r"RF\d{2}[0-9A-Z ]{1,30}")
_SPACES = re.compile(r"\s+")
_ISO_REASON = re.compile(r"[A-Z]{2}[0-9A-Z]{2}")


def looks_like_coda(data: bytes) -> bool:
    """The first record is a CODA header: ``0`` + ``0000``, a date and ``05``."""
    head = data.lstrip(b"\xef\xbb\xbf")[:16]
    return (
        len(head) == 16 and head[:5] == b"00000" and head[5:14].isdigit() and head[14:16] == b"05"
    )


@dataclass
class _Movement:
    line_no: int
    sequence: str
    detail: str
    bank_reference: str
    amount: Decimal
    value_date: date | None
    booking_date: date
    transaction_code: str
    structured: bool
    communication: str  # raw, concatenated from 2.1, 2.2 and 2.3
    counterparty_account: str = ""
    counterparty_name: str = ""
    counterparty_bic: str = ""
    customer_reference: str = ""
    r_transaction: str = ""
    information: list[str] = field(default_factory=list)
    info_name: str = ""
    info_structured: bool = False  # the last 3.1 was structured: 3.2/3.3 continue it
    details: list[_Movement] = field(default_factory=list)

    @property
    def transaction_type(self) -> str:
        return self.transaction_code[:1]


@dataclass
class _Statement:
    header_line: int
    account: str = ""
    currency: str = ""
    number: str = ""
    old_balance: Decimal = Decimal(0)
    new_balance: Decimal | None = None
    new_balance_line: int = 0
    movements: list[_Movement] = field(default_factory=list)
    records: int = 0
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.line_no = 0

    def fail(self, reason: str, line_no: int | None = None) -> StatementError:
        return StatementError(self.source, f"line {line_no or self.line_no}", reason)

    def date(self, text: str, what: str, optional: bool = False) -> date | None:
        if optional and text.strip("0 ") == "":
            return None
        if not text.isdigit():
            raise self.fail(f"{what} is not a date DDMMYY: {text!r}")
        try:
            return date(2000 + int(text[4:6]), int(text[2:4]), int(text[0:2]))
        except ValueError:
            raise self.fail(f"{what} is not a date DDMMYY: {text!r}") from None

    def required_date(self, text: str, what: str) -> date:
        value = self.date(text, what)
        assert value is not None  # only optional dates can be None
        return value

    def amount(self, sign: str, digits: str, what: str) -> Decimal:
        if sign not in "01" or not digits.isdigit():
            raise self.fail(f"{what} is not a signed CODA amount: {sign + digits!r}")
        # 3 implied decimals; banks write 0 in the third for EUR. Amounts are kept in
        # cents, so a third decimal is refused rather than rounded away.
        if digits[-1] != "0":
            raise self.fail(
                f"{what} has a third decimal: {sign + digits!r} (amounts are kept in cents)"
            )
        value = to_cents(Decimal(int(digits)).scaleb(-3))
        return -value if sign == "1" else value


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _account(structure: str, field_: str) -> tuple[str, str]:
    """(account, currency) of record 1 positions 6-42 by its structure code."""
    if structure == "0":  # Belgian BBAN: 12 digits, blank, currency
        bban = field_[0:12]
        if not _valid_bban(bban):
            return bban.strip(), field_[13:16]  # as written: no IBAN made up around it
        check = std_iban.calc_check_digits(f"BE00{bban}")
        return f"BE{check}{bban}", field_[13:16]
    if structure == "2":  # Belgian IBAN
        return field_[0:16].strip(), field_[34:37]
    return field_[0:34].strip().replace(" ", ""), field_[34:37]  # foreign BBAN / IBAN


def _valid_bban(bban: str) -> bool:
    """A Belgian account number: 10 digits and their remainder modulo 97 (97 for 0)."""
    return len(bban) == 12 and bban.isdigit() and int(bban[:10]) % 97 == int(bban[10:]) % 97


def _counterparty_iban(text: str) -> str | None:
    """The counterparty account of record 2.3 as an IBAN, when it is one."""
    compact = text[:34].strip().split(" ")[0].upper() if text.strip() else ""
    if not compact:
        return None
    if compact.isdigit() and len(compact) == 12:  # a Belgian BBAN
        if not _valid_bban(compact):
            return None  # its own check digits fail: no IBAN made up around it
        compact = f"BE{std_iban.calc_check_digits(f'BE00{compact}')}{compact}"
    return compact if std_iban.is_valid(compact) else None


def _decode(data: bytes) -> str:
    """CODA is windows-1252; a file some tool re-saved as UTF-8 is read as UTF-8.

    Records are 128 characters, not bytes: read as windows-1252, an accented name
    in UTF-8 would be two characters and push the record past 128.  Text with
    accents in windows-1252 is (nearly) never valid UTF-8, so trying UTF-8 first
    cannot misread a genuine file.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", errors="replace")


def parse_coda(data: bytes, source: str = "statement.cod") -> list[StatementLine]:
    """Every booked movement of every statement in a CODA file, in file order."""
    reader = _Reader(source)
    text = _decode(data).lstrip("\ufeff")
    statements: list[_Statement] = []
    current: _Statement | None = None
    last: _Movement | None = None
    saw_trailer = True
    for reader.line_no, raw in enumerate(text.splitlines(), start=1):
        record = raw.rstrip("\r\n\x1a")
        if not record.strip():
            continue
        if len(record) > RECORD_LENGTH:
            if record[RECORD_LENGTH:].strip():
                raise reader.fail(f"a CODA record has 128 characters, this one {len(record)}")
            record = record[:RECORD_LENGTH]  # blanks padded after the record by a tool
        if len(record) < RECORD_LENGTH and record[0] in _CODED_END:
            raise reader.fail(f"a CODA record has 128 characters, this one {len(record)}")
        # Mail clients and editors strip trailing blanks; a record is fixed-width and
        # its last fields may be blank, so put them back.
        record = record.ljust(RECORD_LENGTH)
        kind = record[0]
        if kind == "0":
            if not saw_trailer:
                raise reader.fail("a new statement starts before the trailer (9) of the last one")
            if record[1:5] != "0000" or record[14:16] != "05":
                raise reader.fail("not a CODA header record (0)")
            if record[127] != "2":
                raise reader.fail(
                    f"version code {record[127]!r} in position 128: only CODA 2.x ('2') is read"
                )
            reader.date(record[5:11], "creation date")
            current = _Statement(header_line=reader.line_no)
            statements.append(current)
            saw_trailer, last = False, None
            continue
        if current is None or saw_trailer:
            raise reader.fail(f"record {kind!r} before the header record (0)")
        if kind in "1238":
            current.records += 1
        if kind == "1":
            structure = record[1]
            if structure not in "0123":
                raise reader.fail(f"account structure {structure!r} is not 0, 1, 2 or 3")
            current.account, current.currency = _account(structure, record[5:42])
            if not current.account:
                raise reader.fail("no account number in the old balance record (1)")
            current.number = record[2:5]
            current.old_balance = reader.amount(record[42], record[43:58], "old balance")
        elif kind == "2":
            last = _movement_record(reader, current, record, last)
        elif kind == "3":
            _information_record(reader, current, record)
        elif kind == "4":
            continue
        elif kind == "8":
            current.new_balance = reader.amount(record[41], record[42:57], "new balance")
            current.new_balance_line = reader.line_no
        elif kind == "9":
            _check_trailer(reader, current, record)
            saw_trailer = True
        else:
            raise reader.fail(f"unknown record type {kind!r}")
    if not statements:
        raise StatementError(source, "line 1", "no CODA header record (0)")
    if not saw_trailer:
        raise reader.fail("the file ends without a trailer record (9)")
    lines: list[StatementLine] = []
    for statement in statements:
        lines.extend(_lines(source, statement))
    return lines


def _movement_record(
    reader: _Reader, statement: _Statement, record: str, last: _Movement | None
) -> _Movement:
    article = record[1]
    sequence, detail = record[2:6], record[6:10]
    if article == "1":
        movement = _Movement(
            line_no=reader.line_no,
            sequence=sequence,
            detail=detail,
            bank_reference=record[10:31].strip(),
            amount=reader.amount(record[31], record[32:47], "amount"),
            value_date=reader.date(record[47:53], "value date", optional=True),
            booking_date=reader.required_date(record[115:121], "entry date"),
            transaction_code=record[53:61],
            structured=record[61] == "1",
            communication=record[62:115],
        )
        if not movement.transaction_code.isdigit():
            raise reader.fail(f"transaction code {movement.transaction_code!r} is not 8 digits")
        kind = movement.transaction_type
        if kind in "0123":
            if detail != "0000":
                raise reader.fail(f"a main movement (type {kind}) has detail number {detail}")
            statement.movements.append(movement)
            if movement.amount < 0:
                statement.debit -= movement.amount
            else:
                statement.credit += movement.amount
        elif kind in "5678":
            parent = statement.movements[-1] if statement.movements else None
            if parent is None or parent.sequence != sequence:
                raise reader.fail(f"detail {sequence}/{detail} follows no movement {sequence}")
            parent.details.append(movement)
        elif kind == "9":
            # A detail of a type-7 detail: its amount is already in its parent's.
            parent = statement.movements[-1] if statement.movements else None
            if parent is None or parent.sequence != sequence:
                raise reader.fail(f"detail {sequence}/{detail} follows no movement {sequence}")
        else:
            raise reader.fail(f"transaction type {kind!r} is not 0-3 or 5-9")
        return movement
    if last is None or last.sequence != sequence or last.detail != detail:
        raise reader.fail(f"record 2.{article} does not continue movement {sequence}/{detail}")
    if article == "2":
        last.communication += record[10:63]
        last.customer_reference = record[63:98].strip()
        last.counterparty_bic = record[98:109].strip()
        # An R-transaction (1 reject, 2 return, 3 refund, 4 reversal, 5 cancellation)
        # is only one when an ISO reason code follows ("AC04", "MD07"): older files,
        # like the KBC sample, use these positions for a reference of their own.
        r_type, r_reason = record[112], record[113:117]
        if r_type in "12345" and _ISO_REASON.fullmatch(r_reason):
            last.r_transaction = r_type
    elif article == "3":
        last.counterparty_account = record[10:47]
        last.counterparty_name = record[47:82].strip()
        last.communication += record[82:125]
    else:
        raise reader.fail(f"unknown movement record 2.{article}")
    return last


def _information_record(reader: _Reader, statement: _Statement, record: str) -> None:
    """Information (3.x) belongs to the last movement with the same sequence number."""
    article = record[1]
    sequence = record[2:6]
    owner: _Movement | None = None
    for movement in reversed(statement.movements):
        if movement.sequence == sequence:
            owner = movement.details[-1] if movement.details else movement
            break
    if owner is None:
        raise reader.fail(f"information record 3.{article} follows no movement {sequence}")
    if article == "1":
        structured, communication = record[39] == "1", record[40:113]
        owner.info_structured = structured
        if structured and communication[:3] == "001":  # name, address, identification
            owner.info_name = owner.info_name or communication[3:73].strip()
        elif not structured:
            owner.information.append(communication)
    elif article in "23":
        # Continuations of a structured 3.1 (the payer's address) are not a message.
        if not owner.info_structured:
            # The communication goes on where the last record stopped, as 2.2 and
            # 2.3 continue 2.1: a word cut at the record's end is one word.
            more = record[10:115] if article == "2" else record[10:100]
            if owner.information:
                owner.information[-1] += more
            else:
                owner.information.append(more)
    else:
        raise reader.fail(f"unknown information record 3.{article}")


def _check_trailer(reader: _Reader, statement: _Statement, record: str) -> None:
    if not record[16:22].isdigit():
        raise reader.fail(f"number of records is not a number: {record[16:22]!r}")
    records = int(record[16:22])
    debit = reader.amount("0", record[22:37], "total debits")
    credit = reader.amount("0", record[37:52], "total credits")
    if records != statement.records:
        raise reader.fail(
            f"the trailer counts {records} records (1, 2, 3 and 8), the statement has "
            f"{statement.records}"
        )
    if (debit, credit) != (statement.debit, statement.credit):
        raise reader.fail(
            f"the trailer totals debits {debit} and credits {credit}, the movements add up "
            f"to {statement.debit} and {statement.credit}"
        )
    if statement.new_balance is not None:
        expected = statement.old_balance + credit - debit
        if expected != statement.new_balance:
            raise reader.fail(
                f"old balance {statement.old_balance} + credits - debits = {expected}, "
                f"but the new balance is {statement.new_balance}",
                statement.new_balance_line,
            )


def _lines(source: str, statement: _Statement) -> list[StatementLine]:
    lines = []
    for movement in statement.movements:
        details = movement.details
        adds_up = sum((d.amount for d in details), Decimal(0)) == movement.amount
        # A net amount (a payment less its charges) keeps its total: splitting it
        # would put a credit and a debit on the statement where the bank booked one.
        same_sign = all((d.amount < 0) == (movement.amount < 0) for d in details)
        if details and adds_up and same_sign:
            for detail in details:
                # A detail often repeats none of the payer's data: inherit it.
                lines.append(_line(source, statement, detail, movement))
        else:
            lines.append(_line(source, statement, movement, None))
    return lines


def _join_information(pieces: list[str]) -> str:
    """The 3.1 communications of a movement as one text.

    Each is a fixed field of 73 characters, padded with spaces. A bank that writes
    a long text over several 3.1 records (BNP Paribas Fortis does) cuts it at the
    field's end, inside a word or an IBAN ("… IBAN: NL41ABN" + "A0830352414 …"):
    a piece that fills its field to the last character runs on into the next."""
    text = pieces[0] if pieces else ""
    for previous, piece in pairwise(pieces):
        if not previous[-1:].strip():
            text += " "
        text += piece
    return text


def _communication(movement: _Movement) -> tuple[str | None, str]:
    """(structured reference, free text) of a movement."""
    raw = movement.communication
    info = _collapse(_join_information(movement.information))
    if not movement.structured:
        free = _collapse(raw)
        return typed_reference(free), _collapse(" ".join(filter(None, [free, info])))
    kind = raw[:3]
    reference: str | None = None
    rest = raw[3:]
    if kind in ("101", "102"):
        reference = normalise_reference(raw[3:15])
        rest = raw[15:] if reference else raw[3:]
    elif kind == "100":
        found = _RF.search(raw[3:].upper())
        if found:
            reference = normalise_reference(found.group(0))
        rest = "" if reference else raw[3:]
    free = _collapse(rest) if kind in ("100", "101", "102") else ""
    return reference, _collapse(" ".join(filter(None, [free, info])))


def _line(
    source: str, statement: _Statement, movement: _Movement, parent: _Movement | None
) -> StatementLine:
    reference, free_text = _communication(movement)
    if parent is not None and reference is None and not free_text:
        reference, free_text = _communication(parent)
    inherit = parent if parent is not None else movement
    name = movement.counterparty_name or movement.info_name
    name = name or inherit.counterparty_name or inherit.info_name
    account = movement.counterparty_account or inherit.counterparty_account
    return StatementLine(
        account_iban=statement.account,
        statement=statement.number,
        booking_date=movement.booking_date,
        value_date=movement.value_date or movement.booking_date,
        amount=movement.amount,
        currency=statement.currency.strip() or "EUR",
        counterparty_name=name,
        counterparty_iban=_counterparty_iban(account),
        structured_reference=reference,
        free_text=free_text,
        bank_reference=movement.bank_reference,
        # The bank reference names the movement across statements; without one, the
        # movement's place in its statement does.
        sequence=movement.detail
        if movement.bank_reference
        else f"{movement.sequence}/{movement.detail}",
        counterparty_bic=movement.counterparty_bic or inherit.counterparty_bic,
        end_to_end_id=movement.customer_reference or inherit.customer_reference,
        transaction_code=movement.transaction_code,
        reversal=bool(movement.r_transaction or inherit.r_transaction),
        source=f"{source}: line {movement.line_no}",
    )
