"""The monthly ticket a donation is counted in. One function, so the tariff work can replace it with the tariff in
force (versioned tariff records) without touching its callers."""

from __future__ import annotations

from datetime import date

from django.conf import settings

from lingkaran.funding.domain.amounts import discounted_ticket


def standard_ticket(on: date) -> int:
    """JKK + JKM at the lowest bracket for contribution month ``on`` (Rp 8.400 in the PP 50/2025 window, else the
    full ``LINGKARAN_STANDARD_TICKET``, Rp 16.800)."""
    return discounted_ticket(settings.LINGKARAN_STANDARD_TICKET, on)
