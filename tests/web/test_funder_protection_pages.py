# ruff: noqa: F811 - the world fixture is imported from tests/protection/test_funder_view.py
"""The funder view pages: the dashboard's exact figures, the chart, blocks ending, the receipts with what each pays;
the covered workers with CSV and XLSX exports (masked: no full NIK, no name); the trace from a donation for its donor
(and from its receipt page); scoping (another funder's user: 404; other roles: 403); the coverage overview."""

from __future__ import annotations

import io
import re

import pytest

from tests.protection.test_funder_view import (  # noqa: F401 - fixtures
    FIRST_GIFT,
    MONTHLY,
    NIKS,
    SECOND_GIFT,
    _predictable_sandbox,
    funder_world,
    pay,
)

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def figure(response, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', response.content.decode())
    assert match, testid
    return re.sub(r"\s+", " ", match.group(1)).strip()


def test_a_funder_user_sees_its_figures_chart_and_receipts(client, login, funder_world):
    own = funder_world["own"]
    login(funder_world["csr"], language="en")
    response = client.get("/protection/funders/")
    assert response.status_code == 302
    assert response["Location"] == f"/protection/funders/{own.pk}/"
    response = client.get(f"/protection/funders/{own.pk}/?on=2027-04-10")
    assert response.status_code == 200
    assert figure(response, "funded") == "11"
    assert figure(response, "paid") == "3 · Rp 50,400"
    assert figure(response, "reserved") == "8 · Rp 134,400"
    assert figure(response, "returned") == "1 · Rp 16,800"
    assert figure(response, "protected-now") == "3"
    assert figure(response, "workers-funded") == "4"
    assert figure(response, "blocks-ending") == "0"
    assert figure(response, "ledger-received") == "Rp 218,400"
    assert figure(response, "ledger-reserve") == "Rp 134,400"
    assert figure(response, "ledger-available") == "Rp 33,600"
    assert "add up exactly to what the ledger holds in reserve" in text_of(response)
    page = response.content.decode()
    assert page.count("<rect ") == 4  # April: paid and returned; May and June: reserved
    assert "2027-04: 3 paid, 0 reserved, 1 returned to the pool" in page
    # The receipts, newest first, each with what it pays, linking to its trace.
    receipts = page.split('data-testid="receipts"')[1]
    assert re.findall(r">(Rp [\d,]+)</a>", receipts) == ["Rp 134,400", "Rp 50,400"]
    assert "Rp 33,600" in receipts
    # No name, no full NIK anywhere.
    assert "Budi Rahasia" not in page
    assert not any(nik in page for nik in NIKS)


def test_blocks_ending_show_on_the_day_asked(client, login, funder_world):
    login(funder_world["staff"]["auditor"], language="en")
    response = client.get(f"/protection/funders/{funder_world['own'].pk}/?on=2027-05-10")
    assert figure(response, "blocks-ending") == "4"
    assert figure(response, "protected-now") == "0"
    ending = response.content.decode().split('data-testid="ending"')[1].split("</table>")[0]
    assert ending.count("Jun 2027") == 4
    assert {w.nik_masked for w in funder_world["workers"]} <= set(re.findall(r'class="mono">([^<]+)<', ending))
    assert "Kota Semarang" in ending
    # A day that does not exist is today.
    assert client.get(f"/protection/funders/{funder_world['own'].pk}/?on=2026-02-30").status_code == 200


def test_the_covered_workers_page_and_its_exports_are_masked(client, login, funder_world):
    from openpyxl import load_workbook

    own = funder_world["own"]
    login(funder_world["csr"], language="en")
    response = client.get(f"/protection/funders/{own.pk}/workers/?on=2027-04-10")
    assert response.status_code == 200
    page = response.content.decode()
    rows = page.split('data-testid="workers"')[1].split("</table>")[0]
    assert re.findall(r'class="mono">([^<]+)<', rows) == [w.nik_masked for w in funder_world["workers"]]
    assert text_of(response).count("1 month · Rp 16,800") == 3
    assert "Budi Rahasia" not in page
    assert not any(nik in page for nik in NIKS)

    csv_response = client.get(f"/protection/funders/{own.pk}/workers/?format=csv")
    assert csv_response.status_code == 200
    assert csv_response["Content-Disposition"] == f'attachment; filename="funder-{own.pk}-worker-months.csv"'
    body = csv_response.content.decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0] == "NIK (masked),Regency/city code,Regency/city,Contribution month,Amount (Rp),State,Kind,Campaign"
    assert len(lines) == 1 + 12
    first = funder_world["workers"][0]
    assert f"{first.nik_masked},64.09,Kabupaten Penajam Paser Utara,2027-04,16800,Paid to the agency," in body
    assert body.count("Rejected by the agency") == 1
    assert "Budi Rahasia" not in body
    assert not any(nik in body for nik in NIKS)

    xlsx = client.get(f"/protection/funders/{own.pk}/workers/?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert len(values) == 13
    assert values[1][:5] == [first.nik_masked, "64.09", "Kabupaten Penajam Paser Utara", "2027-04", 16800]
    assert not any(nik in str(values) for nik in NIKS)


def test_a_donor_follows_a_donation_to_the_worker_months_it_paid(client, login, funder_world):
    first, second = funder_world["donations"]
    w = funder_world["workers"]
    login(funder_world["donors"][1], language="en")
    response = client.get(f"/donations/{second.pk}/worker-months/")
    assert response.status_code == 200
    assert figure(response, "trace-paid") == f"Rp {2 * MONTHLY:,}"
    assert figure(response, "trace-reserved") == f"Rp {6 * MONTHLY:,}"
    assert figure(response, "trace-unspent") == f"Rp {SECOND_GIFT - 8 * MONTHLY:,}"
    months = response.content.decode().split('data-testid="trace-months"')[1].split("</table>")[0]
    assert (
        re.findall(r'class="mono">([^<]+)<', months)
        == [w[1].nik_masked] * 3 + [w[2].nik_masked] * 3 + [w[3].nik_masked] * 2
    )
    assert "8 worker-months" in text_of(response)
    # Not the other donor's donation; the receipt page links here.
    assert client.get(f"/donations/{first.pk}/worker-months/").status_code == 404
    receipt = client.get(f"/receipts/{second.receipt.number}/")
    assert f"/donations/{second.pk}/worker-months/" in receipt.content.decode()
    listing = client.get("/my/donations/")
    assert f"/donations/{second.pk}/worker-months/" in listing.content.decode()


def test_the_funder_follows_each_payment_in(client, login, funder_world):
    from lingkaran.protection import selectors_funder as reads

    own = funder_world["own"]
    first_entry = reads.pool_receipts(funder_world["pool"])[0].entry_id
    login(funder_world["csr"], language="en")
    response = client.get(f"/protection/funders/{own.pk}/receipts/{first_entry}/")
    assert response.status_code == 200
    assert figure(response, "trace-paid") == f"Rp {MONTHLY:,}"
    assert figure(response, "trace-unspent") == "Rp 0"
    assert client.get(f"/protection/funders/{own.pk}/receipts/999999/").status_code == 404
    assert client.get(f"/donations/{funder_world['donations'][0].pk}/worker-months/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/protection/funders/{own}/",
        "/protection/funders/{own}/workers/",
        "/protection/funders/{own}/workers/?format=csv",
        "/protection/funders/{own}/receipts/1/",
        "/donations/{donation}/worker-months/",
    ],
)
def test_another_funders_user_gets_404(client, login, funder_world, path):
    login(funder_world["csr_other"])
    url = path.format(own=funder_world["own"].pk, donation=funder_world["donations"][0].pk)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("role", ["verifier", "field_agent"])
