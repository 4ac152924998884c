"""Regions (Kemendagri codes). Workers, heirs, consent and imports arrive with the registry issue."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        REGENCY = 2, _("Regency / city")
        DISTRICT = 3, _("District (kecamatan)")
        VILLAGE = 4, _("Village (desa / kelurahan)")

    code = models.CharField(_("code"), max_length=13, primary_key=True)
    name = models.CharField(_("name"), max_length=120)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    code_list = models.CharField(
        _("code list"), max_length=60, help_text=_("The Kepmendagri list this code came from.")
    )
    is_current = models.BooleanField(_("in the current code list"), default=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "name"], name="registry_region_level_name")]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=4), name="registry_region_level_range")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
