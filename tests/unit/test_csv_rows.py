"""The bulk form of the readers: DocumentRow tuples, checked batches, the reading process."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from adapters.imports import read_invoice_file, read_invoice_rows
from adapters.imports.csv_invoices import _amount, _cents
from adapters.imports.pipeline import BackgroundReader, check_batches
from adapters.imports.records import DocumentRow, content_hash
from bot.errors import Problem

HEADER = "invoice_number;debtor_code;debtor_name;email;issue_date;due_date;amount;open_amount;"
HEADER += "structured_reference;kind;credited_invoice;description\n"


def _rows(path: Path) -> list[DocumentRow | Problem]:
    return list(read_invoice_rows(path))


@pytest.mark.parametrize(
    "text",
    ["0", "7", "-7", "12,5", "12.50", "-0,05", "1234,56", "000123,40", "999999999999999,99"],
)
def test_cents_by_string_operations_equal_the_decimal_path(text: str) -> None:
    assert _cents(text) == int(_amount(text) * 100)


@pytest.mark.parametrize("text", ["1.234,56", "€ 12,50", "(40,00)", "1 234,5", "12-"])
def test_other_amount_shapes_go_through_the_general_parser(text: str) -> None:
    assert Decimal(_cents(text)).scaleb(-2) == _amount(text)


def test_rows_and_documents_say_the_same(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(
        (
            HEADER
            + "F-1;C1;Café Léon;;01/02/2026;03/03/2026;1.234,56;234,56;+++090/9337/55493+++;;;\n"
            + "F-2;C1;Café Léon;A@Leon.be;01/02/2026;;99,9;;;;;Werken\n"
            + "\n"
            + "AV-1;C1;Café Léon;;05/02/2026;;-10;;;;F-1;\n"
            + "F-3;C2;Jan\n"  # shorter than the header: the rest is empty
        ).encode("cp1252")
    )
    rows = _rows(path)
    documents = list(read_invoice_file(path))
    assert len(rows) == len(documents) == 4
    problem = rows[3]
    assert problem == Problem("x.csv", "line 6, column issue_date", "is empty")
    for row, document in zip(rows[:3], documents[:3], strict=True):
        assert isinstance(row, DocumentRow)
        assert row.document() == document
        assert DocumentRow.from_document(document) == row
        assert row.content_hash == document.invoice.content_hash(row.debtor_code)  # type: ignore[union-attr]
    first, second, note = rows[:3]
    assert (first.amount, first.open_amount) == (123456, 23456)  # type: ignore[union-attr]
    assert first.structured_reference == "090933755493"  # type: ignore[union-attr]
    assert first.source == "x.csv:2"  # type: ignore[union-attr]
    assert second.due_date.isoformat() == "2026-03-03"  # type: ignore[union-attr]  # 30 days
    assert (note.kind, note.amount, note.credited_invoice) == ("credit_note", 1000, "F-1")  # type: ignore[union-attr]
    assert first.debtor.name == "Café Léon"  # type: ignore[union-attr]
    assert note.debtor == first.debtor  # type: ignore[union-attr]
    assert second.debtor.emails == ("a@leon.be",)  # type: ignore[union-attr]


def test_a_debtor_checked_once_comes_back_as_the_same_record(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        HEADER
        + "F-1;C1;Jan;jan@x.be;2026-02-01;;10;;;;;\n"
        + "F-2;C2;Piet;;2026-02-01;;10;;;;;\n"
        + "F-3;C1;Jan;jan@x.be;2026-02-01;;10;;;;;\n"
        + "F-4;C1;Jan;;2026-02-01;;10;;;;;\n"
    )
    one, _two, three, four = _rows(path)
    assert three.debtor is one.debtor  # type: ignore[union-attr]
    assert four.debtor is not one.debtor  # type: ignore[union-attr]
    assert four.debtor.emails == ()  # type: ignore[union-attr]


def test_content_hash_formula_is_the_stored_one() -> None:
    # Changing it would make the next import of an unchanged file update everything.
    assert content_hash(
        "C1", "invoice", "2026-02-01", "2026-03-03", "EUR", "400.00", "", "", "", ""
    ) == ("bb45a485f5d4cfbd987556465509f9e5")


def test_checked_batches_merge_debtor_lines_and_send_each_record_once(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        HEADER
        + "F-1;C1;Jan;;2026-02-01;;10;;;;;\n"
        + "F-2;C1;Jan;jan@x.be;2026-02-01;;10;;;;;\n"  # adds an email
        + "F-3;C1;Jan;;2026-02-01;;10;;;;;\n"
        + "F-4;C1;Jan;;2026-02-01;;10;;;;;\n"
    )
    batches = list(check_batches([(path.name, read_invoice_rows(path))], size=2))
    assert [len(b.rows) for b in batches] == [2, 2]
    assert batches[0].debtors["C1"].emails == ("jan@x.be",)
    assert batches[1].debtors == {}  # nothing new about C1
    assert [b.read for b in batches] == [2, 2]
    assert batches[0].rows[0][:2] == ("F-1", "C1")


def test_background_reader_gives_the_same_batches(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        HEADER + "".join(f"F-{n};C{n % 3};Jan {n % 3};;2026-02-01;;{n},5;;;;;\n" for n in range(50))
    )
    here = list(check_batches([(str(path), read_invoice_rows(path))], size=20))
    with BackgroundReader([path], 30, size=20) as batches:
        there = list(batches)
    assert there == here


def test_background_reader_survives_being_stopped_and_continued(tmp_path: Path) -> None:
    """Ctrl-Z, a debugger or a profiler stops the reading process in the middle of
    a write to the full pipe; every batch must still arrive whole (it did not)."""
    import os
    import signal
    import threading
    import time

    path = tmp_path / "big.csv"
    path.write_text(
        HEADER
        + "".join(
            f"F-{n};C{n % 500};Debtor {n % 500};;2026-02-01;;{n},5;;;;;{'x' * 60} {n}\n"
            for n in range(40_000)
        )
    )
    here = list(check_batches([(str(path), read_invoice_rows(path))], size=4000))
    with BackgroundReader([path], 30, size=4000) as batches:
        pid = batches._process.pid
        done = threading.Event()

        def stop_and_continue() -> None:
            while not done.is_set():
                os.kill(pid, signal.SIGSTOP)
                time.sleep(0.003)
                os.kill(pid, signal.SIGCONT)
                time.sleep(0.002)

        poking = threading.Thread(target=stop_and_continue)
        poking.start()
        try:
            there = []
            for batch in batches:
                there.append(batch)
                time.sleep(0.02)  # a slow writer: the reading process fills the pipe
        finally:
            done.set()
            poking.join()
            os.kill(pid, signal.SIGCONT)
    assert [len(b.rows) for b in there] == [4000] * 10
    assert there == here


def test_background_reader_reports_problems_and_failures(tmp_path: Path) -> None:
    with BackgroundReader([tmp_path / "missing.csv"], 30) as batches:
        (batch,) = list(batches)
    assert batch.problems == [Problem("missing.csv", "file", "no such file")]
    with (
        BackgroundReader([tmp_path / "x.csv"], "thirty") as batches,  # type: ignore[arg-type]
        pytest.raises(RuntimeError, match="reading the import files failed"),
    ):
        list(batches)


def test_lines_split_by_hand_equal_the_csv_module(tmp_path: Path) -> None:
    import csv

    from adapters.imports.csv_invoices import _records

    text = (
        "a;b;c\r\n"
        'q;"semi;colon";"two\nlines"\n'
        "plain; spaced ;\n"
        "\n"
        '5" screen;x;y\r'
        '"open quote;to the end\n'
    )
    path = tmp_path / "t.csv"
    path.write_text(text, newline="")
    with path.open(newline="") as handle:
        expected = list(csv.reader(handle, delimiter=";"))
    with path.open(newline="") as handle:
        handle.readline()  # the header, as read_csv_rows does
        got = list(_records(handle, ";"))
    assert [fields for _line, fields in got] == [f or [""] for f in expected[1:]]
    assert [line for line, _fields in got] == [3, 4, 5, 6, 7]


def test_a_problem_after_a_quoted_multi_line_field_names_the_right_line(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        HEADER
        + 'F-1;C1;"Jan\nPeeters";;2026-02-01;;10;;;;;"a; b"\n'
        + "F-2;C1;Jan Peeters;;2026-02-01;;tien;;;;;\n"
    )
    first, problem = _rows(path)
    assert first.debtor.name == "Jan\nPeeters"  # type: ignore[union-attr]
    assert first.description == "a; b"  # type: ignore[union-attr]
    assert first.source == "x.csv:3"  # type: ignore[union-attr]
    assert problem == Problem("x.csv", "line 4, column amount", "not an amount: 'tien'")
