"""A list of NIKs a funder sends for a directed sponsorship: reading it and classifying every row. Pure: bytes in
memory and values in, rows and outcomes out (no Django, no clock, no file system).

What CSR teams, Pemda and BAZNAS send is a CSV or XLSX file with a column of NIKs and perhaps names, often under a
title row or two. ``read_list`` finds the header (the first of the first ten rows with a NIK column name such as
``nik``, ``NIK``, ``no_ktp`` or ``Nomor KTP``; without one, a first row that holds a NIK is data and the list has no
header), reads the NIK cell and the optional name of each non-blank row, and turns each NIK cell into sixteen digits
or a problem. It never repairs a NIK: a cell Excel stored as a number (a 16-digit NIK loses its last digit as a
number) or wrote in scientific notation is refused on its row, with the reason.

``classify`` gives every row exactly one outcome from what the registry holds for its NIK (``Found``): matched,
not found, not verified, not payable by this funder's money (the allocation engine's refusal codes), a duplicate of
an earlier row, or a malformed NIK.

File-level refusals (``ListRefused``) carry a stable ``reason`` and the values its message needs.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
MAX_XLSX_UNPACKED = 40 * 1024 * 1024
MAX_COLUMNS = 50
HEADER_SEARCH_ROWS = 10
NIK_LENGTH = 16

NIK_HEADERS = frozenset(
    {
        "nik", "no_nik", "nomor_nik", "nik_ktp", "ktp", "no_ktp", "nomor_ktp", "nomer_ktp", "no_induk_kependudukan",
        "nomor_induk_kependudukan", "nik_peserta", "nik_pekerja", "nik_penerima", "nik_mustahik", "national_id",
        "id_number",
    }
)  # fmt: skip
NAME_HEADERS = frozenset(
    {
        "nama", "name", "nama_lengkap", "full_name", "nama_peserta", "nama_pekerja", "nama_penerima",
        "nama_mustahik", "nama_sesuai_ktp",
    }
)  # fmt: skip

_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE][+]?[0-9]+")
_DECIMAL = re.compile(r"[0-9]{14,17}[.,]0+")
_FORMULA_TEXT = re.compile(r'="([^"]*)"')


class ListRefused(Exception):
    """The file as a whole cannot be read as a list of NIKs. ``reason``: ``file_empty``, ``file_too_large``,
    ``file_xls_old``, ``file_not_spreadsheet``, ``file_xlsx_invalid``, ``no_nik_column``, ``no_rows``,
    ``too_many_rows``."""

    def __init__(self, reason: str, **params):
        self.reason = reason
        self.params = params
        super().__init__(reason)


class Problem(StrEnum):
    """Why a NIK cell is malformed."""

    EMPTY = "nik_empty"
    NUMBER = "nik_number"  # a number cell, or a number written as text with decimals ("6409…0001.0")
    SCIENTIFIC = "nik_scientific"  # "6.40901E+15"
    NOT_DIGITS = "nik_not_digits"
    LENGTH = "nik_length"


class Outcome(StrEnum):
    MATCHED = "matched"
    NOT_FOUND = "not_found"
    NOT_VERIFIED = "not_verified"
    NOT_PAYABLE = "not_payable"
    DUPLICATE = "duplicate"
    MALFORMED = "malformed"


OUTCOME_ORDER = tuple(Outcome)


@dataclass(frozen=True)
class ListRow:
    """One non-blank row of the list: its row number in the spreadsheet (1-based, as Excel shows it), the NIK or the
    problem of its NIK cell, and the name the file gives (may be empty)."""

    number: int
    nik: str = ""
    problem: Problem | None = None
    params: dict = field(default_factory=dict, hash=False, compare=False)
    name: str = ""


@dataclass(frozen=True)
class NikList:
    file_format: str  # "csv" or "xlsx"
    header_row: int  # 0: the list has no header
    nik_column: str  # the header's text ("" without a header), or the column letter
    name_column: str
    rows: tuple[ListRow, ...]

    @property
    def niks(self) -> list[str]:
        """The distinct well-formed NIKs, in the order of their first row."""
        return list(dict.fromkeys(row.nik for row in self.rows if row.nik))


# --- Reading the file -----------------------------------------------------------------------------------------------


def sniff(data: bytes) -> str:
    if not data:
        raise ListRefused("file_empty")
    if len(data) > MAX_BYTES:
        raise ListRefused("file_too_large", limit_mb=MAX_BYTES // (1024 * 1024))
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ListRefused("file_xls_old")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "xlsx"
    if data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")):
        raise ListRefused("file_not_spreadsheet")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # UTF-16 text, as Excel's "Unicode text" saves it
    if b"\x00" in data[:4096]:
        raise ListRefused("file_not_spreadsheet")
    return "csv"


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), UTF-16 with one, else Windows-1252 (what Excel on Windows saves as
    "CSV (Comma delimited)"). NIKs are digits in every one of them."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def guess_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:10] if line.strip()]
    best, best_count = ",", 0
    for candidate in (",", ";", "\t", "|"):
        count = sum(line.count(candidate) for line in lines)
        if count > best_count:
            best, best_count = candidate, count
    return best


def csv_cells(data: bytes) -> Iterator[tuple[int, list]]:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=guess_delimiter(text[:8192]))
    number = 0
    try:
        for cells in reader:
            number += 1
            yield number, cells[:MAX_COLUMNS]
    except csv.Error:
        raise ListRefused("file_not_spreadsheet") from None


def xlsx_cells(data: bytes) -> Iterator[tuple[int, list]]:
    """The first sheet's rows, as typed values (numbers stay numbers so that they can be refused), read with
    openpyxl's read-only mode after checking the archive is a workbook and not too large unpacked."""
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ListRefused("file_xlsx_invalid") from None
    if "xl/workbook.xml" not in names:
        raise ListRefused("file_xlsx_invalid")
    if unpacked > MAX_XLSX_UNPACKED:
        raise ListRefused("file_too_large", limit_mb=MAX_BYTES // (1024 * 1024))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, ValueError, XML errors) for a broken workbook
        raise ListRefused("file_xlsx_invalid") from None
    try:
        if not workbook.worksheets:
            raise ListRefused("file_xlsx_invalid")
        sheet = workbook.worksheets[0]
        try:
            # Read-only mode yields an empty row for every row missing from the sheet, so positions are row numbers.
            for number, values in enumerate(sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), 1):
                cells = list(values)
                while cells and cells[-1] is None:
                    cells.pop()
                yield number, cells
        except ListRefused:
            raise
        except Exception:
            raise ListRefused("file_xlsx_invalid") from None
    finally:
        workbook.close()


