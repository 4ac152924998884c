"""The database guards a payment intent, whoever writes: a move that is not forward is refused by a trigger (on
PostgreSQL and SQLite), as is changing what the intent is for, shrinking its money, or deleting it. Each rule is
tested around the ORM."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from lingkaran.funding.models import PaymentIntent
from tests.funding.conftest import start


def raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def settled(donate):
    return donate()


@pytest.mark.parametrize("target", ["pending", "created", "expired", "failed"])
def test_a_settled_intent_never_moves_back(settled, target):
    with pytest.raises((IntegrityError, DatabaseError), match=r"forward|cannot move"):
        raw("UPDATE funding_paymentintent SET state = %s WHERE id = %s", [target, settled.pk])
    settled.refresh_from_db()
    assert settled.state == "settled"


def test_an_expired_intent_cannot_be_settled_around_the_orm(campaign):
    intent = start(campaign)
    raw("UPDATE funding_paymentintent SET state = 'expired' WHERE id = %s", [intent.pk])
    with pytest.raises((IntegrityError, DatabaseError)):
        raw(
            "UPDATE funding_paymentintent SET state = 'settled', settled_amount = amount, settlement_entry_id = 1 "
            "WHERE id = %s",
            [intent.pk],
        )
    intent.refresh_from_db()
    assert intent.state == "expired"


def test_the_forward_moves_are_allowed(campaign):
    intent = start(campaign)
    raw("UPDATE funding_paymentintent SET state = 'pending' WHERE id = %s", [intent.pk])
    raw("UPDATE funding_paymentintent SET state = 'cancelled' WHERE id = %s", [intent.pk])
    intent.refresh_from_db()
    assert intent.state == "cancelled"


@pytest.mark.parametrize(
    ("column", "value"),
    [("amount", 1), ("order_id", "LK-000000-0000000000"), ("gateway", "midtrans")],
)
def test_what_an_intent_is_for_never_changes(campaign, column, value):
    intent = start(campaign)
    with pytest.raises((IntegrityError, DatabaseError)):
        raw(f"UPDATE funding_paymentintent SET {column} = %s WHERE id = %s", [value, intent.pk])


def test_money_on_an_intent_only_grows(settled):
    raw(
        "UPDATE funding_paymentintent SET refunded_amount = 400, state = 'partially_refunded' WHERE id = %s",
        [settled.pk],
    )
    with pytest.raises((IntegrityError, DatabaseError)):
        raw("UPDATE funding_paymentintent SET refunded_amount = 0 WHERE id = %s", [settled.pk])


def test_intents_are_never_deleted(campaign):
    intent = start(campaign)
    with pytest.raises((IntegrityError, DatabaseError)):
        raw("DELETE FROM funding_paymentintent WHERE id = %s", [intent.pk])
    assert PaymentIntent.objects.filter(pk=intent.pk).exists()


def test_a_paid_intent_must_hold_exactly_its_amount(campaign):
    intent = start(campaign)
    with pytest.raises(IntegrityError):
        raw(
            "UPDATE funding_paymentintent SET state = 'settled', settled_amount = 1, settlement_entry_id = 1 "
            "WHERE id = %s",
            [intent.pk],
        )


def test_in_review_an_expired_intent_may_be_settled_with_the_collected_amount(campaign):
    intent = start(campaign)
    raw("UPDATE funding_paymentintent SET state = 'expired', in_review = %s WHERE id = %s", [True, intent.pk])
    raw(
        "UPDATE funding_paymentintent SET state = 'settled', amount = 40000, settled_amount = 40000, "
        "settlement_entry_id = 1, in_review = %s WHERE id = %s",
        [False, intent.pk],
    )
    intent.refresh_from_db()
    assert (intent.state, intent.amount) == ("settled", 40_000)
    # Once settled, the amount is fixed again, even if the intent goes back into review.
    raw("UPDATE funding_paymentintent SET in_review = %s WHERE id = %s", [True, intent.pk])
    with pytest.raises((IntegrityError, DatabaseError)):
        raw("UPDATE funding_paymentintent SET amount = 1 WHERE id = %s", [intent.pk])


def test_in_review_the_amount_changes_only_together_with_the_settlement(campaign):
    intent = start(campaign)
    raw("UPDATE funding_paymentintent SET in_review = %s WHERE id = %s", [True, intent.pk])
    with pytest.raises((IntegrityError, DatabaseError)):
        raw("UPDATE funding_paymentintent SET amount = 40000 WHERE id = %s", [intent.pk])
    with pytest.raises((IntegrityError, DatabaseError)):
        raw("UPDATE funding_paymentintent SET state = 'expired', amount = 40000 WHERE id = %s", [intent.pk])
    intent.refresh_from_db()
    assert (intent.state, intent.amount) == ("created", 50_400)


def test_returned_money_only_grows(campaign):
    intent = start(campaign)
    raw("UPDATE funding_paymentintent SET returned_amount = 100 WHERE id = %s", [intent.pk])
    with pytest.raises((IntegrityError, DatabaseError)):
        raw("UPDATE funding_paymentintent SET returned_amount = 0 WHERE id = %s", [intent.pk])
