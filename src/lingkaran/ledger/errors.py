from django.utils.translation import gettext_lazy as _

from lingkaran.core.errors import Conflict, DomainError


class PostingInvalid(DomainError):
    code = "posting_invalid"
    http_status = 422
    default_message = _("This posting is not a valid double entry.")


class InsufficientFunds(DomainError):
    """A trust account would go below zero. ``details`` says which account and how much is available."""

    code = "pool_insufficient"
    http_status = 409
    default_message = _("Not enough money in the account.")


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    default_message = _("This idempotency key was already used for a different posting.")


class PeriodClosed(DomainError):
    code = "period_closed"
    http_status = 409
    default_message = _("The accounting period is closed; post a correction in an open period.")


class ReservationStateError(Conflict):
    code = "reservation_state"
    default_message = _("The reservation is no longer pending.")


class ReversalNotAllowed(Conflict):
    code = "reversal_not_allowed"
    default_message = _("This entry cannot be reversed (it is a reversal, or already reversed).")


class AccountUnknown(DomainError):
    code = "account_unknown"
    http_status = 404
    default_message = _("No such ledger account.")
