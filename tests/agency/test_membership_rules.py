"""The pure membership rules (domain.md section 3): the state from the months paid, the edges of the 3-month
arrears window and of the lapse, reactivation, which months a payment may cover; tables of cases and Hypothesis."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingkaran.protection.agency.domain import reasons
from lingkaran.protection.agency.domain.membership import (
    State,
    membership,
    month_verdict,
    payable_months,
)
from lingkaran.protection.agency.domain.months import (
    add_months,
    from_index,
    month_index,
    month_range,
    months_between,
    parse_month_label,
)

R = date(2026, 11, 1)  # the reference month of most cases


def m(offset: int) -> date:
    """The month ``offset`` months from R."""
    return add_months(R, offset)


# --- Months -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "count", "expected"),
    [
        (date(2026, 11, 1), 1, date(2026, 12, 1)),
        (date(2026, 11, 1), 2, date(2027, 1, 1)),
        (date(2026, 1, 1), -1, date(2025, 12, 1)),
        (date(2026, 3, 1), -15, date(2024, 12, 1)),
        (date(2026, 3, 1), 0, date(2026, 3, 1)),
    ],
)
def test_add_months_crosses_years(month, count, expected):
    assert add_months(month, count) == expected


@given(st.integers(min_value=1990 * 12, max_value=2200 * 12), st.integers(min_value=-500, max_value=500))
def test_month_arithmetic_is_integer_arithmetic(index, count):
    month = from_index(index)
    assert month.day == 1
    assert month_index(month) == index
    assert months_between(month, add_months(month, count)) == count


def test_month_range_and_labels():
    assert month_range(date(2026, 11, 1), date(2027, 2, 1)) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert month_range(date(2026, 11, 1), date(2026, 10, 1)) == []
    assert parse_month_label("2026-11") == date(2026, 11, 1)
    assert parse_month_label("2026-1") == date(2026, 1, 1)
    for bad in ("2026-13", "2026-00", "11-2026", "2026/11", "", "abcd-ef"):
        assert parse_month_label(bad) is None


# --- State -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid", "state", "unpaid"),
    [
        ([], State.NOT_STARTED, None),
        ([m(1)], State.NOT_STARTED, None),  # paid ahead only: cover starts next month
        ([m(0)], State.ACTIVE, 0),
        ([m(-2), m(-1), m(0)], State.ACTIVE, 0),
        ([m(-1)], State.GRACE, 1),  # the reference month itself is unpaid (due by the 15th)
        ([m(-2)], State.GRACE, 2),
        ([m(-3)], State.GRACE, 3),  # 3 unpaid months: still grace
        ([m(-4)], State.ENDED, 4),  # 4 unpaid months: more than 3, ended
        ([m(-12), m(-11)], State.ENDED, 11),
        ([m(-6), m(0)], State.REACTIVATED, 0),  # 5 unpaid months between: ended, then paid again
        ([m(-5), m(0)], State.REACTIVATED, 0),  # 4 unpaid months between: ended
        ([m(-4), m(0)], State.REACTIVATED, 0),  # R unpaid made 4 unpaid months: ended, paying R reactivated
        ([m(-3), m(0)], State.ACTIVE, 0),  # R unpaid made 3: grace, paying R kept the membership
        ([m(-10), m(-4), m(-1)], State.GRACE, 1),  # reactivated earlier, now in grace again
        ([m(-10), m(-5)], State.ENDED, 5),
    ],
)
def test_state_from_paid_months(paid, state, unpaid):
    found = membership(paid, R)
    assert found.state == state
    assert found.unpaid_months == unpaid


def test_grace_lists_the_arrears_still_payable():
    found = membership([m(-3)], R, registered=m(-8))
    assert found.state == State.GRACE
    assert found.last_paid == m(-3)
    assert found.arrears_payable == (m(-2), m(-1))
    assert found.ended_since is None


def test_ended_names_the_first_month_without_cover_and_no_arrears():
    found = membership([m(-6), m(-5)], R)
    assert found.state == State.ENDED
    assert found.ended_since == m(-1)  # the 4th unpaid month after the last paid one
    assert found.arrears_payable == ()


def test_active_reports_how_far_ahead_it_is_paid():
    found = membership([m(-1), m(0), m(1), m(2), m(4)], R)
    assert found.state == State.ACTIVE
    assert found.paid_through == m(2)  # m(3) is a gap
    assert found.periods == 1


def test_reactivated_counts_the_periods():
    found = membership([m(-20), m(-10), m(0)], R)
    assert found.state == State.REACTIVATED
    assert found.periods == 3


def test_months_must_be_first_days():
    with pytest.raises(ValueError, match="first day"):
        membership([date(2026, 10, 15)], R)
    with pytest.raises(ValueError, match="first day"):
        membership([], date(2026, 11, 2))


@given(st.sets(st.integers(min_value=-30, max_value=15), max_size=20), st.integers(min_value=-30, max_value=15))
def test_state_agrees_with_the_definition(offsets, reference_offset):
    """Checked against the rules written out directly: not started when nothing is paid up to R; if R is paid,
    reactivated when some earlier gap left 3 unpaid months between paid ones (so 4 with the month that ended it),
    else active; if R is not paid, grace when the last paid month is 1 to 3 months back, ended beyond."""
    paid = {m(o) for o in offsets}
    reference = m(reference_offset)
    found = membership(paid, reference)
    up_to = sorted(p for p in paid if p <= reference)
    if not up_to:
        assert found.state == State.NOT_STARTED
    elif reference in paid:
        gaps = [months_between(a, b) - 1 for a, b in itertools.pairwise(up_to)]
        assert found.state == (State.REACTIVATED if any(g >= 3 for g in gaps) else State.ACTIVE)
    else:
        unpaid = months_between(up_to[-1], reference)
        assert found.state == (State.GRACE if unpaid <= 3 else State.ENDED)


# --- Which months a payment may cover --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "paid", "registered", "expected"),
    [
        (m(0), [], m(0), None),  # the first payment, in the registration month
        (m(12), [], m(0), None),  # 12 months ahead: the edge
        (m(13), [], m(0), reasons.MONTH_OUT_OF_WINDOW),
        (m(-1), [], m(-6), reasons.ARREARS_NOT_PAYABLE),  # never paid: no arrears
        (m(-1), [m(-2)], m(-6), None),  # grace: arrears payable
        (m(-3), [m(-4)], m(-6), reasons.ARREARS_NOT_PAYABLE),  # last paid 4 back: ended
        (m(-3), [m(-3)], m(-6), reasons.ALREADY_PAID),
        (m(-2), [m(-3)], m(-6), None),  # 3 back, last paid 3 back: the oldest arrears still payable
        (m(-4), [m(-3)], m(-6), reasons.MONTH_OUT_OF_WINDOW),  # 4 back: outside the window
        (m(-2), [m(-3), m(0)], m(-6), None),  # active with a gap: the gap is payable
        (m(-2), [m(0)], m(-6), reasons.ARREARS_NOT_PAYABLE),  # before the first payment: no backdating
        (m(-3), [m(-2)], m(-6), reasons.ARREARS_NOT_PAYABLE),
        (m(0), [m(0)], m(-6), reasons.ALREADY_PAID),
        (m(0), [m(-5)], m(-6), None),  # ended: the current month reactivates
        (m(1), [m(-5)], m(-6), None),  # ended: paying ahead is allowed too
        (m(-1), [m(-5)], m(-6), reasons.ARREARS_NOT_PAYABLE),
        (m(0), [], m(1), reasons.MONTH_BEFORE_REGISTRATION),
        (m(-1), [m(-1)], m(0), reasons.MONTH_BEFORE_REGISTRATION),  # before registration wins over already paid
        (m(-20), [], m(0), reasons.MONTH_BEFORE_REGISTRATION),
    ],
)
def test_month_verdict(month, paid, registered, expected):
    assert month_verdict(month, reference=R, registered=registered, paid=paid) == expected


def test_payable_months_in_grace_ended_and_new():
    assert payable_months([m(-2)], reference=R, registered=m(-10)) == [m(-1), *[m(i) for i in range(13)]]
    assert payable_months([m(-5)], reference=R, registered=m(-10)) == [m(i) for i in range(13)]
    assert payable_months([], reference=R, registered=m(2)) == [m(i) for i in range(2, 13)]
    assert payable_months([m(-3), m(-1), m(0)], reference=R, registered=m(-10)) == [
        m(-2),
        *[m(i) for i in range(1, 13)],
    ]


@settings(max_examples=200)
@given(
    st.sets(st.integers(min_value=-24, max_value=14), max_size=15),
    st.integers(min_value=-24, max_value=2),
    st.integers(min_value=-6, max_value=15),
)
def test_payable_months_never_pay_twice_nor_outside_the_window(offsets, registered_offset, month_offset):
    paid = {m(o) for o in offsets}
    registered = m(registered_offset)
    payable = payable_months(paid, reference=R, registered=registered)
    assert not set(payable) & paid
    assert all(m(-3) <= month <= m(12) and month >= registered for month in payable)
    month = m(month_offset)
    assert (month in payable) == (month_verdict(month, reference=R, registered=registered, paid=paid) is None)
    # A payable past month exists only while the membership is active or in grace.
    if any(month < R for month in payable):
        assert membership(paid, R).state in (State.ACTIVE, State.REACTIVATED, State.GRACE)


@settings(max_examples=200)
@given(st.sets(st.integers(min_value=-24, max_value=0), min_size=1, max_size=12))
def test_paying_every_payable_month_makes_the_membership_active(offsets):
    paid = {m(o) for o in offsets}
    payable = payable_months(paid, reference=R, registered=m(-30))
    after = membership(paid | set(payable), R)
    assert after.state in (State.ACTIVE, State.REACTIVATED)
    assert after.paid_through == m(12)
    was = membership(paid, R)
    if was.state == State.ENDED:
        assert after.state == State.REACTIVATED
