"""The words people read for the agency's codes: reasons for refused lines and registrations, problems in the files
the agency sends back, and membership states. Codes are stored; texts are rendered in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lingkaran.protection.agency.domain import reasons as r
from lingkaran.protection.agency.domain.membership import State

REASONS = {
    r.UNKNOWN_PARTICIPANT: gettext_lazy("The KPJ number is not a participant of the agency."),
    r.KPJ_MISMATCH: gettext_lazy("The KPJ number and the NIK belong to different participants."),
    r.NOT_REGISTERED: gettext_lazy("The worker is not registered with the agency (no KPJ number)."),
    r.DUPLICATE_LINE: gettext_lazy("The same person appears earlier in this batch for the same month."),
    r.MONTH_BEFORE_REGISTRATION: gettext_lazy("The month is before the participant's registration."),
    r.MONTH_OUT_OF_WINDOW: gettext_lazy("The month is more than 3 months back or more than 12 months ahead."),
    r.ALREADY_PAID: gettext_lazy("This month is already paid."),
    r.ARREARS_NOT_PAYABLE: gettext_lazy(
        "Past months cannot be paid: the membership has ended or has not started. Pay from the current month."
    ),
    r.AMOUNT_MISMATCH: gettext_lazy("The amount is not the contribution the agency bills for this month."),
    r.REJECTED_BY_AGENCY: gettext_lazy("Refused by the agency."),
    r.COVERED_AS_WAGE_EARNER: gettext_lazy("The NIK is already covered as a wage earner (PU) through an employer."),
}

PROBLEMS = {
    r.MISSING_VALUE: gettext_lazy("The cell is empty."),
    r.INVALID_MONTH: gettext_lazy("“%(value)s” is not a month (write 2026-11)."),
    r.INVALID_AMOUNT: gettext_lazy("“%(value)s” is not a whole number of rupiah."),
    r.INVALID_KPJ: gettext_lazy("“%(value)s” is not a KPJ number (11 digits)."),
    r.INVALID_NIK: gettext_lazy("The NIK is not 16 digits (store NIKs as text, not as numbers)."),
    r.INVALID_LINE: gettext_lazy("“%(value)s” is not a line number from a file Lingkaran sent."),
    r.INVALID_RESULT: gettext_lazy("“%(value)s” is not a result this file may contain."),
    r.INVALID_STATUS: gettext_lazy("“%(value)s” is not a membership status."),
    r.FORMULA_CELL: gettext_lazy("The cell holds a spreadsheet formula; it was not read."),
    r.UNKNOWN_LINE: gettext_lazy("No batch line sent by file exchange has this batch and line number."),
    r.DUPLICATE_ROW: gettext_lazy("The same line appears earlier in this file; only the first was applied."),
    r.UNKNOWN_PARTICIPANT: gettext_lazy("The KPJ number is not a participant known to Lingkaran."),
    r.PARTICIPANT_DIFFERS: gettext_lazy("The participant differs from the one Lingkaran sent (%(expected)s)."),
    r.MONTH_DIFFERS: gettext_lazy("The month differs from the month sent (%(expected)s)."),
    r.AMOUNT_DIFFERS: gettext_lazy("The amount differs from the amount sent (%(expected)s)."),
    r.MONTH_IN_FUTURE: gettext_lazy("The month is after the current month."),
    r.MONTH_AFTER_AS_OF: gettext_lazy("The last paid month is after the month of the status."),
    r.KPJ_TAKEN: gettext_lazy("The KPJ number already belongs to another person."),
    r.CONFLICTING_ANSWER: gettext_lazy("An earlier file answered this line differently; the earlier answer stands."),
    r.ALREADY_APPLIED: gettext_lazy("Already applied from an earlier file; nothing changed."),
    r.OLDER_THAN_KNOWN: gettext_lazy("Older than the status already known; not applied."),
    r.FILE_EMPTY: gettext_lazy("The file is empty."),
    r.FILE_NOT_SPREADSHEET: gettext_lazy("The file is not a CSV or XLSX spreadsheet."),
    r.FILE_ENCODING: gettext_lazy(
        "The file is not UTF-8 text (byte %(byte)s, line %(line)s). Save it as “CSV UTF-8” and upload it again."
    ),
    r.FILE_XLSX_INVALID: gettext_lazy("The workbook cannot be read."),
    r.FILE_CSV_INVALID: gettext_lazy("The CSV file cannot be read (line %(line)s)."),
    r.FILE_TOO_LARGE: gettext_lazy("The file is larger than %(limit)s MB."),
    r.FILE_COLUMNS_MISSING: gettext_lazy("Columns missing from the header: %(columns)s."),
    r.FILE_NO_ROWS: gettext_lazy("The file has a header but no rows."),
}

# When a problem has no details to show (a NIK is never echoed), these words replace the detailed ones.
PROBLEMS_WITHOUT_DETAILS = {
    r.PARTICIPANT_DIFFERS: gettext_lazy("The NIK differs from the one Lingkaran knows for this participant."),
}

STATES = {
    State.NOT_STARTED: gettext_lazy("Not started"),
    State.ACTIVE: gettext_lazy("Active"),
    State.GRACE: gettext_lazy("Grace (arrears payable)"),
    State.ENDED: gettext_lazy("Ended"),
    State.REACTIVATED: gettext_lazy("Reactivated"),
    State.INACTIVE: gettext_lazy("Inactive (nonaktif)"),
}


def reason_text(code: str, agency_words: str = "") -> str:
    """The reason a line or registration was refused, in the current language (the agency's own words added)."""
    if not code:
        return ""
    text = str(REASONS.get(code, code))
    return f"{text} “{agency_words}”" if agency_words else text


def problem_text(code: str, params: dict | None = None) -> str:
    template = PROBLEMS.get(code) or REASONS.get(code)
    if not params and code in PROBLEMS_WITHOUT_DETAILS:
        template = PROBLEMS_WITHOUT_DETAILS[code]
    if template is None:
        return code
    try:
        return str(template) % (params or {})
    except (KeyError, TypeError, ValueError):
        return str(template)


def state_text(state: str) -> str:
    try:
        return str(STATES[State(state)])
    except ValueError:
        return state


def column_text(column: str) -> str:
    labels = {
        "batch": _("batch"),
        "line": _("line"),
        "kpj": _("KPJ"),
        "nik": _("NIK"),
        "month": _("month"),
        "amount": _("amount"),
        "result": _("result"),
        "reason": _("reason"),
        "reference": _("reference"),
        "status": _("status"),
        "as_of": _("as of"),
        "last_paid_month": _("last paid month"),
    }
    return labels.get(column, column)
