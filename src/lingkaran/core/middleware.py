import re
import uuid

from django.conf import settings

from lingkaran.core import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,36}$")


class RequestContextMiddleware:
    """Gives each request an id (kept from a sane ``X-Request-ID``) and exposes it, the address and the channel to
    the audit log through ``core.context``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        channel = "api" if request.path.startswith("/api/") else "web"
        with context.acting(channel, ip_address=client_ip(request), request_id=request_id):
            request.request_id = request_id
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def client_ip(request) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or with ``LINGKARAN_PROXY_COUNT`` trusted proxies in front, the
    address those proxies appended to ``X-Forwarded-For`` (entries a client wrote itself are further left)."""
    count = getattr(settings, "PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR")
