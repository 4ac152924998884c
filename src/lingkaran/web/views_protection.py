"""Pages of the protection app. Tariffs: the rates, bracket table and discount windows in force for a month, their
history, a calculator (month, income, sector, package, funding source -> the amount and its parts), and for operators
and finance officers the forms that add or close a version and load the bracket table from a file.

Views parse input, call one protection selector or service, and render; who may read (``VIEW_TARIFFS``) or change
(``MANAGE_TARIFFS``) is decided there, as for the API.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lingkaran.core.access import can, require
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import Conflict, InvalidInput
from lingkaran.core.exports import csv_bytes
from lingkaran.protection import selectors, services
from lingkaran.protection.domain import tariffs as rules
from lingkaran.protection.errors import TariffFileInvalid, TariffNotInForce
from lingkaran.protection.models import FundingSource, Package, Programme, RuleSector, Sector
from lingkaran.web import forms as web_forms
from lingkaran.web.forms_funding import RupiahField

BRACKET_FILE_HEADER = ["valid_from", "income_from", "income_to", "nominal", "regulation", "source_url"]


# --- Forms (they only parse; the rules are the services') -------------------------------------------------------------


class MonthField(forms.CharField):
    """A contribution month typed as ``YYYY-MM`` (the browser's month picker sends that), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2026-04", "pattern": r"\d{4}-\d{2}"})

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        month = rules.parse_month(value)
        if month is None:
            raise forms.ValidationError(
                gettext_lazy("Write the month as YYYY-MM, for example 2026-04."), code="invalid"
            )
        return month


class PercentField(forms.CharField):
    """A percentage with at most two decimals (``1``, ``0,54``, ``50``), cleaned to basis points (100 = 1 %)."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        text = value.replace("%", "").strip().replace(",", ".")
        whole, _dot, fraction = text.partition(".")
        if not whole.isdigit() or (fraction and (not fraction.isdigit() or len(fraction) > 2)) or len(whole) > 3:
            raise forms.ValidationError(
                gettext_lazy("Write a percentage with at most two decimals, for example 1 or 0,54."), code="invalid"
            )
        return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


class QuoteForm(forms.Form):
    month = MonthField(label=gettext_lazy("Contribution month"))
    declared_income = RupiahField(label=gettext_lazy("Declared monthly income"), minimum=0)
    sector = forms.ChoiceField(label=gettext_lazy("Occupation sector"), choices=Sector.choices)
    package = forms.ChoiceField(label=gettext_lazy("Package"), choices=Package.choices)
    source = forms.ChoiceField(label=gettext_lazy("Paid from"), choices=FundingSource.choices)


class RateForm(forms.Form):
    programme = forms.ChoiceField(label=gettext_lazy("Programme"), choices=Programme.choices)
    valid_from = MonthField(label=gettext_lazy("First contribution month"))
    rate = PercentField(
        label=gettext_lazy("Rate of the bracket nominal (%)"),
        required=False,
        help_text=gettext_lazy("For JKK and JHT. Leave empty for a flat amount."),
    )
    flat_amount = RupiahField(label=gettext_lazy("Flat amount"), required=False, help_text=gettext_lazy("For JKM."))
    regulation = forms.CharField(label=gettext_lazy("Regulation"), max_length=200)
    source_url = forms.URLField(
        label=gettext_lazy("Source (web address)"), required=False, max_length=300, assume_scheme="https"
    )


class DiscountForm(forms.Form):
    valid_from = MonthField(label=gettext_lazy("First contribution month"))
    valid_to = MonthField(label=gettext_lazy("Last contribution month"))
    discount = PercentField(label=gettext_lazy("Discount (%)"))
    sector = forms.ChoiceField(label=gettext_lazy("Sector"), choices=RuleSector.choices)
    programmes = forms.MultipleChoiceField(
        label=gettext_lazy("Programmes discounted"),
        choices=[(Programme.JKK.value, Programme.JKK.label), (Programme.JKM.value, Programme.JKM.label)],
        widget=forms.CheckboxSelectMultiple,
    )
    excluded_sources = forms.MultipleChoiceField(
        label=gettext_lazy("Not for contributions paid from"),
        choices=FundingSource.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    regulation = forms.CharField(label=gettext_lazy("Regulation"), max_length=200)
    source_url = forms.URLField(
        label=gettext_lazy("Source (web address)"), required=False, max_length=300, assume_scheme="https"
    )


class BracketFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Bracket table (CSV)"),
        help_text=gettext_lazy("Columns: valid_from, income_from, income_to, nominal, regulation, source_url."),
    )


class CloseForm(forms.Form):
    last_month = MonthField(label=gettext_lazy("Last contribution month"))


# --- Pages -----------------------------------------------------------------------------------------------------------


def _decimal_mark() -> str:
    return "." if (get_language() or "id").startswith("en") else ","


def _this_month():
    return rules.month_start(timezone.localdate())


def _page_context(request, *, month, quote_form=None, manage_forms=None, load_problems=None) -> dict:
    overview = selectors.tariff_overview(request.user, month=month)
    mark = _decimal_mark()
    table = overview.in_force.table
    context = {
        "month": month,
        "month_text": f"{month:%Y-%m}",
        "overview": overview,
        "rates": [(rate, _rate_text(rate.rate_bp, rate.flat_amount, mark)) for rate in overview.in_force.rates],
        "table": table,
        "gaps": table.gaps() if table else (),
        "discounts": [_discount_row(d, mark) for d in overview.in_force.discounts],
        "rate_history": [(r, _rate_text(r.rate_bp, r.flat_amount, mark)) for r in overview.rates],
        "discount_history": [_discount_row(d, mark) for d in overview.discounts],
        "quote_form": quote_form or QuoteForm(initial=_quote_initial(month)),
        "can_manage": can(request.user, Capability.MANAGE_TARIFFS),
        "load_problems": load_problems or [],
    }
    if context["can_manage"]:
        context.update(
            {
                "rate_form": RateForm(prefix="rate"),
                "discount_form": DiscountForm(prefix="discount"),
                "file_form": BracketFileForm(prefix="brackets"),
            }
        )
        context.update(manage_forms or {})
    return context


def _discount_row(rule, mark: str) -> tuple:
    """``(rule, "50 %", "JKK + JKM", "APBN, APBD")`` for a domain rule or a stored one, in a fixed order."""
    programmes = [p.value for p in rules.Programme if p in set(rule.programmes)]
    sources = [s.value for s in rules.FundingSource if s in set(rule.excluded_sources or ())]
    return (
        rule,
        rules.percent_text(rule.discount_bp, mark),
        " + ".join(p.upper() for p in programmes),
        ", ".join(s.upper() for s in sources),
    )


def _rate_text(rate_bp, flat_amount, mark) -> str:
    if rate_bp is not None:
        return _("%(percent)s of the bracket nominal") % {"percent": rules.percent_text(rate_bp, mark)}
    return ""  # a flat amount is shown with the rupiah filter


def _quote_initial(month) -> dict:
    return {
        "month": f"{month:%Y-%m}",
        "declared_income": "1.000.000",
        "sector": Sector.OTHER,
        "package": Package.JKK_JKM,
        "source": FundingSource.DONATION,
    }


def _quote(request, form: QuoteForm):
    """The amount for a valid calculator form, or None (with the reason on the form)."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        return selectors.tariff_quote(
            request.user,
            month=data["month"],
            declared_income=data["declared_income"],
            sector=data["sector"],
            package=data["package"],
            source=data["source"],
        )
    except TariffNotInForce:
        form.add_error("month", _("No tariff is in force for this contribution month."))
        return None


