"""Back-office pages of the monthly contribution cycle and of reconciliation.

* ``/cycles/``: every cycle by month (state, lines, confirmed and rejected counts and amounts, each province's chunk)
  and, for finance, the form that runs the cycle of a month (``protection.cycle.cycle_run``);
* ``/cycles/<YYYY-MM>/``: a month: its progress (an HTMX partial polled while chunks are not posted), its lines
  (masked worker, amount, funder, state, rejection reason) with filters, CSV and XLSX downloads;
* ``/cycles/<YYYY-MM>/reconciliation/``: what we paid against what the agency reports, the exceptions open and
  resolved with their counts, the actions recorded (operators and finance), a CSV download.

Money staff read (operators, finance, auditors: ``VIEW_MONEY``); others get 403. Views parse, call
``protection.cycle`` and ``protection.reconciliation``, and render; the services decide.
"""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lingkaran.core.access import require
from lingkaran.core.errors import DomainError
from lingkaran.core.exports import csv_bytes, safe_cell
from lingkaran.protection import reconciliation as recon
from lingkaran.protection.agency import messages as agency_words
from lingkaran.protection.cycle import cycle_run
from lingkaran.protection.domain import cycle as cycle_rules
from lingkaran.protection.models import ContributionLine, ReconciliationAction
from lingkaran.web.listing import query_without_page, rows_or_page

PAGE_SIZE = 50


def _today():
    """The day the cycle is paid in (a seam for tests)."""
    return timezone.localdate()


def _month_or_404(text: str):
    month = cycle_rules.parse_month(text)
    if month is None:
        raise Http404()
    return month


class RunForm(forms.Form):
    month = forms.CharField(
        label=gettext_lazy("Contribution month (YYYY-MM)"),
        max_length=7,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "2027-04", "pattern": r"\d{4}-\d{2}"}),
    )

    def clean_month(self):
        month = cycle_rules.parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("Write the month as YYYY-MM, for example 2027-04."), code="invalid_month")
        return month


class LineFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("Every state")), *ContributionLine.State.choices],
    )
    province = forms.CharField(label=gettext_lazy("Province"), required=False, max_length=2)
    reason = forms.CharField(label=gettext_lazy("Rejection reason"), required=False, max_length=40)


class ActionForm(forms.Form):
    kind = forms.ChoiceField(choices=ReconciliationAction.Kind.choices)
    worker = forms.IntegerField(min_value=1)
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=ReconciliationAction.Action.choices)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


def _export(header: list[str], rows, file_format: str, filename: str) -> HttpResponse:
    """CSV (UTF-8 with BOM) or XLSX; every text cell through ``safe_cell`` and typed as text (never a formula)."""
    if file_format == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=filename[:31])
        sheet.append([safe_cell(str(h)) for h in header])
        for row in rows:
            cells = []
            for value in row:
                value = safe_cell("" if value is None else value)
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                cells.append(cell)
            sheet.append(cells)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        file_format = "csv"
        response = HttpResponse(
            csv_bytes([str(h) for h in header], ([("" if v is None else v) for v in row] for row in rows)),
            content_type="text/csv; charset=utf-8",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}.{file_format}"'
    return response


# --- The list and the run form ---------------------------------------------------------------------------------------


def _list_context(request, form=None, error=None) -> dict:
    return {
        "cycles": recon.cycles(),
        "form": form or RunForm(),
        "error": error,
        "may_run": recon.may_run(request.user),
    }


@login_required
@require_GET
def cycle_list(request):
    recon.require_read(request.user)
    return render(request, "web/cycles/list.html", _list_context(request))


@login_required
@require_POST
def cycle_run_view(request):
    require(request.user, recon.RUN)
    form = RunForm(request.POST)
    if not form.is_valid():
        return render(request, "web/cycles/list.html", _list_context(request, form), status=422)
    month = form.cleaned_data["month"]
    try:
        cycle_run(month=month, actor=request.user, today=_today())
    except DomainError as exc:
        context = _list_context(request, form, error={"code": exc.code, "message": exc.message, **exc.details})
        return render(request, "web/cycles/list.html", context, status=exc.http_status)
    messages.success(request, _("The cycle of %(month)s has run.") % {"month": f"{month:%Y-%m}"})
    return redirect(reverse("web:cycle_detail", args=[f"{month:%Y-%m}"]))


# --- A month ---------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def cycle_progress(request, month: str):
    recon.require_read(request.user)
    cycle = recon.cycle_for(_month_or_404(month))
    return render(request, "web/cycles/_progress.html", {"cycle": cycle})


LINE_HEADER = [
    gettext_lazy("Line"),
    gettext_lazy("Worker (masked NIK)"),
    gettext_lazy("Province"),
    gettext_lazy("Amount (Rp)"),
    gettext_lazy("Funder"),
    gettext_lazy("Funding source"),
    gettext_lazy("State"),
    gettext_lazy("Rejection reason"),
    gettext_lazy("Agency's words"),
    gettext_lazy("Agency reference"),
]


