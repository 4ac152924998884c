"""Continuation through the monthly cycle: co-paid, self and bridged lines, each part posted from and returned to
its own pool, the debt to the bridge fund repaid first from the next payment, a short month not billed."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingkaran.continuation.domain import rules
from lingkaran.continuation.errors import PaymentDuplicate, PlanMonthsTaken, PlanPoolInsufficient
from lingkaran.continuation.models import MonthPart, PlanMonth, WorkerPayment
from lingkaran.continuation.selectors import worker_continuation
from lingkaran.continuation.services import plan_create, worker_debt, worker_payment_record
from lingkaran.core.errors import Forbidden, InvalidInput, NotFound
from lingkaran.core.models import AuditEvent
from lingkaran.ledger.models import JournalEntry
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection.domain import cycle as cycle_rules
from lingkaran.protection.models import ContributionLine
from lingkaran.protection.sponsorships import sponsor_directed
from tests.continuation.conftest import APR, JUL, JUN, MAY, MONTHLY, PAY_DAY, fund

# --- The pure rules ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "bp", "parts"),
    [
        (16_800, 2500, (12_600, 4_200)),
        (16_800, 5000, (8_400, 8_400)),
        (16_800, 7500, (4_200, 12_600)),
        (16_800, 10_000, (0, 16_800)),
        (16_801, 5000, (8_401, 8_400)),  # the leftover rupiah: the funder (first share) on a tie
        (8_400, 100, (8_316, 84)),
        (0, 5000, (0, 0)),
    ],
)
def test_month_parts_table(amount, bp, parts):
    assert rules.month_parts(amount, bp) == parts


def test_step_down_and_share_checks():
    assert rules.step_down(2500, 2500, 4) == (2500, 5000, 7500, 10_000)
    assert rules.step_down(5000, 2500, 4) == (5000, 7500, 10_000, 10_000)
    for bad in ([], [99], [9950], [0], [10_001], [5000] * 25):
        with pytest.raises(rules.PlanInvalid):
            rules.check_shares(bad)
    rules.check_shares([100, 9900, 10_000])


def test_cover_table():
    dues = [rules.Due(1, 8_400, 10_000), rules.Due(2, 8_400, 400), rules.Due(3, 8_400, 0), rules.Due(4, 100, 0)]
    assert rules.cover_all(dues, 9_000) == (
        rules.Cover(1, 8_400, 0, True),
        rules.Cover(2, 400, 8_000, True),
        rules.Cover(3, 0, 0, False),  # the fund has 1,000 left: not the whole 8,400
        rules.Cover(4, 0, 100, True),  # but a later, smaller shortfall still is bridged
    )
    assert rules.repayment(8_400, 10_000) == 8_400
    assert rules.repayment(8_400, 5_000) == 5_000
    assert rules.repayment(0, 5_000) == 0


@given(
    amount=st.integers(0, 5_000_000),
    bp=st.one_of(st.integers(100, 9900), st.just(10_000)),
    balance=st.integers(0, 5_000_000),
    fund_left=st.integers(0, 5_000_000),
)
def test_parts_always_add_up_and_are_never_negative(amount, bp, balance, fund_left):
    funder, worker = rules.month_parts(amount, bp)
    assert funder + worker == amount
    assert funder >= 0
    assert worker >= 0
    (cover,) = rules.cover_all([rules.Due(1, worker, balance)], fund_left)
    assert cover.own >= 0
    assert cover.bridged >= 0
    if cover.billed:
        assert funder + cover.own + cover.bridged == amount
        assert cover.own <= balance
        assert cover.bridged <= fund_left
    else:
        assert (cover.own, cover.bridged) == (0, 0)
        assert balance + fund_left < worker


# --- Through the cycle -------------------------------------------------------------------------------------------------


def run(month: date):
    return cycle_services.cycle_run(month=month, today=PAY_DAY, tasks=False)


def test_a_step_down_plan_bills_co_paid_then_self_months_with_each_part_posted(world, people):
    a = world["workers"][0]
    plan = plan_create(
        actor=people["operator"],
        worker_id=a.pk,
        first_month=APR,
        shares_bp=[2500, 5000, 7500, 10_000],
        funder_pool=world["pool"],
        funder_source="csr",
    )
    months = list(plan.plan_months.values_list("month", "amount", "funder_part", "worker_part"))
    assert months == [
        (APR, MONTHLY, 12_600, 4_200),
        (MAY, MONTHLY, 8_400, 8_400),
        (JUN, MONTHLY, 4_200, 12_600),
        (JUL, MONTHLY, 0, MONTHLY),
    ]
    assert plan.funder_reserved == 25_200
    assert balance_of(world["pool"]) == 1_000_000 - 25_200
    worker_payment_record(
        actor=people["agent"], worker_id=a.pk, amount=50_000, paid_on=date(2026, 12, 1), receipt_number="KW-1"
    )
    pool = rules.worker_pool(a.pk)
    assert balance_of(pool) == 50_000

    bank_before = balance_of(cycle_rules.BANK)
    summary = run(APR)
    assert (summary.lines, summary.total, summary.confirmed_amount) == (1, MONTHLY, MONTHLY)
    line = ContributionLine.objects.get(worker=a, month=APR)
    assert (line.kind, line.state, line.funding_source, line.amount) == ("co_paid", "confirmed", "csr", MONTHLY)
    assert balance_of(pool) == 50_000 - 4_200
    assert balance_of(cycle_rules.PAYABLE) == 0
    assert balance_of(cycle_rules.BANK) == bank_before - MONTHLY  # paid to the agency from the trust bank account
    # one paid entry per pool of the chunk: the company's part and the worker's own part
    paid = dict(
        JournalEntry.objects.filter(idempotency_key__startswith="cycle:2027-04:64:paid:").values_list(
            "idempotency_key", "total"
        )
    )
    assert paid == {f"cycle:2027-04:64:paid:{world['pool']}": 12_600, f"cycle:2027-04:64:paid:{pool}": 4_200}

    for month in (MAY, JUN, JUL):
        run(month)
    kinds = list(ContributionLine.objects.filter(worker=a).order_by("month").values_list("kind", "amount", "state"))
    assert kinds == [("co_paid", MONTHLY, "confirmed")] * 3 + [("self", MONTHLY, "confirmed")]
    assert balance_of(pool) == 50_000 - 4_200 - 8_400 - 12_600 - 16_800
    assert balance_of(world["pool"]) == 1_000_000 - 25_200
    assert balance_of("liability:reserved:worker-contributions") == 0
    assert verify().clean

    # running a month again changes nothing
    entries, lines = JournalEntry.objects.count(), ContributionLine.objects.count()
    run(APR)
    run(JUL)
    assert (JournalEntry.objects.count(), ContributionLine.objects.count()) == (entries, lines)


def test_a_short_worker_is_bridged_and_repays_from_the_next_payment_and_a_short_fund_bills_nothing(world, people):
    b, c = world["workers"][1], world["workers"][2]
    fund(world["bridge"], 8_400, "test:fund:bridge")
    for worker in (b, c):
        plan_create(
            actor=people["finance"], worker_id=worker.pk, first_month=APR, shares_bp=[5000], funder_pool=world["pool"]
        )
    worker_payment_record(
        actor=people["finance"], worker_id=c.pk, amount=1_000, paid_on=date(2026, 12, 1), receipt_number="KW-C1"
    )
    summary = run(APR)
    assert summary.lines == 1
    line = ContributionLine.objects.get(month=APR)
    assert (line.worker_id, line.kind, line.state) == (b.pk, "bridged", "confirmed")
    assert balance_of(world["bridge"]) == 0
    assert worker_debt(b.pk) == 8_400
    # c: own 1,000 + the fund's 0 cannot pay 8,400: not billed, nothing taken from c, reported as short
    short = PlanMonth.objects.get(worker=c)
    assert (short.state, short.own_part, short.bridged_part) == ("short", 0, 0)
    assert balance_of(rules.worker_pool(c.pk)) == 1_000
    assert not MonthPart.objects.filter(plan_month=short).exclude(role="funder").exists()
    view = worker_continuation(people["finance"], c.pk)
    assert view.counts == {"co_paid": 0, "self": 0, "bridged": 0, "short": 1}

    # b's next payment repays the fund first
    payment = worker_payment_record(
        actor=people["agent"], worker_id=b.pk, amount=10_000, paid_on=date(2026, 12, 2), receipt_number="KW-B1"
    )
    assert payment.repaid == 8_400
    assert worker_debt(b.pk) == 0
    assert balance_of(rules.worker_pool(b.pk)) == 1_600
    assert balance_of(world["bridge"]) == 8_400
    assert JournalEntry.objects.get(idempotency_key=f"continuation:repay:{payment.pk}").total == 8_400
    # the same receipt again: the same payment, nothing moves; another payment under it is refused
    entries = JournalEntry.objects.count()
    assert (
        worker_payment_record(
            actor=people["agent"], worker_id=b.pk, amount=10_000, paid_on=date(2026, 12, 2), receipt_number="KW-B1"
        )
        == payment
    )
    with pytest.raises(PaymentDuplicate):
        worker_payment_record(
            actor=people["agent"], worker_id=b.pk, amount=9_000, paid_on=date(2026, 12, 2), receipt_number="KW-B1"
        )
    assert JournalEntry.objects.count() == entries
    # c pays the rest; a later run of the month bills c now (own money 8,400, nothing bridged)
    worker_payment_record(
        actor=people["agent"], worker_id=c.pk, amount=7_400, paid_on=date(2026, 12, 2), receipt_number="KW-C2"
    )
    run(APR)
    line_c = ContributionLine.objects.get(worker=c, month=APR)
    assert (line_c.kind, line_c.state) == ("co_paid", "confirmed")
    assert balance_of(rules.worker_pool(c.pk)) == 0
    assert verify().clean


def test_a_rejected_line_returns_each_part_to_its_own_pool(world, people):
    d = world["workers"][3]  # a wage earner: the agency rejects the line
    fund(world["bridge"], 20_000, "test:fund:bridge")
    plan_create(actor=people["operator"], worker_id=d.pk, first_month=APR, shares_bp=[5000], funder_pool=world["pool"])
    worker_payment_record(
        actor=people["finance"], worker_id=d.pk, amount=3_000, paid_on=date(2026, 12, 1), receipt_number="KW-D1"
    )
    run(APR)
    line = ContributionLine.objects.get(worker=d)
    assert (line.kind, line.state) == ("bridged", "rejected")
    assert balance_of(world["pool"]) == 1_000_000  # the funder's 8,400 back
    assert balance_of(rules.worker_pool(d.pk)) == 3_000  # the worker's own 3,000 back
    assert balance_of(world["bridge"]) == 20_000  # the fund's 5,400 back
    assert worker_debt(d.pk) == 0  # a rejected month leaves no debt
    returns = dict(
        JournalEntry.objects.filter(idempotency_key__contains=":return:").values_list("idempotency_key", "total")
    )
    assert sorted(returns.values()) == [3_000, 5_400, 8_400]
    assert verify().clean
    entries = JournalEntry.objects.count()
    run(APR)  # a rejected month is not billed again
    assert JournalEntry.objects.count() == entries
    assert ContributionLine.objects.filter(worker=d).count() == 1


def test_a_sponsored_month_is_never_also_co_paid(world, people):
    a = world["workers"][0]
    plan_create(
        actor=people["operator"], worker_id=a.pk, first_month=APR, shares_bp=[5000, 5000], funder_pool=world["pool"]
    )
    with pytest.raises(PlanMonthsTaken):
        plan_create(
            actor=people["operator"], worker_id=a.pk, first_month=MAY, shares_bp=[5000], funder_pool=world["pool"]
        )
    # a sponsorship made later for a plan month wins it: the plan month is superseded, its funder part returned
    from lingkaran.protection.models import SponsoredMonth

    sponsor_directed(
        funder=world["company"], worker_ids=[a.pk], start=MAY, months=1, package="jkk_jkm", by=people["finance"]
    )
    assert SponsoredMonth.objects.filter(worker=a, month=MAY).exists()
    run(MAY)
    assert list(ContributionLine.objects.filter(worker=a, month=MAY).values_list("kind", flat=True)) == ["sponsored"]
    assert PlanMonth.objects.get(worker=a, month=MAY).state == "superseded"
    assert balance_of(world["pool"]) == 1_000_000 - 8_400 - MONTHLY  # April's part still reserved, May's sponsorship
    assert verify().clean


def test_refusals_change_nothing(world, people):
    a = world["workers"][0]
    entries = JournalEntry.objects.count()
    with pytest.raises(Forbidden):
        plan_create(
            actor=people["auditor"], worker_id=a.pk, first_month=APR, shares_bp=[5000], funder_pool=world["pool"]
        )
    with pytest.raises(InvalidInput):
        plan_create(
            actor=people["operator"], worker_id=a.pk, first_month=APR, shares_bp=[9950], funder_pool=world["pool"]
        )
    with pytest.raises(InvalidInput):
        plan_create(
            actor=people["operator"],
            worker_id=a.pk,
            first_month=APR,
            shares_bp=[5000],
            funder_pool="liability:pool:none",
        )
    with pytest.raises(PlanPoolInsufficient):
        plan_create(
            actor=people["operator"], worker_id=a.pk, first_month=APR, shares_bp=[5000], funder_pool=world["bridge"]
        )
    with pytest.raises(NotFound):
        worker_payment_record(
            actor=people["far_agent"], worker_id=a.pk, amount=5_000, paid_on=date(2026, 12, 1), receipt_number="X"
        )
    with pytest.raises(Forbidden):
        worker_payment_record(
            actor=people["operator"], worker_id=a.pk, amount=5_000, paid_on=date(2026, 12, 1), receipt_number="X"
        )
    with pytest.raises(InvalidInput):
        worker_payment_record(
            actor=people["agent"], worker_id=a.pk, amount=0, paid_on=date(2026, 12, 1), receipt_number="X"
        )
    assert JournalEntry.objects.count() == entries
    assert not PlanMonth.objects.exists()
    assert not WorkerPayment.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="continuation.").exists()
