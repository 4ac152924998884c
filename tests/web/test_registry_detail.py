"""The worker detail: masked by default, 404 outside the user's regions, an audited reveal that is never cached,
consent withdrawal, decisions, merges and the history."""

from __future__ import annotations

import pytest
from django.utils import translation

from lingkaran.core.models import AuditEvent
from lingkaran.registry import services
from lingkaran.registry.models import Consent, DuplicateCandidate, Heir, Merge, Worker
from tests.conftest import NIK_MAN
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

NIK_SEMARANG = "3374011708900003"
HEIR = {"name": "Sri Wahyuni", "relationship": "spouse", "nik": "6409015203920003", "phone": "+6281299998888"}


@pytest.fixture
def world(make_user, region_tree, register_worker):
    RegionFactory(code="33.74.01.1001", name="Miroto")
    agent = make_user("field_agent", regions=["64.09"])
    budi = register_worker(
        agent,
        heirs=[services.HeirInput(**HEIR)],
        consents=[("registration", "paper"), ("contact", "verbal")],
        dtsen_decile=3,
        is_female_head=False,
        has_disability=True,
    )
    joko = register_worker(
        make_user("field_agent", regions=["33.74"]), NIK_SEMARANG, full_name="Joko Susilo", region_code="33.74.01.1001"
    )
    return {"agent": agent, "budi": budi, "joko": joko}


