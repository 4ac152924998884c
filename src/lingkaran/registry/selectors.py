"""Reads for regions, narrowed to what the asking user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from lingkaran.core.access import assigned_region_codes, can
from lingkaran.core.domain.roles import Capability, region_within
from lingkaran.core.errors import NotAuthenticated, NotFound
from lingkaran.registry.models import Region


def region_scope_q(user, field: str = "code") -> Q:
    """A filter on a region-code ``field`` that keeps only the user's regions (everything for staff)."""
    if can(user, Capability.VIEW_ALL_REGIONS):
        return Q()
    codes = assigned_region_codes(user)
    if not codes:
        return Q(pk__in=[])
    q = Q()
    for code in codes:
        q |= Q(**{field: code}) | Q(**{f"{field}__startswith": code + "."})
    return q


def regions_visible_to(user) -> QuerySet[Region]:
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    return Region.objects.filter(region_scope_q(user))


def region_for(user, code: str) -> Region:
    """One region the user may work in, or NotFound (existence of other regions' data is not disclosed)."""
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    if not can(user, Capability.VIEW_ALL_REGIONS) and not region_within(code, assigned_region_codes(user)):
        raise NotFound()
    region = Region.objects.select_related("parent__parent__parent").filter(code=code).first()
    if region is None:
        raise NotFound()
    return region


def region_children(region: Region) -> QuerySet[Region]:
    return region.children.order_by("code")


def region_path(region: Region) -> list[Region]:
    path = []
    node = region
    while node is not None:
        path.append(node)
        node = node.parent
    return list(reversed(path))
