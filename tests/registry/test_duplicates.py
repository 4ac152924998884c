"""Duplicate candidates: the pure score (a table), finding them in the database, and the review (merge, dismiss)."""

from __future__ import annotations

from datetime import date

import pytest

from lingkaran.core.errors import Conflict, Forbidden, InvalidInput
from lingkaran.core.models import AuditEvent
from lingkaran.registry.domain.duplicates import PersonKey, score_pair
from lingkaran.registry.models import Consent, DuplicateCandidate, Heir, Merge, Worker, WorkerStatus
from lingkaran.registry.services import duplicate_review, duplicates_find
from tests.registry.helpers import register

BIRTH = date(1990, 8, 5)
OTHER_BIRTH = date(1984, 3, 17)
DESA = "64.09.01.2020"
OTHER_DESA = "64.09.01.1001"


def key(name="SITI AMINAH", birth=BIRTH, phone="p1", region=DESA, id_=1):
    return PersonKey(id_, name, birth, phone, region)


@pytest.mark.parametrize(
    ("a", "b", "score", "rules"),
    [
        # same normalised name and birth date (another phone, another desa)
        (key(), key(phone="p2", region=OTHER_DESA), 90, ["same_name_birth_date"]),
        # ... and the same desa too: two rules agree
        (key(), key(phone="p2"), 95, ["same_name_birth_date", "similar_name_same_village"]),
        # ... and the same phone: three rules, capped at 100
        (key(), key(), 100, ["same_name_birth_date", "same_phone", "similar_name_same_village"]),
        # a typo, same birth date, elsewhere
        (key(), key(name="SITI AMINNAH", phone="p2", region=OTHER_DESA), 80, ["similar_name_same_birth_date"]),
        # only the phone
        (key(), key(name="BUDI SANTOSO", birth=OTHER_BIRTH, region=OTHER_DESA), 60, ["same_phone"]),
        # a similar name in the same desa, another birth date
        (key(), key(name="SITI AMINNAH", birth=OTHER_BIRTH, phone="p2"), 70, ["similar_name_same_village"]),
        # word order does not matter
        (key(), key(name="AMINAH SITI", birth=OTHER_BIRTH, phone="p2"), 70, ["similar_name_same_village"]),
        # only the same desa: not a candidate
        (key(), key(name="BUDI SANTOSO", birth=OTHER_BIRTH, phone="p2"), 0, []),
        # the same name elsewhere, born another day: not a candidate
        (key(), key(birth=OTHER_BIRTH, phone="p2", region=OTHER_DESA), 0, []),
        # a kecamatan (the desa unknown) is not "the same desa"
        (key(region="64.09.01"), key(name="SITI AMINNAH", birth=OTHER_BIRTH, phone="p2", region="64.09.01"), 0, []),
        # no phone on either side is not "the same phone"
        (key(phone=""), key(name="BUDI SANTOSO", birth=OTHER_BIRTH, phone="", region=OTHER_DESA), 0, []),
        # an empty name never matches
        (key(name=""), key(name="", phone="p2", region=OTHER_DESA), 0, []),
        # a different person with a name that shares one word
        (key(), key(name="SITI RAHAYU", phone="p2"), 0, []),
    ],
)
def test_score_pair(a, b, score, rules):
    got, evidence = score_pair(a, b)
    assert got == score
    assert [e.rule for e in evidence] == rules
    assert score_pair(b, a)[0] == score  # symmetric


@pytest.fixture
def people(db, region_tree, make_user):
    return {
        "agent": make_user("field_agent", regions=["64.09"]),
        "verifier": make_user("verifier"),
        "operator": make_user("operator"),
    }


def candidates():
    return list(DuplicateCandidate.objects.order_by("pk").values_list("first_id", "second_id", "score", "evidence"))


@pytest.mark.django_db
def test_same_name_and_birth_date_is_found_on_registration(people):
    first = register(people["agent"], full_name="Siti Aminah", region_code=OTHER_DESA, phone="", sex="F")
    second = register(people["agent"], full_name="Hj. Siti Aminah", serial=2, phone="", sex="F")
    assert candidates() == [(first.pk, second.pk, 90, [{"rule": "same_name_birth_date", "score": 90, "detail": ""}])]


