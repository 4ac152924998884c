"""The continuation pages through the Django test client: the plan list (scoped, filtered, HTMX rows), the new plan
form (preview month by month in rupiah, confirm, refusals in the page's language writing nothing, a second confirm
reserving nothing more), and a worker's page (months, parts, pool, debt, payments) with the payment form."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from django.utils import timezone

from lingkaran.continuation.domain import rules
from lingkaran.continuation.models import CoPayPlan, PlanMonth, WorkerPayment
from lingkaran.continuation.services import plan_create, worker_payment_record
from lingkaran.core.models import AuditEvent
from lingkaran.ledger.models import JournalEntry
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.protection import cycle as cycle_services
from tests.continuation.conftest import APR, PAY_DAY, fund
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def plan_form(worker, pool, **extra) -> dict:
    return {
        "worker": str(worker.pk),
        "funder_pool": pool,
        "start": "2027-04",
        "months": "4",
        "first_share": "25",
        "step": "25",
        "package": "jkk_jkm",
        "note": "",
        **extra,
    }


def nothing_written(entries: int) -> bool:
    return (
        JournalEntry.objects.count() == entries
        and not CoPayPlan.objects.exists()
        and not AuditEvent.objects.filter(action__startswith="continuation.").exists()
    )


# --- Who may open what -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["verifier", "funder", "worker"])
def test_roles_that_may_not_read_are_refused(client, login, world, role):
    user = UserFactory(role=role)
    login(user)
    worker = world["workers"][0]
    for url in ("/continuation/", f"/continuation/workers/{worker.pk}/"):
        assert client.get(url).status_code == 403
    assert client.get("/continuation/new/").status_code == 403
    response = client.post(f"/continuation/workers/{worker.pk}/payments/", {"amount": "5.000"})
    assert response.status_code == 403
    assert "/continuation/" not in client.get("/dashboard/").content.decode()


def test_the_workers_registry_page_links_to_co_payment_for_those_who_may_read_it(client, login, world, people):
    worker = world["workers"][0]
    link = f'href="/continuation/workers/{worker.pk}/"'
    login(people["agent"])
    page = client.get(f"/workers/{worker.pk}/")
    assert page.status_code == 200
    assert link in page.content.decode()
    assert "Iuran bersama" in page.content.decode()
    client.logout()
    login(people["verifier"])  # reads the registry, not the money
    page = client.get(f"/workers/{worker.pk}/")
    assert page.status_code == 200
    assert link not in page.content.decode()


def test_anonymous_visitors_go_to_the_log_in_page(client, world):
    response = client.get("/continuation/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_auditors_read_but_neither_plan_nor_record(client, login, world, people):
    worker = world["workers"][0]
    plan_create(
        actor=people["operator"], worker_id=worker.pk, first_month=APR, shares_bp=[5000], funder_pool=world["pool"]
    )
    login(people["auditor"])
    page = text_of(client.get(f"/continuation/workers/{worker.pk}/"))
    assert "Rp 8.400" in page
    assert 'id="payment-form"' not in page
    assert "/continuation/new/" not in text_of(client.get("/continuation/"))
    assert client.get("/continuation/new/").status_code == 403
    entries = JournalEntry.objects.count()
    response = client.post(
        f"/continuation/workers/{worker.pk}/payments/",
        {"amount": "5.000", "paid_on": "2026-12-01", "receipt_number": "KW-9"},
    )
    assert response.status_code == 403
    assert JournalEntry.objects.count() == entries
    assert not WorkerPayment.objects.exists()


def test_a_field_agent_sees_the_plans_of_its_regions_only(client, login, world, people):
    worker = world["workers"][0]
    plan_create(
        actor=people["operator"], worker_id=worker.pk, first_month=APR, shares_bp=[5000], funder_pool=world["pool"]
    )
    login(people["far_agent"])
    assert worker.nik_masked not in text_of(client.get("/continuation/"))
    assert client.get(f"/continuation/workers/{worker.pk}/").status_code == 404
    client.logout()
    login(people["agent"])
    dashboard = client.get("/dashboard/").content.decode()
    assert 'href="/continuation/"' in dashboard
    listing = text_of(client.get("/continuation/"))
    assert worker.nik_masked in listing
    assert f'href="/continuation/workers/{worker.pk}/"' in listing
    assert client.get("/continuation/new/").status_code == 403


# --- The list ----------------------------------------------------------------------------------------------------------


def test_the_list_filters_by_month_state_and_region_and_swaps_rows_with_htmx(client, login, world, people):
    a, b = world["workers"][0], world["workers"][1]
    plan_create(
        actor=people["operator"],
        worker_id=a.pk,
        first_month=APR,
        shares_bp=[2500, 5000, 7500, 10_000],
        funder_pool=world["pool"],
    )
    plan_create(
        actor=people["operator"], worker_id=b.pk, first_month=date(2027, 9, 1), shares_bp=[10_000], funder_pool=""
    )
    login(people["finance"])
    page = text_of(client.get("/continuation/"))
    assert "2 rencana" in page
    assert "25 % → 50 % → 75 % → 100 %" in page
    assert "Rp 25.200" in page  # the funder's part of the four months
    assert "tidak ada: pekerja sendiri" in page
    assert a.nik_masked in text_of(client.get("/continuation/?month=2027-05"))
    assert b.nik_masked not in text_of(client.get("/continuation/?month=2027-05"))
    assert "1 rencana" in text_of(client.get("/continuation/?month=2027-09"))
    assert "0 rencana" in text_of(client.get("/continuation/?state=short"))
    assert "2 rencana" in text_of(client.get("/continuation/?region=64.09"))
    assert "0 rencana" in text_of(client.get("/continuation/?region=33.74"))
    bad = text_of(client.get("/continuation/?region=abc&month=2027-13"))
    assert "2 rencana" in bad  # a filter that does not parse filters nothing; the form says why
    assert "Tulis kode wilayah" in bad
    rows = client.get("/continuation/?month=2027-05", HTTP_HX_REQUEST="true")
    assert rows.status_code == 200
    assert "<form" not in rows.content.decode()
    assert 'data-testid="plan-rows"' in rows.content.decode()


# --- A new plan ----------------------------------------------------------------------------------------------------------


def test_preview_shows_each_month_in_rupiah_then_confirm_reserves_once(client, login, world, people):
    worker = world["workers"][0]
    login(people["operator"])
    form = client.get(f"/continuation/new/?worker={worker.pk}")
    assert form.status_code == 200
    assert f'value="{worker.pk}"' in form.content.decode()
    assert world["pool"] in form.content.decode()

    entries = JournalEntry.objects.count()
    preview = client.post("/continuation/new/", {**plan_form(worker, world["pool"]), "action": "preview"})
    assert preview.status_code == 200
    text = text_of(preview)
    assert nothing_written(entries)
    assert re.search(r"April 2027.*25 %.*Rp 16\.800.*Rp 12\.600.*Rp 4\.200", text)
    assert re.search(r"Juli 2027.*100 %.*Rp 16\.800.*Rp 0.*Rp 16\.800", text)
    assert "Rp 25.200" in text  # the funder's part, reserved on confirm
    assert 'data-testid="confirm"' in text

    done = client.post("/continuation/new/", {**plan_form(worker, world["pool"]), "action": "confirm"})
    assert done.status_code == 302
    assert done["Location"] == f"/continuation/workers/{worker.pk}/"
    plan = CoPayPlan.objects.get()
    assert (plan.worker_id, plan.shares_bp, plan.funder_reserved) == (worker.pk, [2500, 5000, 7500, 10_000], 25_200)
    assert plan.funder_source == "csr"
    assert balance_of(world["pool"]) == 1_000_000 - 25_200
    shown = text_of(client.get(done["Location"]))
    assert "Rencana dibuat: 4 bulan dari 04/2027; Rp 25.200 dialokasikan dari dana bersama pendana." in shown

    # a second click: refused in words, nothing more reserved
    entries = JournalEntry.objects.count()
    again = client.post("/continuation/new/", {**plan_form(worker, world["pool"]), "action": "confirm"})
    assert again.status_code == 409
    assert 'data-code="plan_months_taken"' in again.content.decode()
    assert "2027-04, 2027-05, 2027-06, 2027-07" in text_of(again)
    assert JournalEntry.objects.count() == entries
    assert CoPayPlan.objects.count() == 1
    assert verify().clean


def test_a_pool_that_cannot_pay_offers_no_confirm_and_a_forced_confirm_writes_nothing(client, login, world, people):
    worker = world["workers"][0]
    login(people["finance"], language="en")
    small = {**plan_form(worker, world["bridge"])}
    fund(world["bridge"], 1_000, "test:fund:bridge-small")
    preview = client.post("/continuation/new/", {**small, "action": "preview"})
    # the bridge fund is no funder's pool: the form offers only funder pools
    assert preview.status_code == 422
    assert "Select a valid choice" in text_of(preview)

    from lingkaran.funding import accounts
    from tests.factories import FunderFactory

    poor = FunderFactory(kind="zakat_body", name="LAZ Kecil")
    poor_pool = accounts.open_pool(target="funder", funder_id=poor.pk)
    fund(poor_pool, 10_000, "test:fund:poor")
    entries = JournalEntry.objects.count()
    preview = client.post("/continuation/new/", {**plan_form(worker, poor_pool), "action": "preview"})
    assert preview.status_code == 200
    text = text_of(preview)
    assert "does not hold enough" in text
    assert 'data-testid="confirm"' not in text
    forced = client.post("/continuation/new/", {**plan_form(worker, poor_pool), "action": "confirm"})
    assert forced.status_code == 409
    assert 'data-code="plan_pool_insufficient"' in forced.content.decode()
    assert "Available in the pool: Rp 10,000. Needed for the funder's part of the plan: Rp 25,200." in text_of(forced)
    assert nothing_written(entries)
    assert balance_of(poor_pool) == 10_000


def test_bad_input_is_shown_on_the_fields_in_indonesian_and_writes_nothing(client, login, world, people, region_tree):
    worker = world["workers"][0]
    login(people["operator"])
    entries = JournalEntry.objects.count()
    cases = [
        ({"months": "30"}, "months"),
        ({"first_share": "0"}, "first_share"),
        ({"start": "April"}, "start"),
        ({"worker": "999999"}, "worker"),
        ({"funder_pool": ""}, "funder_pool"),  # co-paid months need a funder pool
    ]
    for change, field in cases:
        response = client.post(
            "/continuation/new/", {**plan_form(worker, world["pool"]), **change, "action": "confirm"}
        )
        assert response.status_code == 422, change
        assert f'id="id_{field}_error"' in response.content.decode(), (change, text_of(response)[-3000:])
    no_worker = client.post("/continuation/new/", {**plan_form(worker, world["pool"]), "worker": "999999"})
    assert "Tidak ada pekerja dengan id ini di wilayah Anda." in text_of(no_worker)
    no_pool = client.post("/continuation/new/", {**plan_form(worker, "")})
    assert "Pilih dana bersama pendana yang ada." in text_of(no_pool)
    # a worker paying every month alone needs no funder pool
    alone = client.post(
        "/continuation/new/", {**plan_form(worker, "", first_share="100", step="0", months="2"), "action": "preview"}
    )
    assert alone.status_code == 200
    assert 'data-testid="confirm"' in alone.content.decode()
    assert nothing_written(entries)


def test_a_month_without_a_tariff_is_refused_on_the_start_field(client, login, world, people):
    worker = world["workers"][0]
    login(people["operator"])
    response = client.post("/continuation/new/", {**plan_form(worker, world["pool"], start="2010-01")})
    assert response.status_code == 422
    assert 'id="id_start_error"' in response.content.decode()
    assert not CoPayPlan.objects.exists()


# --- A worker's page and payments ---------------------------------------------------------------------------------------


def test_a_worker_page_shows_who_paid_what_the_pool_and_the_debt(client, login, world, people):
    b = world["workers"][1]
    fund(world["bridge"], 100_000, "test:fund:bridge")
    plan_create(
        actor=people["finance"], worker_id=b.pk, first_month=APR, shares_bp=[5000, 7500], funder_pool=world["pool"]
    )
    worker_payment_record(
        actor=people["agent"], worker_id=b.pk, amount=3_000, paid_on=timezone.localdate(), receipt_number="KW-B0"
    )
    cycle_services.cycle_run(month=APR, today=PAY_DAY, tasks=False)  # own 3,000 + bridged 5,400 of 8,400
    login(people["agent"])
    page = text_of(client.get(f"/continuation/workers/{b.pk}/"))
    assert re.search(
        r"April 2027.*50 %.*Rp 16\.800.*Rp 8\.400.*Rp 8\.400.*pekerja Rp 3\.000.*dana talangan Rp 5\.400", page
    )
    assert "Mei 2027" in page
    assert re.search(r'data-testid="balance">Rp 0<', page)
    assert re.search(r'data-testid="debt"><span class="warn">Rp 5\.400<', page)
    assert "KW-B0" in page
    assert 'id="payment-form"' in page

    # a payment repays the bridge fund first
    response = client.post(
        f"/continuation/workers/{b.pk}/payments/",
        {"amount": "10.000", "paid_on": timezone.localdate().isoformat(), "receipt_number": "KW-B1"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/continuation/workers/{b.pk}/#payments"
    page = text_of(client.get(response["Location"]))
    assert "Pembayaran dicatat: Rp 10.000, tanda terima KW-B1; Rp 5.400 darinya melunasi dana talangan." in page
    assert re.search(r'data-testid="debt">Rp 0<', page)
    assert re.search(r'data-testid="balance">Rp 4\.600<', page)
    assert balance_of(rules.worker_pool(b.pk)) == 4_600
    assert WorkerPayment.objects.get(receipt_number="KW-B1").repaid == 5_400
    assert verify().clean


def test_payment_refusals_are_shown_and_write_nothing(client, login, world, people):
    a = world["workers"][0]
    login(people["finance"])
    worker_payment_record(
        actor=people["finance"], worker_id=a.pk, amount=5_000, paid_on=timezone.localdate(), receipt_number="KW-1"
    )
    entries, payments = JournalEntry.objects.count(), WorkerPayment.objects.count()
    url = f"/continuation/workers/{a.pk}/payments/"
    today = timezone.localdate().isoformat()
    bad = [
        ({"amount": "0", "paid_on": today, "receipt_number": "KW-2"}, "amount", 422),
        ({"amount": "lima ribu", "paid_on": today, "receipt_number": "KW-2"}, "amount", 422),
        ({"amount": "5.000", "paid_on": "2099-01-01", "receipt_number": "KW-2"}, "paid_on", 422),
        ({"amount": "5.000", "paid_on": today, "receipt_number": ""}, "receipt_number", 422),
        ({"amount": "6.000", "paid_on": today, "receipt_number": "KW-1"}, "receipt_number", 409),
    ]
    for data, field, status in bad:
        response = client.post(url, data)
        assert response.status_code == status, (data, response.status_code)
        assert f'id="id_{field}_error"' in response.content.decode(), data
    duplicate = text_of(client.post(url, {"amount": "6.000", "paid_on": today, "receipt_number": "KW-1"}))
    assert "Nomor tanda terima ini sudah tercatat untuk pembayaran lain." in duplicate
    future = text_of(client.post(url, {"amount": "5.000", "paid_on": "2099-01-01", "receipt_number": "KW-2"}))
    assert "tidak di masa depan" in future
    # the same receipt again with the same content: the same payment, nothing moves
    same = client.post(url, {"amount": "5.000", "paid_on": today, "receipt_number": "KW-1"})
    assert same.status_code == 302
    assert (JournalEntry.objects.count(), WorkerPayment.objects.count()) == (entries, payments)
    # outside the agent's regions: 404, nothing written
    client.logout()
    login(people["far_agent"])
    assert client.post(url, {"amount": "5.000", "paid_on": today, "receipt_number": "KW-3"}).status_code == 404
    # an operator may read but not record
    client.logout()
    login(people["operator"])
    assert client.post(url, {"amount": "5.000", "paid_on": today, "receipt_number": "KW-3"}).status_code == 403
    assert (JournalEntry.objects.count(), WorkerPayment.objects.count()) == (entries, payments)
    assert PlanMonth.objects.count() == 0
