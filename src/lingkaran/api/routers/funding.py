"""Funding endpoints: funders, their pools' balances and donations (for funders' systems), the public campaigns, and
donations (start one and get its payment page; read one as its donor or as finance).

Reads go through ``funding.selectors`` and ``funding.reads``, narrowed to what the caller may see: a funder user (or
its token) sees only its own funder, and another funder's id is a 404, never a 403 that would disclose it. Campaigns
are public (published only). Donors appear as they chose: the name of an anonymous donor is never in an answer a
funder or the public gets.
"""

from datetime import date, datetime
from typing import Literal

from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from ninja.security import django_auth

from lingkaran.api.auth import TokenAuth
from lingkaran.api.pagination import LimitOffset
from lingkaran.core.access import can
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import NotFound
from lingkaran.funding import reads, selectors, services
from lingkaran.funding.models import Funder

router = Router(tags=["funding"])


class FunderOut(Schema):
    id: int
    name: str
    kind: str
    region_code: str


@router.get("/funders", response=list[FunderOut], summary="Funders the caller may see (its own for a funder user)")
@paginate(LimitOffset)
def funder_list(request):
    return selectors.funders_visible_to(request.user).order_by("name")


@router.get("/funders/{funder_id}", response=FunderOut, summary="One funder (404 when not the caller's)")
def funder_detail(request, funder_id: int):
    return selectors.funder_for(request.user, funder_id)


# --- A funder's pool ------------------------------------------------------------------------------------------------


class BalancesOut(Schema):
    """A funder's pool, from the ledger: what came in, what went back, and where the rest is now."""

    funder_id: int
    received: int = Field(..., description="Bank transfers and donations into the pool, in rupiah.")
    refunded: int = Field(..., description="Refunded to donors.")
    reserved: int = Field(..., description="Reserved for workers' contributions, not yet paid to the agency.")
    paid_to_agency: int = Field(..., description="Paid to BPJS Ketenagakerjaan.")
    available: int = Field(..., description="Still available in the pool.")
    worker_months_available: int = Field(..., description="Whole worker-months the available money pays.")
    donations: int = Field(..., description="Paid donations into the pool.")
    as_of: datetime


@router.get(
    "/funders/{funder_id}/balances",
    response=BalancesOut,
    summary="The funder's pool: received, reserved for workers, paid to the agency, available (404 when not yours)",
)
def funder_balances(request, funder_id: int):
    funder = selectors.funder_for(request.user, funder_id)
    figures = selectors.funder_transparency(funder, donor_limit=0)
    return {
        "funder_id": funder.pk,
        "received": figures.received,
        "refunded": figures.refunded,
        "reserved": figures.reserved,
        "paid_to_agency": figures.paid_to_agency,
        "available": figures.available,
        "worker_months_available": figures.worker_months_available,
        "donations": figures.donations,
        "as_of": timezone.now(),
    }


class DonationOut(Schema):
    id: int
    created_at: datetime
    state: str
    amount: int
    target: Literal["campaign", "funder", "general"]
    campaign_slug: str | None = None
    funder_id: int | None = None
    donor_name: str = Field(..., description="As the donor chose to appear: their name, or “Anonim/Anonymous”.")
    is_anonymous: bool
    monthly: bool
    settled_at: datetime | None
    refunded_amount: int
    receipt_number: str | None = None

    @staticmethod
    def resolve_campaign_slug(obj):
        return obj.campaign.slug if obj.campaign_id else None

    @staticmethod
    def resolve_donor_name(obj):
        return obj.public_name

    @staticmethod
    def resolve_monthly(obj):
        return obj.recurring_id is not None

    @staticmethod
    def resolve_refunded_amount(obj):
        intent = getattr(obj, "intent", None)
        return intent.refunded_amount if intent else 0

    @staticmethod
    def resolve_receipt_number(obj):
        receipt = getattr(obj, "receipt", None)
        return receipt.number if receipt else None


