"""The served application's lean front door (``funding/wsgi.py``): gateway webhooks and the sandbox's status API are
answered before the site's middleware, with the same answers the views give, and everything else still reaches the
site. Requests go to ``lingkaran.config.wsgi.application`` (what gunicorn serves) in memory, over HTTP."""

from __future__ import annotations

import json

import httpx
import pytest
from django.conf import settings

from lingkaran.funding.gateways.sandbox import in_process_app
from lingkaran.funding.models import GatewayEvent, PaymentIntent, Receipt
from lingkaran.ledger.models import JournalEntry
from tests.funding.conftest import hosted_page_path, sandbox_payment, start
from tests.funding.payloads import midtrans_notification

pytestmark = pytest.mark.django_db

SITE = "http://testserver"


@pytest.fixture
def http(django_capture_on_commit_callbacks):
    """An HTTP client to the served application (the front door first), running what the answers queue."""
    client = httpx.Client(transport=httpx.WSGITransport(app=in_process_app), base_url=SITE)

    def send(method: str, path: str, **kwargs) -> httpx.Response:
        with django_capture_on_commit_callbacks(execute=True):
            return client.request(method, path, **kwargs)

    yield send
    client.close()


def choose_virtual_account(client, intent: PaymentIntent) -> None:
    """The payer picks a BCA virtual account on the hosted page: the payment is pending at the gateway."""
    assert client.post(hosted_page_path(intent), {"channel": "bca"}).status_code == 302


def sandbox_notification(intent: PaymentIntent, status: str, **kwargs) -> bytes:
    payment = sandbox_payment(intent)
    return midtrans_notification(
        intent.order_id,
        status,
        gross_amount=f"{intent.amount}.00",
        transaction_id=payment.transaction_id,
        server_key=settings.LINGKARAN_SANDBOX_SERVER_KEY,
        **kwargs,
    )


def test_a_sandbox_settlement_through_the_front_door_posts_once(http, client, campaign):
    intent = start(campaign)
    choose_virtual_account(client, intent)
    first = http("POST", "/webhooks/sandbox", content=sandbox_notification(intent, "pending"))
    assert (first.status_code, first.json()) == (200, {"status": "accepted"})
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-content-type-options"] == "nosniff"
    assert len(first.headers["x-request-id"]) == 32
    assert "set-cookie" not in first.headers  # no session: the site's middleware was not run
    assert PaymentIntent.objects.get(pk=intent.pk).state == "pending"

    payment = sandbox_payment(intent)
    payment.status = "settlement"
    payment.save(update_fields=["status"])
    body = sandbox_notification(intent, "settlement")
    settled = http("POST", "/webhooks/sandbox", content=body, headers={"X-Request-ID": "gateway-req-0001"})
    assert (settled.status_code, settled.json()) == (200, {"status": "accepted"})
    assert settled.headers["x-request-id"] == "gateway-req-0001"
    again = http("POST", "/webhooks/sandbox", content=body)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})

    intent.refresh_from_db()
    assert (intent.state, intent.settled_amount) == ("settled", 50_400)
    assert JournalEntry.objects.filter(idempotency_key__startswith="donation:sandbox:").count() == 1
    assert Receipt.objects.count() == 1
    assert GatewayEvent.objects.get(status="settled").deliveries == 2


@pytest.mark.parametrize(
    ("body", "status", "outcome"),
    [
        (b"{not json", 400, "malformed"),
        (b"[]", 400, "malformed"),
        ("forged", 401, "signature_invalid"),
        (b"x" * (64 * 1024 + 1), 413, "body_too_large"),
    ],
)
def test_refusals_through_the_front_door_are_kept_and_post_nothing(http, campaign, body, status, outcome):
    intent = start(campaign)
    if body == "forged":
        body = sandbox_notification(intent, "settlement", signature="0" * 128)
    response = http("POST", "/webhooks/sandbox", content=body)
    assert (response.status_code, response.json()) == (status, {"status": outcome})
    event = GatewayEvent.objects.get()
    assert (event.verified, event.verification_error, event.processed_at) == (False, outcome, None)
    assert JournalEntry.objects.count() == 0
    assert PaymentIntent.objects.get(pk=intent.pk).state == "created"


def test_an_unknown_order_through_the_front_door_is_404(http, campaign):
    start(campaign)
    body = midtrans_notification("LK-261122-FFFFFFFFFF", "settlement", server_key=settings.LINGKARAN_SANDBOX_SERVER_KEY)
    response = http("POST", "/webhooks/sandbox", content=body)
    assert (response.status_code, response.json()) == (404, {"status": "unknown_order"})
    assert GatewayEvent.objects.get().outcome == "unknown_order"


def test_what_the_front_door_does_not_answer_reaches_the_site(http, settings):
    # An unknown or unconfigured gateway, another method: the site's own answers (404, 405).
    assert http("POST", "/webhooks/paypal", content=b"{}").status_code == 404
    settings.MIDTRANS_SERVER_KEY = ""
    assert http("POST", "/webhooks/midtrans", content=b"{}").status_code == 404
    assert http("GET", "/webhooks/sandbox").status_code == 405
    assert GatewayEvent.objects.count() == 0
    page = http("GET", "/")
    assert page.status_code in (200, 302)
    assert "x-frame-options" in page.headers  # the site's middleware ran


def test_the_sandbox_status_api_through_the_front_door(http, client, campaign):
    intent = start(campaign)
    key = settings.LINGKARAN_SANDBOX_SERVER_KEY
    path = f"/sandbox-gateway/v2/{intent.order_id}/status"
    refused = http("GET", path, auth=("wrong-key", ""))
    assert refused.status_code == 401
    assert refused.json()["status_code"] == "401"
    assert http("GET", path).status_code == 401
    # No payment method chosen yet: Midtrans knows no transaction.
    assert http("GET", path, auth=(key, "")).json() == {
        "status_code": "404",
        "status_message": "Transaction doesn't exist.",
    }
    choose_virtual_account(client, intent)
    answer = http("GET", path, auth=(key, ""))
    data = answer.json()
    assert answer.status_code == 200
    assert (data["status_code"], data["transaction_status"], data["gross_amount"], data["order_id"]) == (
        "201",
        "pending",
        "50400.00",
        intent.order_id,
    )
    assert data["transaction_id"] == sandbox_payment(intent).transaction_id
    assert json.loads(answer.content) == data
