"""Sponsorships through their services: directed and criteria blocks reserved up front, one funder per worker-month,
restricted money, not enough money, idempotent commits. Money is checked in the ledger itself."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from lingkaran.funding import accounts
from lingkaran.ledger.models import Reservation
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.ledger.services import transfer
from lingkaran.protection.domain.allocation import Criteria
from lingkaran.protection.errors import PoolInsufficient, SponsorshipRefused, WorkerMonthTaken
from lingkaran.protection.models import SponsoredMonth, Sponsorship
from lingkaran.protection.sponsorships import (
    Block,
    CriteriaRequest,
    allocation_run,
    sponsor_directed,
    sponsorships_commit,
)
from lingkaran.registry.services import worker_decide
from tests.factories import FunderFactory, UserFactory

JAN = date(2027, 4, 1)  # after every PP 50/2025 window: Rp 16.800 a month at the lowest bracket
APR_2026 = date(2026, 4, 1)  # inside both windows: Rp 8.400 for CSR money, Rp 16.800 for APBD money


@pytest.fixture
def people(db):
    return {
        "agent": UserFactory(role="field_agent"),
        "verifier": UserFactory(role="verifier"),
        "operator": UserFactory(role="operator"),
        "finance": UserFactory(role="finance"),
    }


@pytest.fixture
def verified(people, register_worker, region_tree):
    """``verified(n, **fields)`` → n verified workers (men born 17-08-1990 in Giri Mukti, serials from 0001)."""
    made = []

    def make(count: int, **fields):
        out = []
        for _ in range(count):
            serial = len(made) + 1
            worker = register_worker(people["operator"], nik=f"640901170890{serial:04d}", **fields)
            worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="verified", reason="KTP checked")
            made.append(worker)
            out.append(worker)
        return out

    return make


def fund(funder, amount: int) -> str:
    """Put ``amount`` into the funder's pool as a bank transfer would."""
    pool = accounts.open_pool(target="funder", funder_id=funder.pk)
    bank = accounts.open_bank()
    transfer(key=f"test:fund:{funder.pk}:{amount}", source=bank, target=pool, amount=amount, effective_on=date.today())
    return pool


def test_directed_block_is_reserved_month_by_month_at_each_months_tariff(people, verified):
    workers = verified(3)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 1_000_000)
    # Oct 2026 – Mar 2027: CSR money; non-transport worker? ojek is transport: discounted through March 2027.
    rows = sponsor_directed(
        funder=funder,
        worker_ids=[w.pk for w in workers],
        start=date(2026, 12, 1),
        months=6,
        package="jkk_jkm",
        by=people["finance"],
    )
    assert len(rows) == 3
    months = SponsoredMonth.objects.filter(worker=workers[0]).order_by("month")
    assert [m.month for m in months] == [date(2026, 12, 1), *[date(2027, m, 1) for m in range(1, 6)]]
    # Transport: discounted (8.400) through March 2027, full (16.800) from April.
    assert [m.amount for m in months] == [8_400, 8_400, 8_400, 8_400, 16_800, 16_800]
    block = 4 * 8_400 + 2 * 16_800
    assert all(r.total == block for r in rows)
    assert balance_of(pool) == 1_000_000 - 3 * block
    assert balance_of(f"liability:reserved:funder:{funder.pk}") == 3 * block
    reservations = Reservation.objects.filter(key__startswith="sponsor:directed:").order_by("key")
    assert [r.amount for r in reservations] == [3 * 8_400] * 4 + [3 * 16_800] * 2
    assert verify().clean


def test_same_request_twice_reserves_once(people, verified):
    workers = verified(2)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 500_000)
    args = {
        "funder": funder,
        "worker_ids": [w.pk for w in workers],
        "start": JAN,
        "months": 3,
        "package": "jkk_jkm",
        "by": people["finance"],
    }
    first = sponsor_directed(**args)
    again = sponsor_directed(**args)
    assert [r.pk for r in first] == [r.pk for r in again]
    assert balance_of(pool) == 500_000 - 2 * 3 * 16_800
    assert SponsoredMonth.objects.count() == 6


def test_not_enough_money_is_refused_before_anything_is_reserved(people, verified):
    workers = verified(2)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 2 * 6 * 16_800 - 1)
    with pytest.raises(PoolInsufficient) as raised:
        sponsor_directed(
            funder=funder,
            worker_ids=[w.pk for w in workers],
            start=JAN,
            months=6,
            package="jkk_jkm",
            by=people["finance"],
        )
    assert raised.value.details == {"pool": pool, "available": 2 * 6 * 16_800 - 1, "needed": 2 * 6 * 16_800}
    assert SponsoredMonth.objects.count() == 0
    assert Sponsorship.objects.count() == 0
    assert balance_of(pool) == 2 * 6 * 16_800 - 1


