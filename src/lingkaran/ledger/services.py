"""The only way money moves: posting balanced entries, reserving, settling and reversing.

Every function here is idempotent by key. Re-running a posting with the same key and the same content returns the
first entry and changes nothing; the same key with different content raises ``IdempotencyConflict``. Balance rows are
locked in account-id order, checked, and updated in the same transaction as the legs, so concurrent postings neither
lose an update nor deadlock, and a trust account never goes below zero.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from lingkaran.ledger.domain.posting import (
    DEBIT_NORMAL,
    AccountType,
    Leg,
    PostingError,
    Side,
    balance_delta,
    check_balanced,
    content_hash,
    credit,
    debit,
    net_by_account,
    reversal_of,
)
from lingkaran.ledger.errors import (
    AccountUnknown,
    IdempotencyConflict,
    InsufficientFunds,
    PeriodClosed,
    PostingInvalid,
    ReservationStateError,
    ReversalNotAllowed,
)
from lingkaran.ledger.models import Account, Balance, JournalEntry, Period, Reservation
from lingkaran.ledger.models import Leg as LegRow


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name: str
    type: AccountType
    is_trust: bool = False
    owner: str = ""


def account_open(spec: AccountSpec) -> Account:
    """Open an account (and its balance row) or return the existing one with that code."""
    existing = Account.objects.filter(code=spec.code).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            account = Account.objects.create(
                code=spec.code, name=spec.name, type=spec.type, is_trust=spec.is_trust, owner=spec.owner
            )
            Balance.objects.create(
                account=account,
                normal_debit=AccountType(spec.type) in DEBIT_NORMAL,
                must_not_go_negative=spec.is_trust,
            )
    except IntegrityError:
        return Account.objects.get(code=spec.code)
    return account


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _same_or_conflict(entry: JournalEntry, expected_hash: str) -> JournalEntry:
    if entry.content_hash != expected_hash:
        raise IdempotencyConflict(details={"idempotency_key": entry.idempotency_key, "entry": entry.pk})
    return entry


def post_entry(
    *,
    key: str,
    legs: list[Leg] | tuple[Leg, ...],
    effective_on: date,
    description: str = "",
    metadata: dict | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry, exactly once per ``key``.

    Inside the caller's transaction when there is one (no savepoint: nothing is written before every check has
    passed, so a refusal leaves the caller's transaction usable), otherwise in its own. Four statements: the accounts
    with their balance rows locked in account-id order, the key's entry and the period's state, in one query; the
    entry (``ON CONFLICT DO NOTHING`` on the key); its legs in one INSERT; the balance rows in one UPDATE."""
    legs = tuple(legs)
    try:
        total = check_balanced(legs)
    except PostingError as exc:
        raise PostingInvalid(str(exc), details={"reason": exc.code}) from None
    expected = content_hash(legs=legs, effective_on=effective_on, reverses=reverses.pk if reverses else None)
    posting = _Posting(key, legs, effective_on, description[:300], metadata or {}, reverses, total, expected)
    if connection.in_atomic_block:
        return _post(posting)
    with transaction.atomic():
        return _post(posting)


@dataclass(frozen=True)
class _Posting:
    key: str
    legs: tuple[Leg, ...]
    effective_on: date
    description: str
    metadata: dict
    reverses: JournalEntry | None
    total: int
    content_hash: str


