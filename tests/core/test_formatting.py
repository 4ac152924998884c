import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingkaran.core.domain.formatting import format_rupiah
from lingkaran.core.masking import mask_middle


@pytest.mark.parametrize(
    ("amount", "language", "text"),
    [
        (16800, "id", "Rp 16.800"),
        (16800, "en", "Rp 16,800"),
        (0, "id", "Rp 0"),
        (999, "id", "Rp 999"),
        (1000, "id", "Rp 1.000"),
        (3_000_000_000, "id", "Rp 3.000.000.000"),
        (-8400, "id", "-Rp 8.400"),
        (42_000_000, "en", "Rp 42,000,000"),
    ],
)
def test_format_rupiah(amount, language, text):
    assert format_rupiah(amount, language) == text


@pytest.mark.parametrize("bad", [16800.0, "16800", True])
def test_format_rupiah_refuses_non_integers(bad):
    with pytest.raises(TypeError):
        format_rupiah(bad)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_rupiah_round_trips(amount):
    text = format_rupiah(amount, "id")
    digits = text.replace("Rp ", "").replace(".", "")
    assert int(digits) == amount


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("3201234567890001", "3201••••••••0001"),
        ("+6281234567890", "+628••••••7890"),
        ("1234", "••••"),
        ("", ""),
    ],
)
def test_mask_middle(value, masked):
    assert mask_middle(value) == masked
