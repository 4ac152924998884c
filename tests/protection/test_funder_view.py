"""The funder view's reads (``protection/selectors_funder.py``) on a small built world, and the attribution rule
(``protection/domain/attribution.py``) as a table and as Hypothesis properties.

The world (``funder_world``, shared with the page, API and browser tests): four verified ojek drivers, the fourth
refused by the agency (covered as a wage earner); two donors give to PT Sendiri's pool through the sandbox gateway
(Rp 50.400, then Rp 168.000); PT Sendiri sponsors all four for April-June 2027 (12 worker-months at Rp 16.800); the
April cycle pays three months and returns the fourth worker's April to the pool. A second company, PT Lain, with its
own user, sponsors nobody.

By first in, first out, the first donation pays worker 1's three months; the second pays worker 2's and worker 3's
three months each and worker 4's May and June (Rp 134.400), and Rp 33.600 of it is still unspent: exactly what the
ledger holds available in the pool.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingkaran.core.errors import Forbidden, NotFound
from lingkaran.funding import accounts
from lingkaran.funding import services as funding_services
from lingkaran.funding.models import FunderMembership
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.ledger.services import transfer
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection import selectors_funder as reads
from lingkaran.protection.agency import services as agency
from lingkaran.protection.agency.services import RegistrationInput
from lingkaran.protection.domain import attribution as rules
from lingkaran.protection.domain.attribution import Attribution, Receipt, Spend
from lingkaran.protection.models import SponsoredMonth
from lingkaran.protection.sponsorships import ShareSpec, sponsor_directed
from lingkaran.registry.services import worker_decide
from tests.factories import FunderFactory, RegionFactory, UserFactory
from tests.web.funding_helpers import _predictable_sandbox, pay  # noqa: F401 - fixtures

APR, MAY, JUN = date(2027, 4, 1), date(2027, 5, 1), date(2027, 6, 1)
PAY_DAY = date(2027, 4, 3)
IN_APRIL = date(2027, 4, 10)
MONTHLY = 16_800
FIRST_GIFT, SECOND_GIFT = 50_400, 168_000
NIKS = ["6409011708900001", "6409011708900002", "3374011708900003", "6409011708900004"]


@pytest.fixture
def funder_world(db, register_worker, region_tree, pay):  # noqa: F811
    staff = {role: UserFactory(role=role) for role in ("operator", "verifier", "finance", "auditor", "field_agent")}
    own = FunderFactory(kind="company", name="PT Sendiri")
    other = FunderFactory(kind="company", name="PT Lain")
    csr = UserFactory(role="funder", username="csr.sendiri")
    csr_other = UserFactory(role="funder", username="csr.lain")
    FunderMembership.objects.create(user=csr, funder=own)
    FunderMembership.objects.create(user=csr_other, funder=other)
    donors = [
        UserFactory(role="worker", username="nur.donatur", email="nur@contoh.id"),
        UserFactory(role="worker", username="rudi.donatur", email="rudi@contoh.id"),
    ]
    RegionFactory(code="33.74.01.1001", name="Pekunden")
    regions = ["64.09.01.2020", "64.09.01.2020", "33.74.01.1001", "64.09.01.1001"]
    workers = []
    for nik, region in zip(NIKS, regions, strict=True):
        worker = register_worker(staff["operator"], nik=nik, region_code=region, full_name="Budi Rahasia")
        worker_decide(actor=staff["verifier"], worker_id=worker.pk, decision="verified", reason="KTP checked")
        workers.append(worker)
    agency.simulator_wage_earner_add(actor=staff["operator"], nik=NIKS[3], employer="PT Contoh")
    batch = agency.registration_batch_open(key="test:registrations", today=date(2026, 11, 2))
    agency.registration_requests_add(
        batch_id=batch.pk,
        requests=[RegistrationInput(worker_id=w.pk, income_nominal=1_000_000, sector="transport") for w in workers],
    )
    agency.registration_batch_submit(batch_id=batch.pk)
    intents = []
    for donor, amount in zip(donors, (FIRST_GIFT, SECOND_GIFT), strict=True):
        intent = funding_services.donation_start(
            target=funding_services.DonationTarget.for_funder(own),
            amount=amount,
            donor=donor,
            donor_name="Donatur Rahasia",
            donor_email=donor.email,
        )
        intent = pay(intent)
        assert intent.state == "settled"
        intents.append(intent)
    sponsor_directed(
        funder=own, worker_ids=[w.pk for w in workers], start=APR, months=3, package="jkk_jkm", by=staff["finance"]
    )
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    return {
        "staff": staff,
        "own": own,
        "other": other,
        "csr": csr,
        "csr_other": csr_other,
        "donors": donors,
        "donations": [i.donation for i in intents],
        "workers": workers,
        "pool": f"liability:pool:funder:{own.pk}",
    }


# --- The figures ----------------------------------------------------------------------------------------------------


def test_the_summary_counts_worker_months_workers_and_money_and_ties_to_the_ledger(funder_world):
    scope = reads.funder_scope(funder_world["csr"], funder_world["own"].pk)
    s = reads.summary(scope, today=IN_APRIL)
    assert (s.paid.months, s.paid.amount) == (3, 3 * MONTHLY)
    assert (s.reserved.months, s.reserved.amount) == (8, 8 * MONTHLY)
    assert (s.rejected.months, s.rejected.amount) == (1, MONTHLY)
    assert (s.released.months, s.released.amount) == (0, 0)
    assert (s.funded.months, s.funded.amount) == (11, 11 * MONTHLY)
    assert s.workers_funded == 4
    assert s.workers_protected_now == 3
    assert (s.latest_paid_month, s.workers_in_latest_paid_month) == (APR, 3)
    assert s.blocks_ending == 0  # June ends after 9 June
    # The ledger: what came in, what is held for the reserved months, what is left.
    assert s.ledger.received == FIRST_GIFT + SECOND_GIFT
    assert s.ledger.held_in_reserve == 8 * MONTHLY == balance_of(f"liability:reserved:funder:{funder_world['own'].pk}")
    assert s.ledger.available == balance_of(funder_world["pool"]) == FIRST_GIFT + SECOND_GIFT - 11 * MONTHLY
    assert s.reserve_ties
    assert verify().clean


def test_nothing_is_protected_in_a_month_not_yet_paid_and_blocks_ending_within_60_days(funder_world):
    scope = reads.funder_scope(funder_world["staff"]["operator"], funder_world["own"].pk)
    s = reads.summary(scope, today=date(2027, 5, 10))
    assert (s.workers_protected_now, s.latest_paid_month, s.workers_in_latest_paid_month) == (0, APR, 3)
    assert s.blocks_ending == 4
    ending = list(reads.blocks_ending(scope, today=date(2027, 5, 10)))
    assert [(b.worker_id, b.last_month, b.renewed) for b in ending] == [
        (w.pk, JUN, False) for w in funder_world["workers"]
    ]
    assert {b.regency for b in ending} == {"64.09", "33.74"}
    assert reads.summary(scope, today=date(2027, 7, 1)).blocks_ending == 0  # June has ended
    assert reads.summary(scope, today=date(2027, 4, 30)).blocks_ending == 0  # 29 June is the 60th day
    assert reads.summary(scope, today=date(2027, 5, 1)).blocks_ending == 4  # 30 June is the 60th day
    # A renewal marks the block renewed (July for the first worker, from what is left in the pool).
    first = funder_world["workers"][0]
    sponsor_directed(
        funder=funder_world["own"],
        worker_ids=[first.pk],
        start=date(2027, 7, 1),
        months=1,
        package="jkk_jkm",
        by=funder_world["staff"]["finance"],
    )
    renewed = {b.worker_id: b.renewed for b in reads.blocks_ending(scope, today=date(2027, 5, 10))}
    assert renewed == {w.pk: w == first for w in funder_world["workers"]}


def test_the_series_and_the_covered_workers(funder_world):
    scope = reads.funder_scope(funder_world["csr"], funder_world["own"].pk)
    series = reads.monthly_series(scope)
    assert [(p.month, p.paid, p.reserved, p.by_state["rejected"].months) for p in series] == [
        (APR, 3, 0, 1),
        (MAY, 0, 4, 0),
        (JUN, 0, 4, 0),
    ]
    rows = list(reads.covered_workers(scope, today=IN_APRIL))
    w = funder_world["workers"]
    assert [(r["worker_id"], r["nik_masked"], r["regency"]) for r in rows] == [
        (w[0].pk, w[0].nik_masked, "64.09"),
        (w[1].pk, w[1].nik_masked, "64.09"),
        (w[2].pk, w[2].nik_masked, "33.74"),
        (w[3].pk, w[3].nik_masked, "64.09"),
    ]
    assert [(r["first_month"], r["last_month"], r["months_paid"], r["months_reserved"]) for r in rows] == [
        (APR, JUN, 1, 2),
        (APR, JUN, 1, 2),
        (APR, JUN, 1, 2),
        (MAY, JUN, 0, 2),
    ]
    assert [(r["amount_paid"], r["amount_reserved"], r["protected_now"]) for r in rows] == [
        (MONTHLY, 2 * MONTHLY, 1),
        (MONTHLY, 2 * MONTHLY, 1),
        (MONTHLY, 2 * MONTHLY, 1),
        (0, 2 * MONTHLY, 0),
    ]
    months = reads.months_of_workers(scope, [w[3].pk])
    assert months[w[3].pk] == [(APR, "rejected", MONTHLY), (MAY, "reserved", MONTHLY), (JUN, "reserved", MONTHLY)]
    assert reads.scope_region_names(scope) == {"64.09": "Kabupaten Penajam Paser Utara", "33.74": "Kota Semarang"}


def test_a_co_funded_block_counts_for_each_funder_by_its_share(funder_world):
    """PT Sendiri and PT Lain co-fund worker 1's July and August 2027, half each (Rp 8.400 a month each)."""
    own, other = funder_world["own"], funder_world["other"]
    other_pool = accounts.open_pool(target="funder", funder_id=other.pk)
    transfer(
        key="test:fund:other", source=accounts.open_bank(), target=other_pool, amount=100_000, effective_on=PAY_DAY
    )
    first = funder_world["workers"][0]
    sponsor_directed(
        funder=own,
        worker_ids=[first.pk],
        start=date(2027, 7, 1),
        months=2,
        package="jkk_jkm",
        by=funder_world["staff"]["finance"],
        cofund_with=[ShareSpec(other, 5000)],
    )
    mine = reads.summary(reads.funder_scope(funder_world["csr"], own.pk), today=date(2027, 7, 10))
    assert (mine.reserved.months, mine.reserved.amount) == (10, 8 * MONTHLY + 2 * MONTHLY // 2)
    assert mine.reserve_ties
    theirs_scope = reads.funder_scope(funder_world["csr_other"], other.pk)
    theirs = reads.summary(theirs_scope, today=date(2027, 7, 10))
    assert (theirs.reserved.months, theirs.reserved.amount, theirs.workers_funded) == (2, MONTHLY, 1)
    assert theirs.ledger.held_in_reserve == MONTHLY
    assert theirs.reserve_ties
    assert theirs.blocks_ending == 1
    (block,) = reads.blocks_ending(theirs_scope, today=date(2027, 7, 10))
    assert (block.worker_id, block.last_month) == (first.pk, date(2027, 8, 1))
    (row,) = reads.covered_workers(theirs_scope, today=date(2027, 7, 10))
    assert (row["worker_id"], row["months_reserved"], row["amount_reserved"]) == (first.pk, 2, MONTHLY)
    assert reads.months_of_workers(theirs_scope, [first.pk])[first.pk] == [
        (date(2027, 7, 1), "reserved", MONTHLY // 2),
        (date(2027, 8, 1), "reserved", MONTHLY // 2),
    ]
    exported = list(reads.worker_month_rows(theirs_scope))
    assert [(r[2], r[3], r[4], r[5]) for r in exported] == [
        (date(2027, 7, 1), MONTHLY // 2, "reserved", "cofunded"),
        (date(2027, 8, 1), MONTHLY // 2, "reserved", "cofunded"),
    ]
    # Each pool's receipts pay its own part: PT Lain's transfer pays Rp 16.800; PT Sendiri's second donation now
    # pays Rp 8.400 more of worker 1's July and August.
    (their_pool,) = reads.receipts_of_scope(theirs_scope)
    assert (their_pool.spent, their_pool.receipts[0].attributed) == (MONTHLY, MONTHLY)
    _donation, trace = reads.donation_trace(funder_world["donors"][1], funder_world["donations"][1].pk)
    assert trace.attributed == 8 * MONTHLY + MONTHLY
    assert [(m.month, reads.attributed_of(m, trace)) for m in trace.months][-2:] == [
        (date(2027, 7, 1), MONTHLY // 2),
        (date(2027, 8, 1), MONTHLY // 2),
    ]


# --- The trace ------------------------------------------------------------------------------------------------------


def _traced(trace) -> list[tuple[int, date, str, int]]:
    return [(m.worker_id, m.month, m.state, reads.attributed_of(m, trace)) for m in trace.months]


def test_each_donation_is_traced_to_the_worker_months_it_paid_first_in_first_out(funder_world):
    first, second = funder_world["donations"]
    w = funder_world["workers"]
    donation, trace = reads.donation_trace(funder_world["donors"][0], first.pk)
    assert donation == first
    assert (trace.receipt.kind, trace.receipt.net) == ("donation", FIRST_GIFT)
    assert (trace.start, trace.end, trace.attributed) == (0, FIRST_GIFT, FIRST_GIFT)
    assert _traced(trace) == [
        (w[0].pk, APR, "paid", MONTHLY),
        (w[0].pk, MAY, "reserved", MONTHLY),
        (w[0].pk, JUN, "reserved", MONTHLY),
    ]
    assert trace.by_state == {"paid": MONTHLY, "reserved": 2 * MONTHLY}

    _donation, trace = reads.donation_trace(funder_world["donors"][1], second.pk)
    assert (trace.start, trace.end, trace.attributed) == (FIRST_GIFT, FIRST_GIFT + SECOND_GIFT, 8 * MONTHLY)
    assert _traced(trace) == [
        (w[1].pk, APR, "paid", MONTHLY),
        (w[1].pk, MAY, "reserved", MONTHLY),
        (w[1].pk, JUN, "reserved", MONTHLY),
        (w[2].pk, APR, "paid", MONTHLY),
        (w[2].pk, MAY, "reserved", MONTHLY),
        (w[2].pk, JUN, "reserved", MONTHLY),
        (w[3].pk, MAY, "reserved", MONTHLY),
        (w[3].pk, JUN, "reserved", MONTHLY),
    ]
    assert trace.by_state == {"paid": 2 * MONTHLY, "reserved": 6 * MONTHLY}
    # The database's window query agrees with the pure rule over the whole pool.
    receipts = reads.pool_receipts(funder_world["pool"])
    spends = SponsoredMonth.objects.filter(sponsorship__pool=funder_world["pool"], state__in=reads.HOLDING)
    expected = rules.attribute(
        [Receipt(r.entry_id, r.net) for r in receipts], [Spend(pk, a) for pk, a in spends.values_list("pk", "amount")]
    )
    assert rules.totals_per_receipt(expected) == {receipts[0].entry_id: FIRST_GIFT, receipts[1].entry_id: 8 * MONTHLY}
    (pool,) = reads.receipts_of_scope(reads.funder_scope(funder_world["csr"], funder_world["own"].pk))
    assert (pool.pool, pool.kind, pool.owner_id) == (funder_world["pool"], "funder", funder_world["own"].pk)
    assert (pool.received, pool.spent, pool.attributed) == (FIRST_GIFT + SECOND_GIFT, 11 * MONTHLY, 11 * MONTHLY)
    assert [(u.receipt.donation_id, u.attributed, u.unspent) for u in pool.receipts] == [
        (second.pk, 8 * MONTHLY, 2 * MONTHLY),
        (first.pk, FIRST_GIFT, 0),
    ]


def test_a_refund_shrinks_its_donation_and_the_later_one_pays_on(
    funder_world, settings, django_capture_on_commit_callbacks
):
    """Rp 16.800 of the first donation goes back to its donor: it now pays worker 1's April and May; the second
    donation starts at worker 1's June and pays nine months, with Rp 16.800 still unused."""
    settings.LINGKARAN_REFUND_APPROVAL_THRESHOLD = 10_000_000
    first, second = funder_world["donations"]
    finance = funder_world["staff"]["finance"]
    refund = funding_services.refund_request(actor=finance, intent=first.intent, amount=MONTHLY, reason="Salah ketik")
    with django_capture_on_commit_callbacks(execute=True):
        funding_services.refund_execute(actor=finance, refund=refund)
    w = funder_world["workers"]
    _donation, trace = reads.donation_trace(funder_world["donors"][0], first.pk)
    assert (trace.receipt.amount, trace.receipt.refunded, trace.receipt.net) == (FIRST_GIFT, MONTHLY, 2 * MONTHLY)
    assert _traced(trace) == [(w[0].pk, APR, "paid", MONTHLY), (w[0].pk, MAY, "reserved", MONTHLY)]
    _donation, trace = reads.donation_trace(funder_world["donors"][1], second.pk)
    assert (trace.start, trace.attributed) == (2 * MONTHLY, 9 * MONTHLY)
    assert _traced(trace)[0] == (w[0].pk, JUN, "reserved", MONTHLY)
    s = reads.summary(reads.funder_scope(funder_world["csr"], funder_world["own"].pk), today=IN_APRIL)
    assert s.ledger.received == FIRST_GIFT + SECOND_GIFT - MONTHLY
    assert s.ledger.available == balance_of(funder_world["pool"]) == MONTHLY
    assert s.ledger.received == sum(r.net for r in reads.pool_receipts(funder_world["pool"]))


def test_who_may_see_a_funder_and_a_trace(funder_world):
    own, other = funder_world["own"], funder_world["other"]
    first = funder_world["donations"][0]
    with pytest.raises(NotFound):
        reads.funder_scope(funder_world["csr_other"], own.pk)
    with pytest.raises(NotFound):
        reads.funder_scope(funder_world["csr"], 999_999)
    with pytest.raises(Forbidden):
        reads.funder_scope(funder_world["staff"]["field_agent"], own.pk)
    for role in ("operator", "finance", "auditor"):
        assert reads.funder_scope(funder_world["staff"][role], own.pk).funder == own
    assert list(reads.funders_for(funder_world["csr"])) == [own]
    # A donation's trace: its donor, its funder's users and staff; another donor or funder: not found.
    for user in (funder_world["donors"][0], funder_world["csr"], funder_world["staff"]["auditor"]):
        assert reads.donation_trace(user, first.pk)[0] == first
    for user in (funder_world["donors"][1], funder_world["csr_other"], funder_world["staff"]["verifier"]):
        with pytest.raises(NotFound):
            reads.donation_trace(user, first.pk)
    # The browser that paid (its order id in the session) may trace it without an account.
    from django.contrib.auth.models import AnonymousUser

    assert reads.donation_trace(AnonymousUser(), first.pk, order_ids=[first.intent.order_id])[0] == first
    with pytest.raises(NotFound):
        reads.donation_trace(AnonymousUser(), first.pk)
    assert other.pk != own.pk


# --- The rule, pure -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("receipts", "spends", "expected"),
    [
        ([], [(1, 10)], []),
        ([(1, 10)], [], []),
        ([(1, 10)], [(5, 10)], [(1, 5, 10)]),
        ([(1, 30), (2, 50)], [(10, 20), (11, 20), (12, 20)], [(1, 10, 20), (1, 11, 10), (2, 11, 10), (2, 12, 20)]),
        # More spent than received: the excess is attributed to nobody.
        ([(1, 15)], [(10, 10), (11, 10)], [(1, 10, 10), (1, 11, 5)]),
        # A fully refunded receipt (net 0) pays nothing; order is by ``order``, not by position.
        ([(3, 20), (1, 0), (2, 5)], [(8, 25)], [(2, 8, 5), (3, 8, 20)]),
    ],
)
def test_fifo_table(receipts, spends, expected):
    got = rules.attribute([Receipt(*r) for r in receipts], [Spend(*s) for s in spends])
    assert got == [Attribution(*e) for e in expected]


@pytest.mark.parametrize(
    ("today", "window"),
    [
        (date(2026, 12, 7), (date(2026, 12, 1), date(2027, 1, 1))),
        (date(2027, 1, 30), (date(2027, 1, 1), date(2027, 3, 1))),
        (date(2027, 1, 29), (date(2027, 1, 1), date(2027, 2, 1))),
        (date(2027, 5, 10), (date(2027, 5, 1), date(2027, 6, 1))),
        (date(2027, 4, 10), (date(2027, 4, 1), date(2027, 5, 1))),
    ],
)
def test_ending_window_edges(today, window):
    assert rules.ending_window(today) == window


def test_duplicate_orders_and_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="appears twice"):
        rules.attribute([Receipt(1, 5), Receipt(1, 5)], [])
    with pytest.raises(ValueError, match="non-negative"):
        rules.attribute([Receipt(1, -5)], [])


amounts = st.integers(min_value=0, max_value=200_000)
receipt_lists = st.lists(amounts, max_size=12).map(lambda xs: [Receipt(i * 7 + 3, a) for i, a in enumerate(xs)])
spend_lists = st.lists(st.integers(min_value=1, max_value=60_000), max_size=30).map(
    lambda xs: [Spend(i * 5 + 1, a) for i, a in enumerate(xs)]
)


@given(receipt_lists, spend_lists, st.randoms(use_true_random=False))
def test_every_rupiah_is_attributed_once_and_no_receipt_beyond_itself(receipts, spends, rnd):
    result = rules.attribute(receipts, spends)
    per_spend: dict[int, int] = {}
    for a in result:
        assert a.amount > 0
        per_spend[a.spend] = per_spend.get(a.spend, 0) + a.amount
    cost = {s.order: s.amount for s in spends}
    assert all(per_spend[k] <= cost[k] for k in per_spend)  # every rupiah of spending at most once
    given_ = {r.order: r.amount for r in receipts}
    assert all(total <= given_[k] for k, total in rules.totals_per_receipt(result).items())
    assert sum(a.amount for a in result) == min(sum(cost.values()), sum(given_.values()))
    # The order of the inputs does not matter.
    shuffled_r, shuffled_s = list(receipts), list(spends)
    rnd.shuffle(shuffled_r)
    rnd.shuffle(shuffled_s)
    assert rules.attribute(shuffled_r, shuffled_s) == result
    # The closed form the queries use gives each receipt exactly what the walk gives it.
    spent = sum(cost.values())
    totals = rules.totals_per_receipt(result)
    for order, (lo, hi) in rules.receipt_windows(receipts).items():
        assert rules.attributed_to(lo, hi, spent) == totals.get(order, 0)
