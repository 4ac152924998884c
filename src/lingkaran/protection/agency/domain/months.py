"""Contribution months as plain dates.

A contribution month is stored and passed as the ``date`` of its first day (``2026-11-01`` is November 2026), the
same way on both databases. The month index (``year * 12 + month - 1``) turns month arithmetic into integer
arithmetic; SQL computes the same index (``agency.sql.month_index``).
"""

from __future__ import annotations

import re
from datetime import date

MONTH_TEXT = re.compile(r"^(\d{4})-(\d{1,2})$")


def first_of_month(day: date) -> date:
    """The contribution month that ``day`` falls in."""
    return day.replace(day=1)


def is_month(value: date) -> bool:
    return isinstance(value, date) and value.day == 1


def month_index(month: date) -> int:
    return month.year * 12 + month.month - 1


def from_index(index: int) -> date:
    year, zero_based = divmod(index, 12)
    return date(year, zero_based + 1, 1)


def add_months(month: date, count: int) -> date:
    """``month`` moved by ``count`` months (negative goes back); the result is a first day."""
    return from_index(month_index(month) + count)


def months_between(earlier: date, later: date) -> int:
    """How many months ``later`` is after ``earlier`` (negative when it is before)."""
    return month_index(later) - month_index(earlier)


def month_range(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last``, both included (empty when ``last`` is before ``first``)."""
    return [from_index(i) for i in range(month_index(first), month_index(last) + 1)]


def month_label(month: date) -> str:
    """``2026-11``: the form used in the agency files."""
    return f"{month.year:04d}-{month.month:02d}"


def parse_month_label(text: str) -> date | None:
    """``2026-11`` or ``2026-1`` to a month; None for anything else."""
    found = MONTH_TEXT.match(text.strip())
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12 or year < 1900:
        return None
    return date(year, month, 1)
