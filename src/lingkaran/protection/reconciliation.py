"""Cycles in the back office and reconciliation per worker-month (docs/subsystems/protection-reconciliation.md).

Selectors: the cycles with their chunks, a month's lines with filters, and a month's reconciliation exceptions
(computed from the lines, the sponsored months and the agency's ``MembershipStatus``; the pure rules are in
``domain/reconciliation.py``). Service: ``exception_act`` records a decision about one exception as a
``ReconciliationAction`` row (append-only, once per exception and action) with an audit event.

Who may: reading is money staff (``VIEW_MONEY``: operators, finance, auditors); recording an action is operators and
finance (``MANAGE_SPONSORSHIPS``); running a cycle stays finance (``cycle_run`` checks ``MANAGE_MONEY``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum

from lingkaran.core.access import can, require
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import InvalidInput, NotFound
from lingkaran.ledger.models import JournalEntry
from lingkaran.protection.agency.models import MembershipStatus
from lingkaran.protection.domain import cycle as cycle_rules
from lingkaran.protection.domain import reconciliation as rules
from lingkaran.protection.errors import ReconciliationNoteRequired, ReconciliationNotFound, ReconciliationResolved
from lingkaran.protection.models import (
    ContributionLine,
    Cycle,
    ReconciliationAction,
    SponsoredMonth,
    SponsoredShare,
)

READ = Capability.VIEW_MONEY
ACT = Capability.MANAGE_SPONSORSHIPS
RUN = Capability.MANAGE_MONEY


def require_read(user) -> None:
    require(user, READ)


def may_act(user) -> bool:
    return can(user, ACT)


def may_run(user) -> bool:
    return can(user, RUN)


# --- Cycles ----------------------------------------------------------------------------------------------------------


def cycles() -> QuerySet[Cycle]:
    """Every cycle, the latest month first, with its chunks."""
    return Cycle.objects.order_by("-month").prefetch_related("chunks")


def cycle_for(month: date) -> Cycle:
    found = Cycle.objects.filter(month=month).prefetch_related("chunks").first()
    if found is None:
        raise NotFound(details={"month": f"{month:%Y-%m}"})
    return found


@dataclass(frozen=True)
class LineFilter:
    state: str = ""
    province: str = ""
    reason: str = ""


def cycle_lines(month: date, filters: LineFilter | None = None) -> QuerySet[ContributionLine]:
    filters = filters or LineFilter()
    rows = ContributionLine.objects.filter(month=month).select_related("worker", "chunk", "sponsorship__funder")
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.province:
        rows = rows.filter(chunk__province=filters.province)
    if filters.reason:
        rows = rows.filter(reason=filters.reason)
    return rows.order_by("chunk__province", "id")


def line_reasons(month: date) -> list[tuple[str, int]]:
    return list(
        ContributionLine.objects.filter(month=month, state=ContributionLine.State.REJECTED)
        .values("reason")
        .annotate(n=Count("id"))
        .values_list("reason", "n")
        .order_by("reason")
    )


def line_totals(month: date) -> dict[str, int]:
    line = ContributionLine.State
    return ContributionLine.objects.filter(month=month).aggregate(
        lines=Count("id"),
        total=Sum("amount", default=0),
        confirmed=Count("id", filter=Q(state=line.CONFIRMED)),
        rejected=Count("id", filter=Q(state=line.REJECTED)),
    )


# --- Reconciliation --------------------------------------------------------------------------------------------------


@dataclass
class ReconException:
    kind: str
    worker_id: int
    worker_masked: str
    month: date
    amount: int = 0
    funder: str = ""
    line_id: int | None = None
    reason: str = ""
    reason_text: str = ""
    ledger_key: str = ""
    ledger_posted: bool = False
    agency_state: str = ""
    agency_last_paid: date | None = None
    actions: list[ReconciliationAction] = field(default_factory=list)

    @property
    def state(self) -> str:
        return rules.exception_state([a.action for a in self.actions])

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def key(self) -> tuple[str, int, date]:
        return (self.kind, self.worker_id, self.month)


def _statuses(workers: list[dict]) -> dict[int, rules.Status]:
    """The agency's latest status of each worker, by KPJ number first, else by the NIK's blind index."""
    kpjs = {w["kpj_number"] for w in workers if w["kpj_number"]}
    niks = {w["nik_index"] for w in workers if w["nik_index"]}
    rows = MembershipStatus.objects.filter(Q(kpj_number__in=kpjs) | Q(nik_index__in=niks)).values(
        "kpj_number", "nik_index", "state", "as_of", "last_paid_month"
    )
    by_kpj, by_nik = {}, {}
    for row in rows:
        status = rules.Status(row["state"], row["as_of"], row["last_paid_month"])
        by_kpj[row["kpj_number"]] = status
        if row["nik_index"]:
            by_nik[row["nik_index"]] = status
    found = {}
    for w in workers:
        status = by_kpj.get(w["kpj_number"]) if w["kpj_number"] else None
        status = status or by_nik.get(w["nik_index"])
        if status is not None:
            found[w["id"]] = status
    return found


def _chunk_label(province: str, pass_number: int) -> str:
    """``CycleChunk.label`` from its columns: ``64``, or ``64:p2`` for a later pass."""
    return province if pass_number == 1 else f"{province}:p{pass_number}"


def exceptions_for_month(month: date, *, worker_id: int | None = None) -> list[ReconException]:
    """The month's exceptions, each with the actions recorded about it, in worker order."""
    # A rejected line that was resubmitted is represented by its retry (which may itself be confirmed or rejected).
    lines = ContributionLine.objects.filter(month=month, state__in=["confirmed", "rejected"]).exclude(
        state="rejected", retry__isnull=False
    )
    if worker_id is not None:
        lines = lines.filter(worker_id=worker_id)
    line_rows = list(
        lines.values(
            "id",
            "worker_id",
            "amount",
            "state",
            "reason",
            "reason_text",
            "reservation_key",
            "chunk__province",
            "chunk__pass_number",
            "sponsorship__funder__name",
            "worker__nik_masked",
            "cofunding_id",
            "sponsored_month_id",
        )
    )
    # A co-funded line: its payers are the split's funders, and its money went back per share (the first share's
    # return entry stands for them: every share of a chunk is posted in the same transaction).
    shared: dict[int, list[tuple[str, str]]] = {}
    cofunded = [r["sponsored_month_id"] for r in line_rows if r["cofunding_id"]]
    for month_id, name, key in (
        SponsoredShare.objects.filter(sponsored_month_id__in=cofunded)
        .order_by("sponsored_month_id", "share__position")
        .values_list("sponsored_month_id", "share__funder__name", "reservation_key")
    ):
        shared.setdefault(month_id, []).append((name or "", key))
    for row in line_rows:
        parts = shared.get(row["sponsored_month_id"]) if row["cofunding_id"] else None
        if parts:
            row["sponsorship__funder__name"] = " + ".join(name for name, _key in parts)
            row["reservation_key"] = parts[0][1]
    # Workers our cycle has billed at least once: the only ones whose agency status our data can judge.
    billed = ContributionLine.objects.all()
    if worker_id is not None:
        billed = billed.filter(worker_id=worker_id)
    worker_ids = set(billed.values_list("worker_id", flat=True).distinct())
    from lingkaran.registry.models import Worker  # the registry's identity columns, read-only

    workers = list(Worker.objects.filter(pk__in=worker_ids).values("id", "kpj_number", "nik_index", "nik_masked"))
    statuses = _statuses(workers)
    found: list[ReconException] = []
    confirmed = set()
    for row in line_rows:
        status = statuses.get(row["worker_id"])
        if row["state"] == "confirmed":
            confirmed.add(row["worker_id"])
            if rules.paid_but_inactive(month, status):
                found.append(
                    ReconException(
                        kind=rules.Kind.PAID_INACTIVE,
                        worker_id=row["worker_id"],
                        worker_masked=row["worker__nik_masked"],
                        month=month,
                        amount=row["amount"],
                        funder=row["sponsorship__funder__name"] or "",
                        line_id=row["id"],
                        agency_state=status.state,
                        agency_last_paid=status.last_paid_month,
                    )
                )
        else:
            found.append(
                ReconException(
                    kind=rules.Kind.REJECTED,
                    worker_id=row["worker_id"],
                    worker_masked=row["worker__nik_masked"],
                    month=month,
                    amount=row["amount"],
                    funder=row["sponsorship__funder__name"] or "",
                    line_id=row["id"],
                    reason=row["reason"],
                    reason_text=row["reason_text"],
                    ledger_key=cycle_rules.return_key(
                        month, _chunk_label(row["chunk__province"], row["chunk__pass_number"]), row["reservation_key"]
                    ),
                )
            )
    others = set(
        SponsoredMonth.objects.filter(month=month, worker_id__in=worker_ids).values_list("worker_id", flat=True)
    )
    for w in workers:
        status = statuses.get(w["id"])
        if rules.active_but_unpaid(month, status, we_paid=w["id"] in confirmed, other_payer=w["id"] in others):
            found.append(
                ReconException(
                    kind=rules.Kind.ACTIVE_UNPAID,
                    worker_id=w["id"],
                    worker_masked=w["nik_masked"],
                    month=month,
                    agency_state=status.state,
                    agency_last_paid=status.last_paid_month,
                )
            )
    keys = [e.ledger_key for e in found if e.ledger_key]
    posted = set(JournalEntry.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    actions = ReconciliationAction.objects.filter(month=month).select_related("created_by")
    if worker_id is not None:
        actions = actions.filter(worker_id=worker_id)
    by_key: dict[tuple, list[ReconciliationAction]] = {}
    for action in actions.order_by("created_at", "id"):
        by_key.setdefault((action.kind, action.worker_id, action.month), []).append(action)
    for item in found:
        item.ledger_posted = item.ledger_key in posted
        item.actions = by_key.get(item.key, [])
    found.sort(key=lambda e: (e.worker_id, e.kind))
    return found


def exception_counts(items: list[ReconException]) -> dict[str, dict[str, int]]:
    """Per kind: open and resolved."""
    counts = {kind.value: {"open": 0, "resolved": 0} for kind in rules.Kind}
    for item in items:
        counts[item.kind][item.state] += 1
    return counts


def exception_act(*, actor, kind: str, worker_id: int, month: date, action: str, note: str = ""):
    """Record ``action`` about the exception (``kind``, ``worker_id``, ``month``). The same action again returns the
    first record and writes nothing; a resolved exception takes no other action (``reconciliation_resolved``).
    Returns ``(action_row, created)``."""
    require(actor, ACT)
    note = (note or "").strip()[:500]
    if action not in {a.value for a in rules.Action}:
        raise InvalidInput(details={"fields": {"action": [action]}})
    if action == rules.Action.RESOLVE and not note:
        raise ReconciliationNoteRequired(
            details={"fields": {"note": [str(ReconciliationNoteRequired.default_message)]}}
        )
    details = {"kind": kind, "worker": worker_id, "month": f"{month:%Y-%m}"}
    match = [e for e in exceptions_for_month(month, worker_id=worker_id) if e.kind == kind]
    if not match:
        raise ReconciliationNotFound(details=details)
    item = match[0]
    existing = next((a for a in item.actions if a.action == action), None)
    if existing is not None:
        return existing, False
    if not item.is_open:
        raise ReconciliationResolved(details=details)
    try:
        with transaction.atomic():
            row = ReconciliationAction.objects.create(
                kind=kind,
                worker_id=worker_id,
                month=month,
                action=action,
                note=note,
                line_id=item.line_id,
                created_by=actor,
            )
            audit_record(
                actor=actor,
                action="protection.reconciliation_action",
                target=row,
                object_label=f"{kind} {month:%Y-%m} {item.worker_masked}",
                details={**details, "action": action, "note": note},
            )
    except IntegrityError:  # the same action recorded by a concurrent request: the first stands
        return ReconciliationAction.objects.get(kind=kind, worker_id=worker_id, month=month, action=action), False
    return row, True
