"""Pages of the worker registry: registration (phone-first), the worker list and its exports, the worker detail with
its history and the audited reveal, the verification queue and the duplicate review.

Views parse, call one registry selector or service, and render. Who may see what is decided there: a field agent's
selectors only return its regions (anything else is a 404), services refuse roles without the capability (403).
Personal data leaves the database in full only through ``services.worker_reveal`` and the operator's audited export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import formats, timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lingkaran.continuation import selectors as continuation_reads
from lingkaran.core.access import assigned_region_codes, can, require
from lingkaran.core.domain.formatting import format_rupiah
from lingkaran.core.domain.roles import Capability, RoleName, region_within
from lingkaran.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from lingkaran.registry import exports, selectors, services
from lingkaran.registry import messages as problems
from lingkaran.registry.domain.nik import normalise_nik
from lingkaran.registry.models import DuplicateCandidate, Heir, Merge, NominationSource, Region, Sex, Worker
from lingkaran.web import forms
from lingkaran.web import forms_registry as rforms
from lingkaran.web.views_coverage import protection_context

WORKER_PAGE_SIZE = 50
QUEUE_PAGE_SIZE = 25
DUPLICATE_PAGE_SIZE = 20


def require_registry_reader(user) -> None:
    """Staff (every region) and field agents (their regions) open the registry pages; funders and workers do not."""
    if not (can(user, Capability.VIEW_ALL_REGIONS) or can(user, Capability.REGISTER_WORKERS)):
        raise Forbidden()


# --- Region pickers -------------------------------------------------------------------------------------------------

PICKER_LEVELS = (
    ("province", gettext_lazy("Province")),
    ("regency", gettext_lazy("Regency / city")),
    ("district", gettext_lazy("Kecamatan")),
    ("region_code", gettext_lazy("Desa / kelurahan")),
)


@dataclass
class PickerLevel:
    name: str
    label: str
    options: list[tuple[str, str]]
    value: str = ""


def _assigned_paths(user) -> list[Region]:
    """The assigned regions of a field agent and the regions above them (to pick a province before a kecamatan)."""
    nodes: dict[str, Region] = {}
    for code in sorted(assigned_region_codes(user)):
        try:
            region = selectors.region_for(user, code)
        except NotFound:
            continue
        for node in selectors.region_path(region):
            nodes[node.code] = node
    return list(nodes.values())


def _region_options(user, parent: str | None, above: list[Region]) -> list[tuple[str, str]]:
    visible = selectors.regions_visible_to(user)
    regions = visible.filter(level=1) if parent is None else visible.filter(parent_id=parent)
    options = dict(regions.values_list("code", "name"))
    for node in above:
        if node.parent_id == parent:
            options.setdefault(node.code, node.name)
    return sorted(options.items(), key=lambda item: (item[1].casefold(), item[0]))


def region_picker_levels(user, data) -> list[PickerLevel]:
    """Four cascading selects, each limited to the user's regions. A level with one choice is chosen already (a field
    agent of one kabupaten starts at the kecamatan); a choice that no longer fits its parent is dropped."""
    above = [] if can(user, Capability.VIEW_ALL_REGIONS) else _assigned_paths(user)
    wanted = {name: (data.get(name) or "").strip() for name, _label in PICKER_LEVELS}
    desa = wanted["region_code"]
    if desa.count(".") == 3 and not any(wanted[n] for n in ("province", "regency", "district")):
        parts = desa.split(".")
        wanted.update(province=parts[0], regency=".".join(parts[:2]), district=".".join(parts[:3]))
    levels: list[PickerLevel] = []
    parent: str | None = None
    for index, (name, label) in enumerate(PICKER_LEVELS):
        if index and not parent:
            levels.append(PickerLevel(name, str(label), []))
            continue
        options = _region_options(user, parent, above)
        value = wanted[name] if wanted[name] in {code for code, _name in options} else ""
        if not value and len(options) == 1 and name != "region_code":
            value = options[0][0]
        levels.append(PickerLevel(name, str(label), options, value))
        parent = value
    return levels


@login_required
def region_picker(request):
    require(request.user, Capability.REGISTER_WORKERS)
    levels = region_picker_levels(request.user, request.GET)
    return render(request, "web/registry/_region_picker.html", {"levels": levels})


# --- NIK decoded as it is typed -------------------------------------------------------------------------------------


def _sex_label(code: str) -> str:
    return str(Sex(code).label) if code in Sex.values else ""


@login_required
def nik_check(request):
    """What the NIK says (regions, birth date, sex) and what is wrong with it, for the registration form."""
    require(request.user, Capability.REGISTER_WORKERS)
    nik = normalise_nik(request.GET.get("nik", "")[:64])
    today = timezone.localdate()
    context: dict = {"nik": nik}
    if nik.isdigit() and len(nik) < 16:
        context["typing"] = problems.render("nik_length", {"length": len(nik)})
    elif nik:
        # Region names are public reference data: the NIK's place of issue is named even outside the user's regions.
        lookup = selectors.nik_lookup(nik, today=today)
        check, regions = lookup.check, lookup.region_names
        context.update(
            check=check,
            errors=[problems.render(p.code, p.params) for p in check.errors],
            warnings=[problems.render(p.code, p.params) for p in check.warnings],
        )
        if check.is_valid:
            context.update(
                places=[
                    (label, code, regions.get(code, ""))
                    for label, code in (
                        (_("Province"), check.province_code),
                        (_("Regency / city"), check.regency_code),
                        (_("Kecamatan"), check.district_code),
                    )
                ],
                sex_label=_sex_label(check.sex),
                age=rforms.age_in_years(check.birth_date, today) if check.birth_date else None,
                outside_scope=not (
                    can(request.user, Capability.VIEW_ALL_REGIONS)
                    or region_within(check.district_code, assigned_region_codes(request.user))
                ),
                existing=selectors.worker_by_nik(request.user, nik),
            )
    return render(request, "web/registry/_nik_decoded.html", context)


# --- Registration ---------------------------------------------------------------------------------------------------


def _merge_domain_errors(form, exc: InvalidInput) -> None:
    """Add the service's findings for fields the form has not already refused, so that one submit names all."""
    for field, texts in exc.details.get("fields", {}).items():
        target = field if field in form.fields else None
        if target is not None and target in form.errors:
            continue
        for text in texts:
            form.add_error(target, text)


