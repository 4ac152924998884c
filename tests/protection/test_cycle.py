"""The monthly contribution cycle through its command and its services: bill the month's reserved worker-months,
pay them to the simulated agency chunk by chunk, post the ledger per pool and reservation; idempotent, resumable,
and the same whether chunks run as Celery tasks or in one process."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.db import transaction

from lingkaran.funding import accounts
from lingkaran.ledger.models import JournalEntry, Reservation
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.ledger.services import transfer
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection import tasks
from lingkaran.protection.agency import services as agency
from lingkaran.protection.agency.services import RegistrationInput
from lingkaran.protection.domain import cycle as rules
from lingkaran.protection.errors import CycleLedgerMismatch, CycleNothingDue, TariffNotInForce
from lingkaran.protection.models import ContributionLine, Cycle, CycleChunk, SponsoredMonth
from lingkaran.protection.sponsorships import sponsor_directed
from lingkaran.registry.services import worker_decide
from tests.factories import FunderFactory, RegionFactory, UserFactory

APR, MAY, JUN = date(2027, 4, 1), date(2027, 5, 1), date(2027, 6, 1)
PAY_DAY = date(2027, 4, 3)
MONTHLY = 16_800  # JKK + JKM at the lowest bracket, after every PP 50/2025 window
FUNDED = 1_000_000


@pytest.fixture
def people(db):
    return {
        "operator": UserFactory(role="operator"),
        "verifier": UserFactory(role="verifier"),
        "finance": UserFactory(role="finance"),
    }


@pytest.fixture
def world(people, register_worker, region_tree):
    """Four verified ojek drivers: three in Kalimantan Timur (64), one in Jawa Tengah (33); the fourth of province 64
    is covered as a wage earner, so the agency refused to register them. A company pays for all four, April to June
    2027. The others are BPU participants of the simulator."""
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
    summary = agency.registration_batch_submit(batch_id=batch.pk)
    assert summary.reasons == {"covered_as_wage_earner": 1}
    funder = FunderFactory(kind="company")
    pool = accounts.open_pool(target="funder", funder_id=funder.pk)
    transfer(key="test:fund", source=accounts.open_bank(), target=pool, amount=FUNDED, effective_on=date(2026, 11, 2))
    sponsor_directed(
        funder=funder,
        worker_ids=[w.pk for w in workers],
        start=APR,
        months=3,
        package="jkk_jkm",
        by=people["finance"],
    )
    return {"workers": workers, "pool": pool, "reserved": f"liability:reserved:funder:{funder.pk}", "funder": funder}


def books(world) -> dict:
    """Everything a second run must leave alone."""
    return {
        "pool": balance_of(world["pool"]),
        "reserved": balance_of(world["reserved"]),
        "payable": balance_of(rules.PAYABLE),
        "bank": balance_of(rules.BANK),
        "entries": JournalEntry.objects.count(),
        "lines": sorted(ContributionLine.objects.values_list("worker_id", "month", "amount", "state", "reason")),
        "months": sorted(SponsoredMonth.objects.values_list("worker_id", "month", "state")),
        "chunks": sorted(CycleChunk.objects.values_list("province", "state", "confirmed_amount", "rejected_amount")),
        "batches": agency.PaymentBatch.objects.count(),
    }


def assert_april_is_paid(world) -> None:
    confirmed, rejected = world["workers"][:3], world["workers"][3]
    lines = {line.worker_id: line for line in ContributionLine.objects.filter(month=APR)}
    assert {lines[w.pk].state for w in confirmed} == {ContributionLine.State.CONFIRMED}
    assert all(lines[w.pk].agency_reference.startswith("SIM-") for w in confirmed)
    assert (lines[rejected.pk].state, lines[rejected.pk].reason) == (ContributionLine.State.REJECTED, "not_registered")
    states = dict(SponsoredMonth.objects.filter(month=APR).values_list("worker_id", "state"))
    assert {states[w.pk] for w in confirmed} == {SponsoredMonth.State.PAID}
    assert states[rejected.pk] == SponsoredMonth.State.REJECTED
    assert set(SponsoredMonth.objects.exclude(month=APR).values_list("state", flat=True)) == {"reserved"}
    # Money: three months paid to the agency, the refused worker's April back in the pool, May and June still held.
    assert balance_of(world["pool"]) == FUNDED - 4 * 3 * MONTHLY + MONTHLY
    assert balance_of(world["reserved"]) == 4 * 2 * MONTHLY
    assert balance_of(rules.PAYABLE) == 0
    assert balance_of(rules.BANK) == FUNDED - 3 * MONTHLY
    assert Reservation.objects.get(key__endswith=":2027-04").state == Reservation.State.POSTED
    assert set(Reservation.objects.exclude(key__endswith=":2027-04").values_list("state", flat=True)) == {"pending"}
    cycle = Cycle.objects.get(month=APR)
    assert (cycle.state, cycle.line_count, cycle.confirmed_count, cycle.rejected_count) == ("done", 4, 3, 1)
    assert (cycle.confirmed_amount, cycle.rejected_amount) == (3 * MONTHLY, MONTHLY)
    assert cycle.finished_at is not None
    assert_lines_tie_to_the_ledger(APR)
    report = verify()
    assert report.clean, report


def assert_lines_tie_to_the_ledger(month: date) -> None:
    """Per-line totals equal the entries: confirmed per pool = paid entries, rejected per reservation = returns."""
    prefix = f"cycle:{month:%Y-%m}:"
    lines = ContributionLine.objects.filter(month=month)
    paid: dict[str, int] = {}
    returned: dict[str, int] = {}
    for line in lines:
        if line.state == "confirmed":
            paid[line.pool] = paid.get(line.pool, 0) + line.amount
        elif line.state == "rejected":
            returned[line.reservation_key] = returned.get(line.reservation_key, 0) + line.amount
    entries = JournalEntry.objects.filter(idempotency_key__startswith=prefix)
    paid_entries: dict[str, int] = {}
    returned_entries: dict[str, int] = {}
    for entry in entries:
        kind = entry.metadata["kind"]
        if kind == "paid":
            pool = entry.idempotency_key.split(":paid:", 1)[1]
            paid_entries[pool] = paid_entries.get(pool, 0) + entry.total
        elif kind == "return":
            key = entry.idempotency_key.split(":return:", 1)[1]
            returned_entries[key] = returned_entries.get(key, 0) + entry.total
    assert paid == paid_entries
    assert returned == returned_entries
    for chunk in CycleChunk.objects.filter(cycle__month=month):
        chunk_lines = lines.filter(chunk=chunk)
        assert chunk.line_count == chunk_lines.count()
        assert (
            chunk.total_amount
            == chunk.confirmed_amount + chunk.rejected_amount
            == sum(line.amount for line in chunk_lines)
        )


def test_the_command_pays_a_month_and_a_second_run_changes_nothing(world):
    call_command("cycle_run", month="2027-04", today=PAY_DAY.isoformat())
    summary = cycle_services.cycle_summary(date(2027, 4, 1))
    assert (summary.state, summary.lines, summary.confirmed, summary.rejected) == ("done", 4, 3, 1)
    assert (summary.total, summary.confirmed_amount, summary.rejected_amount) == (67_200, 50_400, 16_800)
    assert summary.reasons == {"not_registered": 1}
    assert_april_is_paid(world)
    assert dict(CycleChunk.objects.values_list("province", "line_count")) == {"33": 1, "64": 3}
    assert sorted(agency.PaymentBatch.objects.values_list("key", flat=True)) == ["cycle:2027-04:33", "cycle:2027-04:64"]
    before = books(world)
    call_command("cycle_run", month="2027-04", today=PAY_DAY.isoformat())
    call_command("cycle_run", month="2027-04", today=date(2027, 4, 20).isoformat(), in_process=True)
    assert books(world) == before
    assert_april_is_paid(world)


def test_a_block_reserved_after_its_province_was_sent_goes_in_a_second_pass(world, people, register_worker):
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    before = books(world)
    late = register_worker(people["operator"], nik="6409011708900005", region_code="64.09.01.2020")
    worker_decide(actor=people["verifier"], worker_id=late.pk, decision="verified", reason="KTP checked")
    batch = agency.registration_batch_open(key="test:registrations:late", today=PAY_DAY)
    agency.registration_requests_add(
        batch_id=batch.pk, requests=[RegistrationInput(worker_id=late.pk, income_nominal=1_000_000, sector="transport")]
    )
    agency.registration_batch_submit(batch_id=batch.pk)
    funder = FunderFactory(kind="company")
    pool = accounts.open_pool(target="funder", funder_id=funder.pk)
    transfer(key="test:fund:late", source=accounts.open_bank(), target=pool, amount=MONTHLY, effective_on=PAY_DAY)
    sponsor_directed(funder=funder, worker_ids=[late.pk], start=APR, months=1, package="jkk_jkm", by=people["finance"])
    call_command("cycle_run", month="2027-04", today=PAY_DAY.isoformat())
    summary = cycle_services.cycle_summary(APR)
    assert (summary.state, summary.lines, summary.confirmed, summary.held_back) == ("done", 5, 4, 0)
    assert summary.chunks == {"33": "posted", "64": "posted", "64:p2": "posted"}
    second = CycleChunk.objects.get(pass_number=2)
    assert (second.province, second.line_count, second.confirmed_amount, second.batch.key) == (
        "64",
        1,
        MONTHLY,
        "cycle:2027-04:64:p2",
    )
    assert ContributionLine.objects.get(worker=late).chunk == second
    assert SponsoredMonth.objects.get(worker=late).state == SponsoredMonth.State.PAID
    assert Reservation.objects.get(pool__code=pool).state == Reservation.State.POSTED
    assert JournalEntry.objects.get(idempotency_key=f"cycle:2027-04:64:p2:paid:{pool}").total == MONTHLY
    assert balance_of(pool) == 0
    assert balance_of(rules.PAYABLE) == 0
    after = books(world)
    assert after["bank"] == before["bank"]  # the late funder's money came in and went out to the agency
    assert after["batches"] == 3
    assert_lines_tie_to_the_ledger(APR)
    assert verify().clean
    # again: nothing more
    again = books(world)
    call_command("cycle_run", month="2027-04", today=PAY_DAY.isoformat())
    assert books(world) == again
    assert CycleChunk.objects.count() == 3


def test_the_next_month_pays_on_from_the_same_reservations(world):
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    summary = cycle_services.cycle_run(month=MAY, today=date(2027, 5, 3))
    assert (summary.state, summary.confirmed, summary.rejected) == ("done", 3, 1)
    assert balance_of(world["reserved"]) == 4 * MONTHLY
    assert balance_of(world["pool"]) == FUNDED - 4 * 3 * MONTHLY + 2 * MONTHLY
    assert balance_of(rules.BANK) == FUNDED - 6 * MONTHLY
    assert_lines_tie_to_the_ledger(MAY)
    assert verify().clean


@pytest.mark.parametrize("stopped_after", ["bill", "submit", "read", "post"])
def test_a_run_stopped_between_steps_is_completed_by_the_next(world, stopped_after):
    class Crash(Exception):
        pass

    def crash(step: str) -> None:
        if step == stopped_after:
            raise Crash(step)

    with pytest.raises(Crash):
        cycle_services.cycle_run(month=APR, today=PAY_DAY, tasks=False, after_step=crash)
    assert Cycle.objects.get(month=APR).state == Cycle.State.RUNNING
    assert verify().clean
    if stopped_after in ("bill", "submit", "read"):
        assert balance_of(world["reserved"]) == 4 * 3 * MONTHLY  # nothing posted yet
    summary = cycle_services.cycle_run(month=APR, today=PAY_DAY)
    assert summary.state == "done"
    assert_april_is_paid(world)
    assert agency.PaymentBatch.objects.count() == 2


def test_steps_run_one_by_one_give_the_same_books(world):
    cycle = cycle_services.cycle_bill(month=APR)
    assert set(ContributionLine.objects.values_list("state", flat=True)) == {"due"}
    for chunk in cycle.chunks.all():
        cycle_services.chunk_submit(chunk_id=chunk.pk, today=PAY_DAY)
        cycle_services.chunk_submit(chunk_id=chunk.pk, today=PAY_DAY)
        cycle_services.chunk_read(chunk_id=chunk.pk)
        cycle_services.chunk_read(chunk_id=chunk.pk)
        cycle_services.chunk_post(chunk_id=chunk.pk, today=PAY_DAY)
        cycle_services.chunk_post(chunk_id=chunk.pk, today=PAY_DAY)
    cycle_services.cycle_finish(month=APR)
    assert_april_is_paid(world)


def _snapshot() -> dict:
    return {
        "lines": sorted(
            ContributionLine.objects.values_list("worker_id", "month", "amount", "state", "reason", "pool")
        ),
        "months": sorted(SponsoredMonth.objects.values_list("worker_id", "month", "state")),
        "chunks": sorted(
            CycleChunk.objects.values_list("province", "state", "line_count", "confirmed_amount", "rejected_amount")
        ),
        "cycle": list(
            Cycle.objects.values_list("state", "line_count", "confirmed_amount", "rejected_count", "rejected_amount")
        ),
        "entries": sorted(
            JournalEntry.objects.filter(idempotency_key__startswith="cycle:").values_list(
                "idempotency_key", "total", "content_hash"
            )
        ),
        "balances": {
            code: balance_of(code)
            for code in (rules.PAYABLE, rules.BANK, *Reservation.objects.values_list("pool__code", flat=True))
        },
        "reservations": sorted(Reservation.objects.values_list("key", "state")),
    }


def test_chunks_as_tasks_give_the_same_result_as_one_process(world, monkeypatch):
    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        cycle_services.cycle_run(month=APR, today=PAY_DAY, tasks=False)
        in_process = _snapshot()
        raise Undo
    assert not ContributionLine.objects.exists()

    sent = []
    delay = tasks.cycle_chunk.delay

    def spy(*args):
        sent.append(args)
        return delay(*args)

    monkeypatch.setattr(tasks.cycle_chunk, "delay", spy)
    cycle_services.cycle_run(month=APR, today=PAY_DAY, tasks=True)
    assert len(sent) == 2
    assert _snapshot() == in_process
    assert_april_is_paid(world)


def test_nothing_due_and_no_tariff_are_clear_refusals(world):
    with pytest.raises(CycleNothingDue) as raised:
        call_command("cycle_run", month="2027-09")
    assert raised.value.details == {"month": "2027-09"}
    assert raised.value.code == "cycle_nothing_due"
    with pytest.raises(TariffNotInForce) as raised:
        cycle_services.cycle_run(month=date(2010, 1, 1))
    assert raised.value.details["month"] == "2010-01"
    assert not Cycle.objects.exists()


def test_a_bad_month_is_refused_by_the_command(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("cycle_run", month="2027-13")


def test_only_finance_may_run_the_cycle(world, people):
    from lingkaran.core.errors import Forbidden

    with pytest.raises(Forbidden):
        cycle_services.cycle_run(month=APR, actor=people["operator"], today=PAY_DAY)
    summary = cycle_services.cycle_run(month=APR, actor=people["finance"], today=PAY_DAY)
    assert summary.state == "done"
    assert Cycle.objects.get(month=APR).started_by == people["finance"]


# --- The pure plan -------------------------------------------------------------------------------------------------


def test_the_plan_posts_per_pool_and_reservation_and_returns_what_no_line_bills():
    lines = [
        rules.ReservationLines("sponsor:b:2027-04", "liability:pool:funder:2", 30, 0),
        rules.ReservationLines("sponsor:a:2027-04", "liability:pool:funder:1", 20, 10),
        rules.ReservationLines("sponsor:c:2027-04", "liability:pool:funder:1", 5, 0),
    ]
    plan = rules.chunk_plan(
        month=APR,
        province="64",
        lines=lines,
        reserved={"sponsor:a:2027-04": 30, "sponsor:b:2027-04": 40, "sponsor:c:2027-04": 5},
        billed_in_cycle={"sponsor:a:2027-04": 30, "sponsor:b:2027-04": 35, "sponsor:c:2027-04": 5},
    )
    assert plan.reservations == ("sponsor:a:2027-04", "sponsor:b:2027-04", "sponsor:c:2027-04")
    assert [(t.key, t.target, t.amount) for t in plan.transfers] == [
        ("cycle:2027-04:64:return:sponsor:a:2027-04", "liability:pool:funder:1", 10),
        ("cycle:2027-04:unbilled:sponsor:b:2027-04", "liability:pool:funder:2", 5),
        ("cycle:2027-04:64:paid:liability:pool:funder:1", rules.BANK, 25),
        ("cycle:2027-04:64:paid:liability:pool:funder:2", rules.BANK, 30),
    ]
    assert all(t.source == rules.PAYABLE for t in plan.transfers)
    assert (plan.paid, plan.returned) == (55, 10)
    with pytest.raises(rules.PlanError):
        rules.chunk_plan(
            month=APR,
            province="64",
            lines=lines[:1],
            reserved={"sponsor:b:2027-04": 20},
            billed_in_cycle={"sponsor:b:2027-04": 30},
        )


def test_months_and_provinces():
    assert rules.parse_month("2026-12") == date(2026, 12, 1)
    assert [rules.parse_month(v) for v in ("2026-13", "26-12", "2026-1", "", "1999-01")] == [None] * 5
    assert [rules.province_of(v) for v in ("64.09.01.2020", "33", "", None, "X1")] == ["64", "33", "00", "00", "00"]
    assert rules.batch_key(APR, "64") == "cycle:2027-04:64"


def test_a_ledger_mismatch_posts_nothing(world, monkeypatch):
    cycle = cycle_services.cycle_bill(month=APR)
    chunk = cycle.chunks.get(province="64")
    cycle_services.chunk_submit(chunk_id=chunk.pk, today=PAY_DAY)
    cycle_services.chunk_read(chunk_id=chunk.pk)
    before = JournalEntry.objects.count()

    def too_much(**kwargs):
        raise rules.PlanError("sponsor:x", 1, 2)

    monkeypatch.setattr(rules, "chunk_plan", too_much)
    with pytest.raises(CycleLedgerMismatch):
        cycle_services.chunk_post(chunk_id=chunk.pk, today=PAY_DAY)
    assert JournalEntry.objects.count() == before
    assert CycleChunk.objects.get(pk=chunk.pk).state == CycleChunk.State.ANSWERED


def test_the_cli_maps_cycle_run_to_the_command():
    from django.core.management import get_commands

    from lingkaran.cli import resolve_command

    assert resolve_command(["cycle", "run", "--month", "2026-12"], set(get_commands())) == [
        "cycle_run",
        "--month",
        "2026-12",
    ]
