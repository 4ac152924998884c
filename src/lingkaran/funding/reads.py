"""Reads the funding pages and the funders' API need beyond ``selectors``: campaign cards for the public list, who may
manage which campaign, the back office's filtered lists, the donor's access to a receipt, and the ledger's accounts.

Like ``selectors`` these narrow what a user may see in one place, so a page and an endpoint refuse the same things:
money staff (``VIEW_MONEY``) see every donation; a funder user only its own funder's (anything else is a 404, never a
403 that would disclose it); the public only published campaigns and donors' names as they chose to appear.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from lingkaran.core.access import can, require
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.core.errors import Forbidden, NotAuthenticated, NotFound
from lingkaran.funding import selectors
from lingkaran.funding.domain.campaigns import CampaignState
from lingkaran.funding.domain.intents import OPEN, PAID, PaymentState
from lingkaran.funding.domain.notifications import whole_rupiah
from lingkaran.funding.models import (
    Agreement,
    BankStatementImport,
    BankStatementLine,
    Campaign,
    Donation,
    Funder,
    GatewayEvent,
    Invoice,
    PaymentIntent,
    Receipt,
    RecurringDonation,
    Refund,
    ReviewResolution,
    email_index_of,
    name_index_of,
)

# --- Public ---------------------------------------------------------------------------------------------------------


def campaigns_open() -> QuerySet[Campaign]:
    """Published campaigns (the public list and ``GET /campaigns``); closed ones stay reachable by their address."""
    return selectors.campaigns_public().filter(state=CampaignState.PUBLISHED)


@dataclass(frozen=True)
class CampaignCard:
    campaign: Campaign
    progress: selectors.Progress
    workers_funded: int
    workers_percent: int
    days_left: int
    accepts_donations: bool
    region_names: list[str]
    occupation_names: list[str]


def target_names(campaign: Campaign, language: str) -> tuple[list[str], list[str]]:
    """The names of a campaign's target regions and occupations (public reference data); unknown codes as given."""
    from lingkaran.registry.models import Occupation, Region

    regions = dict(Region.objects.filter(code__in=campaign.target_regions).values_list("code", "name"))
    occupations = {o.code: o.label(language) for o in Occupation.objects.filter(code__in=campaign.target_occupations)}
    return (
        [regions.get(code, code) for code in campaign.target_regions],
        [occupations.get(code, code) for code in campaign.target_occupations],
    )


