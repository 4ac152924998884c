"""A Hypothesis state machine drives donations through the sandbox gateway — payments, expiries, cancellations,
duplicate and out-of-order deliveries, refunds, and reservations posted or voided from the campaign pools — and
checks after every step: ``ledger verify`` is clean, no trust account is negative, every campaign's figures add up,
the gateway's clearing account holds exactly what was paid and not refunded, and replaying any event changes
nothing.

Each example commits (deliveries go out after the payer's action commits) and opens its own campaigns, so examples
stay independent of one another.
"""

from __future__ import annotations

import contextlib
import itertools

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from lingkaran.funding import selectors, services
from lingkaran.funding.errors import RefundExceedsAvailable, RefundNotPossible
from lingkaran.funding.models import GatewayEvent, PaymentIntent, SandboxDelivery
from lingkaran.ledger import selectors as ledger
from lingkaran.ledger import services as ledger_services
from lingkaran.ledger.errors import InsufficientFunds, ReservationStateError
from lingkaran.ledger.models import JournalEntry
from tests.factories import UserFactory
from tests.funding.conftest import hosted_page_path, make_campaign, start

TODAY = timezone.localdate()
AGENCY = "liability:payable:agency:machine"
_runs = itertools.count()
CHANNELS = st.sampled_from(["bca", "bni", "bri", "mandiri", "qris", "gopay", "ovo", "dana"])


def money_state():
    return (
        JournalEntry.objects.count(),
        ledger.balances(),
        sorted(
            PaymentIntent.objects.values_list("order_id", "state", "settled_amount", "refunded_amount", "in_review")
        ),
    )


