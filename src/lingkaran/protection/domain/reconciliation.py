"""Pure rules of reconciliation: what we paid against what the agency reports, per worker-month.

No Django, no clock. ``protection/reconciliation.py`` reads the rows and asks here which worker-months are exceptions
(docs/subsystems/protection-reconciliation.md).

Three kinds:

* ``paid_inactive``: a line of month M is confirmed, yet the agency's latest status, taken in month M or later, does
  not show the participant covered through M (its last paid month is before M, or nothing is paid, or the status
  taken in M itself is not active);
* ``active_unpaid``: the agency's status shows month M paid for a worker we know (the status taken in M is active,
  or M is its last paid month), while we have no confirmed line and no sponsored worker-month (no other payer
  recorded) for M. Only judged for workers our cycle has billed at least once: elsewhere our data cannot say;
* ``rejected``: a line of month M the agency refused, with its reason; the cycle returned its money to the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

COVERED_STATES = frozenset({"active", "reactivated"})


class Kind(StrEnum):
    PAID_INACTIVE = "paid_inactive"
    ACTIVE_UNPAID = "active_unpaid"
    REJECTED = "rejected"


class Action(StrEnum):
    RESUBMIT = "resubmit"
    ESCALATE = "escalate"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Status:
    """The agency's latest known membership of a participant."""

    state: str
    as_of: date
    last_paid_month: date | None


def paid_but_inactive(month: date, status: Status | None) -> bool:
    """A confirmed month M the agency does not show covered. No status, or one taken before M: nothing to say."""
    if status is None or status.as_of < month:
        return False
    if status.last_paid_month is None or status.last_paid_month < month:
        return True
    return status.as_of == month and status.state not in COVERED_STATES


def active_but_unpaid(month: date, status: Status | None, *, we_paid: bool, other_payer: bool) -> bool:
    """The agency shows M paid, and we neither paid it nor know who did. M is known paid only when the status taken in
    M says covered (active means the month is paid), or when M is the last paid month; months between are not known."""
    if we_paid or other_payer or status is None:
        return False
    if status.as_of == month and status.state in COVERED_STATES:
        return True
    return status.last_paid_month == month


def exception_state(actions: list[str]) -> str:
    """``resolved`` once a resolve action is recorded, else ``open``."""
    return "resolved" if Action.RESOLVE in actions else "open"