def is_blank(cells: Sequence) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def header_key(cell) -> str:
    """``"No. KTP"`` → ``"no_ktp"``: lower case, every run of other characters one underscore."""
    if not isinstance(cell, str):
        return ""
    return re.sub(r"[^0-9a-z]+", "_", cell.strip().lstrip("\ufeff").lower()).strip("_")


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_nik(cell) -> tuple[str, Problem | None, dict]:
    """A NIK cell → (sixteen digits, None) or ("", problem, params). Spaces, dots and dashes people type are dropped;
    a leading apostrophe and ``="…"`` (the ways to keep Excel from turning digits into a number) are accepted."""
    if cell is None:
        return "", Problem.EMPTY, {}
    if isinstance(cell, bool):
        return "", Problem.NOT_DIGITS, {}
    if isinstance(cell, int | float):
        return "", Problem.NUMBER, {}
    if not isinstance(cell, str):  # a date, a time
        return "", Problem.NOT_DIGITS, {}
    text = cell.strip()
    formula = _FORMULA_TEXT.fullmatch(text)
    if formula:
        text = formula.group(1).strip()
    text = text.lstrip("'").strip()
    if not text:
        return "", Problem.EMPTY, {}
    if _SCIENTIFIC.fullmatch(text):
        return "", Problem.SCIENTIFIC, {}
    if _DECIMAL.fullmatch(text):
        return "", Problem.NUMBER, {}
    digits = "".join(ch for ch in text if not ch.isspace() and ch not in ".-")
    if not (digits.isascii() and digits.isdigit()):
        return "", Problem.NOT_DIGITS, {}
    if len(digits) != NIK_LENGTH:
        return "", Problem.LENGTH, {"length": len(digits)}
    return digits, None, {}


def _looks_like_nik(cell) -> bool:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return 1e15 <= abs(cell) < 1e16
    nik, problem, _params = read_nik(cell)
    return bool(nik) or problem in (Problem.SCIENTIFIC, Problem.NUMBER)


def _find_columns(first: list[tuple[int, list]]) -> tuple[int, int, int | None, str, str]:
    """(header row number or 0, the position of its row in ``first``, nik column, name column, their labels)."""
    for position, (number, cells) in enumerate(first):
        keys = [header_key(c) for c in cells]
        nik_col = next((i for i, k in enumerate(keys) if k in NIK_HEADERS), None)
        if nik_col is not None:
            name_col = next((i for i, k in enumerate(keys) if k in NAME_HEADERS), None)
            return (
                number,
                position,
                nik_col,
                name_col,
                str(cells[nik_col]).strip(),
                str(cells[name_col]).strip() if name_col is not None else "",
            )
    if first:
        _number, cells = first[0]
        nik_col = next((i for i, c in enumerate(cells) if _looks_like_nik(c)), None)
        if nik_col is not None:
            return 0, -1, nik_col, None, column_letter(nik_col), ""
    raise ListRefused(
        "no_nik_column",
        found=", ".join(str(c).strip()[:30] for c in (first[0][1] if first else []) if c not in (None, ""))[:120],
    )


