"""``lingkaran sponsorships reprice [--from YYYY-MM] [--to YYYY-MM]``: re-price reserved worker-months at the tariff
in force now.

The tariff services do this themselves after every change (``protection.services.reprice_reserved``); the command is
for a tariff written some other way (a data migration, a restore) and for checking: it moves the difference of every
reservation whose months changed price from or to its pool, and lists the reservations whose pool is short. Safe to
run again: nothing moves twice."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from lingkaran.protection.domain.cycle import parse_month
from lingkaran.protection.sponsorships import reserved_months_reprice


class Command(BaseCommand):
    help = "Re-price reserved, not yet billed worker-months at the tariff in force; move each difference in the ledger."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", default="2015-07", help="first contribution month, YYYY-MM")
        parser.add_argument("--to", dest="last", help="last contribution month, YYYY-MM (default: every later one)")

    def handle(self, *args, first: str, last: str | None, **options):
        first_month, last_month = parse_month(first), parse_month(last) if last else None
        if first_month is None or (last and last_month is None):
            raise CommandError("months are written YYYY-MM", returncode=2)
        result = reserved_months_reprice(first_month=first_month, last_month=last_month, reason="command")
        for row in result.applied:
            self.stdout.write(
                f"{row.month:%Y-%m} {row.reservation_key} → {row.new_key}: {row.old_amount} → {row.new_amount} "
                f"({row.difference:+d} from the pool {row.pool})"
            )
        for row in result.short:
            self.stdout.write(
                f"{row.month:%Y-%m} {row.reservation_key}: SHORT, needs {row.new_amount - row.old_amount} more, "
                f"{row.available} in {row.pool}; the cycle holds these months back"
            )
        if result.no_tariff:
            self.stdout.write(f"no tariff in force, left alone: {', '.join(result.no_tariff)}")
        self.stdout.write(
            f"{len(result.applied)} reservation(s) re-priced (+{result.topped_up} from pools, "
            f"{result.returned} back to pools), {len(result.short)} short"
        )
