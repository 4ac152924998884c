"""File exchange with the agency (``LINGKARAN_AGENCY=file``): no API exists, so an officer carries files.

Submitting a batch only records it; the officer downloads the registration or payment file (``files_out.py``),
uploads it to the agency, and later imports what the agency gives back (``files_in.py``): the registration results,
the payment confirmations and the membership status file. Until then the batch's lines have no outcome (pending).

Two things are answered at once, because no file could carry them: a payment line that names no KPJ number and whose
NIK has no KPJ number known to Lingkaran (``not_registered``), and a second line for the same participant-month in
the batch (``duplicate_line``). Everything else is the agency's to decide.
"""

from __future__ import annotations

from datetime import date, datetime

from lingkaran.protection.agency import sql
from lingkaran.protection.agency.base import AgencyAdapter
from lingkaran.protection.agency.domain import reasons


def known_kpj_for_nik(nik_column: str) -> str:
    """SQL: the KPJ number Lingkaran knows for a NIK blind index (from registration answers, else the membership
    status), or NULL. Used when a payment line names only the NIK."""
    return f"""COALESCE(
        (SELECT MAX(o.kpj_number) FROM agency_registrationoutcome o
           JOIN agency_registrationrequest q ON q.id = o.request_id
          WHERE q.nik_index = {nik_column} AND o.kpj_number <> ''),
        (SELECT MAX(s.kpj_number) FROM agency_membershipstatus s WHERE s.nik_index = {nik_column} AND s.nik_index <> '')
    )"""


def line_kpj(alias: str = "l") -> str:
    """SQL: the KPJ number a payment line is paid under (its own, else the one known for its NIK)."""
    return f"COALESCE(NULLIF({alias}.kpj_number, ''), {known_kpj_for_nik(alias + '.nik_index')})"


class FileExchangeAdapter(AgencyAdapter):
    kind = "file"

    def register(self, batch, *, now: datetime) -> None:
        """Nothing to send yet: the registration file is downloaded from the batch's page or with the command."""

    def submit_payments(self, batch, *, now: datetime) -> None:
        sql.run(
            f"""
            WITH resolved AS (
                SELECT l.id, l.line_id, l.month, {line_kpj("l")} AS kpj
                FROM agency_submittedline l
                WHERE l.batch_id = %(batch)s
            ), ranked AS (
                SELECT resolved.*,
                       ROW_NUMBER() OVER (PARTITION BY kpj, month ORDER BY line_id) AS rn
                FROM resolved
            )
            INSERT INTO agency_lineoutcome
                (submitted_id, batch_id, result, reason, reason_text, kpj_number, agency_amount, agency_reference,
                 file_import_id, decided_at)
            SELECT id, %(batch)s, 'rejected',
                   CASE WHEN kpj IS NULL THEN '{reasons.NOT_REGISTERED}' ELSE '{reasons.DUPLICATE_LINE}' END,
                   '', COALESCE(kpj, ''), NULL, '', NULL, %(now)s
            FROM ranked
            WHERE kpj IS NULL OR rn > 1
            """,
            {"batch": batch.pk, "now": now},
        )

    def refresh_status(self, *, month: date, now: datetime) -> None:
        """The agency's status file is the only source: imported with ``lingkaran agency import status FILE``."""
