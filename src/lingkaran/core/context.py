"""Who is acting, from where: set by the request middleware, the API auth and the CLI, read by the audit log."""

from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ActionContext:
    channel: str = "system"
    ip_address: str | None = None
    request_id: str = ""


_current: ContextVar[ActionContext] = ContextVar("lingkaran_action_context", default=ActionContext())  # noqa: B039 - frozen


def current() -> ActionContext:
    return _current.get()


@contextlib.contextmanager
def acting(channel: str, *, ip_address: str | None = None, request_id: str | None = None):
    token = _current.set(ActionContext(channel, ip_address, request_id or uuid.uuid4().hex))
    try:
        yield
    finally:
        _current.reset(token)


def switch_channel(channel: str) -> None:
    """The API marks requests it authenticates as API calls (the middleware saw them first as web requests)."""
    _current.set(replace(_current.get(), channel=channel))
