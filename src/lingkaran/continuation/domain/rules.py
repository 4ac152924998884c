"""Pure rules of continuation: how a co-paid month splits between the worker and the funder, and how the worker's
part is covered on billing day (own money, then the bridge fund, else not billed).

No Django, no clock (docs/subsystems/continuation.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lingkaran.protection.domain.cofunding import MIN_SHARE_BP, WHOLE, split_amount

MAX_MONTHS = 24
WORKER_POOL_PREFIX = "liability:pool:worker:"


class PlanInvalid(ValueError):
    """The shares of a plan are not valid: ``code`` says why (``no_months``, ``too_many_months``,
    ``share_out_of_range``)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def worker_pool(worker_id: int) -> str:
    """The worker's own money in trust: ``liability:pool:worker:42``."""
    return f"{WORKER_POOL_PREFIX}{worker_id}"


def check_shares(shares_bp: Sequence[int]) -> None:
    """A plan names the worker's share of each month in basis points: at least 1 % and at most 99 % (a co-paid month,
    the funder pays at least 1 % too), or exactly 100 % (a ``self`` month)."""
    if not shares_bp:
        raise PlanInvalid("no_months")
    if len(shares_bp) > MAX_MONTHS:
        raise PlanInvalid("too_many_months")
    for share in shares_bp:
        if not isinstance(share, int) or isinstance(share, bool):
            raise PlanInvalid("share_out_of_range")
        if share != WHOLE and not MIN_SHARE_BP <= share <= WHOLE - MIN_SHARE_BP:
            raise PlanInvalid("share_out_of_range")


def step_down(first_bp: int, step_bp: int, months: int) -> tuple[int, ...]:
    """The worker's share rising by ``step_bp`` each month from ``first_bp``, capped at 100 %: ``step_down(2500,
    2500, 4)`` → 2,500, 5,000, 7,500, 10,000 (the funder's part steps down)."""
    return tuple(min(WHOLE, first_bp + i * step_bp) for i in range(months))


def month_parts(amount: int, worker_bp: int) -> tuple[int, int]:
    """(funder's part, worker's part) of a month's ``amount``: the exact split of co-funding
    (``protection.domain.cofunding.split_amount``, funder first); a 100 % month is the worker's alone."""
    if worker_bp == WHOLE:
        if amount < 0:
            raise ValueError("amount must be zero or more")
        return 0, amount
    funder, worker = split_amount(amount, (WHOLE - worker_bp, worker_bp))
    return funder, worker


def line_kind(worker_bp: int, bridged: int) -> str:
    """The kind of the agency line: ``bridged`` when the bridge fund advanced part of it, else ``self`` for a month the
    worker pays alone, else ``co_paid``."""
    if bridged:
        return "bridged"
    return "self" if worker_bp == WHOLE else "co_paid"


@dataclass(frozen=True)
class Due:
    """One worker's part due on billing day and what the worker holds in trust."""

    key: int  # the plan month
    worker_part: int
    balance: int


@dataclass(frozen=True)
class Cover:
    key: int
    own: int  # from the worker's own pool
    bridged: int  # advanced by the bridge fund (the worker's debt)
    billed: bool  # False: neither was enough, the month is not billed (the worker goes to grace)


def cover_all(dues: Sequence[Due], bridge_available: int) -> tuple[Cover, ...]:
    """How each worker's part is paid, in the given order (the caller sorts: plan month id).

    The worker's own money pays first, up to the part. The shortfall is advanced by the bridge fund while the fund can
    pay it whole; a month the fund cannot pay whole is not billed and takes nothing, neither from the worker nor from
    the fund (the fund's remaining money still bridges later, smaller shortfalls). So for every billed month
    ``own + bridged == worker_part``, and no part is ever negative."""
    covers = []
    left = bridge_available
    for due in dues:
        if due.worker_part < 0 or due.balance < 0:
            raise ValueError("parts and balances are zero or more")
        own = min(due.balance, due.worker_part)
        short = due.worker_part - own
        if short <= left:
            left -= short
            covers.append(Cover(due.key, own, short, True))
        else:
            covers.append(Cover(due.key, 0, 0, False))
    return tuple(covers)


def repayment(debt: int, balance: int) -> int:
    """What a payment repays of the worker's debt to the bridge fund: all of it that the balance can."""
    return max(0, min(debt, balance))
