"""The verification queue (maker-checker) and the duplicate review, through the pages."""

from __future__ import annotations

import pytest
from django.utils import translation

from lingkaran.core.models import AuditEvent
from lingkaran.registry.models import DuplicateCandidate, Merge, VerificationDecision, Worker
from lingkaran.web.views_registry import evidence_sentence

pytestmark = pytest.mark.django_db

NIK_TWIN = "6409011708900005"  # same birth date as NIK_MAN, another serial


@pytest.fixture
def world(make_user, region_tree, register_worker):
    agent = make_user("field_agent", regions=["64.09"])
    verifier = make_user("verifier", full_name="Siti Rahmawati")
    budi = register_worker(agent)
    twin = register_worker(agent, NIK_TWIN, full_name="Budi Hartono, S.Pd", phone="081399990000")
    own = register_worker(verifier, "6409012012800004", full_name="Dewi Nominasi Sendiri", phone="")
    return {"agent": agent, "verifier": verifier, "budi": budi, "twin": twin, "own": own}


# --- Queue ----------------------------------------------------------------------------------------------------------


def test_queue_lists_others_nominations_oldest_first_with_duplicate_warnings(client, login, world):
    login(world["verifier"])
    response = client.get("/verification/")
    assert response.status_code == 200
    assert [i["worker"].full_name for i in response.context["items"]] == ["Budi Hartono", "Budi Hartono, S.Pd"]
    html = response.content.decode()
    assert "Dewi Nominasi Sendiri" not in html  # never the verifier's own nomination
    assert "6409••••••••0001" in html
    assert "6409011708900001" not in html
    assert world["agent"].display_name in html  # the nominator
    first = response.context["items"][0]
    assert [(c.score, other.pk) for c, other in first["duplicates"]] == [(95, world["twin"].pk)]
    assert f'href="/workers/{world["twin"].pk}/"' in html


@pytest.mark.parametrize("role", ["operator", "field_agent", "finance", "auditor", "funder"])
def test_only_verifiers_open_the_queue(role, client, login, make_user, world):
    login(make_user(role))
    assert client.get("/verification/").status_code == 403
    assert (
        client.post(f"/verification/{world['budi'].pk}/decide/", {"decision": "verified", "reason": "x"}).status_code
        == 403
    )
    assert not VerificationDecision.objects.exists()


def test_verify_with_a_reason(client, login, world):
    login(world["verifier"])
    budi = world["budi"]
    response = client.post(f"/verification/{budi.pk}/decide/", {"decision": "verified", "reason": "KTP dan KK cocok"})
    assert response.status_code == 302
    assert response["Location"] == "/verification/"
    decision = VerificationDecision.objects.get()
    assert (decision.worker_id, decision.decision, decision.reason, decision.decided_by_id) == (
        budi.pk,
        "verified",
        "KTP dan KK cocok",
        world["verifier"].pk,
    )
    budi.refresh_from_db()
    assert budi.status == "verified"
    assert AuditEvent.objects.filter(action="worker.verified", object_id=str(budi.pk)).count() == 1
    # decided workers leave the queue
    names = [i["worker"].pk for i in client.get("/verification/").context["items"]]
    assert budi.pk not in names


def test_reject_with_a_reason(client, login, world):
    login(world["verifier"])
    twin = world["twin"]
    client.post(f"/verification/{twin.pk}/decide/", {"decision": "rejected", "reason": "Sudah terdaftar sebagai PPU"})
    twin.refresh_from_db()
    assert (twin.status, twin.rejection_reason) == ("rejected", "Sudah terdaftar sebagai PPU")


@pytest.mark.parametrize("decision", ["verified", "rejected"])
def test_a_decision_without_a_reason_is_refused_and_writes_nothing(decision, client, login, world):
    login(world["verifier"])
    budi = world["budi"]
    before = AuditEvent.objects.count()
    response = client.post(f"/verification/{budi.pk}/decide/", {"decision": decision, "reason": "   "})
    assert response.status_code == 422
    assert f'id="reason-{budi.pk}-error"' in response.content.decode()
    assert not VerificationDecision.objects.exists()
    budi.refresh_from_db()
    assert budi.status == "nominated"
    assert AuditEvent.objects.count() == before


def test_a_verifier_forcing_a_decision_on_its_own_nomination_is_forbidden(client, login, world):
    login(world["verifier"])
    own = world["own"]
    before = AuditEvent.objects.count()
    response = client.post(f"/verification/{own.pk}/decide/", {"decision": "verified", "reason": "Saya kenal"})
    assert response.status_code == 403
    with translation.override("id"):
        from django.utils.translation import gettext

        assert gettext("You nominated this worker; another verifier must decide.") in response.content.decode()
    assert not VerificationDecision.objects.exists()
    own.refresh_from_db()
    assert own.status == "nominated"
    assert AuditEvent.objects.count() == before


