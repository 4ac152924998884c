"""Webhook intake through the real view: every notification stored first, the right HTTP status for each case, a
clear log line for each refusal, and money posted only once, only after the status API confirms, only for the exact
amount. Midtrans and Xendit are replaced by ``httpx.MockTransport`` (their servers are mocked, our adapters run)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from lingkaran.funding import gateways, services
from lingkaran.funding.models import GatewayEvent, PaymentIntent, Receipt
from lingkaran.ledger import selectors as ledger
from lingkaran.ledger.models import JournalEntry
from tests.funding.conftest import start
from tests.funding.payloads import (
    MIDTRANS_KEY,
    XENDIT_SECRET,
    XENDIT_TOKEN,
    midtrans_notification,
    midtrans_status_answer,
    xendit_callback,
    xendit_invoice_answer,
)

pytestmark = pytest.mark.django_db


class FakeGateway:
    """What Midtrans and Xendit answer, per order: ``status[order_id] = (status, gross_amount)``."""

    def __init__(self):
        self.status: dict[str, tuple[str, str]] = {}
        self.down = False
        self.calls: list[str] = []

    def midtrans(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        if self.down:
            return httpx.Response(503, text="Service Temporarily Unavailable")
        if request.url.path == "/snap/v1/transactions":
            order_id = json.loads(request.content)["transaction_details"]["order_id"]
            return httpx.Response(
                201, json={"token": f"tok-{order_id}", "redirect_url": f"https://snap.test/{order_id}"}
            )
        order_id = request.url.path.split("/")[2]
        if order_id not in self.status:
            return httpx.Response(200, json={"status_code": "404", "status_message": "Transaction doesn't exist."})
        status, gross = self.status[order_id]
        return httpx.Response(200, json=midtrans_status_answer(order_id, status, gross_amount=gross))

    def xendit(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v2/invoices":
            order_id = json.loads(request.content)["external_id"]
            return httpx.Response(200, json=xendit_invoice_answer(order_id, "PENDING", invoice_id=f"inv-{order_id}"))
        invoice_id = request.url.path.rsplit("/", 1)[1]
        order_id = invoice_id.removeprefix("inv-")
        status, amount = self.status[order_id]
        return httpx.Response(200, json=xendit_invoice_answer(order_id, status, invoice_id=invoice_id, amount=amount))


@pytest.fixture
def fake(settings, monkeypatch):
    settings.MIDTRANS_SERVER_KEY = MIDTRANS_KEY
    settings.XENDIT_SECRET_KEY = XENDIT_SECRET
    settings.XENDIT_CALLBACK_TOKEN = XENDIT_TOKEN
    gateway = FakeGateway()
    monkeypatch.setitem(gateways.transport_overrides, "midtrans", httpx.MockTransport(gateway.midtrans))
    monkeypatch.setitem(gateways.transport_overrides, "xendit", httpx.MockTransport(gateway.xendit))
    return gateway


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST a body to a webhook as the gateway would, running the processing that the answer queues."""

    def send(gateway: str, body: bytes, **headers):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/webhooks/{gateway}", data=body, content_type="application/json", **headers)

    return send


def money_snapshot():
    return (
        JournalEntry.objects.count(),
        Receipt.objects.count(),
        ledger.balances(),
        sorted(PaymentIntent.objects.values_list("order_id", "state", "settled_amount", "in_review")),
    )


@pytest.fixture
def midtrans_intent(campaign, fake):
    return start(campaign, gateway="midtrans")


def test_a_confirmed_settlement_posts_once_and_issues_a_receipt(post, fake, midtrans_intent, campaign):
    order = midtrans_intent.order_id
    assert midtrans_intent.payment_url == f"https://snap.test/{order}"
    fake.status[order] = ("settlement", "50400.00")
    response = post("midtrans", midtrans_notification(order, "settlement"))
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    intent = PaymentIntent.objects.get(pk=midtrans_intent.pk)
    assert (intent.state, intent.settled_amount, intent.in_review) == ("settled", 50_400, False)
    assert f"GET /v2/{order}/status" in fake.calls  # confirmed with the status API before money moved
    entry = JournalEntry.objects.get(idempotency_key="donation:midtrans:9aed5972-5b6a-401e-894b-a32c91ed1a3a:settled")
    assert entry.total == 50_400
    assert ledger.balance_of(f"liability:pool:campaign:{campaign.pk}") == 50_400
    assert ledger.balance_of("asset:clearing:midtrans") == 50_400
    assert intent.donation.receipt.number.startswith("LK-")
    event = GatewayEvent.objects.get()
    assert (event.verified, event.outcome, event.order_id) == (True, "settled", order)
    assert json.loads(event.raw_body)["signature_key"]  # the raw body is kept exactly
    assert ledger.verify().clean