@router.get(
    "/funders/{funder_id}/donations",
    response=list[DonationOut],
    summary="Donations to the funder's pool and to its campaigns, newest first (404 when not yours)",
)
@paginate(LimitOffset)
def funder_donations(request, funder_id: int, state: str | None = None):
    donations = reads.donations_of_funder(request.user, funder_id).select_related("intent", "receipt")
    if state:
        donations = donations.filter(state=state)
    return donations


# --- Campaigns (public) ---------------------------------------------------------------------------------------------


class CampaignOut(Schema):
    slug: str
    title: str
    state: str
    target_regions: list[str]
    target_occupations: list[str]
    goal_workers: int
    goal_months: int
    goal_amount: int
    end_on: date
    funder_id: int | None
    received: int = Field(..., description="Received, less refunds, in rupiah.")
    percent: int
    workers_funded: int = Field(..., description="Workers the money protects for the campaign's months.")
    donations: int
    days_left: int
    accepts_donations: bool
    url: str


def _campaign(card: reads.CampaignCard, request) -> dict:
    c = card.campaign
    return {
        "slug": c.slug,
        "title": c.title,
        "state": c.state,
        "target_regions": c.target_regions,
        "target_occupations": c.target_occupations,
        "goal_workers": c.goal_workers,
        "goal_months": c.goal_months,
        "goal_amount": c.goal_amount,
        "end_on": c.end_on,
        "funder_id": c.funder_id,
        "received": card.progress.received,
        "percent": card.progress.percent,
        "workers_funded": card.workers_funded,
        "donations": card.progress.donations,
        "days_left": card.days_left,
        "accepts_donations": card.accepts_donations,
        "url": request.build_absolute_uri(f"/campaigns/{c.slug}/"),
    }


class SuggestionOut(Schema):
    amount: int
    months: int
    workers: int


class DonorOut(Schema):
    name: str
    amount: int
    date: date


class CampaignDetailOut(CampaignOut):
    story: str
    refunded: int
    reserved: int
    paid_to_agency: int
    available: int
    suggested_amounts: list[SuggestionOut]
    minimum_amount: int
    donors: list[DonorOut] = Field(..., description="The latest donors, as they chose to appear.")


@router.get("/campaigns", auth=None, response=list[CampaignOut], summary="Published campaigns (public)")
@paginate(LimitOffset)
def campaign_list(request):
    # Paginated first, then each page's progress is read from the ledger.
    return _CampaignCards(reads.campaigns_open(), request)


class _CampaignCards:
    """A lazy list for the paginator: counts with SQL, builds the cards of one page only."""

    def __init__(self, queryset, request):
        self.queryset, self.request = queryset, request

    def count(self):
        return self.queryset.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        rows = self.queryset[index]
        return [_campaign(reads.campaign_card(c), self.request) for c in rows]


@router.get("/campaigns/{slug}", auth=None, response=CampaignDetailOut, summary="One public campaign with its figures")
def campaign_detail(request, slug: str):
    from django.conf import settings

    campaign = selectors.campaign_public(slug)
    card = reads.campaign_card(campaign)
    figures = selectors.campaign_transparency(campaign, donor_limit=20)
    return {
        **_campaign(card, request),
        "story": campaign.story,
        "refunded": figures.refunded,
        "reserved": figures.reserved,
        "paid_to_agency": figures.paid_to_agency,
        "available": figures.available,
        "suggested_amounts": [s._asdict() for s in selectors.suggested_amounts()],
        "minimum_amount": settings.LINGKARAN_MIN_DONATION,
        "donors": figures.donors,
    }


# --- Donations ------------------------------------------------------------------------------------------------------


