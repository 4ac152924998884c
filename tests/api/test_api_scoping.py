"""Per-object access over the API: a funder user sees only its funder, a field agent only its regions, and the
admin endpoints refuse the roles that may not use them. Tokens act as their user, so the same rules apply."""

from __future__ import annotations

import pytest

from lingkaran.funding.models import FunderMembership
from tests.conftest import REGION_TREE
from tests.factories import FunderFactory

pytestmark = pytest.mark.django_db

ALL_CODES = sorted(code for code, _ in REGION_TREE)


@pytest.fixture
def funders(db):
    own = FunderFactory(name="Bank Jateng")
    other = FunderFactory(name="Pemkab Penajam", kind="local_government", region_code="64.09")
    return own, other


def funder_user_api(funder, make_user, bearer):
    user = make_user("funder")
    FunderMembership.objects.create(user=user, funder=funder, team="finance")
    api, _token, _plain = bearer(user)
    return api


def codes(body) -> list[str]:
    return [r["code"] for r in body["items"]]


# --- Funders --------------------------------------------------------------------------------------------------------


def test_funder_user_lists_only_its_own_funder(make_user, bearer, funders):
    own, _other = funders
    api = funder_user_api(own, make_user, bearer)
    body = api.get("/api/v1/funders").json()
    assert body == {
        "items": [{"id": own.pk, "name": "Bank Jateng", "kind": "company", "region_code": ""}],
        "count": 1,
        "limit": 50,
        "offset": 0,
        "next": None,
    }


def test_funder_user_reads_its_funder_and_gets_404_for_another(make_user, bearer, funders, assert_problem):
    own, other = funders
    api = funder_user_api(own, make_user, bearer)
    response = api.get(f"/api/v1/funders/{own.pk}")
    assert response.status_code == 200
    assert response.json() == {"id": own.pk, "name": "Bank Jateng", "kind": "company", "region_code": ""}
    body = assert_problem(api.get(f"/api/v1/funders/{other.pk}"), 404, "not_found")
    assert "Pemkab" not in str(body)


def test_funder_user_session_gets_the_same_answer(client, make_user, login, funders, assert_problem):
    own, other = funders
    user = make_user("funder")
    FunderMembership.objects.create(user=user, funder=own, team="reporting")
    login(user)
    assert [f["id"] for f in client.get("/api/v1/funders").json()["items"]] == [own.pk]
    assert_problem(client.get(f"/api/v1/funders/{other.pk}"), 404, "not_found")


@pytest.mark.parametrize("role", ["operator", "finance", "auditor"])
def test_money_staff_list_every_funder(role, make_user, bearer, funders):
    api, _token, _plain = bearer(make_user(role))
    body = api.get("/api/v1/funders").json()
    assert [f["name"] for f in body["items"]] == ["Bank Jateng", "Pemkab Penajam"]
    assert body["count"] == 2
    assert api.get(f"/api/v1/funders/{funders[1].pk}").status_code == 200


@pytest.mark.parametrize("role", ["verifier", "field_agent", "worker"])
def test_other_roles_list_no_funder(role, make_user, bearer, funders, assert_problem):
    api, _token, _plain = bearer(make_user(role))
    body = api.get("/api/v1/funders").json()
    assert (body["items"], body["count"]) == ([], 0)
    assert_problem(api.get(f"/api/v1/funders/{funders[0].pk}"), 404, "not_found")


# --- Regions --------------------------------------------------------------------------------------------------------


def test_field_agent_lists_only_regions_within_its_assignment(make_user, bearer, region_tree):
    api, _token, _plain = bearer(make_user("field_agent", regions=["64.09"]))
    body = api.get("/api/v1/regions").json()
    assert codes(body) == ["64.09", "64.09.01", "64.09.01.1001", "64.09.01.2020", "64.09.02"]
    assert body["count"] == 5


