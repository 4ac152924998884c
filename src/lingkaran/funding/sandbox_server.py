"""The sandbox gateway's own side: what a real gateway does on its servers, built in so the platform runs end to end
with no account anywhere. It speaks the Midtrans protocol (Snap create, status, refund, signed HTTP notifications)
and keeps its own tables (``SandboxPayment``, ``SandboxDelivery``); it never reads the platform's tables.

Like a real gateway it is unreliable in the ways intake must survive:

- every notification is retried with exponential backoff until the site answers 2xx (at most
  ``LINGKARAN_SANDBOX_MAX_ATTEMPTS`` deliveries);
- with ``LINGKARAN_SANDBOX_DUPLICATE_PERCENT`` chance a notification is delivered twice;
- with ``LINGKARAN_SANDBOX_OUT_OF_ORDER_PERCENT`` chance a payment's ``pending`` notification is held back and
  delivered after its final one (``settlement``, ``expire`` or ``cancel``).

Deliveries go through ``funding.sandbox_deliver`` (Celery), in-process by default (see ``gateways/sandbox.py``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
import secrets
import uuid
from datetime import datetime
from functools import partial

import httpx
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from lingkaran.funding.domain.donors import mask_email, mask_name
from lingkaran.funding.domain.notifications import gross_amount_text, midtrans_signature
from lingkaran.funding.gateways.sandbox import site_transport, site_url
from lingkaran.funding.models import SandboxDelivery, SandboxPayment

MERCHANT_ID = "LINGKARAN-SANDBOX"
STATUS_CODES = {
    "pending": "201",
    "settlement": "200",
    "capture": "200",
    "deny": "202",
    "cancel": "200",
    "expire": "407",
    "refund": "200",
    "partial_refund": "200",
}
FINAL = {"settlement", "expire", "cancel", "deny"}
# channel -> (payment_type, label)
CHANNELS = {
    "bca": ("bank_transfer", "BCA Virtual Account"),
    "bni": ("bank_transfer", "BNI Virtual Account"),
    "bri": ("bank_transfer", "BRI Virtual Account"),
    "mandiri": ("echannel", "Mandiri Bill Payment"),
    "qris": ("qris", "QRIS"),
    "gopay": ("gopay", "GoPay"),
    "ovo": ("ewallet", "OVO"),
    "dana": ("ewallet", "DANA"),
}
VA_PREFIX = {"bca": "12008", "bni": "8808", "bri": "26215", "mandiri": "70012"}
# Midtrans refunds QRIS and e-wallet payments through its API; a bank transfer is returned by the merchant.
REFUNDABLE_CHANNELS = {"qris", "gopay", "ovo", "dana"}
REFUND_KEY = re.compile(r"[A-Za-z0-9_-]{1,100}")
DELIVERED, RETRY, GAVE_UP, SKIPPED = "delivered", "retry", "gave_up", "skipped"
_random = random.Random()


class SandboxError(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


def _time(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


# --- Snap: create -----------------------------------------------------------------------------------------------


def snap_create(*, order_id: str, amount, customer_name: str, customer_email: str, item_name: str, finish_url: str):
    if not isinstance(order_id, str) or not order_id or len(order_id) > 50:
        raise SandboxError(400, "transaction_details.order_id is required (at most 50 characters)")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise SandboxError(400, "transaction_details.gross_amount must be a positive whole number")
    existing = SandboxPayment.objects.filter(order_id=order_id).first()
    if existing is not None:
        if existing.status in ("created", "pending") and existing.amount == amount:
            return existing
        raise SandboxError(406, "order_id has been paid and utilized, please use another order ID")
    try:
        with transaction.atomic():
            return SandboxPayment.objects.create(
                order_id=order_id,
                token=secrets.token_urlsafe(24),
                transaction_id=str(uuid.uuid4()),
                amount=amount,
                # Kept masked: the platform's database holds no personal data in clear, not even the sandbox's.
                customer_name=mask_name(customer_name or "")[:150],
                customer_email=mask_email(customer_email or "")[:254],
                item_name=(item_name or "")[:100],
                finish_url=(finish_url or "")[:500],
            )
    except IntegrityError:
        return SandboxPayment.objects.get(order_id=order_id)


# --- The payer's actions on the hosted page ------------------------------------------------------------------------


def _va_number(payment: SandboxPayment, channel: str) -> str:
    digits = str(int(hashlib.sha256(payment.transaction_id.encode()).hexdigest(), 16))[:11]
    return VA_PREFIX[channel] + digits


def choose_channel(token: str, channel: str) -> SandboxPayment:
    if channel not in CHANNELS:
        raise SandboxError(400, "unknown payment channel")
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(token=token)
        if payment.status != "created":
            return payment
        payment.payment_type = CHANNELS[channel][0]
        payment.channel = channel
        payment.va_number = _va_number(payment, channel) if channel in VA_PREFIX else ""
        payment.status = "pending"
        payment.transaction_time = timezone.now()
        payment.save(update_fields=["payment_type", "channel", "va_number", "status", "transaction_time"])
        _notify(payment)
    return payment


def act(token: str, action: str) -> SandboxPayment:
    """``pay``, ``expire`` or ``cancel`` a payment (what the payer, or time, does)."""
    moves = {
        "pay": ({"pending"}, "settlement"),
        "expire": ({"created", "pending"}, "expire"),
        "cancel": ({"created", "pending"}, "cancel"),
    }
    if action not in moves:
        raise SandboxError(400, "unknown action")
    allowed_from, status = moves[action]
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(token=token)
        if payment.status not in allowed_from:
            return payment
        payment.status = status
        now = timezone.now()
        payment.transaction_time = payment.transaction_time or now
        fields = ["status", "transaction_time"]
        if status == "settlement":
            payment.settlement_time = now
            fields.append("settlement_time")
        payment.save(update_fields=fields)
        _notify(payment)
    return payment


def _refunds(payment: SandboxPayment) -> list[dict]:
    """The payment's refunds: ``{"key", "id", "amount"}`` each (rows from before ids were kept hold bare keys)."""
    return [r if isinstance(r, dict) else {"key": r, "id": None, "amount": None} for r in payment.refund_keys]


