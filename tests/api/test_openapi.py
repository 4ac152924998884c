"""The OpenAPI schema at /api/v1/openapi.json and the docs page at /api/v1/docs."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

FOUNDATION_OPERATIONS = {
    ("/api/v1/health", "get"),
    ("/api/v1/me", "get"),
    ("/api/v1/tokens", "get"),
    ("/api/v1/tokens", "post"),
    ("/api/v1/tokens/{token_id}", "delete"),
    ("/api/v1/audit-events", "get"),
    ("/api/v1/funders", "get"),
    ("/api/v1/funders/{funder_id}", "get"),
    ("/api/v1/regions", "get"),
    ("/api/v1/regions/{code}", "get"),
}


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_schema_is_openapi_3_1_with_title_and_version(schema):
    from lingkaran import __version__

    assert schema["openapi"].startswith("3.1")
    assert schema["info"]["title"] == "Lingkaran API"
    assert schema["info"]["version"] == __version__
    assert "problem+json" in schema["info"]["description"]


def test_schema_lists_the_foundation_operations(schema):
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations >= FOUNDATION_OPERATIONS
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


def test_bearer_authentication_is_declared_and_health_is_open(schema):
    schemes = schema["components"]["securitySchemes"]
    bearer = [s for s in schemes.values() if s.get("scheme") == "bearer"]
    assert len(bearer) == 1
    assert bearer[0]["type"] == "http"
    assert "security" not in schema["paths"]["/api/v1/health"]["get"]
    assert schema["paths"]["/api/v1/me"]["get"]["security"]


def test_list_endpoints_document_the_paging_parameters(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/regions"]["get"]["parameters"]}
    assert {"limit", "offset"} <= set(parameters)
    limit = parameters["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 500, 50)


def test_token_creation_documents_the_201_answer(schema):
    post = schema["paths"]["/api/v1/tokens"]["post"]
    assert "201" in post["responses"]
    assert "requestBody" in post


def test_schema_is_public_and_identical_for_any_caller(client, make_user, login, schema):
    login(make_user("worker"))
    assert json.loads(client.get("/api/v1/openapi.json").content) == schema


def test_docs_page_renders_and_points_at_the_schema(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "<title>Lingkaran API</title>" in text
    assert "/api/v1/openapi.json" in text
