"""Settling a payment intent: the one place money comes in for a donation.

In one transaction, with the intent row locked by the caller: the ledger entry (clearing or bank → the donation's
trust pool, idempotent by the business-event key), the intent and donation states, and the receipt. Either all of it
is written or none of it.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from lingkaran.funding import accounts
from lingkaran.funding.domain.intents import Decision, PaymentState, decide
from lingkaran.funding.models import Donation, PaymentIntent
from lingkaran.funding.services.receipts import receipt_issue
from lingkaran.ledger import services as ledger


def pool_of_donation(donation: Donation) -> str:
    return accounts.open_pool(target=donation.target, campaign_id=donation.campaign_id, funder_id=donation.funder_id)


def settle(
    intent: PaymentIntent, *, key: str, source_account: str, transaction_id: str, effective_on: date | None = None
) -> PaymentIntent:
    """Post the donation and mark it paid. ``intent`` must be locked (``select_for_update``) by the caller, inside
    its transaction, and its amount already checked against what was received."""
    assert decide(intent.state, PaymentState.SETTLED) == Decision.APPLY, intent.state
    donation = intent.donation
    now = timezone.now()
    pool = pool_of_donation(donation)
    entry = ledger.transfer(
        key=key,
        source=source_account,
        target=pool,
        amount=intent.amount,
        effective_on=effective_on or timezone.localdate(now),
        description=f"Donation {intent.order_id}",
        metadata={"order_id": intent.order_id, "donation": donation.pk, "gateway": intent.gateway},
    )
    intent.state = PaymentState.SETTLED
    intent.settled_amount = intent.amount
    intent.settlement_entry_id = entry.pk
    intent.transaction_id = (transaction_id or intent.transaction_id)[:100]
    intent.settled_at = now
    intent.in_review = False
    intent.updated_at = now
    intent.save(
        update_fields=[
            "state",
            "settled_amount",
            "settlement_entry_id",
            "transaction_id",
            "settled_at",
            "in_review",
            "updated_at",
        ]
    )
    donation.state = PaymentState.SETTLED
    donation.settled_at = now
    donation.save(update_fields=["state", "settled_at"])
    receipt_issue(donation, issued_at=now)
    return intent


def move(intent: PaymentIntent, state: PaymentState) -> PaymentIntent:
    """A move that carries no money (pending, expired, cancelled, failed); ``intent`` locked by the caller."""
    assert decide(intent.state, state) == Decision.APPLY, (intent.state, state)
    intent.state = state
    intent.updated_at = timezone.now()
    intent.save(update_fields=["state", "updated_at"])
    Donation.objects.filter(pk=intent.donation_id).update(state=state)
    return intent


def hold_for_review(intent: PaymentIntent, reason: str) -> PaymentIntent:
    """Put the intent in the review queue; nothing is posted. ``intent`` locked by the caller."""
    intent.in_review = True
    intent.review_reason = reason[:300]
    intent.updated_at = timezone.now()
    intent.save(update_fields=["in_review", "review_reason", "updated_at"])
    return intent
