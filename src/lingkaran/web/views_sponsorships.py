"""Pages of sponsorships: the list (with the reserved total and worker-months per funder), the directed form (pick
verified workers, preview each month's cost and the pool, confirm), and criteria runs (a request, its preview with
ranks and scores, commit, and why a worker was or was not chosen).

Operators and finance officers (``MANAGE_SPONSORSHIPS``) use every page; a funder user reads its own funder's
sponsorships; other roles are refused (403). Views parse, call ``protection.sponsorships`` or
``protection.selectors_sponsorships``, and render; the services decide.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lingkaran.core.access import can, require
from lingkaran.core.domain.formatting import format_rupiah
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import Forbidden, NotFound
from lingkaran.protection import nik_list_messages as list_texts
from lingkaran.protection import nik_lists
from lingkaran.protection import selectors_nik_list as list_reads
from lingkaran.protection import selectors_sponsorships as reads
from lingkaran.protection import sponsorships as services
from lingkaran.protection.domain.allocation import Criteria, Reason
from lingkaran.protection.domain.tariffs import parse_month
from lingkaran.protection.errors import (
    CoFundingInvalid,
    NikListIncomplete,
    NikListRefused,
    PoolInsufficient,
    SponsorshipRefused,
    TariffNotInForce,
    WorkerMonthTaken,
)
from lingkaran.web import forms_sponsorships as sforms
from lingkaran.web.listing import query_without_page, rows_or_page

PAGE_SIZE = 50

REASON_TEXTS = {
    Reason.CHOSEN: gettext_lazy("Chosen: among the highest priority the money could pay for."),
    Reason.OUTSIDE_REGIONS: gettext_lazy("Lives outside the regions asked for."),
    Reason.OUTSIDE_FUNDER_REGION: gettext_lazy("Lives outside the local government's own region (APBD money)."),
    Reason.OCCUPATION_NOT_TARGETED: gettext_lazy("The occupation is not one asked for."),
    Reason.SECTOR_NOT_TARGETED: gettext_lazy("The occupation's sector is not one asked for."),
    Reason.SEX_NOT_TARGETED: gettext_lazy("Not of the sex asked for."),
    Reason.DECILE_ABOVE_LIMIT: gettext_lazy("The DTSEN decile is above the limit, or unknown."),
    Reason.MISSING_INDICATOR: gettext_lazy("Does not hold every indicator asked for."),
    Reason.NOT_ZAKAT_ELIGIBLE: gettext_lazy("Not eligible for zakat (not mustahik)."),
    Reason.ALREADY_SPONSORED: gettext_lazy("Another sponsorship already pays some of these months."),
    Reason.TAKEN_BY_EARLIER_REQUEST: gettext_lazy("Taken by an earlier request in the same run."),
    Reason.LOWER_PRIORITY: gettext_lazy("Eligible, but others had a higher priority."),
    Reason.OVER_BUDGET: gettext_lazy("Eligible, but the block did not fit in what was left of the budget."),
}


def reason_text(code: str) -> str:
    try:
        return str(REASON_TEXTS[Reason(code)])
    except ValueError:
        return code


def _rp(amount: int) -> str:
    return format_rupiah(amount, "en" if (get_language() or "id").startswith("en") else "id")


def _require_manager(user) -> None:
    require(user, Capability.MANAGE_SPONSORSHIPS)


# --- The list -------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def sponsorship_list(request):
    if not reads.may_read_sponsorships(request.user):
        raise Forbidden(details={"capability": Capability.MANAGE_SPONSORSHIPS.value})
    funders = list(reads.funders_for_sponsorships(request.user))
    form = sforms.SponsorshipFilterForm(request.GET or None, funders=funders)
    data = form.cleaned_data if form.is_valid() else {}
    filters = reads.SponsorshipFilter(
        funder_id=data.get("funder"), kind=data.get("kind", ""), state=data.get("state", ""), month=data.get("month")
    )
    rows = reads.sponsorships_filtered(request.user, filters)
    context = {
        "form": form,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query_without_page(request),
        "totals": reads.funder_totals(rows),
        "can_manage": can(request.user, Capability.MANAGE_SPONSORSHIPS),
        "short": reads.reservations_short(request.user),
    }
    return rows_or_page(request, "web/sponsorships/_rows.html", "web/sponsorships/list.html", context)


# --- Directed -------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def worker_search(request):
    """The verified workers the directed form may pick (an HTMX partial of checkboxes)."""
    _require_manager(request.user)
    q = request.GET.get("q", "")[:100]
    region = request.GET.get("region", "").strip()[:13]
    workers = reads.verified_workers(request.user, q=q, region=region) if (q.strip() or region) else []
    picked = {int(p) for p in request.GET.getlist("worker") if p.isdigit()}
    return render(
        request,
        "web/sponsorships/_worker_choices.html",
        {"found": [w for w in workers if w.pk not in picked], "searched": bool(q.strip() or region)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def sponsorship_directed(request):
    _require_manager(request.user)
    funders = list(reads.funders_for_sponsorships(request.user))
    form = sforms.DirectedForm(request.POST or None, funders=funders, initial={"start": _next_month_text()})
    context = {"form": form, "preview": None, "problem": None, "picked": []}
    status = 200
    if request.method == "POST" and form.is_valid() and form.cleaned_data.get("cofunder"):
        context["picked"] = _workers_of(form.cleaned_data["worker_ids"])
        return _directed_cofunded(request, form, context)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        context["picked"] = _workers_of(data["worker_ids"])
        try:
            preview = reads.directed_preview(
                request.user,
                funder=data["funder"],
                worker_ids=data["worker_ids"],
                start=data["start"],
                months=data["months"],
                package=data["package"],
            )
        except TariffNotInForce as exc:
            form.add_error("start", _tariff_message(exc))
            status = 422
        else:
            context["preview"] = preview
            if preview.refused or preview.not_verified:
                context["preview_problem"] = _problem(
                    SponsorshipRefused(
                        details={
                            "not_verified": preview.not_verified,
                            "refused": {str(k): v for k, v in preview.refused.items()},
                        }
                    )
                )
            if request.POST.get("action") == "confirm":
                try:
                    rows = services.sponsor_directed(
                        funder=data["funder"],
                        worker_ids=data["worker_ids"],
                        start=data["start"],
                        months=data["months"],
                        package=data["package"],
                        by=request.user,
                    )
                except (PoolInsufficient, SponsorshipRefused, WorkerMonthTaken) as exc:
                    context["problem"] = _problem(exc)
                    status = 409 if exc.http_status == 409 else 422
                else:
                    messages.success(
                        request,
                        _("Reserved %(total)s for %(workers)s workers, %(months)s months each.")
                        % {
                            "total": _rp(sum(r.total for r in rows)),
                            "workers": len(rows),
                            "months": data["months"],
                        },
                    )
                    return redirect(f"{reverse('web:sponsorship_list')}?funder={data['funder'].pk}")
    elif request.method == "POST":
        context["picked"] = _workers_of(form.cleaned_data.get("worker_ids") or [])
        status = 422
    return render(request, "web/sponsorships/directed.html", context, status=status)


def _directed_cofunded(request, form, context):
    """The directed form with a co-funder: preview each share's part and pool, then reserve every share (all or
    nothing) through ``sponsor_directed(cofund_with=…)``."""
    data = form.cleaned_data
    other = services.ShareSpec(data["cofunder"], data["cofunder_share"] * 100)
    shares = [services.ShareSpec(data["funder"], 10_000 - other.share_bp), other]
    status = 200
    try:
        plan = services.cofunding_plan(
            shares=shares,
            worker_ids=data["worker_ids"],
            start=data["start"],
            months=data["months"],
            package=data["package"],
        )
    except TariffNotInForce as exc:
        form.add_error("start", _tariff_message(exc))
        return render(request, "web/sponsorships/directed.html", context, status=422)
    except CoFundingInvalid as exc:
        form.add_error("cofunder_share", str(exc.message))
        return render(request, "web/sponsorships/directed.html", context, status=422)
    context["cofund"] = plan
    if plan.refused or plan.not_verified:
        context["preview_problem"] = _problem(
            SponsorshipRefused(details={"not_verified": plan.not_verified, "refused": plan.refused})
        )
    if request.POST.get("action") == "confirm":
        try:
            rows = services.sponsor_directed(
                funder=data["funder"],
                worker_ids=data["worker_ids"],
                start=data["start"],
                months=data["months"],
                package=data["package"],
                by=request.user,
                cofund_with=[other],
            )
        except (PoolInsufficient, SponsorshipRefused, WorkerMonthTaken, CoFundingInvalid) as exc:
            context["problem"] = _problem(exc, plan=plan)
            status = 409 if exc.http_status == 409 else 422
        else:
            messages.success(
                request,
                _("Reserved %(total)s for %(workers)s workers, %(months)s months each, shared by %(funders)s funders.")
                % {
                    "total": _rp(sum(r.total for r in rows)),
                    "workers": len(plan.worker_ids),
                    "months": data["months"],
                    "funders": len(shares),
                },
            )
            return redirect(f"{reverse('web:sponsorship_list')}?funder={data['funder'].pk}")
    return render(request, "web/sponsorships/directed.html", context, status=status)


def _workers_of(ids):
    from lingkaran.registry.models import Worker

    return list(Worker.objects.filter(pk__in=ids).select_related("region").order_by("full_name", "pk"))


def _next_month_text() -> str:
    today = timezone.localdate()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{year:04d}-{month:02d}"


def _tariff_message(exc: TariffNotInForce) -> str:
    month = exc.details.get("month", "")
    return _("No tariff is in force for the contribution month %(month)s.") % {"month": month}


def _problem(exc, plan=None) -> dict:
    """What the page shows of a refused commit: the message in the page's language and the details in words."""
    out = {"code": exc.code, "message": str(exc.message), "lines": []}
    details = exc.details or {}
    if isinstance(exc, PoolInsufficient) and plan is not None:
        names = {share.pool: share.funder.name for share in plan.shares}
        for short in details.get("pools", [details]):
            out["lines"].append(
                _("%(funder)s: available in the pool %(available)s, its share of the whole block %(needed)s.")
                % {
                    "funder": names.get(short["pool"], short["pool"]),
                    "available": _rp(short["available"]),
                    "needed": _rp(short["needed"]),
                }
            )
    elif isinstance(exc, PoolInsufficient):
        out["lines"].append(
            _("Available in the pool: %(available)s. Needed for the whole block: %(needed)s.")
            % {"available": _rp(details["available"]), "needed": _rp(details["needed"])}
        )
    elif isinstance(exc, SponsorshipRefused):
        names = {
            w.pk: w for w in _workers_of([*map(int, details.get("refused", {})), *details.get("not_verified", [])])
        }
        for wid in details.get("not_verified", []):
            out["lines"].append(_("%(worker)s: not a verified worker.") % {"worker": _label(names.get(wid), wid)})
        for wid, codes in sorted(details.get("refused", {}).items(), key=lambda kv: int(kv[0])):
            text = " ".join(reason_text(c) for c in codes)
            out["lines"].append(f"{_label(names.get(int(wid)), wid)}: {text}")
    elif isinstance(exc, WorkerMonthTaken):
        names = {w.pk: w for w in _workers_of(details.get("workers", []))}
        for wid in details.get("workers", []):
            out["lines"].append(
                _("%(worker)s: another funder already pays some of these months.")
                % {"worker": _label(names.get(wid), wid)}
            )
    return out


