"""Settling a payment intent: the one place money comes in for a donation.

In one transaction, with the intent row locked by the caller: the ledger entry (clearing or bank → the donation's
trust pool, idempotent by the business-event key), the intent and donation states, and the receipt. Either all of it
is written or none of it.

Every settlement takes the same few shared rows: the ledger's balance rows of the clearing account and of the pool
(locked in account order by the ledger) and the year's receipt counter (locked after them, as every other poster of
a receipt does). Other settlements wait for those rows until this transaction commits, so the work on the
donation's own rows is done before the ledger is called, and after it only what needs the entry or the number: the
receipt (its number taken and the counter locked in one statement) and the intent. Accounts are opened on first use
only, when the ledger reports one missing, not checked on every posting.

Intake runs these once or twice per notification, so the intent's and the donation's columns are written by
``_write``: what ``save(update_fields=…)`` does, with the ``UPDATE … WHERE id = %s`` written once per process
instead of compiled by the ORM each time.
"""

from __future__ import annotations

import functools
from datetime import date

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from lingkaran.funding import accounts
from lingkaran.funding.domain.intents import Decision, PaymentState, decide
from lingkaran.funding.models import Donation, PaymentIntent
from lingkaran.funding.services.receipts import receipt_issue
from lingkaran.ledger import services as ledger
from lingkaran.ledger.errors import AccountUnknown


@functools.cache
def _update_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[str, tuple]:
    fields = tuple(model._meta.get_field(name) for name in names)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    return f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s", fields


def _update(model: type[Model], pk: int, **values) -> None:
    """``model.objects.filter(pk=pk).update(**values)`` for plain column values, its SQL written once per process."""
    sql, fields = _update_sql(model, tuple(values), connection.vendor)
    params = [field.get_db_prep_save(values[field.name], connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk])


def _write(instance: Model, **values) -> None:
    """Set ``values`` on ``instance`` and write just those columns (``save(update_fields=…)``, see above)."""
    for name, value in values.items():
        setattr(instance, name, value)
    _update(type(instance), instance.pk, **values)


@functools.cache
def _loader(model: type[Model], vendor: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple]:
    """For ``model``: its columns (in ``concrete_fields`` order), attribute names, and each column's converters from
    the database's value to Python's (what the ORM's compiler applies to a row)."""
    fields = model._meta.concrete_fields
    columns = tuple(field.column for field in fields)
    converters = []
    for field in fields:
        column = field.get_col(model._meta.db_table)
        converters.append(tuple(connection.ops.get_db_converters(column)) + tuple(field.get_db_converters(connection)))
    return columns, tuple(field.attname for field in fields), tuple(converters)


def columns_of(model: type[Model], alias: str) -> str:
    """``alias.col1, alias.col2, …`` of every column of ``model``, for ``instance_from_row``."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(column)}" for column in _loader(model, connection.vendor)[0])


def instance_from_row(model: type[Model], values) -> Model:
    """A model instance from a row selected with ``columns_of`` (converted as the ORM would)."""
    _columns, names, converters = _loader(model, connection.vendor)
    converted = []
    for value, chain in zip(values, converters, strict=True):
        for converter in chain:
            value = converter(value, None, connection)
        converted.append(value)
    return model.from_db(connection.alias, names, converted)


@functools.cache
def _lock_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    lock = ""
    if connection.features.has_select_for_update_of:
        lock = " FOR NO KEY UPDATE OF i"
    elif connection.features.has_select_for_update:
        lock = " FOR NO KEY UPDATE"
    return (
        f"SELECT {columns_of(PaymentIntent, 'i')}, {columns_of(Donation, 'd')} "
        f"FROM {quote(PaymentIntent._meta.db_table)} i JOIN {quote(Donation._meta.db_table)} d "
        f"ON d.{quote('id')} = i.{quote('donation_id')} WHERE i.{quote('id')} = %s{lock}"
    )


def intent_lock(intent_id: int) -> PaymentIntent:
    """The intent, locked until the end of the transaction (``FOR NO KEY UPDATE``: its key never changes, so rows
    that refer to it are not held up), with its donation, in one query. SQLite has no row locks: its write
    transactions take the whole database."""
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(connection.vendor), [intent_id])
        row = cursor.fetchone()
    width = len(PaymentIntent._meta.concrete_fields)
    intent = instance_from_row(PaymentIntent, row[:width])
    intent.donation = instance_from_row(Donation, row[width:])
    return intent


def _donation_of(intent: PaymentIntent) -> Donation:
    """The intent's donation: the one its caller loaded with it, or read now (plain SQL, no ORM compiling)."""
    if not PaymentIntent.donation.is_cached(intent):
        quote = connection.ops.quote_name
        sql = f"SELECT * FROM {quote(Donation._meta.db_table)} WHERE {quote('id')} = %s"
        intent.donation = next(iter(Donation.objects.raw(sql, [intent.donation_id])))
    return intent.donation


