"""PostgreSQL-only guarantees: the deferred balance trigger, and concurrent postings under real row locks."""

import threading
from datetime import date

import pytest
from django.db import connection, connections, transaction

from lingkaran.ledger import selectors, services
from lingkaran.ledger.errors import InsufficientFunds
from lingkaran.ledger.models import JournalEntry, Reservation
from tests.ledger.conftest import BANK, HELD, POOL

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
DAY = date(2026, 11, 22)


def test_an_unbalanced_entry_written_around_the_orm_fails_at_commit(accounts):
    bank, pool = accounts[BANK].pk, accounts[POOL].pk
    with pytest.raises(Exception, match="does not balance"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journalentry (idempotency_key, content_hash, description, effective_on, "
            "recorded_at, total, metadata) VALUES ('raw', 'x', '', '2026-11-22', now(), 100, '{}') RETURNING id"
        )
        entry_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO ledger_leg (entry_id, account_id, side, amount) VALUES (%s, %s, 'D', 100)", [entry_id, bank]
        )
        cursor.execute(
            "INSERT INTO ledger_leg (entry_id, account_id, side, amount) VALUES (%s, %s, 'C', 99)", [entry_id, pool]
        )
    assert JournalEntry.objects.count() == 0


def _run_in_threads(count, target):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def work(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_twenty_concurrent_postings_of_one_key_post_exactly_once(accounts):
    results, errors = _run_in_threads(
        20,
        lambda i: (
            services.transfer(
                key="donation:sandbox:race:settled", source=BANK, target=POOL, amount=16800, effective_on=DAY
            ).pk
        ),
    )
    assert errors == []
    assert len(set(results)) == 1
    assert JournalEntry.objects.count() == 1
    assert selectors.balance_of(POOL) == 16800
    assert selectors.verify().clean


def test_concurrent_reservations_never_overdraw_the_pool(accounts):
    services.transfer(key="d", source=BANK, target=POOL, amount=16800 * 10, effective_on=DAY)
    results, errors = _run_in_threads(
        16,
        lambda i: (
            services.reservation_create(key=f"block:{i}", pool=POOL, held_in=HELD, amount=16800, effective_on=DAY).pk
        ),
    )
    assert len(results) == 10
    assert len(errors) == 6
    assert all(isinstance(e, InsufficientFunds) for e in errors)
    assert Reservation.objects.count() == 10
    assert selectors.balance_of(POOL) == 0
    assert selectors.balance_of(HELD) == 168000
    assert selectors.verify().clean
