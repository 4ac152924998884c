"""The sponsorship endpoints: the list (paginated, a funder's token sees only its funder), a directed block (once for
the same body, problem+json with the stable codes when refused), criteria runs (preview, commit, read back)."""

from __future__ import annotations

import json

import pytest

from lingkaran.funding.models import FunderMembership
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.protection.models import AllocationRun, SponsoredMonth, Sponsorship
from lingkaran.protection.sponsorships import sponsor_directed
from tests.factories import FunderFactory, UserFactory
from tests.web.test_sponsorship_pages import MONTH, START, fund, staff, verified  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

JSON = "application/json"


def directed_body(funder, workers, **extra) -> str:
    body = {"funder_id": funder.pk, "worker_ids": [w.pk for w in workers], "start": "2027-04", "months": 3}
    return json.dumps({"package": "jkk_jkm", **body, **extra})


def test_a_directed_block_through_the_api_once(bearer, staff, verified):  # noqa: F811
    workers = verified(2)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 500_000)
    client, _token, _plain = bearer(staff["finance"])
    response = client.post("/api/v1/sponsorships/directed", directed_body(funder, workers), content_type=JSON)
    assert response.status_code == 201, response.content
    body = json.loads(response.content)
    assert [(b["worker_id"], b["total"], b["start_month"], b["kind"]) for b in body] == [
        (workers[0].pk, 3 * MONTH, "2027-04", "directed"),
        (workers[1].pk, 3 * MONTH, "2027-04", "directed"),
    ]
    assert body[0]["worker_nik_masked"] == workers[0].nik_masked
    assert [m["amount"] for m in body[0]["worker_months"]] == [MONTH] * 3
    again = client.post("/api/v1/sponsorships/directed", directed_body(funder, workers), content_type=JSON)
    assert [b["id"] for b in json.loads(again.content)] == [b["id"] for b in body]
    assert balance_of(pool) == 500_000 - 6 * MONTH
    assert SponsoredMonth.objects.count() == 6


def test_refusals_are_problems_with_stable_codes(bearer, staff, verified, assert_problem):  # noqa: F811
    workers = verified(2)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 6 * MONTH - 1)
    client, _token, _plain = bearer(staff["operator"])
    short = client.post("/api/v1/sponsorships/directed", directed_body(funder, workers), content_type=JSON)
    problem = assert_problem(short, 409, "pool_insufficient")
    assert (problem["details"]["available"], problem["details"]["needed"]) == (6 * MONTH - 1, 6 * MONTH)
    unknown = client.post(
        "/api/v1/sponsorships/directed", directed_body(funder, workers, worker_ids=[999_999]), content_type=JSON
    )
    assert assert_problem(unknown, 422, "sponsorship_refused")["details"]["not_verified"] == [999_999]
    assert_problem(
        client.post("/api/v1/sponsorships/directed", directed_body(funder, workers, funder_id=999_999),
                    content_type=JSON), 404, "not_found",
    )  # fmt: skip
    assert_problem(
        client.post("/api/v1/sponsorships/directed", directed_body(funder, workers, months=0), content_type=JSON),
        422,
        "invalid_input",
    )
    assert Sponsorship.objects.count() == 0
    assert balance_of(pool) == 6 * MONTH - 1


@pytest.mark.parametrize("role", ["field_agent", "auditor", "verifier"])
def test_other_roles_get_403(bearer, role, assert_problem):
    client, _token, _plain = bearer(UserFactory(role=role))
    assert_problem(client.get("/api/v1/sponsorships"), 403, "forbidden")
    request = {"key": "k", "funder_id": 1, "workers": 1, "start": "2027-04", "months": 1, "package": "jkk_jkm"}
    response = client.post("/api/v1/allocation-runs", json.dumps({"requests": [request]}), content_type=JSON)
    assert_problem(response, 403, "forbidden")
    assert_problem(client.get("/api/v1/allocation-runs/1"), 403, "forbidden")


