"""The cycle pages: run a month through the form (clear refusals), its progress and lines, formula-safe CSV and XLSX,
the reconciliation page with its actions, and who may do what. Checks are by status, data attributes and values,
never by the page's words, so they hold in either language."""

from __future__ import annotations

import io
from datetime import date

import pytest

from lingkaran.funding.models import Funder
from lingkaran.protection.models import ContributionLine, Cycle, ReconciliationAction
from lingkaran.web import views_cycles
from tests.factories import UserFactory
from tests.protection import test_cycle as cycle_setup
from tests.protection.test_cycle import APR, PAY_DAY

# The cycle's setup (tests/protection/test_cycle.py): four verified workers, one a wage earner, and a funded
# directed sponsorship for April to June 2027.
people = cycle_setup.people
world = cycle_setup.world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pay_day(monkeypatch):
    monkeypatch.setattr(views_cycles, "_today", lambda: PAY_DAY)


def run_april(client):
    return client.post("/cycles/run/", {"month": "2027-04"})


def test_finance_runs_a_month_through_the_form_and_reads_its_lines(world, people, login):
    client = login(people["finance"])
    page = client.get("/cycles/")
    assert page.status_code == 200
    assert b'data-testid="cycle-run-form"' in page.content
    response = run_april(client)
    assert response.status_code == 302
    assert response["Location"] == "/cycles/2027-04/"
    cycle = Cycle.objects.get(month=APR)
    assert (cycle.state, cycle.line_count, cycle.confirmed_count, cycle.rejected_count) == ("done", 4, 3, 1)
    listing = client.get("/cycles/")
    assert b'href="/cycles/2027-04/"' in listing.content
    detail = client.get("/cycles/2027-04/")
    assert detail.status_code == 200
    body = detail.content.decode()
    for worker in world["workers"]:
        assert worker.nik_masked in body
        assert worker.full_name not in body
    assert "not_registered" in body
    progress = client.get("/cycles/2027-04/progress/")
    assert progress.status_code == 200
    assert b"hx-trigger" not in progress.content
    rejected = client.get("/cycles/2027-04/", {"state": "rejected"}, headers={"HX-Request": "true"})
    assert rejected.content.decode().count(world["workers"][3].nik_masked) == 1
    assert world["workers"][0].nik_masked not in rejected.content.decode()
    # Running the month again is safe and changes nothing.
    assert run_april(client).status_code == 302
    assert ContributionLine.objects.count() == 4


@pytest.mark.parametrize(
    ("month", "status", "code"),
    [("2027-08", 422, "cycle_nothing_due"), ("2010-01", 422, "tariff_not_in_force")],
)
def test_the_form_shows_clear_refusals(world, people, login, month, status, code):
    client = login(people["finance"])
    response = client.post("/cycles/run/", {"month": month})
    assert response.status_code == status
    assert f'data-code="{code}"'.encode() in response.content
    assert not Cycle.objects.filter(month=date.fromisoformat(f"{month}-01")).exists()


def test_a_malformed_month_is_refused_by_the_form(world, people, login):
    response = login(people["finance"]).post("/cycles/run/", {"month": "April"})
    assert response.status_code == 422
    assert not Cycle.objects.exists()


