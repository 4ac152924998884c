"""The navigation each role sees. Entries are shown only to roles that can open them (the views check again)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from lingkaran.core.access import can
from lingkaran.core.domain.roles import Capability, RoleName


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    capability: Capability | None = None
    roles: frozenset[str] | None = None

    def visible_to(self, user) -> bool:
        if self.capability is not None and not can(user, self.capability):
            return False
        return self.roles is None or user.role in self.roles


# Who opens the worker registry pages (staff see every region, field agents their own; see web.views_registry).
REGISTRY_READERS = frozenset(
    {RoleName.OPERATOR, RoleName.FINANCE, RoleName.VERIFIER, RoleName.AUDITOR, RoleName.FIELD_AGENT}
)

# Who opens campaign management (funder users: their own funder's campaigns; see funding.reads.campaigns_for).
CAMPAIGN_READERS = frozenset({RoleName.OPERATOR, RoleName.FINANCE, RoleName.AUDITOR, RoleName.FUNDER})

NAVIGATION: list[NavItem] = [
    NavItem("web:dashboard", _("Dashboard")),
    NavItem("web:worker_register", _("Register worker"), roles=frozenset({RoleName.FIELD_AGENT})),
    NavItem("web:worker_list", _("Workers"), roles=REGISTRY_READERS),
    NavItem("web:verification_queue", _("Verification"), capability=Capability.VERIFY_WORKERS),
    NavItem("web:duplicate_list", _("Duplicates"), capability=Capability.VERIFY_WORKERS),
    NavItem("web:import_list", _("Imports"), capability=Capability.IMPORT_WORKERS),
    NavItem("web:my_regions", _("My regions"), roles=frozenset({RoleName.FIELD_AGENT})),
    NavItem("web:my_funder", _("My organisation"), roles=frozenset({RoleName.FUNDER})),
    NavItem("web:funder_list", _("Funders"), capability=Capability.VIEW_ALL_FUNDERS),
    NavItem("web:money_home", _("Money"), capability=Capability.VIEW_MONEY),
    NavItem("web:campaign_manage_list", _("Campaigns"), roles=CAMPAIGN_READERS),
    NavItem("web:agency_home", _("Agency"), capability=Capability.VIEW_MONEY),
    NavItem("web:cycle_list", _("Cycles"), capability=Capability.VIEW_MONEY),
    NavItem("web:tariffs", _("Tariffs"), capability=Capability.VIEW_TARIFFS),
    NavItem(
        "web:sponsorship_list",
        _("Sponsorships"),
        roles=frozenset({RoleName.OPERATOR, RoleName.FINANCE, RoleName.FUNDER}),
    ),
    NavItem(
        "web:funder_protection_pick",
        _("Protection funded"),
        roles=frozenset({RoleName.OPERATOR, RoleName.FINANCE, RoleName.AUDITOR, RoleName.FUNDER}),
    ),
    NavItem(
        "web:continuation_plans",
        _("Co-payment"),
        roles=frozenset({RoleName.OPERATOR, RoleName.FINANCE, RoleName.AUDITOR, RoleName.FIELD_AGENT}),
    ),
    NavItem("web:coverage_overview", _("Coverage"), capability=Capability.VIEW_ALL_REGIONS),
    NavItem("web:my_donations", _("My donations")),
    NavItem("web:user_list", _("Users"), capability=Capability.MANAGE_USERS),
    NavItem("web:token_list", _("API tokens"), capability=Capability.MANAGE_API_TOKENS),
    NavItem("web:audit_log", _("Audit log"), capability=Capability.VIEW_AUDIT_LOG),
]


def navigation_for(user) -> list[NavItem]:
    if not (user and user.is_authenticated):
        return []
    return [item for item in NAVIGATION if item.visible_to(user)]
