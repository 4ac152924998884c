"""Campaign management: operators and funder users draft campaigns, only an operator approves (publishes) them; a
funder user sees only its own funder's campaigns; the navigation leads each role to the money pages it may open."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from lingkaran.funding.models import Campaign
from tests.web.funding_helpers import make_campaign

pytestmark = pytest.mark.django_db


def campaign_data(**changes) -> dict:
    data = {
        "title": "Pedagang Pasar Terlindungi",
        "story": "Pedagang pasar tradisional bekerja tanpa jaminan sosial.",
        "target_regions": "33.74",
        "target_occupations": "pedagang_pasar",
        "goal_workers": "50",
        "goal_months": "12",
        "goal_amount": "5.040.000",
        "end_on": (timezone.localdate() + timedelta(days=60)).isoformat(),
    }
    data.update(changes)
    return data


def png(name="sampul.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (11, 110, 79)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_a_funder_user_drafts_and_submits_an_operator_publishes(client, login, people, funders):
    own, own_user = funders["own"]
    login(own_user)
    response = client.post("/manage/campaigns/new/", {**campaign_data(), "image": png()})
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.state, campaign.funder, campaign.goal_amount) == ("draft", own, 5_040_000)
    assert campaign.target_regions == ["33.74"]
    assert campaign.image.name.endswith(".png")
    assert client.get(f"/campaigns/{campaign.slug}/").status_code == 404  # not public yet

    client.post(f"/manage/campaigns/{campaign.pk}/submit/")
    campaign.refresh_from_db()
    assert campaign.state == "pending_approval"
    client.post(f"/manage/campaigns/{campaign.pk}/approve/")  # a funder user cannot publish
    campaign.refresh_from_db()
    assert campaign.state == "pending_approval"
    assert campaign.approved_by is None

    client.logout()
    login(people["operator"])
    listing = client.get("/manage/campaigns/?state=pending_approval")
    assert [c.pk for c in listing.context["page"]] == [campaign.pk]
    client.post(f"/manage/campaigns/{campaign.pk}/approve/")
    campaign.refresh_from_db()
    assert (campaign.state, campaign.approved_by) == ("published", people["operator"])
    assert client.get(f"/campaigns/{campaign.slug}/").status_code == 200
    assert campaign.title in client.get("/campaigns/").content.decode()


def test_an_operator_returns_a_campaign_with_a_note(client, login, people):
    campaign = make_campaign(people["operator"], publish=False)
    from lingkaran.funding import services

    services.campaign_submit(actor=people["operator"], campaign=campaign)
    login(people["operator"])
    client.post(f"/manage/campaigns/{campaign.pk}/return/", {"note": ""})
    campaign.refresh_from_db()
    assert campaign.state == "pending_approval"  # a note is required
    client.post(f"/manage/campaigns/{campaign.pk}/return/", {"note": "Tambahkan foto"})
    campaign.refresh_from_db()
    assert campaign.state == "draft"


def test_invalid_drafts_are_refused_with_field_errors(client, login, people):
    login(people["operator"])
    response = client.post("/manage/campaigns/new/", campaign_data(goal_amount="50.400,50", end_on="2000-01-01"))
    assert response.status_code == 422
    assert "goal_amount" in response.context["form"].errors
    response = client.post("/manage/campaigns/new/", campaign_data(end_on="2000-01-01"))
    assert response.status_code == 422
    assert "end_on" in response.context["form"].errors
    response = client.post("/manage/campaigns/new/", {**campaign_data(), "image": png("skrip.jpg")})
    assert response.status_code == 422
    assert "image" in response.context["form"].errors
    assert Campaign.objects.count() == 0


def test_editing_a_draft(client, login, people):
    campaign = make_campaign(people["operator"], publish=False)
    login(people["operator"])
    response = client.post(f"/manage/campaigns/{campaign.pk}/", campaign_data(title="Judul Baru"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.title, campaign.goal_months) == ("Judul Baru", 12)


def test_funder_users_see_only_their_own_funders_campaigns(client, login, people, funders):
    (own, own_user), (other, other_user) = funders["own"], funders["other"]
    mine = make_campaign(own_user, title="Kampanye Kami", publish=False)
    theirs = make_campaign(other_user, title="Kampanye Mereka", publish=False)
    login(own_user)
    listing = client.get("/manage/campaigns/")
    assert [c.pk for c in listing.context["page"]] == [mine.pk]
    assert client.get(f"/manage/campaigns/{mine.pk}/").status_code == 200
    response = client.get(f"/manage/campaigns/{theirs.pk}/")
    assert response.status_code == 404
    assert b"Kampanye Mereka" not in response.content
    client.post(f"/manage/campaigns/{theirs.pk}/submit/")
    response = client.post(f"/manage/campaigns/{theirs.pk}/", campaign_data(title="Dibajak"))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.state, theirs.title) == ("draft", "Kampanye Mereka")
    assert other.pk != own.pk


@pytest.mark.parametrize("role", ["worker", "verifier", "field_agent"])
def test_other_roles_cannot_manage_campaigns(role, client, login, make_user, people):
    campaign = make_campaign(people["operator"], publish=False)
    login(make_user(role))
    assert client.get("/manage/campaigns/").status_code == 403
    assert client.post("/manage/campaigns/new/", campaign_data()).status_code == 403
    assert client.post(f"/manage/campaigns/{campaign.pk}/submit/").status_code == 403
    assert Campaign.objects.count() == 1
    campaign.refresh_from_db()
    assert campaign.state == "draft"


@pytest.mark.parametrize(
    ("role", "links"),
    [
        ("finance", {"/money/", "/manage/campaigns/", "/my/donations/"}),
        ("operator", {"/money/", "/manage/campaigns/", "/my/donations/"}),
        ("auditor", {"/money/", "/manage/campaigns/", "/my/donations/"}),
        ("worker", {"/my/donations/"}),
        ("verifier", {"/my/donations/"}),
    ],
)
def test_navigation_leads_to_the_money_pages_each_role_may_open(role, links, client, login, make_user):
    import re

    login(make_user(role))
    text = client.get("/dashboard/").content.decode()
    nav = re.search(r'<nav class="menu"[^>]*>(.*?)</nav>', text, re.S).group(1)
    found = set(re.findall(r'href="([^"]+)"', nav)) & {"/money/", "/manage/campaigns/", "/my/donations/"}
    assert found == links
