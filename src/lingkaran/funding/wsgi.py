"""The lean front door for machine-to-machine calls that need none of the site's middleware.

Gateway notifications (``POST /webhooks/{gateway}``) and the sandbox gateway's status API
(``GET /sandbox-gateway/v2/{order_id}/status``) come from programs, not browsers: no session, no log-in, no CSRF
token, no language, no messages, no HTMX, no lock-out counting. Through the whole Django stack each such request pays
for fourteen middleware it does not use, which is most of the CPU of an answer that is otherwise one inbox upsert
(or one row read). ``front_door(site)`` wraps the site's WSGI application: those two requests are answered here,
directly; every other request (and any other method on those paths) goes to the site unchanged.

What stays the same as through the site: Django's ``request_started`` / ``request_finished`` signals (so database
connections are recycled and health-checked as for any request), the request id (``X-Request-ID``, kept when sane)
and client address in ``core.context``, ``X-Content-Type-Options: nosniff``, a 500 logged by ``django.request`` when
something breaks, and the answers themselves: the same functions (``views.webhook_answer``,
``sandbox_views.status_answer``) make them for both doors.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from http import HTTPStatus

from django.core import signals
from django.core.handlers.wsgi import get_path_info
from django.http.request import HttpHeaders

from lingkaran.core import context

WEBHOOK_PATH = re.compile(r"/webhooks/([-a-zA-Z0-9_]+)")
SANDBOX_STATUS_PATH = re.compile(r"/sandbox-gateway/v2/([^/]+)/status")
REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,36}")
request_logger = logging.getLogger("django.request")


class LeanHandler:
    """The sender of the request signals for requests answered by the front door."""


def _client_ip(environ) -> str | None:
    from django.conf import settings

    count = getattr(settings, "PROXY_COUNT", 0)
    forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return environ.get("REMOTE_ADDR")


def _reader(environ):
    """``read(n)`` over the body, never past the declared length (as Django's LimitedStream)."""
    stream = environ["wsgi.input"]
    try:
        remaining = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        remaining = 0

    def read(size: int) -> bytes:
        nonlocal remaining
        if remaining <= 0:
            return b""
        chunk = stream.read(min(size, remaining))
        remaining -= len(chunk)
        return chunk

    return read


def _answer(environ, start_response, handle):
    """Run ``handle(request_id) -> (status, dict)`` as a request: signals, context, headers, errors."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    signals.request_started.send(sender=LeanHandler, environ=environ)
    try:
        with context.acting("web", ip_address=_client_ip(environ), request_id=request_id):
            try:
                status, data = handle()
            except Exception:
                request_logger.exception(
                    "Internal Server Error: %s", environ.get("PATH_INFO", ""), extra={"status_code": 500}
                )
                status, data = 500, {"status": "error"}
    finally:
        signals.request_finished.send(sender=LeanHandler)
    body = json.dumps(data).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Request-ID", request_id),
        ],
    )
    return [body]


def front_door(site):
    """The site's WSGI application with the lean door in front (see the module docstring)."""
    from lingkaran.funding import gateways, sandbox_views, views

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if method == "POST" and path.startswith("/webhooks/"):
            match = WEBHOOK_PATH.fullmatch(path)
            if match and match[1] in gateways.GATEWAYS and gateways.configured(match[1]):
                headers = HttpHeaders(environ)
                return _answer(
                    environ,
                    start_response,
                    lambda: views.webhook_answer(match[1], _reader(environ), environ.get("CONTENT_LENGTH"), headers),
                )
        elif method == "GET" and path.startswith("/sandbox-gateway/v2/"):
            match = SANDBOX_STATUS_PATH.fullmatch(get_path_info(environ))
            if match and sandbox_views.available():
                authorization = environ.get("HTTP_AUTHORIZATION", "")
                return _answer(environ, start_response, lambda: sandbox_views.status_answer(match[1], authorization))
        return site(environ, start_response)

    application.site = site
    return application
