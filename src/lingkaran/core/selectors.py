"""Reads for accounts, tokens and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from lingkaran.core.access import require
from lingkaran.core.domain.roles import Capability
from lingkaran.core.models import ApiToken, AuditEvent, User


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_events_for(user: User, filters: AuditFilter) -> QuerySet[AuditEvent]:
    require(user, Capability.VIEW_AUDIT_LOG)
    qs = AuditEvent.objects.select_related("actor")
    if filters.actor:
        qs = qs.filter(actor_label__icontains=filters.actor)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        qs = qs.filter(occurred_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        qs = qs.filter(occurred_at__lte=datetime.combine(filters.date_to, time.max, tzinfo=tz))
    return qs


def audit_actions() -> list[str]:
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def api_tokens_for(user: User) -> QuerySet[ApiToken]:
    require(user, Capability.MANAGE_API_TOKENS)
    return ApiToken.objects.select_related("user", "created_by", "revoked_by")


def users_for(user: User) -> QuerySet[User]:
    require(user, Capability.MANAGE_USERS)
    return User.objects.prefetch_related("region_assignments").order_by("role", "username")
