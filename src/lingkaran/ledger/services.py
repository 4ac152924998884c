"""The only way money moves: posting balanced entries, reserving, settling and reversing.

Every function here is idempotent by key. Re-running a posting with the same key and the same content returns the
first entry and changes nothing; the same key with different content raises ``IdempotencyConflict``. Balance rows are
locked in account-id order, checked, and updated in the same transaction as the legs, so concurrent postings neither
lose an update nor deadlock, and a trust account never goes below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
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
    """Post one balanced entry, exactly once per ``key``."""
    legs = tuple(legs)
    try:
        total = check_balanced(legs)
    except PostingError as exc:
        raise PostingInvalid(str(exc), details={"reason": exc.code}) from None
    expected = content_hash(legs=legs, effective_on=effective_on, reverses=reverses.pk if reverses else None)
    existing = JournalEntry.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_or_conflict(existing, expected)

    with transaction.atomic():
        if Period.objects.filter(month=_first_of_month(effective_on), closed_at__isnull=False).exists():
            raise PeriodClosed(details={"month": _first_of_month(effective_on).isoformat()[:7]})
        codes = {leg.account for leg in legs}
        accounts = {a.code: a for a in Account.objects.filter(code__in=codes)}
        missing = sorted(codes - set(accounts))
        if missing:
            raise AccountUnknown(details={"accounts": missing})
        totals = net_by_account(legs)
        # Lock the balance rows in a fixed order so that concurrent postings queue instead of deadlocking.
        locked = {
            b.account_id: b
            for b in Balance.objects.select_for_update()
            .filter(account_id__in=[a.pk for a in accounts.values()])
            .order_by("account_id")
        }
        changes = {}
        for code, (debits, credits) in totals.items():
            account = accounts[code]
            delta = balance_delta(account.type, Side.DEBIT, debits) + balance_delta(account.type, Side.CREDIT, credits)
            row = locked[account.pk]
            if row.must_not_go_negative and row.balance + delta < 0:
                raise InsufficientFunds(
                    details={"account": code, "available": row.balance, "needed": -delta},
                )
            changes[account.pk] = (debits, credits, delta)
        try:
            with transaction.atomic():
                entry = JournalEntry.objects.create(
                    idempotency_key=key,
                    content_hash=expected,
                    description=description[:300],
                    effective_on=effective_on,
                    total=total,
                    reverses=reverses,
                    metadata=metadata or {},
                )
        except IntegrityError:
            # The same key was posted by a concurrent transaction that committed while we waited for the locks.
            return _same_or_conflict(JournalEntry.objects.get(idempotency_key=key), expected)
        LegRow.objects.bulk_create(
            [LegRow(entry=entry, account=accounts[leg.account], side=leg.side, amount=leg.amount) for leg in legs]
        )
        now = timezone.now()
        for account_id, (debits, credits, delta) in changes.items():
            Balance.objects.filter(account_id=account_id).update(
                debit_total=F("debit_total") + debits,
                credit_total=F("credit_total") + credits,
                balance=F("balance") + delta,
                updated_at=now,
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
