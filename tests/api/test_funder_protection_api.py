# ruff: noqa: F811 - the world fixture is imported from tests/protection/test_funder_view.py
"""The funder view endpoints: a funder's protection summary, its covered workers (paginated, masked) and a donation's
worker-months, with the same scoping as the pages (another funder's token: 404; other roles: 403)."""

from __future__ import annotations

import json

import pytest

from tests.protection.test_funder_view import (  # noqa: F401 - fixtures
    FIRST_GIFT,
    MONTHLY,
    NIKS,
    SECOND_GIFT,
    _predictable_sandbox,
    funder_world,
    pay,
)

pytestmark = pytest.mark.django_db


def test_the_summary_of_a_funder(bearer, funder_world):
    client, _token, _plain = bearer(funder_world["csr"])
    own = funder_world["own"]
    response = client.get(f"/api/v1/funders/{own.pk}/protection?on=2027-05-10")
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert (body["funder_id"], body["funder_name"], body["as_of"]) == (own.pk, "PT Sendiri", "2027-05-10")
    assert body["worker_months"] == {
        "reserved": {"months": 8, "amount": 8 * MONTHLY},
        "paid": {"months": 3, "amount": 3 * MONTHLY},
        "rejected": {"months": 1, "amount": MONTHLY},
        "released": {"months": 0, "amount": 0},
        "funded": {"months": 11, "amount": 11 * MONTHLY},
    }
    assert (body["workers_funded"], body["workers_protected_now"]) == (4, 0)
    assert (body["latest_paid_month"], body["workers_in_latest_paid_month"]) == ("2027-04", 3)
    assert body["blocks_ending_count"] == 4
    assert [(b["worker_nik_masked"], b["last_month"], b["renewed"]) for b in body["blocks_ending"]] == [
        (w.nik_masked, "2027-06", False) for w in funder_world["workers"]
    ]
    assert body["ledger"] == {
        "received": FIRST_GIFT + SECOND_GIFT,
        "held_in_reserve": 8 * MONTHLY,
        "available": FIRST_GIFT + SECOND_GIFT - 11 * MONTHLY,
        "reserve_ties": True,
    }
    assert [(m["month"], m["paid"]["months"], m["reserved"]["months"]) for m in body["months"]] == [
        ("2027-04", 3, 0),
        ("2027-05", 0, 4),
        ("2027-06", 0, 4),
    ]
    assert not any(nik in response.content.decode() for nik in NIKS)


def test_the_covered_workers_paginated_and_masked(bearer, funder_world):
    client, _token, _plain = bearer(funder_world["staff"]["auditor"])
    own = funder_world["own"]
    response = client.get(f"/api/v1/funders/{own.pk}/protection/workers?limit=3&on=2027-04-10")
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert (body["count"], body["limit"], body["offset"], body["next"]) == (4, 3, 0, 3)
    w = funder_world["workers"]
    first = body["items"][0]
    assert first["worker_nik_masked"] == w[0].nik_masked
    assert (first["regency_code"], first["first_month"], first["last_month"]) == ("64.09", "2027-04", "2027-06")
    assert (first["months_paid"], first["amount_paid"], first["protected_now"]) == (1, MONTHLY, True)
    assert first["months"] == [
        {"month": "2027-04", "state": "paid", "amount": MONTHLY},
        {"month": "2027-05", "state": "reserved", "amount": MONTHLY},
        {"month": "2027-06", "state": "reserved", "amount": MONTHLY},
    ]
    rest = json.loads(client.get(f"/api/v1/funders/{own.pk}/protection/workers?limit=3&offset=3").content)
    assert [i["worker_id"] for i in rest["items"]] == [w[3].pk]
    assert rest["items"][0]["months"][0] == {"month": "2027-04", "state": "rejected", "amount": MONTHLY}
    assert rest["next"] is None
    assert not any(nik in response.content.decode() for nik in NIKS)
    assert "Budi" not in response.content.decode()


def test_a_donation_traced_to_its_worker_months(bearer, funder_world):
    first, second = funder_world["donations"]
    client, _token, _plain = bearer(funder_world["donors"][1])
    response = client.get(f"/api/v1/donations/{second.pk}/worker-months?limit=5")
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert (body["pool"], body["received"], body["attributed"], body["unspent"]) == (
        funder_world["pool"],
        SECOND_GIFT,
        8 * MONTHLY,
        SECOND_GIFT - 8 * MONTHLY,
    )
    assert (body["paid"], body["reserved"], body["count"], body["next"]) == (2 * MONTHLY, 6 * MONTHLY, 8, 5)
    w = funder_world["workers"]
    assert [(i["worker_nik_masked"], i["month"], i["attributed"], i["state"]) for i in body["items"]] == [
        (w[1].nik_masked, "2027-04", MONTHLY, "paid"),
        (w[1].nik_masked, "2027-05", MONTHLY, "reserved"),
        (w[1].nik_masked, "2027-06", MONTHLY, "reserved"),
        (w[2].nik_masked, "2027-04", MONTHLY, "paid"),
        (w[2].nik_masked, "2027-05", MONTHLY, "reserved"),
    ]
    # The other donor's donation is not found for this donor.
    other = client.get(f"/api/v1/donations/{first.pk}/worker-months")
    assert other.status_code == 404


def test_scoping_is_the_pages_scoping(bearer, funder_world, assert_problem):
    own = funder_world["own"]
    client, _token, _plain = bearer(funder_world["csr_other"])
    for url in (
        f"/api/v1/funders/{own.pk}/protection",
        f"/api/v1/funders/{own.pk}/protection/workers",
        f"/api/v1/donations/{funder_world['donations'][0].pk}/worker-months",
        "/api/v1/funders/999999/protection",
    ):
        assert_problem(client.get(url), 404, "not_found")
    agent, _token, _plain = bearer(funder_world["staff"]["field_agent"])
    assert_problem(agent.get(f"/api/v1/funders/{own.pk}/protection"), 403, "forbidden")
    own_client, _token, _plain = bearer(funder_world["csr"])
    assert own_client.get(f"/api/v1/donations/{funder_world['donations'][0].pk}/worker-months").status_code == 200
