"""Donor self-service sign-up through the public page: an individual creates an account, is logged in, and sees the
donations they made with the same e-mail address before (in the sandbox default, where an address needs no proof),
but never someone else's; a taken address or a weak password is refused and creates nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import MinimumLengthValidator
from django.utils import translation

from lingkaran.core.models import AuditEvent, User
from lingkaran.funding.models import Donation
from tests.web.funding_helpers import donate_form

pytestmark = pytest.mark.django_db

PASSWORD = "pelangi-senja-2026"


def signup(client, **fields):
    data = {"full_name": "Siti Aminah", "email": "Siti@Contoh.id", "password": PASSWORD, "password_again": PASSWORD}
    data.update(fields)
    return client.post("/signup/", data)


def test_a_donor_signs_up_and_sees_their_earlier_donations(client, campaign, settled, people):
    earlier = settled(50_400, donor_name="Siti Aminah", donor_email="siti@contoh.id", is_anonymous=True)
    settled(100_800, donor_name="Orang Lain", donor_email="lain@contoh.id")
    # Given while logged in to another account with the same address: that account's, not hers.
    settled(20_000, donor=people["other_donor"], donor_email="siti@contoh.id")
    page = client.get("/signup/")
    assert page.status_code == 200
    response = signup(client)
    assert response.status_code == 302
    assert response["Location"] == "/my/donations/"
    user = User.objects.get(username="siti@contoh.id")
    assert (user.role, user.email, user.full_name) == ("funder", "siti@contoh.id", "Siti Aminah")
    assert AuditEvent.objects.filter(action="funding.donor_signup", actor=user).exists()

    dashboard = client.get("/my/donations/")
    assert dashboard.status_code == 200
    assert [d.pk for d in dashboard.context["page"]] == [earlier.donation_id]
    number = Donation.objects.get(pk=earlier.donation_id).receipt.number
    receipt = client.get(f"/receipts/{number}/")
    assert receipt.status_code == 200
    assert "siti@contoh.id" in receipt.content.decode()  # her own receipt: her own data
    assert client.get(f"/my/statements/{earlier.settled_at.year}/pdf/").status_code == 200
    other = Donation.objects.get(amount=100_800).receipt.number
    assert client.get(f"/receipts/{other}/").status_code == 404


def test_with_a_real_gateway_an_unverified_address_links_nothing(client, settings, settled):
    settled(50_400, donor_email="siti@contoh.id")
    settings.LINGKARAN_GATEWAY = "midtrans"
    signup(client)
    assert list(client.get("/my/donations/").context["page"]) == []


def test_a_taken_address_or_a_weak_password_creates_nothing(client, people):
    response = signup(client, email=people["donor"].email.upper())
    assert response.status_code == 422
    assert response.context["form"].errors["email"]
    response = signup(client, email="baru@contoh.id", password="pendek", password_again="pendek")
    assert response.status_code == 422
    with translation.override("id"):
        expected = MinimumLengthValidator(10).get_error_message()
    assert expected in response.context["form"].errors["password"]
    response = signup(client, email="baru@contoh.id", password_again="lain-sama-sekali-99")
    assert response.status_code == 422
    assert response.context["form"].errors["password_again"]
    assert not User.objects.filter(email="baru@contoh.id").exists()


def test_the_new_account_can_give_every_month(client, campaign):
    signup(client)
    response = client.post(f"/campaigns/{campaign.slug}/donate/", donate_form(frequency="monthly"))
    assert response.status_code == 302
    donation = Donation.objects.get()
    assert donation.donor.username == "siti@contoh.id"
    assert donation.recurring is not None


def test_a_logged_in_visitor_goes_to_their_donations(client, login, people):
    login(people["donor"])
    assert client.get("/signup/")["Location"] == "/my/donations/"


def test_the_new_donor_can_open_the_dashboard(client):
    signup(client)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/money/").status_code == 403
