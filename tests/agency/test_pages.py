"""The agency pages: who may open and do what (money staff read; finance pays; operators enrol; everyone else is
refused), batches with each line's outcome and reason, downloads, uploads with the row-level report."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from django.utils.html import escape
from openpyxl import load_workbook

from lingkaran.protection.agency import services
from lingkaran.protection.agency.domain.months import first_of_month
from lingkaran.protection.agency.messages import problem_text, reason_text, state_text
from lingkaran.protection.agency.models import FileImport, LineOutcome, MembershipStatus, SimulatorWageEarner
from lingkaran.protection.agency.services import PaymentLineInput
from tests.agency.helpers import FULL, NOW, month, participant, pay

pytestmark = pytest.mark.django_db

STAFF = ["operator", "finance", "auditor"]


def shown(render, *args) -> str:
    """A message as an English page shows it (translated, then HTML-escaped)."""
    with translation.override("en"):
        return escape(render(*args))


OTHERS = ["verifier", "field_agent", "funder", "worker"]


@pytest.fixture
def world(db):
    """A simulator batch with an accepted and a refused line, and a file-exchange batch waiting for the agency."""
    anna = participant("anna", month(2027, 1))
    simulated = pay("sim-jan", month(2027, 1), [(1, anna, month(2027, 1), FULL), (2, anna, month(2027, 1), FULL)])
    from django.test import override_settings

    with override_settings(LINGKARAN_AGENCY="file"):
        batch = services.payment_batch_open(key="file-jan", today=month(2027, 1))
    services.payment_lines_add(batch_id=batch.pk, lines=[PaymentLineInput(7, month(2027, 1), FULL, "12000000001")])
    services.payment_batch_submit(batch_id=batch.pk, now=NOW)
    return {"simulated": simulated.batch_id, "file": batch.pk, "anna": anna}


def pages(world) -> list[str]:
    return [
        "/agency/",
        f"/agency/payments/{world['simulated']}/",
        f"/agency/payments/{world['file']}/?result=pending",
        "/agency/imports/",
        "/agency/simulator/",
    ]


@pytest.mark.parametrize("role", STAFF)
def test_money_staff_open_every_agency_page(role, client, login, make_user, world):
    login(make_user(role))
    for url in pages(world):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


@pytest.mark.parametrize("role", OTHERS)
def test_other_roles_are_refused(role, client, login, make_user, world):
    login(make_user(role))
    for url in pages(world):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/agency/payments/{world['file']}/submit/").status_code == 403
    assert client.get(f"/agency/payments/{world['file']}/file.csv").status_code == 403
    assert client.post("/agency/simulator/", {"nik": "6409011708900001"}).status_code == 403
    assert client.post("/agency/status/refresh/").status_code == 403
    dashboard = client.get("/dashboard/").content.decode()
    assert 'href="/agency/"' not in dashboard


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get("/agency/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_batch_page_shows_each_line_with_its_reason(client, login, make_user, world):
    login(make_user("finance"), language="en")
    text = client.get(f"/agency/payments/{world['simulated']}/").content.decode()
    assert shown(reason_text, "duplicate_line") in text
    assert "duplicate_line" in text
    assert world["anna"] in text
    refused_only = client.get(f"/agency/payments/{world['simulated']}/?reason=duplicate_line").content.decode()
    assert refused_only.count('data-label="Line"') == 1
    home = client.get("/agency/").content.decode()
    assert 'href="/agency/"' in home  # the navigation entry
    assert "sim-jan" in home
    assert "file-jan" in home


def test_finance_downloads_the_payment_file_others_may_not(client, login, make_user, world):
    login(make_user("finance"))
    response = client.get(f"/agency/payments/{world['file']}/file.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="agency-payments-file-jan.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["batch", "line", "kpj", "month", "amount"], ["file-jan", "7", "12000000001", "2027-01", "16800"]]
    xlsx = client.get(f"/agency/payments/{world['file']}/file.xlsx")
    assert load_workbook(io.BytesIO(xlsx.content)).active["C2"].value == "12000000001"
    # A simulator batch has no file: the page says so instead.
    response = client.get(f"/agency/payments/{world['simulated']}/file.csv")
    assert response.status_code == 302

    client.logout()
    login(make_user("auditor"))
    assert client.get(f"/agency/payments/{world['file']}/file.csv").status_code == 403


def test_finance_uploads_a_confirmation_and_reads_the_row_level_report(client, login, make_user, world):
    login(make_user("finance"), language="en")
    content = (
        b"batch,line,kpj,month,amount,result\n"
        b"file-jan,7,12000000001,2027-01,16800,diterima\n"
        b"file-jan,8,12000000001,2027-01,16800,diterima\n"
        b"file-jan,7,12000000001,=A1,16800,diterima\n"
    )
    response = client.post(
        "/agency/imports/",
        {"kind": "confirmations", "file": SimpleUploadedFile("konfirmasi.csv", content, "text/csv")},
    )
    record = FileImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/agency/imports/{record.pk}/"
    assert LineOutcome.objects.get(submitted__line_id=7).result == "accepted"
    page = client.get(response["Location"]).content.decode()
    assert shown(problem_text, "unknown_line") in page
    assert shown(problem_text, "formula_cell") in page
    report = client.get(f"/agency/imports/{record.pk}/report.csv")
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "code", "problem", "is_error"]
    assert [(r[0], r[2]) for r in rows[1:]] == [("3", "unknown_line"), ("4", "formula_cell")]
    assert client.get(f"/agency/imports/{record.pk}/report.pdf").status_code == 404


def test_an_unreadable_upload_is_refused_whole(client, login, make_user, world):
    login(make_user("finance"), language="en")
    response = client.post(
        "/agency/imports/",
        {"kind": "confirmations", "file": SimpleUploadedFile("x.csv", "line,é\n".encode("latin-1"), "text/csv")},
    )
    record = FileImport.objects.get()
    assert record.state == "refused"
    page = client.get(response["Location"]).content.decode()
    assert shown(problem_text, "file_encoding", record.refusal_params) in page


def test_an_operator_may_not_upload_confirmations_nor_an_auditor_anything(client, login, make_user, world):
    login(make_user("operator"))
    response = client.post(
        "/agency/imports/", {"kind": "confirmations", "file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")}
    )
    assert response.status_code == 422  # not one of the operator's choices
    client.logout()
    login(make_user("auditor"))
    response = client.post("/agency/imports/", {"kind": "status", "file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")})
    assert response.status_code == 403
    assert not FileImport.objects.exists()


def test_the_operator_adds_a_wage_earner_on_the_simulator_page(client, login, make_user, world):
    operator = make_user("operator")
    login(operator, language="en")
    response = client.post("/agency/simulator/", {"nik": "6409 0117 0890 0001", "employer": "PT Pabrik"})
    assert response.status_code == 302
    earner = SimulatorWageEarner.objects.get()
    assert earner.employer == "PT Pabrik"
    assert "6409011708900001" not in earner.nik_index
    bad = client.post("/agency/simulator/", {"nik": "123"})
    assert bad.status_code == 422
    page = client.get("/agency/simulator/").content.decode()
    assert world["anna"] in page
    assert "PT Pabrik" in page
    client.logout()
    login(make_user("finance"))
    assert client.post("/agency/simulator/", {"nik": "6409011708900002"}).status_code == 403


def test_the_operator_brings_the_status_up_to_date(client, login, make_user, world):
    login(make_user("operator"), language="en")
    response = client.post("/agency/status/refresh/")
    assert response.status_code == 302
    status = MembershipStatus.objects.get(kpj_number=world["anna"])
    assert status.as_of == first_of_month(timezone.localdate())
    page = client.get("/agency/").content.decode()
    assert shown(state_text, status.state) in page


def test_finance_submits_an_open_batch_from_its_page(client, login, make_user, db):
    anna = participant("anna", month(2027, 1))
    batch = services.payment_batch_open(key="open-one", today=month(2027, 1))
    services.payment_lines_add(batch_id=batch.pk, lines=[PaymentLineInput(1, month(2027, 1), FULL, anna)])
    login(make_user("finance"))
    response = client.post(f"/agency/payments/{batch.pk}/submit/")
    assert response.status_code == 302
    assert LineOutcome.objects.get().result == "accepted"


def test_registration_pages_and_the_registration_file(client, login, make_user, people, verified_worker, file_exchange):
    worker, nik = verified_worker(1)
    batch = services.registration_batch_open(key="reg", today=date(2026, 11, 3))
    services.registration_requests_add(
        batch_id=batch.pk, requests=[services.RegistrationInput(worker_id=worker.pk, income_nominal=1_000_000)]
    )
    login(people["operator"], language="en")
    page = client.get(f"/agency/registrations/{batch.pk}/").content.decode()
    assert worker.nik_masked in page
    assert nik not in page
    assert client.post(f"/agency/registrations/{batch.pk}/submit/").status_code == 302
    download = client.get(f"/agency/registrations/{batch.pk}/file.csv")
    assert download.status_code == 200
    assert nik in download.content.decode("utf-8-sig")
    client.logout()
    login(people["finance"])
    assert client.get(f"/agency/registrations/{batch.pk}/").status_code == 200
    assert client.get(f"/agency/registrations/{batch.pk}/file.csv").status_code == 403
