"""One interface for every payment gateway.

An adapter turns our payment request into the gateway's API call and the gateway's notifications and status answers
into ours. It knows nothing of Django models: it takes and returns the small frozen records below, so it can be
tested against recorded payloads and a mocked HTTP transport.

Errors:
- ``NotificationRejected(code)``: a notification that must not be trusted (``malformed``, ``signature_invalid``,
  ``token_invalid`` …). It is kept in the inbox and never processed.
- ``GatewayRetryable``: try again later (timeout, connection error, HTTP 5xx or 429, an unreadable answer).
- ``GatewayTerminal``: trying again will not help (HTTP 4xx, unknown transaction, refused request).
"""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import httpx

from lingkaran.funding.domain.intents import PaymentState

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class PaymentRequest:
    order_id: str
    amount: int
    description: str
    payer_name: str
    payer_email: str
    finish_url: str


@dataclass(frozen=True)
class CreatedPayment:
    reference: str  # Snap token, Xendit invoice id
    payment_url: str


@dataclass(frozen=True)
class VerifiedEvent:
    gateway: str
    event_key: str
    order_id: str
    transaction_id: str
    state: PaymentState | None  # None: a status we do not know (kept, not acted on)
    gateway_status: str
    gross_amount: str  # as received
    # A notification about a refund (not a payment): our key for the refund, as the gateway echoes it back
    # (Xendit's ``reference_id``). Its ``transaction_id`` is then the gateway's refund id and ``gateway_status`` the
    # event (``refund.succeeded``, ``refund.failed``).
    refund_reference: str = ""


def is_refund_event(gateway_status: str) -> bool:
    """Whether a verified notification is about a refund rather than a payment: adapters report those with the
    gateway's event name, ``refund.<outcome>``, as their ``gateway_status``."""
    return gateway_status.startswith("refund.")


@dataclass(frozen=True)
class RefundStatus:
    """A refund as the gateway's refund API reports it."""

    refund_id: str
    reference_id: str  # our key for the refund
    status: str  # SUCCEEDED, FAILED, PENDING …
    amount: str
    failure_code: str = ""


@dataclass(frozen=True)
class GatewayStatus:
    order_id: str
    transaction_id: str
    state: PaymentState | None
    gateway_status: str
    gross_amount: str  # as the gateway wrote it


@dataclass(frozen=True)
class RefundResult:
    reference: str  # the gateway's id of the refund (Midtrans refund_chargeback_id, Xendit refund id)
    manual: bool = False  # the gateway cannot refund this payment: finance transfers the money back
    pending: bool = False  # accepted, but the gateway is still carrying it out
    detail: str = ""  # why it is manual, in the gateway's words


class NotificationRejected(Exception):
    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


class GatewayError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: str = ""):
        self.status = status
        self.code = code  # the gateway's own error code (Xendit ``error_code``, Midtrans ``status_code``), if any
        super().__init__(message)


class GatewayRetryable(GatewayError):
    """Temporary: the same call may succeed later."""


class GatewayTerminal(GatewayError):
    """Permanent for this request."""


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A request header by name, whatever its case."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def parse_json_object(raw_body: bytes) -> dict:
    """The notification body as a JSON object, decimals kept exact; NotificationRejected('malformed') otherwise."""
    try:
        data = json.loads(raw_body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError):
        raise NotificationRejected("malformed", "the body is not UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise NotificationRejected("malformed", "the body is not a JSON object")
    return data


def require_text(data: dict, *names: str) -> list[str]:
    values = []
    for name in names:
        value = data.get(name)
        if not isinstance(value, str) or not value:
            raise NotificationRejected("malformed", f"{name} is missing or not a string")
        values.append(value)
    return values


class HttpAdapter:
    """Shared HTTP plumbing: one httpx client per call, explicit timeouts, errors sorted into retryable and
    terminal."""

    name = "gateway"

    def __init__(self, *, transport: httpx.BaseTransport | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT):
        self.transport = transport
        self.timeout = timeout

    def _request(
        self,
        method: str,
        url: str,
        *,
        auth: tuple[str, str],
        json_body: dict | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict:
        try:
            with httpx.Client(transport=self.transport, timeout=self.timeout) as client:
                response = client.request(
                    method,
                    url,
                    auth=auth,
                    json=json_body,
                    headers={"Accept": "application/json", **(headers or {})},
                )
        except httpx.TimeoutException as exc:
            raise GatewayRetryable(f"{self.name}: timed out calling {url}: {exc}") from None
        except httpx.TransportError as exc:
            raise GatewayRetryable(f"{self.name}: cannot reach {url}: {exc}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayRetryable(
                f"{self.name}: {url} answered HTTP {response.status_code}", status=response.status_code
            )
        try:
            data = response.json()
        except ValueError:
            if response.status_code >= 400:
                raise GatewayTerminal(
                    f"{self.name}: {url} answered HTTP {response.status_code}", status=response.status_code
                ) from None
            raise GatewayRetryable(f"{self.name}: {url} answered something that is not JSON") from None
        if response.status_code >= 400:
            raise GatewayTerminal(
                f"{self.name}: {url} answered HTTP {response.status_code}: {_error_text(data)}",
                status=response.status_code,
                code=_error_code(data),
            )
        if not isinstance(data, dict):
            raise GatewayRetryable(f"{self.name}: {url} answered JSON that is not an object")
        return data


def _error_code(data) -> str:
    if isinstance(data, dict):
        for key in ("error_code", "status_code"):
            if data.get(key):
                return str(data[key])[:60]
    return ""


def _error_text(data) -> str:
    if isinstance(data, dict):
        for key in ("error_messages", "message", "status_message", "error_code"):
            if data.get(key):
                return str(data[key])[:200]
    return str(data)[:200]


class Gateway(abc.ABC):
    """The adapter interface (see the module docstring)."""

    name: str

    @abc.abstractmethod
    def create_payment(self, request: PaymentRequest) -> CreatedPayment:
        """Implemented by each adapter."""

    @abc.abstractmethod
    def verify_notification(self, raw_body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        """Implemented by each adapter."""

    @abc.abstractmethod
    def get_status(self, order_id: str, reference: str = "") -> GatewayStatus:
        """Implemented by each adapter."""

    def get_refund(self, refund_id: str) -> RefundStatus:
        """A refund as the gateway reports it now (to confirm a refund notification). Only gateways that notify
        refunds have it."""
        raise GatewayTerminal(f"{self.name}: no refund status API")

    @abc.abstractmethod
    def refund(self, *, order_id: str, reference: str, amount: int, key: str, reason: str) -> RefundResult:
        """Give ``amount`` of a paid payment back to its payer. ``key`` is ours and the same on every retry of the
        same refund, so the gateway refunds once however often it is asked; the result carries the gateway's own id
        of the refund, or says it is left to finance (``manual``) or still in progress (``pending``). Raises
        ``GatewayRetryable`` when it may be asked again and ``GatewayTerminal`` when it was refused."""
