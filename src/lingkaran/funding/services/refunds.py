"""Refunds: money back to a donor, in full or in part.

1. ``refund_request``: a finance officer, with a reason. At or below ``LINGKARAN_REFUND_APPROVAL_THRESHOLD`` the
   request is approved by the requester's own authority; above it, it waits for ``refund_approve`` by a second,
   different person (another finance officer or an operator).
2. ``refund_execute``: the ledger entry first — a full refund of an untouched payment reverses the donation's entry
   (``entry_reverse``), anything else is its own transfer back — keyed ``refund:{id}``, together with the intent's
   new state (partially refunded or refunded), in one transaction. The pool's balance is checked under the ledger's
   locks: money already reserved for workers or paid to the agency is committed and cannot go back; the error says
   how much can.
3. Then the gateway (``funding.refund_at_gateway``, retried on temporary errors, idempotent by the refund key
   ``refund:{id}``, which Midtrans receives as its ``refund_key`` and Xendit as its ``Idempotency-key``). The
   gateway's own id of the refund is recorded (``gateway_reference``). A refund the gateway cannot make (a bank
   virtual account) is left to finance to transfer (``gateway_state = manual``, with the gateway's words); one it
   accepted but is still carrying out is ``accepted``; one it refused is ``failed``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from lingkaran.core.access import require, require_role
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.formatting import format_rupiah
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.funding import accounts, gateways
from lingkaran.funding.domain.intents import PaymentState, after_refund
from lingkaran.funding.domain.notifications import whole_rupiah
from lingkaran.funding.domain.refunds import is_full_reversal, needs_second_approval, refundable
from lingkaran.funding.errors import RefundApprovalError, RefundExceedsAvailable, RefundNotPossible, RefundStateError
from lingkaran.funding.models import Donation, PaymentIntent, Refund
from lingkaran.funding.services._common import field_error, logger
from lingkaran.funding.services.intake import StatusNotConfirmed
from lingkaran.funding.services.settlement import pool_of_donation
from lingkaran.ledger import selectors as ledger_selectors
from lingkaran.ledger import services as ledger
from lingkaran.ledger.errors import InsufficientFunds

OPEN_STATES = (Refund.State.REQUESTED, Refund.State.APPROVED)
REFUNDABLE_STATES = (PaymentState.SETTLED, PaymentState.PARTIALLY_REFUNDED)


class RefundStillPending(StatusNotConfirmed):
    """The gateway's refund API does not (yet) show the refund finished: ask again later."""


def _language_rupiah(amount: int) -> str:
    from django.utils.translation import get_language

    return format_rupiah(amount, (get_language() or "id")[:2])


def _in_progress(intent: PaymentIntent, exclude: int | None = None) -> int:
    qs = Refund.objects.filter(intent=intent, state__in=OPEN_STATES)
    if exclude:
        qs = qs.exclude(pk=exclude)
    return qs.aggregate(total=Sum("amount"))["total"] or 0


def refundable_now(intent: PaymentIntent, *, exclude_refund: int | None = None) -> int:
    """The most that could be refunded from this payment now (settled, minus refunded and in progress, and no more
    than its pool still holds)."""
    if intent.state not in REFUNDABLE_STATES:
        return 0
    return refundable(
        settled=intent.settled_amount,
        refunded=intent.refunded_amount,
        in_progress=_in_progress(intent, exclude_refund),
        pool_available=ledger_selectors.balance_of(pool_of_donation(intent.donation)),
    )


def _refuse(amount: int, can: int, *, committed: bool) -> Exception:
    details = {"requested": amount, "refundable": can}
    if committed:
        message = _(
            "Only %(can)s of this payment can be refunded: the rest is already committed to workers' coverage."
        ) % {"can": _language_rupiah(can)}
        return RefundExceedsAvailable(message, details=details)
    if can <= 0:
        return RefundNotPossible(_("Nothing of this payment can be refunded."), details=details)
    return RefundNotPossible(_("At most %(can)s can be refunded.") % {"can": _language_rupiah(can)}, details=details)