def refund(*, order_id: str, refund_key, amount, reason: str) -> tuple[SandboxPayment, dict]:
    """Refund (part of) a paid payment, as Midtrans does: once per ``refund_key`` (the same key again returns the
    first refund), only a settled payment, never more than was paid, and only for payment methods that can be
    refunded (QRIS and e-wallets; a bank virtual account cannot). Returns the payment and the refund."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise SandboxError(400, "amount must be a positive whole number")
    if not isinstance(refund_key, str) or not REFUND_KEY.fullmatch(refund_key):
        raise SandboxError(400, "refund_key must be letters, digits, dash or underscore")
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().filter(order_id=order_id).first()
        if payment is None:
            raise SandboxError(404, "Transaction doesn't exist.")
        refunds = _refunds(payment)
        for earlier in refunds:
            if earlier["key"] == refund_key:
                return payment, earlier  # the same refund asked again
        if payment.status not in ("settlement", "partial_refund"):
            raise SandboxError(412, "Merchant cannot modify the status of the transaction")
        if payment.channel not in REFUNDABLE_CHANNELS:
            raise SandboxError(412, f"Refund is not supported for payment type {payment.payment_type}")
        if payment.refunded_amount + amount > payment.amount:
            raise SandboxError(412, "Refund amount exceeds the amount that can be refunded")
        record = {"key": refund_key, "id": _random.randrange(10**8, 10**9), "amount": amount}
        payment.refunded_amount += amount
        payment.refund_keys = [*refunds, record]
        payment.status = "refund" if payment.refunded_amount == payment.amount else "partial_refund"
        payment.save(update_fields=["refunded_amount", "refund_keys", "status"])
        _notify(
            payment,
            extra={
                "refund_amount": gross_amount_text(amount),
                "refund_key": refund_key,
                "refund_chargeback_id": record["id"],
            },
        )
    return payment, record


def refund_body(payment: SandboxPayment, record: dict) -> dict:
    """The refund API's answer, as Midtrans writes it."""
    return {
        "status_code": "200",
        "status_message": "Success, refund request is approved",
        "transaction_id": payment.transaction_id,
        "order_id": payment.order_id,
        "payment_type": payment.payment_type,
        "transaction_time": _time(payment.transaction_time or payment.created_at),
        "transaction_status": payment.status,
        "gross_amount": gross_amount_text(payment.amount),
        "refund_chargeback_id": record["id"],
        "refund_amount": gross_amount_text(record["amount"]) if record["amount"] else None,
        "refund_key": record["key"],
    }


# --- What the status API answers, and what a notification says ------------------------------------------------------


