"""Continuation reads: what the monthly cycle bills and posts (``billable_sql``, ``part_totals``, ``billed_parts``),
and what the pages and the API show (scoped like the worker registry: 404 outside the user's regions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum

from lingkaran.continuation.domain import rules
from lingkaran.continuation.models import CoPayPlan, MonthPart, PlanMonth, WorkerPayment
from lingkaran.core.access import can
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.ledger.selectors import balance_of
from lingkaran.registry.selectors import region_scope_q, worker_for

# --- For the monthly cycle (protection/cycle.py) ---------------------------------------------------------------------


def billable_sql(month: date) -> tuple[str, dict]:
    """The month's plan months ready to bill, as SQL the cycle wraps in its ``INSERT … SELECT`` (named parameters
    prefixed ``cont_``): ``worker_id, month, amount, kind, source, line_key``."""
    sql = f"""
        SELECT p.worker_id, p.month, p.amount, p.kind, p.source, p.line_key
        FROM {PlanMonth._meta.db_table} p
        WHERE p.month = %(cont_month)s AND p.state = %(cont_ready)s"""
    return sql, {"cont_month": month, "cont_ready": PlanMonth.State.READY}


def any_billable(month: date) -> bool:
    return PlanMonth.objects.filter(month=month, state=PlanMonth.State.READY).exists()


def part_totals(*, confirmed_keys: QuerySet, rejected_keys: QuerySet) -> list[tuple[str, str, int, int]]:
    """Per reservation of a part: (reservation key, pool, confirmed rupiah, rejected rupiah) of the lines whose keys
    are given (querysets of the cycle's line keys, one per answer)."""
    rows = (
        MonthPart.objects.filter(Q(plan_month__line_key__in=confirmed_keys) | Q(plan_month__line_key__in=rejected_keys))
        .values("reservation_key", "pool")
        .annotate(
            confirmed=Sum("amount", filter=Q(plan_month__line_key__in=confirmed_keys), default=0),
            rejected=Sum("amount", filter=Q(plan_month__line_key__in=rejected_keys), default=0),
        )
        .order_by("reservation_key")
    )
    return [(r["reservation_key"], r["pool"], r["confirmed"], r["rejected"]) for r in rows]


def billed_parts(*, line_keys: QuerySet, reservation_keys: list[str]) -> dict[str, int]:
    """What the given lines bill under each of these part reservations."""
    return dict(
        MonthPart.objects.filter(plan_month__line_key__in=line_keys, reservation_key__in=reservation_keys)
        .values("reservation_key")
        .annotate(total=Sum("amount"))
        .values_list("reservation_key", "total")
    )


# --- For people ------------------------------------------------------------------------------------------------------


def may_read(user) -> bool:
    return can(user, Capability.VIEW_MONEY) or bool(
        user and user.is_authenticated and user.role == RoleName.FIELD_AGENT
    )


def may_plan(user) -> bool:
    return can(user, Capability.MANAGE_SPONSORSHIPS)


def may_record_payment(user) -> bool:
    return bool(user and user.is_authenticated and user.role in (RoleName.FIELD_AGENT, RoleName.FINANCE))


@dataclass(frozen=True)
class WorkerContinuation:
    worker_id: int
    balance: int
    debt: int
    plans: list[CoPayPlan]
    months: list[PlanMonth]
    payments: list[WorkerPayment]
    counts: dict[str, int]  # co_paid / self / bridged months billed, short months


def worker_continuation(user, worker_id: int) -> WorkerContinuation:
    """A worker's plans, months, own balance, debt to the bridge fund and payments (404 outside the user's
    regions)."""
    from lingkaran.continuation.services import worker_debt

    worker = worker_for(user, worker_id)
    months = list(PlanMonth.objects.filter(worker=worker).select_related("plan").order_by("month"))
    counts = {kind: sum(1 for m in months if m.kind == kind) for kind in ("co_paid", "self", "bridged")}
    counts["short"] = sum(1 for m in months if m.state == PlanMonth.State.SHORT)
    return WorkerContinuation(
        worker_id=worker.pk,
        balance=balance_of(rules.worker_pool(worker.pk)),
        debt=worker_debt(worker.pk),
        plans=list(CoPayPlan.objects.filter(worker=worker).order_by("first_month")),
        months=months,
        payments=list(WorkerPayment.objects.filter(worker=worker).select_related("collected_by")[:24]),
        counts=counts,
    )


@dataclass(frozen=True)
class PlanFilter:
    month: date | None = None  # plans with a month on or after this one... covering it
    state: str = ""  # a plan month's state in ``month`` (planned, ready, short, superseded)
    region: str = ""


def plans_visible_to(user) -> QuerySet[CoPayPlan]:
    qs = CoPayPlan.objects.select_related("worker")
    if not can(user, Capability.VIEW_ALL_REGIONS):
        qs = qs.filter(region_scope_q(user, "worker__region_code"))
    return qs


def plans_filtered(user, filters: PlanFilter) -> QuerySet[CoPayPlan]:
    qs = plans_visible_to(user)
    if filters.region:
        qs = qs.filter(worker__region_code__startswith=filters.region)
    if filters.month:
        month_q = Q(plan_months__month=filters.month)
        if filters.state:
            month_q &= Q(plan_months__state=filters.state)
        qs = qs.filter(month_q)
    elif filters.state:
        qs = qs.filter(plan_months__state=filters.state)
    return qs.annotate(
        billed=Count("plan_months", filter=Q(plan_months__state=PlanMonth.State.READY), distinct=True),
        short=Count("plan_months", filter=Q(plan_months__state=PlanMonth.State.SHORT), distinct=True),
    ).order_by("-first_month", "-pk")


@dataclass(frozen=True)
class FunderPool:
    code: str
    funder_id: int
    name: str
    source: str  # the funding source the funder's money is priced as (``protection.sponsorships.SOURCE_OF_FUNDER``)
    available: int


def funder_pools(user) -> list[FunderPool]:
    """The funder pools a plan's funder part may be reserved from: every funder's opened pool, with what it holds
    (for people who may plan: ``manage_sponsorships``)."""
    from lingkaran.funding.accounts import funder_pool
    from lingkaran.ledger.models import Account
    from lingkaran.protection.selectors_sponsorships import funders_for_sponsorships
    from lingkaran.protection.sponsorships import SOURCE_OF_FUNDER

    if not may_plan(user):
        return []
    funders = list(funders_for_sponsorships(user))
    codes = {funder_pool(f.pk): f for f in funders}
    balances = dict(Account.objects.filter(code__in=codes).values_list("code", "balance__balance"))
    return [
        FunderPool(code, f.pk, f.name, str(SOURCE_OF_FUNDER[f.kind]), balances[code] or 0)
        for code, f in codes.items()
        if code in balances
    ]
