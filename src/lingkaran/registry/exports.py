"""Exports of a filtered worker list: masked for everyone who may list workers, in full only for operators.

The masked export shows what the list page shows (masked NIK and phone, no address). The personal-data export is an
act on many people at once: it needs ``Capability.EXPORT_PERSONAL_DATA``, and one audit row records who exported,
with which filter and how many rows, before the first row is written. Every cell goes through
``core.exports.safe_cell`` so that no value can run as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.utils import timezone

from lingkaran.core import crypto
from lingkaran.core.access import require
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import Capability
from lingkaran.core.exports import safe_cell
from lingkaran.registry import selectors
from lingkaran.registry.models import Worker
from lingkaran.registry.services import PURPOSE_ADDRESS, PURPOSE_NIK, PURPOSE_PHONE

COMMON_TAIL = [
    "region_code",
    "desa",
    "occupation",
    "declared_income",
    "dtsen_decile",
    "dtsen_as_of",
    "disability",
    "elderly",
    "female_head",
    "extreme_poverty_list",
    "zakat_eligible",
    "status",
    "source",
    "kpj_number",
    "registered_at",
]
MASKED_HEADER = ["id", "nik_masked", "full_name", "birth_date", "sex", "phone_masked", *COMMON_TAIL]
PERSONAL_HEADER = ["id", "nik", "full_name", "birth_date", "sex", "phone", "address", *COMMON_TAIL]
FORMATS = ("csv", "xlsx")


@dataclasses.dataclass
class WorkerExport:
    header: list[str]
    rows: Iterable[list]
    count: int | None
    personal: bool


def _tail(worker: Worker) -> list:
    return [
        worker.region_code,
        worker.region.name if worker.region_id else "",
        worker.occupation_id,
        worker.declared_income,
        worker.dtsen_decile,
        worker.dtsen_as_of,
        worker.has_disability,
        worker.is_elderly,
        worker.is_female_head,
        worker.on_extreme_poverty_list,
        worker.zakat_eligible,
        worker.status,
        worker.source,
        worker.kpj_number,
        timezone.localtime(worker.created_at).replace(tzinfo=None, microsecond=0),
    ]


def _masked_rows(workers) -> Iterator[list]:
    for w in workers.iterator(chunk_size=2000):
        yield [w.pk, w.nik_masked, w.full_name, w.birth_date, w.sex, w.phone_masked, *_tail(w)]


def _personal_rows(workers) -> Iterator[list]:
    for w in workers.iterator(chunk_size=2000):
        yield [
            w.pk,
            crypto.decrypt(w.nik_encrypted, purpose=PURPOSE_NIK),
            w.full_name,
            w.birth_date,
            w.sex,
            crypto.decrypt(w.phone_encrypted, purpose=PURPOSE_PHONE) if w.phone_encrypted else "",
            crypto.decrypt(w.address_encrypted, purpose=PURPOSE_ADDRESS) if w.address_encrypted else "",
            *_tail(w),
        ]


def workers_export(*, actor, filters: selectors.WorkerFilter, personal: bool = False, file_format: str = "csv"):
    """The rows of the filtered list the actor may see; with ``personal`` the full NIK, phone and address, audited."""
    workers = selectors.workers_filtered(actor, filters).order_by("id")
    if not personal:
        return WorkerExport(MASKED_HEADER, _masked_rows(workers), None, personal=False)
    require(actor, Capability.EXPORT_PERSONAL_DATA)
    with transaction.atomic():
        count = workers.count()
        audit_record(
            actor=actor,
            action="worker.export_personal_data",
            object_type="registry.worker",
            details={
                "filter": {k: v for k, v in dataclasses.asdict(filters).items() if v not in ("", None)},
                "rows": count,
                "format": file_format,
                "fields": ["nik", "phone", "address"],
            },
        )
    return WorkerExport(PERSONAL_HEADER, _personal_rows(workers), count, personal=True)


# --- Writing the file -----------------------------------------------------------------------------------------------


def _text(value) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return value


def csv_stream(export: WorkerExport) -> Iterator[bytes]:
    """UTF-8 with BOM (Excel opens Indonesian names correctly), one chunk per 500 rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([safe_cell(h) for h in export.header])
    for number, row in enumerate(export.rows, start=1):
        writer.writerow([safe_cell(_text(v)) for v in row])
        if number % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_bytes(export: WorkerExport, *, title: str = "workers") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append([safe_cell(h) for h in export.header])
    for row in export.rows:
        cells = []
        for value in row:
            value = safe_cell(value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
