"""Funders and the users who act for them. Agreements, campaigns and donations arrive with the money issue."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Funder(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company (CSR)")
        LOCAL_GOVERNMENT = "local_government", _("Local government (APBD)")
        ZAKAT_BODY = "zakat_body", _("Zakat body (BAZNAS/LAZ)")
        INSTITUTION = "institution", _("Other institution")
        INDIVIDUAL = "individual", _("Individual")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region_code = models.CharField(
        _("region code"),
        max_length=13,
        blank=True,
        help_text=_("For a local government: the region it governs."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "kind"], name="funding_funder_name_kind_unique"),
            models.CheckConstraint(
                condition=~models.Q(kind="local_government") | ~models.Q(region_code=""),
                name="funding_funder_pemda_has_region",
                violation_error_code="pemda_region_required",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FunderMembership(models.Model):
    """A funder user belongs to exactly one funder; the team says what they do there."""

    class Team(models.TextChoices):
        REPORTING = "reporting", _("Programme / CSR team (reads reports)")
        FINANCE = "finance", _("Finance team (pays)")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="funder_membership")
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="memberships")
    team = models.CharField(_("team"), max_length=20, choices=Team.choices, default=Team.REPORTING)

    def __str__(self) -> str:
        return f"{self.user} @ {self.funder}"
