"""Importing the files the agency gives back: registration results, payment confirmations, membership status.

**Accept valid rows, report the others.** Each row is judged on its own: a good row is applied, a bad row is reported
(row, column, problem) and changes nothing. A file-level problem (not a spreadsheet, not UTF-8, an unreadable
workbook, required columns missing, no rows) refuses the whole file and applies nothing.

**Nothing is applied twice.** The same file (same SHA-256, same kind) imported again returns the first import and
applies nothing. A row already applied by another file is reported as ``already_applied`` (a notice) when it says
the same, or ``conflicting_answer`` (an error) when it says something else: the first answer stands, because an
outcome's primary key is its line. Status rows older than the status already known are not applied either.

How: cells are parsed in Python (``domain/files.py``), the good rows go into ``StagedRow`` with ``core.db.copy_rows``
(``COPY`` on PostgreSQL), and the rest is set-based SQL: match each row to what was sent, set its problem with one
``UPDATE … FROM``, write the problems, apply the good rows with one ``INSERT … SELECT``, delete the staged rows. One
file is one transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection, transaction

from lingkaran.core.db import copy_rows
from lingkaran.protection.agency import sql
from lingkaran.protection.agency.domain import files as formats
from lingkaran.protection.agency.domain import reasons as r
from lingkaran.protection.agency.domain.cells import is_blank
from lingkaran.protection.agency.domain.months import first_of_month, month_label
from lingkaran.protection.agency.file_exchange import line_kpj
from lingkaran.protection.agency.models import FileImport, FileProblem

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_XLSX_UNPACKED = 2 * 1024 * 1024 * 1024
CHUNK_ROWS = 5000
STAGED_COLUMNS = (
    "file_import_id",
    "row",
    "batch_key",
    "line_id",
    "target_id",
    "kpj_number",
    "nik_index",
    "month",
    "month2",
    "amount",
    "result",
    "reason_text",
    "reference",
    "problem",
)
PROBLEM_COLUMNS = ("file_import_id", "row", "column", "code", "params", "is_error")


class FileRefused(Exception):
    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(code)


# --- Reading the file ------------------------------------------------------------------------------------------------


def sniff(content: bytes) -> str:
    """``"csv"`` or ``"xlsx"`` from the bytes; FileRefused for anything else."""
    if not content.strip():
        raise FileRefused(r.FILE_EMPTY)
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused(r.FILE_TOO_LARGE, limit=MAX_FILE_BYTES // (1024 * 1024))
    if content.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "xlsx"
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content[:4096]:
        raise FileRefused(r.FILE_NOT_SPREADSHEET)
    for magic in (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0"):
        if content.startswith(magic):
            raise FileRefused(r.FILE_NOT_SPREADSHEET)
    return "csv"


def _utf8(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise FileRefused(r.FILE_ENCODING, byte=exc.start + 1, line=line) from None


def _csv_rows(content: bytes) -> Iterator[list]:
    text = _utf8(content)
    sample = "\n".join(text.splitlines()[:10])
    delimiter = max((",", ";", "\t", "|"), key=sample.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error:
        raise FileRefused(r.FILE_CSV_INVALID, line=reader.line_num) from None


def _xlsx_rows(content: bytes) -> Iterator[list]:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise FileRefused(r.FILE_TOO_LARGE, limit=MAX_FILE_BYTES // (1024 * 1024))
            if "xl/workbook.xml" not in archive.namelist():
                raise FileRefused(r.FILE_XLSX_INVALID)
        # data_only=False: a formula arrives as its text ("=…") and is reported, never evaluated.
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except FileRefused:
        raise
    except Exception:  # openpyxl and zipfile raise many kinds of error for a broken workbook
        raise FileRefused(r.FILE_XLSX_INVALID) from None
    try:
        for row in book.worksheets[0].iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def read_rows(content: bytes, file_format: str) -> Iterator[tuple[int, list]]:
    """``(row number, cells)`` of every non-blank row, the header included (row numbers as a spreadsheet shows)."""
    rows = _xlsx_rows(content) if file_format == "xlsx" else _csv_rows(content)
    for number, cells in enumerate(rows, start=1):
        if all(is_blank(cell) for cell in cells):
            continue
        yield number, cells


# --- The import ------------------------------------------------------------------------------------------------------


@dataclass
class _Counts:
    rows: int = 0
    problem_rows: int = 0


def file_import_run(
    *, kind: str, file_name: str, content: bytes, actor, today: date, now: datetime, nik_indexer
) -> FileImport:
    """Import one file of ``kind`` (see module docstring). ``nik_indexer(nik)`` gives a NIK's blind index."""
    digest = hashlib.sha256(content).hexdigest()
    existing = FileImport.objects.filter(kind=kind, file_sha256=digest).first()
    if existing is not None:
        return existing
    record = FileImport(
        kind=kind, file_name=(file_name or "agency-file")[:255], file_sha256=digest, uploaded_by=actor, created_at=now
    )
    try:
        record.file_format = sniff(content)
        with transaction.atomic():
            record.state = FileImport.State.DONE
            record.save()
            counts = _stage(record, content, kind, nik_indexer)
            JUDGES[kind](record, today=today, now=now)
            _finish(record, counts)
    except FileRefused as refused:
        record.pk = None
        record.state = FileImport.State.REFUSED
        record.refusal_code = refused.code
        record.refusal_params = refused.params
        record.save()
        FileProblem.objects.create(
            file_import=record, row=0, column="", code=refused.code, params=refused.params, is_error=True
        )
    return record


