"""Refunds: by a finance officer with a reason; a second, different approver above the threshold; the ledger entry
first (a reversal for a whole untouched payment, a transfer back otherwise), then the gateway; and never money that
is already committed to workers — the refusal says how much can be refunded."""

from __future__ import annotations

import pytest
from django.utils import timezone

from lingkaran.core.errors import Forbidden, InvalidInput
from lingkaran.core.models import AuditEvent
from lingkaran.funding import services
from lingkaran.funding.errors import RefundApprovalError, RefundExceedsAvailable, RefundNotPossible, RefundStateError
from lingkaran.funding.models import GatewayEvent, PaymentIntent, Refund
from lingkaran.ledger import selectors as ledger
from lingkaran.ledger import services as ledger_services
from lingkaran.ledger.models import JournalEntry
from tests.funding.conftest import sandbox_payment, start

TODAY = timezone.localdate()


def pool(campaign) -> str:
    return f"liability:pool:campaign:{campaign.pk}"


def reserve(campaign, amount, key="block:1"):
    ledger_services.account_open(
        ledger_services.AccountSpec(
            f"liability:reserved:campaign:{campaign.pk}", "Reserved", "liability", is_trust=True
        )
    )
    return ledger_services.reservation_create(
        key=key,
        pool=pool(campaign),
        held_in=f"liability:reserved:campaign:{campaign.pk}",
        amount=amount,
        effective_on=TODAY,
    )


def snapshot():
    return (
        JournalEntry.objects.count(),
        ledger.balances(),
        sorted(PaymentIntent.objects.values_list("order_id", "state", "refunded_amount")),
    )


def test_a_partial_refund_is_its_own_transfer_back(people, campaign, pay, django_capture_on_commit_callbacks):
    intent = pay(start(campaign, 50_400), channel="qris")
    finance = people["finance"]
    refund = services.refund_request(actor=finance, intent=intent, amount=8_400, reason="Donatur salah ketik nominal")
    assert refund.state == "approved"  # at or below the threshold the requester's approval is enough
    assert refund.approved_by == finance
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_execute(actor=finance, refund=refund)
    refund.refresh_from_db()
    assert refund.state == "executed"
    entry = JournalEntry.objects.get(pk=refund.ledger_entry_id)
    assert entry.idempotency_key == f"refund:{refund.pk}"
    assert entry.reverses is None
    assert entry.total == 8_400
    intent.refresh_from_db()
    assert (intent.state, intent.refunded_amount) == ("partially_refunded", 8_400)
    assert intent.donation.state == "partially_refunded"
    assert ledger.balance_of(pool(campaign)) == 42_000
    assert ledger.balance_of("asset:clearing:sandbox") == 42_000
    # Then the gateway: the sandbox returned the money and its notification changed nothing here.
    assert refund.gateway_state == "done"
    assert sandbox_payment(intent).refunded_amount == 8_400
    (at_gateway,) = sandbox_payment(intent).refund_keys
    assert (at_gateway["key"], at_gateway["amount"]) == (f"refund-{refund.pk}", 8_400)
    assert refund.gateway_reference == str(at_gateway["id"])  # the gateway's own id of the refund
    assert GatewayEvent.objects.get(gateway_status="partial_refund").outcome == "no_change"
    assert ledger.verify().clean
    assert AuditEvent.objects.filter(action="funding.refund_execute").count() == 1


def test_a_full_refund_reverses_the_donations_entry(people, campaign, pay, django_capture_on_commit_callbacks):
    intent = pay(start(campaign, 50_400), channel="gopay")
    refund = services.refund_request(actor=people["finance"], intent=intent, amount=50_400, reason="Dobel bayar")
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_execute(actor=people["finance"], refund=refund)
    refund.refresh_from_db()
    entry = JournalEntry.objects.get(pk=refund.ledger_entry_id)
    assert entry.reverses_id == intent.settlement_entry_id
    intent.refresh_from_db()
    assert (intent.state, intent.refunded_amount) == ("refunded", 50_400)
    assert ledger.balance_of(pool(campaign)) == 0
    assert sandbox_payment(intent).status == "refund"
    assert ledger.verify().clean


