"""Writes for donations and monthly pledges: start a donation and get its payment link; pause, resume and cancel a
pledge; create each month's payment link.

The database work and the gateway call are kept apart: the donation and its payment intent are committed first,
then the gateway is asked for a payment page, outside any transaction (a slow gateway holds no locks). A gateway that
cannot be reached leaves the intent ``failed`` and tells the donor to try again; nothing was collected.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lingkaran.core.audit import audit_record
from lingkaran.core.domain.formatting import format_rupiah
from lingkaran.core.errors import Forbidden, NotAuthenticated
from lingkaran.funding import gateways
from lingkaran.funding.domain import recurring as pledge_rules
from lingkaran.funding.domain.campaigns import CampaignState
from lingkaran.funding.domain.intents import PaymentState
from lingkaran.funding.domain.references import order_id as make_order_id
from lingkaran.funding.errors import (
    DonationTooSmall,
    GatewayRefused,
    GatewayUnavailable,
    PledgeStateError,
    TargetNotAccepting,
)
from lingkaran.funding.models import Campaign, Donation, Funder, PaymentIntent, RecurringDonation, Target
from lingkaran.funding.services._common import clean, field_error, logger

MAX_DONATION = 10_000_000_000  # Rp 10 miliar: larger gifts go through an agreement and an invoice


@dataclass(frozen=True)
class DonationTarget:
    """Where a donation goes: a published campaign, a funder's pool, or the general pool."""

    kind: str
    campaign: Campaign | None = None
    funder: Funder | None = None

    @classmethod
    def for_campaign(cls, campaign: Campaign) -> DonationTarget:
        return cls(Target.CAMPAIGN, campaign=campaign)

    @classmethod
    def for_funder(cls, funder: Funder) -> DonationTarget:
        return cls(Target.FUNDER, funder=funder)

    @classmethod
    def general(cls) -> DonationTarget:
        return cls(Target.GENERAL)


def _check_target(target: DonationTarget, today: date) -> None:
    if target.kind == Target.CAMPAIGN:
        campaign = target.campaign
        if campaign is None or campaign.state != CampaignState.PUBLISHED or campaign.end_on < today:
            raise TargetNotAccepting()
    elif target.kind == Target.FUNDER and target.funder is None:
        raise TargetNotAccepting()


def _check_amount(amount) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise field_error("amount", _("Enter a whole number of rupiah."))
    minimum = settings.LINGKARAN_MIN_DONATION
    if amount < minimum:
        raise DonationTooSmall(
            _("The smallest donation is %(minimum)s.") % {"minimum": format_rupiah(minimum)},
            details={
                "fields": {"amount": [_("At least %(minimum)s.") % {"minimum": format_rupiah(minimum)}]},
                "minimum": minimum,
            },
        )
    if amount > MAX_DONATION:
        raise field_error("amount", _("For gifts this large, please contact us for an agreement and an invoice."))
    return amount


def _new_order_id(today: date) -> str:
    return make_order_id(today, secrets.token_hex(5).upper())


def _description(donation: Donation) -> str:
    if donation.target == Target.CAMPAIGN:
        return _("Donation: %(title)s") % {"title": donation.campaign.title}
    if donation.target == Target.FUNDER:
        return _("Donation to the pool of %(name)s") % {"name": donation.funder.name}
    return _("Donation to Lingkaran")


def _finish_url(intent: PaymentIntent) -> str:
    return settings.PUBLIC_URL.rstrip("/") + reverse("funding:payment_return", args=[intent.order_id])


def _create_intent(donation: Donation, gateway: str, today: date) -> PaymentIntent:
    intent = PaymentIntent(donation=donation, order_id=_new_order_id(today), gateway=gateway, amount=donation.amount)
    intent.save()
    return intent


def payment_link_create(intent: PaymentIntent, *, retry_later: bool = False) -> PaymentIntent:
    """Ask the gateway for the payment page of a new intent (outside any transaction; safe to call again).

    When the gateway cannot be reached the intent fails, unless ``retry_later`` (monthly links: the next run tries
    again)."""
    if intent.payment_url or intent.state != PaymentState.CREATED or intent.gateway == PaymentIntent.Gateway.BANK:
        return intent
    donation = intent.donation
    request = gateways.PaymentRequest(
        order_id=intent.order_id,
        amount=intent.amount,
        description=_description(donation),
        payer_name=donation.donor_name,
        payer_email=donation.donor_email,
        finish_url=_finish_url(intent),
    )
    try:
        created = gateways.get(intent.gateway).create_payment(request)
    except gateways.GatewayRetryable as exc:
        if retry_later:
            logger.warning(
                "payment link delayed: order_id=%s gateway=%s reason=%s", intent.order_id, intent.gateway, exc
            )
        else:
            _fail(intent, str(exc))
        raise GatewayUnavailable(details={"order_id": intent.order_id}) from None
    except gateways.GatewayTerminal as exc:
        _fail(intent, str(exc))
        raise GatewayRefused(details={"order_id": intent.order_id}) from None
    with transaction.atomic():
        intent = PaymentIntent.objects.select_for_update().get(pk=intent.pk)
        if not intent.payment_url:
            intent.gateway_reference = created.reference[:100]
            intent.payment_url = created.payment_url
            intent.updated_at = timezone.now()
            intent.save(update_fields=["gateway_reference", "payment_url", "updated_at"])
    return intent


