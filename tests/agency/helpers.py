"""Plain helpers for the agency tests (not fixtures): months, fake blind indexes, batches through the services."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from django.utils import timezone

from lingkaran.protection.agency import services
from lingkaran.protection.agency.domain.billing import monthly_bill
from lingkaran.protection.agency.services import PaymentLineInput

NOW = timezone.make_aware(datetime(2026, 11, 22, 9, 0))
NOVEMBER = date(2026, 11, 1)
# The lowest bracket, sector "other", outside any PP 50/2025 window (2027 onwards for "other").
FULL = 16_800


def month(year: int, number: int) -> date:
    return date(year, number, 1)


def nik_index(label: str) -> str:
    """A stand-in blind index (64 hex characters) for tests that never need the NIK itself."""
    return hashlib.sha256(label.encode()).hexdigest()


def bill(when: date, *, income: int = 1_000_000, jht: bool = False, sector: str = "other", government=False) -> int:
    return monthly_bill(
        income_nominal=income, with_jht=jht, sector=sector, month=when, government_funded=government
    ).total


def participant(label: str, registered: date, **package) -> str:
    """A participant of the simulated agency; its KPJ number."""
    return services.simulator_participant_add(
        nik_index=nik_index(label),
        registered_month=registered,
        income_nominal=package.get("income", 1_000_000),
        with_jht=package.get("jht", False),
        sector=package.get("sector", "other"),
    )


def pay(key: str, paid_in: date, lines: list[tuple], *, now: datetime = NOW):
    """Open, fill and submit a batch paid in ``paid_in``; ``lines`` are ``(line_id, kpj, month, amount)`` or
    ``(line_id, kpj, month, amount, nik_index)``. Returns the summary."""
    batch = services.payment_batch_open(key=key, today=paid_in)
    services.payment_lines_add(
        batch_id=batch.pk,
        lines=[
            PaymentLineInput(
                line_id=line[0],
                kpj_number=line[1],
                month=line[2],
                amount=line[3],
                nik_index=line[4] if len(line) > 4 else "",
            )
            for line in lines
        ],
    )
    return services.payment_batch_submit(batch_id=batch.pk, now=now)


def outcomes(key: str) -> dict[int, str]:
    """``{line_id: reason}`` ("" = accepted) of a batch."""
    from lingkaran.protection.agency.models import SubmittedLine

    return {
        line.line_id: (line.outcome.reason if hasattr(line, "outcome") else "pending")
        for line in SubmittedLine.objects.filter(batch__key=key).select_related("outcome")
    }