def test_other_roles_are_refused_and_see_no_link(client, login, funder_world, role):
    login(funder_world["staff"][role])
    assert client.get(f"/protection/funders/{funder_world['own'].pk}/").status_code == 403
    assert client.get("/protection/funders/").status_code == 403
    assert 'href="/protection/funders/"' not in client.get("/dashboard/").content.decode()


def test_staff_pick_any_funder_and_open_the_coverage_overview(client, login, funder_world):
    login(funder_world["staff"]["operator"], language="en")
    picker = client.get("/protection/funders/")
    assert picker.status_code == 200
    assert f"/protection/funders/{funder_world['own'].pk}/" in picker.content.decode()
    assert f"/protection/funders/{funder_world['other'].pk}/" in picker.content.decode()
    assert 'href="/protection/funders/"' in client.get("/dashboard/").content.decode()
    response = client.get("/protection/coverage/?on=2027-04-10")
    assert response.status_code == 200
    page = response.content.decode()
    totals = page.split('data-testid="coverage-totals"')[1].split("</dl>")[0]
    assert re.search(r'data-state="active"><dt>Active</dt><dd>3</dd>', totals)
    assert re.search(r'data-state="not_started"><dt>Not started</dt><dd>1</dd>', totals)
    provinces = page.split('data-testid="coverage-provinces"')[1]
    assert 'data-province="64"' in provinces
    assert 'data-province="33"' in provinces
    own = client.get(f"/protection/coverage/?on=2027-04-10&funder={funder_world['other'].pk}")
    assert "0 workers" in text_of(own)
    client.logout()
    login(funder_world["csr"])
    assert client.get("/protection/coverage/").status_code == 403


