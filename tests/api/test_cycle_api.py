"""The cycles API: the list (paginated), one month (state, totals, chunks, lines per rejection reason), a run by
finance through the same service as the page and the command (refusals as problem+json with stable codes, changing
nothing), and a month's lines (paginated, masked, filtered by state and province). Money staff read; auditors read but
may not run; funders and other roles get 403. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date

import pytest

from lingkaran.funding import accounts
from lingkaran.ledger.models import JournalEntry
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.ledger.services import transfer
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection.agency import services as agency
from lingkaran.protection.agency.services import RegistrationInput
from lingkaran.protection.models import ContributionLine, Cycle, SponsoredMonth
from lingkaran.protection.sponsorships import sponsor_directed
from lingkaran.registry.services import worker_decide
from tests.factories import FunderFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

APR, MAY = date(2027, 4, 1), date(2027, 5, 1)
MONTHLY = 16_800  # JKK + JKM at the lowest bracket, after every PP 50/2025 window
FUNDED = 1_000_000
NIKS = ["6409011708900001", "6409011708900002", "3374011708900003", "6409011708900004"]


@pytest.fixture
def people(db):
    return {role: UserFactory(role=role) for role in ("operator", "verifier", "finance", "auditor", "funder")}


@pytest.fixture
def world(people, register_worker, region_tree):
    """Four verified workers, three in province 64 and one in 33; the fourth of 64 is a wage earner the agency would
    not register. A company pays for all four, April and May 2027."""
    RegionFactory(code="33.74.01.1001", name="Pekunden")
    regions = ["64.09.01.2020", "64.09.01.2020", "33.74.01.1001", "64.09.01.1001"]
    workers = []
    for nik, region in zip(NIKS, regions, strict=True):
        worker = register_worker(people["operator"], nik=nik, region_code=region)
        worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="verified", reason="KTP checked")
        workers.append(worker)
    agency.simulator_wage_earner_add(actor=people["operator"], nik=NIKS[3], employer="PT Contoh")
    batch = agency.registration_batch_open(key="test:registrations", today=date(2026, 11, 2))
    agency.registration_requests_add(
        batch_id=batch.pk,
        requests=[RegistrationInput(worker_id=w.pk, income_nominal=1_000_000, sector="transport") for w in workers],
    )
    agency.registration_batch_submit(batch_id=batch.pk)
    funder = FunderFactory(kind="company", name="PT Peduli Ojek")
    pool = accounts.open_pool(target="funder", funder_id=funder.pk)
    transfer(key="test:fund", source=accounts.open_bank(), target=pool, amount=FUNDED, effective_on=date(2026, 11, 2))
    sponsor_directed(
        funder=funder, worker_ids=[w.pk for w in workers], start=APR, months=2, package="jkk_jkm", by=people["finance"]
    )
    return {"workers": workers, "funder": funder, "pool": pool}


@pytest.fixture
def pay_day(monkeypatch):
    """The API runs a cycle paid today: today is the 3rd of April 2027."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2027, 4, 3))


def books() -> dict:
    return {
        "entries": JournalEntry.objects.count(),
        "cycles": list(Cycle.objects.values_list("month", "state", "line_count")),
        "lines": sorted(ContributionLine.objects.values_list("worker_id", "month", "state")),
        "months": sorted(SponsoredMonth.objects.values_list("worker_id", "month", "state")),
    }


def test_finance_runs_a_month_and_reads_it_back(bearer, people, world, pay_day):
    client, _token, _plain = bearer(people["finance"])
    response = client.post("/api/v1/cycles/2027-04/run")
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert {k: body[k] for k in ("month", "state", "lines", "total", "confirmed", "confirmed_amount")} == {
        "month": "2027-04",
        "state": "done",
        "lines": 4,
        "total": 4 * MONTHLY,
        "confirmed": 3,
        "confirmed_amount": 3 * MONTHLY,
    }
    assert (body["rejected"], body["rejected_amount"], body["held_back"]) == (1, MONTHLY, 0)
    assert [(c["province"], c["state"], c["lines"], c["total"], c["confirmed_amount"], c["rejected_amount"])
            for c in body["chunks"]] == [
        ("33", "posted", 1, MONTHLY, MONTHLY, 0),
        ("64", "posted", 3, 3 * MONTHLY, 2 * MONTHLY, MONTHLY),
    ]  # fmt: skip
    assert body["rejection_reasons"] == [
        {"code": "not_registered", "text": body["rejection_reasons"][0]["text"], "lines": 1}
    ]
    assert body["rejection_reasons"][0]["text"]
    assert body["finished_at"] is not None
    assert balance_of(world["pool"]) == FUNDED - 4 * 2 * MONTHLY + MONTHLY
    assert verify().clean

    # The same month again bills and posts nothing more (the service is idempotent).
    before = books()
    again = client.post("/api/v1/cycles/2027-04/run")
    assert again.status_code == 200
    assert json.loads(again.content) == body
    assert books() == before

    # The page's reading and the API's agree.
    detail = client.get("/api/v1/cycles/2027-04")
    assert json.loads(detail.content) == body
    listing = json.loads(client.get("/api/v1/cycles").content)
    assert (listing["count"], listing["next"]) == (1, None)
    assert listing["items"][0]["month"] == "2027-04"
    assert listing["items"][0]["confirmed"] == 3
    assert "chunks" not in listing["items"][0]


