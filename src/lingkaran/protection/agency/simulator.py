"""The built-in agency simulator: the embedded default (``LINGKARAN_AGENCY=simulator``). It takes no real money but
answers as the agency would, from its own records (the ``Simulator*`` tables), with the rules of
``domain/membership.py``, ``domain/payments.py`` and ``domain/billing.py`` applied set-based in SQL:

* **registration**: a NIK covered as a wage earner (PU) is refused (``covered_as_wage_earner``); the same NIK twice in
  a batch refuses the later line (``duplicate_line``); a NIK that is already a participant gets its existing KPJ
  number (``already_registered``); anyone else becomes a BPU participant with a new KPJ number (``domain/kpj.py``:
  ``9``, a 9-digit sequence, a Luhn check digit) and the batch's month as registration month;
* **payments**: each line is matched to a participant (KPJ number, else NIK blind index) and judged in the order of
  ``reasons.LINE_PRECEDENCE`` against the records *before* the batch: duplicates, registration month, the window
  (3 months back, 12 ahead of the batch's month), months already paid, past months that are not arrears (the
  membership ended or never started), and the amount billed (``SimulatorBill``). Accepted lines become paid months, unique per participant-month;
* **status**: active, grace, ended, reactivated or not started, recomputed for every participant with one
  ``INSERT … ON CONFLICT DO UPDATE`` over window functions (``LAG`` finds the gaps of more than 3 unpaid months).

Answers are synchronous: ``submit_payments`` writes every ``LineOutcome`` before it returns, with one
``INSERT … SELECT`` for the outcomes and one for the paid months (a single statement on PostgreSQL, where a
data-modifying CTE feeds both). The counter row
(``SimulatorCounter``) is locked for the whole answer, so concurrent batches are answered one after the other and
the result equals a single-process run; the unique participant-month would refuse a second payment anyway.
"""

from __future__ import annotations

from datetime import date, datetime

from lingkaran.core.db import copy_rows, is_postgresql
from lingkaran.protection.agency import sql
from lingkaran.protection.agency.base import AgencyAdapter
from lingkaran.protection.agency.domain import billing, reasons
from lingkaran.protection.agency.domain.kpj import simulator_kpj
from lingkaran.protection.agency.domain.membership import ENDED_AFTER_UNPAID, MAX_ARREARS_MONTHS, MAX_MONTHS_AHEAD
from lingkaran.protection.agency.domain.months import add_months, month_index
from lingkaran.protection.agency.models import SimulatorBill, SimulatorCounter


def lock_counter() -> SimulatorCounter:
    SimulatorCounter.objects.get_or_create(pk=1)
    return SimulatorCounter.objects.select_for_update().get(pk=1)


def issue_participants(rows: list[tuple[str, date, int, bool, str]], *, now: datetime) -> list[str]:
    """Make BPU participants of ``(nik_index, registered_month, income_nominal, with_jht, sector)`` rows, in order;
    their new KPJ numbers. The caller holds the counter lock (``lock_counter``) and has checked the NIKs are new."""
    counter = lock_counter()
    first = counter.last_sequence + 1
    numbers = [simulator_kpj(first + offset) for offset in range(len(rows))]
    copy_rows(
        "agency_simulatorparticipant",
        (
            "kpj_number",
            "nik_index",
            "sequence",
            "segment",
            "registered_month",
            "income_nominal",
            "with_jht",
            "sector",
            "created_at",
        ),
        (
            (kpj, nik_index, first + offset, "BPU", month, income, with_jht, sector, now)
            for offset, (kpj, (nik_index, month, income, with_jht, sector)) in enumerate(
                zip(numbers, rows, strict=True)
            )
        ),
    )
    counter.last_sequence = first + len(rows) - 1
    counter.save(update_fields=["last_sequence"])
    return numbers


OUTCOME_INSERT = """
    INSERT INTO agency_lineoutcome
        (submitted_id, batch_id, result, reason, reason_text, kpj_number, agency_amount, agency_reference,
         file_import_id, decided_at)
    SELECT id, %(batch)s, CASE WHEN reason = '' THEN 'accepted' ELSE 'rejected' END, reason, '', kpj, billed,
           CASE WHEN reason = '' THEN 'SIM-' || CAST(id AS TEXT) ELSE '' END, NULL, %(now)s
    FROM judged"""
