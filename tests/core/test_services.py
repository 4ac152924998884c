"""Account and token services: field-level errors that write nothing, role checks, audit rows."""

from __future__ import annotations

import pytest
from django.utils import translation

from lingkaran.core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from lingkaran.core.models import ApiToken, AuditEvent, RegionAssignment, User
from lingkaran.core.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    user_create,
    user_update,
)

pytestmark = pytest.mark.django_db

STRONG = "Lingkar-Pelindung-77"


def state() -> tuple:
    return (
        list(User.objects.order_by("pk").values_list("pk", "username", "role", "full_name", "is_active")),
        list(RegionAssignment.objects.order_by("pk").values_list("user_id", "region_code")),
        AuditEvent.objects.count(),
        ApiToken.objects.count(),
    )


def gettext_id(message: str) -> str:
    with translation.override("id"):
        return translation.gettext(message)


@pytest.fixture
def operator(make_user):
    return make_user("operator", username="operator")


# --- user_create ----------------------------------------------------------------------------------------------------


def test_user_create_writes_the_account_regions_and_audit_row(operator):
    user = user_create(
        username=" agen.baru ",
        password=STRONG,
        role="field_agent",
        full_name=" Maria Ulfa ",
        email="maria@contoh.id",
        language="en",
        region_codes=["33.74", "64.09", "33.74"],
        created_by=operator,
    )
    user.refresh_from_db()
    assert (user.username, user.full_name, user.role, user.language, user.is_superuser) == (
        "agen.baru",
        "Maria Ulfa",
        "field_agent",
        "en",
        False,
    )
    assert user.password.startswith("argon2")
    assert list(user.region_assignments.values_list("region_code", flat=True)) == ["33.74", "64.09"]
    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor_id, event.object_id, event.object_label) == (operator.pk, str(user.pk), "Maria Ulfa")
    assert event.details == {"role": "field_agent", "region_codes": ["33.74", "64.09"]}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"username": "OPERATOR"}, "username", "This user name is taken."),
        ({"username": "operator"}, "username", "This user name is taken."),
        ({"username": "   "}, "username", "Enter a user name."),
        ({"region_codes": ["64.09", "64.9"]}, "region_codes", None),
        ({"region_codes": ["640901"]}, "region_codes", None),
        ({"password": "password"}, "password", None),
        ({"password": "operator-baru1", "username": "operator-baru"}, "password", None),
        ({"role": "admin"}, "role", "Choose one of the roles."),
        ({"language": "fr"}, "language", "Choose Bahasa Indonesia or English."),
    ],
)
def test_user_create_field_errors_write_nothing(operator, changes, field, message):
    before = state()
    arguments = {"username": "baru", "password": STRONG, "role": "worker", "created_by": operator, **changes}
    with translation.override("id"), pytest.raises(InvalidInput) as caught:
        user_create(**arguments)
    assert caught.value.code == "invalid_input"
    assert caught.value.http_status == 422
    fields = caught.value.details["fields"]
    assert list(fields) == [field]
    assert all(isinstance(m, str) and m for m in fields[field])
    if message:
        assert fields[field] == [gettext_id(message)]
    if field == "region_codes":
        assert "64.9" in fields[field][0] or "640901" in fields[field][0]
    assert state() == before


def test_user_create_reports_every_bad_field_at_once(operator):
    before = state()
    with pytest.raises(InvalidInput) as caught:
        user_create(
            username="Operator", password="123", role="raja", region_codes=["x"], language="jv", created_by=operator
        )
    assert set(caught.value.details["fields"]) == {"username", "password", "role", "region_codes", "language"}
    assert state() == before


def test_user_create_messages_follow_the_active_language(operator):
    answers = {}
    for language in ("id", "en"):
        with translation.override(language), pytest.raises(InvalidInput) as caught:
            user_create(username="x", password="12345678", role="worker", created_by=operator)
        answers[language] = caught.value.details["fields"]["password"]
    assert answers["en"][0] == "This password is too short. It must contain at least 10 characters."
    assert answers["id"][0] != answers["en"][0]


