"""Bahasa Indonesia by default, English selectable; Rupiah and dates formatted per language."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client
from django.utils import translation

from lingkaran.core.models import User

COOKIE = settings.LANGUAGE_COOKIE_NAME


def render(source: str, language: str, **context) -> str:
    with translation.override(language):
        return Template("{% load lingkaran %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("value", "language", "text"),
    [
        (datetime.date(2026, 11, 22), "id", "22 November 2026"),
        (datetime.date(2026, 8, 17), "id", "17 Agustus 2026"),
        (datetime.date(2027, 2, 1), "id", "1 Februari 2027"),
        (datetime.date(2026, 5, 9), "id", "9 Mei 2026"),
        (datetime.date(2026, 8, 17), "en", "17 August 2026"),
        (datetime.date(2026, 11, 22), "en", "22 November 2026"),
    ],
)
def test_date_filter_writes_dates_in_full(value, language, text):
    assert render("{{ d|date }}", language, d=value) == text


def test_month_and_short_formats_in_indonesian():
    value = datetime.date(2026, 12, 3)
    assert render('{{ d|date:"YEAR_MONTH_FORMAT" }}', "id", d=value) == "Desember 2026"
    assert render('{{ d|date:"SHORT_DATE_FORMAT" }}', "id", d=value) == "03/12/2026"


@pytest.mark.parametrize(
    ("amount", "language", "text"),
    [
        (16800, "id", "Rp 16.800"),
        (16800, "en", "Rp 16,800"),
        (1_250_000_000, "id", "Rp 1.250.000.000"),
        (0, "id", "Rp 0"),
        (-8400, "id", "-Rp 8.400"),
        (None, "id", ""),
    ],
)
def test_rupiah_filter_in_a_template(amount, language, text):
    assert render("{{ amount|rupiah }}", language, amount=amount) == text


def test_number_filter_groups_thousands_per_language():
    assert render("{{ n|number }}", "id", n=1234567) == "1.234.567"
    assert render("{{ n|number }}", "en", n=1234567) == "1,234,567"


@pytest.mark.django_db
def test_anonymous_pages_default_to_indonesian(client):
    response = client.get("/login/")
    assert '<html lang="id">' in response.content.decode()
    assert response["Content-Language"] == "id"


@pytest.mark.django_db
def test_browser_language_english_is_honoured_and_unknown_falls_back_to_indonesian():
    response = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/login/")
    assert '<html lang="en">' in response.content.decode()
    response = Client(HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").get("/login/")
    assert '<html lang="id">' in response.content.decode()


def test_switch_to_english_sets_cookie_and_saves_the_account_language(client, make_user, login):
    user = make_user("operator")
    login(user)
    assert client.cookies[COOKIE].value == "id"
    response = client.post("/language/", {"language": "en", "next": "/dashboard/"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert response.cookies[COOKIE].value == "en"
    assert response.cookies[COOKIE]["max-age"] == 60 * 60 * 24 * 365
    user.refresh_from_db()
    assert user.language == "en"
    text = client.get("/dashboard/").content.decode()
    assert '<html lang="en">' in text
    assert "Log out" in text

    client.post("/language/", {"language": "id", "next": "/dashboard/"})
    user.refresh_from_db()
    assert user.language == "id"
    assert '<html lang="id">' in client.get("/dashboard/").content.decode()


def test_language_switch_needs_post(client, make_user, login):
    user = make_user("worker")
    login(user)
    assert client.get("/language/?language=en").status_code == 405
    user.refresh_from_db()
    assert user.language == "id"


def test_unknown_language_changes_nothing(client, make_user, login):
    user = make_user("worker")
    login(user)
    response = client.post("/language/", {"language": "fr", "next": "/dashboard/"})
    assert response.status_code == 302
    assert COOKIE not in response.cookies
    user.refresh_from_db()
    assert user.language == "id"
    assert '<html lang="id">' in client.get("/dashboard/").content.decode()


def test_language_switch_refuses_an_external_next(client, db):
    response = client.post("/language/", {"language": "en", "next": "https://jahat.example/phish"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_anonymous_switch_changes_the_login_page_only(client, make_user):
    user = make_user("worker", username="anonim")
    response = client.post("/language/", {"language": "en", "next": "/login/"})
    assert response["Location"] == "/login/"
    assert '<html lang="en">' in client.get("/login/").content.decode()
    user.refresh_from_db()
    assert user.language == "id"


def test_language_chosen_before_login_is_saved_to_the_account(client, make_user, login):
    user = make_user("verifier")
    login(user, language="en")
    user.refresh_from_db()
    assert user.language == "en"
    assert '<html lang="en">' in client.get("/dashboard/").content.decode()


def test_account_language_applies_after_login_on_a_new_device(client, make_user, login):
    user = make_user("funder", language="en")
    login(user)
    assert client.cookies[COOKIE].value == "en"
    assert '<html lang="en">' in client.get("/dashboard/").content.decode()
    assert User.objects.get(pk=user.pk).language == "en"
