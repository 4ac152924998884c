"""Errors with stable codes.

A ``DomainError`` carries a snake_case ``code`` that is never reused for another meaning, a translatable message for
the person who sees it, the HTTP status the API answers with, and machine-readable ``details``. The API renders it as
``application/problem+json``; pages show the message. Apps subclass it for their own codes.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    http_status = 400
    default_message = _("The request could not be completed.")

    def __init__(self, message: Any = None, *, details: dict[str, Any] | None = None, code: str | None = None):
        self.message = message if message is not None else self.default_message
        self.details = details or {}
        if code is not None:
            self.code = code
        super().__init__(str(self.message))


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = _("Not found.")


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403
    default_message = _("You do not have access to this.")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    http_status = 401
    default_message = _("Log in or send a valid API token.")


class InvalidInput(DomainError):
    """Field-level validation failure. ``details['fields']`` maps field name to a list of messages."""

    code = "invalid_input"
    http_status = 422
    default_message = _("Some fields are not valid.")


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    default_message = _("This conflicts with the current state.")