class DonationDetailOut(DonationOut):
    order_id: str | None = None
    gateway: str | None = None
    purpose_note: str
    donor_name_given: str | None = Field(
        None,
        description="The name the donor gave, even when anonymous: in full for the donor themself, masked "
        "(“S*** A*****”) for money staff, absent for anyone else.",
    )
    donor_email: str | None = Field(
        None, description="In full for the donor themself, masked (“s***@contoh.id”) for money staff."
    )

    @staticmethod
    def resolve_order_id(obj):
        intent = getattr(obj, "intent", None)
        return intent.order_id if intent else None

    @staticmethod
    def resolve_gateway(obj):
        intent = getattr(obj, "intent", None)
        return intent.gateway if intent else None

    @staticmethod
    def resolve_donor_name_given(obj, context):
        sees = _sees_private(obj, context["request"].user)
        return obj.donor_name if sees == "full" else obj.donor_name_masked if sees == "masked" else None

    @staticmethod
    def resolve_donor_email(obj, context):
        sees = _sees_private(obj, context["request"].user)
        return obj.donor_email if sees == "full" else obj.donor_email_masked if sees == "masked" else None


def _sees_private(donation, user) -> str:
    """The donor's own name and e-mail: in full for the donor, masked for money staff (the full values leave only
    through the audited reveal on the donation's page), not at all for a funder's system."""
    if selectors.is_own_donation(user, donation):
        return "full"
    return "masked" if can(user, Capability.VIEW_MONEY) else ""


@router.get(
    "/donations/{donation_id}",
    response=DonationDetailOut,
    summary="One donation: its donor's own, any for finance, its funder's for a funder user (404 otherwise)",
)
def donation_detail(request, donation_id: int):
    return reads.donation_for_api(request.user, donation_id)


class DonationIn(Schema):
    campaign: str | None = Field(None, description="A published campaign's slug.")
    funder_id: int | None = Field(None, description="Or a funder's pool.")
    amount: int = Field(..., description="Whole rupiah, at least the minimum donation.")
    donor_name: str = Field("", max_length=150, description="Defaults to the caller's name when authenticated.")
    donor_email: str = Field("", max_length=254)
    is_anonymous: bool = False
    purpose_note: str = Field("", max_length=300)
    monthly: bool = Field(False, description="Give every month (needs an authenticated donor).")


class DonationStarted(Schema):
    id: int
    order_id: str
    amount: int
    state: str
    payment_url: str = Field(..., description="Send the donor here to pay (the gateway's hosted page).")
    status_url: str


def _anonymous(request):
    """A donation may be started without an account: the last authentication option lets anyone through."""
    return True


@router.post(
    "/donations",
    auth=[TokenAuth(), django_auth, _anonymous],
    response={201: DonationStarted},
    summary="Start a donation to a campaign, a funder's pool or the general pool; returns the payment page",
)
def donation_start(request, payload: DonationIn):
    if payload.campaign and payload.funder_id:
        from lingkaran.core.errors import InvalidInput

        raise InvalidInput(details={"fields": {"funder_id": ["Give a campaign or a funder, not both."]}})
    if payload.campaign:
        campaign = selectors.campaign_public(payload.campaign)
        target = services.DonationTarget.for_campaign(campaign)
    elif payload.funder_id:
        funder = Funder.objects.filter(pk=payload.funder_id).first()
        if funder is None:
            raise NotFound()
        target = services.DonationTarget.for_funder(funder)
    else:
        target = services.DonationTarget.general()
    intent = services.donation_start(
        target=target,
        amount=payload.amount,
        donor=request.user,
        donor_name=payload.donor_name,
        donor_email=payload.donor_email,
        is_anonymous=payload.is_anonymous,
        purpose_note=payload.purpose_note,
        recurring=payload.monthly,
    )
    return Status(
        201,
        {
            "id": intent.donation_id,
            "order_id": intent.order_id,
            "amount": intent.amount,
            "state": intent.state,
            "payment_url": intent.payment_url,
            "status_url": request.build_absolute_uri(f"/donations/{intent.order_id}/status/"),
        },
    )
