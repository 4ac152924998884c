"""The outcomes and problems of an uploaded list of NIKs (``domain/nik_list``) in words, Indonesian and English, for
the page and the API alike. The refusal codes of the allocation engine are worded once, in ``REFUSALS``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

OUTCOMES = {
    "matched": _("Matched"),
    "not_found": _("Not found"),
    "not_verified": _("Not verified"),
    "not_payable": _("Not payable by this funder"),
    "duplicate": _("Duplicate in the file"),
    "malformed": _("Malformed NIK"),
}

FILE_REFUSALS = {
    "file_empty": _("The file is empty."),
    "file_too_large": _("The file is larger than %(limit_mb)s MB; split the list."),
    "file_xls_old": _("This is an old Excel file (.xls). Save it as .xlsx or .csv and upload it again."),
    "file_not_spreadsheet": _("This is not a CSV or XLSX file."),
    "file_xlsx_invalid": _("This XLSX file cannot be read. Open it in Excel, save it again and upload it."),
    "no_nik_column": _(
        "No column of NIKs was found. Give the column a header such as nik, NIK or no_ktp (the first row found: "
        "%(found)s)."
    ),
    "no_rows": _("The list has no rows under its header."),
    "too_many_rows": _("The list has more than %(limit)s rows; split it into smaller lists."),
}

ROW_NOTES = {
    "nik_empty": _("The NIK cell is empty."),
    "nik_number": _(
        "The NIK is stored as a number, so Excel may have changed its last digits. Format the column as Text and type "
        "the NIK again."
    ),
    "nik_scientific": _(
        "The NIK is in scientific notation (like 6.40901E+15) and its digits are lost. Format the column as Text "
        "and type the NIK again."
    ),
    "nik_not_digits": _("A NIK has digits only."),
    "nik_length": _("A NIK has 16 digits; this one has %(length)s."),
    "not_found": _("No registered worker you may see has this NIK."),
    "not_verified": _("Registered, but not verified yet."),
    "duplicate": _("The same NIK as row %(row)s; the worker is counted once."),
    "name_differs": _("The name in the file is not the registered name; check that the NIK is right."),
}

REFUSALS = {
    "not_zakat_eligible": _("Not eligible for zakat (not mustahik)."),
    "outside_funder_region": _("Lives outside the local government's own region (APBD money)."),
    "already_sponsored": _("Another sponsorship already pays some of these months."),
}


def file_refusal_text(details: dict) -> str:
    reason = details.get("reason", "")
    template = FILE_REFUSALS.get(reason)
    if template is None:
        return reason
    try:
        return str(template) % details
    except (KeyError, TypeError, ValueError):
        return str(template)


def row_note(row) -> str:
    """The words of one report row (``selectors_nik_list.ReportRow``): why it is left out, or a warning."""
    if row.outcome == "malformed":
        code = row.reasons[0] if row.reasons else "nik_empty"
        template = ROW_NOTES.get(code, ROW_NOTES["nik_empty"])
        try:
            return str(template) % (row.params or {})
        except (KeyError, TypeError, ValueError):
            return str(template)
    if row.outcome == "not_payable":
        return " ".join(str(REFUSALS.get(code, code)) for code in row.reasons)
    if row.outcome == "duplicate":
        return str(ROW_NOTES["duplicate"]) % {"row": row.first_row}
    if row.outcome in ("not_found", "not_verified"):
        return str(ROW_NOTES[row.outcome])
    if row.name_differs:
        return str(ROW_NOTES["name_differs"])
    return ""
