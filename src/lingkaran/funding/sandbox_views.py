"""The sandbox gateway's HTTP face: the hosted payment page a payer sees, and the Midtrans-shaped server API
(Snap create, status, refund) the platform's adapter calls. Thin: parse, check the server key, call
``sandbox_server``, answer."""

from __future__ import annotations

import base64
import binascii
import json

from django.conf import settings
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lingkaran.funding import sandbox_server
from lingkaran.funding.domain.notifications import secrets_match
from lingkaran.funding.gateways.sandbox import site_url
from lingkaran.funding.models import SandboxPayment


def _server_key_ok(request) -> bool:
    return _authorized(request.headers.get("Authorization", ""))


def _authorized(authorization: str) -> bool:
    """HTTP Basic auth with the sandbox server key as the user name and an empty password (as Midtrans)."""
    scheme, _sep, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        user, _colon, _password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return secrets_match(user, settings.LINGKARAN_SANDBOX_SERVER_KEY)


UNAUTHORIZED = {
    "status_code": "401",
    "error_messages": ["Access denied due to unauthorized transaction, please check client or server key"],
}


def _unauthorized() -> JsonResponse:
    return JsonResponse(UNAUTHORIZED, status=401)


def _error(exc: sandbox_server.SandboxError) -> JsonResponse:
    return JsonResponse({"status_code": str(exc.status), "error_messages": [exc.message]}, status=exc.status)


def available() -> bool:
    return not settings.PRODUCTION


def _available():
    if not available():
        raise Http404()


@csrf_exempt
@require_POST
def snap_transactions(request):
    _available()
    if not _server_key_ok(request):
        return _unauthorized()
    try:
        data = json.loads(request.body)
        details = data["transaction_details"]
        customer = data.get("customer_details") or {}
        items = data.get("item_details") or [{}]
        payment = sandbox_server.snap_create(
            order_id=details.get("order_id"),
            amount=details.get("gross_amount"),
            customer_name=str(customer.get("first_name") or ""),
            customer_email=str(customer.get("email") or ""),
            item_name=str(items[0].get("name") or ""),
            finish_url=str((data.get("callbacks") or {}).get("finish") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return JsonResponse({"status_code": "400", "error_messages": ["the request body is not valid"]}, status=400)
    except sandbox_server.SandboxError as exc:
        return _error(exc)
    redirect_url = site_url(reverse("funding:sandbox_pay", args=[payment.token]))
    return JsonResponse({"token": payment.token, "redirect_url": redirect_url}, status=201)


@require_GET
def transaction_status(request, order_id: str):
    _available()
    status, body = status_answer(order_id, request.headers.get("Authorization", ""))
    return JsonResponse(body, status=status)


def status_answer(order_id: str, authorization: str) -> tuple[int, dict]:
    """The status API's answer (HTTP status, JSON body); also answered by the lean front door (``funding/wsgi.py``),
    which is how the platform's in-process status calls reach it."""
    if not _authorized(authorization):
        return 401, UNAUTHORIZED
    payment = sandbox_server.payment_by_order(order_id)
    if payment is None or payment.status == "created":
        return 200, sandbox_server.not_found_body()  # Midtrans: no transaction until a method is chosen
    return 200, sandbox_server.status_body(payment)


@csrf_exempt
@require_POST
def transaction_refund(request, order_id: str):
    _available()
    if not _server_key_ok(request):
        return _unauthorized()
    try:
        data = json.loads(request.body)
        payment, record = sandbox_server.refund(
            order_id=order_id,
            refund_key=data.get("refund_key"),
            amount=data.get("amount"),
            reason=str(data.get("reason") or ""),
        )
    except (ValueError, AttributeError):
        return JsonResponse({"status_code": "400", "error_messages": ["the request body is not valid"]}, status=400)
    except sandbox_server.SandboxError as exc:
        return _error(exc)
    return JsonResponse(sandbox_server.refund_body(payment, record))


CHANNEL_GROUPS = [
    ("va", ["bca", "bni", "bri", "mandiri"]),
    ("qris", ["qris"]),
    ("ewallet", ["gopay", "ovo", "dana"]),
]


@require_http_methods(["GET", "POST"])
def pay_page(request, token: str):
    """The hosted payment page: pick a virtual account, QRIS or an e-wallet; then pay, let it expire, or cancel."""
    _available()
    payment = SandboxPayment.objects.filter(token=token).first()
    if payment is None:
        raise Http404()
    if request.method == "POST":
        try:
            if "channel" in request.POST:
                sandbox_server.choose_channel(token, request.POST["channel"])
            elif "action" in request.POST:
                sandbox_server.act(token, request.POST["action"])
        except sandbox_server.SandboxError as exc:
            return render(request, "funding/sandbox/pay.html", _context(payment, error=exc.message), status=400)
        return HttpResponseRedirect(reverse("funding:sandbox_pay", args=[token]))
    return render(request, "funding/sandbox/pay.html", _context(payment))


def _context(payment: SandboxPayment, error: str = "") -> dict:
    payment.refresh_from_db()
    finish = ""
    if payment.finish_url and payment.status not in ("created", "pending"):
        code = sandbox_server.STATUS_CODES.get(payment.status, "")
        finish = (
            f"{payment.finish_url}?order_id={payment.order_id}&status_code={code}&transaction_status={payment.status}"
        )
    return {
        "payment": payment,
        "qr_cells": _qr_cells(payment.transaction_id) if payment.channel == "qris" else [],
        "channels": {key: label for key, (_type, label) in sandbox_server.CHANNELS.items()},
        "groups": CHANNEL_GROUPS,
        "channel_label": sandbox_server.CHANNELS.get(payment.channel, ("", ""))[1],
        "finish_url": finish,
        "error": error,
    }


def _qr_cells(seed: str) -> list[tuple[int, int]]:
    """A QR-looking 21×21 pattern (three finder squares and noise from the transaction id). Not a real QR code: the
    sandbox has nothing to pay with it."""
    import hashlib

    bits = bin(int(hashlib.sha512(seed.encode()).hexdigest(), 16))[2:].zfill(512)
    cells = []
    for y in range(21):
        for x in range(21):
            finder = next(
                ((fx, fy) for fx, fy in ((0, 0), (14, 0), (0, 14)) if fx <= x < fx + 7 and fy <= y < fy + 7), None
            )
            if finder:
                dx, dy = x - finder[0], y - finder[1]
                on = dx in (0, 6) or dy in (0, 6) or (2 <= dx <= 4 and 2 <= dy <= 4)
            else:
                on = bits[(y * 21 + x) % 512] == "1"
            if on:
                cells.append((x, y))
    return cells