def test_a_replayed_old_notification_answers_200_and_posts_nothing(post, fake, midtrans_intent, funding_log):
    order = midtrans_intent.order_id
    fake.status[order] = ("settlement", "50400.00")
    body = midtrans_notification(order, "settlement")
    post("midtrans", body)
    before, calls = money_snapshot(), len(fake.calls)
    replay = post("midtrans", body)
    assert replay.status_code == 200
    assert replay.json() == {"status": "duplicate"}
    assert money_snapshot() == before
    assert len(fake.calls) == calls  # not even the status API is asked again
    assert GatewayEvent.objects.get().deliveries == 2
    assert f"webhook replay: gateway=midtrans order_id={order}" in funding_log.text


def test_a_forged_signature_is_kept_answered_401_and_never_processed(post, fake, midtrans_intent, funding_log):
    order = midtrans_intent.order_id
    fake.status[order] = ("settlement", "50400.00")
    before = money_snapshot()
    forged = midtrans_notification(order, "settlement", server_key="SB-Mid-server-attacker")
    response = post("midtrans", forged)
    assert response.status_code == 401
    assert response.json() == {"status": "signature_invalid"}
    assert money_snapshot() == before
    event = GatewayEvent.objects.get()
    assert (event.verified, event.verification_error, event.processed_at) == (False, "signature_invalid", None)
    assert event.raw_body == forged.decode()
    assert event.event_key.startswith("unverified:")
    assert fake.calls == ["POST /snap/v1/transactions"]  # never confirmed, never processed
    assert f"webhook refused: gateway=midtrans status=401 reason=signature_invalid order_id={order}" in funding_log.text
    # The forged event does not block the genuine one (it is stored under its own key).
    assert post("midtrans", midtrans_notification(order, "settlement")).status_code == 200
    assert PaymentIntent.objects.get(pk=midtrans_intent.pk).state == "settled"


def test_a_wrong_xendit_token_is_401_and_posts_nothing(post, fake, campaign, funding_log):
    intent = start(campaign, gateway="xendit")
    fake.status[intent.order_id] = ("PAID", 50400)
    before = money_snapshot()
    response = post("xendit", xendit_callback(intent.order_id, "PAID"), HTTP_X_CALLBACK_TOKEN="not-the-token")
    assert response.status_code == 401
    assert response.json() == {"status": "token_invalid"}
    assert money_snapshot() == before
    assert GatewayEvent.objects.get().verification_error == "token_invalid"
    assert "webhook refused: gateway=xendit status=401 reason=token_invalid" in funding_log.text


def test_xendit_paid_then_settled_posts_once(post, fake, campaign):
    intent = start(campaign, gateway="xendit")
    order = intent.order_id
    invoice = f"inv-{order}"
    assert intent.gateway_reference == invoice
    fake.status[order] = ("PAID", 50400)
    paid = post("xendit", xendit_callback(order, "PAID", invoice_id=invoice), HTTP_X_CALLBACK_TOKEN=XENDIT_TOKEN)
    fake.status[order] = ("SETTLED", 50400)
    settled = post("xendit", xendit_callback(order, "SETTLED", invoice_id=invoice), HTTP_X_CALLBACK_TOKEN=XENDIT_TOKEN)
    assert (paid.status_code, settled.status_code) == (200, 200)
    assert JournalEntry.objects.filter(idempotency_key=f"donation:xendit:{invoice}:settled").count() == 1
    assert list(GatewayEvent.objects.order_by("id").values_list("outcome", flat=True)) == ["settled", "no_change"]
    assert Receipt.objects.count() == 1


