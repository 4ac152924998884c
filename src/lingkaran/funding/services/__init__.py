"""Writes for funding, one module per area; the public services are re-exported here.

- ``funders``: funders, members, agreements (PKS), invoices
- ``campaigns``: draft, submit, approve (operators only), return, close
- ``donations``: start a donation and its payment link; monthly pledges
- ``intake``: gateway notifications in, money posted once
- ``settlement``, ``receipts``: the one place a donation's money is posted, with its gap-free receipt
- ``refunds``: request, second approval, execution in the ledger, then at the gateway
- ``donors``: donors' personal data revealed or exported in full (audited)
- ``review``: resolving payments held for review (accept and post, return to the payer, record a refund made at
  the gateway, close with a note)
- ``bank``: bank-statement import and matching (invoices, donations by transfer, gateways' payouts)
"""

from lingkaran.funding.services.bank import bank_line_match, bank_line_match_payout, bank_statement_import
from lingkaran.funding.services.campaigns import (
    campaign_approve,
    campaign_close,
    campaign_create,
    campaign_return,
    campaign_submit,
    campaign_update,
)
from lingkaran.funding.services.donations import (
    DonationTarget,
    donation_start,
    payment_link_create,
    recurring_cancel,
    recurring_charge_due,
    recurring_pause,
    recurring_resume,
)
from lingkaran.funding.services.donors import (
    donation_reveal_donor,
    donations_export_personal,
    donor_signup,
    may_reveal_donors,
)
from lingkaran.funding.services.funders import (
    agreement_activate,
    agreement_create,
    agreement_end,
    funder_add_member,
    funder_create,
    funder_update,
    invoice_issue,
)
from lingkaran.funding.services.intake import intake_process, intake_receive, intake_sweep, intent_review_close
from lingkaran.funding.services.refunds import (
    refund_approve,
    refund_execute,
    refund_reject,
    refund_request,
    refundable_now,
)
from lingkaran.funding.services.review import (
    intent_review_accept,
    intent_review_record_refund,
    intent_review_resolve_close,
    intent_review_return,
)

__all__ = [
    "DonationTarget",
    "agreement_activate",
    "agreement_create",
    "agreement_end",
    "bank_line_match",
    "bank_line_match_payout",
    "bank_statement_import",
    "campaign_approve",
    "campaign_close",
    "campaign_create",
    "campaign_return",
    "campaign_submit",
    "campaign_update",
    "donation_reveal_donor",
    "donation_start",
    "donations_export_personal",
    "donor_signup",
    "funder_add_member",
    "funder_create",
    "funder_update",
    "intake_process",
    "intake_receive",
    "intake_sweep",
    "intent_review_accept",
    "intent_review_close",
    "intent_review_record_refund",
    "intent_review_resolve_close",
    "intent_review_return",
    "invoice_issue",
    "may_reveal_donors",
    "payment_link_create",
    "recurring_cancel",
    "recurring_charge_due",
    "recurring_pause",
    "recurring_resume",
    "refund_approve",
    "refund_execute",
    "refund_reject",
    "refund_request",
    "refundable_now",
]
