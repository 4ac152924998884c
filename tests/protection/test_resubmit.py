"""A rejected worker-month resubmitted from the reconciliation, once its data is fixed, goes in the month's next pass:
a new line linked to the rejected one (which stays as it was), its money reserved again from its pool, its own
batch; nothing is billed twice on a rerun."""

from __future__ import annotations

from datetime import date

from django.core.management import call_command

from lingkaran.ledger.models import JournalEntry, Reservation
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection import reconciliation as recon
from lingkaran.protection.agency import services as agency
from lingkaran.protection.agency.models import SimulatorWageEarner
from lingkaran.protection.domain import cycle as rules
from lingkaran.protection.models import ContributionLine, CycleChunk, SponsoredMonth
from tests.protection import test_cycle as cycle_setup
from tests.protection.test_cycle import APR, FUNDED, MONTHLY, PAY_DAY, books

people = cycle_setup.people
world = cycle_setup.world


def fix_the_wage_earner(worker) -> None:
    """The worker left the wage job: the agency no longer lists them as PU, and they join as a BPU participant."""
    SimulatorWageEarner.objects.filter(nik_index=worker.nik_index).delete()
    agency.simulator_participant_add(
        nik_index=worker.nik_index, registered_month=date(2027, 3, 1), income_nominal=1_000_000, sector="transport"
    )


def test_a_resubmitted_month_goes_in_the_next_pass_and_is_paid(world, people):
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    refused = world["workers"][3]
    old = ContributionLine.objects.get(worker=refused, month=APR)
    assert (old.state, old.reason) == ("rejected", "not_registered")
    pool = world["pool"]
    assert balance_of(pool) == FUNDED - 12 * MONTHLY + MONTHLY
    # the worker's data is fixed, then staff record "resubmit": the month's next run bills it in a second pass
    fix_the_wage_earner(refused)
    recon.exception_act(
        actor=people["operator"], kind="rejected", worker_id=refused.pk, month=APR, action="resubmit", note="PU ended"
    )
    call_command("cycle_run", month="2027-04", today=date(2027, 4, 5).isoformat())
    retry = ContributionLine.objects.get(retry_of=old)
    assert (retry.state, retry.amount, retry.chunk.pass_number, retry.chunk.province) == ("confirmed", MONTHLY, 2, "64")
    assert retry.chunk.batch.key == "cycle:2027-04:64:p2"
    old.refresh_from_db()
    assert (old.state, old.reason) == ("rejected", "not_registered")  # the rejected line stays as it was
    assert SponsoredMonth.objects.get(worker=refused, month=APR).state == SponsoredMonth.State.PAID
    key = f"cycle:2027-04:resubmit:{pool}:1"
    assert (retry.reservation_key, retry.pool) == (key, pool)
    reservation = Reservation.objects.get(key=key)
    assert (reservation.amount, reservation.state) == (MONTHLY, Reservation.State.POSTED)
    assert JournalEntry.objects.get(idempotency_key=f"cycle:2027-04:64:p2:paid:{pool}").total == MONTHLY
    assert balance_of(pool) == FUNDED - 12 * MONTHLY
    assert balance_of(world["reserved"]) == 4 * 2 * MONTHLY
    assert balance_of(rules.PAYABLE) == 0
    assert balance_of(rules.BANK) == FUNDED - 4 * MONTHLY
    summary = cycle_services.cycle_summary(APR)
    assert (summary.state, summary.lines, summary.confirmed, summary.rejected) == ("done", 5, 4, 1)
    assert summary.chunks == {"33": "posted", "64": "posted", "64:p2": "posted"}
    # the month's page shows the second pass and the resubmitted line
    from django.test import Client

    client = Client()
    client.force_login(people["finance"])
    text = client.get("/cycles/2027-04/").content.decode()
    assert "64 · tahap 2" in text
    assert 'data-testid="resubmitted"' in text
    # and so does the API
    import json

    body = json.loads(client.get("/api/v1/cycles/2027-04").content)
    assert [(c["province"], c["pass_number"], c["lines"]) for c in body["chunks"]] == [
        ("33", 1, 1),
        ("64", 1, 3),
        ("64", 2, 1),
    ]
    assert (body["held_back"], body["short"]) == (0, 0)
    # the exception is gone: the worker-month is represented by its confirmed retry
    assert recon.exceptions_for_month(APR) == []
    assert verify().clean
    # again: nothing is billed twice
    before = books(world)
    cycle_services.cycle_run(month=APR, today=date(2027, 4, 6))
    assert books(world) == before
    assert CycleChunk.objects.count() == 3


def test_a_resolved_exception_or_a_short_pool_is_not_resubmitted(world, people):
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    refused = world["workers"][3]
    for action, note in (("resubmit", ""), ("resolve", "the worker is covered by the employer")):
        recon.exception_act(
            actor=people["operator"], kind="rejected", worker_id=refused.pk, month=APR, action=action, note=note
        )
    before = books(world)
    cycle_services.cycle_run(month=APR, today=date(2027, 4, 5))
    assert books(world) == before
    assert not ContributionLine.objects.filter(retry_of__isnull=False).exists()


def test_a_pool_that_cannot_pay_a_resubmission_waits(world, people):
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    refused = world["workers"][3]
    pool = world["pool"]
    # the pool's money went elsewhere meanwhile
    from lingkaran.ledger.services import transfer

    transfer(key="test:spent", source=pool, target="asset:bank:trust", amount=balance_of(pool), effective_on=PAY_DAY)
    fix_the_wage_earner(refused)
    recon.exception_act(
        actor=people["operator"], kind="rejected", worker_id=refused.pk, month=APR, action="resubmit", note=""
    )
    summary = cycle_services.cycle_run(month=APR, today=date(2027, 4, 5))
    assert (summary.lines, summary.chunks) == (4, {"33": "posted", "64": "posted"})
    assert not ContributionLine.objects.filter(retry_of__isnull=False).exists()
    assert verify().clean
