"""Files that are not what they claim, wrong encodings, missing columns, empty files: a clear refusal, nothing
imported, nothing stored. And the files that are fine in unusual ways (BOM, semicolons, a title row, XLSX types)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from types import SimpleNamespace

import pytest
from django.core.files.storage import default_storage

from lingkaran.config.env import ConfigError
from lingkaran.core.errors import Forbidden, InvalidInput
from lingkaran.core.models import AuditEvent
from lingkaran.registry import importing, messages
from lingkaran.registry.domain.sample_rows import HEADER
from lingkaran.registry.models import ImportBatch, ImportProblem, Worker
from tests.registry.import_helpers import csv_bytes, people, person, upload, xlsx_bytes

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.fixture
def importer(make_user, region_tree, monkeypatch):
    """An operator; and every file saved to storage is recorded in ``importer.saved``."""
    user = make_user("operator", username="importir")
    user.saved = []
    real = importing.default_storage.save

    def save(name, content, **kwargs):
        user.saved.append(name)
        return real(name, content, **kwargs)

    monkeypatch.setattr(importing.default_storage, "save", save)
    return user


def create(user, content: bytes, name: str = "daftar.csv", **kwargs) -> ImportBatch:
    batch = importing.import_create(actor=user, uploaded_file=upload(content, name), **kwargs)
    batch.saved = list(getattr(user, "saved", []))
    return batch


def assert_refused(batch: ImportBatch, code: str, **params):
    """Refused with one file-level problem in both languages; nothing stored, no worker."""
    assert batch.state == ImportBatch.State.REFUSED
    assert batch.stored_path == ""
    assert batch.finished_at is not None
    problems = list(batch.problems.all())
    assert [(p.row, p.column, p.code, p.is_error) for p in problems] == [(0, "", code, True)]
    assert problems[0].message_en == messages.render(code, params, language="en")
    assert problems[0].message_id == messages.render(code, params, language="id")
    assert batch.message == problems[0].message_id
    assert importing.batch_notice(batch) == messages.render(code, params)
    assert not Worker.objects.exists()
    assert batch.saved == []


@pytest.mark.parametrize(
    ("content", "name", "code", "params"),
    [
        (PNG, "daftar.xlsx", "file_not_spreadsheet", {"kind": "PNG"}),
        (PNG, "daftar.csv", "file_not_spreadsheet", {"kind": "PNG"}),
        (b"%PDF-1.7\n%\xe2\xe3", "daftar.csv", "file_not_spreadsheet", {"kind": "PDF"}),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "foto.xlsx", "file_not_spreadsheet", {"kind": "JPEG"}),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "lama.xls", "file_xls_old", {}),
        (b"nik,nama\x00\x01\x02\x03,x\n", "daftar.csv", "file_binary", {}),
        ("nik,nama\n".encode("utf-16"), "daftar.csv", "file_utf16", {}),
        (b"", "kosong.csv", "file_empty", {}),
        (b"\r\n  \r\n", "kosong.csv", "file_empty", {}),
        (",".join(HEADER).encode() + b"\r\n", "header.csv", "file_no_rows", {}),
        (",".join(HEADER).encode() + b"\r\n,,,\r\n\r\n", "header.csv", "file_no_rows", {}),
    ],
)
def test_files_that_are_not_spreadsheets_are_refused(importer, content, name, code, params):
    batch = create(importer, content, name)
    assert_refused(batch, code, **params)


def test_text_named_xlsx_is_refused_as_not_what_it_claims(importer):
    batch = create(importer, csv_bytes(people(3)), "daftar.xlsx")
    assert_refused(batch, "file_extension_mismatch", extension="xlsx", kind="CSV")
    assert "xlsx" in batch.message
    assert "CSV" in batch.message


def test_a_workbook_named_csv_is_refused_as_not_what_it_claims(importer):
    batch = create(importer, xlsx_bytes([list(person().values())]), "daftar.csv")
    assert_refused(batch, "file_extension_mismatch", extension="csv", kind="XLSX")


def test_a_zip_that_is_not_a_workbook_is_refused(importer):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    batch = create(importer, buffer.getvalue(), "daftar.xlsx")
    assert_refused(batch, "file_xlsx_invalid")


def test_a_truncated_workbook_is_refused(importer):
    content = xlsx_bytes([list(person().values())])
    batch = create(importer, content[: len(content) // 2], "daftar.xlsx")
    assert_refused(batch, "file_xlsx_invalid")


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_cp1252_and_latin1_text_is_refused_naming_the_byte_and_line(importer, encoding):
    rows = people(3)
    rows[1]["alamat"] = "Jl. Désa Café"  # é is one byte, 0xE9, in cp1252 and latin-1
    content = csv_bytes(rows).decode().encode(encoding)
    batch = create(importer, content, "daftar.csv")
    offset = content.index(b"\xe9")
    assert_refused(batch, "file_encoding", byte=offset + 1, line=3)
    assert f"byte {offset + 1} (line 3)" in batch.problems.get().message_en


def test_a_bad_byte_after_the_first_block_is_found_at_its_true_offset():
    content = b"a" * 10 + "é".encode() + b"\n" * 5 + b"x\xff"
    with pytest.raises(importing.ImportRefused) as refused:
        importing.check_utf8(io.BytesIO(content), block=4)  # é is cut by a block edge: not an error
    assert refused.value.params == {"byte": len(content), "line": 6}


def test_missing_required_columns_refuse_the_file_when_no_column_is_left_to_choose(importer):
    content = csv_bytes([["6409014501900001", "Siti"]], header=["NIK", "Nama"])
    batch = create(importer, content)
    assert batch.state == ImportBatch.State.REFUSED
    assert [(p.row, p.code) for p in batch.problems.all()] == [(0, "column_missing")] * 4
    assert [p.message_en for p in batch.problems.all()] == [
        "Required column tanggal_lahir is missing.",
        "Required column jenis_kelamin is missing.",
        "Required column pekerjaan is missing.",
        "Required column penghasilan is missing.",
    ]
    assert importing.batch_notice(batch) == messages.render("import_refused_mapping")
    assert not Worker.objects.exists()


def test_a_required_column_with_an_unknown_header_can_be_chosen_in_the_preview(importer):
    header = ["NIK", "Nama", "TTL", "JK", "Pekerjaan", "Gaji"]
    row = person()
    content = csv_bytes([[row["nik"], "Siti", row["tanggal_lahir"], "P", "ojol", "900000"]], header=header)
    batch = create(importer, content)
    assert batch.state == ImportBatch.State.UPLOADED
    assert [p.code for p in importing.batch_mapping_problems(batch)] == ["column_missing", "column_missing"]
    importing.import_set_mapping(
        actor=importer,
        batch_id=batch.pk,
        fields=["nik", "full_name", "birth_date", "sex", "occupation", "declared_income"],
    )
    batch = importing.import_run(batch_id=batch.pk)
    assert (batch.state, batch.created_count) == (ImportBatch.State.DONE, 1)


def test_running_with_required_columns_still_missing_is_refused_and_imports_nothing(importer):
    content = csv_bytes([["6409014501900001", "Siti", "x", "y", "z", "w"]], header=["NIK", "Nama", "A", "B", "C", "D"])
    batch = create(importer, content)
    assert batch.state == ImportBatch.State.UPLOADED
    batch = importing.import_run(batch_id=batch.pk)
    assert batch.state == ImportBatch.State.REFUSED
    assert importing.batch_notice(batch) == messages.render("import_refused_mapping")
    assert list(batch.problems.values_list("code", flat=True)) == ["column_missing"] * 4
    assert not Worker.objects.exists()
    assert AuditEvent.objects.filter(action="registry.import_run", details__state="refused").count() == 1


def test_a_mapping_that_does_not_fit_is_refused(importer):
    batch = create(importer, csv_bytes(people(1)))
    with pytest.raises(InvalidInput):
        importing.import_set_mapping(actor=importer, batch_id=batch.pk, fields=["nik"])
    with pytest.raises(InvalidInput):
        importing.import_set_mapping(actor=importer, batch_id=batch.pk, fields=["nik", "nik", *[""] * 13])
    with pytest.raises(InvalidInput):
        importing.import_set_mapping(actor=importer, batch_id=batch.pk, fields=["kpj_number", *[""] * 14])
    batch.refresh_from_db()
    assert importing.mapping_of(batch)[1][:2] == ["nik", "full_name"]


def test_utf8_with_bom_semicolons_and_crlf_is_read(importer):
    rows = people(3)
    rows[0]["alamat"] = "Jl. Sudirman; Gg. Kenari"  # quoted, so its semicolon is not a column break
    batch = create(importer, csv_bytes(rows, delimiter=";", bom=True))
    assert batch.state == ImportBatch.State.UPLOADED
    assert batch.mapping["delimiter"] == ";"
    assert importing.mapping_of(batch)[0] == HEADER
    batch = importing.import_run(batch_id=batch.pk)
    assert batch.created_count == 3
    assert batch.problems.count() == 0


def test_a_title_above_the_header_is_skipped_and_rows_keep_their_spreadsheet_numbers(importer):
    content = b"DAFTAR PEKERJA RENTAN KAB. PPU 2026\r\n\r\n" + csv_bytes([*people(2), person(3, nik="123")])
    batch = create(importer, content)
    assert batch.mapping["header_row"] == 3
    assert batch.total_rows == 3
    batch = importing.import_run(batch_id=batch.pk)
    assert list(batch.problems.values_list("row", "code")) == [(6, "nik_length")]


def test_an_xlsx_with_types_formulas_and_a_title_row(importer):
    good = person(1)
    typed = [good["nik"], good["nama_lengkap"], datetime(1990, 1, 5), "P", "ojol", 1500000, 81234567890,
             "Jl. Mawar", "64.09.01.2020", 2, False, False, True, False, True]  # fmt: skip
    formula = list(person(2).values())
    formula[1] = '=HYPERLINK("http://contoh.invalid","klik")'
    number = list(person(3).values())
    number[0] = int(number[0])  # a NIK typed as a number (Excel would have cut its 16th digit)
    content = xlsx_bytes([typed, formula, number], before=[["DAFTAR PEKERJA"]])
    batch = create(importer, content, "daftar.xlsx")
    assert (batch.state, batch.file_format, batch.total_rows) == (ImportBatch.State.UPLOADED, "xlsx", 3)
    assert batch.stored_path == f"imports/{batch.file_sha256}.xlsx"
    batch = importing.import_run(batch_id=batch.pk)
    assert (batch.created_count, batch.invalid_count) == (1, 2)
    assert list(batch.problems.values_list("row", "column", "code")) == [
        (4, "nama_lengkap", "formula_refused"),
        (5, "nik", "nik_stored_as_number"),
    ]
    worker = Worker.objects.get()
    assert (worker.birth_date.isoformat(), worker.declared_income, worker.phone_masked) == (
        "1990-01-05",
        1_500_000,
        "+62812•••••890",
    )


def test_a_file_is_recognised_by_its_content_not_its_name(importer):
    batch = create(importer, csv_bytes(people(2)), "export-from-sipd")
    assert (batch.state, batch.file_format) == (ImportBatch.State.UPLOADED, "csv")
    assert batch.stored_path == f"imports/{batch.file_sha256}.csv"
    assert default_storage.open(batch.stored_path).read() == csv_bytes(people(2))


def test_a_file_larger_than_the_limit_is_refused(importer, monkeypatch):
    monkeypatch.setattr(importing, "MAX_BYTES", 100)
    batch = create(importer, csv_bytes(people(3)))
    assert_refused(batch, "file_too_large", limit=0)


def test_uploading_a_file_already_imported_says_so(importer):
    first = create(importer, csv_bytes(people(2)))
    importing.import_run(batch_id=first.pk)
    again = create(importer, csv_bytes(people(2)), "sama.csv")
    assert again.state == ImportBatch.State.UPLOADED
    assert f"(import #{first.pk})" in again.message or f"(impor #{first.pk})" in again.message
    assert importing.batch_notice(again).startswith(
        messages.render("import_already_done", {"date": "", "batch": first.pk})[:20]
    )
    assert again.stored_path == first.stored_path


def test_only_importers_may_upload(make_user, region_tree):
    for role in ("funder", "auditor", "field_agent", "finance", "worker"):
        with pytest.raises(Forbidden):
            create(make_user(role), csv_bytes(people(1)))
    assert not ImportBatch.objects.exists()


def test_source_and_mode_are_checked(importer):
    with pytest.raises(InvalidInput) as error:
        create(importer, csv_bytes(people(1)), source="operator", mode="some")
    assert set(error.value.details["fields"]) == {"source", "mode"}
    assert not ImportBatch.objects.exists()


def test_upload_is_audited(importer):
    batch = create(importer, csv_bytes(people(2)), source="zakat_list")
    event = AuditEvent.objects.get(action="registry.import_create")
    assert (event.actor, event.object_type, event.object_id) == (importer, "registry.importbatch", str(batch.pk))
    assert event.details["total_rows"] == 2
    assert event.details["sha256"] == batch.file_sha256
    assert event.details["source"] == "zakat_list"
    refused = create(importer, PNG, "x.png")
    event = AuditEvent.objects.get(action="registry.import_create", object_id=str(refused.pk))
    assert (event.details["state"], event.details["refused"]) == ("refused", "file_not_spreadsheet")
    assert ImportProblem.objects.filter(batch=refused).count() == 1


def test_import_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LINGKARAN_IMPORT_PROCESSES", "3")
    monkeypatch.setattr(importing.multiprocessing, "current_process", lambda: SimpleNamespace(daemon=False))
    assert importing.default_processes() == 3
    monkeypatch.setenv("LINGKARAN_IMPORT_MAX_BYTES", "1048576")
    assert importing._positive_setting("LINGKARAN_IMPORT_MAX_BYTES", 99) == 1048576
    monkeypatch.delenv("LINGKARAN_IMPORT_PROCESSES")
    assert importing.default_processes() == 1


@pytest.mark.parametrize("value", ["0", "-2", "zwei"])
def test_a_bad_import_setting_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("LINGKARAN_IMPORT_PROCESSES", value)
    with pytest.raises(ConfigError, match="LINGKARAN_IMPORT_PROCESSES"):
        importing.default_processes()


def test_a_daemon_process_prepares_in_process(monkeypatch):
    monkeypatch.setenv("LINGKARAN_IMPORT_PROCESSES", "4")
    monkeypatch.setattr(importing.multiprocessing, "current_process", lambda: SimpleNamespace(daemon=True))
    assert importing.default_processes() == 1
