"""Writes for funders, their members, agreements (PKS) and invoices."""

from __future__ import annotations

import secrets
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from lingkaran.core.access import require, require_role
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.core.errors import InvalidInput
from lingkaran.funding import accounts
from lingkaran.funding.domain.references import invoice_reference
from lingkaran.funding.errors import AgreementStateError, InvoiceExceedsBudget
from lingkaran.funding.models import Agreement, Funder, FunderMembership, Invoice, Package
from lingkaran.funding.services._common import clean, field_error, whole_rupiah

FUNDER_FIELDS = (
    "name",
    "kind",
    "region_code",
    "contact_name",
    "contact_email",
    "contact_phone",
    "address",
    "tax_number",
)
CRITERIA_KEYS = {"regions", "occupations", "sex", "vulnerability", "workers"}


@transaction.atomic
def funder_add_member(*, funder: Funder, user, team: str, added_by=None) -> FunderMembership:
    if user.role != "funder":
        raise InvalidInput(details={"fields": {"user": ["Only funder users can belong to a funder."]}})
    membership, created = FunderMembership.objects.get_or_create(user=user, defaults={"funder": funder, "team": team})
    if not created and membership.funder_id != funder.pk:
        raise InvalidInput(details={"fields": {"user": ["This user already belongs to another funder."]}})
    if created:
        audit_record(actor=added_by, action="funder.add_member", target=funder, details={"user": user.username})
    return membership


def funder_create(*, actor, name: str, kind: str, **contact) -> Funder:
    """An operator or finance officer registers a funder; its trust pool is opened with it."""
    require_role(actor, RoleName.OPERATOR, RoleName.FINANCE)
    unknown = set(contact) - set(FUNDER_FIELDS)
    if unknown:
        raise TypeError(f"unknown funder fields: {sorted(unknown)}")
    funder = Funder(name=(name or "").strip(), kind=kind, **{k: (v or "").strip() for k, v in contact.items()})
    clean(funder)
    with transaction.atomic():
        funder.save()
        accounts.open_pool(target="funder", funder_id=funder.pk, label=f"Funder pool: {funder.name}")
        audit_record(actor=actor, action="funding.funder_create", target=funder, details={"kind": kind})
    return funder


def funder_update(*, actor, funder: Funder, **changes) -> Funder:
    require_role(actor, RoleName.OPERATOR, RoleName.FINANCE)
    unknown = set(changes) - set(FUNDER_FIELDS)
    if unknown:
        raise TypeError(f"unknown funder fields: {sorted(unknown)}")
    with transaction.atomic():
        funder = Funder.objects.select_for_update().get(pk=funder.pk)
        changed = {}
        for field, value in changes.items():
            value = (value or "").strip()
            if getattr(funder, field) != value:
                changed[field] = value
                setattr(funder, field, value)
        if not changed:
            return funder
        clean(funder)
        funder.save(update_fields=list(changed))
        audit_record(actor=actor, action="funding.funder_update", target=funder, details={"fields": sorted(changed)})
    return funder


def _check_criteria(criteria: dict) -> dict:
    if not isinstance(criteria, dict) or set(criteria) - CRITERIA_KEYS:
        raise field_error(
            "target_criteria",
            _("Target criteria may name: regions, occupations, sex, vulnerability, workers."),
        )
    return criteria


