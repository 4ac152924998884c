"""Co-funding from the directed sponsorship page and API: a co-funder and its share, the preview of each share
against its own pool, confirm (once), the refusals in words, and the split shown in the list and the API."""

from __future__ import annotations

import json

import pytest

from lingkaran.funding.models import FunderMembership
from lingkaran.ledger.models import Reservation
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.protection.models import CoFunding, SponsoredMonth, SponsoredShare, Sponsorship
from tests.factories import FunderFactory, UserFactory
from tests.web.test_sponsorship_pages import MONTH, directed_form, fund, staff, text_of, verified  # noqa: F401

pytestmark = pytest.mark.django_db

JSON = "application/json"
SIXTY, FORTY = 10_080, 6_720  # 60 % and 40 % of Rp 16.800


def test_the_directed_page_cofunds_a_block_once(client, login, staff, verified):  # noqa: F811
    workers = verified(2)
    company = FunderFactory(kind="company", name="PT Utama")
    partner = FunderFactory(kind="institution", name="Yayasan Mitra")
    company_pool, partner_pool = fund(company, 500_000), fund(partner, 500_000)
    login(staff["finance"])
    form = directed_form(company, workers, cofunder=str(partner.pk), cofunder_share="40")
    preview = client.post("/sponsorships/directed/", {**form, "action": "preview"})
    assert preview.status_code == 200
    plan = preview.context["cofund"]
    assert [(s.funder.pk, s.share_bp, s.total, s.available) for s in plan.shares] == [
        (company.pk, 6000, 6 * SIXTY, 500_000),
        (partner.pk, 4000, 6 * FORTY, 500_000),
    ]
    assert plan.can_commit
    text = text_of(preview)
    assert 'data-testid="cofund-preview"' in text
    assert "Yayasan Mitra" in text
    assert SponsoredMonth.objects.count() == 0  # a preview reserves nothing
    confirm = client.post("/sponsorships/directed/", {**form, "action": "confirm"})
    assert confirm.status_code == 302
    again = client.post("/sponsorships/directed/", {**form, "action": "confirm"})
    assert again.status_code == 302
    assert CoFunding.objects.count() == 1
    assert SponsoredMonth.objects.count() == 6
    assert SponsoredShare.objects.count() == 12
    assert balance_of(company_pool) == 500_000 - 6 * SIXTY
    assert balance_of(partner_pool) == 500_000 - 6 * FORTY
    assert verify().clean
    # the list shows the split and each funder's part of each month
    listed = client.get("/sponsorships/")
    text = text_of(listed)
    assert "Didanai bersama: PT Utama 60 % · Yayasan Mitra 40 %" in text
    totals = {t.funder_id: (t.reserved, t.worker_months) for t in listed.context["totals"]}
    assert totals == {company.pk: (6 * SIXTY, 6), partner.pk: (6 * FORTY, 6)}
    assert client.get("/sponsorships/?month=2027-05").context["page"].paginator.count == 4
    # a funder user sees its own share of the split, not the other funder's name
    user = UserFactory(role="funder")
    FunderMembership.objects.create(user=user, funder=partner)
    client.logout()
    login(user)
    own = text_of(client.get("/sponsorships/"))
    assert "Yayasan Mitra 40 %" in own
    assert "PT Utama" not in own


