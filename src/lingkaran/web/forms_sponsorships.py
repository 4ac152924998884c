"""Forms of the sponsorship pages: the list's filters, the directed form, the criteria request.

They only parse what a person typed; the rules (verified workers, restricted money, enough in the pool) are the
services' (``protection.sponsorships``), whose errors the pages show.
"""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from lingkaran.funding.models import Package
from lingkaran.protection.domain import nik_list
from lingkaran.protection.models import Sponsorship, SponsorshipKind
from lingkaran.registry.models import Sex
from lingkaran.web.forms_funding import RupiahField
from lingkaran.web.forms_registry import occupation_choices
from lingkaran.web.views_protection import MonthField

REGION_CODE = re.compile(r"\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?")

INDICATOR_CHOICES = [
    ("disability", _("Disability")),
    ("elderly", _("Elderly")),
    ("female_head", _("Female head of household")),
    ("extreme_poverty", _("On the extreme-poverty list")),
]


def _funder_choices(funders, blank) -> list[tuple[str, str]]:
    return [("", blank), *((str(f.pk), f"{f.name} · {f.get_kind_display()}") for f in funders)]


class SponsorshipFilterForm(forms.Form):
    funder = forms.TypedChoiceField(label=_("Funder"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All")), *SponsorshipKind.choices])
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All")), *Sponsorship.State.choices])
    month = MonthField(label=_("Covers the month"), required=False)

    def __init__(self, *args, funders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funder"].choices = _funder_choices(funders, _("All"))


class WorkerIdsField(forms.CharField):
    """Worker ids pasted as a list (``12, 15 17``), cleaned to a sorted list of ints."""

    widget = forms.Textarea(attrs={"rows": 2, "inputmode": "numeric", "autocomplete": "off"})

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return []
        parts = [p for p in re.split(r"[\s,;]+", value) if p]
        if len(parts) > 1000 or not all(p.isdigit() and len(p) < 12 for p in parts):
            raise forms.ValidationError(_("Write worker ids as whole numbers separated by commas."), code="invalid")
        return sorted({int(p) for p in parts})


class BlockFields(forms.Form):
    funder = forms.TypedChoiceField(label=_("Funder"), coerce=int)
    start = MonthField(label=_("First contribution month"))
    months = forms.IntegerField(label=_("Months"), min_value=1, max_value=60, initial=6)
    package = forms.ChoiceField(label=_("Package"), choices=Package.choices, initial=Package.JKK_JKM)

    def __init__(self, *args, funders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funder"].choices = _funder_choices(funders, _("Choose a funder"))
        self.funders = {f.pk: f for f in funders}

    def clean_funder(self):
        funder = self.funders.get(self.cleaned_data["funder"])
        if funder is None:
            raise forms.ValidationError(_("Choose a funder."), code="invalid")
        return funder


class DirectedForm(BlockFields):
    worker = forms.TypedMultipleChoiceField(
        label=_("Workers found"), required=False, coerce=int, widget=forms.MultipleHiddenInput
    )
    worker_ids = WorkerIdsField(
        label=_("Worker ids"), required=False, help_text=_("Or paste worker ids, separated by commas.")
    )

    cofunder = forms.TypedChoiceField(
        label=_("Co-fund with"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Optional: another funder who pays a share of every month from its own pool."),
    )
    cofunder_share = forms.IntegerField(
        label=_("The co-funder's share (%)"),
        required=False,
        min_value=1,
        max_value=99,
        help_text=_("The first funder pays the rest. Each month is split to the rupiah; both pools must hold enough."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    field_order = ["funder", "worker_ids", "start", "months", "package", "cofunder", "cofunder_share"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        picked = self.data.getlist("worker") if self.is_bound and hasattr(self.data, "getlist") else []
        self.fields["worker"].choices = [(p, p) for p in picked if str(p).isdigit()]
        self.fields["cofunder"].choices = _funder_choices(self.funders.values(), _("Nobody (one funder)"))

    def clean_cofunder(self):
        pk = self.cleaned_data.get("cofunder")
        if pk is None:
            return None
        funder = self.funders.get(pk)
        if funder is None:
            raise forms.ValidationError(_("Choose a funder."), code="invalid")
        return funder

    def clean(self):
        data = super().clean()
        ids = sorted(set(data.get("worker") or []) | set(data.get("worker_ids") or []))
        if not ids and not self.errors:
            raise forms.ValidationError(_("Pick at least one worker."), code="no_workers")
        data["worker_ids"] = ids
        cofunder, share = data.get("cofunder"), data.get("cofunder_share")
        if cofunder is not None and share is None:
            self.add_error("cofunder_share", _("Give the co-funder's share."))
        if cofunder is not None and cofunder == data.get("funder"):
            self.add_error("cofunder", _("Choose a funder other than the first."))
        return data


class NikListForm(BlockFields):
    """A list of NIKs a funder sent (CSV or XLSX), checked row by row before anything is reserved."""

    file = forms.FileField(
        label=_("List of NIKs (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt,text/csv"}),
    )

    field_order = ["funder", "file", "start", "months", "package"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "A column of NIKs with a header such as nik, NIK or no_ktp; a column of names is optional. At most "
            "%(rows)s rows and %(mb)s MB."
        ) % {"rows": nik_list.MAX_ROWS, "mb": nik_list.MAX_BYTES // (1024 * 1024)}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > nik_list.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit_mb)s MB; split the list.")
                % {"limit_mb": nik_list.MAX_BYTES // (1024 * 1024)},
                code="too_large",
            )
        return upload


class NikListConfirmForm(forms.Form):
    """The confirmation of a checked list: the signed summary of what the check found (the matched workers and
    the block), so that *Confirm* reserves exactly what the report showed."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=200_000)


class AllocationForm(BlockFields):
    regions = forms.CharField(
        label=_("Regions"),
        required=False,
        help_text=_("Region codes at any level, separated by commas (e.g. 64.09, 33.74.01). Empty: anywhere."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    occupations = forms.MultipleChoiceField(label=_("Occupations"), required=False)
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=[("", _("Any")), *Sex.choices])
    max_decile = forms.TypedChoiceField(
        label=_("DTSEN decile at most"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any")), *((str(n), str(n)) for n in range(1, 11))],
    )
    indicators = forms.MultipleChoiceField(
        label=_("Must hold"), required=False, choices=INDICATOR_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    workers = forms.IntegerField(label=_("Number of workers"), required=False, min_value=1, max_value=1_000_000)
    budget = RupiahField(label=_("Or a budget"), required=False)

    field_order = [
        "funder", "regions", "occupations", "sex", "max_decile", "indicators", "workers", "budget", "start",
        "months", "package",
    ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = occupation_choices(blank_label=None)[1:]
        self.fields["occupations"].choices = choices
        self.fields["occupations"].widget.attrs["size"] = 6

    def clean_regions(self):
        codes = [c.strip().rstrip(".") for c in re.split(r"[\s,;]+", self.cleaned_data.get("regions") or "")]
        codes = sorted({c for c in codes if c})
        bad = [c for c in codes if not REGION_CODE.fullmatch(c)]
        if bad:
            raise forms.ValidationError(
                _("Not a region code: %(codes)s. Write codes like 64.09 or 64.09.01.") % {"codes": ", ".join(bad)},
                code="region",
            )
        return tuple(codes)

    def clean(self):
        data = super().clean()
        if (data.get("workers") is None) == (data.get("budget") is None) and not self.errors:
            raise forms.ValidationError(_("Ask for a number of workers or give a budget, not both."), code="mode")
        return data
