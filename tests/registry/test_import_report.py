"""The row-level report: XLSX and CSV, row/column/code/masalah/problem, formulas neutralised, downloads audited."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from lingkaran.core.errors import Forbidden
from lingkaran.core.models import AuditEvent
from lingkaran.registry import importing, messages, reports
from lingkaran.registry.domain.sample_rows import HEADER
from lingkaran.registry.models import ImportBatch
from tests.registry.import_helpers import csv_bytes, person, upload

pytestmark = pytest.mark.django_db

# Headers that a spreadsheet would run as formulas; still recognised (``=NIK`` is the NIK column).
HOSTILE_HEADER = ["=NIK", "+nama_lengkap", "@tanggal_lahir", *HEADER[3:]]


@pytest.fixture
def batch(make_user, region_tree) -> ImportBatch:
    user = make_user("operator")
    rows = [
        person(1),
        person(2, nik="640901"),
        person(3, pekerjaan="astronot", penghasilan="-5"),
        person(1),
    ]
    content = csv_bytes([[r[h] for h in HEADER] for r in rows], header=HOSTILE_HEADER)
    created = importing.import_create(actor=user, uploaded_file=upload(content))
    assert importing.mapping_of(created)[1][:3] == ["nik", "full_name", "birth_date"]
    return importing.import_run(batch_id=created.pk)


EXPECTED = [
    (3, "=NIK", "nik_length", {"length": 6}),
    (4, "pekerjaan", "occupation_unknown", {"value": "astronot"}),
    (4, "penghasilan", "income_invalid", {}),
    (5, "=NIK", "nik_duplicate_in_file", {"first_row": 2}),
]


def test_xlsx_report_has_one_row_per_problem_in_both_languages_and_no_formula(batch):
    workbook = load_workbook(io.BytesIO(reports.report_xlsx(batch)))
    assert workbook.sheetnames == ["masalah", "ringkasan"]
    rows = list(workbook["masalah"].iter_rows(values_only=True))
    assert rows[0] == ("row", "column", "code", "masalah", "problem")
    assert rows[1:] == [
        (row, "'" + column if column.startswith("=") else column, code,
         messages.render(code, params, language="id"), messages.render(code, params, language="en"))
        for row, column, code, params in EXPECTED
    ]  # fmt: skip
    assert rows[1][3] == messages.render("nik_length", {"length": 6}, language="id")
    assert rows[1][4] == "NIK must have 16 digits, this one has 6."
    for sheet in workbook:
        for line in sheet.iter_rows():
            for cell in line:
                assert cell.data_type != "f"
                assert not (isinstance(cell.value, str) and cell.value[:1] in "=+-@")
    summary = dict(workbook["ringkasan"].iter_rows(values_only=True))
    assert summary["created"] == 1
    assert summary["invalid"] == 2
    assert summary["duplicate_in_file"] == 1
    assert summary["state"] == "done"


def test_csv_report_is_utf8_with_bom_and_neutralised(batch):
    content = reports.report_csv(batch)
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "code", "masalah", "problem"]
    assert [r[:3] for r in rows[1:]] == [
        [str(row), "'" + column if column.startswith("=") else column, code] for row, column, code, _ in EXPECTED
    ]
    assert rows[2][4] == "Occupation astronot is not known; see the occupation list."


def test_a_refused_file_has_its_reason_as_row_zero(make_user, region_tree):
    user = make_user("operator")
    refused = importing.import_create(actor=user, uploaded_file=upload(b"\x89PNG\r\n\x1a\nxxxx", "a.xlsx"))
    rows = list(load_workbook(io.BytesIO(reports.report_xlsx(refused)))["masalah"].iter_rows(values_only=True))
    assert rows[1][:3] == (0, None, "file_not_spreadsheet")
    assert rows[1][4] == "The file is a PNG file, not a CSV or XLSX spreadsheet."


def test_report_download_needs_the_batch_and_is_audited(batch, make_user):
    content, name, content_type = reports.import_report(actor=batch.uploaded_by, batch_id=batch.pk, file_format="csv")
    assert content == reports.report_csv(batch)
    assert name == f"laporan-impor-{batch.pk}.csv"
    assert content_type.startswith("text/csv")
    event = AuditEvent.objects.get(action="registry.import_report")
    assert event.details == {"format": "csv", "problems": 4}
    with pytest.raises(Forbidden):
        reports.import_report(actor=make_user("auditor"), batch_id=batch.pk, file_format="xlsx")
