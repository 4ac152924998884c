"""Log-in and log-out through the real pages: audit rows, Argon2, django-axes lock-out."""

from __future__ import annotations

import html

import pytest
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.test import Client
from django.utils import translation

from lingkaran.core.models import AuditEvent, User
from lingkaran.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def invalid_login_message(language: str) -> str:
    with translation.override(language):
        username_label = User._meta.get_field("username").verbose_name
        return str(AuthenticationForm.error_messages["invalid_login"] % {"username": username_label})


def events(action: str):
    return AuditEvent.objects.filter(action=action)


def test_login_page_renders_in_indonesian(client):
    response = client.get("/login/")
    assert response.status_code == 200
    text = response.content.decode()
    assert '<html lang="id">' in text
    assert 'name="username"' in text
    assert 'name="password"' in text
    assert response["Content-Language"] == "id"


def test_password_is_stored_with_argon2(make_user):
    user = make_user("worker")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(DEMO_PASSWORD)
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_login_records_audit_event_and_opens_the_dashboard(client, make_user):
    user = make_user("finance", username="bendahara")
    response = client.post("/login/", {"username": "bendahara", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.session["_auth_user_id"] == str(user.pk)
    login_events = list(events("user.login"))
    assert len(login_events) == 1
    event = login_events[0]
    assert event.actor_id == user.pk
    assert event.actor_label == "bendahara"
    assert event.channel == "web"
    assert event.object_type == "core.user"
    assert event.object_id == str(user.pk)
    assert event.ip_address == "127.0.0.1"
    assert len(event.request_id) == 32
    assert client.get("/dashboard/").status_code == 200


def test_wrong_password_shows_error_and_records_failed_login(client, make_user):
    make_user("operator", username="rina")
    before_logins = events("user.login").count()
    response = client.post("/login/", {"username": "rina", "password": "salah-sekali-123"})
    assert response.status_code == 200
    text = response.content.decode()
    expected = html.escape(invalid_login_message("id"))
    assert expected != html.escape(invalid_login_message("en"))
    assert expected in text
    assert 'role="alert"' in text
    assert "_auth_user_id" not in client.session
    failed = list(events("user.login_failed"))
    assert len(failed) == 1
    assert failed[0].actor is None
    assert failed[0].details == {"username": "rina"}
    assert "salah-sekali-123" not in str(failed[0].details)
    assert events("user.login").count() == before_logins
    assert client.get("/dashboard/").status_code == 302


def test_unknown_user_name_is_a_failed_login_too(client, db):
    response = client.post("/login/", {"username": "tidak-ada", "password": "apa-saja-1234"})
    assert response.status_code == 200
    assert html.escape(invalid_login_message("id")) in response.content.decode()
    assert [e.details for e in events("user.login_failed")] == [{"username": "tidak-ada"}]


def test_inactive_account_cannot_log_in(client, make_user):
    make_user("worker", username="nonaktif", is_active=False)
    response = client.post("/login/", {"username": "nonaktif", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert events("user.login").count() == 0


def test_login_follows_a_local_next_but_not_an_external_one(client, make_user):
    make_user("auditor", username="hendra")
    response = client.post("/login/?next=/audit/", {"username": "hendra", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/audit/"
    other = Client()
    response = other.post("/login/?next=https://jahat.example/", {"username": "hendra", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_logout_is_a_post_and_records_an_audit_event(client, make_user, login):
    user = make_user("verifier")
    login(user)
    assert client.get("/logout/").status_code == 405
    assert client.session["_auth_user_id"] == str(user.pk)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    logout_events = list(events("user.logout"))
    assert len(logout_events) == 1
    assert logout_events[0].actor_id == user.pk
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/dashboard/"


def test_logged_in_user_visiting_login_page_goes_to_dashboard(client, make_user, login):
    login(make_user("worker"))
    response = client.get("/login/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_lockout_after_failure_limit_even_with_the_right_password(client, make_user):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    make_user("operator", username="target")
    for attempt in range(1, limit):
        response = client.post("/login/", {"username": "target", "password": f"tebakan-{attempt}-xyz"})
        assert response.status_code == 200, attempt
    response = client.post("/login/", {"username": "target", "password": "tebakan-terakhir"})
    assert response.status_code == 429
    assert events("user.login_failed").count() == limit

    response = client.post("/login/", {"username": "target", "password": DEMO_PASSWORD})
    assert response.status_code == 429
    text = response.content.decode()
    assert '<html lang="id">' in text
    assert 'role="alert"' in text
    assert 'name="password"' not in text  # the locked-out page, not the log-in form
    assert "_auth_user_id" not in client.session
    assert events("user.login").count() == 0
    assert client.get("/dashboard/").status_code == 302


def test_lockout_is_per_user_name_so_another_account_still_logs_in(client, make_user):
    make_user("operator", username="target")
    other = make_user("worker", username="other")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "target", "password": f"tebakan-{attempt}-xyz"})
    fresh = Client()
    response = fresh.post("/login/", {"username": "other", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert fresh.session["_auth_user_id"] == str(other.pk)


def test_a_successful_login_resets_the_failure_count(client, make_user):
    make_user("operator", username="lupa")
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/login/", {"username": "lupa", "password": f"x-{attempt}-salah"}).status_code == 200
    assert client.post("/login/", {"username": "lupa", "password": DEMO_PASSWORD}).status_code == 302
    client.post("/logout/")
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/login/", {"username": "lupa", "password": f"y-{attempt}-salah"}).status_code == 200
    assert client.post("/login/", {"username": "lupa", "password": DEMO_PASSWORD}).status_code == 302


def test_session_and_csrf_cookies_are_protected(client, make_user):
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"
    make_user("worker", username="kuki")
    response = client.post("/login/", {"username": "kuki", "password": DEMO_PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_login_form_requires_csrf_token(make_user):
    make_user("worker", username="csrf")
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/login/", {"username": "csrf", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in strict.session
    assert events("user.login").count() == 0
