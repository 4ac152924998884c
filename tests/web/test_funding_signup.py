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


def test_sign_ups_are_limited_per_client_address(people):
    from django.test import Client

    from lingkaran.core.ratelimit import count_attempt
    from lingkaran.funding.services.donors import SIGNUP_LIMIT, SIGNUP_WINDOW_SECONDS

    assert (SIGNUP_LIMIT, SIGNUP_WINDOW_SECONDS) == (10, 3600)
    visitor = Client(REMOTE_ADDR="10.0.3.1")
    # A taken address counts as an attempt too (otherwise addresses could be probed without limit).
    assert signup(visitor, email=people["donor"].email).status_code == 422
    for n in range(1, SIGNUP_LIMIT - 1):
        assert signup(Client(REMOTE_ADDR="10.0.3.1"), email=f"donatur{n}@contoh.id").status_code == 302
    assert signup(visitor, email="donatur-terakhir@contoh.id").status_code == 302
    users = User.objects.count()

    refused = signup(Client(REMOTE_ADDR="10.0.3.1"), email="satu-lagi@contoh.id")  # Indonesian by default
    assert refused.status_code == 429
    assert refused.context["form"].non_field_errors() == [
        "Terlalu banyak percobaan pendaftaran dari koneksi ini. Tunggu satu jam, lalu coba lagi."
    ]
    assert "Terlalu banyak percobaan pendaftaran" in refused.content.decode()
    english = Client(REMOTE_ADDR="10.0.3.1", HTTP_ACCEPT_LANGUAGE="en")
    refused = signup(english, email="satu-lagi@contoh.id")
    assert refused.status_code == 429
    assert "Too many sign-up attempts from this connection. Please wait an hour and try again." in (
        refused.content.decode()
    )
    assert User.objects.count() == users
    assert not User.objects.filter(email="satu-lagi@contoh.id").exists()
    limited = AuditEvent.objects.filter(action="funding.donor_signup_limited").order_by("pk")
    assert [e.details for e in limited] == [
        {"attempts": 11, "limit": 10, "window_seconds": 3600},
        {"attempts": 12, "limit": 10, "window_seconds": 3600},
    ]
    assert {e.ip_address for e in limited} == {"10.0.3.1"}
    assert "satu-lagi" not in str([e.details for e in limited])

    # Another address is not affected; a new window starts the count again.
    assert signup(Client(REMOTE_ADDR="10.0.3.2"), email="tetangga@contoh.id").status_code == 302
    import time

    later = time.time() + SIGNUP_WINDOW_SECONDS
    assert count_attempt("donor-signup:ip", "10.0.3.1", window_seconds=SIGNUP_WINDOW_SECONDS, now=later) == 1


def test_the_form_errors_do_not_count_as_attempts(people):
    from django.test import Client

    from lingkaran.funding.services.donors import SIGNUP_LIMIT

    visitor = Client(REMOTE_ADDR="10.0.3.9")
    for _ in range(SIGNUP_LIMIT + 2):  # a password typed differently twice never reaches the service
        assert signup(visitor, password_again="lain-sama-sekali-99").status_code == 422
    assert signup(visitor).status_code == 302
