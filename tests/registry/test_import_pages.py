"""The import pages through the Django test client: upload → preview (column choices, first rows masked) → start →
progress (HTMX polling) → result with the problems and the reports; refusals; who may open what."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from lingkaran.registry.models import ImportBatch, Worker
from tests.registry.import_helpers import csv_bytes, people, person, sample_csv, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def verifier(make_user, region_tree):
    return make_user("verifier", username="verifikator", full_name="Siti Rahmawati")


def test_upload_preview_start_progress_and_result(client, login, verifier, django_capture_on_commit_callbacks):
    login(verifier)
    page = client.get("/imports/new/")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.content.decode()

    response = client.post(
        "/imports/new/",
        {"file": upload(sample_csv(60), "pemda-ppu.csv"), "source": "pemda_list", "mode": "accept_valid"},
    )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/imports/{batch.pk}/"
    assert batch.state == ImportBatch.State.UPLOADED
    assert not Worker.objects.exists()

    preview = client.get(f"/imports/{batch.pk}/")
    text = preview.content.decode()
    assert preview.status_code == 200
    assert preview.context["preview"].total_rows == 60
    assert len(preview.context["preview"].rows) == 10
    assert '<select name="column_0"' in text
    assert '<option value="nik" selected>' in text
    first = preview.context["preview"].rows[0]
    assert first.row == 2
    assert re.fullmatch(r"6409•{8}\d{4}", first.cells[0][1])
    assert "640901" not in re.sub(r"64\.09\.01", "", text)  # no NIK in clear (desa codes aside)
    assert [(p[0], p[2]) for p in preview.context["preview"].rows[7].problems] == [("nik", True)]  # row 9
    assert "Start the import" in text or "Mulai" in text

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/imports/{batch.pk}/start/")
    assert started.status_code == 302
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.DONE
    assert (batch.created_count, batch.invalid_count, batch.duplicate_in_file_count) == (57, 2, 1)

    partial = client.get(f"/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert partial["HX-Redirect"] == f"/imports/{batch.pk}/"
    assert 'hx-trigger="every 1s"' not in partial.content.decode()

    result = client.get(f"/imports/{batch.pk}/")
    text = result.content.decode()
    assert result.status_code == 200
    assert [p.row for p in result.context["page"]] == [9, 35, 59]
    assert f'href="/imports/{batch.pk}/report.xlsx"' in text
    assert f'href="/imports/{batch.pk}/report.csv"' in text

    report = client.get(f"/imports/{batch.pk}/report.xlsx")
    assert report.status_code == 200
    assert report["Content-Disposition"] == f'attachment; filename="laporan-impor-{batch.pk}.xlsx"'
    rows = list(load_workbook(io.BytesIO(report.content))["masalah"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [9, 35, 59]
    csv_report = client.get(f"/imports/{batch.pk}/report.csv")
    assert csv_report.content.decode("utf-8-sig").startswith("row,column,code,masalah,problem")
    assert client.get(f"/imports/{batch.pk}/report.pdf").status_code == 404

    listing = client.get("/imports/")
    assert listing.status_code == 200
    assert "pemda-ppu.csv" in listing.content.decode()


def test_the_progress_page_polls_while_the_import_runs(client, login, verifier):
    login(verifier)
    client.post("/imports/new/", {"file": upload(csv_bytes(people(5))), "source": "import", "mode": "accept_valid"})
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/start/")  # queued; the task runs after the commit, which never comes here
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.RUNNING
    page = client.get(f"/imports/{batch.pk}/")
    text = page.content.decode()
    assert f'hx-get="/imports/{batch.pk}/progress/"' in text
    assert 'hx-trigger="every 1s"' in text
    assert '<progress max="100" value="0"' in text
    partial = client.get(f"/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert "HX-Redirect" not in partial
    assert 'hx-trigger="every 1s"' in partial.content.decode()
    assert client.get(f"/imports/{batch.pk}/progress/")["Location"] == f"/imports/{batch.pk}/"


def test_columns_can_be_chosen_when_a_header_is_not_recognised(client, login, verifier):
    login(verifier)
    row = person(1)
    header = ["NIK", "Nama", "TTL", "JK", "Pekerjaan", "Gaji"]
    content = csv_bytes([[row["nik"], "Siti", row["tanggal_lahir"], "P", "ojol", "900000"]], header=header)
    client.post("/imports/new/", {"file": upload(content), "source": "import", "mode": "accept_valid"})
    batch = ImportBatch.objects.get()
    preview = client.get(f"/imports/{batch.pk}/")
    assert len(preview.context["preview"].mapping_problems) == 2
    assert "disabled" in preview.content.decode()

    bad = {"column_0": "nik", "column_1": "nik"}
    assert client.post(f"/imports/{batch.pk}/mapping/", bad).status_code == 422
    fields = ["nik", "full_name", "birth_date", "sex", "occupation", "declared_income"]
    saved = client.post(f"/imports/{batch.pk}/mapping/", {f"column_{i}": f for i, f in enumerate(fields)})
    assert saved.status_code == 302
    batch.refresh_from_db()
    assert batch.mapping["fields"] == fields
    preview = client.get(f"/imports/{batch.pk}/")
    assert preview.context["preview"].mapping_problems == []
    assert preview.context["preview"].rows[0].problems == []


def test_a_refused_upload_shows_why(client, login, verifier):
    login(verifier, language="en")
    response = client.post(
        "/imports/new/", {"file": upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "daftar.xlsx"), "source": "import",
                          "mode": "accept_valid"},
    )  # fmt: skip
    batch = ImportBatch.objects.get()
    page = client.get(response["Location"])
    text = page.content.decode()
    assert batch.state == ImportBatch.State.REFUSED
    assert "The file is a PNG file, not a CSV or XLSX spreadsheet." in text
    assert "Nothing from this file was imported." in text


def test_a_form_without_a_file_is_422(client, login, verifier):
    login(verifier)
    response = client.post("/imports/new/", {"source": "import", "mode": "accept_valid"})
    assert response.status_code == 422
    assert not ImportBatch.objects.exists()


def test_pages_are_in_indonesian_by_default_and_in_english_on_request(client, login, verifier):
    login(verifier)
    assert 'lang="id"' in client.get("/imports/").content.decode()
    client.cookies["lingkaran_language"] = "en"
    text = client.get("/imports/new/").content.decode()
    assert 'lang="en"' in text
    assert "Upload and preview" in text


def test_the_template_file_imports_cleanly(client, login, verifier):
    login(verifier)
    template = client.get("/imports/template.csv")
    assert template.status_code == 200
    response = client.post("/imports/new/", {"file": upload(template.content), "source": "import",
                                             "mode": "all_or_nothing"})  # fmt: skip
    batch = ImportBatch.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))
    assert batch.mapping["fields"][0] == "nik"
    preview = client.get(f"/imports/{batch.pk}/")
    assert preview.context["preview"].rows[0].problems == []


@pytest.mark.parametrize("role", ["funder", "auditor", "field_agent", "finance", "worker"])
def test_roles_that_may_not_import_are_refused(client, login, make_user, region_tree, role):
    owner = make_user("operator")
    login(owner)
    client.post("/imports/new/", {"file": upload(csv_bytes(people(2))), "source": "import", "mode": "accept_valid"})
    batch = ImportBatch.objects.get()
    client.post("/logout/")
    login(make_user(role))
    for url in ("/imports/", "/imports/new/", "/imports/template.csv", f"/imports/{batch.pk}/",
                f"/imports/{batch.pk}/report.xlsx"):  # fmt: skip
        assert client.get(url).status_code == 403, url
    assert client.post("/imports/new/", {"file": upload(csv_bytes(people(1))), "source": "import",
                                         "mode": "accept_valid"}).status_code == 403  # fmt: skip
    assert client.post(f"/imports/{batch.pk}/start/").status_code == 403
    assert ImportBatch.objects.count() == 1
    assert not Worker.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/imports/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_unknown_import_is_404(client, login, verifier):
    login(verifier)
    assert client.get("/imports/999/").status_code == 404


def test_the_navigation_shows_imports_to_importers_only(client, login, verifier, make_user):
    login(verifier)
    assert 'href="/imports/"' in client.get("/dashboard/").content.decode()
    client.post("/logout/")
    login(make_user("auditor"))
    assert 'href="/imports/"' not in client.get("/dashboard/").content.decode()
