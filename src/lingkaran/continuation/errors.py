"""Continuation errors with stable codes (never reuse a code for another meaning)."""

from django.utils.translation import gettext_lazy as _

from lingkaran.core.errors import Conflict, InvalidInput


class PlanMonthsTaken(Conflict):
    """Some months of the plan are already planned or sponsored for this worker. ``details``: ``months``."""

    code = "plan_months_taken"
    default_message = _("Some of these months are already paid for this worker by a plan or a sponsorship.")


class PlanPoolInsufficient(Conflict):
    """The funder pool cannot reserve its part of every month. ``details``: ``pool``, ``available``, ``needed``."""

    code = "plan_pool_insufficient"
    default_message = _("There is not enough money in the funder pool for its part of the plan; nothing was reserved.")


class PaymentDuplicate(Conflict):
    """This receipt number was already recorded for another payment. ``details``: ``receipt_number``."""

    code = "payment_receipt_taken"
    default_message = _("This receipt number is already recorded for another payment.")


def field_error(name: str, message) -> InvalidInput:
    return InvalidInput(details={"fields": {name: [str(message)]}})