def test_an_expired_xendit_invoice_expires_the_intent(post, fake, campaign):
    intent = start(campaign, gateway="xendit")
    fake.status[intent.order_id] = ("EXPIRED", 50400)
    callback = xendit_callback(intent.order_id, "EXPIRED", invoice_id=f"inv-{intent.order_id}")
    assert post("xendit", callback, HTTP_X_CALLBACK_TOKEN=XENDIT_TOKEN).status_code == 200
    intent.refresh_from_db()
    assert intent.state == "expired"
    assert intent.donation.state == "expired"
    assert JournalEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("notified", "confirmed"),
    [("50000.00", "50000.00"), ("50400.00", "50000.00"), ("50000.00", "50400.00"), ("50400.50", "50400.50")],
)
def test_an_amount_that_is_not_exactly_the_intents_goes_to_review_and_posts_nothing(
    post, fake, midtrans_intent, funding_log, notified, confirmed
):
    order = midtrans_intent.order_id
    fake.status[order] = ("settlement", confirmed)
    before = money_snapshot()
    response = post("midtrans", midtrans_notification(order, "settlement", gross_amount=notified))
    assert response.status_code == 200
    intent = PaymentIntent.objects.get(pk=midtrans_intent.pk)
    assert intent.in_review
    assert intent.state == "created"
    assert "amount mismatch" in intent.review_reason
    assert (JournalEntry.objects.count(), Receipt.objects.count()) == before[:2]
    assert ledger.balances() == before[2]
    assert GatewayEvent.objects.get().outcome == "amount_mismatch"
    assert f"payment held for review: order_id={order} amount mismatch expected=50400" in funding_log.text


def test_the_review_queue_lists_held_payments(post, fake, midtrans_intent, people):
    from lingkaran.funding import selectors

    fake.status[midtrans_intent.order_id] = ("settlement", "1.00")
    post("midtrans", midtrans_notification(midtrans_intent.order_id, "settlement", gross_amount="1.00"))
    assert [i.order_id for i in selectors.review_queue(people["finance"])] == [midtrans_intent.order_id]


def test_an_unknown_order_is_stored_then_answered_404(post, fake, funding_log):
    body = midtrans_notification("LK-261122-FFFFFFFFFF", "settlement")
    response = post("midtrans", body)
    assert response.status_code == 404
    event = GatewayEvent.objects.get()
    assert (event.verified, event.outcome, event.order_id) == (True, "unknown_order", "LK-261122-FFFFFFFFFF")
    assert JournalEntry.objects.count() == 0
    assert "reason=unknown_order order_id=LK-261122-FFFFFFFFFF" in funding_log.text


@pytest.mark.parametrize("body", [b"{not json", b"", b'"just a string"', b"\xff\xfe\x00garbage"])
def test_malformed_json_is_stored_and_answered_400(post, fake, midtrans_intent, funding_log, body):
    before = money_snapshot()
    response = post("midtrans", body)
    assert response.status_code == 400
    assert response.json() == {"status": "malformed"}
    event = GatewayEvent.objects.get()
    assert (event.verified, event.verification_error) == (False, "malformed")
    assert money_snapshot() == before
    assert "webhook refused: gateway=midtrans status=400 reason=malformed" in funding_log.text


def test_an_oversized_body_is_answered_413_without_reading_it(post, fake, midtrans_intent, funding_log):
    before = money_snapshot()
    big = b'{"order_id": "' + b"x" * (64 * 1024) + b'"}'
    response = post("midtrans", big)
    assert response.status_code == 413
    assert money_snapshot() == before
    event = GatewayEvent.objects.get()
    assert (event.verified, event.verification_error, event.raw_body) == (False, "body_too_large", "")
    assert "webhook refused: gateway=midtrans status=413 reason=body_too_large" in funding_log.text


def test_a_body_of_exactly_64_kib_is_read(post, fake):
    body = json.dumps({"padding": "x" * (64 * 1024 - 20)}).encode()
    body = body[: 64 * 1024 - 2] + b'"}' if len(body) > 64 * 1024 else body
    assert len(body) <= 64 * 1024
    assert post("midtrans", body).status_code == 400  # read and judged (malformed), not refused as too large


def test_a_stale_pending_after_settlement_is_recorded_and_ignored(post, fake, midtrans_intent, funding_log):
    order = midtrans_intent.order_id
    fake.status[order] = ("settlement", "50400.00")
    post("midtrans", midtrans_notification(order, "settlement"))
    before, calls = money_snapshot(), len(fake.calls)
    response = post("midtrans", midtrans_notification(order, "pending"))
    assert response.status_code == 200
    assert money_snapshot() == before
    assert len(fake.calls) == calls
    assert GatewayEvent.objects.get(gateway_status="pending").outcome == "ignored_stale"
    assert f"notification ignored: order_id={order}" in funding_log.text
    assert "says pending but the payment is already settled (out of order)" in funding_log.text


