"""The demo's co-payment plans (``lingkaran.demo_continuation``) on top of the base demo and the protection history:
October 2026's cycle (and those after it) bills a co-paid line from the worker's own money and bridged lines the bridge fund advanced,
the field agent of Penajam Paser Utara sees them, and a second run of every step adds nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.db.models import Sum

from lingkaran import demo, demo_continuation, demo_protection
from lingkaran.continuation.models import CoPayPlan, MonthPart, PlanMonth, WorkerPayment
from lingkaran.continuation.selectors import plans_visible_to, worker_continuation
from lingkaran.core.models import User
from lingkaran.ledger.models import JournalEntry
from lingkaran.ledger.selectors import verify
from lingkaran.protection.models import ContributionLine
from tests.protection.test_demo_protection import build

pytestmark = pytest.mark.django_db

OCT = date(2026, 10, 1)


def counts() -> tuple[int, ...]:
    return (
        CoPayPlan.objects.count(),
        PlanMonth.objects.count(),
        MonthPart.objects.count(),
        WorkerPayment.objects.count(),
        JournalEntry.objects.count(),
        ContributionLine.objects.count(),
    )


def test_the_demo_bills_co_paid_and_bridged_months_once(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.VAR_DIR = tmp_path
    assert demo_continuation.STEPS[0] in demo_protection.STEPS
    build([s for s in demo.STEPS if s not in demo_protection.STEPS], django_capture_on_commit_callbacks)
    build(demo_protection.STEPS, django_capture_on_commit_callbacks)
    first = counts()
    build(demo_protection.STEPS, django_capture_on_commit_callbacks)
    assert counts() == first

    plans = list(CoPayPlan.objects.order_by("pk"))
    assert [p.shares_bp for p in plans] == [
        [2500, 5000, 7500, 10_000],
        [2500, 5000, 7500, 10_000],
        [5000, 7500, 10_000],
    ]
    assert {p.funder_source for p in plans} == {"zakat"}
    october = {m.worker_id: m for m in PlanMonth.objects.filter(month=OCT).order_by("pk")}  # billed by October's cycle
    paying, bridged, partly = (october[p.worker_id] for p in plans)
    assert (paying.kind, paying.state, paying.bridged_part) == ("co_paid", "ready", 0)
    assert paying.own_part == paying.worker_part > 0
    assert (bridged.kind, bridged.own_part, bridged.bridged_part) == ("bridged", 0, bridged.worker_part)
    assert (partly.kind, partly.own_part) == ("bridged", 2_000)
    assert partly.bridged_part == partly.worker_part - 2_000 > 0
    lines = dict(
        ContributionLine.objects.filter(month=OCT, worker__in=[p.worker_id for p in plans]).values_list(
            "worker_id", "kind"
        )
    )
    assert lines == {plans[0].worker_id: "co_paid", plans[1].worker_id: "bridged", plans[2].worker_id: "bridged"}
    assert set(
        ContributionLine.objects.filter(month=OCT, kind__in=["co_paid", "bridged"]).values_list("state", flat=True)
    ) == {"confirmed"}

    finance = User.objects.get(username="keuangan")
    # The bridge fund advanced the second worker's whole part of every month billed since (the debt is their sum).
    advanced = PlanMonth.objects.filter(worker_id=plans[1].worker_id).aggregate(total=Sum("bridged_part"))
    assert advanced["total"] > bridged.bridged_part
    assert worker_continuation(finance, plans[1].worker_id).debt == advanced["total"]
    assert worker_continuation(finance, plans[0].worker_id).debt == 0
    agent = User.objects.get(username="agen.ppu")
    assert plans_visible_to(agent).filter(pk=plans[0].pk).exists()
    assert verify().clean
