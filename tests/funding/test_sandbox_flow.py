"""The built-in sandbox gateway end to end, through real HTTP requests: a donation is started, the payer uses the
hosted page, the sandbox sends signed notifications to ``/webhooks/sandbox`` (in-process, through the whole Django
stack via ``httpx.WSGITransport``), intake confirms with the sandbox's status API, and the money is posted once.

These tests commit (``transaction=True``): deliveries are sent after the payer's action commits, as in production.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from lingkaran.funding import sandbox_server
from lingkaran.funding.models import GatewayEvent, PaymentIntent, Receipt, SandboxDelivery
from lingkaran.ledger import selectors as ledger
from lingkaran.ledger.models import JournalEntry
from tests.funding.conftest import (
    deliveries,
    hosted_page_path,
    make_campaign,
    pay_on_hosted_page,
    receipt_sequence,
    sandbox_payment,
    start,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_donation_through_the_sandbox_is_posted_once_with_a_numbered_receipt(campaign, client):
    intent = start(campaign, amount=50_400)
    assert intent.gateway == "sandbox"
    assert intent.payment_url.startswith("http://127.0.0.1:8000/sandbox-gateway/pay/")
    assert intent.state == "created"

    page = pay_on_hosted_page(client, intent, channel="bni")
    assert b"Rp 50.400" in page.content

    intent.refresh_from_db()
    assert (intent.state, intent.settled_amount) == ("settled", 50_400)
    payment = sandbox_payment(intent)
    assert intent.transaction_id == payment.transaction_id
    assert payment.va_number.startswith("8808")  # a BNI virtual account
    assert list(deliveries(intent).values_list("transaction_status", "attempts", "last_status_code")) == [
        ("pending", 1, 200),
        ("settlement", 1, 200),
    ]
    assert list(GatewayEvent.objects.order_by("id").values_list("gateway_status", "verified", "outcome")) == [
        ("pending", True, "pending"),
        ("settlement", True, "settled"),
    ]
    entries = JournalEntry.objects.filter(idempotency_key=f"donation:sandbox:{payment.transaction_id}:settled")
    assert entries.count() == 1
    assert ledger.balance_of(f"liability:pool:campaign:{campaign.pk}") == 50_400
    assert ledger.balance_of("asset:clearing:sandbox") == 50_400
    receipt = intent.donation.receipt
    assert receipt.amount == 50_400
    assert receipt_sequence(receipt.number) == 1
    assert ledger.verify().clean


def test_duplicate_and_out_of_order_deliveries_change_nothing(campaign, client, settings, funding_log):
    settings.LINGKARAN_SANDBOX_DUPLICATE_PERCENT = 100
    settings.LINGKARAN_SANDBOX_OUT_OF_ORDER_PERCENT = 100
    intent = start(campaign)
    pay_on_hosted_page(client, intent)

    intent.refresh_from_db()
    assert intent.state == "settled"
    # pending (held) ×2, settlement ×2; the held pendings arrive after the settlement.
    sent = list(deliveries(intent).order_by("delivered_at").values_list("transaction_status", "kind"))
    assert sent == [
        ("settlement", "normal"),
        ("settlement", "duplicate"),
        ("pending", "out_of_order"),
        ("pending", "duplicate"),
    ]
    assert all(d.delivered_at for d in deliveries(intent))
    events = {e.gateway_status: e for e in GatewayEvent.objects.all()}
    assert events["settlement"].deliveries == 2  # the duplicate collapsed on the inbox's unique key
    assert events["settlement"].outcome == "settled"
    assert events["pending"].outcome == "ignored_stale"  # the stale pending after settlement
    assert events["pending"].deliveries == 2
    assert JournalEntry.objects.count() == 1
    assert Receipt.objects.count() == 1
    assert ledger.balance_of(f"liability:pool:campaign:{campaign.pk}") == 50_400
    assert "(out of order)" in funding_log.text
    assert ledger.verify().clean


def test_a_held_pending_arrives_after_an_expiry_and_is_ignored(campaign, client, settings):
    settings.LINGKARAN_SANDBOX_OUT_OF_ORDER_PERCENT = 100
    intent = start(campaign)
    pay_on_hosted_page(client, intent, channel="qris", action="expire")
    intent.refresh_from_db()
    assert intent.state == "expired"
    assert intent.donation.state == "expired"
    assert GatewayEvent.objects.get(gateway_status="pending").outcome == "ignored_stale"
    assert JournalEntry.objects.count() == 0
    assert Receipt.objects.count() == 0


def test_the_payer_cancels(campaign, client):
    intent = start(campaign)
    pay_on_hosted_page(client, intent, channel="gopay", action="cancel")
    intent.refresh_from_db()
    assert intent.state == "cancelled"
    assert JournalEntry.objects.count() == 0


def test_the_sandbox_retries_until_the_site_answers_2xx(campaign, monkeypatch):
    from lingkaran.funding import views

    real = views.intake_receive
    failures = {"left": 2}

    def flaky(**kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("the site is restarting")
        return real(**kwargs)

    monkeypatch.setattr(views, "intake_receive", flaky)
    # The site's 500s happen inside the payer's request; the test client would re-raise them, a browser does not.
    client = Client(raise_request_exception=False)
    intent = start(campaign)
    path = hosted_page_path(intent)
    client.post(path, {"channel": "bri"})
    pending = deliveries(intent).get()
    assert (pending.attempts, pending.last_status_code) == (3, 200)  # 500, 500, then 200
    assert pending.delivered_at is not None
    client.post(path, {"action": "pay"})
    intent.refresh_from_db()
    assert intent.state == "settled"


def test_the_sandbox_gives_up_after_its_last_attempt(campaign, client, settings):
    settings.LINGKARAN_SANDBOX_MAX_ATTEMPTS = 3
    intent = start(campaign)
    PaymentIntent.objects.filter(pk=intent.pk)  # the site will not know this order:
    payment = sandbox_payment(intent)
    payment.order_id = "LK-261122-FFFFFFFFFF"
    payment.save(update_fields=["order_id"])
    client.post(hosted_page_path(intent), {"channel": "bca"})
    delivery = SandboxDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status_code) == (3, 404)
    assert delivery.gave_up_at is not None
    assert delivery.delivered_at is None
    assert GatewayEvent.objects.get().deliveries == 3


def test_receipts_are_numbered_without_gaps(people, client):
    campaign = make_campaign(people["operator"])
    intents = [start(campaign, amount=10_000 + i) for i in range(4)]
    pay_on_hosted_page(client, intents[2], action="expire")  # an expired payment takes no number
    for intent in (intents[0], intents[3], intents[1]):
        pay_on_hosted_page(client, intent)
    numbers = list(Receipt.objects.order_by("issued_at").values_list("number", flat=True))
    assert [receipt_sequence(n) for n in numbers] == [1, 2, 3]
    assert len({n[:7] for n in numbers}) == 1  # one year


def _basic(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def test_the_sandbox_status_api_speaks_midtrans(campaign, client, settings):
    intent = start(campaign)
    url = f"/sandbox-gateway/v2/{intent.order_id}/status"
    assert client.get(url).status_code == 401
    assert client.get(url, **_basic("wrong-key")).status_code == 401
    before_payment = client.get(url, **_basic(settings.LINGKARAN_SANDBOX_SERVER_KEY)).json()
    assert before_payment == {"status_code": "404", "status_message": "Transaction doesn't exist."}
    pay_on_hosted_page(client, intent)
    answer = client.get(url, **_basic(settings.LINGKARAN_SANDBOX_SERVER_KEY)).json()
    assert answer["transaction_status"] == "settlement"
    assert answer["status_code"] == "200"
    assert answer["gross_amount"] == "50400.00"
    assert answer["order_id"] == intent.order_id
    assert answer["va_numbers"][0]["bank"] == "bca"


def test_a_notification_forged_for_the_sandbox_is_refused(campaign, client):
    intent = start(campaign)
    body = json.dumps(
        {
            "order_id": intent.order_id,
            "status_code": "200",
            "gross_amount": "50400.00",
            "transaction_status": "settlement",
            "transaction_id": "forged",
            "signature_key": "0" * 128,
        }
    )
    response = client.post("/webhooks/sandbox", data=body, content_type="application/json")
    assert response.status_code == 401
    intent.refresh_from_db()
    assert intent.state == "created"
    assert JournalEntry.objects.count() == 0


def test_the_hosted_page_works_on_a_phone_and_in_english(campaign):
    intent = start(campaign)
    browser = Client()
    browser.cookies["lingkaran_language"] = "en"
    page = browser.get(hosted_page_path(intent)).content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<html lang="en">' in page
    for label in (
        "BCA Virtual Account",
        "BNI Virtual Account",
        "BRI Virtual Account",
        "Mandiri",
        "QRIS",
        "GoPay",
        "OVO",
        "DANA",
    ):
        assert label in page
    assert "Rp 50,400" in page
    browser.post(hosted_page_path(intent), {"channel": "qris"})
    page = browser.get(hosted_page_path(intent)).content.decode()
    assert "<svg" in page  # the QRIS code
    for action in ("pay", "expire", "cancel"):
        assert f'value="{action}"' in page


def test_an_unknown_payment_page_is_404(client, db):
    assert client.get("/sandbox-gateway/pay/nope/").status_code == 404


def test_the_snap_api_refuses_a_second_payment_for_a_paid_order(campaign, client, settings):
    intent = start(campaign)
    pay_on_hosted_page(client, intent)
    with pytest.raises(sandbox_server.SandboxError, match="paid and utilized"):
        sandbox_server.snap_create(
            order_id=intent.order_id, amount=50_400, customer_name="", customer_email="", item_name="", finish_url=""
        )
    response = client.post(
        "/sandbox-gateway/snap/v1/transactions",
        data=json.dumps({"transaction_details": {"order_id": intent.order_id, "gross_amount": 50400}}),
        content_type="application/json",
        **_basic(settings.LINGKARAN_SANDBOX_SERVER_KEY),
    )
    assert response.status_code == 406


def test_the_payer_returns_to_a_page_that_shows_the_result(campaign, client):
    intent = start(campaign)
    page = pay_on_hosted_page(client, intent)
    finish = page.context["finish_url"]
    assert finish.startswith(f"http://127.0.0.1:8000/donations/return/{intent.order_id}/?order_id=")
    back = client.get(f"/donations/return/{intent.order_id}/")
    assert back.status_code == 200
    assert intent.donation.receipt.number.encode() in back.content
