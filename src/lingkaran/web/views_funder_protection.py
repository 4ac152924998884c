"""The funder view of protection (issue #5 item 9) and the programme's coverage overview.

- ``/protection/funders/``: staff pick a funder; a funder user goes straight to its own.
- ``/protection/funders/<id>/`` (and ``/protection/campaigns/<id>/``): the figures, a bar chart of worker-months per
  month (drawn here as SVG, no script), blocks ending in the next 60 days, and the money received with what of each
  payment pays worker-months.
- ``/protection/funders/<id>/workers/``: the workers covered (masked NIK, kabupaten/kota), paginated, with CSV and XLSX
  exports of every worker-month.
- ``/protection/funders/<id>/receipts/<entry>/`` and ``/donations/<id>/worker-months/``: the trace from one payment to
  the worker-months it paid (first in, first out).
- ``/protection/coverage/``: workers per coverage state, programme-wide and per province (staff).

Views parse, call ``protection.selectors_funder`` (which decides who sees what, as for the API) and render.
``?on=YYYY-MM-DD`` looks at the figures as of another day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from lingkaran.core.access import can
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.core.errors import NotFound
from lingkaran.protection import selectors_funder as reads
from lingkaran.protection.models import SponsoredMonth, SponsorshipKind
from lingkaran.web.listing import query_without_page
from lingkaran.web.views_funding import SESSION_ORDERS, _export

PAGE_SIZE = 50
TRACE_PAGE_SIZE = 100
CHART_MONTHS = 24
RECEIPTS_SHOWN = 20  # per pool, newest first  # the chart shows at most the last 24 months of the series


def _today(request) -> date:
    """``?on=YYYY-MM-DD`` to look back (or ahead); today otherwise."""
    try:
        return parse_date(request.GET.get("on", "") or "") or timezone.localdate()
    except ValueError:  # well formed but no such day (2026-02-30)
        return timezone.localdate()


# --- The chart ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    label_x: float
    title: str
    x: float
    width: float
    paid_y: float
    paid_h: float
    reserved_y: float
    reserved_h: float
    returned_y: float
    returned_h: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    top: int
    baseline: float
    maximum: int
    label_every: int


def bar_chart(series: list[reads.MonthPoint], *, width: int = 480, height: int = 220) -> Chart | None:
    """Stacked bars per month (paid, reserved, returned to the pool) in SVG user units; the template draws them."""
    points = series[-CHART_MONTHS:]
    if not points:
        return None
    top, bottom, side = 24, 30, 24
    plot = height - top - bottom
    maximum = max(p.funded + p.by_state["rejected"].months + p.by_state["released"].months for p in points) or 1
    step = (width - 2 * side) / len(points)
    bars = []
    for index, p in enumerate(points):
        returned = p.by_state["rejected"].months + p.by_state["released"].months
        paid_h = plot * p.paid / maximum
        reserved_h = plot * p.reserved / maximum
        returned_h = plot * returned / maximum
        base = top + plot
        title = _("%(month)s: %(paid)s paid, %(reserved)s reserved, %(returned)s returned to the pool") % {
            "month": p.month.strftime("%Y-%m"),
            "paid": p.paid,
            "reserved": p.reserved,
            "returned": returned,
        }
        bars.append(
            Bar(
                label=p.month.strftime("%m/%y"),
                label_x=round(side + index * step + step / 2, 2),
                title=title,
                x=round(side + index * step + step * 0.15, 2),
                width=round(step * 0.7, 2),
                paid_y=round(base - paid_h, 2),
                paid_h=round(paid_h, 2),
                reserved_y=round(base - paid_h - reserved_h, 2),
                reserved_h=round(reserved_h, 2),
                returned_y=round(base - paid_h - reserved_h - returned_h, 2),
                returned_h=round(returned_h, 2),
            )
        )
    return Chart(bars, width, height, top, top + plot, maximum, max(1, -(-len(points) // 6)))


# --- Pages ----------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def funder_pick(request):
    """A funder user goes to its own funder's view; staff pick one."""
    funders = list(reads.funders_for(request.user))
    if request.user.role == RoleName.FUNDER:
        if not funders:
            raise NotFound()
        return redirect("web:funder_protection", funders[0].pk)
    return render(request, "web/funder_protection/pick.html", {"funders": funders})


