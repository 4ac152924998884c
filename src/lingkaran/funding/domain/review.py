"""The review queue's choices: pure rules over a payment's state and amounts, no Django.

A payment is held for review when the automatic path must not decide alone (``services/intake.py``), and a finance
officer resolves it (``services/review.py``):

- The gateway collected money for an intent that posted nothing here: an amount that differs from the donation's, or
  a payment after the intent expired, was cancelled or failed. Finance **accepts** it (the amount the gateway
  collected becomes the donation's amount and is posted into its pool, with a receipt), **returns** it to the payer
  through the gateway's refund API (nothing is posted; the donation is cancelled), or **closes** it with a note (dealt
  with outside the platform; nothing is posted).
- The gateway reports a refund of a paid donation that was not made here. Finance **records** it (posted back out of
  the pool like a refund made here, so the pool no longer counts money that has left) or closes it with a note.
"""

from __future__ import annotations

from enum import StrEnum

from lingkaran.funding.domain.intents import ALLOWED, ALLOWED_IN_REVIEW, PAID, PaymentState


class ReviewAction(StrEnum):
    ACCEPT = "accept"
    RETURN = "return"
    RECORD_REFUND = "record_refund"
    CLOSE = "close"


A = ReviewAction
# Actions that move money (in the ledger or at the gateway): they need the amount confirmed by the person acting.
MOVES_MONEY = frozenset({A.ACCEPT, A.RETURN, A.RECORD_REFUND})


def actions_for(state: str) -> tuple[ReviewAction, ...]:
    """What finance may do with a payment in review, by the intent's state."""
    if PaymentState(state) in PAID:
        return (A.RECORD_REFUND, A.CLOSE)
    return (A.ACCEPT, A.RETURN, A.CLOSE)


def can_settle_in_review(state: str) -> bool:
    """Whether an intent in review, in ``state``, may be settled by accepting what the gateway collected."""
    move = (PaymentState(state), PaymentState.SETTLED)
    return move in ALLOWED or move in ALLOWED_IN_REVIEW


def recordable_refund(*, settled: int, refunded: int) -> int:
    """The most a refund made at the gateway can be recorded for: what the payment settled and has not refunded."""
    return max(0, settled - refunded)
