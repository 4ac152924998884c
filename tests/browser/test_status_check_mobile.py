"""A worker checks their protection on a 360-px phone at /cek-status/, without logging in: types the NIK and the
birth date, reads until when they are protected and nothing else about them; nothing is wider than the phone."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lingkaran.protection.agency.domain.months import first_of_month
from tests.browser.test_registration_mobile import occupations  # noqa: F401 - fixture
from tests.conftest import NIK_MAN
from tests.factories import FunderFactory, UserFactory
from tests.protection.test_coverage import months_from, pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.fixture
def worker(occupations, region_tree, register_worker):  # noqa: F811
    from django.core.cache import cache

    cache.clear()
    budi = register_worker(UserFactory(role="operator"))
    pay(budi, months_from(first_of_month(timezone.localdate()), 3), funder=FunderFactory(name="PT Sumber Rejeki"))
    return budi


def test_a_worker_checks_their_protection_on_a_phone(live_server, phone, artifacts_dir, worker):
    page = phone
    page.goto(f"{live_server.url}/cek-status/")
    assert no_sideways_scroll(page)
    page.locator("#id_nik").fill(NIK_MAN)
    page.locator("#id_birth_date").fill(f"{worker.birth_date:%Y-%m-%d}")
    page.screenshot(path=f"{artifacts_dir}/status-check-form-360.png", full_page=True)
    page.locator("form button[type=submit]").click()
    answer = page.locator("#check-answer")
    expect(answer).to_have_attribute("data-status", "active")
    expect(answer).to_be_visible()
    assert no_sideways_scroll(page)
    text = page.content()
    for secret in ("Budi Hartono", "PT Sumber Rejeki", NIK_MAN):
        assert secret not in text
    assert page.locator("#id_nik").input_value() == ""
    page.screenshot(path=f"{artifacts_dir}/status-check-answer-360.png", full_page=True)
