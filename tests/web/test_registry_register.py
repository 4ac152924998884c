"""The field agent's registration form: NIK decoded as it is typed, cascading region pickers limited to the agent's
regions, every problem shown on its field with status 422 and nothing written, success lands on the worker."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext

from lingkaran.core.models import AuditEvent
from lingkaran.registry import messages as problems
from lingkaran.registry.models import Consent, Heir, Sex, Worker
from tests.conftest import NIK_MAN, NIK_WOMAN
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(make_user, region_tree):
    return make_user("field_agent", regions=["64.09"])


def form_data(**overrides) -> dict:
    data = {
        "nik": "6409 0117 0890 0001",
        "full_name": "  Budi   Hartono ",
        "birth_date": "1990-08-17",
        "sex": "M",
        "province": "64",
        "regency": "64.09",
        "district": "64.09.01",
        "region_code": "64.09.01.2020",
        "address": "Jl. Provinsi Km 5 RT 03",
        "phone": "0812-3456-7890",
        "occupation": "ojek_pangkalan",
        "declared_income": "1.000.000",
        "dtsen_decile": "2",
        "dtsen_as_of": "2025-06-30",
        "is_female_head": "",
        "zakat_eligible": "on",
        "consent_purposes": ["registration", "agency_sharing"],
        "consent_method": "paper",
        "consent_evidence": "Formulir 17/2026",
        "heirs-TOTAL_FORMS": "3",
        "heirs-INITIAL_FORMS": "0",
        "heirs-MIN_NUM_FORMS": "0",
        "heirs-MAX_NUM_FORMS": "3",
        "heirs-0-name": "Sri Wahyuni",
        "heirs-0-relationship": "spouse",
        "heirs-0-nik": "6409015203920003",
        "heirs-0-phone": "081299998888",
        "heirs-0-birth_date": "1992-03-12",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def label(choice, language="id") -> str:
    with translation.override(language):
        return str(choice.label)


def options(html: str, select_id: str) -> list[str]:
    match = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select {select_id}"
    return [v for v in re.findall(r'<option value="([^"]*)"', match.group(1)) if v]


def selected(html: str, select_id: str) -> str | None:
    match = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    found = re.search(r'<option value="([^"]*)" selected>', match.group(1))
    return found.group(1) if found else None


# --- The empty form -------------------------------------------------------------------------------------------------


def test_form_offers_only_the_agents_regions_with_one_choice_levels_chosen(client, login, agent):
    login(agent)
    response = client.get("/workers/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert options(html, "id_province") == ["64"]
    assert selected(html, "id_province") == "64"
    assert options(html, "id_regency") == ["64.09"]  # not Kutai Kartanegara (64.02), outside the assignment
    assert selected(html, "id_regency") == "64.09"
    assert options(html, "id_district") == ["64.09.01", "64.09.02"]  # Penajam, Waru (by name)
    assert selected(html, "id_district") is None
    assert 'id="id_region_code" name="region_code" disabled' in html
    assert 'hx-trigger="keyup changed delay:300ms' in html
    assert 'value="1.000.000"' in html  # the lowest bracket is suggested
    # occupations grouped, labelled in the active language
    assert '<optgroup label="Transportasi dan pengantaran">' in html
    assert '<option value="ojek_pangkalan">Ojek pangkalan</option>' in html


def test_occupations_are_labelled_in_english_when_english_is_chosen(client, login, agent):
    login(agent, language="en")
    html = client.get("/workers/new/").content.decode()
    assert '<optgroup label="Transport and delivery">' in html
    assert '<option value="ojek_pangkalan">Motorcycle-taxi driver (base)</option>' in html


def test_region_picker_cascades_within_the_agents_regions(client, login, agent):
    login(agent)
    response = client.get("/workers/new/regions/", {"province": "64", "regency": "64.09", "district": "64.09.01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert options(html, "id_region_code") == ["64.09.01.2020", "64.09.01.1001"]  # Giri Mukti, Tanjung Tengah
    # a region outside the assignment is never offered, whatever is asked for
    html = client.get("/workers/new/regions/", {"province": "33", "regency": "33.74"}).content.decode()
    assert options(html, "id_province") == ["64"]
    assert selected(html, "id_regency") == "64.09"
    assert "33.74" not in html


def test_region_picker_resets_a_desa_that_no_longer_fits_its_kecamatan(client, login, agent):
    login(agent)
    html = client.get(
        "/workers/new/regions/",
        {"province": "64", "regency": "64.09", "district": "64.09.02", "region_code": "64.09.01.2020"},
    ).content.decode()
    assert selected(html, "id_district") == "64.09.02"
    assert selected(html, "id_region_code") is None


def test_operator_picks_from_every_province(client, login, make_user, region_tree):
    login(make_user("operator"))
    html = client.get("/workers/new/regions/").content.decode()
    assert options(html, "id_province") == ["33", "64"]  # Jawa Tengah, Kalimantan Timur
    assert selected(html, "id_province") is None


@pytest.mark.parametrize("role", ["finance", "auditor", "funder", "worker"])
def test_roles_that_do_not_register_are_refused(role, client, login, make_user, region_tree):
    login(make_user(role))
    assert client.get("/workers/new/").status_code == 403
    assert client.get("/workers/new/nik/", {"nik": NIK_MAN}).status_code == 403
    assert client.get("/workers/new/regions/").status_code == 403
    assert client.post("/workers/new/", form_data()).status_code == 403
    assert Worker.objects.count() == 0


def test_anonymous_visitor_is_sent_to_log_in(client, db):
    response = client.get("/workers/new/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/workers/new/"


# --- NIK decoded as it is typed -------------------------------------------------------------------------------------


def test_nik_is_decoded_into_regions_birth_date_and_sex(client, login, agent):
    login(agent)
    response = client.get("/workers/new/nik/", {"nik": "6409 0117 0890 0001"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Kalimantan Timur" in html
    assert "Kabupaten Penajam Paser Utara" in html
    assert "Penajam" in html
    assert "17 Agustus 1990" in html
    assert f'<dd class="nik-sex">{label(Sex.MALE)}</dd>' in html
    assert 'data-birth-date="1990-08-17" data-sex="M"' in html
    assert 'class="warn"' not in html


def test_a_womans_nik_gives_the_day_minus_40_and_female(client, login, agent):
    login(agent)
    html = client.get("/workers/new/nik/", {"nik": NIK_WOMAN}).content.decode()
    assert "5 Maret 1985" in html
    assert 'data-birth-date="1985-03-05" data-sex="F"' in html
    assert f'<dd class="nik-sex">{label(Sex.FEMALE)}</dd>' in html


def test_nik_problems_are_worded_by_the_registry_messages(client, login, agent):
    login(agent)
    html = client.get("/workers/new/nik/", {"nik": "6409011708900000"}).content.decode()
    assert problems.render("nik_serial_zero") in html
    assert "data-birth-date" not in html
    html = client.get("/workers/new/nik/", {"nik": "6409013208900001"}).content.decode()
    assert problems.render("nik_birth_date_invalid", {"day": 32, "month": 8}) in html
    html = client.get("/workers/new/nik/", {"nik": "64090117O8900001"}).content.decode()
    assert problems.render("nik_not_digits") in html


def test_a_nik_being_typed_shows_how_many_digits_so_far(client, login, agent):
    login(agent)
    html = client.get("/workers/new/nik/", {"nik": "640901"}).content.decode()
    assert problems.render("nik_length", {"length": 6}) in html
    assert "field-error" not in html


def test_a_kecamatan_missing_from_the_list_is_a_warning(client, login, agent):
    login(agent)
    html = client.get("/workers/new/nik/", {"nik": "6409991708900001"}).content.decode()
    assert problems.render("nik_region_unknown", {"district": "64.09.99"}) in html
    assert 'data-sex="M"' in html  # still decoded: a warning does not invalidate the NIK


def test_a_nik_already_registered_in_the_agents_regions_is_pointed_at(client, login, agent, register_worker):
    worker = register_worker(agent)
    login(agent)
    html = client.get("/workers/new/nik/", {"nik": NIK_MAN}).content.decode()
    assert problems.render("nik_exists") in html
    assert f'href="/workers/{worker.pk}/"' in html


# --- Submitting -----------------------------------------------------------------------------------------------------


def test_registration_saves_the_worker_and_lands_on_its_page(client, login, agent):
    login(agent)
    response = client.post("/workers/new/", form_data())
    worker = Worker.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/workers/{worker.pk}/"
    assert worker.full_name == "Budi Hartono"
    assert worker.nik_masked == "6409••••••••0001"
    assert worker.region_id == "64.09.01.2020"
    assert worker.phone_masked.startswith("+62812")
    assert worker.declared_income == 1_000_000
    assert (worker.dtsen_decile, str(worker.dtsen_as_of)) == (2, "2025-06-30")
    assert (worker.zakat_eligible, worker.is_female_head) == (True, False)
    assert (worker.status, worker.source, worker.nominated_by_id) == ("nominated", "field_agent", agent.pk)
    assert sorted(Consent.objects.filter(worker=worker).values_list("purpose", "method", "evidence")) == [
        ("agency_sharing", "paper", "Formulir 17/2026"),
        ("registration", "paper", "Formulir 17/2026"),
    ]
    heir = Heir.objects.get(worker=worker)
    assert heir.relationship == "spouse"
    assert "Sri Wahyuni" not in heir.details_encrypted  # encrypted at rest
    assert AuditEvent.objects.filter(action="worker.register", object_id=str(worker.pk)).count() == 1

    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Budi Hartono" in html
    assert "6409••••••••0001" in html
    assert NIK_MAN not in html
    assert next(str(m) for m in page.context["messages"]).startswith("Budi Hartono")


def test_a_nik_warning_is_shown_after_registration(client, login, agent, register_worker):
    login(agent)
    response = client.post(
        "/workers/new/",
        form_data(nik="6409991708900001", province=None, regency=None, district=None, region_code=""),
        follow=True,
    )
    assert response.status_code == 200
    worker = Worker.objects.get()
    assert worker.region_code == "64.09.99"  # the kecamatan from the NIK, not in the loaded list
    texts = [str(m) for m in response.context["messages"]]
    assert problems.render("nik_region_unknown", {"district": "64.09.99"}) in texts


def assert_nothing_written(before_events: int):
    assert Worker.objects.count() == 0
    assert Consent.objects.count() == 0
    assert Heir.objects.count() == 0
    assert AuditEvent.objects.count() == before_events


def in_page_language(text: str) -> str:
    """The form's own message as the page shows it (Indonesian, the default language)."""
    with translation.override("id"):
        return gettext(text)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"nik": "6409011708900000"}, "nik", lambda: problems.render("nik_serial_zero")),
        ({"nik": "64090117089"}, "nik", lambda: problems.render("nik_length", {"length": 11})),
        (
            {"sex": "F"},
            "sex",
            lambda: problems.render("nik_sex_mismatch", {"nik_sex": "M", "declared": "F"}),
        ),
        (
            {"birth_date": "1990-08-18"},
            "birth_date",
            lambda: problems.render("nik_birth_date_mismatch", {"nik_date": "17-08-90", "declared": "1990-08-18"}),
        ),
        ({"full_name": "   "}, "full_name", lambda: problems.render("name_missing")),
        ({"phone": "+44 20 7946 0000"}, "phone", lambda: problems.render("phone_not_indonesian")),
        ({"occupation": ""}, "occupation", lambda: in_page_language("Choose the occupation.")),
        ({"occupation": "astronaut"}, "occupation", lambda: "astronaut"),  # Django: not one of the choices
        ({"sex": ""}, "sex", lambda: in_page_language("Choose the sex (it is filled in from the NIK).")),
        ({"declared_income": "0"}, "declared_income", lambda: problems.render("income_invalid")),
        (
            {"declared_income": "satu juta"},
            "declared_income",
            lambda: in_page_language("Write a whole number of rupiah, e.g. 1.000.000."),
        ),
        (
            {"consent_purposes": ["agency_sharing"]},
            "consent_purposes",
            lambda: in_page_language("The worker's consent to registration is required; without it nothing is saved."),
        ),
        ({"consent_method": ""}, "consent_method", lambda: in_page_language("Say how the worker gave consent.")),
        ({"heirs-0-relationship": ""}, "heirs-0-relationship", lambda: in_page_language("Choose the relationship.")),
        ({"heirs-0-nik": "12345"}, "heirs-0-nik", lambda: in_page_language("An NIK has 16 digits.")),
    ],
)
def test_each_problem_is_shown_on_its_field_with_422_and_nothing_is_written(
    change, field, message, client, login, agent
):
    login(agent)
    before = AuditEvent.objects.count()
    response = client.post("/workers/new/", form_data(**change))
    assert response.status_code == 422
    html = response.content.decode()
    error = re.search(rf'<p class="field-error" id="id_{re.escape(field)}_error">([^<]*)</p>', html)
    assert error, f"no error shown on {field}"
    assert message() in error.group(1).replace("&#x27;", "'")
    assert_nothing_written(before)
    assert f'<a href="#id_{field}' in html  # the summary at the top links to the field
    # what was typed is kept
    assert 'value="Sri Wahyuni"' in html


