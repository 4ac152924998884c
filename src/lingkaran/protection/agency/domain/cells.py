"""Reading the cells of the files the agency sends back: pure functions, one value in, a value or a problem out.

Cells come from CSV (always text) or XLSX (text, whole numbers, floats, dates). Nothing is ever evaluated: a cell that
starts like a spreadsheet formula (``=``, ``@``, ``+``, ``-``, a tab or a carriage return, and is not simply a signed
number) is a ``formula_cell`` problem, whatever column it is in. A NIK stored as a spreadsheet *number* with a
fraction (float) has lost digits and is refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from lingkaran.protection.agency.domain import reasons
from lingkaran.protection.agency.domain.kpj import is_kpj, normalise_kpj

FORMULA_STARTS = ("=", "@", "+", "-", "\t", "\r")
SIGNED_NUMBER = re.compile(r"^[+-]\d+([.,]\d+)?$")
MONTH_FORMS = (
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})$"),
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$"),
    re.compile(r"^(?P<month>\d{1,2})[/-](?P<year>\d{4})$"),
    re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})$"),
)
# Whole rupiah, optionally "Rp", with "." or "," between groups of three digits (IDR has no minor unit).
AMOUNT_TEXT = re.compile(r"^(?:rp\.?\s*)?(?P<digits>\d{1,3}(?:[.,]\d{3})+|\d+)(?:[.,]0{1,2})?$", re.IGNORECASE)
WHOLE_NUMBER = re.compile(r"^\d+$")
MAX_AMOUNT = 10**12  # no single contribution line comes near a trillion rupiah


class CellProblem(Exception):
    """What is wrong with one cell: a stable code and the values its message needs."""

    def __init__(self, code: str, params: dict | None = None):
        self.code = code
        self.params = params or {}
        super().__init__(code)


def is_blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def looks_like_formula(cell) -> bool:
    return isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not SIGNED_NUMBER.match(cell.strip())


def text(cell) -> str:
    """A cell as trimmed text (whole-number floats lose their ``.0``)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip()


def _guard(cell) -> None:
    if looks_like_formula(cell):
        raise CellProblem(reasons.FORMULA_CELL)


def month(cell) -> date:
    """A contribution month: a date cell, ``2026-11``, ``2026-11-01``, ``11/2026``, ``11-2026`` or ``202611``."""
    _guard(cell)
    if is_blank(cell):
        raise CellProblem(reasons.MISSING_VALUE)
    if isinstance(cell, datetime):
        return cell.date().replace(day=1)
    if isinstance(cell, date):
        return cell.replace(day=1)
    value = text(cell)
    for form in MONTH_FORMS:
        found = form.match(value)
        if found:
            year, number = int(found.group("year")), int(found.group("month"))
            day = int(found.groupdict().get("day") or 1)
            try:
                date(year, number, day)
            except ValueError:
                break
            if year < 1990:
                break
            return date(year, number, 1)
    raise CellProblem(reasons.INVALID_MONTH, {"value": value[:40]})


def amount(cell) -> int:
    """A positive whole number of rupiah."""
    _guard(cell)
    if is_blank(cell):
        raise CellProblem(reasons.MISSING_VALUE)
    if isinstance(cell, bool):
        raise CellProblem(reasons.INVALID_AMOUNT, {"value": str(cell)})
    if isinstance(cell, int):
        value = cell
    elif isinstance(cell, float):
        if not cell.is_integer():
            raise CellProblem(reasons.INVALID_AMOUNT, {"value": str(cell)})
        value = int(cell)
    else:
        found = AMOUNT_TEXT.match(text(cell))
        if not found:
            raise CellProblem(reasons.INVALID_AMOUNT, {"value": text(cell)[:40]})
        value = int(re.sub(r"[.,]", "", found.group("digits")))
    if not 0 < value < MAX_AMOUNT:
        raise CellProblem(reasons.INVALID_AMOUNT, {"value": str(value)})
    return value


def line_id(cell) -> int:
    """The line number Lingkaran put in the file it sent (a positive whole number)."""
    _guard(cell)
    if is_blank(cell):
        raise CellProblem(reasons.MISSING_VALUE)
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    value = text(cell)
    if isinstance(cell, bool) or not WHOLE_NUMBER.match(value) or not 0 < int(value) < 2**63:
        raise CellProblem(reasons.INVALID_LINE, {"value": value[:40]})
    return int(value)


def kpj(cell, *, required: bool = True) -> str:
    _guard(cell)
    if is_blank(cell):
        if required:
            raise CellProblem(reasons.MISSING_VALUE)
        return ""
    if isinstance(cell, float):
        if not cell.is_integer():
            raise CellProblem(reasons.INVALID_KPJ, {"value": text(cell)[:40]})
        cell = int(cell)
    value = normalise_kpj(text(cell))
    if isinstance(cell, int) and len(value) < 11:
        value = value.zfill(11)  # a spreadsheet dropped leading zeros
    if not is_kpj(value):
        raise CellProblem(reasons.INVALID_KPJ, {"value": value[:40]})
    return value


def nik(cell, *, required: bool = False) -> str:
    """16 ASCII digits; spaces, dots and dashes are dropped. A float cell has lost digits and is refused."""
    _guard(cell)
    if is_blank(cell):
        if required:
            raise CellProblem(reasons.MISSING_VALUE)
        return ""
    if isinstance(cell, float):
        raise CellProblem(reasons.INVALID_NIK, {"value": ""})
    value = re.sub(r"[\s.\-]", "", text(cell))
    if len(value) != 16 or not (value.isascii() and value.isdigit()):
        raise CellProblem(reasons.INVALID_NIK, {"value": ""})  # never echo a person's number into a report
    return value


def choice(cell, options: dict[str, str], problem: str) -> str:
    """One of ``options`` (spelling -> code), case and spacing ignored."""
    _guard(cell)
    if is_blank(cell):
        raise CellProblem(reasons.MISSING_VALUE)
    key = re.sub(r"[\s\-]+", "_", text(cell).lower())
    if key not in options:
        raise CellProblem(problem, {"value": text(cell)[:40]})
    return options[key]


def free_text(cell, *, limit: int) -> str:
    _guard(cell)
    return text(cell)[:limit]


def header_key(cell) -> str:
    """A header cell as a lookup key: lower case, BOM and outer spaces gone, inner spaces, dots and dashes as ``_``."""
    value = text(cell).lstrip("\ufeff").strip().lower()
    return re.sub(r"[\s.\-/]+", "_", value).strip("_")
