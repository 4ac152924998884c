"""API authentication: a partner system's bearer token, or the logged-in browser session (with CSRF)."""

from ninja.security import HttpBearer, django_auth

from lingkaran.core import context
from lingkaran.core.services import api_token_authenticate


class TokenAuth(HttpBearer):
    openapi_description = "Bearer token created by an operator (Settings → API tokens); acts as one account."

    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is None:
            return None
        request.user = user
        context.switch_channel("api")
        return user


AUTH = [TokenAuth(), django_auth]
