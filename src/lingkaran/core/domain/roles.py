"""Roles and what each may do: pure data and functions, no Django.

One role per account. A capability names an action; ``CAPABILITIES`` says which roles hold it. Per-object rules
(a funder user and its own funder, a field agent and its regions) are in ``region_within`` and in each app's
selectors, which narrow what a role may see to the objects it may see.
"""

from __future__ import annotations

from enum import StrEnum


class RoleName(StrEnum):
    OPERATOR = "operator"
    FINANCE = "finance"
    VERIFIER = "verifier"
    FUNDER = "funder"
    FIELD_AGENT = "field_agent"
    WORKER = "worker"
    AUDITOR = "auditor"


class Capability(StrEnum):
    MANAGE_USERS = "manage_users"
    MANAGE_API_TOKENS = "manage_api_tokens"
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_ALL_REGIONS = "view_all_regions"
    VIEW_ALL_FUNDERS = "view_all_funders"
    REVEAL_PERSONAL_DATA = "reveal_personal_data"
    EXPORT_PERSONAL_DATA = "export_personal_data"
    REGISTER_WORKERS = "register_workers"
    VERIFY_WORKERS = "verify_workers"
    IMPORT_WORKERS = "import_workers"
    MANAGE_MONEY = "manage_money"
    VIEW_MONEY = "view_money"
    VIEW_TARIFFS = "view_tariffs"
    MANAGE_TARIFFS = "manage_tariffs"
    MANAGE_SPONSORSHIPS = "manage_sponsorships"


R = RoleName
CAPABILITIES: dict[Capability, frozenset[RoleName]] = {
    Capability.MANAGE_USERS: frozenset({R.OPERATOR}),
    Capability.MANAGE_API_TOKENS: frozenset({R.OPERATOR}),
    Capability.VIEW_AUDIT_LOG: frozenset({R.AUDITOR, R.OPERATOR}),
    Capability.VIEW_ALL_REGIONS: frozenset({R.OPERATOR, R.FINANCE, R.VERIFIER, R.AUDITOR}),
    Capability.VIEW_ALL_FUNDERS: frozenset({R.OPERATOR, R.FINANCE, R.AUDITOR}),
    Capability.REVEAL_PERSONAL_DATA: frozenset({R.OPERATOR, R.VERIFIER, R.FIELD_AGENT}),
    Capability.EXPORT_PERSONAL_DATA: frozenset({R.OPERATOR}),
    Capability.REGISTER_WORKERS: frozenset({R.OPERATOR, R.FIELD_AGENT, R.VERIFIER}),
    Capability.VERIFY_WORKERS: frozenset({R.VERIFIER}),
    Capability.IMPORT_WORKERS: frozenset({R.OPERATOR, R.VERIFIER}),
    Capability.MANAGE_MONEY: frozenset({R.FINANCE}),
    Capability.VIEW_MONEY: frozenset({R.OPERATOR, R.FINANCE, R.AUDITOR}),
    Capability.VIEW_TARIFFS: frozenset({R.OPERATOR, R.FINANCE, R.AUDITOR}),
    Capability.MANAGE_TARIFFS: frozenset({R.OPERATOR, R.FINANCE}),
    Capability.MANAGE_SPONSORSHIPS: frozenset({R.OPERATOR, R.FINANCE}),
}


def role_can(role: str | None, capability: Capability) -> bool:
    return role is not None and role in CAPABILITIES[capability]


def region_within(code: str, assigned: frozenset[str] | set[str] | list[str]) -> bool:
    """True when Kemendagri ``code`` is one of ``assigned`` or lies inside one of them.

    Codes are dotted (``32.01.05.2003``); containment is by whole segments, so ``32.1`` never contains ``32.10``.
    """
    return any(code == parent or code.startswith(parent + ".") for parent in assigned)
