"""Midtrans Snap, written from Midtrans's published API documentation (docs.midtrans.com).

- Create: ``POST {app}/snap/v1/transactions`` with HTTP Basic auth (server key as user name, empty password), body
  ``transaction_details`` (``order_id``, integer ``gross_amount``), ``customer_details``, ``item_details`` and
  ``callbacks.finish``; the answer (201) carries ``token`` and ``redirect_url``.
- Notification: a JSON POST with ``order_id``, ``status_code``, ``gross_amount`` (a string such as ``"50400.00"``),
  ``transaction_status``, ``transaction_id``, ``fraud_status`` and ``signature_key`` =
  SHA-512(order_id + status_code + gross_amount + server key), checked over the exact received strings.
- Status: ``GET {api}/v2/{order_id}/status`` with the same auth; the answer's own ``status_code`` is ``"404"`` for an
  unknown transaction.
- Refund: ``POST {api}/v2/{order_id}/refund`` with ``refund_key`` (our key for the refund: the same on every retry,
  so Midtrans refunds once; letters, digits, ``-`` and ``_`` only), ``amount`` and ``reason`` (at most 255
  characters). The answer's ``status_code`` is ``"200"`` when approved, with the ``refund_chargeback_id`` Midtrans
  gave the refund, the ``refund_amount`` and the transaction's new ``transaction_status`` (``refund`` or
  ``partial_refund``). A ``412`` means Midtrans will not refund this transaction (not settled, or a payment method it
  cannot refund, such as a bank virtual account): finance transfers the money back by hand.

Hosts: ``app.sandbox.midtrans.com`` / ``api.sandbox.midtrans.com``, or ``app.midtrans.com`` / ``api.midtrans.com``
in production. The built-in sandbox gateway speaks the same protocol at ``/sandbox-gateway``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from urllib.parse import quote

import httpx

from lingkaran.funding.domain.notifications import midtrans_signature, midtrans_state, secrets_match
from lingkaran.funding.gateways.base import (
    DEFAULT_TIMEOUT,
    CreatedPayment,
    Gateway,
    GatewayRetryable,
    GatewayStatus,
    GatewayTerminal,
    HttpAdapter,
    NotificationRejected,
    PaymentRequest,
    RefundResult,
    VerifiedEvent,
    parse_json_object,
    require_text,
)

SANDBOX_HOSTS = ("https://app.sandbox.midtrans.com", "https://api.sandbox.midtrans.com")
PRODUCTION_HOSTS = ("https://app.midtrans.com", "https://api.midtrans.com")
REFUND_STATUSES = {"refund", "partial_refund", "chargeback", "partial_chargeback"}


class MidtransGateway(HttpAdapter, Gateway):
    name = "midtrans"

    def __init__(
        self,
        *,
        server_key: str,
        is_production: bool = False,
        snap_base: str | None = None,
        api_base: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        name: str | None = None,
    ):
        super().__init__(transport=transport, timeout=timeout)
        app_host, api_host = PRODUCTION_HOSTS if is_production else SANDBOX_HOSTS
        self.server_key = server_key
        self.snap_base = (snap_base or app_host).rstrip("/")
        self.api_base = (api_base or api_host).rstrip("/")
        if name:
            self.name = name

    @property
    def _auth(self) -> tuple[str, str]:
        return (self.server_key, "")

    def create_payment(self, request: PaymentRequest) -> CreatedPayment:
        body = {
            "transaction_details": {"order_id": request.order_id, "gross_amount": request.amount},
            "item_details": [
                {"id": "donation", "price": request.amount, "quantity": 1, "name": request.description[:50]}
            ],
            "customer_details": {"first_name": request.payer_name[:50], "email": request.payer_email},
            "callbacks": {"finish": request.finish_url},
        }
        data = self._request("POST", f"{self.snap_base}/snap/v1/transactions", auth=self._auth, json_body=body)
        token, redirect_url = data.get("token"), data.get("redirect_url")
        if not (isinstance(token, str) and token and isinstance(redirect_url, str) and redirect_url):
            raise GatewayRetryable(f"{self.name}: the Snap answer has no token and redirect_url")
        return CreatedPayment(reference=token, payment_url=redirect_url)

    def verify_notification(self, raw_body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        data = parse_json_object(raw_body)
        order_id, status_code, gross_amount, transaction_status = require_text(
            data, "order_id", "status_code", "gross_amount", "transaction_status"
        )
        received = data.get("signature_key")
        if not isinstance(received, str) or not received:
            raise NotificationRejected("signature_missing", "no signature_key")
        expected = midtrans_signature(order_id, status_code, gross_amount, self.server_key)
        if not secrets_match(received.lower(), expected):
            raise NotificationRejected("signature_invalid", f"order {order_id}")
        transaction_id = data.get("transaction_id") if isinstance(data.get("transaction_id"), str) else ""
        fraud_status = data.get("fraud_status") if isinstance(data.get("fraud_status"), str) else None
        key = f"{order_id}:{transaction_id}:{transaction_status}:{status_code}"
        if transaction_status in REFUND_STATUSES:
            # Several partial refunds share a status: their bodies tell them apart (a duplicate is the same body).
            key += ":" + hashlib.sha256(raw_body).hexdigest()[:16]
        return VerifiedEvent(
            gateway=self.name,
            event_key=key[:200],
            order_id=order_id,
            transaction_id=transaction_id or "",
            state=midtrans_state(transaction_status, fraud_status),
            gateway_status=transaction_status,
            gross_amount=gross_amount,
        )

    def get_status(self, order_id: str, reference: str = "") -> GatewayStatus:
        data = self._request("GET", f"{self.api_base}/v2/{quote(order_id, safe='')}/status", auth=self._auth)
        status_code = str(data.get("status_code", ""))
        if status_code == "404":
            raise GatewayTerminal(f"{self.name}: transaction {order_id} does not exist", status=404)
        transaction_status = data.get("transaction_status")
        gross_amount = data.get("gross_amount")
        if not isinstance(transaction_status, str) or gross_amount is None:
            if status_code.startswith("5"):
                raise GatewayRetryable(f"{self.name}: status of {order_id}: {data.get('status_message')}")
            raise GatewayTerminal(f"{self.name}: status of {order_id}: {data.get('status_message') or data}")
        if str(data.get("order_id", order_id)) != order_id:
            raise GatewayTerminal(f"{self.name}: the status answer is for another order")
        fraud_status = data.get("fraud_status") if isinstance(data.get("fraud_status"), str) else None
        return GatewayStatus(
            order_id=order_id,
            transaction_id=str(data.get("transaction_id") or ""),
            state=midtrans_state(transaction_status, fraud_status),
            gateway_status=transaction_status,
            gross_amount=str(gross_amount),
        )

    def refund(self, *, order_id: str, reference: str, amount: int, key: str, reason: str) -> RefundResult:
        refund_key = midtrans_refund_key(key)
        body = {"refund_key": refund_key, "amount": amount, "reason": reason[:255]}
        url = f"{self.api_base}/v2/{quote(order_id, safe='')}/refund"
        try:
            data = self._request("POST", url, auth=self._auth, json_body=body)
        except GatewayTerminal as exc:
            if exc.status == 412 or exc.code == "412":
                return RefundResult(reference="", manual=True, detail=str(exc)[:300])
            raise
        status_code = str(data.get("status_code", ""))
        message = data.get("status_message") or _first(data.get("error_messages"))
        if status_code.startswith("5"):
            raise GatewayRetryable(f"{self.name}: refund of {order_id}: {message}")
        if status_code == "412":
            return RefundResult(reference="", manual=True, detail=f"{self.name}: {message}"[:300])
        if status_code not in {"200", "201"}:
            raise GatewayTerminal(f"{self.name}: refund of {order_id} refused: {message}", code=status_code)
        if str(data.get("refund_key") or refund_key) != refund_key:
            raise GatewayTerminal(f"{self.name}: the refund answer is for another refund key")
        chargeback = data.get("refund_chargeback_id")
        return RefundResult(reference=str(chargeback) if chargeback not in (None, "") else refund_key)


def midtrans_refund_key(key: str) -> str:
    """Our refund key (``refund:7``) in the characters Midtrans accepts: letters, digits, ``-`` and ``_``."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", key)[:100]


def _first(value) -> str:
    if isinstance(value, list) and value:
        return str(value[0])
    return str(value or "")
