"""Pages of continuation (docs/subsystems/continuation.md): what keeps a worker protected after a sponsorship ends.

- ``/continuation/``: the co-payment plans the user may see (field agents: their regions), filtered by a month, the
  state of that month and a region; HTMX swaps the rows.
- ``/continuation/new/``: a step-down plan for one worker: the worker's share of the first month and the step it
  rises by each month; *Preview* prices every month in rupiah (funder's part, worker's part) and shows what the funder
  pool holds; *Confirm* reserves the funder's part of every month (all or nothing).
- ``/continuation/workers/<id>/``: a worker's plans and months (who pays what, how the worker's part was covered), the
  worker's own pool, the debt to the bridge fund, the payments recorded, and the form to record a payment.

Who: readers are ``continuation.selectors.may_read`` (operators, finance, auditors, field agents in their regions);
plans need ``may_plan`` (operators, finance); payments ``may_record_payment`` (field agents, finance). Views parse,
check, call one service or selector and render; a refused write shows the service's message and writes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lingkaran.continuation import selectors as reads
from lingkaran.continuation import services
from lingkaran.continuation.errors import PaymentDuplicate, PlanMonthsTaken, PlanPoolInsufficient
from lingkaran.core.domain.formatting import format_rupiah
from lingkaran.core.errors import Forbidden, InvalidInput, NotFound
from lingkaran.protection.errors import TariffNotInForce
from lingkaran.registry.selectors import worker_for
from lingkaran.web import forms_continuation as cforms
from lingkaran.web.listing import query_without_page, rows_or_page

PAGE_SIZE = 50

# The services name the fields they refuse; the forms name them for people.
PLAN_FIELDS = {"shares": "first_share", "funder_pool": "funder_pool", "funder_source": "funder_pool"}


def _rp(amount: int) -> str:
    return format_rupiah(amount, "en" if (get_language() or "id").startswith("en") else "id")


def _require_reader(user) -> None:
    if not reads.may_read(user):
        raise Forbidden()


def _field_errors(form, exc: InvalidInput, names: dict[str, str] | None = None) -> None:
    """Put a service's ``invalid_input`` on the form's fields (or on the form when it names no field of it)."""
    fields = (exc.details or {}).get("fields") or {}
    if not fields:
        form.add_error(None, str(exc.message))
    for name, texts in fields.items():
        target = (names or {}).get(name, name)
        for text in texts:
            form.add_error(target if target in form.fields else None, text)


def _problem(exc) -> dict:
    """A refused plan or payment in the page's language, its details in words."""
    out = {"code": exc.code, "message": str(exc.message), "lines": []}
    details = exc.details or {}
    if isinstance(exc, PlanMonthsTaken):
        out["lines"].append(
            _("Months already paid for: %(months)s.") % {"months": ", ".join(details.get("months", []))}
        )
    elif isinstance(exc, PlanPoolInsufficient):
        out["lines"].append(
            _("Available in the pool: %(available)s. Needed for the funder's part of the plan: %(needed)s.")
            % {"available": _rp(details.get("available", 0)), "needed": _rp(details.get("needed", 0))}
        )
    return out


def _tariff_message(exc: TariffNotInForce) -> str:
    return _("No tariff is in force for the contribution month %(month)s.") % {"month": exc.details.get("month", "")}


# --- The list -------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def plan_list(request):
    _require_reader(request.user)
    form = cforms.PlanFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = reads.PlanFilter(month=data.get("month"), state=data.get("state", ""), region=data.get("region", ""))
    rows = reads.plans_filtered(request.user, filters)
    context = {
        "form": form,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query_without_page(request),
        "can_plan": reads.may_plan(request.user),
    }
    return rows_or_page(request, "web/continuation/_rows.html", "web/continuation/list.html", context)


