"""Pure rules of the monthly contribution cycle: chunk keys, idempotency keys and the ledger plan of a chunk.

No Django, no clock. ``protection/cycle.py`` runs the steps; this module decides what a chunk posts, so that the same
lines always give the same entries under the same keys (docs/subsystems/protection-cycle.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

PAYABLE = "liability:payable:agency"  # contributions owed to BPJS Ketenagakerjaan, between confirmation and payment
BANK = "asset:bank:trust"  # where the money leaves to the agency
UNKNOWN_PROVINCE = "00"  # a worker without a region code is billed in chunk "00"
GOVERNMENT_SOURCES = ("apbn", "apbd")  # no PP 50/2025 discount: the agency is told ``government_funded``

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> date | None:
    """``2026-12`` → 1 December 2026; None for anything else."""
    found = MONTH_PATTERN.match((text or "").strip())
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12 or year < 2000:
        return None
    return date(year, month, 1)


def province_of(region_code: str | None) -> str:
    """The province of a Kemendagri region code (its first two digits), or ``00`` when unknown."""
    head = (region_code or "")[:2]
    return head if len(head) == 2 and head.isdigit() else UNKNOWN_PROVINCE


def batch_key(month: date, province: str) -> str:
    """The agency payment batch of a chunk: ``cycle:2027-04:64``."""
    return f"cycle:{month:%Y-%m}:{province}"


def paid_key(month: date, province: str, pool: str) -> str:
    return f"cycle:{month:%Y-%m}:{province}:paid:{pool}"


def return_key(month: date, province: str, reservation_key: str) -> str:
    return f"cycle:{month:%Y-%m}:{province}:return:{reservation_key}"


def unbilled_key(month: date, reservation_key: str) -> str:
    return f"cycle:{month:%Y-%m}:unbilled:{reservation_key}"


@dataclass(frozen=True)
class ReservationLines:
    """What one chunk's lines of one reservation came to: confirmed and rejected rupiah."""

    reservation_key: str
    pool: str
    confirmed: int
    rejected: int


@dataclass(frozen=True)
class Transfer:
    key: str
    source: str
    target: str
    amount: int
    kind: str  # "paid", "return" or "unbilled"


@dataclass(frozen=True)
class ChunkPlan:
    reservations: tuple[str, ...]  # posted (whole) to PAYABLE, in key order
    transfers: tuple[Transfer, ...]

    @property
    def paid(self) -> int:
        return sum(t.amount for t in self.transfers if t.kind == "paid")

    @property
    def returned(self) -> int:
        return sum(t.amount for t in self.transfers if t.kind == "return")


class PlanError(ValueError):
    def __init__(self, reservation_key: str, reserved: int, billed: int):
        super().__init__(f"{reservation_key}: lines {billed} > reserved {reserved}")
        self.reservation_key, self.reserved, self.billed = reservation_key, reserved, billed


def chunk_plan(
    *,
    month: date,
    province: str,
    lines: list[ReservationLines],
    reserved: dict[str, int],
    billed_in_cycle: dict[str, int],
) -> ChunkPlan:
    """The entries one answered chunk posts, per pool and reservation, never per worker.

    Each reservation the chunk touches is posted whole to ``PAYABLE`` (the ledger settles it once, whichever chunk
    comes first). Then, from ``PAYABLE``: the chunk's confirmed lines go to the bank as paid, one entry per pool; the
    chunk's rejected lines go back to their pool, one entry per reservation; and the part of a reservation that no
    line of the cycle bills (``reserved`` − ``billed_in_cycle``) goes back once, under a key of the month alone."""
    transfers: list[Transfer] = []
    paid_per_pool: dict[str, int] = {}
    pool_of: dict[str, str] = {}
    for item in sorted(lines, key=lambda r: r.reservation_key):
        pool_of[item.reservation_key] = item.pool
        if item.confirmed:
            paid_per_pool[item.pool] = paid_per_pool.get(item.pool, 0) + item.confirmed
        if item.rejected:
            transfers.append(
                Transfer(return_key(month, province, item.reservation_key), PAYABLE, item.pool, item.rejected, "return")
            )
    for key in sorted(pool_of):
        extra = reserved[key] - billed_in_cycle.get(key, 0)
        if extra < 0:
            raise PlanError(key, reserved[key], billed_in_cycle.get(key, 0))
        if extra:
            transfers.append(Transfer(unbilled_key(month, key), PAYABLE, pool_of[key], extra, "unbilled"))
    for pool in sorted(paid_per_pool):
        transfers.append(Transfer(paid_key(month, province, pool), PAYABLE, BANK, paid_per_pool[pool], "paid"))
    return ChunkPlan(reservations=tuple(sorted(pool_of)), transfers=tuple(transfers))