@pytest.mark.parametrize("role", ["finance", "verifier", "funder", "field_agent", "worker", "auditor"])
def test_only_operators_create_accounts(make_user, role):
    actor = make_user(role)
    before = state()
    with pytest.raises(Forbidden):
        user_create(username="baru", password=STRONG, role="operator", created_by=actor)
    assert state() == before


def test_inactive_operator_cannot_create_accounts(make_user):
    actor = make_user("operator", is_active=False)
    before = state()
    with pytest.raises(Forbidden):
        user_create(username="baru", password=STRONG, role="worker", created_by=actor)
    assert state() == before


# --- user_update ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance", "verifier", "funder", "field_agent", "worker", "auditor"])
def test_user_update_by_a_non_operator_is_forbidden(make_user, role):
    target = make_user("worker", full_name="Asli")
    actor = make_user(role)
    before = state()
    with pytest.raises(Forbidden) as caught:
        user_update(user=target, changed_by=actor, role="operator", full_name="Palsu", region_codes=["64"])
    assert caught.value.http_status == 403
    assert caught.value.details == {"capability": "manage_users"}
    assert state() == before


def test_user_update_by_anonymous_is_refused():
    from django.contrib.auth.models import AnonymousUser

    target = User.objects.create(username="t", role="worker")
    with pytest.raises(NotAuthenticated):
        user_update(user=target, changed_by=AnonymousUser(), role="operator")
    target.refresh_from_db()
    assert target.role == "worker"


def test_user_update_records_only_what_changed(operator, make_user):
    target = make_user("worker", full_name="Slamet", regions=["64.09"])
    user_update(user=target, changed_by=operator, role="field_agent", full_name="Slamet", region_codes=["64.09"])
    event = AuditEvent.objects.get(action="user.update")
    assert event.details == {"changes": {"role": ["worker", "field_agent"]}}
    user_update(user=target, changed_by=operator, role="field_agent")
    assert AuditEvent.objects.filter(action="user.update").count() == 1


def test_user_update_with_a_bad_region_rolls_back_every_change(operator, make_user):
    target = make_user("worker", full_name="Tetap", regions=["64.09"])
    before = state()
    with pytest.raises(InvalidInput) as caught:
        user_update(user=target, changed_by=operator, role="field_agent", full_name="Baru", region_codes=["64.09", "?"])
    assert list(caught.value.details["fields"]) == ["region_codes"]
    assert state() == before


def test_user_update_with_a_bad_role_changes_nothing(operator, make_user):
    target = make_user("worker")
    before = state()
    with pytest.raises(InvalidInput) as caught:
        user_update(user=target, changed_by=operator, role="raja")
    assert list(caught.value.details["fields"]) == ["role"]
    assert state() == before


def test_operator_cannot_deactivate_itself(operator):
    before = state()
    with pytest.raises(Conflict) as caught:
        user_update(user=operator, changed_by=operator, is_active=False)
    assert caught.value.code == "cannot_deactivate_self"
    assert state() == before


# --- API tokens -----------------------------------------------------------------------------------------------------


def test_token_create_and_authenticate(operator, make_user):
    auditor = make_user("auditor")
    token, plain = api_token_create(user=auditor, name=" Laporan ", created_by=operator)
    assert token.name == "Laporan"
    assert api_token_authenticate(plain) == auditor
    assert api_token_authenticate(plain + "x") is None
    assert api_token_authenticate(plain.replace("lk_", "xx_", 1)) is None
    assert api_token_authenticate("") is None


@pytest.mark.parametrize("role", ["finance", "verifier", "funder", "field_agent", "worker", "auditor"])
def test_only_operators_create_or_revoke_tokens(make_user, operator, role):
    actor = make_user(role)
    token, _plain = api_token_create(user=actor, name="Sah", created_by=operator)
    before = state()
    with pytest.raises(Forbidden):
        api_token_create(user=actor, name="Curian", created_by=actor)
    with pytest.raises(Forbidden):
        api_token_revoke(token_id=token.pk, revoked_by=actor)
    assert state() == before
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_unknown_token_is_not_found(operator):
    with pytest.raises(NotFound):
        api_token_revoke(token_id=424242, revoked_by=operator)
