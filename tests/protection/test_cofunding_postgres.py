"""PostgreSQL only: a co-funded block and a single funder's block committed at the same moment for the same
worker-month. The database (the unique claim per worker-month) lets exactly one win; the other reserves nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from lingkaran.ledger.models import Reservation
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.protection.errors import WorkerMonthTaken
from lingkaran.protection.models import CoFunding, SponsoredMonth, SponsoredShare, Sponsorship
from lingkaran.protection.sponsorships import Block, ShareSpec, cofunding_commit, cofunding_plan, sponsorships_commit
from tests.protection import test_cofunding as base
from tests.protection.test_cofunding import APR, MONTHLY

people = base.people
world = base.world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _seeds(transactional_db):
    import importlib

    from django.apps import apps

    importlib.import_module("lingkaran.registry.migrations.0002_occupations_and_append_only").seed(apps, None)
    importlib.import_module("lingkaran.protection.migrations.0001_tariffs").seed(apps, None)


def test_a_split_and_a_sponsorship_racing_for_one_worker_month_one_wins(world, people):
    worker = world["workers"][0]
    # Both passed their checks before either wrote (what two clicks in two browsers would do).
    plan = cofunding_plan(
        shares=[ShareSpec(world["company"], 6000), ShareSpec(world["institution"], 4000)],
        worker_ids=[worker.pk],
        start=APR,
        months=1,
        package="jkk_jkm",
    )
    barrier = threading.Barrier(2, timeout=20)
    outcomes: dict[str, object] = {}

    def split():
        try:
            barrier.wait()
            outcomes["split"] = cofunding_commit(plan=plan, by=people["finance"])
        except BaseException as exc:
            outcomes["split"] = exc
        finally:
            connection.close()

    def single():
        try:
            barrier.wait()
            outcomes["single"] = sponsorships_commit(
                request_key="race:single",
                kind="directed",
                source="csr",
                package="jkk_jkm",
                pool=world["institution_pool"],
                start=APR,
                months=1,
                blocks=[Block(worker.pk, (MONTHLY,))],
                by=people["finance"],
                funder_id=world["institution"].pk,
            )
        except BaseException as exc:
            outcomes["single"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=split), threading.Thread(target=single)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    errors = [v for v in outcomes.values() if isinstance(v, BaseException)]
    assert len(errors) == 1, outcomes
    assert isinstance(errors[0], WorkerMonthTaken), errors
    claim = SponsoredMonth.objects.get(worker=worker, month=APR)
    if isinstance(outcomes["split"], BaseException):
        assert claim.sponsorship_id is not None
        assert not CoFunding.objects.exists()
        assert not SponsoredShare.objects.exists()
        assert balance_of(world["company_pool"]) == 1_000_000
        assert list(Reservation.objects.values_list("key", flat=True)) == ["sponsor:race:single:2027-04"]
    else:
        assert claim.cofunding_id is not None
        assert not Sponsorship.objects.filter(cofunding__isnull=True).exists()
        assert balance_of(world["institution_pool"]) == 500_000 - 6_720
        assert Reservation.objects.count() == 2
    assert SponsoredMonth.objects.count() == 1
    assert verify().clean
