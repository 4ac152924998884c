"""The pure rules of an uploaded list of NIKs: reading CSV and XLSX (header detection, title rows, numbers and
scientific notation refused per row, limits) and classifying every row (exactly one outcome each)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingkaran.protection.domain import nik_list as rules
from lingkaran.protection.domain.nik_list import Found, ListRefused, ListRow, Outcome, Problem

NIK = "6409011708900001"


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("cell", "nik", "problem"),
    [
        (NIK, NIK, None),
        ("  6409 0117 0890 0001 ", NIK, None),
        ("6409.0117.0890.0001", NIK, None),
        ("6409-0117-0890-0001", NIK, None),
        ("'6409011708900001", NIK, None),
        ('="6409011708900001"', NIK, None),
        (None, "", Problem.EMPTY),
        ("   ", "", Problem.EMPTY),
        ("'", "", Problem.EMPTY),
        (6409011708900001, "", Problem.NUMBER),
        (6.409011708900001e15, "", Problem.NUMBER),
        ("6409011708900001.0", "", Problem.NUMBER),
        ("6409011708900000,00", "", Problem.NUMBER),
        ("6.40901E+15", "", Problem.SCIENTIFIC),
        ("6,40901E+15", "", Problem.SCIENTIFIC),
        ("6.409011708900001e15", "", Problem.SCIENTIFIC),
        ("64090117089O0001", "", Problem.NOT_DIGITS),
        ("٦٤٠٩٠١١٧٠٨٩٠٠٠٠١", "", Problem.NOT_DIGITS),
        (True, "", Problem.NOT_DIGITS),
        ("640901170890001", "", Problem.LENGTH),
        ("64090117089000011", "", Problem.LENGTH),
    ],
)
def test_a_nik_cell(cell, nik, problem):
    assert rules.read_nik(cell)[:2] == (nik, problem)


def test_the_length_problem_says_how_many_digits():
    assert rules.read_nik("6409 0117")[2] == {"length": 8}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("nik", True), ("NIK", True), ("No. KTP", True), ("no_ktp", True), ("Nomor KTP", True), (" NIK Peserta ", True),
        ("\ufeffnik", True), ("nama", False), ("nikah", False), ("", False),
    ],
)  # fmt: skip
def test_nik_header_names(header, expected):
    assert (rules.header_key(header) in rules.NIK_HEADERS) is expected


def test_a_csv_with_title_rows_a_semicolon_and_names():
    data = (
        "\ufeffDaftar penerima bantuan iuran Pemda;;\n;;\nNo;No. KTP;Nama Lengkap\n1;6409011708900001;Siti\n\n"
        "2;6409011708900002;Budi\n"
    ).encode()
    parsed = rules.read_list(data, "daftar.csv")
    assert (parsed.file_format, parsed.header_row, parsed.nik_column, parsed.name_column) == (
        "csv", 3, "No. KTP", "Nama Lengkap",
    )  # fmt: skip
    assert [(r.number, r.nik, r.name) for r in parsed.rows] == [
        (4, "6409011708900001", "Siti"),
        (6, "6409011708900002", "Budi"),
    ]


def test_a_list_without_a_header_starts_with_niks():
    parsed = rules.read_list(b"Siti\t6409011708900001\nBudi\t6409011708900002\n")
    assert (parsed.header_row, parsed.nik_column) == (0, "B")
    assert parsed.niks == ["6409011708900001", "6409011708900002"]


def test_a_headerless_excel_list_of_numbers_is_read_and_every_row_refused():
    parsed = rules.read_list(xlsx([[6409011708900001], [6409011708900002]]))
    assert [(r.number, r.problem) for r in parsed.rows] == [(1, Problem.NUMBER), (2, Problem.NUMBER)]


def test_cp1252_and_utf16_text_are_read():
    assert rules.read_list("nik;nama\n6409011708900001;José\n".encode("cp1252")).rows[0].name == "José"
    assert rules.read_list("nik\tnama\n6409011708900001\tAni\n".encode("utf-16")).niks == [NIK]


def test_an_xlsx_keeps_row_numbers_across_blank_rows_and_types():
    parsed = rules.read_list(
        xlsx([["Daftar"], [], ["NIK", "Nama"], [NIK, "Siti"], [], [], [6409011708900002, "Budi"], ["6.40901E+15"]])
    )
    assert [(r.number, r.nik, r.problem) for r in parsed.rows] == [
        (4, NIK, None),
        (7, "", Problem.NUMBER),
        (8, "", Problem.SCIENTIFIC),
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "file_empty"),
        (b"x" * (rules.MAX_BYTES + 1), "file_too_large"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "file_xls_old"),
        (b"%PDF-1.7", "file_not_spreadsheet"),
        (b"abc\x00def", "file_not_spreadsheet"),
        (b"PK\x03\x04broken", "file_xlsx_invalid"),
        (b"nama,alamat\nSiti,Jl. Mawar\n", "no_nik_column"),
        (b"nik\n\n\n", "no_rows"),
        (("nik\n" + f"{NIK}\n" * (rules.MAX_ROWS + 1)).encode(), "too_many_rows"),
    ],
)
def test_files_refused_as_a_whole(data, reason):
    with pytest.raises(ListRefused) as refused:
        rules.read_list(data)
    assert refused.value.reason == reason


def test_exactly_the_row_limit_is_read():
    assert len(rules.read_list(("nik\n" + f"{NIK}\n" * rules.MAX_ROWS).encode()).rows) == rules.MAX_ROWS


def test_the_no_column_refusal_names_what_it_found():
    with pytest.raises(ListRefused) as refused:
        rules.read_list(b"nama,alamat\nSiti,Jl. Mawar\n")
    assert refused.value.params == {"found": "nama, alamat"}


A, B, C, D = (f"640901170890{n:04d}" for n in range(1, 5))
FOUND = {
    A: Found(1, True, (), "SITI AMINAH"),
    B: Found(2, False),
    C: Found(3, True, ("not_zakat_eligible", "already_sponsored")),
}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([ListRow(2, A)], [(2, Outcome.MATCHED, 1, (), None)]),
        ([ListRow(2, B)], [(2, Outcome.NOT_VERIFIED, 2, (), None)]),
        ([ListRow(2, C)], [(2, Outcome.NOT_PAYABLE, 3, ("not_zakat_eligible", "already_sponsored"), None)]),
        ([ListRow(2, D)], [(2, Outcome.NOT_FOUND, None, (), None)]),
        ([ListRow(2, "", Problem.NUMBER)], [(2, Outcome.MALFORMED, None, ("nik_number",), None)]),
        (
            [ListRow(2, A), ListRow(3, A), ListRow(4, D), ListRow(5, D)],
            [
                (2, Outcome.MATCHED, 1, (), None),
                (3, Outcome.DUPLICATE, None, (), 2),
                (4, Outcome.NOT_FOUND, None, (), None),
                (5, Outcome.DUPLICATE, None, (), 4),
            ],
        ),
    ],
)
def test_classify(rows, expected):
    results = rules.classify(rows, FOUND)
    assert [(r.number, r.outcome, r.worker_id, r.reasons, r.first_row) for r in results] == expected


def test_blocking_rows_leave_out_duplicates_of_matched_rows_only():
    results = rules.classify([ListRow(2, A), ListRow(3, A), ListRow(4, D), ListRow(5, D)], FOUND)
    assert [r.number for r in rules.blocking(results)] == [4, 5]
    assert rules.blocking(rules.classify([ListRow(2, A), ListRow(3, A)], FOUND)) == []


@pytest.mark.parametrize(
    ("file_name", "registered", "differs"),
    [
        ("Siti Aminah", "SITI AMINAH", False),
        ("siti", "SITI AMINAH", False),
        ("Siti Aminah binti Ahmad", "SITI AMINAH", False),
        ("Budi Santoso", "SITI AMINAH", True),
        ("", "SITI AMINAH", False),
    ],
)
def test_a_name_that_is_not_the_registered_one_is_flagged(file_name, registered, differs):
    found = {A: Found(1, True, (), registered)}
    (result,) = rules.classify([ListRow(2, A, name=file_name)], found)
    assert (result.outcome, result.name_differs) == (Outcome.MATCHED, differs)


niks = st.sampled_from([A, B, C, D, "6409011708900009"])
list_rows = st.lists(
    st.one_of(
        st.builds(lambda nik, name: ("nik", nik, name), niks, st.sampled_from(["", "Siti", "Budi"])),
        st.builds(lambda problem: ("problem", problem), st.sampled_from(list(Problem))),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(list_rows)
def test_every_row_gets_exactly_one_outcome(spec):
    rows = [
        ListRow(n, item[1], name=item[2]) if item[0] == "nik" else ListRow(n, "", item[1])
        for n, item in enumerate(spec, start=2)
    ]
    results = rules.classify(rows, FOUND)
    assert [r.number for r in results] == [r.number for r in rows]
    tally = rules.counts(results)
    assert sum(tally.values()) == len(rows)
    distinct = {r.nik for r in rows if r.nik}
    assert tally["duplicate"] == sum(1 for r in rows if r.nik) - len(distinct)
    assert tally["malformed"] == sum(1 for r in rows if not r.nik)
    assert rules.matched_worker_ids(results) == sorted(
        FOUND[n].worker_id for n in distinct if n in FOUND and FOUND[n].verified and not FOUND[n].refusals
    )
    for result in results:
        if result.outcome is Outcome.DUPLICATE:
            assert result.first_row < result.number
            assert next(r for r in results if r.number == result.first_row).outcome is not Outcome.DUPLICATE


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.from_regex(r"[1-9][0-9]{15}", fullmatch=True), min_size=1, max_size=30),
    st.sampled_from([",", ";", "\t"]),
    st.booleans(),
)
def test_well_formed_niks_come_back_exactly_from_csv_and_xlsx(values, delimiter, as_xlsx):
    if as_xlsx:
        data = xlsx([["NIK", "Nama"], *([v, "Ani"] for v in values)])
    else:
        data = ("nik" + delimiter + "nama\n" + "".join(f"{v}{delimiter}Ani\n" for v in values)).encode()
    parsed = rules.read_list(data)
    assert [r.nik for r in parsed.rows] == values
    assert [r.number for r in parsed.rows] == list(range(2, len(values) + 2))
