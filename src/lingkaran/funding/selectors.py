"""Reads for funding: funders narrowed to what the asking user may see; the public side (campaigns, progress,
transparency with donors as they chose to appear); the donor's own donations, pledges, receipts and statements; and
the back office (inbox, review queue, unmatched bank lines, refunds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from lingkaran.core.access import can, require
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.core.errors import NotAuthenticated, NotFound
from lingkaran.funding import accounts
from lingkaran.funding.domain.amounts import Suggestion, suggest_amounts, worker_months
from lingkaran.funding.domain.campaigns import PUBLIC, CampaignState, progress_percent
from lingkaran.funding.domain.intents import PAID, PaymentState
from lingkaran.funding.models import (
    BankStatementLine,
    Campaign,
    Donation,
    Funder,
    GatewayEvent,
    PaymentIntent,
    Receipt,
    RecurringDonation,
    Refund,
    Target,
    email_index_of,
)
from lingkaran.funding.tickets import standard_ticket
from lingkaran.ledger import selectors as ledger

# --- Funders -------------------------------------------------------------------------------------------------------


def funders_visible_to(user) -> QuerySet[Funder]:
    """Staff who handle money see every funder; a funder user sees only its own; everyone else sees none."""
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    if can(user, Capability.VIEW_ALL_FUNDERS):
        return Funder.objects.all()
    if user.role == RoleName.FUNDER:
        return Funder.objects.filter(memberships__user=user)
    return Funder.objects.none()


def funder_for(user, funder_id: int) -> Funder:
    """One funder, or NotFound when it does not exist *or* the user may not see it (existence is not disclosed)."""
    funder = funders_visible_to(user).filter(pk=funder_id).prefetch_related("memberships__user").first()
    if funder is None:
        raise NotFound()
    return funder


def funder_of_user(user) -> Funder | None:
    return Funder.objects.filter(memberships__user=user).first() if user.is_authenticated else None


def funder_region_codes() -> set[str]:
    """Region codes that funders (local governments) refer to; the region loader keeps them."""
    return set(Funder.objects.exclude(region_code="").values_list("region_code", flat=True))


# --- Public: campaigns, suggestions, transparency ------------------------------------------------------------------


def campaigns_public() -> QuerySet[Campaign]:
    """Campaigns anyone may see: approved ones (published, or closed after publication)."""
    return Campaign.objects.filter(state__in=list(PUBLIC)).select_related("funder").order_by("-approved_at")


def campaign_public(slug: str) -> Campaign:
    campaign = campaigns_public().filter(slug=slug).first()
    if campaign is None:
        raise NotFound()
    return campaign


def campaign_accepts_donations(campaign: Campaign, today: date | None = None) -> bool:
    return campaign.state == CampaignState.PUBLISHED and campaign.end_on >= (today or timezone.localdate())


def suggested_amounts(on: date | None = None) -> list[Suggestion]:
    """Amounts in protection bought at the ticket in force (``Rp 50.400 = 6 months for one worker``)."""
    return suggest_amounts(standard_ticket(on or timezone.localdate()))


def intent_public(order_id: str) -> PaymentIntent:
    """A payment by its order id (random, shown only to its payer), for the page the payer returns to."""
    intent = PaymentIntent.objects.filter(order_id=order_id).select_related("donation").first()
    if intent is None:
        raise NotFound()
    return intent


@dataclass
class Transparency:
    received: int
    refunded: int
    reserved: int
    paid_to_agency: int
    available: int
    donations: int
    worker_months_available: int
    donors: list[dict] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        """What came in, less what went back, is exactly what is reserved, paid and still available."""
        return self.received - self.refunded == self.reserved + self.paid_to_agency + self.available


def _pool_figures(pool: str) -> dict:
    legs = ledger.statement(pool)
    received = (
        legs.filter(side="C")
        .filter(Q(entry__idempotency_key__startswith="donation:") | Q(entry__idempotency_key__startswith="bank:"))
        .aggregate(total=Sum("amount"))["total"]
    )
    refunded = legs.filter(side="D", entry__idempotency_key__startswith="refund:").aggregate(total=Sum("amount"))[
        "total"
    ]
    reservations = ledger.reservation_totals(pool)
    return {
        "received": int(received or 0),
        "refunded": int(refunded or 0),
        "reserved": reservations["pending"],
        "paid_to_agency": reservations["posted"],
        "available": ledger.balance_of(pool),
    }


def _donors(donations: QuerySet[Donation], limit: int) -> list[dict]:
    """Donors as they chose to appear: their name, or "Anonymous"."""
    rows = donations.filter(state__in=[PaymentState.SETTLED, PaymentState.PARTIALLY_REFUNDED]).order_by(
        "-settled_at", "-pk"
    )[:limit]
    return [{"name": d.public_name, "amount": d.amount, "date": timezone.localdate(d.settled_at)} for d in rows]


def _transparency(pool: str, donations: QuerySet[Donation], limit: int) -> Transparency:
    figures = _pool_figures(pool)
    return Transparency(
        **figures,
        donations=donations.filter(state__in=list(PAID)).count(),
        worker_months_available=worker_months(figures["available"], standard_ticket(timezone.localdate())),
        donors=_donors(donations, limit),
    )


def campaign_transparency(campaign: Campaign, *, donor_limit: int = 50) -> Transparency:
    """Public figures of a campaign, from the ledger: received, reserved for workers, paid to the agency, available."""
    if campaign.state not in PUBLIC:
        raise NotFound()
    return _transparency(accounts.campaign_pool(campaign.pk), Donation.objects.filter(campaign=campaign), donor_limit)


def funder_transparency(funder: Funder, *, donor_limit: int = 50) -> Transparency:
    """Public figures of a funder's pool (its bank transfers and the donations made to its pool)."""
    return _transparency(accounts.funder_pool(funder.pk), Donation.objects.filter(funder=funder), donor_limit)


