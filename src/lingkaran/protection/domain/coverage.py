"""Coverage of one worker, from the contribution months paid: pure rules, no database.

The state comes from the agency simulator's membership rules (``agency/domain/membership.py``; domain.md section 3),
not from a copy of them. This module only adds what the pages show around the state: the month protection runs
through, the next due date (the 15th of the contribution month) and, in grace, the month before which the arrears
must be paid. The agency's status file (``MembershipStatus``) may know a later paid month (a payment made by the
worker at a partner channel) and whether an ended membership is *nonaktif*; both are folded in here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from lingkaran.protection.agency.domain.membership import (
    COVERED_STATES,
    ENDED_AFTER_UNPAID,
    State,
    membership,
)
from lingkaran.protection.agency.domain.months import add_months, first_of_month

DUE_DAY = 15  # contributions are due by the 15th of the contribution month itself (domain.md section 3)


@dataclass(frozen=True)
class Coverage:
    state: State
    reference: date  # the month the question is asked in
    last_paid: date | None  # latest paid month up to the reference month
    protected_through: date | None  # the last month with cover (paid through), None when nothing was ever paid
    next_due: date | None  # the date the next contribution is due, None when ended or not started
    pay_before: date | None  # in grace: the arrears must be paid before this date, else the membership ends
    arrears: tuple[date, ...]  # in grace (or active with a gap): past months still payable

    @property
    def covered(self) -> bool:
        return self.state in COVERED_STATES


def due_date(month: date) -> date:
    return month.replace(day=DUE_DAY)


def coverage(
    paid: Iterable[date],
    today: date,
    *,
    registered: date | None = None,
    agency_state: str = "",
    agency_last_paid: date | None = None,
) -> Coverage:
    """The coverage on ``today`` given every month paid (ours), and what the agency's status file says, if anything."""
    months = set(paid)
    if agency_last_paid is not None:
        months.add(first_of_month(agency_last_paid))
    reference = first_of_month(today)
    member = membership(months, reference, registered=registered)
    state = member.state
    if state == State.ENDED and agency_state == State.INACTIVE:
        state = State.INACTIVE  # ended after a JHT claim: the agency calls it *nonaktif*
    through = member.paid_through if member.state in COVERED_STATES else member.last_paid
    next_due = pay_before = None
    if member.state in COVERED_STATES:
        next_due = due_date(add_months(member.paid_through, 1))
    elif member.state == State.GRACE:
        next_due = due_date(reference)
        pay_before = add_months(member.last_paid, ENDED_AFTER_UNPAID)
    return Coverage(state, reference, member.last_paid, through, next_due, pay_before, member.arrears_payable)


__all__ = ["DUE_DAY", "Coverage", "State", "coverage", "due_date"]
