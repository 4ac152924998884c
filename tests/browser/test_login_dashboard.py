import pytest
from playwright.sync_api import expect

from lingkaran.demo import DEMO_PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_on_a_phone_sees_indonesian_dashboard_then_switches_to_english(live_server, phone, artifacts_dir):
    UserFactory(username="rina", full_name="Rina Operator", role="operator")
    page = phone
    page.goto(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "id"
    page.get_by_label("Nama pengguna").fill("rina")
    page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    assert page.get_by_role("heading", level=1).inner_text() == "Selamat datang, Rina Operator"
    assert page.get_by_role("navigation", name="Navigasi utama").is_visible()
    # Nothing is wider than the phone: no sideways scrolling of the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=f"{artifacts_dir}/dashboard-id-360.png", full_page=True)

    page.get_by_label("Bahasa").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Rina Operator"
    page.screenshot(path=f"{artifacts_dir}/dashboard-en-360.png", full_page=True)


def test_wrong_password_shows_a_clear_message(live_server, phone):
    UserFactory(username="budi", role="finance")
    page = phone
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Nama pengguna").fill("budi")
    page.get_by_label("Kata sandi").fill("salah-sekali-123")
    page.get_by_role("button", name="Masuk").click()
    assert page.get_by_role("alert").is_visible()
    assert page.url.startswith(f"{live_server.url}/login/")
