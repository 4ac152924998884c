"""API authentication: bearer tokens for partner systems, the browser session (CSRF-checked), 401 otherwise."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from lingkaran.core.models import ApiToken, AuditEvent

pytestmark = pytest.mark.django_db

PROTECTED = [
    ("get", "/api/v1/me"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/1"),
    ("get", "/api/v1/audit-events"),
    ("get", "/api/v1/funders"),
    ("get", "/api/v1/funders/1"),
    ("get", "/api/v1/regions"),
    ("get", "/api/v1/regions/64"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_anonymous_calls_get_401_problem(method, path, client, assert_problem):
    kwargs = {"data": {"name": "x", "user_id": 1}, "content_type": "application/json"} if method == "post" else {}
    response = getattr(client, method)(path, **kwargs)
    assert_problem(response, 401, "not_authenticated")
    assert ApiToken.objects.count() == 0


def test_health_needs_no_login(client, db):
    from django.db import connection

    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


def test_bearer_token_acts_as_its_user(make_user, bearer):
    agent = make_user("field_agent", username="agen.ppu", full_name="Yusuf Hidayat", regions=["64.09", "64.02"])
    api, _token, _plain = bearer(agent)
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": agent.pk,
        "username": "agen.ppu",
        "full_name": "Yusuf Hidayat",
        "role": "field_agent",
        "language": "id",
        "region_codes": ["64.02", "64.09"],
    }


def test_bearer_use_records_last_used(make_user, bearer):
    api, token, _plain = bearer(make_user("auditor"))
    assert token.last_used_at is None
    before = timezone.now()
    assert api.get("/api/v1/me").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at >= before


def test_browser_session_works_on_the_api(client, make_user, login):
    user = make_user("verifier", username="siti")
    login(user)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "siti"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer rahasia",
        "Bearer lk_",
        "Bearer lk_00000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "Basic dXNlcjpwYXNz",
        "Token {plain}",
    ],
)
def test_bad_credentials_get_401(header, make_user, bearer, assert_problem):
    _api, _token, plain = bearer(make_user("operator"))
    response = Client(HTTP_AUTHORIZATION=header.format(plain=plain)).get("/api/v1/me")
    assert_problem(response, 401, "not_authenticated")


def test_right_prefix_with_wrong_secret_gets_401(make_user, bearer, assert_problem):
    _api, token, plain = bearer(make_user("operator"))
    forged = f"lk_{token.prefix}_" + "A" * 43
    assert forged != plain
    response = Client(HTTP_AUTHORIZATION=f"Bearer {forged}").get("/api/v1/me")
    assert_problem(response, 401, "not_authenticated")
    token.refresh_from_db()
    assert token.last_used_at is None


def test_revoked_token_gets_401(make_user, bearer, assert_problem):
    operator = make_user("operator")
    api, token, _plain = bearer(make_user("finance"), created_by=operator)
    assert api.get("/api/v1/me").status_code == 200
    from lingkaran.core.services import api_token_revoke

    api_token_revoke(token_id=token.pk, revoked_by=operator)
    assert_problem(api.get("/api/v1/me"), 401, "not_authenticated")


def test_expired_token_gets_401(make_user, bearer, assert_problem):
    api, token, _plain = bearer(make_user("finance"), expires_at=timezone.now() + timedelta(hours=1))
    assert api.get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_problem(api.get("/api/v1/me"), 401, "not_authenticated")


def test_token_of_a_deactivated_account_gets_401(make_user, bearer, assert_problem):
    user = make_user("finance")
    api, _token, _plain = bearer(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_problem(api.get("/api/v1/me"), 401, "not_authenticated")


def test_session_write_without_csrf_token_is_refused(make_user, assert_problem):
    operator = make_user("operator")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator)
    before = AuditEvent.objects.count()
    response = strict.post(
        "/api/v1/tokens", data={"name": "Tanpa CSRF", "user_id": operator.pk}, content_type="application/json"
    )
    assert_problem(response, 403, "csrf_failed")
    assert ApiToken.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_bearer_write_needs_no_csrf_token(make_user):
    operator = make_user("operator")
    from lingkaran.core.services import api_token_create

    _token, plain = api_token_create(user=operator, name="Otomasi", created_by=operator)
    strict = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {plain}")
    response = strict.post(
        "/api/v1/tokens", data={"name": "Kedua", "user_id": operator.pk}, content_type="application/json"
    )
    assert response.status_code == 201
    assert ApiToken.objects.count() == 2


def test_writes_through_a_token_are_audited_as_api_calls_with_the_request_id(make_user, bearer):
    operator = make_user("operator", username="otomasi")
    api, _token, _plain = bearer(operator)
    response = api.post(
        "/api/v1/tokens",
        data={"name": "Mitra BAZNAS", "user_id": operator.pk},
        content_type="application/json",
        HTTP_X_REQUEST_ID="req-0001-abcdef",
    )
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-0001-abcdef"
    event = AuditEvent.objects.get(action="api_token.create", object_id=str(response.json()["id"]))
    assert (event.channel, event.actor_label, event.request_id, event.ip_address) == (
        "api",
        "otomasi",
        "req-0001-abcdef",
        "127.0.0.1",
    )


def test_an_unsafe_request_id_is_replaced(make_user, bearer):
    api, _token, _plain = bearer(make_user("auditor"))
    response = api.get("/api/v1/me", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert response["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(response["X-Request-ID"]) == 32
