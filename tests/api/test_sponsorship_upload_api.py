"""POST /api/v1/sponsorships/directed/upload: a list of NIKs (multipart) answered with the row report; with
commit=true the matched workers reserved like the directed endpoint (the whole list or nothing unless
accept_partial, the same list again reserving nothing more); refusals as problems with stable codes."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lingkaran.ledger.selectors import balance_of
from lingkaran.protection.models import SponsoredMonth, Sponsorship
from tests.factories import FunderFactory, UserFactory
from tests.web.test_sponsorship_pages import MONTH, fund, staff, verified  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

URL = "/api/v1/sponsorships/directed/upload"
LIST = "nik,nama\n6409011708900001,Budi Hartono\n6409011708900002,Budi Hartono\n6409011708909999,Tidak Ada\n"


def body(funder, text=LIST, **extra) -> dict:
    return {
        "file": SimpleUploadedFile("daftar.csv", text.encode()),
        "funder_id": str(getattr(funder, "pk", funder)),
        "start": "2027-04",
        "months": "3",
        "package": "jkk_jkm",
        **extra,
    }


def test_the_row_report_writes_nothing(bearer, staff, verified):  # noqa: F811
    first, second = verified(2)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 1_000_000)
    client, _token, _plain = bearer(staff["finance"])
    response = client.post(URL, body(funder))
    assert response.status_code == 200, response.content
    report = json.loads(response.content)
    assert report["counts"] == {
        "matched": 2, "not_found": 1, "not_verified": 0, "not_payable": 0, "duplicate": 0, "malformed": 0,
    }  # fmt: skip
    assert (report["complete"], report["committed"], report["replayed"]) == (False, False, False)
    assert report["matched_worker_ids"] == [first.pk, second.pk]
    assert (report["total"], report["available"]) == (6 * MONTH, 1_000_000)
    assert report["months"] == [{"month": m, "total": 2 * MONTH} for m in ("2027-04", "2027-05", "2027-06")]
    assert report["rows"][0] == {
        "row": 2, "outcome": "matched", "nik_masked": first.nik_masked, "worker_id": first.pk,
        "region_code": first.region_code, "reasons": [], "first_row": None, "name_differs": False, "message": "",
    }  # fmt: skip
    assert report["rows"][2]["outcome"] == "not_found"
    assert report["rows"][2]["nik_masked"] == "6409••••••••9999"
    assert report["rows"][2]["message"] == "Tidak ada pekerja terdaftar yang dapat Anda lihat dengan NIK ini."
    english = client.post(URL, body(funder), headers={"Accept-Language": "en"})
    assert json.loads(english.content)["rows"][2]["message"] == "No registered worker you may see has this NIK."
    assert report["sponsorships"] == []
    assert Sponsorship.objects.count() == 0
    assert balance_of(pool) == 1_000_000


def test_commit_refuses_an_incomplete_list_unless_partial_is_accepted(bearer, staff, verified, assert_problem):  # noqa: F811
    first, second = verified(2)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 1_000_000)
    client, _token, _plain = bearer(staff["finance"])
    refused = assert_problem(client.post(URL, body(funder, commit="true")), 422, "nik_list_incomplete")
    assert refused["details"]["counts"]["not_found"] == 1
    assert [r["row"] for r in refused["details"]["rows"]] == [4]
    assert Sponsorship.objects.count() == 0
    assert balance_of(pool) == 1_000_000

    response = client.post(URL, body(funder, commit="true", accept_partial="true"))
    assert response.status_code == 201, response.content
    done = json.loads(response.content)
    assert done["committed"] is True
    assert [(s["worker_id"], s["total"], s["kind"]) for s in done["sponsorships"]] == [
        (first.pk, 3 * MONTH, "directed"),
        (second.pk, 3 * MONTH, "directed"),
    ]
    assert balance_of(pool) == 1_000_000 - 6 * MONTH
    again = client.post(URL, body(funder, commit="true", accept_partial="true"))
    assert again.status_code == 201
    repeated = json.loads(again.content)
    assert repeated["replayed"] is True
    assert [s["id"] for s in repeated["sponsorships"]] == [s["id"] for s in done["sponsorships"]]
    assert SponsoredMonth.objects.count() == 6
    assert balance_of(pool) == 1_000_000 - 6 * MONTH


def test_a_complete_list_commits_without_accept_partial(bearer, staff, verified):  # noqa: F811
    (worker,) = verified(1)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 1_000_000)
    client, _token, _plain = bearer(staff["operator"])
    text = "NIK\n6409011708900001\n6409 0117 0890 0001\n"
    response = client.post(URL, body(funder, text, commit="true"))
    assert response.status_code == 201, response.content
    report = json.loads(response.content)
    assert report["complete"] is True
    assert report["counts"]["duplicate"] == 1
    assert [s["worker_id"] for s in report["sponsorships"]] == [worker.pk]
    assert balance_of(pool) == 1_000_000 - 3 * MONTH


def test_refusals_are_problems_and_reserve_nothing(bearer, staff, verified, assert_problem):  # noqa: F811
    verified(2)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 3 * MONTH)
    client, _token, _plain = bearer(staff["finance"])
    no_column = assert_problem(client.post(URL, body(funder, "nama\nSiti\n")), 422, "nik_list_refused")
    assert no_column["details"] == {"reason": "no_nik_column", "found": "nama"}
    assert_problem(client.post(URL, body(999_999)), 404, "not_found")
    assert_problem(client.post(URL, body(funder, start="2027-13")), 422, "invalid_input")
    short = client.post(URL, body(funder, commit="true", accept_partial="true"))
    problem = assert_problem(short, 409, "pool_insufficient")
    assert (problem["details"]["available"], problem["details"]["needed"]) == (3 * MONTH, 6 * MONTH)
    nothing = assert_problem(
        client.post(URL, body(funder, "nik\n6409011708909999\n", commit="true", accept_partial="true")),
        422,
        "nik_list_incomplete",
    )
    assert nothing["details"]["counts"]["not_found"] == 1
    assert Sponsorship.objects.count() == 0
    assert balance_of(pool) == 3 * MONTH


@pytest.mark.parametrize("role", ["field_agent", "auditor", "funder"])
def test_other_roles_get_403(bearer, role, assert_problem):
    client, _token, _plain = bearer(UserFactory(role=role))
    assert_problem(client.post(URL, body(1)), 403, "forbidden")
