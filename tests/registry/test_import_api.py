"""The import API: upload (multipart), mapping, run, progress, problems (paginated), report; problem+json errors."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from lingkaran.registry.models import ImportBatch, Worker
from tests.registry.import_helpers import csv_bytes, people, person, sample_csv, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_api(make_user, region_tree, bearer):
    client, _token, _plain = bearer(make_user("operator", username="mitra.pemda"))
    return client


def post_file(client, content: bytes, name: str = "daftar.csv", **form):
    return client.post("/api/v1/imports", {"file": upload(content, name), **form})


def test_upload_run_follow_and_read_the_problems(operator_api, django_capture_on_commit_callbacks):
    created = post_file(operator_api, sample_csv(120), source="zakat_list")
    assert created.status_code == 201, created.content
    body = created.json()
    assert {
        k: body[k] for k in ("state", "total_rows", "processed_rows", "percent", "source", "mode", "file_format")
    } == {
        "state": "uploaded",
        "total_rows": 120,
        "processed_rows": 0,
        "percent": 0,
        "source": "zakat_list",
        "mode": "accept_valid",
        "file_format": "csv",
    }
    assert body["fields"][:2] == ["nik", "full_name"]
    assert body["mapping_problems"] == []
    assert body["uploaded_by"] == "mitra.pemda"

    with django_capture_on_commit_callbacks(execute=True):
        started = operator_api.post(f"/api/v1/imports/{body['id']}/run")
    assert started.status_code == 202
    assert started.json()["state"] == "running"

    done = operator_api.get(f"/api/v1/imports/{body['id']}").json()
    assert {k: done[k] for k in ("state", "percent", "created_count", "invalid_count", "duplicate_in_file_count")} == {
        "state": "done",
        "percent": 100,
        "created_count": 116,
        "invalid_count": 3,
        "duplicate_in_file_count": 1,
    }

    page = operator_api.get(f"/api/v1/imports/{body['id']}/problems?limit=2").json()
    assert (page["count"], page["limit"], page["offset"], page["next"]) == (4, 2, 0, 2)
    assert page["items"][0] == {
        "row": 9,
        "column": "nik",
        "code": "nik_length",
        "message": page["items"][0]["message_id"],
        "message_id": page["items"][0]["message_id"],
        "message_en": "NIK must have 16 digits, this one has 15.",
        "is_error": True,
    }
    english = operator_api.get(f"/api/v1/imports/{body['id']}/problems?offset=2", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [p["row"] for p in english["items"]] == [59, 109]
    assert english["items"][0]["message"] == english["items"][0]["message_en"]
    assert english["next"] is None

    report = operator_api.get(f"/api/v1/imports/{body['id']}/report?format=xlsx")
    assert report.status_code == 200
    assert len(list(load_workbook(io.BytesIO(report.content))["masalah"].iter_rows())) == 5

    listed = operator_api.get("/api/v1/imports").json()
    assert [b["id"] for b in listed["items"]] == [body["id"]]


def test_the_mapping_can_be_corrected_before_the_run(operator_api, django_capture_on_commit_callbacks):
    row = person(1)
    header = ["NIK", "Nama", "TTL", "JK", "Pekerjaan", "Gaji"]
    content = csv_bytes([[row["nik"], "Siti", row["tanggal_lahir"], "P", "ojol", "900000"]], header=header)
    body = post_file(operator_api, content).json()
    assert [p["code"] for p in body["mapping_problems"]] == ["column_missing", "column_missing"]
    fields = ["nik", "full_name", "birth_date", "sex", "occupation", "declared_income"]
    mapped = operator_api.put(
        f"/api/v1/imports/{body['id']}/mapping", json.dumps({"fields": fields}), content_type="application/json"
    )
    assert mapped.status_code == 200
    assert mapped.json()["mapping_problems"] == []
    with django_capture_on_commit_callbacks(execute=True):
        operator_api.post(f"/api/v1/imports/{body['id']}/run")
    assert Worker.objects.count() == 1


def test_a_refused_file_is_recorded_with_its_reason(operator_api):
    response = post_file(operator_api, b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "daftar.xlsx")
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "refused"
    assert body["message"]
    problems = operator_api.get(f"/api/v1/imports/{body['id']}/problems", HTTP_ACCEPT_LANGUAGE="en").json()
    assert problems["items"][0]["code"] == "file_not_spreadsheet"
    assert problems["items"][0]["message"] == "The file is a PNG file, not a CSV or XLSX spreadsheet."


def test_running_a_finished_import_is_a_conflict(operator_api, assert_problem, django_capture_on_commit_callbacks):
    body = post_file(operator_api, csv_bytes(people(2))).json()
    with django_capture_on_commit_callbacks(execute=True):
        operator_api.post(f"/api/v1/imports/{body['id']}/run")
    assert_problem(operator_api.post(f"/api/v1/imports/{body['id']}/run"), 409, "import_finished")
    mapping = operator_api.put(
        f"/api/v1/imports/{body['id']}/mapping", json.dumps({"fields": []}), content_type="application/json"
    )
    assert_problem(mapping, 409, "import_started")


def test_bad_input_is_a_problem(operator_api, assert_problem):
    assert_problem(post_file(operator_api, csv_bytes(people(1)), mode="sometimes"), 422, "invalid_input")
    assert_problem(operator_api.post("/api/v1/imports", {"source": "import"}), 422, "invalid_input")
    body = post_file(operator_api, csv_bytes(people(1))).json()
    wrong = operator_api.put(
        f"/api/v1/imports/{body['id']}/mapping", json.dumps({"fields": ["nik"]}), content_type="application/json"
    )
    assert_problem(wrong, 422, "invalid_input")
    assert_problem(operator_api.get("/api/v1/imports/99999"), 404, "not_found")
    assert_problem(operator_api.get(f"/api/v1/imports/{body['id']}/report?format=pdf"), 422, "invalid_input")


@pytest.mark.parametrize("role", ["funder", "auditor", "field_agent", "finance"])
def test_roles_that_may_not_import_get_403(role, make_user, region_tree, bearer, operator_api, assert_problem):
    batch_id = post_file(operator_api, csv_bytes(people(1))).json()["id"]
    client, _token, _plain = bearer(make_user(role))
    assert_problem(post_file(client, csv_bytes(people(2))), 403, "forbidden")
    assert_problem(client.get("/api/v1/imports"), 403, "forbidden")
    assert_problem(client.get(f"/api/v1/imports/{batch_id}"), 403, "forbidden")
    assert_problem(client.post(f"/api/v1/imports/{batch_id}/run"), 403, "forbidden")
    assert_problem(client.get(f"/api/v1/imports/{batch_id}/problems"), 403, "forbidden")
    assert ImportBatch.objects.count() == 1
    assert not Worker.objects.exists()


def test_anonymous_calls_are_401(client, assert_problem, db):
    assert_problem(client.get("/api/v1/imports"), 401, "not_authenticated")


def test_the_endpoints_are_in_the_openapi_schema(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/imports", "/api/v1/imports/{batch_id}", "/api/v1/imports/{batch_id}/run",
                 "/api/v1/imports/{batch_id}/problems", "/api/v1/imports/{batch_id}/mapping"):  # fmt: skip
        assert path in paths
    upload_body = paths["/api/v1/imports"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_body
