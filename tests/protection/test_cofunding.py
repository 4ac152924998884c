"""Co-funding splits: the pure split of a month's amount, the service (all or nothing, each share from its own
pool), the database rule "one holder per worker-month" tested around the ORM, and the monthly cycle billing one line
per worker-month while the ledger posts each share from its own reservation."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from lingkaran.funding import accounts
from lingkaran.ledger.models import JournalEntry, Reservation
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.ledger.services import transfer
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection.agency import services as agency
from lingkaran.protection.agency.services import RegistrationInput
from lingkaran.protection.domain import cofunding as split_rules
from lingkaran.protection.domain import cycle as rules
from lingkaran.protection.errors import CoFundingInvalid, PoolInsufficient, SponsorshipRefused
from lingkaran.protection.models import (
    CoFunding,
    CoFundingShare,
    ContributionLine,
    SponsoredMonth,
    SponsoredShare,
    Sponsorship,
)
from lingkaran.protection.sponsorships import ShareSpec, sponsor_cofunded, sponsor_directed
from lingkaran.registry.services import worker_decide
from tests.factories import FunderFactory, RegionFactory, UserFactory

APR, MAY, JUN = date(2027, 4, 1), date(2027, 5, 1), date(2027, 6, 1)
PAY_DAY = date(2027, 4, 3)
MONTHLY = 16_800  # JKK + JKM at the lowest bracket, after every PP 50/2025 window
COMPANY_PART, INSTITUTION_PART = 10_080, 6_720  # 60 % and 40 % of Rp 16.800


# --- The pure split ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "shares", "parts"),
    [
        (16_800, [6000, 4000], (10_080, 6_720)),
        (16_800, [5000, 5000], (8_400, 8_400)),
        (16_801, [5000, 5000], (8_401, 8_400)),  # one rupiah left: the earlier share on a tie
        (16_800, [3333, 3333, 3334], (5_600, 5_599, 5_601)),  # remainders .44, .44, .12: the first gets the rupiah
        (8_400, [100, 9900], (84, 8_316)),
        (3_401, [2500, 2500, 2500, 2500], (851, 850, 850, 850)),
        (7, [3000, 3000, 4000], (2, 2, 3)),  # exact 2.1, 2.1, 2.8: the largest remainder (the third) first
        (0, [5000, 5000], (0, 0)),
    ],
)
def test_split_amount_table(total, shares, parts):
    assert split_rules.split_amount(total, shares) == parts
    assert sum(parts) == total


@pytest.mark.parametrize(
    ("shares", "reason"),
    [
        ([10_000], "too_few"),
        ([2000] * 6 + [-2000], "too_many"),
        ([99, 9901], "share_too_small"),
        ([6000, 3000], "not_whole"),
        ([6000, 4001], "not_whole"),
    ],
)
def test_a_split_must_be_two_to_five_shares_of_at_least_one_percent_making_a_whole(shares, reason):
    with pytest.raises(split_rules.SplitInvalid) as raised:
        split_rules.split_amount(16_800, shares)
    assert raised.value.code == reason


@st.composite
def splits(draw):
    count = draw(st.integers(2, 5))
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=count - 1, max_size=count - 1, unique=True)))
    points = [0, *cuts, 100]
    return [(b - a) * 100 for a, b in itertools.pairwise(points)]


@given(total=st.integers(0, 10_000_000), shares=splits(), extra=st.integers(0, 99))
def test_the_parts_always_add_up_exactly_and_stay_within_a_rupiah_of_the_exact_share(total, shares, extra):
    # move a few basis points between the first two shares, so that odd splits are tried too
    if shares[0] - extra >= split_rules.MIN_SHARE_BP:
        shares = [shares[0] - extra, shares[1] + extra, *shares[2:]]
    parts = split_rules.split_amount(total, shares)
    assert sum(parts) == total
    assert len(parts) == len(shares)
    for part, bp in zip(parts, shares, strict=True):
        exact_floor = total * bp // 10_000
        assert exact_floor <= part <= exact_floor + 1
    assert split_rules.split_amount(total, shares) == parts  # the same inputs, the same parts


def test_a_month_with_government_money_is_priced_without_the_discount():
    assert split_rules.pricing_source(["csr", "apbd"]) == "apbd"
    assert split_rules.pricing_source(["apbd", "apbn"]) == "apbn"
    assert split_rules.pricing_source(["zakat", "csr"]) == "zakat"


# --- The service ------------------------------------------------------------------------------------------------------


@pytest.fixture
def people(db):
    return {
        "operator": UserFactory(role="operator"),
        "verifier": UserFactory(role="verifier"),
        "finance": UserFactory(role="finance"),
        "auditor": UserFactory(role="auditor"),
    }


def fund(funder, amount: int) -> str:
    pool = accounts.open_pool(target="funder", funder_id=funder.pk)
    transfer(
        key=f"test:fund:{funder.pk}:{amount}",
        source=accounts.open_bank(),
        target=pool,
        amount=amount,
        effective_on=date(2026, 11, 2),
    )
    return pool


@pytest.fixture
def world(people, register_worker, region_tree):
    """Four verified ojek drivers (three in province 64, one in 33; the fourth of 64 covered as a wage earner, so the
    agency refused to register them), a company (60 %) and an institution (40 %) co-funding all four, April–June
    2027."""
    niks = ["6409011708900001", "6409011708900002", "3374011708900003", "6409011708900004"]
    regions = ["64.09.01.2020", "64.09.01.2020", "33.74.01.1001", "64.09.01.1001"]
    RegionFactory(code="33.74.01.1001", name="Pekunden")
    workers = []
    for nik, region in zip(niks, regions, strict=True):
        worker = register_worker(people["operator"], nik=nik, region_code=region)
        worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="verified", reason="KTP checked")
        workers.append(worker)
    agency.simulator_wage_earner_add(actor=people["operator"], nik=niks[3], employer="PT Contoh")
    batch = agency.registration_batch_open(key="test:registrations", today=date(2026, 11, 2))
    agency.registration_requests_add(
        batch_id=batch.pk,
        requests=[RegistrationInput(worker_id=w.pk, income_nominal=1_000_000, sector="transport") for w in workers],
    )
    agency.registration_batch_submit(batch_id=batch.pk)
    company, institution = FunderFactory(kind="company"), FunderFactory(kind="institution")
    return {
        "workers": workers,
        "company": company,
        "institution": institution,
        "company_pool": fund(company, 1_000_000),
        "institution_pool": fund(institution, 500_000),
    }


def cofund(world, by, *, workers=None, start=APR, months=3, shares=(6000, 4000)):
    return sponsor_cofunded(
        shares=[ShareSpec(world["company"], shares[0]), ShareSpec(world["institution"], shares[1])],
        worker_ids=[w.pk for w in (workers or world["workers"])],
        start=start,
        months=months,
        package="jkk_jkm",
        by=by,
    )


def test_a_cofunded_block_reserves_each_share_from_its_own_pool_month_by_month(world, people):
    rows = cofund(world, people["finance"])
    split = CoFunding.objects.get()
    assert (split.source, split.total, split.months, split.start_month) == ("csr", 4 * 3 * MONTHLY, 3, APR)
    shares = list(CoFundingShare.objects.order_by("position").values_list("position", "funder_id", "share_bp", "total"))
    assert shares == [
        (1, world["company"].pk, 6000, 4 * 3 * COMPANY_PART),
        (2, world["institution"].pk, 4000, 4 * 3 * INSTITUTION_PART),
    ]
    # one sponsorship per share and worker, each with that funder's part of the block
    assert len(rows) == 8
    assert sorted({(r.funder_id, r.total) for r in rows}) == sorted(
        {(world["company"].pk, 3 * COMPANY_PART), (world["institution"].pk, 3 * INSTITUTION_PART)}
    )
    # one claim per worker-month, held by the split, and its parts add up to it
    months = SponsoredMonth.objects.all()
    assert months.count() == 12
    assert set(months.values_list("sponsorship_id", "cofunding_id", "amount")) == {(None, split.pk, MONTHLY)}
    for month in months:
        assert sorted(month.shares.values_list("amount", flat=True)) == [INSTITUTION_PART, COMPANY_PART]
    # the ledger: one reservation per share and month, each from its own pool
    reservations = dict(Reservation.objects.values_list("key", "amount"))
    assert reservations == {
        f"sponsor:{split.request_key}:s{position}:{m:%Y-%m}": 4 * part
        for position, part in ((1, COMPANY_PART), (2, INSTITUTION_PART))
        for m in (APR, MAY, JUN)
    }
    assert balance_of(world["company_pool"]) == 1_000_000 - 12 * COMPANY_PART
    assert balance_of(world["institution_pool"]) == 500_000 - 12 * INSTITUTION_PART
    assert balance_of(f"liability:reserved:funder:{world['institution'].pk}") == 12 * INSTITUTION_PART
    assert verify().clean
    # the same request again reserves nothing more
    entries = JournalEntry.objects.count()
    again = cofund(world, people["finance"])
    assert [r.pk for r in again] == [r.pk for r in rows]
    assert JournalEntry.objects.count() == entries


def test_one_short_pool_reserves_nothing_for_any_share(world, people):
    poor = FunderFactory(kind="institution")
    fund(poor, 3 * INSTITUTION_PART)  # enough for one worker, not four
    entries = JournalEntry.objects.count()
    with pytest.raises(PoolInsufficient) as raised:
        sponsor_cofunded(
            shares=[ShareSpec(world["company"], 6000), ShareSpec(poor, 4000)],
            worker_ids=[w.pk for w in world["workers"]],
            start=APR,
            months=3,
            package="jkk_jkm",
            by=people["finance"],
        )
    assert raised.value.details["pools"] == [
        {
            "pool": f"liability:pool:funder:{poor.pk}",
            "available": 3 * INSTITUTION_PART,
            "needed": 12 * INSTITUTION_PART,
        }
    ]
    assert JournalEntry.objects.count() == entries
    assert not CoFunding.objects.exists()
    assert not Sponsorship.objects.exists()
    assert not SponsoredMonth.objects.exists()
    assert balance_of(world["company_pool"]) == 1_000_000


def test_restricted_money_refuses_for_every_share_and_a_taken_month_is_refused(world, people):
    pemda = FunderFactory(kind="local_government", region_code="64")
    fund(pemda, 1_000_000)
    with pytest.raises(SponsorshipRefused) as raised:
        sponsor_cofunded(
            shares=[ShareSpec(world["company"], 5000), ShareSpec(pemda, 5000)],
            worker_ids=[w.pk for w in world["workers"]],
            start=APR,
            months=3,
            package="jkk_jkm",
            by=people["finance"],
        )
    assert raised.value.details["refused"] == {str(world["workers"][2].pk): ["outside_funder_region"]}
    # a month already paid by one sponsorship cannot be co-funded, nor the other way round
    sponsor_directed(
        funder=world["company"],
        worker_ids=[world["workers"][0].pk],
        start=MAY,
        months=1,
        package="jkk_jkm",
        by=people["finance"],
    )
    with pytest.raises(SponsorshipRefused) as raised:
        cofund(world, people["finance"], workers=world["workers"][:2])
    assert raised.value.details["refused"] == {str(world["workers"][0].pk): ["already_sponsored"]}
    cofund(world, people["finance"], workers=world["workers"][1:2], start=JUN, months=1)
    with pytest.raises(SponsorshipRefused):
        sponsor_directed(
            funder=world["institution"],
            worker_ids=[world["workers"][1].pk],
            start=JUN,
            months=1,
            package="jkk_jkm",
            by=people["finance"],
        )
    assert SponsoredMonth.objects.count() == 2


def test_a_split_that_is_not_whole_or_names_a_funder_twice_is_refused(world, people):
    for shares, reason in (((6000, 3000), "not_whole"), ((50, 9950), "share_too_small")):
        with pytest.raises(CoFundingInvalid) as raised:
            cofund(world, people["finance"], shares=shares)
        assert raised.value.details == {"reason": reason}
    with pytest.raises(CoFundingInvalid) as raised:
        sponsor_cofunded(
            shares=[ShareSpec(world["company"], 5000), ShareSpec(world["company"], 5000)],
            worker_ids=[world["workers"][0].pk],
            start=APR,
            months=1,
            package="jkk_jkm",
            by=people["finance"],
        )
    assert raised.value.details == {"reason": "same_funder"}
    assert not CoFunding.objects.exists()


def test_only_managers_may_cofund(world, people):
    from lingkaran.core.errors import Forbidden

    with pytest.raises(Forbidden):
        cofund(world, people["auditor"])
    assert not CoFunding.objects.exists()


# --- The database, around the ORM --------------------------------------------------------------------------------------


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_allows_one_holder_per_worker_month(world, people):
    cofund(world, people["finance"], workers=world["workers"][:1], start=APR, months=1)
    sponsor_directed(
        funder=world["company"],
        worker_ids=[world["workers"][1].pk],
        start=APR,
        months=1,
        package="jkk_jkm",
        by=people["finance"],
    )
    split = CoFunding.objects.get()
    single = Sponsorship.objects.get(cofunding__isnull=True)
    claim = SponsoredMonth.objects.get(cofunding=split)
    held = SponsoredMonth.objects.get(sponsorship=single)
    insert = (
        "INSERT INTO protection_sponsoredmonth (worker_id, month, sponsorship_id, cofunding_id, amount,"
        " reservation_key, state) VALUES (%s, %s, %s, %s, %s, %s, 'reserved')"
    )
    worker = world["workers"][0].pk
    # a second holder of the co-funded month: a sponsorship, or another split
    for sponsorship, cofunding in ((single.pk, None), (None, split.pk)):
        with pytest.raises(IntegrityError):
            _raw(insert, [worker, APR, sponsorship, cofunding, MONTHLY, "x"])
    # a month held by both, or by neither
    for sponsorship, cofunding in ((single.pk, split.pk), (None, None)):
        with pytest.raises(IntegrityError):
            _raw(insert, [worker, MAY, sponsorship, cofunding, MONTHLY, "x"])
    # the holder never changes
    for column, value in (("sponsorship_id", single.pk), ("cofunding_id", None)):
        with pytest.raises(IntegrityError):
            _raw(f"UPDATE protection_sponsoredmonth SET {column} = %s WHERE id = %s", [value, claim.pk])
    with pytest.raises(IntegrityError):
        _raw("UPDATE protection_sponsoredmonth SET cofunding_id = %s WHERE id = %s", [split.pk, held.pk])
    # a share's part of a month held by one sponsorship
    share = CoFundingShare.objects.filter(cofunding=split).first()
    part = (
        "INSERT INTO protection_sponsoredshare (sponsored_month_id, cofunding_id, share_id, sponsorship_id, amount,"
        " reservation_key) VALUES (%s, %s, %s, %s, %s, 'x')"
    )
    with pytest.raises(IntegrityError):
        _raw(part, [held.pk, split.pk, share.pk, single.pk, 1])
    # a share of another split on this split's month
    other = cofund(world, people["finance"], workers=world["workers"][2:3], start=APR, months=1)
    other_share = CoFundingShare.objects.exclude(cofunding=split).first()
    with pytest.raises(IntegrityError):
        _raw(part, [claim.pk, split.pk, other_share.pk, other[0].pk, 1])
    assert SponsoredMonth.objects.count() == 3
    assert SponsoredShare.objects.count() == 4


# --- The cycle ------------------------------------------------------------------------------------------------------


def test_the_cycle_bills_one_line_per_worker_month_and_posts_each_share_from_its_own_reservation(world, people):
    cofund(world, people["finance"])
    split = CoFunding.objects.get()
    summary = cycle_services.cycle_run(month=APR, today=PAY_DAY)
    assert (summary.state, summary.lines, summary.confirmed, summary.rejected) == ("done", 4, 3, 1)
    assert (summary.total, summary.confirmed_amount, summary.rejected_amount) == (4 * MONTHLY, 3 * MONTHLY, MONTHLY)
    lines = ContributionLine.objects.filter(month=APR)
    assert set(lines.values_list("amount", "cofunding_id", "sponsorship_id", "funding_source")) == {
        (MONTHLY, split.pk, None, "csr")
    }
    # the agency got one payment per worker-month
    assert sorted(agency.SubmittedLine.objects.values_list("amount", flat=True)) == [MONTHLY] * 4
    company, institution = world["company"].pk, world["institution"].pk
    # each share's reservation posted; the rejected worker's parts back in each pool; the rest paid to the agency
    for position in (1, 2):
        key = f"sponsor:{split.request_key}:s{position}:2027-04"
        assert Reservation.objects.get(key=key).state == Reservation.State.POSTED
        assert JournalEntry.objects.filter(idempotency_key=f"cycle:2027-04:64:return:{key}").exists()
    assert balance_of(world["company_pool"]) == 1_000_000 - 12 * COMPANY_PART + COMPANY_PART
    assert balance_of(world["institution_pool"]) == 500_000 - 12 * INSTITUTION_PART + INSTITUTION_PART
    assert balance_of(f"liability:reserved:funder:{company}") == 8 * COMPANY_PART
    assert balance_of(f"liability:reserved:funder:{institution}") == 8 * INSTITUTION_PART
    assert balance_of(rules.PAYABLE) == 0
    paid = dict(JournalEntry.objects.filter(idempotency_key__contains=":paid:").values_list("idempotency_key", "total"))
    assert paid == {
        f"cycle:2027-04:64:paid:liability:pool:funder:{company}": 2 * COMPANY_PART,
        f"cycle:2027-04:64:paid:liability:pool:funder:{institution}": 2 * INSTITUTION_PART,
        f"cycle:2027-04:33:paid:liability:pool:funder:{company}": COMPANY_PART,
        f"cycle:2027-04:33:paid:liability:pool:funder:{institution}": INSTITUTION_PART,
    }
    assert set(SponsoredMonth.objects.filter(month=APR).values_list("state", flat=True)) == {"paid", "rejected"}
    assert verify().clean
    # the worker's protected months name both funders; reconciliation names them and the return entry of the
    # refused worker-month
    from lingkaran.protection.coverage import worker_coverage
    from lingkaran.protection.reconciliation import exceptions_for_month

    paid = worker_coverage(world["workers"][0], today=PAY_DAY).months
    assert [(m.month, m.amount, m.payer) for m in paid] == [
        (APR, MONTHLY, f"{world['company'].name} + {world['institution'].name}")
    ]
    (rejected,) = exceptions_for_month(APR)
    assert (rejected.kind, rejected.worker_id, rejected.amount) == ("rejected", world["workers"][3].pk, MONTHLY)
    assert rejected.funder == f"{world['company'].name} + {world['institution'].name}"
    assert rejected.ledger_key == f"cycle:2027-04:64:return:sponsor:{split.request_key}:s1:2027-04"
    assert rejected.ledger_posted
    before = (
        JournalEntry.objects.count(),
        balance_of(world["company_pool"]),
        sorted(lines.values_list("worker_id", "state")),
    )
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    cycle_services.cycle_run(month=APR, today=PAY_DAY, tasks=False)
    assert before == (
        JournalEntry.objects.count(),
        balance_of(world["company_pool"]),
        sorted(lines.values_list("worker_id", "state")),
    )


def test_a_cofunded_and_a_single_funder_month_in_one_chunk(world, people):
    cofund(world, people["finance"], workers=world["workers"][:2], months=1)
    sponsor_directed(
        funder=world["institution"],
        worker_ids=[world["workers"][2].pk],
        start=APR,
        months=1,
        package="jkk_jkm",
        by=people["finance"],
    )
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    assert ContributionLine.objects.filter(state="confirmed").count() == 3
    assert balance_of(world["company_pool"]) == 1_000_000 - 2 * COMPANY_PART
    assert balance_of(world["institution_pool"]) == 500_000 - 2 * INSTITUTION_PART - MONTHLY
    assert balance_of(rules.PAYABLE) == 0
    assert balance_of(rules.BANK) == 1_500_000 - 3 * MONTHLY
    assert set(Reservation.objects.values_list("state", flat=True)) == {"posted"}
    assert verify().clean


def test_a_resubmitted_cofunded_month_is_reserved_again_per_share_and_paid(world, people):
    from lingkaran.protection import reconciliation as recon
    from tests.protection.test_resubmit import fix_the_wage_earner

    cofund(world, people["finance"], months=1)
    split = CoFunding.objects.get()
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    refused = world["workers"][3]
    old = ContributionLine.objects.get(worker=refused)
    assert old.state == "rejected"
    company_before, institution_before = balance_of(world["company_pool"]), balance_of(world["institution_pool"])
    fix_the_wage_earner(refused)
    recon.exception_act(
        actor=people["operator"], kind="rejected", worker_id=refused.pk, month=APR, action="resubmit", note="PU ended"
    )
    cycle_services.cycle_run(month=APR, today=date(2027, 4, 5))
    retry = ContributionLine.objects.get(retry_of=old)
    assert (retry.state, retry.amount, retry.cofunding_id, retry.chunk.label) == (
        "confirmed",
        MONTHLY,
        split.pk,
        "64:p2",
    )
    company, institution = world["company"].pk, world["institution"].pk
    for pool, part in ((world["company_pool"], COMPANY_PART), (world["institution_pool"], INSTITUTION_PART)):
        key = f"cycle:2027-04:resubmit:{pool}:1"
        reservation = Reservation.objects.get(key=key)
        assert (reservation.amount, reservation.state) == (part, "posted")
        assert JournalEntry.objects.get(idempotency_key=f"cycle:2027-04:64:p2:paid:{pool}").total == part
    assert balance_of(world["company_pool"]) == company_before - COMPANY_PART
    assert balance_of(world["institution_pool"]) == institution_before - INSTITUTION_PART
    assert balance_of(f"liability:reserved:funder:{company}") == 0
    assert balance_of(f"liability:reserved:funder:{institution}") == 0
    assert balance_of(rules.PAYABLE) == 0
    assert SponsoredMonth.objects.get(worker=refused).state == "paid"
    assert verify().clean
    before = JournalEntry.objects.count()
    cycle_services.cycle_run(month=APR, today=date(2027, 4, 6))
    assert JournalEntry.objects.count() == before
