"""The worker list: search, filters, pagination and HTMX updates, masked data only; its exports, masked for everyone
who may list and in full (audited) for operators only, with formulas neutralised."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from lingkaran.core.models import AuditEvent
from lingkaran.registry.models import Worker
from tests.conftest import NIK_MAN, NIK_WOMAN
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

NIK_SEMARANG = "3374011708900003"


@pytest.fixture
def world(make_user, region_tree, register_worker):
    """Two workers in Penajam (one a woman with a decile), one in Semarang; agents for each regency."""
    RegionFactory(code="33.74.01.1001", name="Miroto")
    operator = make_user("operator", username="rina")
    agent = make_user("field_agent", regions=["64.09"])
    semarang_agent = make_user("field_agent", regions=["33.74"])
    budi = register_worker(agent)
    siti = register_worker(
        agent,
        NIK_WOMAN,
        full_name="Siti Aminah",
        occupation="pedagang_kaki_lima",
        region_code="64.09.01.1001",
        dtsen_decile=2,
        phone="081311112222",
    )
    joko = register_worker(
        semarang_agent, NIK_SEMARANG, full_name="Joko Susilo", region_code="33.74.01.1001", dtsen_decile=7
    )
    return {"operator": operator, "agent": agent, "budi": budi, "siti": siti, "joko": joko}


def names(response) -> list[str]:
    return [w.full_name for w in response.context["page"]]


def test_operator_sees_every_worker_newest_first_with_masked_data(client, login, world):
    login(world["operator"])
    response = client.get("/workers/")
    assert response.status_code == 200
    assert names(response) == ["Joko Susilo", "Siti Aminah", "Budi Hartono"]
    html = response.content.decode()
    assert "6409••••••••0001" in html
    assert world["budi"].phone_masked in html
    for secret in (NIK_MAN, NIK_WOMAN, NIK_SEMARANG, "81234567890", "Jl. Provinsi"):
        assert secret not in html


def test_field_agent_sees_only_the_workers_of_its_regions(client, login, world):
    login(world["agent"])
    response = client.get("/workers/")
    assert names(response) == ["Siti Aminah", "Budi Hartono"]
    assert "Joko Susilo" not in response.content.decode()
    # asking for the other region by filter or by NIK finds nothing
    assert names(client.get("/workers/", {"region": "33.74"})) == []
    assert names(client.get("/workers/", {"q": NIK_SEMARANG})) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "amin"}, ["Siti Aminah"]),
        ({"q": "HARTONO"}, ["Budi Hartono"]),
        ({"q": NIK_WOMAN}, ["Siti Aminah"]),
        ({"q": "6409 0145 0385 0002"}, ["Siti Aminah"]),
        ({"q": "6409014503850009"}, []),  # a full NIK is an exact match, never a prefix search
        ({"region": "64"}, ["Siti Aminah", "Budi Hartono"]),
        ({"region": "64.09.01.1001"}, ["Siti Aminah"]),
        ({"region": "33.74.01"}, ["Joko Susilo"]),
        ({"occupation": "pedagang_kaki_lima"}, ["Siti Aminah"]),
        ({"status": "nominated"}, ["Joko Susilo", "Siti Aminah", "Budi Hartono"]),
        ({"status": "verified"}, []),
        ({"decile_max": "5"}, ["Siti Aminah"]),
        ({"decile_max": "7", "region": "33"}, ["Joko Susilo"]),
        ({"source": "field_agent"}, ["Joko Susilo", "Siti Aminah", "Budi Hartono"]),
        ({"source": "import"}, []),
    ],
)
def test_search_and_filters(params, expected, client, login, world):
    login(world["operator"])
    response = client.get("/workers/", params)
    assert response.status_code == 200
    assert names(response) == expected


def test_a_malformed_region_code_is_shown_as_an_error_and_does_not_filter(client, login, world):
    login(world["operator"])
    response = client.get("/workers/", {"region": "64.9", "q": "amin"})
    assert response.status_code == 200
    assert response.context["form"].errors["region"]
    assert names(response) == ["Siti Aminah"]


def test_htmx_request_gets_only_the_results(client, login, world):
    login(world["operator"])
    response = client.get("/workers/", {"q": "budi"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "Budi Hartono" in html
    assert "Siti Aminah" not in html
    assert "q=budi&amp;format=csv" in html  # the export links follow the filter
    assert "HX-Request" in response["Vary"]


def test_list_is_paginated_by_50(client, login, make_user, region_tree):
    operator = make_user("operator")
    agent = make_user("field_agent", regions=["64.09"])
    from lingkaran.registry.models import Occupation

    occupation = Occupation.objects.get(code="petani")
    Worker.objects.bulk_create(
        Worker(
            nik_encrypted="x",
            nik_index=f"idx{i}",
            nik_masked="6409••••••••" + f"{i:04d}",
            full_name=f"Pekerja {i:02d}",
            name_key=f"PEKERJA {i:02d}",
            birth_date="1990-01-01",
            sex="M",
            region_code="64.09.01",
            occupation=occupation,
            declared_income=1_000_000,
            source="field_agent",
            nominated_by=agent,
        )
        for i in range(1, 52)
    )
    login(operator)
    first = client.get("/workers/")
    assert len(first.context["page"]) == 50
    assert first.context["page"].paginator.count == 51
    second = client.get("/workers/", {"page": 2})
    assert len(second.context["page"]) == 1


@pytest.mark.parametrize("role", ["funder", "worker"])
def test_roles_outside_the_registry_are_refused(role, client, login, make_user, world):
    login(make_user(role))
    assert client.get("/workers/").status_code == 403
    assert client.get("/workers/export/?format=csv").status_code == 403


# --- Exports --------------------------------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def read_xlsx(response) -> list[list]:
    book = load_workbook(io.BytesIO(response.content))
    return [[c.value for c in row] for row in book.active.iter_rows()], book.active


@pytest.mark.parametrize("role", ["operator", "finance", "verifier", "auditor"])
def test_masked_csv_export_for_everyone_who_may_list(role, client, login, make_user, world):
    login(make_user(role))
    before = AuditEvent.objects.count()
    response = client.get("/workers/export/", {"format": "csv", "region": "64"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="pekerja-')
    rows = read_csv(response)
    assert [r["full_name"] for r in rows] == ["Budi Hartono", "Siti Aminah"]  # by id
    assert rows[0]["nik_masked"] == "6409••••••••0001"
    assert rows[0]["phone_masked"] == "'" + world["budi"].phone_masked  # a leading + is neutralised too
    assert (rows[1]["desa"], rows[1]["dtsen_decile"], rows[1]["sex"]) == ("Tanjung Tengah", "2", "F")
    assert "nik" not in rows[0]
    assert "address" not in rows[0]
    text = json.dumps(rows)
    assert NIK_MAN not in text
    assert "Jl. Provinsi" not in text
    assert AuditEvent.objects.count() == before


def test_field_agents_export_holds_only_its_regions(client, login, world):
    login(world["agent"])
    rows = read_csv(client.get("/workers/export/", {"format": "csv"}))
    assert [r["full_name"] for r in rows] == ["Budi Hartono", "Siti Aminah"]


def test_masked_xlsx_export(client, login, world):
    login(world["operator"])
    response = client.get("/workers/export/", {"format": "xlsx", "q": "siti"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows, _sheet = read_xlsx(response)
    header = rows[0]
    assert header[:6] == ["id", "nik_masked", "full_name", "birth_date", "sex", "phone_masked"]
    assert len(rows) == 2
    record = dict(zip(header, rows[1], strict=True))
    assert record["nik_masked"] == "6409••••••••0002"
    assert record["full_name"] == "Siti Aminah"
    assert record["declared_income"] == 1_000_000


def test_an_unknown_export_format_is_404(client, login, world):
    login(world["operator"])
    assert client.get("/workers/export/", {"format": "pdf"}).status_code == 404


def test_formulas_are_neutralised_in_both_exports(client, login, world, register_worker):
    formula = '=HYPERLINK("http://jahat.example","klik")'
    register_worker(world["operator"], "6409012012800004", full_name=formula, address="+1+cmd|' /C calc'!A0")
    login(world["operator"])
    rows = read_csv(client.get("/workers/export/", {"format": "csv", "q": "HYPERLINK"}))
    assert [r["full_name"] for r in rows] == ["'" + formula]
    xrows, sheet = read_xlsx(client.get("/workers/export/", {"format": "xlsx", "q": "HYPERLINK"}))
    assert xrows[1][2] == "'" + formula
    assert sheet.cell(row=2, column=3).data_type == "s"
    personal = client.post("/workers/export/personal/", {"format": "csv", "q": "HYPERLINK"})
    prow = read_csv(personal)[0]
    assert prow["full_name"] == "'" + formula
    assert prow["address"] == "'+1+cmd|' /C calc'!A0"


def test_personal_data_export_is_for_operators_and_audited(client, login, world):
    login(world["operator"])
    before = AuditEvent.objects.count()
    response = client.post("/workers/export/personal/", {"format": "csv", "region": "64.09", "decile_max": "5"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    rows = read_csv(response)
    assert rows == [
        {
            **rows[0],
            "nik": NIK_WOMAN,
            "full_name": "Siti Aminah",
            "phone": "'+6281311112222",
            "address": "Jl. Provinsi Km 5 RT 03",
        }
    ]
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert event.action == "worker.export_personal_data"
    assert event.actor_id == world["operator"].pk
    assert event.details["filter"] == {"region": "64.09", "decile_max": 5}
    assert event.details["rows"] == 1
    assert event.details["format"] == "csv"


def test_personal_data_export_as_xlsx(client, login, world):
    login(world["operator"])
    response = client.post("/workers/export/personal/", {"format": "xlsx"})
    rows, _sheet = read_xlsx(response)
    assert rows[0][:7] == ["id", "nik", "full_name", "birth_date", "sex", "phone", "address"]
    assert sorted(r[1] for r in rows[1:]) == sorted([NIK_MAN, NIK_WOMAN, NIK_SEMARANG])
    assert AuditEvent.objects.get(action="worker.export_personal_data").details["rows"] == 3


@pytest.mark.parametrize("role", ["verifier", "finance", "auditor", "field_agent", "funder"])
def test_personal_data_export_is_refused_to_everyone_else_and_writes_nothing(role, client, login, make_user, world):
    login(make_user(role, regions=["64.09"] if role == "field_agent" else []))
    before = AuditEvent.objects.count()
    response = client.post("/workers/export/personal/", {"format": "csv"})
    assert response.status_code == 403
    assert NIK_MAN not in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_personal_data_export_needs_post(client, login, world):
    login(world["operator"])
    assert client.get("/workers/export/personal/?format=csv").status_code == 405
    assert not AuditEvent.objects.filter(action="worker.export_personal_data").exists()


def test_only_operators_are_offered_the_personal_data_export(client, login, world, make_user):
    login(world["operator"])
    assert "/workers/export/personal/" in client.get("/workers/").content.decode()
    client.logout()
    login(make_user("verifier"))
    assert "/workers/export/personal/" not in client.get("/workers/").content.decode()
