# ruff: noqa: F811 - fixtures imported from other test modules
"""On a 360-px phone: a company's CSR user opens the protection its money funds (figures, the month chart, blocks
ending, money in), the covered workers, and a donor follows a donation to the worker-months it paid. Nothing is wider
than the phone, and no full NIK appears."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lingkaran.demo import DEMO_PASSWORD
from tests.browser.test_registration_mobile import no_sideways_scroll, occupations  # noqa: F401 - fixture
from tests.browser.test_sponsorship_mobile import seeded  # noqa: F401 - fixture
from tests.protection.test_funder_view import (  # noqa: F401 - fixtures
    NIKS,
    _predictable_sandbox,
    funder_world,
    pay,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{base}/dashboard/")


def test_the_funder_view_on_a_phone(live_server, phone, artifacts_dir, seeded, occupations, funder_world):
    page = phone
    base = live_server.url
    own = funder_world["own"]
    log_in(page, base, funder_world["csr"].username)
    page.locator('[data-testid="impact-link"]').click()
    page.wait_for_url(f"{base}/protection/funders/{own.pk}/")
    page.goto(f"{base}/protection/funders/{own.pk}/?on=2027-04-10")
    expect(page.locator('[data-testid="funded"]')).to_have_text("11")
    expect(page.locator('[data-testid="protected-now"]')).to_have_text("3")
    expect(page.locator('[data-testid="ledger-available"]')).to_have_text("Rp 33.600")
    expect(page.locator('[data-testid="months-chart"] svg')).to_be_visible()
    box = page.locator('[data-testid="months-chart"] svg').bounding_box()
    assert box["width"] <= 360
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/funder-view-360.png", full_page=True)
    content = page.content()
    assert not any(nik in content for nik in NIKS)

    page.locator('[data-testid="workers-link"]').click()
    page.wait_for_load_state()
    expect(page.locator('[data-testid="workers"] tbody tr')).to_have_count(4)
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/funder-workers-360.png", full_page=True)
    assert not any(nik in page.content() for nik in NIKS)


def test_a_donor_follows_a_donation_on_a_phone(live_server, phone, artifacts_dir, seeded, occupations, funder_world):
    page = phone
    base = live_server.url
    second = funder_world["donations"][1]
    log_in(page, base, funder_world["donors"][1].username)
    page.goto(f"{base}/receipts/{second.receipt.number}/")
    page.locator('[data-testid="worker-months-link"]').click()
    page.wait_for_url(f"{base}/donations/{second.pk}/worker-months/")
    expect(page.locator('[data-testid="trace-months"] tbody tr')).to_have_count(8)
    expect(page.locator('[data-testid="trace-unspent"]')).to_have_text("Rp 33.600")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/donation-trace-360.png", full_page=True)
    assert not any(nik in page.content() for nik in NIKS)
