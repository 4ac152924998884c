"""``core.db.copy_rows``, the bulk-insert seam of the import: COPY on PostgreSQL, executemany on SQLite, the same
values either way, inside the caller's transaction, and all-or-nothing when a row breaks a constraint."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from lingkaran.core.db import copy_rows
from lingkaran.registry.models import ImportBatch, ImportProblem

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(make_user):
    return ImportBatch.objects.create(file_name="a.csv", file_sha256="0" * 64, uploaded_by=make_user("operator"))


def problem_rows(batch, count):
    return [(batch.pk, n, "nik", "nik_length", "NIK harus 16 digit\tdan\n«baris»", "NIK must…", n % 2 == 0)
            for n in range(count)]  # fmt: skip


def test_rows_go_in_with_their_types(batch):
    columns = ("batch_id", "row", "column", "code", "message_id", "message_en", "is_error")
    written = copy_rows(ImportProblem._meta.db_table, columns, problem_rows(batch, 2500))
    assert written == 2500
    stored = list(ImportProblem.objects.order_by("row").values_list("row", "message_id", "is_error")[:2])
    assert stored == [(0, "NIK harus 16 digit\tdan\n«baris»", True), (1, "NIK harus 16 digit\tdan\n«baris»", False)]


def test_dates_times_and_nulls(batch):
    finished = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    copy_rows(
        ImportBatch._meta.db_table,
        ("file_name", "file_sha256", "file_format", "stored_path", "source", "mode", "mapping", "state", "total_rows",
         "processed_rows", "created_count", "existing_count", "invalid_count", "duplicate_in_file_count", "message",
         "uploaded_by_id", "created_at", "finished_at"),
        [("b.csv", "1" * 64, "csv", "", "import", "accept_valid", "{}", "done", 1, 1, 1, 0, 0, 0, "",
          batch.uploaded_by_id, finished, None)],
    )  # fmt: skip
    copied = ImportBatch.objects.get(file_name="b.csv")
    assert (copied.created_at, copied.finished_at, copied.mapping) == (finished, None, {})
    assert copied.created_at.date() == date(2026, 1, 2)


def test_a_row_breaking_a_constraint_fails_the_whole_copy(batch):
    rows = problem_rows(batch, 10)
    rows[7] = (batch.pk + 1000, *rows[7][1:])  # no such batch
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_rows(ImportProblem._meta.db_table,
                  ("batch_id", "row", "column", "code", "message_id", "message_en", "is_error"), rows)  # fmt: skip
        if connection.vendor == "postgresql":
            connection.check_constraints()  # foreign keys are deferred to the commit
        else:
            connection.check_constraints(table_names=[ImportProblem._meta.db_table])
    assert not ImportProblem.objects.exists()


@pytest.mark.postgres
def test_postgresql_uses_copy(batch):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        copy_rows(ImportProblem._meta.db_table, ("batch_id", "row", "column", "code", "message_id", "message_en",
                                                 "is_error"), problem_rows(batch, 3))  # fmt: skip
    assert not any(s.startswith("INSERT") for s in statements)
    assert ImportProblem.objects.count() == 3
