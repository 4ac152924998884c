"""The monthly ticket a donation is counted in: the tariff in force for the contribution month.

A donation does not know its worker yet, so the ticket is JKK + JKM at the lowest declared-income bracket, paid from
donations, at the price every policy sector shares: a discount counts only in the months all sectors get it (for
PP 50/2025, April to December 2026: Rp 8.400 instead of Rp 16.800). The rules are the protection app's versioned
tariffs (``protection.selectors.donation_ticket``). ``LINGKARAN_STANDARD_TICKET`` is only the fallback for a month
no tariff covers (before the first version, or a database without the tariff seed).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings

from lingkaran.protection.selectors import donation_ticket


def standard_ticket(on: date) -> int:
    """JKK + JKM at the lowest bracket for contribution month ``on`` (Rp 8.400 in the window every sector shares under
    PP 50/2025, else Rp 16.800), from the tariff in force."""
    ticket = donation_ticket(on)
    return ticket if ticket is not None else settings.LINGKARAN_STANDARD_TICKET
