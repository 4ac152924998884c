"""The demo's continuation: co-payment plans after BAZNAS Kalimantan Timur's sponsorship ended (April-September
2026), so that October 2026's cycle bills co-paid and bridged lines (docs/subsystems/continuation.md).

One step for ``lingkaran demo``, run by the protection demo before its cycles (``demo_protection.STEPS``), in its own
transaction and idempotent (a second run finds the plans and adds nothing):

- three workers of the zakat cohort with no month taken from October 2026 (those of Penajam Paser Utara first, whom
  the demo field agent ``agen.ppu`` follows) get a step-down plan from October 2026, BAZNAS's pool paying the rest:
  25 % → 50 % → 75 % → 100 % for the first two, 50 % → 75 % → 100 % for the third;
- the first hands over enough for October's part (receipt ``DEMO-LJ-0001``): billed ``co_paid`` from the worker's
  own money;
- the second hands over nothing: the bridge fund advances the whole part, billed ``bridged``, a debt to repay;
- the third hands over a little (``DEMO-LJ-0003``): own money first, the bridge fund the rest (``bridged``);
- the bridge fund gets its money from the programme's trust account (fixed key), BAZNAS's pool a top-up if short.
"""

from __future__ import annotations

import random
from datetime import date

PLAN_START = date(2026, 10, 1)
PLANS = [  # (worker's share of the first month, step, months, handed over before October's cycle, receipt)
    (2_500, 2_500, 4, 50_000, "DEMO-LJ-0001"),
    (2_500, 2_500, 4, 0, ""),
    (5_000, 2_500, 3, 2_000, "DEMO-LJ-0003"),
]
BRIDGE_FUNDING = 500_000
PAID_ON = date(2026, 9, 28)


def _plan_workers(count: int) -> list[int]:
    """Zakat-cohort workers with no month of the plans already sponsored or planned, Penajam Paser Utara first."""
    from lingkaran.continuation.models import PlanMonth
    from lingkaran.demo_protection import _add_months, _cohorts
    from lingkaran.protection.models import SponsoredMonth
    from lingkaran.registry.models import Worker

    months = [_add_months(PLAN_START, i) for i in range(max(p[2] for p in PLANS))]
    taken = set(
        SponsoredMonth.objects.filter(month__in=months)
        .exclude(state=SponsoredMonth.State.REJECTED)
        .values_list("worker_id", flat=True)
    ) | set(PlanMonth.objects.filter(month__in=months).values_list("worker_id", flat=True))
    free = [pk for pk in _cohorts()["zakat"] if pk not in taken]
    regions = dict(Worker.objects.filter(pk__in=free).values_list("pk", "region_code"))
    free.sort(key=lambda pk: (not regions[pk].startswith("64.09."), pk))
    return free[:count]


def _continuation_plans(rng: random.Random, log) -> None:
    from django.utils import timezone

    from lingkaran.continuation import services
    from lingkaran.continuation.domain import rules
    from lingkaran.continuation.models import CoPayPlan
    from lingkaran.core.models import User
    from lingkaran.demo_protection import ZAKAT, _demo_funder
    from lingkaran.funding import accounts
    from lingkaran.ledger.selectors import balance_of
    from lingkaran.ledger.services import transfer

    if CoPayPlan.objects.exists():
        log(f"continuation: the demo's co-payment plans exist ({CoPayPlan.objects.count()})")
        return
    workers = _plan_workers(len(PLANS))
    if len(workers) < len(PLANS):
        log("continuation: no co-payment plans (too few workers free from October 2026)")
        return
    finance = User.objects.get(username="keuangan")
    agent = User.objects.filter(username="agen.ppu").first()
    zakat = _demo_funder(ZAKAT)
    pool = accounts.open_pool(target="funder", funder_id=zakat.pk)
    today = timezone.localdate()
    specs = [
        {
            "actor": finance,
            "worker_id": worker_id,
            "first_month": PLAN_START,
            "shares_bp": list(rules.step_down(first, step, months)),
            "funder_pool": pool,
            "funder_source": "zakat",
        }
        for worker_id, (first, step, months, _paid, _receipt) in zip(workers, PLANS, strict=True)
    ]
    needed = sum(services.plan_price(**spec).needed for spec in specs)
    short = needed - balance_of(pool)
    if short > 0:
        transfer(
            key=f"demo:continuation:fund:{zakat.pk}",
            source=accounts.open_bank(),
            target=pool,
            amount=short,
            effective_on=today,
            description=f"Bank transfer from {zakat.name} (co-payment plans)",
            metadata={"demo": True},
        )
    transfer(
        key="demo:continuation:bridge",
        source=accounts.open_bank(),
        target=services.open_bridge_pool(),
        amount=BRIDGE_FUNDING,
        effective_on=today,
        description="The programme funds the bridge fund",
        metadata={"demo": True},
    )
    for spec, (_first, _step, _months, paid, receipt) in zip(specs, PLANS, strict=True):
        services.plan_create(**spec, note="Setelah sponsor BAZNAS berakhir (September 2026)")
        if paid:
            worker = spec["worker_id"]
            in_agent_regions = agent is not None and agent.region_assignments.filter(region_code="64.09").exists()
            collector = agent if in_agent_regions and _in_ppu(worker) else finance
            services.worker_payment_record(
                actor=collector, worker_id=worker, amount=paid, paid_on=min(PAID_ON, today), receipt_number=receipt
            )
    log(
        f"continuation: {len(specs)} co-payment plans from October 2026 after BAZNAS's sponsorship "
        f"({needed:,} reserved from its pool); the bridge fund holds {BRIDGE_FUNDING:,}".replace(",", ".")
    )


def _in_ppu(worker_id: int) -> bool:
    from lingkaran.registry.models import Worker

    return Worker.objects.filter(pk=worker_id, region_code__startswith="64.09.").exists()


STEPS = [_continuation_plans]
