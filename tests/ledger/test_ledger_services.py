from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from lingkaran.ledger import selectors, services
from lingkaran.ledger.domain.posting import credit, debit
from lingkaran.ledger.errors import (
    AccountUnknown,
    IdempotencyConflict,
    InsufficientFunds,
    PeriodClosed,
    PostingInvalid,
    ReservationStateError,
    ReversalNotAllowed,
)
from lingkaran.ledger.models import Balance, JournalEntry, Leg, Reservation
from tests.ledger.conftest import AGENCY, BANK, HELD, POOL, POOL2

DAY = date(2026, 11, 22)


def donate(key: str, amount: int, pool: str = POOL):
    return services.transfer(key=key, source=BANK, target=pool, amount=amount, effective_on=DAY)


def test_a_donation_moves_balances_in_both_accounts(accounts):
    entry = donate("donation:sandbox:t1:settled", 50400)
    assert selectors.balance_of(BANK) == 50400
    assert selectors.balance_of(POOL) == 50400
    assert entry.total == 50400
    assert sorted(Leg.objects.filter(entry=entry).values_list("side", "amount")) == [("C", 50400), ("D", 50400)]
    assert selectors.verify().clean


def test_replaying_the_same_posting_returns_the_first_and_changes_nothing(accounts):
    first = donate("donation:sandbox:t1:settled", 16800)
    again = donate("donation:sandbox:t1:settled", 16800)
    assert again.pk == first.pk
    assert JournalEntry.objects.count() == 1
    assert selectors.balance_of(POOL) == 16800


def test_same_key_with_other_content_is_a_conflict_and_posts_nothing(accounts):
    donate("donation:sandbox:t1:settled", 16800)
    with pytest.raises(IdempotencyConflict):
        donate("donation:sandbox:t1:settled", 16801)
    assert JournalEntry.objects.count() == 1
    assert selectors.balance_of(POOL) == 16800


def test_a_trust_account_never_goes_negative(accounts):
    donate("d1", 10000)
    with pytest.raises(InsufficientFunds) as caught:
        services.reservation_create(key="block:1", pool=POOL, held_in=HELD, amount=10001, effective_on=DAY)
    assert caught.value.details == {"account": POOL, "available": 10000, "needed": 10001}
    assert Reservation.objects.count() == 0
    assert JournalEntry.objects.count() == 1
    assert selectors.balance_of(POOL) == 10000


def test_unbalanced_and_unknown_postings_are_refused_before_anything_is_written(accounts):
    with pytest.raises(PostingInvalid):
        services.post_entry(key="bad", legs=[debit(BANK, 10), credit(POOL, 9)], effective_on=DAY)
    with pytest.raises(AccountUnknown):
        services.transfer(key="bad2", source=BANK, target="liability:nowhere", amount=5, effective_on=DAY)
    assert JournalEntry.objects.count() == 0
    assert set(Balance.objects.values_list("balance", flat=True)) == {0}


def test_reservation_lifecycle_reserve_post_and_void(accounts):
    donate("d1", 100800)
    services.reservation_create(key="block:a", pool=POOL, held_in=HELD, amount=50400, effective_on=DAY)
    services.reservation_create(key="block:b", pool=POOL, held_in=HELD, amount=33600, effective_on=DAY)
    assert (selectors.balance_of(POOL), selectors.balance_of(HELD)) == (16800, 84000)
    services.reservation_post(key="block:a", to_account=AGENCY, effective_on=DAY)
    services.reservation_void(key="block:b", effective_on=DAY)
    assert (selectors.balance_of(POOL), selectors.balance_of(HELD), selectors.balance_of(AGENCY)) == (50400, 0, 50400)
    # settling again the same way is a no-op; the other way is refused
    assert services.reservation_post(key="block:a", to_account=AGENCY, effective_on=DAY).state == "posted"
    with pytest.raises(ReservationStateError):
        services.reservation_void(key="block:a", effective_on=DAY)
    with pytest.raises(ReservationStateError):
        services.reservation_post(key="block:b", to_account=AGENCY, effective_on=DAY)
    assert JournalEntry.objects.count() == 5
    assert selectors.verify().clean


