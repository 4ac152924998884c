"""Which money paid which worker-month: the attribution rule of a pooled account, and the funder view's dates.

Money in a funder's or a campaign's pool is pooled: a rupiah of one donation cannot be told from a rupiah of another.
To let a donor follow their own money to the worker-months it paid, the platform attributes a pool's spending to its
receipts with one fixed rule, **first in, first out**:

* the pool's *receipts* (money that came in: donations as they settled, bank transfers, top-ups), each net of what was
  refunded from it, are taken in the order they were recorded (``Receipt.order``: the ledger entry's id);
* the pool's *spending* is the worker-months it reserved and that still hold money (reserved or paid: a month the
  agency rejected, or released, went back to the pool and spends nothing), taken in the order they were reserved
  (``Spend.order``: the sponsored month's id, assigned in commit order);
* the first receipt pays the first worker-months until it is used up, then the next receipt carries on; a worker-month
  may be split between two receipts (the end of one, the start of the next).

Properties (tested with Hypothesis): every rupiah of spending is attributed at most once; no receipt is attributed more
than its net amount; the total attributed is ``min(total spent, total received)``; the result depends only on the
orders, not on the order of the inputs. Attribution is recomputed from the current state: a month returned to the pool
frees its money for the months reserved after it.

Pure: integers and frozen dataclasses in and out; no Django, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Receipt:
    order: int  # position in time: the ledger entry's id (unique per pool)
    amount: int  # net of refunds, whole rupiah, >= 0


@dataclass(frozen=True)
class Spend:
    order: int  # position in time: the sponsored month's id (unique)
    amount: int  # whole rupiah, > 0


@dataclass(frozen=True)
class Attribution:
    receipt: int  # Receipt.order
    spend: int  # Spend.order
    amount: int  # > 0


def _checked(items, name: str):
    rows = sorted(items, key=lambda item: item.order)
    seen = set()
    for item in rows:
        if not isinstance(item.amount, int) or item.amount < 0:
            raise ValueError(f"{name} {item.order}: amount must be a whole, non-negative number of rupiah")
        if item.order in seen:
            raise ValueError(f"{name} {item.order} appears twice")
        seen.add(item.order)
    return rows


def attribute(receipts: Iterable[Receipt], spends: Iterable[Spend]) -> list[Attribution]:
    """First in, first out: the receipts, oldest first, pay the worker-months, oldest first.

    >>> attribute([Receipt(1, 30), Receipt(2, 50)], [Spend(10, 20), Spend(11, 20), Spend(12, 20)])
    [Attribution(receipt=1, spend=10, amount=20), Attribution(receipt=1, spend=11, amount=10), \
Attribution(receipt=2, spend=11, amount=10), Attribution(receipt=2, spend=12, amount=20)]
    """
    money = [r for r in _checked(receipts, "receipt") if r.amount > 0]
    costs = [s for s in _checked(spends, "spend") if s.amount > 0]
    out: list[Attribution] = []
    i = j = 0
    left_in = money[0].amount if money else 0
    left_out = costs[0].amount if costs else 0
    while i < len(money) and j < len(costs):
        take = min(left_in, left_out)
        out.append(Attribution(money[i].order, costs[j].order, take))
        left_in -= take
        left_out -= take
        if left_in == 0:
            i += 1
            left_in = money[i].amount if i < len(money) else 0
        if left_out == 0:
            j += 1
            left_out = costs[j].amount if j < len(costs) else 0
    return out


def totals_per_receipt(attributions: Iterable[Attribution]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for a in attributions:
        totals[a.receipt] = totals.get(a.receipt, 0) + a.amount
    return totals


# --- Dates of the funder view -----------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return add_months(month_start(month), 1) - timedelta(days=1)


def ending_window(today: date, days: int = 60) -> tuple[date, date]:
    """The last contribution months of blocks that end within ``days`` days of ``today``: a block whose last month is
    M ends on M's last day, so M runs from this month to the last month whose last day is at most ``today + days``.

    >>> ending_window(date(2026, 12, 7))
    (datetime.date(2026, 12, 1), datetime.date(2027, 1, 1))
    >>> ending_window(date(2027, 1, 30))  # 31 March is the 60th day: March ends inside the window
    (datetime.date(2027, 1, 1), datetime.date(2027, 3, 1))
    """
    limit = today + timedelta(days=days)
    last = month_start(limit) if month_end(limit) == limit else add_months(month_start(limit), -1)
    return month_start(today), last


def months_between(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last`` inclusive (empty when ``last`` is earlier)."""
    out, month = [], month_start(first)
    while month <= last:
        out.append(month)
        month = add_months(month, 1)
    return out


# --- The same rule in closed form (what the database queries use) -----------------------------------------------------


def receipt_windows(receipts: Iterable[Receipt]) -> dict[int, tuple[int, int]]:
    """Each receipt's place in the pool's running total of receipts, in order: ``[start, end)`` in rupiah.

    FIFO gives receipt R exactly the spending that lies in its window of the running total of spending, so these
    windows answer "which worker-months did R pay" without walking the others.

    >>> receipt_windows([Receipt(2, 50), Receipt(1, 30)])
    {1: (0, 30), 2: (30, 80)}
    """
    out, running = {}, 0
    for r in _checked(receipts, "receipt"):
        out[r.order] = (running, running + r.amount)
        running += r.amount
    return out


def overlap(lo: int, hi: int, start: int, end: int) -> int:
    """Rupiah shared by the windows ``[lo, hi)`` and ``[start, end)``."""
    return max(0, min(hi, end) - max(lo, start))


def attributed_to(lo: int, hi: int, spent: int) -> int:
    """What of the receipt at ``[lo, hi)`` pays worker-months when the pool has spent ``spent`` in all."""
    return overlap(lo, hi, 0, spent)
