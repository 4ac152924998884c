"""Forms of the registry pages: parsing only. The rules (NIK, region scope, duplicates) live in the registry
services, whose field errors are shown on these forms through ``web.forms.apply_domain_errors``."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from lingkaran.registry import selectors
from lingkaran.registry.domain.nik import normalise_nik
from lingkaran.registry.domain.people import PhoneError, normalise_phone
from lingkaran.registry.messages import render as render_problem
from lingkaran.registry.models import Consent, Heir, NominationSource, Sex, VerificationDecision, WorkerStatus
from lingkaran.registry.services import HeirInput, WorkerInput

LOWEST_INCOME_BRACKET = 1_000_000
MAX_HEIRS = 3
CHOOSE = _("— choose —")


def occupation_choices(language: str | None = None, *, blank_label=CHOOSE) -> list:
    """Occupations grouped for a ``<select>`` with ``<optgroup>``s, in the active language."""
    language = language or get_language() or "id"
    english = language.startswith("en")
    groups: dict[str, list[tuple[str, str]]] = {}
    for occupation in selectors.occupations():
        group = occupation.group.name_en if english else occupation.group.name_id
        groups.setdefault(group, []).append((occupation.code, occupation.label(language)))
    return [("", blank_label), *((group, sorted(items, key=lambda i: i[1])) for group, items in sorted(groups.items()))]


class RupiahField(forms.CharField):
    """Whole rupiah typed as people write them: ``1000000``, ``1.000.000``, ``Rp 1.000.000``."""

    default_error_messages = {"invalid": _("Write a whole number of rupiah, e.g. 1.000.000.")}

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        digits = re.sub(r"(?i)^rp\.?\s*|[.\s\u00a0]", "", text)
        if not digits.isdigit():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(digits)


def _date_input(**attrs):
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


class WorkerRegisterForm(forms.Form):
    """The field agent's registration form. Required-ness and the NIK rules are checked by the service, so that
    every problem is worded the same on the page, in the API and in the import report."""

    nik = forms.CharField(
        label=_("NIK"),
        max_length=24,
        required=False,
        help_text=_("16 digits from the KTP or the family card (KK)."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false", "aria-required": "true"}
        ),
    )
    full_name = forms.CharField(
        label=_("Full name (as on the KTP)"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "words", "aria-required": "true"}),
    )
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=_date_input(**{"aria-required": "true"}))
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, required=False, widget=forms.RadioSelect)
    region_code = forms.CharField(label=_("Desa / kelurahan"), max_length=13, required=False)
    address = forms.CharField(
        label=_("Address (street, RT/RW)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone / WhatsApp"),
        max_length=20,
        required=False,
        help_text=_("08… or +628…"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    occupation = forms.ChoiceField(label=_("Occupation"), required=False)
    declared_income = RupiahField(
        label=_("Declared monthly income (Rp)"),
        required=False,
        initial=f"{LOWEST_INCOME_BRACKET:,}".replace(",", "."),
        help_text=_("The lowest bracket is Rp 1.000.000; most informal workers declare it."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "aria-required": "true"}),
    )
    dtsen_decile = forms.TypedChoiceField(
        label=_("DTSEN welfare decile"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Not known")), *((str(n), str(n)) for n in range(1, 11))],
        help_text=_("1 is the poorest tenth of households."),
    )
    dtsen_as_of = forms.DateField(label=_("Decile as of"), required=False, widget=_date_input())
    has_disability = forms.BooleanField(label=_("Has a disability"), required=False)
    is_elderly = forms.BooleanField(label=_("Elderly (60 or older)"), required=False)
    is_female_head = forms.BooleanField(label=_("Woman heading the household"), required=False)
    on_extreme_poverty_list = forms.BooleanField(label=_("On the extreme-poverty list (P3KE)"), required=False)
    zakat_eligible = forms.BooleanField(label=_("Eligible for zakat (mustahik)"), required=False)
    consent_purposes = forms.MultipleChoiceField(
        label=_("The worker agrees to"),
        choices=Consent.Purpose.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent_method = forms.ChoiceField(
        label=_("How consent was given"),
        choices=[("", CHOOSE), *Consent.Method.choices],
        required=False,
    )
    consent_evidence = forms.CharField(
        label=_("Evidence reference"),
        max_length=200,
        required=False,
        help_text=_("E.g. the number of the signed form, or the name of the witness."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    # Fields the page groups under headings, in this order.
    SECTIONS = (
        (_("Identity"), ("nik", "full_name", "birth_date", "sex")),
        (_("Where the worker lives"), ("region_code", "address", "phone")),
        (_("Work and income"), ("occupation", "declared_income")),
        (
            _("Vulnerability"),
            (
                "dtsen_decile",
                "dtsen_as_of",
                "has_disability",
                "is_elderly",
                "is_female_head",
                "on_extreme_poverty_list",
                "zakat_eligible",
            ),
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occupation"].choices = occupation_choices()
        self.today = timezone.localdate()

    def clean_nik(self):
        return normalise_nik(self.cleaned_data.get("nik") or "")

    def clean_dtsen_as_of(self):
        value = self.cleaned_data.get("dtsen_as_of")
        if value and value > self.today:
            raise forms.ValidationError(_("The date is in the future."), code="future")
        return value

    def clean(self):
        data = super().clean()
        # Empty choices are named here in words that fit a form; what is filled in is checked by the service.
        if not data.get("sex") and "sex" not in self.errors:
            self.add_error("sex", _("Choose the sex (it is filled in from the NIK)."))
        if not data.get("occupation") and "occupation" not in self.errors:
            self.add_error("occupation", _("Choose the occupation."))
        if data.get("dtsen_as_of") and data.get("dtsen_decile") is None and "dtsen_decile" not in self.errors:
            self.add_error("dtsen_decile", _("Give the decile for this date, or clear the date."))
        purposes = data.get("consent_purposes") or []
        if "consent_purposes" not in self.errors and Consent.Purpose.REGISTRATION not in purposes:
            self.add_error(
                "consent_purposes", _("The worker's consent to registration is required; without it nothing is saved.")
            )
        if purposes and not data.get("consent_method"):
            self.add_error("consent_method", _("Say how the worker gave consent."))
        return data

    def worker_input(self, heirs: list[HeirInput]) -> WorkerInput:
        """What the service needs; fields that did not parse are passed empty (the service then names them)."""
        data = self.cleaned_data
        method = data.get("consent_method") or ""
        return WorkerInput(
            nik=data.get("nik") or "",
            full_name=data.get("full_name") or "",
            birth_date=data.get("birth_date"),
            sex=data.get("sex") or "",
            occupation=data.get("occupation") or "",
            declared_income=data.get("declared_income"),
            phone=data.get("phone") or "",
            address=data.get("address") or "",
            region_code=data.get("region_code") or "",
            dtsen_decile=data.get("dtsen_decile"),
            dtsen_as_of=data.get("dtsen_as_of") if data.get("dtsen_decile") is not None else None,
            has_disability=bool(data.get("has_disability")),
            is_elderly=bool(data.get("is_elderly")),
            is_female_head=bool(data.get("is_female_head")),
            on_extreme_poverty_list=bool(data.get("on_extreme_poverty_list")),
            zakat_eligible=bool(data.get("zakat_eligible")),
            consents=[(purpose, method) for purpose in data.get("consent_purposes") or []] if method else [],
            consent_evidence=(data.get("consent_evidence") or "").strip(),
            heirs=heirs,
        )


class HeirForm(forms.Form):
    """One heir (ahli waris). A row left empty is ignored; a started row needs a name and a relationship."""

    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    relationship = forms.ChoiceField(
        label=_("Relationship"), choices=[("", CHOOSE), *Heir.Relationship.choices], required=False
    )
    nik = forms.CharField(
        label=_("NIK (optional)"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    birth_date = forms.DateField(label=_("Birth date (optional)"), required=False, widget=_date_input())

    def clean_nik(self):
        nik = normalise_nik(self.cleaned_data.get("nik") or "")
        if nik and not (nik.isdigit() and len(nik) == 16):
            raise forms.ValidationError(_("An NIK has 16 digits."), code="nik")
        return nik

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data.get("phone") or "")
        except PhoneError as exc:
            raise forms.ValidationError(render_problem(str(exc)), code=str(exc)) from None

    def clean_birth_date(self):
        value = self.cleaned_data.get("birth_date")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future."), code="future")
        return value

    def clean(self):
        data = super().clean()
        started = any(data.get(k) for k in ("name", "relationship", "nik", "phone", "birth_date"))
        if started and not (data.get("name") or "").strip() and "name" not in self.errors:
            self.add_error("name", _("Write the heir's name."))
        if started and not data.get("relationship") and "relationship" not in self.errors:
            self.add_error("relationship", _("Choose the relationship."))
        return data

    def heir_input(self) -> HeirInput | None:
        data = self.cleaned_data
        if not (data.get("name") or "").strip():
            return None
        return HeirInput(
            name=data["name"],
            relationship=data["relationship"],
            nik=data.get("nik") or "",
            phone=data.get("phone") or "",
            birth_date=data.get("birth_date"),
        )


HeirFormSet = formset_factory(HeirForm, extra=MAX_HEIRS, max_num=MAX_HEIRS, validate_max=True, absolute_max=MAX_HEIRS)


# --- Lists and decisions --------------------------------------------------------------------------------------------


class WorkerFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Name or NIK"),
        required=False,
        max_length=100,
        help_text=_("Part of a name, or the full 16-digit NIK."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    region = forms.CharField(
        label=_("Region code"),
        required=False,
        max_length=13,
        help_text=_("Any level, e.g. 64.09 or 64.09.01.2020."),
        widget=forms.TextInput(attrs={"list": "region-codes", "autocomplete": "off", "inputmode": "decimal"}),
    )
    occupation = forms.ChoiceField(label=_("Occupation"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *WorkerStatus.choices])
    decile_max = forms.TypedChoiceField(
        label=_("DTSEN decile at most"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any")), *((str(n), str(n)) for n in range(1, 11))],
    )
    source = forms.ChoiceField(
        label=_("Nominated through"), required=False, choices=[("", _("All")), *NominationSource.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occupation"].choices = occupation_choices(blank_label=_("All"))

    def clean_region(self):
        code = (self.cleaned_data.get("region") or "").strip().rstrip(".")
        if code and not re.fullmatch(r"\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?", code):
            raise forms.ValidationError(_("Not a region code; write it like 64.09 or 64.09.01."), code="region")
        return code

    def filters(self) -> selectors.WorkerFilter:
        """The filter from the fields that parsed (a field with an error does not filter)."""
        if not self.is_bound:
            return selectors.WorkerFilter()
        self.is_valid()
        data = self.cleaned_data
        return selectors.WorkerFilter(
            q=(data.get("q") or "").strip(),
            region=data.get("region") or "",
            occupation=data.get("occupation") or "",
            status=data.get("status") or "",
            decile_max=data.get("decile_max"),
            source=data.get("source") or "",
        )


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need the full data? (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=VerificationDecision.Decision.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Give the reason for the decision.")},
    )


class DuplicateReviewForm(forms.Form):
    """``keep`` is ``none`` (not the same person) or the id of the record to keep (the other is merged into it)."""

    NOT_SAME = "none"
    keep = forms.RegexField(regex=r"^(none|\d{1,18})$")
    note = forms.CharField(label=_("Note (optional)"), max_length=300, required=False)

    @property
    def same_person(self) -> bool:
        return self.cleaned_data["keep"] != self.NOT_SAME

    @property
    def survivor_id(self) -> int | None:
        return int(self.cleaned_data["keep"]) if self.same_person else None


class ConsentWithdrawForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), max_length=300, required=False)


def age_in_years(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