def _registration_source(user) -> str:
    return NominationSource.FIELD_AGENT if user.role == RoleName.FIELD_AGENT else NominationSource.OPERATOR


def _register_page(request, form, heirs, status=200):
    context = {
        "form": form,
        "heirs": heirs,
        "levels": region_picker_levels(request.user, form.data if form.is_bound else {}),
        "region_errors": form.errors.get("region_code", []),
    }
    return render(request, "web/registry/register.html", context, status=status)


@login_required
def worker_register(request):
    require(request.user, Capability.REGISTER_WORKERS)
    if request.method != "POST":
        return _register_page(request, rforms.WorkerRegisterForm(), rforms.HeirFormSet(prefix="heirs"))
    form = rforms.WorkerRegisterForm(request.POST)
    heirs = rforms.HeirFormSet(request.POST, prefix="heirs")
    form_valid, heirs_valid = form.is_valid(), heirs.is_valid()
    if form_valid and heirs_valid:
        heir_inputs = [h for h in (f.heir_input() for f in heirs.forms) if h is not None]
        try:
            worker = services.worker_register(
                actor=request.user, data=form.worker_input(heir_inputs), source=_registration_source(request.user)
            )
        except (InvalidInput, Conflict) as exc:
            forms.apply_domain_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is registered and waits for a verifier's check.") % {"name": worker.full_name},
            )
            for warning in getattr(worker, "registration_warnings", []):
                messages.warning(request, warning)
            return redirect("web:worker_detail", worker_id=worker.pk)
    else:
        try:
            services.validate_worker_input(form.worker_input([]), actor=request.user)
        except InvalidInput as exc:
            _merge_domain_errors(form, exc)
    return _register_page(request, form, heirs, status=422)


# --- Worker list and exports ----------------------------------------------------------------------------------------


def _region_datalist(user) -> list[tuple[str, str]]:
    """Suggestions for the region filter: provinces and kabupaten for staff, the own regions for a field agent."""
    regions = selectors.regions_visible_to(user)
    if can(user, Capability.VIEW_ALL_REGIONS):
        regions = regions.filter(level__lte=2)
    return list(regions.order_by("code").values_list("code", "name")[:600])