@functools.cache
def _sql(name: str, vendor: str, count: int = 0) -> str:
    """The statements of a posting, written once per process (the ORM's compiling of them cost more CPU than the
    database spent running them). ``count``: how many accounts or legs."""
    quote = connection.ops.quote_name
    account, balance = quote(Account._meta.db_table), quote(Balance._meta.db_table)
    entry, leg, period = quote(JournalEntry._meta.db_table), quote(LegRow._meta.db_table), quote(Period._meta.db_table)
    marks = ", ".join(["%s"] * count)
    if name == "lock":
        lock = ""
        if connection.features.has_select_for_update_of:
            lock = " FOR UPDATE OF b"
        elif connection.features.has_select_for_update:
            lock = " FOR UPDATE"
        return (
            f"SELECT a.{quote('id')}, a.{quote('code')}, a.{quote('type')}, b.{quote('balance')}, "
            f"b.{quote('must_not_go_negative')}, "
            f"(SELECT e.{quote('id')} FROM {entry} e WHERE e.{quote('idempotency_key')} = %s), "
            f"(SELECT COUNT(*) FROM {period} p WHERE p.{quote('month')} = %s AND p.{quote('closed_at')} IS NOT NULL) "
            f"FROM {account} a JOIN {balance} b ON b.{quote('account_id')} = a.{quote('id')} "
            f"WHERE a.{quote('code')} IN ({marks}) ORDER BY a.{quote('id')}{lock}"
        )
    if name == "entry":
        columns = ", ".join(quote(field.column) for field in _entry_fields())
        return (
            f"INSERT INTO {entry} ({columns}) VALUES ({', '.join(['%s'] * len(_entry_fields()))}) "
            f"ON CONFLICT ({quote('idempotency_key')}) DO NOTHING RETURNING {quote('id')}"
        )
    if name == "legs":
        row = "(%s, %s, %s, %s)"
        return (
            f"INSERT INTO {leg} ({quote('entry_id')}, {quote('account_id')}, {quote('side')}, {quote('amount')}) "
            f"VALUES {', '.join([row] * count)}"
        )
    if name == "balances":

        def case(column: str) -> str:
            whens = " ".join([f"WHEN %s THEN {quote(column)} + %s"] * count)
            return f"{quote(column)} = CASE {quote('account_id')} {whens} ELSE {quote(column)} END"

        return (
            f"UPDATE {balance} SET {case('debit_total')}, {case('credit_total')}, {case('balance')}, "
            f"{quote('updated_at')} = %s WHERE {quote('account_id')} IN ({marks})"
        )
    raise KeyError(name)


@functools.cache
def _entry_fields() -> tuple:
    return tuple(field for field in JournalEntry._meta.concrete_fields if not field.primary_key)


def _post(posting: _Posting) -> JournalEntry:
    codes = sorted({leg.account for leg in posting.legs})
    month = _first_of_month(posting.effective_on)
    with connection.cursor() as cursor:
        cursor.execute(
            _sql("lock", connection.vendor, len(codes)),
            [posting.key, connection.ops.adapt_datefield_value(month), *codes],
        )
        rows = cursor.fetchall()
    if rows:
        existing = rows[0][5]
    else:
        existing = JournalEntry.objects.filter(idempotency_key=posting.key).values_list("pk", flat=True).first()
    if existing is not None:
        return _same_or_conflict(JournalEntry.objects.get(pk=existing), posting.content_hash)
    if rows and rows[0][6]:
        raise PeriodClosed(details={"month": month.isoformat()[:7]})
    found = {row[1]: row for row in rows}
    missing = sorted(set(codes) - set(found))
    if missing:
        raise AccountUnknown(details={"accounts": missing})
    changes = []
    for code, (debits, credits) in net_by_account(posting.legs).items():
        account_id, _code, account_type, balance, must_not_go_negative = found[code][:5]
        delta = balance_delta(account_type, Side.DEBIT, debits) + balance_delta(account_type, Side.CREDIT, credits)
        if must_not_go_negative and balance + delta < 0:
            raise InsufficientFunds(details={"account": code, "available": balance, "needed": -delta})
        changes.append((account_id, debits, credits, delta))

    now = timezone.now()
    entry = JournalEntry(
        idempotency_key=posting.key,
        content_hash=posting.content_hash,
        description=posting.description,
        effective_on=posting.effective_on,
        recorded_at=now,
        total=posting.total,
        reverses=posting.reverses,
        metadata=posting.metadata,
    )
    values = [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in _entry_fields()]
    with connection.cursor() as cursor:
        cursor.execute(_sql("entry", connection.vendor), values)
        inserted = cursor.fetchone()
        if inserted is None:
            # The same key was posted by a concurrent transaction that committed while we waited for the locks.
            return _same_or_conflict(JournalEntry.objects.get(idempotency_key=posting.key), posting.content_hash)
        entry.pk = inserted[0]
        entry._state.adding = False
        entry._state.db = connection.alias
        params = []
        for leg in posting.legs:
            params += [entry.pk, found[leg.account][0], Side(leg.side).value, leg.amount]
        cursor.execute(_sql("legs", connection.vendor, len(posting.legs)), params)
        debits = [value for account_id, amount, _c, _d in changes for value in (account_id, amount)]
        credits = [value for account_id, _a, amount, _d in changes for value in (account_id, amount)]
        deltas = [value for account_id, _a, _c, amount in changes for value in (account_id, amount)]
        cursor.execute(
            _sql("balances", connection.vendor, len(changes)),
            [
                *debits,
                *credits,
                *deltas,
                Balance._meta.get_field("updated_at").get_db_prep_save(now, connection),
                *(account_id for account_id, *_rest in changes),
            ],
        )
    return entry


