"""Pure rules of import rows: header synonyms, cell parsing, formulas and row validation (no database)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingkaran.registry.domain import import_rows as rules
from lingkaran.registry.domain.nik import check_nik
from lingkaran.registry.domain.people import normalise_name
from lingkaran.registry.domain.sample_rows import HEADER, make_nik, sample_rows, shape

TODAY = date(2026, 1, 1)
OCCUPATIONS = {
    rules.occupation_key(text): code
    for code, name_id, name_en in [
        ("ojol", "Pengemudi ojek online", "Online motorcycle-taxi driver"),
        ("pedagang_kaki_lima", "Pedagang kaki lima", "Street vendor"),
        ("prt", "Pekerja rumah tangga", "Domestic worker"),
    ]
    for text in (code, name_id, name_en)
}
REGIONS = {
    "64": 1,
    "64.09": 2,
    "64.09.01": 3,
    "64.09.01.2020": 4,
    "64.09.01.1001": 4,
    "33.74.01": 3,
    "33.74.01.1001": 4,
}


def validator(header=HEADER, *, scope=lambda code: True, known_districts=None, mapping=None):
    return rules.RowValidator(
        header=header,
        mapping=mapping if mapping is not None else rules.detect_mapping(header),
        today=TODAY,
        occupations=OCCUPATIONS,
        regions=REGIONS,
        in_scope=scope,
        known_districts=known_districts,
    )


def row(**changes) -> list:
    values = {
        "nik": "6409014501900001",
        "nama_lengkap": "Siti Aminah",
        "tanggal_lahir": "1990-01-05",
        "jenis_kelamin": "P",
        "pekerjaan": "ojol",
        "penghasilan": "1.500.000",
        "no_hp": "0812-3456-7890",
        "alamat": "Jl.  Mawar   1",
        "kode_desa": "64.09.01.2020",
        "desil": "2",
        "disabilitas": "tidak",
        "lansia": "",
        "kepala_keluarga_perempuan": "ya",
        "miskin_ekstrem": "N",
        "mustahik": "Y",
    }
    values.update(changes)
    return [values[h] for h in HEADER]


def codes(problems, errors_only=True):
    return [(p.column, p.code) for p in problems if p.is_error or not errors_only]


# --- Columns --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("NIK", "nik"),
        ("No. KTP", "nik"),
        ("Nomor Induk Kependudukan", "nik"),
        ("Nama", "full_name"),
        ("Nama Lengkap", "full_name"),
        ("full_name", "full_name"),
        ("Tanggal Lahir", "birth_date"),
        ("TGL LAHIR", "birth_date"),
        ("birth_date", "birth_date"),
        ("Jenis Kelamin (L/P)", "sex"),
        ("JK", "sex"),
        ("Sex", "sex"),
        ("Pekerjaan", "occupation"),
        ("Occupation", "occupation"),
        ("Penghasilan", "declared_income"),
        ("Penghasilan per bulan", "declared_income"),
        ("declared_income", "declared_income"),
        ("No HP", "phone"),
        ("Telepon", "phone"),
        ("Phone", "phone"),
        ("Alamat", "address"),
        ("Address", "address"),
        ("Kode Desa", "region_code"),
        ("Desa", "region_code"),
        ("region_code", "region_code"),
        ("Desil", "dtsen_decile"),
        ("DTSEN decile", "dtsen_decile"),
        ("Disabilitas", "has_disability"),
        ("Lansia", "is_elderly"),
        ("Kepala Keluarga Perempuan", "is_female_head"),
        ("Miskin Ekstrem", "on_extreme_poverty_list"),
        ("Mustahik", "zakat_eligible"),
        ("Zakat", "zakat_eligible"),
        ("\ufeffnik", "nik"),
        ("Keterangan", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_headers_are_recognised_in_indonesian_and_english(header, field):
    assert rules.field_for_header(header) == field


def test_a_field_named_twice_is_taken_from_its_first_column():
    assert rules.detect_mapping(["NIK", "No KTP", "Nama", "Catatan"]) == ["nik", "", "full_name", ""]


def test_the_header_is_found_below_a_title():
    rows = [["DAFTAR PEKERJA RENTAN KAB. PPU", None], [None, None], ["NIK", "Nama", "Tgl Lahir"], ["1", "2", "3"]]
    assert rules.find_header_row(rows) == 2
    assert rules.find_header_row([["a", "b"], ["c", "d"]]) == 0


def test_mapping_problems_name_missing_and_repeated_columns():
    header = ["NIK", "Nama", "Nama lagi"]
    problems = rules.mapping_problems(["nik", "full_name", "full_name"], header)
    assert [(p.code, p.params) for p in problems] == [
        ("column_mapped_twice", {"column": "Nama lagi", "field": "nama_lengkap"}),
        ("column_missing", {"column": "tanggal_lahir"}),
        ("column_missing", {"column": "jenis_kelamin"}),
        ("column_missing", {"column": "pekerjaan"}),
        ("column_missing", {"column": "penghasilan"}),
    ]
    assert rules.mapping_problems(rules.detect_mapping(HEADER), HEADER) == []


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters(index, letter):
    assert rules.column_letter(index) == letter


# --- Cells ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1990-01-05", date(1990, 1, 5)),
        ("05-01-1990", date(1990, 1, 5)),
        ("05/01/1990", date(1990, 1, 5)),
        ("5/1/1990", date(1990, 1, 5)),
        ("05.01.1990", date(1990, 1, 5)),
        ("1990/01/05", date(1990, 1, 5)),
        ("1990-01-05 00:00:00", date(1990, 1, 5)),
        (datetime(1990, 1, 5, 0, 0), date(1990, 1, 5)),
        (date(1990, 1, 5), date(1990, 1, 5)),
        (32878, date(1990, 1, 5)),  # a spreadsheet date that lost its format
        (32878.0, date(1990, 1, 5)),
        ("29-02-2000", date(2000, 2, 29)),
        ("29-02-1900", None),
        ("31-02-1990", None),
        ("1990-13-01", None),
        ("05-01-90", None),  # two-digit years are ambiguous
        ("kemarin", None),
        (True, None),
        (-3, None),
    ],
)
def test_dates(value, expected):
    assert rules.parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("L", "M"), ("l", "M"), ("Laki-laki", "M"), ("LAKI LAKI", "M"), ("Pria", "M"), ("M", "M"), ("male", "M"),
     ("P", "F"), ("Perempuan", "F"), ("wanita", "F"), ("F", "F"), ("Female", "F"), ("X", None), ("", None)],
)  # fmt: skip
def test_sex(value, expected):
    assert rules.parse_sex(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Y", True), ("ya", True), ("Iya", True), ("1", True), (1, True), (True, True), ("yes", True), ("✓", True),
     ("N", False), ("tidak", False), ("0", False), ("", False), (None, False), (False, False), ("no", False),
     ("mungkin", None), ("2", None)],
)  # fmt: skip
def test_flags(value, expected):
    assert rules.parse_flag(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1500000", 1_500_000),
        ("1.500.000", 1_500_000),
        ("Rp 1.500.000", 1_500_000),
        ("Rp1.500.000,00", 1_500_000),
        ("1,500,000", 1_500_000),
        ("1,500,000.00", 1_500_000),
        ("1500000,00", 1_500_000),
        (1_500_000, 1_500_000),
        (1_500_000.0, 1_500_000),
        ("-5000", None),
        (-5000, None),
        ("1.5", None),
        (1.5, None),
        ("satu juta", None),
        (True, None),
        ("", None),
    ],
)
def test_rupiah_amounts(value, expected):
    assert rules.parse_rupiah(value) == expected


@pytest.mark.parametrize(
    ("value", "char"),
    [
        ("=SUM(A1:A9)", "="),
        ('=HYPERLINK("http://x","klik")', "="),
        ("@SUM(1)", "@"),
        ("+A1", "+"),
        ("-A1", "-"),
        ("-1+1", "-"),
        ("+cmd|' /C calc'!A0", "+"),
        ("   =1+1", "="),
        ("+", "+"),
        ("+62 812-3456-7890", None),  # a phone number
        ("+628123456789", None),
        ("+62 (812) 3456 7890", None),
        ("-5000", None),  # a negative number: refused later as a value, not as a formula
        ("-", None),  # the usual "nothing"
        ("Budi", None),
        ("a=b", None),
        (5, None),
        (None, None),
    ],
)
def test_formulas(value, char):
    assert rules.formula_start(value) == char


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), ("  Budi  ", "Budi"), ("-", ""), (3201014501900001, "3201014501900001"), (1500000.0, "1500000"),
     (1.5, "1.5"), (True, "1"), (datetime(1990, 1, 5), "1990-01-05"), (date(1990, 1, 5), "1990-01-05")],
)  # fmt: skip
def test_cells_as_text(value, text):
    assert rules.as_text(value) == text


# --- Rows -----------------------------------------------------------------------------------------------------------


def test_a_valid_row_is_cleaned():
    clean, problems = validator().validate(row())
    assert problems == []
    assert clean == rules.CleanRow(
        nik="6409014501900001",
        full_name="Siti Aminah",
        name_key="SITI AMINAH",
        birth_date=date(1990, 1, 5),
        sex="F",
        occupation="ojol",
        declared_income=1_500_000,
        phone="+6281234567890",
        address="Jl. Mawar 1",
        region_code="64.09.01.2020",
        village_code="64.09.01.2020",
        dtsen_decile=2,
        has_disability=False,
        is_elderly=False,
        is_female_head=True,
        on_extreme_poverty_list=False,
        zakat_eligible=True,
    )


def test_without_a_desa_the_worker_lives_in_the_niks_kecamatan():
    clean, _ = validator().validate(row(kode_desa=""))
    assert (clean.region_code, clean.village_code) == ("64.09.01", None)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"nik": "640901450190001"}, [("nik", "nik_length")]),
        ({"nik": ""}, [("nik", "nik_missing")]),
        ({"nik": "64090145019OOO01"}, [("nik", "nik_not_digits")]),
        ({"nik": "-6409014501900001"}, [("nik", "nik_not_digits")]),
        ({"nik": "6409014501900000"}, [("nik", "nik_serial_zero")]),
        ({"tanggal_lahir": "1990-01-06"}, [("tanggal_lahir", "nik_birth_date_mismatch")]),
        ({"jenis_kelamin": "L"}, [("jenis_kelamin", "nik_sex_mismatch")]),
        ({"jenis_kelamin": "X"}, [("jenis_kelamin", "sex_invalid")]),
        ({"tanggal_lahir": ""}, [("tanggal_lahir", "birth_date_missing")]),
        ({"tanggal_lahir": "31-02-1990"}, [("tanggal_lahir", "birth_date_invalid")]),
        ({"nama_lengkap": ""}, [("nama_lengkap", "name_missing")]),
        ({"nama_lengkap": "1234"}, [("nama_lengkap", "name_invalid")]),
        ({"nama_lengkap": "A" * 151}, [("nama_lengkap", "name_too_long")]),
        ({"pekerjaan": "astronot"}, [("pekerjaan", "occupation_unknown")]),
        ({"pekerjaan": ""}, [("pekerjaan", "occupation_unknown")]),
        ({"penghasilan": "-5000"}, [("penghasilan", "income_invalid")]),
        ({"penghasilan": "0"}, [("penghasilan", "income_invalid")]),
        ({"penghasilan": "9999999999"}, [("penghasilan", "income_invalid")]),
        ({"no_hp": "12345"}, [("no_hp", "phone_invalid")]),
        ({"no_hp": "+1 555 0100"}, [("no_hp", "phone_not_indonesian")]),
        ({"no_hp": "-0812345678"}, [("no_hp", "phone_invalid")]),
        ({"alamat": "x" * 501}, [("alamat", "value_too_long")]),
        ({"kode_desa": "64.09.01.9999"}, [("kode_desa", "region_unknown")]),
        ({"kode_desa": "64.09.01"}, [("kode_desa", "region_not_village")]),
        ({"desil": "11"}, [("desil", "decile_invalid")]),
        ({"desil": "dua"}, [("desil", "decile_invalid")]),
        ({"lansia": "mungkin"}, [("lansia", "flag_invalid")]),
        ({"nama_lengkap": "=1+1"}, [("nama_lengkap", "formula_refused")]),
        ({"pekerjaan": "@SUM(1)", "penghasilan": "+A1"}, [("pekerjaan", "formula_refused"), ("penghasilan", "formula_refused")]),
    ],
)  # fmt: skip
def test_row_problems_name_the_column(changes, expected):
    clean, problems = validator().validate(row(**changes))
    assert clean is None
    assert codes(problems) == expected


def test_a_formula_is_reported_once_not_also_as_a_missing_value():
    _clean, problems = validator().validate(row(nama_lengkap="=HYPERLINK(1)", tanggal_lahir="@x", nik="=A1"))
    assert codes(problems) == [("nik", "formula_refused"), ("nama_lengkap", "formula_refused"),
                               ("tanggal_lahir", "formula_refused")]  # fmt: skip
    assert problems[0].params == {"char": "="}


@pytest.mark.parametrize("phone", ["+62 812-3456-7890", "+6281234567890", "62 812 3456 7890", "0812 3456 7890"])
def test_phone_numbers_starting_with_plus_62_are_phones_not_formulas(phone):
    clean, problems = validator().validate(row(no_hp=phone))
    assert problems == []
    assert clean.phone == "+6281234567890"


def test_a_lone_dash_is_an_empty_cell():
    clean, problems = validator().validate(row(no_hp="-", alamat="-", kode_desa="-", desil="-"))
    assert problems == []
    assert (clean.phone, clean.address, clean.village_code, clean.dtsen_decile) == ("", "", None, None)


def test_typed_spreadsheet_cells():
    cells = row(
        tanggal_lahir=datetime(1990, 1, 5),
        penghasilan=1500000,
        desil=2.0,
        disabilitas=True,
        lansia=False,
        no_hp=81234567890,
    )
    clean, problems = validator().validate(cells)
    assert problems == []
    assert (clean.nik, clean.birth_date, clean.declared_income, clean.dtsen_decile) == (
        "6409014501900001",
        date(1990, 1, 5),
        1_500_000,
        2,
    )
    assert (clean.has_disability, clean.is_elderly, clean.phone) == (True, False, "+6281234567890")


@pytest.mark.parametrize("number", [6.40901450190000e15, 6409014501900001])
def test_a_nik_stored_as_a_spreadsheet_number_is_refused(number):
    """Excel keeps 15 significant digits, so a NIK typed as a number may have lost its last digit."""
    clean, problems = validator().validate(row(nik=number))
    assert clean is None
    assert codes(problems) == [("nik", "nik_stored_as_number")]


@pytest.mark.parametrize("text", ["Ojol", "ojol", "Pengemudi ojek online", "online motorcycle-taxi driver",
                                  "pedagang_kaki_lima", "Pedagang Kaki Lima", "  street vendor ", "PRT"])  # fmt: skip
def test_occupations_by_code_or_indonesian_or_english_name(text):
    clean, problems = validator().validate(row(pekerjaan=text))
    assert problems == []
    assert clean.occupation in {"ojol", "pedagang_kaki_lima", "prt"}


def test_regions_outside_the_users_scope_are_refused():
    in_penajam = validator(scope=lambda code: code == "64.09.01" or code.startswith("64.09.01."))
    assert in_penajam.validate(row())[1] == []
    _clean, problems = in_penajam.validate(row(kode_desa="33.74.01.1001"))
    assert codes(problems) == [("kode_desa", "region_outside_scope")]
    semarang = make_nik("33.74.01", date(1990, 1, 5), "F", 1)
    _clean, problems = in_penajam.validate(row(nik=semarang, kode_desa=""))
    assert codes(problems) == [("nik", "region_outside_scope")]
    assert problems[0].params == {"code": "33.74.01"}


def test_an_unknown_nik_kecamatan_is_a_warning():
    clean, problems = validator(known_districts=frozenset({"33.74.01"})).validate(row())
    assert clean is not None
    assert [(p.code, p.is_error, p.params) for p in problems] == [
        ("nik_region_unknown", False, {"district": "64.09.01"})
    ]


def test_values_right_of_the_header_are_a_warning():
    clean, problems = validator().validate([*row(), "", "catatan"])
    assert clean is not None
    assert [(p.code, p.is_error) for p in problems] == [("row_extra_cells", False)]
    assert validator().validate([*row(), "", "  "])[1] == []


def test_short_rows_miss_their_last_cells():
    _clean, problems = validator().validate(row()[:4])
    assert codes(problems) == [("pekerjaan", "occupation_unknown"), ("penghasilan", "income_invalid")]


def test_a_custom_mapping_reads_other_headers():
    header = ["No", "KTP", "Nama Peserta", "TTL", "L/P", "Profesi", "Gaji"]
    mapping = ["", "nik", "full_name", "birth_date", "sex", "occupation", "declared_income"]
    cells = ["1", "6409014501900001", "Siti", "05-01-1990", "P", "ojol", "Rp 900.000"]
    clean, problems = validator(header, mapping=mapping).validate(cells)
    assert problems == []
    assert (clean.nik, clean.declared_income, clean.address, clean.is_female_head) == (
        "6409014501900001",
        900_000,
        "",
        False,
    )


def test_nik_of_gives_the_normalised_nik_or_nothing():
    assert rules.nik_of(["6409.0145.0190.0001"], 0) == "6409014501900001"
    assert rules.nik_of([6409014501900001], 0) == "6409014501900001"
    assert rules.nik_of(["123"], 0) == ""
    assert rules.nik_of([], 0) == ""
    assert rules.nik_of(["6409014501900001"], None) == ""


# --- Fast paths equal the reference functions -----------------------------------------------------------------------

digits16 = st.text(alphabet="0123456789", min_size=16, max_size=16)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=400, deadline=None)
@given(nik=digits16, birth=st.one_of(st.none(), dates), sex=st.sampled_from(["M", "F", None]))
def test_the_fast_nik_check_never_accepts_what_check_nik_refuses(nik, birth, sex):
    if rules.nik_fast(nik, birth, sex, TODAY):
        check = check_nik(nik, today=TODAY, declared_birth_date=birth, declared_sex=sex)
        assert check.is_valid
        assert (check.birth_date, check.sex) == (birth, sex)


@settings(max_examples=300, deadline=None)
@given(
    birth=st.dates(min_value=date(1926, 1, 2), max_value=TODAY),
    sex=st.sampled_from(["M", "F"]),
    serial=st.integers(1, 9999),
    district=st.sampled_from(["64.09.01", "33.74.01", "11.01.01", "96.01.02"]),
)
def test_the_fast_nik_check_accepts_every_valid_nik(birth, sex, serial, district):
    nik = make_nik(district, birth, sex, serial)
    assert check_nik(nik, today=TODAY, declared_birth_date=birth, declared_sex=sex).is_valid
    assert rules.nik_fast(nik, birth, sex, TODAY)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=40), st.from_regex(r"[A-Za-z .,'-]{0,30}", fullmatch=True)))
def test_the_fast_name_key_equals_normalise_name(name):
    assert rules.name_key_fast(name) == normalise_name(name)


@pytest.mark.parametrize("name", ["Siti Aminah", "Hj. Siti Aminah, S.Pd", "H Ahmad", "Ma'ruf Amin", "Dr Budi", "Ñoño"])
def test_the_fast_name_key_on_titles_and_accents(name):
    assert rules.name_key_fast(name) == normalise_name(name)


# --- Sample rows (demo and benchmark) -------------------------------------------------------------------------------


def test_sample_rows_have_the_promised_mix():
    count = 1000
    rows = list(sample_rows(_rng(), count, districts=["64.09.01", "33.74.01"], today=TODAY))
    expected = shape(count)
    assert (expected.invalid, expected.duplicates) == (20, 10)
    import importlib

    seeded = importlib.import_module("lingkaran.registry.migrations.0002_occupations_and_append_only").OCCUPATIONS
    every = {rules.occupation_key(t): code for code, _group, *names in seeded for t in (code, *names)}
    check = rules.RowValidator(header=HEADER, mapping=rules.detect_mapping(HEADER), today=TODAY, occupations=every,
                               regions=REGIONS, in_scope=lambda code: True)  # fmt: skip
    results = [check.validate(r) for r in rows]
    invalid = sum(1 for clean, _ in results if clean is None)
    niks = [clean.nik for clean, _ in results if clean is not None]
    assert invalid == expected.invalid
    assert len(niks) - len(set(niks)) == expected.duplicates


def _rng():
    import random

    return random.Random(7)


def test_sample_birth_dates_are_adults():
    rows = list(sample_rows(_rng(), 200, districts=["64.09.01"], today=TODAY))
    births = [rules.parse_date(r[2]) for r in rows]
    assert all(b is None or TODAY - b >= timedelta(days=18 * 365) for b in births)
