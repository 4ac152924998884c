"""Gateway notifications in the formats the gateways document, for replaying in tests.

Midtrans: the HTTP notification JSON (docs.midtrans.com, "HTTP(S) Notification / Webhooks"): strings throughout,
``gross_amount`` with two decimals, ``signature_key`` = SHA-512(order_id + status_code + gross_amount + server key).
Xendit: the invoice callback (docs.xendit.co, "Invoice callback"), sent with an ``x-callback-token`` header.
"""

from __future__ import annotations

import json

from lingkaran.funding.domain.notifications import midtrans_signature

MIDTRANS_KEY = "SB-Mid-server-TEST-only-0123456789"
XENDIT_TOKEN = "xnd-callback-token-TEST-only-abcdef"
XENDIT_SECRET = "xnd_development_TEST_only_secret"

STATUS_CODES = {
    "settlement": "200",
    "capture": "200",
    "pending": "201",
    "deny": "202",
    "cancel": "200",
    "expire": "407",
    "refund": "200",
}


def midtrans_notification(
    order_id: str,
    transaction_status: str,
    *,
    gross_amount: str = "50400.00",
    transaction_id: str = "9aed5972-5b6a-401e-894b-a32c91ed1a3a",
    fraud_status: str = "accept",
    server_key: str = MIDTRANS_KEY,
    signature: str | None = None,
    status_code: str | None = None,
) -> bytes:
    code = status_code or STATUS_CODES[transaction_status]
    body = {
        "va_numbers": [{"va_number": "12008045216123", "bank": "bca"}],
        "transaction_time": "2026-11-22 10:15:04",
        "transaction_status": transaction_status,
        "transaction_id": transaction_id,
        "status_message": "midtrans payment notification",
        "status_code": code,
        "signature_key": signature or midtrans_signature(order_id, code, gross_amount, server_key),
        "settlement_time": "2026-11-22 10:17:31" if transaction_status == "settlement" else None,
        "payment_type": "bank_transfer",
        "payment_amounts": [],
        "order_id": order_id,
        "merchant_id": "G141532850",
        "gross_amount": gross_amount,
        "fraud_status": fraud_status,
        "expiry_time": "2026-11-23 10:15:04",
        "currency": "IDR",
    }
    if body["settlement_time"] is None:
        del body["settlement_time"]
    return json.dumps(body).encode()


def midtrans_status_answer(order_id: str, transaction_status: str, *, gross_amount: str = "50400.00", **extra) -> dict:
    code = STATUS_CODES[transaction_status]
    return {
        "status_code": code,
        "status_message": "Success, transaction is found",
        "transaction_id": extra.get("transaction_id", "9aed5972-5b6a-401e-894b-a32c91ed1a3a"),
        "order_id": order_id,
        "gross_amount": gross_amount,
        "currency": "IDR",
        "payment_type": "bank_transfer",
        "transaction_time": "2026-11-22 10:15:04",
        "transaction_status": transaction_status,
        "fraud_status": "accept",
        "signature_key": midtrans_signature(order_id, code, gross_amount, MIDTRANS_KEY),
    }


def xendit_callback(
    external_id: str, status: str, *, invoice_id: str = "579c8d61f23fa4ca35e52da4", amount=50400, paid_amount=None
) -> bytes:
    body = {
        "id": invoice_id,
        "external_id": external_id,
        "user_id": "5781d19b2e2385880609791c",
        "is_high": False,
        "payment_method": "BANK_TRANSFER",
        "status": status,
        "merchant_name": "Lingkaran",
        "amount": amount,
        "bank_code": "BCA",
        "payer_email": "siti@example.id",
        "description": "Donation",
        "created": "2026-11-22T03:10:19.293Z",
        "updated": "2026-11-22T03:12:06.795Z",
        "currency": "IDR",
        "payment_channel": "BCA",
        "payment_destination": "880891384147",
    }
    if status in ("PAID", "SETTLED"):
        body.update(
            paid_amount=amount if paid_amount is None else paid_amount,
            paid_at="2026-11-22T03:12:06.795Z",
            adjusted_received_amount=amount,
            fees_paid_amount=0,
        )
    return json.dumps(body).encode()


def xendit_invoice_answer(external_id: str, status: str, *, invoice_id="579c8d61f23fa4ca35e52da4", amount=50400):
    answer = {
        "id": invoice_id,
        "external_id": external_id,
        "user_id": "5781d19b2e2385880609791c",
        "status": status,
        "merchant_name": "Lingkaran",
        "amount": amount,
        "currency": "IDR",
        "invoice_url": f"https://checkout-staging.xendit.co/web/{invoice_id}",
        "expiry_date": "2026-11-23T03:10:19.293Z",
    }
    if status in ("PAID", "SETTLED"):
        answer["paid_amount"] = amount
    return answer


def midtrans_refund_answer(order_id: str, *, refund_key: str, amount: int, gross_amount: int = 50_400, chargeback=1):
    """Midtrans's answer to ``POST /v2/{order_id}/refund`` when the refund is approved (its documented sample)."""
    return {
        "status_code": "200",
        "status_message": "Success, refund request is approved",
        "transaction_id": "447e846a-403e-47db-a5da-d7f3f06375d6",
        "order_id": order_id,
        "payment_type": "qris",
        "transaction_time": "2026-11-22 13:36:24",
        "transaction_status": "refund" if amount == gross_amount else "partial_refund",
        "gross_amount": f"{gross_amount}.00",
        "refund_chargeback_id": chargeback,
        "refund_amount": f"{amount}.00",
        "refund_key": refund_key,
    }


def xendit_refund_answer(invoice_id: str, *, reference_id: str, amount: int, status: str = "SUCCEEDED", **extra):
    """Xendit's refund object, as ``POST /refunds`` answers it."""
    answer = {
        "id": extra.get("refund_id", "rfd-6f4a377d-a201-437f-9119-f8b00cbbe857"),
        "payment_request_id": None,
        "invoice_id": invoice_id,
        "amount": amount,
        "payment_method_type": "EWALLET",
        "channel_code": "OVO",
        "currency": "IDR",
        "status": status,
        "reason": "REQUESTED_BY_CUSTOMER",
        "reference_id": reference_id,
        "failure_code": extra.get("failure_code"),
        "refund_fee_amount": None,
        "created": "2026-11-22T06:12:06.795Z",
        "updated": "2026-11-22T06:12:06.795Z",
        "metadata": extra.get("metadata"),
    }
    return answer


def xendit_refund_callback(refund: dict, event: str = "refund.succeeded") -> bytes:
    """Xendit's refund webhook (docs.xendit.co, "Refund webhook notification"): the event name and the refund
    object as ``GET /refunds/{id}`` returns it."""
    body = {
        "event": event,
        "business_id": "5f27a14a9bf05c73dd040bc8",
        "created": "2026-11-23T09:12:33.001Z",
        "data": refund,
    }
    return json.dumps(body).encode()


def xendit_error(error_code: str, message: str) -> dict:
    return {"error_code": error_code, "message": message}
