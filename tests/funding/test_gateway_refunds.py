"""Refunds at Midtrans and Xendit, end to end: the refund is posted in the ledger, then sent to the gateway's refund
API in its documented format, retried on a timeout with the same key (the gateway refunds once), and the gateway's
own refund id is recorded. The gateways are local fakes behind ``httpx.MockTransport`` that answer as documented
(no network); the donation is paid through the real webhook view first."""

from __future__ import annotations

import json

import httpx
import pytest

from lingkaran.funding import gateways, services
from lingkaran.funding.models import Refund
from lingkaran.ledger import selectors as ledger
from tests.funding.conftest import start
from tests.funding.payloads import (
    MIDTRANS_KEY,
    XENDIT_SECRET,
    XENDIT_TOKEN,
    midtrans_notification,
    midtrans_refund_answer,
    midtrans_status_answer,
    xendit_callback,
    xendit_error,
    xendit_invoice_answer,
    xendit_refund_answer,
)

pytestmark = pytest.mark.django_db


class FakeGateways:
    """Midtrans and Xendit as far as a paid donation and its refunds go. Refunds are kept by the caller's key, as the
    gateways do: the same key again is the same refund. ``timeouts`` makes the next refund calls time out *after*
    the gateway made the refund (the worst case for a retry)."""

    def __init__(self):
        self.paid: dict[str, int] = {}
        self.refunds: dict[str, dict] = {}
        self.refund_calls: list[httpx.Request] = []
        self.timeouts = 0
        self.xendit_refusal: str | None = None

    def _after_refund(self, request, answer):
        if self.timeouts:
            self.timeouts -= 1
            raise httpx.ReadTimeout("timed out", request=request)
        return answer

    def midtrans(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/snap/v1/transactions":
            order_id = json.loads(request.content)["transaction_details"]["order_id"]
            return httpx.Response(
                201, json={"token": f"tok-{order_id}", "redirect_url": f"https://snap.test/{order_id}"}
            )
        order_id = path.split("/")[2]
        if path.endswith("/status"):
            return httpx.Response(200, json=midtrans_status_answer(order_id, "settlement"))
        self.refund_calls.append(request)
        body = json.loads(request.content)
        key = body["refund_key"]
        if key not in self.refunds:
            self.refunds[key] = {"amount": body["amount"], "id": len(self.refunds) + 1}
        record = self.refunds[key]
        answer = midtrans_refund_answer(order_id, refund_key=key, amount=record["amount"], chargeback=record["id"])
        return self._after_refund(request, httpx.Response(200, json=answer))

    def xendit(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v2/invoices":
            order_id = json.loads(request.content)["external_id"]
            return httpx.Response(200, json=xendit_invoice_answer(order_id, "PENDING", invoice_id=f"inv-{order_id}"))
        if path.startswith("/v2/invoices/"):
            invoice_id = path.rsplit("/", 1)[1]
            order_id = invoice_id.removeprefix("inv-")
            return httpx.Response(200, json=xendit_invoice_answer(order_id, "PAID", invoice_id=invoice_id))
        self.refund_calls.append(request)
        if self.xendit_refusal:
            return httpx.Response(400, json=xendit_error(self.xendit_refusal, "Refund is not supported"))
        body = json.loads(request.content)
        key = request.headers["Idempotency-key"]
        if key not in self.refunds:
            self.refunds[key] = {"amount": body["amount"], "id": f"rfd-{len(self.refunds) + 1:04d}"}
        record = self.refunds[key]
        answer = xendit_refund_answer(
            body["invoice_id"], reference_id=body["reference_id"], amount=record["amount"], refund_id=record["id"]
        )
        return self._after_refund(request, httpx.Response(200, json=answer))


@pytest.fixture
def fake(settings, monkeypatch):
    settings.MIDTRANS_SERVER_KEY = MIDTRANS_KEY
    settings.XENDIT_SECRET_KEY = XENDIT_SECRET
    settings.XENDIT_CALLBACK_TOKEN = XENDIT_TOKEN
    gateway = FakeGateways()
    monkeypatch.setitem(gateways.transport_overrides, "midtrans", httpx.MockTransport(gateway.midtrans))
    monkeypatch.setitem(gateways.transport_overrides, "xendit", httpx.MockTransport(gateway.xendit))
    return gateway


@pytest.fixture
def paid(client, campaign, fake, django_capture_on_commit_callbacks):
    """``paid("xendit")``: a Rp 50.400 donation paid at that gateway, its notification through the webhook view."""

    def run(gateway: str):
        intent = start(campaign, gateway=gateway)
        if gateway == "xendit":
            body = xendit_callback(intent.order_id, "PAID", invoice_id=intent.gateway_reference)
            headers = {"HTTP_X_CALLBACK_TOKEN": XENDIT_TOKEN}
        else:
            body = midtrans_notification(intent.order_id, "settlement")
            headers = {}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/webhooks/{gateway}", data=body, content_type="application/json", **headers)
        assert response.status_code == 200
        intent.refresh_from_db()
        assert intent.state == "settled"
        return intent

    return run


def refund(people, intent, amount, capture) -> Refund:
    request = services.refund_request(actor=people["finance"], intent=intent, amount=amount, reason="Dobel bayar")
    with capture(execute=True):
        services.refund_execute(actor=people["finance"], refund=request)
    request.refresh_from_db()
    return request


def test_a_xendit_refund_goes_through_its_refund_api_once_despite_a_timeout(
    people, campaign, paid, fake, django_capture_on_commit_callbacks
):
    intent = paid("xendit")
    fake.timeouts = 1  # Xendit makes the refund, but its answer is lost: the task retries
    done = refund(people, intent, 8_400, django_capture_on_commit_callbacks)
    assert (done.state, done.gateway_state, done.gateway_reference) == ("executed", "done", "rfd-0001")
    assert len(fake.refund_calls) == 2
    assert {call.headers["Idempotency-key"] for call in fake.refund_calls} == {f"refund:{done.pk}"}
    assert len(fake.refunds) == 1  # refunded once at Xendit
    sent = json.loads(fake.refund_calls[0].content)
    assert (sent["invoice_id"], sent["reference_id"], sent["amount"]) == (
        intent.gateway_reference,
        f"refund:{done.pk}",
        8_400,
    )
    assert ledger.balance_of(f"liability:pool:campaign:{campaign.pk}") == 42_000
    assert ledger.verify().clean
    # Executing it again sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_execute(actor=people["finance"], refund=done)
    assert len(fake.refund_calls) == 2


def test_a_xendit_payment_its_channel_cannot_refund_is_left_to_finance(
    people, paid, fake, django_capture_on_commit_callbacks
):
    intent = paid("xendit")
    fake.xendit_refusal = "REFUND_NOT_SUPPORTED"
    done = refund(people, intent, 50_400, django_capture_on_commit_callbacks)
    assert (done.state, done.gateway_state) == ("executed", "manual")
    assert "REFUND_NOT_SUPPORTED" in done.gateway_error
    assert fake.refunds == {}


def test_a_midtrans_refund_records_the_refund_chargeback_id(people, paid, fake, django_capture_on_commit_callbacks):
    intent = paid("midtrans")
    fake.timeouts = 1
    first = refund(people, intent, 10_000, django_capture_on_commit_callbacks)
    second = refund(people, intent, 5_000, django_capture_on_commit_callbacks)
    assert [(r.gateway_state, r.gateway_reference) for r in (first, second)] == [("done", "1"), ("done", "2")]
    assert [json.loads(c.content)["refund_key"] for c in fake.refund_calls] == [
        f"refund-{first.pk}",
        f"refund-{first.pk}",
        f"refund-{second.pk}",
    ]
    assert {k: r["amount"] for k, r in fake.refunds.items()} == {
        f"refund-{first.pk}": 10_000,
        f"refund-{second.pk}": 5_000,
    }
    intent.refresh_from_db()
    assert (intent.state, intent.refunded_amount) == ("partially_refunded", 15_000)
