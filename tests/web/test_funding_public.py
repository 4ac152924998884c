"""The public side of money in trust, through the pages: the campaign list and page, the donate flow on the sandbox
gateway, the payer's status block and receipt, and the transparency pages — donors shown as they chose."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from lingkaran.funding import services
from lingkaran.funding.models import Campaign, Donation, PaymentIntent, RecurringDonation
from tests.web.funding_helpers import donate_form, make_campaign

pytestmark = pytest.mark.django_db


def donate(client, campaign, **fields):
    return client.post(f"/campaigns/{campaign.slug}/donate/", donate_form(**fields))


# --- List and page --------------------------------------------------------------------------------------------------


def test_the_list_shows_published_campaigns_only_with_their_progress(client, people, campaign, settled):
    make_campaign(people["operator"], title="Pemulung Draf", publish=False)
    pending = make_campaign(people["operator"], title="Ojol Menunggu", publish=False)
    services.campaign_submit(actor=people["operator"], campaign=pending)
    settled(504_000)
    response = client.get("/campaigns/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nelayan Penajam Terlindungi" in text
    assert "Pemulung Draf" not in text
    assert "Ojol Menunggu" not in text
    (card,) = response.context["cards"]
    assert (card.progress.received, card.progress.percent) == (504_000, 10)
    # Rp 504.000 buys 60 worker-months at Rp 8.400 (or 30 at the full ticket): whole 6-month blocks of workers.
    assert card.workers_funded == card.progress.worker_months // 6
    assert "Rp 504.000" in text
    assert f"/campaigns/{campaign.slug}/" in text


def test_a_draft_or_unknown_campaign_is_not_found(client, people):
    draft = make_campaign(people["operator"], title="Belum Terbit", publish=False)
    assert client.get(f"/campaigns/{draft.slug}/").status_code == 404
    assert client.post(f"/campaigns/{draft.slug}/donate/", donate_form()).status_code == 404
    assert client.get("/campaigns/tidak-ada/").status_code == 404
    assert Donation.objects.count() == 0


def test_the_page_offers_amounts_in_protection_bought(client, campaign):
    response = client.get(f"/campaigns/{campaign.slug}/")
    assert response.status_code == 200
    assert '<html lang="id">' in response.content.decode()
    suggestions = response.context["suggestions"]
    assert [(s.months, s.workers) for s in suggestions[:2]] == [(6, 1), (12, 1)]
    text = re.sub(r"\s+", " ", response.content.decode())
    first = suggestions[0]
    assert f'value="{first.amount}"' in text
    assert f"Rp {first.amount:,}".replace(",", ".") in text  # Rp 50.400 in the PP 50/2025 window
    assert "6 months of protection for 1 worker" in text or "6 bulan" in text


# --- Donate ---------------------------------------------------------------------------------------------------------


def test_donating_a_suggested_amount_goes_to_the_gateways_payment_page(client, campaign):
    amount = client.get(f"/campaigns/{campaign.slug}/").context["suggestions"][0].amount
    response = donate(client, campaign, amount_choice=str(amount), purpose_note="Untuk nelayan Babulu")
    assert response.status_code == 302
    donation = Donation.objects.get()
    intent = donation.intent
    assert response["Location"] == intent.payment_url
    assert urlsplit(intent.payment_url).path.startswith("/sandbox-gateway/pay/")
    assert (donation.amount, donation.campaign, donation.donor_name, donation.donor_email) == (
        amount,
        campaign,
        "Siti Aminah",
        "siti@contoh.id",
    )
    assert (donation.purpose_note, donation.is_anonymous, donation.recurring, donation.donor) == (
        "Untuk nelayan Babulu",
        False,
        None,
        None,
    )
    assert intent.state == "created"
    assert client.session["lingkaran_donation_orders"] == [intent.order_id]


@pytest.mark.parametrize(("typed", "amount"), [("75.000", 75_000), ("Rp 125.000", 125_000), ("10000", 10_000)])
def test_another_amount_at_or_above_the_minimum_is_accepted(client, campaign, typed, amount):
    response = donate(client, campaign, amount_choice="other", other_amount=typed)
    assert response.status_code == 302
    assert Donation.objects.get().amount == amount


@pytest.mark.parametrize(
    ("typed", "message"),
    [("9.999", "Rp 10.000"), ("5000", "Rp 10.000"), ("lima puluh ribu", "75.000"), ("50.400,50", "75.000"), ("", "")],
)
def test_another_amount_below_the_minimum_or_not_whole_is_refused_with_a_clear_error(client, campaign, typed, message):
    response = donate(client, campaign, amount_choice="other", other_amount=typed)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert errors.get("other_amount") or errors.get("amount_choice")
    if message:
        assert message in " ".join(errors["other_amount"])
    assert Donation.objects.count() == 0
    assert PaymentIntent.objects.count() == 0


def test_a_name_is_required_even_when_giving_anonymously(client, campaign):
    response = donate(client, campaign, donor_name="", is_anonymous=True)
    assert response.status_code == 422
    assert "donor_name" in response.context["form"].errors
    assert Donation.objects.count() == 0


def test_monthly_giving_needs_an_account(client, campaign, people, login):
    response = donate(client, campaign, frequency="monthly")
    assert response.status_code == 422  # "monthly" is not offered to a visitor without an account
    assert Donation.objects.count() == 0
    assert RecurringDonation.objects.count() == 0
    login(people["donor"])
    response = donate(client, campaign, frequency="monthly", donor_name="Nur Aisyah")
    assert response.status_code == 302
    pledge = RecurringDonation.objects.get()
    assert (pledge.donor, pledge.amount, pledge.state) == (people["donor"], 50_400, "active")
    assert Donation.objects.get().recurring == pledge


def test_a_closed_campaign_takes_no_donations(client, campaign, people):
    services.campaign_close(actor=people["operator"], campaign=campaign)
    page = client.get(f"/campaigns/{campaign.slug}/")
    assert page.status_code == 200
    assert page.context["card"].accepts_donations is False
    assert 'action="/campaigns/' not in page.content.decode()
    response = donate(client, campaign)
    assert response.status_code == 409
    assert Donation.objects.count() == 0
    assert Campaign.objects.get(pk=campaign.pk).state == "closed"
    assert campaign.slug not in client.get("/campaigns/").content.decode()


# --- Back from the gateway: status, receipt -------------------------------------------------------------------------


def test_the_payer_sees_the_payment_settle_and_gets_the_receipt(client, campaign, pay):
    donate(client, campaign)
    intent = PaymentIntent.objects.get()
    status = client.get(f"/donations/{intent.order_id}/status/", HTTP_HX_REQUEST="true")
    assert status.status_code == 200
    assert 'hx-trigger="every 2s"' in status.content.decode()  # polls while the payment is open
    assert "receipt-link" not in status.content.decode()

    pay(intent, channel="qris")
    back = client.get(f"/donations/return/{intent.order_id}/")
    assert back.status_code == 200
    assert f'hx-get="/donations/{intent.order_id}/status/"' in back.content.decode()
    status = client.get(f"/donations/{intent.order_id}/status/", HTTP_HX_REQUEST="true")
    text = status.content.decode()
    assert 'hx-trigger="every 2s"' not in text  # settled: polling stops
    number = Donation.objects.get().receipt.number
    assert f'href="/receipts/{number}/"' in text

    receipt = client.get(f"/receipts/{number}/")
    assert receipt.status_code == 200
    assert number in receipt.content.decode()
    assert "Siti Aminah" in receipt.content.decode()
    for language in ("id", "en"):
        pdf = client.get(f"/receipts/{number}/pdf/?language={language}")
        assert pdf.status_code == 200
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        assert f"{number}-{language}.pdf" in pdf["Content-Disposition"]


def test_a_receipt_is_not_shown_to_another_browser(client, campaign, settled):
    intent = settled()
    number = intent.donation.receipt.number
    stranger = Client()
    assert stranger.get(f"/receipts/{number}/").status_code == 404
    assert stranger.get(f"/receipts/{number}/pdf/").status_code == 404
    status = stranger.get(f"/donations/{intent.order_id}/status/", HTTP_HX_REQUEST="true")
    assert status.status_code == 200
    assert number not in status.content.decode()  # the state only, not the receipt


def test_a_failed_payment_says_nothing_was_taken(client, campaign, pay):
    donate(client, campaign)
    intent = pay(PaymentIntent.objects.get(), channel="gopay", action="cancel")
    assert intent.state == "cancelled"
    status = client.get(f"/donations/{intent.order_id}/status/")
    assert status.status_code == 200
    assert status.context["is_open"] is False
    assert status.context["receipt"] is None
    assert "hx-trigger" not in status.content.decode()


# --- Transparency, donors as they chose -----------------------------------------------------------------------------


def test_public_pages_hide_anonymous_donors_names(client, campaign, settled):
    settled(50_400, donor_name="Rahasia Sekali", is_anonymous=True)
    settled(100_800, donor_name="Budi Terbuka")
    for path in (f"/campaigns/{campaign.slug}/", f"/campaigns/{campaign.slug}/transparency/"):
        text = client.get(path).content.decode()
        assert "Rahasia Sekali" not in text
        assert "Budi Terbuka" in text
        assert "Anonim" in text or "Anonymous" in text
    # The name is kept for the operator.
    assert Donation.objects.get(is_anonymous=True).donor_name == "Rahasia Sekali"


def test_the_transparency_page_shows_where_the_money_is(client, campaign, settled):
    settled(50_400)
    settled(100_800)
    response = client.get(f"/campaigns/{campaign.slug}/transparency/")
    assert response.status_code == 200
    t = response.context["transparency"]
    assert (t.received, t.refunded, t.reserved, t.paid_to_agency, t.available, t.donations) == (
        151_200,
        0,
        0,
        0,
        151_200,
        2,
    )
    assert t.consistent
    text = response.content.decode()
    assert "Rp 151.200" in text


def test_a_funders_transparency_page_is_public(client, people, pay):
    from tests.factories import FunderFactory

    baznas = FunderFactory(name="BAZNAS Contoh", kind="zakat_body", region_code="64")
    intent = services.donation_start(
        target=services.DonationTarget.for_funder(baznas),
        amount=200_000,
        donor_name="Hamba Allah Sejati",
        is_anonymous=True,
    )
    assert pay(intent).state == "settled"
    response = client.get(f"/transparency/funders/{baznas.pk}/")
    assert response.status_code == 200
    t = response.context["transparency"]
    assert (t.received, t.available, t.donations) == (200_000, 200_000, 1)
    text = response.content.decode()
    assert "BAZNAS Contoh" in text
    assert "Hamba Allah Sejati" not in text
    assert client.get("/transparency/funders/999999/").status_code == 404


def test_campaign_image_is_served_for_public_campaigns_only(client, people):
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (11, 110, 79)).save(buffer, format="PNG")
    published = make_campaign(people["operator"], image=ContentFile(buffer.getvalue(), name="nelayan.png"))
    draft = make_campaign(
        people["operator"], title="Draf", publish=False, image=ContentFile(buffer.getvalue(), name="d.png")
    )
    response = client.get(f"/campaigns/{published.slug}/image/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(f"/campaigns/{draft.slug}/image/").status_code == 404
