"""The registry API through the test client: workers (list, register, detail, reveal, decisions, history), consent,
duplicates, occupations and the NIK check, with the refusals: a field agent never sees another region's workers
(404, absent from lists), funders and workers are refused the registry, and only verifiers decide."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.utils import translation

from lingkaran.core.models import AuditEvent
from lingkaran.registry import messages
from lingkaran.registry.models import Consent, DuplicateCandidate, Heir, Merge, VerificationDecision, Worker
from tests.factories import RegionFactory
from tests.registry.helpers import nik_for, register

pytestmark = pytest.mark.django_db

PPU_NIK = nik_for("64.09.01", date(1990, 8, 5), "M", 1)  # 6409010508900001
SMG_NIK = nik_for("33.74.01", date(1988, 3, 12), "F", 7)  # 3374015203880007
SMG_VILLAGE = "33.74.01.1001"

WORKER_FIELDS = {
    "id", "nik_masked", "full_name", "birth_date", "sex", "phone_masked", "region_code", "region_name", "occupation",
    "occupation_name", "occupation_sector", "declared_income", "dtsen_decile", "dtsen_as_of", "has_disability",
    "is_elderly", "is_female_head", "on_extreme_poverty_list", "zakat_eligible", "kpj_number", "status",
    "rejection_reason", "source", "merged_into_id", "created_at",
}  # fmt: skip


class World:
    """Users of every role, two workers in two regions, and an API client per user (bearer tokens)."""

    def __init__(self, make_user, bearer):
        RegionFactory(code=SMG_VILLAGE, name="Miroto")
        self._bearer = bearer
        self._clients = {}
        self.users = {
            "operator": make_user("operator", username="operator"),
            "verifier": make_user("verifier", username="verifikator"),
            "verifier2": make_user("verifier", username="verifikator2"),
            "agent_ppu": make_user("field_agent", username="agen.ppu", regions=["64.09"]),
            "agent_smg": make_user("field_agent", username="agen.semarang", regions=["33.74"]),
            "funder": make_user("funder", username="pemda.ppu", regions=["64.09"]),
            "worker": make_user("worker", username="pekerja"),
            "auditor": make_user("auditor", username="auditor"),
            "finance": make_user("finance", username="keuangan"),
        }
        self.ppu = register(self.users["agent_ppu"], full_name="Slamet Riyadi")
        self.smg = register(
            self.users["agent_smg"],
            full_name="Maria Ulfa",
            nik=SMG_NIK,
            birth_date=date(1988, 3, 12),
            sex="F",
            region_code=SMG_VILLAGE,
            phone="0857-1111-2222",
            address="Jl. Pemuda No. 9",
            occupation="pedagang_kaki_lima",
            dtsen_decile=4,
        )
        for who in self.users:  # tokens first: creating one writes an audit row of its own
            self.api(who)

    def api(self, who: str):
        if who not in self._clients:
            self._clients[who] = self._bearer(self.users[who], created_by=self.users["operator"])[0]
        return self._clients[who]


@pytest.fixture
def world(region_tree, make_user, bearer):
    return World(make_user, bearer)


def post(client, path, body=None, **headers):
    data = json.dumps(body) if body is not None else ""
    return client.post(path, data=data, content_type="application/json", headers=headers)


def registration(**overrides):
    body = {
        "nik": nik_for("64.09.01", date(1979, 1, 30), "F", 3),
        "full_name": "Sri Wahyuni",
        "birth_date": "1979-01-30",
        "sex": "F",
        "occupation": "nelayan",
        "declared_income": 1_000_000,
        "phone": "0813-2222-3333",
        "address": "Jl. Nelayan No. 1, RT 001/RW 004",
        "region_code": "64.09.01.1001",
        "dtsen_decile": 1,
        "dtsen_as_of": "2026-07-01",
        "is_female_head": True,
        "on_extreme_poverty_list": True,
        "consents": [
            {"purpose": "registration", "method": "verbal"},
            {"purpose": "contact", "method": "verbal"},
        ],
        "heirs": [
            {"name": "Andi Saputra", "relationship": "child", "birth_date": "2001-05-04"},
            {"name": "Ahmad Saputra", "relationship": "spouse", "phone": "0812-9999-0000"},
        ],
    }
    body.update(overrides)
    return body


# --- List and detail ---------------------------------------------------------------------------------------------


def test_operator_lists_every_worker_masked(world):
    response = world.api("operator").get("/api/v1/workers")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["limit"], body["offset"], body["next"]) == (2, 50, 0, None)
    assert [w["id"] for w in body["items"]] == [world.smg.pk, world.ppu.pk]  # newest first
    smg = body["items"][0]
    assert set(smg) == WORKER_FIELDS
    assert smg | {"created_at": None} == {
        "id": world.smg.pk,
        "nik_masked": "3374••••••••0007",
        "full_name": "Maria Ulfa",
        "birth_date": "1988-03-12",
        "sex": "F",
        "phone_masked": "+62857•••••222",
        "region_code": SMG_VILLAGE,
        "region_name": "Miroto",
        "occupation": "pedagang_kaki_lima",
        "occupation_name": "Pedagang kaki lima",
        "occupation_sector": "other",
        "declared_income": 1_000_000,
        "dtsen_decile": 4,
        "dtsen_as_of": None,
        "has_disability": False,
        "is_elderly": False,
        "is_female_head": False,
        "on_extreme_poverty_list": False,
        "zakat_eligible": False,
        "kpj_number": "",
        "status": "nominated",
        "rejection_reason": "",
        "source": "field_agent",
        "merged_into_id": None,
        "created_at": None,
    }
    text = response.content.decode()
    for plain in (PPU_NIK, SMG_NIK, "+6281234567890", "85711112222", "Jl. Pemuda", "Siti Aminah"):
        assert plain not in text


def test_a_field_agent_sees_only_its_regions(world, assert_problem):
    api = world.api("agent_ppu")
    body = api.get("/api/v1/workers").json()
    assert [w["id"] for w in body["items"]] == [world.ppu.pk]
    assert body["count"] == 1
    assert api.get(f"/api/v1/workers/{world.ppu.pk}").status_code == 200
    for path in (f"/api/v1/workers/{world.smg.pk}", f"/api/v1/workers/{world.smg.pk}/history"):
        body = assert_problem(api.get(path), 404, "not_found")
        assert "Maria" not in json.dumps(body)
    assert api.get(f"/api/v1/workers?q={SMG_NIK}").json()["count"] == 0
    assert api.get("/api/v1/workers?region=33.74").json()["count"] == 0
    before = AuditEvent.objects.count()
    assert_problem(post(api, f"/api/v1/workers/{world.smg.pk}/reveal"), 404, "not_found")
    assert AuditEvent.objects.count() == before
    assert world.api("agent_smg").get("/api/v1/workers").json()["count"] == 1


@pytest.mark.parametrize("role", ["funder", "worker"])
def test_funders_and_workers_are_refused_the_registry(world, assert_problem, role):
    api = world.api(role)
    for path in (
        "/api/v1/workers",
        f"/api/v1/workers/{world.ppu.pk}",
        f"/api/v1/workers/{world.ppu.pk}/history",
        "/api/v1/duplicates",
    ):
        assert_problem(api.get(path), 403, "forbidden")
    assert_problem(post(api, "/api/v1/workers", registration()), 403, "forbidden")
    assert_problem(post(api, f"/api/v1/workers/{world.ppu.pk}/reveal"), 403, "forbidden")
    assert Worker.objects.count() == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/workers"),
        ("post", "/api/v1/workers"),
        ("get", "/api/v1/workers/1"),
        ("post", "/api/v1/workers/1/reveal"),
        ("post", "/api/v1/workers/1/decisions"),
        ("get", "/api/v1/workers/1/history"),
        ("post", "/api/v1/consents/1/withdraw"),
        ("get", "/api/v1/duplicates"),
        ("post", "/api/v1/duplicates/1/review"),
        ("get", "/api/v1/occupations"),
        ("post", "/api/v1/nik/check"),
    ],
)
def test_anonymous_calls_are_401(client, assert_problem, method, path):
    response = post(client, path, {}) if method == "post" else client.get(path)
    assert_problem(response, 401, "not_authenticated")


def test_list_filters(world):
    operator = world.users["operator"]
    register(operator, full_name="Budi Santoso", serial=2, occupation="petani", dtsen_decile=7, source="pemda_list")
    from lingkaran.registry.services import worker_decide

    worker_decide(actor=world.users["verifier"], worker_id=world.ppu.pk, decision="verified", reason="Sesuai KTP")
    api = world.api("operator")

    def ids(query: str) -> set[int]:
        body = api.get(f"/api/v1/workers?{query}").json()
        assert body["count"] == len(body["items"])
        return {w["id"] for w in body["items"]}

    budi = Worker.objects.get(full_name="Budi Santoso").pk
    assert ids("q=santoso") == {budi}
    assert ids("q=SLAMET") == {world.ppu.pk}
    assert ids(f"q={SMG_NIK[:4]} {SMG_NIK[4:8]} {SMG_NIK[8:12]} {SMG_NIK[12:]}") == {world.smg.pk}  # exact NIK
    assert ids(f"q={SMG_NIK[:12]}") == set()  # part of a NIK finds nothing
    assert ids("region=64") == {world.ppu.pk, budi}
    assert ids("region=33.74.01") == {world.smg.pk}
    assert ids(f"region={SMG_VILLAGE}") == {world.smg.pk}
    assert ids("occupation=petani") == {budi}
    assert ids("status=verified") == {world.ppu.pk}
    assert ids("status=nominated") == {world.smg.pk, budi}
    assert ids("decile_max=4") == {world.ppu.pk, world.smg.pk}
    assert ids("decile_max=1") == set()
    assert ids("source=field_agent") == {world.ppu.pk, world.smg.pk}
    assert ids("region=64&status=nominated") == {budi}
    page = api.get("/api/v1/workers?limit=2&offset=0").json()
    assert (page["count"], len(page["items"]), page["next"]) == (3, 2, 2)
    assert api.get("/api/v1/workers?limit=2&offset=2").json()["next"] is None


def test_bad_filters_are_422(world, assert_problem):
    api = world.api("operator")
    body = assert_problem(api.get("/api/v1/workers?decile_max=11"), 422, "invalid_input")
    assert set(body["details"]["fields"]) == {"decile_max"}
    body = assert_problem(api.get("/api/v1/workers?status=dead"), 422, "invalid_input")
    assert set(body["details"]["fields"]) == {"status"}


def test_detail_shows_consents_heirs_and_decisions_without_personal_data(world):
    from lingkaran.registry.services import worker_decide

    worker_decide(actor=world.users["verifier"], worker_id=world.ppu.pk, decision="verified", reason="Sesuai KTP")
    response = world.api("verifier").get(f"/api/v1/workers/{world.ppu.pk}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == WORKER_FIELDS | {"nominated_by", "consents", "heirs", "decisions"}
    assert body["nominated_by"] == "agen.ppu"
    assert [(c["purpose"], c["method"], c["collected_by"], c["withdrawn_at"]) for c in body["consents"]] == [
        ("agency_sharing", "paper", "agen.ppu", None),
        ("registration", "paper", "agen.ppu", None),
    ]
    assert [(h["relationship"], h["order"]) for h in body["heirs"]] == [("spouse", 1)]
    [decision] = body["decisions"]
    assert (decision["decision"], decision["reason"], decision["decided_by"], decision["worker_id"]) == (
        "verified",
        "Sesuai KTP",
        "verifikator",
        world.ppu.pk,
    )
    assert "Siti Aminah" not in response.content.decode()  # the heir's name only through reveal
    assert PPU_NIK not in response.content.decode()


# --- Registration ------------------------------------------------------------------------------------------------


def test_a_field_agent_registers_a_worker(world):
    response = post(world.api("agent_ppu"), "/api/v1/workers", registration(source="funder"))
    assert response.status_code == 201, response.content
    body = response.json()
    worker = Worker.objects.get(pk=body["id"])
    assert (body["status"], body["source"], body["nominated_by"], body["warnings"]) == (
        "nominated",
        "field_agent",  # a field agent always nominates as a field agent
        "agen.ppu",
        [],
    )
    assert body["nik_masked"] == "6409••••••••0003"
    assert (body["region_code"], body["region_name"], body["occupation_sector"]) == (
        "64.09.01.1001",
        "Tanjung Tengah",
        "other",
    )
    assert (body["dtsen_decile"], body["dtsen_as_of"], body["is_female_head"], body["on_extreme_poverty_list"]) == (
        1,
        "2026-07-01",
        True,
        True,
    )
    assert sorted(c["purpose"] for c in body["consents"]) == ["contact", "registration"]
    assert [(h["relationship"], h["order"]) for h in body["heirs"]] == [("child", 1), ("spouse", 2)]
    assert worker.phone_masked == "+62813•••••333"
    assert Heir.objects.filter(worker=worker).count() == 2
    event = AuditEvent.objects.get(action="worker.register", object_id=str(worker.pk))
    assert (event.channel, event.actor) == ("api", world.users["agent_ppu"])
    assert "0813" not in response.content.decode()


def test_an_operator_may_name_the_list_a_worker_came_from(world, assert_problem):
    api = world.api("operator")
    response = post(api, "/api/v1/workers", registration(source="zakat_list"))
    assert response.status_code == 201
    assert response.json()["source"] == "zakat_list"
    body = assert_problem(
        post(api, "/api/v1/workers", registration(source="import", nik=nik_for(serial=9))), 422, "invalid_input"
    )
    assert set(body["details"]["fields"]) == {"source"}
    default = post(api, "/api/v1/workers", registration(nik=nik_for("64.09.01", date(1979, 1, 30), "F", 4)))
    assert default.json()["source"] == "operator"


def test_an_unknown_kecamatan_registers_with_a_warning(world):
    body = registration(nik=nik_for("64.99.01", date(1979, 1, 30), "F", 1), region_code="")
    response = post(world.api("operator"), "/api/v1/workers", body, **{"Accept-Language": "en"})
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        "Kecamatan 64.99.01 from the NIK is not in the loaded region list (it may predate a region split)."
    ]
    assert response.json()["region_code"] == "64.99.01"


def _invalid(**overrides):
    return registration(
        nik="640901700179000",  # 15 digits
        phone="+1 415 555 0100",
        occupation="astronaut",
        region_code="64.09.01.9999",
        **overrides,
    )


def test_422_lists_every_field_in_indonesian_by_default(world, assert_problem):
    before = (Worker.objects.count(), AuditEvent.objects.count())
    body = assert_problem(post(world.api("agent_ppu"), "/api/v1/workers", _invalid()), 422, "invalid_input")
    assert body["title"] == "Beberapa isian tidak valid."
    with translation.override("id"):
        expected = {
            "nik": [messages.render("nik_length", {"length": 15})],
            "phone": [messages.render("phone_not_indonesian")],
            "region_code": [messages.render("region_unknown", {"code": "64.09.01.9999"})],
            "occupation": [messages.render("occupation_unknown", {"value": "astronaut"})],
        }
    assert body["details"]["fields"] == expected
    assert (Worker.objects.count(), AuditEvent.objects.count()) == before


def test_422_in_english_on_request(world, assert_problem):
    response = post(world.api("agent_ppu"), "/api/v1/workers", _invalid(), **{"Accept-Language": "en"})
    body = assert_problem(response, 422, "invalid_input")
    assert body["title"] == "Some fields are not valid."
    assert body["details"]["fields"] == {
        "nik": ["NIK must have 16 digits, this one has 15."],
        "phone": ["Phone number is not an Indonesian number (+62)."],
        "region_code": ["Desa/kelurahan code 64.09.01.9999 is not in the region list."],
        "occupation": ["Occupation astronaut is not known; see the occupation list."],
    }


def test_422_for_missing_and_mistyped_fields_in_both_languages(world, assert_problem):
    broken = {"nik": PPU_NIK, "sex": "X", "declared_income": "banyak", "birth_date": "5 Agustus 1990"}
    api = world.api("agent_ppu")
    body = assert_problem(post(api, "/api/v1/workers", broken), 422, "invalid_input")
    fields = body["details"]["fields"]
    assert set(fields) == {"full_name", "occupation", "sex", "declared_income", "birth_date"}
    assert fields["full_name"] == ["Kolom ini wajib diisi."]
    english = assert_problem(post(api, "/api/v1/workers", broken, **{"Accept-Language": "en"}), 422, "invalid_input")
    assert english["details"]["fields"]["full_name"] == ["This field is required."]
    assert english["details"]["fields"]["declared_income"] == ["Enter a whole number."]
    assert english["details"]["fields"]["birth_date"] == ["Enter a date as YYYY-MM-DD."]
    assert Worker.objects.count() == 2


def test_cross_check_mismatches_name_the_field(world, assert_problem):
    body = registration(nik=PPU_NIK.replace("0001", "0002"), birth_date="1990-08-06", sex="M")
    problem = assert_problem(
        post(world.api("operator"), "/api/v1/workers", body, **{"Accept-Language": "en"}), 422, "invalid_input"
    )
    assert problem["details"]["fields"] == {
        "birth_date": ["Birth date does not match the NIK: the NIK says 05-08-90, the form says 1990-08-06."]
    }


def test_a_field_agent_cannot_register_in_another_region(world, assert_problem):
    body = registration(nik=nik_for("33.74.01", date(1979, 1, 30), "F", 3), region_code=SMG_VILLAGE)
    problem = assert_problem(post(world.api("agent_ppu"), "/api/v1/workers", body), 422, "invalid_input")
    assert problem["details"]["codes"] == ["region_outside_scope"]
    assert Worker.objects.count() == 2


def test_a_registered_nik_is_409(world, assert_problem):
    body = registration(nik="6409-0105-0890-0001", birth_date="1990-08-05", sex="M")
    before = (Worker.objects.count(), Consent.objects.count(), AuditEvent.objects.count())
    problem = assert_problem(post(world.api("operator"), "/api/v1/workers", body), 409, "nik_exists")
    assert set(problem["details"]["fields"]) == {"nik"}
    assert (Worker.objects.count(), Consent.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("role", ["auditor", "finance", "funder", "worker"])
def test_roles_without_registration_get_403(world, assert_problem, role):
    assert_problem(post(world.api(role), "/api/v1/workers", registration()), 403, "forbidden")
    assert Worker.objects.count() == 2


# --- Reveal ------------------------------------------------------------------------------------------------------


def test_reveal_returns_everything_uncached_and_audits_once(world):
    before = AuditEvent.objects.filter(action="worker.reveal_personal_data").count()
    response = post(world.api("agent_ppu"), f"/api/v1/workers/{world.ppu.pk}/reveal", {"reason": "Kunjungan"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "id": world.ppu.pk,
        "nik": PPU_NIK,
        "phone": "+6281234567890",
        "address": "Jl. Melati No. 5, RT 003/RW 002",
        "heirs": [
            {"relationship": "spouse", "name": "Siti Aminah", "nik": "", "phone": "081298765432", "birth_date": ""}
        ],
    }
    events = AuditEvent.objects.filter(action="worker.reveal_personal_data")
    assert events.count() == before + 1
    event = events.latest("pk")
    assert (event.actor, event.channel, event.object_id, event.details["reason"]) == (
        world.users["agent_ppu"],
        "api",
        str(world.ppu.pk),
        "Kunjungan",
    )
    # without a body too, and for the other roles that may reveal
    assert post(world.api("verifier"), f"/api/v1/workers/{world.smg.pk}/reveal").json()["nik"] == SMG_NIK
    assert post(world.api("operator"), f"/api/v1/workers/{world.smg.pk}/reveal", {}).status_code == 200
    assert events.count() == before + 3
    # reading the masked record audits nothing
    world.api("operator").get(f"/api/v1/workers/{world.ppu.pk}")
    assert events.count() == before + 3


@pytest.mark.parametrize("role", ["auditor", "finance", "funder", "worker"])
def test_reveal_is_refused_to_roles_without_it(world, assert_problem, role):
    before = AuditEvent.objects.count()
    body = assert_problem(post(world.api(role), f"/api/v1/workers/{world.ppu.pk}/reveal"), 403, "forbidden")
    assert PPU_NIK not in json.dumps(body)
    assert AuditEvent.objects.count() == before


def test_reveal_of_a_missing_worker_is_404(world, assert_problem):
    assert_problem(post(world.api("operator"), "/api/v1/workers/999999/reveal"), 404, "not_found")


# --- Decisions and history ---------------------------------------------------------------------------------------


def test_a_verifier_verifies_and_the_decision_is_final(world, assert_problem):
    api = world.api("verifier")
    path = f"/api/v1/workers/{world.ppu.pk}/decisions"
    response = post(api, path, {"decision": "verified", "reason": "Sesuai KTP dan kunjungan"})
    assert response.status_code == 201
    body = response.json()
    assert (body["decision"], body["reason"], body["decided_by"], body["worker_id"]) == (
        "verified",
        "Sesuai KTP dan kunjungan",
        "verifikator",
        world.ppu.pk,
    )
    world.ppu.refresh_from_db()
    assert world.ppu.status == "verified"
    assert_problem(post(api, path, {"decision": "rejected", "reason": "Salah"}), 409, "already_decided")
    assert VerificationDecision.objects.count() == 1


def test_a_rejection_keeps_its_reason(world):
    path = f"/api/v1/workers/{world.smg.pk}/decisions"
    response = post(world.api("verifier"), path, {"decision": "rejected", "reason": "Sudah peserta PU"})
    assert response.status_code == 201
    detail = world.api("operator").get(f"/api/v1/workers/{world.smg.pk}").json()
    assert (detail["status"], detail["rejection_reason"]) == ("rejected", "Sudah peserta PU")


def test_nobody_verifies_their_own_nomination(world, assert_problem):
    api = world.api("verifier")
    created = post(api, "/api/v1/workers", registration())
    assert created.status_code == 201
    worker_id = created.json()["id"]
    body = assert_problem(
        post(api, f"/api/v1/workers/{worker_id}/decisions", {"decision": "verified", "reason": "Ok"}),
        403,
        "own_nomination",
    )
    assert body["title"]
    assert VerificationDecision.objects.count() == 0
    response = post(world.api("verifier2"), f"/api/v1/workers/{worker_id}/decisions", {"decision": "verified", "reason": "Ok"})  # fmt: skip
    assert response.status_code == 201


@pytest.mark.parametrize("role", ["operator", "agent_ppu", "auditor", "funder"])
def test_only_verifiers_decide(world, assert_problem, role):
    path = f"/api/v1/workers/{world.ppu.pk}/decisions"
    assert_problem(post(world.api(role), path, {"decision": "verified", "reason": "Ok"}), 403, "forbidden")
    assert VerificationDecision.objects.count() == 0


def test_decision_input_is_checked(world, assert_problem):
    api, path = world.api("verifier"), f"/api/v1/workers/{world.ppu.pk}/decisions"
    body = assert_problem(post(api, path, {"decision": "maybe", "reason": "Ok"}), 422, "invalid_input")
    assert set(body["details"]["fields"]) == {"decision"}
    body = assert_problem(post(api, path, {"decision": "rejected", "reason": "  "}), 422, "invalid_input")
    assert set(body["details"]["fields"]) == {"reason"}
    assert_problem(post(api, "/api/v1/workers/999999/decisions", {"decision": "verified", "reason": "Ok"}), 404, "not_found")  # fmt: skip
    assert VerificationDecision.objects.count() == 0


def test_history_lists_what_happened_newest_first(world):
    post(world.api("verifier"), f"/api/v1/workers/{world.ppu.pk}/decisions", {"decision": "verified", "reason": "Ok"})
    post(world.api("agent_ppu"), f"/api/v1/workers/{world.ppu.pk}/reveal", {"reason": "Kunjungan"})
    body = world.api("auditor").get(f"/api/v1/workers/{world.ppu.pk}/history").json()
    assert [e["action"] for e in body["items"]] == ["worker.reveal_personal_data", "worker.verified", "worker.register"]
    assert [e["actor"] for e in body["items"]] == ["agen.ppu", "verifikator", "agen.ppu"]
    assert set(body["items"][0]) == {"id", "occurred_at", "actor", "channel", "action", "details"}
    assert PPU_NIK not in json.dumps(body)


# --- Consent -----------------------------------------------------------------------------------------------------


def test_consent_withdrawal(world, assert_problem):
    consent = world.ppu.consents.get(purpose="agency_sharing")
    path = f"/api/v1/consents/{consent.pk}/withdraw"
    assert_problem(post(world.api("agent_smg"), path, {}), 404, "not_found")
    assert_problem(post(world.api("auditor"), path, {}), 403, "forbidden")
    response = post(world.api("agent_ppu"), path, {"note": "Tidak setuju lagi"})
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["purpose"], body["withdrawn_by"], body["withdrawal_note"]) == (
        consent.pk,
        "agency_sharing",
        "agen.ppu",
        "Tidak setuju lagi",
    )
    assert body["withdrawn_at"] is not None
    again = post(world.api("operator"), path)  # no body; already withdrawn: unchanged
    assert again.status_code == 200
    assert (again.json()["withdrawn_at"], again.json()["withdrawn_by"]) == (body["withdrawn_at"], "agen.ppu")
    assert AuditEvent.objects.filter(action="worker.consent_withdrawn").count() == 1
    assert_problem(post(world.api("operator"), "/api/v1/consents/999999/withdraw"), 404, "not_found")


# --- Duplicates --------------------------------------------------------------------------------------------------


@pytest.fixture
def duplicate(world):
    again = register(world.users["operator"], full_name="H. Slamet Riyadi", serial=2, phone="0813-5555-6666")
    return again, DuplicateCandidate.objects.get()


def test_duplicates_are_listed_for_those_who_see_both_records(world, duplicate):
    again, candidate = duplicate
    body = world.api("operator").get("/api/v1/duplicates").json()
    assert body["count"] == 1
    [item] = body["items"]
    assert (item["id"], item["score"], item["state"]) == (candidate.pk, 95, "open")
    assert [e["rule"] for e in item["evidence"]] == ["same_name_birth_date", "similar_name_same_village"]
    assert (item["first"]["id"], item["second"]["id"]) == (world.ppu.pk, again.pk)
    assert item["first"]["nik_masked"] == "6409••••••••0001"
    assert PPU_NIK not in json.dumps(body)
    assert world.api("agent_ppu").get("/api/v1/duplicates").json()["count"] == 1
    assert world.api("agent_smg").get("/api/v1/duplicates").json()["count"] == 0
    assert world.api("operator").get("/api/v1/duplicates?state=merged").json()["count"] == 0


def test_merge_through_the_api(world, duplicate, assert_problem):
    again, candidate = duplicate
    path = f"/api/v1/duplicates/{candidate.pk}/review"
    review = {"same_person": True, "survivor_id": world.ppu.pk, "note": "Orang yang sama"}
    assert_problem(post(world.api("operator"), path, review), 403, "forbidden")
    response = post(world.api("verifier"), path, review)
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["reviewed_by"], body["review_note"]) == ("merged", "verifikator", "Orang yang sama")
    merge = Merge.objects.get()
    assert (merge.survivor_id, merge.merged_id) == (world.ppu.pk, again.pk)
    merged = world.api("operator").get(f"/api/v1/workers/{again.pk}").json()
    assert (merged["status"], merged["merged_into_id"]) == ("merged", world.ppu.pk)
    assert_problem(post(world.api("verifier"), path, review), 409, "already_reviewed")
    assert world.api("operator").get("/api/v1/duplicates?state=merged").json()["count"] == 1


def test_dismiss_through_the_api(world, duplicate, assert_problem):
    _again, candidate = duplicate
    path = f"/api/v1/duplicates/{candidate.pk}/review"
    bad = assert_problem(post(world.api("verifier"), path, {"same_person": True}), 422, "invalid_input")
    assert set(bad["details"]["fields"]) == {"survivor_id"}
    response = post(world.api("verifier"), path, {"same_person": False})
    assert (response.status_code, response.json()["state"]) == (200, "dismissed")
    assert Merge.objects.count() == 0
    assert_problem(post(world.api("verifier"), "/api/v1/duplicates/999999/review", {"same_person": False}), 404, "not_found")  # fmt: skip


# --- Occupations -------------------------------------------------------------------------------------------------


def test_occupations_in_the_callers_language(world):
    body = world.api("funder").get("/api/v1/occupations").json()
    assert body["count"] == 30
    ojol = next(o for o in body["items"] if o["code"] == "ojol")
    assert ojol == {
        "code": "ojol",
        "name": "Pengemudi ojek online",
        "name_id": "Pengemudi ojek online",
        "name_en": "Online motorcycle-taxi driver",
        "group": "transport",
        "group_name": "Transportasi dan pengantaran",
        "sector": "transport",
    }
    english = world.api("funder").get("/api/v1/occupations?limit=500", headers={"Accept-Language": "en"}).json()
    nelayan = next(o for o in english["items"] if o["code"] == "nelayan")
    assert (nelayan["name"], nelayan["group_name"], nelayan["sector"]) == ("Fisher", "Fisheries", "other")


# --- NIK check ---------------------------------------------------------------------------------------------------


def test_nik_check_decodes_a_valid_nik_and_stores_nothing(world):
    before = {m: m.objects.count() for m in (Worker, AuditEvent, Consent)}
    response = post(
        world.api("worker"), "/api/v1/nik/check", {"nik": "6409 0145 0890 0021", "birth_date": "1990-08-05", "sex": "F"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "is_valid": True,
        "nik_masked": "6409••••••••0021",
        "province": {"code": "64", "name": "Kalimantan Timur"},
        "regency": {"code": "64.09", "name": "Kabupaten Penajam Paser Utara"},
        "district": {"code": "64.09.01", "name": "Penajam"},
        "birth_date": "1990-08-05",
        "sex": "F",
        "serial": "0021",
        "errors": [],
        "warnings": [],
    }
    assert {m: m.objects.count() for m in before} == before


@pytest.mark.parametrize(
    ("body", "errors", "warnings"),
    [
        ({"nik": "640901450890002"}, [("nik_length", "nik", "NIK must have 16 digits, this one has 15.")], []),
        ({"nik": "6409013104900001"}, [("nik_birth_date_invalid", "nik", "NIK digits 7–10 are not a real date (day 31, month 4).")], []),
        ({"nik": "6409014508900000"}, [("nik_serial_zero", "nik", "NIK serial (last 4 digits) cannot be 0000.")], []),
        ({"nik": PPU_NIK, "sex": "F"}, [("nik_sex_mismatch", "sex", "Sex does not match the NIK: the NIK says male, the form says female.")], []),
        ({"nik": PPU_NIK, "birth_date": "1990-08-06"}, [("nik_birth_date_mismatch", "birth_date", "Birth date does not match the NIK: the NIK says 05-08-90, the form says 1990-08-06.")], []),
        ({"nik": "6499010508900001"}, [], [("nik_region_unknown", "nik", "Kecamatan 64.99.01 from the NIK is not in the loaded region list (it may predate a region split).")]),
    ],
)  # fmt: skip
def test_nik_check_problems_have_codes_fields_and_messages(world, body, errors, warnings):
    response = post(world.api("agent_ppu"), "/api/v1/nik/check", body, **{"Accept-Language": "en"})
    assert response.status_code == 200
    result = response.json()
    assert [(e["code"], e["field"], e["message"]) for e in result["errors"]] == errors
    assert [(w["code"], w["field"], w["message"]) for w in result["warnings"]] == warnings
    assert result["is_valid"] is (not errors)


def test_nik_check_of_an_undecodable_nik_and_a_bad_body(world, assert_problem):
    result = post(world.api("operator"), "/api/v1/nik/check", {"nik": "abc"}).json()
    assert (result["is_valid"], result["province"], result["birth_date"], result["sex"], result["serial"]) == (
        False,
        None,
        None,
        None,
        None,
    )
    assert [e["code"] for e in result["errors"]] == ["nik_not_digits"]
    with translation.override("id"):
        assert result["errors"][0]["message"] == messages.render("nik_not_digits")
    body = assert_problem(post(world.api("operator"), "/api/v1/nik/check", {"sex": "X"}), 422, "invalid_input")
    assert set(body["details"]["fields"]) == {"nik", "sex"}


# --- OpenAPI -----------------------------------------------------------------------------------------------------


def test_the_registry_is_documented_in_the_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations >= {
        ("/api/v1/workers", "get"),
        ("/api/v1/workers", "post"),
        ("/api/v1/workers/{worker_id}", "get"),
        ("/api/v1/workers/{worker_id}/reveal", "post"),
        ("/api/v1/workers/{worker_id}/decisions", "post"),
        ("/api/v1/workers/{worker_id}/history", "get"),
        ("/api/v1/consents/{consent_id}/withdraw", "post"),
        ("/api/v1/duplicates", "get"),
        ("/api/v1/duplicates/{candidate_id}/review", "post"),
        ("/api/v1/occupations", "get"),
        ("/api/v1/nik/check", "post"),
    }
    parameters = {p["name"] for p in schema["paths"]["/api/v1/workers"]["get"]["parameters"]}
    assert parameters >= {"q", "region", "occupation", "status", "decile_max", "source", "limit", "offset"}
    assert "201" in schema["paths"]["/api/v1/workers"]["post"]["responses"]
    assert "201" in schema["paths"]["/api/v1/workers/{worker_id}/decisions"]["post"]["responses"]
    components = schema["components"]["schemas"]
    assert {"WorkerIn", "WorkerOut", "WorkerDetailOut", "WorkerRevealed", "NikCheckIn", "NikCheckOut"} <= set(
        components
    )
    worker_in = components["WorkerIn"]
    assert set(worker_in["required"]) == {"nik", "full_name", "birth_date", "sex", "occupation", "declared_income"}
    assert "nik" not in components["WorkerOut"]["properties"]
    assert "nik_masked" in components["WorkerOut"]["properties"]
    for operation in (schema["paths"][p][m] for p, m in operations if p.startswith(("/api/v1/workers", "/api/v1/nik"))):
        assert operation.get("summary")
