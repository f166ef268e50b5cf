"""CODA 2.x: golden files, the real KBC file against its trailer, refusals by line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.bank import StatementError
from adapters.bank.coda import parse_coda
from adapters.bank.detect import parse_bytes
from domain.reference import is_valid_ogm

DATA = Path(__file__).resolve().parents[1] / "data" / "coda"
KBC = DATA / "tryton-CODA.txt"
SAMPLES = sorted([*DATA.glob("*.cod"), KBC])


def _json_lines(path: Path) -> list[dict[str, object]]:
    statements = parse_bytes(path.read_bytes(), path.name)
    return [line.to_json() for s in statements for line in s.lines]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_golden(sample: Path) -> None:
    expected_lines = sample.with_suffix(".jsonl")
    expected_error = sample.with_suffix(".error")
    if expected_error.exists():
        with pytest.raises(StatementError) as caught:
            _json_lines(sample)
        assert str(caught.value) == expected_error.read_text().strip()
    else:
        expected = [json.loads(t) for t in expected_lines.read_text().splitlines()]
        assert _json_lines(sample) == expected


def _trailer_and_records(raw: str) -> tuple[int, Decimal, Decimal, int]:
    records = raw.splitlines()
    trailer = next(r for r in records if r.startswith("9"))
    counted = sum(1 for r in records if r[:1] in ("1", "2", "3", "8"))
    return (
        int(trailer[16:22]),
        Decimal(trailer[22:37]) / 1000,
        Decimal(trailer[37:52]) / 1000,
        counted,
    )


def test_real_kbc_file_adds_up_to_its_trailer() -> None:
    raw = KBC.read_text(encoding="windows-1252")
    records, debit, credit, counted = _trailer_and_records(raw)
    lines = parse_coda(KBC.read_bytes(), KBC.name)
    assert records == counted == 260
    assert sum(-line.amount for line in lines if line.amount < 0) == debit
    assert sum(line.amount for line in lines if line.amount > 0) == credit
    assert debit == Decimal("3085871.600")
    assert credit == Decimal("12491168.590")
    assert all(line.account_iban == "BE47435000000080" for line in lines)


def test_real_kbc_file_type_101_references() -> None:
    lines = parse_coda(KBC.read_bytes(), KBC.name)
    structured = {line.structured_reference: line for line in lines if line.structured_reference}
    assert set(structured) == {"269021157996", "702600521948"}
    assert all(is_valid_ogm(ref) for ref in structured)
    assert structured["269021157996"].amount == Decimal("817.56")
    assert structured["269021157996"].counterparty_name == "LA CROIX D OR SPRL"


def test_main_movements_agree_with_febelfin_coda() -> None:
    """The Tryton parser, read independently, sees the same movements and totals."""
    import coda

    theirs = coda.CODA(str(KBC)).statements[0]
    ours = parse_coda(KBC.read_bytes(), KBC.name)
    assert sum(m.amount for m in theirs.moves) == sum(line.amount for line in ours)
    their_refs = {
        m.communication for m in theirs.all_moves if m.communication_type in ("101", "102")
    }
    assert their_refs == {line.structured_reference for line in ours} - {None}


def test_crlf_and_lf_read_alike() -> None:
    data = KBC.read_bytes()
    crlf = data.replace(b"\n", b"\r\n")
    assert parse_coda(crlf, "x") == parse_coda(data, "x")


def test_windows_1252_names() -> None:
    lines = parse_coda((DATA / "foreign_account_multi.cod").read_bytes(), "x")
    assert lines[0].counterparty_name == "Société Générale Café"
    assert (lines[0].account_iban, lines[0].currency) == ("NL91ABNA0417164300", "USD")


def test_globalisation_counted_once() -> None:
    lines = parse_coda((DATA / "globalisation.cod").read_bytes(), "x")
    # the customer's batch stays one total (no details); the bank's batch of 700.00
    # is replaced by its two payments, each with its own reference
    assert [line.amount for line in lines] == [Decimal("-900.00"), Decimal(300), Decimal(400)]


def _broken(transform: object) -> str:
    records = KBC.read_text(encoding="windows-1252").splitlines()
    transform(records)  # type: ignore[operator]
    with pytest.raises(StatementError) as caught:
        parse_coda("\n".join(records).encode("windows-1252"), "kbc.cod")
    return str(caught.value)


def test_wrong_trailer_count_names_the_line() -> None:
    def change(records: list[str]) -> None:
        records[-1] = records[-1][:16] + "000259" + records[-1][22:]

    assert _broken(change).startswith("kbc.cod: line 262: the trailer counts 259 records")


def test_too_long_record_names_the_line() -> None:
    def change(records: list[str]) -> None:
        records[4] += "X"

    assert _broken(change) == "kbc.cod: line 5: a CODA record has 128 characters, this one 129"


def test_a_new_balance_that_does_not_add_up_names_its_own_line() -> None:
    def change(records: list[str]) -> None:
        assert records[-2].startswith("8")
        balance = int(records[-2][42:57]) + 100
        records[-2] = records[-2][:42] + f"{balance:015d}" + records[-2][57:]

    message = _broken(change)
    assert message.startswith("kbc.cod: line 261: old balance")
    assert "but the new balance is" in message


def test_unknown_record_type_names_the_line() -> None:
    def change(records: list[str]) -> None:
        records[6] = "7" + records[6][1:]

    assert _broken(change) == "kbc.cod: line 7: unknown record type '7'"


def test_a_bad_date_names_the_line() -> None:
    def change(records: list[str]) -> None:
        records[2] = records[2][:47] + "311306" + records[2][53:]

    assert "line 3: value date is not a date DDMMYY: '311306'" in _broken(change)


def test_truncated_file_is_refused() -> None:
    def change(records: list[str]) -> None:
        del records[-1]

    assert _broken(change) == "kbc.cod: line 261: the file ends without a trailer record (9)"


def test_r_transaction_needs_an_iso_reason() -> None:
    # KBC's file has digits where CODA 2.3+ puts the R-transaction type and reason
    assert not any(line.reversal for line in parse_coda(KBC.read_bytes(), KBC.name))
    records = (DATA / "globalisation.cod").read_text().splitlines()
    assert records[4].startswith("2100020001")  # the detail paying 300.00
    # its 2.2 record: R-type 2 (return), reason AC04 (closed account)
    records.insert(5, ("2200020001" + " " * 102 + "2AC04").ljust(128))
    trailer = records[-1]
    records[-1] = trailer[:16] + f"{int(trailer[16:22]) + 1:06d}" + trailer[22:]
    lines = parse_coda("\n".join(records).encode(), "x")
    assert [line.reversal for line in lines] == [False, True, False]


def test_trimmed_records_read_as_the_full_ones() -> None:
    data = (DATA / "trimmed_two_accounts.cod").read_bytes()
    records = data.decode("cp1252").split("\r\n")
    assert not data.endswith(b"\n")  # no line end after the trailer
    assert min(len(r) for r in records) < 128  # blanks stripped by a mail client
    padded = "\n".join(r.ljust(128) for r in records) + "\n"
    full = parse_coda(padded.encode("cp1252"), "x")
    assert parse_coda(data, "x") == full
    assert [(line.account_iban, line.statement, line.amount) for line in full] == [
        ("BE68539007547034", "070", Decimal("605.00")),
        ("BE68539007547034", "071", Decimal("75.00")),  # BBAN 539007547034 as an IBAN
        ("BE68539007547034", "071", Decimal("-3.00")),
    ]
    assert full[1].counterparty_iban == "BE71096123456769"  # a BBAN on record 2.3


def test_blanks_after_the_record_are_not_an_error() -> None:
    records = KBC.read_text(encoding="windows-1252").splitlines()
    padded = "\n".join(r + "   " for r in records).encode("windows-1252")
    assert parse_coda(padded, "x") == parse_coda(KBC.read_bytes(), "x")


def test_communication_name_and_information_records() -> None:
    lines = parse_coda((DATA / "communication_continued.cod").read_bytes(), "x")
    # the free communication runs over 2.1, 2.2 and 2.3 without losing a character
    assert "INV-2026-0071 MOINS NOTE DE CREDIT CN-2026-0003" in lines[0].free_text
    assert lines[0].free_text.endswith("+++090/9337/55493+++ MERCI")
    assert lines[0].structured_reference == "090933755493"  # typed by the payer
    # the name only in a structured 3.1; its address (3.2) is not a message
    assert (lines[1].counterparty_name, lines[1].free_text) == ("MEVROUW AN DE SMET", "")
    # a free 3.1 and its 3.2 follow the movement's text; the bank's record 4 is not the payer's
    assert lines[2].free_text.startswith("ACOMPTE SUR FACTURE INV-2026-0080")
    assert "TARIFS" not in lines[2].free_text


def test_information_records_continue_one_another_by_position() -> None:
    records = (DATA / "communication_continued.cod").read_text().splitlines()
    assert records[9].startswith("3100030001")
    assert records[10].startswith("3200030001")
    text = "SUR FACTURE INV-2026-00"  # the 3.1's communication ends mid-number
    records[9] = records[9][:40] + text.rjust(73) + records[9][113:]
    records[10] = records[10][:10] + "80 APRES RECEPTION".ljust(105) + records[10][115:]
    lines = parse_coda("\n".join(records).encode(), "x")
    assert lines[2].free_text == "ACOMPTE SUR FACTURE INV-2026-0080 APRES RECEPTION"


def test_a_movement_record_that_lost_a_character_names_the_line() -> None:
    def change(records: list[str]) -> None:
        assert records[9].startswith("23")  # its last position is the link code
        records[9] = records[9][:60] + records[9][61:]

    assert _broken(change) == "kbc.cod: line 10: a CODA record has 128 characters, this one 127"


def test_a_file_resaved_as_utf8_reads_the_same() -> None:
    data = (DATA / "foreign_account_multi.cod").read_bytes()
    utf8 = b"\xef\xbb\xbf" + data.decode("cp1252").encode("utf-8")
    assert len(utf8) > len(data)  # the accents take two bytes each
    lines = parse_coda(utf8, "x")
    assert lines == parse_coda(data, "x")
    assert lines[0].counterparty_name == "Société Générale Café"


def test_a_text_cut_over_several_information_records_is_one_text() -> None:
    """BNP Paribas Fortis writes a long text over several 3.1 records of 73
    characters each, cutting inside an IBAN: a piece that fills its field runs on."""
    records = (DATA / "communication_continued.cod").read_text().splitlines()
    assert records[9].startswith("3100030001")
    assert records[10].startswith("3200030001")
    first = "VIREMENT EN EUROS (SEPA) DE: BROEKMAN LOGISTICS BV PAYS-BAS IBAN: NL41ABN"
    assert len(first) == 73
    records[9] = records[9][:40] + first + records[9][113:]
    second = "A0830352414 COMMUNICATION: 2022-12-612".ljust(73)
    records[10] = "3100030002" + records[9][10:40] + second + records[9][113:]
    lines = parse_coda("\n".join(records).encode(), "x")
    assert lines[2].free_text.endswith(
        "PAYS-BAS IBAN: NL41ABNA0830352414 COMMUNICATION: 2022-12-612"
    )


def test_a_third_decimal_is_refused_not_rounded() -> None:
    def change(records: list[str]) -> None:
        assert records[2].startswith("21")
        records[2] = records[2][:46] + "4" + records[2][47:]  # the amount's last digit

    message = _broken(change)
    assert message.startswith("kbc.cod: line 3: amount has a third decimal:")
    assert "(amounts are kept in cents)" in message


def test_an_account_number_whose_check_digits_fail_is_not_made_an_iban() -> None:
    from adapters.bank.coda import _account, _counterparty_iban

    assert _counterparty_iban("138536152215") is None  # 1385361522 mod 97 is 53, not 15
    assert _counterparty_iban("000000009797") == "BE54000000009797"  # remainder 0 is 97
    assert _account("0", "138536152215 EUR") == ("138536152215", "EUR")
    assert _account("0", "000000009797 EUR") == ("BE54000000009797", "EUR")


def test_a_header_with_another_application_code_says_so() -> None:
    header = "00000" + "010126" + "725" + "12" + " " * 111 + "2"  # application code 12
    with pytest.raises(StatementError) as caught:
        parse_bytes(header.encode() + b"\n", "x.cod")
    assert str(caught.value) == (
        "x.cod: line 1: a CODA header (record 0) whose application code (positions 15-16) "
        "is '12', not '05' as in a coded statement of account"
    )