def _label(worker, worker_id) -> str:
    if worker is None:
        return f"#{worker_id}"
    return f"{worker.full_name} ({worker.nik_masked}, #{worker.pk})"


# --- Directed from an uploaded list of NIKs ------------------------------------------------------------------------

LIST_TOKEN_SALT = "lingkaran.sponsorships.nik_list"  # noqa: S105 - a signing namespace, not a secret
LIST_TOKEN_MAX_AGE = 2 * 60 * 60
MATCHED_SHOWN_OPEN = 50


def _list_token(user, data: dict, summary: nik_lists.ListSummary) -> str:
    return signing.dumps(
        {
            "user": user.pk,
            "funder": data["funder"].pk,
            "start": f"{data['start']:%Y-%m}",
            "months": data["months"],
            "package": data["package"],
            "summary": dataclasses.asdict(summary),
        },
        salt=LIST_TOKEN_SALT,
        compress=True,
    )


def _report_rows(report):
    """The report's rows with their words, the rows left out first (in file order), then the matched ones."""
    rows = [
        {"row": row, "label": str(list_texts.OUTCOMES[row.outcome]), "note": list_texts.row_note(row)}
        for row in report.rows
    ]
    return (
        [r for r in rows if r["row"].outcome != "matched"],
        [r for r in rows if r["row"].outcome == "matched"],
    )


