"""Donations: the minimum, anonymous giving, purpose notes, suggested amounts in protection bought; monthly pledges
that the donor pauses, resumes and cancels without help, and a monthly charge that is safe to run again; receipts
(gap-free, PDF in Indonesian and English) and yearly statements; the public transparency figures."""

from __future__ import annotations

import re
import zlib
from datetime import date, timedelta

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from lingkaran.core.errors import Forbidden, InvalidInput, NotAuthenticated
from lingkaran.core.models import AuditEvent
from lingkaran.funding import gateways, pdf, selectors, services
from lingkaran.funding.errors import DonationTooSmall, GatewayUnavailable, PledgeStateError
from lingkaran.funding.models import Donation, PaymentIntent, Receipt, ReceiptCounter, RecurringDonation
from lingkaran.funding.services.receipts import receipt_issue
from lingkaran.funding.tickets import standard_ticket
from lingkaran.ledger import services as ledger_services
from tests.factories import UserFactory
from tests.funding.conftest import receipt_sequence, start

TODAY = timezone.localdate()


# --- Starting a donation --------------------------------------------------------------------------------------------


def test_a_donation_below_the_minimum_is_refused_and_nothing_is_written(campaign, settings):
    settings.LINGKARAN_MIN_DONATION = 10_000
    with pytest.raises(DonationTooSmall) as excinfo:
        start(campaign, amount=9_999)
    assert excinfo.value.details["minimum"] == 10_000
    assert "Rp 10.000" in str(excinfo.value.message)
    for bad in (10_000.0, "10000", True):
        with pytest.raises(InvalidInput):
            start(campaign, amount=bad)
    assert Donation.objects.count() == 0
    assert PaymentIntent.objects.count() == 0
    assert start(campaign, amount=10_000).amount == 10_000


def test_any_amount_at_or_above_the_minimum(campaign):
    assert start(campaign, amount=12_345).donation.amount == 12_345


def test_a_name_is_needed_even_to_give_anonymously(campaign):
    with pytest.raises(InvalidInput):
        start(campaign, donor_name=" ", is_anonymous=True)


def test_a_logged_in_donor_is_named_from_the_account(campaign, people):
    donor = people["donor"]
    intent = services.donation_start(
        target=services.DonationTarget.for_campaign(campaign), amount=50_400, donor=donor, purpose_note="Untuk ojek"
    )
    donation = intent.donation
    assert (donation.donor, donation.donor_name, donation.donor_email) == (donor, donor.display_name, donor.email)
    assert donation.purpose_note == "Untuk ojek"


def test_donations_to_a_funder_pool_and_to_the_general_pool(people, donate, campaign, pay):
    funder = services.funder_create(actor=people["operator"], name="LAZ Amanah", kind="zakat_body")
    to_funder = services.donation_start(
        target=services.DonationTarget.for_funder(funder), amount=20_000, donor_name="Hamba Allah"
    )
    general = services.donation_start(target=services.DonationTarget.general(), amount=30_000, donor_name="Andi")
    pay(to_funder)
    pay(general)
    from lingkaran.ledger import selectors as ledger

    assert ledger.balance_of(f"liability:pool:funder:{funder.pk}") == 20_000
    assert ledger.balance_of("liability:pool:general") == 30_000


def test_an_unreachable_gateway_fails_the_intent_and_tells_the_donor(campaign, monkeypatch):
    def down(request):
        raise httpx.ConnectError("no route to host", request=request)

    monkeypatch.setitem(gateways.transport_overrides, "sandbox", httpx.MockTransport(down))
    with pytest.raises(GatewayUnavailable):
        start(campaign)
    intent = PaymentIntent.objects.get()
    assert (intent.state, intent.payment_url) == ("failed", "")
    assert intent.donation.state == "failed"


def test_suggested_amounts_are_worker_months_at_the_ticket_in_force(db, settings):
    settings.LINGKARAN_STANDARD_TICKET = 16_800
    assert standard_ticket(date(2026, 11, 22)) == 8_400
    assert standard_ticket(date(2027, 1, 1)) == 16_800
    assert selectors.suggested_amounts(date(2026, 11, 22))[0] == (50_400, 6, 1)
    assert selectors.suggested_amounts(date(2027, 2, 1))[0] == (100_800, 6, 1)


# --- Monthly pledges -------------------------------------------------------------------------------------------------


@pytest.fixture
def pledge(campaign, people):
    intent = services.donation_start(
        target=services.DonationTarget.for_campaign(campaign),
        amount=50_400,
        donor=people["donor"],
        recurring=True,
        day_of_month=5,
    )
    return intent.donation.recurring


def test_a_pledge_pays_this_month_now_and_links_the_next_on_its_day(pledge):
    assert pledge.state == "active"
    assert pledge.day_of_month == 5
    first = pledge.donations.get()
    assert first.period == TODAY.replace(day=1)
    assert pledge.next_due_on == date(TODAY.year + (TODAY.month == 12), TODAY.month % 12 + 1, 5)


