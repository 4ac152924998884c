"""Bank transfers from companies and Pemda, and the gateways' payouts: importing the trust account's statement and
matching its lines.

A line matches when its reference or description carries an invoice's payment reference (or a payment intent's
order id) **and** its amount fits exactly: no more than the invoice still owes (less makes it partially paid), or
exactly the intent's amount. A match posts ``bank:{line hash}`` from the trust bank account into the funder's pool
(or settles the intent, with its receipt), in the line's own savepoint.

A line with neither that names one payment gateway (``domain/payouts.py``) is that gateway's payout of money it
collected: when its amount is no more than what is still in ``asset:clearing:{gateway}``, it posts ``bank:{line
hash}`` moving it from the clearing account into the trust bank account. Finance can match a payout by hand too,
with the fee the gateway kept (from its settlement report), which moves from clearing into
``expense:gateway_fees:{gateway}`` in the same entry.

Everything else is listed as unmatched for finance to look at; a line seen in an earlier import is marked a
duplicate and posts nothing. Importing the same file again returns the first import.
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lingkaran.core.access import require
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import Capability
from lingkaran.funding import accounts
from lingkaran.funding.domain import bank_statements, payouts
from lingkaran.funding.domain.intents import OPEN
from lingkaran.funding.domain.references import find_invoice_references, find_order_ids, order_id_from_normalized
from lingkaran.funding.errors import StatementUnreadable
from lingkaran.funding.models import BankStatementImport, BankStatementLine, Invoice, PaymentIntent
from lingkaran.funding.services import settlement
from lingkaran.funding.services._common import logger
from lingkaran.ledger import selectors as ledger_selectors
from lingkaran.ledger import services as ledger
from lingkaran.ledger.domain.posting import AccountType, credit, debit

MAX_FILE_BYTES = 20 * 1024 * 1024
Line = BankStatementLine.State


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", "replace")  # older bank exports are Windows-1252


def bank_statement_import(*, actor, filename: str, content: bytes) -> BankStatementImport:
    require(actor, Capability.MANAGE_MONEY)
    if len(content) > MAX_FILE_BYTES:
        raise StatementUnreadable(_("The file is larger than 20 MB; export a shorter period."))
    digest = hashlib.sha256(content).hexdigest()
    existing = BankStatementImport.objects.filter(file_sha256=digest).first()
    if existing is not None:
        return existing
    try:
        parsed = bank_statements.parse_statement(_decode(content))
    except bank_statements.StatementUnreadable as exc:
        raise StatementUnreadable(details={"reason": str(exc)}) from None
    try:
        with transaction.atomic():
            statement = BankStatementImport.objects.create(
                uploaded_by=actor,
                filename=(filename or "statement.csv")[:200],
                file_sha256=digest,
                outgoing=parsed.outgoing,
                errors=[{"row": row, "message": message} for row, message in parsed.errors],
            )
            counts = {Line.MATCHED: 0, Line.UNMATCHED: 0, Line.DUPLICATE: 0}
            for line in parsed.lines:
                counts[_import_line(statement, line)] += 1
            statement.matched = counts[Line.MATCHED]
            statement.unmatched = counts[Line.UNMATCHED]
            statement.duplicates = counts[Line.DUPLICATE]
            statement.save(update_fields=["matched", "unmatched", "duplicates"])
            audit_record(
                actor=actor,
                action="funding.bank_statement_import",
                target=statement,
                details={
                    "matched": statement.matched,
                    "unmatched": statement.unmatched,
                    "duplicates": statement.duplicates,
                },
            )
    except IntegrityError:
        # The same file was imported by someone else at the same moment.
        return BankStatementImport.objects.get(file_sha256=digest)
    return statement


def _import_line(statement: BankStatementImport, line: bank_statements.StatementLine) -> str:
    fields = {
        "statement": statement,
        "row": line.row,
        "booked_on": line.booked_on,
        "amount": line.amount,
        "reference": line.reference,
        "description": line.description,
        "line_hash": line.line_hash,
    }
    try:
        with transaction.atomic():
            row = BankStatementLine.objects.create(state=Line.UNMATCHED, **fields)  # claims the line's hash
            _match(row)
            return row.state
    except IntegrityError:
        prior = BankStatementLine.objects.exclude(state=Line.DUPLICATE).filter(line_hash=line.line_hash).first()
        BankStatementLine.objects.create(
            state=Line.DUPLICATE,
            note=f"already imported: statement {prior.statement_id}, row {prior.row}" if prior else "already imported",
            **fields,
        )
        return Line.DUPLICATE


def _match(row: BankStatementLine) -> None:
    text = f"{row.reference} {row.description}"
    references = find_invoice_references(text)
    if references:
        invoices = list(Invoice.objects.select_for_update().filter(payment_reference__in=references).order_by("pk"))
        if len(invoices) == 1:
            _pay_invoice(row, invoices[0])
            return
        row.note = "several invoice references" if invoices else "invoice reference not found"
    else:
        order_ids = [order_id_from_normalized(found) for found in find_order_ids(text)]
        intents = list(
            PaymentIntent.objects.select_for_update()
            .filter(order_id__in=order_ids, state__in=list(OPEN))
            .order_by("pk")
        )
        if len(intents) == 1:
            _pay_intent(row, intents[0])
            return
        gateway = payouts.payout_gateway(text) if not order_ids else None
        if gateway is not None:
            _pay_out(row, gateway)
            return
        row.note = "order id not found or not waiting for payment" if order_ids else "no payment reference"
    row.save(update_fields=["note"])


def gateway_fees_account(gateway: str) -> str:
    return f"expense:gateway_fees:{gateway}"


def open_gateway_fees(gateway: str) -> str:
    """``expense:gateway_fees:{gateway}``: what a gateway kept from its payouts as its fee (opened on first use)."""
    code = gateway_fees_account(gateway)
    ledger.account_open(ledger.AccountSpec(code, f"Fees kept by {gateway}", AccountType.EXPENSE))
    return code


def in_clearing(gateway: str) -> int:
    """What a gateway still holds for us by the ledger: collected, less refunded and paid out."""
    return ledger_selectors.balance_of(accounts.clearing(gateway)) if _has_account(accounts.clearing(gateway)) else 0


def _has_account(code: str) -> bool:
    return code in ledger_selectors.balances(code)


def _pay_out(row: BankStatementLine, gateway: str, fee: int = 0) -> None:
    """A gateway's payout: clearing → bank (and its fee → expense), if the clearing account holds that much."""
    held = in_clearing(gateway)
    if not payouts.payout_fits(amount=row.amount, fee=fee, in_clearing=held):
        row.gateway = gateway
        row.note = f"payout of {row.amount} (fee {fee}) is more than {held} still in clearing at {gateway}"
        row.save(update_fields=["gateway", "note"])
        logger.warning("bank line not matched: %s", row.note)
        return
    clearing = accounts.open_clearing(gateway)
    legs = [debit(accounts.open_bank(), row.amount), credit(clearing, row.amount + fee)]
    if fee:
        legs.insert(1, debit(open_gateway_fees(gateway), fee))
    entry = ledger.post_entry(
        key=f"bank:{row.line_hash}",
        legs=legs,
        effective_on=row.booked_on,
        description=f"Payout from {gateway}",
        metadata={"gateway": gateway, "fee": fee, "line": row.pk},
    )
    row.state, row.gateway, row.fee, row.ledger_entry_id, row.note = Line.MATCHED, gateway, fee, entry.pk, ""
    row.save(update_fields=["state", "gateway", "fee", "ledger_entry_id", "note"])


