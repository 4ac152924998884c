"""Per-object access on pages: a funder user sees only its funder, a field agent only its regions; other roles are
refused the pages they may not open; anonymous visitors are sent to the log-in page."""

from __future__ import annotations

import pytest

from lingkaran.funding.models import FunderMembership
from tests.factories import FunderFactory

pytestmark = pytest.mark.django_db

NON_OPERATORS = ["finance", "verifier", "funder", "field_agent", "worker", "auditor"]


@pytest.fixture
def funders(db):
    own = FunderFactory(name="Bank Semen Peduli")
    other = FunderFactory(name="Pemerintah Kota Rahasia", kind="local_government", region_code="33.74")
    return own, other


def member_of(funder, make_user, **kwargs):
    user = make_user("funder", **kwargs)
    FunderMembership.objects.create(user=user, funder=funder, team="reporting")
    return user


# --- Funders --------------------------------------------------------------------------------------------------------


def test_funder_user_sees_its_own_funder(client, make_user, login, funders):
    own, _other = funders
    login(member_of(own, make_user, full_name="Dewi Lestari"))
    response = client.get(f"/funders/{own.pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Bank Semen Peduli" in text
    assert "Dewi Lestari" in text


def test_funder_user_gets_404_for_another_funder_without_disclosing_it(client, make_user, login, funders):
    own, other = funders
    login(member_of(own, make_user))
    response = client.get(f"/funders/{other.pk}/")
    assert response.status_code == 404
    assert "Pemerintah Kota Rahasia" not in response.content.decode()
    assert client.get("/funders/999999/").status_code == 404


def test_funder_user_is_refused_the_list_of_all_funders(client, make_user, login, funders):
    login(member_of(funders[0], make_user))
    response = client.get("/funders/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "Bank Semen Peduli" not in text
    assert "Pemerintah Kota Rahasia" not in text


def test_my_funder_redirects_to_the_users_own_funder(client, make_user, login, funders):
    own, _ = funders
    login(member_of(own, make_user))
    response = client.get("/funders/mine/")
    assert response.status_code == 302
    assert response["Location"] == f"/funders/{own.pk}/"


def test_funder_user_not_linked_to_a_funder_gets_404(client, make_user, login, funders):
    login(make_user("funder"))
    assert client.get("/funders/mine/").status_code == 404
    assert client.get(f"/funders/{funders[0].pk}/").status_code == 404


@pytest.mark.parametrize("role", ["operator", "finance", "auditor"])
def test_money_staff_see_every_funder(role, client, make_user, login, funders):
    own, other = funders
    login(make_user(role))
    response = client.get("/funders/")
    assert response.status_code == 200
    assert [f.pk for f in response.context["funders"]] == [own.pk, other.pk]  # ordered by name
    assert client.get(f"/funders/{other.pk}/").status_code == 200


@pytest.mark.parametrize("role", ["verifier", "field_agent", "worker"])
def test_other_roles_see_no_funder(role, client, make_user, login, funders):
    login(make_user(role))
    assert client.get("/funders/").status_code == 403
    assert client.get(f"/funders/{funders[0].pk}/").status_code == 404


# --- Regions --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["64.09", "64.09.01", "64.09.01.1001", "64.09.02"])
def test_field_agent_opens_its_region_and_the_regions_inside(code, client, make_user, login, region_tree):
    login(make_user("field_agent", regions=["64.09"]))
    response = client.get(f"/regions/{code}/")
    assert response.status_code == 200
    assert response.context["region"].code == code
    assert region_tree[code].name in response.content.decode()


@pytest.mark.parametrize("code", ["64", "64.02", "33", "33.74", "33.74.01", "64.09.99"])
def test_field_agent_gets_404_outside_its_regions(code, client, make_user, login, region_tree):
    login(make_user("field_agent", regions=["64.09"]))
    response = client.get(f"/regions/{code}/")
    assert response.status_code == 404
    if code in region_tree:
        assert region_tree[code].name not in response.content.decode()


def test_region_page_lists_the_regions_inside_it(client, make_user, login, region_tree):
    login(make_user("field_agent", regions=["64.09"]))
    response = client.get("/regions/64.09/")
    assert [r.code for r in response.context["children"]] == ["64.09.01", "64.09.02"]
    assert [r.code for r in response.context["path"]] == ["64", "64.09"]


def test_field_agent_with_two_regions_sees_both(client, make_user, login, region_tree):
    login(make_user("field_agent", regions=["64.09.01", "33.74"]))
    assert client.get("/regions/64.09.01.2020/").status_code == 200
    assert client.get("/regions/33.74.01/").status_code == 200
    assert client.get("/regions/64.09/").status_code == 404
    assert client.get("/regions/64.09.02/").status_code == 404


def test_my_regions_lists_assigned_regions_and_unknown_codes(client, make_user, login, region_tree):
    login(make_user("field_agent", regions=["64.09", "72.01"]))
    response = client.get("/regions/mine/")
    assert response.status_code == 200
    assert [r.code for r in response.context["regions"]] == ["64.09"]
    assert response.context["missing"] == ["72.01"]
    assert 'href="/regions/64.09/"' in response.content.decode()


@pytest.mark.parametrize("role", ["operator", "finance", "verifier", "auditor"])
def test_staff_roles_see_every_region(role, client, make_user, login, region_tree):
    login(make_user(role))
    assert client.get("/regions/33.74.01/").status_code == 200
    assert client.get("/regions/64/").status_code == 200


@pytest.mark.parametrize("role", ["funder", "worker"])
def test_roles_without_regions_see_none(role, client, make_user, login, region_tree):
    login(make_user(role))
    assert client.get("/regions/64/").status_code == 404
    assert client.get("/regions/64.09/").status_code == 404


# --- Pages refused by role ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NON_OPERATORS)
@pytest.mark.parametrize("path", ["/settings/users/", "/settings/tokens/"])
def test_non_operators_are_refused_settings_pages(role, path, client, make_user, login):
    login(make_user(role))
    response = client.get(path)
    assert response.status_code == 403
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize("role", NON_OPERATORS)
def test_non_operators_are_refused_another_users_edit_page(role, client, make_user, login):
    target = make_user("worker", username="sasaran")
    login(make_user(role))
    assert client.get(f"/settings/users/{target.pk}/").status_code == 403


@pytest.mark.parametrize("role", ["finance", "verifier", "funder", "field_agent", "worker"])
def test_only_auditors_and_operators_open_the_audit_log(role, client, make_user, login):
    login(make_user(role))
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/?format=csv").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/",
        "/audit/",
        "/audit/?format=csv",
        "/settings/users/",
        "/settings/users/1/",
        "/settings/tokens/",
        "/funders/",
        "/funders/1/",
        "/funders/mine/",
        "/regions/mine/",
        "/regions/64/",
    ],
)
def test_anonymous_visitors_are_sent_to_login(path, client, db):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_anonymous_post_to_a_form_changes_nothing(client, make_user):
    from lingkaran.core.models import ApiToken, User

    users_before = User.objects.count()
    response = client.post(
        "/settings/users/new/",
        {"username": "penyusup", "password": "Sangat-Rahasia-2026", "role": "operator", "language": "id"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert User.objects.count() == users_before
    assert ApiToken.objects.count() == 0
