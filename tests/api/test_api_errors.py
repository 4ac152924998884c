"""Every API error is application/problem+json with a stable code; validation lists the fields in the caller's
language; lists use the {items, count, limit, offset, next} envelope."""

from __future__ import annotations

import pytest
from django.utils import translation

from lingkaran.core.models import ApiToken, AuditEvent
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db


def in_language(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


@pytest.fixture
def operator_api(make_user, bearer):
    operator = make_user("operator")
    api, _token, plain = bearer(operator)
    return api, operator, plain


def test_401_problem(client, assert_problem):
    body = assert_problem(client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en"), 401, "not_authenticated")
    assert body == {
        "type": "/api/v1/problems#not_authenticated",
        "title": "Log in or send a valid API token.",
        "status": 401,
        "code": "not_authenticated",
        "detail": "Log in or send a valid API token.",
        "details": {},
        "instance": "/api/v1/me",
        "request_id": body["request_id"],
    }


def test_403_problem(make_user, bearer, assert_problem):
    api, _token, _plain = bearer(make_user("auditor"))
    body = assert_problem(api.get("/api/v1/tokens", HTTP_ACCEPT_LANGUAGE="en"), 403, "forbidden")
    assert body["title"] == "You do not have access to this."
    assert body["details"] == {"capability": "manage_api_tokens"}
    assert body["instance"] == "/api/v1/tokens"


def test_404_problem(operator_api, assert_problem):
    api, _operator, _plain = operator_api
    body = assert_problem(api.get("/api/v1/funders/424242", HTTP_ACCEPT_LANGUAGE="en"), 404, "not_found")
    assert body["title"] == "Not found."
    assert body["instance"] == "/api/v1/funders/424242"


def test_unknown_api_path_is_a_404_problem_not_a_page(operator_api, client, assert_problem):
    api, _operator, _plain = operator_api
    assert_problem(api.get("/api/v1/tidak-ada"), 404, "not_found")
    assert_problem(client.get("/api/v1/tidak-ada"), 404, "not_found")


def test_wrong_method_is_a_405_problem(operator_api, assert_problem):
    api, _operator, _plain = operator_api
    response = api.put("/api/v1/me", data={}, content_type="application/json")
    assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


def test_request_id_is_echoed_in_the_problem(client, assert_problem):
    body = assert_problem(client.get("/api/v1/me", HTTP_X_REQUEST_ID="partner-7f3a-0001"), 401, "not_authenticated")
    assert body["request_id"] == "partner-7f3a-0001"


@pytest.mark.parametrize("language", ["id", "en"])
def test_422_lists_fields_in_the_callers_language(language, operator_api, assert_problem):
    api, _operator, _plain = operator_api
    before = (ApiToken.objects.count(), AuditEvent.objects.count())
    response = api.post(
        "/api/v1/tokens", data={"user_id": "abc"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
    )
    body = assert_problem(response, 422, "invalid_input")
    assert body["details"] == {
        "fields": {
            "name": [in_language(language, "This field is required.")],
            "user_id": [in_language(language, "Enter a whole number.")],
        }
    }
    assert body["title"] == in_language(language, "Some fields are not valid.")
    assert response["Content-Language"] == language
    assert (ApiToken.objects.count(), AuditEvent.objects.count()) == before


def test_422_messages_really_differ_between_indonesian_and_english(operator_api):
    api, _operator, _plain = operator_api
    answers = {
        language: api.post(
            "/api/v1/tokens", data={}, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
        ).json()
        for language in ("id", "en")
    }
    assert answers["en"]["details"]["fields"]["name"] == ["This field is required."]
    assert answers["id"]["details"]["fields"]["name"] != answers["en"]["details"]["fields"]["name"]
    assert answers["id"]["title"] != answers["en"]["title"]


def test_default_language_of_the_api_is_indonesian(operator_api):
    api, _operator, _plain = operator_api
    body = api.post("/api/v1/tokens", data={}, content_type="application/json").json()
    assert body["details"]["fields"]["name"] == [in_language("id", "This field is required.")]


def test_422_from_a_service_names_the_field(operator_api, assert_problem):
    api, operator, _plain = operator_api
    response = api.post(
        "/api/v1/tokens",
        data={"name": "Kedaluwarsa", "user_id": operator.pk, "expires_at": "2001-01-01T00:00:00Z"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = assert_problem(response, 422, "invalid_input")
    assert body["details"] == {"fields": {"expires_at": ["The expiry must be in the future."]}}


def test_path_parameter_of_the_wrong_type_is_422(operator_api, assert_problem):
    api, _operator, _plain = operator_api
    body = assert_problem(api.get("/api/v1/funders/abc"), 422, "invalid_input")
    assert list(body["details"]["fields"]) == ["funder_id"]


def test_body_that_is_not_json_is_refused_and_writes_nothing(operator_api):
    api, _operator, _plain = operator_api
    before = ApiToken.objects.count()
    response = api.post("/api/v1/tokens", data="{tidak json", content_type="application/json")
    assert response.status_code in {400, 422}
    assert response["Content-Type"] == "application/problem+json"
    assert ApiToken.objects.count() == before


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.fixture
def seven_regions(db):
    codes = ["11", "12", "13", "14", "15", "16", "17"]
    for code in codes:
        RegionFactory(code=code, name=f"Provinsi {code}")
    return codes


def test_list_envelope_and_next_offset(operator_api, seven_regions):
    api, _operator, _plain = operator_api
    first = api.get("/api/v1/regions?limit=3").json()
    assert set(first) == {"items", "count", "limit", "offset", "next"}
    assert (first["count"], first["limit"], first["offset"], first["next"]) == (7, 3, 0, 3)
    assert [r["code"] for r in first["items"]] == ["11", "12", "13"]
    second = api.get(f"/api/v1/regions?limit=3&offset={first['next']}").json()
    assert [r["code"] for r in second["items"]] == ["14", "15", "16"]
    assert second["next"] == 6
    last = api.get("/api/v1/regions?limit=3&offset=6").json()
    assert [r["code"] for r in last["items"]] == ["17"]
    assert last["next"] is None
    beyond = api.get("/api/v1/regions?limit=3&offset=50").json()
    assert (beyond["items"], beyond["count"], beyond["next"]) == ([], 7, None)


def test_default_limit_is_50_and_500_is_allowed(operator_api, seven_regions):
    api, _operator, _plain = operator_api
    body = api.get("/api/v1/regions").json()
    assert (body["limit"], body["offset"], body["count"], body["next"]) == (50, 0, 7, None)
    assert api.get("/api/v1/regions?limit=500").json()["limit"] == 500


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=501", "limit"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("offset=-1", "offset"),
        ("limit=x", "limit"),
    ],
)
def test_bad_paging_is_422(query, field, operator_api, seven_regions, assert_problem):
    api, _operator, _plain = operator_api
    body = assert_problem(api.get(f"/api/v1/regions?{query}", HTTP_ACCEPT_LANGUAGE="en"), 422, "invalid_input")
    assert list(body["details"]["fields"]) == [field]


def test_limit_above_500_message(operator_api, assert_problem):
    api, _operator, _plain = operator_api
    body = assert_problem(api.get("/api/v1/tokens?limit=501", HTTP_ACCEPT_LANGUAGE="en"), 422, "invalid_input")
    assert body["details"] == {"fields": {"limit": ["Must be at most 500."]}}
