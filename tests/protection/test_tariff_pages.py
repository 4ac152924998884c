"""The tariffs page: what is in force for a month, the history, the calculator (also as an HTMX partial), and for
operators and finance officers the forms that add a rate or a discount window, load a bracket file, close a version.
Auditors read; other roles are refused (403) and see no link."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lingkaran.core.models import AuditEvent
from lingkaran.protection.models import BracketTable, DiscountRule, ProgrammeRate

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize("role", ["operator", "finance", "auditor"])
def test_readers_see_the_tariffs_in_force_and_the_link(client, make_user, login, role):
    login(make_user(role))
    response = client.get("/tariffs/?month=2026-06")
    assert response.status_code == 200
    context = response.context
    assert context["month"] == date(2026, 6, 1)
    assert [r.programme for r, _text in context["rates"]] == ["jkk", "jkm", "jht"]
    assert [b.nominal for b in context["table"].brackets] == [1_000_000, 2_000_000]
    assert [rule.sector for rule, *_rest in context["discounts"]] == ["other", "transport"] or [
        rule.sector for rule, *_rest in context["discounts"]
    ] == ["transport", "other"]
    assert context["can_manage"] is (role != "auditor")
    text = text_of(response)
    assert 'href="/tariffs/"' in text
    assert "Rp 6.800" in text
    assert "50 %" in text
    assert "JKK + JKM" in text
    assert "APBN, APBD" in text
    assert ("rate-programme" in text) is (role != "auditor")  # the manage forms


@pytest.mark.parametrize("role", ["verifier", "funder", "field_agent", "worker"])
def test_other_roles_are_refused_and_see_no_link(client, make_user, login, role):
    login(make_user(role))
    assert client.get("/tariffs/").status_code == 403
    assert client.get("/tariffs/brackets.csv").status_code == 403
    assert 'href="/tariffs/"' not in client.get("/dashboard/").content.decode()


def test_anonymous_visitors_go_to_the_login_page(client):
    response = client.get("/tariffs/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_month_shown_defaults_to_this_month_and_shows_no_discount_outside_windows(client, make_user, login):
    login(make_user("auditor"))
    response = client.get("/tariffs/?month=2027-06")
    assert response.context["discounts"] == []
    assert client.get("/tariffs/?month=bad").status_code == 200


def test_the_calculator(client, make_user, login):
    login(make_user("finance"))
    query = {
        "month": "2026-06",
        "declared_income": "1.000.000",
        "sector": "other",
        "package": "jkk_jkm_jht",
        "source": "csr",
    }
    response = client.get("/tariffs/", query)
    assert response.status_code == 200
    quote = response.context["quote"]
    assert (quote.jkk, quote.jkm, quote.jht, quote.total, quote.full_total) == (5_000, 3_400, 20_000, 28_400, 36_800)
    assert 'data-testid="quote-total">Rp 28.400<' in text_of(response)
    partial = client.get("/tariffs/", {**query, "source": "apbd"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert partial.context["quote"].total == 36_800
    assert 'data-testid="quote-total">Rp 36.800<' in text_of(partial)
    assert "HX-Request" in partial["Vary"]


def test_the_calculator_explains_a_bad_input_and_a_month_without_tariffs(client, make_user, login):
    login(make_user("operator"))
    bad = {"month": "2026-13", "declared_income": "sejuta", "sector": "other", "package": "jkk_jkm", "source": "csr"}
    response = client.get("/tariffs/", bad, headers={"HX-Request": "true"})
    assert response.context["quote"] is None
    assert set(response.context["quote_form"].errors) == {"month", "declared_income"}
    early = {**bad, "month": "2015-06", "declared_income": "1000000"}
    response = client.get("/tariffs/", early, headers={"HX-Request": "true"})
    assert response.context["quote"] is None
    assert list(response.context["quote_form"].errors) == ["month"]


def test_finance_adds_a_rate_through_the_form(client, make_user, login):
    user = make_user("finance")
    login(user)
    response = client.post(
        "/tariffs/rates/",
        {"rate-programme": "jkm", "rate-valid_from": "2027-01", "rate-flat_amount": "Rp 7.000", "rate-regulation": "PP 9/2026"},
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"].endswith("/tariffs/#history")
    new = ProgrammeRate.objects.get(programme="jkm", valid_from=date(2027, 1, 1))
    assert (new.flat_amount, new.rate_bp, new.created_by) == (7_000, None, user)
    assert ProgrammeRate.objects.get(programme="jkm", valid_from=date(2015, 7, 1)).valid_to == date(2026, 12, 1)
    assert AuditEvent.objects.filter(action="tariff.rate_add", channel="web").count() == 1


def test_a_refused_rate_form_shows_the_reason_and_changes_nothing(client, make_user, login):
    login(make_user("operator"))
    count = ProgrammeRate.objects.count()
    both = {"rate-programme": "jkk", "rate-valid_from": "2027-01", "rate-rate": "1,5", "rate-flat_amount": "10",
            "rate-regulation": "X"}  # fmt: skip
    response = client.post("/tariffs/rates/", both)
    assert response.status_code == 422
    assert "rate" in response.context["rate_form"].errors
    same_month = {"rate-programme": "jkk", "rate-valid_from": "2015-07", "rate-rate": "1,5", "rate-regulation": "X"}
    response = client.post("/tariffs/rates/", same_month)
    assert response.status_code == 422
    assert response.context["rate_form"].non_field_errors()
    assert ProgrammeRate.objects.count() == count


def test_a_percentage_is_read_as_basis_points(client, make_user, login):
    login(make_user("operator"))
    client.post(
        "/tariffs/rates/",
        {"rate-programme": "jkk", "rate-valid_from": "2027-01", "rate-rate": "0,54", "rate-regulation": "X"},
    )
    assert ProgrammeRate.objects.get(programme="jkk", valid_from=date(2027, 1, 1)).rate_bp == 54


def test_a_discount_window_through_the_form(client, make_user, login):
    login(make_user("operator"))
    form = {
        "discount-valid_from": "2028-01",
        "discount-valid_to": "2028-06",
        "discount-discount": "25",
        "discount-sector": "all",
        "discount-programmes": ["jkk", "jkm"],
        "discount-excluded_sources": ["apbn", "apbd"],
        "discount-regulation": "PP 1/2028",
        "discount-source_url": "https://peraturan.bpk.go.id/x",
    }
    assert client.post("/tariffs/discounts/", form).status_code == 302
    rule = DiscountRule.objects.get(valid_from=date(2028, 1, 1))
    assert (rule.discount_bp, rule.sector, rule.valid_to, rule.excluded_sources) == (
        2_500, "all", date(2028, 6, 1), ["apbd", "apbn"],
    )  # fmt: skip
    response = client.post("/tariffs/discounts/", {**form, "discount-valid_from": "2028-06"})
    assert response.status_code == 422
    assert response.context["discount_form"].non_field_errors()
    assert DiscountRule.objects.count() == 3


def test_loading_a_bracket_file_through_the_page(client, make_user, login):
    login(make_user("finance"))
    good = b"valid_from,income_from,income_to,nominal,regulation\n2027-01,0,,1500000,PP 1/2027\n"
    response = client.post("/tariffs/brackets/", {"brackets-file": SimpleUploadedFile("b.csv", good)})
    assert response.status_code == 302
    assert BracketTable.objects.get(valid_from=date(2027, 1, 1)).brackets.get().nominal == 1_500_000
    bad = b"valid_from,income_from,income_to,nominal,regulation\n2027-13,0,,0,X\n"
    response = client.post("/tariffs/brackets/", {"brackets-file": SimpleUploadedFile("b.csv", bad)})
    assert response.status_code == 422
    assert [(p["line"], p["code"]) for p in response.context["load_problems"]] == [
        (2, "month_invalid"),
        (2, "nominal_invalid"),
    ]
    assert BracketTable.objects.count() == 2


def test_closing_a_version_from_the_history(client, make_user, login):
    login(make_user("operator"))
    rule = DiscountRule.objects.get(sector="transport")
    response = client.post(f"/tariffs/discount/{rule.pk}/close/", {"last_month": "2026-12"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.valid_to == date(2026, 12, 1)
    response = client.post(f"/tariffs/discount/{rule.pk}/close/", {"last_month": "2025-01"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.valid_to == date(2026, 12, 1)
    assert client.post("/tariffs/discount/999999/close/", {"last_month": "2026-12"}).status_code == 404
    assert client.post("/tariffs/nothing/1/close/", {"last_month": "2026-12"}).status_code == 302


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/tariffs/rates/", {"rate-programme": "jkk"}),
        ("/tariffs/discounts/", {}),
        ("/tariffs/brackets/", {}),
        ("/tariffs/rate/1/close/", {"last_month": "2026-12"}),
    ],
)
def test_auditors_cannot_change_tariffs(client, make_user, login, url, data):
    login(make_user("auditor"))
    assert client.post(url, data).status_code == 403


def test_the_page_in_english(client, make_user, login):
    login(make_user("auditor"), language="en")
    response = client.get("/tariffs/?month=2026-06")
    assert '<html lang="en">' in response.content.decode()
    assert "Rp 6,800" in text_of(response)
