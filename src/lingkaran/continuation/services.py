"""Continuation writes (docs/subsystems/continuation.md): co-payment plans, the worker's own payments, and the
billing-day preparation the monthly cycle asks for (``months_prepare``).

Money moves only through the ledger, under keys derived from the business event:

* ``continuation:plan:{plan}:{YYYY-MM}:funder``: the funder's part of a plan month, reserved when the plan is made;
* ``continuation:payment:{receipt}``: a payment the worker handed over, cash/clearing → the worker's pool;
* ``continuation:repay:{payment}``: what that payment repaid of the worker's debt, worker pool → bridge fund;
* ``continuation:{worker}:{YYYY-MM}:own`` / ``…:bridge``: the worker's part on billing day, reserved from the worker's
  pool and (the shortfall) from the bridge fund.

The monthly cycle posts every reservation of a billed month like a sponsorship's (paid, or returned to its own pool
when the agency rejects the line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from lingkaran.continuation.domain import rules
from lingkaran.continuation.errors import PaymentDuplicate, PlanMonthsTaken, PlanPoolInsufficient, field_error
from lingkaran.continuation.models import CoPayPlan, MonthPart, PlanMonth, WorkerPayment
from lingkaran.core.access import require, require_role
from lingkaran.core.audit import audit_record, audit_records
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.ledger.domain.posting import AccountType
from lingkaran.ledger.models import Account
from lingkaran.ledger.selectors import balance_of
from lingkaran.ledger.services import AccountSpec, account_open, reservation_create, reservation_void, transfer
from lingkaran.protection import selectors as tariff_selectors
from lingkaran.protection.domain import tariffs as tariff_rules
from lingkaran.protection.domain.cofunding import pricing_source
from lingkaran.protection.domain.tariffs import add_months, month_start
from lingkaran.protection.errors import TariffNotInForce
from lingkaran.protection.models import FundingSource, Package
from lingkaran.registry.models import Worker
from lingkaran.registry.selectors import worker_for

POOL_PREFIX = "liability:pool:"
HELD_OWN = "liability:reserved:worker-contributions"  # workers' own parts between billing day and the agency's answer
PAYERS = (RoleName.FIELD_AGENT, RoleName.FINANCE)


def bridge_pool() -> str:
    """The programme's bridge fund: ``LINGKARAN_BRIDGE_POOL`` (default ``liability:pool:bridge``)."""
    return settings.CONTINUATION_BRIDGE_POOL


def cash_account() -> str:
    """Where the money a worker hands over is held until banked: ``LINGKARAN_WORKER_CASH_ACCOUNT``."""
    return settings.CONTINUATION_CASH_ACCOUNT


def _reserved_of(pool: str) -> str:
    return pool.replace(POOL_PREFIX, "liability:reserved:", 1)


def _open_pool(code: str, name: str) -> str:
    account_open(AccountSpec(code, name[:200], AccountType.LIABILITY, is_trust=True))
    return code


def open_worker_pool(worker_id: int) -> str:
    return _open_pool(rules.worker_pool(worker_id), f"Worker's own contributions ({worker_id})")


def open_bridge_pool() -> str:
    return _open_pool(bridge_pool(), "Bridge fund (advances to workers)")


def line_key(worker_id: int, month: date) -> str:
    return f"continuation:{worker_id}:{month:%Y-%m}"


# --- Plans -----------------------------------------------------------------------------------------------------------


def _taken_months(worker_id: int, months: list[date]) -> list[date]:
    from lingkaran.protection.models import SponsoredMonth  # read-only: is a month already sponsored?

    planned = set(PlanMonth.objects.filter(worker_id=worker_id, month__in=months).values_list("month", flat=True))
    sponsored = set(
        SponsoredMonth.objects.filter(worker_id=worker_id, month__in=months)
        .exclude(state=SponsoredMonth.State.REJECTED)
        .values_list("month", flat=True)
    )
    return sorted(planned | sponsored)


@dataclass(frozen=True)
class PricedMonth:
    month: date
    worker_bp: int
    source: str
    amount: int
    funder_part: int
    worker_part: int


@dataclass(frozen=True)
class PricedPlan:
    """A plan checked and priced, nothing written: what ``plan_create`` reserves and the plan page previews."""

    worker: Worker
    first_month: date
    shares_bp: tuple[int, ...]
    funder_pool: str
    funder_source: str
    package: str
    months: tuple[PricedMonth, ...]
    needed: int  # the funder's part of every month, reserved up front
    available: int  # what the funder pool holds now


