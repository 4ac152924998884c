"""Payment gateway adapters behind one interface (``base.Gateway``): Midtrans, Xendit and the built-in sandbox.

``get(name)`` builds the adapter for a gateway from the settings. Tests put a mocked transport in
``transport_overrides`` (the external service is mocked; our adapter code still runs).
"""

from __future__ import annotations

import httpx
from django.conf import settings

from lingkaran.funding.gateways.base import (
    CreatedPayment,
    Gateway,
    GatewayError,
    GatewayRetryable,
    GatewayStatus,
    GatewayTerminal,
    NotificationRejected,
    PaymentRequest,
    RefundResult,
    RefundStatus,
    VerifiedEvent,
    is_refund_event,
)
from lingkaran.funding.gateways.midtrans import MidtransGateway
from lingkaran.funding.gateways.sandbox import sandbox_gateway
from lingkaran.funding.gateways.xendit import XenditGateway

__all__ = [
    "CreatedPayment",
    "Gateway",
    "GatewayError",
    "GatewayRetryable",
    "GatewayStatus",
    "GatewayTerminal",
    "NotificationRejected",
    "PaymentRequest",
    "RefundResult",
    "RefundStatus",
    "VerifiedEvent",
    "configured",
    "get",
    "is_refund_event",
    "transport_overrides",
]

GATEWAYS = ("sandbox", "midtrans", "xendit")
transport_overrides: dict[str, httpx.BaseTransport] = {}


def configured(name: str) -> bool:
    """Whether notifications for ``name`` are accepted here: its secrets are set (the sandbox: not in production)."""
    if name == "sandbox":
        return not settings.PRODUCTION
    if name == "midtrans":
        return bool(settings.MIDTRANS_SERVER_KEY)
    if name == "xendit":
        return bool(settings.XENDIT_SECRET_KEY and settings.XENDIT_CALLBACK_TOKEN)
    return False


def get(name: str) -> Gateway:
    transport = transport_overrides.get(name)
    if name == "sandbox":
        return sandbox_gateway(transport)
    if name == "midtrans":
        return MidtransGateway(
            server_key=settings.MIDTRANS_SERVER_KEY,
            is_production=settings.MIDTRANS_IS_PRODUCTION,
            transport=transport,
        )
    if name == "xendit":
        return XenditGateway(
            secret_key=settings.XENDIT_SECRET_KEY,
            callback_token=settings.XENDIT_CALLBACK_TOKEN,
            transport=transport,
        )
    raise KeyError(f"no gateway named {name!r}")
