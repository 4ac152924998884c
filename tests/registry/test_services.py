"""Registry services: encrypted registration, NIK uniqueness, maker-checker, append-only decisions, consent, reveal."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date

import pytest
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from lingkaran.core import crypto
from lingkaran.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from lingkaran.core.models import AuditEvent
from lingkaran.registry import messages
from lingkaran.registry.models import Consent, Heir, VerificationDecision, Worker, WorkerStatus
from lingkaran.registry.services import (
    PURPOSE_HEIR,
    PURPOSE_NIK,
    consent_withdraw,
    worker_decide,
    worker_register,
    worker_reveal,
)
from tests.registry.helpers import nik_for, register, worker_input

pytestmark = pytest.mark.django_db

NIK = nik_for("64.09.01", date(1990, 8, 5), "M", 1)  # 6409010508900001


@pytest.fixture
def people(region_tree, make_user):
    return {
        "agent": make_user("field_agent", regions=["64.09"]),
        "other_agent": make_user("field_agent", regions=["33.74"]),
        "verifier": make_user("verifier"),
        "second_verifier": make_user("verifier"),
        "operator": make_user("operator"),
        "auditor": make_user("auditor"),
        "funder": make_user("funder", regions=["64.09"]),
    }


def columns_containing(text: str) -> list[str]:
    """Every ``table.column`` of every model whose stored value contains ``text``."""
    places = []
    for model in apps.get_models(include_auto_created=True):
        fields = list(model._meta.concrete_fields)
        for row in model._base_manager.values_list(*[f.attname for f in fields]):
            for field, value in zip(fields, row, strict=True):
                if value is not None and text in (json.dumps(value) if isinstance(value, dict | list) else str(value)):
                    places.append(f"{model._meta.db_table}.{field.column}")
    return places


def counts() -> dict[str, int]:
    return {m.__name__: m._base_manager.count() for m in (Worker, Consent, Heir, VerificationDecision, AuditEvent)}


# --- Registration ---------------------------------------------------------------------------------------------------


def test_registration_stores_personal_data_only_encrypted(people):
    worker = register(people["agent"])
    assert worker.nik_masked == "6409••••••••0001"
    assert worker.phone_masked == "+62812•••••890"
    for plain in (NIK, "+6281234567890", "81234567890", "Jl. Melati No. 5", "Siti Aminah", "081298765432"):
        assert columns_containing(plain) == [], plain
    expected_index = hmac.new(settings.BLIND_INDEX_KEY, f"{PURPOSE_NIK}:{NIK}".encode(), hashlib.sha256).hexdigest()
    stored = Worker.objects.get()
    assert stored.nik_index == expected_index
    assert stored.nik_encrypted.startswith(crypto.current_key_id() + "$")
    assert crypto.decrypt(stored.nik_encrypted, purpose=PURPOSE_NIK) == NIK
    heir = json.loads(crypto.decrypt(Heir.objects.get().details_encrypted, purpose=PURPOSE_HEIR))
    assert heir == {"name": "Siti Aminah", "nik": "", "phone": "081298765432", "birth_date": ""}
    assert (stored.status, stored.source, stored.nominated_by, stored.region_code) == (
        WorkerStatus.NOMINATED,
        "field_agent",
        people["agent"],
        "64.09.01.2020",
    )
    assert sorted(Consent.objects.values_list("purpose", "method", "evidence")) == [
        ("agency_sharing", "paper", "Formulir F-0001"),
        ("registration", "paper", "Formulir F-0001"),
    ]
    assert AuditEvent.objects.filter(action="worker.register", object_id=str(stored.pk)).count() == 1


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(people):
    worker = register(people["agent"])
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(worker.nik_encrypted, purpose="registry.worker.phone")


def test_a_nik_registered_twice_is_a_conflict_and_writes_nothing(people):
    register(people["agent"])
    before = counts()
    with pytest.raises(Conflict) as refused:
        register(people["operator"], full_name="Slamet", phone="0813-0000-1111", nik="6409 0105 0890 0001")
    assert refused.value.code == "nik_exists"
    assert refused.value.details == {"fields": {"nik": [messages.render("nik_exists")]}}
    assert counts() == before


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"nik": "640901050890000"}, {"nik"}),
        ({"nik": "6409010508900000"}, {"nik"}),
        ({"sex": "F", "nik": NIK}, {"sex"}),  # the NIK says a man
        ({"nik": nik_for(birth=date(1990, 8, 6))}, {"birth_date"}),
        ({"full_name": "  "}, {"full_name"}),
        ({"phone": "+1 415 555 0100"}, {"phone"}),
        ({"region_code": "64.09.01.9999"}, {"region_code"}),
        ({"region_code": "64.09.01"}, {"region_code"}),
        ({"occupation": "astronaut"}, {"occupation"}),
        ({"declared_income": 0}, {"declared_income"}),
        ({"dtsen_decile": 11}, {"dtsen_decile"}),
        ({"consents": [("registration", "telepathy")]}, {"consents"}),
        ({"full_name": "", "occupation": "x", "declared_income": None}, {"full_name", "occupation", "declared_income"}),
    ],
)
def test_invalid_registrations_name_every_field_and_write_nothing(people, overrides, fields):
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        worker_register(actor=people["agent"], data=worker_input(**overrides))
    assert set(refused.value.details["fields"]) == fields
    assert counts() == before


def test_a_field_agent_cannot_register_outside_its_regions(people, make_user):
    from tests.factories import RegionFactory

    RegionFactory(code="33.74.01.1001", name="Miroto")
    with pytest.raises(InvalidInput) as refused:
        register(people["agent"], region_code="33.74.01.1001")
    assert refused.value.details["codes"] == ["region_outside_scope"]
    with pytest.raises(InvalidInput):  # no desa given: the NIK's kecamatan decides
        register(people["agent"], region_code="", nik=nik_for("33.74.01"))
    assert Worker.objects.count() == 0


@pytest.mark.parametrize("role", ["funder", "worker", "auditor", "finance"])
def test_roles_without_registration_are_refused(people, make_user, role):
    with pytest.raises(Forbidden):
        register(make_user(role, regions=["64.09"]))
    assert Worker.objects.count() == 0


def test_an_unknown_kecamatan_is_a_warning_not_a_refusal(people):
    worker = register(people["operator"], region_code="", nik=nik_for("64.99.01"))
    assert worker.region is None
    assert worker.region_code == "64.99.01"
    assert worker.registration_warnings == [messages.render("nik_region_unknown", {"district": "64.99.01"})]


# --- Maker-checker ---------------------------------------------------------------------------------------------------


def test_a_verifier_cannot_verify_its_own_nomination(people):
    worker = register(people["verifier"])
    with pytest.raises(Forbidden) as refused:
        worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="verified", reason="Sesuai KTP")
    assert refused.value.code == "own_nomination"
    worker.refresh_from_db()
    assert worker.status == WorkerStatus.NOMINATED
    assert VerificationDecision.objects.count() == 0


@pytest.mark.parametrize("role", ["operator", "field_agent", "auditor", "funder", "finance"])
def test_only_verifiers_decide(people, make_user, role):
    worker = register(people["agent"])
    with pytest.raises(Forbidden):
        worker_decide(
            actor=make_user(role, regions=["64.09"]), worker_id=worker.pk, decision="verified", reason="Sesuai"
        )
    assert VerificationDecision.objects.count() == 0


def test_another_verifier_verifies_once_then_the_decision_is_final(people):
    worker = register(people["verifier"])
    record = worker_decide(
        actor=people["second_verifier"], worker_id=worker.pk, decision="verified", reason=" Sesuai KTP "
    )
    assert (record.decision, record.reason, record.decided_by) == ("verified", "Sesuai KTP", people["second_verifier"])
    worker.refresh_from_db()
    assert (worker.status, worker.rejection_reason) == (WorkerStatus.VERIFIED, "")
    with pytest.raises(Conflict) as refused:
        worker_decide(actor=people["second_verifier"], worker_id=worker.pk, decision="rejected", reason="Salah")
    assert refused.value.code == "already_decided"
    assert VerificationDecision.objects.count() == 1


def test_a_rejection_needs_a_reason_and_keeps_it(people):
    worker = register(people["agent"])
    with pytest.raises(InvalidInput) as refused:
        worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="rejected", reason="   ")
    assert set(refused.value.details["fields"]) == {"reason"}
    with pytest.raises(InvalidInput):
        worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="maybe", reason="Hmm")
    worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="rejected", reason="Sudah peserta PU")
    worker.refresh_from_db()
    assert (worker.status, worker.rejection_reason) == (WorkerStatus.REJECTED, "Sudah peserta PU")
    assert AuditEvent.objects.filter(action="worker.rejected", object_id=str(worker.pk)).count() == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE registry_verificationdecision SET reason = 'diubah' WHERE id = %s",
        "UPDATE registry_verificationdecision SET decision = 'rejected' WHERE id = %s",
        "DELETE FROM registry_verificationdecision WHERE id = %s",
    ],
)
def test_decisions_are_append_only_in_the_database(people, statement):
    worker = register(people["agent"])
    record = worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="verified", reason="Sesuai KTP")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [record.pk])
    assert list(VerificationDecision.objects.values_list("decision", "reason")) == [("verified", "Sesuai KTP")]


def test_a_decision_outside_the_deciders_scope_is_not_found(people):
    worker = register(people["agent"])
    with pytest.raises(NotFound):
        worker_decide(actor=people["verifier"], worker_id=999_999, decision="verified", reason="Sesuai")
    assert worker.status == WorkerStatus.NOMINATED


# --- Consent ---------------------------------------------------------------------------------------------------------


def test_consent_withdrawal_is_recorded_once_and_kept(people):
    worker = register(people["agent"])
    consent = worker.consents.get(purpose="agency_sharing")
    withdrawn = consent_withdraw(actor=people["agent"], consent_id=consent.pk, note=" Tidak mau dihubungi ")
    assert withdrawn.withdrawn_at is not None
    assert (withdrawn.withdrawn_by, withdrawn.withdrawal_note) == (people["agent"], "Tidak mau dihubungi")
    first_time = withdrawn.withdrawn_at
    again = consent_withdraw(actor=people["operator"], consent_id=consent.pk, note="lagi")
    assert (again.withdrawn_at, again.withdrawn_by, again.withdrawal_note) == (
        first_time,
        people["agent"],
        "Tidak mau dihubungi",
    )
    assert Consent.objects.filter(worker=worker).count() == 2  # kept, not erased
    assert AuditEvent.objects.filter(action="worker.consent_withdrawn").count() == 1
    # the same purpose can be consented to again later
    Consent.objects.create(worker=worker, purpose="agency_sharing", method="digital", collected_by=people["agent"])


@pytest.mark.parametrize(("who", "error"), [("other_agent", NotFound), ("auditor", Forbidden), ("funder", Forbidden)])
def test_consent_withdrawal_refusals_change_nothing(people, who, error):
    worker = register(people["agent"])
    consent = worker.consents.get(purpose="registration")
    with pytest.raises(error):
        consent_withdraw(actor=people[who], consent_id=consent.pk)
    consent.refresh_from_db()
    assert consent.withdrawn_at is None
    with pytest.raises(NotFound):
        consent_withdraw(actor=people["agent"], consent_id=999_999)


# --- Reveal ----------------------------------------------------------------------------------------------------------


def test_reveal_returns_the_full_data_and_is_audited_exactly_once(people):
    worker = register(people["agent"])
    before = AuditEvent.objects.count()
    revealed = worker_reveal(actor=people["agent"], worker=worker, reason="Kunjungan rumah")
    assert revealed == {
        "nik": NIK,
        "phone": "+6281234567890",
        "address": "Jl. Melati No. 5, RT 003/RW 002",
        "heirs": [
            {"relationship": "spouse", "name": "Siti Aminah", "nik": "", "phone": "081298765432", "birth_date": ""}
        ],
    }
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="worker.reveal_personal_data")
    assert (event.actor, event.object_id) == (people["agent"], str(worker.pk))
    assert event.details == {"fields": ["nik", "phone", "address", "heirs"], "reason": "Kunjungan rumah"}
    assert NIK not in json.dumps(event.details) + event.object_label


@pytest.mark.parametrize(("who", "error"), [("other_agent", NotFound), ("auditor", Forbidden), ("funder", Forbidden)])
def test_reveal_refusals_write_no_audit_row(people, who, error):
    worker = register(people["agent"])
    before = AuditEvent.objects.count()
    with pytest.raises(error):
        worker_reveal(actor=people[who], worker=worker)
    assert AuditEvent.objects.count() == before