@login_required
def worker_list(request):
    require_registry_reader(request.user)
    form = rforms.WorkerFilterForm(request.GET or None)
    workers = selectors.workers_filtered(request.user, form.filters())
    page = Paginator(workers, WORKER_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filter_items": [(k, v) for k, v in query.items() if v],
        "more_filters_used": any(query.get(k) for k in ("region", "occupation", "status", "decile_max", "source")),
        "can_register": can(request.user, Capability.REGISTER_WORKERS),
        "can_export_personal": can(request.user, Capability.EXPORT_PERSONAL_DATA),
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "web/registry/_worker_rows.html", context)
    else:
        context["region_codes"] = _region_datalist(request.user)
        response = render(request, "web/registry/worker_list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _export_response(export: exports.WorkerExport, file_format: str, name: str):
    stamp = timezone.localdate().isoformat()
    if file_format == "xlsx":
        response = HttpResponse(
            exports.xlsx_bytes(export, title=name),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = StreamingHttpResponse(exports.csv_stream(export), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{file_format}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _export_format(value: str) -> str:
    if value not in exports.FORMATS:
        raise Http404()
    return value


@login_required
def worker_export(request):
    """The filtered list, masked, as CSV or XLSX: for everyone who may open the list."""
    require_registry_reader(request.user)
    file_format = _export_format(request.GET.get("format", "csv"))
    filters = rforms.WorkerFilterForm(request.GET).filters()
    export = exports.workers_export(actor=request.user, filters=filters, file_format=file_format)
    return _export_response(export, file_format, "pekerja")


@login_required
@require_POST
def worker_export_personal(request):
    """The filtered list with full NIK, phone and address: operators only, one audit row per export."""
    require(request.user, Capability.EXPORT_PERSONAL_DATA)
    file_format = _export_format(request.POST.get("format", "csv"))
    filters = rforms.WorkerFilterForm(request.POST).filters()
    export = exports.workers_export(actor=request.user, filters=filters, personal=True, file_format=file_format)
    response = _export_response(export, file_format, "pekerja-data-pribadi")
    add_never_cache_headers(response)
    return response


# --- Worker detail --------------------------------------------------------------------------------------------------

MERGE_FIELD_LABELS = {
    "full_name": gettext_lazy("Full name"),
    "birth_date": gettext_lazy("Birth date"),
    "sex": gettext_lazy("Sex"),
    "phone": gettext_lazy("Phone"),
    "region_code": gettext_lazy("Region"),
    "occupation": gettext_lazy("Occupation"),
    "declared_income": gettext_lazy("Declared income"),
    "dtsen_decile": gettext_lazy("DTSEN decile"),
    "has_disability": gettext_lazy("Disability"),
    "is_female_head": gettext_lazy("Female head of household"),
    "on_extreme_poverty_list": gettext_lazy("Extreme-poverty list"),
    "zakat_eligible": gettext_lazy("Zakat eligible"),
}


ACTION_LABELS = {
    "worker.register": gettext_lazy("Registered (nominated)"),
    "worker.verified": gettext_lazy("Verified"),
    "worker.rejected": gettext_lazy("Rejected"),
    "worker.reveal_personal_data": gettext_lazy("Full personal data viewed"),
    "worker.consent_withdrawn": gettext_lazy("Consent withdrawn"),
    "worker.merged": gettext_lazy("Another record merged into this one"),
    "worker.merged_into": gettext_lazy("Merged into another record"),
    "worker.duplicate_dismissed": gettext_lazy("Possible duplicate dismissed"),
    "worker.kpj_recorded": gettext_lazy("KPJ number recorded from the agency"),
}


def _action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def _region_path_of(user, worker: Worker) -> list[Region]:
    if worker.region_id:
        return selectors.region_path(worker.region)
    try:
        return selectors.region_path(selectors.region_for(user, worker.region_code))
    except NotFound:
        return []


def _indicators(worker: Worker) -> list[str]:
    flags = [
        (worker.has_disability, _("Disability")),
        (worker.is_elderly, _("Elderly")),
        (worker.is_female_head, _("Female head of household")),
        (worker.on_extreme_poverty_list, _("On the extreme-poverty list (P3KE)")),
        (worker.zakat_eligible, _("Zakat eligible (mustahik)")),
    ]
    return [label for present, label in flags if present]


def _open_duplicates(user, worker_ids) -> dict[int, list[tuple[DuplicateCandidate, Worker]]]:
    found: dict[int, list] = {}
    candidates = selectors.duplicate_candidates_for(user).filter(
        Q(first_id__in=worker_ids) | Q(second_id__in=worker_ids)
    )
    for candidate in candidates:
        found.setdefault(candidate.first_id, []).append((candidate, candidate.second))
        found.setdefault(candidate.second_id, []).append((candidate, candidate.first))
    return found


def _detail_page(request, worker: Worker, *, revealed: dict | None = None, reveal_form=None, status: int = 200):
    user = request.user
    try:
        merge_out = worker.merge_out
    except Merge.DoesNotExist:
        merge_out = None
    merges_in = [
        (merge, [(MERGE_FIELD_LABELS.get(k, k), v[0], v[1]) for k, v in sorted(merge.conflicts.items())])
        for merge in worker.merges_in.select_related("merged", "merged_by")
    ]
    heirs = list(worker.heirs.all())
    relationships = dict(Heir.Relationship.choices)
    if revealed is not None:
        heir_rows = [
            {
                **heir,
                "relationship_label": relationships.get(heir["relationship"], heir["relationship"]),
                "birth_date": date.fromisoformat(heir["birth_date"]) if heir.get("birth_date") else None,
            }
            for heir in revealed["heirs"]
        ]
    else:
        heir_rows = [{"relationship_label": heir.get_relationship_display()} for heir in heirs]
    context = {
        "worker": worker,
        "path": _region_path_of(user, worker),
        "indicators": _indicators(worker),
        "occupation_label": worker.occupation.label(get_language() or "id"),
        "consents": worker.consents.select_related("collected_by", "withdrawn_by"),
        "heirs": heir_rows,
        "decisions": worker.decisions.select_related("decided_by"),
        "merge_out": merge_out,
        "merges_in": merges_in,
        "duplicates": _open_duplicates(user, [worker.pk]).get(worker.pk, []),
        "history": [(event, _action_label(event.action)) for event in selectors.worker_history(worker)[:100]],
        "revealed": revealed,
        "reveal_form": reveal_form or rforms.RevealForm(),
        "can_reveal": can(user, Capability.REVEAL_PERSONAL_DATA),
        "can_withdraw": can(user, Capability.REGISTER_WORKERS),
        **protection_context(worker),
        "can_read_continuation": continuation_reads.may_read(user),
        "can_verify": can(user, Capability.VERIFY_WORKERS),
        "can_decide": can(user, Capability.VERIFY_WORKERS)
        and worker.status == "nominated"
        and worker.nominated_by_id != user.pk,
    }
    response = render(request, "web/registry/worker_detail.html", context, status=status)
    if revealed is not None:
        add_never_cache_headers(response)
    return response


@login_required
def worker_detail(request, worker_id: int):
    require_registry_reader(request.user)
    worker = selectors.worker_for(request.user, worker_id)
    return _detail_page(request, worker)


@login_required
@require_POST
def worker_reveal(request, worker_id: int):
    """Show NIK, phone, address and heirs in full, on this response only (audited, never cached)."""
    require_registry_reader(request.user)
    worker = selectors.worker_for(request.user, worker_id)
    form = rforms.RevealForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    revealed = services.worker_reveal(actor=request.user, worker=worker, reason=reason)
    return _detail_page(request, worker, revealed=revealed, reveal_form=form)


@login_required
@require_POST
def consent_withdraw(request, worker_id: int, consent_id: int):
    require_registry_reader(request.user)
    worker = selectors.worker_for(request.user, worker_id)
    if not worker.consents.filter(pk=consent_id).exists():
        raise NotFound()
    form = rforms.ConsentWithdrawForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    consent = services.consent_withdraw(actor=request.user, consent_id=consent_id, note=note)
    messages.success(request, _("Consent withdrawn: %(purpose)s.") % {"purpose": consent.get_purpose_display()})
    return redirect("web:worker_detail", worker_id=worker.pk)


# --- Verification queue ---------------------------------------------------------------------------------------------


def _queue_page(request, *, errors: dict | None = None, status: int = 200):
    queue = selectors.verification_queue(request.user)
    page = Paginator(queue, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    duplicates = _open_duplicates(request.user, [w.pk for w in page])
    errors = errors or {}
    items = [
        {
            "worker": w,
            "occupation_label": w.occupation.label(get_language() or "id"),
            "indicators": _indicators(w),
            "duplicates": duplicates.get(w.pk, []),
            "form": errors.get(w.pk),
        }
        for w in page
    ]
    context = {"page": page, "items": items, "now": timezone.now(), "total": page.paginator.count}
    return render(request, "web/registry/verification_queue.html", context, status=status)


@login_required
def verification_queue(request):
    require(request.user, Capability.VERIFY_WORKERS)
    return _queue_page(request)


@login_required
@require_POST
def worker_decide(request, worker_id: int):
    require(request.user, Capability.VERIFY_WORKERS)
    form = rforms.DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            record = services.worker_decide(
                actor=request.user, worker_id=worker_id, decision=data["decision"], reason=data["reason"]
            )
        except InvalidInput as exc:
            forms.apply_domain_errors(form, exc)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("web:verification_queue")
        else:
            text = (_("Verified: %(name)s.") if data["decision"] == "verified" else _("Rejected: %(name)s.")) % {
                "name": record.worker.full_name
            }
            messages.success(request, text)
            return redirect("web:verification_queue")
    return _queue_page(request, errors={worker_id: form}, status=422)


# --- Duplicate review -----------------------------------------------------------------------------------------------

EVIDENCE_TEXT = {
    "same_name_birth_date": gettext_lazy("Same name and the same birth date."),
    "similar_name_same_birth_date": gettext_lazy("Names %(detail)s%% alike and the same birth date."),
    "same_phone": gettext_lazy("Same phone number."),
    "similar_name_same_village": gettext_lazy("Names %(detail)s%% alike, living in the same desa."),
}


def evidence_sentence(item: dict) -> str:
    template = EVIDENCE_TEXT.get(item.get("rule", ""))
    if template is None:
        return str(item.get("rule", ""))
    return str(template) % {"detail": item.get("detail") or "?"}


def _display_date(value: date | None) -> str:
    return formats.date_format(value) if value else "—"


def _comparison(a: Worker, b: Worker) -> list[tuple[str, str, str, bool]]:
    language = get_language() or "id"

    def region(w: Worker) -> str:
        return f"{w.region.name} ({w.region_code})" if w.region_id else w.region_code

    rows = [
        (_("Full name"), a.full_name, b.full_name),
        (_("NIK"), a.nik_masked, b.nik_masked),
        (_("Birth date"), _display_date(a.birth_date), _display_date(b.birth_date)),
        (_("Sex"), a.get_sex_display(), b.get_sex_display()),
        (_("Phone"), a.phone_masked or "—", b.phone_masked or "—"),
        (_("Region"), region(a), region(b)),
        (_("Occupation"), a.occupation.label(language), b.occupation.label(language)),
        (_("Declared income"), format_rupiah(a.declared_income, language), format_rupiah(b.declared_income, language)),
        (_("DTSEN decile"), str(a.dtsen_decile or "—"), str(b.dtsen_decile or "—")),
        (_("Status"), a.get_status_display(), b.get_status_display()),
        (_("Nominated through"), a.get_source_display(), b.get_source_display()),
        (
            _("Registered"),
            formats.date_format(timezone.localtime(a.created_at)),
            formats.date_format(timezone.localtime(b.created_at)),
        ),
    ]
    return [(label, x, y, x != y) for label, x, y in rows]


@login_required
def duplicate_list(request):
    require(request.user, Capability.VERIFY_WORKERS)
    candidates = selectors.duplicate_candidates_for(request.user)
    page = Paginator(candidates, DUPLICATE_PAGE_SIZE).get_page(request.GET.get("page"))
    items = [
        {
            "candidate": c,
            "rows": _comparison(c.first, c.second),
            "evidence": [evidence_sentence(e) for e in c.evidence],
        }
        for c in page
    ]
    return render(request, "web/registry/duplicates.html", {"page": page, "items": items})


@login_required
@require_POST
def duplicate_review(request, candidate_id: int):
    require(request.user, Capability.VERIFY_WORKERS)
    form = rforms.DuplicateReviewForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(_("Choose one of the actions."))
    same_person = form.same_person
    try:
        services.duplicate_review(
            actor=request.user,
            candidate_id=candidate_id,
            same_person=same_person,
            survivor_id=form.survivor_id,
            note=form.cleaned_data["note"],
        )
    except (Conflict, InvalidInput) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Merged: both histories are kept.") if same_person else _("Marked as different people.")
        )
    return redirect("web:duplicate_list")


urlpatterns = [
    path("workers/", worker_list, name="worker_list"),
    path("workers/new/", worker_register, name="worker_register"),
    path("workers/new/nik/", nik_check, name="nik_check"),
    path("workers/new/regions/", region_picker, name="region_picker"),
    path("workers/export/", worker_export, name="worker_export"),
    path("workers/export/personal/", worker_export_personal, name="worker_export_personal"),
    path("workers/<int:worker_id>/", worker_detail, name="worker_detail"),
    path("workers/<int:worker_id>/reveal/", worker_reveal, name="worker_reveal"),
    path("workers/<int:worker_id>/consents/<int:consent_id>/withdraw/", consent_withdraw, name="consent_withdraw"),
    path("verification/", verification_queue, name="verification_queue"),
    path("verification/<int:worker_id>/decide/", worker_decide, name="worker_decide"),
    path("duplicates/", duplicate_list, name="duplicate_list"),
    path("duplicates/<int:candidate_id>/review/", duplicate_review, name="duplicate_review"),
]
