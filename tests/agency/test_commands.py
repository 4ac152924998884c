"""The ``lingkaran agency …`` commands: submit, export, import (with the row-level report and the exit status),
status; and the two-word forms the ``lingkaran`` script maps to them."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command, get_commands

from lingkaran.cli import resolve_command
from lingkaran.core.errors import Forbidden
from lingkaran.core.models import AuditEvent
from lingkaran.protection.agency import services
from lingkaran.protection.agency.models import FileImport, LineOutcome, MembershipStatus
from lingkaran.protection.agency.services import PaymentLineInput
from tests.agency.helpers import FULL, month, participant

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return out.getvalue(), err.getvalue(), int(exit_.code or 0)
    return out.getvalue(), err.getvalue(), 0


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["agency", "submit", "cycle:2026-11"], "agency_submit"),
        (["agency", "export", "payments", "--batch", "x"], "agency_export"),
        (["agency", "import", "confirmations", "f.csv"], "agency_import"),
        (["agency", "import", "status", "f.csv"], "agency_import"),
        (["agency", "status", "--month", "2026-11"], "agency_status"),
    ],
)
def test_two_word_forms_reach_the_commands(argv, command):
    assert resolve_command(argv, set(get_commands()))[0] == command


@pytest.fixture
def file_batch(file_exchange):
    batch = services.payment_batch_open(key="cycle:2026-11:64.09", today=date(2026, 11, 3))
    services.payment_lines_add(
        batch_id=batch.pk,
        lines=[
            PaymentLineInput(1, month(2026, 11), 8400, "12000000001"),
            PaymentLineInput(2, month(2026, 11), 8400, "12000000002"),
        ],
    )
    return batch


def test_submit_export_and_import_a_file_exchange_batch(file_batch, tmp_path):
    out, _err, code = run("agency_submit", "cycle:2026-11:64.09")
    assert code == 0
    assert out.startswith("cycle:2026-11:64.09: submitted, 2 lines, 0 accepted (Rp 0), 0 refused, 2 waiting")

    target = tmp_path / "payments.csv"
    out, _err, code = run("agency_export", "payments", "--batch", "cycle:2026-11:64.09", "--output", str(target))
    assert out == f"{target}: 2 rows\n"
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[1] == ["cycle:2026-11:64.09", "1", "12000000001", "2026-11", "8400"]

    answer = tmp_path / "konfirmasi.csv"
    answer.write_text(
        "batch,line,kpj,month,amount,result,reference\n"
        "cycle:2026-11:64.09,1,12000000001,2026-11,8400,diterima,R-1\n"
        "cycle:2026-11:64.09,2,12000000002,2026-10,8400,diterima,R-2\n",
        encoding="utf-8",
    )
    report = tmp_path / "report.xlsx"
    out, _err, code = run("agency_import", "confirmations", str(answer), "--report", str(report))
    assert code == 1  # a row had a problem
    assert "2 rows, 1 applied, 0 already applied, 1 with problems" in out
    assert report.stat().st_size > 0
    assert LineOutcome.objects.get(submitted__line_id=1).agency_reference == "R-1"

    out, _err, code = run("agency_import", "confirmations", str(answer))
    assert FileImport.objects.count() == 1  # the same file: nothing applied twice
    assert LineOutcome.objects.count() == 1
    assert AuditEvent.objects.filter(action="agency.file_import").count() == 2


def test_a_refused_file_exits_1_and_says_why(tmp_path, db):
    bad = tmp_path / "status.csv"
    bad.write_bytes(b"kpj;status\n12000000001;aktif\n")
    _out, err, code = run("agency_import", "status", str(bad))
    assert code == 1
    assert "refused" in err
    assert FileImport.objects.get().refusal_code == "file_columns_missing"


def test_usage_errors(tmp_path, db):
    with pytest.raises(CommandError, match="is not a file"):
        call_command("agency_import", "status", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="no batch"):
        call_command("agency_export", "payments", "--batch", "nope")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("agency_status", "--month", "November")
    with pytest.raises(CommandError, match="no active user"):
        call_command("agency_submit", "x", "--as", "nobody")


def test_submit_through_the_simulator_and_refresh_the_status(db):
    anna = participant("anna", month(2027, 1))
    batch = services.payment_batch_open(key="sim", today=month(2027, 1))
    services.payment_lines_add(
        batch_id=batch.pk,
        lines=[PaymentLineInput(1, month(2027, 1), FULL, anna), PaymentLineInput(2, month(2027, 1), FULL, anna)],
    )
    out, _err, _code = run("agency_submit", str(batch.pk))
    assert out.splitlines() == [
        "sim: answered, 2 lines, 1 accepted (Rp 16800), 1 refused, 0 waiting",
        "  duplicate_line: 1",
    ]
    out, _err, _code = run("agency_status", "--month", "2027-01")
    assert out.splitlines() == ["simulator: 1 participants, as of 2027-01", "  active: 1"]
    assert MembershipStatus.objects.get().state == "active"


def test_acting_users_are_checked_like_on_a_page(file_batch, make_user):
    make_user("operator", username="ops")
    with pytest.raises(Forbidden):
        call_command("agency_submit", "cycle:2026-11:64.09", "--as", "ops")
    assert not LineOutcome.objects.exists()