def test_the_exports_are_formula_safe(world, people, login):
    Funder.objects.filter(pk=world["funder"].pk).update(name='=HYPERLINK("http://evil.example","x")')
    client = login(people["finance"])
    run_april(client)
    csv = client.get("/cycles/2027-04/", {"format": "csv"})
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text
    assert len(text.strip().splitlines()) == 5  # a header and four lines
    xlsx = client.get("/cycles/2027-04/", {"format": "xlsx", "state": "confirmed"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4  # a header and three confirmed lines
    funders = {row[4] for row in rows[1:]}
    assert funders == {'\'=HYPERLINK("http://evil.example","x")'}
    assert all(
        cell.data_type == "s" for cell in next(sheet.iter_rows(min_row=2, max_row=2)) if isinstance(cell.value, str)
    )


def test_who_may_see_and_do_what(world, people, login, client):
    run_april(login(people["finance"]))
    client.logout()
    client = login(UserFactory(role="field_agent"))
    for url in ("/cycles/", "/cycles/2027-04/", "/cycles/2027-04/reconciliation/", "/cycles/2027-04/progress/"):
        assert client.get(url).status_code == 403
    client.logout()
    auditor = login(UserFactory(role="auditor"))
    listing = auditor.get("/cycles/")
    assert listing.status_code == 200
    assert b'data-testid="cycle-run-form"' not in listing.content
    assert auditor.get("/cycles/2027-04/").status_code == 200
    assert auditor.get("/cycles/2027-04/", {"format": "csv"}).status_code == 200
    recon_page = auditor.get("/cycles/2027-04/reconciliation/")
    assert recon_page.status_code == 200
    assert b'name="action"' not in recon_page.content
    assert auditor.post("/cycles/run/", {"month": "2027-05"}).status_code == 403
    refused = world["workers"][3]
    posted = auditor.post(
        "/cycles/2027-04/reconciliation/", {"kind": "rejected", "worker": refused.pk, "action": "resolve", "note": "x"}
    )
    assert posted.status_code == 403
    auditor.logout()
    operator = login(people["operator"])
    assert operator.post("/cycles/run/", {"month": "2027-05"}).status_code == 403  # running pays: finance only
    assert not Cycle.objects.filter(month=date(2027, 5, 1)).exists()
    assert not ReconciliationAction.objects.exists()


def test_the_reconciliation_page_lists_and_records_actions(world, people, login):
    client = login(people["finance"])
    run_april(client)
    refused = world["workers"][3]
    page = client.get("/cycles/2027-04/reconciliation/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f'data-kind="rejected" data-state="open" data-worker="{refused.pk}"' in body
    assert 'data-testid="ledger-key">cycle:2027-04:64:return:' in body
    client.logout()
    operator = login(people["operator"])
    form = {"kind": "rejected", "worker": refused.pk, "action": "resubmit"}
    assert operator.post("/cycles/2027-04/reconciliation/", form).status_code == 302
    assert operator.post("/cycles/2027-04/reconciliation/", form).status_code == 302
    assert ReconciliationAction.objects.filter(kind="rejected", action="resubmit").count() == 1
    no_note = operator.post("/cycles/2027-04/reconciliation/", {**form, "action": "resolve"})
    assert no_note.status_code == 422
    assert b'data-testid="action-error"' in no_note.content
    done = operator.post("/cycles/2027-04/reconciliation/", {**form, "action": "resolve", "note": "Paid by hand"})
    assert done.status_code == 302
    resolved = operator.get("/cycles/2027-04/reconciliation/", {"show": "resolved"}).content.decode()
    assert f'data-kind="rejected" data-state="resolved" data-worker="{refused.pk}"' in resolved
    assert 'data-kind="rejected"><td' in resolved
    assert 'data-open="0"' in resolved
    assert 'data-resolved="1"' in resolved
    csv = operator.get("/cycles/2027-04/reconciliation/", {"format": "csv"}).content.decode("utf-8-sig")
    assert "rejected" in csv
    assert "resubmit; resolve" in csv
    assert refused.nik_masked in csv


def test_the_exceptions_are_paged_and_each_page_keeps_its_tab(world, people, login, monkeypatch):
    from tests.protection.test_reconciliation import status_of

    client = login(people["finance"])
    run_april(client)
    # A second exception: the agency, in May, shows nothing paid after March for a worker whose April we paid.
    status_of(world["workers"][0], state="grace", as_of=date(2027, 5, 1), last_paid=date(2027, 3, 1))
    monkeypatch.setattr(views_cycles, "PAGE_SIZE", 1)
    first = client.get("/cycles/2027-04/reconciliation/", {"show": "all"}).content.decode()
    second = client.get("/cycles/2027-04/reconciliation/", {"show": "all", "page": 2}).content.decode()
    assert 'data-testid="pager-next"' in first
    assert 'href="?show=all&amp;page=2"' in first
    assert 'data-testid="pager-next"' not in second
    kinds = [page.count('data-state="open" data-worker=') for page in (first, second)]
    assert kinds == [1, 1]
    assert ('data-kind="paid_inactive" data-state' in first) != ('data-kind="paid_inactive" data-state' in second)
    # The counts above the tabs are the month's, whichever page is shown.
    assert second.count('data-open="1"') == 2


def test_an_unknown_or_malformed_month_is_not_found(world, people, login):
    client = login(people["finance"])
    assert client.get("/cycles/2027-04/").status_code == 404  # no cycle yet
    assert client.get("/cycles/April/").status_code == 404
    assert client.get("/cycles/2027-13/reconciliation/").status_code == 404


@pytest.mark.postgres
def test_a_month_held_by_another_run_is_refused_with_its_code(world, people, login):
    """Another session holds the month's advisory lock (a run in progress elsewhere): the form answers
    ``cycle_running`` and nothing is billed."""
    import psycopg
    from django.db import connection

    from lingkaran.protection.cycle import LOCK_NAMESPACE

    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, APR.year * 12 + APR.month - 1])
        response = run_april(login(people["finance"]))
        assert response.status_code == 409
        assert b'data-code="cycle_running"' in response.content
        assert not Cycle.objects.exists()
    finally:
        other.close()
