"""``lingkaran agency status [--month 2026-11]``: bring the membership status up to date (the simulator recomputes it;
with file exchange the last imported status file stands) and print how many participants are in each state."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lingkaran.protection.agency import services
from lingkaran.protection.agency.domain.months import parse_month_label
from lingkaran.protection.agency.management.commands._common import acting_user


class Command(BaseCommand):
    help = "Refresh the agency membership status and print the count per state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", default="", help="The month as of which (YYYY-MM; default: this month).")
        parser.add_argument("--as", dest="username", default="", help="Acting user (default: a system call).")

    def handle(self, *args, month: str, username: str, **options):
        as_of = None
        if month:
            as_of = parse_month_label(month)
            if as_of is None:
                raise CommandError(f"--month {month!r} is not YYYY-MM", returncode=2)
        summary = services.status_refresh(month=as_of, actor=acting_user(username))
        as_of_text = summary.as_of.isoformat()[:7] if summary.as_of else "-"
        self.stdout.write(f"{services.configured_kind()}: {summary.participants} participants, as of {as_of_text}")
        for state, count in sorted(summary.states.items()):
            self.stdout.write(f"  {state}: {count}")
