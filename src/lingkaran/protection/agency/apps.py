from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgencyConfig(AppConfig):
    """The agency (BPJS Ketenagakerjaan) adapter, its file exchange and its built-in simulator. A Django app of its own
    inside ``protection`` so that its tables and migrations stay apart from sponsorships and coverage."""

    name = "lingkaran.protection.agency"
    label = "agency"
    verbose_name = _("Agency")