def test_the_indonesian_page(client, login, funder_world):
    login(funder_world["csr"], language="id")
    response = client.get(f"/protection/funders/{funder_world['own'].pk}/?on=2027-04-10")
    assert "Perlindungan yang didanai" in text_of(response)
    assert figure(response, "ledger-available") == "Rp 33.600"
    # The chart's coordinates are not localised (a decimal comma would break the SVG).
    rects = re.findall(r'<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)"', response.content.decode())
    assert len(rects) == 4
    assert all(re.fullmatch(r"\d+(\.\d+)?", value) for rect in rects for value in rect)


def test_the_funders_dashboard_links_to_its_protection(client, login, funder_world):
    login(funder_world["csr"], language="en")
    page = client.get("/dashboard/").content.decode()
    assert f'href="/protection/funders/{funder_world["own"].pk}/" data-testid="impact-link"' in page
    assert 'href="/protection/funders/"' in page  # the navigation entry


def test_a_campaigns_own_page(client, login, funder_world, register_worker, pay):
    """PT Sendiri's campaign collects Rp 100.800 and its pool enrols a fifth worker for May-October 2027: the campaign's
    page counts that block alone; the funder's page counts it with the rest; another funder's user gets 404."""
    from datetime import date, timedelta

    from django.utils import timezone

    from lingkaran.funding import services as funding_services
    from lingkaran.protection.sponsorships import pool_enrol
    from lingkaran.registry.services import worker_decide

    staff = funder_world["staff"]
    worker = register_worker(staff["operator"], nik="6409011708900005", region_code="64.09.01.2020")
    worker_decide(actor=staff["verifier"], worker_id=worker.pk, decision="verified", reason="KTP checked")
    campaign = funding_services.campaign_create(
        actor=funder_world["csr"],
        title="Ojek Penajam Terlindungi",
        story="Enam bulan perlindungan.",
        goal_workers=10,
        goal_months=6,
        goal_amount=1_008_000,
        end_on=timezone.localdate() + timedelta(days=30),
        target_regions=["64.09"],
        target_occupations=["ojek_pangkalan"],
    )
    funding_services.campaign_submit(actor=funder_world["csr"], campaign=campaign)
    campaign = funding_services.campaign_approve(actor=staff["operator"], campaign=campaign)
    intent = funding_services.donation_start(
        target=funding_services.DonationTarget.for_campaign(campaign),
        amount=6 * MONTHLY,
        donor_name="Siti",
        donor_email="siti@contoh.id",
    )
    assert pay(intent).state == "settled"
    (block,) = pool_enrol(campaign=campaign, as_of=date(2027, 4, 15), by=staff["finance"])
    assert (block.worker_id, block.months, block.total) == (worker.pk, 6, 6 * MONTHLY)

    login(funder_world["csr"], language="en")
    response = client.get(f"/protection/campaigns/{campaign.pk}/?on=2027-05-10")
    assert response.status_code == 200
    assert figure(response, "funded") == "6"
    assert figure(response, "reserved") == "6 · Rp 100,800"
    assert figure(response, "workers-funded") == "1"
    assert figure(response, "ledger-received") == "Rp 100,800"
    assert figure(response, "ledger-available") == "Rp 0"
    own_page = client.get(f"/protection/funders/{funder_world['own'].pk}/?on=2027-05-10")
    assert figure(own_page, "funded") == "17"
    assert f"/protection/campaigns/{campaign.pk}/" in own_page.content.decode()
    workers = client.get(f"/protection/campaigns/{campaign.pk}/workers/?format=csv").content.decode("utf-8-sig")
    assert workers.count("Ojek Penajam Terlindungi") == 6
    assert "6409011708900005" not in workers
    client.logout()
    login(funder_world["csr_other"])
    assert client.get(f"/protection/campaigns/{campaign.pk}/").status_code == 404
    assert client.get(f"/protection/campaigns/{campaign.pk}/workers/").status_code == 404