def test_detail_shows_the_record_masked(client, login, world):
    login(world["agent"])
    budi = world["budi"]
    response = client.get(f"/workers/{budi.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Budi Hartono" in html
    assert '<dd class="mono" id="worker-nik">6409••••••••0001</dd>' in html
    assert budi.phone_masked in html
    assert "17 Agustus 1990" in html
    assert "Giri Mukti" in html
    assert "Kabupaten Penajam Paser Utara" in html  # the region path
    assert "Rp 1.000.000" in html
    assert "Ojek pangkalan" in html
    assert "worker.register" in html  # the history
    for secret in (NIK_MAN, "81234567890", "Jl. Provinsi", "Sri Wahyuni", HEIR["nik"]):
        assert secret not in html
    with translation.override("id"):
        assert response.context["heirs"] == [{"relationship_label": str(Heir.Relationship.SPOUSE.label)}]
    assert "no-store" not in response.get("Cache-Control", "")


def test_field_agent_gets_404_for_another_regions_worker(client, login, world):
    login(world["agent"])
    joko = world["joko"]
    response = client.get(f"/workers/{joko.pk}/")
    assert response.status_code == 404
    assert "Joko Susilo" not in response.content.decode()
    before = AuditEvent.objects.count()
    assert client.post(f"/workers/{joko.pk}/reveal/", {"reason": "x"}).status_code == 404
    assert AuditEvent.objects.count() == before
    assert client.get("/workers/999999/").status_code == 404


@pytest.mark.parametrize("role", ["funder", "worker"])
def test_roles_outside_the_registry_get_403(role, client, login, make_user, world):
    login(make_user(role))
    assert client.get(f"/workers/{world['budi'].pk}/").status_code == 403


def test_reveal_shows_everything_once_audited_and_never_cached(client, login, world):
    login(world["agent"])
    budi = world["budi"]
    before = AuditEvent.objects.count()
    response = client.post(f"/workers/{budi.pk}/reveal/", {"reason": "Ahli waris menelepon"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<dd class="mono" id="worker-nik">{NIK_MAN}</dd>' in html
    assert "+6281234567890" in html
    assert "Jl. Provinsi Km 5 RT 03" in html
    assert "Sri Wahyuni" in html
    assert HEIR["nik"] in html
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_id) == (
        "worker.reveal_personal_data",
        "registry.worker",
        str(budi.pk),
    )
    assert event.actor_id == world["agent"].pk
    assert event.details["reason"] == "Ahli waris menelepon"
    # the next ordinary view is masked again
    assert NIK_MAN not in client.get(f"/workers/{budi.pk}/").content.decode()


def test_reveal_needs_post(client, login, world):
    login(world["agent"])
    assert client.get(f"/workers/{world['budi'].pk}/reveal/").status_code == 405
    assert not AuditEvent.objects.filter(action="worker.reveal_personal_data").exists()


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_roles_without_the_reveal_capability_get_403_and_nothing_is_logged(role, client, login, make_user, world):
    login(make_user(role))
    budi = world["budi"]
    html = client.get(f"/workers/{budi.pk}/").content.decode()
    assert f"/workers/{budi.pk}/reveal/" not in html  # no button offered
    before = AuditEvent.objects.count()
    response = client.post(f"/workers/{budi.pk}/reveal/")
    assert response.status_code == 403
    assert NIK_MAN not in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_consent_withdrawal_is_recorded_not_erased(client, login, world):
    login(world["agent"])
    budi = world["budi"]
    consent = Consent.objects.get(worker=budi, purpose="contact")
    response = client.post(f"/workers/{budi.pk}/consents/{consent.pk}/withdraw/", {"note": "Tidak mau ditelepon"})
    assert response.status_code == 302
    assert response["Location"] == f"/workers/{budi.pk}/"
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert consent.withdrawn_by_id == world["agent"].pk
    assert consent.withdrawal_note == "Tidak mau ditelepon"
    assert Consent.objects.filter(worker=budi).count() == 2
    assert AuditEvent.objects.filter(action="worker.consent_withdrawn", object_id=str(budi.pk)).count() == 1


def test_consent_of_another_worker_cannot_be_withdrawn_through_this_one(client, login, world, make_user):
    joko_consent = Consent.objects.get(worker=world["joko"])
    login(world["agent"])
    response = client.post(f"/workers/{world['budi'].pk}/consents/{joko_consent.pk}/withdraw/")
    assert response.status_code == 404
    joko_consent.refresh_from_db()
    assert joko_consent.withdrawn_at is None


def test_consent_withdrawal_is_refused_to_read_only_roles(client, login, world, make_user):
    login(make_user("auditor"))
    budi = world["budi"]
    consent = Consent.objects.get(worker=budi, purpose="contact")
    assert client.post(f"/workers/{budi.pk}/consents/{consent.pk}/withdraw/").status_code == 403
    consent.refresh_from_db()
    assert consent.withdrawn_at is None


def response_conflicts(client, worker):
    merges = client.get(f"/workers/{worker.pk}/").context["merges_in"]
    assert len(merges) == 1
    return merges[0][1]


def test_decisions_and_merges_are_shown_on_both_records(client, login, world, make_user, register_worker):
    agent, budi = world["agent"], world["budi"]
    verifier = make_user("verifier")
    twin = register_worker(agent, "6409011708900005", full_name="Budi Hartono", phone="081399990000", dtsen_decile=5)
    candidate = DuplicateCandidate.objects.get(first=budi, second=twin)
    services.worker_decide(actor=verifier, worker_id=budi.pk, decision="verified", reason="KTP dicek di rumah")
    services.duplicate_review(actor=verifier, candidate_id=candidate.pk, same_person=True, survivor_id=budi.pk)
    assert Merge.objects.get().conflicts["dtsen_decile"] == ["3", "5"]

    login(verifier)
    html = client.get(f"/workers/{budi.pk}/").content.decode()
    assert "KTP dicek di rumah" in html
    assert f'href="/workers/{twin.pk}/"' in html  # the merged record
    differing = [(kept, other) for _label, kept, other in response_conflicts(client, budi)]
    assert ("3", "5") in differing  # the recorded differing values (the decile), both kept
    assert "worker.merged" in html
    twin_html = client.get(f"/workers/{twin.pk}/").content.decode()
    assert f'href="/workers/{budi.pk}/"' in twin_html  # merged into
    assert Worker.objects.get(pk=twin.pk).status == "merged"
