"""Every API error is ``application/problem+json`` (RFC 9457) with a stable ``code``.

``{"type", "title", "status", "code", "detail", "details", "instance", "request_id"}``. ``code`` is what clients branch
on; ``title``/``detail`` are in the caller's language (``Accept-Language``: id or en). Validation problems list the
fields: ``details.fields = {"name": ["This field is required."]}``.
"""

from __future__ import annotations

import json
import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from lingkaran.core.errors import DomainError

logger = logging.getLogger("lingkaran.api")

PROBLEM_TYPE_BASE = "/api/v1/problems#"


def problem(request, *, status: int, code: str, title: str, detail: str = "", details: dict | None = None):
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "code": code,
        "detail": detail or title,
        "details": details or {},
        "instance": request.path,
        "request_id": getattr(request, "request_id", ""),
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json")


def _field_message(error: dict) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages = {
        "missing": _("This field is required."),
        "string_too_short": _("Too short: at least %(n)s characters.") % {"n": ctx.get("min_length", "")},
        "string_too_long": _("Too long: at most %(n)s characters.") % {"n": ctx.get("max_length", "")},
        "int_parsing": _("Enter a whole number."),
        "int_type": _("Enter a whole number."),
        "bool_parsing": _("Enter true or false."),
        "date_from_datetime_parsing": _("Enter a date as YYYY-MM-DD."),
        "date_parsing": _("Enter a date as YYYY-MM-DD."),
        "datetime_parsing": _("Enter a date and time in ISO 8601."),
        "datetime_from_date_parsing": _("Enter a date and time in ISO 8601."),
        "greater_than_equal": _("Must be at least %(n)s.") % {"n": ctx.get("ge", "")},
        "less_than_equal": _("Must be at most %(n)s.") % {"n": ctx.get("le", "")},
        "greater_than": _("Must be more than %(n)s.") % {"n": ctx.get("gt", "")},
        "enum": _("Choose one of: %(options)s.") % {"options": ctx.get("expected", "")},
        "literal_error": _("Choose one of: %(options)s.") % {"options": ctx.get("expected", "")},
        "json_invalid": _("The request body is not valid JSON."),
        "model_attributes_type": _("The request body must be a JSON object."),
        "dict_type": _("The request body must be a JSON object."),
        "string_type": _("Enter text."),
    }
    return messages.get(kind, error.get("msg", _("Not valid.")))


def _field_name(loc) -> str:
    # ninja locations look like ("body", "payload", "name") or ("query", "limit").
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "cookie", "payload")]
    return ".".join(parts) or "body"


def install(api) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return problem(request, status=exc.http_status, code=exc.code, title=str(exc.message), details=exc.details)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            fields.setdefault(_field_name(error.get("loc", ())), []).append(_field_message(error))
        return problem(
            request,
            status=422,
            code="invalid_input",
            title=_("Some fields are not valid."),
            details={"fields": fields},
        )

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, exc):
        return problem(request, status=401, code="not_authenticated", title=_("Log in or send a valid API token."))

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        response = problem(request, status=429, code="rate_limited", title=_("Too many requests; slow down."))
        if exc.wait:
            response["Retry-After"] = str(int(exc.wait))
        return response

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if exc.status_code == 403 and "csrf" in str(exc).lower():
            return problem(
                request,
                status=403,
                code="csrf_failed",
                title=_(
                    "The CSRF check failed: send the csrftoken cookie value in the X-CSRFToken header, or use a token."
                ),
            )
        if exc.status_code == 400:
            return problem(
                request,
                status=400,
                code="malformed_request",
                title=_("The request body could not be read; send valid JSON (or form data where documented)."),
                detail=str(exc),
            )
        return problem(request, status=exc.status_code, code=f"http_{exc.status_code}", title=str(exc))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return problem(request, status=404, code="not_found", title=_("Not found."))

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return problem(request, status=403, code="forbidden", title=_("You do not have access to this."))

    @api.exception_handler(Exception)
    def unexpected(request, exc):
        logger.exception("unhandled API error on %s", request.path)
        return problem(request, status=500, code="internal_error", title=_("Something went wrong on our side."))
