"""The tariff endpoints: GET /api/v1/tariffs (in force for a month) and GET/POST /api/v1/tariffs/quote (the amount
due for one worker-month), for operators, finance officers and auditors, in the OpenAPI schema."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

QUOTE = {"month": "2026-06", "declared_income": 1_000_000, "sector": "other", "package": "jkk_jkm_jht", "source": "csr"}


def test_the_tariffs_in_force_for_a_month(bearer, make_user):
    client, _token, _plain = bearer(make_user("auditor"))
    response = client.get("/api/v1/tariffs", {"month": "2026-06"})
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert body["month"] == "2026-06"
    assert [
        (r["programme"], r["rate_bp"], r["flat_amount"], r["valid_from"], r["valid_to"]) for r in body["rates"]
    ] == [
        ("jkk", 100, None, "2015-07", None),
        ("jkm", None, 6_800, "2015-07", None),
        ("jht", 200, None, "2015-07", None),
    ]
    assert body["brackets"]["provisional"] is True
    assert body["brackets"]["brackets"] == [
        {"income_from": 0, "income_to": 1_000_000, "nominal": 1_000_000},
        {"income_from": 2_000_000, "income_to": 2_000_000, "nominal": 2_000_000},
    ]
    windows = {d["sector"]: d for d in body["discounts"]}
    assert set(windows) == {"transport", "other"}
    assert windows["other"] == {
        "valid_from": "2026-04",
        "valid_to": "2026-12",
        "programmes": ["jkk", "jkm"],
        "discount_bp": 5_000,
        "sector": "other",
        "excluded_sources": ["apbn", "apbd"],
        "regulation": windows["other"]["regulation"],
    }
    assert "PP 50/2025" in windows["other"]["regulation"]
    later = json.loads(client.get("/api/v1/tariffs", {"month": "2027-04"}).content)
    assert later["discounts"] == []
    assert json.loads(client.get("/api/v1/tariffs").content)["month"]  # default: this month


def test_a_quote_by_query_and_by_body_agree(bearer, make_user):
    client, _token, _plain = bearer(make_user("finance"))
    by_query = client.get("/api/v1/tariffs/quote", QUOTE)
    by_body = client.post("/api/v1/tariffs/quote", QUOTE, content_type="application/json")
    assert by_query.status_code == by_body.status_code == 200
    body = json.loads(by_query.content)
    assert body == json.loads(by_body.content)
    assert (body["jkk"], body["jkm"], body["jht"], body["total"]) == (5_000, 3_400, 20_000, 28_400)
    assert body["full"] == {"jkk": 10_000, "jkm": 6_800, "jht": 20_000, "total": 36_800}
    assert body["bracket"] == {"income_from": 0, "income_to": 1_000_000, "nominal": 1_000_000}
    assert (body["income_in_bracket"], body["discounted"]) == (True, True)
    (applied,) = body["discounts"]
    assert (applied["sector"], applied["discount_bp"], applied["applied_to"]) == ("other", 5_000, ["jkk", "jkm"])


@pytest.mark.parametrize(
    ("changes", "total", "discounted"),
    [
        ({"source": "apbd"}, 36_800, False),
        ({"package": "jkk_jkm", "month": "2026-03"}, 16_800, False),
        ({"package": "jkk_jkm", "month": "2026-03", "sector": "transport"}, 8_400, True),
        ({"package": "jkk_jkm", "declared_income": 2_000_000, "month": "2027-01"}, 26_800, False),
    ],
)
def test_quotes_across_the_window_edges(bearer, make_user, changes, total, discounted):
    client, _token, _plain = bearer(make_user("operator"))
    body = json.loads(
        client.post("/api/v1/tariffs/quote", {**QUOTE, **changes}, content_type="application/json").content
    )
    assert (body["total"], body["discounted"]) == (total, discounted)


@pytest.mark.parametrize(
    "changes",
    [
        {"month": "2026-13"},
        {"month": "June 2026"},
        {"declared_income": -1},
        {"declared_income": "sejuta"},
        {"sector": "fishing"},
        {"package": "jht"},
        {"source": "apbdes"},
    ],
)
def test_a_bad_quote_is_invalid_input(bearer, make_user, assert_problem, changes):
    client, _token, _plain = bearer(make_user("operator"))
    response = client.post("/api/v1/tariffs/quote", {**QUOTE, **changes}, content_type="application/json")
    body = assert_problem(response, 422, "invalid_input")
    assert set(body["details"]["fields"]) == set(changes)
    by_query = assert_problem(client.get("/api/v1/tariffs/quote", {**QUOTE, **changes}), 422, "invalid_input")
    assert set(by_query["details"]["fields"]) == set(changes)


def test_a_month_without_tariffs_is_named(bearer, make_user, assert_problem):
    client, _token, _plain = bearer(make_user("operator"))
    response = client.get("/api/v1/tariffs/quote", {**QUOTE, "month": "2015-06"})
    body = assert_problem(response, 422, "tariff_not_in_force")
    assert body["details"] == {"month": "2015-06", "missing": ["jkk", "jkm", "jht", "brackets"]}


@pytest.mark.parametrize("role", ["verifier", "funder", "field_agent", "worker"])
def test_other_roles_are_refused(bearer, make_user, assert_problem, role):
    client, _token, _plain = bearer(make_user(role))
    assert_problem(client.get("/api/v1/tariffs"), 403, "forbidden")
    assert_problem(client.get("/api/v1/tariffs/quote", QUOTE), 403, "forbidden")
    assert_problem(client.post("/api/v1/tariffs/quote", QUOTE, content_type="application/json"), 403, "forbidden")


def test_without_a_token_the_answer_is_401(client, assert_problem):
    assert_problem(client.get("/api/v1/tariffs"), 401, "not_authenticated")


def test_a_bad_month_for_the_tariffs_in_force_is_invalid_input(bearer, make_user, assert_problem):
    client, _token, _plain = bearer(make_user("operator"))
    body = assert_problem(client.get("/api/v1/tariffs", {"month": "2026-4"}), 422, "invalid_input")
    assert set(body["details"]["fields"]) == {"month"}


def test_the_endpoints_are_in_the_schema(client):
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {
        ("/api/v1/tariffs", "get"),
        ("/api/v1/tariffs/quote", "get"),
        ("/api/v1/tariffs/quote", "post"),
    } <= operations
    post = schema["paths"]["/api/v1/tariffs/quote"]["post"]
    assert "requestBody" in post
    assert post["security"]
