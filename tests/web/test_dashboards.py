"""The dashboard of each role: renders in Indonesian by default, shows the role's navigation and its own data."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone, translation

from lingkaran.core.models import Role
from lingkaran.funding.models import FunderMembership
from tests.factories import FunderFactory

pytestmark = pytest.mark.django_db

ID_MONTHS = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]

# The foundation's pages each role finds in the main navigation (in order); later capabilities add their own links.
NAVIGATION = {
    "operator": ["/dashboard/", "/workers/", "/funders/", "/settings/users/", "/settings/tokens/", "/audit/"],
    "finance": ["/dashboard/", "/workers/", "/funders/"],
    "verifier": ["/dashboard/", "/workers/", "/verification/", "/duplicates/"],
    "funder": ["/dashboard/", "/funders/mine/"],
    "field_agent": ["/dashboard/", "/workers/new/", "/workers/", "/regions/mine/"],
    "worker": ["/dashboard/"],
    "auditor": ["/dashboard/", "/workers/", "/funders/", "/audit/"],
}


FOUNDATION_LINKS = {link for links in NAVIGATION.values() for link in links}


def nav_links(text: str) -> list[str]:
    match = re.search(r'<nav class="menu"[^>]*>(.*?)</nav>', text, re.S)
    assert match, "the main navigation is missing"
    return re.findall(r'href="([^"]+)"', match.group(1))


def role_label(role: str, language: str) -> str:
    with translation.override(language):
        return str(Role(role).label)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_role_sees_its_dashboard_in_indonesian(role, make_user, login, client):
    user = make_user(role, full_name="Sari Wulandari")
    login(user)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert response.templates[0].name == f"web/dashboard/{role}.html"
    text = response.content.decode()
    assert '<html lang="id">' in text
    assert response["Content-Language"] == "id"
    assert role_label(role, "id") in text
    assert "Sari Wulandari" in text
    today = timezone.localdate()
    assert f"{today.day} {ID_MONTHS[today.month - 1]} {today.year}" in text
    assert [link for link in nav_links(text) if link in FOUNDATION_LINKS] == NAVIGATION[role]
    assert '<form class="logout" action="/logout/" method="post">' in text


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_navigation_link_opens_for_the_role_that_sees_it(role, make_user, login, client, region_tree):
    user = make_user(role, regions=["64.09"] if role == "field_agent" else [])
    if role == "funder":
        FunderMembership.objects.create(user=user, funder=FunderFactory(), team="reporting")
    login(user)
    links = nav_links(client.get("/dashboard/").content.decode())
    assert links[0] == "/dashboard/"
    for link in links:
        response = client.get(link)
        assert response.status_code in {200, 302}, (link, response.status_code)


def test_home_sends_anonymous_visitors_to_login_and_users_to_dashboard(client, make_user, login):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    login(make_user("worker"))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_anonymous_dashboard_redirects_to_login(client, db):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/dashboard/"


def test_operator_dashboard_counts_active_accounts_by_role_and_tokens(client, make_user, login, bearer):
    operator = make_user("operator")
    make_user("field_agent")
    make_user("field_agent")
    make_user("field_agent", is_active=False)
    make_user("auditor")
    FunderFactory()
    FunderFactory()
    bearer(make_user("finance"), created_by=operator)
    login(operator)
    response = client.get("/dashboard/")
    by_role = dict(response.context["users_by_role"])
    with translation.override("id"):
        assert by_role == {
            str(Role.AUDITOR.label): 1,
            str(Role.FIELD_AGENT.label): 2,
            str(Role.FINANCE.label): 1,
            str(Role.OPERATOR.label): 1,
        }
    assert response.context["active_tokens"] == 1
    assert response.context["funder_count"] == 2
    assert "user.login" in response.content.decode()  # recent activity from the audit log


def test_funder_dashboard_shows_its_own_funder_only(client, make_user, login):
    user = make_user("funder")
    mine = FunderFactory(name="PT Bank Peduli")
    FunderFactory(name="PT Lain Sendiri")
    FunderMembership.objects.create(user=user, funder=mine, team="reporting")
    login(user)
    text = client.get("/dashboard/").content.decode()
    assert "PT Bank Peduli" in text
    assert f'href="/funders/{mine.pk}/"' in text
    assert "PT Lain Sendiri" not in text


def test_field_agent_dashboard_lists_its_regions(client, make_user, login, region_tree):
    user = make_user("field_agent", regions=["64.09"])
    login(user)
    text = client.get("/dashboard/").content.decode()
    assert 'href="/regions/64.09/"' in text
    assert "Kabupaten Penajam Paser Utara" in text
    assert "Kota Semarang" not in text


def test_dashboard_in_english_after_switching_language(client, make_user, login):
    user = make_user("auditor")
    login(user)
    response = client.post("/language/", {"language": "en", "next": "/dashboard/"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    text = client.get("/dashboard/").content.decode()
    assert '<html lang="en">' in text
    assert role_label("auditor", "en") == "Auditor"
    assert "Log out" in text
    today = timezone.localdate()
    assert f"{today.day} {today.strftime('%B')} {today.year}" in text