def test_a_pledge_needs_a_logged_in_donor(campaign):
    with pytest.raises(NotAuthenticated):
        start(campaign, recurring=True)
    assert RecurringDonation.objects.count() == 0


def test_the_monthly_charge_creates_one_link_per_month_however_often_it_runs(pledge):
    due = pledge.next_due_on
    created = services.recurring_charge_due(today=due)
    assert len(created) == 1
    assert created[0].payment_url  # the month's payment link (VA/QRIS cannot be debited automatically)
    assert created[0].donation.period == due.replace(day=1)
    assert services.recurring_charge_due(today=due) == []
    assert services.recurring_charge_due(today=due + timedelta(days=3)) == []
    pledge.refresh_from_db()
    assert pledge.next_due_on > due
    assert pledge.donations.count() == 2


def test_a_charge_missed_for_months_creates_one_link_not_a_pile(pledge, campaign):
    later = pledge.next_due_on + timedelta(days=70)
    # The campaign still runs then (its end date is 90 days from today: from December, before the due day + 70).
    type(campaign).objects.filter(pk=campaign.pk).update(end_on=later + timedelta(days=30))
    assert len(services.recurring_charge_due(today=later)) == 1
    pledge.refresh_from_db()
    assert pledge.next_due_on > later


def test_the_donor_pauses_resumes_and_cancels_without_support(pledge, people):
    donor = people["donor"]
    due = pledge.next_due_on
    services.recurring_pause(actor=donor, pledge=pledge)
    assert services.recurring_charge_due(today=due) == []
    resumed_on = due + timedelta(days=40)
    pledge = services.recurring_resume(actor=donor, pledge=pledge, today=resumed_on)
    assert pledge.state == "active"
    assert pledge.next_due_on > resumed_on  # paused months are not charged afterwards
    services.recurring_cancel(actor=donor, pledge=pledge)
    assert services.recurring_charge_due(today=pledge.next_due_on + timedelta(days=60)) == []
    with pytest.raises(PledgeStateError):
        services.recurring_resume(actor=donor, pledge=pledge)
    actions = [e.action for e in AuditEvent.objects.order_by("id")]
    assert actions[-3:] == ["funding.pledge_pause", "funding.pledge_resume", "funding.pledge_cancel"]


def test_nobody_else_manages_a_donors_pledge(pledge, people):
    for other in (people["operator"], people["finance"], UserFactory(role="worker")):
        with pytest.raises(Forbidden):
            services.recurring_pause(actor=other, pledge=pledge)
    pledge.refresh_from_db()
    assert pledge.state == "active"


def test_a_pledge_to_a_closed_campaign_is_not_charged(pledge, people, campaign):
    services.campaign_close(actor=people["operator"], campaign=campaign)
    assert services.recurring_charge_due(today=pledge.next_due_on) == []


# --- Receipts and statements ---------------------------------------------------------------------------------------


def test_a_rolled_back_settlement_takes_no_receipt_number(campaign, donate):
    donate()
    intent = start(campaign)
    with pytest.raises(RuntimeError), transaction.atomic():
        receipt_issue(intent.donation)
        raise RuntimeError("the settlement failed after the receipt")
    assert ReceiptCounter.objects.get().last_number == 1
    donate()
    assert sorted(receipt_sequence(n) for n in Receipt.objects.values_list("number", flat=True)) == [1, 2]


def _pdf_text(data: bytes) -> str:
    text = data.decode("latin-1")
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            text += zlib.decompress(stream).decode("latin-1")
        except zlib.error:
            continue
    return text


def test_the_receipt_pdf_in_indonesian_and_english(donate):
    intent = donate(50_400, donor_name="Siti Aminah", is_anonymous=True)
    donation = intent.donation
    indonesian = pdf.receipt_pdf(donation, "id")
    english = pdf.receipt_pdf(donation, "en")
    assert indonesian.startswith(b"%PDF-")
    assert english.startswith(b"%PDF-")
    id_text, en_text = _pdf_text(indonesian), _pdf_text(english)
    assert donation.receipt.number in id_text
    assert "Rp 50.400" in id_text
    assert "Rp 50,400" in en_text
    assert "Siti Aminah" in id_text  # the donor's own receipt names them, even when anonymous in public
    ticket = standard_ticket(timezone.localdate(donation.receipt.issued_at))
    assert f"{50_400 // ticket} worker-months" in en_text  # what it buys


def test_a_receipt_staff_open_shows_the_donor_masked(donate):
    donation = donate(50_400, donor_name="Siti Aminah", donor_email="siti@contoh.id").donation
    text = _pdf_text(pdf.receipt_pdf(donation, "id", masked=True))
    assert "Siti Aminah" not in text
    assert "siti@contoh.id" not in text
    assert "S*** A*****" in text
    assert "s***@contoh.id" in text


