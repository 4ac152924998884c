"""The payment-intent state machine: pure rules, no Django.

A payment intent only moves forward::

    created ─► pending ─► settled ─► partially_refunded ─► refunded
       │          │   ╲        ╲___________________________▲
       │          │    ► expired | cancelled | failed
       └──────────┴──► (created may skip pending: a gateway can report the outcome first)

An event that would move an intent backwards (a stale ``pending`` arriving after ``settled``) or sideways (``settled``
after ``expired``) is recorded and ignored. The same list of allowed moves is installed as a database trigger on
PostgreSQL and SQLite (migrations ``0003_payment_intent_forward_only`` and ``0004_review_resolution``); a test keeps
the two in step.

One sideways move exists, and only through a person: a payment the gateway collected after the intent expired, was
cancelled or failed here waits in the review queue, and a finance officer may accept it (``ALLOWED_IN_REVIEW``).
"""

from __future__ import annotations

from enum import StrEnum


class PaymentState(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    SETTLED = "settled"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


S = PaymentState
FINAL_UNPAID = frozenset({S.EXPIRED, S.CANCELLED, S.FAILED})
PAID = frozenset({S.SETTLED, S.PARTIALLY_REFUNDED, S.REFUNDED})
OPEN = frozenset({S.CREATED, S.PENDING})

# Every move a payment intent may make, as (from, to).
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        (S.CREATED, S.PENDING),
        (S.CREATED, S.SETTLED),
        (S.CREATED, S.EXPIRED),
        (S.CREATED, S.CANCELLED),
        (S.CREATED, S.FAILED),
        (S.PENDING, S.SETTLED),
        (S.PENDING, S.EXPIRED),
        (S.PENDING, S.CANCELLED),
        (S.PENDING, S.FAILED),
        (S.SETTLED, S.PARTIALLY_REFUNDED),
        (S.SETTLED, S.REFUNDED),
        (S.PARTIALLY_REFUNDED, S.REFUNDED),
    }
)

# Moves allowed only while the intent is held for review, when a finance officer accepts a payment the gateway
# collected after it was closed here. The trigger checks the intent's ``in_review`` flag for these.
ALLOWED_IN_REVIEW: frozenset[tuple[str, str]] = frozenset(
    {
        (S.EXPIRED, S.SETTLED),
        (S.CANCELLED, S.SETTLED),
        (S.FAILED, S.SETTLED),
    }
)

# How far along an intent is; a status with a lower rank than the intent's is stale.
RANK = {
    S.CREATED: 0,
    S.PENDING: 1,
    S.SETTLED: 2,
    S.EXPIRED: 2,
    S.CANCELLED: 2,
    S.FAILED: 2,
    S.PARTIALLY_REFUNDED: 3,
    S.REFUNDED: 4,
}


class Decision(StrEnum):
    APPLY = "apply"  # a forward move: take it
    SAME = "same"  # already there: nothing to do (a duplicate)
    IGNORE = "ignore"  # backwards or sideways: record and ignore


def can_move(current: str, target: str) -> bool:
    return (PaymentState(current), PaymentState(target)) in ALLOWED


def decide(current: str, incoming: str) -> Decision:
    """What to do with an ``incoming`` status for an intent that is ``current``."""
    current, incoming = PaymentState(current), PaymentState(incoming)
    if current == incoming:
        return Decision.SAME
    if (current, incoming) in ALLOWED:
        return Decision.APPLY
    return Decision.IGNORE


def is_stale(current: str, incoming: str) -> bool:
    """True when ``incoming`` lies behind ``current`` (for example ``pending`` after ``settled``)."""
    return RANK[PaymentState(incoming)] < RANK[PaymentState(current)]


def after_refund(settled_amount: int, refunded_amount: int) -> PaymentState:
    """The state of a settled intent once ``refunded_amount`` of its ``settled_amount`` has gone back."""
    if refunded_amount <= 0:
        return S.SETTLED
    if refunded_amount >= settled_amount:
        return S.REFUNDED
    return S.PARTIALLY_REFUNDED
