"""Reading bank-statement CSV exports: pure functions, no Django.

Indonesian banks export mutations in several shapes; this reader accepts the common ones:

- a delimiter of ``,`` or ``;`` (Excel in an Indonesian locale writes ``;``), an optional UTF-8 BOM, and any number
  of preamble lines (account number, period) before the header row;
- a date column (``Tanggal``, ``Tgl. Transaksi``, ``Date`` …) written ``22/11/2026``, ``22-11-2026``,
  ``22.11.2026``, ``22/11/26`` or ``2026-11-22``;
- either one amount column (``Jumlah``, ``Nominal``, ``Mutasi``, ``Amount``), where ``DB``/``D``/``-`` marks money
  going out and ``CR``/``K`` money coming in, or separate ``Debit`` and ``Kredit``/``Credit`` columns;
- a reference column (``Referensi``, ``No. Referensi``, ``Reference``) and/or a description column
  (``Keterangan``, ``Uraian``, ``Berita``, ``Description``).

Amounts may group thousands with dots (``1.250.000,00``) or commas (``1,250,000.00``); they must be whole rupiah.
Only incoming money (credits) becomes a statement line; outgoing lines are counted and skipped.

Each line gets a hash of its content and of how many identical lines came before it in the file, so importing the
same export twice, or two overlapping exports, finds the same lines again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date

from lingkaran.funding.domain.references import normalize

DATE_HEADERS = {
    "tanggal",
    "tgl",
    "tgltransaksi",
    "tanggaltransaksi",
    "date",
    "postingdate",
    "transactiondate",
    "tglmutasi",
}
AMOUNT_HEADERS = {"jumlah", "nominal", "mutasi", "amount", "jumlahmutasi"}
CREDIT_HEADERS = {"kredit", "credit", "cr", "masuk", "uangmasuk"}
DEBIT_HEADERS = {"debit", "debet", "db", "keluar", "uangkeluar"}
REFERENCE_HEADERS = {"referensi", "noreferensi", "reference", "ref", "noref", "reff"}
DESCRIPTION_HEADERS = {"keterangan", "uraian", "berita", "description", "remark", "remarks", "keterangantransaksi"}
MAX_LINES = 100_000


@dataclass(frozen=True)
class StatementLine:
    row: int  # 1-based row number in the file
    booked_on: date
    amount: int
    reference: str
    description: str
    line_hash: str


@dataclass
class ParsedStatement:
    lines: list[StatementLine] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    outgoing: int = 0


class StatementUnreadable(ValueError):
    """The file is not a statement this reader understands (no header with a date and an amount)."""


def _key(header: str) -> str:
    return re.sub(r"[^a-z]", "", header.strip().lower())


def parse_amount(text: str) -> tuple[int, str] | None:
    """``(whole rupiah, direction)`` from an amount cell; direction is ``"in"``, ``"out"`` or ``""`` (unmarked).

    None when the cell is not a whole number of rupiah.
    """
    raw = (text or "").strip().upper().replace("RP", "").replace("IDR", "").replace(" ", "").replace("\u00a0", "")
    direction = ""
    for marker, meaning in (("CR", "in"), ("DB", "out"), ("K", "in"), ("D", "out")):
        if raw.endswith(marker):
            raw, direction = raw[: -len(marker)], meaning
            break
    if raw.startswith("(") and raw.endswith(")"):
        raw, direction = raw[1:-1], "out"
    if raw.startswith("-"):
        raw, direction = raw[1:], "out"
    elif raw.startswith("+"):
        raw, direction = raw[1:], "in"
    if not raw or not re.fullmatch(r"[0-9.,]+", raw) or not _digits(raw[0]):
        return None
    decimals = ""
    last_dot, last_comma = raw.rfind("."), raw.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        # Both separators: the last one is the decimal mark.
        cut = max(last_dot, last_comma)
        whole, decimals = raw[:cut], raw[cut + 1 :]
        grouping = "." if cut == last_comma else ","
        if not _grouped(whole, grouping):
            return None
        whole = whole.replace(grouping, "")
    elif last_dot >= 0 or last_comma >= 0:
        mark = "." if last_dot >= 0 else ","
        parts = raw.split(mark)
        if len(parts) == 2 and len(parts[1]) in (1, 2):
            whole, decimals = parts  # a decimal part: 50400.00 or 50400,5
        elif _grouped(raw, mark):
            whole = raw.replace(mark, "")
        else:
            return None
    else:
        whole = raw
    if decimals and not (_digits(decimals) and int(decimals) == 0):
        return None  # rupiah have no minor unit; 50400,50 is not an amount we can match
    if not _digits(whole):
        return None
    return int(whole), direction


def _grouped(text: str, mark: str) -> bool:
    parts = text.split(mark)
    return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 and _digits(p) for p in parts[1:]) and _digits(parts[0])


def _digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts ``²`` and other scripts' digits)."""
    return bool(re.fullmatch(r"[0-9]+", text))


