"""A tariff change inside a committed block: the reserved, not yet billed worker-months are re-priced and the
difference comes from, or goes back to, the pool in the ledger, per reservation and month; a pool that cannot pay a
higher price leaves the months short and the cycle holds them back; nothing moves twice."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from lingkaran.ledger.models import Reservation
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection import services as tariff_services
from lingkaran.protection.domain import cycle as rules
from lingkaran.protection.models import ContributionLine, Repricing, SponsoredMonth, SponsoredShare, Sponsorship
from lingkaran.protection.sponsorships import reserved_months_reprice, sponsor_directed
from tests.factories import FunderFactory
from tests.protection.test_cofunding import APR, JUN, MAY, MONTHLY, PAY_DAY, cofund, fund, people, world  # noqa: F401

RAISED = MONTHLY + 1_000  # JKM Rp 7.800 from May 2027 (a made-up change for the test)
HALVED = (10_000 + 7_800) // 2  # then 50 % off JKK and JKM for transport from June 2027: Rp 8.900


def raise_jkm_from_may():
    return tariff_services.programme_rate_add(
        actor=None, programme="jkm", valid_from=MAY, regulation="Test: JKM Rp 7.800", flat_amount=7_800
    )


def discount_from_june():
    return tariff_services.discount_rule_add(
        actor=None,
        valid_from=JUN,
        valid_to=date(2027, 12, 1),
        discount_bp=5_000,
        sector="transport",
        programmes=["jkk", "jkm"],
        excluded_sources=["apbn", "apbd"],
        regulation="Test: 50 % off",
    )


def directed(setup, users, workers, funder=None, months=3):
    return sponsor_directed(
        funder=funder or setup["company"],
        worker_ids=[w.pk for w in workers],
        start=APR,
        months=months,
        package="jkk_jkm",
        by=users["finance"],
    )


def test_a_higher_then_a_lower_tariff_inside_a_block_moves_the_difference_per_reservation(world, people):  # noqa: F811
    workers = world["workers"][:3]
    (first, *_rest) = directed(world, people, workers)
    key = first.request_key
    pool = world["company_pool"]
    reserved = f"liability:reserved:funder:{world['company'].pk}"
    start = balance_of(pool)
    assert start == 1_000_000 - 3 * 3 * MONTHLY

    raise_jkm_from_may()
    assert list(Repricing.objects.values_list("reservation_key", "new_key", "old_amount", "new_amount", "state")) == [
        (f"sponsor:{key}:2027-05", f"sponsor:{key}:2027-05:r1", 3 * MONTHLY, 3 * RAISED, "applied"),
        (f"sponsor:{key}:2027-06", f"sponsor:{key}:2027-06:r1", 3 * MONTHLY, 3 * RAISED, "applied"),
    ]
    assert balance_of(pool) == start - 2 * 3 * 1_000
    assert balance_of(reserved) == 3 * MONTHLY + 2 * 3 * RAISED
    states = dict(Reservation.objects.values_list("key", "state"))
    assert states[f"sponsor:{key}:2027-04"] == "pending"  # April's price did not change
    assert states[f"sponsor:{key}:2027-05"] == "voided"
    assert states[f"sponsor:{key}:2027-05:r1"] == "pending"
    assert sorted(SponsoredMonth.objects.order_by().values_list("month", "amount", "reservation_key").distinct()) == [
        (APR, MONTHLY, f"sponsor:{key}:2027-04"),
        (MAY, RAISED, f"sponsor:{key}:2027-05:r1"),
        (JUN, RAISED, f"sponsor:{key}:2027-06:r1"),
    ]
    assert set(Sponsorship.objects.values_list("total", flat=True)) == {MONTHLY + 2 * RAISED}
    assert verify().clean

    discount_from_june()
    june = Repricing.objects.get(month=JUN, reservation_key=f"sponsor:{key}:2027-06:r1")
    assert (june.new_key, june.old_amount, june.new_amount) == (f"sponsor:{key}:2027-06:r2", 3 * RAISED, 3 * HALVED)
    assert balance_of(pool) == start - 2 * 3 * 1_000 + 3 * (RAISED - HALVED)
    assert balance_of(reserved) == 3 * MONTHLY + 3 * RAISED + 3 * HALVED
    assert verify().clean

    # again: nothing moves
    before = (balance_of(pool), Repricing.objects.count(), Reservation.objects.count())
    result = reserved_months_reprice(first_month=APR, reason="test")
    assert (result.applied, result.short) == ([], [])
    assert before == (balance_of(pool), Repricing.objects.count(), Reservation.objects.count())

    # The cycle bills the new prices. The simulated agency bills by the regulation it knows (its own rules, not our
    # tariff tables), so it refuses the made-up May and June prices as ``amount_mismatch`` and the money of those
    # lines goes back to the pool, exactly.
    for month, day in ((APR, PAY_DAY), (MAY, date(2027, 5, 3)), (JUN, date(2027, 6, 3))):
        summary = cycle_services.cycle_run(month=month, today=day)
        assert summary.state == "done"
    assert sorted(ContributionLine.objects.order_by().values_list("month", "amount", "state", "reason").distinct()) == [
        (APR, MONTHLY, "confirmed", ""),
        (MAY, RAISED, "rejected", "amount_mismatch"),
        (JUN, HALVED, "rejected", "amount_mismatch"),
    ]
    assert balance_of(reserved) == 0
    assert balance_of(rules.PAYABLE) == 0
    assert balance_of(pool) == 1_000_000 - 3 * MONTHLY
    assert balance_of(rules.BANK) == 1_500_000 - 3 * MONTHLY
    assert set(Reservation.objects.filter(key__startswith=f"sponsor:{key}").values_list("state", flat=True)) == {
        "posted",
        "voided",
    }
    assert verify().clean


def test_a_pool_that_cannot_pay_a_higher_price_leaves_the_months_short_until_it_can(world, people, client, login):  # noqa: F811
    poor = FunderFactory(kind="institution")
    poor_pool = fund(poor, 2 * 3 * MONTHLY)  # exactly the block of two workers
    rich = world["workers"][:1]
    directed(world, people, rich)
    (row, _other) = directed(world, people, world["workers"][1:3], funder=poor)
    raise_jkm_from_may()
    short = Repricing.objects.filter(state="short").order_by("month")
    assert [(r.month, r.old_amount, r.new_amount, r.available) for r in short] == [
        (MAY, 2 * MONTHLY, 2 * RAISED, 0),
        (JUN, 2 * MONTHLY, 2 * RAISED, 0),
    ]
    assert Repricing.objects.filter(state="applied").count() == 2  # the company's May and June
    held = SponsoredMonth.objects.filter(sponsorship__funder=poor, month__gte=MAY)
    assert set(held.values_list("amount", "price_due")) == {(MONTHLY, RAISED)}
    assert balance_of(poor_pool) == 0
    assert verify().clean
    # the sponsorship list tells staff which pool to top up, and by how much
    login(people["finance"])
    listed = client.get("/sponsorships/")
    assert [(r.month, r.funder, r.missing, r.available) for r in listed.context["short"]] == [
        (MAY, poor.name, 2_000, 0),
        (JUN, poor.name, 2_000, 0),
    ]
    assert 'data-testid="reservations-short"' in listed.content.decode()
    # April bills everyone; in May the poor funder's months are held back, not billed at the old price
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    may = cycle_services.cycle_run(month=MAY, today=date(2027, 5, 3))
    assert (may.lines, may.held_back, may.short) == (1, 2, 2)
    assert Reservation.objects.get(key=f"sponsor:{row.request_key}:2027-05").state == "pending"
    # the same again records no second shortage
    assert reserved_months_reprice(first_month=MAY, reason="test", only_short=True).applied == []
    assert Repricing.objects.filter(state="short").count() == 2
    # money arrives before June's cycle: June is re-priced at billing and paid at the new price
    fund(poor, 10_000)
    june = cycle_services.cycle_run(month=JUN, today=date(2027, 6, 3))
    assert (june.lines, june.short) == (3, 0)
    assert set(ContributionLine.objects.filter(month=JUN).values_list("amount", flat=True)) == {RAISED}
    assert [r.month for r in client.get("/sponsorships/").context["short"]] == [MAY]
    # (the simulated agency refuses the made-up price, so June's money comes back to the pools in the end)
    assert balance_of(poor_pool) == 10_000 - 2 * 1_000 + 2 * RAISED
    assert verify().clean


def test_a_cofunded_month_is_split_again_and_each_share_moves_by_its_own_difference(world, people):  # noqa: F811
    cofund(world, people["finance"], workers=world["workers"][:2])
    company_pool, institution_pool = world["company_pool"], world["institution_pool"]
    before = balance_of(company_pool), balance_of(institution_pool)
    raise_jkm_from_may()
    # Rp 17.800 at 60/40: 10.680 and 7.120 (was 10.080 and 6.720)
    parts = sorted(SponsoredShare.objects.filter(sponsored_month__month=MAY).values_list("share__position", "amount"))
    assert parts == [(1, 10_680), (1, 10_680), (2, 7_120), (2, 7_120)]
    assert balance_of(company_pool) == before[0] - 2 * 2 * 600
    assert balance_of(institution_pool) == before[1] - 2 * 2 * 400
    assert set(SponsoredMonth.objects.filter(month=MAY).values_list("amount", flat=True)) == {RAISED}
    keys = set(SponsoredShare.objects.filter(sponsored_month__month=MAY).values_list("reservation_key", flat=True))
    assert all(k.endswith(":2027-05:r1") for k in keys)
    assert len(keys) == 2
    assert verify().clean
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    cycle_services.cycle_run(month=MAY, today=date(2027, 5, 3))
    assert set(ContributionLine.objects.filter(month=MAY).values_list("amount", flat=True)) == {RAISED}
    for key in keys:
        assert Reservation.objects.get(key=key).state == "posted"
    # refused by the simulated agency (amount_mismatch): each share's part back to its own pool
    assert balance_of(company_pool) == before[0] - 2 * 2 * 600 + 2 * 10_680
    assert balance_of(institution_pool) == before[1] - 2 * 2 * 400 + 2 * 7_120
    assert balance_of(rules.PAYABLE) == 0
    assert verify().clean


def test_the_bracket_file_and_the_command_reprice_too(world, people, tmp_path):  # noqa: F811
    directed(world, people, world["workers"][:1])
    # a new table from May 2027 in which Rp 1 juta is billed at a Rp 2 juta nominal: JKK 20.000 + JKM 6.800
    path = tmp_path / "brackets.csv"
    path.write_text(
        "valid_from,income_from,income_to,nominal,regulation,source_url\n2027-05,0,,2000000,Test table,\n",
        encoding="utf-8",
    )
    result = tariff_services.bracket_table_load(actor=None, path=path)
    assert result.added == ["2027-05"]
    assert [(r.month, r.new_amount) for r in result.repriced.applied] == [(MAY, 26_800), (JUN, 26_800)]
    assert set(SponsoredMonth.objects.filter(month__gte=MAY).values_list("amount", flat=True)) == {26_800}
    call_command("sponsorships_reprice", "--from", "2027-04")  # nothing left to do
    assert Repricing.objects.count() == 2
    assert verify().clean


@pytest.mark.parametrize(("key", "after"), [("sponsor:a:2027-05", "sponsor:a:2027-05:r1"), ("x:r9", "x:r10")])
def test_the_next_reservation_key(key, after):
    from lingkaran.protection.sponsorships import _next_key

    assert _next_key(key) == after