PAID_INSERT = """
    INSERT INTO agency_simulatorpaidmonth (participant_id, month, amount, batch_id, submitted_id, paid_at)
    SELECT pid, month, amount, %(batch)s, id, %(now)s"""


class SimulatorAdapter(AgencyAdapter):
    kind = "simulator"

    # --- Registration --------------------------------------------------------------------------------------------

    def register(self, batch, *, now: datetime) -> None:
        lock_counter()
        params = {"batch": batch.pk, "now": now}
        # Refusals and people who are already participants, in one statement.
        sql.run(
            f"""
            WITH requests AS (
                SELECT id, nik_index,
                       ROW_NUMBER() OVER (PARTITION BY nik_index ORDER BY line_id) AS rn
                FROM agency_registrationrequest WHERE batch_id = %(batch)s
            )
            INSERT INTO agency_registrationoutcome
                (request_id, batch_id, result, reason, reason_text, kpj_number, file_import_id, decided_at)
            SELECT q.id, %(batch)s,
                   CASE WHEN w.id IS NOT NULL OR q.rn > 1 THEN 'rejected' ELSE 'already_registered' END,
                   CASE WHEN w.id IS NOT NULL THEN '{reasons.COVERED_AS_WAGE_EARNER}'
                        WHEN q.rn > 1 THEN '{reasons.DUPLICATE_LINE}' ELSE '' END,
                   '',
                   CASE WHEN w.id IS NOT NULL OR q.rn > 1 THEN '' ELSE p.kpj_number END,
                   NULL, %(now)s
            FROM requests q
            LEFT JOIN agency_simulatorwageearner w ON w.nik_index = q.nik_index
            LEFT JOIN agency_simulatorparticipant p ON p.nik_index = q.nik_index
            WHERE w.id IS NOT NULL OR q.rn > 1 OR p.id IS NOT NULL
            """,
            params,
        )
        fresh = sql.fetch(
            """
            SELECT q.id, q.nik_index, q.income_nominal, q.with_jht, q.sector
            FROM agency_registrationrequest q
            LEFT JOIN agency_registrationoutcome o ON o.request_id = q.id
            WHERE q.batch_id = %(batch)s AND o.request_id IS NULL
            ORDER BY q.line_id
            """,
            params,
        )
        if not fresh:
            return
        numbers = issue_participants(
            [(nik, batch.month, income, bool(jht), sector) for _id, nik, income, jht, sector in fresh], now=now
        )
        copy_rows(
            "agency_registrationoutcome",
            ("request_id", "batch_id", "result", "reason", "reason_text", "kpj_number", "file_import_id", "decided_at"),
            (
                (request_id, batch.pk, "registered", "", "", kpj, None, now)
                for (request_id, *_rest), kpj in zip(fresh, numbers, strict=True)
            ),
        )

    # --- Payments ------------------------------------------------------------------------------------------------

    def _bill(self, batch) -> None:
        """``SimulatorBill`` rows for every kind of participant the batch pays for and every (month, funding) of the
        batch: a handful of rows, computed by ``billing.monthly_bill``. Both ``DISTINCT`` scans read only the batch's
        own lines (and the participants they name, through the KPJ and NIK indexes), so a batch costs in proportion
        to its size, not to the number of participants the simulator knows."""
        params = {"batch": batch.pk}
        packages = sql.fetch(
            """
            SELECT DISTINCT p.income_nominal, p.with_jht, p.sector
            FROM agency_submittedline l
            JOIN agency_simulatorparticipant p ON p.kpj_number = l.kpj_number
            WHERE l.batch_id = %(batch)s AND l.kpj_number <> ''
            UNION
            SELECT DISTINCT p.income_nominal, p.with_jht, p.sector
            FROM agency_submittedline l
            JOIN agency_simulatorparticipant p ON p.nik_index = l.nik_index
            WHERE l.batch_id = %(batch)s AND l.kpj_number = ''
            """,
            params,
        )
        months = sql.fetch(
            "SELECT DISTINCT month, government_funded FROM agency_submittedline WHERE batch_id = %(batch)s", params
        )
        bills = []
        for month, government_funded in months:
            month = month if isinstance(month, date) else date.fromisoformat(month)
            if month.day != 1:
                continue
            for income, with_jht, sector in packages:
                total = billing.monthly_bill(
                    income_nominal=int(income),
                    with_jht=bool(with_jht),
                    sector=sector,
                    month=month,
                    government_funded=bool(government_funded),
                ).total
                bills.append(
                    SimulatorBill(
                        batch_id=batch.pk,
                        income_nominal=income,
                        with_jht=bool(with_jht),
                        sector=sector,
                        month=month,
                        government_funded=bool(government_funded),
                        amount=total,
                    )
                )
        SimulatorBill.objects.bulk_create(bills, ignore_conflicts=True, batch_size=1000)

    def submit_payments(self, batch, *, now: datetime) -> None:
        lock_counter()
        self._bill(batch)
        reference = batch.reference_month
        params = {
            "batch": batch.pk,
            "now": now,
            "reference": reference,
            "first": add_months(reference, -MAX_ARREARS_MONTHS),
            "last": add_months(reference, MAX_MONTHS_AHEAD),
        }
        judged = self._judged_sql()
        with sql.roomy_sorts():
            if is_postgresql():
                # One pass: the judged lines are computed once and feed both inserts (a data-modifying CTE).
                sql.run(f"{judged}, paid_now AS ({PAID_INSERT} FROM judged WHERE reason = '') {OUTCOME_INSERT}", params)
                return
            sql.run(f"{judged} {OUTCOME_INSERT}", params)
            sql.run(
                """
                INSERT INTO agency_simulatorpaidmonth (participant_id, month, amount, batch_id, submitted_id, paid_at)
                SELECT p.id, l.month, l.amount, l.batch_id, l.id, %(now)s
                FROM agency_lineoutcome o
                JOIN agency_submittedline l ON l.id = o.submitted_id
                JOIN agency_simulatorparticipant p ON p.kpj_number = o.kpj_number
                WHERE o.batch_id = %(batch)s AND o.result = 'accepted'
                """,
                params,
            )

    def _judged_sql(self) -> str:
        """``WITH … judged AS (…)``: every line of the batch with the participant it pays for (``pid``, ``kpj``),
        the amount billed and its reason ("" = accepted), in the order of ``reasons.LINE_PRECEDENCE``.

        "Already paid" is an ``EXISTS`` per line on the unique (participant, month) index, not a join: a join was
        planned as a hash over every month the simulator has recorded as paid, a table that grows with each batch of
        a cycle, so a million-line month re-read it once per chunk (38 s instead of about 25 s)."""
        r = reasons
        earlier_index, line_index = sql.month_index("earlier.month"), sql.month_index("x.month")
        return f"""
            WITH resolved AS (
                -- The participant by KPJ number, else by NIK; its columns from whichever join found it.
                SELECT l.id, l.line_id, l.month, l.amount, l.government_funded,
                       COALESCE(pk.id, pn.id) AS pid, COALESCE(pk.kpj_number, pn.kpj_number) AS kpj,
                       COALESCE(pk.registered_month, pn.registered_month) AS registered_month,
                       COALESCE(pk.income_nominal, pn.income_nominal) AS income_nominal,
                       COALESCE(pk.with_jht, pn.with_jht) AS with_jht, COALESCE(pk.sector, pn.sector) AS sector,
                       CASE WHEN l.kpj_number <> '' AND pk.id IS NULL THEN '{r.UNKNOWN_PARTICIPANT}'
                            WHEN l.kpj_number <> '' AND l.nik_index <> '' AND pk.nik_index <> l.nik_index
                                 THEN '{r.KPJ_MISMATCH}'
                            WHEN l.kpj_number = '' AND pn.id IS NULL THEN '{r.NOT_REGISTERED}'
                            ELSE '' END AS identity_reason
                FROM agency_submittedline l
                LEFT JOIN agency_simulatorparticipant pk ON l.kpj_number <> '' AND pk.kpj_number = l.kpj_number
                LEFT JOIN agency_simulatorparticipant pn ON l.kpj_number = '' AND pn.nik_index = l.nik_index
                WHERE l.batch_id = %(batch)s
            ), ranked AS (
                SELECT resolved.*,
                       ROW_NUMBER() OVER (PARTITION BY identity_reason, pid, month ORDER BY line_id) AS rn
                FROM resolved
            ), judged AS (
                SELECT x.id, x.pid, x.month, x.amount, COALESCE(x.kpj, '') AS kpj, b.amount AS billed,
                       CASE WHEN x.identity_reason <> '' THEN x.identity_reason
                            WHEN x.rn > 1 THEN '{r.DUPLICATE_LINE}'
                            WHEN x.month < x.registered_month THEN '{r.MONTH_BEFORE_REGISTRATION}'
                            WHEN x.month < %(first)s OR x.month > %(last)s THEN '{r.MONTH_OUT_OF_WINDOW}'
                            WHEN EXISTS (
                                SELECT 1 FROM agency_simulatorpaidmonth paid
                                WHERE paid.participant_id = x.pid AND paid.month = x.month
                            ) THEN '{r.ALREADY_PAID}'
                            WHEN x.month < %(reference)s AND NOT (
                                EXISTS (
                                    SELECT 1 FROM agency_simulatorpaidmonth recent
                                    WHERE recent.participant_id = x.pid
                                      AND recent.month >= %(first)s AND recent.month <= %(reference)s
                                ) AND EXISTS (
                                    SELECT 1 FROM agency_simulatorpaidmonth earlier
                                    WHERE earlier.participant_id = x.pid AND earlier.month < x.month
                                      AND {earlier_index} >= {line_index} - {MAX_ARREARS_MONTHS}
                                )
                            ) THEN '{r.ARREARS_NOT_PAYABLE}'
                            WHEN b.amount IS NULL OR b.amount <> x.amount THEN '{r.AMOUNT_MISMATCH}'
                            ELSE '' END AS reason
                FROM ranked x
                LEFT JOIN agency_simulatorbill b
                       ON b.batch_id = %(batch)s AND b.income_nominal = x.income_nominal AND b.with_jht = x.with_jht
                      AND b.sector = x.sector AND b.month = x.month AND b.government_funded = x.government_funded
            )"""

    # --- Status --------------------------------------------------------------------------------------------------

    def refresh_status(self, *, month: date, now: datetime) -> None:
        lock_counter()
        index = sql.month_index("month")
        sql.run(
            f"""
            WITH paid AS (
                SELECT participant_id, month, {index} AS mi,
                       {index} - LAG({index}) OVER (PARTITION BY participant_id ORDER BY month) AS step
                FROM agency_simulatorpaidmonth
                WHERE month <= %(reference)s
            ), summary AS (
                SELECT participant_id, MAX(month) AS last_paid, MAX(mi) AS last_mi,
                       SUM(CASE WHEN step IS NULL OR step >= {ENDED_AFTER_UNPAID} THEN 1 ELSE 0 END) AS periods
                FROM paid GROUP BY participant_id
            )
            INSERT INTO agency_membershipstatus
                (kpj_number, nik_index, state, as_of, last_paid_month, unpaid_months, source, file_import_id,
                 updated_at)
            SELECT p.kpj_number, p.nik_index,
                   CASE WHEN s.participant_id IS NULL THEN 'not_started'
                        WHEN s.last_mi = %(index)s AND s.periods > 1 THEN 'reactivated'
                        WHEN s.last_mi = %(index)s THEN 'active'
                        WHEN %(index)s - s.last_mi < {ENDED_AFTER_UNPAID} THEN 'grace'
                        ELSE 'ended' END,
                   %(reference)s, s.last_paid,
                   CASE WHEN s.participant_id IS NULL THEN NULL ELSE %(index)s - s.last_mi END,
                   'simulator', NULL, %(now)s
            FROM agency_simulatorparticipant p
            LEFT JOIN summary s ON s.participant_id = p.id
            WHERE 1 = 1
            ON CONFLICT (kpj_number) DO UPDATE SET
                nik_index = excluded.nik_index, state = excluded.state, as_of = excluded.as_of,
                last_paid_month = excluded.last_paid_month, unpaid_months = excluded.unpaid_months,
                source = excluded.source, file_import_id = NULL, updated_at = excluded.updated_at
            """,
            {"reference": month, "index": month_index(month), "now": now},
        )
