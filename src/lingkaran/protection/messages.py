"""Problem codes of the bracket-table file rendered as sentences, in Indonesian and English.

``protection.domain.bracket_file`` returns codes; the command, the page and the API render them through here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from lingkaran.protection.domain.bracket_file import Problem

MESSAGES = {
    "column_missing": _("Required column %(column)s is missing."),
    "column_unknown": _("Column %(column)s is not part of the format."),
    "column_repeated": _("Column %(column)s appears twice."),
    "file_empty": _("The file has no bracket rows."),
    "file_encoding": _('The file is not UTF-8 text; save it as "CSV UTF-8".'),
    "file_csv_invalid": _("The CSV file cannot be read near line %(line)s (a quote that is never closed?)."),
    "too_many_rows": _("The file has more than %(limit)s rows."),
    "file_too_large": _("The file is larger than %(limit)s kB."),
    "formula_refused": _("The cell starts with %(char)s and could be a spreadsheet formula; remove it."),
    "month_invalid": _("%(value)s is not a contribution month; write it as YYYY-MM, for example 2026-04."),
    "amount_invalid": _("%(value)s is not a whole number of rupiah; write digits only, for example 1000000."),
    "nominal_invalid": _("The nominal value must be a whole number of rupiah above zero (given: %(value)s)."),
    "range_reversed": _("The income range ends below where it starts."),
    "regulation_missing": _("Name the regulation this table comes from."),
    "too_long": _("The text is longer than %(limit)s characters."),
    "url_invalid": _("The source must be a web address starting with https://."),
    "regulation_differs": _(
        "Every row of the table starting %(month)s must name the same regulation and source as line %(line)s."
    ),
    "bracket_repeated": _("A bracket starting at income %(income)s is already on line %(line)s."),
    "bracket_overlap": _("This bracket overlaps the bracket on line %(line)s."),
    "open_bracket_not_last": _("Only the highest bracket of a table may leave the upper income empty."),
    "nominal_falls": _("The nominal value is lower than that of the bracket below it (line %(line)s)."),
    "version_differs": _(
        "A different bracket table already starts in %(month)s; a table in force is never changed. Give the new "
        "table a later first month."
    ),
}


def problem_message(problem: Problem) -> str:
    template = MESSAGES.get(problem.code)
    if template is None:
        return problem.code
    return str(template) % problem.params if problem.params else str(template)


def problem_dict(problem: Problem) -> dict:
    return {"line": problem.line, "column": problem.column, "code": problem.code, "message": problem_message(problem)}
