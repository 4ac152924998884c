"""Continuation: what keeps a worker protected after a sponsorship ends (docs/subsystems/continuation.md).

* ``CoPayPlan``: a step-down plan: for a worker, from a first month, the worker's share of each month in basis
  points; a funder pool pays the rest, reserved up front month by month like a sponsorship block.
* ``PlanMonth``: one month of a plan, priced at the tariff of the month when the plan was made, with its parts.
* ``MonthPart``: one part of a month and the ledger reservation that holds it (the funder's, the worker's own, the
  bridge fund's advance).
* ``WorkerPayment``: money a worker handed over to a field agent or finance officer, credited to the worker's pool;
  ``Repayment``: what such a payment paid back of the worker's debt to the bridge fund.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lingkaran.protection.models import FundingSource, Package


class CoPayPlan(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        FINISHED = "finished", _("Finished")

    worker = models.ForeignKey("registry.Worker", on_delete=models.PROTECT, related_name="copay_plans")
    first_month = models.DateField(_("first month"))
    months = models.PositiveSmallIntegerField(_("months"))
    shares_bp = models.JSONField(_("worker's share per month (basis points)"))
    funder_pool = models.CharField(_("funder pool"), max_length=120, blank=True)
    funder_source = models.CharField(_("funder's funding source"), max_length=10, choices=FundingSource.choices)
    package = models.CharField(_("package"), max_length=20, choices=Package.choices, default=Package.JKK_JKM)
    funder_reserved = models.BigIntegerField(_("reserved from the funder pool (Rp)"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-first_month", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(months__gte=1), name="continuation_plan_months_positive"),
        ]


class PlanMonth(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        READY = "ready", _("Ready to bill")
        SHORT = "short", _("Not billed: not enough money")
        SUPERSEDED = "superseded", _("Sponsored instead")

    plan = models.ForeignKey(CoPayPlan, on_delete=models.PROTECT, related_name="plan_months")
    worker = models.ForeignKey("registry.Worker", on_delete=models.PROTECT, related_name="+", db_index=False)
    month = models.DateField(_("contribution month"))
    amount = models.BigIntegerField(_("amount (Rp)"))
    source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices)
    worker_bp = models.PositiveIntegerField(_("worker's share (basis points)"))
    funder_part = models.BigIntegerField(_("funder's part (Rp)"))
    worker_part = models.BigIntegerField(_("worker's part (Rp)"))
    own_part = models.BigIntegerField(_("paid from the worker's money (Rp)"), default=0)
    bridged_part = models.BigIntegerField(_("advanced by the bridge fund (Rp)"), default=0)
    kind = models.CharField(_("kind"), max_length=10, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PLANNED)
    line_key = models.CharField(max_length=80, unique=True)  # the agency line's ``reservation_key``
    prepared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["month", "id"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "month"], name="continuation_month_once_per_worker"),
            models.CheckConstraint(
                condition=Q(funder_part__gte=0, worker_part__gte=0, own_part__gte=0, bridged_part__gte=0),
                name="continuation_month_parts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount=models.F("funder_part") + models.F("worker_part")),
                name="continuation_month_parts_add_up",
            ),
        ]
        indexes = [models.Index(fields=["month", "state"], name="continuation_month_state")]


class MonthPart(models.Model):
    class Role(models.TextChoices):
        FUNDER = "funder", _("Funder")
        OWN = "own", _("Worker's own money")
        BRIDGE = "bridge", _("Bridge fund")

    plan_month = models.ForeignKey(PlanMonth, on_delete=models.PROTECT, related_name="parts")
    role = models.CharField(max_length=10, choices=Role.choices)
    pool = models.CharField(max_length=120)
    reservation_key = models.CharField(max_length=200, unique=True)
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["plan_month_id", "role"]
        constraints = [
            models.UniqueConstraint(fields=["plan_month", "role"], name="continuation_part_once_per_role"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="continuation_part_positive"),
        ]


class WorkerPayment(models.Model):
    worker = models.ForeignKey("registry.Worker", on_delete=models.PROTECT, related_name="continuation_payments")
    amount = models.BigIntegerField(_("amount (Rp)"))
    paid_on = models.DateField(_("date paid"))
    receipt_number = models.CharField(_("receipt number"), max_length=40, unique=True)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    repaid = models.BigIntegerField(_("repaid to the bridge fund (Rp)"), default=0)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="continuation_payment_positive"),
            models.CheckConstraint(
                condition=Q(repaid__gte=0, repaid__lte=models.F("amount")), name="continuation_payment_repaid_in_amount"
            ),
        ]