@login_required
@require_GET
def tariffs(request):
    require(request.user, Capability.VIEW_TARIFFS)
    month = rules.parse_month(request.GET.get("month", "")) or _this_month()
    quote = None
    quote_form = None
    if "declared_income" in request.GET:
        quote_form = QuoteForm(request.GET)
        quote = _quote(request, quote_form)
    if request.htmx and not request.htmx.history_restore_request and quote_form is not None:
        response = render(request, "web/protection/_quote.html", {"quote_form": quote_form, "quote": quote})
    else:
        context = _page_context(request, month=month, quote_form=quote_form)
        context["quote"] = quote
        response = render(request, "web/protection/tariffs.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _after_change(request, message: str):
    messages.success(request, message)
    return redirect(f"{reverse('web:tariffs')}#history")


def _refused(request, *, manage_forms=None, load_problems=None, status: int = 422):
    context = _page_context(request, month=_this_month(), manage_forms=manage_forms, load_problems=load_problems)
    return render(request, "web/protection/tariffs.html", context, status=status)


@login_required
@require_POST
def tariff_rate_add(request):
    require(request.user, Capability.MANAGE_TARIFFS)
    form = RateForm(request.POST, prefix="rate")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.programme_rate_add(
                actor=request.user,
                programme=data["programme"],
                valid_from=data["valid_from"],
                rate_bp=data["rate"],
                flat_amount=data["flat_amount"],
                regulation=data["regulation"],
                source_url=data["source_url"],
            )
        except InvalidInput as exc:
            web_forms.apply_domain_errors(form, _rename(exc, {"rate_bp": "rate"}))
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            return _after_change(request, _("The new rate is recorded."))
    return _refused(request, manage_forms={"rate_form": form})


@login_required
@require_POST
def tariff_discount_add(request):
    require(request.user, Capability.MANAGE_TARIFFS)
    form = DiscountForm(request.POST, prefix="discount")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.discount_rule_add(
                actor=request.user,
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                discount_bp=data["discount"],
                sector=data["sector"],
                programmes=data["programmes"],
                excluded_sources=data["excluded_sources"],
                regulation=data["regulation"],
                source_url=data["source_url"],
            )
        except InvalidInput as exc:
            web_forms.apply_domain_errors(form, _rename(exc, {"discount_bp": "discount"}))
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            return _after_change(request, _("The discount window is recorded."))
    return _refused(request, manage_forms={"discount_form": form})


@login_required
@require_POST
def tariff_brackets_load(request):
    require(request.user, Capability.MANAGE_TARIFFS)
    form = BracketFileForm(request.POST, request.FILES, prefix="brackets")
    problems = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.bracket_table_load(actor=request.user, content=upload.read(services.MAX_FILE_BYTES + 1))
        except TariffFileInvalid as exc:
            form.add_error("file", exc.message)
            problems = exc.details.get("problems") or []
        else:
            if not result.changed:
                return _after_change(request, _("The file holds the tables already recorded; nothing changed."))
            return _after_change(
                request,
                _("Bracket tables loaded: %(added)s added, %(replaced)s replaced, %(unchanged)s unchanged.")
                % {"added": len(result.added), "replaced": len(result.replaced), "unchanged": len(result.unchanged)},
            )
    return _refused(request, manage_forms={"file_form": form}, load_problems=problems)


@login_required
@require_POST
def tariff_close(request, kind: str, version_id: int):
    require(request.user, Capability.MANAGE_TARIFFS)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.tariff_version_close(
                actor=request.user, kind=kind, version_id=version_id, last_month=form.cleaned_data["last_month"]
            )
        except (InvalidInput, Conflict) as exc:
            fields = exc.details.get("fields") or {}
            messages.error(request, " ".join(str(m) for ms in fields.values() for m in ms) or str(exc.message))
            return redirect(f"{reverse('web:tariffs')}#history")
        return _after_change(request, _("The version is closed."))
    messages.error(request, " ".join(str(e) for e in form.errors.get("last_month", [])))
    return redirect(f"{reverse('web:tariffs')}#history")


@login_required
@require_GET
def tariff_brackets_csv(request):
    """Every bracket table in the load format: a sample to start from, and a file that loads back unchanged."""
    require(request.user, Capability.VIEW_TARIFFS)
    response = HttpResponse(
        csv_bytes(BRACKET_FILE_HEADER, selectors.bracket_tables_csv_rows()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="tabel-penghasilan.csv"'
    return response


def _rename(exc: InvalidInput, names: dict[str, str]) -> InvalidInput:
    fields = {names.get(k, k): v for k, v in (exc.details.get("fields") or {}).items()}
    return InvalidInput(exc.message, details={**exc.details, "fields": fields})


urlpatterns = [
    path("tariffs/", tariffs, name="tariffs"),
    path("tariffs/rates/", tariff_rate_add, name="tariff_rate_add"),
    path("tariffs/discounts/", tariff_discount_add, name="tariff_discount_add"),
    path("tariffs/brackets/", tariff_brackets_load, name="tariff_brackets_load"),
    path("tariffs/brackets.csv", tariff_brackets_csv, name="tariff_brackets_csv"),
    path("tariffs/<str:kind>/<int:version_id>/close/", tariff_close, name="tariff_close"),
]
