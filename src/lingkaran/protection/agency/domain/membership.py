"""Membership of a BPU participant, from the contribution months paid (domain.md section 3).

Rules, for a reference month ``R`` (the month the question is asked in, or the month a batch is paid in):

* **active**: ``R`` is paid. Months paid ahead of ``R`` keep it active as time moves on.
* **grace**: ``R`` is not paid and the last paid month ``L`` before it is 1 to 3 months back (``R - L`` in 1..3):
  the unpaid months ``L+1 … R`` are arrears that may still be paid. ``R`` counts as unpaid from its first day,
  although it is due only by the 15th (domain.md section 3: "due by the 15th of the contribution month itself").
* **ended** (*keluar*): more than 3 consecutive unpaid months (``R - L`` of 4 or more). Arrears are no longer
  payable; a new payment from ``R`` on reactivates the membership (*iuran lanjutan*).
* **reactivated**: ``R`` is paid and an ended gap (more than 3 consecutive unpaid months) lies between an earlier
  paid month and the run of payments that covers ``R``.
* **not started**: registered, nothing paid up to ``R`` (months paid ahead of ``R`` do not count yet).

A *membership period* is a stretch of paid months in which two consecutive paid months are less than 4 months apart.
Paid months ``a`` and ``b`` that are 4 or more months apart have an ended gap between them: in month ``b``, before ``b``
was paid, the months ``a+1 … b`` were 4 or more consecutive unpaid months. The state is ``reactivated`` when ``R`` is
paid and falls in the second period or a later one.

Which months a payment made in ``R`` may cover (``month_verdict``), checked in this order:

1. not before the registration month (``month_before_registration``);
2. at most 3 months back and at most 12 months ahead of ``R`` (``month_out_of_window``); domain.md section 3:
   arrears up to 3 months, channels accept 1 to 12 months ahead;
3. not a month already paid (``already_paid``);
4. a past month only as arrears (``arrears_not_payable`` otherwise): some month of ``R-3 … R`` is paid (the
   membership has neither ended nor never started), and some month of the 3 before it is paid (the month follows a
   paid month: paying it cannot move the start of a membership back in time).

Payments need not be in order: a month may be paid while an earlier one is still open. No source states such a rule,
so the simulator does not invent one; unpaid months in between count as unpaid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from lingkaran.protection.agency.domain import reasons
from lingkaran.protection.agency.domain.months import add_months, is_month, month_index, months_between

MAX_ARREARS_MONTHS = 3  # arrears payable, counted back from the reference month (domain.md section 3)
MAX_MONTHS_AHEAD = 12  # months a payment may cover ahead of the reference month (domain.md section 3, channels)
ENDED_AFTER_UNPAID = 4  # 4 consecutive unpaid months = "more than 3": the membership ends


class State(StrEnum):
    NOT_STARTED = "not_started"
    ACTIVE = "active"
    GRACE = "grace"
    ENDED = "ended"
    REACTIVATED = "reactivated"
    # Only from the agency's status file: more than 3 months unpaid after a JHT claim (*nonaktif*).
    INACTIVE = "inactive"


COVERED_STATES = frozenset({State.ACTIVE, State.REACTIVATED})


@dataclass(frozen=True)
class Membership:
    state: State
    reference: date
    last_paid: date | None  # latest paid month up to the reference month
    unpaid_months: int | None  # months from last_paid (excluded) to the reference (included); None if never paid
    periods: int  # membership periods up to the reference month
    paid_through: date | None  # when active: the last month of the unbroken run of paid months from the reference
    ended_since: date | None  # when ended: the first month without cover (the 4th unpaid month)
    arrears_payable: tuple[date, ...]  # past months that a payment in the reference month may still cover


def _check_month(value: date, name: str) -> None:
    if not is_month(value):
        raise ValueError(f"{name} must be the first day of a month, got {value!r}")


def membership(paid: Iterable[date], reference: date, *, registered: date | None = None) -> Membership:
    """The membership state in ``reference`` given every month ever paid (in any order, repeats ignored)."""
    _check_month(reference, "reference")
    months = sorted(set(paid))
    for month in months:
        _check_month(month, "paid month")
    until_reference = [m for m in months if m <= reference]
    periods = 0
    previous: date | None = None
    for month in until_reference:
        if previous is None or months_between(previous, month) >= ENDED_AFTER_UNPAID:
            periods += 1
        previous = month
    paid_set = set(months)
    arrears = tuple(_arrears(paid_set, reference, registered))
    if not until_reference:
        return Membership(State.NOT_STARTED, reference, None, None, 0, None, None, ())
    last = until_reference[-1]
    if last == reference:
        through = reference
        while add_months(through, 1) in paid_set:
            through = add_months(through, 1)
        state = State.REACTIVATED if periods > 1 else State.ACTIVE
        return Membership(state, reference, last, 0, periods, through, None, arrears)
    unpaid = months_between(last, reference)
    if unpaid < ENDED_AFTER_UNPAID:
        return Membership(State.GRACE, reference, last, unpaid, periods, None, None, arrears)
    return Membership(State.ENDED, reference, last, unpaid, periods, None, add_months(last, ENDED_AFTER_UNPAID), ())


def _arrears_open(paid: set[date] | frozenset[date], reference: date) -> bool:
    """Arrears are payable while some month of ``reference-3 … reference`` is paid (grace, or active with a gap)."""
    return any(add_months(reference, -back) in paid for back in range(MAX_ARREARS_MONTHS + 1))


def _follows_paid(paid: set[date] | frozenset[date], month: date) -> bool:
    """Some month of the 3 before ``month`` is paid: ``month`` is an arrear of a membership, not a month before it."""
    return any(add_months(month, -back) in paid for back in range(1, MAX_ARREARS_MONTHS + 1))


def _arrears(paid: set[date], reference: date, registered: date | None) -> list[date]:
    if not _arrears_open(paid, reference):
        return []
    found = []
    for back in range(MAX_ARREARS_MONTHS, 0, -1):
        month = add_months(reference, -back)
        if month not in paid and (registered is None or month >= registered) and _follows_paid(paid, month):
            found.append(month)
    return found


def month_verdict(month: date, *, reference: date, registered: date, paid: Iterable[date]) -> str | None:
    """Why a payment made in ``reference`` may not cover ``month`` (a reason code), or None when it may."""
    _check_month(month, "month")
    _check_month(reference, "reference")
    if month < registered:
        return reasons.MONTH_BEFORE_REGISTRATION
    offset = months_between(reference, month)
    if offset < -MAX_ARREARS_MONTHS or offset > MAX_MONTHS_AHEAD:
        return reasons.MONTH_OUT_OF_WINDOW
    paid_set = paid if isinstance(paid, set | frozenset) else set(paid)
    if month in paid_set:
        return reasons.ALREADY_PAID
    if offset < 0 and not (_arrears_open(paid_set, reference) and _follows_paid(paid_set, month)):
        return reasons.ARREARS_NOT_PAYABLE
    return None


def payable_months(paid: Iterable[date], *, reference: date, registered: date) -> list[date]:
    """Every month a payment made in ``reference`` may cover, oldest first."""
    paid_set = set(paid)
    first = add_months(reference, -MAX_ARREARS_MONTHS)
    return [
        add_months(first, step)
        for step in range(MAX_ARREARS_MONTHS + MAX_MONTHS_AHEAD + 1)
        if month_verdict(add_months(first, step), reference=reference, registered=registered, paid=paid_set) is None
    ]


__all__ = [
    "ENDED_AFTER_UNPAID",
    "MAX_ARREARS_MONTHS",
    "MAX_MONTHS_AHEAD",
    "Membership",
    "State",
    "membership",
    "month_index",
    "month_verdict",
    "payable_months",
]
