"""Writes for campaigns: drafted by an operator or a funder user, submitted, approved by an operator (only then
public and open to donations), returned to draft, or closed."""

from __future__ import annotations

import secrets
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from lingkaran.core.access import require_role
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import RoleName
from lingkaran.core.errors import Forbidden
from lingkaran.funding import accounts
from lingkaran.funding.domain.campaigns import CampaignState, can_move
from lingkaran.funding.errors import CampaignStateError
from lingkaran.funding.models import Campaign, FunderMembership
from lingkaran.funding.services._common import clean, field_error, whole_rupiah

EDITABLE = (
    "title",
    "story",
    "image",
    "target_regions",
    "target_occupations",
    "goal_workers",
    "goal_months",
    "goal_amount",
    "end_on",
)


def _funder_of(user):
    membership = FunderMembership.objects.filter(user=user).select_related("funder").first()
    return membership.funder if membership else None


def _may_edit(user, campaign: Campaign) -> bool:
    if user.role == RoleName.OPERATOR:
        return True
    if user.role == RoleName.FUNDER:
        funder = _funder_of(user)
        return funder is not None and campaign.funder_id == funder.pk
    return False


def _unique_slug(title: str) -> str:
    base = slugify(title)[:60] or "kampanye"
    slug = base
    while Campaign.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def _check_lists(regions, occupations) -> None:
    for field, value in (("target_regions", regions), ("target_occupations", occupations)):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise field_error(field, _("Give a list of codes."))


def campaign_create(
    *,
    actor,
    title: str,
    story: str,
    goal_workers: int,
    goal_months: int,
    goal_amount: int,
    end_on: date,
    target_regions: list[str] | None = None,
    target_occupations: list[str] | None = None,
    image=None,
) -> Campaign:
    """A draft campaign. A funder user's campaign belongs to its funder."""
    require_role(actor, RoleName.OPERATOR, RoleName.FUNDER)
    funder = None
    if actor.role == RoleName.FUNDER:
        funder = _funder_of(actor)
        if funder is None:
            raise Forbidden(_("Your account does not belong to a funder yet."))
    whole_rupiah(goal_amount, "goal_amount")
    regions, occupations = target_regions or [], target_occupations or []
    _check_lists(regions, occupations)
    if end_on <= timezone.localdate():
        raise field_error("end_on", _("The end date must be in the future."))
    campaign = Campaign(
        title=(title or "").strip(),
        slug=_unique_slug(title or ""),
        story=(story or "").strip(),
        goal_workers=goal_workers,
        goal_months=goal_months,
        goal_amount=goal_amount,
        end_on=end_on,
        target_regions=regions,
        target_occupations=occupations,
        funder=funder,
        created_by=actor,
    )
    if image is not None:
        campaign.image = image
    clean(campaign)
    with transaction.atomic():
        campaign.save()
        audit_record(actor=actor, action="funding.campaign_create", target=campaign)
    return campaign


def campaign_update(*, actor, campaign: Campaign, **changes) -> Campaign:
    """Edit a draft (or a campaign waiting for approval, which goes back to draft)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not _may_edit(actor, campaign):
            raise Forbidden()
        if campaign.state not in (CampaignState.DRAFT, CampaignState.PENDING_APPROVAL):
            raise CampaignStateError(details={"state": campaign.state})
        if "goal_amount" in changes:
            whole_rupiah(changes["goal_amount"], "goal_amount")
        _check_lists(
            changes.get("target_regions", campaign.target_regions),
            changes.get("target_occupations", campaign.target_occupations),
        )
        for field, value in changes.items():
            setattr(campaign, field, value.strip() if isinstance(value, str) else value)
        fields = list(changes)
        if campaign.state == CampaignState.PENDING_APPROVAL:
            campaign.state = CampaignState.DRAFT  # a changed campaign is approved again
            fields.append("state")
        clean(campaign)
        campaign.save(update_fields=fields)
        audit_record(
            actor=actor, action="funding.campaign_update", target=campaign, details={"fields": sorted(changes)}
        )
    return campaign


def _move(campaign: Campaign, target: CampaignState) -> None:
    if not can_move(campaign.state, target):
        raise CampaignStateError(details={"state": campaign.state, "to": str(target)})
    campaign.state = target


def campaign_submit(*, actor, campaign: Campaign) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not _may_edit(actor, campaign):
            raise Forbidden()
        if campaign.state == CampaignState.PENDING_APPROVAL:
            return campaign
        _move(campaign, CampaignState.PENDING_APPROVAL)
        campaign.submitted_at = timezone.now()
        campaign.save(update_fields=["state", "submitted_at"])
        audit_record(actor=actor, action="funding.campaign_submit", target=campaign)
    return campaign


def campaign_approve(*, actor, campaign: Campaign) -> Campaign:
    """Only an operator publishes a campaign; its pool is opened in the same transaction."""
    require_role(actor, RoleName.OPERATOR)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.state == CampaignState.PUBLISHED:
            return campaign
        _move(campaign, CampaignState.PUBLISHED)
        campaign.approved_by = actor
        campaign.approved_at = timezone.now()
        campaign.save(update_fields=["state", "approved_by", "approved_at"])
        accounts.open_pool(target="campaign", campaign_id=campaign.pk, label=f"Campaign pool: {campaign.title}")
        audit_record(actor=actor, action="funding.campaign_approve", target=campaign)
    return campaign


def campaign_return(*, actor, campaign: Campaign, note: str) -> Campaign:
    """The operator sends a submitted campaign back to its author with a note."""
    require_role(actor, RoleName.OPERATOR)
    if not (note or "").strip():
        raise field_error("note", _("Say what needs to change."))
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _move(campaign, CampaignState.DRAFT)
        campaign.save(update_fields=["state"])
        audit_record(actor=actor, action="funding.campaign_return", target=campaign, details={"note": note.strip()})
    return campaign


def campaign_close(*, actor, campaign: Campaign) -> Campaign:
    require_role(actor, RoleName.OPERATOR)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.state == CampaignState.CLOSED:
            return campaign
        _move(campaign, CampaignState.CLOSED)
        campaign.closed_at = timezone.now()
        campaign.save(update_fields=["state", "closed_at"])
        audit_record(actor=actor, action="funding.campaign_close", target=campaign)
    return campaign
