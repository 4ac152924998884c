"""Pure rules besides membership: KPJ numbers, the simulator's bill, the line outcomes of a batch (duplicates,
identity, precedence), and reading the cells and rows of the agency's files."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingkaran.protection.agency.domain import cells, reasons
from lingkaran.protection.agency.domain import files as formats
from lingkaran.protection.agency.domain.billing import monthly_bill
from lingkaran.protection.agency.domain.kpj import (
    is_kpj,
    is_simulator_kpj,
    luhn_digit,
    normalise_kpj,
    simulator_kpj,
    simulator_sequence,
)
from lingkaran.protection.agency.domain.payments import Line, Participant, judge_batch

# --- KPJ numbers -----------------------------------------------------------------------------------------------------


def test_simulator_kpj_numbers_are_eleven_digits_with_a_luhn_check_digit():
    assert simulator_kpj(1) == "90000000019"
    assert simulator_kpj(2) == "90000000027"
    assert simulator_kpj(999_999_999)[:10] == "9999999999"
    assert luhn_digit("7992739871") == "3"  # the textbook Luhn example
    for bad in (0, -1, 1_000_000_000, True, "1"):
        with pytest.raises(ValueError, match="sequence"):
            simulator_kpj(bad)


@given(st.integers(min_value=1, max_value=999_999_999))
def test_simulator_kpj_round_trips_and_catches_one_wrong_digit(sequence):
    number = simulator_kpj(sequence)
    assert is_kpj(number)
    assert is_simulator_kpj(number)
    assert simulator_sequence(number) == sequence
    for position in range(11):
        for digit in "0123456789":
            if digit != number[position]:
                assert not is_simulator_kpj(number[:position] + digit + number[position + 1 :])


@given(st.integers(min_value=1, max_value=999_999_998))
def test_simulator_kpj_numbers_never_repeat(sequence):
    assert simulator_kpj(sequence) != simulator_kpj(sequence + 1)


@pytest.mark.parametrize(
    ("raw", "normalised", "valid"),
    [
        ("12345678901", "12345678901", True),
        ("123 4567-8901", "12345678901", True),
        ("123.456.789.01", "12345678901", True),
        ("1234567890", "1234567890", False),
        ("123456789012", "123456789012", False),
        ("1234567890a", "1234567890a", False),
        ("١٢٣٤٥٦٧٨٩٠١", "١٢٣٤٥٦٧٨٩٠١", False),  # Arabic-Indic digits are not accepted
    ],
)
def test_kpj_shape(raw, normalised, valid):
    assert normalise_kpj(raw) == normalised
    assert is_kpj(normalise_kpj(raw)) is valid


# --- The simulator's bill --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("income", "jht", "sector", "month", "government", "total"),
    [
        (1_000_000, False, "other", date(2026, 3, 1), False, 16_800),  # before the window
        (1_000_000, False, "other", date(2026, 4, 1), False, 8_400),  # first discounted month for "other"
        (1_000_000, False, "other", date(2026, 12, 1), False, 8_400),
        (1_000_000, False, "other", date(2027, 1, 1), False, 16_800),
        (1_000_000, False, "transport", date(2026, 1, 1), False, 8_400),  # transport starts in January 2026
        (1_000_000, False, "transport", date(2027, 3, 1), False, 8_400),  # and ends in March 2027
        (1_000_000, False, "transport", date(2027, 4, 1), False, 16_800),
        (1_000_000, True, "other", date(2027, 1, 1), False, 36_800),
        (1_000_000, True, "other", date(2026, 6, 1), False, 28_400),  # JHT (20.000) is not discounted
        (2_000_000, False, "other", date(2027, 1, 1), False, 26_800),
        (1_000_000, False, "other", date(2026, 6, 1), True, 16_800),  # APBN/APBD money: no discount
        (1_050_050, False, "other", date(2026, 6, 1), False, 8_651),  # halves round up: 5.251 + 3.400
    ],
)
def test_monthly_bill(income, jht, sector, month, government, total):
    bill = monthly_bill(income_nominal=income, with_jht=jht, sector=sector, month=month, government_funded=government)
    assert bill.total == total
    assert bill.total == bill.jkk + bill.jkm + bill.jht


@pytest.mark.parametrize(
    "kwargs",
    [
        {"income_nominal": 0},
        {"income_nominal": -1},
        {"income_nominal": 1.5},
        {"sector": "mining"},
        {"month": date(2026, 11, 2)},
    ],
)
def test_monthly_bill_refuses_bad_input(kwargs):
    values = {"income_nominal": 1_000_000, "with_jht": False, "sector": "other", "month": date(2026, 11, 1)}
    values.update(kwargs)
    with pytest.raises(ValueError, match=r"."):
        monthly_bill(**values)


# --- The outcome of each line of a batch -----------------------------------------------------------------------------

NOV = date(2026, 11, 1)
OCT = date(2026, 10, 1)
ANNA = Participant("90000000019", "nik-anna", date(2026, 1, 1), frozenset({date(2026, 9, 1), OCT}))
BUDI = Participant("90000000027", "nik-budi", date(2026, 1, 1), frozenset({date(2026, 5, 1)}))


def _judge(lines):
    return {
        line_id: outcome.reason
        for line_id, outcome in judge_batch(
            lines, [ANNA, BUDI], reference=NOV, expected_amount=lambda p, line: 100
        ).items()
    }


def test_each_line_gets_the_first_reason_that_applies():
    lines = [
        Line(1, NOV, 100, kpj_number=ANNA.kpj_number),
        Line(2, NOV, 100, kpj_number=ANNA.kpj_number),  # the same participant-month again
        Line(3, NOV, 100, nik_index="nik-anna"),  # the same again, by NIK
        Line(4, NOV, 100, kpj_number="12345678901"),
        Line(5, NOV, 100, kpj_number=ANNA.kpj_number, nik_index="nik-budi"),
        Line(6, NOV, 100, nik_index="nik-nobody"),
        Line(7, OCT, 100, kpj_number=ANNA.kpj_number),
        Line(8, OCT, 100, kpj_number=BUDI.kpj_number),  # Budi's last paid month was May: ended
        Line(9, date(2027, 12, 1), 100, kpj_number=BUDI.kpj_number),
        Line(10, date(2025, 12, 1), 100, kpj_number=BUDI.kpj_number),
        Line(11, date(2026, 12, 1), 99, kpj_number=BUDI.kpj_number),
        Line(12, NOV, 100, kpj_number=BUDI.kpj_number),
    ]
    assert _judge(lines) == {
        1: "",
        2: reasons.DUPLICATE_LINE,
        3: reasons.DUPLICATE_LINE,
        4: reasons.UNKNOWN_PARTICIPANT,
        5: reasons.KPJ_MISMATCH,
        6: reasons.NOT_REGISTERED,
        7: reasons.ALREADY_PAID,
        8: reasons.ARREARS_NOT_PAYABLE,
        9: reasons.MONTH_OUT_OF_WINDOW,
        10: reasons.MONTH_BEFORE_REGISTRATION,
        11: reasons.AMOUNT_MISMATCH,
        12: "",
    }


def test_of_two_duplicate_lines_the_smaller_line_id_is_judged_whatever_the_order():
    lines = [Line(9, NOV, 99, kpj_number=ANNA.kpj_number), Line(3, NOV, 100, kpj_number=ANNA.kpj_number)]
    assert _judge(lines) == {3: "", 9: reasons.DUPLICATE_LINE}
    assert _judge(list(reversed(lines))) == {3: "", 9: reasons.DUPLICATE_LINE}


def test_a_line_refused_for_its_identity_does_not_make_the_next_one_a_duplicate():
    lines = [
        Line(1, NOV, 100, kpj_number=ANNA.kpj_number, nik_index="nik-budi"),
        Line(2, NOV, 100, kpj_number=ANNA.kpj_number),
    ]
    assert _judge(lines) == {1: reasons.KPJ_MISMATCH, 2: ""}


# --- Cells and rows of the agency's files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-11", date(2026, 11, 1)),
        ("2026-11-01", date(2026, 11, 1)),
        ("2026-11-30", date(2026, 11, 1)),
        ("11/2026", date(2026, 11, 1)),
        ("11-2026", date(2026, 11, 1)),
        ("202611", date(2026, 11, 1)),
        (date(2026, 11, 17), date(2026, 11, 1)),
        (datetime(2026, 11, 17, 8, 30), date(2026, 11, 1)),
    ],
)
def test_month_cells(cell, expected):
    assert cells.month(cell) == expected


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("2026-13", reasons.INVALID_MONTH),
        ("2026-02-30", reasons.INVALID_MONTH),
        ("November", reasons.INVALID_MONTH),
        ("1899-01", reasons.INVALID_MONTH),
        ("", reasons.MISSING_VALUE),
        (None, reasons.MISSING_VALUE),
        ("=DATE(2026,11,1)", reasons.FORMULA_CELL),
    ],
)
def test_bad_month_cells(cell, code):
    with pytest.raises(cells.CellProblem) as problem:
        cells.month(cell)
    assert problem.value.code == code


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (16800, 16800),
        (16800.0, 16800),
        ("16800", 16800),
        ("16.800", 16800),
        ("16,800", 16800),
        ("Rp 16.800", 16800),
        ("Rp16.800,00", 16800),
        ("1.000.000", 1_000_000),
        ("16800.00", 16800),
    ],
)
def test_amount_cells(cell, expected):
    assert cells.amount(cell) == expected


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("16.80", reasons.INVALID_AMOUNT),
        ("16800.5", reasons.INVALID_AMOUNT),
        (16800.5, reasons.INVALID_AMOUNT),
        (0, reasons.INVALID_AMOUNT),
        ("-16800", reasons.INVALID_AMOUNT),
        ("=16800*2", reasons.FORMULA_CELL),
        ("+cmd|' /C calc'!A0", reasons.FORMULA_CELL),
        ("@SUM(A1)", reasons.FORMULA_CELL),
        (True, reasons.INVALID_AMOUNT),
        ("", reasons.MISSING_VALUE),
    ],
)
def test_bad_amount_cells(cell, code):
    with pytest.raises(cells.CellProblem) as problem:
        cells.amount(cell)
    assert problem.value.code == code


def test_kpj_nik_and_line_cells():
    assert cells.kpj("900 0000 0019") == "90000000019"
    assert cells.kpj(1234567890) == "01234567890"  # a spreadsheet dropped the leading zero
    assert cells.nik("6409 0117 0890 0001") == "6409011708900001"
    assert cells.nik("") == ""
    assert cells.line_id("42") == 42
    assert cells.line_id(42.0) == 42
    for parse, cell, code in [
        (cells.kpj, "1234", reasons.INVALID_KPJ),
        (cells.kpj, "", reasons.MISSING_VALUE),
        (cells.nik, 6409011708900001.0, reasons.INVALID_NIK),
        (cells.nik, "64090117089000", reasons.INVALID_NIK),
        (cells.line_id, "4.5", reasons.INVALID_LINE),
        (cells.line_id, "-3", reasons.INVALID_LINE),
        (cells.line_id, "=A1", reasons.FORMULA_CELL),
    ]:
        with pytest.raises(cells.CellProblem) as problem:
            parse(cell)
        assert problem.value.code == code
        assert "6409011708900001" not in str(problem.value.params)


def test_headers_match_in_either_language_and_report_what_is_missing():
    positions, missing = formats.map_header(
        ["\ufeffKode Batch", "No. Baris", "No KPJ", "Bulan Iuran", "Iuran", "Hasil", "Catatan"], formats.CONFIRMATIONS
    )
    assert positions == {"batch": 0, "line": 1, "kpj": 2, "month": 3, "amount": 4, "result": 5}
    assert missing == []
    _positions, missing = formats.map_header(["kpj", "status"], formats.STATUS)
    assert missing == ["as_of"]


def test_a_confirmation_row_reports_every_bad_cell():
    positions, _missing = formats.map_header(
        ["batch", "line", "kpj", "month", "amount", "result", "reason", "reference"], formats.CONFIRMATIONS
    )
    good = formats.parse_confirmation_row(
        2, ["b1", "7", "90000000019", "2026-11", "8.400", "DITERIMA", "", "R-1"], positions
    )
    assert good == formats.ConfirmationRow(2, "b1", 7, "90000000019", date(2026, 11, 1), 8400, "accepted", "", "R-1")
    refused = formats.parse_confirmation_row(3, ["b1", "8", "90000000019", "2026-11", "", "gagal", "x", ""], positions)
    assert refused.amount is None
    assert refused.result == "rejected"
    bad = formats.parse_confirmation_row(4, ["", "x", "1", "2026-13", "=1+1", "maybe", "", ""], positions)
    assert [(p.column, p.code) for p in bad] == [
        ("batch", reasons.MISSING_VALUE),
        ("line", reasons.INVALID_LINE),
        ("kpj", reasons.INVALID_KPJ),
        ("month", reasons.INVALID_MONTH),
        ("result", reasons.INVALID_RESULT),
        ("amount", reasons.FORMULA_CELL),
    ]
