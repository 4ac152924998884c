"""Funding's HTTP endpoints that are not pages of the site: the gateway webhooks and the page a payer returns to.

The webhook view is thin on purpose: it reads at most 64 KiB of body, hands the bytes and headers to
``intake_receive`` (which stores the event and decides the answer) and returns that answer. No session, no CSRF (the
caller is a gateway, authenticated by its signature or token).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from lingkaran.funding import gateways, selectors
from lingkaran.funding.services.intake import intake_receive


def _read_body(request, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the body, and whether there was more (never reads the rest)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return b"", True
    body = request.read(limit + 1)
    return body[:limit], len(body) > limit


@csrf_exempt
@require_POST
def webhook(request, gateway: str):
    if gateway not in gateways.GATEWAYS or not gateways.configured(gateway):
        raise Http404()
    body, too_large = _read_body(request, settings.LINGKARAN_WEBHOOK_MAX_BYTES)
    result = intake_receive(gateway=gateway, raw_body=body, headers=dict(request.headers), too_large=too_large)
    return JsonResponse({"status": result.outcome}, status=result.http_status)


@require_GET
def payment_return(request, order_id: str):
    """Where a gateway sends the payer back. Shows the payment's state as the platform knows it (the query string
    the gateway adds is not trusted)."""
    intent = selectors.intent_public(order_id)
    return render(request, "funding/payment_return.html", {"intent": intent, "donation": intent.donation})
