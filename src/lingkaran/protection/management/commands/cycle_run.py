"""``lingkaran cycle run --month YYYY-MM [--today YYYY-MM-DD] [--in-process] [--wait] [--as USER]``: run (or
complete) the monthly contribution cycle of a month and print its totals. Idempotent: a finished month is only
reported; a run that stopped half-way is completed."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lingkaran.protection.agency.management.commands._common import acting_user
from lingkaran.protection.cycle import cycle_run
from lingkaran.protection.domain.cycle import parse_month


class Command(BaseCommand):
    help = "Run the monthly contribution cycle of a month: bill, pay the agency, post the ledger (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="The contribution month, YYYY-MM.")
        parser.add_argument("--today", default="", help="The payment date, YYYY-MM-DD (default: today).")
        parser.add_argument(
            "--in-process", action="store_true", help="Run every chunk here instead of as Celery tasks."
        )
        parser.add_argument(
            "--wait", action="store_true", help="Wait for another run of the month instead of refusing."
        )
        parser.add_argument("--as", dest="username", default="", help="Acting user (default: a system call).")

    def handle(self, *args, month: str, today: str, in_process: bool, wait: bool, username: str, **options):
        first = parse_month(month)
        if first is None:
            raise CommandError(_("%(value)s is not a month; write it as YYYY-MM.") % {"value": month}, returncode=2)
        try:
            day = date.fromisoformat(today) if today else None
        except ValueError:
            raise CommandError(_("%(value)s is not a date; write it as YYYY-MM-DD.") % {"value": today}) from None
        summary = cycle_run(month=first, actor=acting_user(username), today=day, tasks=not in_process, wait=wait)
        self.stdout.write(
            _(
                "Cycle %(month)s: %(state)s, %(lines)s lines (Rp %(total)s), %(confirmed)s confirmed "
                "(Rp %(confirmed_amount)s), %(rejected)s rejected (Rp %(rejected_amount)s)"
            )
            % {
                "month": f"{summary.month:%Y-%m}",
                "state": summary.state,
                "lines": summary.lines,
                "total": summary.total,
                "confirmed": summary.confirmed,
                "confirmed_amount": summary.confirmed_amount,
                "rejected": summary.rejected,
                "rejected_amount": summary.rejected_amount,
            }
        )
        if summary.held_back:
            self.stdout.write(_("%(count)s reserved worker-months are not billed yet.") % {"count": summary.held_back})
        if summary.short:
            self.stdout.write(
                _(
                    "%(count)s worker-months are held back: a tariff change raised their price and their pool cannot "
                    "pay the difference yet."
                )
                % {"count": summary.short}
            )
        for province, state in summary.chunks.items():
            self.stdout.write(f"  {_('province')} {province}: {state}")
        for reason, count in summary.reasons.items():
            self.stdout.write(f"  {reason}: {count}")