def _stage(record: FileImport, content: bytes, kind: str, nik_indexer) -> _Counts:
    rows = read_rows(content, record.file_format)
    header_row = next(rows, None)
    if header_row is None:
        raise FileRefused(r.FILE_EMPTY)
    positions, missing = formats.map_header(header_row[1], kind)
    if missing:
        raise FileRefused(r.FILE_COLUMNS_MISSING, columns=", ".join(missing))
    parse = formats.PARSERS[kind]
    counts = _Counts()
    staged: list[tuple] = []
    problems: list[tuple] = []
    for number, cells in rows:
        counts.rows += 1
        parsed = parse(number, cells, positions)
        if isinstance(parsed, list):
            counts.problem_rows += 1
            problems.extend((record.pk, p.row, p.column, p.code, json.dumps(p.params), True) for p in parsed)
        else:
            staged.append(_staged_values(record.pk, kind, parsed, nik_indexer))
        if len(staged) >= CHUNK_ROWS:
            copy_rows("agency_stagedrow", STAGED_COLUMNS, staged)
            staged = []
    if counts.rows == 0:
        raise FileRefused(r.FILE_NO_ROWS)
    copy_rows("agency_stagedrow", STAGED_COLUMNS, staged)
    copy_rows("agency_fileproblem", PROBLEM_COLUMNS, problems)
    return counts


def _staged_values(import_id: int, kind: str, row, nik_indexer) -> tuple:
    nik_index = nik_indexer(row.nik) if getattr(row, "nik", "") else ""
    if kind == formats.REGISTRATIONS:
        return (import_id, row.row, row.batch, row.line, None, row.kpj, nik_index, None, None, None, row.result,
                row.reason, "", "")  # fmt: skip
    if kind == formats.CONFIRMATIONS:
        return (import_id, row.row, row.batch, row.line, None, row.kpj, "", row.month, None, row.amount, row.result,
                row.reason, row.reference, "")  # fmt: skip
    return (import_id, row.row, "", None, None, row.kpj, nik_index, row.as_of, row.last_paid_month, None, row.state,
            "", "", "")  # fmt: skip


