"""Funding errors with stable codes (never reuse a code for another meaning)."""

from django.utils.translation import gettext_lazy as _

from lingkaran.core.errors import Conflict, DomainError, InvalidInput


class DonationTooSmall(InvalidInput):
    code = "donation_below_minimum"
    default_message = _("The amount is below the minimum donation.")


class TargetNotAccepting(Conflict):
    code = "target_not_accepting"
    default_message = _("This campaign does not take donations now.")


class CampaignStateError(Conflict):
    code = "campaign_state"
    default_message = _("The campaign cannot make this change in its current state.")


class AgreementStateError(Conflict):
    code = "agreement_state"
    default_message = _("The agreement cannot make this change in its current state.")


class InvoiceExceedsBudget(Conflict):
    code = "invoice_exceeds_budget"
    default_message = _("The invoices would exceed the agreement's budget.")


class PledgeStateError(Conflict):
    code = "pledge_state"
    default_message = _("The monthly donation cannot make this change in its current state.")


class GatewayUnavailable(DomainError):
    code = "gateway_unavailable"
    http_status = 503
    default_message = _("The payment service cannot be reached. Please try again in a few minutes.")


class GatewayRefused(DomainError):
    code = "gateway_refused"
    http_status = 502
    default_message = _("The payment service refused the request.")


class RefundNotPossible(Conflict):
    """Covers every refusal of a refund; ``details['refundable']`` says how much could be refunded instead."""

    code = "refund_not_possible"
    default_message = _("This refund is not possible.")


class RefundExceedsAvailable(Conflict):
    """The pool no longer holds the money: it is reserved for or paid to workers' coverage.
    ``details['refundable']`` is the most that can be refunded now."""

    code = "refund_exceeds_available"
    default_message = _("Only part of this payment can be refunded: the rest is already committed to workers.")


class RefundApprovalError(Conflict):
    code = "refund_approval"
    default_message = _("This refund needs an approval from another finance officer or an operator.")


class RefundStateError(Conflict):
    code = "refund_state"
    default_message = _("The refund cannot make this change in its current state.")


class StatementUnreadable(InvalidInput):
    code = "statement_unreadable"
    default_message = _("The file is not a bank statement this platform can read.")


class ReceiptUnavailable(Conflict):
    code = "receipt_unavailable"
    default_message = _("This donation has no receipt yet: it is not paid.")


class SignupRateLimited(DomainError):
    """Too many donor sign-ups from one client address in the window (``services.donors.SIGNUP_LIMIT``)."""

    code = "rate_limited"
    http_status = 429
    default_message = _("Too many sign-up attempts from this connection. Please wait an hour and try again.")