@pytest.mark.django_db
def test_same_phone_is_found(people):
    first = register(people["agent"], full_name="Budi Santoso", phone="0812-1111-2222")
    second = register(
        people["agent"],
        full_name="Sri Wahyuni",
        sex="F",
        birth_date=OTHER_BIRTH,
        phone="+62 812 1111 2222",
        region_code=OTHER_DESA,
    )
    assert candidates() == [(first.pk, second.pk, 60, [{"rule": "same_phone", "score": 60, "detail": ""}])]


@pytest.mark.django_db
def test_similar_name_in_the_same_desa_is_found(people):
    first = register(people["agent"], full_name="Siti Aminah", sex="F", phone="")
    second = register(people["agent"], full_name="Siti Aminnah", sex="F", birth_date=OTHER_BIRTH, phone="")
    [(a, b, score, evidence)] = candidates()
    assert (a, b, score) == (first.pk, second.pk, 70)
    assert [e["rule"] for e in evidence] == ["similar_name_same_village"]


@pytest.mark.django_db
def test_only_the_same_desa_is_not_a_candidate(people):
    register(people["agent"], full_name="Siti Aminah", sex="F", phone="0812-1111-2222")
    register(people["agent"], full_name="Budi Santoso", birth_date=OTHER_BIRTH, phone="0813-3333-4444")
    assert candidates() == []
    assert duplicates_find() == 0


@pytest.mark.django_db
def test_finding_again_records_nothing_new(people):
    register(people["agent"], full_name="Siti Aminah", sex="F", phone="")
    register(people["agent"], full_name="Siti Aminah", sex="F", serial=2, phone="")
    before = candidates()
    assert len(before) == 1
    assert duplicates_find() == 0
    assert duplicates_find(worker_ids=[w.pk for w in Worker.objects.all()]) == 0
    assert candidates() == before


@pytest.mark.django_db
def test_merged_records_are_not_candidates_again(people):
    a = register(people["agent"], full_name="Siti Aminah", sex="F", phone="")
    b = register(people["agent"], full_name="Siti Aminah", sex="F", serial=2, phone="")
    candidate = DuplicateCandidate.objects.get()
    duplicate_review(actor=people["verifier"], candidate_id=candidate.pk, same_person=True, survivor_id=a.pk)
    c = register(people["agent"], full_name="Siti Aminah", sex="F", serial=3, phone="")
    pairs = set(DuplicateCandidate.objects.values_list("first_id", "second_id"))
    assert pairs == {(a.pk, b.pk), (a.pk, c.pk)}  # b is merged: no (b, c)


def _pair(people, **second):
    first = register(
        people["agent"], full_name="Siti Aminah", sex="F", phone="0812-1111-2222", occupation="pedagang_pasar"
    )
    values = {"full_name": "Hj. Siti Aminah", "sex": "F", "serial": 2, "phone": "0813-9999-0000", **second}
    other = register(people["agent"], **values)
    return first, other, DuplicateCandidate.objects.get()


@pytest.mark.django_db
def test_merge_keeps_both_records_and_records_the_conflicts(people):
    first, second, candidate = _pair(people, declared_income=1_500_000)
    heirs_before = Heir.objects.count()
    consents_before = Consent.objects.count()

    reviewed = duplicate_review(
        actor=people["verifier"], candidate_id=candidate.pk, same_person=True, survivor_id=first.pk, note=" sama "
    )

    assert reviewed.state == DuplicateCandidate.State.MERGED
    assert (reviewed.reviewed_by, reviewed.review_note) == (people["verifier"], "sama")
    first.refresh_from_db()
    second.refresh_from_db()
    assert Worker.objects.count() == 2  # nothing deleted
    assert (second.status, second.merged_into) == (WorkerStatus.MERGED, first)
    assert (first.status, first.merged_into, first.full_name) == (WorkerStatus.NOMINATED, None, "Siti Aminah")
    merge = Merge.objects.get()
    assert (merge.survivor, merge.merged, merge.candidate, merge.merged_by) == (
        first,
        second,
        candidate,
        people["verifier"],
    )
    assert merge.conflicts == {
        "full_name": ["Siti Aminah", "Hj. Siti Aminah"],
        "phone": [first.phone_masked, second.phone_masked],
        "occupation": ["pedagang_pasar", "ojol"],
        "declared_income": ["1000000", "1500000"],
    }
    assert (Heir.objects.count(), Consent.objects.count()) == (heirs_before, consents_before)  # both histories kept
    assert AuditEvent.objects.filter(action="worker.merged", object_id=str(first.pk)).count() == 1