def _fail(intent: PaymentIntent, reason: str) -> None:
    logger.warning("payment link refused: order_id=%s gateway=%s reason=%s", intent.order_id, intent.gateway, reason)
    with transaction.atomic():
        intent = PaymentIntent.objects.select_for_update().get(pk=intent.pk)
        if intent.state == PaymentState.CREATED and not intent.payment_url:
            intent.state = PaymentState.FAILED
            intent.review_reason = reason[:300]
            intent.updated_at = timezone.now()
            intent.save(update_fields=["state", "review_reason", "updated_at"])
            Donation.objects.filter(pk=intent.donation_id).update(state=PaymentState.FAILED)


def donation_start(
    *,
    target: DonationTarget,
    amount: int,
    donor=None,
    donor_name: str = "",
    donor_email: str = "",
    is_anonymous: bool = False,
    purpose_note: str = "",
    recurring: bool = False,
    day_of_month: int | None = None,
    gateway: str | None = None,
) -> PaymentIntent:
    """Start a donation: a Donation and its PaymentIntent, then the gateway's payment page (``intent.payment_url``).

    With ``recurring`` the donor (who must be logged in, to manage it) pledges the amount every month; this first
    month is paid now and later months get a new link on ``day_of_month`` (default: today's day, at most the 28th).
    """
    today = timezone.localdate()
    _check_amount(amount)
    _check_target(target, today)
    if donor is not None and not donor.is_authenticated:
        donor = None
    name = (donor_name or "").strip() or (donor.display_name if donor else "")
    email = (donor_email or "").strip() or (donor.email if donor else "")
    if not name:
        raise field_error("donor_name", _("Enter your name; choose anonymous giving to hide it from the public."))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise field_error("donor_email", _("Enter a valid e-mail address.")) from None
    if recurring and donor is None:
        raise NotAuthenticated(_("Log in to give every month, so that you can pause or stop it yourself."))
    day = day_of_month or min(today.day, pledge_rules.MAX_DAY)
    donation = Donation(
        target=target.kind,
        campaign=target.campaign,
        funder=target.funder,
        donor=donor,
        donor_name=name[:150],
        donor_email=email[:254],
        is_anonymous=bool(is_anonymous),
        purpose_note=(purpose_note or "").strip(),
        amount=amount,
    )
    clean(donation, exclude=["recurring"])
    with transaction.atomic():
        if recurring:
            pledge = RecurringDonation(
                donor=donor,
                target=target.kind,
                campaign=target.campaign,
                funder=target.funder,
                amount=amount,
                day_of_month=day,
                donor_name=donation.donor_name,
                donor_email=donation.donor_email,
                is_anonymous=donation.is_anonymous,
                purpose_note=donation.purpose_note,
                next_due_on=pledge_rules.add_month(today, day),  # this month is paid by this first donation
            )
            clean(pledge)
            pledge.save()
            donation.recurring = pledge
            donation.period = pledge_rules.period_of(today)
        donation.save()
        intent = _create_intent(donation, gateway or settings.LINGKARAN_GATEWAY, today)
        audit_record(
            actor=donor,
            action="funding.donation_start",
            target=donation,
            details={"amount": amount, "order_id": intent.order_id, "recurring": recurring, "for": target.kind},
        )
    return payment_link_create(intent)


# --- Monthly pledges -------------------------------------------------------------------------------------------------


def _own_pledge(actor, pledge: RecurringDonation) -> RecurringDonation:
    if not (actor and actor.is_authenticated):
        raise NotAuthenticated()
    locked = RecurringDonation.objects.select_for_update().get(pk=pledge.pk)
    if locked.donor_id != actor.pk:
        raise Forbidden()
    return locked


def recurring_pause(*, actor, pledge: RecurringDonation) -> RecurringDonation:
    """The donor pauses: no payment link is created until they resume."""
    with transaction.atomic():
        pledge = _own_pledge(actor, pledge)
        if pledge.state == RecurringDonation.State.PAUSED:
            return pledge
        if pledge.state != RecurringDonation.State.ACTIVE:
            raise PledgeStateError(details={"state": pledge.state})
        pledge.state = RecurringDonation.State.PAUSED
        pledge.paused_at = timezone.now()
        pledge.save(update_fields=["state", "paused_at"])
        audit_record(actor=actor, action="funding.pledge_pause", target=pledge)
    return pledge


