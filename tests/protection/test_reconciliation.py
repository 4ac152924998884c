"""Reconciliation per worker-month: what we paid against what the agency reports. The three kinds of exception, the
actions recorded about them (append-only, once per exception and action, audited), and the pure rules."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lingkaran.core.errors import Forbidden
from lingkaran.core.models import AuditEvent
from lingkaran.ledger.models import JournalEntry
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection import reconciliation as recon
from lingkaran.protection.agency.models import MembershipStatus, SimulatorParticipant
from lingkaran.protection.domain import reconciliation as rules
from lingkaran.protection.errors import ReconciliationNoteRequired, ReconciliationNotFound, ReconciliationResolved
from lingkaran.protection.models import ReconciliationAction
from tests.factories import UserFactory
from tests.protection import test_cycle as cycle_setup
from tests.protection.test_cycle import APR, MONTHLY, PAY_DAY

# The cycle's setup (tests/protection/test_cycle.py): four verified workers, one a wage earner, and a funded
# directed sponsorship for April to June 2027.
people = cycle_setup.people
world = cycle_setup.world

MAR, JUL = date(2027, 3, 1), date(2027, 7, 1)


def status_of(worker, *, state: str, as_of: date, last_paid: date | None) -> MembershipStatus:
    """Craft what the agency reports about a worker (by the simulator's KPJ number and the NIK's blind index)."""
    participant = SimulatorParticipant.objects.get(nik_index=worker.nik_index)
    row, _ = MembershipStatus.objects.update_or_create(
        kpj_number=participant.kpj_number,
        defaults={
            "nik_index": worker.nik_index,
            "state": state,
            "as_of": as_of,
            "last_paid_month": last_paid,
            "source": "simulator",
        },
    )
    return row


@pytest.fixture
def paid_april(world):
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    return world


def by_kind(items) -> dict[str, list]:
    out: dict[str, list] = {}
    for item in items:
        out.setdefault(item.kind, []).append(item)
    return out


def test_a_rejected_line_is_an_exception_with_its_return_entry(paid_april):
    refused = paid_april["workers"][3]
    found = by_kind(recon.exceptions_for_month(APR))
    assert set(found) == {"rejected"}
    [item] = found["rejected"]
    assert (item.worker_id, item.amount, item.reason, item.state) == (refused.pk, MONTHLY, "not_registered", "open")
    assert item.ledger_key == f"cycle:2027-04:64:return:{item.ledger_key.split(':return:', 1)[1]}"
    assert item.ledger_posted
    assert JournalEntry.objects.get(idempotency_key=item.ledger_key).total == MONTHLY


def test_paid_but_inactive_and_active_but_unpaid_come_from_the_agency_status(paid_april):
    first, second = paid_april["workers"][:2]
    # The agency, in May, knows nothing paid after March: our confirmed April did not reach the membership.
    status_of(first, state="grace", as_of=date(2027, 5, 1), last_paid=MAR)
    # The agency shows July paid for a worker we billed, but nobody we know pays July.
    status_of(second, state="active", as_of=JUL, last_paid=JUL)
    april = by_kind(recon.exceptions_for_month(APR))
    assert [e.worker_id for e in april["paid_inactive"]] == [first.pk]
    assert april["paid_inactive"][0].agency_last_paid == MAR
    assert "active_unpaid" not in april  # April of the second worker is ours and confirmed
    july = by_kind(recon.exceptions_for_month(JUL))
    assert [e.worker_id for e in july["active_unpaid"]] == [second.pk]
    # The refused worker: a status after April with nothing paid is no paid-but-inactive case (we paid nothing).
    status_of(paid_april["workers"][2], state="active", as_of=APR, last_paid=APR)
    assert [e.worker_id for e in by_kind(recon.exceptions_for_month(APR))["paid_inactive"]] == [first.pk]


def test_an_action_resolves_and_the_same_action_twice_records_once(paid_april, people):
    first = paid_april["workers"][0]
    status_of(first, state="grace", as_of=date(2027, 5, 1), last_paid=MAR)
    finance = people["finance"]
    with pytest.raises(ReconciliationNoteRequired):
        recon.exception_act(actor=finance, kind="paid_inactive", worker_id=first.pk, month=APR, action="resolve")
    row, created = recon.exception_act(
        actor=people["operator"], kind="paid_inactive", worker_id=first.pk, month=APR, action="escalate"
    )
    assert created
    row, created = recon.exception_act(
        actor=finance, kind="paid_inactive", worker_id=first.pk, month=APR, action="resolve", note="Branch fixed it"
    )
    again, created_again = recon.exception_act(
        actor=finance, kind="paid_inactive", worker_id=first.pk, month=APR, action="resolve", note="Branch fixed it"
    )
    assert created
    assert not created_again
    assert again.pk == row.pk
    assert ReconciliationAction.objects.filter(worker=first, action="resolve").count() == 1
    assert AuditEvent.objects.filter(action="protection.reconciliation_action").count() == 2
    [item] = by_kind(recon.exceptions_for_month(APR))["paid_inactive"]
    assert item.state == "resolved"
    assert [a.action for a in item.actions] == ["escalate", "resolve"]
    assert recon.exception_counts(recon.exceptions_for_month(APR))["paid_inactive"] == {"open": 0, "resolved": 1}
    with pytest.raises(ReconciliationResolved):
        recon.exception_act(actor=finance, kind="paid_inactive", worker_id=first.pk, month=APR, action="resubmit")


def test_actions_on_the_rejected_line_and_refusals(paid_april, people):
    refused = paid_april["workers"][3]
    finance = people["finance"]
    _row, created = recon.exception_act(
        actor=finance, kind="rejected", worker_id=refused.pk, month=APR, action="resubmit"
    )
    _row, created_again = recon.exception_act(
        actor=finance, kind="rejected", worker_id=refused.pk, month=APR, action="resubmit"
    )
    assert (created, created_again) == (True, False)
    assert ReconciliationAction.objects.get(kind="rejected").line.reason == "not_registered"
    with pytest.raises(ReconciliationNotFound):  # no such exception: the first worker's April is fine
        recon.exception_act(
            actor=finance, kind="rejected", worker_id=paid_april["workers"][0].pk, month=APR, action="resubmit"
        )
    with pytest.raises(Forbidden):
        recon.exception_act(
            actor=UserFactory(role="auditor"), kind="rejected", worker_id=refused.pk, month=APR, action="escalate"
        )
    assert ReconciliationAction.objects.count() == 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, False),
        (rules.Status("grace", date(2027, 5, 1), date(2027, 3, 1)), True),
        (rules.Status("not_started", date(2027, 4, 1), None), True),
        (rules.Status("ended", date(2027, 4, 1), date(2027, 4, 1)), True),  # taken in April itself, not covered
        (rules.Status("active", date(2027, 4, 1), date(2027, 4, 1)), False),
        (rules.Status("grace", date(2027, 6, 1), date(2027, 4, 1)), False),  # April is paid; later months are not ours
        (rules.Status("ended", date(2027, 3, 1), None), False),  # taken before April: says nothing of it
    ],
)
def test_paid_but_inactive_rule(status, expected):
    assert rules.paid_but_inactive(date(2027, 4, 1), status) is expected


def test_active_but_unpaid_rule():
    april = date(2027, 4, 1)
    active = rules.Status("active", april, april)
    assert rules.active_but_unpaid(april, active, we_paid=False, other_payer=False)
    assert not rules.active_but_unpaid(april, active, we_paid=True, other_payer=False)
    assert not rules.active_but_unpaid(april, active, we_paid=False, other_payer=True)
    assert not rules.active_but_unpaid(april, None, we_paid=False, other_payer=False)
    # Paid through June: April lies between, and only the last paid month is known.
    assert not rules.active_but_unpaid(
        april, rules.Status("active", date(2027, 6, 1), date(2027, 6, 1)), we_paid=False, other_payer=False
    )
    assert rules.exception_state(["escalate"]) == "open"
    assert rules.exception_state(["escalate", "resolve"]) == "resolved"


def test_actions_are_append_only_in_the_database(paid_april, people):
    from django.db import DatabaseError, transaction

    refused = paid_april["workers"][3]
    row, _ = recon.exception_act(
        actor=people["finance"], kind="rejected", worker_id=refused.pk, month=APR, action="escalate"
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        ReconciliationAction.objects.filter(pk=row.pk).update(note="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        ReconciliationAction.objects.filter(pk=row.pk).delete()
    assert ReconciliationAction.objects.get(pk=row.pk).note == ""


MONTHS = [MAR, APR, date(2027, 5, 1), JUL]
AGENCY_STATES = ["not_started", "active", "grace", "ended", "reactivated"]
# What the agency reports of one worker: nothing, a status under the worker's own KPJ number, or one found only by
# the NIK (a KPJ number the worker record does not carry).
statuses = st.one_of(
    st.none(),
    st.tuples(
        st.sampled_from(["kpj", "nik"]),
        st.sampled_from(AGENCY_STATES),
        st.sampled_from(MONTHS),
        st.one_of(st.none(), st.sampled_from(MONTHS)),
    ),
)


def _oracle(month: date, workers) -> set[tuple[str, int]]:
    """The month's exceptions by the pure rules, worker by worker, from the facts the database holds."""
    from lingkaran.protection.models import ContributionLine, SponsoredMonth

    expected = set()
    for worker in workers:
        row = (
            MembershipStatus.objects.filter(kpj_number=worker.kpj_number).first() if worker.kpj_number else None
        ) or MembershipStatus.objects.filter(nik_index=worker.nik_index).order_by("-kpj_number").first()
        status = rules.Status(row.state, row.as_of, row.last_paid_month) if row else None
        lines = ContributionLine.objects.filter(worker=worker, month=month).exclude(
            state="rejected", retry__isnull=False
        )
        confirmed = lines.filter(state="confirmed").exists()
        if lines.filter(state="rejected").exists():
            expected.add(("rejected", worker.pk))
        if confirmed and rules.paid_but_inactive(month, status):
            expected.add(("paid_inactive", worker.pk))
        billed = ContributionLine.objects.filter(worker=worker).exists()
        other = SponsoredMonth.objects.filter(worker=worker, month=month).exists()
        if billed and rules.active_but_unpaid(month, status, we_paid=confirmed, other_payer=other):
            expected.add(("active_unpaid", worker.pk))
    return expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reported=st.lists(statuses, min_size=4, max_size=4))
def test_the_set_based_exceptions_equal_the_pure_rules_worker_by_worker(paid_april, reported):
    workers = paid_april["workers"]
    for worker in workers:
        worker.refresh_from_db()
    MembershipStatus.objects.all().delete()
    for number, (worker, report) in enumerate(zip(workers, reported, strict=True)):
        if report is None:
            continue
        how, state, as_of, last_paid = report
        own = worker.kpj_number if how == "kpj" and worker.kpj_number else f"9900000000{number}"
        MembershipStatus.objects.create(
            kpj_number=own,
            nik_index=worker.nik_index,
            state=state,
            as_of=as_of,
            last_paid_month=last_paid,
            source="simulator",
        )
    for month in MONTHS:
        found = {(item.kind, item.worker_id) for item in recon.exceptions_for_month(month)}
        assert found == _oracle(month, workers), month
        for worker in workers:  # the one-worker view agrees with the month's
            mine = {(item.kind, item.worker_id) for item in recon.exceptions_for_month(month, worker_id=worker.pk)}
            assert mine == {item for item in found if item[1] == worker.pk}
