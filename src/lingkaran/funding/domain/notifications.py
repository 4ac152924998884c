"""Gateway notification rules: signatures, status mapping and amounts. Pure functions, no Django, no network.

Midtrans signs each HTTP notification with ``signature_key = SHA-512(order_id + status_code + gross_amount +
server_key)``, computed over the strings exactly as they appear in the notification (``gross_amount`` is a string
such as ``"50400.00"``). Xendit sends a shared token in the ``x-callback-token`` header. Both are compared in
constant time. Amounts arrive as text or JSON numbers and become whole rupiah only when they are whole.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from decimal import Decimal, InvalidOperation

from lingkaran.funding.domain.intents import PaymentState

S = PaymentState


def midtrans_signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    return hashlib.sha512(f"{order_id}{status_code}{gross_amount}{server_key}".encode()).hexdigest()


def secrets_match(received: str | None, expected: str) -> bool:
    """Constant-time comparison of a received secret (signature, token) with the expected one."""
    if not received or not expected:
        return False
    return hmac.compare_digest(received.encode(), expected.encode())


# Midtrans transaction_status -> our state. ``capture`` is only a payment when the fraud check accepted it.
MIDTRANS_STATUS = {
    "settlement": S.SETTLED,
    "pending": S.PENDING,
    "authorize": S.PENDING,
    "deny": S.FAILED,
    "failure": S.FAILED,
    "cancel": S.CANCELLED,
    "expire": S.EXPIRED,
    "refund": S.REFUNDED,
    "chargeback": S.REFUNDED,
    "partial_refund": S.PARTIALLY_REFUNDED,
    "partial_chargeback": S.PARTIALLY_REFUNDED,
}

XENDIT_STATUS = {
    "PENDING": S.PENDING,
    "PAID": S.SETTLED,
    "SETTLED": S.SETTLED,
    "EXPIRED": S.EXPIRED,
}


def midtrans_state(transaction_status: str, fraud_status: str | None = None) -> PaymentState | None:
    """Our state for a Midtrans status, or None when the status is not one Midtrans documents."""
    if transaction_status == "capture":
        # Card payments: 'accept' (or no fraud check) is paid; 'challenge' waits for a decision; 'deny' failed.
        if fraud_status in (None, "", "accept"):
            return S.SETTLED
        if fraud_status == "challenge":
            return S.PENDING
        return S.FAILED
    return MIDTRANS_STATUS.get(transaction_status)


def xendit_state(status: str) -> PaymentState | None:
    return XENDIT_STATUS.get(status)


_PLAIN_AMOUNT = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,2})?$")


def whole_rupiah(value) -> int | None:
    """Whole rupiah from a gateway amount (``"50400.00"``, ``"50400"``, ``50400``, ``Decimal('50400.0')``).

    Returns None for anything that is not a non-negative whole number of rupiah (``"50400.50"``, ``"abc"``,
    ``True``, ``-1``): such an amount never matches an intent.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    text = str(value).strip()
    if isinstance(value, str) and not _PLAIN_AMOUNT.match(text):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if number < 0 or number != number.to_integral_value():
        return None
    return int(number)


def gross_amount_text(amount: int) -> str:
    """How Midtrans writes an amount in notifications and status answers: ``50400`` -> ``"50400.00"``."""
    return f"{amount}.00"