def test_a_second_funder_cannot_take_a_month_already_paid(people, verified):
    (worker,) = verified(1)
    first, second = FunderFactory(kind="company"), FunderFactory(kind="company")
    fund(first, 500_000)
    second_pool = fund(second, 500_000)
    sponsor_directed(funder=first, worker_ids=[worker.pk], start=JAN, months=6, package="jkk_jkm", by=people["finance"])
    with pytest.raises(SponsorshipRefused) as raised:
        sponsor_directed(
            funder=second,
            worker_ids=[worker.pk],
            start=date(2027, 6, 1),
            months=6,
            package="jkk_jkm",
            by=people["finance"],
        )
    assert raised.value.details["refused"] == {str(worker.pk): ["already_sponsored"]}
    assert balance_of(second_pool) == 500_000
    assert SponsoredMonth.objects.count() == 6


def test_the_database_itself_refuses_two_funders_on_one_worker_month(people, verified):
    (worker,) = verified(1)
    funder = FunderFactory(kind="company")
    fund(funder, 500_000)
    (row,) = sponsor_directed(
        funder=funder, worker_ids=[worker.pk], start=JAN, months=1, package="jkk_jkm", by=people["finance"]
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SponsoredMonth.objects.create(worker=worker, month=JAN, sponsorship=row, amount=16_800, reservation_key="x")


def test_zakat_money_only_for_zakat_eligible_workers_and_apbd_only_in_its_region(people, verified):
    eligible, not_eligible = verified(1, zakat_eligible=True)[0], verified(1)[0]
    zakat = FunderFactory(kind="zakat_body")
    fund(zakat, 1_000_000)
    with pytest.raises(SponsorshipRefused) as raised:
        sponsor_directed(
            funder=zakat,
            worker_ids=[eligible.pk, not_eligible.pk],
            start=JAN,
            months=6,
            package="jkk_jkm",
            by=people["finance"],
        )
    assert raised.value.details["refused"] == {str(not_eligible.pk): ["not_zakat_eligible"]}
    assert SponsoredMonth.objects.count() == 0

    pemda = FunderFactory(kind="local_government", region_code="33.74")
    fund(pemda, 1_000_000)
    with pytest.raises(SponsorshipRefused) as raised:
        sponsor_directed(
            funder=pemda, worker_ids=[eligible.pk], start=JAN, months=6, package="jkk_jkm", by=people["finance"]
        )
    assert raised.value.details["refused"] == {str(eligible.pk): ["outside_funder_region"]}


def test_apbd_money_pays_full_price_in_the_discount_window(people, verified):
    (worker,) = verified(1)
    pemda = FunderFactory(kind="local_government", region_code="64.09")
    pool = fund(pemda, 1_000_000)
    sponsor_directed(
        funder=pemda, worker_ids=[worker.pk], start=APR_2026, months=2, package="jkk_jkm", by=people["finance"]
    )
    assert list(SponsoredMonth.objects.values_list("amount", flat=True)) == [16_800, 16_800]
    assert balance_of(pool) == 1_000_000 - 33_600


def test_unverified_workers_are_refused(people, register_worker, region_tree):
    worker = register_worker(people["operator"], nik="6409011708900001")
    funder = FunderFactory(kind="company")
    fund(funder, 500_000)
    with pytest.raises(SponsorshipRefused) as raised:
        sponsor_directed(
            funder=funder, worker_ids=[worker.pk], start=JAN, months=6, package="jkk_jkm", by=people["finance"]
        )
    assert raised.value.details["not_verified"] == [worker.pk]


def test_field_agents_cannot_commit_money(people, verified):
    from lingkaran.core.errors import Forbidden

    (worker,) = verified(1)
    funder = FunderFactory(kind="company")
    fund(funder, 500_000)
    with pytest.raises(Forbidden):
        sponsor_directed(
            funder=funder, worker_ids=[worker.pk], start=JAN, months=6, package="jkk_jkm", by=people["agent"]
        )


def test_criteria_run_preview_then_commit(people, verified):
    poorest = verified(1, dtsen_decile=1)[0]
    verified(1, dtsen_decile=6)
    women = verified(1, dtsen_decile=3, is_female_head=True)
    company = FunderFactory(kind="company")
    pool = fund(company, 1_000_000)
    request = CriteriaRequest(
        key="pks-1",
        funder_id=company.pk,
        criteria=Criteria(regions=("64.09",)),
        start=JAN,
        months=6,
        package="jkk_jkm",
        workers=2,
    )
    preview = allocation_run(requests=[request], as_of=date(2026, 12, 1), by=people["operator"], commit=False)
    picked = [row[0] for row in preview.summary["pks-1"]["picked"]]
    assert picked == [women[0].pk, poorest.pk]  # decile 3 + female head (8 + 3) before decile 1 (10)
    assert preview.state == "preview"
    assert SponsoredMonth.objects.count() == 0
    assert balance_of(pool) == 1_000_000

    again = allocation_run(requests=[request], as_of=date(2026, 12, 1), by=people["operator"], commit=True)
    assert again.inputs_sha256 == preview.inputs_sha256
    assert again.summary == preview.summary
    assert again.state == "committed"
    assert sorted(SponsoredMonth.objects.order_by().values_list("worker_id", flat=True).distinct()) == sorted(picked)
    assert balance_of(pool) == 1_000_000 - 2 * 6 * 16_800
    assert verify().clean


def test_a_commit_that_races_past_the_checks_still_cannot_take_a_worker_month(people, verified):
    """Two commits that both passed the engine's checks: the database refuses the second, and it reserves nothing."""
    (worker,) = verified(1)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 500_000)
    sponsor_directed(
        funder=funder, worker_ids=[worker.pk], start=JAN, months=3, package="jkk_jkm", by=people["finance"]
    )
    with pytest.raises(WorkerMonthTaken) as raised:
        sponsorships_commit(
            request_key="race",
            kind="directed",
            source="csr",
            package="jkk_jkm",
            pool=pool,
            start=date(2027, 6, 1),
            months=2,
            blocks=[Block(worker.pk, (16_800, 16_800))],
            by=people["finance"],
            funder_id=funder.pk,
        )
    assert raised.value.details == {"workers": [worker.pk]}
    assert balance_of(pool) == 500_000 - 3 * 16_800
    assert not Sponsorship.objects.filter(request_key="race").exists()
    assert not Reservation.objects.filter(key__startswith="sponsor:race:").exists()


