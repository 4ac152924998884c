"""Donation amounts in protection bought: pure functions over integer rupiah.

The standard ticket is JKK + JKM at the lowest declared-income bracket (Rp 16.800 a month, domain.md 2.1). Under
PP 50/2025 JKK and JKM cost half for contribution months in the discount window; the window every sector shares is
April to December 2026 (transport starts earlier and ends later, but a donation does not know its worker's sector
yet). The tariff work replaces this with versioned tariff records; until then ``discounted_ticket`` is the rule.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

# PP 50/2025: JKK and JKM at 50 % for contribution months in the window shared by every sector.
DISCOUNT_START = date(2026, 4, 1)
DISCOUNT_END = date(2026, 12, 31)
DISCOUNT_PERCENT = 50

# (months, workers) a donor is offered first: half a year and a year, for one worker and for a few.
DEFAULT_COMBINATIONS: tuple[tuple[int, int], ...] = ((6, 1), (12, 1), (6, 5), (12, 5), (12, 10))


class Suggestion(NamedTuple):
    amount: int
    months: int
    workers: int


def discounted_ticket(full_ticket: int, on: date) -> int:
    """The monthly ticket for contribution month ``on``: ``full_ticket``, or half of it inside the PP 50/2025 window.

    Half of an odd amount is rounded up (the agency's rounding is UNVERIFIED; rounding up never leaves a month short).
    """
    _check_amount(full_ticket)
    if DISCOUNT_START <= on <= DISCOUNT_END:
        return -(-full_ticket * (100 - DISCOUNT_PERCENT) // 100)
    return full_ticket


def suggest_amounts(
    monthly_ticket: int, combinations: tuple[tuple[int, int], ...] = DEFAULT_COMBINATIONS
) -> list[Suggestion]:
    """Amounts that buy whole worker-months: ``Rp 50.400 = 6 months for one worker`` at a ticket of Rp 8.400."""
    _check_amount(monthly_ticket)
    return [Suggestion(monthly_ticket * months * workers, months, workers) for months, workers in combinations]


def worker_months(amount: int, monthly_ticket: int) -> int:
    """How many whole worker-months ``amount`` pays for."""
    _check_amount(monthly_ticket)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amount must be whole rupiah, got {amount!r}")
    return amount // monthly_ticket


def _check_amount(value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"a ticket is a positive whole number of rupiah, got {value!r}")
