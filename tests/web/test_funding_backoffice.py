"""The finance back office, through the pages: who may open what (finance acts, operators and auditors read, everyone
else is refused), the intake inbox with its raw bodies, the review queue, refunds with a second approver, the bank
statement import and manual matching, the ledger views, and exports that neutralise spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from lingkaran.core.models import AuditEvent
from lingkaran.funding import services
from lingkaran.funding.models import (
    BankStatementImport,
    BankStatementLine,
    GatewayEvent,
    Invoice,
    PaymentIntent,
    Refund,
    SandboxPayment,
)
from lingkaran.ledger import selectors as ledger
from lingkaran.ledger.models import JournalEntry
from tests.factories import FunderFactory, UserFactory
from tests.web.funding_helpers import start

pytestmark = pytest.mark.django_db

READ_PAGES = [
    "/money/",
    "/money/donations/",
    "/money/inbox/",
    "/money/review/",
    "/money/bank/",
    "/money/refunds/",
    "/money/ledger/",
    "/money/ledger/verify/",
    "/money/ledger/export.beancount",
    "/money/agreements/",
]


@pytest.mark.parametrize("role", ["finance", "operator", "auditor"])
def test_money_staff_open_every_back_office_page(role, client, login, make_user, settled):
    settled()
    login(make_user(role))
    for path in READ_PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)


@pytest.mark.parametrize("role", ["verifier", "field_agent", "worker", "funder"])
def test_other_roles_are_refused_the_back_office(role, client, login, make_user, settled):
    settled(donor_name="Rahasia Donatur")
    login(make_user(role))
    for path in READ_PAGES:
        if role == "funder" and path == "/money/agreements/":
            continue  # a funder user reads its own funder's agreements there (none here)
        response = client.get(path)
        assert response.status_code == 403, (path, response.status_code)
        assert b"Rahasia Donatur" not in response.content


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/money/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- Donations and exports ------------------------------------------------------------------------------------------


def test_staff_see_donors_masked_and_finance_reveals_one_audited(client, login, people, settled):
    intent = settled(donor_name="Rahasia Sekali", donor_email="rahasia@contoh.id", is_anonymous=True)
    login(people["finance"])
    text = client.get("/money/donations/").content.decode()
    assert "Rahasia Sekali" not in text
    assert "R****** S*****" in text
    page = client.get(f"/money/donations/{intent.donation_id}/")
    assert "Rahasia Sekali" not in page.content.decode()
    assert "rahasia@contoh.id" not in page.content.decode()
    assert page.context["can_reveal"]
    response = client.post(f"/money/donations/{intent.donation_id}/reveal/", {"reason": "Refund manual"})
    assert response.status_code == 200
    assert response.context["revealed"] == {"name": "Rahasia Sekali", "email": "rahasia@contoh.id"}
    assert "rahasia@contoh.id" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="funding.donor_reveal")
    assert (event.actor, event.object_id, event.details["reason"]) == (
        people["finance"],
        str(intent.donation_id),
        "Refund manual",
    )
    assert "Rahasia" not in event.object_label


def test_auditors_cannot_reveal_donors(client, login, people, settled):
    intent = settled(donor_name="Rahasia Sekali", is_anonymous=True)
    login(people["auditor"])
    assert client.get(f"/money/donations/{intent.donation_id}/").context["can_reveal"] is False
    response = client.post(f"/money/donations/{intent.donation_id}/reveal/", {"reason": "ingin tahu"})
    assert response.status_code == 403
    assert b"Rahasia Sekali" not in response.content
    assert not AuditEvent.objects.filter(action="funding.donor_reveal").exists()


def test_donation_list_filters(client, login, people, campaign, settled):
    settled(50_400, donor_name="Ani Lestari", donor_email="ani@contoh.id")
    start(campaign, 100_800, donor_name="Budi Menunggu", donor_email="budi@contoh.id")
    login(people["auditor"])
    response = client.get("/money/donations/?state=settled")
    assert [d.donor_name for d in response.context["page"]] == ["Ani Lestari"]
    # Donors are found by their whole name or e-mail address (case and spacing aside), not by a part of it.
    for q in ("budi  MENUNGGU", "Budi@Contoh.id"):
        response = client.get("/money/donations/", {"q": q})
        assert [d.donor_name for d in response.context["page"]] == ["Budi Menunggu"], q
    assert list(client.get("/money/donations/?q=budi").context["page"]) == []


def test_donation_exports_are_masked_and_neutralise_formulas(client, login, people, settled):
    settled(donor_name='=HYPERLINK("http://x")', purpose_note="@SUM(A1)", donor_email="a@contoh.id")
    login(people["finance"])
    response = client.get("/money/donations/?format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="donations.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert row[header.index("donor_name")] == "'=" + "*" * 21
    assert row[header.index("donor_email")] == "a***@contoh.id"
    assert row[header.index("purpose_note")] == "'@SUM(A1)"
    assert row[header.index("amount")] == "50400"
    # The full export is the operator's, and audited.
    assert client.get("/money/donations/?format=csv&personal=1").status_code == 403
    client.logout()
    login(people["operator"])
    response = client.get("/money/donations/?format=csv&personal=1")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][rows[0].index("donor_name")] == '\'=HYPERLINK("http://x")'
    assert rows[1][rows[0].index("donor_email")] == "a@contoh.id"
    assert AuditEvent.objects.get(action="funding.donations_export_personal").details["rows"] == 1

    response = client.get("/money/donations/?format=xlsx&personal=1")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    name = values[1][values[0].index("donor_name")]
    assert name == '\'=HYPERLINK("http://x")'
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)


# --- Intake inbox and review queue ----------------------------------------------------------------------------------


def forged(order_id: str = "LK-261122-0A1B2C3D4E"):
    return services.intake_receive(
        gateway="sandbox",
        raw_body=json.dumps(
            {
                "order_id": order_id,
                "status_code": "200",
                "gross_amount": "50400.00",
                "transaction_status": "settlement",
                "signature_key": "palsu",
            }
        ).encode(),
        headers={"Content-Type": "application/json"},
    )


def test_inbox_lists_events_with_verification_and_keeps_the_raw_body(client, login, people, settled):
    intent = settled()
    result = forged()
    assert result.http_status == 401
    login(people["finance"])
    response = client.get("/money/inbox/?verified=no")
    (event,) = response.context["page"]
    assert (event.verified, event.verification_error) == (False, result.outcome)
    response = client.get("/money/inbox/?verified=yes")
    assert {e.order_id for e in response.context["page"]} == {intent.order_id}
    assert all(e.outcome in ("pending", "settled", "no_change") for e in response.context["page"])
    page = client.get(f"/money/inbox/{event.pk}/")
    assert page.status_code == 200
    assert "signature_key" in page.content.decode()
    assert "palsu" in page.content.decode()
    # HTMX filtering returns the rows only.
    partial = client.get("/money/inbox/?gateway=sandbox", HTTP_HX_REQUEST="true")
    assert partial.templates[0].name == "web/funding/_inbox_rows.html"


def test_inbox_export_neutralises_a_claimed_order_id_formula(client, login, people, db):
    forged(order_id="=cmd|' /C calc'!A0")
    login(people["finance"])
    response = client.get("/money/inbox/?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][rows[0].index("order_id")] == "'=cmd|' /C calc'!A0"
    xlsx = client.get("/money/inbox/?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [[c.value for c in r] for r in sheet.iter_rows()]
    assert cells[1][cells[0].index("order_id")] == "'=cmd|' /C calc'!A0"


def test_review_queue_lists_an_amount_mismatch(client, login, people, campaign, pay):
    intent = start(campaign, 50_400)
    SandboxPayment.objects.filter(order_id=intent.order_id).update(amount=40_000)  # the gateway collected less
    intent = pay(intent)
    assert intent.in_review
    assert JournalEntry.objects.count() == 0
    login(people["auditor"])
    response = client.get("/money/review/")
    assert [i.order_id for i in response.context["page"]] == [intent.order_id]
    assert "amount mismatch" in response.content.decode()


# --- Refunds --------------------------------------------------------------------------------------------------------


def test_refund_form_says_how_much_can_be_refunded_and_refuses_more(client, login, people, settled):
    intent = settled(50_400)
    login(people["finance"])
    page = client.get(f"/money/donations/{intent.donation_id}/")
    assert page.context["refundable"] == 50_400
    response = client.post(
        f"/money/donations/{intent.donation_id}/refund/", {"amount": "60.000", "reason": "Salah ketik nominal"}
    )
    assert response.status_code == 409
    assert "Rp 50.400" in " ".join(response.context["refund_form"].errors["amount"])
    assert Refund.objects.count() == 0
    response = client.post(f"/money/donations/{intent.donation_id}/refund/", {"amount": "8.400", "reason": ""})
    assert response.status_code == 422
    assert Refund.objects.count() == 0


def test_a_small_refund_is_requested_then_executed_by_finance(
    client, login, people, settled, django_capture_on_commit_callbacks
):
    intent = settled(50_400)
    login(people["finance"])
    response = client.post(
        f"/money/donations/{intent.donation_id}/refund/", {"amount": "8.400", "reason": "Donatur salah ketik"}
    )
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.amount, refund.state, refund.approved_by) == (8_400, "approved", people["finance"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/money/refunds/{refund.pk}/execute/")
    assert response.status_code == 302
    refund.refresh_from_db()
    intent.refresh_from_db()
    assert refund.state == "executed"
    assert (intent.state, intent.refunded_amount) == ("partially_refunded", 8_400)
    assert ledger.balance_of(f"liability:pool:campaign:{intent.donation.campaign_id}") == 42_000
    assert ledger.verify().clean


def test_above_the_threshold_a_second_person_approves(client, login, people, settled, settings):
    settings.LINGKARAN_REFUND_APPROVAL_THRESHOLD = 100_000
    intent = settled(504_000)
    login(people["finance"])
    client.post(f"/money/donations/{intent.donation_id}/refund/", {"amount": "504.000", "reason": "Dobel bayar"})
    refund = Refund.objects.get()
    assert refund.state == "requested"
    # The requester cannot approve it, nor execute it before approval: nothing changes.
    client.post(f"/money/refunds/{refund.pk}/approve/")
    client.post(f"/money/refunds/{refund.pk}/execute/")
    refund.refresh_from_db()
    assert refund.state == "requested"
    assert JournalEntry.objects.count() == 1
    client.logout()
    login(people["finance2"])
    response = client.get("/money/refunds/")
    assert refund.pk in response.context["waiting_ids"]
    client.post(f"/money/refunds/{refund.pk}/approve/")
    refund.refresh_from_db()
    assert (refund.state, refund.approved_by) == ("approved", people["finance2"])


@pytest.mark.parametrize("role", ["auditor", "operator"])
def test_readers_cannot_request_or_execute_refunds(role, client, login, make_user, people, settled):
    intent = settled(50_400)
    refund = services.refund_request(actor=people["finance"], intent=intent, amount=8_400, reason="Salah ketik")
    login(make_user(role))
    response = client.post(f"/money/donations/{intent.donation_id}/refund/", {"amount": "8.400", "reason": "x"})
    assert response.status_code == 403
    client.post(f"/money/refunds/{refund.pk}/execute/")
    assert Refund.objects.count() == 1
    refund.refresh_from_db()
    assert refund.state == "approved"
    assert PaymentIntent.objects.get().refunded_amount == 0


# --- Bank statements ------------------------------------------------------------------------------------------------


@pytest.fixture
def invoices(people):
    funder = FunderFactory(name="PT Semen Peduli")
    agreement = services.agreement_create(
        actor=people["finance"],
        funder=funder,
        number="PKS/SP/2026/001",
        title="CSR",
        budget=100_000_000,
        start_on=timezone.localdate() - timedelta(days=10),
        end_on=timezone.localdate() + timedelta(days=300),
    )
    services.agreement_activate(actor=people["finance"], agreement=agreement)
    due = timezone.localdate() + timedelta(days=30)
    first = services.invoice_issue(actor=people["finance"], agreement=agreement, amount=10_000_000, due_on=due)
    second = services.invoice_issue(actor=people["finance"], agreement=agreement, amount=5_000_000, due_on=due)
    return first, second


def statement_csv(rows) -> bytes:
    lines = ["Tanggal;Referensi;Keterangan;Jumlah"] + [";".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def test_finance_imports_a_statement_and_matches_the_rest_by_hand(client, login, people, invoices):
    first, second = invoices
    day = timezone.localdate().strftime("%d/%m/%Y")
    content = statement_csv(
        [
            [day, f"TRF {first.payment_reference}", "PT SEMEN PEDULI", "10.000.000,00 CR"],
            [day, "", "TRF TANPA BERITA", "5.000.000,00 CR"],
            [day, "ADM", "BIAYA ADMIN", "15.000,00 DB"],
        ]
    )
    login(people["finance"])
    response = client.post("/money/bank/", {"file": SimpleUploadedFile("mutasi.csv", content, "text/csv")})
    statement = BankStatementImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/money/bank/{statement.pk}/"
    assert (statement.matched, statement.unmatched, statement.duplicates, statement.outgoing) == (1, 1, 0, 1)
    first.refresh_from_db()
    assert first.state == "paid"

    page = client.get(f"/money/bank/{statement.pk}/?state=unmatched")
    (line,) = page.context["lines"]
    assert line.amount == 5_000_000
    response = client.post(f"/money/bank/lines/{line.pk}/match/", {"invoice": second.pk})
    assert response.status_code == 302
    line.refresh_from_db()
    second.refresh_from_db()
    assert (line.state, line.invoice) == ("matched", second)
    assert (second.state, second.paid_amount) == ("paid", 5_000_000)

    # The same lines in a second export are duplicates and post nothing.
    entries = JournalEntry.objects.count()
    again = statement_csv([[day, f"TRF {first.payment_reference}", "PT SEMEN PEDULI", "10.000.000,00 CR"]])
    client.post("/money/bank/", {"file": SimpleUploadedFile("mutasi-2.csv", again, "text/csv")})
    latest = BankStatementImport.objects.latest("pk")
    assert (latest.matched, latest.duplicates) == (0, 1)
    assert JournalEntry.objects.count() == entries
    export = client.get(f"/money/bank/{statement.pk}/?format=csv")
    assert export.status_code == 200
    assert "TRF TANPA BERITA" in export.content.decode("utf-8-sig")


def test_an_unreadable_file_is_refused_with_a_message(client, login, people):
    login(people["finance"])
    response = client.post("/money/bank/", {"file": SimpleUploadedFile("foto.csv", b"bukan;mutasi\n1;2\n")})
    assert response.status_code == 422
    assert response.context["form"].errors["file"]
    assert BankStatementImport.objects.count() == 0


@pytest.mark.parametrize("role", ["auditor", "operator"])
def test_readers_cannot_import_or_match(role, client, login, make_user, people, invoices):
    first, _second = invoices
    day = timezone.localdate().strftime("%d/%m/%Y")
    statement = services.bank_statement_import(
        actor=people["finance"],
        filename="a.csv",
        content=statement_csv([[day, "", "TANPA BERITA", "10.000.000,00 CR"]]),
    )
    line = BankStatementLine.objects.get()
    login(make_user(role))
    assert client.get(f"/money/bank/{statement.pk}/").status_code == 200
    content = statement_csv([[day, f"TRF {first.payment_reference}", "X", "10.000.000,00 CR"]])
    response = client.post("/money/bank/", {"file": SimpleUploadedFile("b.csv", content, "text/csv")})
    assert response.status_code == 403
    assert client.post(f"/money/bank/lines/{line.pk}/match/", {"invoice": first.pk}).status_code == 403
    assert BankStatementImport.objects.count() == 1
    line.refresh_from_db()
    assert line.state == "unmatched"
    assert Invoice.objects.get(pk=first.pk).paid_amount == 0


# --- Ledger ---------------------------------------------------------------------------------------------------------


def test_ledger_views(client, login, people, campaign, settled):
    intent = settled(50_400)
    login(people["auditor"])
    accounts = client.get("/money/ledger/")
    codes = [row.account.code for row in accounts.context["rows"]]
    pool = f"liability:pool:campaign:{campaign.pk}"
    assert pool in codes
    statement = client.get(f"/money/ledger/{pool}/")
    assert statement.status_code == 200
    (leg,) = statement.context["page"]
    assert (leg.side, leg.amount, leg.signed) == ("C", 50_400, 50_400)
    assert [o.account.code for o in leg.others] == ["asset:clearing:sandbox"]
    assert intent.order_id in leg.entry.description
    assert client.get("/money/ledger/no:such:account/").status_code == 404
    verify = client.get("/money/ledger/verify/")
    assert verify.context["report"].clean
    export = client.get("/money/ledger/export.beancount")
    body = b"".join(export.streaming_content).decode()
    assert 'option "operating_currency" "IDR"' in body
    assert "Liabilities:Pool:Campaign" in body


# --- Agreements and invoices ----------------------------------------------------------------------------------------


def test_operator_drafts_an_agreement_finance_activates_and_invoices(client, login, people):
    pemda = FunderFactory(name="Pemkab Contoh", kind="local_government", region_code="64.09")
    login(people["operator"])
    year = timezone.localdate().year
    data = {
        "funder": pemda.pk,
        "number": "PKS/PPU/2026/9",
        "title": "APBD perlindungan",
        "budget": "480.000.000",
        "start_on": f"{year}-01-01",
        "end_on": f"{year}-12-31",
        "package": "jkk_jkm",
        "fiscal_year": "",
        "target_regions": "64.09",
        "target_occupations": "",
        "target_workers": "2000",
    }
    response = client.post("/money/agreements/", data)
    assert response.status_code == 422  # a Pemda agreement names its APBD fiscal year
    assert "fiscal_year" in response.context["form"].errors
    response = client.post("/money/agreements/", {**data, "fiscal_year": str(year)})
    assert response.status_code == 302
    agreement = pemda.agreements.get()
    assert (agreement.budget, agreement.fiscal_year, agreement.state) == (480_000_000, year, "draft")
    assert agreement.target_criteria == {"regions": ["64.09"], "workers": 2000}
    client.logout()
    login(people["finance"])
    client.post(f"/money/agreements/{agreement.pk}/activate/")
    agreement.refresh_from_db()
    assert agreement.state == "active"
    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = client.post(f"/money/agreements/{agreement.pk}/invoices/", {"amount": "500.000.000", "due_on": due})
    assert response.status_code == 422  # more than the budget
    assert Invoice.objects.count() == 0
    response = client.post(f"/money/agreements/{agreement.pk}/invoices/", {"amount": "240.000.000", "due_on": due})
    assert response.status_code == 302
    invoice = Invoice.objects.get()
    assert invoice.amount == 240_000_000
    page = client.get(f"/money/agreements/{agreement.pk}/")
    assert invoice.payment_reference in page.content.decode()


def test_funder_users_read_only_their_own_agreements(client, login, people, funders):
    (own, own_user), (other, _other_user) = funders["own"], funders["other"]
    mine = services.agreement_create(
        actor=people["finance"],
        funder=own,
        number="PKS/OWN/1",
        title="Milik sendiri",
        budget=1_000_000,
        start_on=timezone.localdate(),
        end_on=timezone.localdate() + timedelta(days=30),
    )
    theirs = services.agreement_create(
        actor=people["finance"],
        funder=other,
        number="PKS/OTHER/1",
        title="Milik orang lain",
        budget=1_000_000,
        start_on=timezone.localdate(),
        end_on=timezone.localdate() + timedelta(days=30),
    )
    login(own_user)
    assert client.get(f"/money/agreements/{mine.pk}/").status_code == 200
    response = client.get(f"/money/agreements/{theirs.pk}/")
    assert response.status_code == 404
    assert b"Milik orang lain" not in response.content
    listing = client.get("/money/agreements/")
    assert [a.pk for a in listing.context["page"]] == [mine.pk]
    response = client.post("/money/agreements/", {"funder": own.pk, "number": "X", "title": "X"})
    assert response.status_code == 403
    client.post(f"/money/agreements/{mine.pk}/activate/")
    mine.refresh_from_db()
    assert mine.state == "draft"


def test_funder_money_page_is_its_own_users_and_staffs_only(client, login, people, funders, pay):
    (own, own_user), (other, _other_user) = funders["own"], funders["other"]
    intent = services.donation_start(
        target=services.DonationTarget.for_funder(own), amount=75_000, donor_name="Diam Diam", is_anonymous=True
    )
    pay(intent)
    login(own_user)
    response = client.get(f"/money/funders/{own.pk}/")
    assert response.status_code == 200
    assert response.context["transparency"].received == 75_000
    assert "Diam Diam" not in response.content.decode()
    assert client.get(f"/money/funders/{other.pk}/").status_code == 404
    export = client.get(f"/money/funders/{own.pk}/?format=csv")
    assert "Diam Diam" not in export.content.decode("utf-8-sig")
    client.logout()
    login(UserFactory(role="finance"))
    assert client.get(f"/money/funders/{other.pk}/").status_code == 200
    assert GatewayEvent.objects.filter(order_id=intent.order_id, verified=True).exists()
