from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingkaran.ledger.domain.posting import (
    Leg,
    PostingError,
    Side,
    balance_delta,
    check_balanced,
    content_hash,
    credit,
    debit,
    reversal_of,
)


@pytest.mark.parametrize(
    ("legs", "code"),
    [
        ([debit("a", 100)], "too_few_legs"),
        ([debit("a", 100), credit("b", 99)], "unbalanced"),
        ([debit("a", 100), debit("b", 100)], "unbalanced"),
        ([], "too_few_legs"),
    ],
)
def test_unbalanced_or_short_entries_are_refused(legs, code):
    with pytest.raises(PostingError) as caught:
        check_balanced(legs)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "amount_not_positive"),
        (-5, "amount_not_positive"),
        (1.5, "amount_not_integer"),
        (True, "amount_not_integer"),
        ("100", "amount_not_integer"),
    ],
)
def test_legs_are_positive_whole_rupiah(amount, code):
    with pytest.raises(PostingError) as caught:
        Leg("a", Side.DEBIT, amount)
    assert caught.value.code == code


def test_a_balanced_entry_returns_its_total():
    assert check_balanced([debit("bank", 50400), credit("pool", 33600), credit("fee", 16800)]) == 50400


@pytest.mark.parametrize(
    ("account_type", "side", "amount", "delta"),
    [
        ("asset", "D", 100, 100),
        ("asset", "C", 100, -100),
        ("expense", "D", 100, 100),
        ("expense", "C", 100, -100),
        ("liability", "C", 100, 100),
        ("liability", "D", 100, -100),
        ("income", "C", 100, 100),
        ("equity", "D", 100, -100),
    ],
)
def test_balance_moves_in_the_accounts_normal_direction(account_type, side, amount, delta):
    assert balance_delta(account_type, side, amount) == delta


def test_content_hash_ignores_leg_order_but_not_amounts_dates_or_reversal():
    legs = [debit("bank", 100), credit("pool", 100)]
    day = date(2026, 11, 22)
    assert content_hash(legs=legs, effective_on=day) == content_hash(legs=list(reversed(legs)), effective_on=day)
    assert content_hash(legs=legs, effective_on=day) != content_hash(
        legs=[debit("bank", 101), credit("pool", 101)], effective_on=day
    )
    assert content_hash(legs=legs, effective_on=day) != content_hash(legs=legs, effective_on=date(2026, 11, 23))
    assert content_hash(legs=legs, effective_on=day) != content_hash(legs=legs, effective_on=day, reverses=7)


amounts = st.integers(min_value=1, max_value=10**12)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), amounts), min_size=1, max_size=8))
def test_any_entry_and_its_reversal_cancel_out(parts):
    total = sum(amount for _, amount in parts)
    legs = [debit(account, amount) for account, amount in parts] + [credit("pool", total)]
    assert check_balanced(legs) == total
    reversed_legs = reversal_of(legs)
    assert check_balanced(reversed_legs) == total
    net: dict[str, int] = {}
    for leg in (*legs, *reversed_legs):
        net[leg.account] = net.get(leg.account, 0) + (leg.amount if leg.side == Side.DEBIT else -leg.amount)
    assert set(net.values()) == {0}
