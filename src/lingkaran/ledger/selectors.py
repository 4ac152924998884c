"""Reads of the ledger: balances, statements, verification and the auditors' export."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from lingkaran.ledger.models import Account, Balance, JournalEntry, Leg, Reservation


def balance_of(code: str) -> int:
    return Balance.objects.filter(account__code=code).values_list("balance", flat=True).first() or 0


def balances(prefix: str = "") -> dict[str, int]:
    qs = Balance.objects.select_related("account")
    if prefix:
        qs = qs.filter(account__code__startswith=prefix)
    return {b.account.code: b.balance for b in qs}


def reservation_totals(pool: str) -> dict[str, int]:
    """What has been reserved out of ``pool``, by state: ``pending`` (held for workers), ``posted`` (paid on) and
    ``voided`` (returned to the pool)."""
    totals = dict.fromkeys(Reservation.State.values, 0)
    for state, total in (
        Reservation.objects.filter(pool__code=pool).values_list("state").annotate(total=Sum("amount")).order_by()
    ):
        totals[state] = int(total)
    return totals


def statement(code: str):
    return Leg.objects.filter(account__code=code).select_related("entry").order_by("entry__effective_on", "entry_id")


@dataclass
class VerifyReport:
    accounts: int = 0
    entries: int = 0
    legs: int = 0
    balance_mismatches: list[dict] = field(default_factory=list)
    unbalanced_entries: list[int] = field(default_factory=list)
    short_entries: list[int] = field(default_factory=list)
    negative_trust: list[str] = field(default_factory=list)
    missing_balance_rows: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.balance_mismatches
            or self.unbalanced_entries
            or self.short_entries
            or self.negative_trust
            or self.missing_balance_rows
        )


def verify() -> VerifyReport:
    """Recompute every balance from the legs (set-based) and compare, to the rupiah."""
    report = VerifyReport(
        accounts=Account.objects.count(), entries=JournalEntry.objects.count(), legs=Leg.objects.count()
    )
    sums = defaultdict(lambda: [0, 0])
    for account_id, side, total in (
        Leg.objects.values_list("account_id", "side").annotate(total=Sum("amount")).order_by()
    ):
        sums[account_id][0 if side == "D" else 1] = int(total)
    stored = {b.account_id: b for b in Balance.objects.select_related("account")}
    for account in Account.objects.all():
        row = stored.get(account.pk)
        if row is None:
            report.missing_balance_rows.append(account.code)
            continue
        debits, credits = sums.get(account.pk, (0, 0))
        expected = debits - credits if row.normal_debit else credits - debits
        if (row.debit_total, row.credit_total, row.balance) != (debits, credits, expected):
            report.balance_mismatches.append(
                {
                    "account": account.code,
                    "stored": row.balance,
                    "from_legs": expected,
                    "stored_debits": row.debit_total,
                    "leg_debits": debits,
                    "stored_credits": row.credit_total,
                    "leg_credits": credits,
                }
            )
        if account.is_trust and expected < 0:
            report.negative_trust.append(account.code)
    per_entry = JournalEntry.objects.annotate(
        debits=Sum("legs__amount", filter=Q(legs__side="D")),
        credits=Sum("legs__amount", filter=Q(legs__side="C")),
        n=Count("legs"),
    ).values_list("id", "debits", "credits", "n", "total")
    for entry_id, debits, credits, n, total in per_entry:
        if n < 2:
            report.short_entries.append(entry_id)
        elif (debits or 0) != (credits or 0) or (debits or 0) != total:
            report.unbalanced_entries.append(entry_id)
    return report