@login_required
@require_http_methods(["GET", "POST"])
def sponsorship_directed_upload(request):
    """Upload a list of NIKs: every row's outcome (matched, not found, not verified, not payable by this funder,
    duplicate, malformed), the directed preview of the matched workers, then *Confirm* reserves them through
    ``sponsor_directed`` (all or nothing; a second confirm reserves nothing more). Nothing is written before."""
    _require_manager(request.user)
    funders = list(reads.funders_for_sponsorships(request.user))
    if request.method == "POST" and request.POST.get("action") == "confirm":
        return _nik_list_confirm(request, funders)
    form = sforms.NikListForm(
        request.POST or None, request.FILES or None, funders=funders, initial={"start": _next_month_text()}
    )
    context = {"form": form, "report": None, "preview": None, "problem": None}
    if request.method == "GET":
        return render(request, "web/sponsorships/directed_upload.html", context)
    if not form.is_valid():
        return render(request, "web/sponsorships/directed_upload.html", context, status=422)
    data = form.cleaned_data
    upload = data["file"]
    try:
        report = list_reads.nik_list_check(
            request.user,
            funder=data["funder"],
            content=upload.read(),
            file_name=upload.name or "",
            start=data["start"],
            months=data["months"],
            package=data["package"],
        )
    except NikListRefused as exc:
        form.add_error("file", list_texts.file_refusal_text(exc.details))
        return render(request, "web/sponsorships/directed_upload.html", context, status=422)
    except TariffNotInForce as exc:
        form.add_error("start", _tariff_message(exc))
        return render(request, "web/sponsorships/directed_upload.html", context, status=422)
    left_out, matched = _report_rows(report)
    context.update(report=report, left_out=left_out, matched=matched, matched_open=len(matched) <= MATCHED_SHOWN_OPEN)
    if report.worker_ids and not report.replayed:
        try:
            context["preview"] = reads.directed_preview(
                request.user,
                funder=data["funder"],
                worker_ids=report.worker_ids,
                start=data["start"],
                months=data["months"],
                package=data["package"],
            )
        except TariffNotInForce as exc:
            form.add_error("start", _tariff_message(exc))
            return render(request, "web/sponsorships/directed_upload.html", context, status=422)
        context["confirm"] = sforms.NikListConfirmForm(
            initial={"token": _list_token(request.user, data, nik_lists.ListSummary.of(report))}
        )
    return render(request, "web/sponsorships/directed_upload.html", context)


