"""Donation amounts in protection bought: pure functions over integer rupiah.

The monthly ticket they are counted in (JKK + JKM at the lowest declared-income bracket, with the discount every
sector shares) comes from the tariff in force: ``funding.tickets.standard_ticket``, which reads the protection app's
versioned tariffs. No discount window is written here.
"""

from __future__ import annotations

from typing import NamedTuple

# (months, workers) a donor is offered first: half a year and a year, for one worker and for a few.
DEFAULT_COMBINATIONS: tuple[tuple[int, int], ...] = ((6, 1), (12, 1), (6, 5), (12, 5), (12, 10))


class Suggestion(NamedTuple):
    amount: int
    months: int
    workers: int


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