def test_reversal_undoes_an_entry_once_and_a_reversal_is_never_reversed(accounts):
    entry = donate("d1", 16800)
    reversal = services.entry_reverse(entry_id=entry.pk, key="refund:d1", effective_on=DAY)
    assert reversal.reverses_id == entry.pk
    assert selectors.balance_of(POOL) == 0
    assert services.entry_reverse(entry_id=entry.pk, key="refund:d1", effective_on=DAY).pk == reversal.pk
    with pytest.raises(ReversalNotAllowed):
        services.entry_reverse(entry_id=entry.pk, key="refund:d1-again", effective_on=DAY)
    with pytest.raises(ReversalNotAllowed):
        services.entry_reverse(entry_id=reversal.pk, key="undo-refund", effective_on=DAY)
    assert JournalEntry.objects.count() == 2


def test_a_reversal_that_would_overdraw_the_pool_is_refused(accounts):
    entry = donate("d1", 16800)
    services.reservation_create(key="block:a", pool=POOL, held_in=HELD, amount=10000, effective_on=DAY)
    with pytest.raises(InsufficientFunds):
        services.entry_reverse(entry_id=entry.pk, key="refund:d1", effective_on=DAY)
    assert selectors.balance_of(POOL) == 6800


def test_a_closed_period_accepts_no_entries(accounts):
    services.period_close(month=date(2026, 10, 1), closed_by="keuangan")
    with pytest.raises(PeriodClosed):
        services.transfer(key="late", source=BANK, target=POOL, amount=5, effective_on=date(2026, 10, 31))
    donate("on-time", 5)
    assert JournalEntry.objects.count() == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_leg SET amount = amount + 1",
        "DELETE FROM ledger_leg",
        "UPDATE ledger_journalentry SET description = 'x'",
        "DELETE FROM ledger_journalentry",
    ],
)
def test_entries_and_legs_are_append_only_in_the_database(accounts, statement):
    donate("d1", 16800)
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert list(Leg.objects.values_list("amount", flat=True)) == [16800, 16800]


def test_a_settled_reservation_cannot_be_changed_in_the_database(accounts):
    donate("d1", 16800)
    services.reservation_create(key="r", pool=POOL, held_in=HELD, amount=16800, effective_on=DAY)
    services.reservation_void(key="r", effective_on=DAY)
    with pytest.raises(Exception, match="reservation"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_reservation SET state = 'pending'")
    assert Reservation.objects.get(key="r").state == "voided"


def test_the_database_refuses_a_negative_trust_balance(accounts):
    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.filter(account__code=POOL2).update(credit_total=0, debit_total=1, balance=-1)
    assert selectors.balance_of(POOL2) == 0


def test_verify_finds_a_tampered_balance_row(accounts):
    donate("d1", 16800)
    Balance.objects.filter(account__code=BANK).update(debit_total=16900, balance=16900)
    report = selectors.verify()
    assert not report.clean
    assert report.balance_mismatches == [
        {
            "account": BANK,
            "stored": 16900,
            "from_legs": 16800,
            "stored_debits": 16900,
            "leg_debits": 16800,
            "stored_credits": 0,
            "leg_credits": 0,
        }
    ]


def test_reservation_totals_by_state(accounts):
    day = date(2026, 11, 22)
    services.transfer(key="gift", source=BANK, target=POOL, amount=100_000, effective_on=day)
    for key, amount in (("r1", 10_000), ("r2", 20_000), ("r3", 30_000)):
        services.reservation_create(key=key, pool=POOL, held_in=HELD, amount=amount, effective_on=day)
    services.reservation_post(key="r2", to_account=AGENCY, effective_on=day)
    services.reservation_void(key="r3", effective_on=day)
    assert selectors.reservation_totals(POOL) == {"pending": 10_000, "posted": 20_000, "voided": 30_000}
    assert selectors.reservation_totals("liability:pool:none") == {"pending": 0, "posted": 0, "voided": 0}
