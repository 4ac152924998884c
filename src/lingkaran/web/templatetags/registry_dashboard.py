"""Registry numbers for the dashboards, read through the registry selectors (so each role counts only what it may
see)."""

from django import template
from django.db.models import Count

from lingkaran.core.access import can
from lingkaran.core.domain.roles import Capability
from lingkaran.registry import selectors
from lingkaran.registry.models import WorkerStatus

register = template.Library()


@register.simple_tag(takes_context=True)
def registry_counts(context) -> dict:
    """``{% registry_counts as counts %}``: workers by status, the user's queue and open duplicates."""
    user = context["request"].user
    by_status = dict(
        selectors.workers_visible_to(user)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    counts = {status: by_status.get(status, 0) for status in WorkerStatus.values}
    counts["total"] = sum(by_status.values())
    if can(user, Capability.VERIFY_WORKERS):
        counts["queue"] = selectors.verification_queue(user).count()
        counts["duplicates"] = selectors.duplicate_candidates_for(user).count()
    return counts
