"""Forms of the continuation pages: the plan list's filters, the step-down plan, a worker's payment.

They only parse what a person typed (months as ``YYYY-MM``, shares as whole percents, rupiah as people write them);
the rules (valid shares, months not taken, enough in the funder pool, a receipt recorded once) are the services'
(``continuation.services``), whose errors the pages show.
"""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lingkaran.continuation.domain import rules
from lingkaran.continuation.models import PlanMonth
from lingkaran.protection.models import Package
from lingkaran.web.forms_funding import RupiahField
from lingkaran.web.views_protection import MonthField

REGION_CODE = re.compile(r"\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?")
NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}


class PlanFilterForm(forms.Form):
    month = MonthField(label=_("Has the month"), required=False)
    state = forms.ChoiceField(
        label=_("State of a month"), required=False, choices=[("", _("All")), *PlanMonth.State.choices]
    )
    region = forms.CharField(
        label=_("Region code"),
        required=False,
        max_length=13,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "64.09"}),
    )

    def clean_region(self):
        code = (self.cleaned_data.get("region") or "").strip().rstrip(".")
        if code and not REGION_CODE.fullmatch(code):
            raise forms.ValidationError(_("Write a region code like 64.09 or 64.09.01."), code="region")
        return code


class PlanForm(forms.Form):
    """A step-down plan: the worker's share of the first month, rising by a step each month up to 100 %; the funder
    pays the rest of each month from its pool."""

    worker = forms.IntegerField(
        label=_("Worker id"), min_value=1, max_value=10**11, widget=forms.NumberInput(attrs=NUMERIC)
    )
    funder_pool = forms.ChoiceField(label=_("Funder pool"), required=False)
    start = MonthField(label=_("First month of the plan"))
    months = forms.IntegerField(
        label=_("Months"), min_value=1, max_value=rules.MAX_MONTHS, initial=4, widget=forms.NumberInput(attrs=NUMERIC)
    )
    first_share = forms.IntegerField(
        label=_("The worker's share of the first month (%)"),
        min_value=1,
        max_value=100,
        initial=25,
        widget=forms.NumberInput(attrs=NUMERIC),
    )
    step = forms.IntegerField(
        label=_("Step each month (percentage points)"),
        min_value=0,
        max_value=99,
        initial=25,
        help_text=_("The worker's share rises by this much each month, up to 100 %; the funder's part steps down."),
        widget=forms.NumberInput(attrs=NUMERIC),
    )
    package = forms.ChoiceField(label=_("Package"), choices=Package.choices, initial=Package.JKK_JKM)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, pools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.pools = {p.code: p for p in pools}
        self.fields["funder_pool"].choices = [
            ("", _("None (the worker pays every month alone)")),
            *((p.code, p.name) for p in pools),
        ]

    def clean(self):
        data = super().clean()
        first, step, months = data.get("first_share"), data.get("step"), data.get("months")
        if None not in (first, step, months):
            data["shares_bp"] = list(rules.step_down(first * 100, step * 100, months))
        pool = self.pools.get(data.get("funder_pool") or "")
        data["funder_source"] = pool.source if pool else "csr"
        return data


class PaymentForm(forms.Form):
    """Money a worker handed over: the amount, the day, and the number on the paper receipt given to the worker."""

    amount = RupiahField(label=_("Amount"))
    paid_on = forms.DateField(label=_("Date paid"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    receipt_number = forms.CharField(
        label=_("Receipt number"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"paid_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