def status_body(payment: SandboxPayment) -> dict:
    code = STATUS_CODES.get(payment.status, "201")
    gross = gross_amount_text(payment.amount)
    body = {
        "status_code": code,
        "status_message": "Success, transaction is found",
        "transaction_id": payment.transaction_id,
        "order_id": payment.order_id,
        "merchant_id": MERCHANT_ID,
        "gross_amount": gross,
        "currency": "IDR",
        "payment_type": payment.payment_type or "bank_transfer",
        "transaction_time": _time(payment.transaction_time or payment.created_at),
        "transaction_status": payment.status,
        "fraud_status": "accept",
        "signature_key": midtrans_signature(payment.order_id, code, gross, settings.LINGKARAN_SANDBOX_SERVER_KEY),
    }
    if payment.settlement_time:
        body["settlement_time"] = _time(payment.settlement_time)
    if payment.va_number:
        body["va_numbers"] = [{"bank": payment.channel, "va_number": payment.va_number}]
    if payment.payment_type == "ewallet":
        body["issuer"] = payment.channel
    if payment.refunded_amount:
        body["refund_amount"] = gross_amount_text(payment.refunded_amount)
    return body


@functools.cache
def _payment_by_order_sql(vendor: str) -> str:
    from lingkaran.funding.services.settlement import columns_of

    quote = connection.ops.quote_name
    return (
        f"SELECT {columns_of(SandboxPayment, 'p')} FROM {quote(SandboxPayment._meta.db_table)} p "
        f"WHERE p.{quote('order_id')} = %s"
    )


def payment_by_order(order_id: str) -> SandboxPayment | None:
    """The payment with this order id (the status API's look-up: its SQL written once per process)."""
    from lingkaran.funding.services.settlement import instance_from_row

    with connection.cursor() as cursor:
        cursor.execute(_payment_by_order_sql(connection.vendor), [order_id])
        row = cursor.fetchone()
    return instance_from_row(SandboxPayment, row) if row is not None else None


def not_found_body() -> dict:
    return {"status_code": "404", "status_message": "Transaction doesn't exist."}


def _notify(payment: SandboxPayment, extra: dict | None = None) -> None:
    """Queue the notification for the payment's new status (called inside the status change's transaction)."""
    body = status_body(payment)
    body["status_message"] = "midtrans payment notification"
    body.update(extra or {})
    text = json.dumps(body)
    held = payment.status == "pending" and _random.random() * 100 < settings.LINGKARAN_SANDBOX_OUT_OF_ORDER_PERCENT
    first = SandboxDelivery.objects.create(
        payment=payment,
        body=text,
        transaction_status=payment.status,
        held=held,
        kind=SandboxDelivery.Kind.OUT_OF_ORDER if held else SandboxDelivery.Kind.NORMAL,
    )
    send = [] if held else [first.pk]
    if _random.random() * 100 < settings.LINGKARAN_SANDBOX_DUPLICATE_PERCENT:
        twin = SandboxDelivery.objects.create(
            payment=payment,
            body=text,
            transaction_status=payment.status,
            held=held,
            kind=SandboxDelivery.Kind.DUPLICATE,
        )
        if not held:
            send.append(twin.pk)
    if payment.status in FINAL:
        # Whatever was held back arrives now, after the final status: out of order.
        released = list(SandboxDelivery.objects.filter(payment=payment, held=True).values_list("pk", flat=True))
        SandboxDelivery.objects.filter(pk__in=released).update(held=False)
        send += released
    if send:
        transaction.on_commit(partial(_send, send))


def _send(delivery_ids: list[int]) -> None:
    from lingkaran.funding import tasks

    for delivery_id in delivery_ids:
        tasks.enqueue(tasks.sandbox_deliver, delivery_id)


def delivery_attempt(delivery_id: int) -> str:
    """POST one notification to the site's ``/webhooks/sandbox``. Returns DELIVERED, RETRY, GAVE_UP or SKIPPED.

    No transaction is held during the request: in-process, the site handles it on this very connection."""
    delivery = SandboxDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.delivered_at or delivery.gave_up_at or delivery.held:
        return SKIPPED
    SandboxDelivery.objects.filter(pk=delivery_id).update(attempts=F("attempts") + 1)
    status, error = None, ""
    try:
        with httpx.Client(transport=site_transport(), timeout=httpx.Timeout(15.0, connect=5.0)) as client:
            response = client.post(
                site_url("/webhooks/sandbox"),
                content=delivery.body.encode(),
                headers={"Content-Type": "application/json", "User-Agent": "Lingkaran-Sandbox-Gateway/1.0"},
            )
        status = response.status_code
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    now = timezone.now()
    if status is not None and 200 <= status < 300:
        SandboxDelivery.objects.filter(pk=delivery_id).update(delivered_at=now, last_status_code=status, last_error="")
        return DELIVERED
    attempts = delivery.attempts + 1
    gave_up = attempts >= settings.LINGKARAN_SANDBOX_MAX_ATTEMPTS
    SandboxDelivery.objects.filter(pk=delivery_id).update(
        last_status_code=status, last_error=error, gave_up_at=now if gave_up else None
    )
    return GAVE_UP if gave_up else RETRY