def pool_of_donation(donation: Donation) -> str:
    return accounts.open_pool(target=donation.target, campaign_id=donation.campaign_id, funder_id=donation.funder_id)


def _open_source(code: str) -> None:
    if code == accounts.BANK_TRUST:
        accounts.open_bank()
    elif code.startswith(accounts.clearing("")):
        accounts.open_clearing(code.removeprefix(accounts.clearing("")))


def _post(donation: Donation, *, source: str, **posting):
    """The donation's entry, source → its pool. The first money through an account that does not exist yet opens it
    (the ledger refuses before writing anything) and posts again."""
    pool = accounts.pool_of(target=donation.target, campaign_id=donation.campaign_id, funder_id=donation.funder_id)
    try:
        return ledger.transfer(source=source, target=pool, **posting)
    except AccountUnknown:
        _open_source(source)
        pool_of_donation(donation)
        return ledger.transfer(source=source, target=pool, **posting)


def settle(
    intent: PaymentIntent, *, key: str, source_account: str, transaction_id: str, effective_on: date | None = None
) -> PaymentIntent:
    """Post the donation and mark it paid. ``intent`` must be locked (``select_for_update``) by the caller, inside
    its transaction, and its amount already checked against what was received."""
    assert decide(intent.state, PaymentState.SETTLED) == Decision.APPLY, intent.state
    donation = _donation_of(intent)
    now = timezone.now()
    _write(donation, state=PaymentState.SETTLED, settled_at=now)
    entry = _post(
        donation,
        source=source_account,
        key=key,
        amount=intent.amount,
        effective_on=effective_on or timezone.localdate(now),
        description=f"Donation {intent.order_id}",
        metadata={"order_id": intent.order_id, "donation": donation.pk, "gateway": intent.gateway},
    )
    # The intent moves to settled in this transaction, which happens once (forward only): no receipt exists yet.
    receipt_issue(donation, issued_at=now, settling=True)
    _write(
        intent,
        state=PaymentState.SETTLED,
        settled_amount=intent.amount,
        settlement_entry_id=entry.pk,
        transaction_id=(transaction_id or intent.transaction_id)[:100],
        settled_at=now,
        in_review=False,
        updated_at=now,
    )
    return intent


def move(intent: PaymentIntent, state: PaymentState) -> PaymentIntent:
    """A move that carries no money (pending, expired, cancelled, failed); ``intent`` locked by the caller."""
    assert decide(intent.state, state) == Decision.APPLY, (intent.state, state)
    _write(intent, state=state, updated_at=timezone.now())
    _update(Donation, intent.donation_id, state=state)
    return intent


def hold_for_review(intent: PaymentIntent, reason: str) -> PaymentIntent:
    """Put the intent in the review queue; nothing is posted. ``intent`` locked by the caller."""
    _write(intent, in_review=True, review_reason=reason[:300], updated_at=timezone.now())
    return intent