def test_the_page_refuses_a_short_pool_and_a_bad_share_in_words(client, login, staff, verified):  # noqa: F811
    workers = verified(2)
    company = FunderFactory(kind="company", name="PT Utama")
    partner = FunderFactory(kind="institution", name="Yayasan Mitra")
    fund(company, 500_000)
    fund(partner, 5 * FORTY)  # one month short
    login(staff["finance"])
    form = directed_form(company, workers, cofunder=str(partner.pk), cofunder_share="40")
    refused = client.post("/sponsorships/directed/", {**form, "action": "confirm"})
    assert refused.status_code == 409
    assert refused.context["problem"]["code"] == "pool_insufficient"
    assert refused.context["problem"]["lines"] == [
        "Yayasan Mitra: tersedia di pool Rp 33.600, bagiannya untuk seluruh blok Rp 40.320."
    ]
    assert not refused.context["cofund"].enough
    same = client.post("/sponsorships/directed/", {**form, "cofunder": str(company.pk), "action": "preview"})
    assert same.status_code == 422
    assert "cofunder" in same.context["form"].errors
    missing = client.post("/sponsorships/directed/", {**form, "cofunder_share": "", "action": "preview"})
    assert missing.status_code == 422
    assert "cofunder_share" in missing.context["form"].errors
    assert not Sponsorship.objects.exists()
    assert not Reservation.objects.exists()


def test_the_api_cofunds_and_shows_the_split(bearer, staff, verified, assert_problem):  # noqa: F811
    workers = verified(2)
    company, partner = FunderFactory(kind="company"), FunderFactory(kind="institution")
    company_pool, partner_pool = fund(company, 500_000), fund(partner, 500_000)
    client, _token, _plain = bearer(staff["finance"])
    body = {
        "funder_id": company.pk,
        "worker_ids": [w.pk for w in workers],
        "start": "2027-04",
        "months": 3,
        "package": "jkk_jkm",
        "cofund_with": [{"funder_id": partner.pk, "share_bp": 4000}],
    }
    response = client.post("/api/v1/sponsorships/directed", json.dumps(body), content_type=JSON)
    assert response.status_code == 201, response.content
    rows = json.loads(response.content)
    assert sorted((r["funder_id"], r["worker_id"], r["total"]) for r in rows) == sorted(
        (funder.pk, w.pk, 3 * part) for funder, part in ((company, SIXTY), (partner, FORTY)) for w in workers
    )
    split = rows[0]["cofunding"]
    assert split["priced_as"] == "csr"
    assert [(s["position"], s["funder_id"], s["share_bp"], s["total"]) for s in split["shares"]] == [
        (1, company.pk, 6000, 6 * SIXTY),
        (2, partner.pk, 4000, 6 * FORTY),
    ]
    partner_rows = [r for r in rows if r["funder_id"] == partner.pk]
    assert [(m["month"], m["amount"], m["state"]) for m in partner_rows[0]["worker_months"]] == [
        ("2027-04", FORTY, "reserved"),
        ("2027-05", FORTY, "reserved"),
        ("2027-06", FORTY, "reserved"),
    ]
    again = client.post("/api/v1/sponsorships/directed", json.dumps(body), content_type=JSON)
    assert sorted(r["id"] for r in json.loads(again.content)) == sorted(r["id"] for r in rows)
    listed = json.loads(client.get("/api/v1/sponsorships?month=2027-05").content)
    assert listed["count"] == 4
    assert all(item["cofunding"]["id"] == split["id"] for item in listed["items"])
    assert balance_of(company_pool) == 500_000 - 6 * SIXTY
    assert balance_of(partner_pool) == 500_000 - 6 * FORTY
    # shares that are no split, and a co-funder outside the caller's reach
    bad = {**body, "cofund_with": [{"funder_id": partner.pk, "share_bp": 9950}]}
    problem = assert_problem(
        client.post("/api/v1/sponsorships/directed", json.dumps(bad), content_type=JSON), 422, "invalid_input"
    )
    assert problem
    twice = {**body, "cofund_with": [{"funder_id": company.pk, "share_bp": 4000}]}
    refused = assert_problem(
        client.post("/api/v1/sponsorships/directed", json.dumps(twice), content_type=JSON), 422, "cofunding_invalid"
    )
    assert refused["details"] == {"reason": "same_funder"}
    unknown = {**body, "cofund_with": [{"funder_id": 999_999, "share_bp": 4000}]}
    assert_problem(
        client.post("/api/v1/sponsorships/directed", json.dumps(unknown), content_type=JSON), 404, "not_found"
    )
    assert CoFunding.objects.count() == 1