def test_a_funders_token_sees_only_its_own_and_cannot_commit(bearer, staff, verified, assert_problem):  # noqa: F811
    first, second = verified(2)
    own, other = FunderFactory(kind="company"), FunderFactory(kind="company")
    fund(own, 500_000)
    fund(other, 500_000)
    sponsor_directed(funder=own, worker_ids=[first.pk], start=START, months=2, package="jkk_jkm", by=staff["finance"])
    sponsor_directed(
        funder=other, worker_ids=[second.pk], start=START, months=2, package="jkk_jkm", by=staff["finance"]
    )
    user = UserFactory(role="funder")
    FunderMembership.objects.create(user=user, funder=own)
    client, _token, _plain = bearer(user)
    page = json.loads(client.get("/api/v1/sponsorships").content)
    assert (page["count"], [i["funder_id"] for i in page["items"]]) == (1, [own.pk])
    assert json.loads(client.get(f"/api/v1/sponsorships?funder_id={other.pk}").content)["count"] == 0
    response = client.post("/api/v1/sponsorships/directed", directed_body(own, [first]), content_type=JSON)
    assert_problem(response, 403, "forbidden")

    operator, _t, _p = bearer(staff["operator"])
    everything = json.loads(operator.get("/api/v1/sponsorships?limit=1").content)
    assert (everything["count"], everything["next"], len(everything["items"])) == (2, 1, 1)
    assert json.loads(operator.get("/api/v1/sponsorships?month=2027-05").content)["count"] == 2
    assert json.loads(operator.get("/api/v1/sponsorships?month=2027-06").content)["count"] == 0


def test_a_criteria_run_preview_then_commit(bearer, staff, verified, assert_problem):  # noqa: F811
    poorest = verified(1, dtsen_decile=1)[0]
    verified(1, dtsen_decile=6)
    woman = verified(1, dtsen_decile=3, is_female_head=True)[0]
    company = FunderFactory(kind="company")
    pool = fund(company, 1_000_000)
    client, _token, _plain = bearer(staff["operator"])
    request = {
        "key": "pks-1", "funder_id": company.pk, "regions": ["64.09"], "workers": 2, "start": "2027-04",
        "months": 6, "package": "jkk_jkm",
    }  # fmt: skip
    preview = client.post("/api/v1/allocation-runs", json.dumps({"requests": [request]}), content_type=JSON)
    assert preview.status_code == 201, preview.content
    shown = json.loads(preview.content)
    assert shown["state"] == "preview"
    assert [(p["worker_id"], p["rank"]) for p in shown["outcomes"][0]["picks"]] == [(woman.pk, 1), (poorest.pk, 2)]
    assert shown["outcomes"][0]["spent"] == 2 * 6 * MONTH
    assert balance_of(pool) == 1_000_000

    body = json.dumps({"requests": [request], "commit": True})
    committed = json.loads(client.post("/api/v1/allocation-runs", body, content_type=JSON).content)
    assert (committed["state"], committed["inputs_sha256"]) == ("committed", shown["inputs_sha256"])
    assert committed["outcomes"] == shown["outcomes"]
    assert balance_of(pool) == 1_000_000 - 2 * 6 * MONTH
    client.post("/api/v1/allocation-runs", body, content_type=JSON)
    assert balance_of(pool) == 1_000_000 - 2 * 6 * MONTH
    assert verify().clean

    read = json.loads(client.get(f"/api/v1/allocation-runs/{committed['id']}").content)
    assert read["outcomes"] == committed["outcomes"]
    assert_problem(client.get("/api/v1/allocation-runs/999999"), 404, "not_found")
    both = client.post(
        "/api/v1/allocation-runs", json.dumps({"requests": [{**request, "budget": 100_000}]}), content_type=JSON
    )
    assert "requests.0.workers" in assert_problem(both, 422, "invalid_input")["details"]["fields"]
    assert AllocationRun.objects.count() == 3


def test_the_schema_lists_the_sponsorship_operations(client):
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations >= {
        ("/api/v1/sponsorships", "get"),
        ("/api/v1/sponsorships/directed", "post"),
        ("/api/v1/allocation-runs", "post"),
        ("/api/v1/allocation-runs/{run_id}", "get"),
    }
