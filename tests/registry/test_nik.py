"""NIK rules (``registry.domain.nik``): a table of cases and Hypothesis properties. Pure: no database, fixed today."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingkaran.registry.domain.nik import check_nik, mask_nik, normalise_nik

TODAY = date(2026, 11, 22)
KNOWN = frozenset({"64.09.01", "33.74.01"})

# (raw NIK, declared birth date, declared sex, expected errors [(code, field)], warnings, birth date, sex)
CASES = [
    # valid: men, women (+40), first and last days
    ("6409010508900001", None, None, [], [], date(1990, 8, 5), "M"),
    ("6409014508900001", None, None, [], [], date(1990, 8, 5), "F"),
    ("6409010101850001", None, None, [], [], date(1985, 1, 1), "M"),
    ("6409014101850001", None, None, [], [], date(1985, 1, 1), "F"),  # day 41 = 1st, a woman
    ("6409017101850001", None, None, [], [], date(1985, 1, 31), "F"),  # day 71 = 31st, a woman
    ("6409013112990001", None, None, [], [], date(1999, 12, 31), "M"),
    ("6409010101059999", None, None, [], [], date(2005, 1, 1), "M"),  # serial 9999
    # leap days
    ("6409012902960001", None, None, [], [], date(1996, 2, 29), "M"),
    ("6409016902960001", None, None, [], [], date(1996, 2, 29), "F"),
    ("6409012902000001", None, None, [], [], date(2000, 2, 29), "M"),  # 2000 is a leap year (1900 is not)
    ("6409012902010001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "M"),  # 2001 and 1901: no
    ("6409016902010001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "F"),
    ("6409013002960001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "M"),  # 30 February
    # impossible days and months
    ("6409013104900001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "M"),  # 31 April
    ("6409017104900001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "F"),  # 31 April, a woman
    ("6409010500900001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "M"),  # month 00
    ("6409010513900001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "M"),  # month 13
    ("6409010008900001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "M"),  # day 00
    ("6409013208900001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "M"),  # day 32
    ("6409014008900001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "M"),  # day 40: neither
    ("6409017208900001", None, None, [("nik_birth_date_invalid", "nik")], [], None, "F"),  # day 72 = 32nd
    # serial and region parts
    ("6409010508900000", None, None, [("nik_serial_zero", "nik")], [], date(1990, 8, 5), "M"),
    ("0009010508900001", None, None, [("nik_region_zero", "nik")], [], date(1990, 8, 5), "M"),
    ("6400010508900001", None, None, [("nik_region_zero", "nik")], [], date(1990, 8, 5), "M"),
    ("6409000508900001", None, None, [("nik_region_zero", "nik")], [], date(1990, 8, 5), "M"),
    # lengths, letters, empty; spaces, dots and dashes are stripped first
    ("640901050890001", None, None, [("nik_length", "nik")], [], None, ""),
    ("64090105089000011", None, None, [("nik_length", "nik")], [], None, ""),
    ("64090105089O0001", None, None, [("nik_not_digits", "nik")], [], None, ""),
    ("6409-0105-0890-000A", None, None, [("nik_not_digits", "nik")], [], None, ""),
    ("٦٤٠٩٠١٠٥٠٨٩٠٠٠٠١", None, None, [("nik_not_digits", "nik")], [], None, ""),  # Arabic-Indic digits
    ("6409010508900001²", None, None, [("nik_not_digits", "nik")], [], None, ""),
    ("", None, None, [("nik_missing", "nik")], [], None, ""),
    ("   ", None, None, [("nik_missing", "nik")], [], None, ""),
    ("6409 0105 0890 0001", None, None, [], [], date(1990, 8, 5), "M"),
    ("64.09.01.050890.0001", None, None, [], [], date(1990, 8, 5), "M"),
    (" 6409-0105-0890-0001 ", None, None, [], [], date(1990, 8, 5), "M"),
    # dates in the future (today is fixed) and the century guess
    ("6409010112260001", None, None, [("nik_birth_date_future", "nik")], [], date(2026, 12, 1), "M"),
    ("6409012211260001", None, None, [], [], date(2026, 11, 22), "M"),  # born today
    ("6409010101270001", None, None, [], [], date(1927, 1, 1), "M"),  # 2027 is future: 1927
    ("6409010101200001", date(1920, 1, 1), "M", [], [], date(1920, 1, 1), "M"),  # declared date gives the century
    # cross-checks name the field that disagrees
    ("6409014508900001", date(1990, 8, 5), "M", [("nik_sex_mismatch", "sex")], [], date(1990, 8, 5), "F"),
    ("6409010508900001", date(1990, 8, 5), "F", [("nik_sex_mismatch", "sex")], [], date(1990, 8, 5), "M"),
    ("6409010508900001", date(1990, 8, 6), "M", [("nik_birth_date_mismatch", "birth_date")], [], date(1990, 8, 5), "M"),
    ("6409010508900001", date(1991, 8, 5), "M", [("nik_birth_date_mismatch", "birth_date")], [], date(1990, 8, 5), "M"),
    ("6409014508900001", date(1990, 8, 5), "F", [], [], date(1990, 8, 5), "F"),
    # a kecamatan missing from the loaded list is a warning (an old code from before a split), not an error
    ("6499010508900001", None, None, [], ["nik_region_unknown"], date(1990, 8, 5), "M"),
    ("3374014508900001", None, None, [], [], date(1990, 8, 5), "F"),
    # no warning on top of errors
    ("6499010508900000", None, None, [("nik_serial_zero", "nik")], [], date(1990, 8, 5), "M"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "birth", "sex", "errors", "warnings", "decoded_birth", "decoded_sex"), CASES)
def test_nik_table(raw, birth, sex, errors, warnings, decoded_birth, decoded_sex):
    check = check_nik(raw, today=TODAY, declared_birth_date=birth, declared_sex=sex, known_district_codes=KNOWN)
    assert [(p.code, p.field) for p in check.errors] == errors
    assert [p.code for p in check.warnings] == warnings
    assert check.is_valid is (not errors)
    assert check.birth_date == decoded_birth
    assert check.sex == decoded_sex


def test_decoded_parts_and_problem_parameters():
    check = check_nik("6409014508900123", today=TODAY)
    assert (check.nik, check.province_code, check.regency_code, check.district_code, check.serial) == (
        "6409014508900123",
        "64",
        "64.09",
        "64.09.01",
        "0123",
    )
    assert check.warnings == ()  # no list given: no region check at all
    assert check_nik("640901", today=TODAY).errors[0].params == {"length": 6}
    mismatch = check_nik("6409014508900001", today=TODAY, declared_sex="M").errors[0]
    assert mismatch.params == {"nik_sex": "F", "declared": "M"}
    late = check_nik("6409010508900001", today=TODAY, declared_birth_date=date(1990, 8, 6)).errors[0]
    assert late.params == {"nik_date": "05-08-90", "declared": "1990-08-06"}
    unknown = check_nik("6499010508900001", today=TODAY, known_district_codes=KNOWN).warnings[0]
    assert unknown.params == {"district": "64.99.01"}


def test_sex_cross_check_is_skipped_when_the_nik_is_already_invalid():
    check = check_nik("6409010508900000", today=TODAY, declared_sex="F")
    assert [p.code for p in check.errors] == ["nik_serial_zero"]


@pytest.mark.parametrize(
    ("nik", "masked"),
    [
        ("3201234567890001", "3201••••••••0001"),
        ("6409014508900123", "6409••••••••0123"),
        ("12345", "•••••"),
        ("", ""),
    ],
)
def test_mask_nik(nik, masked):
    assert mask_nik(nik) == masked


# --- Properties ------------------------------------------------------------------------------------------------------

two_digits = st.integers(min_value=1, max_value=99).map(lambda n: f"{n:02d}")
# The century guess is unambiguous for birth dates within the last 100 years before TODAY.
births = st.dates(min_value=date(TODAY.year - 99, 1, 1), max_value=TODAY)


@given(province=two_digits, regency=two_digits, district=two_digits, birth=births, sex=st.sampled_from("MF"),
       serial=st.integers(min_value=1, max_value=9999))  # fmt: skip
def test_any_generated_valid_nik_decodes_to_what_it_was_built_from(province, regency, district, birth, sex, serial):
    day = birth.day + (40 if sex == "F" else 0)
    nik = f"{province}{regency}{district}{day:02d}{birth:%m%y}{serial:04d}"
    code = f"{province}.{regency}.{district}"
    check = check_nik(nik, today=TODAY, declared_birth_date=birth, declared_sex=sex, known_district_codes={code})
    assert check.is_valid, check.errors
    assert (check.birth_date, check.sex, check.district_code, check.serial) == (birth, sex, code, f"{serial:04d}")
    assert check.warnings == ()
    # without a declared date the century is guessed from today, and still right
    assert check_nik(nik, today=TODAY).birth_date == birth


@given(birth=births, sex=st.sampled_from("MF"), wrong=st.integers(min_value=1, max_value=400))
def test_a_declared_birth_date_that_differs_is_an_error_on_the_birth_date_field(birth, sex, wrong):
    day = birth.day + (40 if sex == "F" else 0)
    nik = f"640901{day:02d}{birth:%m%y}0001"
    declared = birth - timedelta(days=wrong)
    check = check_nik(nik, today=TODAY, declared_birth_date=declared, declared_sex=sex)
    assert [(p.code, p.field) for p in check.errors] == [("nik_birth_date_mismatch", "birth_date")]


@given(st.text(max_size=40))
def test_any_text_is_answered_never_raises(raw):
    check = check_nik(raw, today=TODAY)
    assert check.is_valid == (not check.errors)
    if check.is_valid:
        assert len(check.nik) == 16
        assert check.nik.isdigit()


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_mask_keeps_the_first_four_and_the_last_four_digits(nik):
    masked = mask_nik(nik)
    assert len(masked) == 16
    assert masked[:4] == nik[:4]
    assert masked[-4:] == nik[-4:]
    assert masked[4:12] == "•" * 8


@given(st.text(max_size=30))
def test_normalise_nik_is_idempotent(raw):
    assert normalise_nik(normalise_nik(raw)) == normalise_nik(raw)