def recurring_resume(*, actor, pledge: RecurringDonation, today: date | None = None) -> RecurringDonation:
    """The donor resumes: the next link comes on the pledge's next day of the month; paused months are not charged."""
    today = today or timezone.localdate()
    with transaction.atomic():
        pledge = _own_pledge(actor, pledge)
        if pledge.state == RecurringDonation.State.ACTIVE:
            return pledge
        if pledge.state != RecurringDonation.State.PAUSED:
            raise PledgeStateError(details={"state": pledge.state})
        pledge.state = RecurringDonation.State.ACTIVE
        pledge.paused_at = None
        pledge.next_due_on = max(pledge.next_due_on, pledge_rules.next_due_after(today, pledge.day_of_month))
        pledge.save(update_fields=["state", "paused_at", "next_due_on"])
        audit_record(actor=actor, action="funding.pledge_resume", target=pledge)
    return pledge


def recurring_cancel(*, actor, pledge: RecurringDonation) -> RecurringDonation:
    """The donor stops giving monthly. Final; months already paid stay paid."""
    with transaction.atomic():
        pledge = _own_pledge(actor, pledge)
        if pledge.state == RecurringDonation.State.CANCELLED:
            return pledge
        pledge.state = RecurringDonation.State.CANCELLED
        pledge.cancelled_at = timezone.now()
        pledge.save(update_fields=["state", "cancelled_at"])
        audit_record(actor=actor, action="funding.pledge_cancel", target=pledge)
    return pledge


def _charge_one(pledge_id: int, today: date) -> PaymentIntent | None:
    with transaction.atomic():
        pledge = (
            RecurringDonation.objects.select_for_update(of=("self",))
            .select_related("campaign", "funder")
            .filter(pk=pledge_id, state=RecurringDonation.State.ACTIVE, next_due_on__lte=today)
            .first()
        )
        if pledge is None:
            return None  # charged by a concurrent run, paused or cancelled meanwhile
        period = pledge_rules.period_of(pledge.next_due_on)
        pledge.next_due_on = pledge_rules.next_due_after(today, pledge.day_of_month)
        pledge.save(update_fields=["next_due_on"])
        target_open = pledge.target != Target.CAMPAIGN or (
            pledge.campaign.state == CampaignState.PUBLISHED and pledge.campaign.end_on >= today
        )
        if not target_open:
            logger.info("pledge %s not charged for %s: its campaign no longer takes donations", pledge.pk, period)
            return None
        if Donation.objects.filter(recurring=pledge, period=period).exists():
            return None
        try:
            with transaction.atomic():
                donation = Donation.objects.create(
                    target=pledge.target,
                    campaign=pledge.campaign,
                    funder=pledge.funder,
                    donor=pledge.donor,
                    donor_name=pledge.donor_name,
                    donor_email=pledge.donor_email,
                    is_anonymous=pledge.is_anonymous,
                    purpose_note=pledge.purpose_note,
                    amount=pledge.amount,
                    recurring=pledge,
                    period=period,
                )
        except IntegrityError:
            return None  # this month's donation exists already
        intent = _create_intent(donation, settings.LINGKARAN_GATEWAY, today)
        audit_record(
            actor=None,
            action="funding.pledge_charge",
            target=pledge,
            details={"period": period.isoformat()[:7], "order_id": intent.order_id},
        )
    return intent


def recurring_charge_due(*, today: date | None = None) -> list[PaymentIntent]:
    """Create this month's donation and payment link for every active pledge that is due. Safe to run any number of
    times: a pledge gets at most one donation per month (a unique constraint), and its next date moves on."""
    today = today or timezone.localdate()
    due = RecurringDonation.objects.filter(state=RecurringDonation.State.ACTIVE, next_due_on__lte=today)
    created = [intent for pk in due.values_list("pk", flat=True) if (intent := _charge_one(pk, today))]
    # Links: also for intents of an earlier run whose gateway call did not get through.
    waiting = PaymentIntent.objects.filter(
        donation__recurring__isnull=False, state=PaymentState.CREATED, payment_url=""
    ).select_related("donation")
    linked = []
    for intent in waiting:
        try:
            linked.append(payment_link_create(intent, retry_later=True))
        except (GatewayUnavailable, GatewayRefused):
            continue  # logged; the donor's dashboard offers a new link
    by_id = {i.pk: i for i in linked}
    return [by_id.get(i.pk, i) for i in created]
