"""A visitor donates on a 360-px phone: opens a published campaign, picks a suggested amount, continues to the
sandbox gateway's hosted page, pays by QRIS, comes back and sees the donation settled with a link to the receipt.
The payment is posted once through the real intake (signed notification, status API), and nothing is wider than the
phone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lingkaran.funding import services
from lingkaran.funding.models import Donation, GatewayEvent
from lingkaran.ledger import selectors as ledger
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.fixture
def campaign(live_server, settings):
    # The gateway's payment page and the way back are addresses of this live server.
    settings.PUBLIC_URL = live_server.url
    settings.LINGKARAN_SANDBOX_DUPLICATE_PERCENT = 0
    settings.LINGKARAN_SANDBOX_OUT_OF_ORDER_PERCENT = 0
    operator = UserFactory(role="operator", username="rina")
    campaign = services.campaign_create(
        actor=operator,
        title="Nelayan Penajam Terlindungi",
        story="Nelayan kecil di Penajam berangkat sebelum subuh.\n\nLindungi mereka enam bulan.",
        goal_workers=100,
        goal_months=6,
        goal_amount=5_040_000,
        end_on=timezone.localdate() + timedelta(days=60),
        target_regions=["64.09"],
        target_occupations=["nelayan"],
    )
    services.campaign_submit(actor=operator, campaign=campaign)
    return services.campaign_approve(actor=operator, campaign=campaign)


def test_a_visitor_donates_on_a_phone_and_gets_a_receipt(live_server, phone, artifacts_dir, campaign):
    page = phone
    page.goto(f"{live_server.url}/campaigns/")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/donate-list-360.png", full_page=True)
    page.get_by_role("link", name="Nelayan Penajam Terlindungi").click()
    page.wait_for_url(f"{live_server.url}/campaigns/{campaign.slug}/")
    assert no_sideways_scroll(page)

    suggestion = page.locator("label.amount-option").first
    amount = suggestion.locator("input").get_attribute("value")
    suggestion.click()
    expect(suggestion.locator("input")).to_be_checked()
    page.locator("#id_donate-donor_name").fill("Siti Aminah")
    page.locator("#id_donate-donor_email").fill("siti@contoh.id")
    page.screenshot(path=f"{artifacts_dir}/donate-form-360.png", full_page=True)
    page.locator("#donate button[type=submit]").click()

    # The sandbox gateway's hosted page: QRIS, then pay.
    page.wait_for_url(re.compile(r".*/sandbox-gateway/pay/[^/]+/$"))
    assert no_sideways_scroll(page)
    page.locator("input[name=channel][value=qris]").check()
    page.locator("form button.primary").first.click()
    expect(page.locator("svg[role=img]")).to_be_visible()
    page.screenshot(path=f"{artifacts_dir}/donate-qris-360.png", full_page=True)
    page.locator("button[name=action][value=pay]").click()

    # Back to Lingkaran: the status block shows the settled donation and its receipt.
    page.locator("a.back").click()
    page.wait_for_url(re.compile(r".*/donations/return/.*"))
    status = page.locator("#donation-status")
    expect(status).to_have_attribute("data-state", "settled", timeout=15_000)
    receipt_link = page.locator("#receipt-link")
    expect(receipt_link).to_be_visible()
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/donate-thanks-360.png", full_page=True)

    donation = Donation.objects.select_related("intent", "receipt").get()
    assert (donation.amount, donation.state, donation.donor_name) == (int(amount), "settled", "Siti Aminah")
    assert donation.intent.settled_amount == int(amount)
    assert GatewayEvent.objects.filter(order_id=donation.intent.order_id, outcome="settled").count() == 1
    assert ledger.balance_of(f"liability:pool:campaign:{campaign.pk}") == int(amount)
    assert ledger.verify().clean

    receipt_link.click()
    page.wait_for_url(f"{live_server.url}/receipts/{donation.receipt.number}/")
    expect(page.locator("#receipt-number")).to_have_text(donation.receipt.number)
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/donate-receipt-360.png", full_page=True)