@login_required
@require_GET
def sponsorship_directed_upload_template(request):
    """An empty list to fill in: an XLSX whose NIK column is formatted as text, so Excel keeps typed or pasted
    NIKs as the sixteen digits they are."""
    _require_manager(request.user)
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "NIK"
    sheet.append(["nik", "nama"])
    sheet.column_dimensions["A"].number_format = "@"
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 36
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="daftar-nik.xlsx"'
    return response


def _nik_list_confirm(request, funders):
    """Reserve what a checked list matched: the signed summary names the funder, the block and the workers."""
    form = sforms.NikListForm(initial={"start": _next_month_text()}, funders=funders)
    context = {"form": form, "report": None, "preview": None, "problem": None}
    confirm = sforms.NikListConfirmForm(request.POST)
    try:
        if not confirm.is_valid():
            raise signing.BadSignature("no token")
        signed = signing.loads(confirm.cleaned_data["token"], salt=LIST_TOKEN_SALT, max_age=LIST_TOKEN_MAX_AGE)
    except signing.BadSignature:
        context["problem"] = {
            "code": "nik_list_expired",
            "message": _("This check has expired or was changed; upload the list again."),
            "lines": [],
        }
        return render(request, "web/sponsorships/directed_upload.html", context, status=422)
    funder = next((f for f in funders if f.pk == signed.get("funder")), None)
    if signed.get("user") != request.user.pk or funder is None:
        raise NotFound()
    summary = nik_lists.ListSummary(**signed["summary"])
    start = parse_month(signed["start"])
    block = {"start": start, "months": signed["months"], "package": signed["package"]}
    try:
        rows = nik_lists.nik_list_sponsor(funder=funder, summary=summary, by=request.user, accept_partial=True, **block)
    except (PoolInsufficient, SponsorshipRefused, WorkerMonthTaken, NikListIncomplete, TariffNotInForce) as exc:
        if isinstance(exc, TariffNotInForce):
            context["problem"] = {"code": exc.code, "message": _tariff_message(exc), "lines": []}
        else:
            context["problem"] = _problem(exc)
        with contextlib.suppress(TariffNotInForce):
            context["preview"] = reads.directed_preview(
                request.user, funder=funder, worker_ids=summary.worker_ids, **block
            )
        context["form"] = sforms.NikListForm(
            initial={
                "funder": funder.pk,
                "start": signed["start"],
                "months": block["months"],
                "package": block["package"],
            },
            funders=funders,
        )
        return render(
            request, "web/sponsorships/directed_upload.html", context, status=409 if exc.http_status == 409 else 422
        )
    messages.success(
        request,
        _("Reserved %(total)s for %(workers)s workers of the list %(file)s, %(months)s months each.")
        % {
            "total": _rp(sum(r.total for r in rows)),
            "workers": len(rows),
            "file": summary.file_name,
            "months": block["months"],
        },
    )
    return redirect(f"{reverse('web:sponsorship_list')}?funder={funder.pk}")


