"""``lingkaran workers import FILE``: progress on stderr, a summary, the report, exit status 0 / 1 / 2."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from lingkaran.cli import resolve_command
from lingkaran.core.errors import Forbidden
from lingkaran.registry.models import ImportBatch, Worker
from tests.registry.import_helpers import csv_bytes, people, person, sample_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(make_user, region_tree):
    return make_user("operator", username="operator", language="en")


def import_file(path: Path, *args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("workers_import", str(path), *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_the_two_word_command_reaches_workers_import():
    assert resolve_command(["workers", "import", "f.csv"], {"workers_import"}) == ["workers_import", "f.csv"]


def test_import_with_progress_summary_and_report(operator, tmp_path):
    path = tmp_path / "pemda.csv"
    path.write_bytes(sample_csv(120))
    report = tmp_path / "laporan.xlsx"
    code, out, err = import_file(path, "--source", "pemda_list", "--report", str(report))
    assert code == 0
    assert "120/120 rows (100%)" in err
    assert "pemda.csv: 120 rows, csv (import #" in out
    assert "Done: 116 created, 0 already registered, 3 invalid, 1 repeated in the file (of 120 rows)" in out
    assert "row 9, nik: NIK must have 16 digits, this one has 15." in out
    assert Worker.objects.count() == 116
    assert Worker.objects.filter(source="pemda_list", nominated_by=operator).count() == 116
    rows = list(load_workbook(report)["masalah"].iter_rows(values_only=True))
    assert len(rows) == 1 + 4
    assert f"Report: {report} (4 rows)" in out


def test_all_or_nothing_refusal_exits_with_1_and_imports_nothing(operator, tmp_path):
    path = tmp_path / "daftar.csv"
    path.write_bytes(csv_bytes([*people(4), person(5, jenis_kelamin="X")]))
    code, out, _err = import_file(path, "--mode", "all_or_nothing")
    assert code == 1
    assert "Refused (nothing imported): 0 created" in out
    assert "1 rows have errors; in all-or-nothing mode nothing was imported." in out
    assert "row 6, jenis_kelamin: Sex must be L/P (or M/F)." in out
    assert not Worker.objects.exists()


def test_a_file_that_is_not_a_spreadsheet_exits_with_1(operator, tmp_path):
    path = tmp_path / "foto.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    code, out, _err = import_file(path)
    assert code == 1
    assert "The file is a PNG file, not a CSV or XLSX spreadsheet." in out
    assert ImportBatch.objects.get().state == ImportBatch.State.REFUSED


def test_the_same_file_twice(operator, tmp_path):
    path = tmp_path / "daftar.csv"
    path.write_bytes(csv_bytes(people(3)))
    assert import_file(path)[0] == 0
    code, out, _err = import_file(path)
    assert code == 0
    assert "was already imported on" in out
    assert "Done: 0 created, 3 already registered" in out
    assert Worker.objects.count() == 3


def test_usage_errors_exit_with_2(operator, tmp_path):
    with pytest.raises(CommandError) as missing:
        call_command("workers_import", str(tmp_path / "nope.csv"))
    assert missing.value.returncode == 2
    path = tmp_path / "daftar.csv"
    path.write_bytes(csv_bytes(people(1)))
    with pytest.raises(CommandError) as report:
        call_command("workers_import", str(path), "--report", str(tmp_path / "r.pdf"))
    assert report.value.returncode == 2
    with pytest.raises(CommandError) as user:
        call_command("workers_import", str(path), "--as", "siapa")
    assert user.value.returncode == 2


def test_a_user_who_may_not_import_is_refused(operator, make_user, tmp_path):
    make_user("auditor", username="auditor")
    path = tmp_path / "daftar.csv"
    path.write_bytes(csv_bytes(people(1)))
    with pytest.raises(Forbidden):
        call_command("workers_import", str(path), "--as", "auditor")
    assert not ImportBatch.objects.exists()


def test_the_lingkaran_entry_point_knows_the_command():
    result = subprocess.run(
        [sys.executable, "-m", "lingkaran", "workers", "import", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "--mode {all_or_nothing,accept_valid}" in result.stdout
    assert "--report REPORT" in result.stdout