def _all_text_columns(table: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        return " ".join(str(value) for row in cursor.fetchall() for value in row)


def test_donors_personal_data_is_sealed_at_rest(people, donate, campaign):
    donate(50_400, donor=people["donor"], donor_name="Siti Aminah", donor_email="Siti.Aminah@contoh.id", recurring=True)
    for table in (
        "funding_donation",
        "funding_recurringdonation",
        "funding_sandboxpayment",
        "funding_paymentintent",
        "funding_gatewayevent",
        "core_auditevent",
    ):
        stored = _all_text_columns(table).lower()
        assert "siti aminah" not in stored, table
        assert "siti.aminah@contoh.id" not in stored, table
    donation = Donation.objects.get()
    pledge = RecurringDonation.objects.get()
    assert (donation.donor_name, donation.donor_email) == ("Siti Aminah", "Siti.Aminah@contoh.id")
    assert (pledge.donor_name, pledge.donor_email) == ("Siti Aminah", "Siti.Aminah@contoh.id")
    # Bound to its column: a name moved into the e-mail column does not open.
    from lingkaran.core import crypto

    Donation.objects.filter(pk=donation.pk).update(donor_email_encrypted=donation.donor_name_encrypted)
    with pytest.raises(crypto.DecryptionError):
        _ = Donation.objects.get(pk=donation.pk).donor_email


def test_a_donor_e_mail_must_be_an_address(campaign):
    with pytest.raises(InvalidInput) as caught:
        start(campaign, donor_email="bukan-alamat")
    assert "donor_email" in caught.value.details["fields"]
    assert Donation.objects.count() == 0


def test_a_yearly_statement_per_donor(people, donate, campaign):
    donor = people["donor"]
    donate(50_400, donor=donor)
    donate(100_800, donor=donor)
    donate(20_000)  # someone else's
    year = TODAY.year
    statement = selectors.donor_statement(donor=donor, year=year)
    assert statement["total"] == 151_200
    assert [line["amount"] for line in statement["lines"]] == [50_400, 100_800]
    assert all(line["for"] == campaign.title for line in statement["lines"])
    data = pdf.statement_pdf(statement, "id")
    assert "Rp 151.200" in _pdf_text(data)
    assert selectors.donor_statement(donor=donor, year=year - 1)["lines"] == []


def test_a_receipt_is_the_donors_or_for_staff_only(people, donate):
    donor = people["donor"]
    number = donate(donor=donor).donation.receipt.number
    assert selectors.receipt_of(donor, number).number == number
    assert selectors.receipt_of(people["auditor"], number).number == number
    from lingkaran.core.errors import NotFound

    with pytest.raises(NotFound):
        selectors.receipt_of(UserFactory(role="worker"), number)


# --- Transparency ----------------------------------------------------------------------------------------------------


def test_transparency_from_the_ledger_and_donors_as_they_chose(people, campaign, donate):
    donate(50_400, donor_name="Budi Santoso")
    donate(100_800, donor_name="Rahasia", is_anonymous=True)
    refunded = donate(20_000, donor_name="Citra")
    refund = services.refund_request(actor=people["finance"], intent=refunded, amount=20_000, reason="dobel")
    services.refund_execute(actor=people["finance"], refund=refund)
    pool = f"liability:pool:campaign:{campaign.pk}"
    held = f"liability:reserved:campaign:{campaign.pk}"
    ledger_services.account_open(ledger_services.AccountSpec(held, "Reserved", "liability", is_trust=True))
    ledger_services.account_open(
        ledger_services.AccountSpec("liability:payable:agency", "Agency", "liability", is_trust=True)
    )
    ledger_services.reservation_create(key="b1", pool=pool, held_in=held, amount=50_400, effective_on=TODAY)
    ledger_services.reservation_create(key="b2", pool=pool, held_in=held, amount=25_200, effective_on=TODAY)
    ledger_services.reservation_post(key="b2", to_account="liability:payable:agency", effective_on=TODAY)

    figures = selectors.campaign_transparency(campaign)
    assert (figures.received, figures.refunded) == (171_200, 20_000)
    assert (figures.reserved, figures.paid_to_agency, figures.available) == (50_400, 25_200, 75_600)
    assert figures.consistent
    assert figures.donations == 3
    names = [d["name"] for d in figures.donors]
    assert "Budi Santoso" in names
    assert "Rahasia" not in names
    assert str(Donation(is_anonymous=True).public_name) in names
    assert "Citra" not in names  # refunded in full: no longer a donor of this campaign
    progress = selectors.campaign_progress(campaign)
    assert progress.received == 151_200
    assert progress.percent == 151_200 * 100 // campaign.goal_amount


def test_a_draft_campaign_has_no_public_figures(people):
    from lingkaran.core.errors import NotFound
    from tests.funding.conftest import make_campaign

    with pytest.raises(NotFound):
        selectors.campaign_transparency(make_campaign(people["operator"], approve=False))
