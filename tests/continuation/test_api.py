"""The continuation endpoints through the test client with bearer tokens: plans (list paginated and scoped, a preview
that reserves nothing, create all or nothing with problem+json refusals), a worker's continuation, a worker's
payment (once per receipt). Money is checked in the ledger itself."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from lingkaran.continuation.domain import rules
from lingkaran.continuation.models import CoPayPlan, PlanMonth, WorkerPayment
from lingkaran.continuation.services import plan_create
from lingkaran.ledger.models import JournalEntry
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.protection import cycle as cycle_services
from tests.continuation.conftest import APR, MONTHLY, PAY_DAY, fund

pytestmark = pytest.mark.django_db

JSON = "application/json"
PLANS = "/api/v1/continuation/plans"


def plan_body(worker, pool, **extra) -> str:
    body = {"worker_id": worker.pk, "first_month": "2027-04", "shares_bp": [2500, 5000, 7500, 10_000]}
    return json.dumps({"funder_pool": pool, "funder_source": "csr", **body, **extra})


def test_a_plan_previewed_then_created_once(bearer, world, people):
    worker = world["workers"][0]
    api, _token, _plain = bearer(people["finance"])
    entries = JournalEntry.objects.count()
    preview = api.post(PLANS, plan_body(worker, world["pool"], preview=True), content_type=JSON)
    assert preview.status_code == 200, preview.content
    body = json.loads(preview.content)
    assert (body["needed"], body["available"], body["funder_pool"]) == (25_200, 1_000_000, world["pool"])
    assert [(m["month"], m["worker_bp"], m["amount"], m["funder_part"], m["worker_part"]) for m in body["months"]] == [
        ("2027-04", 2500, MONTHLY, 12_600, 4_200),
        ("2027-05", 5000, MONTHLY, 8_400, 8_400),
        ("2027-06", 7500, MONTHLY, 4_200, 12_600),
        ("2027-07", 10_000, MONTHLY, 0, MONTHLY),
    ]
    assert JournalEntry.objects.count() == entries
    assert not CoPayPlan.objects.exists()

    created = api.post(PLANS, plan_body(worker, world["pool"], note="after Bank X"), content_type=JSON)
    assert created.status_code == 201, created.content
    plan = json.loads(created.content)
    assert plan["worker_id"] == worker.pk
    assert plan["worker_nik_masked"] == worker.nik_masked
    assert (plan["first_month"], plan["months"], plan["funder_reserved"], plan["note"]) == (
        "2027-04",
        4,
        25_200,
        "after Bank X",
    )
    assert balance_of(world["pool"]) == 1_000_000 - 25_200
    assert verify().clean


def test_a_step_down_by_first_share_and_step(bearer, world, people):
    worker = world["workers"][0]
    api, _token, _plain = bearer(people["operator"])
    body = {"worker_id": worker.pk, "first_month": "2027-04", "first_share_bp": 5000, "step_bp": 2500, "months": 3}
    response = api.post(PLANS, json.dumps({**body, "funder_pool": world["pool"]}), content_type=JSON)
    assert response.status_code == 201, response.content
    assert json.loads(response.content)["shares_bp"] == [5000, 7500, 10_000]


def test_plan_refusals_are_problems_and_change_nothing(bearer, world, people, assert_problem):
    worker = world["workers"][0]
    fund(world["bridge"], 1_000, "test:fund:bridge")
    entries = JournalEntry.objects.count()
    auditor, _t, _p = bearer(people["auditor"])
    assert_problem(auditor.post(PLANS, plan_body(worker, world["pool"]), content_type=JSON), 403, "forbidden")
    agent, _t, _p = bearer(people["agent"])
    assert_problem(agent.post(PLANS, plan_body(worker, world["pool"]), content_type=JSON), 403, "forbidden")
    api, _t, _p = bearer(people["operator"])
    body = assert_problem(
        api.post(PLANS, plan_body(worker, world["pool"], shares_bp=[9950]), content_type=JSON), 422, "invalid_input"
    )
    assert list(body["details"]["fields"]) == ["shares"]
    body = assert_problem(api.post(PLANS, plan_body(worker, ""), content_type=JSON), 422, "invalid_input")
    assert list(body["details"]["fields"]) == ["funder_pool"]
    body = assert_problem(
        api.post(PLANS, plan_body(worker, world["pool"], first_month="2027-13"), content_type=JSON),
        422,
        "invalid_input",
    )
    assert "first_month" in body["details"]["fields"]
    body = assert_problem(
        api.post(PLANS, json.dumps({"worker_id": worker.pk, "first_month": "2027-04"}), content_type=JSON),
        422,
        "invalid_input",
    )
    assert list(body["details"]["fields"]) == ["shares"]
    assert_problem(
        api.post(PLANS, plan_body(worker, world["pool"], worker_id=999_999), content_type=JSON), 404, "not_found"
    )
    body = assert_problem(
        api.post(PLANS, plan_body(worker, world["pool"], first_month="2010-01"), content_type=JSON),
        422,
        "tariff_not_in_force",
    )
    assert body["details"]["month"] == "2010-01"
    body = assert_problem(
        api.post(PLANS, plan_body(worker, world["bridge"]), content_type=JSON), 409, "plan_pool_insufficient"
    )
    assert (body["details"]["available"], body["details"]["needed"]) == (1_000, 25_200)
    assert JournalEntry.objects.count() == entries
    assert not CoPayPlan.objects.exists()

    assert api.post(PLANS, plan_body(worker, world["pool"]), content_type=JSON).status_code == 201
    entries = JournalEntry.objects.count()
    body = assert_problem(
        api.post(PLANS, plan_body(worker, world["pool"]), content_type=JSON), 409, "plan_months_taken"
    )
    assert body["details"]["months"] == ["2027-04", "2027-05", "2027-06", "2027-07"]
    assert JournalEntry.objects.count() == entries
    assert CoPayPlan.objects.count() == 1


def test_the_list_is_paginated_filtered_and_scoped(bearer, world, people, assert_problem):
    for worker in world["workers"][:3]:
        plan_create(
            actor=people["operator"], worker_id=worker.pk, first_month=APR, shares_bp=[5000], funder_pool=world["pool"]
        )
    api, _t, _p = bearer(people["finance"])
    page = json.loads(api.get(f"{PLANS}?limit=2").content)
    assert (page["count"], page["limit"], page["offset"], page["next"], len(page["items"])) == (3, 2, 0, 2, 2)
    assert set(page["items"][0]) >= {"id", "worker_id", "shares_bp", "funder_reserved", "billed", "short"}
    assert json.loads(api.get(f"{PLANS}?month=2027-04&state=planned").content)["count"] == 3
    assert json.loads(api.get(f"{PLANS}?month=2027-05").content)["count"] == 0
    assert json.loads(api.get(f"{PLANS}?region=33.74").content)["count"] == 0
    assert_problem(api.get(f"{PLANS}?state=lost"), 422, "invalid_input")
    assert_problem(api.get(f"{PLANS}?region=abc"), 422, "invalid_input")
    far, _t, _p = bearer(people["far_agent"])
    assert json.loads(far.get(PLANS).content)["count"] == 0
    agent, _t, _p = bearer(people["agent"])
    assert json.loads(agent.get(PLANS).content)["count"] == 3
    from tests.factories import UserFactory

    verifier, _t, _p = bearer(UserFactory(role="verifier"))
    assert_problem(verifier.get(PLANS), 403, "forbidden")


def test_a_worker_continuation_and_payments(bearer, world, people, assert_problem):
    b = world["workers"][1]
    fund(world["bridge"], 100_000, "test:fund:bridge")
    plan_create(actor=people["finance"], worker_id=b.pk, first_month=APR, shares_bp=[5000], funder_pool=world["pool"])
    cycle_services.cycle_run(month=APR, today=PAY_DAY, tasks=False)  # nothing handed over: the fund advances 8,400
    url = f"/api/v1/continuation/workers/{b.pk}"
    reader, _t, _p = bearer(people["auditor"])
    view = json.loads(reader.get(url).content)
    assert (view["worker_id"], view["balance"], view["debt"]) == (b.pk, 0, 8_400)
    assert view["counts"] == {"co_paid": 0, "self": 0, "bridged": 1, "short": 0}
    (month,) = view["months"]
    assert (month["month"], month["kind"], month["state"], month["own_part"], month["bridged_part"]) == (
        "2027-04",
        "bridged",
        "ready",
        0,
        8_400,
    )
    assert [p["shares_bp"] for p in view["plans"]] == [[5000]]

    today = timezone.localdate().isoformat()
    payment = {"amount": 10_000, "paid_on": today, "receipt_number": "KW-B1"}
    assert_problem(reader.post(f"{url}/payments", json.dumps(payment), content_type=JSON), 403, "forbidden")
    far, _t, _p = bearer(people["far_agent"])
    assert_problem(far.post(f"{url}/payments", json.dumps(payment), content_type=JSON), 404, "not_found")
    assert_problem(far.get(url), 404, "not_found")
    agent, _t, _p = bearer(people["agent"])
    body = assert_problem(
        agent.post(f"{url}/payments", json.dumps({**payment, "amount": 0}), content_type=JSON), 422, "invalid_input"
    )
    assert list(body["details"]["fields"]) == ["amount"]
    body = assert_problem(
        agent.post(f"{url}/payments", json.dumps({**payment, "paid_on": "2099-01-01"}), content_type=JSON),
        422,
        "invalid_input",
    )
    assert list(body["details"]["fields"]) == ["paid_on"]
    assert not WorkerPayment.objects.exists()

    response = agent.post(f"{url}/payments", json.dumps(payment), content_type=JSON)
    assert response.status_code == 201, response.content
    recorded = json.loads(response.content)
    assert (recorded["amount"], recorded["repaid"], recorded["receipt_number"]) == (10_000, 8_400, "KW-B1")
    entries = JournalEntry.objects.count()
    again = agent.post(f"{url}/payments", json.dumps(payment), content_type=JSON)
    assert json.loads(again.content)["id"] == recorded["id"]
    assert JournalEntry.objects.count() == entries
    assert_problem(
        agent.post(f"{url}/payments", json.dumps({**payment, "amount": 9_000}), content_type=JSON),
        409,
        "payment_receipt_taken",
    )
    assert JournalEntry.objects.count() == entries
    view = json.loads(reader.get(url).content)
    assert (view["balance"], view["debt"]) == (1_600, 0)
    assert balance_of(rules.worker_pool(b.pk)) == 1_600
    assert PlanMonth.objects.get(worker=b).state == "ready"
    assert verify().clean


def test_the_schema_documents_the_continuation_operations(client):
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {
        ("/api/v1/continuation/plans", "get"),
        ("/api/v1/continuation/plans", "post"),
        ("/api/v1/continuation/workers/{worker_id}", "get"),
        ("/api/v1/continuation/workers/{worker_id}/payments", "post"),
    } <= operations