def _pay_invoice(row: BankStatementLine, invoice: Invoice) -> None:
    outstanding = invoice.amount - invoice.paid_amount
    if row.amount > outstanding:
        row.invoice = invoice
        row.note = f"amount {row.amount} is more than invoice {invoice.number} still owes ({outstanding})"
        row.save(update_fields=["invoice", "note"])
        logger.warning("bank line not matched: %s", row.note)
        return
    funder_id = invoice.agreement.funder_id
    pool = accounts.open_pool(target="funder", funder_id=funder_id)
    entry = ledger.transfer(
        key=f"bank:{row.line_hash}",
        source=accounts.open_bank(),
        target=pool,
        amount=row.amount,
        effective_on=row.booked_on,
        description=f"Bank transfer for invoice {invoice.number}",
        metadata={"invoice": invoice.pk, "payment_reference": invoice.payment_reference},
    )
    invoice.paid_amount += row.amount
    invoice.state = Invoice.State.PAID if invoice.paid_amount == invoice.amount else Invoice.State.PARTIALLY_PAID
    invoice.save(update_fields=["paid_amount", "state"])
    row.state, row.invoice, row.ledger_entry_id = Line.MATCHED, invoice, entry.pk
    row.save(update_fields=["state", "invoice", "ledger_entry_id"])


