"""The gateway adapters against the gateways' documented formats: notifications replayed byte for byte, and the
create, status and refund APIs answered by ``httpx.MockTransport`` (the external service is mocked; our code runs)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from lingkaran.funding.domain.intents import PaymentState
from lingkaran.funding.gateways import (
    GatewayRetryable,
    GatewayTerminal,
    NotificationRejected,
    PaymentRequest,
)
from lingkaran.funding.gateways.midtrans import MidtransGateway
from lingkaran.funding.gateways.xendit import XenditGateway
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

ORDER = "LK-261122-0A1B2C3D4E"
REQUEST = PaymentRequest(
    order_id=ORDER,
    amount=50_400,
    description="Donation: Ojek Penajam terlindungi",
    payer_name="Siti Aminah",
    payer_email="siti@example.id",
    finish_url="https://lingkaran.example.id/donations/return/LK-261122-0A1B2C3D4E/",
)


def midtrans(handler) -> MidtransGateway:
    return MidtransGateway(server_key=MIDTRANS_KEY, transport=httpx.MockTransport(handler))


def xendit(handler=None) -> XenditGateway:
    return XenditGateway(
        secret_key=XENDIT_SECRET,
        callback_token=XENDIT_TOKEN,
        transport=httpx.MockTransport(handler or (lambda r: httpx.Response(500))),
    )


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


# --- Midtrans notifications -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("settlement", PaymentState.SETTLED),
        ("pending", PaymentState.PENDING),
        ("expire", PaymentState.EXPIRED),
        ("deny", PaymentState.FAILED),
        ("cancel", PaymentState.CANCELLED),
    ],
)
def test_midtrans_notification_with_a_correct_signature_is_verified(status, state):
    event = midtrans(None).verify_notification(midtrans_notification(ORDER, status), {})
    assert event.order_id == ORDER
    assert event.state == state
    assert event.gateway_status == status
    assert event.gross_amount == "50400.00"  # as received, not reformatted
    assert event.transaction_id == "9aed5972-5b6a-401e-894b-a32c91ed1a3a"
    assert event.event_key == f"{ORDER}:9aed5972-5b6a-401e-894b-a32c91ed1a3a:{status}:{event.event_key.split(':')[3]}"


def test_midtrans_signature_is_checked_over_the_exact_received_strings():
    # Signed over "50400.00"; the same amount written "50400" must not verify with that signature.
    signed = midtrans_notification(ORDER, "settlement", gross_amount="50400.00")
    data = json.loads(signed)
    data["gross_amount"] = "50400"
    with pytest.raises(NotificationRejected) as excinfo:
        midtrans(None).verify_notification(json.dumps(data).encode(), {})
    assert excinfo.value.code == "signature_invalid"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.update(gross_amount="5040000.00"),
        lambda d: d.update(order_id="LK-261122-FFFFFFFFFF"),
        lambda d: d.update(status_code="201"),
        lambda d: d.update(signature_key="0" * 128),
    ],
)
def test_a_forged_midtrans_notification_is_rejected(tamper):
    data = json.loads(midtrans_notification(ORDER, "settlement"))
    tamper(data)
    with pytest.raises(NotificationRejected) as excinfo:
        midtrans(None).verify_notification(json.dumps(data).encode(), {})
    assert excinfo.value.code == "signature_invalid"


def test_a_notification_signed_with_another_server_key_is_rejected():
    body = midtrans_notification(ORDER, "settlement", server_key="SB-Mid-server-someone-else")
    with pytest.raises(NotificationRejected, match="signature_invalid"):
        midtrans(None).verify_notification(body, {})


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "malformed"),
        (b"[1, 2]", "malformed"),
        (b"\xff\xfe", "malformed"),
        (json.dumps({"order_id": ORDER}).encode(), "malformed"),
        (
            json.dumps(
                {"order_id": ORDER, "status_code": 200, "gross_amount": "1", "transaction_status": "x"}
            ).encode(),
            "malformed",
        ),
        (
            json.dumps(
                {"order_id": ORDER, "status_code": "200", "gross_amount": "1.00", "transaction_status": "settlement"}
            ).encode(),
            "signature_missing",
        ),
    ],
)
def test_malformed_midtrans_notifications(body, code):
    with pytest.raises(NotificationRejected) as excinfo:
        midtrans(None).verify_notification(body, {})
    assert excinfo.value.code == code


def test_capture_is_only_paid_when_the_fraud_check_accepts_it():
    gateway = midtrans(None)
    accepted = gateway.verify_notification(midtrans_notification(ORDER, "capture", fraud_status="accept"), {})
    challenged = gateway.verify_notification(midtrans_notification(ORDER, "capture", fraud_status="challenge"), {})
    assert accepted.state == PaymentState.SETTLED
    assert challenged.state == PaymentState.PENDING


# --- Midtrans API calls ---------------------------------------------------------------------------------------------


def test_midtrans_create_posts_a_snap_transaction_with_basic_auth():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers["Authorization"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(
            201, json={"token": "66e4fa55-fdac-4ef9", "redirect_url": "https://app.sandbox.midtrans.com/snap/v4/x"}
        )

    created = midtrans(handler).create_payment(REQUEST)
    assert seen["url"] == "https://app.sandbox.midtrans.com/snap/v1/transactions"
    assert seen["auth"] == basic(MIDTRANS_KEY)
    assert seen["body"]["transaction_details"] == {"order_id": ORDER, "gross_amount": 50400}
    assert seen["body"]["callbacks"]["finish"] == REQUEST.finish_url
    assert created.reference == "66e4fa55-fdac-4ef9"
    assert created.payment_url == "https://app.sandbox.midtrans.com/snap/v4/x"


def test_midtrans_production_hosts():
    urls = []

    def handler(request):
        urls.append(str(request.url))
        return httpx.Response(200, json=midtrans_status_answer(ORDER, "settlement"))

    MidtransGateway(server_key="k", is_production=True, transport=httpx.MockTransport(handler)).get_status(ORDER)
    assert urls == [f"https://api.midtrans.com/v2/{ORDER}/status"]


def test_midtrans_status_api_confirms_a_settlement():
    def handler(request):
        assert request.url.path == f"/v2/{ORDER}/status"
        assert request.url.host == "api.sandbox.midtrans.com"
        assert request.headers["Authorization"] == basic(MIDTRANS_KEY)
        return httpx.Response(200, json=midtrans_status_answer(ORDER, "settlement"))

    status = midtrans(handler).get_status(ORDER)
    assert status.state == PaymentState.SETTLED
    assert status.gross_amount == "50400.00"


def test_midtrans_status_of_an_unknown_transaction_is_terminal():
    answer = {"status_code": "404", "status_message": "Transaction doesn't exist."}
    with pytest.raises(GatewayTerminal, match="does not exist"):
        midtrans(lambda r: httpx.Response(200, json=answer)).get_status(ORDER)


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        (lambda r: httpx.Response(503, text="Service Unavailable"), GatewayRetryable),
        (lambda r: httpx.Response(502, json={"status_message": "bad gateway"}), GatewayRetryable),
        (lambda r: httpx.Response(429, json={}), GatewayRetryable),
        (lambda r: httpx.Response(200, text="<html>proxy</html>"), GatewayRetryable),
        (lambda r: httpx.Response(401, json={"status_message": "Unknown Merchant server_key/id"}), GatewayTerminal),
        (lambda r: httpx.Response(404, text="not found"), GatewayTerminal),
    ],
)
def test_midtrans_errors_are_sorted_into_retryable_and_terminal(handler, error):
    with pytest.raises(error):
        midtrans(handler).get_status(ORDER)


def test_a_timeout_is_retryable():
    def handler(request):
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(GatewayRetryable, match="timed out"):
        midtrans(handler).get_status(ORDER)


def test_a_connection_error_is_retryable():
    def handler(request):
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(GatewayRetryable, match="cannot reach"):
        midtrans(handler).create_payment(REQUEST)


def test_midtrans_refund_sends_the_documented_request_and_keeps_the_refund_id():
    requests = []

    def handler(request):
        requests.append(request)
        return httpx.Response(
            200, json=midtrans_refund_answer(ORDER, refund_key="refund-7", amount=10_000, chargeback=31)
        )

    result = midtrans(handler).refund(order_id=ORDER, reference="", amount=10_000, key="refund:7", reason="ganda")
    (request,) = requests
    assert (request.method, request.url.path) == ("POST", f"/v2/{ORDER}/refund")
    assert request.headers["Authorization"] == basic(MIDTRANS_KEY)
    # Our key in the characters Midtrans accepts; the same key on every retry makes Midtrans refund once.
    assert json.loads(request.content) == {"refund_key": "refund-7", "amount": 10000, "reason": "ganda"}
    assert (result.reference, result.manual, result.pending) == ("31", False, False)


def test_a_midtrans_refund_retried_after_a_timeout_uses_the_same_key():
    keys = []

    def handler(request):
        keys.append(json.loads(request.content)["refund_key"])
        if len(keys) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=midtrans_refund_answer(ORDER, refund_key=keys[-1], amount=10_000))

    gateway = midtrans(handler)
    with pytest.raises(GatewayRetryable):
        gateway.refund(order_id=ORDER, reference="", amount=10_000, key="refund:7", reason="r")
    assert gateway.refund(order_id=ORDER, reference="", amount=10_000, key="refund:7", reason="r").reference == "1"
    assert keys == ["refund-7", "refund-7"]


@pytest.mark.parametrize("http_status", [200, 412])
def test_a_midtrans_refund_it_cannot_make_is_left_to_finance(http_status):
    answer = {"status_code": "412", "status_message": "Merchant cannot modify the status of the transaction"}
    result = midtrans(lambda r: httpx.Response(http_status, json=answer)).refund(
        order_id=ORDER, reference="", amount=1, key="k", reason="r"
    )
    assert result.manual
    assert "cannot modify" in result.detail


@pytest.mark.parametrize(
    ("http_status", "answer", "error"),
    [
        (200, {"status_code": "404", "status_message": "Transaction doesn't exist."}, GatewayTerminal),
        (401, {"status_code": "401", "error_messages": ["Access denied"]}, GatewayTerminal),
        (200, {"status_code": "500", "status_message": "Internal server error"}, GatewayRetryable),
        (503, {"status_code": "503"}, GatewayRetryable),
    ],
)
def test_midtrans_refund_errors_are_sorted(http_status, answer, error):
    with pytest.raises(error):
        midtrans(lambda r: httpx.Response(http_status, json=answer)).refund(
            order_id=ORDER, reference="", amount=1, key="k", reason="r"
        )


# --- Xendit ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "state"), [("PAID", PaymentState.SETTLED), ("EXPIRED", PaymentState.EXPIRED)])
def test_xendit_callback_with_the_right_token_is_verified(status, state):
    event = xendit().verify_notification(xendit_callback(ORDER, status), {"X-Callback-Token": XENDIT_TOKEN})
    assert event.order_id == ORDER
    assert event.state == state
    assert event.transaction_id == "579c8d61f23fa4ca35e52da4"
    assert event.event_key == f"579c8d61f23fa4ca35e52da4:{status}"
    assert event.gross_amount == "50400"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"x-callback-token": "wrong"}, "token_invalid"),
        ({"x-callback-token": XENDIT_TOKEN + "x"}, "token_invalid"),
        ({}, "token_missing"),
    ],
)
def test_xendit_callback_with_a_wrong_or_missing_token_is_rejected(headers, code):
    with pytest.raises(NotificationRejected) as excinfo:
        xendit().verify_notification(xendit_callback(ORDER, "PAID"), headers)
    assert excinfo.value.code == code


def test_xendit_create_posts_an_invoice():
    seen = {}

    def handler(request):
        seen.update(url=str(request.url), auth=request.headers["Authorization"], body=json.loads(request.content))
        return httpx.Response(200, json=xendit_invoice_answer(ORDER, "PENDING"))

    created = xendit(handler).create_payment(REQUEST)
    assert seen["url"] == "https://api.xendit.co/v2/invoices"
    assert seen["auth"] == basic(XENDIT_SECRET)
    assert seen["body"]["external_id"] == ORDER
    assert seen["body"]["amount"] == 50400
    assert seen["body"]["payer_email"] == "siti@example.id"
    assert seen["body"]["success_redirect_url"] == REQUEST.finish_url
    assert created.reference == "579c8d61f23fa4ca35e52da4"
    assert created.payment_url.endswith("/579c8d61f23fa4ca35e52da4")


def test_xendit_status_reads_the_invoice():
    def handler(request):
        assert request.url.path == "/v2/invoices/579c8d61f23fa4ca35e52da4"
        return httpx.Response(200, json=xendit_invoice_answer(ORDER, "PAID"))

    status = xendit(handler).get_status(ORDER, "579c8d61f23fa4ca35e52da4")
    assert status.state == PaymentState.SETTLED
    assert status.gross_amount == "50400"


def test_xendit_status_of_another_order_is_terminal():
    answer = xendit_invoice_answer("LK-261122-FFFFFFFFFF", "PAID")
    with pytest.raises(GatewayTerminal, match="another order"):
        xendit(lambda r: httpx.Response(200, json=answer)).get_status(ORDER, "579c8d61f23fa4ca35e52da4")


def test_xendit_refund_sends_the_documented_request_with_an_idempotency_key():
    requests = []

    def handler(request):
        requests.append(request)
        body = json.loads(request.content)
        return httpx.Response(
            200, json=xendit_refund_answer(body["invoice_id"], reference_id=body["reference_id"], amount=body["amount"])
        )

    result = xendit(handler).refund(
        order_id=ORDER, reference="579c8d61f23fa4ca35e52da4", amount=10_000, key="refund:7", reason="Dobel bayar"
    )
    (request,) = requests
    assert (request.method, request.url.path) == ("POST", "/refunds")
    assert request.headers["Authorization"] == basic(XENDIT_SECRET)
    assert request.headers["Idempotency-key"] == "refund:7"
    assert json.loads(request.content) == {
        "invoice_id": "579c8d61f23fa4ca35e52da4",
        "reference_id": "refund:7",
        "amount": 10000,
        "currency": "IDR",
        "reason": "REQUESTED_BY_CUSTOMER",
        "metadata": {"order_id": ORDER, "note": "Dobel bayar"},
    }
    assert (result.reference, result.manual, result.pending) == (
        "rfd-6f4a377d-a201-437f-9119-f8b00cbbe857",
        False,
        False,
    )


def test_a_pending_xendit_refund_is_accepted_and_in_progress():
    answer = xendit_refund_answer("inv", reference_id="refund:7", amount=1, status="PENDING")
    result = xendit(lambda r: httpx.Response(200, json=answer)).refund(
        order_id=ORDER, reference="inv", amount=1, key="refund:7", reason="r"
    )
    assert (result.pending, result.manual) == (True, False)


@pytest.mark.parametrize("code", ["REFUND_NOT_SUPPORTED", "PARTIAL_REFUND_NOT_SUPPORTED"])
def test_a_xendit_refund_the_channel_cannot_make_is_left_to_finance(code):
    answer = xendit_error(code, "Refund is not supported for this payment method")
    result = xendit(lambda r: httpx.Response(400, json=answer)).refund(
        order_id=ORDER, reference="inv", amount=1, key="k", reason="r"
    )
    assert result.manual
    assert code in result.detail


@pytest.mark.parametrize(
    ("http_status", "answer", "error"),
    [
        (400, xendit_error("MAXIMUM_REFUND_AMOUNT_REACHED", "too much"), GatewayTerminal),
        (403, xendit_error("INELIGIBLE_TRANSACTION", "not paid"), GatewayTerminal),
        (400, xendit_error("REFUND_IN_PROGRESS", "wait"), GatewayRetryable),
        (
            200,
            xendit_refund_answer("inv", reference_id="k", amount=1, status="FAILED", failure_code="EXPIRED"),
            GatewayTerminal,
        ),
        (200, xendit_refund_answer("inv", reference_id="another", amount=1), GatewayTerminal),
        (502, {"message": "bad gateway"}, GatewayRetryable),
    ],
)
def test_xendit_refund_errors_are_sorted(http_status, answer, error):
    with pytest.raises(error):
        xendit(lambda r: httpx.Response(http_status, json=answer)).refund(
            order_id=ORDER, reference="inv", amount=1, key="k", reason="r"
        )


def test_a_xendit_refund_needs_the_invoice_id():
    with pytest.raises(GatewayTerminal, match="no invoice id"):
        xendit().refund(order_id=ORDER, reference="", amount=1, key="k", reason="r")
