"""A finance officer on a 360-px phone makes a step-down co-payment plan for a worker whose sponsorship ended:
previews each month's parts in rupiah, confirms, lands on the worker's page, records the money the worker handed over,
and finds the plan in the list through its filters. Nothing is wider than the phone; the pages are in Indonesian."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lingkaran.continuation.domain import rules
from lingkaran.continuation.models import CoPayPlan, WorkerPayment
from lingkaran.demo import DEMO_PASSWORD
from lingkaran.ledger.selectors import balance_of
from tests.browser import test_registration_mobile as registration_mobile
from tests.browser import test_sponsorship_mobile as sponsorship_mobile
from tests.browser.test_registration_mobile import no_sideways_scroll
from tests.continuation import conftest as continuation_world

# The fixtures this test borrows: the tariff and occupation seeds, and the continuation world (a company pool, the
# bridge fund, verified workers registered with the agency).
seeded = sponsorship_mobile.seeded
occupations = registration_mobile.occupations
people = continuation_world.people
world = continuation_world.world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_co_payment_plan_and_a_payment_on_a_phone(
    live_server,
    phone,
    artifacts_dir,
    seeded,
    occupations,
    world,
    people,
):
    worker = world["workers"][0]
    page = phone
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(people["finance"].username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    expect(page.locator("nav.menu")).to_contain_text("Iuran bersama")

    page.goto(f"{live_server.url}/continuation/new/?worker={worker.pk}")
    expect(page.locator("h1")).to_have_text("Rencana iuran bersama baru")
    expect(page.locator("#id_worker")).to_have_value(str(worker.pk))
    page.locator("#id_funder_pool").select_option(world["pool"])
    page.locator("#id_start").fill("2027-04")
    page.locator("#id_months").fill("4")
    page.locator("#id_first_share").fill("25")
    page.locator("#id_step").fill("25")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/continuation-plan-form-360.png", full_page=True)

    page.locator('[data-testid="preview"]').click()
    page.wait_for_load_state()
    months = page.locator('[data-testid="preview-months"] tbody tr')
    expect(months).to_have_count(4)
    expect(months.nth(0)).to_contain_text("April 2027")
    expect(months.nth(0)).to_contain_text("25 %")
    expect(months.nth(0)).to_contain_text(re.compile(r"Rp\s?12\.600"))
    expect(months.nth(0)).to_contain_text(re.compile(r"Rp\s?4\.200"))
    expect(months.nth(3)).to_contain_text("100 %")
    expect(page.locator('[data-testid="preview-needed"]')).to_have_text(re.compile(r"Rp\s?25\.200"))
    assert not CoPayPlan.objects.exists()  # a preview reserves nothing
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/continuation-plan-preview-360.png", full_page=True)

    page.locator('[data-testid="confirm"]').click()
    page.wait_for_url(f"{live_server.url}/continuation/workers/{worker.pk}/")
    expect(page.locator(".messages")).to_contain_text("Rencana dibuat")
    expect(page.locator('[data-testid="plan-months"] tbody tr')).to_have_count(4)
    expect(page.locator('[data-testid="balance"]')).to_have_text(re.compile(r"Rp\s?0"))

    page.locator("#id_amount").fill("20.000")
    page.locator("#id_receipt_number").fill("KW-0001")
    assert no_sideways_scroll(page)
    page.locator('[data-testid="record-payment"]').click()
    page.wait_for_url(re.compile(rf".*/continuation/workers/{worker.pk}/#payments$"))
    expect(page.locator(".messages")).to_contain_text("KW-0001")
    expect(page.locator('[data-testid="balance"]')).to_have_text(re.compile(r"Rp\s?20\.000"))
    expect(page.locator('[data-testid="payments"]')).to_contain_text("KW-0001")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/continuation-worker-360.png", full_page=True)
    assert WorkerPayment.objects.get().amount == 20_000
    assert balance_of(rules.worker_pool(worker.pk)) == 20_000
    assert balance_of(world["pool"]) == 1_000_000 - 25_200

    page.goto(f"{live_server.url}/continuation/")
    page.locator("#id_month").fill("2027-05")
    page.locator(".filters button[type=submit]").click()
    expect(page.locator('[data-testid="plan-rows"]')).to_contain_text(worker.nik_masked)
    expect(page.locator('[data-testid="plan-rows"]')).to_contain_text("25 % → 50 % → 75 % → 100 %")
    assert no_sideways_scroll(page)
    page.screenshot(path=f"{artifacts_dir}/continuation-list-360.png", full_page=True)
