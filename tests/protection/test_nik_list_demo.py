"""The demo's list of NIKs (var/demo/daftar-nik-csr-bank-jateng.xlsx): written once, and its row report shows every
outcome a real list can have."""

from __future__ import annotations

import random

import pytest

from lingkaran.demo_protection import DEMO_NIK_LIST, NIK_LIST_START, _protection_nik_list_file
from lingkaran.funding.accounts import funder_pool
from lingkaran.ledger.selectors import balance_of
from lingkaran.protection.nik_lists import ListSummary, nik_list_sponsor
from lingkaran.protection.selectors_nik_list import nik_list_check
from lingkaran.protection.sponsorships import ShareSpec, sponsor_directed
from tests.factories import FunderFactory
from tests.web.test_sponsorship_pages import START, fund, staff, verified  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_the_demo_list_shows_every_outcome(settings, tmp_path, staff, verified, register_worker):  # noqa: F811
    settings.VAR_DIR = tmp_path
    workers = verified(8)
    register_worker(staff["operator"], nik="6409011708905001", full_name="Belum Diverifikasi")
    company, partner = FunderFactory(kind="company", name="Bank Jateng"), FunderFactory(kind="institution")
    fund(company, 1_000_000)
    fund(partner, 1_000_000)
    sponsor_directed(
        funder=company, worker_ids=[workers[7].pk], start=START, months=6, package="jkk_jkm", by=staff["finance"],
        cofund_with=[ShareSpec(partner, 4_000)],
    )  # fmt: skip
    lines = []
    _protection_nik_list_file(random.Random(1), lines.append)
    path = tmp_path / "demo" / DEMO_NIK_LIST
    assert lines == [f"protection: {DEMO_NIK_LIST} written (12 rows) for the directed upload"]
    report = nik_list_check(
        staff["finance"], funder=company, content=path.read_bytes(), file_name=path.name, start=NIK_LIST_START,
        months=12, package="jkk_jkm",
    )  # fmt: skip
    assert (report.header_row, report.nik_column) == (3, "NIK")
    assert report.counts == {
        "matched": 6, "not_found": 1, "not_verified": 1, "not_payable": 1, "duplicate": 1, "malformed": 2,
    }  # fmt: skip
    assert report.worker_ids == sorted(w.pk for w in workers[:6])
    assert [r.reasons for r in report.rows if r.outcome == "malformed"] == [("nik_number",), ("nik_scientific",)]
    pool_before = balance_of(funder_pool(company.pk))
    rows = nik_list_sponsor(
        funder=company, summary=ListSummary.of(report), start=NIK_LIST_START, months=12, package="jkk_jkm",
        by=staff["finance"], accept_partial=True,
    )  # fmt: skip
    assert len(rows) == 6
    assert balance_of(funder_pool(company.pk)) == pool_before - sum(r.total for r in rows)
    before = path.read_bytes()
    _protection_nik_list_file(random.Random(1), lines.append)
    assert lines[-1] == f"protection: {DEMO_NIK_LIST} already written"
    assert path.read_bytes() == before
    assert balance_of(funder_pool(company.pk)) == pool_before - sum(r.total for r in rows)
