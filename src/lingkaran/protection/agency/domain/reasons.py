"""Stable reason codes: why the agency refused a payment line or a registration, and what is wrong with a row of a
file the agency sent back. A code is never reused for another meaning; the texts people read are in
``agency/messages.py``.

Payment lines are judged in the order of ``LINE_PRECEDENCE``: a line gets the first reason that applies, so the same
batch always gets the same answer.
"""

from __future__ import annotations

# --- Payment lines ---------------------------------------------------------------------------------------------------

# The KPJ number on the line is not a participant of the agency.
UNKNOWN_PARTICIPANT = "unknown_participant"
# The KPJ number and the NIK on the line belong to different participants.
KPJ_MISMATCH = "kpj_mismatch"
# The line names no KPJ number and its NIK is not registered with the agency.
NOT_REGISTERED = "not_registered"
# An earlier line of the same batch pays the same participant-month.
DUPLICATE_LINE = "duplicate_line"
# The month is before the participant's registration month.
MONTH_BEFORE_REGISTRATION = "month_before_registration"
# More than 3 months back or more than 12 months ahead of the month the batch is paid in.
MONTH_OUT_OF_WINDOW = "month_out_of_window"
# The participant-month was paid by an earlier batch.
ALREADY_PAID = "already_paid"
# A past month while the membership has ended (or never started): only the current month and later may be paid.
ARREARS_NOT_PAYABLE = "arrears_not_payable"
# The amount is not the contribution the agency bills for that participant-month.
AMOUNT_MISMATCH = "amount_mismatch"

LINE_PRECEDENCE: tuple[str, ...] = (
    UNKNOWN_PARTICIPANT,
    KPJ_MISMATCH,
    NOT_REGISTERED,
    DUPLICATE_LINE,
    MONTH_BEFORE_REGISTRATION,
    MONTH_OUT_OF_WINDOW,
    ALREADY_PAID,
    ARREARS_NOT_PAYABLE,
    AMOUNT_MISMATCH,
)

# A refusal the agency wrote in its own words in a confirmation file (kept in the outcome's ``reason_text``).
REJECTED_BY_AGENCY = "rejected_by_agency"

LINE_REASONS: tuple[str, ...] = (*LINE_PRECEDENCE, REJECTED_BY_AGENCY)

# --- Registrations ---------------------------------------------------------------------------------------------------

# The NIK is covered as a wage earner (PU) through an employer; it cannot also join as BPU.
COVERED_AS_WAGE_EARNER = "covered_as_wage_earner"
# DUPLICATE_LINE also applies: the same NIK twice in one registration batch (the later line is refused).

REGISTRATION_REASONS: tuple[str, ...] = (COVERED_AS_WAGE_EARNER, DUPLICATE_LINE, REJECTED_BY_AGENCY)

# --- Rows of the files the agency sends back (row-level report) ----------------------------------------------------

# Cell-level: the value cannot be read.
MISSING_VALUE = "missing_value"
INVALID_MONTH = "invalid_month"
INVALID_AMOUNT = "invalid_amount"
INVALID_KPJ = "invalid_kpj"
INVALID_NIK = "invalid_nik"
INVALID_LINE = "invalid_line"
INVALID_RESULT = "invalid_result"
INVALID_STATUS = "invalid_status"
FORMULA_CELL = "formula_cell"
# Row-level: the row cannot be matched or contradicts what was sent.
UNKNOWN_LINE = "unknown_line"
DUPLICATE_ROW = "duplicate_row"
PARTICIPANT_DIFFERS = "participant_differs"
MONTH_DIFFERS = "month_differs"
AMOUNT_DIFFERS = "amount_differs"
MONTH_IN_FUTURE = "month_in_future"
MONTH_AFTER_AS_OF = "month_after_as_of"
KPJ_TAKEN = "kpj_taken"
CONFLICTING_ANSWER = "conflicting_answer"
# Notices (not errors): the row was already applied by an earlier file, or is older than what is known.
ALREADY_APPLIED = "already_applied"
OLDER_THAN_KNOWN = "older_than_known"

ROW_NOTICES = frozenset({ALREADY_APPLIED, OLDER_THAN_KNOWN})

# File-level: the whole file is refused and nothing is applied.
FILE_EMPTY = "file_empty"
FILE_NOT_SPREADSHEET = "file_not_spreadsheet"
FILE_ENCODING = "file_encoding"
FILE_XLSX_INVALID = "file_xlsx_invalid"
FILE_CSV_INVALID = "file_csv_invalid"
FILE_TOO_LARGE = "file_too_large"
FILE_COLUMNS_MISSING = "file_columns_missing"
FILE_NO_ROWS = "file_no_rows"