# --- A new plan -----------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request):
    """Preview, then confirm. The preview writes nothing; the confirm prices again and reserves (all or nothing), so
    a second click is refused with ``plan_months_taken`` and reserves nothing more."""
    if not reads.may_plan(request.user):
        raise Forbidden()
    pools = reads.funder_pools(request.user)
    initial = {"start": _next_month_text()}
    if request.GET.get("worker", "").isdigit():
        initial["worker"] = request.GET["worker"]
    form = cforms.PlanForm(request.POST or None, pools=pools, initial=initial)
    context = {"form": form, "preview": None, "problem": None, "pools": pools}
    if request.method == "GET":
        return render(request, "web/continuation/plan_new.html", context)
    if not form.is_valid():
        return render(request, "web/continuation/plan_new.html", context, status=422)
    data = form.cleaned_data
    spec = {
        "actor": request.user,
        "worker_id": data["worker"],
        "first_month": data["start"],
        "shares_bp": data["shares_bp"],
        "funder_pool": data["funder_pool"],
        "funder_source": data["funder_source"],
        "package": data["package"],
    }
    status = 200
    try:
        context["preview"] = services.plan_price(**spec)
        if request.POST.get("action") == "confirm":
            plan = services.plan_create(**spec, note=data["note"])
    except NotFound:
        form.add_error("worker", _("No worker with this id in your regions."))
        status = 422
    except InvalidInput as exc:
        _field_errors(form, exc, PLAN_FIELDS)
        status = 422
    except TariffNotInForce as exc:
        form.add_error("start", _tariff_message(exc))
        status = 422
    except (PlanMonthsTaken, PlanPoolInsufficient) as exc:
        context["problem"] = _problem(exc)
        status = exc.http_status
    else:
        if request.POST.get("action") == "confirm":
            messages.success(
                request,
                _("Plan made: %(months)s months from %(first)s; %(reserved)s reserved from the funder pool.")
                % {
                    "months": plan.months,
                    "first": f"{plan.first_month:%m/%Y}",
                    "reserved": _rp(plan.funder_reserved),
                },
            )
            return redirect("web:continuation_worker", worker_id=plan.worker_id)
    return render(request, "web/continuation/plan_new.html", context, status=status)


def _next_month_text() -> str:
    today = timezone.localdate()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{year:04d}-{month:02d}"


# --- A worker's continuation ----------------------------------------------------------------------------------------


def _worker_page(request, worker_id: int, *, payment_form=None, problem=None, status: int = 200):
    _require_reader(request.user)
    worker = worker_for(request.user, worker_id)
    view = reads.worker_continuation(request.user, worker.pk)
    can_pay = reads.may_record_payment(request.user)
    context = {
        "worker": worker,
        "view": view,
        "can_plan": reads.may_plan(request.user),
        "can_pay": can_pay,
        "payment_form": payment_form or (cforms.PaymentForm() if can_pay else None),
        "problem": problem,
        "funder_total": sum(m.funder_part for m in view.months),
        "worker_total": sum(m.worker_part for m in view.months),
    }
    return render(request, "web/continuation/worker.html", context, status=status)


@login_required
@require_GET
def worker_page(request, worker_id: int):
    return _worker_page(request, worker_id)


@login_required
@require_POST
def payment_record(request, worker_id: int):
    """Record money a worker handed over; the worker's debt to the bridge fund is repaid first from it. The same
    receipt again records nothing more; another payment under that receipt number is refused."""
    _require_reader(request.user)
    if not reads.may_record_payment(request.user):
        raise Forbidden()
    worker = worker_for(request.user, worker_id)
    form = cforms.PaymentForm(request.POST)
    if not form.is_valid():
        return _worker_page(request, worker.pk, payment_form=form, status=422)
    data = form.cleaned_data
    try:
        payment = services.worker_payment_record(
            actor=request.user,
            worker_id=worker.pk,
            amount=data["amount"],
            paid_on=data["paid_on"],
            receipt_number=data["receipt_number"],
        )
    except InvalidInput as exc:
        _field_errors(form, exc)
        return _worker_page(request, worker.pk, payment_form=form, status=422)
    except PaymentDuplicate as exc:
        form.add_error("receipt_number", str(exc.message))
        return _worker_page(request, worker.pk, payment_form=form, problem=_problem(exc), status=409)
    if payment.repaid:
        text = _("Payment recorded: %(amount)s, receipt %(receipt)s; %(repaid)s of it repaid the bridge fund.")
    else:
        text = _("Payment recorded: %(amount)s, receipt %(receipt)s.")
    messages.success(
        request,
        text % {"amount": _rp(payment.amount), "receipt": payment.receipt_number, "repaid": _rp(payment.repaid)},
    )
    return redirect(reverse("web:continuation_worker", kwargs={"worker_id": worker.pk}) + "#payments")


urlpatterns = [
    path("continuation/", plan_list, name="continuation_plans"),
    path("continuation/new/", plan_new, name="continuation_plan_new"),
    path("continuation/workers/<int:worker_id>/", worker_page, name="continuation_worker"),
    path("continuation/workers/<int:worker_id>/payments/", payment_record, name="continuation_payment"),
]