def test_a_worker_decided_already_is_not_decided_again(client, login, world, make_user):
    login(world["verifier"])
    budi = world["budi"]
    client.post(f"/verification/{budi.pk}/decide/", {"decision": "verified", "reason": "Cocok"})
    response = client.post(f"/verification/{budi.pk}/decide/", {"decision": "rejected", "reason": "Berubah pikiran"})
    assert response.status_code == 302
    assert VerificationDecision.objects.count() == 1
    budi.refresh_from_db()
    assert budi.status == "verified"


# --- Duplicate review -----------------------------------------------------------------------------------------------


def test_duplicate_page_compares_the_two_records_masked_with_the_evidence_in_words(client, login, world):
    login(world["verifier"])
    response = client.get("/duplicates/")
    assert response.status_code == 200
    (item,) = response.context["items"]
    candidate = item["candidate"]
    assert (candidate.first_id, candidate.second_id, candidate.score) == (world["budi"].pk, world["twin"].pk, 95)
    html = response.content.decode()
    with translation.override("id"):
        sentences = [evidence_sentence(e) for e in candidate.evidence]
    assert sentences
    for sentence in sentences:
        assert sentence in html
    assert "6409••••••••0001" in html
    assert "6409••••••••0005" in html
    assert "6409011708900005" not in html
    rows = {str(label): (a, b, differs) for label, a, b, differs in item["rows"]}
    assert sum(1 for _a, _b, differs in rows.values() if differs) >= 3  # name, NIK, phone
    assert f'name="keep" value="{world["budi"].pk}"' in html
    assert f'name="keep" value="{world["twin"].pk}"' in html


def test_evidence_sentences_cover_every_rule():
    assert "88" in evidence_sentence({"rule": "similar_name_same_birth_date", "detail": "88"})
    assert "91" in evidence_sentence({"rule": "similar_name_same_village", "detail": "91"})
    assert evidence_sentence({"rule": "same_phone"}) != "same_phone"
    assert evidence_sentence({"rule": "same_name_birth_date"}) != "same_name_birth_date"


def test_not_the_same_person_dismisses_the_candidate(client, login, world):
    login(world["verifier"])
    candidate = DuplicateCandidate.objects.get()
    response = client.post(f"/duplicates/{candidate.pk}/review/", {"keep": "none", "note": "Beda ibu kandung"})
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert (candidate.state, candidate.review_note, candidate.reviewed_by_id) == (
        "dismissed",
        "Beda ibu kandung",
        world["verifier"].pk,
    )
    assert not Merge.objects.exists()
    assert client.get("/duplicates/").context["items"] == []


def test_same_person_keep_record_b_merges_a_into_b(client, login, world):
    login(world["verifier"])
    budi, twin = world["budi"], world["twin"]
    candidate = DuplicateCandidate.objects.get()
    response = client.post(f"/duplicates/{candidate.pk}/review/", {"keep": str(twin.pk)})
    assert response.status_code == 302
    merge = Merge.objects.get()
    assert (merge.survivor_id, merge.merged_id) == (twin.pk, budi.pk)
    assert merge.conflicts["full_name"] == ["Budi Hartono, S.Pd", "Budi Hartono"]
    assert Worker.objects.get(pk=budi.pk).status == "merged"
    assert Worker.objects.get(pk=budi.pk).merged_into_id == twin.pk
    assert Worker.objects.get(pk=twin.pk).status == "nominated"


def test_reviewing_twice_changes_nothing_more(client, login, world):
    login(world["verifier"])
    candidate = DuplicateCandidate.objects.get()
    client.post(f"/duplicates/{candidate.pk}/review/", {"keep": "none"})
    response = client.post(f"/duplicates/{candidate.pk}/review/", {"keep": str(world["budi"].pk)}, follow=True)
    assert response.status_code == 200
    assert not Merge.objects.exists()
    assert DuplicateCandidate.objects.get().state == "dismissed"
    assert [m.level_tag for m in response.context["messages"]][-1] == "error"


def test_a_record_outside_the_pair_cannot_be_kept(client, login, world):
    login(world["verifier"])
    candidate = DuplicateCandidate.objects.get()
    client.post(f"/duplicates/{candidate.pk}/review/", {"keep": str(world["own"].pk)})
    assert not Merge.objects.exists()
    assert DuplicateCandidate.objects.get().state == "open"


@pytest.mark.parametrize("role", ["operator", "field_agent", "auditor"])
def test_only_verifiers_review_duplicates(role, client, login, make_user, world):
    login(make_user(role, regions=["64.09"] if role == "field_agent" else []))
    candidate = DuplicateCandidate.objects.get()
    assert client.get("/duplicates/").status_code == 403
    assert client.post(f"/duplicates/{candidate.pk}/review/", {"keep": "none"}).status_code == 403
    assert DuplicateCandidate.objects.get().state == "open"


def test_verifier_dashboard_counts_its_queue_and_duplicates(client, login, world):
    login(world["verifier"])
    html = client.get("/dashboard/").content.decode()
    assert 'href="/verification/"' in html
    assert 'href="/duplicates/"' in html
    assert "<dd>2</dd>" in html  # two nominations by others wait
    assert "<dd>1</dd>" in html  # one possible duplicate
