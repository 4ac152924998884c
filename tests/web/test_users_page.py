"""Settings → Users: an operator creates and edits accounts; bad input shows field-level errors and writes nothing."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.password_validation import CommonPasswordValidator, NumericPasswordValidator
from django.utils import translation

from lingkaran.core.models import AuditEvent, RegionAssignment, User

pytestmark = pytest.mark.django_db

GOOD = {
    "username": "agen.baru",
    "full_name": "Yusuf Hidayat",
    "email": "yusuf@contoh.id",
    "role": "field_agent",
    "language": "id",
    "region_codes": "64.09; 64.02",
    "password": "Lingkar-Pelindung-77",
}


def in_indonesian(message) -> str:
    with translation.override("id"):
        return translation.gettext(message) if isinstance(message, str) else str(message)


def rendered_field_errors(text: str) -> dict[str, list[str]]:
    """{field name: [error, ...]} as the page shows them under each field."""
    errors: dict[str, list[str]] = {}
    for block in re.split(r'(?=<div class="field)', text)[1:]:
        name = re.search(r'name="([a-z_]+)"', block)
        found = re.findall(r'<p class="field-error" role="alert">(.*?)</p>', block, re.S)
        if name and found:
            errors[name.group(1)] = [html.unescape(e) for e in found]
    return errors


def counts() -> tuple[int, int, int]:
    return User.objects.count(), RegionAssignment.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def operator(make_user, login):
    user = make_user("operator", username="operator")
    login(user)
    return user


def test_operator_sees_the_user_list_and_can_filter_by_role(client, operator, make_user):
    make_user("auditor", username="aud")
    make_user("worker", username="pek")
    response = client.get("/settings/users/")
    assert response.status_code == 200
    assert sorted(u.username for u in response.context["users"]) == ["aud", "operator", "pek"]
    response = client.get("/settings/users/?role=auditor")
    assert [u.username for u in response.context["users"]] == ["aud"]
    assert 'href="/settings/users/' in response.content.decode()


def test_operator_creates_an_account_through_the_form(client, operator):
    response = client.post("/settings/users/new/", GOOD)
    assert response.status_code == 302
    assert response["Location"] == "/settings/users/"
    user = User.objects.get(username="agen.baru")
    assert (user.full_name, user.email, user.role, user.language) == (
        "Yusuf Hidayat",
        "yusuf@contoh.id",
        "field_agent",
        "id",
    )
    assert user.password.startswith("argon2")
    assert user.check_password("Lingkar-Pelindung-77")
    assert sorted(user.region_assignments.values_list("region_code", flat=True)) == ["64.02", "64.09"]
    event = AuditEvent.objects.get(action="user.create")
    assert event.actor_id == operator.pk
    assert event.channel == "web"
    assert event.object_id == str(user.pk)
    assert event.details == {"role": "field_agent", "region_codes": ["64.02", "64.09"]}
    assert "Lingkar-Pelindung-77" not in str(event.details)
    page = client.get("/settings/users/").content.decode()
    assert "agen.baru" in page


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"username": ""}, "username", lambda: in_indonesian("This field is required.")),
        ({"username": "Operator"}, "username", lambda: in_indonesian("This user name is taken.")),
        (
            {"region_codes": "64.9, 64.09"},
            "region_codes",
            lambda: (
                in_indonesian(translation.gettext_lazy("Not a Kemendagri region code: %(codes)s")) % {"codes": "64.9"}
            ),
        ),
        ({"password": "1234567890"}, "password", lambda: in_indonesian(NumericPasswordValidator().get_error_message())),
        ({"role": "superadmin"}, "role", None),
        ({"email": "bukan-surel"}, "email", lambda: in_indonesian("Enter a valid email address.")),
    ],
)
def test_bad_input_shows_field_errors_with_422_and_writes_nothing(client, operator, change, field, expected):
    before = counts()
    response = client.post("/settings/users/new/", {**GOOD, **change})
    assert response.status_code == 422
    assert counts() == before
    assert not User.objects.filter(username="agen.baru").exists()
    shown = rendered_field_errors(response.content.decode())
    assert list(shown) == [field]
    assert response.context["form"].errors[field] == shown[field]
    if expected is not None:
        assert expected() in shown[field]


def test_weak_password_lists_every_broken_rule_in_indonesian(client, operator):
    response = client.post("/settings/users/new/", {**GOOD, "password": "1234567890"})
    shown = rendered_field_errors(response.content.decode())["password"]
    assert shown == [
        in_indonesian(CommonPasswordValidator().get_error_message()),
        in_indonesian(NumericPasswordValidator().get_error_message()),
    ]
    assert shown == ["Kata sandi ini terlalu umum.", "Kata sandi ini seluruhnya terdiri dari angka."]


def test_several_bad_fields_are_reported_together(client, operator):
    before = counts()
    response = client.post(
        "/settings/users/new/", {**GOOD, "username": "OPERATOR", "region_codes": "6409", "password": "1234567890"}
    )
    assert response.status_code == 422
    assert set(rendered_field_errors(response.content.decode())) == {"username", "region_codes", "password"}
    assert counts() == before


def test_non_operator_cannot_create_an_account(client, make_user, login):
    login(make_user("auditor"))
    before = counts()
    response = client.post("/settings/users/new/", GOOD)
    assert response.status_code == 403
    assert counts() == before


def test_operator_edits_role_and_regions(client, operator, make_user):
    target = make_user("worker", username="slamet", full_name="Slamet")
    response = client.get(f"/settings/users/{target.pk}/")
    assert response.status_code == 200
    assert response.context["form"].initial == {
        "full_name": "Slamet",
        "role": "worker",
        "is_active": True,
        "region_codes": "",
    }
    response = client.post(
        f"/settings/users/{target.pk}/",
        {"full_name": "Slamet Riyadi", "role": "field_agent", "is_active": "on", "region_codes": "64.09, 33.74"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/settings/users/"
    target.refresh_from_db()
    assert (target.role, target.full_name, target.is_active) == ("field_agent", "Slamet Riyadi", True)
    assert sorted(target.region_assignments.values_list("region_code", flat=True)) == ["33.74", "64.09"]
    event = AuditEvent.objects.get(action="user.update")
    assert event.actor_id == operator.pk
    assert event.object_id == str(target.pk)
    assert event.details == {
        "changes": {
            "role": ["worker", "field_agent"],
            "full_name": ["Slamet", "Slamet Riyadi"],
            "region_codes": [[], ["33.74", "64.09"]],
        }
    }

    response = client.post(
        f"/settings/users/{target.pk}/",
        {"full_name": "Slamet Riyadi", "role": "field_agent", "is_active": "on", "region_codes": "64.09"},
    )
    assert response.status_code == 302
    assert list(target.region_assignments.values_list("region_code", flat=True)) == ["64.09"]
    assert AuditEvent.objects.filter(action="user.update").count() == 2


def test_saving_without_changes_writes_no_audit_row(client, operator, make_user):
    target = make_user("auditor", full_name="Hendra", regions=["64"])
    before = AuditEvent.objects.count()
    response = client.post(
        f"/settings/users/{target.pk}/",
        {"full_name": "Hendra", "role": "auditor", "is_active": "on", "region_codes": "64"},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.count() == before


def test_bad_region_code_on_edit_changes_nothing_at_all(client, operator, make_user):
    target = make_user("worker", full_name="Tetap", regions=["64.09"])
    before = counts()
    response = client.post(
        f"/settings/users/{target.pk}/",
        {"full_name": "Berubah", "role": "field_agent", "is_active": "on", "region_codes": "64.09, x"},
    )
    assert response.status_code == 422
    assert list(rendered_field_errors(response.content.decode())) == ["region_codes"]
    target.refresh_from_db()
    assert (target.role, target.full_name) == ("worker", "Tetap")
    assert list(target.region_assignments.values_list("region_code", flat=True)) == ["64.09"]
    assert counts() == before


def test_operator_cannot_deactivate_own_account(client, operator):
    before = counts()
    response = client.post(f"/settings/users/{operator.pk}/", {"full_name": "", "role": "operator", "region_codes": ""})
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    operator.refresh_from_db()
    assert operator.is_active is True
    assert counts() == before


def test_operator_deactivates_another_account_which_then_cannot_log_in(client, operator, make_user):
    from django.test import Client

    target = make_user("worker", username="keluar", full_name="")
    response = client.post(f"/settings/users/{target.pk}/", {"full_name": "", "role": "worker", "region_codes": ""})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_active is False
    other = Client()
    other.post("/login/", {"username": "keluar", "password": "Pelindung-2026"})
    assert "_auth_user_id" not in other.session


def test_editing_an_unknown_account_is_404(client, operator):
    assert client.get("/settings/users/999999/").status_code == 404
    assert client.post("/settings/users/999999/", {"role": "worker"}).status_code == 404


def test_non_operator_cannot_edit_an_account(client, make_user, login):
    target = make_user("worker", full_name="Asli")
    login(make_user("verifier"))
    before = counts()
    response = client.post(
        f"/settings/users/{target.pk}/", {"full_name": "Palsu", "role": "operator", "is_active": "on"}
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert (target.role, target.full_name) == ("worker", "Asli")
    assert counts() == before
