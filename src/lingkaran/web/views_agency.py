"""Pages of the agency side (BPJS Ketenagakerjaan), for operators and finance: payment and registration batches with
every line's outcome and reason, the files an officer carries to the agency and back (downloads, uploads, the
row-level report of each import), and the built-in simulator's participants and list of wage earners.

Views parse input, check access (``agency.access``, through ``core.access``), call one agency service or selector
and render. Money staff read (``VIEW_MONEY``); finance officers pay (submit payment batches, payment files,
confirmations); operators enrol (registration batches and files, status files, the simulator's wage earners).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from lingkaran.core.errors import Conflict, DomainError, InvalidInput
from lingkaran.protection.agency import access, selectors, services
from lingkaran.protection.agency.domain import files as formats
from lingkaran.protection.agency.domain.membership import State
from lingkaran.protection.agency.domain.months import first_of_month
from lingkaran.protection.agency.files_in import MAX_FILE_BYTES
from lingkaran.protection.agency.files_out import report_file
from lingkaran.protection.agency.messages import column_text, problem_text, reason_text, state_text
from lingkaran.protection.agency.models import AdapterKind, BatchState, FileImport, LineOutcome, RegistrationOutcome
from lingkaran.web.listing import query_without_page

PAGE_SIZE = 50
KIND_LABELS = dict(FileImport.Kind.choices)


class AgencyFileForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the agency sent"))
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        help_text=gettext_lazy(
            "CSV must be UTF-8. Valid rows are applied, the others listed; a file twice is applied once."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind, KIND_LABELS[kind]) for kind in kinds]


class WageEarnerForm(forms.Form):
    nik = forms.CharField(
        label=gettext_lazy("NIK"), max_length=30, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    employer = forms.CharField(label=gettext_lazy("Employer"), max_length=150, required=False)


def _page(request, queryset, size: int = PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _upload_kinds(user) -> list[str]:
    kinds = []
    if access.may_enrol(user):
        kinds += [formats.REGISTRATIONS, formats.STATUS]
    if access.may_pay(user):
        kinds.insert(0, formats.CONFIRMATIONS)
    return kinds


def _context(request, section: str, **extra) -> dict:
    user = request.user
    return {
        "section": section,
        "may_pay": access.may_pay(user),
        "may_enrol": access.may_enrol(user),
        "adapter": services.configured_kind(),
        "adapter_label": dict(AdapterKind.choices)[services.configured_kind()],
        **extra,
    }


@login_required
@require_GET
def agency_home(request):
    access.require_read(request.user)
    kinds = _upload_kinds(request.user)
    context = _context(
        request,
        "home",
        page=_page(request, selectors.payment_batches(), 20),
        registrations=selectors.registration_batches()[:10],
        imports=selectors.file_imports()[:10],
        status=selectors.status_summary(),
        upload_form=AgencyFileForm(kinds=kinds) if kinds else None,
    )
    context["status_rows"] = [(state_text(state), count) for state, count in context["status"].states.items()]
    return render(request, "web/agency/home.html", context)


# --- Payment batches -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def payment_batch_detail(request, batch_id: int):
    access.require_read(request.user)
    batch = selectors.payment_batch_for(batch_id)
    result = request.GET.get("result", "")
    if result not in (*LineOutcome.Result.values, "pending"):
        result = ""
    reason = request.GET.get("reason", "")[:40]
    summary = selectors.payment_summary(batch)
    page = _page(request, selectors.payment_lines(batch, result=result, reason=reason))
    rows = [(line, getattr(line, "outcome", None)) for line in page]
    context = _context(
        request,
        "payments",
        batch=batch,
        summary=summary,
        page=page,
        rows=[
            {
                "line": line,
                "outcome": outcome,
                "reason": reason_text(outcome.reason, outcome.reason_text) if outcome else "",
            }
            for line, outcome in rows
        ],
        reasons=[(code, reason_text(code), count) for code, count in summary.reasons.items()],
        result=result,
        reason=reason,
        results=[*LineOutcome.Result.choices, ("pending", _("Waiting for the agency"))],
        query=query_without_page(request),
        has_file=batch.adapter == AdapterKind.FILE and batch.state != BatchState.OPEN,
    )
    return render(request, "web/agency/payment_detail.html", context)


@login_required
@require_POST
def payment_batch_submit(request, batch_id: int):
    access.check(request.user, access.PAY)
    try:
        summary = services.payment_batch_submit(batch_id=batch_id, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Submitted: %(accepted)s accepted, %(rejected)s refused, %(pending)s waiting for the agency.")
            % {"accepted": summary.accepted, "rejected": summary.rejected, "pending": summary.pending},
        )
    return redirect("web:agency_payment_batch", batch_id=batch_id)


def _download(exported) -> HttpResponse:
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response


@login_required
@require_GET
def payment_file(request, batch_id: int, file_format: str):
    try:
        exported = services.payment_file_export(actor=request.user, batch_id=batch_id, file_format=file_format)
    except (Conflict, InvalidInput) as exc:
        messages.error(request, str(exc.message))
        return redirect("web:agency_payment_batch", batch_id=batch_id)
    return _download(exported)


# --- Registration batches --------------------------------------------------------------------------------------------


@login_required
@require_GET
def registration_batch_detail(request, batch_id: int):
    access.require_read(request.user)
    batch = selectors.registration_batch_for(batch_id)
    result = request.GET.get("result", "")
    if result not in (*RegistrationOutcome.Result.values, "pending"):
        result = ""
    summary = selectors.registration_summary(batch)
    page = _page(request, selectors.registration_requests(batch, result=result))
    rows = []
    for item in page:
        outcome = getattr(item, "outcome", None)
        rows.append(
            {
                "request": item,
                "outcome": outcome,
                "reason": reason_text(outcome.reason, outcome.reason_text) if outcome else "",
            }
        )
    context = _context(
        request,
        "registrations",
        batch=batch,
        summary=summary,
        page=page,
        rows=rows,
        reasons=[(code, reason_text(code), count) for code, count in summary.reasons.items()],
        result=result,
        results=[*RegistrationOutcome.Result.choices, ("pending", _("Waiting for the agency"))],
        query=query_without_page(request),
        has_file=batch.adapter == AdapterKind.FILE and batch.state != BatchState.OPEN,
    )
    return render(request, "web/agency/registration_detail.html", context)


@login_required
@require_POST
def registration_batch_submit(request, batch_id: int):
    access.check(request.user, access.ENROL)
    try:
        summary = services.registration_batch_submit(batch_id=batch_id, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Submitted: %(registered)s registered, %(rejected)s refused, %(pending)s waiting for the agency.")
            % {
                "registered": summary.registered + summary.already_registered,
                "rejected": summary.rejected,
                "pending": summary.pending,
            },
        )
    return redirect("web:agency_registration_batch", batch_id=batch_id)


@login_required
@require_GET
def registration_file(request, batch_id: int, file_format: str):
    try:
        exported = services.registration_file_export(actor=request.user, batch_id=batch_id, file_format=file_format)
    except (Conflict, InvalidInput) as exc:
        messages.error(request, str(exc.message))
        return redirect("web:agency_registration_batch", batch_id=batch_id)
    return _download(exported)


# --- Files the agency sends back -------------------------------------------------------------------------------------


@login_required
def import_list(request):
    access.require_read(request.user)
    kinds = _upload_kinds(request.user)
    form = AgencyFileForm(kinds=kinds) if kinds else None
    status = 200
    if request.method == "POST":
        if not kinds:
            access.check(request.user, access.PAY)  # refuses: the user may upload nothing
        form = AgencyFileForm(request.POST, request.FILES, kinds=kinds)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_FILE_BYTES:
                form.add_error("file", _("The file is larger than %(limit)s MB.") % {"limit": MAX_FILE_BYTES >> 20})
            else:
                record = services.agency_file_import(
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    file_name=upload.name,
                    content=upload.read(),
                )
                _announce(request, record)
                return redirect("web:agency_import", import_id=record.pk)
        status = 422
    context = _context(request, "imports", page=_page(request, selectors.file_imports(), 25), upload_form=form)
    return render(request, "web/agency/import_list.html", context, status=status)


def _announce(request, record: FileImport) -> None:
    if record.state == FileImport.State.REFUSED:
        messages.error(request, _("File refused, nothing applied: %(why)s") % {"why": _refusal(record)})
    else:
        messages.success(
            request,
            _("%(applied)s rows applied, %(already)s already applied, %(problems)s with problems.")
            % {
                "applied": record.applied_count,
                "already": record.already_applied_count,
                "problems": record.problem_rows,
            },
        )


def _refusal(record: FileImport) -> str:
    return problem_text(record.refusal_code, record.refusal_params) if record.refusal_code else ""


@login_required
@require_GET
def import_detail(request, import_id: int):
    access.require_read(request.user)
    record = selectors.file_import_for(import_id)
    errors_only = request.GET.get("errors") == "1"
    page = _page(request, selectors.file_problems(record, errors_only=errors_only).exclude(row=0))
    rows = [
        {
            "row": problem.row,
            "column": column_text(problem.column) if problem.column else "",
            "code": problem.code,
            "text": problem_text(problem.code, problem.params),
            "is_error": problem.is_error,
        }
        for problem in page
    ]
    context = _context(
        request,
        "imports",
        record=record,
        refusal=_refusal(record),
        page=page,
        rows=rows,
        errors_only=errors_only,
        query=query_without_page(request),
    )
    return render(request, "web/agency/import_detail.html", context)


@login_required
@require_GET
def import_report(request, import_id: int, file_format: str):
    access.require_read(request.user)
    if file_format not in ("csv", "xlsx"):
        raise Http404()
    record = selectors.file_import_for(import_id)
    return _download(report_file(record, file_format))


# --- The simulator ---------------------------------------------------------------------------------------------------


@login_required
def simulator(request):
    access.require_read(request.user)
    form = WageEarnerForm() if access.may_enrol(request.user) else None
    status = 200
    if request.method == "POST":
        access.check(request.user, access.ENROL)
        form = WageEarnerForm(request.POST)
        if form.is_valid():
            try:
                services.simulator_wage_earner_add(
                    actor=request.user, nik=form.cleaned_data["nik"], employer=form.cleaned_data["employer"]
                )
            except InvalidInput as exc:
                for text in exc.details.get("fields", {}).get("nik", [exc.message]):
                    form.add_error("nik", text)
            else:
                messages.success(request, _("The NIK is now on the simulator's list of wage earners."))
                return redirect("web:agency_simulator")
        status = 422
    search = request.GET.get("kpj", "").strip()[:11]
    month = first_of_month(timezone.localdate())
    page = _page(request, selectors.simulator_participants(search=search))
    participants = [
        {"row": row, "state": row.membership.state, "state_label": state_text(row.membership.state)}
        for row in selectors.participant_rows(page, month=month)
    ]
    context = _context(
        request,
        "simulator",
        page=page,
        participants=participants,
        month=month,
        search=search,
        wage_earners=selectors.wage_earners()[:20],
        form=form,
        query=query_without_page(request),
        covered=(State.ACTIVE, State.REACTIVATED),
    )
    return render(request, "web/agency/simulator.html", context, status=status)


@login_required
@require_POST
def status_refresh(request):
    access.check(request.user, access.ENROL)
    summary = services.status_refresh(actor=request.user)
    messages.success(
        request, _("Membership status brought up to date: %(count)s participants.") % {"count": summary.participants}
    )
    return redirect("web:agency_home")


urlpatterns = [
    path("agency/", agency_home, name="agency_home"),
    path("agency/payments/<int:batch_id>/", payment_batch_detail, name="agency_payment_batch"),
    path("agency/payments/<int:batch_id>/submit/", payment_batch_submit, name="agency_payment_submit"),
    path("agency/payments/<int:batch_id>/file.<str:file_format>", payment_file, name="agency_payment_file"),
    path("agency/registrations/<int:batch_id>/", registration_batch_detail, name="agency_registration_batch"),
    path("agency/registrations/<int:batch_id>/submit/", registration_batch_submit, name="agency_registration_submit"),
    path(
        "agency/registrations/<int:batch_id>/file.<str:file_format>",
        registration_file,
        name="agency_registration_file",
    ),
    path("agency/imports/", import_list, name="agency_imports"),
    path("agency/imports/<int:import_id>/", import_detail, name="agency_import"),
    path("agency/imports/<int:import_id>/report.<str:file_format>", import_report, name="agency_import_report"),
    path("agency/simulator/", simulator, name="agency_simulator"),
    path("agency/status/refresh/", status_refresh, name="agency_status_refresh"),
]
