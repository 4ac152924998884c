"""A verifier imports a Pemda list on a 360-px phone: upload, preview, start, and the result with its problems.
Nothing is wider than the phone."""

import re

import pytest
from playwright.sync_api import expect

from lingkaran.demo import DEMO_PASSWORD
from lingkaran.registry.models import ImportBatch, Worker
from tests.browser.test_registration_mobile import no_sideways_scroll, occupations  # noqa: F401 - fixture
from tests.factories import UserFactory
from tests.registry.import_helpers import sample_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_verifier_imports_a_list_on_a_phone(live_server, phone, artifacts_dir, region_tree, occupations, tmp_path):  # noqa: F811
    UserFactory(username="siti", full_name="Siti Rahmawati", role="verifier")
    path = tmp_path / "pemda-ppu.csv"
    path.write_bytes(sample_csv(60))
    page = phone
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Nama pengguna").fill("siti")
    page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")

    page.goto(f"{live_server.url}/imports/new/")
    page.locator("#id_file").set_input_files(str(path))
    page.locator("#id_source").select_option("pemda_list")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/import-upload-360.png", full_page=True)
    page.locator('form button[type="submit"].primary').click()
    page.wait_for_url(re.compile(r".*/imports/\d+/$"))

    # The preview: masked NIKs, the first rows, the problem of row 9.
    expect(page.locator("table.data tbody tr").first).to_contain_text("6409••••••••")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/import-preview-360.png", full_page=True)
    page.locator('form[action$="/start/"] button').click()
    page.wait_for_url(re.compile(r".*/imports/\d+/$"))
    expect(page.locator(".stats")).to_contain_text("57")
    expect(page.locator("table.data")).to_contain_text("nik_length")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/import-result-360.png", full_page=True)

    batch = ImportBatch.objects.get()
    assert (batch.state, batch.created_count) == (ImportBatch.State.DONE, 57)
    assert Worker.objects.count() == 57
