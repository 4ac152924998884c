"""Accounts, roles, region assignments, API tokens and the append-only audit log."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lingkaran.core.domain.roles import RoleName


class Role(models.TextChoices):
    OPERATOR = RoleName.OPERATOR, _("Programme operator")
    FINANCE = RoleName.FINANCE, _("Finance officer")
    VERIFIER = RoleName.VERIFIER, _("Verifier")
    FUNDER = RoleName.FUNDER, _("Funder user")
    FIELD_AGENT = RoleName.FIELD_AGENT, _("Social worker / field agent")
    WORKER = RoleName.WORKER, _("Worker")
    AUDITOR = RoleName.AUDITOR, _("Auditor")


class Language(models.TextChoices):
    INDONESIAN = "id", "Bahasa Indonesia"
    ENGLISH = "en", "English"


class User(AbstractUser):
    """An account. Exactly one role; what the role may see is narrowed per object by the apps' selectors."""

    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.WORKER)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.INDONESIAN)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]),
                name="core_user_role_valid",
                violation_error_code="role_invalid",
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class RegionAssignment(models.Model):
    """A Kemendagri region a field agent (or a Pemda funder user) works in; covers every region inside it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="region_assignments")
    region_code = models.CharField(_("region code"), max_length=13)
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "region_code"], name="core_region_assignment_unique")]
        ordering = ["region_code"]

    def __str__(self) -> str:
        return f"{self.user} → {self.region_code}"


class ApiToken(models.Model):
    """A bearer token for a partner system. Only its SHA-256 is stored; the plain token is shown once."""

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("acts as"))
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AuditEvent(models.Model):
    """Who did what to which record, when, and through which channel. Append-only: a trigger refuses UPDATE/DELETE."""

    class Channel(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("API")
        COMMAND = "command", _("Command")
        TASK = "task", _("Background task")
        SYSTEM = "system", _("System")

    append_only = True

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SYSTEM)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="core_audit_object")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"
