"""What the ``lingkaran agency …`` commands share: finding a batch by key or id, the acting user."""

from __future__ import annotations

from django.core.management.base import CommandError

from lingkaran.core.models import User


def batch_by_key_or_id(model, value: str):
    batch = model.objects.filter(key=value).first()
    if batch is None and value.isdigit():
        batch = model.objects.filter(pk=int(value)).first()
    if batch is None:
        raise CommandError(f"no batch {value!r}", returncode=2)
    return batch


def acting_user(username: str) -> User | None:
    """The user named by ``--as`` (checked like a person on a page), or None: a system call."""
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"no active user {username!r}", returncode=2)
    return user
