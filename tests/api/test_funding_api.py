"""Funding endpoints for funders' systems and apps: a funder's balances and donations (its own only, 404 otherwise),
the public campaigns, starting a donation (its payment page), and reading one donation as its donor or finance.
Anonymous donors' names never reach a funder or the public."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from lingkaran.funding import services
from lingkaran.funding.models import Donation, PaymentIntent, RecurringDonation, name_index_of
from tests.web.funding_helpers import make_campaign

pytestmark = pytest.mark.django_db


def body(response) -> dict:
    return json.loads(response.content)


# --- Campaigns (public) ---------------------------------------------------------------------------------------------


def test_campaigns_are_public_and_published_only(client, people, campaign, settled):
    make_campaign(people["operator"], title="Draf Rahasia", publish=False)
    settled(100_800)
    response = client.get("/api/v1/campaigns")
    assert response.status_code == 200
    data = body(response)
    assert (data["count"], data["limit"], data["offset"], data["next"]) == (1, 50, 0, None)
    (item,) = data["items"]
    assert (item["slug"], item["received"], item["goal_amount"], item["percent"]) == (
        campaign.slug,
        100_800,
        5_040_000,
        2,
    )
    assert item["accepts_donations"] is True
    assert item["url"].endswith(f"/campaigns/{campaign.slug}/")


def test_one_campaign_with_its_figures_and_donors_as_they_chose(client, campaign, settled):
    settled(50_400, donor_name="Rahasia Sekali", is_anonymous=True)
    settled(100_800, donor_name="Budi Terbuka")
    response = client.get(f"/api/v1/campaigns/{campaign.slug}")
    assert response.status_code == 200
    data = body(response)
    assert (data["received"], data["available"], data["reserved"], data["paid_to_agency"]) == (
        151_200,
        151_200,
        0,
        0,
    )
    assert data["minimum_amount"] == 10_000
    assert data["suggested_amounts"][0]["months"] == 6
    names = [d["name"] for d in data["donors"]]
    assert "Budi Terbuka" in names
    assert "Rahasia Sekali" not in response.content.decode()


def test_a_draft_campaign_is_not_found(client, people, assert_problem):
    draft = make_campaign(people["operator"], title="Draf", publish=False)
    assert_problem(client.get(f"/api/v1/campaigns/{draft.slug}"), 404, "not_found")


# --- Starting a donation --------------------------------------------------------------------------------------------


def test_anyone_starts_a_donation_and_gets_the_payment_page(client, campaign):
    response = client.post(
        "/api/v1/donations",
        data={"campaign": campaign.slug, "amount": 50_400, "donor_name": "Siti Aminah", "is_anonymous": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    data = body(response)
    intent = PaymentIntent.objects.get()
    assert data["order_id"] == intent.order_id
    assert data["payment_url"] == intent.payment_url
    assert "/sandbox-gateway/pay/" in data["payment_url"]
    assert data["status_url"].endswith(f"/donations/{intent.order_id}/status/")
    donation = Donation.objects.get()
    assert (donation.amount, donation.campaign, donation.is_anonymous, donation.donor) == (
        50_400,
        campaign,
        True,
        None,
    )


def test_a_donation_below_the_minimum_is_refused(client, campaign, assert_problem):
    response = client.post(
        "/api/v1/donations",
        data={"campaign": campaign.slug, "amount": 9_999, "donor_name": "Siti"},
        content_type="application/json",
    )
    problem = assert_problem(response, 422, "donation_below_minimum")
    assert problem["details"]["minimum"] == 10_000
    response = client.post(
        "/api/v1/donations",
        data={"campaign": campaign.slug, "amount": 50400.5, "donor_name": "Siti"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert Donation.objects.count() == 0


def test_monthly_giving_needs_an_authenticated_donor(client, campaign, people, bearer, assert_problem):
    response = client.post(
        "/api/v1/donations",
        data={"campaign": campaign.slug, "amount": 50_400, "donor_name": "Siti", "monthly": True},
        content_type="application/json",
    )
    assert_problem(response, 401, "not_authenticated")
    assert Donation.objects.count() == 0
    donor_client, _token, _plain = bearer(people["donor"])
    response = donor_client.post(
        "/api/v1/donations",
        data={"campaign": campaign.slug, "amount": 50_400, "monthly": True},
        content_type="application/json",
    )
    assert response.status_code == 201
    pledge = RecurringDonation.objects.get()
    assert (pledge.donor, pledge.donor_name) == (people["donor"], "Nur Aisyah")


def test_a_donation_to_a_closed_or_unknown_campaign_is_refused(client, campaign, people, assert_problem):
    services.campaign_close(actor=people["operator"], campaign=campaign)
    response = client.post(
        "/api/v1/donations",
        data={"campaign": campaign.slug, "amount": 50_400, "donor_name": "S"},
        content_type="application/json",
    )
    assert_problem(response, 409, "target_not_accepting")
    response = client.post(
        "/api/v1/donations",
        data={"campaign": "tidak-ada", "amount": 50_400, "donor_name": "S"},
        content_type="application/json",
    )
    assert_problem(response, 404, "not_found")
    assert Donation.objects.count() == 0


# --- Reading a donation ---------------------------------------------------------------------------------------------


def test_the_donor_and_finance_read_a_donation_others_get_404(people, settled, bearer, assert_problem):
    intent = settled(
        50_400, donor=people["donor"], donor_name="Nur Aisyah", donor_email="nur@contoh.id", is_anonymous=True
    )
    path = f"/api/v1/donations/{intent.donation_id}"
    own, _t, _p = bearer(people["donor"])
    data = body(own.get(path))
    assert (data["state"], data["amount"], data["order_id"]) == ("settled", 50_400, intent.order_id)
    assert (data["donor_name_given"], data["donor_email"]) == ("Nur Aisyah", "nur@contoh.id")
    assert data["receipt_number"] == intent.donation.receipt.number
    finance, _t, _p = bearer(people["finance"])
    staff_view = body(finance.get(path))
    # Staff see the donor masked; the full values leave only through the audited reveal on the donation's page.
    assert (staff_view["donor_name_given"], staff_view["donor_email"]) == ("N** A*****", "n***@contoh.id")
    assert "nur@contoh.id" not in json.dumps(staff_view)
    stranger, _t, _p = bearer(people["other_donor"])
    assert_problem(stranger.get(path), 404, "not_found")
    assert Client().get(path).status_code == 401


# --- A funder's balances and donations ------------------------------------------------------------------------------


@pytest.fixture
def funded(funders, pay):
    """Two paid donations into the own funder's pool (one anonymous), one into the other's."""
    (own, _u), (other, _v) = funders["own"], funders["other"]
    for funder, amount, name, anonymous in (
        (own, 200_000, "Hamba Allah Sejati", True),
        (own, 100_800, "Dewi Terbuka", False),
        (other, 50_400, "Milik Lain", False),
    ):
        intent = services.donation_start(
            target=services.DonationTarget.for_funder(funder), amount=amount, donor_name=name, is_anonymous=anonymous
        )
        assert pay(intent).state == "settled"
    return funders


def test_a_funder_reads_its_own_balances_only(funded, bearer, people, assert_problem):
    (own, own_user), (other, _other_user) = funded["own"], funded["other"]
    api, _token, _plain = bearer(own_user)
    response = api.get(f"/api/v1/funders/{own.pk}/balances")
    assert response.status_code == 200
    data = body(response)
    assert {k: data[k] for k in ("funder_id", "received", "refunded", "reserved", "paid_to_agency", "available")} == {
        "funder_id": own.pk,
        "received": 300_800,
        "refunded": 0,
        "reserved": 0,
        "paid_to_agency": 0,
        "available": 300_800,
    }
    assert data["donations"] == 2
    problem = assert_problem(api.get(f"/api/v1/funders/{other.pk}/balances"), 404, "not_found")
    assert "Rahasia" not in json.dumps(problem)
    assert_problem(api.get("/api/v1/funders/999999/balances"), 404, "not_found")
    finance, _t, _p = bearer(people["finance"])
    assert body(finance.get(f"/api/v1/funders/{other.pk}/balances"))["received"] == 50_400


def test_a_funder_lists_its_own_donations_with_anonymous_names_hidden(funded, bearer, assert_problem):
    (own, own_user), (other, _other_user) = funded["own"], funded["other"]
    api, _token, _plain = bearer(own_user)
    response = api.get(f"/api/v1/funders/{own.pk}/donations?limit=1")
    data = body(response)
    assert (data["count"], data["next"]) == (2, 1)
    response = api.get(f"/api/v1/funders/{own.pk}/donations")
    items = body(response)["items"]
    assert sorted(i["amount"] for i in items) == [100_800, 200_000]
    assert "Hamba Allah Sejati" not in response.content.decode()
    assert {i["donor_name"] for i in items} >= {"Dewi Terbuka"}
    assert all("donor_email" not in i for i in items)
    assert_problem(api.get(f"/api/v1/funders/{other.pk}/donations"), 404, "not_found")
    donation = Donation.objects.get(donor_name_index=name_index_of("Hamba Allah Sejati"))
    data = body(api.get(f"/api/v1/donations/{donation.pk}"))
    assert (data["donor_name_given"], data["donor_email"]) == (None, None)
    assert data["donor_name"] != "Hamba Allah Sejati"
    foreign = Donation.objects.get(donor_name_index=name_index_of("Milik Lain"))
    assert_problem(api.get(f"/api/v1/donations/{foreign.pk}"), 404, "not_found")


def test_the_schema_lists_the_funding_operations(client):
    paths = body(client.get("/api/v1/openapi.json"))["paths"]
    for path, method in (
        ("/api/v1/funders/{funder_id}/balances", "get"),
        ("/api/v1/funders/{funder_id}/donations", "get"),
        ("/api/v1/campaigns", "get"),
        ("/api/v1/campaigns/{slug}", "get"),
        ("/api/v1/donations/{donation_id}", "get"),
        ("/api/v1/donations", "post"),
    ):
        assert method in paths[path]
    assert "security" not in paths["/api/v1/campaigns"]["get"]
