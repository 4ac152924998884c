"""The four file formats exchanged with the agency (see docs/subsystems/agency.md, "File formats").

Lingkaran writes two files an officer uploads to the agency's portal:

* **registration file**: ``REGISTRATION_COLUMNS``, one row per person to register;
* **payment file**: ``PAYMENT_COLUMNS``, one row per contribution line.

and reads three files the agency gives back:

* **registration results** (``registrations``): the KPJ number issued for each registration row, or why not;
* **payment confirmations** (``confirmations``): for each payment row, accepted (with the agency's reference) or
  rejected (with its reason);
* **membership status** (``status``): each participant's status as of a month.

Headers are matched without regard to case, spaces, dots or dashes, in English or in the Indonesian spellings listed
in ``ALIASES``. Extra columns are ignored. The functions here are pure: a row of cells in, a parsed row or a list of
cell problems out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lingkaran.protection.agency.domain import cells, reasons
from lingkaran.protection.agency.domain.membership import State

REGISTRATION_COLUMNS = (
    "batch",
    "line",
    "nik",
    "full_name",
    "birth_date",
    "sex",
    "registration_month",
    "income",
    "programmes",
    "sector",
)
PAYMENT_COLUMNS = ("batch", "line", "kpj", "month", "amount")

REGISTRATIONS = "registrations"
CONFIRMATIONS = "confirmations"
STATUS = "status"
KINDS = (REGISTRATIONS, CONFIRMATIONS, STATUS)

ALIASES: dict[str, tuple[str, ...]] = {
    "batch": ("batch", "batch_id", "kode_batch", "id_batch"),
    "line": ("line", "line_id", "baris", "id_baris", "no_baris"),
    "kpj": ("kpj", "kpj_number", "no_kpj", "nomor_kpj"),
    "nik": ("nik", "no_nik", "nomor_nik"),
    "month": ("month", "bulan", "bulan_iuran", "periode"),
    "amount": ("amount", "iuran", "nominal", "jumlah"),
    "result": ("result", "hasil"),
    "reason": ("reason", "alasan", "keterangan"),
    "reference": ("reference", "referensi", "no_referensi", "nomor_referensi"),
    "status": ("status", "status_kepesertaan"),
    "as_of": ("as_of", "per_bulan", "posisi"),
    "last_paid_month": ("last_paid_month", "bulan_terakhir_dibayar", "iuran_terakhir"),
}

COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required, optional)
    REGISTRATIONS: (("batch", "line", "result"), ("nik", "kpj", "reason")),
    CONFIRMATIONS: (("batch", "line", "kpj", "month", "amount", "result"), ("reason", "reference")),
    STATUS: (("kpj", "status", "as_of"), ("nik", "last_paid_month")),
}

REGISTERED = "registered"
ALREADY_REGISTERED = "already_registered"
REJECTED = "rejected"
ACCEPTED = "accepted"

REGISTRATION_RESULTS = {
    "registered": REGISTERED,
    "terdaftar": REGISTERED,
    "baru": REGISTERED,
    "already_registered": ALREADY_REGISTERED,
    "sudah_terdaftar": ALREADY_REGISTERED,
    "rejected": REJECTED,
    "ditolak": REJECTED,
}
PAYMENT_RESULTS = {
    "accepted": ACCEPTED,
    "diterima": ACCEPTED,
    "sukses": ACCEPTED,
    "berhasil": ACCEPTED,
    "rejected": REJECTED,
    "ditolak": REJECTED,
    "gagal": REJECTED,
}
STATUS_VALUES = {
    "active": State.ACTIVE,
    "aktif": State.ACTIVE,
    "grace": State.GRACE,
    "tenggang": State.GRACE,
    "masa_tenggang": State.GRACE,
    "ended": State.ENDED,
    "keluar": State.ENDED,
    "inactive": State.INACTIVE,
    "nonaktif": State.INACTIVE,
    "non_aktif": State.INACTIVE,
    "reactivated": State.REACTIVATED,
    "aktif_kembali": State.REACTIVATED,
    "not_started": State.NOT_STARTED,
    "belum_aktif": State.NOT_STARTED,
}


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    code: str
    params: dict


def map_header(header: list, kind: str) -> tuple[dict[str, int], list[str]]:
    """``({field: column position}, [missing required fields])``; the first column that matches a field wins."""
    required, optional = COLUMNS[kind]
    positions: dict[str, int] = {}
    keys = [cells.header_key(cell) for cell in header]
    for name in (*required, *optional):
        for position, key in enumerate(keys):
            if key in ALIASES[name]:
                positions[name] = position
                break
    return positions, [name for name in required if name not in positions]


@dataclass(frozen=True)
class RegistrationRow:
    row: int
    batch: str
    line: int
    result: str
    nik: str
    kpj: str
    reason: str


@dataclass(frozen=True)
class ConfirmationRow:
    row: int
    batch: str
    line: int
    kpj: str
    month: date
    amount: int | None
    result: str
    reason: str
    reference: str


@dataclass(frozen=True)
class StatusRow:
    row: int
    kpj: str
    nik: str
    state: str
    as_of: date
    last_paid_month: date | None


class _Reader:
    """Collects the problems of one row while reading its cells (every bad cell is reported, not only the first)."""

    def __init__(self, row: int, cells_in_row: list, positions: dict[str, int]):
        self.row = row
        self.cells = cells_in_row
        self.positions = positions
        self.problems: list[Problem] = []

    def cell(self, name: str):
        position = self.positions.get(name)
        if position is None or position >= len(self.cells):
            return None
        return self.cells[position]

    def read(self, name: str, parse, *args, **kwargs):
        try:
            return parse(self.cell(name), *args, **kwargs)
        except cells.CellProblem as problem:
            self.problems.append(Problem(self.row, name, problem.code, dict(problem.params)))
            return None

    def batch(self) -> str | None:
        return self.read("batch", _batch_key)


def _batch_key(cell) -> str:
    if cells.looks_like_formula(cell):
        raise cells.CellProblem(reasons.FORMULA_CELL)
    value = cells.text(cell)
    if not value:
        raise cells.CellProblem(reasons.MISSING_VALUE)
    return value[:100]


def parse_registration_row(row: int, values: list, positions: dict[str, int]):
    """A ``RegistrationRow`` or a list of problems."""
    reader = _Reader(row, values, positions)
    batch = reader.batch()
    line = reader.read("line", cells.line_id)
    result = reader.read("result", cells.choice, REGISTRATION_RESULTS, reasons.INVALID_RESULT)
    nik = reader.read("nik", cells.nik)
    needs_kpj = result in (REGISTERED, ALREADY_REGISTERED)
    kpj = reader.read("kpj", cells.kpj, required=needs_kpj)
    reason = reader.read("reason", cells.free_text, limit=200)
    if reader.problems:
        return reader.problems
    return RegistrationRow(row, batch, line, result, nik, kpj if needs_kpj else "", reason)


def parse_confirmation_row(row: int, values: list, positions: dict[str, int]):
    reader = _Reader(row, values, positions)
    batch = reader.batch()
    line = reader.read("line", cells.line_id)
    kpj = reader.read("kpj", cells.kpj)
    month = reader.read("month", cells.month)
    result = reader.read("result", cells.choice, PAYMENT_RESULTS, reasons.INVALID_RESULT)
    if result == REJECTED and cells.is_blank(reader.cell("amount")):
        amount = None  # a refused line may leave the amount out
    else:
        amount = reader.read("amount", cells.amount)
    reason = reader.read("reason", cells.free_text, limit=200)
    reference = reader.read("reference", cells.free_text, limit=60)
    if reader.problems:
        return reader.problems
    return ConfirmationRow(row, batch, line, kpj, month, amount, result, reason, reference)


def parse_status_row(row: int, values: list, positions: dict[str, int]):
    reader = _Reader(row, values, positions)
    kpj = reader.read("kpj", cells.kpj)
    nik = reader.read("nik", cells.nik)
    state = reader.read("status", cells.choice, STATUS_VALUES, reasons.INVALID_STATUS)
    as_of = reader.read("as_of", cells.month)
    last_paid = None
    if not cells.is_blank(reader.cell("last_paid_month")):
        last_paid = reader.read("last_paid_month", cells.month)
    if reader.problems:
        return reader.problems
    return StatusRow(row, kpj, nik, str(state), as_of, last_paid)


PARSERS = {
    REGISTRATIONS: parse_registration_row,
    CONFIRMATIONS: parse_confirmation_row,
    STATUS: parse_status_row,
}