def plan_price(
    *,
    actor,
    worker_id: int,
    first_month: date,
    shares_bp: list[int],
    funder_pool: str = "",
    funder_source: str = FundingSource.CSR,
    package: str = Package.JKK_JKM,
) -> PricedPlan:
    """Check a plan and price each month at its tariff, split by ``domain.rules.month_parts``; writes nothing.
    Raises what ``plan_create`` raises before it writes (``invalid_input``, ``plan_months_taken``,
    ``tariff_not_in_force``), but not ``plan_pool_insufficient``: ``needed`` and ``available`` say it."""
    require(actor, Capability.MANAGE_SPONSORSHIPS)
    worker = worker_for(actor, worker_id)
    try:
        rules.check_shares(shares_bp)
    except rules.PlanInvalid as exc:
        raise field_error("shares", _("Each month's share must be between 1 % and 99 %, or exactly 100 %.")) from exc
    if funder_source not in FundingSource.values or funder_source == FundingSource.SELF:
        raise field_error("funder_source", _("Choose the funder's funding source."))
    if package not in Package.values:
        raise field_error("package", _("Choose a package."))
    first = month_start(first_month)
    months = [add_months(first, i) for i in range(len(shares_bp))]
    needs_funder = any(bp < rules.WHOLE for bp in shares_bp)
    funder_pool = (funder_pool or "").strip()
    if needs_funder:
        if not funder_pool.startswith(POOL_PREFIX) or not Account.objects.filter(code=funder_pool).exists():
            raise field_error("funder_pool", _("Choose an existing funder pool."))
    else:
        funder_pool = ""
    taken = _taken_months(worker.pk, months)
    if taken:
        raise PlanMonthsTaken(details={"months": [f"{m:%Y-%m}" for m in taken]})
    tariff = tariff_selectors.tariff_rules(first_month=months[0], last_month=months[-1])
    sector = worker.occupation.group.sector
    priced = []
    for month, bp in zip(months, shares_bp, strict=True):
        source = FundingSource.SELF.value if bp == rules.WHOLE else pricing_source([funder_source, "self"])
        try:
            amount = tariff.amount_due(
                month=month, declared_income=worker.declared_income, sector=sector, package=package, source=source
            ).total
        except tariff_rules.TariffNotInForce as exc:  # the pure error, as the API's and the pages' error
            raise TariffNotInForce(details={"month": f"{exc.month:%Y-%m}", "missing": list(exc.missing)}) from None
        funder, own = rules.month_parts(amount, bp)
        priced.append(PricedMonth(month, bp, source, amount, funder, own))
    return PricedPlan(
        worker=worker,
        first_month=first,
        shares_bp=tuple(shares_bp),
        funder_pool=funder_pool,
        funder_source=funder_source,
        package=package,
        months=tuple(priced),
        needed=sum(p.funder_part for p in priced),
        available=balance_of(funder_pool) if funder_pool else 0,
    )


def plan_create(
    *,
    actor,
    worker_id: int,
    first_month: date,
    shares_bp: list[int],
    funder_pool: str = "",
    funder_source: str = FundingSource.CSR,
    package: str = Package.JKK_JKM,
    note: str = "",
) -> CoPayPlan:
    """A step-down plan for one worker: each month priced at its tariff, split by ``domain.rules.month_parts``, the
    funder's part of every month reserved now from ``funder_pool`` (all or nothing). Operators and finance
    (``manage_sponsorships``)."""
    plan_spec = plan_price(
        actor=actor,
        worker_id=worker_id,
        first_month=first_month,
        shares_bp=shares_bp,
        funder_pool=funder_pool,
        funder_source=funder_source,
        package=package,
    )
    worker, first, funder_pool = plan_spec.worker, plan_spec.first_month, plan_spec.funder_pool
    months = [p.month for p in plan_spec.months]
    needed = plan_spec.needed
    if needed and needed > balance_of(funder_pool):
        raise PlanPoolInsufficient(
            details={"pool": funder_pool, "available": balance_of(funder_pool), "needed": needed}
        )
    with transaction.atomic():
        plan = CoPayPlan.objects.create(
            worker=worker,
            first_month=first,
            months=len(months),
            shares_bp=list(shares_bp),
            funder_pool=funder_pool,
            funder_source=funder_source,
            package=package,
            funder_reserved=needed,
            note=(note or "")[:200],
            created_by=actor,
        )
        try:
            with transaction.atomic():
                rows = PlanMonth.objects.bulk_create(
                    [
                        PlanMonth(
                            plan=plan,
                            worker=worker,
                            month=p.month,
                            amount=p.amount,
                            source=p.source,
                            worker_bp=p.worker_bp,
                            funder_part=p.funder_part,
                            worker_part=p.worker_part,
                            line_key=line_key(worker.pk, p.month),
                        )
                        for p in plan_spec.months
                    ]
                )
        except IntegrityError:
            raise PlanMonthsTaken(details={"months": [f"{m:%Y-%m}" for m in months]}) from None
        if needed:
            held_in = _open_pool(_reserved_of(funder_pool), f"Reserved for workers ({funder_pool[len(POOL_PREFIX) :]})")
            parts = []
            for row in rows:
                if not row.funder_part:
                    continue
                key = f"continuation:plan:{plan.pk}:{row.month:%Y-%m}:funder"
                reservation_create(
                    key=key,
                    pool=funder_pool,
                    held_in=held_in,
                    amount=row.funder_part,
                    effective_on=timezone.localdate(),
                    description=f"Co-payment plan {plan.pk}: funder's part of {row.month:%Y-%m}",
                    metadata={"plan": plan.pk, "worker": worker.pk, "month": f"{row.month:%Y-%m}"},
                )
                parts.append(
                    MonthPart(
                        plan_month=row,
                        role=MonthPart.Role.FUNDER,
                        pool=funder_pool,
                        reservation_key=key,
                        amount=row.funder_part,
                    )
                )
            MonthPart.objects.bulk_create(parts)
        open_worker_pool(worker.pk)
        audit_record(
            actor=actor,
            action="continuation.plan_create",
            target=plan,
            details={
                "worker": worker.pk,
                "first_month": f"{first:%Y-%m}",
                "shares_bp": list(shares_bp),
                "funder_pool": funder_pool,
                "funder_reserved": needed,
            },
        )
    return plan