def test_money_waits_until_the_status_api_confirms(post, fake, midtrans_intent):
    order = midtrans_intent.order_id
    fake.status[order] = ("pending", "50400.00")  # the gateway's own API does not show the payment yet
    body = midtrans_notification(order, "settlement")
    assert post("midtrans", body).status_code == 200
    assert PaymentIntent.objects.get(pk=midtrans_intent.pk).state == "created"
    assert JournalEntry.objects.count() == 0
    event = GatewayEvent.objects.get()
    assert event.processed_at is None  # kept for another try
    fake.status[order] = ("settlement", "50400.00")
    assert post("midtrans", body).json() == {"status": "accepted_again"}  # the gateway's redelivery completes it
    assert PaymentIntent.objects.get(pk=midtrans_intent.pk).state == "settled"
    assert JournalEntry.objects.count() == 1


def test_a_status_api_outage_posts_nothing_and_the_sweep_completes_later(post, fake, midtrans_intent):
    order = midtrans_intent.order_id
    fake.status[order] = ("settlement", "50400.00")
    fake.down = True
    assert post("midtrans", midtrans_notification(order, "settlement")).status_code == 200
    assert JournalEntry.objects.count() == 0
    fake.down = False
    GatewayEvent.objects.update(received_at=GatewayEvent.objects.get().received_at - timedelta(hours=1))
    assert services.intake_sweep() == 1
    assert PaymentIntent.objects.get(pk=midtrans_intent.pk).state == "settled"
    assert services.intake_sweep() == 0


def test_money_arriving_after_expiry_goes_to_review(post, fake, midtrans_intent):
    order = midtrans_intent.order_id
    fake.status[order] = ("expire", "50400.00")
    post("midtrans", midtrans_notification(order, "expire"))
    fake.status[order] = ("settlement", "50400.00")
    post("midtrans", midtrans_notification(order, "settlement", transaction_id="second-attempt"))
    intent = PaymentIntent.objects.get(pk=midtrans_intent.pk)
    assert intent.state == "expired"
    assert intent.in_review
    assert JournalEntry.objects.count() == 0


def test_a_webhook_for_a_gateway_without_credentials_is_404(client, settings):
    settings.XENDIT_CALLBACK_TOKEN = ""
    assert client.post("/webhooks/xendit", data=b"{}", content_type="application/json").status_code == 404
    assert client.post("/webhooks/paypal", data=b"{}", content_type="application/json").status_code == 404
    assert GatewayEvent.objects.count() == 0


def test_webhooks_take_only_post(client):
    assert client.get("/webhooks/sandbox").status_code == 405


def test_secrets_in_headers_are_not_stored(post, fake, campaign):
    intent = start(campaign, gateway="xendit")
    fake.status[intent.order_id] = ("PAID", 50400)
    post(
        "xendit",
        xendit_callback(intent.order_id, "PAID", invoice_id=f"inv-{intent.order_id}"),
        HTTP_X_CALLBACK_TOKEN=XENDIT_TOKEN,
        HTTP_USER_AGENT="Xendit",
    )
    headers = GatewayEvent.objects.get().headers
    assert headers["x-callback-token"] == "[redacted]"
    assert headers["user-agent"] == "Xendit"
    assert XENDIT_TOKEN not in json.dumps(headers)


def test_finance_closes_a_review_with_a_note_and_nothing_is_posted(post, fake, midtrans_intent, people):
    from lingkaran.core.errors import Forbidden, InvalidInput
    from lingkaran.core.models import AuditEvent

    fake.status[midtrans_intent.order_id] = ("settlement", "1.00")
    post("midtrans", midtrans_notification(midtrans_intent.order_id, "settlement", gross_amount="1.00"))
    intent = PaymentIntent.objects.get(pk=midtrans_intent.pk)
    with pytest.raises(Forbidden):
        services.intent_review_close(actor=people["operator"], intent=intent, note="x")
    with pytest.raises(InvalidInput):
        services.intent_review_close(actor=people["finance"], intent=intent, note=" ")
    services.intent_review_close(actor=people["finance"], intent=intent, note="Rp 1 dikembalikan lewat dashboard")
    intent.refresh_from_db()
    assert not intent.in_review
    assert JournalEntry.objects.count() == 0
    event = AuditEvent.objects.get(action="funding.review_close")
    assert event.details["note"] == "Rp 1 dikembalikan lewat dashboard"


def test_the_sweep_and_charge_commands(fake, midtrans_intent):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("intake_sweep", stdout=out)
    call_command("pledges_charge", stdout=out)
    assert out.getvalue().splitlines() == [
        "0 notification(s) sent to processing; 0 refund(s) found finished",
        "0 monthly payment link(s) created",
    ]
