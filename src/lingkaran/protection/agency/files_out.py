"""Writing the files an officer uploads to the agency (registration file, payment file) and the row-level report of
an imported file, as CSV (UTF-8 with a BOM, so that Excel shows Indonesian names) or XLSX.

Only what is still unanswered is written: requests and lines without an outcome. Numbers that are identifiers (NIK,
KPJ) are written as text so that no spreadsheet drops a leading zero or rounds 16 digits; every text cell goes
through ``core.exports.safe_cell``, so nothing can run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connection

from lingkaran.core import crypto
from lingkaran.core.exports import safe_cell
from lingkaran.protection.agency.domain.files import PAYMENT_COLUMNS, REGISTRATION_COLUMNS
from lingkaran.protection.agency.domain.months import month_label
from lingkaran.protection.agency.file_exchange import line_kpj
from lingkaran.protection.agency.models import RegistrationRequest
from lingkaran.registry.selectors import PURPOSE_NIK

XLSX_MAX_ROWS = 1_048_575  # a worksheet holds 1,048,576 rows, the header included
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SEX_CODES = {"M": "L", "F": "P"}  # laki-laki / perempuan, as on the KTP


@dataclass(frozen=True)
class ExportedFile:
    content: bytes
    filename: str
    content_type: str
    rows: int


class TooManyRows(Exception):
    pass


def table_bytes(header: Sequence[str], rows: Iterable[Sequence], file_format: str) -> tuple[bytes, int]:
    """The table as CSV or XLSX bytes, and how many rows it holds (the header not counted)."""
    count = 0
    if file_format == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title="agency")
        sheet.append(list(header))
        for row in rows:
            count += 1
            if count > XLSX_MAX_ROWS:
                raise TooManyRows()
            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, value=safe_cell(value) if isinstance(value, str) else value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text stays text, whatever it looks like
                cells.append(cell)
            sheet.append(cells)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), count
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        count += 1
        writer.writerow([safe_cell(value) if isinstance(value, str) else value for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), count


def _stream(statement: str, params: dict, size: int = 5000) -> Iterator[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        while True:
            chunk = cursor.fetchmany(size)
            if not chunk:
                return
            yield from chunk


def _slug(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in key)[:80]


def payment_rows(batch) -> Iterator[tuple]:
    for key, line_id, kpj, month, amount in _stream(
        f"""
        SELECT b.key, l.line_id, COALESCE({line_kpj("l")}, ''), l.month, l.amount
        FROM agency_submittedline l
        JOIN agency_paymentbatch b ON b.id = l.batch_id
        WHERE l.batch_id = %(batch)s
          AND NOT EXISTS (SELECT 1 FROM agency_lineoutcome o WHERE o.submitted_id = l.id)
        ORDER BY l.line_id
        """,
        {"batch": batch.pk},
    ):
        yield key, line_id, kpj, month_label(_as_date(month)), int(amount)


def _as_date(value) -> date:
    """A date column as a date (SQLite hands raw SQL dates back as text)."""
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def payment_file(batch, file_format: str) -> ExportedFile:
    content, rows = table_bytes(PAYMENT_COLUMNS, payment_rows(batch), file_format)
    name = f"agency-payments-{_slug(batch.key)}.{file_format}"
    return ExportedFile(content, name, CONTENT_TYPES[file_format], rows)


def registration_rows(batch) -> Iterator[tuple]:
    requests = (
        RegistrationRequest.objects.filter(batch=batch, outcome__isnull=True)
        .order_by("line_id")
        .values_list(
            "line_id",
            "worker__nik_encrypted",
            "worker__full_name",
            "worker__birth_date",
            "worker__sex",
            "income_nominal",
            "with_jht",
            "sector",
        )
    )
    month = month_label(batch.month)
    for line_id, nik_sealed, name, birth, sex, income, with_jht, sector in requests.iterator(chunk_size=2000):
        yield (
            batch.key,
            line_id,
            crypto.decrypt(nik_sealed, purpose=PURPOSE_NIK),
            name,
            birth.isoformat(),
            SEX_CODES.get(sex, sex),
            month,
            int(income),
            "JKK+JKM+JHT" if with_jht else "JKK+JKM",
            sector,
        )


def registration_file(batch, file_format: str) -> ExportedFile:
    content, rows = table_bytes(REGISTRATION_COLUMNS, registration_rows(batch), file_format)
    name = f"agency-registrations-{_slug(batch.key)}.{file_format}"
    return ExportedFile(content, name, CONTENT_TYPES[file_format], rows)


REPORT_COLUMNS = ("row", "column", "code", "problem", "is_error")


def report_file(file_import, file_format: str) -> ExportedFile:
    from lingkaran.protection.agency.messages import column_text, problem_text

    rows = (
        (p.row, column_text(p.column) if p.column else "", p.code, problem_text(p.code, p.params), int(p.is_error))
        for p in file_import.problems.order_by("row", "id").iterator(chunk_size=2000)
    )
    content, count = table_bytes(REPORT_COLUMNS, rows, file_format)
    name = f"agency-import-{file_import.pk}-report.{file_format}"
    return ExportedFile(content, name, CONTENT_TYPES[file_format], count)
