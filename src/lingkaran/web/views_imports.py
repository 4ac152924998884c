"""Pages of the bulk import: the list of imports, the upload, the preview with the column mapping, the progress (HTMX
polling), the result with the row-level problems and the report downloads.

Views parse, call one importing service or selector, and render; ``registry.importing`` decides who may import
(``Capability.IMPORT_WORKERS``) and which batches a user sees.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, re_path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lingkaran.core.access import require
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import Conflict, InvalidInput
from lingkaran.registry import importing, reports
from lingkaran.registry.models import ImportBatch
from lingkaran.web import forms
from lingkaran.web.forms_imports import ImportMappingForm, ImportUploadForm

LIST_PAGE_SIZE = 25
PROBLEM_PAGE_SIZE = 50
PREVIEW_ROWS = 10  # on a phone each row is a card of 15 lines


@login_required
def import_list(request):
    batches = importing.import_batches_visible_to(request.user)
    page = Paginator(batches, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/imports/list.html", {"page": page})


@login_required
def import_new(request):
    require(request.user, Capability.IMPORT_WORKERS)
    status = 200
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                batch = importing.import_create(
                    actor=request.user, uploaded_file=data["file"], source=data["source"], mode=data["mode"]
                )
            except InvalidInput as exc:
                forms.apply_domain_errors(form, exc)
            else:
                return redirect("web:import_detail", batch_id=batch.pk)
        status = 422
    else:
        form = ImportUploadForm()
    return render(request, "web/imports/new.html", {"form": form}, status=status)


@login_required
def import_template(request):
    require(request.user, Capability.IMPORT_WORKERS)
    response = HttpResponse(importing.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="template-impor-pekerja.csv"'
    return response


def _detail_context(batch: ImportBatch) -> dict:
    return {
        "batch": batch,
        "interrupted": ((batch.mapping or {}).get("notice") or {}).get("code") == "import_interrupted",
        "notice": importing.batch_notice(batch),
        "file_problems": [importing.problem_message(p) for p in batch.problems.filter(row=0)],
    }


@login_required
def import_detail(request, batch_id: int):
    batch = importing.import_batch_for(request.user, batch_id)
    context = _detail_context(batch)
    if batch.state == ImportBatch.State.UPLOADED:
        preview = importing.import_preview(batch, limit=PREVIEW_ROWS)
        context["preview"] = preview
        context["mapping_form"] = ImportMappingForm(header=preview.header, fields=preview.fields)
        return render(request, "web/imports/preview.html", context)
    if batch.state == ImportBatch.State.RUNNING:
        return render(request, "web/imports/progress.html", context)
    problems = importing.import_problems(batch, errors_only=request.GET.get("errors") == "1").exclude(row=0)
    context["page"] = Paginator(problems, PROBLEM_PAGE_SIZE).get_page(request.GET.get("page"))
    context["errors_only"] = request.GET.get("errors") == "1"
    return render(request, "web/imports/result.html", context)


@login_required
@require_POST
def import_mapping(request, batch_id: int):
    batch = importing.import_batch_for(request.user, batch_id)
    header, fields = importing.mapping_of(batch)
    form = ImportMappingForm(request.POST, header=header, fields=fields)
    if form.is_valid():
        try:
            importing.import_set_mapping(actor=request.user, batch_id=batch.pk, fields=form.mapping())
        except InvalidInput as exc:
            forms.apply_domain_errors(form, exc)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("web:import_detail", batch_id=batch.pk)
        else:
            messages.success(request, _("Column choices saved."))
            return redirect("web:import_detail", batch_id=batch.pk)
    context = _detail_context(batch)
    context["preview"] = importing.import_preview(batch, limit=PREVIEW_ROWS)
    context["mapping_form"] = form
    return render(request, "web/imports/preview.html", context, status=422)


@login_required
@require_POST
def import_start(request, batch_id: int):
    try:
        importing.import_start(actor=request.user, batch_id=batch_id)
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("web:import_detail", batch_id=batch_id)


@login_required
def import_progress(request, batch_id: int):
    """The progress partial, polled every second by the progress page; when the run ends the page reloads."""
    batch = importing.import_batch_for(request.user, batch_id)
    if not request.htmx:
        return redirect("web:import_detail", batch_id=batch.pk)
    response = render(request, "web/imports/_progress.html", _detail_context(batch))
    if batch.state != ImportBatch.State.RUNNING:
        response["HX-Redirect"] = reverse("web:import_detail", args=[batch.pk])
    return response


@login_required
def import_report(request, batch_id: int, file_format: str):
    content, name, content_type = reports.import_report(actor=request.user, batch_id=batch_id, file_format=file_format)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path("imports/", import_list, name="import_list"),
    path("imports/new/", import_new, name="import_new"),
    path("imports/template.csv", import_template, name="import_template"),
    path("imports/<int:batch_id>/", import_detail, name="import_detail"),
    path("imports/<int:batch_id>/mapping/", import_mapping, name="import_mapping"),
    path("imports/<int:batch_id>/start/", import_start, name="import_start"),
    path("imports/<int:batch_id>/progress/", import_progress, name="import_progress"),
    re_path(r"^imports/(?P<batch_id>[0-9]+)/report\.(?P<file_format>xlsx|csv)$", import_report, name="import_report"),
]
