"""The sponsorship pages: the list (scoped: a funder user sees only its own funder's, without names), the directed
form (preview month by month, confirm, the refusals in the page's language, a double submit reserving once), and
criteria runs (preview, commit, why a worker was or was not chosen). Money is checked in the ledger itself."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.utils import translation

from lingkaran.funding import accounts
from lingkaran.funding.models import FunderMembership
from lingkaran.ledger.selectors import balance_of, verify
from lingkaran.ledger.services import transfer
from lingkaran.protection.errors import PoolInsufficient, SponsorshipRefused
from lingkaran.protection.models import AllocationRun, SponsoredMonth, Sponsorship
from lingkaran.protection.sponsorships import sponsor_directed
from lingkaran.registry.services import worker_decide
from lingkaran.web.views_sponsorships import REASON_TEXTS
from tests.factories import FunderFactory, UserFactory

pytestmark = pytest.mark.django_db

START = date(2027, 4, 1)  # after every PP 50/2025 window: Rp 16.800 a month at the lowest bracket
MONTH = 16_800


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def staff(db):
    return {
        "operator": UserFactory(role="operator"),
        "finance": UserFactory(role="finance"),
        "verifier": UserFactory(role="verifier"),
    }


@pytest.fixture
def verified(staff, register_worker, region_tree):
    made = []

    def make(count: int, **fields):
        out = []
        for _ in range(count):
            serial = len(made) + 1
            worker = register_worker(staff["operator"], nik=f"640901170890{serial:04d}", **fields)
            worker_decide(actor=staff["verifier"], worker_id=worker.pk, decision="verified", reason="KTP checked")
            made.append(worker)
            out.append(worker)
        return out

    return make


def fund(funder, amount: int) -> str:
    pool = accounts.open_pool(target="funder", funder_id=funder.pk)
    bank = accounts.open_bank()
    transfer(key=f"test:fund:{funder.pk}:{amount}", source=bank, target=pool, amount=amount, effective_on=date.today())
    return pool


def directed_form(funder, workers, **extra) -> dict:
    return {
        "funder": str(funder.pk),
        "worker": [str(w.pk) for w in workers],
        "worker_ids": "",
        "start": f"{START:%Y-%m}",
        "months": "3",
        "package": "jkk_jkm",
        **extra,
    }


@pytest.mark.parametrize("role", ["field_agent", "verifier", "auditor", "worker"])
def test_other_roles_are_refused_and_see_no_link(client, make_user, login, role):
    login(make_user(role))
    for url in ("/sponsorships/", "/sponsorships/directed/", "/sponsorships/allocation/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/sponsorships/directed/", {}).status_code == 403
    assert 'href="/sponsorships/"' not in client.get("/dashboard/").content.decode()


def test_a_funder_user_sees_only_its_own_funders_sponsorships_and_no_names(client, login, staff, verified):
    first, second = verified(2)
    own, other = FunderFactory(kind="company", name="PT Sendiri"), FunderFactory(kind="company", name="PT Lain")
    fund(own, 500_000)
    fund(other, 500_000)
    sponsor_directed(funder=own, worker_ids=[first.pk], start=START, months=2, package="jkk_jkm", by=staff["finance"])
    sponsor_directed(
        funder=other, worker_ids=[second.pk], start=START, months=3, package="jkk_jkm", by=staff["finance"]
    )
    user = UserFactory(role="funder")
    FunderMembership.objects.create(user=user, funder=own)
    login(user)
    response = client.get("/sponsorships/")
    assert response.status_code == 200
    assert [s.funder_id for s in response.context["page"]] == [own.pk]
    assert [(t.name, t.reserved, t.worker_months) for t in response.context["totals"]] == [("PT Sendiri", 2 * MONTH, 2)]
    text = text_of(response)
    assert first.nik_masked in text
    assert first.full_name not in text
    assert "PT Lain" not in text
    assert 'href="/sponsorships/"' in text
    asked_for_other = client.get(f"/sponsorships/?funder={other.pk}")
    assert [s.funder_id for s in asked_for_other.context["page"]] == [own.pk]
    assert client.get("/sponsorships/directed/").status_code == 403
    assert client.post("/sponsorships/allocation/", {}).status_code == 403


def test_the_list_filters_and_totals_per_funder(client, login, staff, verified):
    workers = verified(3)
    company, pemda = FunderFactory(kind="company"), FunderFactory(kind="local_government", region_code="64.09")
    fund(company, 1_000_000)
    fund(pemda, 1_000_000)
    sponsor_directed(
        funder=company, worker_ids=[w.pk for w in workers[:2]], start=START, months=3, package="jkk_jkm",
        by=staff["finance"],
    )  # fmt: skip
    sponsor_directed(
        funder=pemda, worker_ids=[workers[2].pk], start=date(2027, 8, 1), months=2, package="jkk_jkm",
        by=staff["finance"],
    )  # fmt: skip
    login(staff["operator"])
    response = client.get("/sponsorships/")
    assert response.context["page"].paginator.count == 3
    totals = {t.funder_id: (t.sponsorships, t.reserved, t.worker_months) for t in response.context["totals"]}
    assert totals == {company.pk: (2, 6 * MONTH, 6), pemda.pk: (1, 2 * MONTH, 2)}
    assert workers[0].full_name in text_of(response)
    assert client.get(f"/sponsorships/?funder={pemda.pk}").context["page"].paginator.count == 1
    assert client.get("/sponsorships/?month=2027-08").context["page"].paginator.count == 1
    assert client.get("/sponsorships/?month=2027-05").context["page"].paginator.count == 2
    assert client.get("/sponsorships/?kind=criteria").context["page"].paginator.count == 0
    partial = client.get("/sponsorships/?state=active", headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode()
    assert partial.context["page"].paginator.count == 3


def test_a_directed_block_through_the_form_preview_then_confirm_once(client, login, staff, verified):
    workers = verified(2)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 500_000)
    login(staff["finance"])
    search = client.get("/sponsorships/directed/workers/", {"q": workers[0].nik_masked[:4] + "••••••••0001"})
    assert [w.pk for w in search.context["found"]] == [workers[0].pk]
    assert client.get("/sponsorships/directed/workers/", {"region": "64.09"}).context["found"] != []

    preview = client.post("/sponsorships/directed/", directed_form(funder, workers, action="preview"))
    assert preview.status_code == 200
    shown = preview.context["preview"]
    assert [(m.month, m.per_worker) for m in shown.months] == [
        (date(2027, 4, 1), (MONTH, MONTH)), (date(2027, 5, 1), (MONTH, MONTH)), (date(2027, 6, 1), (MONTH, MONTH)),
    ]  # fmt: skip
    assert (shown.total, shown.available, shown.can_commit) == (6 * MONTH, 500_000, True)
    assert 'data-testid="confirm"' in text_of(preview)
    assert SponsoredMonth.objects.count() == 0

    confirm = client.post("/sponsorships/directed/", directed_form(funder, workers, action="confirm"))
    assert confirm.status_code == 302
    assert confirm["Location"] == f"/sponsorships/?funder={funder.pk}"
    again = client.post("/sponsorships/directed/", directed_form(funder, workers, action="confirm"))
    assert again.status_code == 302
    assert Sponsorship.objects.count() == 2
    assert SponsoredMonth.objects.count() == 6
    assert balance_of(pool) == 500_000 - 6 * MONTH
    assert balance_of(f"liability:reserved:funder:{funder.pk}") == 6 * MONTH
    assert verify().clean


def test_pasted_worker_ids_and_a_form_without_workers(client, login, staff, verified):
    workers = verified(2)
    funder = FunderFactory(kind="company")
    fund(funder, 500_000)
    login(staff["operator"])
    form = directed_form(funder, [], worker_ids=f"{workers[0].pk}, {workers[1].pk}", action="preview")
    assert len(client.post("/sponsorships/directed/", form).context["preview"].workers) == 2
    empty = client.post("/sponsorships/directed/", directed_form(funder, [], action="preview"))
    assert empty.status_code == 422
    assert empty.context["form"].non_field_errors()
    bad = client.post("/sponsorships/directed/", directed_form(funder, [], worker_ids="12, dua", action="preview"))
    assert "worker_ids" in bad.context["form"].errors


@pytest.mark.parametrize("language", ["id", "en"])
def test_not_enough_in_the_pool_is_shown_and_nothing_is_reserved(client, login, staff, verified, language):
    workers = verified(2)
    funder = FunderFactory(kind="company")
    pool = fund(funder, 6 * MONTH - 1)
    login(staff["finance"], language=language)
    preview = client.post("/sponsorships/directed/", directed_form(funder, workers, action="preview"))
    assert preview.context["preview"].enough is False
    assert 'data-testid="confirm"' not in text_of(preview)
    response = client.post("/sponsorships/directed/", directed_form(funder, workers, action="confirm"))
    assert response.status_code == 409
    problem = response.context["problem"]
    assert problem["code"] == "pool_insufficient"
    with translation.override(language):
        expected = str(PoolInsufficient.default_message)
    assert problem["message"] == expected
    assert expected in response.content.decode()
    assert len(problem["lines"]) == 1
    assert str(6 * MONTH - 1)[-3:] in problem["lines"][0]
    assert Sponsorship.objects.count() == 0
    assert SponsoredMonth.objects.count() == 0
    assert balance_of(pool) == 6 * MONTH - 1


def test_refused_workers_are_listed_with_reasons_in_words(client, login, staff, verified):
    eligible = verified(1, zakat_eligible=True)[0]
    not_eligible = verified(1)[0]
    zakat = FunderFactory(kind="zakat_body")
    fund(zakat, 1_000_000)
    login(staff["operator"], language="en")
    preview = client.post("/sponsorships/directed/", directed_form(zakat, [eligible, not_eligible], action="preview"))
    assert preview.context["preview"].refused == {not_eligible.pk: ["not_zakat_eligible"]}
    assert 'data-testid="confirm"' not in text_of(preview)
    response = client.post("/sponsorships/directed/", directed_form(zakat, [eligible, not_eligible], action="confirm"))
    assert response.status_code == 422
    problem = response.context["problem"]
    assert problem["code"] == "sponsorship_refused"
    with translation.override("en"):
        assert problem["message"] == str(SponsorshipRefused.default_message)
        reason = str(REASON_TEXTS["not_zakat_eligible"])
    assert problem["lines"] == [f"{not_eligible.full_name} ({not_eligible.nik_masked}, #{not_eligible.pk}): {reason}"]
    assert SponsoredMonth.objects.count() == 0


def allocation_form(funder, **extra) -> dict:
    return {
        "funder": str(funder.pk),
        "regions": "64.09",
        "sex": "",
        "max_decile": "",
        "workers": "2",
        "budget": "",
        "start": f"{START:%Y-%m}",
        "months": "6",
        "package": "jkk_jkm",
        **extra,
    }


def test_a_criteria_run_preview_then_commit_and_explanations(client, login, staff, verified):
    poorest = verified(1, dtsen_decile=1)[0]
    middle = verified(1, dtsen_decile=6)[0]
    woman = verified(1, dtsen_decile=3, is_female_head=True)[0]
    company = FunderFactory(kind="company")
    pool = fund(company, 1_000_000)
    login(staff["operator"])
    assert client.get("/sponsorships/allocation/").status_code == 200
    response = client.post("/sponsorships/allocation/", allocation_form(company))
    assert response.status_code == 302
    preview = AllocationRun.objects.get()
    assert response["Location"] == f"/sponsorships/runs/{preview.pk}/"
    page = client.get(response["Location"])
    assert [(p.worker_id, p.rank) for p in page.context["picks"]] == [(woman.pk, 1), (poorest.pk, 2)]
    assert page.context["total"] == 2 * 6 * MONTH
    assert 'data-testid="commit"' in text_of(page)
    assert SponsoredMonth.objects.count() == 0
    assert balance_of(pool) == 1_000_000

    why = client.get(page.request["PATH_INFO"], {"worker": str(middle.pk)}, headers={"HX-Request": "true"})
    assert why.context["explanation"]["texts"] == [str(REASON_TEXTS["lower_priority"])]
    assert "<html" not in why.content.decode()

    committed = client.post(f"/sponsorships/runs/{preview.pk}/commit/")
    assert committed.status_code == 302
    run = AllocationRun.objects.exclude(pk=preview.pk).get()
    assert (run.state, run.summary, run.inputs_sha256) == ("committed", preview.summary, preview.inputs_sha256)
    assert committed["Location"] == f"/sponsorships/runs/{run.pk}/"
    assert balance_of(pool) == 1_000_000 - 2 * 6 * MONTH
    twice = client.post(f"/sponsorships/runs/{preview.pk}/commit/")
    assert twice["Location"] == f"/sponsorships/runs/{run.pk}/"
    assert AllocationRun.objects.count() == 2
    assert balance_of(pool) == 1_000_000 - 2 * 6 * MONTH
    assert sorted(Sponsorship.objects.values_list("worker_id", flat=True)) == sorted([woman.pk, poorest.pk])

    chosen = client.get(f"/sponsorships/runs/{run.pk}/", {"worker": str(woman.pk)})
    assert chosen.context["explanation"]["chosen"] is True
    assert chosen.context["explanation"]["texts"] == [str(REASON_TEXTS["chosen"])]
    assert client.get(f"/sponsorships/runs/{run.pk}/", {"worker": "999999"}).context["explanation"]["missing"]
    assert verify().clean


def test_the_criteria_form_refuses_both_workers_and_budget_and_bad_regions(client, login, staff):
    company = FunderFactory(kind="company")
    login(staff["finance"])
    both = client.post("/sponsorships/allocation/", allocation_form(company, budget="500.000"))
    assert both.status_code == 422
    assert both.context["form"].non_field_errors()
    bad = client.post("/sponsorships/allocation/", allocation_form(company, regions="64.9x"))
    assert "regions" in bad.context["form"].errors
    assert AllocationRun.objects.count() == 0


def test_committing_a_run_the_pool_cannot_pay_shows_why_and_reserves_nothing(client, login, staff, verified):
    verified(2)
    company = FunderFactory(kind="company")
    pool = fund(company, 2 * 6 * MONTH - 1)
    login(staff["finance"])
    response = client.post("/sponsorships/allocation/", allocation_form(company))
    preview = AllocationRun.objects.get()
    refused = client.post(f"/sponsorships/runs/{preview.pk}/commit/")
    assert refused.status_code == 409
    assert refused.context["problem"]["code"] == "pool_insufficient"
    with translation.override("id"):
        assert str(PoolInsufficient.default_message) in refused.content.decode()
    assert response.status_code == 302
    assert list(AllocationRun.objects.values_list("state", flat=True)) == ["preview"]
    assert Sponsorship.objects.count() == 0
    assert balance_of(pool) == 2 * 6 * MONTH - 1
