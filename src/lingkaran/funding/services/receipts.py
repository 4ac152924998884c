"""Receipts: every settled donation gets one, numbered without gaps per year (``LK-2026-000123``).

The number is drawn from a counter row locked in the settlement's own transaction: if the settlement rolls back,
so does the number, and two settlements in parallel queue on the row instead of taking the same number.

Every settlement queues on that row until it commits, so taking a number is one statement (``UPDATE … SET
last_number = last_number + 1 … RETURNING last_number``, which locks the row and reads the new number at once) and
the row is taken after the ledger's rows, as late in the transaction as it can be.
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from lingkaran.funding.domain.references import receipt_number
from lingkaran.funding.models import Donation, Receipt, ReceiptCounter


def _next_sequence(year: int) -> int:
    """The next number of ``year``, the counter row locked until the end of the transaction. The year's row is
    created on its first receipt. (SQLite before 3.35 has no RETURNING: lock, then update.)"""
    for _attempt in range(2):
        if connection.features.can_return_columns_from_insert:
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {quote(ReceiptCounter._meta.db_table)} SET {quote('last_number')} = "
                    f"{quote('last_number')} + 1 WHERE {quote('year')} = %s RETURNING {quote('last_number')}",
                    [year],
                )
                row = cursor.fetchone()
            if row is not None:
                return row[0]
        else:
            counter = ReceiptCounter.objects.select_for_update().filter(year=year).first()
            if counter is not None:
                counter.last_number += 1
                counter.save(update_fields=["last_number"])
                return counter.last_number
        try:
            with transaction.atomic():
                ReceiptCounter.objects.create(year=year)
        except IntegrityError:
            pass  # another transaction opened the year first
    raise RuntimeError(f"no receipt counter for {year}")


def receipt_issue(donation: Donation, *, issued_at: datetime | None = None, settling: bool = False) -> Receipt:
    """Issue the donation's receipt (once). Must run inside the transaction that settles the donation.

    ``settling``: the caller is moving the donation's payment to settled in this transaction, under the lock on its
    intent. That happens once per payment (intents only move forward), and receipts are issued only then, so the
    donation has none yet: the look-up is skipped (the unique donation column still refuses a second one)."""
    if not settling:
        existing = Receipt.objects.filter(donation=donation).first()
        if existing is not None:
            return existing
    issued_at = issued_at or timezone.now()
    year = timezone.localtime(issued_at).year
    with transaction.atomic(savepoint=False):  # inside the settlement's transaction: no savepoint of its own
        sequence = _next_sequence(year)
        receipt = Receipt(
            donation=donation,
            number=receipt_number(year, sequence),
            year=year,
            sequence=sequence,
            amount=donation.amount,
            issued_at=issued_at,
        )
        _insert(receipt)
        return receipt


@functools.cache
def _insert_sql(vendor: str) -> tuple[str, tuple]:
    fields = tuple(field for field in Receipt._meta.concrete_fields if not field.primary_key)
    quote = connection.ops.quote_name
    returning = f" RETURNING {quote('id')}" if connection.features.can_return_columns_from_insert else ""
    sql = (
        f"INSERT INTO {quote(Receipt._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}){returning}"
    )
    return sql, fields


def _insert(receipt: Receipt) -> None:
    """``receipt.save(force_insert=True)``, its SQL written once per process (one is written per settlement)."""
    if not connection.features.can_return_columns_from_insert:
        receipt.save(force_insert=True)
        return
    sql, fields = _insert_sql(connection.vendor)
    values = [field.get_db_prep_save(field.pre_save(receipt, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        receipt.pk = cursor.fetchone()[0]
    receipt._state.adding = False
    receipt._state.db = connection.alias
