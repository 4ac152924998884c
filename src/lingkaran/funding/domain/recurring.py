"""Monthly pledges: due dates. Pure functions.

Virtual accounts, QRIS and e-wallets cannot be debited automatically (the payer approves every payment in their
bank or wallet app), so a monthly pledge is a monthly payment link: on its day each month a new donation and payment
intent are created and the donor pays them like a one-off gift. Days are limited to 1–28 so every month has one.
"""

from __future__ import annotations

from datetime import date

MAX_DAY = 28


def _check_day(day_of_month: int) -> None:
    if isinstance(day_of_month, bool) or not isinstance(day_of_month, int) or not 1 <= day_of_month <= MAX_DAY:
        raise ValueError(f"day of month must be 1–{MAX_DAY}, got {day_of_month!r}")


def add_month(day: date, day_of_month: int) -> date:
    """The ``day_of_month`` in the month after ``day``."""
    _check_day(day_of_month)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, day_of_month)


def next_due_after(today: date, day_of_month: int) -> date:
    """The first ``day_of_month`` strictly after ``today``."""
    _check_day(day_of_month)
    this_month = today.replace(day=day_of_month)
    return this_month if this_month > today else add_month(today, day_of_month)


def period_of(due: date) -> date:
    """The month a charge belongs to (its first day): one donation per pledge per month."""
    return due.replace(day=1)