_DATE_FORMATS = (
    (re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})$"), ("d", "m", "y")),
    (re.compile(r"^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{2})$"), ("d", "m", "yy")),
)


def parse_date(text: str) -> date | None:
    text = (text or "").strip().split(" ")[0]
    for pattern, order in _DATE_FORMATS:
        match = pattern.match(text)
        if not match:
            continue
        parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
        year = parts.get("y") or 2000 + parts["yy"]
        try:
            return date(year, parts["m"], parts["d"])
        except ValueError:
            return None
    return None


def line_hash(booked_on: date, amount: int, reference: str, description: str, occurrence: int) -> str:
    canonical = f"{booked_on.isoformat()}|{amount}|{normalize(reference)}|{normalize(description)}|{occurrence}"
    return hashlib.sha256(canonical.encode()).hexdigest()


def _find_header(rows: list[list[str]]) -> tuple[int, dict[str, int]]:
    for index, row in enumerate(rows[:30]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            key = _key(cell)
            for role, names in (
                ("date", DATE_HEADERS),
                ("amount", AMOUNT_HEADERS),
                ("credit", CREDIT_HEADERS),
                ("debit", DEBIT_HEADERS),
                ("reference", REFERENCE_HEADERS),
                ("description", DESCRIPTION_HEADERS),
            ):
                if key in names and role not in columns:
                    columns[role] = position
        if "date" in columns and ("amount" in columns or "credit" in columns):
            return index, columns
    raise StatementUnreadable(
        "no header row with a date column and an amount (or credit) column was found in the first 30 rows"
    )


def parse_statement(text: str) -> ParsedStatement:
    """Read a statement export (already decoded to text). Raises StatementUnreadable when no header is found."""
    text = text.lstrip("\ufeff")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header_index, columns = _find_header(rows)
    parsed = ParsedStatement()
    seen: dict[tuple, int] = {}

    def cell(row: list[str], role: str) -> str:
        position = columns.get(role)
        return row[position].strip() if position is not None and position < len(row) else ""

    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if not any(c.strip() for c in row):
            continue
        if len(parsed.lines) >= MAX_LINES:
            parsed.errors.append((offset, f"more than {MAX_LINES} lines; split the file"))
            break
        booked_on = parse_date(cell(row, "date"))
        if booked_on is None:
            parsed.errors.append((offset, f"date {cell(row, 'date')!r} is not a date"))
            continue
        if "amount" in columns:
            amount_cell = parse_amount(cell(row, "amount"))
            if amount_cell is None:
                parsed.errors.append((offset, f"amount {cell(row, 'amount')!r} is not whole rupiah"))
                continue
            amount, direction = amount_cell
        else:
            credit_text, debit_text = cell(row, "credit"), cell(row, "debit")
            credit_cell = parse_amount(credit_text) if credit_text else (0, "")
            debit_cell = parse_amount(debit_text) if debit_text else (0, "")
            if credit_cell is None or debit_cell is None:
                parsed.errors.append((offset, "the debit or credit cell is not whole rupiah"))
                continue
            if credit_cell[0] > 0:
                amount, direction = credit_cell[0], "in"
            else:
                amount, direction = debit_cell[0], "out"
        if direction == "out":
            parsed.outgoing += 1
            continue
        if amount <= 0:
            continue
        reference, description = cell(row, "reference"), cell(row, "description")
        identity = (booked_on, amount, normalize(reference), normalize(description))
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        parsed.lines.append(
            StatementLine(
                row=offset,
                booked_on=booked_on,
                amount=amount,
                reference=reference[:200],
                description=description[:500],
                line_hash=line_hash(booked_on, amount, reference, description, occurrence),
            )
        )
    return parsed
