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
from lingkaran.protection.agency import sql
from lingkaran.protection.domain import cycle as cycle_rules
from lingkaran.protection.domain import reconciliation as rules
from lingkaran.protection.errors import ReconciliationNoteRequired, ReconciliationNotFound, ReconciliationResolved
from lingkaran.protection.models import (
    ContributionLine,
    Cycle,
    ReconciliationAction,
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


# The agency's latest status of a worker (``w``): by the worker's KPJ number first, else by the NIK's blind index
# (of several rows with that index, the one with the highest KPJ number). One row id, or NULL.
_STATUS_OF_WORKER = """(
    SELECT COALESCE(
        (SELECT k.id FROM agency_membershipstatus k WHERE w.kpj_number <> '' AND k.kpj_number = w.kpj_number),
        (SELECT n.id FROM agency_membershipstatus n WHERE n.nik_index = w.nik_index AND n.nik_index <> ''
         ORDER BY n.kpj_number DESC LIMIT 1)
    )
)"""

_COVERED = "(" + ", ".join(f"'{state}'" for state in sorted(rules.COVERED_STATES)) + ")"

# ``rules.paid_but_inactive`` for a confirmed line of %(month)s and the worker's status ``s`` (see the pure rule).
_PAID_INACTIVE = f"""(
    s.id IS NOT NULL AND s.as_of >= %(month)s
    AND (s.last_paid_month IS NULL OR s.last_paid_month < %(month)s
         OR (s.as_of = %(month)s AND s.state NOT IN {_COVERED}))
)"""

# ``rules.active_but_unpaid`` without its ``we_paid`` / ``other_payer`` arguments (the query's NOT EXISTS).
_ACTIVE_UNPAID = f"""(
    (s.as_of = %(month)s AND s.state IN {_COVERED}) OR s.last_paid_month = %(month)s
)"""


def _line_exceptions(params: dict, worker_filter: str) -> list[tuple]:
    """The month's rejected lines (a rejection that was resubmitted is represented by its retry) and its confirmed
    lines the agency does not show covered, with what the page shows of each."""
    return sql.fetch(
        f"""
        SELECT c.id, c.worker_id, c.amount, c.state, c.reason, c.reason_text, c.reservation_key, k.province,
               k.pass_number, f.name, w.nik_masked, c.cofunding_id, c.sponsored_month_id, s.state, s.last_paid_month
        FROM protection_contributionline c
        JOIN protection_cyclechunk k ON k.id = c.chunk_id
        JOIN registry_worker w ON w.id = c.worker_id
        LEFT JOIN protection_sponsorship sp ON sp.id = c.sponsorship_id
        LEFT JOIN funding_funder f ON f.id = sp.funder_id
        LEFT JOIN agency_membershipstatus s ON s.id = {_STATUS_OF_WORKER}
        WHERE c.month = %(month)s {worker_filter.replace("worker_id", "c.worker_id")}
          AND (
              (c.state = 'rejected'
               AND NOT EXISTS (SELECT 1 FROM protection_contributionline r WHERE r.retry_of_id = c.id))
              OR (c.state = 'confirmed' AND {_PAID_INACTIVE})
          )
        """,
        params,
    )


def _unpaid_exceptions(params: dict, worker_filter: str) -> list[tuple]:
    """Workers our cycle has billed at least once (the only ones whose agency status our data can judge) whom the
    agency shows paid for the month while we have no confirmed line and no sponsored worker-month for it."""
    return sql.fetch(
        f"""
        SELECT w.id, w.nik_masked, s.state, s.last_paid_month
        FROM registry_worker w
        JOIN agency_membershipstatus s ON s.id = {_STATUS_OF_WORKER}
        WHERE w.id IN (SELECT b.worker_id FROM protection_contributionline b)
          {worker_filter.replace("worker_id", "w.id")}
          AND {_ACTIVE_UNPAID}
          AND NOT EXISTS (
              SELECT 1 FROM protection_contributionline c
              WHERE c.worker_id = w.id AND c.month = %(month)s AND c.state = 'confirmed'
          )
          AND NOT EXISTS (
              SELECT 1 FROM protection_sponsoredmonth m WHERE m.worker_id = w.id AND m.month = %(month)s
          )
        """,
        params,
    )


def _as_date(value) -> date | None:
    """A date column read by raw SQL (SQLite gives its text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _chunk_label(province: str, pass_number: int) -> str:
    """``CycleChunk.label`` from its columns: ``64``, or ``64:p2`` for a later pass."""
    return province if pass_number == 1 else f"{province}:p{pass_number}"


def exceptions_for_month(month: date, *, worker_id: int | None = None) -> list[ReconException]:
    """The month's exceptions, each with the actions recorded about it, in worker order.

    Set-based: two queries find the exceptions in the database (the SQL states the pure rules of
    ``domain/reconciliation.py``, and a property test holds them equal), so only the exceptions, never the month's
    lines, are read into Python."""
    params = {"month": month, "worker": worker_id}
    worker_filter = "AND worker_id = %(worker)s" if worker_id is not None else ""
    lines = _line_exceptions(params, worker_filter)
    # A co-funded line: its payers are the split's funders, and its money went back per share (the first share's
    # return entry stands for them: every share of a chunk is posted in the same transaction).
    shared: dict[int, list[tuple[str, str]]] = {}
    cofunded = [row[12] for row in lines if row[11]]
    for month_id, name, key in (
        SponsoredShare.objects.filter(sponsored_month_id__in=cofunded)
        .order_by("sponsored_month_id", "share__position")
        .values_list("sponsored_month_id", "share__funder__name", "reservation_key")
    ):
        shared.setdefault(month_id, []).append((name or "", key))
    found: list[ReconException] = []
    for (
        line_id,
        worker,
        amount,
        state,
        reason,
        reason_text,
        reservation_key,
        province,
        pass_number,
        funder,
        masked,
        cofunding_id,
        month_id,
        agency_state,
        agency_last_paid,
    ) in lines:
        parts = shared.get(month_id) if cofunding_id else None
        if parts:
            funder = " + ".join(name for name, _key in parts)
            reservation_key = parts[0][1]
        common = {"worker_id": worker, "worker_masked": masked, "month": month, "amount": amount}
        if state == "confirmed":
            found.append(
                ReconException(
                    kind=rules.Kind.PAID_INACTIVE,
                    **common,
                    funder=funder or "",
                    line_id=line_id,
                    agency_state=agency_state,
                    agency_last_paid=_as_date(agency_last_paid),
                )
            )
        else:
            found.append(
                ReconException(
                    kind=rules.Kind.REJECTED,
                    **common,
                    funder=funder or "",
                    line_id=line_id,
                    reason=reason,
                    reason_text=reason_text,
                    ledger_key=cycle_rules.return_key(month, _chunk_label(province, pass_number), reservation_key),
                )
            )
    for worker, masked, agency_state, agency_last_paid in _unpaid_exceptions(params, worker_filter):
        found.append(
            ReconException(
                kind=rules.Kind.ACTIVE_UNPAID,
                worker_id=worker,
                worker_masked=masked,
                month=month,
                agency_state=agency_state,
                agency_last_paid=_as_date(agency_last_paid),
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