def _dashboard(request, scope: reads.Scope, *, base_url: str, workers_url: str | None):
    today = _today(request)
    series = reads.monthly_series(scope)
    ending = list(reads.blocks_ending(scope, today=today)[:50])
    names = reads.region_names({b.regency for b in ending})
    for block in ending:
        block.regency_name = names.get(block.regency, block.regency)
    campaigns = list(scope.funder.campaigns.order_by("title")) if scope.funder else [scope.campaign]
    titles = {c.pk: c.title for c in campaigns}
    pools = []
    for use in reads.receipts_of_scope(scope):
        if use.kind == "campaign":
            label = _("Campaign: %(title)s") % {"title": titles.get(use.owner_id, use.pool)}
        elif use.kind == "funder" and scope.funder and use.owner_id == scope.funder.pk:
            label = _("Pool of %(name)s") % {"name": scope.funder.name}
        else:
            label = use.pool
        pools.append({"use": use, "label": label, "receipts": use.receipts[:RECEIPTS_SHOWN]})
    context = {
        "scope": scope,
        "funder": scope.funder,
        "campaign": scope.campaign,
        "summary": reads.summary(scope, today=today),
        "chart": bar_chart(series),
        "series": series[-CHART_MONTHS:],
        "ending": ending,
        "pools": pools,
        "today": today,
        "on": request.GET.get("on", ""),
        "base_url": base_url,
        "workers_url": workers_url,
        "campaigns": campaigns if scope.funder else [],
        "ending_days": reads.ENDING_DAYS,
    }
    return render(request, "web/funder_protection/dashboard.html", context)


@login_required
@require_GET
def funder_protection(request, funder_id: int):
    scope = reads.funder_scope(request.user, funder_id)
    return _dashboard(
        request,
        scope,
        base_url=reverse("web:funder_protection", args=[funder_id]),
        workers_url=reverse("web:funder_protection_workers", args=[funder_id]),
    )


@login_required
@require_GET
def campaign_protection(request, campaign_id: int):
    scope = reads.campaign_scope(request.user, campaign_id)
    return _dashboard(
        request,
        scope,
        base_url=reverse("web:campaign_protection", args=[campaign_id]),
        workers_url=reverse("web:campaign_protection_workers", args=[campaign_id]),
    )


def _state_labels() -> dict[str, str]:
    return {value: str(label) for value, label in SponsoredMonth.State.choices}


def _kind_labels() -> dict[str, str]:
    return {**{value: str(label) for value, label in SponsorshipKind.choices}, "cofunded": _("Co-funded")}