def test_field_agent_region_list_filters_stay_within_scope(make_user, bearer, region_tree):
    api, _token, _plain = bearer(make_user("field_agent", regions=["64.09"]))
    assert codes(api.get("/api/v1/regions?level=3").json()) == ["64.09.01", "64.09.02"]
    assert codes(api.get("/api/v1/regions?parent=64.09.01").json()) == ["64.09.01.1001", "64.09.01.2020"]
    assert codes(api.get("/api/v1/regions?parent=33.74").json()) == []
    assert codes(api.get("/api/v1/regions?level=1").json()) == []
    assert codes(api.get("/api/v1/regions?q=semarang").json()) == []
    assert codes(api.get("/api/v1/regions?q=giri").json()) == ["64.09.01.2020"]


@pytest.mark.parametrize("code", ["64.09", "64.09.01", "64.09.01.2020"])
def test_field_agent_reads_regions_inside_its_assignment(code, make_user, bearer, region_tree):
    api, _token, _plain = bearer(make_user("field_agent", regions=["64.09"]))
    response = api.get(f"/api/v1/regions/{code}")
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["name"], body["level"]) == (code, region_tree[code].name, code.count(".") + 1)
    assert body["parent_code"] == code.rsplit(".", 1)[0]


@pytest.mark.parametrize("code", ["64", "64.02", "33", "33.74", "33.74.01", "64.09.77"])
def test_field_agent_gets_404_outside_its_assignment(code, make_user, bearer, region_tree, assert_problem):
    api, _token, _plain = bearer(make_user("field_agent", regions=["64.09"]))
    body = assert_problem(api.get(f"/api/v1/regions/{code}"), 404, "not_found")
    if code in region_tree:
        assert region_tree[code].name not in str(body)


def test_field_agent_with_no_assignment_sees_no_region(make_user, bearer, region_tree, assert_problem):
    api, _token, _plain = bearer(make_user("field_agent"))
    assert api.get("/api/v1/regions").json()["count"] == 0
    assert_problem(api.get("/api/v1/regions/64"), 404, "not_found")


@pytest.mark.parametrize("role", ["operator", "finance", "verifier", "auditor"])
def test_staff_list_every_region(role, make_user, bearer, region_tree):
    api, _token, _plain = bearer(make_user(role))
    body = api.get("/api/v1/regions").json()
    assert codes(body) == ALL_CODES
    assert api.get("/api/v1/regions/33.74.01").status_code == 200


@pytest.mark.parametrize("role", ["funder", "worker"])
def test_roles_without_an_assignment_see_no_region(role, make_user, bearer, region_tree, assert_problem):
    api, _token, _plain = bearer(make_user(role))
    body = api.get("/api/v1/regions").json()
    assert (body["items"], body["count"]) == ([], 0)
    assert_problem(api.get("/api/v1/regions/64.09"), 404, "not_found")


def test_local_government_funder_user_sees_the_region_it_governs(make_user, bearer, region_tree, assert_problem):
    api, _token, _plain = bearer(make_user("funder", regions=["64.09.01"]))
    assert codes(api.get("/api/v1/regions").json()) == ["64.09.01", "64.09.01.1001", "64.09.01.2020"]
    assert_problem(api.get("/api/v1/regions/64.09.02"), 404, "not_found")


# --- Admin endpoints ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance", "verifier", "funder", "field_agent", "worker", "auditor"])
def test_token_endpoints_refuse_non_operators(role, make_user, bearer, assert_problem):
    api, _token, _plain = bearer(make_user(role))
    assert_problem(api.get("/api/v1/tokens"), 403, "forbidden")


@pytest.mark.parametrize("role", ["finance", "verifier", "funder", "field_agent", "worker"])
def test_audit_events_refuse_non_auditors(role, make_user, bearer, assert_problem):
    api, _token, _plain = bearer(make_user(role))
    body = assert_problem(api.get("/api/v1/audit-events"), 403, "forbidden")
    assert body["details"] == {"capability": "view_audit_log"}


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_audit_events_open_to_operators_and_auditors(role, make_user, bearer):
    api, _token, _plain = bearer(make_user(role))
    assert api.get("/api/v1/audit-events").status_code == 200
