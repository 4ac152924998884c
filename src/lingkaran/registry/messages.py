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
    "flag_invalid": _("Use Y/N (ya/tidak) for %(column)s."),
    "formula_refused": _("Cell starts with %(char)s and could be a spreadsheet formula; remove it."),
    "column_missing": _("Required column %(column)s is missing."),
    "value_too_long": _("Value is too long."),
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
