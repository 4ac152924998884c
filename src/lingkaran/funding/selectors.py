"""Reads for funders, narrowed to what the asking user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from lingkaran.core.access import can
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.core.errors import NotAuthenticated, NotFound
from lingkaran.funding.models import Funder


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