def agreement_create(
    *,
    actor,
    funder: Funder,
    number: str,
    title: str,
    budget: int,
    start_on: date,
    end_on: date,
    package: str = Package.JKK_JKM,
    fiscal_year: int | None = None,
    target_criteria: dict | None = None,
    named_worker_ids: list[int] | None = None,
) -> Agreement:
    """A draft PKS. A local government's agreement names its APBD fiscal year, and its term lies in that year."""
    require_role(actor, RoleName.OPERATOR, RoleName.FINANCE)
    whole_rupiah(budget, "budget")
    if funder.kind == Funder.Kind.LOCAL_GOVERNMENT:
        if not fiscal_year:
            raise field_error("fiscal_year", _("A local government's agreement names its APBD fiscal year."))
        if start_on.year != fiscal_year or end_on.year != fiscal_year:
            raise field_error("end_on", _("An APBD agreement runs within its fiscal year."))
    names = named_worker_ids or []
    if not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in names):
        raise field_error("named_worker_ids", _("Named workers are given by their ids."))
    agreement = Agreement(
        funder=funder,
        number=(number or "").strip(),
        title=(title or "").strip(),
        budget=budget,
        start_on=start_on,
        end_on=end_on,
        package=package,
        fiscal_year=fiscal_year,
        target_criteria=_check_criteria(target_criteria or {}),
        named_worker_ids=sorted(set(names)),
        created_by=actor,
    )
    clean(agreement)
    with transaction.atomic():
        agreement.save()
        audit_record(actor=actor, action="funding.agreement_create", target=agreement, details={"budget": budget})
    return agreement


def agreement_activate(*, actor, agreement: Agreement) -> Agreement:
    require_role(actor, RoleName.OPERATOR, RoleName.FINANCE)
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.state == Agreement.State.ACTIVE:
            return agreement
        if agreement.state != Agreement.State.DRAFT:
            raise AgreementStateError(details={"state": agreement.state})
        agreement.state = Agreement.State.ACTIVE
        agreement.activated_at = timezone.now()
        agreement.save(update_fields=["state", "activated_at"])
        accounts.open_pool(target="funder", funder_id=agreement.funder_id)
        audit_record(actor=actor, action="funding.agreement_activate", target=agreement)
    return agreement


def agreement_end(*, actor, agreement: Agreement) -> Agreement:
    require_role(actor, RoleName.OPERATOR, RoleName.FINANCE)
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.state == Agreement.State.ENDED:
            return agreement
        if agreement.state != Agreement.State.ACTIVE:
            raise AgreementStateError(details={"state": agreement.state})
        agreement.state = Agreement.State.ENDED
        agreement.save(update_fields=["state"])
        audit_record(actor=actor, action="funding.agreement_end", target=agreement)
    return agreement


def invoice_issue(*, actor, agreement: Agreement, amount: int, due_on: date, issued_on: date | None = None) -> Invoice:
    """A finance officer invoices an active agreement. The payment reference (``LKI`` + nine digits + a check digit)
    is what the funder writes on the transfer; the statement import finds the payment by it."""
    require(actor, Capability.MANAGE_MONEY)
    whole_rupiah(amount, "amount")
    issued_on = issued_on or timezone.localdate()
    if due_on < issued_on:
        raise field_error("due_on", _("The due date is before the issue date."))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
                if agreement.state != Agreement.State.ACTIVE:
                    raise AgreementStateError(details={"state": agreement.state})
                invoiced = agreement.invoices.aggregate(total=Sum("amount"))["total"] or 0
                if invoiced + amount > agreement.budget:
                    raise InvoiceExceedsBudget(
                        details={
                            "budget": agreement.budget,
                            "invoiced": invoiced,
                            "available": agreement.budget - invoiced,
                        }
                    )
                sequence = Invoice.objects.filter(issued_on__year=issued_on.year).count() + 1
                invoice = Invoice(
                    agreement=agreement,
                    number=f"INV/{issued_on.year}/{sequence:06d}-{agreement.pk}",
                    amount=amount,
                    payment_reference=invoice_reference(f"{secrets.randbelow(10**9):09d}"),
                    issued_on=issued_on,
                    due_on=due_on,
                    issued_by=actor,
                )
                clean(invoice, validate_unique=False)
                invoice.save()
                audit_record(
                    actor=actor,
                    action="funding.invoice_issue",
                    target=invoice,
                    details={"amount": amount, "reference": invoice.payment_reference},
                )
                return invoice
        except IntegrityError:
            continue  # a reference or number collided with a concurrent invoice: draw again
    raise AgreementStateError(_("Could not number the invoice; try again."))
