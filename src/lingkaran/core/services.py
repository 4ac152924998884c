"""Writes for accounts and API tokens. Each service owns its transaction and writes an audit row."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lingkaran.core.access import require
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import Conflict, InvalidInput, NotFound
from lingkaran.core.models import ApiToken, Language, RegionAssignment, Role, User

REGION_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
TOKEN_PREFIX = "lk_"  # noqa: S105 - a public prefix, not a secret


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(details={"fields": {field: [message]}})


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    email: str = "",
    language: str = Language.INDONESIAN,
    region_codes: list[str] | tuple[str, ...] = (),
    created_by: User | None = None,
    is_superuser: bool = False,
) -> User:
    """Create an account. ``created_by`` None means the command line (``lingkaran createadmin``, the demo)."""
    if created_by is not None:
        require(created_by, Capability.MANAGE_USERS)
    errors: dict[str, list[str]] = {}
    username = username.strip()
    if not username:
        errors.setdefault("username", []).append(_("Enter a user name."))
    elif User.objects.filter(username__iexact=username).exists():
        errors.setdefault("username", []).append(_("This user name is taken."))
    if role not in Role.values:
        errors.setdefault("role", []).append(_("Choose one of the roles."))
    if language not in Language.values:
        errors.setdefault("language", []).append(_("Choose Bahasa Indonesia or English."))
    bad_codes = [c for c in region_codes if not REGION_CODE.match(c)]
    if bad_codes:
        errors.setdefault("region_codes", []).append(
            _("Not a Kemendagri region code: %(codes)s") % {"codes": ", ".join(bad_codes)}
        )
    candidate = User(username=username, full_name=full_name, email=email, role=role)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        errors.setdefault("password", []).extend(exc.messages)
    if errors:
        raise InvalidInput(details={"fields": errors})
    user = User(
        username=username,
        full_name=full_name.strip(),
        email=email.strip(),
        role=role,
        language=language,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    RegionAssignment.objects.bulk_create(
        [RegionAssignment(user=user, region_code=code) for code in sorted(set(region_codes))]
    )
    audit_record(
        actor=created_by,
        action="user.create",
        target=user,
        details={"role": role, "region_codes": sorted(set(region_codes))},
    )
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    changed_by: User,
    role: str | None = None,
    full_name: str | None = None,
    is_active: bool | None = None,
    region_codes: list[str] | None = None,
) -> User:
    require(changed_by, Capability.MANAGE_USERS)
    user = User.objects.select_for_update().get(pk=user.pk)
    changes: dict[str, list] = {}
    if role is not None and role != user.role:
        if role not in Role.values:
            raise _field_error("role", _("Choose one of the roles."))
        changes["role"] = [user.role, role]
        user.role = role
    if full_name is not None and full_name.strip() != user.full_name:
        changes["full_name"] = [user.full_name, full_name.strip()]
        user.full_name = full_name.strip()
    if is_active is not None and is_active != user.is_active:
        if user.pk == changed_by.pk and not is_active:
            raise Conflict(_("You cannot deactivate your own account."), code="cannot_deactivate_self")
        changes["is_active"] = [user.is_active, is_active]
        user.is_active = is_active
    user.save(update_fields=["role", "full_name", "is_active"])
    if region_codes is not None:
        wanted = sorted(set(region_codes))
        bad = [c for c in wanted if not REGION_CODE.match(c)]
        if bad:
            raise _field_error("region_codes", _("Not a Kemendagri region code: %(codes)s") % {"codes": ", ".join(bad)})
        current = sorted(user.region_assignments.values_list("region_code", flat=True))
        if wanted != current:
            user.region_assignments.exclude(region_code__in=wanted).delete()
            RegionAssignment.objects.bulk_create(
                [RegionAssignment(user=user, region_code=c) for c in wanted if c not in current]
            )
            changes["region_codes"] = [current, wanted]
    if changes:
        audit_record(actor=changed_by, action="user.update", target=user, details={"changes": changes})
    return user


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, created_by: User, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token acting as ``user``; returns the row and the plain token, which is never stored or shown again."""
    require(created_by, Capability.MANAGE_API_TOKENS)
    name = name.strip()
    if not name:
        raise _field_error("name", _("Give the token a name, e.g. the partner system it is for."))
    if expires_at is not None and expires_at <= timezone.now():
        raise _field_error("expires_at", _("The expiry must be in the future."))
    if not user.is_active:
        raise _field_error("user", _("That account is deactivated."))
    prefix = secrets.token_hex(4)
    plain = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name,
        user=user,
        prefix=prefix,
        digest=_digest(plain),
        created_by=created_by,
        expires_at=expires_at,
    )
    audit_record(actor=created_by, action="api_token.create", target=token, details={"acts_as": user.username})
    return token, plain


@transaction.atomic
def api_token_revoke(*, token_id: int, revoked_by: User) -> ApiToken:
    require(revoked_by, Capability.MANAGE_API_TOKENS)
    try:
        token = ApiToken.objects.select_for_update().get(pk=token_id)
    except ApiToken.DoesNotExist:
        raise NotFound() from None
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = revoked_by
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(actor=revoked_by, action="api_token.revoke", target=token)
    return token


def api_token_authenticate(raw: str) -> User | None:
    """The user a bearer token acts as, or None. Constant-time digest comparison; expired/revoked tokens fail."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix = raw[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(raw)):
        return None
    if not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