def test_one_submit_names_form_and_service_problems_together(client, login, agent):
    login(agent)
    response = client.post("/workers/new/", form_data(nik="6409011708900000", consent_purposes=[]))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert problems.render("nik_serial_zero") in errors["nik"]
    assert "consent_purposes" in errors


def test_a_desa_outside_the_agents_regions_is_refused(client, login, agent):
    RegionFactory(code="33.74.01.1001", name="Miroto")
    login(agent)
    before = AuditEvent.objects.count()
    response = client.post(
        "/workers/new/", form_data(province="33", regency="33.74", district="33.74.01", region_code="33.74.01.1001")
    )
    assert response.status_code == 422
    assert response.context["form"].errors["region_code"] == [
        problems.render("region_outside_scope", {"code": "33.74.01.1001"})
    ]
    assert 'id="id_region_code_error"' in response.content.decode()
    assert_nothing_written(before)


def test_a_nik_registered_before_is_refused_on_the_nik_field(client, login, agent, register_worker, make_user):
    register_worker(make_user("operator"))
    login(agent)
    before = AuditEvent.objects.count()
    response = client.post("/workers/new/", form_data())
    assert response.status_code == 422
    assert response.context["form"].errors["nik"] == [problems.render("nik_exists")]
    assert Worker.objects.count() == 1
    assert AuditEvent.objects.count() == before


def test_refused_form_keeps_the_region_pickers_on_the_chosen_desa(client, login, agent):
    login(agent)
    html = client.post("/workers/new/", form_data(full_name="")).content.decode()
    assert selected(html, "id_district") == "64.09.01"
    assert selected(html, "id_region_code") == "64.09.01.2020"
    assert "keyup changed delay:300ms, input changed delay:300ms, load" in html  # the NIK is decoded again
