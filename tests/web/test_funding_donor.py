"""The donor's dashboard: their own donations with state and receipts, receipts as PDF in Indonesian and English, the
yearly statement, and monthly pledges they pause, resume and stop themselves. Nobody sees another donor's."""

from __future__ import annotations

import pytest
from django.utils import timezone

from lingkaran.funding.models import Donation, RecurringDonation
from tests.web.funding_helpers import start

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/my/donations/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/my/donations/")


def test_the_donor_sees_only_their_own_donations_with_receipts(client, login, people, campaign, settled):
    mine = settled(100_800, donor=people["donor"], donor_name="Nur Aisyah")
    waiting = start(campaign, 50_400, donor=people["donor"], donor_name="Nur Aisyah")
    settled(252_000, donor=people["other_donor"], donor_name="Rudi Hartanto")
    login(people["donor"])
    response = client.get("/my/donations/")
    assert response.status_code == 200
    assert {d.pk for d in response.context["page"]} == {mine.donation_id, waiting.donation_id}
    text = response.content.decode()
    number = mine.donation.receipt.number
    assert f"/receipts/{number}/" in text
    assert "Rudi Hartanto" not in text
    assert "Rp 252.000" not in text
    assert response.context["years"] == [timezone.localdate().year]
    # The waiting one can be paid from here: back to its payment page.
    pay = client.post(f"/my/donations/{waiting.donation_id}/pay/")
    assert pay.status_code == 302
    assert pay["Location"] == waiting.payment_url


def test_receipt_page_and_pdf_in_both_languages_for_the_donor_only(client, login, people, settled):
    intent = settled(100_800, donor=people["donor"], donor_name="Nur Aisyah")
    number = intent.donation.receipt.number
    login(people["other_donor"])
    assert client.get(f"/receipts/{number}/").status_code == 404
    assert client.get(f"/receipts/{number}/pdf/").status_code == 404
    client.logout()
    login(people["donor"])
    page = client.get(f"/receipts/{number}/")
    assert page.status_code == 200
    assert "Rp 100.800" in page.content.decode()
    for language in ("id", "en"):
        pdf = client.get(f"/receipts/{number}/pdf/?language={language}")
        assert pdf.status_code == 200
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")


def test_finance_opens_any_receipt(client, login, people, settled):
    intent = settled(50_400, donor=people["donor"])
    login(people["finance"])
    assert client.get(f"/receipts/{intent.donation.receipt.number}/").status_code == 200


def test_yearly_statement_pdf(client, login, people, settled):
    settled(50_400, donor=people["donor"])
    settled(100_800, donor=people["donor"])
    login(people["donor"])
    year = timezone.localdate().year
    for language in ("id", "en"):
        response = client.get(f"/my/statements/{year}/pdf/?language={language}")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert f"lingkaran-statement-{year}-{language}.pdf" in response["Content-Disposition"]
    assert client.get(f"/my/statements/{year - 5}/pdf/").status_code == 404


# --- Monthly pledges ------------------------------------------------------------------------------------------------


@pytest.fixture
def pledge(people, campaign, settled):
    intent = settled(50_400, donor=people["donor"], donor_name="Nur Aisyah", recurring=True)
    return intent.donation.recurring


def test_the_dashboard_shows_the_pledge_and_its_next_due_date(client, login, people, pledge):
    login(people["donor"])
    response = client.get("/my/donations/")
    (shown,) = response.context["pledges"]
    assert shown == pledge
    text = response.content.decode()
    assert f'id="pledge-{pledge.pk}"' in text
    assert f"/my/pledges/{pledge.pk}/pause/" in text


def test_the_donor_pauses_resumes_and_stops_a_pledge(client, login, people, pledge):
    login(people["donor"])
    response = client.post(f"/my/pledges/{pledge.pk}/pause/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="pledge-{pledge.pk}"' in response.content.decode()
    pledge.refresh_from_db()
    assert pledge.state == "paused"
    assert pledge.paused_at is not None

    response = client.post(f"/my/pledges/{pledge.pk}/resume/")
    assert response.status_code == 302
    pledge.refresh_from_db()
    assert (pledge.state, pledge.paused_at) == ("active", None)

    response = client.post(f"/my/pledges/{pledge.pk}/cancel/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    pledge.refresh_from_db()
    assert pledge.state == "cancelled"

    # A stopped pledge cannot be paused again: the page says so, nothing changes.
    response = client.post(f"/my/pledges/{pledge.pk}/pause/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    pledge.refresh_from_db()
    assert pledge.state == "cancelled"


def test_another_donors_pledge_is_not_found_and_unchanged(client, login, people, pledge):
    login(people["other_donor"])
    for action in ("pause", "cancel"):
        assert client.post(f"/my/pledges/{pledge.pk}/{action}/").status_code == 404
    pledge.refresh_from_db()
    assert pledge.state == "active"
    assert client.post(f"/my/donations/{pledge.donations.get().pk}/pay/").status_code == 404


def test_pledge_actions_are_posts_only(client, login, people, pledge):
    login(people["donor"])
    assert client.get(f"/my/pledges/{pledge.pk}/pause/").status_code == 405
    assert client.post(f"/my/pledges/{pledge.pk}/delete/").status_code == 404
    assert RecurringDonation.objects.get().state == "active"
    assert Donation.objects.count() == 1
