"""Writing to the audit log.

Every service that changes a record, and every reveal of a person's full personal data, calls ``audit_record``. The
channel, client address and request id come from the current action context, so services need no request object.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from lingkaran.core import context
from lingkaran.core.models import AuditEvent, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_label: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    ctx = context.current()
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
        object_label = object_label or str(target)[:200]
    actor_obj = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=actor_obj,
        actor_label=actor_obj.username if actor_obj else "",
        channel=ctx.channel,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_label=object_label,
        ip_address=ctx.ip_address,
        request_id=ctx.request_id,
        details=details or {},
    )


def audit_records(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    rows: list[tuple[str | int, str, dict[str, Any]]],
    batch_size: int = 1000,
) -> int:
    """Many audit rows of one action at once (a set-based service touching many records): ``rows`` holds
    (object id, object label, details) per record. Written with ``bulk_create``, in the caller's transaction; the
    number written."""
    ctx = context.current()
    actor_obj = actor if actor is not None and actor.is_authenticated else None
    events = [
        AuditEvent(
            actor=actor_obj,
            actor_label=actor_obj.username if actor_obj else "",
            channel=ctx.channel,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            object_label=label[:200],
            ip_address=ctx.ip_address,
            request_id=ctx.request_id,
            details=details,
        )
        for object_id, label, details in rows
    ]
    AuditEvent.objects.bulk_create(events, batch_size=batch_size)
    return len(events)