def read_list(data: bytes, file_name: str = "") -> NikList:
    """Read a CSV or XLSX list of NIKs (the file name is not trusted: the bytes decide the format)."""
    file_format = sniff(data)
    cells = xlsx_cells(data) if file_format == "xlsx" else csv_cells(data)
    first: list[tuple[int, list]] = []
    for number, row in cells:
        if is_blank(row):
            continue
        first.append((number, row))
        if len(first) >= HEADER_SEARCH_ROWS:
            break
    header_row, position, nik_col, name_col, nik_label, name_label = _find_columns(first)
    rows: list[ListRow] = []

    def add(number: int, row: list) -> None:
        if len(rows) >= MAX_ROWS:
            raise ListRefused("too_many_rows", limit=MAX_ROWS)
        nik, problem, params = read_nik(row[nik_col] if nik_col < len(row) else None)
        name = row[name_col] if name_col is not None and name_col < len(row) else None
        name_text = " ".join(str(name).split())[:200] if name is not None else ""
        rows.append(ListRow(number, nik, problem, params, name_text))

    for number, row in _data_rows(first[position + 1 :], cells):
        add(number, row)
    if not rows:
        raise ListRefused("no_rows")
    return NikList(file_format, header_row, nik_label, name_label, tuple(rows))


def _data_rows(seen: Iterable[tuple[int, list]], rest: Iterator[tuple[int, list]]) -> Iterator[tuple[int, list]]:
    yield from seen
    for number, row in rest:
        if not is_blank(row):
            yield number, row


# --- Classifying the rows -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """What the registry holds for one NIK the user may see: the worker, whether it is verified, the reasons this
    funder's money may not pay it for the block (the allocation engine's codes), and its name key."""

    worker_id: int
    verified: bool
    refusals: tuple[str, ...] = ()
    name_key: str = ""


@dataclass(frozen=True)
class RowResult:
    number: int
    outcome: Outcome
    nik: str = ""
    worker_id: int | None = None
    reasons: tuple[str, ...] = ()  # malformed: the problem; not payable: the refusal codes
    params: dict = field(default_factory=dict, hash=False, compare=False)
    first_row: int | None = None  # duplicate: the row that holds this NIK first
    name_differs: bool = False  # matched, but the name in the file is not the registered one


def names_agree(file_key: str, registered_key: str) -> bool:
    """Both normalised (upper-case words). No name in the file agrees; otherwise every word of the shorter name
    must be in the longer one (a file may give "Siti Aminah" for "Siti Aminah Binti Ahmad")."""
    if not file_key or not registered_key:
        return True
    a, b = set(file_key.split()), set(registered_key.split())
    return a <= b or b <= a


def classify(
    rows: Sequence[ListRow], found: Mapping[str, Found], name_key=lambda name: " ".join(name.upper().split())
) -> list[RowResult]:
    """Exactly one outcome per row, in the rows' order. A NIK's first row gets its outcome; later rows with the
    same NIK are duplicates of it. ``name_key`` normalises the file's names as the registry's ``name_key`` is."""
    first_row: dict[str, int] = {}
    out: list[RowResult] = []
    for row in rows:
        if row.problem is not None or not row.nik:
            out.append(
                RowResult(
                    row.number, Outcome.MALFORMED, reasons=(str(row.problem or Problem.EMPTY),), params=row.params
                )
            )
            continue
        if row.nik in first_row:
            out.append(RowResult(row.number, Outcome.DUPLICATE, row.nik, first_row=first_row[row.nik]))
            continue
        first_row[row.nik] = row.number
        hit = found.get(row.nik)
        if hit is None:
            out.append(RowResult(row.number, Outcome.NOT_FOUND, row.nik))
        elif not hit.verified:
            out.append(RowResult(row.number, Outcome.NOT_VERIFIED, row.nik, hit.worker_id))
        elif hit.refusals:
            out.append(RowResult(row.number, Outcome.NOT_PAYABLE, row.nik, hit.worker_id, reasons=hit.refusals))
        else:
            differs = not names_agree(name_key(row.name) if row.name else "", hit.name_key)
            out.append(RowResult(row.number, Outcome.MATCHED, row.nik, hit.worker_id, name_differs=differs))
    return out


def counts(results: Iterable[RowResult]) -> dict[str, int]:
    tally = dict.fromkeys((o.value for o in OUTCOME_ORDER), 0)
    for result in results:
        tally[result.outcome.value] += 1
    return tally


def matched_worker_ids(results: Iterable[RowResult]) -> list[int]:
    return sorted({r.worker_id for r in results if r.outcome is Outcome.MATCHED and r.worker_id is not None})


def blocking(results: Iterable[RowResult]) -> list[RowResult]:
    """The rows that keep a list from being sponsored whole: every row but the matched ones and the duplicates of
    a matched row."""
    results = list(results)
    matched_rows = {r.number for r in results if r.outcome is Outcome.MATCHED}
    return [
        r
        for r in results
        if r.outcome is not Outcome.MATCHED and not (r.outcome is Outcome.DUPLICATE and r.first_row in matched_rows)
    ]