@dataclass(frozen=True)
class Progress:
    received: int
    goal: int
    percent: int
    donations: int
    worker_months: int


def campaign_progress(campaign: Campaign) -> Progress:
    figures = _pool_figures(accounts.campaign_pool(campaign.pk))
    net = figures["received"] - figures["refunded"]
    return Progress(
        received=net,
        goal=campaign.goal_amount,
        percent=progress_percent(net, campaign.goal_amount),
        donations=campaign.donations.filter(state__in=list(PAID)).count(),
        worker_months=worker_months(net, standard_ticket(timezone.localdate())),
    )


# --- The donor's own ------------------------------------------------------------------------------------------------


def _require_login(user) -> None:
    if not (user and user.is_authenticated):
        raise NotAuthenticated()


def links_by_email() -> bool:
    """Whether a donor's account also shows donations made with its e-mail address while logged out. Only where an
    address needs no proof (the embedded sandbox default): with real gateways an address is someone's claim until
    the platform verifies e-mail addresses, which it does not yet."""
    return not settings.PRODUCTION and settings.LINGKARAN_GATEWAY == "sandbox"


def own_donations_q(user) -> Q:
    """The donor's own donations: made while logged in, and (``links_by_email``) made with the account's e-mail
    address, found by its blind index."""
    scope = Q(donor=user)
    if links_by_email() and user.email:
        scope |= Q(donor__isnull=True, donor_email_index=email_index_of(user.email))
    return scope


def is_own_donation(user, donation: Donation) -> bool:
    if not (user and user.is_authenticated):
        return False
    return Donation.objects.filter(own_donations_q(user), pk=donation.pk).exists()


def donations_of(user) -> QuerySet[Donation]:
    _require_login(user)
    return Donation.objects.filter(own_donations_q(user)).select_related(
        "campaign", "funder", "intent", "receipt", "recurring"
    )


def pledges_of(user) -> QuerySet[RecurringDonation]:
    _require_login(user)
    return RecurringDonation.objects.filter(donor=user).select_related("campaign", "funder")


def receipt_of(user, number: str) -> Receipt:
    """One receipt: the donor's own, or any for staff who see money."""
    _require_login(user)
    receipt = Receipt.objects.filter(number=number).select_related("donation", "donation__intent").first()
    if receipt is None or not (is_own_donation(user, receipt.donation) or can(user, Capability.VIEW_MONEY)):
        raise NotFound()
    return receipt


def donor_statement(*, donor, year: int) -> dict:
    """A donor's yearly statement: every paid donation of the year with its receipt, the total and any refunds."""
    _require_login(donor)
    donations = (
        Donation.objects.filter(own_donations_q(donor), receipt__year=year)
        .select_related("receipt", "campaign", "funder", "intent")
        .order_by("receipt__sequence")
    )
    lines = []
    for d in donations:
        label = d.campaign.title if d.target == Target.CAMPAIGN else (d.funder.name if d.funder else "Lingkaran")
        lines.append(
            {
                "date": timezone.localdate(d.receipt.issued_at),
                "receipt": d.receipt.number,
                "for": label,
                "amount": d.amount,
                "refunded": d.intent.refunded_amount,
            }
        )
    return {
        "year": year,
        "donor_name": donor.display_name,
        "lines": lines,
        "total": sum(line["amount"] for line in lines),
        "refunded": sum(line["refunded"] for line in lines),
    }


# --- Back office -----------------------------------------------------------------------------------------------------


def inbox(user) -> QuerySet[GatewayEvent]:
    require(user, Capability.VIEW_MONEY)
    return GatewayEvent.objects.all()


def review_queue(user) -> QuerySet[PaymentIntent]:
    """Payments that posted nothing and need a person: amount mismatches, payments after expiry, refunds made at the
    gateway directly."""
    require(user, Capability.VIEW_MONEY)
    return PaymentIntent.objects.filter(in_review=True).select_related("donation").order_by("updated_at")


def bank_lines_unmatched(user) -> QuerySet[BankStatementLine]:
    require(user, Capability.VIEW_MONEY)
    return BankStatementLine.objects.filter(state=BankStatementLine.State.UNMATCHED).select_related(
        "statement", "invoice", "intent"
    )


def refunds_waiting_for(user) -> QuerySet[Refund]:
    """Refunds this user may act on: others' requests waiting for a second approval, and approved ones to execute."""
    require(user, Capability.VIEW_MONEY)
    return Refund.objects.filter(
        (Q(state=Refund.State.REQUESTED) & ~Q(requested_by=user)) | Q(state=Refund.State.APPROVED)
    ).select_related("intent", "intent__donation", "requested_by")
