"""Problem codes of the registry rendered as sentences, in Indonesian and English.

Pure rules return codes; pages, the API, the import report and ``lingkaran nik check`` render them through here.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "nik_missing": _("NIK is empty."),
    "nik_not_digits": _("NIK must contain digits only."),
    "nik_length": _("NIK must have 16 digits, this one has %(length)s."),
    "nik_region_zero": _("NIK region part (first 6 digits) contains 00."),
    "nik_serial_zero": _("NIK serial (last 4 digits) cannot be 0000."),
    "nik_birth_date_invalid": _("NIK digits 7–10 are not a real date (day %(day)s, month %(month)s)."),
    "nik_birth_date_future": _("NIK birth date %(date)s is in the future."),
    "nik_sex_mismatch": _("Sex does not match the NIK: the NIK says %(nik_sex)s, the form says %(declared)s."),
    "nik_birth_date_mismatch": _(
        "Birth date does not match the NIK: the NIK says %(nik_date)s, the form says %(declared)s."
    ),
    "nik_region_unknown": _(
        "Kecamatan %(district)s from the NIK is not in the loaded region list (it may predate a region split)."
    ),
    "nik_exists": _("A worker with this NIK is already registered."),
    "nik_duplicate_in_file": _("This NIK appears earlier in the same file (row %(first_row)s)."),
    "phone_not_indonesian": _("Phone number is not an Indonesian number (+62)."),
    "phone_invalid": _("Phone number is not valid; write it as 08… or +628…."),
    "phone_length": _("Phone number has the wrong number of digits."),
    "name_missing": _("Full name is empty."),
    "name_too_long": _("Full name is longer than 150 characters."),
    "birth_date_missing": _("Birth date is empty."),
    "birth_date_invalid": _("Birth date is not a date; use YYYY-MM-DD or DD-MM-YYYY."),
    "sex_invalid": _("Sex must be L/P (or M/F)."),
    "region_unknown": _("Desa/kelurahan code %(code)s is not in the region list."),
    "region_not_village": _("Region %(code)s is not a desa/kelurahan code (4 levels, e.g. 64.09.01.2020)."),
    "region_outside_scope": _("Region %(code)s is outside your assigned regions."),
    "occupation_unknown": _("Occupation %(value)s is not known; see the occupation list."),
    "income_invalid": _("Declared income must be a whole number of rupiah above zero."),
    "decile_invalid": _("DTSEN decile must be a whole number from 1 to 10."),
    "consent_invalid": _("Consent %(purpose)s / %(method)s is not a known purpose and method."),
    "heir_relationship_invalid": _("Heir relationship %(value)s is not known."),
    "flag_invalid": _("Use Y/N (ya/tidak) for %(column)s."),
    "consent_registration_missing": _(
        "Record the worker's consent to registration (who collected it, and how) before registering."
    ),
    "heir_nik_invalid": _("The heir's NIK is not valid."),
    "formula_refused": _("Cell starts with %(char)s and could be a spreadsheet formula; remove it."),
    "column_missing": _("Required column %(column)s is missing."),
    "value_too_long": _("Value is too long."),
    # Bulk import (registry/importing.py, registry/domain/import_rows.py).
    "nik_stored_as_number": _(
        "NIK is stored as a number, so the spreadsheet has cut it to 15 digits; format the column as text and type "
        "the NIK again."
    ),
    "name_invalid": _("Full name must contain letters."),
    "row_extra_cells": _("Values to the right of the last named column were ignored."),
    "column_mapped_twice": _("Column %(column)s is chosen for %(field)s, which another column already supplies."),
    "column_field_unknown": _("%(field)s is not a field that can be imported."),
    "file_empty": _("The file is empty."),
    "file_no_rows": _("The file has a header row but no data rows."),
    "file_binary": _("The file contains binary data, not CSV text or an XLSX workbook."),
    "file_not_spreadsheet": _("The file is a %(kind)s file, not a CSV or XLSX spreadsheet."),
    "file_xls_old": _("The file is an old Excel 97–2003 workbook (.xls); save it as .xlsx or as CSV UTF-8."),
    "file_xlsx_invalid": _("The file is a ZIP archive but not a readable XLSX workbook."),
    "file_extension_mismatch": _(
        "The file name ends in .%(extension)s but the content is %(kind)s; rename the file or save it again."
    ),
    "file_encoding": _(
        'The file is not UTF-8 text: byte %(byte)s (line %(line)s) cannot be read. Save it as "CSV UTF-8".'
    ),
    "file_utf16": _('The file is UTF-16 text; save it as "CSV UTF-8 (comma delimited)".'),
    "file_csv_invalid": _("The CSV file cannot be read near line %(line)s (a quote that is never closed?)."),
    "file_too_large": _("The file is larger than %(limit)s MB; split it into smaller files."),
    "import_already_done": _(
        "This file (same content) was already imported on %(date)s (import #%(batch)s); importing it again creates "
        "no new workers."
    ),
    "import_refused_errors": _("%(count)s rows have errors; in all-or-nothing mode nothing was imported."),
    "import_refused_mapping": _("Required columns are not chosen; nothing was imported."),
    "import_refused_file": _("The file cannot be imported; nothing was imported."),
    "import_interrupted": _(
        "The import stopped at row %(row)s; the rows before it are imported. Start it again to continue."
    ),
    "import_failed": _("The import failed; nothing was imported. Try again or ask the operator."),
}


SEX_WORDS = {"M": _("male"), "F": _("female")}


def render(code: str, params: dict | None = None, language: str | None = None) -> str:
    template = MESSAGES.get(code)
    if template is None:
        return code
    if language:
        with translation.override(language):
            text = str(template)
    else:
        text = str(template)
    params = dict(params or {})
    for key in ("nik_sex", "declared"):
        if params.get(key) in SEX_WORDS:
            with translation.override(language or translation.get_language()):
                params[key] = str(SEX_WORDS[params[key]])
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text