def _pay_intent(row: BankStatementLine, intent: PaymentIntent) -> None:
    if row.amount != intent.amount or intent.in_review:
        row.intent = intent
        row.note = f"amount {row.amount} differs from payment {intent.order_id} ({intent.amount})"
        row.save(update_fields=["intent", "note"])
        logger.warning("bank line not matched: %s", row.note)
        return
    intent = PaymentIntent.objects.select_for_update(of=("self",)).select_related("donation").get(pk=intent.pk)
    settlement.settle(
        intent,
        key=f"bank:{row.line_hash}",
        source_account=accounts.open_bank(),
        transaction_id=f"bank:{row.line_hash[:20]}",
        effective_on=row.booked_on,
    )
    row.state, row.intent, row.ledger_entry_id = Line.MATCHED, intent, intent.settlement_entry_id
    row.save(update_fields=["state", "intent", "ledger_entry_id"])


def bank_line_match_payout(*, actor, line: BankStatementLine, gateway: str, fee: int = 0) -> BankStatementLine:
    """Finance matches an unmatched line to a gateway's payout by hand (a transfer whose text does not name the
    gateway, or a payout net of fees), stating the fee the gateway kept. The line and its fee must fit what is
    still in that gateway's clearing account."""
    from django.utils.translation import gettext as _

    from lingkaran.funding.services._common import field_error

    require(actor, Capability.MANAGE_MONEY)
    if gateway not in payouts.GATEWAYS:
        raise field_error("gateway", _("Choose a payment gateway."))
    if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
        raise field_error("fee", _("Enter a whole number of rupiah, or 0."))
    with transaction.atomic():
        row = BankStatementLine.objects.select_for_update().get(pk=line.pk)
        if row.state != Line.UNMATCHED:
            return row
        _pay_out(row, gateway, fee)
        if row.state == Line.MATCHED:
            audit_record(
                actor=actor,
                action="funding.bank_line_payout",
                target=row.statement,
                details={"line": row.pk, "gateway": gateway, "amount": row.amount, "fee": fee},
            )
    return row


def bank_line_match(*, actor, line: BankStatementLine, invoice: Invoice) -> BankStatementLine:
    """Finance matches an unmatched line to an invoice by hand (a transfer without its reference). The amount rule
    still holds: no more than the invoice still owes."""
    require(actor, Capability.MANAGE_MONEY)
    with transaction.atomic():
        row = BankStatementLine.objects.select_for_update().get(pk=line.pk)
        if row.state != Line.UNMATCHED:
            return row
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _pay_invoice(row, invoice)
        if row.state == Line.MATCHED:
            audit_record(
                actor=actor,
                action="funding.bank_line_match",
                target=invoice,
                details={"line": row.pk, "amount": row.amount, "at": timezone.now().isoformat()},
            )
    return row
