"""Forms of the import pages: the upload and the column mapping."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from lingkaran.registry.importing import FIELD_LABELS, SOURCES
from lingkaran.registry.models import ImportBatch, NominationSource


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_("CSV saved as UTF-8, or an Excel workbook (.xlsx); the first sheet is read."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    source = forms.ChoiceField(
        label=_("Where does the list come from?"),
        choices=[(s.value, NominationSource(s).label) for s in SOURCES],
        initial=NominationSource.PEMDA_LIST,
    )
    mode = forms.ChoiceField(
        label=_("When some rows are wrong"),
        choices=[
            (ImportBatch.Mode.ACCEPT_VALID, _("Import the valid rows")),
            (ImportBatch.Mode.ALL_OR_NOTHING, _("All or nothing")),
        ],
        initial=ImportBatch.Mode.ACCEPT_VALID,
        help_text=_(
            "Valid rows are imported and the others listed in the report; or, all or nothing: one wrong row stops "
            "the whole file."
        ),
    )


class ImportMappingForm(forms.Form):
    """One select per column of the file: the field it fills, or nothing."""

    def __init__(self, *args, header: list[str], fields: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— not imported —")), *((name, label) for name, label in FIELD_LABELS.items())]
        self.header = header
        for index, text in enumerate(header):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=text or _("Column %(number)s") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=fields[index] if index < len(fields) else "",
            )

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"column_{index}") or "" for index in range(len(self.header))]