def _check_amount(
    intent: PaymentIntent, amount: int, *, exclude_refund: int | None = None, check_pool: bool = True
) -> None:
    if intent.state == PaymentState.REFUNDED:
        raise _refuse(amount, 0, committed=False)
    if intent.state not in REFUNDABLE_STATES:
        raise RefundNotPossible(
            _("Only a paid donation can be refunded."), details={"state": intent.state, "refundable": 0}
        )
    left_of_payment = intent.settled_amount - intent.refunded_amount - _in_progress(intent, exclude_refund)
    if amount > left_of_payment:
        raise _refuse(amount, max(0, left_of_payment), committed=False)
    if not check_pool:
        return
    can = refundable_now(intent, exclude_refund=exclude_refund)
    if amount > can:
        raise _refuse(amount, can, committed=True)


def refund_request(*, actor, intent: PaymentIntent, amount: int, reason: str) -> Refund:
    require(actor, Capability.MANAGE_MONEY)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise field_error("amount", _("Enter a whole number of rupiah above zero."))
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Give the reason for the refund."))
    second = needs_second_approval(amount, settings.LINGKARAN_REFUND_APPROVAL_THRESHOLD)
    with transaction.atomic():
        intent = PaymentIntent.objects.select_for_update(of=("self",)).select_related("donation").get(pk=intent.pk)
        _check_amount(intent, amount)
        now = timezone.now()
        refund = Refund.objects.create(
            intent=intent,
            amount=amount,
            reason=reason[:300],
            requested_by=actor,
            requested_at=now,
            state=Refund.State.REQUESTED if second else Refund.State.APPROVED,
            approved_by=None if second else actor,
            approved_at=None if second else now,
        )
        audit_record(
            actor=actor,
            action="funding.refund_request",
            target=refund,
            details={"amount": amount, "order_id": intent.order_id, "second_approval": second},
        )
    return refund


def refund_approve(*, actor, refund: Refund) -> Refund:
    """The second approval: a finance officer or an operator who is not the requester."""
    require_role(actor, RoleName.FINANCE, RoleName.OPERATOR)
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.state == Refund.State.APPROVED:
            return refund
        if refund.state != Refund.State.REQUESTED:
            raise RefundStateError(details={"state": refund.state})
        if refund.requested_by_id == actor.pk:
            raise RefundApprovalError(
                _("A second person must approve this refund: you requested it."), details={"reason": "same_person"}
            )
        refund.state = Refund.State.APPROVED
        refund.approved_by = actor
        refund.approved_at = timezone.now()
        refund.save(update_fields=["state", "approved_by", "approved_at"])
        audit_record(actor=actor, action="funding.refund_approve", target=refund, details={"amount": refund.amount})
    return refund


def refund_reject(*, actor, refund: Refund, reason: str) -> Refund:
    require_role(actor, RoleName.FINANCE, RoleName.OPERATOR)
    if not (reason or "").strip():
        raise field_error("reason", _("Give the reason for the rejection."))
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.state not in OPEN_STATES:
            raise RefundStateError(details={"state": refund.state})
        refund.state = Refund.State.REJECTED
        refund.rejected_by = actor
        refund.rejection_reason = reason.strip()[:300]
        refund.save(update_fields=["state", "rejected_by", "rejection_reason"])
        audit_record(actor=actor, action="funding.refund_reject", target=refund)
    return refund


def refund_execute(*, actor, refund: Refund) -> Refund:
    """Post the refund in the ledger and update the payment, then send it to the gateway (see the module
    docstring). Running it again for an executed refund changes nothing."""
    require(actor, Capability.MANAGE_MONEY)
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.state == Refund.State.EXECUTED:
            return refund
        if refund.state != Refund.State.APPROVED:
            raise RefundStateError(details={"state": refund.state})
        intent = (
            PaymentIntent.objects.select_for_update(of=("self",)).select_related("donation").get(pk=refund.intent_id)
        )
        # The pool is checked by the ledger itself, under its locks, when the entry is posted.
        _check_amount(intent, refund.amount, exclude_refund=refund.pk, check_pool=False)
        entry = post_refund(intent, refund, actor=actor, gateway_state=Refund.GatewayState.PENDING)
        audit_record(
            actor=actor,
            action="funding.refund_execute",
            target=refund,
            details={"amount": refund.amount, "order_id": intent.order_id, "entry": entry.pk},
        )
        from lingkaran.funding import tasks

        transaction.on_commit(partial(tasks.enqueue, tasks.refund_at_gateway, refund.pk))
    return refund


