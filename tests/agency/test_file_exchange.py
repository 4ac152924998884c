"""File exchange through its services (SQLite and PostgreSQL): the registration and payment files an officer uploads,
and the agency's registration results, payment confirmations and status files imported with a row-level report:
unknown workers, duplicate rows, wrong months, amounts that differ, wrong encoding, formulas at cell start, the same
file twice. Valid rows are applied, the others reported; nothing is applied twice."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from lingkaran.core.errors import Conflict, Forbidden
from lingkaran.core.models import AuditEvent
from lingkaran.protection.agency import services
from lingkaran.protection.agency.domain import reasons
from lingkaran.protection.agency.models import (
    FileImport,
    LineOutcome,
    MembershipStatus,
    PaymentBatch,
    RegistrationOutcome,
)
from lingkaran.protection.agency.services import PaymentLineInput, RegistrationInput
from tests.agency.helpers import NOW, month

pytestmark = pytest.mark.django_db

KPJ_A, KPJ_B, KPJ_C = "12000000001", "12000000002", "12000000003"
CONFIRMATION_HEADER = ["batch", "line", "kpj", "month", "amount", "result", "reason", "reference"]


def csv_file(rows: list[list], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_file(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def problems(record: FileImport) -> list[tuple]:
    return list(record.problems.order_by("row", "id").values_list("row", "column", "code"))


def imported(people, kind: str, content: bytes, name: str = "agency.csv") -> FileImport:
    actor = people["finance"] if kind == "confirmations" else people["operator"]
    return services.agency_file_import(
        actor=actor, kind=kind, file_name=name, content=content, today=date(2026, 11, 22), now=NOW
    )


@pytest.fixture
def sent(people, file_exchange):
    """A file-exchange payment batch ``nov`` of 3 lines, submitted: waiting for the agency."""
    batch = services.payment_batch_open(key="nov", today=date(2026, 11, 3), actor=people["finance"])
    services.payment_lines_add(
        batch_id=batch.pk,
        lines=[
            PaymentLineInput(1, month(2026, 11), 8400, KPJ_A),
            PaymentLineInput(2, month(2026, 11), 8400, KPJ_B),
            PaymentLineInput(3, month(2026, 12), 8400, KPJ_B),
        ],
    )
    summary = services.payment_batch_submit(batch_id=batch.pk, actor=people["finance"], now=NOW)
    assert (summary.state, summary.pending) == ("submitted", 3)
    return batch


# --- Payment files out -----------------------------------------------------------------------------------------------


def test_the_payment_file_lists_the_lines_waiting_for_the_agency(people, sent):
    exported = services.payment_file_export(actor=people["finance"], batch_id=sent.pk, file_format="csv")
    assert exported.filename == "agency-payments-nov.csv"
    assert exported.content.startswith(b"\xef\xbb\xbf")
    assert read_csv(exported.content) == [
        ["batch", "line", "kpj", "month", "amount"],
        ["nov", "1", KPJ_A, "2026-11", "8400"],
        ["nov", "2", KPJ_B, "2026-11", "8400"],
        ["nov", "3", KPJ_B, "2026-12", "8400"],
    ]
    workbook = load_workbook(
        io.BytesIO(services.payment_file_export(actor=people["finance"], batch_id=sent.pk, file_format="xlsx").content)
    )
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[1] == ("nov", 1, KPJ_A, "2026-11", 8400)  # the KPJ stays text
    assert PaymentBatch.objects.get(pk=sent.pk).exported_at is not None
    assert AuditEvent.objects.filter(action="agency.payment_file_export", actor=people["finance"]).count() == 2


def test_lines_without_a_known_kpj_or_twice_the_same_month_are_answered_at_once(people, file_exchange):
    batch = services.payment_batch_open(key="nik-only", today=date(2026, 11, 3))
    services.payment_lines_add(
        batch_id=batch.pk,
        lines=[
            PaymentLineInput(1, month(2026, 11), 8400, nik_index="f" * 64),
            PaymentLineInput(2, month(2026, 11), 8400, KPJ_A),
            PaymentLineInput(3, month(2026, 11), 8400, KPJ_A),
        ],
    )
    summary = services.payment_batch_submit(batch_id=batch.pk, now=NOW)
    assert (summary.pending, summary.rejected) == (1, 2)
    assert summary.reasons == {reasons.NOT_REGISTERED: 1, reasons.DUPLICATE_LINE: 1}
    exported = services.payment_file_export(actor=None, batch_id=batch.pk, file_format="csv")
    assert read_csv(exported.content)[1:] == [["nik-only", "2", KPJ_A, "2026-11", "8400"]]


def test_no_file_for_simulator_batches_or_open_batches(people):
    simulated = services.payment_batch_open(key="sim")
    with pytest.raises(Conflict) as refused:
        services.payment_file_export(actor=people["finance"], batch_id=simulated.pk, file_format="csv")
    assert refused.value.code == "batch_not_file"
    with pytest.raises(Forbidden):
        services.payment_file_export(actor=people["operator"], batch_id=simulated.pk, file_format="csv")


# --- Payment confirmations in ----------------------------------------------------------------------------------------


def test_a_clean_confirmation_file_answers_every_line(people, sent):
    content = csv_file(
        [
            CONFIRMATION_HEADER,
            ["nov", 1, KPJ_A, "2026-11", "8.400", "diterima", "", "BPJS-0001"],
            ["nov", 2, KPJ_B, "2026-11", 8400, "accepted", "", "BPJS-0002"],
            ["nov", 3, KPJ_B, "2026-12", "", "ditolak", "Peserta tidak aktif", ""],
        ]
    )
    record = imported(people, "confirmations", content)
    assert (record.state, record.total_rows, record.applied_count, record.problem_rows) == ("done", 3, 3, 0)
    answers = {o.submitted.line_id: o for o in LineOutcome.objects.select_related("submitted")}
    assert (answers[1].result, answers[1].agency_reference, answers[1].agency_amount) == ("accepted", "BPJS-0001", 8400)
    assert (answers[3].result, answers[3].reason, answers[3].reason_text) == (
        "rejected",
        reasons.REJECTED_BY_AGENCY,
        "Peserta tidak aktif",
    )
    assert answers[3].file_import_id == record.pk
    batch = PaymentBatch.objects.get(pk=sent.pk)
    assert (batch.state, batch.accepted_count, batch.rejected_count, batch.accepted_amount) == ("answered", 2, 1, 16800)
    assert read_csv(services.payment_file_export(actor=None, batch_id=sent.pk, file_format="csv").content) == [
        ["batch", "line", "kpj", "month", "amount"]
    ]


def test_a_broken_confirmation_file_is_reported_row_by_row(people, file_exchange):
    batch = services.payment_batch_open(key="big", today=date(2026, 11, 3))
    services.payment_lines_add(
        batch_id=batch.pk,
        lines=[
            PaymentLineInput(1, month(2026, 11), 8400, KPJ_A),
            PaymentLineInput(2, month(2026, 11), 8400, KPJ_B),
            PaymentLineInput(3, month(2026, 12), 8400, KPJ_B),
            PaymentLineInput(4, month(2026, 12), 8400, KPJ_A),
            PaymentLineInput(5, month(2026, 11), 8400, KPJ_C),
        ],
    )
    services.payment_batch_submit(batch_id=batch.pk, now=NOW)
    content = csv_file(
        [
            CONFIRMATION_HEADER,
            ["big", 1, KPJ_A, "2026-11", 8400, "accepted", "", "R1"],  # good
            ["big", 1, KPJ_A, "2026-11", 8400, "accepted", "", "R1"],  # the same line again
            ["big", 99, KPJ_A, "2026-11", 8400, "accepted", "", ""],  # no such line
            ["other", 2, KPJ_B, "2026-11", 8400, "accepted", "", ""],  # no such batch
            ["big", 2, "12000000009", "2026-11", 8400, "accepted", "", ""],  # an unknown worker
            ["big", 3, KPJ_B, "2026-10", 8400, "accepted", "", ""],  # the wrong month
            ["big", 4, KPJ_A, "2026-12", 16800, "accepted", "", ""],  # an amount that differs
            ["big", 5, KPJ_C, "2026-13", "=8400*1", "maybe", "", ""],  # three bad cells
            ["big", "@A1", KPJ_B, "2026-12", 8400, "accepted", "", ""],  # a formula at cell start
        ]
    )
    record = imported(people, "confirmations", content)
    assert (record.total_rows, record.applied_count, record.problem_rows) == (9, 1, 8)
    assert problems(record) == [
        (3, "line", reasons.DUPLICATE_ROW),
        (4, "line", reasons.UNKNOWN_LINE),
        (5, "line", reasons.UNKNOWN_LINE),
        (6, "kpj", reasons.UNKNOWN_PARTICIPANT),
        (7, "month", reasons.MONTH_DIFFERS),
        (8, "amount", reasons.AMOUNT_DIFFERS),
        (9, "month", reasons.INVALID_MONTH),
        (9, "result", reasons.INVALID_RESULT),
        (9, "amount", reasons.FORMULA_CELL),
        (10, "line", reasons.FORMULA_CELL),
    ]
    details = dict(record.problems.filter(code__in=["month_differs", "amount_differs"]).values_list("code", "params"))
    assert details == {"month_differs": {"expected": "2026-12"}, "amount_differs": {"expected": "8400"}}
    assert LineOutcome.objects.filter(batch=batch).count() == 1
    assert PaymentBatch.objects.get(pk=batch.pk).state == "submitted"


def test_the_same_file_twice_applies_nothing_and_a_second_file_cannot_overwrite(people, sent):
    rows = [CONFIRMATION_HEADER, ["nov", 1, KPJ_A, "2026-11", 8400, "accepted", "", "R1"]]
    first = imported(people, "confirmations", csv_file(rows))
    again = imported(people, "confirmations", csv_file(rows), name="copy.csv")
    assert again.pk == first.pk
    assert FileImport.objects.count() == 1
    assert LineOutcome.objects.count() == 1

    later = imported(
        people,
        "confirmations",
        csv_file(
            [
                CONFIRMATION_HEADER,
                ["nov", 1, KPJ_A, "2026-11", 8400, "accepted", "", "R1"],  # said again: a notice
                ["nov", 1, KPJ_A, "2026-11", "", "rejected", "", ""],  # contradicts: an error, first answer stands
                ["nov", 2, KPJ_B, "2026-11", 8400, "accepted", "", "R2"],
            ]
        ),
        name="later.csv",
    )
    assert (later.applied_count, later.already_applied_count, later.problem_rows) == (1, 1, 1)
    assert problems(later) == [(2, "result", reasons.ALREADY_APPLIED), (3, "line", reasons.DUPLICATE_ROW)]
    assert LineOutcome.objects.get(submitted__line_id=1).file_import_id == first.pk
    assert list(later.problems.values_list("is_error", flat=True).order_by("row")) == [False, True]


def test_a_contradicting_answer_in_a_later_file_is_an_error(people, sent):
    imported(
        people, "confirmations", csv_file([CONFIRMATION_HEADER, ["nov", 1, KPJ_A, "2026-11", 8400, "accepted", "", ""]])
    )
    later = imported(
        people,
        "confirmations",
        csv_file([CONFIRMATION_HEADER, ["nov", 1, KPJ_A, "2026-11", "", "rejected", "already_paid", ""]]),
        name="b.csv",
    )
    assert problems(later) == [(2, "result", reasons.CONFLICTING_ANSWER)]
    assert LineOutcome.objects.get(submitted__line_id=1).result == "accepted"


def test_confirmations_in_a_workbook_with_a_formula_cell(people, sent):
    content = xlsx_file(
        [
            ["Kode Batch", "Baris", "No KPJ", "Bulan Iuran", "Iuran", "Hasil"],
            ["nov", 1, KPJ_A, date(2026, 11, 1), 8400, "Sukses"],
            ["nov", 2, KPJ_B, "2026-11", "=SUM(8000,400)", "Sukses"],
        ]
    )
    record = imported(people, "confirmations", content, name="konfirmasi.xlsx")
    assert record.file_format == "xlsx"
    assert (record.applied_count, record.problem_rows) == (1, 1)
    assert problems(record) == [(3, "amount", reasons.FORMULA_CELL)]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", reasons.FILE_EMPTY),
        (
            "batch,line,kpj,month,amount,result\nnov,1,12000000001,2026-11,8400,Ditérima\n".encode("cp1252"),
            reasons.FILE_ENCODING,
        ),
        ("batch,line\n".encode("utf-16"), reasons.FILE_NOT_SPREADSHEET),
        (b"%PDF-1.7 not a spreadsheet", reasons.FILE_NOT_SPREADSHEET),
        (b"PK\x03\x04broken zip", reasons.FILE_XLSX_INVALID),
        (b"batch,line,kpj\nnov,1,12000000001\n", reasons.FILE_COLUMNS_MISSING),
        (b"batch,line,kpj,month,amount,result\n", reasons.FILE_NO_ROWS),
    ],
)
def test_files_that_cannot_be_read_are_refused_whole(people, sent, content, code):
    record = imported(people, "confirmations", content)
    assert (record.state, record.refusal_code) == ("refused", code)
    assert problems(record) == [(0, "", code)]
    assert not LineOutcome.objects.exists()


def test_a_refused_file_names_the_bad_byte(people, sent):
    content = "batch,line,kpj,month,amount,result\nnov,1,12000000001,2026-11,8400,Ditérima\n".encode("cp1252")
    record = imported(people, "confirmations", content)
    assert record.refusal_params == {"byte": content.index(b"\xe9") + 1, "line": 2}


def test_semicolon_csv_with_a_bom_is_read(people, sent):
    content = "\ufeff".encode() + csv_file(
        [["batch", "line", "kpj", "month", "amount", "result"], ["nov", "1", KPJ_A, "11/2026", "Rp 8.400", "OK"]],
        delimiter=";",
    )
    record = imported(people, "confirmations", content)
    assert problems(record) == [(2, "result", reasons.INVALID_RESULT)]  # "OK" is not a result this file may contain


def test_only_finance_imports_confirmations(people, sent):
    with pytest.raises(Forbidden):
        services.agency_file_import(actor=people["operator"], kind="confirmations", file_name="x.csv", content=b"x")
    with pytest.raises(Forbidden):
        services.agency_file_import(actor=people["finance"], kind="status", file_name="x.csv", content=b"x")
    assert not FileImport.objects.exists()


# --- Registrations and status ----------------------------------------------------------------------------------------


@pytest.fixture
def registering(people, verified_worker, file_exchange):
    """A file-exchange registration batch of two verified workers, submitted."""
    (anna, anna_nik), (budi, budi_nik) = verified_worker(1), verified_worker(2)
    batch = services.registration_batch_open(key="reg-nov", today=date(2026, 11, 3), actor=people["operator"])
    services.registration_requests_add(
        batch_id=batch.pk,
        requests=[
            RegistrationInput(worker_id=anna.pk, income_nominal=1_000_000, sector="transport"),
            RegistrationInput(worker_id=budi.pk, income_nominal=2_000_000, with_jht=True),
        ],
    )
    summary = services.registration_batch_submit(batch_id=batch.pk, actor=people["operator"], now=NOW)
    assert summary.pending == 2
    return {"batch": batch, "anna": anna, "budi": budi, "anna_nik": anna_nik, "budi_nik": budi_nik}


def test_the_registration_file_carries_the_identity_and_is_audited(people, registering):
    exported = services.registration_file_export(
        actor=people["operator"], batch_id=registering["batch"].pk, file_format="csv"
    )
    rows = read_csv(exported.content)
    assert rows[0] == [
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
    ]
    anna = registering["anna"]
    assert rows[1] == [
        "reg-nov",
        str(anna.pk),
        registering["anna_nik"],
        anna.full_name,
        anna.birth_date.isoformat(),
        "L",
        "2026-11",
        "1000000",
        "JKK+JKM",
        "transport",
    ]
    assert rows[2][8] == "JKK+JKM+JHT"
    event = AuditEvent.objects.get(action="agency.registration_file_export")
    assert event.details["rows"] == 2
    with pytest.raises(Forbidden):
        services.registration_file_export(actor=people["finance"], batch_id=registering["batch"].pk, file_format="csv")


def test_registration_results_give_kpj_numbers_that_payments_then_use(people, registering):
    anna, budi = registering["anna"], registering["budi"]
    content = csv_file(
        [
            ["batch", "line", "nik", "kpj", "result", "reason"],
            ["reg-nov", anna.pk, registering["anna_nik"], KPJ_A, "terdaftar", ""],
            ["reg-nov", budi.pk, registering["anna_nik"], KPJ_B, "terdaftar", ""],  # the NIK is anna's, not budi's
            ["reg-nov", 999, "", KPJ_C, "terdaftar", ""],
        ]
    )
    record = imported(people, "registrations", content)
    assert problems(record) == [(3, "nik", reasons.PARTICIPANT_DIFFERS), (4, "line", reasons.UNKNOWN_LINE)]
    assert registering["anna_nik"] not in str(list(record.problems.values_list("params", flat=True)))
    assert RegistrationOutcome.objects.get(request__worker=anna).kpj_number == KPJ_A

    retry = imported(
        people,
        "registrations",
        csv_file(
            [
                ["batch", "line", "kpj", "result", "reason"],
                ["reg-nov", budi.pk, "", "ditolak", "covered_as_wage_earner"],
            ]
        ),
        name="again.csv",
    )
    assert retry.applied_count == 1
    refused = RegistrationOutcome.objects.get(request__worker=budi)
    assert (refused.result, refused.reason, refused.reason_text) == ("rejected", reasons.COVERED_AS_WAGE_EARNER, "")
    assert registering["batch"].__class__.objects.get(pk=registering["batch"].pk).state == "answered"

    # A payment line by NIK only is paid under the KPJ number the agency gave.
    batch = services.payment_batch_open(key="by-nik", today=date(2026, 11, 10))
    services.payment_lines_add(
        batch_id=batch.pk, lines=[PaymentLineInput(7, month(2026, 11), 5000 + 3400, nik_index=anna.nik_index)]
    )
    services.payment_batch_submit(batch_id=batch.pk, now=NOW)
    exported = services.payment_file_export(actor=None, batch_id=batch.pk, file_format="csv")
    assert read_csv(exported.content)[1] == ["by-nik", "7", KPJ_A, "2026-11", "8400"]
    confirmation = imported(
        people,
        "confirmations",
        csv_file([CONFIRMATION_HEADER, ["by-nik", 7, KPJ_A, "2026-11", 8400, "accepted", "", "R7"]]),
    )
    assert confirmation.applied_count == 1


def test_a_kpj_number_given_to_two_people_is_refused(people, registering):
    anna, budi = registering["anna"], registering["budi"]
    record = imported(
        people,
        "registrations",
        csv_file(
            [
                ["batch", "line", "kpj", "result"],
                ["reg-nov", anna.pk, KPJ_A, "registered"],
                ["reg-nov", budi.pk, KPJ_A, "registered"],
            ]
        ),
    )
    assert problems(record) == [(2, "kpj", reasons.KPJ_TAKEN), (3, "kpj", reasons.KPJ_TAKEN)]
    assert not RegistrationOutcome.objects.exists()


def test_the_status_file_updates_what_is_known(people, registering):
    anna, budi = registering["anna"], registering["budi"]
    imported(
        people,
        "registrations",
        csv_file(
            [
                ["batch", "line", "kpj", "result"],
                ["reg-nov", anna.pk, KPJ_A, "registered"],
                ["reg-nov", budi.pk, KPJ_B, "already_registered"],
            ]
        ),
    )
    content = csv_file(
        [
            ["kpj", "nik", "status", "last_paid_month", "as_of"],
            [KPJ_A, registering["anna_nik"], "aktif", "2026-11", "2026-11"],
            [KPJ_B, "", "tenggang", "2026-09", "2026-11"],
            [KPJ_B, "", "keluar", "2026-07", "2026-11"],  # a duplicate row
            [KPJ_C, "", "aktif", "2026-11", "2026-11"],  # not a participant Lingkaran knows
            [KPJ_A, "", "aktif", "2026-11", "2027-01"],  # a month in the future (and a duplicate)
            ["12000000004", "", "nonsense", "2026-11", "2026-11"],
            [KPJ_B, registering["anna_nik"], "aktif", "2026-11", "Nov 2026"],
        ]
    )
    record = imported(people, "status", content)
    assert problems(record) == [
        (4, "kpj", reasons.DUPLICATE_ROW),
        (5, "kpj", reasons.UNKNOWN_PARTICIPANT),
        (6, "kpj", reasons.DUPLICATE_ROW),
        (7, "status", reasons.INVALID_STATUS),
        (8, "as_of", reasons.INVALID_MONTH),
    ]
    statuses = {s.kpj_number: s for s in MembershipStatus.objects.all()}
    assert set(statuses) == {KPJ_A, KPJ_B}
    assert (statuses[KPJ_A].state, statuses[KPJ_A].last_paid_month, statuses[KPJ_A].nik_index) == (
        "active",
        month(2026, 11),
        anna.nik_index,
    )
    assert (statuses[KPJ_B].state, statuses[KPJ_B].source, statuses[KPJ_B].nik_index) == (
        "grace",
        "file",
        budi.nik_index,
    )

    newer = imported(
        people,
        "status",
        csv_file(
            [
                ["kpj", "nik", "status", "last_paid_month", "as_of"],
                [KPJ_A, "", "aktif", "2026-11", "2026-11"],  # the same: a notice
                [KPJ_B, "", "aktif", "2026-09", "2026-10"],  # older than known: a notice, not applied
                [KPJ_A, "", "keluar", "2026-08", "2026-11"],  # a duplicate
            ]
        ),
        name="status-2.csv",
    )
    assert problems(newer) == [
        (2, "status", reasons.ALREADY_APPLIED),
        (3, "as_of", reasons.OLDER_THAN_KNOWN),
        (4, "kpj", reasons.DUPLICATE_ROW),
    ]
    assert (newer.applied_count, newer.already_applied_count, newer.problem_rows) == (0, 1, 1)
    assert MembershipStatus.objects.get(kpj_number=KPJ_B).state == "grace"

    header = ["kpj", "nik", "status", "last_paid_month", "as_of"]
    wrong = imported(
        people,
        "status",
        csv_file(
            [
                header,
                [KPJ_B, "", "aktif", "2026-12", "2026-12"],  # as of next month
                [KPJ_A, registering["budi_nik"], "aktif", "2026-11", "2026-11"],  # budi's NIK with anna's KPJ
            ]
        ),
        name="status-3.csv",
    )
    assert problems(wrong) == [(2, "as_of", reasons.MONTH_IN_FUTURE), (3, "nik", reasons.PARTICIPANT_DIFFERS)]
    after = imported(people, "status", csv_file([header, [KPJ_B, "", "aktif", "2027-01", "2026-11"]]), name="4.csv")
    assert problems(after) == [(2, "last_paid_month", reasons.MONTH_AFTER_AS_OF)]
    assert MembershipStatus.objects.get(kpj_number=KPJ_B).state == "grace"
