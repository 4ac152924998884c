"""Sponsoring the workers of an uploaded list of NIKs: the row report before anything is reserved (matched, not
found, not verified, not payable by this funder, duplicate, malformed), the directed preview of the matched workers,
*Confirm* reserving them once, and every refusal leaving the ledger as it was."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lingkaran.core.models import AuditEvent
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.protection.domain import nik_list
from lingkaran.protection.models import SponsoredMonth, Sponsorship
from lingkaran.protection.sponsorships import sponsor_directed
from tests.factories import FunderFactory, UserFactory
from tests.web.test_sponsorship_pages import MONTH, START, fund, staff, text_of, verified  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

URL = "/sponsorships/directed/upload/"
NOT_REGISTERED = "6409011708909999"


def csv_file(text: str, name: str = "daftar.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def xlsx_file(rows: list[list], name: str = "daftar.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/octet-stream")


def upload(client, funder, file, **extra):
    data = {
        "funder": str(getattr(funder, "pk", funder)),
        "file": file,
        "start": f"{START:%Y-%m}",
        "months": "3",
        "package": "jkk_jkm",
    }
    return client.post(URL, {**data, "action": "check", **extra})


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def nothing_reserved(pool: str, amount: int) -> None:
    assert Sponsorship.objects.count() == 0
    assert SponsoredMonth.objects.count() == 0
    assert balance_of(pool) == amount


@pytest.fixture
def nominated(staff, register_worker, region_tree):  # noqa: F811
    return register_worker(staff["operator"], nik="6409011708905001", full_name="Belum Diverifikasi")


def test_a_list_is_checked_row_by_row_then_confirmed_once(client, login, staff, verified, nominated):  # noqa: F811
    first, second, third = verified(3, full_name="Siti Aminah")
    funder = FunderFactory(kind="company", name="PT Peduli")
    pool = fund(funder, 1_000_000)
    login(staff["finance"], language="en")
    text = (
        "Daftar penerima CSR PT Peduli;;\n"
        ";;\n"
        "No;NIK;Nama Lengkap\n"
        "1;6409011708900001;Siti Aminah\n"
        "2;6409 0117 0890 0002;Hj. Siti Aminah\n"
        "3;'6409011708900003;Budi Santoso\n"
        "4;6409011708900001;Siti Aminah\n"
        f"5;{NOT_REGISTERED};Tidak Ada\n"
        "6;6409011708905001;Belum Diverifikasi\n"
        "7;6.40901E+15;Angka\n"
        "8;640901170890;Pendek\n"
        ";;\n"
        "9;;Tanpa NIK\n"
    )
    response = upload(client, funder, csv_file(text))
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.header_row, report.nik_column, report.name_column) == (3, "NIK", "Nama Lengkap")
    assert [(r.number, r.outcome) for r in report.rows] == [
        (4, "matched"), (5, "matched"), (6, "matched"), (7, "duplicate"), (8, "not_found"), (9, "not_verified"),
        (10, "malformed"), (11, "malformed"), (13, "malformed"),
    ]  # fmt: skip
    assert report.counts == {
        "matched": 3, "not_found": 1, "not_verified": 1, "not_payable": 0, "duplicate": 1, "malformed": 3,
    }  # fmt: skip
    assert report.worker_ids == sorted([first.pk, second.pk, third.pk])
    rows = {r.number: r for r in report.rows}
    assert rows[4].nik_masked == first.nik_masked
    assert rows[4].region_code == first.region_code
    assert rows[6].name_differs
    assert not rows[4].name_differs
    assert not rows[5].name_differs
    assert rows[7].first_row == 4
    assert rows[8].nik_masked == "6409••••••••9999"
    assert [rows[n].reasons for n in (10, 11, 13)] == [("nik_scientific",), ("nik_length",), ("nik_empty",)]
    page = text_of(response)
    assert "The NIK is in scientific notation" in page
    assert "A NIK has 16 digits; this one has 12." in page
    assert "The same NIK as row 4; the worker is counted once." in page
    assert "Registered, but not verified yet." in page
    assert first.full_name not in page
    assert "6409011708900001" not in page
    preview = response.context["preview"]
    assert (preview.total, preview.available, preview.can_commit) == (9 * MONTH, 1_000_000, True)
    assert 'data-testid="confirm"' in page
    nothing_reserved(pool, 1_000_000)

    token = token_of(response)
    confirm = client.post(URL, {"action": "confirm", "token": token})
    assert confirm.status_code == 302
    assert confirm["Location"] == f"/sponsorships/?funder={funder.pk}"
    assert sorted(Sponsorship.objects.values_list("worker_id", flat=True)) == report.worker_ids
    assert SponsoredMonth.objects.count() == 9
    assert balance_of(pool) == 1_000_000 - 9 * MONTH
    again = client.post(URL, {"action": "confirm", "token": token})
    assert again.status_code == 302
    assert Sponsorship.objects.count() == 3
    assert balance_of(pool) == 1_000_000 - 9 * MONTH
    assert verify().clean
    audit = AuditEvent.objects.get(action="sponsorships.nik_list")
    assert audit.details["counts"]["matched"] == 3
    assert audit.details["partial"] is True
    assert audit.object_label == "daftar.csv"

    replay = upload(client, funder, csv_file(text))
    assert replay.context["report"].replayed is True
    assert replay.context["report"].counts["matched"] == 3
    assert 'data-testid="replayed"' in text_of(replay)
    assert 'name="token"' not in text_of(replay)


def test_an_xlsx_list_refuses_numbers_per_row(client, login, staff, verified):  # noqa: F811
    (worker,) = verified(1)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 1_000_000)
    login(staff["operator"], language="en")
    file = xlsx_file([["no_ktp", "nama"], ["6409011708900001", "Budi"], [6409011708900002, "Angka"], [6.40901e15, "X"]])
    response = upload(client, funder, file)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.file_format == "xlsx"
    assert [(r.number, r.outcome, r.reasons) for r in report.rows] == [
        (2, "matched", ()),
        (3, "malformed", ("nik_number",)),
        (4, "malformed", ("nik_number",)),
    ]
    assert "The NIK is stored as a number, so Excel may have changed its last digits." in text_of(response)
    assert report.worker_ids == [worker.pk]
    nothing_reserved(pool, 1_000_000)


def test_money_that_may_not_pay_a_worker_is_reported_with_the_reason(client, login, staff, verified):  # noqa: F811
    mustahik = verified(1, zakat_eligible=True)[0]
    other = verified(1)[0]
    zakat = FunderFactory(kind="zakat_body", name="BAZNAS Penajam")
    pool = fund(zakat, 1_000_000)
    login(staff["finance"], language="en")
    response = upload(client, zakat, csv_file("nik\n6409011708900001\n6409011708900002\n"))
    report = response.context["report"]
    assert [(r.outcome, r.worker_id, r.reasons) for r in report.rows] == [
        ("matched", mustahik.pk, ()),
        ("not_payable", other.pk, ("not_zakat_eligible",)),
    ]
    assert "Not eligible for zakat (not mustahik)." in text_of(response)
    assert response.context["preview"].workers == [mustahik]
    nothing_reserved(pool, 1_000_000)
    pemda = FunderFactory(kind="local_government", region_code="33.74")
    fund(pemda, 1_000_000)
    outside = upload(client, pemda, csv_file("NIK\n6409011708900001\n")).context["report"]
    assert [(r.outcome, r.reasons) for r in outside.rows] == [("not_payable", ("outside_funder_region",))]
    assert outside.worker_ids == []
    assert 'name="token"' not in text_of(upload(client, pemda, csv_file("NIK\n6409011708900001\n")))


def test_a_worker_already_sponsored_in_the_block_is_not_payable(client, login, staff, verified):  # noqa: F811
    (worker,) = verified(1)
    funder, other = FunderFactory(kind="company"), FunderFactory(kind="company")
    fund(funder, 1_000_000)
    fund(other, 1_000_000)
    sponsor_directed(
        funder=other, worker_ids=[worker.pk], start=START, months=6, package="jkk_jkm", by=staff["finance"]
    )
    login(staff["operator"], language="en")
    report = upload(client, funder, csv_file("nik\n6409011708900001\n")).context["report"]
    assert [(r.outcome, r.reasons) for r in report.rows] == [("not_payable", ("already_sponsored",))]
    assert report.replayed is False


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "kosong.csv", "The submitted file is empty."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "lama.xls", "This is an old Excel file (.xls)."),
        (b"%PDF-1.4 ...", "surat.pdf", "This is not a CSV or XLSX file."),
        (b"PK\x03\x04rusak", "rusak.xlsx", "This XLSX file cannot be read."),
        (b"nama,alamat\nSiti,Jl. Mawar\n", "nama.csv", "No column of NIKs was found."),
        (b"Daftar\nnik\n\n", "judul.csv", "The list has no rows under its header."),
        (("nik\n" + "6409011708900001\n" * 5001).encode(), "besar.csv", "The list has more than 5000 rows"),
        (b"nik\n" + b"6409011708900001\n" * 130_000, "raksasa.csv", "The file is larger than 2 MB"),
    ],
)
def test_files_that_are_no_list_are_refused(client, login, staff, verified, content, name, message):  # noqa: F811
    verified(1)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 1_000_000)
    login(staff["operator"], language="en")
    response = upload(client, funder, SimpleUploadedFile(name, content))
    assert response.status_code == 422
    assert message in text_of(response)
    assert response.context["report"] is None
    nothing_reserved(pool, 1_000_000)


def test_a_pool_emptied_after_the_check_refuses_the_confirm_and_reserves_nothing(client, login, staff, verified):  # noqa: F811
    _first, _second, third = verified(3)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 6 * MONTH)
    login(staff["finance"], language="en")
    response = upload(client, funder, csv_file("nik\n6409011708900001\n6409011708900002\n"))
    assert response.context["preview"].can_commit
    token = token_of(response)
    sponsor_directed(
        funder=funder, worker_ids=[third.pk], start=START, months=1, package="jkk_jkm", by=staff["finance"]
    )
    left = balance_of(pool)
    refused = client.post(URL, {"action": "confirm", "token": token})
    assert refused.context["problem"]["code"] == "pool_insufficient", refused.context["problem"]
    assert refused.status_code == 409
    assert refused.context["problem"]["code"] == "pool_insufficient"
    assert "Available in the pool" in refused.context["problem"]["lines"][0]
    assert Sponsorship.objects.count() == 1
    assert balance_of(pool) == left


def test_a_changed_or_foreign_token_reserves_nothing(client, login, staff, verified):  # noqa: F811
    verified(2)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 1_000_000)
    login(staff["finance"], language="en")
    token = token_of(upload(client, funder, csv_file("nik\n6409011708900001\n6409011708900002\n")))
    tampered = client.post(URL, {"action": "confirm", "token": token[:-3] + "abc"})
    assert tampered.status_code == 422
    assert tampered.context["problem"]["code"] == "nik_list_expired"
    assert client.post(URL, {"action": "confirm"}).status_code == 422
    client.logout()
    login(staff["operator"])
    assert client.post(URL, {"action": "confirm", "token": token}).status_code == 404
    nothing_reserved(pool, 1_000_000)


@pytest.mark.parametrize("role", ["field_agent", "verifier", "auditor", "funder"])
def test_other_roles_are_refused(client, login, make_user, role):
    login(make_user(role))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "confirm", "token": "x"}).status_code == 403


def test_the_page_in_indonesian_with_links_from_the_directed_form_and_the_list(client, login, staff, verified):  # noqa: F811
    verified(1)
    funder = FunderFactory(kind="company")
    fund(funder, 1_000_000)
    login(staff["operator"], language="id")
    assert 'href="/sponsorships/directed/upload/"' in text_of(client.get("/sponsorships/directed/"))
    assert 'href="/sponsorships/directed/upload/"' in text_of(client.get("/sponsorships/"))
    page = text_of(client.get(URL))
    assert "Biayai pekerja dari sebuah daftar" in page
    assert "Simpan NIK sebagai teks." in page
    response = upload(client, funder, csv_file(f"nik\n6409011708900001\n{NOT_REGISTERED}\n6.40901E+15\n"))
    text = text_of(response)
    assert "Baris demi baris" in text
    assert "Cocok: 1 baris" in text
    assert "Tidak ditemukan" in text
    assert "NIK tertulis dalam notasi ilmiah" in text
    assert "2 baris tidak diikutkan (lihat di bawah)." in text
    assert "Konfirmasi dan alokasikan" in text
    for english in ("Row by row", "Left out", "Check the list", "scientific notation", "matched workers only"):
        assert english not in text


def test_a_funder_the_user_may_not_choose_is_a_form_error(client, login, staff, verified):  # noqa: F811
    verified(1)
    FunderFactory(kind="company")
    login(staff["operator"], language="en")
    response = upload(client, 999_999, csv_file("nik\n6409011708900001\n"))
    assert response.status_code == 422
    assert response.context["report"] is None
    assert list(response.context["form"].errors) == ["funder"]


def test_the_empty_list_keeps_niks_as_text_and_reads_back(client, login, staff):  # noqa: F811
    login(staff["operator"], language="en")
    response = client.get("/sponsorships/directed/upload/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="daftar-nik.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["nik", "nama"]
    assert sheet.column_dimensions["A"].number_format == "@"
    sheet.append(["6409011708900001", "Siti"])
    filled = io.BytesIO()
    book.save(filled)
    assert [r.nik for r in nik_list.read_list(filled.getvalue()).rows] == ["6409011708900001"]
    assert 'href="/sponsorships/directed/upload/template.xlsx"' in text_of(client.get(URL))
    client.logout()
    login(UserFactory(role="field_agent"))
    assert client.get("/sponsorships/directed/upload/template.xlsx").status_code == 403
