from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render

from lingkaran.core.errors import DomainError, Forbidden, NotAuthenticated, NotFound


class DomainErrorMiddleware:
    """Pages: a refused or missing object becomes the 403/404 page; an anonymous visitor goes to the log-in page.

    The API renders the same errors as problem+json in its own handler.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, NotAuthenticated):
            return redirect_to_login(request.get_full_path())
        if isinstance(exception, NotFound):
            raise Http404(str(exception.message))
        if isinstance(exception, Forbidden):
            return render(request, "web/error.html", {"status": 403, "message": exception.message}, status=403)
        if isinstance(exception, DomainError):
            return render(
                request,
                "web/error.html",
                {"status": exception.http_status, "message": exception.message},
                status=exception.http_status,
            )
        return None
