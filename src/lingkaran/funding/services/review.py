"""Resolving payments held for review: what a finance officer decides when the automatic path must not.

The choices per payment are pure rules (``domain/review.py``). Each resolution is one transaction under a lock on
the intent, writes a ``ReviewResolution`` and an audit row, and takes the intent out of the queue; a second click on
the same decision finds it resolved and changes nothing (the ledger keys make a repeat post impossible as well).

- ``intent_review_accept``: the gateway collected money for an intent that posted nothing (a different amount, or a
  payment after expiry). The amount is first confirmed with the gateway's status API and must equal the amount the
  officer confirmed on the page. Then, in one transaction: the ledger entry ``clearing → the donation's pool`` under
  the same key as an automatic settlement (``donation:{gateway}:{transaction id}:settled``), the intent settled with
  that amount (the trigger allows the new amount only here, see migration 0004), the donation's amount and state,
  and its receipt.
- ``intent_review_return``: the same confirmation, then nothing is posted; the intent records the returned amount,
  an open intent is cancelled, and the gateway is asked to refund the payer (``funding.review_return_at_gateway``,
  retried, idempotent by its key). A gateway that cannot refund leaves the transfer to finance.
- ``intent_review_record_refund``: a refund made in the gateway's dashboard, not here. It is posted back out of the
  pool like a refund made here (an executed ``Refund``, nothing sent to the gateway), so the pool no longer counts
  money that has left. Money already committed to workers cannot be recorded: the refusal says how much can.
- ``intent_review_resolve_close``: closed with a note (``intent_review_close``); nothing moves.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lingkaran.core.access import require
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.formatting import format_rupiah
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import Conflict
from lingkaran.funding import accounts, gateways
from lingkaran.funding.domain.intents import OPEN, PaymentState
from lingkaran.funding.domain.notifications import whole_rupiah
from lingkaran.funding.domain.review import ReviewAction, actions_for, can_settle_in_review, recordable_refund
from lingkaran.funding.errors import GatewayRefused, GatewayUnavailable
from lingkaran.funding.models import Donation, PaymentIntent, Refund, ReviewResolution
from lingkaran.funding.services._common import field_error, logger
from lingkaran.funding.services.receipts import receipt_issue
from lingkaran.funding.services.refunds import gateway_state_of, post_refund
from lingkaran.funding.services.settlement import pool_of_donation
from lingkaran.ledger import services as ledger


def _rupiah(amount: int) -> str:
    from django.utils.translation import get_language

    return format_rupiah(amount, (get_language() or "id")[:2])


def _check_input(actor, *, note: str, amount=None, money: bool) -> str:
    require(actor, Capability.MANAGE_MONEY)
    note = (note or "").strip()
    if not note:
        raise field_error("note", _("Say how the payment was dealt with."))
    if money and (isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0):
        raise field_error("amount", _("Enter a whole number of rupiah above zero."))
    return note[:300]


def _resolved_already(intent: PaymentIntent, action: ReviewAction, amount: int) -> ReviewResolution:
    """The intent is not in review (any more). The same decision clicked twice returns the first; anything else is
    refused."""
    latest = intent.review_resolutions.order_by("-decided_at", "-pk").first()
    if latest is not None and latest.action == action and latest.amount == amount:
        return latest
    raise Conflict(_("This payment is no longer in the review queue."), code="review_not_open")


def _allowed(intent: PaymentIntent, action: ReviewAction) -> None:
    if action not in actions_for(intent.state):
        raise Conflict(
            _("This cannot be done with a payment that is %(state)s.") % {"state": intent.get_state_display()},
            code="review_action_not_allowed",
            details={"state": intent.state, "action": str(action)},
        )


def _collected(intent: PaymentIntent, amount: int) -> gateways.GatewayStatus:
    """Ask the gateway what it collected (a network call: outside every transaction). It must show the payment as
    paid, for exactly the amount the officer confirmed."""
    try:
        confirmed = gateways.get(intent.gateway).get_status(intent.order_id, intent.gateway_reference)
    except gateways.GatewayRetryable:
        raise GatewayUnavailable(details={"order_id": intent.order_id}) from None
    except gateways.GatewayTerminal:
        raise GatewayRefused(details={"order_id": intent.order_id}) from None
    if confirmed.state != PaymentState.SETTLED:
        raise Conflict(
            _("The gateway reports this payment as “%(status)s”, not as paid: nothing can be accepted or returned.")
            % {"status": confirmed.gateway_status},
            code="review_gateway_not_paid",
            details={"gateway_status": confirmed.gateway_status},
        )
    reported = whole_rupiah(confirmed.gross_amount)
    if reported != amount:
        raise Conflict(
            _("The gateway reports %(reported)s collected, not %(amount)s. Check the amount and confirm again.")
            % {"reported": _rupiah(reported or 0), "amount": _rupiah(amount)},
            code="review_amount_differs",
            details={"reported": reported, "confirmed": amount},
        )
    return confirmed


def _locked(intent: PaymentIntent) -> PaymentIntent:
    return PaymentIntent.objects.select_for_update(of=("self",)).select_related("donation").get(pk=intent.pk)


def _record(intent: PaymentIntent, *, actor, action: ReviewAction, note: str, amount: int, **fields):
    return ReviewResolution.objects.create(
        intent=intent,
        action=action,
        review_reason=intent.review_reason,
        note=note,
        expected_amount=intent.amount,
        amount=amount,
        decided_by=actor,
        **fields,
    )


def intent_review_accept(*, actor, intent: PaymentIntent, amount: int, note: str) -> ReviewResolution:
    """Accept what the gateway collected as the donation and post it (see the module docstring)."""
    note = _check_input(actor, note=note, amount=amount, money=True)
    intent = PaymentIntent.objects.get(pk=intent.pk)
    if not intent.in_review:
        return _resolved_already(intent, ReviewAction.ACCEPT, amount)
    _allowed(intent, ReviewAction.ACCEPT)
    confirmed = _collected(intent, amount)
    with transaction.atomic():
        intent = _locked(intent)
        if not intent.in_review:
            return _resolved_already(intent, ReviewAction.ACCEPT, amount)
        _allowed(intent, ReviewAction.ACCEPT)
        assert can_settle_in_review(intent.state), intent.state
        donation = intent.donation
        expected = intent.amount
        transaction_id = (confirmed.transaction_id or intent.transaction_id or intent.order_id)[:100]
        now = timezone.now()
        entry = ledger.transfer(
            key=f"donation:{intent.gateway}:{transaction_id}:settled",
            source=accounts.open_clearing(intent.gateway),
            target=pool_of_donation(donation),
            amount=amount,
            effective_on=timezone.localdate(now),
            description=f"Donation {intent.order_id} (accepted in review)",
            metadata={"order_id": intent.order_id, "donation": donation.pk, "gateway": intent.gateway},
        )
        resolution = _record(
            intent, actor=actor, action=ReviewAction.ACCEPT, note=note, amount=amount, ledger_entry_id=entry.pk
        )
        # One update: the trigger allows a new amount only together with the settlement of an intent in review.
        intent.amount = amount
        intent.settled_amount = amount
        intent.state = PaymentState.SETTLED
        intent.settlement_entry_id = entry.pk
        intent.transaction_id = transaction_id
        intent.settled_at = now
        intent.in_review = False
        intent.updated_at = now
        intent.save(
            update_fields=[
                "amount",
                "settled_amount",
                "state",
                "settlement_entry_id",
                "transaction_id",
                "settled_at",
                "in_review",
                "updated_at",
            ]
        )
        donation.amount = amount
        donation.state = PaymentState.SETTLED
        donation.settled_at = now
        donation.save(update_fields=["amount", "state", "settled_at"])
        receipt_issue(donation, issued_at=now)
        audit_record(
            actor=actor,
            action="funding.review_accept",
            target=intent,
            details={
                "reason": resolution.review_reason,
                "note": note,
                "expected": expected,
                "accepted": amount,
                "entry": entry.pk,
            },
        )
    return resolution


def intent_review_return(*, actor, intent: PaymentIntent, amount: int, note: str) -> ReviewResolution:
    """Return what the gateway collected to the payer; nothing is posted (see the module docstring)."""
    note = _check_input(actor, note=note, amount=amount, money=True)
    intent = PaymentIntent.objects.get(pk=intent.pk)
    if not intent.in_review:
        return _resolved_already(intent, ReviewAction.RETURN, amount)
    _allowed(intent, ReviewAction.RETURN)
    _collected(intent, amount)
    with transaction.atomic():
        intent = _locked(intent)
        if not intent.in_review:
            return _resolved_already(intent, ReviewAction.RETURN, amount)
        _allowed(intent, ReviewAction.RETURN)
        resolution = _record(
            intent,
            actor=actor,
            action=ReviewAction.RETURN,
            note=note,
            amount=amount,
            gateway_state=Refund.GatewayState.PENDING,
        )
        fields = ["returned_amount", "in_review", "updated_at"]
        intent.returned_amount += amount
        intent.in_review = False
        intent.updated_at = timezone.now()
        if intent.state in OPEN:
            intent.state = PaymentState.CANCELLED  # the donation did not happen; its money goes back
            fields.append("state")
            Donation.objects.filter(pk=intent.donation_id).update(state=PaymentState.CANCELLED)
        intent.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="funding.review_return",
            target=intent,
            details={"reason": resolution.review_reason, "note": note, "expected": intent.amount, "returned": amount},
        )
        from lingkaran.funding import tasks

        transaction.on_commit(partial(tasks.enqueue, tasks.review_return_at_gateway, resolution.pk))
    return resolution


def review_return_send(resolution_id: int) -> str:
    """Ask the gateway to give a returned payment back (task). Idempotent by the resolution's key; retried on
    temporary errors (``GatewayRetryable`` propagates to the task)."""
    resolution = ReviewResolution.objects.select_related("intent").get(pk=resolution_id)
    if resolution.action != ReviewAction.RETURN or resolution.gateway_state != Refund.GatewayState.PENDING:
        return resolution.gateway_state
    intent = resolution.intent
    try:
        result = gateways.get(intent.gateway).refund(
            order_id=intent.order_id,
            reference=intent.gateway_reference,
            amount=resolution.amount,
            key=f"review:{resolution.pk}:return",
            reason=resolution.note,
        )
    except gateways.GatewayTerminal as exc:
        logger.warning("return %s refused by the gateway: %s; finance must transfer it", resolution.pk, exc)
        ReviewResolution.objects.filter(pk=resolution.pk).update(
            gateway_state=Refund.GatewayState.FAILED, gateway_error=str(exc)[:300]
        )
        return Refund.GatewayState.FAILED
    state = gateway_state_of(result)
    ReviewResolution.objects.filter(pk=resolution.pk).update(
        gateway_state=state, gateway_reference=result.reference[:100], gateway_error=result.detail[:300]
    )
    return state


def intent_review_record_refund(*, actor, intent: PaymentIntent, amount: int, note: str) -> ReviewResolution:
    """Record a refund the gateway made outside the platform (see the module docstring)."""
    note = _check_input(actor, note=note, amount=amount, money=True)
    with transaction.atomic():
        intent = _locked(intent)
        if not intent.in_review:
            return _resolved_already(intent, ReviewAction.RECORD_REFUND, amount)
        _allowed(intent, ReviewAction.RECORD_REFUND)
        most = recordable_refund(settled=intent.settled_amount, refunded=intent.refunded_amount)
        if amount > most:
            raise field_error(
                "amount", _("At most %(can)s of this payment is left to refund.") % {"can": _rupiah(most)}
            )
        now = timezone.now()
        refund = Refund.objects.create(
            intent=intent,
            amount=amount,
            reason=note,
            state=Refund.State.APPROVED,
            requested_by=actor,
            requested_at=now,
            approved_by=actor,
            approved_at=now,
        )
        entry = post_refund(intent, refund, actor=actor, gateway_state=Refund.GatewayState.DONE)
        resolution = _record(
            intent,
            actor=actor,
            action=ReviewAction.RECORD_REFUND,
            note=note,
            amount=amount,
            ledger_entry_id=entry.pk,
            refund=refund,
            gateway_state=Refund.GatewayState.DONE,
        )
        PaymentIntent.objects.filter(pk=intent.pk).update(in_review=False, updated_at=timezone.now())
        audit_record(
            actor=actor,
            action="funding.review_record_refund",
            target=intent,
            details={"reason": resolution.review_reason, "note": note, "amount": amount, "entry": entry.pk},
        )
    return resolution


def intent_review_resolve_close(*, actor, intent: PaymentIntent, note: str) -> ReviewResolution:
    """Close with a note (``intent_review_close``, which audits it); nothing is posted."""
    from lingkaran.funding.services.intake import intent_review_close

    note = _check_input(actor, note=note, money=False)
    with transaction.atomic():
        intent = _locked(intent)
        if not intent.in_review:
            return _resolved_already(intent, ReviewAction.CLOSE, 0)
        resolution = _record(intent, actor=actor, action=ReviewAction.CLOSE, note=note, amount=0)
        intent_review_close(actor=actor, intent=intent, note=note)
    return resolution
