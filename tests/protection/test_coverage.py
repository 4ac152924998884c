"""Coverage per worker: the state from the agency domain's membership rules, the protected months with who paid,
counts per state for many workers in a fixed number of queries, and the public check's matching and audit."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lingkaran.core.models import AuditEvent
from lingkaran.protection import coverage as reads
from lingkaran.protection.agency.domain.months import add_months, first_of_month
from lingkaran.protection.agency.models import MembershipStatus
from lingkaran.protection.domain.coverage import State, coverage
from lingkaran.protection.models import ContributionLine, Cycle, CycleChunk, SponsoredMonth, Sponsorship
from tests.conftest import NIK_MAN, NIK_WOMAN
from tests.factories import FunderFactory, UserFactory

TODAY = date(2027, 6, 20)
JUNE = date(2027, 6, 1)
MONTHLY = 16_800


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def pay(worker, months, *, funder=None, campaign=None, state=SponsoredMonth.State.PAID, by=None):
    """Paid sponsored months for ``worker`` (written directly: the cycle's own tests cover how they get paid)."""
    funder = funder if funder is not None or campaign is not None else FunderFactory()
    months = sorted(months)
    block = Sponsorship.objects.create(
        worker=worker,
        kind="directed",
        source="csr",
        funder=funder,
        campaign=campaign,
        pool="pool:test",
        package="jkk_jkm",
        start_month=months[0],
        months=len(months),
        total=MONTHLY * len(months),
        request_key=f"test:{worker.pk}:{months[0]:%Y%m}",
        created_by=by or UserFactory(role="operator"),
    )
    return [
        SponsoredMonth.objects.create(
            worker=worker, month=m, sponsorship=block, amount=MONTHLY, reservation_key=f"r:{worker.pk}:{m}", state=state
        )
        for m in months
    ]


def confirm_line(sponsored: SponsoredMonth, state=ContributionLine.State.CONFIRMED) -> ContributionLine:
    cycle, _ = Cycle.objects.get_or_create(month=sponsored.month)
    chunk, _ = CycleChunk.objects.get_or_create(cycle=cycle, province="64")
    return ContributionLine.objects.create(
        cycle=cycle,
        chunk=chunk,
        worker=sponsored.worker,
        month=sponsored.month,
        amount=sponsored.amount,
        funding_source="csr",
        sponsorship=sponsored.sponsorship,
        sponsored_month=sponsored,
        pool="pool:test",
        state=state,
    )


def months_from(first: date, count: int) -> list[date]:
    return [add_months(first, i) for i in range(count)]


# --- Pure rules ------------------------------------------------------------------------------------------------------


def test_active_runs_through_the_months_paid_ahead_and_is_due_on_the_15th_after():
    cov = coverage(months_from(date(2027, 4, 1), 6), TODAY)
    assert cov.state == State.ACTIVE
    assert cov.covered
    assert cov.protected_through == date(2027, 9, 1)
    assert cov.next_due == date(2027, 10, 15)
    assert cov.pay_before is None


def test_grace_keeps_the_arrears_payable_until_the_fourth_unpaid_month():
    cov = coverage(months_from(date(2027, 2, 1), 3), TODAY)  # Feb–Apr paid; May, June unpaid
    assert cov.state == State.GRACE
    assert not cov.covered
    assert cov.protected_through == date(2027, 4, 1)
    assert cov.pay_before == date(2027, 8, 1)
    assert cov.next_due == date(2027, 6, 15)
    assert date(2027, 5, 1) in cov.arrears


def test_more_than_three_unpaid_months_end_it_and_a_new_payment_reactivates():
    ended = coverage(months_from(date(2026, 12, 1), 2), TODAY)  # last paid January: Feb–June unpaid
    assert ended.state == State.ENDED
    assert ended.protected_through == date(2027, 1, 1)
    assert ended.next_due is None
    assert ended.arrears == ()
    back = coverage([*months_from(date(2026, 12, 1), 2), JUNE, date(2027, 7, 1)], TODAY)
    assert back.state == State.REACTIVATED
    assert back.protected_through == date(2027, 7, 1)


def test_nothing_paid_is_not_started_and_the_agency_file_can_say_more():
    assert coverage([], TODAY).state == State.NOT_STARTED
    # The agency knows a month the worker paid at a partner channel.
    assert coverage([], TODAY, agency_last_paid=date(2027, 6, 3)).state == State.ACTIVE
    # Ended after a JHT claim: the agency calls it nonaktif.
    assert coverage([date(2026, 1, 1)], TODAY, agency_state="inactive").state == State.INACTIVE


# --- Selectors -------------------------------------------------------------------------------------------------------


@pytest.fixture
def people(db, region_tree):
    return {"operator": UserFactory(role="operator"), "agent": UserFactory(role="field_agent")}


def test_one_worker_shows_every_protected_month_with_who_paid(people, register_worker):
    worker = register_worker(people["operator"])
    company = FunderFactory(name="PT Sumber Rejeki")
    april, may, june = pay(worker, months_from(date(2027, 4, 1), 3), funder=company)
    confirm_line(april)
    pay(worker, [date(2027, 7, 1)], state=SponsoredMonth.State.RESERVED)  # reserved, not paid: no cover yet
    with CaptureQueriesContext(connection) as queries:
        result = reads.worker_coverage(worker, today=TODAY)
    assert len(queries) <= 3
    assert result.coverage.state == State.ACTIVE
    assert result.coverage.protected_through == JUNE
    assert [m.month for m in result.months] == [june.month, may.month, april.month]
    assert {m.payer for m in result.months} == {"PT Sumber Rejeki"}
    assert [m.source for m in result.months] == ["sponsored_month", "sponsored_month", "line"]
    assert result.months[-1].kind == ContributionLine.Kind.SPONSORED


def test_a_rejected_line_does_not_cover_and_the_agency_status_is_matched_by_kpj(people, register_worker):
    worker = register_worker(people["operator"])
    (march,) = pay(worker, [date(2027, 3, 1)], state=SponsoredMonth.State.REJECTED)
    confirm_line(march, state=ContributionLine.State.REJECTED)
    assert reads.worker_coverage(worker, today=TODAY).coverage.state == State.NOT_STARTED
    worker.kpj_number = "12345678901"
    worker.save(update_fields=["kpj_number"])
    MembershipStatus.objects.create(
        kpj_number="12345678901", state="active", as_of=TODAY, last_paid_month=JUNE, source="simulator"
    )
    assert reads.worker_coverage(worker, today=TODAY).coverage.state == State.ACTIVE


def test_counts_per_state_for_a_region_and_a_funder_take_a_fixed_number_of_queries(people, register_worker):
    company = FunderFactory()
    active = register_worker(people["operator"])
    grace = register_worker(people["operator"], NIK_WOMAN)
    pay(active, months_from(date(2027, 5, 1), 3), funder=company)
    pay(grace, months_from(date(2027, 1, 1), 3), funder=company)
    ended = register_worker(people["operator"], "6409011708900003")
    pay(ended, [date(2026, 12, 1)])
    register_worker(people["operator"], "6409011708900004")  # nothing paid
    with CaptureQueriesContext(connection) as queries:
        counts = reads.coverage_counts(people["operator"], today=TODAY, region="64.09")
    assert len(queries) <= 5
    assert counts["total"] == 4
    assert (counts["active"], counts["grace"], counts["ended"], counts["not_started"]) == (1, 1, 1, 1)
    by_funder = reads.coverage_counts(people["operator"], today=TODAY, funder_id=company.pk)
    assert by_funder["total"] == 2
    assert by_funder["active"] == 1
    assert by_funder["grace"] == 1
    assert reads.coverage_counts(people["operator"], today=TODAY, region="33")["total"] == 0


def test_the_public_check_needs_the_birth_date_and_audits_without_the_nik(people, register_worker):
    worker = register_worker(people["operator"])
    pay(worker, months_from(date(2027, 6, 1), 2))
    found = reads.coverage_check(NIK_MAN, worker.birth_date, today=TODAY)
    assert found is not None
    assert found.state == State.ACTIVE
    assert reads.coverage_check(NIK_MAN, date(1990, 8, 18), today=TODAY) is None
    assert reads.coverage_check("6409011708909999", worker.birth_date, today=TODAY) is None
    events = AuditEvent.objects.filter(action="protection.coverage_checked")
    assert events.count() == 3
    for event in events:
        assert NIK_MAN not in str(event.details)
        assert NIK_MAN not in event.object_label + event.object_id
    assert sorted(e.details["answer"] for e in events) == ["active", "no_match", "no_match"]


def test_the_limit_counts_per_address_and_per_nik():
    index = reads.nik_index(NIK_MAN)
    now = 1_800_000_000.0
    assert all(reads.check_allowed(ip_address="10.0.0.1", index=index, now=now) for _ in range(reads.CHECK_LIMIT))
    assert not reads.check_allowed(ip_address="10.0.0.2", index=index, now=now)  # same NIK, other address
    other = reads.nik_index(NIK_WOMAN)
    assert not reads.check_allowed(ip_address="10.0.0.1", index=other, now=now)  # same address, other NIK
    assert reads.check_allowed(ip_address="10.0.0.3", index=other, now=now + reads.CHECK_WINDOW_SECONDS)


def test_month_helpers_agree():
    assert first_of_month(TODAY) == JUNE
