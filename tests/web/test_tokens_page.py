"""Settings → API tokens: an operator creates a token (shown once, stored as SHA-256 only) and revokes it."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from lingkaran.core.models import ApiToken, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(make_user, login):
    user = make_user("operator", username="operator")
    login(user)
    return user


def shown_token(text: str) -> str:
    match = re.search(r'<code class="token" id="new-token">([^<]+)</code>', text)
    assert match, "the new token is not shown"
    return match.group(1)


def test_operator_sees_the_token_page(client, operator, bearer, make_user):
    _client, token, plain = bearer(make_user("finance"), name="Sistem Akuntansi", created_by=operator)
    response = client.get("/settings/tokens/")
    assert response.status_code == 200
    assert [t.pk for t in response.context["tokens"]] == [token.pk]
    text = response.content.decode()
    assert "Sistem Akuntansi" in text
    assert token.prefix in text
    assert plain not in text


def test_operator_creates_a_token_shown_once_and_stored_hashed(client, operator, make_user, db_places_holding):
    agent = make_user("field_agent", username="agen.ppu", regions=["64.09"])
    expires = timezone.localtime() + timedelta(days=30)
    response = client.post(
        "/settings/tokens/new/",
        {"name": "Aplikasi Desa", "user": agent.pk, "expires_at": expires.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 201
    plain = shown_token(response.content.decode())
    assert re.fullmatch(r"lk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", plain)

    token = ApiToken.objects.get()
    assert token.name == "Aplikasi Desa"
    assert token.user_id == agent.pk
    assert token.created_by_id == operator.pk
    assert token.prefix == plain.split("_")[1]
    assert token.digest == hashlib.sha256(plain.encode()).hexdigest()
    assert token.expires_at.replace(second=0, microsecond=0) == expires.replace(second=0, microsecond=0)
    assert token.revoked_at is None
    assert db_places_holding(plain) == []
    assert db_places_holding(plain.split("_", 2)[2]) == []

    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor_id == operator.pk
    assert event.object_type == "core.apitoken"
    assert event.object_id == str(token.pk)
    assert event.details == {"acts_as": "agen.ppu"}

    # Shown once: the list page afterwards has only the prefix.
    assert plain not in client.get("/settings/tokens/").content.decode()

    # The token works on the API and acts as the field agent.
    response = Client(HTTP_AUTHORIZATION=f"Bearer {plain}").get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "agen.ppu"
    assert response.json()["region_codes"] == ["64.09"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "user": "self"}, "name"),
        ({"name": "   ", "user": "self"}, "name"),
        ({"name": "Mitra", "user": ""}, "user"),
        ({"name": "Mitra", "user": "999999"}, "user"),
        ({"name": "Mitra", "user": "inactive"}, "user"),
        ({"name": "Mitra", "user": "self", "expires_at": "2020-01-01T00:00"}, "expires_at"),
        ({"name": "Mitra", "user": "self", "expires_at": "besok"}, "expires_at"),
    ],
)
def test_bad_token_input_gives_422_with_field_error_and_creates_nothing(client, operator, make_user, data, field):
    inactive = make_user("worker", is_active=False)
    data = dict(data)
    data["user"] = {"self": str(operator.pk), "inactive": str(inactive.pk)}.get(data["user"], data["user"])
    before = AuditEvent.objects.count()
    response = client.post("/settings/tokens/new/", data)
    assert response.status_code == 422
    assert list(response.context["form"].errors) == [field]
    assert 'class="field-error"' in response.content.decode()
    assert 'id="new-token"' not in response.content.decode()
    assert ApiToken.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_operator_revokes_a_token_and_it_stops_working(client, operator, bearer, make_user):
    api, token, _plain = bearer(make_user("auditor"), created_by=operator)
    assert api.get("/api/v1/me").status_code == 200
    response = client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert response["Location"] == "/settings/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by_id == operator.pk
    assert api.get("/api/v1/me").status_code == 401
    events = list(AuditEvent.objects.filter(action="api_token.revoke"))
    assert [(e.actor_id, e.object_id) for e in events] == [(operator.pk, str(token.pk))]

    # Revoking again changes nothing and records nothing new.
    revoked_at = token.revoked_at
    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at == revoked_at
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1
    page = client.get("/settings/tokens/").content.decode()
    assert f'action="/settings/tokens/{token.pk}/revoke/"' not in page


def test_revoking_an_unknown_token_is_404(client, operator):
    assert client.post("/settings/tokens/999999/revoke/").status_code == 404


def test_revoke_needs_post(client, operator, bearer, make_user):
    _api, token, _plain = bearer(make_user("auditor"), created_by=operator)
    assert client.get(f"/settings/tokens/{token.pk}/revoke/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("role", ["finance", "verifier", "funder", "field_agent", "worker", "auditor"])
def test_non_operators_cannot_create_or_revoke_tokens(role, client, make_user, login, bearer):
    api, token, _plain = bearer(make_user("worker"))
    user = make_user(role)
    login(user)
    before = AuditEvent.objects.count()
    response = client.post("/settings/tokens/new/", {"name": "Curian", "user": user.pk})
    assert response.status_code == 403
    response = client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert response.status_code == 403
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [token.pk]
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api.get("/api/v1/me").status_code == 200
    assert AuditEvent.objects.count() == before