def post_refund(intent: PaymentIntent, refund: Refund, *, actor, gateway_state: str):
    """Post an approved refund and mark it executed, with the intent's new state. ``intent`` and ``refund`` must be
    locked by the caller, inside its transaction, and the amount checked against the payment. A full refund of an
    untouched payment reverses the donation's entry; anything else is its own transfer back to the clearing (or bank)
    account. Returns the ledger entry; raises the refusal with the refundable amount when the pool lacks the money."""
    pool = pool_of_donation(intent.donation)
    clearing = accounts.open_clearing(intent.gateway) if intent.gateway != "bank" else accounts.open_bank()
    today = timezone.localdate()
    key = f"refund:{refund.pk}"
    try:
        with transaction.atomic():
            if is_full_reversal(
                amount=refund.amount, settled=intent.settled_amount, refunded_before=intent.refunded_amount
            ):
                entry = ledger.entry_reverse(
                    entry_id=intent.settlement_entry_id,
                    key=key,
                    effective_on=today,
                    description=f"Refund {refund.pk} of {intent.order_id}",
                )
            else:
                entry = ledger.transfer(
                    key=key,
                    source=pool,
                    target=clearing,
                    amount=refund.amount,
                    effective_on=today,
                    description=f"Refund {refund.pk} of {intent.order_id}",
                    metadata={"order_id": intent.order_id, "refund": refund.pk},
                )
    except InsufficientFunds as exc:
        # The pool's balance moved since the check (a reservation came in): the ledger has the last word.
        available = int(exc.details.get("available", 0))
        can = min(available, intent.settled_amount - intent.refunded_amount - _in_progress(intent, refund.pk))
        raise _refuse(refund.amount, max(0, can), committed=True) from None
    intent.refunded_amount += refund.amount
    intent.state = after_refund(intent.settled_amount, intent.refunded_amount)
    intent.updated_at = timezone.now()
    intent.save(update_fields=["refunded_amount", "state", "updated_at"])
    Donation.objects.filter(pk=intent.donation_id).update(state=intent.state)
    refund.state = Refund.State.EXECUTED
    refund.executed_by = actor
    refund.executed_at = timezone.now()
    refund.ledger_entry_id = entry.pk
    refund.gateway_state = gateway_state
    refund.save(update_fields=["state", "executed_by", "executed_at", "ledger_entry_id", "gateway_state"])
    return entry


def refund_send_to_gateway(refund_id: int) -> str:
    """Ask the gateway to return the money (task). Idempotent by the refund key; retried on temporary errors."""
    refund = Refund.objects.select_related("intent").get(pk=refund_id)
    if refund.state != Refund.State.EXECUTED or refund.gateway_state != Refund.GatewayState.PENDING:
        return refund.gateway_state
    intent = refund.intent
    if intent.gateway == PaymentIntent.Gateway.BANK:
        result = gateways.RefundResult(reference="", manual=True)
    else:
        try:
            result = gateways.get(intent.gateway).refund(
                order_id=intent.order_id,
                reference=intent.gateway_reference,
                amount=refund.amount,
                key=f"refund:{refund.pk}",
                reason=refund.reason,
            )
        except gateways.GatewayTerminal as exc:
            logger.warning("refund %s refused by the gateway: %s; finance must transfer it", refund.pk, exc)
            Refund.objects.filter(pk=refund.pk).update(
                gateway_state=Refund.GatewayState.FAILED, gateway_error=str(exc)[:300]
            )
            return Refund.GatewayState.FAILED
    state = gateway_state_of(result)
    # Only while it is still pending here: a refund notification may have finished it meanwhile.
    Refund.objects.filter(pk=refund.pk, gateway_state=Refund.GatewayState.PENDING).update(
        gateway_state=state, gateway_reference=result.reference[:100], gateway_error=result.detail[:300]
    )
    if result.manual:
        logger.info("refund %s cannot be made by the gateway (%s); finance transfers it", refund.pk, result.detail)
    return state


def gateway_state_of(result: gateways.RefundResult) -> str:
    """What a gateway's answer to a refund means for us: done, accepted and still in progress there, or left to
    finance to transfer by hand."""
    if result.manual:
        return Refund.GatewayState.MANUAL
    if result.pending:
        return Refund.GatewayState.ACCEPTED
    return Refund.GatewayState.DONE


