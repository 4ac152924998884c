"""A finance officer on a 360-px phone sponsors a named worker: finds the worker, previews the block month by month,
confirms, and lands on the list with the block reserved. Nothing is wider than the phone."""

from __future__ import annotations

import importlib
import re

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


def test_a_directed_sponsorship_on_a_phone(live_server, phone, artifacts_dir, seeded, occupations, staff, verified):  # noqa: F811
    (worker,) = verified(1, full_name="Siti Aminah")
    funder = FunderFactory(kind="company", name="PT Peduli Pekerja")
    pool = fund(funder, 500_000)
    page = phone
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(staff["finance"].username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")

    page.goto(f"{live_server.url}/sponsorships/directed/")
    page.locator("#id_funder").select_option(str(funder.pk))
    page.locator("#worker-q").fill("Siti")
    page.locator("#worker-search").click()
    expect(page.locator("#found")).to_contain_text(worker.nik_masked)
    page.locator(f"#pick-{worker.pk}").check()
    page.locator("#id_start").fill("2027-04")
    page.locator("#id_months").fill("3")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/sponsorship-directed-360.png", full_page=True)

    page.locator('button[name="action"][value="preview"]').click()
    page.wait_for_load_state()
    expect(page.locator('[data-testid="preview-total"]')).to_have_text(re.compile(r"Rp\s?50\.400"))
    expect(page.locator(f"#picked-{worker.pk}")).to_be_checked()
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/sponsorship-preview-360.png", full_page=True)

    page.locator('[data-testid="confirm"]').click()
    page.wait_for_url(re.compile(r".*/sponsorships/\?funder=\d+$"))
    expect(page.locator('[data-testid="sponsorship-rows"]')).to_contain_text(worker.nik_masked)
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/sponsorship-list-360.png", full_page=True)
    assert SponsoredMonth.objects.filter(worker=worker).count() == 3
    assert balance_of(pool) == 500_000 - 3 * MONTH


def test_a_criteria_run_on_a_phone(live_server, phone, artifacts_dir, seeded, occupations, staff, verified):  # noqa: F811
    (worker,) = verified(1, dtsen_decile=2)
    funder = FunderFactory(kind="company", name="PT Peduli Pekerja")
    pool = fund(funder, 500_000)
    page = phone
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(staff["operator"].username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")

    page.goto(f"{live_server.url}/sponsorships/allocation/")
    page.locator("#id_funder").select_option(str(funder.pk))
    page.locator("#id_regions").fill("64.09")
    page.locator("#id_workers").fill("1")
    page.locator("#id_start").fill("2027-04")
    page.locator("#id_months").fill("2")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/allocation-form-360.png", full_page=True)
    page.locator("#allocation-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/sponsorships/runs/\d+/$"))
    expect(page.locator('[data-testid="picks"]')).to_contain_text(worker.nik_masked)
    page.locator("#why-worker").fill(str(worker.pk))
    page.locator("#why-worker").press("Enter")
    expect(page.locator('[data-testid="explanation"]')).to_be_visible()
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/allocation-run-360.png", full_page=True)
    page.locator('[data-testid="commit"]').click()
    expect(page.locator('[data-testid="run-state"]')).to_have_attribute("class", re.compile("status-committed"))
    assert balance_of(pool) == 500_000 - 2 * MONTH