def test_the_list_is_paginated_latest_month_first(bearer, people, world, pay_day):
    cycle_services.cycle_run(month=APR, actor=people["finance"], today=date(2027, 4, 3))
    cycle_services.cycle_run(month=MAY, actor=people["finance"], today=date(2027, 5, 3))
    client, _token, _plain = bearer(people["auditor"])
    first = json.loads(client.get("/api/v1/cycles?limit=1").content)
    assert [c["month"] for c in first["items"]] == ["2027-05"]
    assert (first["count"], first["limit"], first["offset"], first["next"]) == (2, 1, 0, 1)
    second = json.loads(client.get("/api/v1/cycles?limit=1&offset=1").content)
    assert [c["month"] for c in second["items"]] == ["2027-04"]
    assert second["next"] is None


def test_lines_are_masked_paginated_and_filtered(bearer, people, world, pay_day):
    cycle_services.cycle_run(month=APR, actor=people["finance"], today=date(2027, 4, 3))
    client, _token, _plain = bearer(people["auditor"])
    page = json.loads(client.get("/api/v1/cycles/2027-04/lines?limit=2").content)
    assert (page["count"], page["next"]) == (4, 2)
    assert [line["province"] for line in page["items"]] == ["33", "64"]
    rest = json.loads(client.get("/api/v1/cycles/2027-04/lines?limit=2&offset=2").content)
    lines = page["items"] + rest["items"]
    workers = {w.pk: w for w in world["workers"]}
    for line in lines:
        worker = workers[line["worker_id"]]
        assert line["worker_nik_masked"] == worker.nik_masked
        assert line["month"] == "2027-04"
        assert line["amount"] == MONTHLY
        assert (line["funder_id"], line["funder_name"]) == (world["funder"].pk, "PT Peduli Ojek")
        assert (line["kind"], line["funding_source"]) == ("sponsored", "csr")
    text = json.dumps(lines)
    for nik in NIKS:
        assert nik not in text
    for worker in world["workers"]:
        assert worker.full_name not in text

    rejected = json.loads(client.get("/api/v1/cycles/2027-04/lines?state=rejected").content)
    assert [(line["worker_id"], line["reason"]) for line in rejected["items"]] == [
        (world["workers"][3].pk, "not_registered")
    ]
    assert rejected["items"][0]["reason_text"]
    central_java = json.loads(client.get("/api/v1/cycles/2027-04/lines?province=33").content)
    assert [line["worker_id"] for line in central_java["items"]] == [world["workers"][2].pk]
    confirmed_64 = json.loads(client.get("/api/v1/cycles/2027-04/lines?province=64&state=confirmed").content)
    assert sorted(line["worker_id"] for line in confirmed_64["items"]) == sorted(w.pk for w in world["workers"][:2])
    assert all(line["agency_reference"].startswith("SIM-") for line in confirmed_64["items"])


def test_refusals_are_problems_with_stable_codes_and_change_nothing(bearer, people, world, pay_day, assert_problem):
    finance, _token, _plain = bearer(people["finance"])
    before = books()
    assert_problem(finance.post("/api/v1/cycles/2027-06/run"), 422, "cycle_nothing_due")
    problem = assert_problem(finance.post("/api/v1/cycles/2027-13/run"), 422, "invalid_input")
    assert problem["details"]["fields"]["month"]
    assert_problem(finance.get("/api/v1/cycles/April"), 422, "invalid_input")
    assert_problem(finance.get("/api/v1/cycles/2027-04"), 404, "not_found")
    assert_problem(finance.get("/api/v1/cycles/2027-04/lines"), 404, "not_found")
    assert_problem(finance.get("/api/v1/cycles/2027-04/lines?province=Jawa"), 422, "invalid_input")
    assert_problem(finance.get("/api/v1/cycles/2027-04/lines?state=lost"), 422, "invalid_input")
    assert books() == before


@pytest.mark.parametrize("role", ["auditor", "operator"])
def test_staff_who_read_may_not_run(bearer, people, world, pay_day, assert_problem, role):
    client, _token, _plain = bearer(people[role])
    before = books()
    assert_problem(client.post("/api/v1/cycles/2027-04/run"), 403, "forbidden")
    assert books() == before
    assert client.get("/api/v1/cycles").status_code == 200


@pytest.mark.parametrize("role", ["funder", "field_agent", "verifier", "worker"])
def test_funders_and_other_roles_may_neither_run_nor_list(bearer, people, world, pay_day, assert_problem, role):
    from lingkaran.funding.models import FunderMembership

    user = people.get(role) or UserFactory(role=role)
    if role == "funder":  # a member of the very funder that pays: still not the cycle's reader
        FunderMembership.objects.create(funder=world["funder"], user=user)
    cycle_services.cycle_run(month=APR, actor=people["finance"], today=date(2027, 4, 3))
    client, _token, _plain = bearer(user)
    before = books()
    assert_problem(client.post("/api/v1/cycles/2027-05/run"), 403, "forbidden")
    assert_problem(client.get("/api/v1/cycles"), 403, "forbidden")
    assert_problem(client.get("/api/v1/cycles/2027-04"), 403, "forbidden")
    assert_problem(client.get("/api/v1/cycles/2027-04/lines"), 403, "forbidden")
    assert books() == before


def test_anonymous_callers_must_authenticate(client, world, assert_problem):
    assert_problem(client.get("/api/v1/cycles"), 401, "not_authenticated")
    assert_problem(client.post("/api/v1/cycles/2027-04/run"), 401, "not_authenticated")
