"""Writes for funders."""

from __future__ import annotations

from django.db import transaction

from lingkaran.core.audit import audit_record
from lingkaran.core.errors import InvalidInput
from lingkaran.funding.models import Funder, FunderMembership


@transaction.atomic
def funder_add_member(*, funder: Funder, user, team: str, added_by=None) -> FunderMembership:
    if user.role != "funder":
        raise InvalidInput(details={"fields": {"user": ["Only funder users can belong to a funder."]}})
    membership, created = FunderMembership.objects.get_or_create(user=user, defaults={"funder": funder, "team": team})
    if not created and membership.funder_id != funder.pk:
        raise InvalidInput(details={"fields": {"user": ["This user already belongs to another funder."]}})
    if created:
        audit_record(actor=added_by, action="funder.add_member", target=funder, details={"user": user.username})
    return membership
