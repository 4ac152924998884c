"""Phone and name normalisation (``registry.domain.people``): pure tables and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingkaran.registry.domain.people import PhoneError, clean_name, mask_phone, normalise_name, normalise_phone


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("0812 3456 789", "+628123456789"),
        ("6281234567890", "+6281234567890"),
        ("+6281234567890", "+6281234567890"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("+62 (812) 3456 7890", "+6281234567890"),
        ("+62 0812 3456 7890", "+6281234567890"),  # the trunk 0 written after the country code
        ("81234567890", "+6281234567890"),
        ("  0857.1234.5678 ", "+6285712345678"),
        ("(021) 555-1234", "+62215551234"),  # a Jakarta landline: accepted as written
        ("0542-7211-23", "+62542721123"),  # a Balikpapan landline
        ("081234567", "+6281234567"),  # 8 digits after the trunk 0: the shortest accepted
        ("0812345678901", "+62812345678901"),  # 12 digits: the longest accepted
        ("", ""),
        ("   ", ""),
    ],
)
def test_phone_normalisation(raw, normalised):
    assert normalise_phone(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0812345", "phone_length"),  # too short
        ("08123456", "phone_length"),  # 7 digits after the trunk 0
        ("6281234", "phone_length"),
        ("08123456789012", "phone_length"),  # too long
        ("+62 812 3456 7890 123", "phone_length"),
        ("+1 415 555 0100", "phone_not_indonesian"),  # foreign
        ("+44 20 7946 0958", "phone_not_indonesian"),
        ("+60 12-345 6789", "phone_not_indonesian"),  # Malaysia
        ("1234567890", "phone_invalid"),
        ("telepon", "phone_invalid"),
        ("-", "phone_invalid"),
    ],
)
def test_phone_refusals_name_the_problem(raw, code):
    with pytest.raises(PhoneError) as refused:
        normalise_phone(raw)
    assert str(refused.value) == code


@given(st.text(alphabet="0123456789", min_size=8, max_size=12).filter(lambda d: not d.startswith("0")))
def test_every_written_form_of_a_number_normalises_the_same(national):
    national = "8" + national[1:]
    expected = "+62" + national
    for written in (f"0{national}", f"62{national}", f"+62 {national}", national, f"+62-{national[:3]}-{national[3:]}"):
        assert normalise_phone(written) == expected
        assert normalise_phone(normalise_phone(written)) == expected  # idempotent


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("+6281234567890", "+62812•••••890"), ("+6281234567", "+62812••567"), ("+62812", "••••••"), ("", "")],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Siti Aminah", "SITI AMINAH"),
        ("siti  aminah", "SITI AMINAH"),
        ("Hj. Siti Aminah, S.Pd", "SITI AMINAH"),  # title before, dotted degree after
        ("Hj Siti Aminah SPd", "SITI AMINAH"),
        ("Hj.Siti Aminah", "SITI AMINAH"),
        ("H. Ahmad Suryadi", "AHMAD SURYADI"),
        ("Haji Ahmad Suryadi", "AHMAD SURYADI"),
        ("Drs. H. Bambang Wibowo, S.E.", "BAMBANG WIBOWO"),
        ("Dr. Ir. Joko Santoso, M.Si.", "JOKO SANTOSO"),
        ("Ahmad Fauzi, S.Kom", "AHMAD FAUZI"),
        ("K.H. Ahmad Dahlan", "AHMAD DAHLAN"),
        ("Bpk. Slamet", "SLAMET"),
        ("Ibu Sri Rahayu", "SRI RAHAYU"),
        ("Ny. Sri Rahayu", "SRI RAHAYU"),
        ("Sdri. Ani Lestari", "ANI LESTARI"),
        ("Alm. Sutrisno", "SUTRISNO"),
        ("Ma'ruf Amin", "MARUF AMIN"),  # an apostrophe is not a word break
        ("Muhammad Al-Fatih", "MUHAMMAD AL FATIH"),
        ("Wa Ode Nurhayati", "WA ODE NURHAYATI"),
        ("La Ode Muhammad Arif", "LA ODE MUHAMMAD ARIF"),
        ("Nyoman Sukadana", "NYOMAN SUKADANA"),  # NY is a title; NYOMAN is a name
        ("Éka Ñurhayati", "EKA NURHAYATI"),  # accents folded
        ("", ""),
        ("H. , S.Pd", ""),
    ],
)
def test_name_normalisation_for_duplicate_detection(raw, key):
    assert normalise_name(raw) == key


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("  Siti   Aminah ", "Siti Aminah"), ("Hj. Siti\tAminah", "Hj. Siti Aminah"), ("Siti\nAminah", "Siti Aminah")],
)
def test_clean_name_keeps_the_name_as_written_with_single_spaces(raw, shown):
    assert clean_name(raw) == shown


@given(st.text(max_size=60))
def test_name_normalisation_is_idempotent_and_ascii_upper(raw):
    key = normalise_name(raw)
    assert normalise_name(key) == key
    assert key == key.upper()
    assert key.isascii()
    assert "  " not in key
    assert key == key.strip()
