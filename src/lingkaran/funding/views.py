"""Funding's HTTP endpoints that are not pages of the site: the gateway webhooks and the page a payer returns to.

The webhook view is thin on purpose: it reads at most 64 KiB of body, hands the bytes and headers to
``intake_receive`` (which stores the event and decides the answer) and returns that answer. No session, no CSRF (the
caller is a gateway, authenticated by its signature or token). In a served site the lean front door
(``funding/wsgi.py``) answers ``POST /webhooks/…`` with the same ``webhook_answer`` before the site's middleware; this
view is what the rest (tests through Django's client, a site without the front door) reaches.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from lingkaran.funding import gateways, selectors
from lingkaran.funding.services.intake import intake_receive


def _read_body(read, content_length, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the body, and whether there was more (never reads the rest)."""
    try:
        declared = int(content_length or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return b"", True
    body = read(limit + 1)
    return body[:limit], len(body) > limit


def webhook_answer(gateway: str, read, content_length, headers) -> tuple[int, dict]:
    """The answer to one notification for ``gateway`` (known and configured): HTTP status and JSON body. Used by
    this view and by the lean front door (``funding/wsgi.py``), which answers webhooks without the site's
    middleware."""
    body, too_large = _read_body(read, content_length, settings.LINGKARAN_WEBHOOK_MAX_BYTES)
    result = intake_receive(gateway=gateway, raw_body=body, headers=headers, too_large=too_large)
    return result.http_status, {"status": result.outcome}


@csrf_exempt
@require_POST
def webhook(request, gateway: str):
    if gateway not in gateways.GATEWAYS or not gateways.configured(gateway):
        raise Http404()
    status, data = webhook_answer(gateway, request.read, request.META.get("CONTENT_LENGTH"), request.headers)
    return JsonResponse(data, status=status)


@require_GET
def payment_return(request, order_id: str):
    """Where a gateway sends the payer back. Shows the payment's state as the platform knows it (the query string
    the gateway adds is not trusted)."""
    intent = selectors.intent_public(order_id)
    return render(request, "funding/payment_return.html", {"intent": intent, "donation": intent.donation})
