"""The demo's protection history (``lingkaran.demo_protection``) on top of the base demo: sponsorships of every kind
from January 2026, registrations with the agency simulator, a monthly cycle per month as of that month; the PP 50/2025
windows show in the amounts, one worker lapses and one is reactivated, the ledger verifies, and a second run of every
step adds nothing."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.db import transaction

from lingkaran import demo, demo_protection
from lingkaran.ledger.models import JournalEntry, Reservation
from lingkaran.ledger.selectors import verify
from lingkaran.protection.agency.models import (
    MembershipStatus,
    PaymentBatch,
    RegistrationBatch,
    RegistrationOutcome,
    SimulatorParticipant,
    SimulatorWageEarner,
)
from lingkaran.protection.models import ContributionLine, Cycle, SponsoredMonth, Sponsorship

pytestmark = pytest.mark.django_db


def build(steps, capture) -> None:
    rng = random.Random(demo.DEMO_SEED)
    for step in steps:
        with capture(execute=True), transaction.atomic():  # donations settle as their step commits
            step(rng, lambda _line: None)


def counts() -> dict[str, int]:
    return {
        "sponsorships": Sponsorship.objects.count(),
        "sponsored_months": SponsoredMonth.objects.count(),
        "lines": ContributionLine.objects.count(),
        "confirmed": ContributionLine.objects.filter(state="confirmed").count(),
        "cycles": Cycle.objects.count(),
        "entries": JournalEntry.objects.count(),
        "reservations": Reservation.objects.count(),
        "payment_batches": PaymentBatch.objects.count(),
        "registration_batches": RegistrationBatch.objects.count(),
        "participants": SimulatorParticipant.objects.count(),
        "wage_earners": SimulatorWageEarner.objects.count(),
        "statuses": MembershipStatus.objects.count(),
    }


def amounts(source: str, sector_filter: dict, month: date) -> set[int]:
    lines = ContributionLine.objects.filter(funding_source=source, month=month, state="confirmed")
    return set(lines.filter(**sector_filter).values_list("amount", flat=True))


def test_a_year_of_protection_history_built_twice(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.VAR_DIR = tmp_path
    build([s for s in demo.STEPS if s not in demo_protection.STEPS], django_capture_on_commit_callbacks)
    build(demo_protection.STEPS, django_capture_on_commit_callbacks)
    first = counts()
    build(demo_protection.STEPS, django_capture_on_commit_callbacks)
    assert counts() == first
    assert first["sponsorships"] > 300
    assert first["participants"] > 300

    # Every kind of money: APBD, CSR, zakat, and a campaign pool (donations).
    sources = set(Sponsorship.objects.values_list("source", flat=True))
    assert sources == {"apbd", "csr", "zakat", "donation"}
    assert Sponsorship.objects.filter(kind="pooled").exists()

    # Confirmed lines in every month of the history; every cycle done.
    months = [date(2026, m, 1) for m in range(1, 13)]
    for month in months:
        assert ContributionLine.objects.filter(month=month, state="confirmed").exists(), month
    assert set(Cycle.objects.values_list("state", flat=True)) == {"done"}

    # PP 50/2025: transport halved from January 2026, the other sectors from April; APBD always full price.
    transport, other = {"sponsorship__worker__occupation__group__sector": "transport"}, {}
    jan, apr = date(2026, 1, 1), date(2026, 4, 1)
    assert amounts("csr", transport, jan) == {8_400}
    other_jan = ContributionLine.objects.filter(funding_source="csr", month=jan, state="confirmed").exclude(
        worker__occupation__group__sector="transport"
    )
    other_apr = ContributionLine.objects.filter(funding_source="csr", month=apr, state="confirmed").exclude(
        worker__occupation__group__sector="transport"
    )
    assert set(other_jan.values_list("amount", flat=True)) == {16_800}
    assert set(other_apr.values_list("amount", flat=True)) == {8_400}
    assert amounts("apbd", other, jan) == amounts("apbd", other, apr) == {16_800}

    # The wage earner's registration was refused, and their months with it.
    assert RegistrationOutcome.objects.filter(result="rejected", reason="covered_as_wage_earner").count() == 1
    rejected = ContributionLine.objects.filter(state="rejected")
    assert set(rejected.values_list("reason", flat=True)) == {"not_registered"}

    # Membership as of the last month paid: active, grace, one ended, one reactivated.
    states = list(MembershipStatus.objects.values_list("state", flat=True))
    assert states.count("ended") == 1
    assert states.count("reactivated") == 1
    assert {"active", "grace"} <= set(states)

    # One co-funded block: Bank Jateng 60 %, the Pemda 40 %, priced as APBD; September to December paid per share.
    from lingkaran.protection.models import CoFunding, SponsoredShare

    split = CoFunding.objects.get()
    assert split.source == "apbd"
    assert list(split.shares.values_list("share_bp", flat=True)) == [6000, 4000]
    paid = ContributionLine.objects.filter(cofunding=split, state="confirmed")
    assert sorted(set(paid.values_list("month", flat=True))) == [date(2026, m, 1) for m in (9, 10, 11, 12)]
    assert set(paid.values_list("amount", flat=True)) == {16_800}
    assert set(SponsoredShare.objects.values_list("amount", flat=True)) == {10_080, 6_720}

    report = verify()
    assert report.clean, report