class DonationMachine(RuleBasedStateMachine):
    intents = Bundle("intents")
    blocks = Bundle("blocks")

    @initialize()
    def open_campaigns(self):
        self.run = next(_runs)
        self.client = Client()
        operator = UserFactory(role="operator")
        self.finance = UserFactory(role="finance")
        self.campaigns = [make_campaign(operator, title=f"Kampanye {self.run}-{i}") for i in range(2)]
        self.held = {}
        for campaign in self.campaigns:
            code = f"liability:reserved:campaign:{campaign.pk}"
            ledger_services.account_open(ledger_services.AccountSpec(code, "Reserved", "liability", is_trust=True))
            self.held[campaign.pk] = code
        ledger_services.account_open(ledger_services.AccountSpec(AGENCY, "Agency", "liability", is_trust=True))
        self.clearing_at_start = ledger.balance_of("asset:clearing:sandbox")
        self.order_ids: list[str] = []
        self.blocks_made = 0

    # --- Donors and payers ------------------------------------------------------------------------------------

    @rule(target=intents, which=st.integers(0, 1), amount=st.integers(10_000, 300_000))
    def donation_started(self, which, amount):
        intent = start(self.campaigns[which], amount=amount)
        self.order_ids.append(intent.order_id)
        return intent.pk

    @rule(target=intents, which=st.integers(0, 1), amount=st.integers(10_000, 300_000), channel=CHANNELS)
    def donation_paid(self, which, amount, channel):
        intent_id = self.donation_started(which, amount)
        self.payer_pays(intent_id, channel)
        assert PaymentIntent.objects.get(pk=intent_id).state == "settled"
        return intent_id

    @rule(intent_id=intents, channel=CHANNELS)
    def payer_pays(self, intent_id, channel):
        intent = PaymentIntent.objects.get(pk=intent_id)
        self.client.post(hosted_page_path(intent), {"channel": channel})
        self.client.post(hosted_page_path(intent), {"action": "pay"})
        intent.refresh_from_db()
        if intent.state in ("created", "pending"):
            # Only a payment that had already expired or been cancelled at the gateway stays unpaid.
            raise AssertionError(f"paid at the sandbox but {intent.state} here")

    @rule(intent_id=intents, channel=CHANNELS)
    def payer_picks_a_channel_only(self, intent_id, channel):
        intent = PaymentIntent.objects.get(pk=intent_id)
        self.client.post(hosted_page_path(intent), {"channel": channel})

    @rule(intent_id=intents, action=st.sampled_from(["expire", "cancel"]))
    def payment_lapses(self, intent_id, action):
        intent = PaymentIntent.objects.get(pk=intent_id)
        self.client.post(hosted_page_path(intent), {"action": action})

    # --- The gateway misbehaving: duplicates and stale deliveries -------------------------------------------------

    @rule(data=st.data())
    def deliver_again(self, data):
        """Any notification the sandbox sent before arrives again — a duplicate, or out of order if a later status
        came meanwhile (a pending after its settlement)."""
        sent = list(SandboxDelivery.objects.filter(payment__order_id__in=self.order_ids).values_list("body", flat=True))
        if not sent:
            return
        body = data.draw(st.sampled_from(sent))
        before = money_state()
        response = self.client.post("/webhooks/sandbox", data=body, content_type="application/json")
        assert response.status_code == 200
        assert money_state() == before

    # --- Finance ---------------------------------------------------------------------------------------------------

    @rule(intent_id=intents, share=st.sampled_from([1, 2, 3, 100]))
    def refund(self, intent_id, share):
        intent = PaymentIntent.objects.get(pk=intent_id)
        left = intent.settled_amount - intent.refunded_amount
        amount = max(1, left * share // 100) if share < 100 else left
        if amount <= 0:
            return
        before = money_state()
        try:
            refund = services.refund_request(actor=self.finance, intent=intent, amount=amount, reason="test")
            services.refund_execute(actor=self.finance, refund=refund)
        except (RefundExceedsAvailable, RefundNotPossible) as exc:
            refused = exc
        else:
            intent.refresh_from_db()
            assert intent.refunded_amount <= intent.settled_amount
            return
        assert money_state() == before  # a refused refund changes nothing
        assert refused.details["refundable"] < amount

    @rule(target=blocks, which=st.integers(0, 1), amount=st.integers(1, 200_000))
    def reserve(self, which, amount):
        campaign = self.campaigns[which]
        self.blocks_made += 1
        key = f"machine:{self.run}:block:{self.blocks_made}"
        with contextlib.suppress(InsufficientFunds):  # a pool cannot reserve more than it holds
            ledger_services.reservation_create(
                key=key,
                pool=f"liability:pool:campaign:{campaign.pk}",
                held_in=self.held[campaign.pk],
                amount=amount,
                effective_on=TODAY,
            )
        return key

    @rule(key=blocks, post=st.booleans())
    def settle_block(self, key, post):
        try:
            if post:
                ledger_services.reservation_post(key=key, to_account=AGENCY, effective_on=TODAY)
            else:
                ledger_services.reservation_void(key=key, effective_on=TODAY)
        except ReservationStateError:
            pass

    @rule(data=st.data())
    def replay_any_event(self, data):
        events = list(GatewayEvent.objects.filter(order_id__in=self.order_ids).values_list("raw_body", flat=True))
        if not events:
            return
        body = data.draw(st.sampled_from(events))
        before = money_state()
        response = self.client.post("/webhooks/sandbox", data=body.encode(), content_type="application/json")
        assert response.status_code == 200
        assert money_state() == before

    # --- After every step -------------------------------------------------------------------------------------------

    @invariant()
    def books_are_sound(self):
        if not hasattr(self, "campaigns"):
            return
        report = ledger.verify()
        assert report.clean, report
        assert report.negative_trust == []
        paid_in = 0
        for campaign in self.campaigns:
            figures = selectors.campaign_transparency(campaign)
            assert figures.consistent, figures
            assert min(figures.received, figures.reserved, figures.paid_to_agency, figures.available) >= 0
            intents = PaymentIntent.objects.filter(donation__campaign=campaign)
            settled = sum(i.settled_amount for i in intents)
            refunded = sum(i.refunded_amount for i in intents)
            assert (figures.received, figures.refunded) == (settled, refunded)
            paid_in += settled - refunded
        assert ledger.balance_of("asset:clearing:sandbox") - self.clearing_at_start == paid_in
        for intent in PaymentIntent.objects.filter(order_id__in=self.order_ids):
            if intent.state in ("settled", "partially_refunded", "refunded"):
                assert intent.settled_amount == intent.amount
                assert hasattr(intent.donation, "receipt")
            else:
                assert intent.settled_amount == 0


@pytest.mark.django_db(transaction=True)
def test_random_donations_through_the_sandbox_keep_the_books_sound():
    run_state_machine_as_test(
        DonationMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
