"""Kemendagri region codes (Permendagri 58/2021): pure functions.

Province ``32``; kabupaten/kota ``32.73`` (01–69 kabupaten, 71–99 kota); kecamatan ``32.73.01``; desa/kelurahan
``32.73.01.1001`` (first digit 1 kelurahan, 2 desa, 3 desa adat).
"""

from __future__ import annotations

import re

CODE = re.compile(r"^\d{2}(?:\.\d{2}(?:\.\d{2}(?:\.\d{4})?)?)?$")

PROVINCE, REGENCY, DISTRICT, VILLAGE = 1, 2, 3, 4


def region_level(code: str) -> int:
    """1 province, 2 kabupaten/kota, 3 kecamatan, 4 desa/kelurahan; ValueError for anything else."""
    if not CODE.match(code):
        raise ValueError(f"not a Kemendagri region code: {code!r}")
    return code.count(".") + 1


def parent_code(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def ancestors(code: str) -> list[str]:
    """``32.73.01.1001`` -> ``['32', '32.73', '32.73.01']``."""
    parts = code.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def regency_is_city(code: str) -> bool:
    return int(code.split(".")[1]) >= 71


def district_code_from_nik_prefix(prefix: str) -> str:
    """First six NIK digits ``327301`` -> ``32.73.01``."""
    return f"{prefix[0:2]}.{prefix[2:4]}.{prefix[4:6]}"
