"""Receipts: every settled donation gets one, numbered without gaps per year (``LK-2026-000123``).

The number is drawn from a counter row locked in the settlement's own transaction: if the settlement rolls back,
so does the number, and two settlements in parallel queue on the row instead of taking the same number.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from lingkaran.funding.domain.references import receipt_number
from lingkaran.funding.models import Donation, Receipt, ReceiptCounter


def _locked_counter(year: int) -> ReceiptCounter:
    counter = ReceiptCounter.objects.select_for_update().filter(year=year).first()
    if counter is not None:
        return counter
    try:
        with transaction.atomic():
            ReceiptCounter.objects.create(year=year)
    except IntegrityError:
        pass  # another transaction opened the year first
    return ReceiptCounter.objects.select_for_update().get(year=year)


def receipt_issue(donation: Donation, *, issued_at: datetime | None = None) -> Receipt:
    """Issue the donation's receipt (once). Must run inside the transaction that settles the donation."""
    existing = Receipt.objects.filter(donation=donation).first()
    if existing is not None:
        return existing
    issued_at = issued_at or timezone.now()
    year = timezone.localtime(issued_at).year
    with transaction.atomic():
        counter = _locked_counter(year)
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        return Receipt.objects.create(
            donation=donation,
            number=receipt_number(year, counter.last_number),
            year=year,
            sequence=counter.last_number,
            amount=donation.amount,
            issued_at=issued_at,
        )