def _workers(request, scope: reads.Scope, *, filename: str, back_url: str):
    today = _today(request)
    file_format = request.GET.get("format")
    if file_format in ("csv", "xlsx"):
        names = reads.scope_region_names(scope)
        states, kinds = _state_labels(), _kind_labels()
        rows = (
            [
                nik,
                regency,
                names.get(regency, ""),
                f"{month:%Y-%m}",
                amount,
                states.get(state, state),
                kinds.get(kind, kind),
                campaign or "",
            ]
            for nik, regency, month, amount, state, kind, campaign in reads.worker_month_rows(scope)
        )
        header = [
            _("NIK (masked)"),
            _("Regency/city code"),
            _("Regency/city"),
            _("Contribution month"),
            _("Amount (Rp)"),
            _("State"),
            _("Kind"),
            _("Campaign"),
        ]
        return _export(header, rows, file_format, filename)
    page = Paginator(reads.covered_workers(scope, today=today), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    months = reads.months_of_workers(scope, [r["worker_id"] for r in rows])
    names = reads.region_names({r["regency"] for r in rows})
    for row in rows:
        row["regency_name"] = names.get(row["regency"], row["regency"])
        row["months"] = months.get(row["worker_id"], [])
    context = {
        "scope": scope,
        "page": page,
        "rows": rows,
        "query": query_without_page(request),
        "today": today,
        "back_url": back_url,
    }
    return render(request, "web/funder_protection/workers.html", context)


@login_required
@require_GET
def funder_protection_workers(request, funder_id: int):
    scope = reads.funder_scope(request.user, funder_id)
    return _workers(
        request,
        scope,
        filename=f"funder-{funder_id}-worker-months",
        back_url=reverse("web:funder_protection", args=[funder_id]),
    )


@login_required
@require_GET
def campaign_protection_workers(request, campaign_id: int):
    scope = reads.campaign_scope(request.user, campaign_id)
    return _workers(
        request,
        scope,
        filename=f"campaign-{campaign_id}-worker-months",
        back_url=reverse("web:campaign_protection", args=[campaign_id]),
    )


def _trace_page(request, trace: reads.Trace, **extra):
    page = Paginator(trace.months, TRACE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    names = reads.region_names({m.regency for m in rows})
    for m in rows:
        m.attributed = reads.attributed_of(m, trace)
        m.regency_name = names.get(m.regency, m.regency)
    unspent = trace.receipt.net - trace.attributed if trace.receipt else 0
    context = {
        "trace": trace,
        "page": page,
        "rows": rows,
        "query": query_without_page(request),
        "unspent": unspent,
        **extra,
    }
    return render(request, "web/funder_protection/trace.html", context)


@login_required
@require_GET
def receipt_trace(request, funder_id: int, entry_id: int):
    scope = reads.funder_scope(request.user, funder_id)
    trace = reads.receipt_trace(scope, entry_id)
    return _trace_page(
        request, trace, scope=scope, back_url=reverse("web:funder_protection", args=[funder_id]), donation=None
    )


@require_GET
def donation_trace(request, donation_id: int):
    """A donor's own donation (logged in, or the browser that paid it), its funder's users, or staff."""
    donation, trace = reads.donation_trace(request.user, donation_id, order_ids=request.session.get(SESSION_ORDERS, []))
    receipt = getattr(donation, "receipt", None)
    back_url = reverse("web:receipt_detail", args=[receipt.number]) if receipt else ""
    return _trace_page(request, trace, scope=None, back_url=back_url, donation=donation)


@login_required
@require_GET
def coverage_overview(request):
    today = _today(request)
    funders = list(reads.funders_for(request.user)) if can(request.user, Capability.VIEW_ALL_FUNDERS) else []
    funder_id = request.GET.get("funder", "")
    chosen = int(funder_id) if funder_id.isdigit() else None
    if chosen is not None and chosen not in {f.pk for f in funders}:
        chosen = None
    totals, provinces = reads.coverage_overview(request.user, today=today, funder_id=chosen)
    states = [
        ("active", _("Active")),
        ("reactivated", _("Reactivated")),
        ("grace", _("In grace (arrears payable)")),
        ("ended", _("Ended")),
        ("inactive", _("Inactive (nonaktif)")),
        ("not_started", _("Not started")),
    ]
    context = {
        "totals": [(code, label, totals.get(code, 0)) for code, label in states],
        "grand_total": sum(totals.values()),
        "provinces": [(row, [(label, row.counts.get(code, 0)) for code, label in states]) for row in provinces],
        "states": states,
        "today": today,
        "funders": funders,
        "chosen": chosen,
        "on": request.GET.get("on", ""),
    }
    return render(request, "web/funder_protection/coverage.html", context)


urlpatterns = [
    path("protection/funders/", funder_pick, name="funder_protection_pick"),
    path("protection/funders/<int:funder_id>/", funder_protection, name="funder_protection"),
    path("protection/funders/<int:funder_id>/workers/", funder_protection_workers, name="funder_protection_workers"),
    path(
        "protection/funders/<int:funder_id>/receipts/<int:entry_id>/",
        receipt_trace,
        name="funder_protection_receipt",
    ),
    path("protection/campaigns/<int:campaign_id>/", campaign_protection, name="campaign_protection"),
    path(
        "protection/campaigns/<int:campaign_id>/workers/",
        campaign_protection_workers,
        name="campaign_protection_workers",
    ),
    path("donations/<int:donation_id>/worker-months/", donation_trace, name="donation_worker_months"),
    path("protection/coverage/", coverage_overview, name="coverage_overview"),
]