# --- The worker's own payments ---------------------------------------------------------------------------------------


def worker_debt(worker_id: int) -> int:
    """What the worker owes the bridge fund: advances of billed months whose line the agency did not reject, less
    what payments repaid."""
    from lingkaran.protection.cycle import lines_rejected

    bridged = list(
        MonthPart.objects.filter(
            plan_month__worker_id=worker_id, role=MonthPart.Role.BRIDGE, plan_month__state=PlanMonth.State.READY
        ).values_list("plan_month__line_key", "amount")
    )
    rejected = lines_rejected([key for key, _amount in bridged])
    advanced = sum(amount for key, amount in bridged if key not in rejected)
    repaid = WorkerPayment.objects.filter(worker_id=worker_id).aggregate(t=Sum("repaid", default=0))["t"]
    return max(0, advanced - repaid)


def worker_payment_record(*, actor, worker_id: int, amount: int, paid_on: date, receipt_number: str) -> WorkerPayment:
    """Money a worker handed over to a field agent (in the agent's regions) or a finance officer: cash/clearing →
    the worker's pool, then the worker's debt to the bridge fund is repaid first from it. Recording the same receipt
    again returns the payment already recorded; another payment under that receipt number is refused."""
    require_role(actor, *PAYERS)
    worker = worker_for(actor, worker_id)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise field_error("amount", _("Enter a whole number of rupiah greater than zero."))
    receipt = (receipt_number or "").strip()
    if not receipt or len(receipt) > 40:
        raise field_error("receipt_number", _("Enter the receipt number (at most 40 characters)."))
    if paid_on is None or paid_on > timezone.localdate():
        raise field_error("paid_on", _("Enter the date the money was handed over (not in the future)."))
    existing = WorkerPayment.objects.filter(receipt_number=receipt).first()
    if existing is not None:
        if (existing.worker_id, existing.amount, existing.paid_on) == (worker.pk, amount, paid_on):
            return existing
        raise PaymentDuplicate(details={"receipt_number": receipt})
    pool = open_worker_pool(worker.pk)
    account_open(AccountSpec(cash_account(), "Worker contributions collected (cash and clearing)", AccountType.ASSET))
    with transaction.atomic():
        payment = WorkerPayment.objects.create(
            worker=worker, amount=amount, paid_on=paid_on, receipt_number=receipt, collected_by=actor
        )
        transfer(
            key=f"continuation:payment:{receipt}",
            source=cash_account(),
            target=pool,
            amount=amount,
            effective_on=timezone.localdate(),
            description=f"Worker {worker.pk}: contribution handed over, receipt {receipt}",
            metadata={"worker": worker.pk, "receipt": receipt, "paid_on": paid_on.isoformat()},
        )
        repaid = rules.repayment(worker_debt(worker.pk), amount)
        if repaid:
            transfer(
                key=f"continuation:repay:{payment.pk}",
                source=pool,
                target=open_bridge_pool(),
                amount=repaid,
                effective_on=timezone.localdate(),
                description=f"Worker {worker.pk}: repayment to the bridge fund",
                metadata={"worker": worker.pk, "payment": payment.pk},
            )
            payment.repaid = repaid
            payment.save(update_fields=["repaid"])
        audit_record(
            actor=actor,
            action="continuation.worker_payment_record",
            target=payment,
            details={"worker": worker.pk, "amount": amount, "receipt_number": receipt, "repaid": repaid},
        )
    return payment


