"""API tokens over the API: operators create (plain token returned once, SHA-256 stored) and revoke them."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from lingkaran.core.models import ApiToken, AuditEvent

pytestmark = pytest.mark.django_db

NON_OPERATORS = ["finance", "verifier", "funder", "field_agent", "worker", "auditor"]


@pytest.fixture
def operator_api(make_user, bearer):
    operator = make_user("operator", username="operator")
    api, token, _plain = bearer(operator, name="Konsol operator")
    return api, operator, token


def create(api, **data):
    return api.post("/api/v1/tokens", data=data, content_type="application/json")


def test_operator_creates_a_token_and_gets_the_plain_token_once(operator_api, make_user, db_places_holding):
    api, operator, _own = operator_api
    funder = make_user("funder", username="csr.bank")
    expires = (timezone.now() + timedelta(days=90)).replace(microsecond=0)
    response = create(api, name="ERP Bank Jateng", user_id=funder.pk, expires_at=expires.isoformat())
    assert response.status_code == 201
    body = response.json()
    token = ApiToken.objects.get(pk=body["id"])
    plain = body.pop("token")
    assert plain.startswith(f"lk_{token.prefix}_")
    assert body == {
        "id": token.pk,
        "name": "ERP Bank Jateng",
        "prefix": token.prefix,
        "acts_as": "csr.bank",
        "created_by": "operator",
        "created_at": body["created_at"],
        "expires_at": body["expires_at"],
        "last_used_at": None,
        "revoked_at": None,
        "is_active": True,
    }
    assert datetime.fromisoformat(body["expires_at"]) == expires
    assert abs(datetime.fromisoformat(body["created_at"]) - token.created_at) < timedelta(milliseconds=1)
    assert token.digest == hashlib.sha256(plain.encode()).hexdigest()
    assert db_places_holding(plain) == []
    assert db_places_holding(plain.split("_", 2)[2]) == []

    event = AuditEvent.objects.get(action="api_token.create", object_id=str(token.pk))
    assert (event.actor_id, event.channel, event.details) == (operator.pk, "api", {"acts_as": "csr.bank"})

    listed = api.get("/api/v1/tokens").json()
    assert listed["count"] == 2
    assert {t["id"] for t in listed["items"]} == {token.pk, operator_api[2].pk}
    assert plain not in str(listed)
    assert all("token" not in t and "digest" not in t for t in listed["items"])

    from django.test import Client

    me = Client(HTTP_AUTHORIZATION=f"Bearer {plain}").get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "csr.bank"


def test_each_token_is_different(operator_api, make_user):
    api, operator, _own = operator_api
    first = create(api, name="A", user_id=operator.pk).json()
    second = create(api, name="A", user_id=operator.pk).json()
    assert first["token"] != second["token"]
    assert first["prefix"] != second["prefix"]


def test_operator_revokes_a_token_over_the_api(operator_api, make_user, bearer, assert_problem):
    api, operator, _own = operator_api
    partner, token, _plain = bearer(make_user("finance"), created_by=operator)
    assert partner.get("/api/v1/me").status_code == 200

    response = api.delete(f"/api/v1/tokens/{token.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == token.pk
    assert body["is_active"] is False
    assert body["revoked_at"] is not None
    token.refresh_from_db()
    assert token.revoked_by_id == operator.pk
    assert_problem(partner.get("/api/v1/me"), 401, "not_authenticated")
    events = AuditEvent.objects.filter(action="api_token.revoke")
    assert [(e.actor_id, e.object_id, e.channel) for e in events] == [(operator.pk, str(token.pk), "api")]

    again = api.delete(f"/api/v1/tokens/{token.pk}")
    assert again.status_code == 200
    assert again.json()["revoked_at"] == body["revoked_at"]
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_an_operator_can_revoke_the_token_it_is_using(operator_api, assert_problem):
    api, _operator, own = operator_api
    assert api.delete(f"/api/v1/tokens/{own.pk}").status_code == 200
    assert_problem(api.get("/api/v1/tokens"), 401, "not_authenticated")


def test_revoking_an_unknown_token_is_404(operator_api, assert_problem):
    api, _operator, _own = operator_api
    before = AuditEvent.objects.count()
    assert_problem(api.delete("/api/v1/tokens/999999"), 404, "not_found")
    assert AuditEvent.objects.count() == before


def test_expired_token_gets_401(operator_api, make_user, assert_problem):
    api, _operator, _own = operator_api
    body = create(api, name="Sementara", user_id=make_user("auditor").pk).json()
    from django.test import Client

    partner = Client(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert partner.get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(pk=body["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert_problem(partner.get("/api/v1/me"), 401, "not_authenticated")
    listed = {t["id"]: t for t in api.get("/api/v1/tokens").json()["items"]}
    assert listed[body["id"]]["is_active"] is False
    assert listed[body["id"]]["revoked_at"] is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "Lalu", "expires_at": "2020-01-01T00:00:00+07:00"}, "expires_at"),
        ({"name": "   "}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Tanpa akun", "user_id": None}, "user_id"),
        ({"name": "Waktu", "expires_at": "besok"}, "expires_at"),
    ],
)
def test_bad_token_requests_are_422_and_create_nothing(operator_api, data, field, assert_problem):
    api, operator, _own = operator_api
    payload = {"user_id": operator.pk, **data}
    before = (ApiToken.objects.count(), AuditEvent.objects.count())
    body = assert_problem(create(api, **payload), 422, "invalid_input")
    assert list(body["details"]["fields"]) == [field]
    assert (ApiToken.objects.count(), AuditEvent.objects.count()) == before


def test_token_for_a_deactivated_account_is_refused(operator_api, make_user, assert_problem):
    api, _operator, _own = operator_api
    gone = make_user("worker", is_active=False)
    body = assert_problem(create(api, name="Mati", user_id=gone.pk), 422, "invalid_input")
    assert list(body["details"]["fields"]) == ["user"]
    assert ApiToken.objects.count() == 1


def test_token_for_an_unknown_account_is_404(operator_api, assert_problem):
    api, _operator, _own = operator_api
    assert_problem(create(api, name="Hantu", user_id=999999), 404, "not_found")
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize("role", NON_OPERATORS)
def test_non_operators_cannot_list_create_or_revoke_tokens(role, make_user, bearer, assert_problem):
    operator = make_user("operator")
    target_api, target, _plain = bearer(make_user("worker"), created_by=operator)
    user = make_user(role)
    api, _own, _plain = bearer(user, created_by=operator)
    before = (ApiToken.objects.count(), AuditEvent.objects.count())

    assert_problem(api.get("/api/v1/tokens"), 403, "forbidden")
    assert_problem(create(api, name="Curian", user_id=user.pk), 403, "forbidden")
    assert_problem(create(api, name="Curian", user_id=999999), 403, "forbidden")  # no probing of accounts
    assert_problem(api.delete(f"/api/v1/tokens/{target.pk}"), 403, "forbidden")

    assert (ApiToken.objects.count(), AuditEvent.objects.count()) == before
    target.refresh_from_db()
    assert target.revoked_at is None
    assert target_api.get("/api/v1/me").status_code == 200


def test_non_operator_session_is_refused_too(client, make_user, login, assert_problem):
    user = make_user("auditor")
    login(user)
    response = client.post("/api/v1/tokens", data={"name": "x", "user_id": user.pk}, content_type="application/json")
    assert_problem(response, 403, "forbidden")
    assert ApiToken.objects.count() == 0
