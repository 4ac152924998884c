"""Double-entry posting rules: pure functions over integer rupiah. No Django, no database.

A journal entry is balanced when its debit legs and its credit legs add up to the same amount; every leg is a positive
whole number of rupiah on one side (D or C) of one account. An account's balance is kept in its *normal* direction:
debits increase assets and expenses, credits increase liabilities, income and equity. Trust money (a funder's pool, a
campaign, a reservation, what is payable to the agency) sits in liability accounts that may never go below zero.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Side(StrEnum):
    DEBIT = "D"
    CREDIT = "C"


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


DEBIT_NORMAL = frozenset({AccountType.ASSET, AccountType.EXPENSE})


class PostingError(ValueError):
    """A posting that can never be valid, whatever the balances (unbalanced, non-positive leg, …)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Leg:
    account: str  # account code
    side: Side
    amount: int

    def __post_init__(self):
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise PostingError("amount_not_integer", f"leg amount must be whole rupiah (int), got {self.amount!r}")
        if self.amount <= 0:
            raise PostingError("amount_not_positive", f"leg amount must be positive, got {self.amount}")
        if Side(self.side) not in (Side.DEBIT, Side.CREDIT):
            raise PostingError("side_invalid", f"side must be D or C, got {self.side!r}")


def debit(account: str, amount: int) -> Leg:
    return Leg(account, Side.DEBIT, amount)


def credit(account: str, amount: int) -> Leg:
    return Leg(account, Side.CREDIT, amount)


def check_balanced(legs: list[Leg] | tuple[Leg, ...]) -> int:
    """Raise PostingError unless the legs form a valid entry; return the entry's total."""
    if len(legs) < 2:
        raise PostingError("too_few_legs", "an entry needs at least two legs")
    debits = sum(leg.amount for leg in legs if leg.side == Side.DEBIT)
    credits = sum(leg.amount for leg in legs if leg.side == Side.CREDIT)
    if debits != credits:
        raise PostingError("unbalanced", f"debits {debits} differ from credits {credits}")
    if debits == 0:
        raise PostingError("empty", "an entry must move money")
    return debits


def balance_delta(account_type: str, side: str, amount: int) -> int:
    """How a leg changes an account's balance in its normal direction."""
    normal_debit = AccountType(account_type) in DEBIT_NORMAL
    return amount if (side == Side.DEBIT) == normal_debit else -amount


def net_by_account(legs: list[Leg] | tuple[Leg, ...]) -> dict[str, tuple[int, int]]:
    """{account: (debit total, credit total)} of an entry's legs."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for leg in legs:
        totals[leg.account][0 if leg.side == Side.DEBIT else 1] += leg.amount
    return {account: (d, c) for account, (d, c) in totals.items()}


def reversal_of(legs: list[Leg] | tuple[Leg, ...]) -> tuple[Leg, ...]:
    """The legs that undo an entry: every leg on the other side."""
    return tuple(Leg(leg.account, Side.CREDIT if leg.side == Side.DEBIT else Side.DEBIT, leg.amount) for leg in legs)


def content_hash(*, legs: list[Leg] | tuple[Leg, ...], effective_on: date, reverses: int | None = None) -> str:
    """A fingerprint of what an entry means (its legs in any order, its date, what it reverses), for idempotency:
    the same key with the same content is the same posting; with other content it is a conflict."""
    canonical = {
        "legs": sorted([leg.account, str(leg.side), leg.amount] for leg in legs),
        "effective_on": effective_on.isoformat(),
        "reverses": reverses,
    }
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()