def transfer(
    *,
    key: str,
    source: str,
    target: str,
    amount: int,
    effective_on: date,
    description: str = "",
    metadata: dict | None = None,
) -> JournalEntry:
    """Move ``amount`` out of ``source`` into ``target`` (a debit of the source, a credit of the target)."""
    return post_entry(
        key=key,
        legs=(debit(source, amount), credit(target, amount)),
        effective_on=effective_on,
        description=description,
        metadata=metadata,
    )


def entry_reverse(*, entry_id: int, key: str, effective_on: date, description: str = "") -> JournalEntry:
    """Post the reversing entry of ``entry_id``. A reversal is never reversed; an entry is reversed at most once."""
    with transaction.atomic():
        original = JournalEntry.objects.select_for_update().filter(pk=entry_id).first()
        if original is None:
            raise AccountUnknown(details={"entry": entry_id}, code="entry_unknown")
        if original.reverses_id is not None:
            raise ReversalNotAllowed(details={"entry": entry_id, "reason": "is_reversal"})
        prior = JournalEntry.objects.filter(reverses=original).first()
        if prior is not None and prior.idempotency_key != key:
            raise ReversalNotAllowed(details={"entry": entry_id, "reason": "already_reversed", "by": prior.pk})
        legs = tuple(Leg(r.account.code, Side(r.side), r.amount) for r in original.legs.select_related("account"))
        return post_entry(
            key=key,
            legs=reversal_of(legs),
            effective_on=effective_on,
            description=description or f"Reversal of #{original.pk}",
            reverses=original,
        )


# --- Reservations ---------------------------------------------------------------------------------------------------


def reservation_create(
    *,
    key: str,
    pool: str,
    held_in: str,
    amount: int,
    effective_on: date,
    description: str = "",
    metadata: dict | None = None,
) -> Reservation:
    """Set ``amount`` aside from ``pool`` into ``held_in`` (pending). Raises InsufficientFunds before anything moves."""
    existing = Reservation.objects.filter(key=key).first()
    if existing is not None:
        if (existing.pool.code, existing.held_in.code, existing.amount) != (pool, held_in, amount):
            raise IdempotencyConflict(details={"reservation": key})
        return existing
    with transaction.atomic():
        entry = transfer(
            key=f"{key}:reserve",
            source=pool,
            target=held_in,
            amount=amount,
            effective_on=effective_on,
            description=description or f"Reserve {key}",
            metadata=metadata,
        )
        try:
            with transaction.atomic():
                return Reservation.objects.create(
                    key=key,
                    pool=entry.legs.get(side=Side.DEBIT).account,
                    held_in=entry.legs.get(side=Side.CREDIT).account,
                    amount=amount,
                    reserve_entry=entry,
                    metadata=metadata or {},
                )
        except IntegrityError:
            return Reservation.objects.get(key=key)


def _settle(key: str, state: str, target_code: str | None, effective_on: date, description: str) -> Reservation:
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().select_related("pool", "held_in").filter(key=key).first()
        if reservation is None:
            raise ReservationStateError(details={"reservation": key, "reason": "unknown"})
        if reservation.state == state:
            return reservation  # the same settlement again: nothing to do
        if reservation.state != Reservation.State.PENDING:
            raise ReservationStateError(details={"reservation": key, "state": reservation.state})
        target = target_code or reservation.pool.code
        entry = transfer(
            key=f"{key}:{state}",
            source=reservation.held_in.code,
            target=target,
            amount=reservation.amount,
            effective_on=effective_on,
            description=description,
        )
        reservation.state = state
        reservation.settle_entry = entry
        reservation.settled_at = timezone.now()
        reservation.save(update_fields=["state", "settle_entry", "settled_at"])
        return reservation


def reservation_post(*, key: str, to_account: str, effective_on: date, description: str = "") -> Reservation:
    """The committed purpose happened (the agency confirmed the payment): move the held money to ``to_account``."""
    return _settle(key, Reservation.State.POSTED, to_account, effective_on, description or f"Post {key}")


def reservation_void(*, key: str, effective_on: date, description: str = "") -> Reservation:
    """The purpose will not happen: the held money returns to its pool."""
    return _settle(key, Reservation.State.VOIDED, None, effective_on, description or f"Void {key}")


def period_close(*, month: date, closed_by: str) -> Period:
    period, _ = Period.objects.get_or_create(month=_first_of_month(month))
    if period.closed_at is None:
        period.closed_at = timezone.now()
        period.closed_by = closed_by
        period.save(update_fields=["closed_at", "closed_by"])
    return period
