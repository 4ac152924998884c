"""Bulk import of workers through the API: upload a CSV or XLSX file, correct the column mapping, run, follow the
progress, read the row-level problems and download the report.

The same service as the import pages (``registry.importing``): only ``Capability.IMPORT_WORKERS``; a refused file is
a batch in state ``refused`` with its reason (the upload itself is 201: the attempt is recorded).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from lingkaran.api.pagination import LimitOffset
from lingkaran.registry import importing, messages, reports
from lingkaran.registry.models import ImportBatch, ImportProblem

router = Router(tags=["imports"])


class MappingProblemOut(Schema):
    code: str
    message: str


class ImportOut(Schema):
    id: int
    file_name: str
    file_sha256: str
    file_format: str
    source: str
    mode: str
    state: str
    message: str
    total_rows: int
    processed_rows: int
    percent: int
    created_count: int
    existing_count: int
    invalid_count: int
    duplicate_in_file_count: int
    header: list[str]
    fields: list[str]
    mapping_problems: list[MappingProblemOut]
    uploaded_by: str
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_message(obj: ImportBatch) -> str:
        return importing.batch_notice(obj)

    @staticmethod
    def resolve_header(obj: ImportBatch) -> list[str]:
        return importing.mapping_of(obj)[0]

    @staticmethod
    def resolve_fields(obj: ImportBatch) -> list[str]:
        return importing.mapping_of(obj)[1]

    @staticmethod
    def resolve_mapping_problems(obj: ImportBatch) -> list[dict]:
        if obj.state != ImportBatch.State.UPLOADED:
            return []
        return [
            {"code": p.code, "message": messages.render(p.code, p.params)}
            for p in importing.batch_mapping_problems(obj)
        ]

    @staticmethod
    def resolve_uploaded_by(obj: ImportBatch) -> str:
        return obj.uploaded_by.username


class ProblemOut(Schema):
    row: int
    column: str
    code: str
    message: str
    message_id: str
    message_en: str
    is_error: bool

    @staticmethod
    def resolve_message(obj: ImportProblem) -> str:
        return importing.problem_message(obj)


class MappingIn(Schema):
    fields: list[str]


@router.post("/imports", response={201: ImportOut}, summary="Upload a CSV or XLSX file of workers (not run yet)")
def import_create(
    request,
    file: File[UploadedFile],
    source: Form[Literal["pemda_list", "zakat_list", "funder", "import"]] = "import",
    mode: Form[Literal["accept_valid", "all_or_nothing"]] = "accept_valid",
):
    batch = importing.import_create(actor=request.user, uploaded_file=file, source=source, mode=mode)
    return Status(201, batch)


@router.get("/imports", response=list[ImportOut], summary="Imports the caller may see, newest first")
@paginate(LimitOffset)
def import_list(request):
    return importing.import_batches_visible_to(request.user)


@router.get("/imports/{batch_id}", response=ImportOut, summary="One import: state, counts and percent done")
def import_detail(request, batch_id: int):
    return importing.import_batch_for(request.user, batch_id)


@router.put("/imports/{batch_id}/mapping", response=ImportOut, summary="Choose the field of each column")
def import_mapping(request, batch_id: int, payload: MappingIn):
    return importing.import_set_mapping(actor=request.user, batch_id=batch_id, fields=payload.fields)


@router.post("/imports/{batch_id}/run", response={202: ImportOut}, summary="Start (or continue) the import")
def import_run(request, batch_id: int):
    return Status(202, importing.import_start(actor=request.user, batch_id=batch_id))


@router.get("/imports/{batch_id}/problems", response=list[ProblemOut], summary="Row-level problems of an import")
@paginate(LimitOffset)
def import_problems(request, batch_id: int, errors_only: bool = False):
    return importing.import_problems(importing.import_batch_for(request.user, batch_id), errors_only=errors_only)


@router.get("/imports/{batch_id}/report", summary="The row-level report as XLSX or CSV", response={200: None})
def import_report(request, batch_id: int, format: Literal["xlsx", "csv"] = "xlsx"):
    content, name, content_type = reports.import_report(actor=request.user, batch_id=batch_id, file_format=format)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