def campaign_card(campaign: Campaign, *, language: str = "id", today: date | None = None) -> CampaignCard:
    """What the list and the page show of a campaign: money and workers against the goal, days left, targets.

    Workers funded: the worker-months the money buys, in whole blocks of the campaign's months, capped at its goal."""
    today = today or timezone.localdate()
    progress = selectors.campaign_progress(campaign)
    workers = min(campaign.goal_workers, progress.worker_months // campaign.goal_months)
    regions, occupations = target_names(campaign, language)
    return CampaignCard(
        campaign=campaign,
        progress=progress,
        workers_funded=workers,
        workers_percent=min(100, workers * 100 // campaign.goal_workers),
        days_left=max(0, (campaign.end_on - today).days),
        accepts_donations=selectors.campaign_accepts_donations(campaign, today),
        region_names=regions,
        occupation_names=occupations,
    )


def funder_public(funder_id: int) -> Funder:
    """A funder's public transparency page: its name and pool figures are public, its people and contracts not."""
    funder = Funder.objects.filter(pk=funder_id).first()
    if funder is None:
        raise NotFound()
    return funder


def receipt_for(user, number: str, *, order_ids: list[str] | tuple[str, ...] = ()) -> Receipt:
    """A receipt for its donor (logged in), for money staff, or for the browser that started the donation
    (``order_ids`` kept in its session: a one-off donor without an account). Anyone else: NotFound."""
    receipt = (
        Receipt.objects.filter(number=number)
        .select_related("donation", "donation__intent", "donation__campaign", "donation__funder")
        .first()
    )
    if receipt is None:
        raise NotFound()
    if receipt.donation.intent.order_id in order_ids:
        return receipt
    if not (user and user.is_authenticated):
        raise NotFound()
    return selectors.receipt_of(user, number)


def intent_for_payer(order_id: str) -> PaymentIntent:
    """The payment a payer returns to (by its random order id), with what its status page shows."""
    intent = (
        PaymentIntent.objects.filter(order_id=order_id)
        .select_related("donation", "donation__campaign", "donation__funder", "donation__receipt")
        .first()
    )
    if intent is None:
        raise NotFound()
    return intent


# --- The donor ------------------------------------------------------------------------------------------------------


def pledge_of(user, pledge_id: int) -> RecurringDonation:
    pledge = selectors.pledges_of(user).filter(pk=pledge_id).first()
    if pledge is None:
        raise NotFound()
    return pledge


def donation_of(user, donation_id: int) -> Donation:
    donation = selectors.donations_of(user).filter(pk=donation_id).first()
    if donation is None:
        raise NotFound()
    return donation


def open_donations_of_pledges(user) -> dict[int, list[Donation]]:
    """Per pledge, its donations still waiting for payment (this month's link, or an earlier month's)."""
    waiting: dict[int, list[Donation]] = {}
    for donation in (
        selectors.donations_of(user).filter(recurring__isnull=False, state__in=list(OPEN)).order_by("period", "pk")
    ):
        waiting.setdefault(donation.recurring_id, []).append(donation)
    return waiting


def statement_years(user) -> list[int]:
    return sorted(set(selectors.donations_of(user).values_list("receipt__year", flat=True)) - {None}, reverse=True)


# --- Funders and their money ----------------------------------------------------------------------------------------


def donations_of_funder(user, funder_id: int) -> QuerySet[Donation]:
    """Donations to a funder's pool and to its campaigns, for its own users and money staff (404 for anyone else)."""
    funder = selectors.funder_for(user, funder_id)
    return (
        Donation.objects.filter(Q(funder=funder) | Q(campaign__funder=funder))
        .select_related("campaign", "funder", "receipt")
        .order_by("-created_at", "-pk")
    )


def agreements_for(user) -> QuerySet[Agreement]:
    """Agreements the user may read: all for money staff, its own funder's for a funder user."""
    funders = selectors.funders_visible_to(user)
    return Agreement.objects.filter(funder__in=funders).select_related("funder").order_by("-start_on", "number")


def agreement_for(user, agreement_id: int) -> Agreement:
    agreement = agreements_for(user).filter(pk=agreement_id).first()
    if agreement is None:
        raise NotFound()
    return agreement


def invoices_of(agreement: Agreement) -> QuerySet[Invoice]:
    return agreement.invoices.order_by("-issued_on", "-pk")


def invoices_open() -> QuerySet[Invoice]:
    """Invoices still owed something (for matching a bank line by hand)."""
    return (
        Invoice.objects.exclude(state=Invoice.State.PAID)
        .select_related("agreement", "agreement__funder")
        .order_by("due_on", "pk")
    )


# --- Campaign management --------------------------------------------------------------------------------------------

CAMPAIGN_READERS = frozenset({RoleName.OPERATOR, RoleName.FINANCE, RoleName.AUDITOR, RoleName.FUNDER})


def campaigns_for(user) -> QuerySet[Campaign]:
    """Campaigns in every state: operators, finance and auditors see all; a funder user its own funder's."""
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    if user.role not in CAMPAIGN_READERS:
        raise Forbidden()
    campaigns = Campaign.objects.select_related("funder", "created_by", "approved_by").order_by("-created_at")
    if user.role == RoleName.FUNDER:
        funder = selectors.funder_of_user(user)
        return campaigns.filter(funder=funder) if funder else campaigns.none()
    return campaigns


def campaign_for(user, campaign_id: int) -> Campaign:
    campaign = campaigns_for(user).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound()
    return campaign


def may_draft_campaigns(user) -> bool:
    if user.role == RoleName.OPERATOR:
        return True
    return user.role == RoleName.FUNDER and selectors.funder_of_user(user) is not None


# --- Back office ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DonationFilter:
    q: str = ""
    state: str = ""
    target: str = ""
    campaign_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def donations_all(user, filters: DonationFilter | None = None) -> QuerySet[Donation]:
    """Every donation, for money staff (anonymous givers too; the pages show donors masked, see
    ``services/donors.py``). The search ``q`` finds an order id or receipt number by part, and a donor by their whole
    e-mail address or whole name."""
    require(user, Capability.VIEW_MONEY)
    f = filters or DonationFilter()
    qs = Donation.objects.select_related("campaign", "funder", "intent", "receipt", "recurring").order_by(
        "-created_at", "-pk"
    )
    if f.q:
        # Names and e-mail addresses are sealed: they are found whole (case and spacing aside), by their blind index.
        found = Q(intent__order_id__icontains=f.q) | Q(receipt__number__icontains=f.q)
        found |= Q(donor_email_index=email_index_of(f.q)) if "@" in f.q else Q(donor_name_index=name_index_of(f.q))
        qs = qs.filter(found)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.target:
        qs = qs.filter(target=f.target)
    if f.campaign_id:
        qs = qs.filter(campaign_id=f.campaign_id)
    if f.date_from:
        qs = qs.filter(created_at__date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(created_at__date__lte=f.date_to)
    return qs


def donation_for_staff(user, donation_id: int) -> Donation:
    donation = donations_all(user).filter(pk=donation_id).first()
    if donation is None:
        raise NotFound()
    return donation


def donation_for_api(user, donation_id: int) -> Donation:
    """``GET /donations/{id}``: the donor's own, any for money staff, its funder's for a funder user; else 404."""
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    qs = Donation.objects.select_related("campaign", "funder", "intent", "receipt")
    if not can(user, Capability.VIEW_MONEY):
        funder = selectors.funder_of_user(user) if user.role == RoleName.FUNDER else None
        scope = selectors.own_donations_q(user)
        if funder is not None:
            scope |= Q(funder=funder) | Q(campaign__funder=funder)
        qs = qs.filter(scope)
    donation = qs.filter(pk=donation_id).first()
    if donation is None:
        raise NotFound()
    return donation


@dataclass(frozen=True)
class InboxFilter:
    gateway: str = ""
    verified: str = ""  # "", "yes", "no"
    outcome: str = ""
    q: str = ""


def inbox_filtered(user, filters: InboxFilter | None = None) -> QuerySet[GatewayEvent]:
    f = filters or InboxFilter()
    qs = selectors.inbox(user)
    if f.gateway:
        qs = qs.filter(gateway=f.gateway)
    if f.verified == "yes":
        qs = qs.filter(verified=True)
    elif f.verified == "no":
        qs = qs.filter(verified=False)
    if f.outcome == "waiting":
        qs = qs.filter(processed_at__isnull=True)
    elif f.outcome:
        qs = qs.filter(outcome=f.outcome)
    if f.q:
        qs = qs.filter(Q(order_id__icontains=f.q) | Q(transaction_id__icontains=f.q))
    return qs


def inbox_outcomes(user) -> list[str]:
    return sorted(set(selectors.inbox(user).exclude(outcome="").values_list("outcome", flat=True).distinct()))


def inbox_event(user, event_id: int) -> GatewayEvent:
    event = selectors.inbox(user).filter(pk=event_id).first()
    if event is None:
        raise NotFound()
    return event


def events_of_order(user, order_id: str) -> QuerySet[GatewayEvent]:
    return selectors.inbox(user).filter(order_id=order_id).order_by("received_at", "pk")


def review_item(user, intent_id: int) -> PaymentIntent:
    """A payment in the review queue, or one resolved from it (with its history), for money staff; else 404."""
    require(user, Capability.VIEW_MONEY)
    intent = (
        PaymentIntent.objects.filter(pk=intent_id)
        .filter(Q(in_review=True) | Q(review_resolutions__isnull=False))
        .select_related("donation", "donation__campaign", "donation__funder")
        .distinct()
        .first()
    )
    if intent is None:
        raise NotFound()
    return intent


def pool_label(donation: Donation) -> str:
    """The ledger account a donation's money goes to (its campaign's, its funder's, or the general pool)."""
    from lingkaran.funding import accounts

    return accounts.pool_of(target=donation.target, campaign_id=donation.campaign_id, funder_id=donation.funder_id)


def review_resolutions(intent: PaymentIntent) -> QuerySet[ReviewResolution]:
    return intent.review_resolutions.select_related("decided_by", "refund").order_by("-decided_at", "-pk")


def _latest_verified(intent: PaymentIntent, statuses: list[str]) -> GatewayEvent | None:
    return (
        GatewayEvent.objects.filter(
            gateway=intent.gateway, order_id=intent.order_id, verified=True, status__in=statuses
        )
        .order_by("-received_at", "-pk")
        .first()
    )


def review_reported_amount(intent: PaymentIntent) -> int | None:
    """What the gateway's notifications said about a payment in review: the amount it collected (for an unpaid
    intent), or the amount it refunded outside the platform (for a paid one). The review page offers it; the
    services confirm a collected amount with the gateway's status API before anything moves."""
    if intent.state in PAID:
        event = _latest_verified(intent, [PaymentState.REFUNDED, PaymentState.PARTIALLY_REFUNDED])
        if event is None:
            return None
        try:
            body = json.loads(event.raw_body)
        except ValueError:
            return None
        refunded = whole_rupiah(body.get("refund_amount")) if isinstance(body, dict) else None
        if refunded is None and event.status == PaymentState.REFUNDED:
            return intent.settled_amount - intent.refunded_amount
        return refunded
    event = _latest_verified(intent, [PaymentState.SETTLED])
    return whole_rupiah(event.gross_amount) if event else None


def refunds_all(user) -> QuerySet[Refund]:
    require(user, Capability.VIEW_MONEY)
    return Refund.objects.select_related(
        "intent", "intent__donation", "requested_by", "approved_by", "executed_by", "rejected_by"
    ).order_by("-requested_at", "-pk")


def refund_for(user, refund_id: int) -> Refund:
    refund = refunds_all(user).filter(pk=refund_id).first()
    if refund is None:
        raise NotFound()
    return refund


def bank_imports(user) -> QuerySet[BankStatementImport]:
    require(user, Capability.VIEW_MONEY)
    return BankStatementImport.objects.select_related("uploaded_by").order_by("-uploaded_at", "-pk")


def bank_import(user, statement_id: int) -> BankStatementImport:
    statement = bank_imports(user).filter(pk=statement_id).first()
    if statement is None:
        raise NotFound()
    return statement


def bank_lines(statement: BankStatementImport, state: str = "") -> QuerySet[BankStatementLine]:
    qs = statement.lines.select_related("invoice", "invoice__agreement__funder", "intent").order_by("row")
    return qs.filter(state=state) if state else qs


def bank_line_for(user, line_id: int) -> BankStatementLine:
    require(user, Capability.VIEW_MONEY)
    line = BankStatementLine.objects.filter(pk=line_id).select_related("statement").first()
    if line is None:
        raise NotFound()
    return line


@dataclass(frozen=True)
class ClearingRow:
    """One gateway's money by the ledger: what it collected for donations, what went back as refunds, what it paid
    out to the trust bank account (and kept as fees), and what it still holds."""

    gateway: str
    collected: int
    refunded: int
    paid_out: int
    fees: int
    in_clearing: int
    payouts: int
    last_payout_on: date | None


def clearing_overview(user) -> list[ClearingRow]:
    """Per gateway with a clearing account, for money staff."""
    from django.db.models import Count, Max, Sum

    from lingkaran.funding import accounts
    from lingkaran.funding.domain.payouts import GATEWAYS
    from lingkaran.ledger import selectors as ledger

    require(user, Capability.VIEW_MONEY)
    balances = ledger.balances("asset:clearing:")
    rows = []
    for gateway in GATEWAYS:
        code = accounts.clearing(gateway)
        if code not in balances:
            continue
        legs = ledger.statement(code)
        collected = legs.filter(side="D").aggregate(total=Sum("amount"))["total"] or 0
        refunded = (
            legs.filter(side="C", entry__idempotency_key__startswith="refund:").aggregate(total=Sum("amount"))["total"]
            or 0
        )
        payouts = BankStatementLine.objects.filter(gateway=gateway, state=BankStatementLine.State.MATCHED).aggregate(
            amount=Sum("amount"), fees=Sum("fee"), count=Count("pk"), last=Max("booked_on")
        )
        rows.append(
            ClearingRow(
                gateway=gateway,
                collected=int(collected),
                refunded=int(refunded),
                paid_out=int(payouts["amount"] or 0),
                fees=int(payouts["fees"] or 0),
                in_clearing=balances[code],
                payouts=payouts["count"],
                last_payout_on=payouts["last"],
            )
        )
    return rows


def money_counts(user) -> dict[str, int]:
    """What waits for the back office: the overview's numbers."""
    return {
        "review": selectors.review_queue(user).count(),
        "unmatched": selectors.bank_lines_unmatched(user).count(),
        "refunds": selectors.refunds_waiting_for(user).count(),
        "unverified": selectors.inbox(user).filter(verified=False).count(),
        "waiting_events": selectors.inbox(user).filter(verified=True, processed_at__isnull=True).count(),
        "campaigns_pending": Campaign.objects.filter(state=CampaignState.PENDING_APPROVAL).count(),
    }


# --- Ledger ---------------------------------------------------------------------------------------------------------
# The ledger's selectors give balances by code and statements; the page also wants each account's name and type.


def ledger_accounts(user):
    from lingkaran.ledger.models import Balance

    require(user, Capability.VIEW_MONEY)
    return Balance.objects.select_related("account").order_by("account__code")


def ledger_account(user, code: str):
    from lingkaran.ledger.models import Account

    require(user, Capability.VIEW_MONEY)
    account = Account.objects.filter(code=code).select_related("balance").first()
    if account is None:
        raise NotFound()
    return account


def ledger_legs(account):
    """The account's legs in order, each with its entry and the entry's other legs (to show where money went)."""
    from django.db.models import Prefetch

    from lingkaran.ledger import selectors as ledger
    from lingkaran.ledger.models import Leg

    return ledger.statement(account.code).prefetch_related(
        Prefetch("entry__legs", queryset=Leg.objects.select_related("account").order_by("id"))
    )