def test_a_virtual_account_payment_is_refunded_by_finance(people, campaign, donate, django_capture_on_commit_callbacks):
    intent = donate(50_400)  # paid into a BCA virtual account, which the gateway cannot refund
    refund = services.refund_request(actor=people["finance"], intent=intent, amount=8_400, reason="Salah ketik")
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_execute(actor=people["finance"], refund=refund)
    refund.refresh_from_db()
    assert (refund.state, refund.gateway_state, refund.gateway_reference) == ("executed", "manual", "")
    assert "not supported" in refund.gateway_error
    assert sandbox_payment(intent).refunded_amount == 0
    assert ledger.balance_of(pool(campaign)) == 42_000  # posted: the money leaves the pool, by finance's transfer
    assert ledger.verify().clean


def test_two_partial_refunds_then_nothing_is_left(people, campaign, donate):
    intent = donate(50_400)
    finance = people["finance"]
    for amount in (20_000, 30_400):
        refund = services.refund_request(actor=finance, intent=intent, amount=amount, reason="Permintaan donatur")
        services.refund_execute(actor=finance, refund=refund)
    intent.refresh_from_db()
    assert (intent.state, intent.refunded_amount) == ("refunded", 50_400)
    with pytest.raises(RefundNotPossible) as excinfo:
        services.refund_request(actor=finance, intent=intent, amount=1, reason="lagi")
    assert excinfo.value.details["refundable"] == 0


def test_above_the_threshold_a_second_different_person_must_approve(people, campaign, donate, settings):
    settings.LINGKARAN_REFUND_APPROVAL_THRESHOLD = 1_000_000
    intent = donate(1_500_000)
    finance, finance2 = people["finance"], people["finance2"]
    refund = services.refund_request(actor=finance, intent=intent, amount=1_200_000, reason="Salah kampanye")
    assert (refund.state, refund.approved_by) == ("requested", None)
    with pytest.raises(RefundStateError):
        services.refund_execute(actor=finance, refund=refund)
    with pytest.raises(RefundApprovalError) as excinfo:
        services.refund_approve(actor=finance, refund=refund)
    assert excinfo.value.details == {"reason": "same_person"}
    with pytest.raises(Forbidden):
        services.refund_approve(actor=people["auditor"], refund=refund)
    before = snapshot()
    assert snapshot() == before
    refund = services.refund_approve(actor=finance2, refund=refund)
    assert (refund.state, refund.approved_by) == ("approved", finance2)
    services.refund_execute(actor=finance, refund=refund)
    intent.refresh_from_db()
    assert intent.refunded_amount == 1_200_000


def test_an_operator_may_give_the_second_approval(people, campaign, donate, settings):
    settings.LINGKARAN_REFUND_APPROVAL_THRESHOLD = 10_000
    intent = donate(50_400)
    refund = services.refund_request(actor=people["finance"], intent=intent, amount=20_000, reason="alasan")
    assert services.refund_approve(actor=people["operator"], refund=refund).state == "approved"


def test_committed_money_cannot_be_refunded_and_the_error_says_how_much_can(people, campaign, donate):
    intent = donate(50_400)
    reserve(campaign, 30_000)  # a block of worker-months took most of the pool
    before = snapshot()
    with pytest.raises(RefundExceedsAvailable) as excinfo:
        services.refund_request(actor=people["finance"], intent=intent, amount=50_400, reason="Donatur minta kembali")
    error = excinfo.value
    assert error.code == "refund_exceeds_available"
    assert error.http_status == 409
    assert error.details == {"requested": 50_400, "refundable": 20_400}
    assert "Rp 20.400" in str(error.message)
    assert snapshot() == before
    assert Refund.objects.count() == 0
    # What it says can be refunded, can.
    refund = services.refund_request(actor=people["finance"], intent=intent, amount=20_400, reason="Sebagian")
    services.refund_execute(actor=people["finance"], refund=refund)
    assert ledger.balance_of(pool(campaign)) == 0