def test_a_campaign_pool_enrols_whole_blocks_while_it_can_pay_for_one(people, verified, settings):
    from lingkaran.funding.models import Campaign
    from lingkaran.protection.sponsorships import pool_enrol

    settings.LINGKARAN_POOL_BLOCK_MONTHS = 3
    workers = verified(3)
    campaign = Campaign.objects.create(
        title="Ojek Penajam",
        slug="ojek-penajam",
        story="…",
        goal_workers=3,
        goal_months=3,
        goal_amount=151_200,
        end_on=date(2027, 12, 31),
        created_by=people["operator"],
        target_regions=["64.09"],
    )
    pool = accounts.open_pool(target="campaign", campaign_id=campaign.pk)
    transfer(
        key="test:campaign",
        source=accounts.open_bank(),
        target=pool,
        amount=2 * 3 * 16_800 + 16_000,
        effective_on=date.today(),
    )
    # Blocks start the month after as_of: April–June 2027, after every discount window (Rp 16.800 a month).
    enrolled = pool_enrol(campaign=campaign, as_of=date(2027, 3, 10), by=people["operator"])
    assert len(enrolled) == 2  # the third block (Rp 50.400) does not fit in the Rp 16.000 left
    assert balance_of(pool) == 16_000
    assert {s.kind for s in enrolled} == {"pooled"}
    assert {s.start_month for s in enrolled} == {date(2027, 4, 1)}
    # The same enrolment again reserves nothing; after new money the next worker gets a whole block.
    assert pool_enrol(campaign=campaign, as_of=date(2027, 3, 10), by=people["operator"]) == []
    transfer(key="test:campaign:2", source=accounts.open_bank(), target=pool, amount=34_400, effective_on=date.today())
    (third,) = pool_enrol(campaign=campaign, as_of=date(2027, 3, 10), by=people["operator"])
    assert third.worker_id not in {s.worker_id for s in enrolled}
    assert {third.worker_id, *(s.worker_id for s in enrolled)} == {w.pk for w in workers}
    assert balance_of(pool) == 0
    assert verify().clean


def test_pools_enrol_command(people, verified):
    from django.core.management import CommandError, call_command

    from lingkaran.funding.models import Campaign

    verified(2)
    campaign = Campaign.objects.create(
        title="Nelayan",
        slug="nelayan",
        story="…",
        goal_workers=2,
        goal_months=6,
        goal_amount=201_600,
        end_on=date(2027, 12, 31),
        created_by=people["operator"],
        state=Campaign.State.PUBLISHED,
        approved_by=people["finance"],
    )
    pool = accounts.open_pool(target="campaign", campaign_id=campaign.pk)
    transfer(key="test:nelayan", source=accounts.open_bank(), target=pool, amount=6 * 16_800, effective_on=date.today())
    call_command("pools_enrol", "--as", people["operator"].username, "--as-of", "2027-03-31")
    assert Sponsorship.objects.filter(campaign=campaign, kind="pooled").count() == 1
    assert balance_of(pool) == 0
    with pytest.raises(CommandError):
        call_command("pools_enrol", "--as", people["agent"].username)
    with pytest.raises(CommandError):
        call_command("pools_enrol", "--as", people["operator"].username, "--as-of", "31-03-2027")
