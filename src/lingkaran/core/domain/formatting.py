"""Rupiah and month formatting: pure functions.

Rupiah has no minor unit; amounts are whole integers. Indonesian groups thousands with a dot (``Rp 16.800``), English
with a comma (``Rp 16,800``); both keep the ``Rp`` symbol and one space, and a minus sign before the symbol.
"""

from __future__ import annotations

_SEPARATORS = {"id": ".", "en": ","}


def group_thousands(value: int, language: str = "id") -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"rupiah amounts are integers, not {type(value).__name__}")
    sep = _SEPARATORS.get(language[:2], ".")
    return f"{abs(value):,}".replace(",", sep)


def format_rupiah(value: int, language: str = "id") -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}Rp {group_thousands(value, language)}"
