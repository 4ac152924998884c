"""Errors that never reach the API's own handlers still answer ``application/problem+json`` under ``/api/``.

An unknown path (Django's URL resolver answers 404 before ninja sees the request) and a method a path does not take
(ninja answers 405 itself) would otherwise come back as an HTML page or plain text.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from lingkaran.api.errors import problem


class ApiProblemFallbackMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith(("application/problem+json", "application/json"))
        ):
            if response.status_code == 404:
                return problem(request, status=404, code="not_found", title=_("Not found."))
            if response.status_code == 405:
                fallback = problem(
                    request, status=405, code="method_not_allowed", title=_("This method is not allowed here.")
                )
                if response.has_header("Allow"):
                    fallback["Allow"] = response["Allow"]
                return fallback
        return response
