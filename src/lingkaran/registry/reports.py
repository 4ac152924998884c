"""The row-level report of an import, as XLSX (openpyxl write-only) or CSV (UTF-8 with BOM, for Excel).

Columns: ``row``, ``column``, ``code``, ``masalah`` (Indonesian), ``problem`` (English). Row 0 is the file itself
(a refused file, a missing column). A second sheet of the XLSX sums the import up. Every text cell goes through
``core.exports.safe_cell``: a value copied from the uploaded file (a header, an occupation) can never run as a formula
in the report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.utils import timezone

from lingkaran.core.exports import safe_cell
from lingkaran.registry.models import ImportBatch

REPORT_HEADER = ["row", "column", "code", "masalah", "problem"]
XLSX_MAX_ROWS = 1_048_575  # Excel's limit, less the header
FORMATS = ("xlsx", "csv")


def report_rows(batch: ImportBatch) -> Iterator[list]:
    problems = batch.problems.order_by("row", "id").values_list("row", "column", "code", "message_id", "message_en")
    for row in problems.iterator(chunk_size=5000):
        yield list(row)


def _summary(batch: ImportBatch) -> list[tuple[str, object]]:
    return [
        ("file", batch.file_name),
        ("sha256", batch.file_sha256),
        ("state", batch.state),
        ("mode", batch.mode),
        ("source", batch.source),
        ("uploaded_by", batch.uploaded_by.username),
        ("created_at", timezone.localtime(batch.created_at).strftime("%Y-%m-%d %H:%M")),
        ("total_rows", batch.total_rows),
        ("processed_rows", batch.processed_rows),
        ("created", batch.created_count),
        ("existing", batch.existing_count),
        ("invalid", batch.invalid_count),
        ("duplicate_in_file", batch.duplicate_in_file_count),
        ("message", batch.message),
    ]


def report_xlsx(batch: ImportBatch) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("masalah")
    sheet.append(REPORT_HEADER)
    for written, row in enumerate(report_rows(batch)):
        if written >= XLSX_MAX_ROWS - 1:
            sheet.append(["", "", "truncated", "Laporan terpotong: unduh CSV.", "Report truncated: download CSV."])
            break
        sheet.append([safe_cell(v) for v in row])
    summary = workbook.create_sheet("ringkasan")
    for key, value in _summary(batch):
        summary.append([key, safe_cell(value)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _Echo:
    def write(self, value):
        return value


def report_csv_chunks(batch: ImportBatch) -> Iterator[bytes]:
    """The CSV report in pieces (for a streaming response): BOM, header, one line per problem."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow(REPORT_HEADER)).encode()
    for row in report_rows(batch):
        yield writer.writerow([safe_cell(v) for v in row]).encode()


def report_csv(batch: ImportBatch) -> bytes:
    return b"".join(report_csv_chunks(batch))


def report_file_name(batch: ImportBatch, file_format: str) -> str:
    return f"laporan-impor-{batch.pk}.{file_format}"


CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def import_report(*, actor, batch_id: int, file_format: str) -> tuple[bytes, str, str]:
    """``(content, file name, content type)`` of a batch's report, for a user who may see the batch; audited."""
    from lingkaran.core.audit import audit_record
    from lingkaran.core.errors import InvalidInput
    from lingkaran.registry.importing import import_batch_for

    if file_format not in FORMATS:
        raise InvalidInput(details={"fields": {"format": ["xlsx, csv"]}})
    batch = import_batch_for(actor, batch_id)
    content = report_xlsx(batch) if file_format == "xlsx" else report_csv(batch)
    audit_record(
        actor=actor,
        action="registry.import_report",
        target=batch,
        details={"format": file_format, "problems": batch.problems.count()},
    )
    return content, report_file_name(batch, file_format), CONTENT_TYPES[file_format]
