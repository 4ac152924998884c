"""Spreadsheet-safe export cells.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be run as a formula by Excel or
LibreOffice (CSV/formula injection). Such text is prefixed with an apostrophe so that it is shown, never evaluated.
Numbers are left as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    # UTF-8 with BOM so that Excel opens Indonesian names correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