@pytest.mark.django_db
def test_a_merge_is_in_the_history_of_both_records(people, client, login, bearer):
    """The survivor's history says another record was merged into it; the merged record's own history says it was
    merged, and into which record — on its page and through the API."""
    first, second, candidate = _pair(people)
    duplicate_review(actor=people["verifier"], candidate_id=candidate.pk, same_person=True, survivor_id=first.pk)
    merged_into = AuditEvent.objects.get(action="worker.merged_into")
    assert (merged_into.actor, merged_into.object_type, merged_into.object_id) == (
        people["verifier"],
        "registry.worker",
        str(second.pk),
    )
    assert merged_into.details == {"survivor": first.pk, "conflicts": ["full_name", "occupation", "phone"]}

    login(people["verifier"])
    page = client.get(f"/workers/{second.pk}/")
    assert page.status_code == 200
    history = page.context["history"]
    assert [event.action for event, _label in history] == ["worker.merged_into", "worker.register"]
    assert str(history[0][1]) not in {"", "worker.merged_into"}  # shown with a label of its own
    survivor_page = client.get(f"/workers/{first.pk}/")
    assert survivor_page.context["history"][0][0].action == "worker.merged"

    api = bearer(people["verifier"], created_by=people["operator"])[0]
    body = api.get(f"/api/v1/workers/{second.pk}/history").json()
    assert [(e["action"], e["details"].get("survivor")) for e in body["items"]] == [
        ("worker.merged_into", first.pk),
        ("worker.register", None),
    ]


@pytest.mark.django_db
def test_a_candidate_cannot_be_reviewed_twice(people):
    first, second, candidate = _pair(people)
    duplicate_review(actor=people["verifier"], candidate_id=candidate.pk, same_person=True, survivor_id=first.pk)
    for same_person in (True, False):
        with pytest.raises(Conflict) as refused:
            duplicate_review(
                actor=people["verifier"], candidate_id=candidate.pk, same_person=same_person, survivor_id=second.pk
            )
        assert refused.value.code == "already_reviewed"
    second.refresh_from_db()
    assert second.merged_into_id == first.pk
    assert Merge.objects.count() == 1


@pytest.mark.django_db
def test_dismiss_changes_neither_record(people):
    _first, _second, candidate = _pair(people)
    snapshot = list(Worker.objects.order_by("pk").values())
    reviewed = duplicate_review(actor=people["verifier"], candidate_id=candidate.pk, same_person=False, note="beda")
    assert reviewed.state == DuplicateCandidate.State.DISMISSED
    assert list(Worker.objects.order_by("pk").values()) == snapshot
    assert Merge.objects.count() == 0
    assert AuditEvent.objects.filter(action="worker.duplicate_dismissed").count() == 1
    assert duplicates_find() == 0  # a dismissed pair is not proposed again


@pytest.mark.django_db
def test_merge_needs_a_survivor_from_the_pair_and_changes_nothing_otherwise(people):
    _first, _second, candidate = _pair(people)
    for survivor in (None, 999_999):
        with pytest.raises(InvalidInput) as refused:
            duplicate_review(
                actor=people["verifier"], candidate_id=candidate.pk, same_person=True, survivor_id=survivor
            )
        assert set(refused.value.details["fields"]) == {"survivor_id"}
    candidate.refresh_from_db()
    assert candidate.state == DuplicateCandidate.State.OPEN
    assert Merge.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "field_agent"])
def test_only_verifiers_review_candidates(people, make_user, role):
    first, _second, candidate = _pair(people)
    with pytest.raises(Forbidden):
        duplicate_review(
            actor=make_user(role, regions=["64.09"]), candidate_id=candidate.pk, same_person=True, survivor_id=first.pk
        )
    candidate.refresh_from_db()
    assert candidate.state == DuplicateCandidate.State.OPEN
