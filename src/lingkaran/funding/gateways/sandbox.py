"""The built-in sandbox gateway: the embedded default, taking no real money but behaving like a real gateway.

It speaks the Midtrans protocol, so its adapter *is* the Midtrans adapter pointed at ``/sandbox-gateway`` with the
sandbox server key (``LINGKARAN_SANDBOX_SERVER_KEY``, derived from ``SECRET_KEY`` when unset). The gateway side —
its own tables, the hosted payment page, the Snap, status and refund APIs, and the notifications it sends with
retries, duplicates and out-of-order deliveries — lives in ``funding/sandbox_server.py`` and
``funding/sandbox_views.py``.

Transport: with no Celery broker (the embedded default, tasks run in-process) every sandbox call is a real HTTP
request and response to the served application (``config/wsgi.py``), handed over in memory by
``httpx.WSGITransport``: no network, no second server. Its lean front door (``funding/wsgi.py``) answers the status
API without the site's middleware; the other calls go through the whole Django stack. With a broker, calls go over
the network to ``LINGKARAN_PUBLIC_URL``.
"""

from __future__ import annotations

import threading

import httpx
from django.conf import settings

from lingkaran.funding.gateways.midtrans import MidtransGateway

SANDBOX_PREFIX = "/sandbox-gateway"

_recycling_lock = threading.Lock()
_suspended = 0


def _suspend_connection_recycling():
    """An in-process request runs in the caller's thread and shares its database connection (and transaction).
    Django closes "old" connections when a request starts and finishes; here that connection is the caller's, so
    the closing is switched off for the duration, as Django's own test client does."""
    global _suspended
    from django.core import signals
    from django.db import close_old_connections

    with _recycling_lock:
        if _suspended == 0:
            signals.request_started.disconnect(close_old_connections)
            signals.request_finished.disconnect(close_old_connections)
        _suspended += 1


def _resume_connection_recycling():
    global _suspended
    from django.core import signals
    from django.db import close_old_connections

    with _recycling_lock:
        _suspended -= 1
        if _suspended == 0:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


def in_process_app(environ, start_response):
    """The served WSGI application (the lean front door, then the site), called in this process; the whole answer is
    read before returning."""
    from django.utils import translation

    from lingkaran.config.wsgi import application

    # The inner request activates its own language in this thread; the caller's comes back afterwards.
    language = translation.get_language()
    _suspend_connection_recycling()
    try:
        result = application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    finally:
        _resume_connection_recycling()
        if language:
            translation.activate(language)
        else:
            translation.deactivate()
    return [body]


def site_transport() -> httpx.BaseTransport | None:
    """How to reach this site from itself: in memory when tasks run in-process, over the network otherwise."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return httpx.WSGITransport(app=in_process_app)
    return None


def site_url(path: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + path


def sandbox_gateway(transport: httpx.BaseTransport | None = None) -> MidtransGateway:
    base = site_url(SANDBOX_PREFIX)
    return MidtransGateway(
        server_key=settings.LINGKARAN_SANDBOX_SERVER_KEY,
        snap_base=base,
        api_base=base,
        transport=transport if transport is not None else site_transport(),
        name="sandbox",
    )
