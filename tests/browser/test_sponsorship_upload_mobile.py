"""A finance officer on a 360-px phone sponsors the workers of a funder's list: uploads an XLSX of NIKs, reads the
row report (one matched, one NIK Excel turned into a number, one not registered), sees the month-by-month preview,
confirms, and lands on the list with the block reserved. Nothing is wider than the phone."""

from __future__ import annotations

import importlib
import re

import openpyxl
import pytest
from django.apps import apps
from playwright.sync_api import expect

from lingkaran.demo import DEMO_PASSWORD
from lingkaran.ledger.selectors import balance_of
from lingkaran.protection.models import ProgrammeRate, SponsoredMonth
from tests.browser.test_registration_mobile import no_sideways_scroll, occupations  # noqa: F401 - fixture
from tests.factories import FunderFactory
from tests.web.test_sponsorship_pages import MONTH, fund, staff, verified  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(transactional_db):
    """The tariff seed of migration 0001_tariffs (an earlier committing test may have flushed it)."""
    if not ProgrammeRate.objects.exists():
        importlib.import_module("lingkaran.protection.migrations.0001_tariffs").seed(apps, None)


def test_a_list_of_niks_on_a_phone(live_server, phone, artifacts_dir, seeded, occupations, staff, verified, tmp_path):  # noqa: F811
    (worker,) = verified(1, full_name="Siti Aminah")
    funder = FunderFactory(kind="company", name="PT Peduli Pekerja")
    pool = fund(funder, 500_000)
    book = openpyxl.Workbook()
    for row in (
        ["Daftar penerima CSR PT Peduli Pekerja"],
        ["No", "NIK", "Nama"],
        [1, "6409011708900001", "Siti Aminah"],
        [2, 6409011708900002, "Budi"],
        [3, "6409011708909999", "Tidak Terdaftar"],
    ):
        book.active.append(row)
    path = tmp_path / "daftar-penerima.xlsx"
    book.save(path)

    page = phone
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(staff["finance"].username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")

    page.goto(f"{live_server.url}/sponsorships/directed/")
    page.locator('[data-testid="upload-link"]').click()
    page.wait_for_url(re.compile(r".*/sponsorships/directed/upload/$"))
    page.locator("#id_funder").select_option(str(funder.pk))
    page.locator("#id_file").set_input_files(str(path))
    page.locator("#id_start").fill("2027-04")
    page.locator("#id_months").fill("3")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/sponsorship-upload-360.png", full_page=True)

    page.locator('[data-testid="check"]').click()
    page.wait_for_load_state()
    expect(page.locator('[data-testid="count-matched"]')).to_have_text("1")
    expect(page.locator('[data-testid="count-malformed"]')).to_have_text("1")
    expect(page.locator('[data-testid="count-not_found"]')).to_have_text("1")
    left_out = page.locator('[data-testid="left-out"]')
    expect(left_out.locator('tr[data-outcome="malformed"]')).to_contain_text("Excel")
    expect(left_out.locator('tr[data-outcome="not_found"]')).to_contain_text("6409••••••••9999")
    expect(page.locator('[data-testid="matched"]')).to_contain_text(worker.nik_masked)
    expect(page.locator('[data-testid="preview-total"]')).to_have_text(re.compile(r"Rp\s?50\.400"))
    assert SponsoredMonth.objects.count() == 0
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/sponsorship-upload-report-360.png", full_page=True)

    page.locator('[data-testid="confirm"]').click()
    page.wait_for_url(re.compile(r".*/sponsorships/\?funder=\d+$"))
    expect(page.locator('[data-testid="sponsorship-rows"]')).to_contain_text(worker.nik_masked)
    assert no_sideways_scroll(page)
    assert SponsoredMonth.objects.filter(worker=worker).count() == 3
    assert balance_of(pool) == 500_000 - 3 * MONTH
