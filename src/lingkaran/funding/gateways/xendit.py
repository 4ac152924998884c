"""Xendit Invoice, written from Xendit's published API documentation (docs.xendit.co).

- Create: ``POST https://api.xendit.co/v2/invoices`` with HTTP Basic auth (secret key as user name, empty password),
  body ``external_id`` (our order id), ``amount``, ``payer_email``, ``description``, ``currency`` and
  ``success_redirect_url``; the answer carries the invoice ``id`` and ``invoice_url``.
- Callback: a JSON POST with ``id``, ``external_id``, ``status`` (``PAID``, ``SETTLED``, ``EXPIRED``), ``amount``,
  ``paid_amount``, ``payment_method`` …, and the header ``x-callback-token``, compared in constant time with the
  verification token from the Xendit dashboard.
- Status: ``GET https://api.xendit.co/v2/invoices/{invoice id}``.
- Refund: ``POST https://api.xendit.co/refunds`` with the header ``Idempotency-key`` (our key for the refund, the same
  on every retry, so Xendit refunds once) and the body ``invoice_id``, ``reference_id`` (our key again),
  ``amount``, ``currency`` and ``reason`` (one of Xendit's codes; our own words go in ``metadata``). The answer is
  the refund: its ``id`` (``rfd-…``) and ``status`` ``SUCCEEDED``, ``PENDING`` (Xendit is still carrying it out) or
  ``FAILED`` (with ``failure_code``). Errors carry an ``error_code``; ``REFUND_NOT_SUPPORTED`` and
  ``PARTIAL_REFUND_NOT_SUPPORTED`` (a bank transfer, or a channel that cannot refund part of a payment) leave the
  transfer to finance (``RefundResult.manual``); ``REFUND_IN_PROGRESS`` is tried again later.
- Refund callback: when a refund Xendit was still carrying out (``PENDING``) ends, a JSON POST to the refund webhook
  URL with the same ``x-callback-token`` header: ``event`` (``refund.succeeded`` or ``refund.failed``),
  ``business_id``, ``created`` and ``data``, the refund object (``id``, ``reference_id`` — our key —, ``amount``,
  ``status``, ``failure_code`` …). Confirmed with ``GET https://api.xendit.co/refunds/{refund id}`` before it counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import quote

import httpx

from lingkaran.funding.domain.notifications import secrets_match, xendit_state
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
    RefundStatus,
    VerifiedEvent,
    header,
    parse_json_object,
    require_text,
)

API_BASE = "https://api.xendit.co"
# Xendit's refund reasons are codes; ours are free text (sent as metadata).
REFUND_REASON = "REQUESTED_BY_CUSTOMER"
MANUAL_REFUND_CODES = {"REFUND_NOT_SUPPORTED", "PARTIAL_REFUND_NOT_SUPPORTED"}
RETRY_REFUND_CODES = {"REFUND_IN_PROGRESS"}
REFUND_EVENTS = {"refund.succeeded", "refund.failed"}


def _amount_text(value) -> str:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float | str):
        return ""
    return str(value)


class XenditGateway(HttpAdapter, Gateway):
    name = "xendit"

    def __init__(
        self,
        *,
        secret_key: str,
        callback_token: str,
        api_base: str = API_BASE,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ):
        super().__init__(transport=transport, timeout=timeout)
        self.secret_key = secret_key
        self.callback_token = callback_token
        self.api_base = api_base.rstrip("/")

    @property
    def _auth(self) -> tuple[str, str]:
        return (self.secret_key, "")

    def create_payment(self, request: PaymentRequest) -> CreatedPayment:
        body = {
            "external_id": request.order_id,
            "amount": request.amount,
            "payer_email": request.payer_email or None,
            "description": request.description[:255],
            "currency": "IDR",
            "success_redirect_url": request.finish_url,
            "failure_redirect_url": request.finish_url,
        }
        body = {k: v for k, v in body.items() if v is not None}
        data = self._request("POST", f"{self.api_base}/v2/invoices", auth=self._auth, json_body=body)
        invoice_id, url = data.get("id"), data.get("invoice_url")
        if not (isinstance(invoice_id, str) and invoice_id and isinstance(url, str) and url):
            raise GatewayRetryable("xendit: the invoice answer has no id and invoice_url")
        return CreatedPayment(reference=invoice_id, payment_url=url)

    def verify_notification(self, raw_body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        token = header(headers, "x-callback-token")
        if not token:
            raise NotificationRejected("token_missing", "no x-callback-token header")
        if not secrets_match(token, self.callback_token):
            raise NotificationRejected("token_invalid", "x-callback-token does not match")
        data = parse_json_object(raw_body)
        if "event" in data:
            return self._refund_event(data)
        invoice_id, external_id, status = require_text(data, "id", "external_id", "status")
        paid = data.get("paid_amount")
        amount = _amount_text(paid if paid is not None else data.get("amount"))
        if not amount:
            raise NotificationRejected("malformed", "amount is missing")
        return VerifiedEvent(
            gateway=self.name,
            event_key=f"{invoice_id}:{status}"[:200],
            order_id=external_id,
            transaction_id=invoice_id,
            state=xendit_state(status),
            gateway_status=status,
            gross_amount=amount,
        )

    def _refund_event(self, data: dict) -> VerifiedEvent:
        """A refund callback (``refund.succeeded`` / ``refund.failed``), its token already checked."""
        (event,) = require_text(data, "event")
        refund = data.get("data")
        if event not in REFUND_EVENTS or not isinstance(refund, dict):
            raise NotificationRejected("malformed", f"not a refund callback we know: {event[:40]}")
        refund_id, reference_id, _status = require_text(refund, "id", "reference_id", "status")
        amount = _amount_text(refund.get("amount"))
        if not amount:
            raise NotificationRejected("malformed", "amount is missing")
        return VerifiedEvent(
            gateway=self.name,
            event_key=f"refund:{refund_id}:{event}"[:200],
            order_id="",
            transaction_id=refund_id,
            state=None,
            gateway_status=event,
            gross_amount=amount,
            refund_reference=reference_id,
        )

    def get_refund(self, refund_id: str) -> RefundStatus:
        data = self._request("GET", f"{self.api_base}/refunds/{quote(refund_id, safe='')}", auth=self._auth)
        status, reference_id = data.get("status"), data.get("reference_id")
        if not isinstance(status, str) or str(data.get("id") or refund_id) != refund_id:
            raise GatewayRetryable(f"xendit: the answer for refund {refund_id} has no status")
        return RefundStatus(
            refund_id=refund_id,
            reference_id=str(reference_id or ""),
            status=status,
            amount=_amount_text(data.get("amount")),
            failure_code=str(data.get("failure_code") or ""),
        )

    def get_status(self, order_id: str, reference: str = "") -> GatewayStatus:
        if not reference:
            raise GatewayTerminal(f"xendit: no invoice id for {order_id}")
        data = self._request("GET", f"{self.api_base}/v2/invoices/{quote(reference, safe='')}", auth=self._auth)
        status, external_id = data.get("status"), data.get("external_id")
        if not isinstance(status, str):
            raise GatewayRetryable("xendit: the invoice answer has no status")
        if external_id != order_id:
            raise GatewayTerminal(f"xendit: invoice {reference} belongs to another order")
        paid = data.get("paid_amount")
        return GatewayStatus(
            order_id=order_id,
            transaction_id=str(data.get("id") or reference),
            state=xendit_state(status),
            gateway_status=status,
            gross_amount=_amount_text(paid if paid is not None else data.get("amount")),
        )

    def refund(self, *, order_id: str, reference: str, amount: int, key: str, reason: str) -> RefundResult:
        if not reference:
            raise GatewayTerminal(f"xendit: no invoice id for {order_id}")
        body = {
            "invoice_id": reference,
            "reference_id": key,
            "amount": amount,
            "currency": "IDR",
            "reason": REFUND_REASON,
            "metadata": {"order_id": order_id, "note": reason[:200]},
        }
        try:
            data = self._request(
                "POST", f"{self.api_base}/refunds", auth=self._auth, json_body=body, headers={"Idempotency-key": key}
            )
        except GatewayTerminal as exc:
            if exc.code in MANUAL_REFUND_CODES:
                return RefundResult(reference="", manual=True, detail=f"{exc.code}: {exc}"[:300])
            if exc.code in RETRY_REFUND_CODES:
                raise GatewayRetryable(str(exc), status=exc.status, code=exc.code) from None
            raise
        refund_id, status = data.get("id"), data.get("status")
        if not isinstance(refund_id, str) or not refund_id or not isinstance(status, str):
            raise GatewayRetryable("xendit: the refund answer has no id and status")
        if data.get("reference_id") not in (None, key):
            raise GatewayTerminal("xendit: the refund answer is for another reference")
        if status == "FAILED":
            raise GatewayTerminal(f"xendit: refund {refund_id} failed: {data.get('failure_code') or 'no reason'}")
        return RefundResult(reference=refund_id, pending=status != "SUCCEEDED")
