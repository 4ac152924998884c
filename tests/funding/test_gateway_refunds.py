"""Refunds at Midtrans and Xendit, end to end: the refund is posted in the ledger, then sent to the gateway's refund
API in its documented format, retried on a timeout with the same key (the gateway refunds once), and the gateway's
own refund id is recorded. The gateways are local fakes behind ``httpx.MockTransport`` that answer as documented
(no network); the donation is paid through the real webhook view first."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from lingkaran.core.models import AuditEvent
from lingkaran.funding import gateways, services, tasks
from lingkaran.funding.models import GatewayEvent, Refund
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
    xendit_refund_callback,
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
        self.xendit_refund_status = "SUCCEEDED"  # what POST /refunds answers; PENDING: Xendit is carrying it out
        self.xendit_answers: dict[str, dict] = {}  # refund id → the refund object GET /refunds/{id} returns

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
        if request.method == "GET" and path.startswith("/refunds/"):
            refund_id = path.rsplit("/", 1)[1]
            if refund_id not in self.xendit_answers:
                return httpx.Response(404, json=xendit_error("DATA_NOT_FOUND", "Refund not found"))
            return httpx.Response(200, json=self.xendit_answers[refund_id])
        self.refund_calls.append(request)
        if self.xendit_refusal:
            return httpx.Response(400, json=xendit_error(self.xendit_refusal, "Refund is not supported"))
        body = json.loads(request.content)
        key = request.headers["Idempotency-key"]
        if key not in self.refunds:
            self.refunds[key] = {"amount": body["amount"], "id": f"rfd-{len(self.refunds) + 1:04d}"}
        record = self.refunds[key]
        answer = xendit_refund_answer(
            body["invoice_id"],
            reference_id=body["reference_id"],
            amount=record["amount"],
            refund_id=record["id"],
            status=self.xendit_refund_status,
        )
        self.xendit_answers.setdefault(record["id"], answer)
        return self._after_refund(request, httpx.Response(200, json=answer))

    def xendit_refund_ends(self, refund_id: str, status: str, **changes) -> dict:
        """Xendit finishes a refund it was carrying out: its refund API says so from now on."""
        self.xendit_answers[refund_id] = {**self.xendit_answers[refund_id], "status": status, **changes}
        return self.xendit_answers[refund_id]


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


def _refund_webhook(client, capture, body: bytes, token: str = XENDIT_TOKEN):
    with capture(execute=True):
        return client.post("/webhooks/xendit", data=body, content_type="application/json", HTTP_X_CALLBACK_TOKEN=token)


def _event_outcomes() -> list[str]:
    return list(GatewayEvent.objects.filter(gateway_status__startswith="refund.").values_list("outcome", flat=True))


def test_a_xendit_refund_still_in_progress_is_finished_by_its_notification_once(
    client, people, campaign, paid, fake, django_capture_on_commit_callbacks
):
    intent = paid("xendit")
    fake.xendit_refund_status = "PENDING"
    done = refund(people, intent, 8_400, django_capture_on_commit_callbacks)
    assert (done.gateway_state, done.gateway_reference) == ("accepted", "rfd-0001")

    # The notification comes before the refund API shows the end: not trusted yet, tried again later.
    early = xendit_refund_callback(fake.xendit_answers["rfd-0001"] | {"status": "SUCCEEDED"})
    assert _refund_webhook(client, django_capture_on_commit_callbacks, early).status_code == 200
    done.refresh_from_db()
    assert done.gateway_state == "accepted"
    assert GatewayEvent.objects.filter(gateway_status="refund.succeeded", processed_at__isnull=True).count() == 1

    body = xendit_refund_callback(fake.xendit_refund_ends("rfd-0001", "SUCCEEDED"))
    for _delivery in range(3):  # delivered again, and again: one event, processed once
        assert _refund_webhook(client, django_capture_on_commit_callbacks, body).status_code == 200
    done.refresh_from_db()
    assert (done.state, done.gateway_state, done.gateway_error) == ("executed", "done", "")
    assert _event_outcomes() == ["refund_done"]
    assert GatewayEvent.objects.get(gateway_status="refund.succeeded").deliveries == 4
    # The money moved once, when the refund was executed; the notification posts nothing.
    assert ledger.balance_of(f"liability:pool:campaign:{campaign.pk}") == 42_000
    assert ledger.verify().clean
    assert AuditEvent.objects.filter(action="funding.refund_gateway_result", object_id=str(done.pk)).count() == 1


def test_a_xendit_refund_that_fails_at_the_gateway_is_left_to_finance_with_its_failure_code(
    client, people, paid, fake, django_capture_on_commit_callbacks
):
    intent = paid("xendit")
    fake.xendit_refund_status = "PENDING"
    done = refund(people, intent, 50_400, django_capture_on_commit_callbacks)
    answer = fake.xendit_refund_ends("rfd-0001", "FAILED", failure_code="ACCOUNT_NOT_FOUND")
    response = _refund_webhook(
        client, django_capture_on_commit_callbacks, xendit_refund_callback(answer, "refund.failed")
    )
    assert response.status_code == 200
    done.refresh_from_db()
    assert (done.state, done.gateway_state) == ("executed", "failed")
    assert "ACCOUNT_NOT_FOUND" in done.gateway_error
    # A late "succeeded" for the same refund cannot turn a finished refund around.
    late = xendit_refund_callback({**answer, "status": "SUCCEEDED"}, "refund.succeeded")
    assert _refund_webhook(client, django_capture_on_commit_callbacks, late).status_code == 200
    done.refresh_from_db()
    assert done.gateway_state == "failed"
    assert sorted(_event_outcomes()) == ["no_change", "refund_failed"]


def test_refund_notifications_that_are_forged_or_not_ours_change_nothing(
    client, people, paid, fake, django_capture_on_commit_callbacks, caplog
):
    intent = paid("xendit")
    fake.xendit_refund_status = "PENDING"
    done = refund(people, intent, 8_400, django_capture_on_commit_callbacks)
    answer = fake.xendit_refund_ends("rfd-0001", "SUCCEEDED")

    forged = _refund_webhook(client, django_capture_on_commit_callbacks, xendit_refund_callback(answer), "wrong")
    assert forged.status_code == 401
    unknown = xendit_refund_callback({**answer, "id": "rfd-9999", "reference_id": "refund:987654"})
    assert _refund_webhook(client, django_capture_on_commit_callbacks, unknown).status_code == 404
    assert "reason=unknown_refund" in caplog.text
    not_a_refund = xendit_refund_callback({**answer, "reference_id": "order-1"})
    assert _refund_webhook(client, django_capture_on_commit_callbacks, not_a_refund).status_code == 404
    malformed = json.dumps({"event": "refund.succeeded", "data": "nope"}).encode()
    assert _refund_webhook(client, django_capture_on_commit_callbacks, malformed).status_code == 400
    # Our refund's key, but a refund id the gateway does not know: the refund API is asked and says no.
    stranger = xendit_refund_callback({**answer, "id": "rfd-0404"})
    assert _refund_webhook(client, django_capture_on_commit_callbacks, stranger).status_code == 200
    assert GatewayEvent.objects.get(transaction_id="rfd-0404").outcome == "unconfirmed"
    done.refresh_from_db()
    assert done.gateway_state == "accepted"


def test_the_sweep_asks_xendit_about_refunds_whose_end_was_never_notified(
    people, paid, fake, django_capture_on_commit_callbacks
):
    intent = paid("xendit")
    fake.xendit_refund_status = "PENDING"
    done = refund(people, intent, 8_400, django_capture_on_commit_callbacks)
    assert tasks.intake_sweep() == 0  # accepted a moment ago: not asked yet
    Refund.objects.filter(pk=done.pk).update(executed_at=timezone.now() - timedelta(hours=2))
    assert tasks.intake_sweep() == 0  # still PENDING at Xendit
    fake.xendit_refund_ends("rfd-0001", "SUCCEEDED")
    assert tasks.intake_sweep() == 1
    done.refresh_from_db()
    assert done.gateway_state == "done"
    assert tasks.intake_sweep() == 0


def test_the_sweep_command_also_finishes_refunds_never_notified(people, paid, fake, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    intent = paid("xendit")
    fake.xendit_refund_status = "PENDING"
    done = refund(people, intent, 8_400, django_capture_on_commit_callbacks)
    fake.xendit_refund_ends("rfd-0001", "FAILED", failure_code="INSUFFICIENT_BALANCE")
    call_command("intake_sweep", "--refunds-older-than-minutes", "0")
    done.refresh_from_db()
    assert (done.gateway_state, "INSUFFICIENT_BALANCE" in done.gateway_error) == ("failed", True)