# --- Criteria runs --------------------------------------------------------------------------------------------------


def _request_key(funder_id: int, parameters: dict) -> str:
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True, default=str).encode()).hexdigest()
    return f"web-{funder_id}-{digest[:16]}"


@login_required
@require_http_methods(["GET", "POST"])
def allocation_new(request):
    _require_manager(request.user)
    funders = list(reads.funders_for_sponsorships(request.user))
    form = sforms.AllocationForm(request.POST or None, funders=funders, initial={"start": _next_month_text()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        criteria = Criteria(
            regions=data["regions"],
            occupations=tuple(sorted(data["occupations"])),
            sex=data["sex"] or None,
            max_decile=data["max_decile"],
            indicators=frozenset(data["indicators"]),
        )
        as_of = timezone.localdate()
        inputs = {
            "funder": data["funder"].pk, "criteria": repr(criteria), "start": data["start"], "months": data["months"],
            "package": data["package"], "workers": data["workers"], "budget": data["budget"], "as_of": as_of,
        }  # fmt: skip
        spec = services.CriteriaRequest(
            key=_request_key(data["funder"].pk, inputs),
            funder_id=data["funder"].pk,
            criteria=criteria,
            start=data["start"],
            months=data["months"],
            package=data["package"],
            workers=data["workers"],
            budget=data["budget"],
        )
        try:
            run = services.allocation_run(requests=[spec], as_of=as_of, by=request.user, commit=False)
        except TariffNotInForce as exc:
            form.add_error("start", _tariff_message(exc))
        else:
            return redirect("web:allocation_run", run_id=run.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "web/sponsorships/allocation.html", {"form": form}, status=status)


def _run_context(request, run, *, problem=None) -> dict:
    picks = reads.run_picks(run)
    request_keys = sorted(run.summary)
    requests = []
    for spec in run.parameters.get("requests", []):
        outcome = run.summary.get(spec["key"], {})
        requests.append({"spec": spec, "spent": outcome.get("spent", 0), "shortfall": outcome.get("shortfall", 0)})
    explanation = None
    lookup = request.GET.get("worker", "").strip().lstrip("#")
    if lookup:
        if lookup.isdigit() and len(lookup) < 12:
            key = request.GET.get("request") or (request_keys[0] if request_keys else "")
            try:
                found = reads.run_explain(request.user, run, worker_id=int(lookup), request_key=key)
            except NotFound:
                explanation = {"missing": True, "worker_id": lookup}
            else:
                explanation = {
                    "worker_id": found.worker_id,
                    "worker": next(iter(_workers_of([found.worker_id])), None),
                    "texts": [reason_text(r) for r in found.reasons],
                    "chosen": found.reasons == (Reason.CHOSEN,),
                    "score": found.score,
                    "rank": found.rank,
                    "taken_by": found.taken_by,
                }
        else:
            explanation = {"missing": True, "worker_id": lookup}
    return {
        "run": run,
        "picks": picks,
        "requests": requests,
        "total": sum(p.cost for p in picks),
        "explanation": explanation,
        "lookup": lookup,
        "problem": problem,
    }


@login_required
@require_GET
def allocation_run_detail(request, run_id: int):
    run = reads.run_for(request.user, run_id)
    context = _run_context(request, run)
    template = "web/sponsorships/_explanation.html" if request.htmx and "worker" in request.GET else None
    response = render(request, template or "web/sponsorships/run.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_POST
def allocation_run_commit(request, run_id: int):
    """Commit what a preview showed: the same requests run again with ``commit``. A second click (or a preview of
    inputs someone already committed) goes to the run that committed them; nothing is reserved twice."""
    preview = reads.run_for(request.user, run_id)
    specs = reads.criteria_requests_of(preview)
    done = next((r for r in (reads.committed_run_of(s.key) for s in specs) if r is not None), None)
    if done is not None:
        messages.info(request, _("These requests were already committed; nothing more was reserved."))
        return redirect("web:allocation_run", run_id=done.pk)
    try:
        run = services.allocation_run(requests=specs, as_of=preview.as_of, by=request.user, commit=True)
    except (PoolInsufficient, WorkerMonthTaken, TariffNotInForce) as exc:
        return render(
            request,
            "web/sponsorships/run.html",
            _run_context(
                request,
                preview,
                problem=_problem(exc)
                if not isinstance(exc, TariffNotInForce)
                else {"code": exc.code, "message": _tariff_message(exc), "lines": []},
            ),
            status=exc.http_status,
        )
    if run.inputs_sha256 != preview.inputs_sha256:
        messages.warning(
            request,
            _("The registry changed since the preview, so the picks may differ from it; these are the ones reserved."),
        )
    else:
        messages.success(request, _("Committed: the picks of the preview are reserved."))
    return redirect("web:allocation_run", run_id=run.pk)


urlpatterns = [
    path("sponsorships/", sponsorship_list, name="sponsorship_list"),
    path("sponsorships/directed/", sponsorship_directed, name="sponsorship_directed"),
    path("sponsorships/directed/workers/", worker_search, name="sponsorship_worker_search"),
    path("sponsorships/directed/upload/", sponsorship_directed_upload, name="sponsorship_directed_upload"),
    path(
        "sponsorships/directed/upload/template.xlsx",
        sponsorship_directed_upload_template,
        name="sponsorship_directed_upload_template",
    ),
    path("sponsorships/allocation/", allocation_new, name="allocation_new"),
    path("sponsorships/runs/<int:run_id>/", allocation_run_detail, name="allocation_run"),
    path("sponsorships/runs/<int:run_id>/commit/", allocation_run_commit, name="allocation_run_commit"),
]