def _finish(record: FileImport, counts: _Counts) -> None:
    """Problems with their details, the counts, and the staged rows gone."""
    judged = sql.fetch(
        """
        SELECT
            COALESCE(SUM(CASE WHEN problem = '' THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN problem = %(applied)s THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN problem <> '' AND problem NOT IN (%(applied)s, %(older)s) THEN 1 ELSE 0 END), 0)
        FROM agency_stagedrow WHERE file_import_id = %(import)s
        """,
        {"import": record.pk, "applied": r.ALREADY_APPLIED, "older": r.OLDER_THAN_KNOWN},
    )[0]
    record.total_rows = counts.rows
    record.applied_count = int(judged[0])
    record.already_applied_count = int(judged[1])
    record.problem_rows = counts.problem_rows + int(judged[2])
    record.save(update_fields=["total_rows", "applied_count", "already_applied_count", "problem_rows"])
    sql.run("DELETE FROM agency_stagedrow WHERE file_import_id = %(import)s", {"import": record.pk})


def _write_problems(record: FileImport, statement: str, params: dict, detail) -> None:
    """Problems of staged rows: ``statement`` yields ``(row, problem, *facts)``; ``detail(problem, facts)`` gives
    ``(column, params)``."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        while True:
            chunk = cursor.fetchmany(CHUNK_ROWS)
            if not chunk:
                break
            rows = []
            for row, problem, *facts in chunk:
                column, details = detail(problem, tuple(facts))
                rows.append((record.pk, row, column, problem, json.dumps(details), problem not in r.ROW_NOTICES))
            copy_rows("agency_fileproblem", PROBLEM_COLUMNS, rows)


def _columns_only(columns: dict[str, str]):
    """Problem details that name the column only (a NIK is never written into a report)."""

    def detail(problem: str, facts: tuple) -> tuple[str, dict]:
        return columns.get(problem, ""), {}

    return detail


def _as_month(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return month_label(value)


# --- Payment confirmations -------------------------------------------------------------------------------------------

CONFIRMATION_COLUMNS = {
    r.UNKNOWN_LINE: "line",
    r.DUPLICATE_ROW: "line",
    r.UNKNOWN_PARTICIPANT: "kpj",
    r.PARTICIPANT_DIFFERS: "kpj",
    r.MONTH_DIFFERS: "month",
    r.AMOUNT_DIFFERS: "amount",
    r.ALREADY_APPLIED: "result",
    r.CONFLICTING_ANSWER: "result",
}


def _kpj_known(column: str) -> str:
    return f"""(EXISTS (SELECT 1 FROM agency_registrationoutcome ko WHERE ko.kpj_number = {column})
        OR EXISTS (SELECT 1 FROM agency_membershipstatus ks WHERE ks.kpj_number = {column})
        OR EXISTS (SELECT 1 FROM registry_worker kw WHERE kw.kpj_number = {column}))"""


def _judge_confirmations(record: FileImport, *, today: date, now: datetime) -> None:
    params = {"import": record.pk, "now": now}
    sql.run(
        """
        UPDATE agency_stagedrow SET target_id = (
            SELECT l.id FROM agency_submittedline l
            JOIN agency_paymentbatch b ON b.id = l.batch_id
            WHERE b.key = agency_stagedrow.batch_key AND b.adapter = 'file' AND l.line_id = agency_stagedrow.line_id
        )
        WHERE file_import_id = %(import)s
        """,
        params,
    )
    sql.run(
        f"""
        UPDATE agency_stagedrow SET problem = judged.problem
        FROM (
            SELECT s.id,
                   CASE WHEN s.target_id IS NULL THEN '{r.UNKNOWN_LINE}'
                        WHEN s.rn > 1 THEN '{r.DUPLICATE_ROW}'
                        WHEN s.kpj_number <> s.expected_kpj AND {_kpj_known("s.kpj_number")}
                             THEN '{r.PARTICIPANT_DIFFERS}'
                        WHEN s.kpj_number <> s.expected_kpj THEN '{r.UNKNOWN_PARTICIPANT}'
                        WHEN s.month <> s.sent_month THEN '{r.MONTH_DIFFERS}'
                        WHEN s.result = 'accepted' AND s.amount <> s.sent_amount THEN '{r.AMOUNT_DIFFERS}'
                        WHEN o.submitted_id IS NOT NULL AND o.result = s.result THEN '{r.ALREADY_APPLIED}'
                        WHEN o.submitted_id IS NOT NULL THEN '{r.CONFLICTING_ANSWER}'
                        ELSE '' END AS problem
            FROM (
                SELECT st.id, st.target_id, st.kpj_number, st.month, st.amount, st.result,
                       l.month AS sent_month, l.amount AS sent_amount, COALESCE({line_kpj("l")}, '') AS expected_kpj,
                       ROW_NUMBER() OVER (PARTITION BY st.target_id ORDER BY st.row) AS rn
                FROM agency_stagedrow st
                LEFT JOIN agency_submittedline l ON l.id = st.target_id
                WHERE st.file_import_id = %(import)s
            ) s
            LEFT JOIN agency_lineoutcome o ON o.submitted_id = s.target_id
        ) judged
        WHERE agency_stagedrow.id = judged.id
        """,
        params,
    )

    def detail(problem: str, facts: tuple):
        expected_kpj, sent_month, sent_amount = facts
        column = CONFIRMATION_COLUMNS.get(problem, "")
        expected = {
            r.PARTICIPANT_DIFFERS: expected_kpj or "",
            r.MONTH_DIFFERS: _as_month(sent_month),
            r.AMOUNT_DIFFERS: str(sent_amount),
        }.get(problem)
        return column, ({"expected": expected} if expected is not None else {})

    _write_problems(
        record,
        f"""
        SELECT st.row, st.problem, COALESCE({line_kpj("l")}, ''), l.month, l.amount
        FROM agency_stagedrow st
        LEFT JOIN agency_submittedline l ON l.id = st.target_id
        WHERE st.file_import_id = %(import)s AND st.problem <> ''
        ORDER BY st.row
        """,
        params,
        detail,
    )
    codes = ", ".join(f"'{code}'" for code in r.LINE_REASONS)
    sql.run(
        f"""
        INSERT INTO agency_lineoutcome
            (submitted_id, batch_id, result, reason, reason_text, kpj_number, agency_amount, agency_reference,
             file_import_id, decided_at)
        SELECT st.target_id, l.batch_id, st.result,
               CASE WHEN st.result = 'accepted' THEN ''
                    WHEN st.reason_text IN ({codes}) THEN st.reason_text
                    ELSE '{r.REJECTED_BY_AGENCY}' END,
               CASE WHEN st.result = 'accepted' OR st.reason_text IN ({codes}) THEN '' ELSE st.reason_text END,
               st.kpj_number, st.amount, st.reference, %(import)s, %(now)s
        FROM agency_stagedrow st
        JOIN agency_submittedline l ON l.id = st.target_id
        WHERE st.file_import_id = %(import)s AND st.problem = ''
        """,
        params,
    )
    _recount_payment_batches(record, now)


def _recount_payment_batches(record: FileImport, now: datetime) -> None:
    from lingkaran.protection.agency.services import payment_batch_recount

    batch_ids = [
        row[0]
        for row in sql.fetch(
            "SELECT DISTINCT batch_id FROM agency_lineoutcome WHERE file_import_id = %(import)s", {"import": record.pk}
        )
    ]
    for batch_id in batch_ids:
        payment_batch_recount(batch_id=batch_id, now=now)


# --- Registration results --------------------------------------------------------------------------------------------

REGISTRATION_PROBLEM_COLUMNS = {
    r.UNKNOWN_LINE: "line",
    r.DUPLICATE_ROW: "line",
    r.PARTICIPANT_DIFFERS: "nik",
    r.KPJ_TAKEN: "kpj",
    r.ALREADY_APPLIED: "result",
    r.CONFLICTING_ANSWER: "result",
}


def _judge_registrations(record: FileImport, *, today: date, now: datetime) -> None:
    params = {"import": record.pk, "now": now}
    sql.run(
        """
        UPDATE agency_stagedrow SET target_id = (
            SELECT q.id FROM agency_registrationrequest q
            JOIN agency_registrationbatch b ON b.id = q.batch_id
            WHERE b.key = agency_stagedrow.batch_key AND b.adapter = 'file' AND q.line_id = agency_stagedrow.line_id
        )
        WHERE file_import_id = %(import)s
        """,
        params,
    )
    sql.run(
        f"""
        UPDATE agency_stagedrow SET problem = judged.problem
        FROM (
            SELECT s.id,
                   CASE WHEN s.target_id IS NULL THEN '{r.UNKNOWN_LINE}'
                        WHEN s.rn > 1 THEN '{r.DUPLICATE_ROW}'
                        WHEN s.nik_index <> '' AND s.nik_index <> s.sent_nik THEN '{r.PARTICIPANT_DIFFERS}'
                        WHEN s.kpj_number <> '' AND (s.first_nik <> s.last_nik OR EXISTS (
                            SELECT 1 FROM agency_registrationoutcome o2
                            JOIN agency_registrationrequest q2 ON q2.id = o2.request_id
                            WHERE o2.kpj_number = s.kpj_number AND q2.nik_index <> s.sent_nik
                        )) THEN '{r.KPJ_TAKEN}'
                        WHEN o.request_id IS NOT NULL AND o.result = s.result AND o.kpj_number = s.kpj_number
                             THEN '{r.ALREADY_APPLIED}'
                        WHEN o.request_id IS NOT NULL THEN '{r.CONFLICTING_ANSWER}'
                        ELSE '' END AS problem
            FROM (
                SELECT st.id, st.target_id, st.nik_index, st.kpj_number, st.result, q.nik_index AS sent_nik,
                       ROW_NUMBER() OVER (PARTITION BY st.target_id ORDER BY st.row) AS rn,
                       MIN(q.nik_index) OVER (PARTITION BY st.kpj_number) AS first_nik,
                       MAX(q.nik_index) OVER (PARTITION BY st.kpj_number) AS last_nik
                FROM agency_stagedrow st
                LEFT JOIN agency_registrationrequest q ON q.id = st.target_id
                WHERE st.file_import_id = %(import)s
            ) s
            LEFT JOIN agency_registrationoutcome o ON o.request_id = s.target_id
        ) judged
        WHERE agency_stagedrow.id = judged.id
        """,
        params,
    )
    _write_problems(
        record,
        """
        SELECT row, problem FROM agency_stagedrow
        WHERE file_import_id = %(import)s AND problem <> '' ORDER BY row
        """,
        params,
        _columns_only(REGISTRATION_PROBLEM_COLUMNS),
    )
    codes = ", ".join(f"'{code}'" for code in r.REGISTRATION_REASONS)
    sql.run(
        f"""
        INSERT INTO agency_registrationoutcome
            (request_id, batch_id, result, reason, reason_text, kpj_number, file_import_id, decided_at)
        SELECT st.target_id, q.batch_id, st.result,
               CASE WHEN st.result <> 'rejected' THEN ''
                    WHEN st.reason_text IN ({codes}) THEN st.reason_text
                    ELSE '{r.REJECTED_BY_AGENCY}' END,
               CASE WHEN st.result <> 'rejected' OR st.reason_text IN ({codes}) THEN '' ELSE st.reason_text END,
               st.kpj_number, %(import)s, %(now)s
        FROM agency_stagedrow st
        JOIN agency_registrationrequest q ON q.id = st.target_id
        WHERE st.file_import_id = %(import)s AND st.problem = ''
        """,
        params,
    )
    from lingkaran.protection.agency.services import registration_batch_recount

    batch_ids = sql.fetch(
        "SELECT DISTINCT batch_id FROM agency_registrationoutcome WHERE file_import_id = %(import)s", params
    )
    for (batch_id,) in batch_ids:
        registration_batch_recount(batch_id=batch_id, now=now)


# --- Membership status -----------------------------------------------------------------------------------------------

STATUS_PROBLEM_COLUMNS = {
    r.DUPLICATE_ROW: "kpj",
    r.UNKNOWN_PARTICIPANT: "kpj",
    r.PARTICIPANT_DIFFERS: "nik",
    r.MONTH_IN_FUTURE: "as_of",
    r.MONTH_AFTER_AS_OF: "last_paid_month",
    r.OLDER_THAN_KNOWN: "as_of",
    r.ALREADY_APPLIED: "status",
}


def _known_nik_for_kpj(column: str) -> str:
    return f"""COALESCE(
        (SELECT MAX(ms.nik_index) FROM agency_membershipstatus ms WHERE ms.kpj_number = {column}),
        (SELECT MAX(q.nik_index) FROM agency_registrationoutcome o
           JOIN agency_registrationrequest q ON q.id = o.request_id WHERE o.kpj_number = {column}),
        (SELECT MAX(w.nik_index) FROM registry_worker w WHERE w.kpj_number = {column})
    )"""


def _judge_status(record: FileImport, *, today: date, now: datetime) -> None:
    params = {"import": record.pk, "now": now, "current": first_of_month(today)}
    sql.run(
        f"""
        UPDATE agency_stagedrow SET problem = judged.problem
        FROM (
            SELECT s.id,
                   CASE WHEN s.rn > 1 THEN '{r.DUPLICATE_ROW}'
                        WHEN s.known_nik IS NULL THEN '{r.UNKNOWN_PARTICIPANT}'
                        WHEN s.nik_index <> '' AND s.known_nik <> '' AND s.nik_index <> s.known_nik
                             THEN '{r.PARTICIPANT_DIFFERS}'
                        WHEN s.month > %(current)s THEN '{r.MONTH_IN_FUTURE}'
                        WHEN s.month2 IS NOT NULL AND s.month2 > s.month THEN '{r.MONTH_AFTER_AS_OF}'
                        WHEN k.id IS NOT NULL AND k.as_of > s.month THEN '{r.OLDER_THAN_KNOWN}'
                        WHEN k.id IS NOT NULL AND k.as_of = s.month AND k.state = s.result
                             AND COALESCE(k.last_paid_month, s.month) = COALESCE(s.month2, s.month)
                             THEN '{r.ALREADY_APPLIED}'
                        ELSE '' END AS problem
            FROM (
                SELECT st.id, st.kpj_number, st.nik_index, st.month, st.month2, st.result,
                       {_known_nik_for_kpj("st.kpj_number")} AS known_nik,
                       ROW_NUMBER() OVER (PARTITION BY st.kpj_number ORDER BY st.row) AS rn
                FROM agency_stagedrow st
                WHERE st.file_import_id = %(import)s
            ) s
            LEFT JOIN agency_membershipstatus k ON k.kpj_number = s.kpj_number
        ) judged
        WHERE agency_stagedrow.id = judged.id
        """,
        params,
    )
    _write_problems(
        record,
        """
        SELECT row, problem FROM agency_stagedrow
        WHERE file_import_id = %(import)s AND problem <> '' ORDER BY row
        """,
        params,
        _columns_only(STATUS_PROBLEM_COLUMNS),
    )
    sql.run(
        f"""
        INSERT INTO agency_membershipstatus
            (kpj_number, nik_index, state, as_of, last_paid_month, unpaid_months, source, file_import_id, updated_at)
        SELECT st.kpj_number,
               CASE WHEN st.nik_index <> '' THEN st.nik_index ELSE COALESCE({_known_nik_for_kpj("st.kpj_number")}, '')
               END,
               st.result, st.month, st.month2, NULL, 'file', %(import)s, %(now)s
        FROM agency_stagedrow st
        WHERE st.file_import_id = %(import)s AND st.problem = ''
        ON CONFLICT (kpj_number) DO UPDATE SET
            nik_index = excluded.nik_index, state = excluded.state, as_of = excluded.as_of,
            last_paid_month = excluded.last_paid_month, unpaid_months = excluded.unpaid_months,
            source = excluded.source, file_import_id = excluded.file_import_id, updated_at = excluded.updated_at
        """,
        params,
    )


JUDGES = {
    formats.REGISTRATIONS: _judge_registrations,
    formats.CONFIRMATIONS: _judge_confirmations,
    formats.STATUS: _judge_status,
}