def test_money_committed_between_approval_and_execution_is_refused_by_the_ledger(people, campaign, donate):
    intent = donate(50_400)
    refund = services.refund_request(actor=people["finance"], intent=intent, amount=50_400, reason="Kembalikan")
    reserve(campaign, 50_000)  # the monthly cycle reserved it meanwhile
    before = snapshot()
    with pytest.raises(RefundExceedsAvailable) as excinfo:
        services.refund_execute(actor=people["finance"], refund=refund)
    assert excinfo.value.details == {"requested": 50_400, "refundable": 400}
    assert "Rp 400" in str(excinfo.value.message)
    assert snapshot() == before
    refund.refresh_from_db()
    assert refund.state == "approved"
    assert ledger.verify().clean


def test_the_english_message_formats_rupiah_the_english_way(people, campaign, donate):
    from django.utils import translation

    intent = donate(50_400)
    reserve(campaign, 50_000)
    with translation.override("en"), pytest.raises(RefundExceedsAvailable) as excinfo:
        services.refund_request(actor=people["finance"], intent=intent, amount=1_000, reason="x")
    assert "Rp 400" in str(excinfo.value.message)
    assert "committed" in str(excinfo.value.message)


def test_refunds_are_for_finance_officers_with_a_reason_and_whole_rupiah(people, campaign, donate):
    intent = donate(50_400)
    with pytest.raises(Forbidden):
        services.refund_request(actor=people["operator"], intent=intent, amount=1_000, reason="x")
    with pytest.raises(InvalidInput):
        services.refund_request(actor=people["finance"], intent=intent, amount=1_000, reason="  ")
    for bad in (0, -5, 1000.0, "1000", True):
        with pytest.raises(InvalidInput):
            services.refund_request(actor=people["finance"], intent=intent, amount=bad, reason="x")
    with pytest.raises(RefundNotPossible) as excinfo:
        services.refund_request(actor=people["finance"], intent=intent, amount=50_401, reason="x")
    assert excinfo.value.details["refundable"] == 50_400
    assert Refund.objects.count() == 0


def test_open_requests_count_against_what_can_be_refunded(people, campaign, donate):
    intent = donate(50_400)
    services.refund_request(actor=people["finance"], intent=intent, amount=40_000, reason="satu")
    with pytest.raises(RefundNotPossible) as excinfo:
        services.refund_request(actor=people["finance"], intent=intent, amount=20_000, reason="dua")
    assert excinfo.value.details["refundable"] == 10_400


def test_an_unpaid_donation_cannot_be_refunded(people, campaign):
    from tests.funding.conftest import start

    intent = start(campaign)
    with pytest.raises(RefundNotPossible):
        services.refund_request(actor=people["finance"], intent=intent, amount=1_000, reason="x")


def test_executing_twice_posts_once(people, campaign, donate):
    intent = donate(50_400)
    refund = services.refund_request(actor=people["finance"], intent=intent, amount=10_000, reason="x")
    services.refund_execute(actor=people["finance"], refund=refund)
    count = JournalEntry.objects.count()
    services.refund_execute(actor=people["finance"], refund=refund)
    assert JournalEntry.objects.count() == count
    intent.refresh_from_db()
    assert intent.refunded_amount == 10_000


def test_a_rejected_refund_moves_no_money(people, campaign, donate, settings):
    settings.LINGKARAN_REFUND_APPROVAL_THRESHOLD = 10_000
    intent = donate(50_400)
    refund = services.refund_request(actor=people["finance"], intent=intent, amount=20_000, reason="x")
    services.refund_reject(actor=people["finance2"], refund=refund, reason="Sudah dialokasikan")
    with pytest.raises(RefundStateError):
        services.refund_execute(actor=people["finance"], refund=refund)
    intent.refresh_from_db()
    assert intent.refunded_amount == 0
