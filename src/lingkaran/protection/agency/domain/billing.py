"""What the simulator bills a BPU participant for one contribution month, in whole rupiah.

The agency computes the bill; a payment line must match it (``amount_mismatch`` otherwise). The simulator bills from
what the participant registered with: the nominal value of the declared-income bracket, whether JHT is included, and
the policy sector of the occupation. Sources, domain.md:

* 2.1: JKK is 1 % of the bracket's nominal value; JKM is Rp 6.800 flat; JHT (optional) is 2 % of declared income.
  At the lowest bracket (Rp 1.000.000): JKK 10.000 + JKM 6.800 = 16.800; with JHT 36.800.
* 2.3 (PP 50/2025): JKK and JKM at 50 % for contribution months in the window of the participant's sector
  (transport January 2026 - March 2027, every other sector April 2026 - December 2026); JHT is not discounted;
  contributions paid from APBN or APBD are excluded (full price). Rp 16.800 becomes Rp 8.400 (JKK 5.000 + JKM 3.400).
  Halves that are not whole rupiah are rounded up here; the agency's rounding is UNVERIFIED.

This is the simulator's own bill, kept apart on purpose: the platform's tariff tables (versioned records) compute
what Lingkaran pays, and a disagreement between the two shows up as ``amount_mismatch``, as it would with the agency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lingkaran.protection.agency.domain.months import is_month

JKK_PERCENT = 1
JKM_AMOUNT = 6_800
JHT_PERCENT = 2
DISCOUNT_PERCENT = 50
SECTORS = ("transport", "other")
# PP 50/2025 windows by contribution month, first and last month included.
DISCOUNT_WINDOWS: dict[str, tuple[date, date]] = {
    "transport": (date(2026, 1, 1), date(2027, 3, 1)),
    "other": (date(2026, 4, 1), date(2026, 12, 1)),
}


@dataclass(frozen=True)
class Bill:
    jkk: int
    jkm: int
    jht: int

    @property
    def total(self) -> int:
        return self.jkk + self.jkm + self.jht


def _percent_up(amount: int, percent: int) -> int:
    """``amount * percent / 100`` rounded up to a whole rupiah (integers only)."""
    return -(-amount * percent // 100)


def discounted(sector: str, month: date, *, government_funded: bool) -> bool:
    if government_funded:
        return False
    first, last = DISCOUNT_WINDOWS[sector]
    return first <= month <= last


def monthly_bill(
    *, income_nominal: int, with_jht: bool, sector: str, month: date, government_funded: bool = False
) -> Bill:
    if isinstance(income_nominal, bool) or not isinstance(income_nominal, int) or income_nominal <= 0:
        raise ValueError(f"the income bracket's nominal value is a positive whole number, got {income_nominal!r}")
    if sector not in SECTORS:
        raise ValueError(f"sector must be one of {SECTORS}, got {sector!r}")
    if not is_month(month):
        raise ValueError(f"month must be the first day of a month, got {month!r}")
    jkk = _percent_up(income_nominal, JKK_PERCENT)
    jkm = JKM_AMOUNT
    jht = _percent_up(income_nominal, JHT_PERCENT) if with_jht else 0
    if discounted(sector, month, government_funded=government_funded):
        keep = 100 - DISCOUNT_PERCENT
        jkk, jkm = _percent_up(jkk, keep), _percent_up(jkm, keep)
    return Bill(jkk, jkm, jht)
