"""camt.052/053/054: golden files over several versions, zips, refusals by element path."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.bank import StatementError
from adapters.bank.camt import parse_camt
from adapters.bank.detect import parse_bytes

DATA = Path(__file__).resolve().parents[1] / "data" / "camt"
SAMPLES = sorted(DATA.glob("*.xml"))


def _json_lines(data: bytes, name: str) -> list[dict[str, object]]:
    return [line.to_json() for s in parse_bytes(data, name) for line in s.lines]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_golden(sample: Path) -> None:
    expected_error = sample.with_suffix(".error")
    if expected_error.exists():
        with pytest.raises(StatementError) as caught:
            _json_lines(sample.read_bytes(), sample.name)
        assert str(caught.value) == expected_error.read_text().strip()
    else:
        expected = [json.loads(t) for t in sample.with_suffix(".jsonl").read_text().splitlines()]
        assert _json_lines(sample.read_bytes(), sample.name) == expected


def test_versions_are_detected() -> None:
    formats = {p.name: parse_bytes(p.read_bytes(), p.name)[0].format for p in SAMPLES[1:]}
    assert formats == {
        "camt053_v02_abnamro_trtp.xml": "camt.053",
        "camt053_v02_amtdtls_batch.xml": "camt.053",
        "camt053_v02_batch.xml": "camt.053",
        "camt053_v02_bom_prefix_two_stmt.xml": "camt.053",
        "camt053_v02_reference_forms.xml": "camt.053",
        "camt053_v04_latin1_crlf.xml": "camt.053",
        "camt053_v04_returned_direct_debit.xml": "camt.053",
        "camt053_v04_utf16_no_status.xml": "camt.053",
        "camt053_v08_charges_pending.xml": "camt.053",
        "camt053_v08_envelope_nonref.xml": "camt.053",
        "camt053_v08_reversal.xml": "camt.053",
        "camt053_v13_othr.xml": "camt.053",
        "camt054_v04.xml": "camt.054",
    }


def test_only_booked_entries() -> None:
    _, lines = parse_camt((DATA / "camt053_v02_batch.xml").read_bytes())
    assert Decimal("99.00") not in {line.amount for line in lines}  # Sts PDNG
    _, lines = parse_camt((DATA / "camt053_v08_reversal.xml").read_bytes())
    assert Decimal("75.00") not in {line.amount for line in lines}  # Sts/Cd INFO


def test_reversal_indicator_and_datetime_booking() -> None:
    _, lines = parse_camt((DATA / "camt053_v08_reversal.xml").read_bytes())
    assert [(line.amount, line.reversal) for line in lines] == [
        (Decimal("1210.00"), False),
        (Decimal("-1210.00"), True),
    ]
    assert lines[0].booking_date.isoformat() == "2026-03-11"  # from BookgDt/DtTm
    assert lines[0].counterparty_name == "ACME Industries GmbH"  # Dbtr/Pty/Nm
    assert lines[0].counterparty_bic == "COBADEFFXXX"


def test_a_notification_and_its_statement_name_the_same_movement() -> None:
    _, statement = parse_camt((DATA / "camt053_v02_batch.xml").read_bytes())
    _, notification = parse_camt((DATA / "camt054_v04.xml").read_bytes())
    assert statement[0].identity == notification[0].identity
    assert statement[0].statement != notification[0].statement


def test_unsplittable_batch_stays_one_line_with_every_text() -> None:
    _, lines = parse_camt((DATA / "camt054_v04.xml").read_bytes())
    batch = lines[1]
    assert batch.amount == Decimal("300.00")
    assert batch.structured_reference == "000000100434"
    assert "1003 and 1004" in batch.free_text


def test_without_namespace_reads_the_same() -> None:
    data = (DATA / "camt053_v02_batch.xml").read_bytes()
    bare = data.replace(b' xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"', b"")
    assert _json_lines(bare, "a") == _json_lines(data, "a")


def test_zip_of_several_statements() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(DATA / "camt054_v04.xml", "b/notification.xml")
        archive.write(DATA / "camt053_v02_batch.xml", "a/statement.xml")
        archive.write(DATA.parent / "coda" / "globalisation.cod", "c/coda.cod")
        archive.writestr("__MACOSX/._statement.xml", b"junk")
    parsed = parse_bytes(buffer.getvalue(), "day.zip")
    assert [p.source for p in parsed] == [
        "day.zip!a/statement.xml",
        "day.zip!b/notification.xml",
        "day.zip!c/coda.cod",
    ]
    assert [len(p.lines) for p in parsed] == [4, 2, 3]


def test_two_statements_an_othr_account_and_an_ultimate_debtor() -> None:
    _, lines = parse_camt((DATA / "camt053_v13_othr.xml").read_bytes())
    assert [(line.account_iban, line.statement) for line in lines] == [
        ("0012345678", "V13-A"),
        ("BE68539007547034", "V13-B"),
    ]
    assert lines[0].counterparty_name == "Lotte Maes"  # UltmtDbtr/Pty/Nm
    assert lines[0].counterparty_iban == "BE71096123456769"  # spaces and case dropped
    assert lines[0].structured_reference == "000000100333"  # ***OGM*** typed in Ustrd
    assert lines[0].end_to_end_id == "INST-77"


def test_a_bad_member_of_a_zip_is_named() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(DATA / "camt053_v02_batch.xml", "good.xml")
        archive.write(DATA / "camt053_bad_amount.xml", "bad.xml")
    with pytest.raises(StatementError, match=r"^day.zip!bad.xml: /Document/.*/Ntry\[2\]/Amt"):
        parse_bytes(buffer.getvalue(), "day.zip")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (b"<CdtDbtInd>DBIT</CdtDbtInd>", b"<CdtDbtInd>DEBIT</CdtDbtInd>"),
            "x.xml: /Document/BkToCstmrStmt/Stmt[1]/Ntry[4]/CdtDbtInd: must be CRDT or DBIT, "
            "not 'DEBIT'",
        ),
        (
            (b"<IBAN>BE68539007547034</IBAN></Id><Ccy>", b"</Id><Ccy>"),
            "x.xml: /Document/BkToCstmrStmt/Stmt[1]/Acct/Id: no IBAN or Othr/Id",
        ),
        ((b"</BkToCstmrStmt>", b""), "x.xml: line "),
        # xs:decimal: no exponent (Python's Decimal would read 4e2 as 400)
        (
            (b'<Amt Ccy="EUR">400.00</Amt>', b'<Amt Ccy="EUR">4e2</Amt>'),
            "x.xml: /Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt: not an amount: '4e2'",
        ),
        (
            (b'<Amt Ccy="EUR">400.00</Amt>', b'<Amt Ccy="EUR">400.005</Amt>'),
            "x.xml: /Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt: more than two decimals",
        ),
    ],
)
def test_refusals_name_the_element(change: tuple[bytes, bytes], message: str) -> None:
    data = (DATA / "camt053_v02_batch.xml").read_bytes()
    assert change[0] in data
    with pytest.raises(StatementError) as caught:
        parse_bytes(data.replace(*change), "x.xml")
    assert str(caught.value).startswith(message)


def test_bank_exports_with_bom_prefix_and_several_accounts() -> None:
    data = (DATA / "camt053_v02_bom_prefix_two_stmt.xml").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf<?xml")
    _, lines = parse_camt(data.removeprefix(b"\xef\xbb\xbf"))
    assert [(line.account_iban, line.amount) for line in lines] == [
        ("BE68539007547034", Decimal("605.00")),  # spaces in the statement's IBAN dropped
        ("BE71096123456769", Decimal("-48.40")),  # the payee of a debit
    ]
    assert lines[0].structured_reference == "090933755493"  # +++OGM+++ in Strd/Ref


def test_amounts_in_amtdtls_split_a_batch_with_their_sign() -> None:
    _, lines = parse_camt((DATA / "camt053_v02_amtdtls_batch.xml").read_bytes())
    assert [line.amount for line in lines] == [
        Decimal("320.00"),
        Decimal("180.00"),
        Decimal("-100.00"),
        Decimal("-150.00"),
        Decimal("90.00"),  # no amount per detail: the entry stays whole
    ]


def test_charges_without_details_and_pending_entries() -> None:
    _, lines = parse_camt((DATA / "camt053_v08_charges_pending.xml").read_bytes())
    assert [(line.amount, line.transaction_code) for line in lines] == [
        (Decimal("-7.50"), "ACMT/MDOP/CHRG"),
        (Decimal("-2.35"), "PMNT/CHRG/OTHR"),
        (Decimal("640.00"), ""),
    ]
    assert lines[1].value_date == lines[1].booking_date  # no ValDt


def test_utf16_and_entries_without_status() -> None:
    data = (DATA / "camt053_v04_utf16_no_status.xml").read_bytes()
    assert data.startswith(b"\xff\xfe<\x00")
    lines = _json_lines(data, "x")
    assert [(line["account_iban"], line["amount"]) for line in lines] == [
        ("BE68539007547034", "215.00"),  # the account's IBAN upper-cased
        ("BE68539007547034", "-9.99"),
    ]
    assert lines[0]["counterparty_name"] == "Café Zoë"
    # an intraday report without statuses says nothing booked: no lines
    text = data.decode("utf-16").replace("BkToCstmrStmt>", "BkToCstmrAcctRpt>")
    report = text.replace("<Stmt>", "<Rpt>").replace("</Stmt>", "</Rpt>").encode("utf-16")
    assert parse_bytes(report, "x")[0].format == "camt.052"
    assert _json_lines(report, "x") == []


def test_an_enveloped_document_and_placeholder_references() -> None:
    _, lines = parse_camt((DATA / "camt053_v08_envelope_nonref.xml").read_bytes())
    assert [(line.bank_reference, line.sequence) for line in lines] == [("", "1"), ("", "2")]
    assert lines[0].identity != lines[1].identity
    # the same payment in another statement is another movement: NONREF names none
    moved = replace(lines[0], statement="ENV-069")
    assert moved.identity != lines[0].identity


def test_a_statement_head_after_its_entries_reads_as_before() -> None:
    # The schema puts Id and Acct before the entries; read as a stream, a statement
    # that has them after its entries still gives the lines and refusals of the tree.
    data = (DATA / "camt053_v02_batch.xml").read_bytes()
    head = b"<Acct><Id><IBAN>BE68539007547034</IBAN></Id><Ccy>EUR</Ccy></Acct>"
    moved = data.replace(head, b"").replace(b"</Stmt>", head + b"<Id>LATE</Id></Stmt>")
    assert _json_lines(moved, "a") == _json_lines(data, "a")
    other = moved.replace(b"BE68539007547034", b"BE71096123456769")
    assert {line["account_iban"] for line in _json_lines(other, "a")} == {"BE71096123456769"}
    without = data.replace(head, b"").replace(b"</Stmt>", b"<Acct><Ccy>EUR</Ccy></Acct></Stmt>")
    with pytest.raises(StatementError, match=r"Stmt\[1\]/Acct/Id: no IBAN or Othr/Id$"):
        parse_camt(without, "a")


def test_malformed_xml_is_refused_before_an_entry() -> None:
    # The stream meets the bad amount first; the document is refused for what the
    # whole of it is: not well-formed, with the parser's own wording and line.
    data = (DATA / "camt053_bad_amount.xml").read_bytes()
    with pytest.raises(StatementError) as caught:
        parse_camt(data[:-30], "x")
    # the place once, in front (libxml2 repeats it at the end of its message)
    assert re.fullmatch(
        r"x: line \d+, column \d+: not well-formed XML: Premature end of data in tag \w+",
        str(caught.value),
    ), caught.value
    entity = data.replace(b"</Stmt>", b"&undefined;</Stmt>")
    with pytest.raises(StatementError, match=r"^x: line \d+, column \d+: .*Entity 'undefined'"):
        parse_camt(entity, "x")


def test_an_entry_without_booking_date_is_booked_on_its_value_date_or_the_statement_day() -> None:
    """BookgDt is optional (a Lithuanian export leaves it out, and ValDt too)."""
    data = (DATA / "camt053_v02_batch.xml").read_bytes()
    second = b"<BookgDt><Dt>2026-03-10</Dt></BookgDt>\n        <ValDt><Dt>2026-03-09</Dt></ValDt>"
    assert second in data
    _, lines = parse_camt(data.replace(second, b"<ValDt><Dt>2026-03-09</Dt></ValDt>"))
    assert {(line.booking_date, line.value_date) for line in lines[1:3]} == {
        (date(2026, 3, 9), date(2026, 3, 9))
    }
    _, lines = parse_camt(data.replace(second, b""))
    # The statement's (opening) balance is of 2026-03-10; it was made the 11th.
    assert {(line.booking_date, line.value_date) for line in lines[1:3]} == {
        (date(2026, 3, 10), date(2026, 3, 10))
    }
    balance = b"<Dt><Dt>2026-03-10</Dt></Dt></Bal>"
    undated = data.replace(second, b"").replace(balance, b"</Bal>")
    _, lines = parse_camt(undated)
    assert lines[1].booking_date == date(2026, 3, 11)  # only its creation is left
    with pytest.raises(StatementError) as caught:
        parse_camt(undated.replace(b"<CreDtTm>2026-03-11T06:00:00</CreDtTm>", b""), "x.xml")
    assert str(caught.value) == (
        "x.xml: /Document/BkToCstmrStmt/Stmt[1]/Ntry[2]: "
        "a booked entry without BookgDt, ValDt or statement date"
    )


# ------------------------------------------------- files other projects published

PUBLIC = DATA / "public"


@pytest.mark.parametrize("sample", sorted(PUBLIC.glob("*.xml")), ids=lambda p: p.name)
def test_golden_published(sample: Path) -> None:
    expected = [json.loads(t) for t in sample.with_suffix(".jsonl").read_text().splitlines()]
    assert _json_lines(sample.read_bytes(), sample.name) == expected


def test_a_reversed_direct_debit_names_the_payer_who_took_it_back() -> None:
    _, lines = parse_camt(
        (PUBLIC / "viafintech_camt054_v04_postfinance_reversals.xml").read_bytes()
    )
    reversed_ = [
        (str(line.amount), line.counterparty_name, line.counterparty_iban)
        for line in lines
        if line.reversal
    ]
    assert reversed_ == [
        ("-6.00", "Bernasconi Maria", "CH3709000000250094580"),
        ("-15.53", "Rutschmann Pia", "CH4409000000495962779"),
    ]


def test_an_unsplittable_batch_of_several_payees_has_no_one_counterparty() -> None:
    _, [line] = parse_camt((PUBLIC / "genkgo_camt054_v08_unsplittable_batch.xml").read_bytes())
    assert line.amount == Decimal("-200000.00")
    assert (line.counterparty_name, line.counterparty_iban, line.structured_reference) == (
        "",
        None,
        None,
    )
    assert "Unstructured Remittance Information V3 block 1" in line.free_text


def test_an_entry_named_by_its_ntryref_keeps_its_identity_across_exports() -> None:
    data = (PUBLIC / "newinnovations_camt053_v02_sns_ntryref.xml").read_bytes()
    _, lines = parse_camt(data)
    assert lines[0].bank_reference == "20260125-137113"
    # The next export of the same account gives its statement another id.
    _, again = parse_camt(data.replace(b"CAMT05398765432164600000", b"CAMT05398765432199900000"))
    assert again[0].statement != lines[0].statement
    assert [line.identity for line in again] == [line.identity for line in lines]


def test_a_returned_direct_debit_is_a_reversal_naming_the_debtor() -> None:
    """A blind probe's Commerzbank file: the return (RtrInf MD06, code UPDD) is a
    debit whose Cdtr is the creditor itself; its counterparty is the debtor."""
    _, lines = parse_camt((DATA / "camt053_v04_returned_direct_debit.xml").read_bytes())
    assert [(str(line.amount), line.reversal, line.counterparty_name) for line in lines] == [
        ("2000.00", False, "Kaufhaus Nord GmbH"),
        ("1570.00", False, "Weber Elektro OHG"),
        ("-1570.00", True, "Weber Elektro OHG"),
        ("-3.00", False, ""),
    ]


def test_a_dutch_trtp_string_is_read_into_its_parts() -> None:
    """ABN AMRO writes the payer and remittance as "/TRTP/…/IBAN/…/NAME/…/REMI/…"
    in AddtlNtryInf, sometimes with no TxDtls at all."""
    _, lines = parse_camt((DATA / "camt053_v02_abnamro_trtp.xml").read_bytes())
    assert [
        (line.counterparty_name, line.counterparty_iban, line.structured_reference, line.free_text)
        for line in lines[1:4]
    ] == [
        ("J. de Vries", "NL21INGB0009998887", None, "Factuur 2026-0117"),
        (
            "Van Dijk Installatietechniek",
            "NL91ABNA0417164300",
            None,
            "Factuur 2026-0120 en 2026-0121",
        ),
        ("Hoeve De Linde", "NL36INGB0007654321", "RF83NL20260117", "RF83NL20260117"),
    ]


def test_an_xml_document_that_is_no_statement_names_its_root() -> None:
    pain = (
        b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
        b'pain.001.001.03"><CstmrCdtTrfInitn/></Document>'
    )
    with pytest.raises(StatementError) as caught:
        parse_bytes(pain, "refunds.xml")
    assert str(caught.value) == (
        "refunds.xml: line 1: an XML document whose root is Document in namespace "
        "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03, not an ISO 20022 bank-to-customer "
        "statement (camt.053, camt.054 or camt.052)"
    )
