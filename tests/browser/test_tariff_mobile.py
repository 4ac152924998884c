"""A finance officer on a 360-px phone opens the tariffs page, sees what is in force, and prices a transport worker's
month with the calculator (HTMX swaps the result in); nothing is wider than the phone."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from playwright.sync_api import expect

from lingkaran.demo import DEMO_PASSWORD
from lingkaran.protection.models import ProgrammeRate
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(transactional_db):
    """The tariff seed of migration 0001_tariffs (an earlier committing test may have flushed it)."""
    if not ProgrammeRate.objects.exists():
        importlib.import_module("lingkaran.protection.migrations.0001_tariffs").seed(apps, None)


def test_the_tariffs_page_and_calculator_on_a_phone(live_server, phone, artifacts_dir, seeded):
    UserFactory(role="finance", username="dewi")
    page = phone
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("dewi")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.goto(f"{live_server.url}/tariffs/?month=2026-06")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.locator("#in-force")).to_be_visible()
    page.screenshot(path=f"{artifacts_dir}/tariffs-360.png", full_page=True)

    page.locator("#id_month").fill("2027-03")
    page.locator("#id_declared_income").fill("1.000.000")
    page.locator("#id_sector").select_option("transport")
    page.locator("#id_package").select_option("jkk_jkm")
    page.locator("#id_source").select_option("csr")
    page.locator("#quote-form button[type=submit]").click()
    expect(page.locator("[data-testid=quote-total]")).to_have_text("Rp 8.400")
    assert page.url.endswith("/tariffs/?month=2026-06")  # swapped in place, no reload
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("#quote").screenshot(path=f"{artifacts_dir}/tariffs-quote-360.png")
