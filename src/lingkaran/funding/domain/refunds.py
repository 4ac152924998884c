"""Refund rules: how much can go back, and who must approve it. Pure functions over integer rupiah.

Money that a pool has already reserved for workers or paid to the agency is committed: it is no longer in the pool
and can never be refunded. A refund is therefore limited by three amounts at once: what the payment settled, minus
what was refunded or is being refunded already, and what the pool still holds.
"""

from __future__ import annotations


def refundable(*, settled: int, refunded: int, in_progress: int, pool_available: int) -> int:
    """The largest refund possible now (never negative)."""
    return max(0, min(settled - refunded - in_progress, pool_available))


def needs_second_approval(amount: int, threshold: int) -> bool:
    """Above ``threshold`` a second person (another finance officer or an operator) must approve."""
    return amount > threshold


def is_full_reversal(*, amount: int, settled: int, refunded_before: int) -> bool:
    """A refund of the whole payment, with nothing refunded before, reverses the donation's entry; anything else is
    its own transfer back."""
    return refunded_before == 0 and amount == settled