def refund_of_reference(reference: str, gateway: str) -> Refund | None:
    """The refund a gateway's refund notification names by our key (``refund:{id}``), sent to that gateway."""
    prefix, _sep, number = reference.partition(":")
    if prefix != "refund" or not number.isdigit():
        return None
    return Refund.objects.select_related("intent").filter(pk=int(number), intent__gateway=gateway).first()


def refund_settle_from_gateway(*, gateway: str, refund_id: str, notified: str = "") -> str:
    """A refund the gateway accepted and was still carrying out has ended there: ask the gateway's refund API (the
    notification, ``notified``, is only a trigger), then record it done or failed. Forward only: a refund already
    done or failed here stays so. Returns the outcome; raises ``gateways.GatewayRetryable`` when the gateway cannot
    answer now, and ``RefundStillPending`` when it says the refund is not finished yet.

    The money itself moved when the refund was executed (``post_refund``): a refund that failed at the gateway stays
    there, on the clearing account, for finance to transfer by hand (``gateway_state = failed``, with the gateway's
    failure code), as when the gateway refuses a refund outright."""
    try:
        confirmed = gateways.get(gateway).get_refund(refund_id)
    except gateways.GatewayTerminal as exc:
        logger.warning("refund notification not confirmed: refund_id=%s refund API: %s", refund_id, exc)
        return "unconfirmed"
    refund = refund_of_reference(confirmed.reference_id, gateway)
    if refund is None:
        logger.warning(
            "refund notification ignored: refund_id=%s the refund API names %r, not a refund of ours",
            refund_id,
            confirmed.reference_id,
        )
        return "unknown_refund"
    if confirmed.status not in ("SUCCEEDED", "FAILED"):
        raise RefundStillPending(
            f"refund {refund_id}: the notification says {notified}, the API says {confirmed.status}"
        )
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.gateway_reference and refund.gateway_reference != refund_id:
            logger.warning(
                "refund notification ignored: refund %s is %s at the gateway, not %s",
                refund.pk,
                refund.gateway_reference,
                refund_id,
            )
            return "ignored_other_refund"
        if refund.gateway_state not in (Refund.GatewayState.PENDING, Refund.GatewayState.ACCEPTED):
            return "no_change"
        if confirmed.status == "SUCCEEDED":
            if whole_rupiah(confirmed.amount) != refund.amount:
                refund.gateway_error = f"the gateway refunded {confirmed.amount}, not {refund.amount}"[:300]
                refund.gateway_state = Refund.GatewayState.FAILED
                outcome = "refund_amount_mismatch"
                logger.warning(
                    "refund %s: the gateway refunded %s, not %s; finance must settle the difference",
                    refund.pk,
                    confirmed.amount,
                    refund.amount,
                )
            else:
                refund.gateway_state, refund.gateway_error = Refund.GatewayState.DONE, ""
                outcome = "refund_done"
        else:
            refund.gateway_state = Refund.GatewayState.FAILED
            refund.gateway_error = f"{confirmed.failure_code or 'FAILED'} at the gateway; finance transfers it"[:300]
            outcome = "refund_failed"
            logger.warning("refund %s failed at the gateway (%s); finance must transfer it", refund.pk, refund_id)
        refund.gateway_reference = refund_id
        refund.save(update_fields=["gateway_state", "gateway_error", "gateway_reference"])
        audit_record(
            actor=None,
            action="funding.refund_gateway_result",
            target=refund,
            details={"gateway": gateway, "refund_id": refund_id, "status": confirmed.status, "outcome": outcome},
        )
    return outcome


def refunds_check_accepted(*, older_than_minutes: int = 60) -> int:
    """Ask the gateway about refunds it accepted but has not reported finished for a while (a lost notification).
    Returns how many ended now."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    waiting = Refund.objects.filter(
        gateway_state=Refund.GatewayState.ACCEPTED, executed_at__lt=cutoff, intent__gateway="xendit"
    ).exclude(gateway_reference="")
    ended = 0
    for refund_id in waiting.values_list("gateway_reference", flat=True)[:200]:
        try:
            outcome = refund_settle_from_gateway(gateway="xendit", refund_id=refund_id)
        except (gateways.GatewayRetryable, RefundStillPending) as exc:
            logger.info("refund %s still waiting at the gateway: %s", refund_id, exc)
            continue
        ended += outcome in ("refund_done", "refund_failed", "refund_amount_mismatch")
    return ended
