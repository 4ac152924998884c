"""A field agent registers a worker on a 360-px phone: the NIK is decoded while it is typed, the desa is picked
through the cascading region pickers, and the saved record shows the masked NIK. Nothing is wider than the phone."""

import importlib
import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from lingkaran.demo import DEMO_PASSWORD
from lingkaran.registry.models import Consent, Sex, Worker
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def occupations(transactional_db):
    """A transactional test before this one may have flushed the occupations seeded by migration: seed them again
    with the migration's own (idempotent) function."""
    from django.apps import apps

    migration = importlib.import_module("lingkaran.registry.migrations.0002_occupations_and_append_only")
    migration.seed(apps, None)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_field_agent_registers_a_worker_on_a_phone(live_server, phone, artifacts_dir, region_tree, occupations):
    agent = UserFactory(username="yusuf", full_name="Yusuf Hidayat", role="field_agent", regions=["64.09"])
    with translation.override("id"):
        male = str(Sex.MALE.label)
    page = phone
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Nama pengguna").fill("yusuf")
    page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    page.locator('a[href="/workers/new/"]').first.click()
    page.wait_for_url(f"{live_server.url}/workers/new/")

    # The NIK is decoded as it is typed, before anything is submitted.
    page.locator("#id_nik").press_sequentially("6409011708900001", delay=20)
    decoded = page.locator("#nik-decoded .decoded")
    expect(decoded).to_contain_text("Penajam")
    expect(decoded).to_contain_text("17 Agustus 1990")
    expect(decoded.locator(".nik-sex")).to_have_text(male)
    # ... and fills in the birth date and sex, which the agent may still correct.
    expect(page.locator("#id_birth_date")).to_have_value("1990-08-17")
    expect(page.locator('input[name="sex"][value="M"]')).to_be_checked()
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/registration-nik-decoded-360.png")

    page.locator("#id_full_name").fill("Budi Hartono")
    # Province and kabupaten are the agent's only ones, so they are chosen already; kecamatan, then desa.
    expect(page.locator("#id_regency")).to_have_value("64.09")
    expect(page.locator("#id_region_code")).to_be_disabled()
    page.locator("#id_district").select_option("64.09.01")
    expect(page.locator("#id_region_code")).to_be_enabled()
    page.locator("#id_region_code").select_option(label="Giri Mukti")
    expect(page.locator("#id_region_code")).to_have_value("64.09.01.2020")
    page.locator("#id_phone").fill("0812 3456 7890")
    page.locator("#id_occupation").select_option("ojek_pangkalan")
    page.locator('input[name="consent_purposes"][value="registration"]').check()
    page.locator("#id_consent_method").select_option("verbal")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/registration-form-360.png", full_page=True)

    page.locator('.submit-bar button[type="submit"]').click()
    page.wait_for_url(re.compile(r".*/workers/\d+/$"))
    expect(page.locator("#worker-nik")).to_have_text("6409••••••••0001")
    expect(page.get_by_role("heading", level=1)).to_have_text("Budi Hartono")
    assert "6409011708900001" not in page.content()
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/registration-done-360.png", full_page=True)

    worker = Worker.objects.get()
    assert page.url == f"{live_server.url}/workers/{worker.pk}/"
    assert (worker.region_id, worker.birth_date.isoformat(), worker.sex) == ("64.09.01.2020", "1990-08-17", "M")
    assert (worker.nominated_by_id, worker.source, worker.phone_masked) == (agent.pk, "field_agent", "+62812•••••890")
    assert list(Consent.objects.values_list("purpose", "method")) == [("registration", "verbal")]
