"""Access checks used by views and API endpoints alike (one place, so both refuse the same things)."""

from __future__ import annotations

from lingkaran.core.domain.roles import Capability, role_can
from lingkaran.core.errors import Forbidden, NotAuthenticated


def can(user, capability: Capability) -> bool:
    return bool(user and user.is_authenticated and user.is_active and role_can(user.role, capability))


def require(user, capability: Capability) -> None:
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    if not can(user, capability):
        raise Forbidden(details={"capability": capability.value})


def require_role(user, *roles: str) -> None:
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    if user.role not in roles:
        raise Forbidden(details={"roles": list(roles)})


def assigned_region_codes(user) -> frozenset[str]:
    if not (user and user.is_authenticated):
        return frozenset()
    cached = getattr(user, "_assigned_region_codes", None)
    if cached is None:
        cached = frozenset(user.region_assignments.values_list("region_code", flat=True))
        user._assigned_region_codes = cached
    return cached