# --- Billing day -----------------------------------------------------------------------------------------------------


def months_prepare(*, month: date, sponsored_workers: QuerySet | None = None, actor=None) -> dict[str, int]:
    """Make the month's plan months billable, once (called by the monthly cycle before it bills).

    Plan months of workers the cycle bills as sponsored (``sponsored_workers``: a query of worker ids from
    protection) are ``superseded``: their funder's part goes back to its pool. For the others (``planned``, or
    ``short`` on an earlier run), the worker's part is covered by ``domain.rules.cover_all``: the worker's own pool
    first, the shortfall advanced by the bridge fund; each part is reserved in the ledger and the month becomes
    ``ready`` (billed by the cycle as ``co_paid``, ``self`` or ``bridged``). A month neither can pay stays ``short``:
    not billed, the worker goes to grace. Returns the counts per outcome."""
    month = month_start(month)
    today = timezone.localdate()
    counts = {"ready": 0, "short": 0, "superseded": 0}
    with transaction.atomic():
        waiting = PlanMonth.objects.select_for_update().filter(
            month=month, state__in=[PlanMonth.State.PLANNED, PlanMonth.State.SHORT]
        )
        if sponsored_workers is not None:
            superseded = list(waiting.filter(worker_id__in=sponsored_workers).order_by("pk"))
            for row in superseded:
                for key in row.parts.values_list("reservation_key", flat=True):
                    reservation_void(
                        key=key, effective_on=today, description=f"Plan month {row.month:%Y-%m}: sponsored"
                    )
            PlanMonth.objects.filter(pk__in=[r.pk for r in superseded]).update(state=PlanMonth.State.SUPERSEDED)
            counts["superseded"] = len(superseded)
        rows = list(waiting.exclude(state=PlanMonth.State.SUPERSEDED).order_by("pk"))
        if not rows:
            return counts
        pools = [rules.worker_pool(r.worker_id) for r in rows]
        balance = dict(Account.objects.filter(code__in=pools).values_list("code", "balance__balance"))
        bridge = open_bridge_pool()
        covers = rules.cover_all(
            [rules.Due(r.pk, r.worker_part, max(0, balance.get(rules.worker_pool(r.worker_id)) or 0)) for r in rows],
            balance_of(bridge),
        )
        by_id = {r.pk: r for r in rows}
        account_open(AccountSpec(HELD_OWN, "Workers' own contributions, reserved", AccountType.LIABILITY, True))
        parts, ready, short = [], [], []
        for cover in covers:
            row = by_id[cover.key]
            if not cover.billed:
                short.append(row.pk)
                continue
            for role, pool, amount in (
                (MonthPart.Role.OWN, rules.worker_pool(row.worker_id), cover.own),
                (MonthPart.Role.BRIDGE, bridge, cover.bridged),
            ):
                if not amount:
                    continue
                key = f"{row.line_key}:{role}"
                reservation_create(
                    key=key,
                    pool=pool,
                    held_in=HELD_OWN
                    if role == MonthPart.Role.OWN
                    else _open_pool(_reserved_of(bridge), "Bridge fund, reserved"),
                    amount=amount,
                    effective_on=today,
                    description=f"Worker {row.worker_id} {row.month:%Y-%m}: {role} part",
                    metadata={"worker": row.worker_id, "month": f"{row.month:%Y-%m}", "part": role},
                )
                parts.append(MonthPart(plan_month=row, role=role, pool=pool, reservation_key=key, amount=amount))
            row.own_part, row.bridged_part = cover.own, cover.bridged
            row.kind = rules.line_kind(row.worker_bp, cover.bridged)
            row.state = PlanMonth.State.READY
            row.prepared_at = timezone.now()
            ready.append(row)
        MonthPart.objects.bulk_create(parts)
        PlanMonth.objects.bulk_update(ready, ["own_part", "bridged_part", "kind", "state", "prepared_at"])
        PlanMonth.objects.filter(pk__in=short).update(state=PlanMonth.State.SHORT)
        counts["ready"], counts["short"] = len(ready), len(short)
        audit_records(
            actor=actor,
            action="continuation.month_prepare",
            object_type="continuation.planmonth",
            rows=[
                (
                    r.pk,
                    f"{r.month:%Y-%m}",
                    {"worker": r.worker_id, "kind": r.kind, "own": r.own_part, "bridged": r.bridged_part},
                )
                for r in ready
            ]
            + [(pk, f"{month:%Y-%m}", {"state": "short"}) for pk in short],
        )
    return counts
