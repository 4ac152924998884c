import re
import uuid

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
        with context.acting(channel, ip_address=request.META.get("REMOTE_ADDR"), request_id=request_id):
            request.request_id = request_id
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