@login_required
@require_GET
def cycle_detail(request, month: str):
    recon.require_read(request.user)
    when = _month_or_404(month)
    cycle = recon.cycle_for(when)
    form = LineFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = recon.LineFilter(
        state=data.get("state", ""), province=data.get("province", ""), reason=data.get("reason", "")
    )
    rows = recon.cycle_lines(when, filters)
    file_format = request.GET.get("format", "")
    if file_format in ("csv", "xlsx"):
        return _export(
            LINE_HEADER,
            (
                [
                    line.pk,
                    line.worker.nik_masked,
                    line.chunk.province,
                    line.amount,
                    line.sponsorship.funder.name if line.sponsorship and line.sponsorship.funder else "",
                    line.funding_source,
                    line.state,
                    line.reason,
                    line.reason_text,
                    line.agency_reference,
                ]
                for line in rows.iterator(chunk_size=2000)
            ),
            file_format,
            f"cycle-{when:%Y-%m}-lines",
        )
    context = {
        "cycle": cycle,
        "month": f"{when:%Y-%m}",
        "form": form,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query_without_page(request),
        "reasons": [(code, agency_words.reason_text(code), n) for code, n in recon.line_reasons(when)],
    }
    return rows_or_page(request, "web/cycles/_lines.html", "web/cycles/detail.html", context)


# --- Reconciliation --------------------------------------------------------------------------------------------------

EXCEPTION_HEADER = [
    gettext_lazy("Kind"),
    gettext_lazy("Worker (masked NIK)"),
    gettext_lazy("Month"),
    gettext_lazy("Amount (Rp)"),
    gettext_lazy("Funder"),
    gettext_lazy("Rejection reason"),
    gettext_lazy("Agency state"),
    gettext_lazy("Agency's last paid month"),
    gettext_lazy("Ledger entry"),
    gettext_lazy("State"),
    gettext_lazy("Actions"),
]


@login_required
@require_http_methods(["GET", "POST"])
def reconciliation(request, month: str):
    recon.require_read(request.user)
    when = _month_or_404(month)
    error = None
    status = 200
    if request.method == "POST":
        form = ActionForm(request.POST)
        if not form.is_valid():
            error = _("Choose an action.")
            status = 422
        else:
            try:
                _row, created = recon.exception_act(
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    worker_id=form.cleaned_data["worker"],
                    month=when,
                    action=form.cleaned_data["action"],
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                if exc.http_status == 403:
                    raise
                error, status = exc.message, exc.http_status
            else:
                if created:
                    messages.success(request, _("The action is recorded."))
                else:
                    messages.info(request, _("This action was already recorded; nothing changed."))
                return redirect(reverse("web:cycle_reconciliation", args=[f"{when:%Y-%m}"]))
    items = recon.exceptions_for_month(when)
    if request.GET.get("format") == "csv":
        return _export(
            EXCEPTION_HEADER,
            (
                [
                    item.kind,
                    item.worker_masked,
                    f"{item.month:%Y-%m}",
                    item.amount or "",
                    item.funder,
                    item.reason,
                    item.agency_state,
                    f"{item.agency_last_paid:%Y-%m}" if item.agency_last_paid else "",
                    item.ledger_key,
                    item.state,
                    "; ".join(a.action for a in item.actions),
                ]
                for item in items
            ),
            "csv",
            f"reconciliation-{when:%Y-%m}",
        )
    counts = recon.exception_counts(items)
    shown = request.GET.get("show", "open")
    if shown not in ("open", "resolved", "all"):
        shown = "open"
    page = Paginator([i for i in items if shown == "all" or i.state == shown], PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    labels = dict(ReconciliationAction.Kind.choices)
    for item in page.object_list:
        item.kind_label = labels[item.kind]
        item.reason_words = agency_words.reason_text(item.reason, item.reason_text) if item.reason else ""
        item.agency_state_words = agency_words.state_text(item.agency_state) if item.agency_state else ""
    context = {
        "month": f"{when:%Y-%m}",
        "items": page.object_list,
        "page": page,
        "query": f"show={shown}",
        "counts": [
            (value, label, counts[value]["open"], counts[value]["resolved"])
            for value, label in ReconciliationAction.Kind.choices
        ],
        "actions": ReconciliationAction.Action.choices,
        "show": shown,
        "error": error,
        "may_act": recon.may_act(request.user),
    }
    return render(request, "web/cycles/reconciliation.html", context, status=status)


urlpatterns = [
    path("cycles/", cycle_list, name="cycle_list"),
    path("cycles/run/", cycle_run_view, name="cycle_run"),
    path("cycles/<str:month>/", cycle_detail, name="cycle_detail"),
    path("cycles/<str:month>/progress/", cycle_progress, name="cycle_progress"),
    path("cycles/<str:month>/reconciliation/", reconciliation, name="cycle_reconciliation"),
]
