"""Coverage on the pages and the API: the "Protection" section of the worker detail, and the public status check
(``/cek-status/`` and ``POST /api/v1/coverage/check``): dates and the next step only, one answer for an unknown NIK and
a wrong birth date, rate-limited per address and per NIK."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone, translation

from lingkaran.protection import coverage as reads
from lingkaran.protection.agency.domain.months import add_months, first_of_month
from tests.conftest import NIK_MAN, NIK_WOMAN
from tests.factories import FunderFactory
from tests.protection.test_coverage import confirm_line, months_from, pay

pytestmark = pytest.mark.django_db

NIK_ENDED = "6409011708900003"
NIK_UNKNOWN = "6409011708909999"
COMPANY = "PT Sumber Rejeki"
ANSWER = re.compile(r'<div[^>]*id="check-answer".*?</div>', re.S)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(make_user, region_tree, register_worker):
    """Three workers of kecamatan Penajam: protected this month and the next two, in grace (last paid two months
    ago), ended (last paid six months ago)."""
    this_month = first_of_month(timezone.localdate())
    agent = make_user("field_agent", regions=["64.09"])
    company = FunderFactory(name=COMPANY)
    active = register_worker(agent)
    paid = pay(active, months_from(this_month, 3), funder=company)
    confirm_line(paid[0])
    grace = register_worker(agent, NIK_WOMAN, full_name="Sri Lestari")
    pay(grace, months_from(add_months(this_month, -4), 3), funder=company)
    ended = register_worker(agent, NIK_ENDED, full_name="Joko Santoso")
    pay(ended, months_from(add_months(this_month, -8), 2), funder=company)
    return {"agent": agent, "active": active, "grace": grace, "ended": ended, "month": this_month}


def _check(client, nik, birth_date, **extra):
    return client.post("/cek-status/", {"nik": nik, "birth_date": f"{birth_date:%Y-%m-%d}"}, **extra)


def _answer(response) -> str:
    found = ANSWER.search(response.content.decode())
    assert found, response.content.decode()[:2000]
    return found.group(0)


def _status(response) -> str:
    return re.search(r'data-status="([a-z_]+)"', _answer(response)).group(1)


def test_worker_detail_shows_the_protection_section(client, login, world):
    login(world["agent"])
    response = client.get(f"/workers/{world['active'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="protection"' in html
    assert 'data-coverage-state="active"' in html
    assert COMPANY in html
    next_due = add_months(world["month"], 3).replace(day=15)
    assert f'datetime="{next_due:%Y-%m-%d}"' in html
    grace = client.get(f"/workers/{world['grace'].pk}/").content.decode()
    assert 'data-coverage-state="grace"' in grace


def test_the_check_page_is_public_and_answers_each_state(client, world):
    assert client.get("/cek-status/").status_code == 200
    response = _check(client, NIK_MAN, world["active"].birth_date)
    assert response.status_code == 200
    assert _status(response) == "active"
    language = response["Content-Language"]
    with translation.override(language):
        expected = reads.check_answer(
            reads.coverage_check(NIK_MAN, world["active"].birth_date, today=timezone.localdate())
        )
    assert expected.headline in response.content.decode()
    assert _status(_check(client, NIK_WOMAN, world["grace"].birth_date)) == "grace"
    assert _status(_check(client, NIK_ENDED, world["ended"].birth_date)) == "ended"


def test_unknown_nik_and_wrong_birth_date_get_the_same_answer(world):
    wrong = _answer(_check(Client(REMOTE_ADDR="10.0.0.1"), NIK_MAN, date(1990, 8, 18)))
    unknown = _answer(_check(Client(REMOTE_ADDR="10.0.0.2"), NIK_UNKNOWN, date(1990, 8, 17)))
    assert wrong == unknown
    assert 'data-status="no_match"' in wrong


def test_the_answer_shows_no_personal_data(client, world):
    html = _check(client, NIK_MAN, world["active"].birth_date).content.decode()
    for secret in ("Budi Hartono", "3456", "Jl. Provinsi", COMPANY, "16800", "16.800", NIK_MAN):
        assert secret not in html


def test_checks_are_limited_per_address_and_per_nik(world):
    birth = world["active"].birth_date
    same_address = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(reads.CHECK_LIMIT):
        assert _check(same_address, NIK_UNKNOWN, birth).status_code == 200
    limited = _check(same_address, NIK_MAN, birth)
    assert limited.status_code == 429
    assert _status(limited) == "limited"
    # The NIK tried 5 times from other addresses is limited for a fresh address too.
    for n in range(reads.CHECK_LIMIT):
        _check(Client(REMOTE_ADDR=f"10.0.1.{n}"), NIK_WOMAN, birth)
    assert _check(Client(REMOTE_ADDR="10.0.2.1"), NIK_WOMAN, world["grace"].birth_date).status_code == 429


def test_an_invalid_nik_is_a_form_error(client, world):
    response = _check(client, "12345", world["active"].birth_date)
    assert response.status_code == 400
    assert 'id="check-answer"' not in response.content.decode()


# --- API -------------------------------------------------------------------------------------------------------------


def _api(client, nik, birth_date):
    return client.post(
        "/api/v1/coverage/check", {"nik": nik, "birth_date": f"{birth_date:%Y-%m-%d}"}, content_type="application/json"
    )


def test_the_api_answers_like_the_page(world):
    client = Client(REMOTE_ADDR="10.0.3.1")
    body = _api(client, NIK_MAN, world["active"].birth_date).json()
    assert body["status"] == "active"
    assert body["protected_through"] == f"{add_months(world['month'], 2):%Y-%m}"
    assert set(body) == {"status", "headline", "next_step", "protected_through", "pay_before"}
    grace = _api(client, NIK_WOMAN, world["grace"].birth_date).json()
    assert grace["status"] == "grace"
    assert grace["pay_before"] == f"{add_months(world['month'], 2):%Y-%m-%d}"
    assert _api(client, NIK_ENDED, world["ended"].birth_date).json()["status"] == "ended"
    wrong = _api(Client(REMOTE_ADDR="10.0.3.2"), NIK_MAN, date(1990, 8, 18))
    unknown = _api(Client(REMOTE_ADDR="10.0.3.3"), NIK_UNKNOWN, date(1990, 8, 17))
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.json() == unknown.json()


def test_the_api_is_limited_and_in_the_schema(world):
    client = Client(REMOTE_ADDR="10.0.4.1")
    for _ in range(reads.CHECK_LIMIT):
        assert _api(client, NIK_UNKNOWN, date(1990, 8, 17)).status_code == 200
    limited = _api(client, NIK_UNKNOWN, date(1990, 8, 17))
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert "Retry-After" in limited
    schema = Client().get("/api/v1/openapi.json").json()
    assert "post" in schema["paths"]["/api/v1/coverage/check"]
    assert _api(client, "123", date(1990, 8, 17)).status_code in (400, 422)
